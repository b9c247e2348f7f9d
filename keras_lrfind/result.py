"""The outcome of a learning-rate range test: the curve, how it ended, how it was run."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from typing import Any

import numpy as np

from keras_lrfind import suggestions as _suggestions

# Why a sweep ended. Kept as plain strings so results stay JSON-friendly.
STOP_REASONS = (
    "completed",  # every planned step ran.
    "diverged",  # the smoothed loss exceeded `diverge_threshold` times the best one.
    "non_finite_loss",  # a batch loss was NaN or infinite.
    "data_exhausted",  # the data ran out (or `fit` ended) before the planned steps.
)

_FORMAT = "keras_lrfind.LRFinderResult"


class LRFinderWarning(UserWarning):
    """A range-test curve, or the run that made it, should not be trusted as it is.

    Filter it like any warning, e.g.
    `warnings.simplefilter("ignore", keras_lrfind.LRFinderWarning)`.
    """


_FORMAT_VERSION = 1


def _as_float_array(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional. Received shape {array.shape}.")
    return array


def _call_method(name, learning_rates, smoothed, raw):
    """Runs a suggestion method on the curve it reads: raw losses or fastai's smoothed."""
    losses = raw if name in _suggestions.RAW_LOSS_METHODS else smoothed
    return _suggestions.METHODS[name](learning_rates, losses)


@dataclasses.dataclass(eq=False)
class LRFinderResult:
    """The curve recorded by a learning-rate range test.

    Each index `i` is one optimizer step: `learning_rates[i]` is the learning rate that step
    used, `losses[i]` the loss of that step's batch (the true batch loss, not Keras's running
    mean), and `smoothed_losses[i]` the debiased exponential moving average that suggestions
    and divergence checks read. When the test ran with `validation_data`,
    `validation_losses[i]` is the loss on that fixed sample after step `i`, and the smoothed
    curve follows it instead of the training loss.

    Results are plain data: save them with `to_json()`, load them with `from_json()`, and
    compare, plot or re-suggest without the model.

    Args:
        learning_rates: The learning rate of each recorded step.
        losses: The training loss of each recorded step's batch.
        smoothed_losses: The smoothed curve (of `validation_losses` when present).
        stop_reason: Why the sweep ended, one of `STOP_REASONS`.
        start_lr: The first learning rate of the planned sweep.
        end_lr: The last learning rate of the planned sweep.
        num_steps: The number of planned steps.
        mode: `"exponential"` or `"linear"` growth.
        smoothing: The moving-average factor; `0` means no smoothing.
        diverge_threshold: The smoothed-loss ratio over the best that stops the sweep.
        validation_losses: The validation loss after each step, or `None`.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    stop_reason: str
    start_lr: float
    end_lr: float
    num_steps: int
    mode: str = "exponential"
    smoothing: float = 0.98
    diverge_threshold: float = 4.0
    validation_losses: np.ndarray | None = None

    def __post_init__(self):
        self.learning_rates = _as_float_array(self.learning_rates, "learning_rates")
        self.losses = _as_float_array(self.losses, "losses")
        self.smoothed_losses = _as_float_array(self.smoothed_losses, "smoothed_losses")
        arrays = {
            "learning_rates": self.learning_rates,
            "losses": self.losses,
            "smoothed_losses": self.smoothed_losses,
        }
        if self.validation_losses is not None:
            self.validation_losses = _as_float_array(self.validation_losses, "validation_losses")
            arrays["validation_losses"] = self.validation_losses
        lengths = {name: len(array) for name, array in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"All curves must have the same length. Received lengths {lengths}.")
        if self.stop_reason not in STOP_REASONS:
            raise ValueError(
                f"`stop_reason` must be one of {STOP_REASONS}. "
                f"Received: stop_reason={self.stop_reason!r}."
            )

    @property
    def num_recorded(self) -> int:
        """The number of steps recorded (at most `num_steps`)."""
        return len(self.learning_rates)

    @property
    def best_index(self) -> int | None:
        """The index of the lowest finite smoothed loss, or `None` if there is none."""
        finite = np.isfinite(self.smoothed_losses)
        if not finite.any():
            return None
        return int(np.argmin(np.where(finite, self.smoothed_losses, np.inf)))

    @property
    def best_lr(self) -> float:
        """The learning rate at the lowest smoothed loss (NaN when no loss was finite).

        This is where the loss bottomed out, not a learning rate to train with: use
        `suggest()` for that.
        """
        index = self.best_index
        return math.nan if index is None else float(self.learning_rates[index])

    @property
    def best_loss(self) -> float:
        """The lowest finite smoothed loss (NaN when no loss was finite)."""
        index = self.best_index
        return math.nan if index is None else float(self.smoothed_losses[index])

    def to_dict(self) -> dict[str, Any]:
        """Returns the result as JSON-ready Python values (non-finite numbers become `None`)."""

        def encode(array):
            if array is None:
                return None
            return [float(v) if math.isfinite(v) else None for v in array.tolist()]

        return {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "num_steps": self.num_steps,
            "mode": self.mode,
            "smoothing": self.smoothing,
            "diverge_threshold": self.diverge_threshold,
            "stop_reason": self.stop_reason,
            "learning_rates": encode(self.learning_rates),
            "losses": encode(self.losses),
            "smoothed_losses": encode(self.smoothed_losses),
            "validation_losses": encode(self.validation_losses),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LRFinderResult:
        """Builds a result from the output of `to_dict()`."""
        if data.get("format") != _FORMAT:
            raise ValueError(
                f"This is not a saved keras_lrfind result: expected format={_FORMAT!r}. "
                f"Received: format={data.get('format')!r}."
            )
        if data.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"Unsupported result version {data.get('version')!r}; this keras_lrfind "
                f"reads version {_FORMAT_VERSION}. Upgrade keras_lrfind to read it."
            )

        def decode(values):
            if values is None:
                return None
            return np.array([math.nan if v is None else v for v in values], dtype=np.float64)

        return cls(
            learning_rates=decode(data["learning_rates"]),
            losses=decode(data["losses"]),
            smoothed_losses=decode(data["smoothed_losses"]),
            validation_losses=decode(data.get("validation_losses")),
            stop_reason=data["stop_reason"],
            start_lr=float(data["start_lr"]),
            end_lr=float(data["end_lr"]),
            num_steps=int(data["num_steps"]),
            mode=data["mode"],
            smoothing=float(data["smoothing"]),
            diverge_threshold=float(data["diverge_threshold"]),
        )

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """Serializes the result to JSON, and writes it to `path` when one is given.

        Non-finite losses (a NaN at divergence) are written as `null`, so the file is
        standard JSON that any tool can read.

        Args:
            path: A file to write. Defaults to `None` (only return the text).

        Returns:
            The JSON text.
        """
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text)
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> LRFinderResult:
        """Loads a result from JSON text or from a file written by `to_json(path)`.

        Args:
            source: The JSON text, or the path of a file holding it.

        Returns:
            The `LRFinderResult`.
        """
        if isinstance(source, str) and source.lstrip().startswith("{"):
            text = source
        else:
            with open(source, encoding="utf-8") as file:
                text = file.read()
        return cls.from_dict(json.loads(text))

    # -- Suggestions ---------------------------------------------------------------------

    def _curve(self, skip_start: int | None, skip_end: int | None):
        """The trimmed, NaN-cut `(learning_rates, smoothed, raw)` the suggestions read."""
        skip_start = self.num_steps // 10 if skip_start is None else skip_start
        skip_end = 5 if skip_end is None else skip_end
        raw = self.validation_losses if self.validation_losses is not None else self.losses
        learning_rates, smoothed = _suggestions.trim(  # Also checks the skips.
            self.learning_rates, self.smoothed_losses, skip_start, skip_end
        )
        return learning_rates, smoothed, raw[skip_start : skip_start + len(smoothed)]

    def suggest(
        self,
        method: str | None = None,
        *,
        skip_start: int | None = None,
        skip_end: int | None = None,
        warn: bool = True,
    ) -> float:
        """Returns a learning rate to train with.

        The default method, `"onecycle"`, suggests the maximum learning rate of a one-cycle
        schedule (`result.one_cycle(...)`); see `keras_lrfind.suggestions.onecycle` for how
        it works and what it was measured against. The fastai methods are available by name.
        Before suggesting, the first `skip_start` and last `skip_end` points are dropped
        and the curve is cut at its first NaN, as fastai does.

        Args:
            method: `None` for the default (`"onecycle"`), or one of fastai's `"valley"`,
                `"slide"`, `"minimum"`, `"steep"`. Defaults to `None`.
            skip_start: Points dropped at the start. Defaults to `None`: a tenth of the
                planned steps (fastai's `num_it // 10`).
            skip_end: Points dropped at the end. Defaults to `None`: 5, as fastai.
            warn: Whether to warn (`LRFinderWarning`) when the curve should not be
                trusted. Defaults to `True`.

        Returns:
            The suggested learning rate.

        Raises:
            ValueError: For an unknown method, or when fewer points remain than the
                method needs.
        """
        name = _suggestions.DEFAULT_METHOD if method is None else method
        if name not in _suggestions.METHODS:
            raise ValueError(
                f"Unknown suggestion method. Received: method={method!r}. Expected `None` (the "
                f"default) or one of {sorted(_suggestions.METHODS)}."
            )
        learning_rates, smoothed, raw = self._curve(skip_start, skip_end)
        if warn:
            for message in _suggestions.check_curve(learning_rates, raw, self.stop_reason):
                warnings.warn(message, LRFinderWarning, stacklevel=2)
        return _call_method(name, learning_rates, smoothed, raw)

    def suggestions(
        self,
        *,
        skip_start: int | None = None,
        skip_end: int | None = None,
        methods: list[str] | None = None,
    ) -> dict[str, float | None]:
        """Returns every method's learning rate by name, our default first.

        A method that has too few points for this curve maps to `None`. No warnings are
        issued: call `suggest()` for the default with its warnings.

        Args:
            skip_start: As in `suggest`. Defaults to `None`.
            skip_end: As in `suggest`. Defaults to `None`.
            methods: The names to compute. Defaults to `None` (all).

        Returns:
            A dict of method name to learning rate (or `None`).
        """
        names = methods if methods is not None else list(_suggestions.METHODS)
        learning_rates, smoothed, raw = self._curve(skip_start, skip_end)
        out = {}
        for name in names:
            if name not in _suggestions.METHODS:
                raise ValueError(
                    f"Unknown suggestion method. Received: {name!r}. Expected one of "
                    f"{sorted(_suggestions.METHODS)}."
                )
            try:
                out[name] = _call_method(name, learning_rates, smoothed, raw)
            except ValueError:
                out[name] = None
        return out

    def suggest_range(self, method: str | None = None, *, ratio: float = 4.0, **kwargs):
        """Returns `(base_lr, max_lr)` for a cyclical schedule, following Smith (2017).

        Smith's "Cyclical Learning Rates" sets `max_lr` from the range test and the lower
        bound a factor of 3 to 4 below it ("set base_lr to 1/3 or 1/4 of max_lr").
        `max_lr` is `suggest(method)`; `base_lr = max_lr / ratio`.

        Args:
            method: The suggestion method for `max_lr`. Defaults to `None` (ours).
            ratio: `max_lr / base_lr`, greater than 1. Defaults to `4.0`.
            **kwargs: `skip_start`, `skip_end` and `warn`, as in `suggest`.

        Returns:
            A `(base_lr, max_lr)` pair of floats.
        """
        if not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or ratio <= 1:
            raise ValueError(
                "`ratio` must be a finite number greater than 1 (Smith uses 3 to 4). "
                f"Received: ratio={ratio!r}."
            )
        max_lr = self.suggest(method, **kwargs)
        return max_lr / ratio, max_lr

    # -- Schedules -------------------------------------------------------------------------

    def one_cycle(self, total_steps: int, max_lr: float | None = None, **kwargs):
        """Builds a one-cycle schedule whose peak is the suggested learning rate.

        Args:
            total_steps: The number of optimizer steps of the training (see
                `keras_lrfind.steps_for_epochs`).
            max_lr: The peak learning rate. Defaults to `None`: `suggest()`.
            **kwargs: The other arguments of `keras_lrfind.OneCycle` (`pct_start`,
                `anneal_strategy`, `div_factor`, `final_div_factor`, `three_phase`).

        Returns:
            A `keras_lrfind.OneCycle` schedule.

        Example:

        ```python
        schedule = result.one_cycle(keras_lrfind.steps_for_epochs(5, data=x, batch_size=64))
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss=...)
        ```
        """
        from keras_lrfind.schedules import OneCycle

        return OneCycle(self.suggest() if max_lr is None else max_lr, total_steps, **kwargs)

    def cyclic(self, step_size_up: int, *, ratio: float = 4.0, method: str | None = None, **kwargs):
        """Builds a cyclical schedule between the bounds of `suggest_range()`.

        Args:
            step_size_up: Steps of the rising half-cycle (Smith: 2 to 10 epochs' worth).
            ratio: `max_lr / base_lr`, as in `suggest_range`. Defaults to `4.0`.
            method: The suggestion method for `max_lr`. Defaults to `None` (ours).
            **kwargs: The other arguments of `keras_lrfind.CyclicLR` (`step_size_down`,
                `mode`, `gamma`, `scale_fn`, `scale_mode`).

        Returns:
            A `keras_lrfind.CyclicLR` schedule.
        """
        from keras_lrfind.schedules import CyclicLR

        base_lr, max_lr = self.suggest_range(method, ratio=ratio)
        return CyclicLR(base_lr, max_lr, step_size_up, **kwargs)

    # -- Plots -----------------------------------------------------------------------------

    def plot(self, ax=None, suggest=True, **kwargs):
        """Draws loss against learning rate with the suggestions; see `plot_result`.

        Returns:
            The matplotlib `Axes`.
        """
        from keras_lrfind.plotting import plot_result

        return plot_result(self, ax, suggest=suggest, **kwargs)

    def plot_loss_change(self, ax=None, **kwargs):
        """Draws the loss change per decade of learning rate; see `plot_loss_change`.

        Returns:
            The matplotlib `Axes`.
        """
        from keras_lrfind.plotting import plot_loss_change

        return plot_loss_change(self, ax, **kwargs)

    def _repr_png_(self) -> bytes:
        """Jupyter shows a result as its plot."""
        from keras_lrfind.plotting import figure_png

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LRFinderWarning)
            return figure_png(lambda ax: self.plot(ax))

    def __repr__(self) -> str:
        return (
            f"LRFinderResult(steps={self.num_recorded}/{self.num_steps}, "
            f"lr={self.start_lr:.3g}..{self.end_lr:.3g} ({self.mode}), "
            f"stop_reason={self.stop_reason!r}, best_lr={self.best_lr:.3g}, "
            f"best_loss={self.best_loss:.4g})"
        )
