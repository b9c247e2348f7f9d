"""`OneCycle`: the one-cycle learning-rate policy, step for step as PyTorch's `OneCycleLR`.

A `keras.optimizers.schedules.LearningRateSchedule` written with `keras.ops` only, so it
runs eagerly, inside `tf.function`, under XLA and on every backend, takes integer or float
step tensors, and survives a `.keras` save and reload. The arithmetic lives in `_anneal`,
small functions of the progress through a phase shared with `MomentumCycler`.
"""

from __future__ import annotations

import keras

from keras_lrfind import _checks
from keras_lrfind.schedules import _anneal


@keras.saving.register_keras_serializable(package="keras_lrfind")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """The one-cycle learning-rate policy, step for step as PyTorch's `OneCycleLR`.

    Smith's one-cycle policy warms the learning rate up from
    `max_lr / div_factor` to `max_lr` over the first `pct_start` of training,
    then anneals it far below the start, to
    `max_lr / div_factor / final_div_factor`. Pick `max_lr` with a
    learning-rate range test. The value at step `k` equals the learning rate
    PyTorch's `OneCycleLR` uses for optimizer step `k` (0-based) with the same
    arguments, including its float phase ends; Keras passes
    `optimizer.iterations`, so the schedule stays in step across several
    `fit` calls and after a reload. Pair it with `MomentumCycler` to cycle
    momentum the opposite way, as PyTorch does by default.

    PyTorch raises past `total_steps`; this schedule instead holds its final
    value, `max_lr / div_factor / final_div_factor`, for every step from
    `total_steps - 1` on, so an extra epoch does not crash training. The
    schedule computes in float32, as Keras' own schedules do, and agrees with
    PyTorch's float64 values to about one part in 10^5 (the final anneal, to
    a value ten thousand times smaller, is written so as not to lose this).

    The schedule, as Python (`anneal` is the cosine or linear anneal):

    ```python
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    warmup_end = pct_start * total_steps - 1
    if three_phase:
        phases = [(warmup_end, initial_lr, max_lr),
                  (2 * pct_start * total_steps - 2, max_lr, initial_lr),
                  (total_steps - 1, initial_lr, min_lr)]
    else:
        phases = [(warmup_end, initial_lr, max_lr), (total_steps - 1, max_lr, min_lr)]

    def cos_anneal(start, end, progress):
        return end + (start - end) / 2 * (math.cos(math.pi * progress) + 1)

    def linear_anneal(start, end, progress):
        return start + (end - start) * progress

    def learning_rate(step):
        step = min(step, total_steps - 1)
        phase_start = 0.0
        for i, (phase_end, lr_from, lr_to) in enumerate(phases):
            if step <= phase_end or i == len(phases) - 1:
                progress = (step - phase_start) / (phase_end - phase_start)
                return anneal(lr_from, lr_to, progress)
            phase_start = phase_end
    ```

    Args:
        max_lr: The peak learning rate, reached at step `pct_start * total_steps - 1`.
        total_steps: The number of optimizer steps in the cycle (see `steps_for_epochs`);
            at least 2.
        pct_start: The fraction of `total_steps` spent warming up, strictly between 0
            and 1. Defaults to `0.3`.
        anneal_strategy: `"cos"` for cosine annealing or `"linear"`. Defaults to `"cos"`.
        div_factor: The first learning rate is `max_lr / div_factor`. Defaults to `25.0`.
        final_div_factor: The last learning rate is `max_lr / div_factor / final_div_factor`.
            Defaults to `1e4`.
        three_phase: Whether to anneal back to `max_lr / div_factor` symmetrically before
            the final anneal (fastai's and Smith's original shape), instead of annealing
            from `max_lr` straight to the minimum. Defaults to `False`.
        name: The name scope of the schedule's operations. Defaults to `"OneCycle"`.

    Returns:
        Called with a step (a Python number or a scalar or array tensor of any integer or
        float dtype), the learning rate at that step as a float32 tensor of the same shape.

    Raises:
        TypeError: If an argument has the wrong type (for instance a float `total_steps`).
        ValueError: If `max_lr`, `div_factor` or `final_div_factor` is not a positive
            finite number, `total_steps < 2`, `pct_start` is not strictly between 0 and 1,
            `pct_start * total_steps == 1` (a warm-up of zero length), or
            `anneal_strategy` is unknown.

    Example:

    >>> import keras
    >>> from keras_lrfind import OneCycle, steps_for_epochs
    >>> schedule = OneCycle(max_lr=1e-2, total_steps=steps_for_epochs(5, steps_per_epoch=100))
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9), loss="mse")
    >>> # The start, the peak at step 0.3 * 500 - 1, and the end:
    >>> [f"{float(schedule(step)):.1e}" for step in (0, 149, 499)]
    ['4.0e-04', '1.0e-02', '4.0e-08']
    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        name: str = "OneCycle",
    ):
        super().__init__()
        self.max_lr = _checks.positive_float("max_lr", max_lr)
        self.total_steps, self.pct_start, self.anneal_strategy, self.three_phase = (
            _anneal.check_phases(total_steps, pct_start, anneal_strategy, three_phase)
        )
        self.div_factor = _checks.positive_float("div_factor", div_factor)
        self.final_div_factor = _checks.positive_float("final_div_factor", final_div_factor)
        self.name = _checks.string("name", name)

    @property
    def initial_lr(self) -> float:
        """The learning rate at step 0: `max_lr / div_factor`."""
        return self.max_lr / self.div_factor

    @property
    def min_lr(self) -> float:
        """The final learning rate: `max_lr / div_factor / final_div_factor`."""
        return self.initial_lr / self.final_div_factor

    def __call__(self, step):
        with keras.name_scope(self.name, caller=self):
            return _anneal.one_cycle(step, self, self.initial_lr, self.max_lr, self.min_lr)

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "anneal_strategy": self.anneal_strategy,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "three_phase": self.three_phase,
            "name": self.name,
        }
