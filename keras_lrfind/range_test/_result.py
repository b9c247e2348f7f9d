"""The outcome of a learning-rate range test: the curve, how it ended, how it was run.

`LRFinderResult` holds the curves, the values derived from them, the suggestions (computed
by `_suggest`) and the schedules built on them. Its stop reasons, curve checks and warning
come from `_curves`; it inherits its outputs (files, pandas, TensorBoard, plots) from
`_result_outputs`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.range_test import _suggest
from keras_lrfind.range_test._curves import STOP_REASONS, LRFinderWarning, checked_curves
from keras_lrfind.range_test._result_outputs import ResultOutputs
from keras_lrfind.range_test._sweep import Sweep, SweepFields, step_mode_argument
from keras_lrfind.suggestions import _result_curve as _curve


class LRFinderResult(ResultOutputs, SweepFields):
    """The curve recorded by a learning-rate range test.

    Each index `i` is one optimizer step: `learning_rates[i]` is the learning rate that step
    used, `losses[i]` the loss of that step's batch (the true batch loss, not Keras's running
    mean), and `smoothed_losses[i]` the debiased exponential moving average that suggestions
    and divergence checks read. When the test ran with `validation_data`,
    `validation_losses[i]` is the loss on that fixed sample after step `i`, and the smoothed
    curve follows it instead of the training loss.

    Results are plain data: save them with `to_json()`, load them with `from_json()`, and
    compare, plot or re-suggest without the model. The sweep's settings are read-only
    attributes of the same names as the arguments.

    Args:
        learning_rates: The learning rate of each recorded step.
        losses: The training loss of each recorded step's batch.
        smoothed_losses: The smoothed curve (of `validation_losses` when present).
        stop_reason: Why the sweep ended, one of `STOP_REASONS`.
        start_lr: The first learning rate of the planned sweep.
        end_lr: The last learning rate of the planned sweep.
        num_steps: The number of planned steps.
        step_mode: `"exponential"` or `"linear"` growth. Defaults to `"exponential"`.
        smoothing: The moving-average factor; `0` means no smoothing. Defaults to `0.98`.
        diverge_threshold: The smoothed-loss ratio over the best that stops the sweep, or
            `None` when the sweep had no divergence stop. Defaults to `4.0`.
        validation_losses: The validation loss after each step, or `None`. Defaults to
            `None`.
        mode: Deprecated name of `step_mode`. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> import keras_lrfind
    >>> learning_rates = np.logspace(-5, 0, 100)
    >>> x = np.log10(learning_rates)
    >>> valley = 1.6 * np.exp(-(((x + 2) / 0.6) ** 2))
    >>> losses = 2.3 - valley + np.where(x > -1, 10 * (x + 1) ** 2, 0)  # Diverges past 0.1.
    >>> result = keras_lrfind.LRFinderResult(
    ...     learning_rates, losses, losses, "diverged", 1e-5, 1.0, 100, smoothing=0
    ... )
    >>> f"{result.suggest():.1e}"  # The maximum rate of a one-cycle schedule.
    '5.1e-03'
    >>> f"{result.suggest('valley'):.1e}"  # fastai's default.
    '5.9e-04'
    >>> keras_lrfind.LRFinderResult.from_json(result.to_json()).stop_reason
    'diverged'
    """

    def __init__(
        self,
        learning_rates,
        losses,
        smoothed_losses,
        stop_reason: str,
        start_lr: float,
        end_lr: float,
        num_steps: int,
        step_mode: str = "exponential",
        smoothing: float = 0.98,
        diverge_threshold: float | None = 4.0,
        validation_losses=None,
        *,
        mode: str | None = None,
    ):
        step_mode = step_mode_argument(step_mode, mode)
        sweep = Sweep(start_lr, end_lr, num_steps, step_mode, smoothing, diverge_threshold)
        self._set(sweep, learning_rates, losses, smoothed_losses, stop_reason, validation_losses)

    @classmethod
    def _from_sweep(
        cls, sweep, *, learning_rates, losses, smoothed_losses, stop_reason, validation_losses
    ) -> LRFinderResult:
        """A result of `sweep`, an already validated `Sweep` (the callback's, a file's)."""
        result = cls.__new__(cls)
        result._set(sweep, learning_rates, losses, smoothed_losses, stop_reason, validation_losses)
        return result

    def _set(self, sweep, learning_rates, losses, smoothed_losses, stop_reason, validation_losses):
        curves = checked_curves(sweep, learning_rates, losses, smoothed_losses, validation_losses)
        self._sweep = sweep
        self.learning_rates = curves["learning_rates"]
        self.losses = curves["losses"]
        self.smoothed_losses = curves["smoothed_losses"]
        self.validation_losses = curves.get("validation_losses")
        self.stop_reason = _checks.one_of("stop_reason", stop_reason, STOP_REASONS)

    # -- Derived values --------------------------------------------------------------------

    @property
    def num_recorded(self) -> int:
        """The number of steps recorded (at most `num_steps`)."""
        return len(self.learning_rates)

    @property
    def min_loss_index(self) -> int | None:
        """The index of the lowest finite smoothed loss, or `None` if there is none."""
        finite = np.isfinite(self.smoothed_losses)
        if not finite.any():
            return None
        return int(np.argmin(np.where(finite, self.smoothed_losses, np.inf)))

    @property
    def lr_at_min_loss(self) -> float:
        """The learning rate at the lowest smoothed loss (NaN when no loss was finite).

        This is where the loss bottomed out, not a learning rate to train with (training
        there is usually too fast): `suggest()` gives that.
        """
        index = self.min_loss_index
        return math.nan if index is None else float(self.learning_rates[index])

    @property
    def min_loss(self) -> float:
        """The lowest finite smoothed loss (NaN when no loss was finite)."""
        index = self.min_loss_index
        return math.nan if index is None else float(self.smoothed_losses[index])

    best_index = _checks.renamed_attribute("best_index", "min_loss_index")
    best_lr = _checks.renamed_attribute("best_lr", "lr_at_min_loss")
    best_loss = _checks.renamed_attribute("best_loss", "min_loss")

    # -- Suggestions ---------------------------------------------------------------------

    def curve(
        self, skip_start: int | None = None, skip_end: int | None = None
    ) -> _curve.TrimmedCurve:
        """The part of the curve the suggestion methods read.

        fastai's preprocessing: the first `skip_start` and last `skip_end` points are
        dropped, then the curve is cut at its first non-finite smoothed loss.

        Args:
            skip_start: Points dropped at the start. Defaults to `None`: a tenth of the
                planned steps (fastai's `num_it // 10`).
            skip_end: Points dropped at the end. Defaults to `None`: 5, as fastai.

        Returns:
            A `TrimmedCurve` `(learning_rates, smoothed_losses, losses)` of equal lengths;
            `losses` are the raw losses (of `validation_data` when the test had it).

        Raises:
            TypeError: If a skip is not an integer.
            ValueError: If a skip is negative.
        """
        return _curve.trimmed(self, skip_start, skip_end)

    def suggest(
        self,
        method: str | None = None,
        *,
        skip_start: int | None = None,
        skip_end: int | None = None,
        warn: bool = True,
    ) -> float:
        """Returns a learning rate to train with.

        The default method, `"one_cycle"`, suggests the maximum learning rate of a one-cycle
        schedule (`result.one_cycle(...)`); see `keras_lrfind.suggestions.one_cycle` for how
        it works and what it was measured against (for a more reliable answer at the cost
        of a few short trainings, see `keras_lrfind.find_best_learning_rate`). The fastai
        methods are available by name. Before suggesting, the first `skip_start` and last
        `skip_end` points are dropped and the curve is cut at its first NaN, as fastai does.

        Args:
            method: `None` for the default (`"one_cycle"`), or one of fastai's `"valley"`,
                `"slide"`, `"minimum"`, `"steep"`. Defaults to `None`.
            skip_start: Points dropped at the start. Defaults to `None`: a tenth of the
                planned steps (fastai's `num_it // 10`).
            skip_end: Points dropped at the end. Defaults to `None`: 5, as fastai.
            warn: Whether to warn (`LRFinderWarning`) when the curve should not be
                trusted. Defaults to `True`.

        Returns:
            The suggested learning rate.

        Raises:
            ValueError: For an unknown method, when fewer points remain than the method
                needs (the message says what removed them), or when the weights went NaN
                or infinite during the test (`stop_reason="non_finite_weights"`).
        """
        learning_rate, messages = _suggest.suggest(self, method, skip_start, skip_end, warn)
        for message in messages:
            warnings.warn(message, LRFinderWarning, stacklevel=2)
        return learning_rate

    def suggestions(
        self,
        *,
        skip_start: int | None = None,
        skip_end: int | None = None,
        methods: list[str] | None = None,
    ) -> dict[str, float | None]:
        """Returns every method's learning rate by name, our default first.

        A method that cannot read this curve, because fewer points remain than it needs
        (`keras_lrfind.suggestions.MIN_POINTS`) or the weights went non-finite
        (`stop_reason="non_finite_weights"`), maps to `None`; any other error is raised.
        No warnings are issued: call `suggest()` for the default with its warnings.

        Args:
            skip_start: As in `suggest`. Defaults to `None`.
            skip_end: As in `suggest`. Defaults to `None`.
            methods: The names to compute. Defaults to `None` (all).

        Returns:
            A dict of method name to learning rate (or `None`).
        """
        return _suggest.suggestions(self, skip_start, skip_end, methods)

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
        if not (math.isfinite(_checks.number("ratio", ratio)) and ratio > 1):
            raise _checks.value_error(
                "ratio", repr(ratio), "a finite number greater than 1", "(Smith uses 3 to 4)."
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

        >>> import numpy as np
        >>> import keras_lrfind
        >>> lrs = np.logspace(-5, 0, 100)
        >>> losses = 1 + (np.log10(lrs) + 2) ** 2  # A valley at 1e-2.
        >>> result = keras_lrfind.LRFinderResult(lrs, losses, losses, "diverged", 1e-5, 1.0, 100)
        >>> schedule = result.one_cycle(total_steps=1000)  # Peaks at step 299.
        >>> f"{result.suggest():.1e}", f"{float(schedule(299)):.1e}"
        ('4.8e-03', '4.8e-03')
        """
        from keras_lrfind.schedules import OneCycle

        if max_lr is None:
            OneCycle(1.0, total_steps, **kwargs)  # Checks the arguments before suggesting.
            max_lr = self.suggest()
        return OneCycle(max_lr, total_steps, **kwargs)

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

        CyclicLR(1.0, 2.0, step_size_up, **kwargs)  # Checks the arguments before suggesting.
        base_lr, max_lr = self.suggest_range(method, ratio=ratio)
        return CyclicLR(base_lr, max_lr, step_size_up, **kwargs)

    def __repr__(self) -> str:
        return (
            f"LRFinderResult(steps={self.num_recorded}/{self.num_steps}, "
            f"lr={self.start_lr:.3g}..{self.end_lr:.3g} ({self.step_mode}), "
            f"stop_reason={self.stop_reason!r}, lr_at_min_loss={self.lr_at_min_loss:.3g}, "
            f"min_loss={self.min_loss:.4g})"
        )
