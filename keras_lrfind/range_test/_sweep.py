"""The sweep of a range test: what it plans (`Sweep`) and what it records (`Recording`).

`Sweep` is the one description of a range test's six settings, validated once when it is
made and immutable afterwards; `LRFinderCallback`, `LRFinder` and `LRFinderResult` all hold
one. It computes the learning rate of every step from a single formula, written once and
evaluated with NumPy for the recorded rates and with `keras.ops` for the in-graph schedule
that optimizers built with a `LearningRateSchedule` need.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from keras_lrfind import _checks

# fastai's `lr_find` records 100 steps; fewer points make suggestions unreliable.
MIN_STEPS = 100
# A default sweep spans one epoch, but never more than this many steps on a huge dataset.
MAX_STEPS = 1000
# No sweep is longer: the recording grows with every step, and a range test needs hundreds.
MAX_NUM_STEPS = 100_000
STEP_MODES = ("exponential", "linear")


def default_num_steps(steps_per_epoch: int) -> int:
    """The default sweep length: one epoch, clipped to [`MIN_STEPS`, `MAX_STEPS`].

    Example:

    >>> [default_num_steps(n) for n in (32, 640, 50_000)]
    [100, 640, 1000]
    """
    return int(min(max(steps_per_epoch, MIN_STEPS), MAX_STEPS))


def step_mode_argument(step_mode: str, mode: str | None) -> str:
    """The sweep's step mode, from the new `step_mode` or the deprecated `mode` argument."""
    if mode is None:
        return step_mode
    _checks.warn_renamed("`mode`", "`step_mode`", stacklevel=4)  # Points at the user's call.
    if step_mode != "exponential":
        raise TypeError(
            "Pass only `step_mode`, not also the deprecated `mode`. "
            f"Received: step_mode={step_mode!r}, mode={mode!r}."
        )
    return mode


@dataclasses.dataclass(frozen=True)
class Sweep:
    """The settings of a range test, validated when made.

    The learning rate grows from `start_lr` to `end_lr` over `num_steps` steps. Step `i`
    uses, in exponential mode (pytorch-lr-finder's formula, which ends exactly at `end_lr`):

    ```python
    start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
    ```

    and in linear mode `start_lr + (end_lr - start_lr) * i / (num_steps - 1)`.

    Args:
        start_lr: The learning rate of the first step. Defaults to `1e-7`.
        end_lr: The learning rate of the last step. Defaults to `10.0`.
        num_steps: The number of steps, at least 2. Defaults to `None`: one epoch, set by
            `with_default_length` once the epoch length is known.
        step_mode: `"exponential"` or `"linear"` growth. Defaults to `"exponential"`.
        smoothing: The factor of the debiased moving average of the loss; `0` disables
            smoothing. Defaults to `0.98`.
        diverge_threshold: Stop when the smoothed loss exceeds this many times the best;
            `None` never stops on divergence (a NaN or infinite loss still stops).
            Defaults to `4.0`.

    Raises:
        TypeError: For an argument of the wrong type.
        ValueError: For an argument out of range.

    Example:

    >>> sweep = Sweep(1e-4, 1e-1, num_steps=4)
    >>> [f"{lr:.0e}" for lr in sweep.learning_rates()]
    ['1e-04', '1e-03', '1e-02', '1e-01']
    """

    start_lr: float = 1e-7
    end_lr: float = 10.0
    num_steps: int | None = None
    step_mode: str = "exponential"
    smoothing: float = 0.98
    diverge_threshold: float | None = 4.0

    def __post_init__(self):
        valid = {
            "start_lr": _learning_rate("start_lr", self.start_lr),
            "end_lr": _learning_rate("end_lr", self.end_lr),
            "num_steps": _num_steps(self.num_steps),
            "step_mode": _checks.one_of("step_mode", self.step_mode, STEP_MODES),
            "smoothing": _checks.fraction(
                "smoothing",
                self.smoothing,
                include_zero=True,
                fix="(0 disables smoothing; fastai uses 0.98).",
            ),
            "diverge_threshold": _diverge_threshold(self.diverge_threshold),
        }
        if valid["end_lr"] <= valid["start_lr"]:
            raise ValueError(
                "`end_lr` must be greater than `start_lr`. "
                f"Received: start_lr={self.start_lr!r}, end_lr={self.end_lr!r}."
            )
        if not math.isfinite(valid["end_lr"] / valid["start_lr"]):
            raise ValueError(
                "`end_lr / start_lr` must be a finite number, so that the sweep's learning "
                f"rates can be computed. Received: start_lr={self.start_lr!r}, "
                f"end_lr={self.end_lr!r} (a ratio beyond 1e308). Raise `start_lr`: a range "
                "test spans 1e-7 to 10 by default."
            )
        for name, value in valid.items():  # Plain Python types, whatever was passed.
            object.__setattr__(self, name, value)

    # -- Length ----------------------------------------------------------------------------

    def with_default_length(
        self,
        steps_per_epoch: int | None,
        *,
        data: str,
        fix: str,
        causes: str = "a generator or an infinite dataset",
    ) -> Sweep:
        """This sweep, with `num_steps` set to the default for the epoch length if unset.

        The one place where the default length (`default_num_steps`) is applied.

        Args:
            steps_per_epoch: The number of batches of an epoch, or `None` when unknown.
            data: What has no known length, for the error message.
            fix: How to pass `num_steps`, for the error message.
            causes: What can have no known length, for the error message.

        Raises:
            ValueError: If `num_steps` is unset and the epoch length unknown.
        """
        if self.num_steps is not None:
            return self
        if steps_per_epoch is None:
            raise ValueError(
                f"{data} is unknown ({causes}), so `num_steps` is "
                f"required. Received: num_steps=None. Pass {fix}, e.g. num_steps={MIN_STEPS}."
            )
        return dataclasses.replace(self, num_steps=default_num_steps(steps_per_epoch))

    # -- Learning rates: one formula for NumPy, Python floats and keras.ops -----------------

    def _rate(self, fraction, exp):
        """The learning rate at `fraction` (0 first step, 1 last) with `exp` of any library."""
        if self.step_mode == "exponential":
            return self.start_lr * exp(math.log(self.end_lr / self.start_lr) * fraction)
        return self.start_lr + (self.end_lr - self.start_lr) * fraction

    def learning_rate(self, step: int) -> float:
        """The learning rate of step `step` (0-based), as a Python float."""
        return float(self._rate(step / (self._length() - 1), math.exp))

    def learning_rates(self) -> np.ndarray:
        """The float64 learning rate of every step."""
        num_steps = self._length()
        return self._rate(np.arange(num_steps, dtype=np.float64) / (num_steps - 1), np.exp)

    def schedule(self) -> SweepSchedule:
        """The sweep as a `LearningRateSchedule` of the step within the sweep (0 first)."""
        return SweepSchedule(self.start_lr, self.end_lr, self._length(), self.step_mode)

    def _length(self) -> int:
        if self.num_steps is None:
            raise RuntimeError(
                "The sweep's length is not known yet: call `with_default_length()` first."
            )
        return self.num_steps

    # -- Serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The six settings by name, JSON-ready."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Sweep:
        """A sweep from `to_dict()` output; files of version 1 spell `step_mode` as `mode`."""
        step_mode = data["step_mode"] if "step_mode" in data else data["mode"]
        return cls(
            start_lr=data["start_lr"],
            end_lr=data["end_lr"],
            num_steps=data["num_steps"],
            step_mode=step_mode,
            smoothing=data["smoothing"],
            diverge_threshold=data["diverge_threshold"],
        )


def _learning_rate(name: str, value) -> float:
    return _checks.positive_float(name, value, expected="a positive, finite learning rate")


def _num_steps(value) -> int | None:
    if value is None:
        return None
    return _checks.integer(
        "num_steps",
        value,
        minimum=2,
        maximum=MAX_NUM_STEPS,
        fix=f"A sweep needs a first and a last step; {MIN_STEPS} to {MAX_STEPS} give reliable "
        "suggestions.",
    )


def _diverge_threshold(value) -> float | None:
    if value is None:  # Lightning's `early_stop_threshold=None`: no divergence stop.
        return None
    value = _checks.number(
        "diverge_threshold", value, "a Python number, or `None` to disable the divergence stop"
    )
    if not value > 1:  # Infinity passes: the sweep then stops only on a non-finite loss.
        raise _checks.value_error(
            "diverge_threshold",
            repr(value),
            "greater than 1",
            "(the sweep stops when the smoothed loss exceeds this many times the best one; "
            "fastai uses 4; `None` disables the stop).",
        )
    return value


def _setting(name: str, doc: str) -> property:
    return property(lambda self: getattr(self._sweep, name), doc=doc)


class SweepFields:
    """The sweep's settings as read-only attributes, for classes that hold a `_sweep`."""

    _sweep: Sweep

    start_lr = _setting("start_lr", "The learning rate of the first step.")
    end_lr = _setting("end_lr", "The learning rate of the last step.")
    num_steps = _setting("num_steps", "The number of planned steps (`None`: one epoch).")
    step_mode = _setting("step_mode", '`"exponential"` or `"linear"` growth.')
    smoothing = _setting("smoothing", "The moving-average factor; `0` means no smoothing.")
    diverge_threshold = _setting(
        "diverge_threshold",
        "The smoothed-loss ratio over the best that stops the sweep (`None`: never).",
    )

    mode = _checks.renamed_attribute("mode", "step_mode")


@keras.saving.register_keras_serializable(package="keras_lrfind")
class SweepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The sweep as an in-graph schedule of the step within the sweep (0 first).

    Optimizers built with a schedule refuse a float learning rate, so the range test
    swaps their schedule for this one, counted from the optimizer's step at the sweep's
    start (`OffsetSchedule`), and back. Steps past the sweep hold its last rate.

    Args:
        start_lr: The learning rate of the first step.
        end_lr: The learning rate of the last step.
        num_steps: The number of steps.
        step_mode: `"exponential"` or `"linear"`.
    """

    def __init__(self, start_lr, end_lr, num_steps, step_mode):
        self.sweep = Sweep(start_lr, end_lr, num_steps, step_mode)

    def __call__(self, step):
        index = keras.ops.cast(step, "float32")
        fraction = keras.ops.clip(index / float(self.sweep.num_steps - 1), 0.0, 1.0)
        return self.sweep._rate(fraction, keras.ops.exp)

    def get_config(self):
        config = self.sweep.to_dict()
        del config["smoothing"], config["diverge_threshold"]
        return config


class Recording:
    """The curve of a running sweep: one point per step, smoothed as it comes.

    Smoothing is fastai's debiased moving average; the sweep stops at the first non-finite
    loss, when the smoothed loss exceeds `diverge_threshold` times the best one so far (for
    a negative best: rises above it by `diverge_threshold - 1` times its magnitude; never
    when `diverge_threshold` is `None`), or once every planned step ran.
    """

    def __init__(self, sweep: Sweep):
        self.sweep = sweep
        self.learning_rates: list[float] = []
        self.losses: list[float] = []
        self.smoothed_losses: list[float] = []
        self.validation_losses: list[float] = []
        self.stop_reason: str | None = None
        self._average = 0.0
        self._best = math.inf

    def add(self, learning_rate: float, loss: float, validation_loss: float | None) -> bool:
        """Records a step; returns whether the sweep is over."""
        step = len(self.losses)
        curve_loss = loss if validation_loss is None else validation_loss
        self.learning_rates.append(learning_rate)
        self.losses.append(loss)
        if validation_loss is not None:
            self.validation_losses.append(validation_loss)
        smoothing = self.sweep.smoothing
        if smoothing:
            self._average = smoothing * self._average + (1 - smoothing) * curve_loss
            smoothed = self._average / (1 - smoothing ** (step + 1))
        else:
            smoothed = curve_loss
        self.smoothed_losses.append(smoothed)
        if not math.isfinite(curve_loss) or not math.isfinite(smoothed):
            self.stop_reason = "non_finite_loss"
        elif self._diverged(smoothed):
            self.stop_reason = "diverged"
        elif step + 1 >= self.sweep.num_steps:
            self.stop_reason = "completed"
        self._best = min(self._best, smoothed)
        return self.stop_reason is not None

    def _diverged(self, smoothed: float) -> bool:
        threshold = self.sweep.diverge_threshold
        return threshold is not None and smoothed - self._best > (threshold - 1) * abs(self._best)
