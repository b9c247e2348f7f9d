"""Plots: range-test curves (`plot_curve`, `plot_curves`, `plot_loss_change`) and schedules
(`plot_schedule`). matplotlib is imported only when a plot is drawn.

Every function draws on the `Axes` it is given, or on a new pyplot figure, and returns the
`Axes`; none calls `plt.show()`. A new figure is pyplot's, as with fastai's plots, so Jupyter
shows it after the cell (also when the cell ends with `;`), and a script shows it with
`plt.show()` or saves it with `ax.figure.savefig(...)`. What keras_lrfind renders itself (a
result's picture in Jupyter, the command line's PNG, the TensorBoard image) is drawn on a
figure pyplot never sees, so nothing accumulates in pyplot's list of open figures.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from keras_lrfind import _checks

FIGSIZE = (6.4, 4.2)


def _new_axes(ax):
    """Returns `ax`, or the Axes of a new pyplot figure (Jupyter displays it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=FIGSIZE, layout="tight")[1]


def offscreen_axes():
    """The Axes of a new figure that pyplot does not track (for rendering to a file)."""
    from matplotlib.figure import Figure

    return Figure(figsize=FIGSIZE, layout="tight").add_subplot()


def plot_curve(
    result,
    ax=None,
    *,
    suggest: bool | Sequence[str] = True,
    skip_start: int | None = None,
    skip_end: int | None = None,
    show_raw: bool = True,
    title: str | None = None,
):
    """Draws one range test's loss against learning rate (log axis), with its suggestions.

    The raw batch losses (light grey), fastai's smoothed curve (solid), the curve smoothed
    without lag that the default suggestion reads (dashed), and a marker for each
    suggestion on the curve its method reads. `result.plot()` calls this.

    Args:
        result: The `LRFinderResult` to draw.
        ax: The matplotlib `Axes` to draw on. Defaults to `None` (a new figure).
        suggest: `True` marks every suggestion method, a list of names marks those,
            `False` none. Defaults to `True`.
        skip_start: Points dropped at the start before suggesting. Defaults to `None`
            (the result's default).
        skip_end: Points dropped at the end before suggesting. Defaults to `None`.
        show_raw: Whether to draw the raw batch losses behind the smoothed curve.
            Defaults to `True`.
        title: The title. Defaults to `None` (one naming the stop reason).

    Returns:
        The `Axes` drawn on.

    Example:

    >>> import numpy as np
    >>> from keras_lrfind import LRFinderResult
    >>> from keras_lrfind.outputs.plotting import plot_curve
    >>> lrs = np.geomspace(1e-5, 1.0, 100)
    >>> losses = 2.0 - np.tanh(np.log10(lrs) + 4) + np.exp(3 * (np.log10(lrs) + 0.5))
    >>> result = LRFinderResult(lrs, losses, losses, "completed", 1e-5, 1.0, 100)
    >>> ax = plot_curve(result, suggest=["minimum"])
    >>> ax.get_legend_handles_labels()[1]
    ['loss', 'smoothed (fastai)', 'smoothed without lag', 'minimum: 1.35e-03']
    """
    from keras_lrfind import suggestions as methods

    ax = _new_axes(ax)
    raw = result.validation_losses if result.validation_losses is not None else result.losses
    if show_raw:
        ax.plot(result.learning_rates, raw, color="0.75", linewidth=0.8, label="loss")
    ax.plot(
        result.learning_rates,
        result.smoothed_losses,
        color="C0",
        linewidth=1.8,
        label="smoothed (fastai)",
    )
    curves = {"smoothed": (result.learning_rates, _finite(result.smoothed_losses))}
    finite = _finite_prefix(raw)
    if finite >= methods.MIN_POINTS[methods.DEFAULT_METHOD]:
        lag_free = methods.smooth_without_lag(result.learning_rates[:finite], raw[:finite])
        ax.plot(
            result.learning_rates[:finite],
            lag_free,
            color="C0",
            linestyle="--",
            linewidth=1.2,
            label="smoothed without lag",
        )
        curves["raw"] = (result.learning_rates[:finite], lag_free)
    if suggest:
        names = None if suggest is True else list(suggest)
        suggestions = result.suggestions(skip_start=skip_start, skip_end=skip_end, methods=names)
        for index, (name, lr) in enumerate(suggestions.items()):
            if lr is None:
                continue
            # Each marker sits on the curve its method reads.
            reads_raw = name in methods.RAW_LOSS_METHODS and "raw" in curves
            xs, ys = curves["raw" if reads_raw else "smoothed"]
            ax.plot(
                [lr],
                [np.interp(np.log(lr), np.log(xs), ys)],
                marker="o",
                linestyle="none",
                markersize=8,
                color=f"C{index + 1}",
                label=f"{name}: {lr:.2e}",
            )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("validation loss" if result.validation_losses is not None else "loss")
    ax.set_title(title if title is not None else f"LR range test ({result.stop_reason})")
    limit_to_curve(ax, result.smoothed_losses, raw if show_raw else None)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_loss_change(result, ax=None, *, title: str | None = None):
    """Draws the change of the smoothed loss per unit of log10 learning rate.

    The loss falls fastest where this curve is lowest (the `steep` suggestion); it crosses
    zero at the curve's minimum.

    Args:
        result: The `LRFinderResult` to draw.
        ax: The matplotlib `Axes` to draw on. Defaults to `None` (a new figure).
        title: The title. Defaults to `None`.

    Returns:
        The `Axes` drawn on.
    """
    ax = _new_axes(ax)
    learning_rates, change = loss_change(result)
    ax.plot(learning_rates, change, color="C0", label="d loss / d log10(lr)")
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss change per decade")
    ax.set_title(title if title is not None else "Loss change")
    ax.legend(loc="best", fontsize="small")
    return ax


def loss_change(result):
    """The derivative of the smoothed loss w.r.t. log10 learning rate, at each step.

    Returns:
        A pair `(learning_rates, change)` of equal-length arrays (central differences,
        one-sided at the ends; NaN where the loss is not finite).
    """
    learning_rates = np.asarray(result.learning_rates, dtype=np.float64)
    if len(learning_rates) < 2:
        return learning_rates, np.full_like(learning_rates, np.nan)
    change = np.gradient(np.asarray(result.smoothed_losses), np.log10(learning_rates))
    return learning_rates, change


def plot_curves(results, labels: Sequence[str] | None = None, ax=None, *, suggest: bool = True):
    """Overlays the smoothed curves of several range tests on one plot.

    To compare optimizers, batch sizes or models: each curve gets its own colour and, with
    `suggest`, a marker at its default suggestion.

    Args:
        results: A mapping of label to `LRFinderResult`, or a sequence of results.
        labels: Labels for a sequence of results. Defaults to `None` ("run 1", ...).
        ax: The matplotlib `Axes` to draw on. Defaults to `None` (a new figure).
        suggest: Whether to mark each curve's default suggestion. Defaults to `True`.

    Returns:
        The `Axes` drawn on.

    Raises:
        ValueError: If `results` is empty or `labels` does not give one label per result.

    Example:

    >>> import numpy as np
    >>> from keras_lrfind import LRFinderResult, plot_curves
    >>> lrs = np.geomspace(1e-5, 1.0, 100)
    >>> losses = 2.0 - np.tanh(np.log10(lrs) + 4) + np.exp(3 * (np.log10(lrs) + 0.5))
    >>> results = {
    ...     "adam": LRFinderResult(lrs, losses, losses, "completed", 1e-5, 1.0, 100),
    ...     "sgd": LRFinderResult(lrs, losses + 0.5, losses + 0.5, "completed", 1e-5, 1.0, 100),
    ... }
    >>> ax = plot_curves(results, suggest=False)
    >>> ax.get_legend_handles_labels()[1]
    ['adam', 'sgd']
    """
    if isinstance(results, Mapping):
        labels, results = list(results.keys()), list(results.values())
    else:
        results = list(results)
        labels = (
            list(labels) if labels is not None else [f"run {i + 1}" for i in range(len(results))]
        )
    if len(labels) != len(results):
        raise ValueError(
            f"`labels` must have one label per result. Received {len(labels)} labels for "
            f"{len(results)} results."
        )
    if not results:
        raise ValueError("`results` is empty: pass at least one `LRFinderResult`.")
    ax = _new_axes(ax)
    for index, (label, result) in enumerate(zip(labels, results, strict=True)):
        color = f"C{index}"
        ax.plot(result.learning_rates, result.smoothed_losses, color=color, label=label)
        if suggest:
            lr = result.suggest(warn=False)
            loss = np.interp(
                np.log(lr), np.log(result.learning_rates), _finite(result.smoothed_losses)
            )
            ax.plot([lr], [loss], marker="o", linestyle="none", color=color)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("smoothed loss")
    ax.set_title("LR range tests")
    limit_to_curve(ax, np.concatenate([r.smoothed_losses for r in results]))
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_schedule(schedule, total_steps: int, ax=None, momentum=None):
    """Draws a learning-rate schedule against the optimizer step.

    A quick look at a schedule before training catches a wrong `total_steps`
    or `pct_start` at no cost. `OneCycle` and `CyclicLR` are evaluated in one
    vectorized call; any other schedule (or callable of the step) once per step.
    With `momentum`, the `MomentumCycler`'s momentum is drawn on a twin y-axis
    (dashed), the way fastai's `plot_sched` shows both.

    Args:
        schedule: A `keras.optimizers.schedules.LearningRateSchedule` or any callable
            from a step to a learning rate.
        total_steps: The number of steps to draw (steps 0 to `total_steps - 1`), at
            least 1.
        ax: A matplotlib `Axes` to draw on, or `None` to create a figure. Defaults to
            `None`.
        momentum: A `keras_lrfind.MomentumCycler` whose momentum to draw on a twin axis,
            or `None`. Defaults to `None`.

    Returns:
        The `Axes` the learning rate was drawn on (the one given, or a new one). Its
        first line holds `(steps, learning_rates)`; the momentum, if any, is the first
        line of its twin, `ax.figure.axes[-1]`.

    Raises:
        TypeError: If `schedule` is not callable or `momentum` is not a `MomentumCycler`.
        ValueError: If `total_steps < 1`.

    Example:

    >>> from keras_lrfind import MomentumCycler, OneCycle, plot_schedule
    >>> schedule = OneCycle(max_lr=1e-2, total_steps=1000)
    >>> ax = plot_schedule(schedule, 1000, momentum=MomentumCycler.from_one_cycle(schedule))
    >>> steps, learning_rates = ax.lines[0].get_data()
    >>> int(steps[learning_rates.argmax()])  # The peak, at step 0.3 * 1000 - 1.
    299
    """
    if not callable(schedule):
        raise TypeError(
            "`schedule` must be a `LearningRateSchedule` or a callable of the step. "
            f"Received: schedule={schedule!r} of type {type(schedule).__name__}."
        )
    total_steps = _checks.integer(
        "total_steps", total_steps, minimum=1, expected="an integer (a number of optimizer steps)"
    )
    if momentum is not None:
        if not callable(getattr(momentum, "momentum_at", None)):  # A `MomentumCycler`.
            raise TypeError(
                "`momentum` must be a `keras_lrfind.MomentumCycler` or `None`. "
                f"Received: momentum of type {type(momentum).__name__}."
            )
    steps = np.arange(total_steps)
    learning_rates = _evaluate(schedule, steps)
    ax = _new_axes(ax)
    ax.plot(steps, learning_rates, label="learning rate")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if momentum is not None:
        momentum_ax = ax.twinx()
        momentum_ax.plot(
            steps,
            keras.ops.convert_to_numpy(momentum.momentum_at(steps)),
            linestyle="--",
            color="tab:orange",
            label="momentum",
        )
        momentum_ax.set_ylabel("momentum")
    return ax


def _evaluate(schedule, steps):
    """The schedule at every step, as a float64 NumPy array."""
    import keras

    if type(schedule).__module__.startswith("keras_lrfind.schedules"):  # Vectorized.
        return np.asarray(keras.ops.convert_to_numpy(schedule(steps)), dtype="float64")
    return np.array(
        [float(keras.ops.convert_to_numpy(schedule(int(step)))) for step in steps], dtype="float64"
    )


def figure_png(draw) -> bytes:
    """Renders what `draw(ax)` draws on a new figure to PNG bytes (for Jupyter)."""
    ax = offscreen_axes()
    draw(ax)
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _finite_prefix(values) -> int:
    """The number of values before the first non-finite one."""
    bad = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=np.float64)))
    return int(bad[0]) if bad.size else len(values)


def _finite(values):
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.all() or not finite.any():
        return values
    return np.where(finite, values, np.nanmax(np.where(finite, values, np.nan)))


def limit_to_curve(ax, smoothed, raw=None):
    """Keeps the divergent tail from flattening the interesting part of the plot.

    The top is a little above where the smoothed curve starts; the bottom is the lowest
    loss drawn, raw or smoothed.
    """
    finite = np.asarray(smoothed, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return
    low, first = float(finite.min()), float(finite[0])
    if raw is not None:
        raw = np.asarray(raw, dtype=np.float64)
        if np.isfinite(raw).any():
            low = min(low, float(np.nanmin(np.where(np.isfinite(raw), raw, np.nan))))
    top = max(first, low) + 0.25 * abs(max(first, low) - low) + 1e-12
    span = top - low
    ax.set_ylim(low - 0.05 * span, top)


plot_result = _checks.renamed(
    plot_curve, "`keras_lrfind.plotting.plot_result`", "`keras_lrfind.plotting.plot_curve`"
)
plot_results = _checks.renamed(
    plot_curves, "`keras_lrfind.plot_results`", "`keras_lrfind.plot_curves`"
)
