"""Plots of range-test curves. matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np


def _new_axes(ax):
    """Returns `ax`, or the Axes of a new figure that does not touch pyplot's state."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=(6.4, 4.2), layout="tight").add_subplot()


def plot_result(
    result,
    ax=None,
    *,
    suggest: bool | Sequence[str] = True,
    skip_start: int | None = None,
    skip_end: int | None = None,
    show_raw: bool = True,
    title: str | None = None,
):
    """Draws loss against learning rate (log axis), raw and smoothed, with suggestions.

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
    if finite >= methods.MIN_POINTS["onecycle"]:
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
    _limit_to_curve(ax, result.smoothed_losses, raw if show_raw else None)
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


def plot_results(results, labels: Sequence[str] | None = None, ax=None, *, suggest: bool = True):
    """Overlays several range tests (optimizers, batch sizes, models) on one plot.

    Args:
        results: A mapping of label to `LRFinderResult`, or a sequence of results.
        labels: Labels for a sequence of results. Defaults to `None` ("run 1", ...).
        ax: The matplotlib `Axes` to draw on. Defaults to `None` (a new figure).
        suggest: Whether to mark each curve's default suggestion. Defaults to `True`.

    Returns:
        The `Axes` drawn on.
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
    _limit_to_curve(ax, np.concatenate([r.smoothed_losses for r in results]))
    ax.legend(loc="best", fontsize="small")
    return ax


def figure_png(draw) -> bytes:
    """Renders what `draw(ax)` draws on a new figure to PNG bytes (for Jupyter)."""
    ax = _new_axes(None)
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


def _limit_to_curve(ax, smoothed, raw=None):
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
