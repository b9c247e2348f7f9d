"""One-cycle and cyclical learning-rate schedules, serializable with `keras.saving`.

`OneCycle` and `CyclicLR` reproduce PyTorch's `OneCycleLR` and `CyclicLR`: the
value of a schedule at step `k` is the learning rate PyTorch uses for optimizer
step `k` (0-based) with the same arguments. They are
`keras.optimizers.schedules.LearningRateSchedule`s written with `keras.ops`
only, so they run eagerly, inside `tf.function`, under XLA and on every
backend, take integer or float step tensors, and survive a `.keras` save and
reload.

The arithmetic lives in small private functions of the progress through a
phase (a number in [0, 1]); the public classes validate their arguments and
wrap those functions. `steps_for_epochs` turns epochs into the
`total_steps` these schedules need, and `plot_schedule` draws a schedule
(and optionally a `MomentumCycler`'s momentum) for a quick look.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral, Real

import keras
import numpy as np
from keras import ops

from keras_lrfind import _data

_ANNEAL_STRATEGIES = ("cos", "linear")
_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
_SCALE_MODES = ("cycle", "iterations")


# --- Validation ---------------------------------------------------------------------------------


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _check_number(name, value):
    if not _is_number(value):
        raise TypeError(
            f"`{name}` must be a Python number. "
            f"Received: {name}={value!r} of type {type(value).__name__}."
        )


def _check_positive(name, value):
    """Checks that `value` is a positive finite number and returns it as a float."""
    _check_number(name, value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"`{name}` must be a positive finite number. Received: {name}={float(value)!r}."
        )
    return float(value)


def _check_fraction(name, value):
    """Checks that `0 < value < 1` and returns it as a float."""
    _check_number(name, value)
    if not 0 < value < 1:
        raise ValueError(
            f"`{name}` must be strictly between 0 and 1. Received: {name}={float(value)!r}."
        )
    return float(value)


def _check_choice(name, value, choices):
    if value not in choices:
        options = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"`{name}` must be one of {options}. Received: {name}={value!r}.")
    return value


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(
            f"`{name}` must be `True` or `False`. "
            f"Received: {name}={value!r} of type {type(value).__name__}."
        )
    return value


def _check_name(value):
    if not isinstance(value, str):
        raise TypeError(
            f"`name` must be a string. Received: name={value!r} of type {type(value).__name__}."
        )
    return value


def _check_integer(name, value, minimum):
    """Checks that `value` is an integer `>= minimum` and returns it as an int."""
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(
            f"`{name}` must be an integer (a number of optimizer steps). "
            f"Received: {name}={value!r} of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}. Received: {name}={int(value)}.")
    return int(value)


def _check_one_cycle(total_steps, pct_start, anneal_strategy, three_phase):
    """Validates the arguments `OneCycle` and `MomentumCycler` share."""
    total_steps = _check_integer("total_steps", total_steps, minimum=2)
    pct_start = _check_fraction("pct_start", pct_start)
    _check_choice("anneal_strategy", anneal_strategy, _ANNEAL_STRATEGIES)
    _check_bool("three_phase", three_phase)
    if float(pct_start * total_steps) == 1.0:
        raise ValueError(
            "`pct_start * total_steps` must not equal 1: the warm-up phase would end at "
            "step 0 and last zero steps (PyTorch's OneCycleLR divides by zero here). "
            f"Received: pct_start={pct_start!r}, total_steps={total_steps}. "
            "Use a larger `pct_start` or more `total_steps`."
        )
    return total_steps, pct_start


# --- Schedule arithmetic: functions of progress in [0, 1], written with keras.ops ----------------


def _cos_anneal(start, end, progress, remaining):
    """Cosine anneal from `start` (progress 0) to `end` (progress 1).

    PyTorch's `end + (start - end) / 2 * (cos(pi * progress) + 1)`, rewritten as
    the weighted sum `start * sin(pi / 2 * remaining) ** 2 + end * sin(pi / 2 *
    progress) ** 2` with `remaining = 1 - progress`. The two are equal, but the
    sum of positive terms has no cancellation in float32, and each weight is
    accurate near its own end of the phase: the final one-cycle anneal ends
    exactly at an `end` ten thousand times smaller than `start`.
    """
    half_pi = math.pi / 2.0
    return start * ops.square(ops.sin(half_pi * remaining)) + end * ops.square(
        ops.sin(half_pi * progress)
    )


def _linear_anneal(start, end, progress, remaining):
    """Linear anneal from `start` (progress 0) to `end` (progress 1).

    PyTorch's `start + (end - start) * progress`, as the weighted sum
    `start * remaining + end * progress` for the same float32 reason as
    `_cos_anneal`.
    """
    return start * remaining + end * progress


_ANNEALS = {"cos": _cos_anneal, "linear": _linear_anneal}


def _triangular_wave(position, step_size_up, step_size_down):
    """0 -> 1 -> 0 over one cycle: `position` steps into a cycle of `up + down` steps.

    PyTorch's `x / ratio if x <= ratio else (x - 1) / (ratio - 1)` with
    `x = position / (up + down)` and `ratio = up / (up + down)`, written with the
    step counts so that it is exact for integer steps.
    """
    total = step_size_up + step_size_down
    return ops.where(
        position <= step_size_up, position / step_size_up, (total - position) / step_size_down
    )


def _one_cycle_phase_ends(total_steps, pct_start, three_phase):
    """The last step of each phase, as floats exactly as PyTorch computes them."""
    warmup_end = float(pct_start * total_steps) - 1
    if three_phase:
        return [warmup_end, float(2 * pct_start * total_steps) - 2, float(total_steps - 1)]
    return [warmup_end, float(total_steps - 1)]


def _one_cycle(step, phase_ends, phase_values, anneal):
    """PyTorch's OneCycleLR phase walk, in-graph, holding the last value past the end.

    Phase `i` runs from `phase_ends[i - 1]` (0 for the first) to `phase_ends[i]`
    and anneals from `phase_values[i][0]` to `phase_values[i][1]`. A step
    belongs to the first phase whose end it does not pass; steps past the last
    end are clamped to it. The bounds are rounded to float32 once, here, so that
    the comparisons and the progress agree (`progress == 1` exactly at a phase
    end). A phase of zero or negative float32 length can never be selected for a
    clamped step (validation rules out the one reachable case of PyTorch's), so
    it is dropped, which keeps a division by its length out of the graph.
    """
    phase_ends = [np.float32(end) for end in phase_ends]
    phase_starts = [np.float32(0.0), *phase_ends[:-1]]
    step = ops.minimum(ops.cast(step, "float32"), phase_ends[-1])
    phases = [
        (start, end, values)
        for start, end, values in zip(phase_starts, phase_ends, phase_values, strict=True)
        if end > start
    ]

    def in_phase(start, end, values):
        # The remaining fraction is computed directly, not as `1 - progress`.
        length = end - start
        return anneal(*values, (step - start) / length, (end - step) / length)

    value = in_phase(*phases[-1])
    for start, end, values in reversed(phases[:-1]):
        value = ops.where(step <= end, in_phase(start, end, values), value)
    return ops.cast(value, "float32")


# --- Public schedules ---------------------------------------------------------------------------


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

    ```python
    import keras
    from keras_lrfind import OneCycle, steps_for_epochs

    schedule = OneCycle(max_lr=1e-2, total_steps=steps_for_epochs(5, steps_per_epoch=100))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9), loss="mse")
    float(schedule(0)), float(schedule(149)), float(schedule(499))
    # about (4e-4, 1e-2, 4e-8): start, peak at step 0.3 * 500 - 1, end
    ```
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
        max_lr = _check_positive("max_lr", max_lr)
        total_steps, pct_start = _check_one_cycle(
            total_steps, pct_start, anneal_strategy, three_phase
        )
        div_factor = _check_positive("div_factor", div_factor)
        final_div_factor = _check_positive("final_div_factor", final_div_factor)
        self.max_lr = max_lr
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.anneal_strategy = anneal_strategy
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.three_phase = three_phase
        self.name = _check_name(name)

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
            if self.three_phase:
                values = [
                    (self.initial_lr, self.max_lr),
                    (self.max_lr, self.initial_lr),
                    (self.initial_lr, self.min_lr),
                ]
            else:
                values = [(self.initial_lr, self.max_lr), (self.max_lr, self.min_lr)]
            phase_ends = _one_cycle_phase_ends(self.total_steps, self.pct_start, self.three_phase)
            return _one_cycle(step, phase_ends, values, _ANNEALS[self.anneal_strategy])

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


@keras.saving.register_keras_serializable(package="keras_lrfind")
class CycleDecay:
    """A `CyclicLR` `scale_fn` that multiplies each cycle's amplitude by `factor`.

    PyTorch's built-in modes either halve the amplitude every cycle
    (`"triangular2"`) or decay it every step (`"exp_range"`); this scale decays it
    by any factor per cycle, and being a registered class with `get_config`, it
    survives a `.keras` save and reload (a lambda would not). Use it with
    `scale_mode="cycle"`: cycles are numbered from 1, so the first cycle has full
    amplitude. `CycleDecay(0.5)` is `"triangular2"`.

    ```python
    def scale(cycle):
        return factor ** (cycle - 1)
    ```

    Args:
        factor: The ratio of each cycle's amplitude to the previous one's, positive
            and finite (above 1 grows the amplitude).

    Returns:
        Called with the cycle number (a float tensor), the scale as a float tensor.

    Raises:
        TypeError: If `factor` is not a number.
        ValueError: If `factor` is not positive and finite.

    Example:

    ```python
    from keras_lrfind import CycleDecay, CyclicLR

    schedule = CyclicLR(1e-4, 1e-2, step_size_up=500, scale_fn=CycleDecay(0.8))
    ```
    """

    def __init__(self, factor: float):
        self.factor = _check_positive("factor", factor)

    def __call__(self, cycle):
        return ops.exp((ops.cast(cycle, "float32") - 1.0) * math.log(self.factor))

    def get_config(self):
        return {"factor": self.factor}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_scale_fn(scale_fn):
    """Refuses a `scale_fn` that a `.keras` file could not restore."""
    if scale_fn is None:
        return
    if not callable(scale_fn):
        raise TypeError(
            "`scale_fn` must be `None` or a callable that takes the cycle number (or the "
            "step) as a float tensor. "
            f"Received: scale_fn={scale_fn!r} of type {type(scale_fn).__name__}."
        )
    fix = (
        "Define it as a named function, or as a class with `get_config()` and "
        "`from_config()`, and decorate it with `@keras.saving.register_keras_serializable()`; "
        "or use `keras_lrfind.CycleDecay`."
    )
    if getattr(scale_fn, "__name__", None) == "<lambda>":
        raise TypeError(
            "`scale_fn` must be serializable with `keras.saving`, so that a model using "
            "this schedule can be saved and reloaded, and a lambda cannot be reloaded. "
            f"Received: scale_fn={scale_fn!r}. {fix}"
        )
    try:
        config = keras.saving.serialize_keras_object(scale_fn)
        keras.saving.deserialize_keras_object(config)
    except Exception as error:
        raise TypeError(
            "`scale_fn` must be serializable with `keras.saving`, so that a model using "
            "this schedule can be saved and reloaded, but Keras could not restore it: "
            f"{error} Received: scale_fn={scale_fn!r}. {fix}"
        ) from error


@keras.saving.register_keras_serializable(package="keras_lrfind")
class CyclicLR(keras.optimizers.schedules.LearningRateSchedule):
    """A cyclical learning rate, step for step as PyTorch's `CyclicLR`.

    Smith's cyclical learning rates (CLR) move the learning rate up and down
    between `base_lr` and `max_lr` in triangles of `step_size_up` rising and
    `step_size_down` falling steps, which trains as well as a tuned fixed rate
    without tuning it, and escapes saddle points. Take `base_lr` and `max_lr`
    from a learning-rate range test. The value at step `k` equals the learning
    rate PyTorch's `CyclicLR` uses for optimizer step `k` with the same
    arguments. The modes:

    - `"triangular"`: every cycle has the full amplitude.
    - `"triangular2"`: the amplitude halves every cycle.
    - `"exp_range"`: the amplitude is multiplied by `gamma ** step`.

    A custom `scale_fn` replaces the mode's scale. It receives a float32 tensor
    (the cycle number, from 1, or the step, from 0, per `scale_mode`), must use
    `keras.ops`, and must be serializable with `keras.saving` so that a model
    using the schedule can be saved and reloaded: a registered named function or
    a registered class with `get_config()` such as `CycleDecay`. Lambdas and
    unregistered functions are refused (TensorFlow Addons accepted them and then
    could not reload the model).

    The schedule, as Python:

    ```python
    step_size_down = step_size_up if step_size_down is None else step_size_down
    total = step_size_up + step_size_down
    ratio = step_size_up / total

    def learning_rate(step):
        cycle = math.floor(1 + step / total)
        position = 1 + step / total - cycle
        if position <= ratio:
            height = position / ratio
        else:
            height = (position - 1) / (ratio - 1)
        if scale_fn is not None:
            scale = scale_fn(cycle if scale_mode == "cycle" else step)
        elif mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = 1 / 2 ** (cycle - 1)
        else:  # "exp_range"
            scale = gamma**step
        return base_lr + (max_lr - base_lr) * height * scale
    ```

    Args:
        base_lr: The learning rate at the bottom of each cycle, positive and finite.
        max_lr: The learning rate at the top of the first cycle, at least `base_lr`.
        step_size_up: The number of optimizer steps from the bottom to the top of a cycle,
            positive. Defaults to `2000`.
        step_size_down: The number of steps from the top back to the bottom, positive, or
            `None` for the same as `step_size_up`. Defaults to `None`.
        mode: `"triangular"`, `"triangular2"` or `"exp_range"`; ignored when `scale_fn`
            is given. Defaults to `"triangular"`.
        gamma: The per-step decay of the amplitude in `"exp_range"` mode, positive.
            Defaults to `1.0`.
        scale_fn: A serializable callable that replaces the mode's scale, or `None`.
            Defaults to `None`.
        scale_mode: Whether `scale_fn` receives the cycle number (`"cycle"`) or the step
            (`"iterations"`); used only with `scale_fn`, since each mode has its own
            (as in PyTorch). Defaults to `"cycle"`.
        name: The name scope of the schedule's operations. Defaults to `"CyclicLR"`.

    Returns:
        Called with a step (a Python number or a scalar or array tensor of any integer or
        float dtype), the learning rate at that step as a float32 tensor of the same shape.

    Raises:
        TypeError: If an argument has the wrong type, or `scale_fn` cannot be saved and
            reloaded with `keras.saving`.
        ValueError: If a learning rate, step size or `gamma` is not a positive finite
            number, `max_lr < base_lr`, or `mode` or `scale_mode` is unknown.

    Example:

    ```python
    import keras
    from keras_lrfind import CyclicLR

    schedule = CyclicLR(base_lr=1e-4, max_lr=1e-2, step_size_up=4, mode="triangular2")
    optimizer = keras.optimizers.SGD(schedule, momentum=0.9)
    [round(float(schedule(step)), 6) for step in (0, 2, 4, 8, 12, 16)]
    # [0.0001, 0.00505, 0.01, 0.0001, 0.00505, 0.0001]
    ```
    """

    def __init__(
        self,
        base_lr: float,
        max_lr: float,
        step_size_up: float = 2000,
        step_size_down: float | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable | None = None,
        scale_mode: str = "cycle",
        name: str = "CyclicLR",
    ):
        super().__init__()
        base_lr = _check_positive("base_lr", base_lr)
        max_lr = _check_positive("max_lr", max_lr)
        if max_lr < base_lr:
            raise ValueError(
                "`max_lr` must be greater than or equal to `base_lr`. "
                f"Received: base_lr={base_lr!r}, max_lr={max_lr!r}."
            )
        _check_positive("step_size_up", step_size_up)
        if step_size_down is not None:
            _check_positive("step_size_down", step_size_down)
        _check_choice("mode", mode, _CYCLIC_MODES)
        gamma = _check_positive("gamma", gamma)
        _check_choice("scale_mode", scale_mode, _SCALE_MODES)
        _check_scale_fn(scale_fn)
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size_up = _as_python_number(step_size_up)
        self.step_size_down = None if step_size_down is None else _as_python_number(step_size_down)
        self.mode = mode
        self.gamma = gamma
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode
        self.name = _check_name(name)

    def _scale(self, cycle, step):
        if self.scale_fn is not None:
            return self.scale_fn(cycle if self.scale_mode == "cycle" else step)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1.0 / ops.power(2.0, cycle - 1.0)
        # `exp(step * log(gamma))` with the log in float64: a float32 `gamma ** step`
        # would carry `gamma`'s rounding error `step` times.
        return ops.exp(step * math.log(self.gamma))

    def __call__(self, step):
        with keras.name_scope(self.name, caller=self):
            step = ops.cast(step, "float32")
            step_size_down = (
                self.step_size_up if self.step_size_down is None else self.step_size_down
            )
            total = float(self.step_size_up + step_size_down)
            # `step mod total` is exact for integer steps, unlike `1 + step / total - cycle`.
            position = ops.mod(step, total)
            cycle = ops.round((step - position) / total) + 1.0
            height = _triangular_wave(position, float(self.step_size_up), float(step_size_down))
            scale = ops.cast(self._scale(cycle, step), "float32")
            return ops.cast(self.base_lr + (self.max_lr - self.base_lr) * height * scale, "float32")

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size_up": self.step_size_up,
            "step_size_down": self.step_size_down,
            "mode": self.mode,
            "gamma": self.gamma,
            "scale_fn": (
                None
                if self.scale_fn is None
                else keras.saving.serialize_keras_object(self.scale_fn)
            ),
            "scale_mode": self.scale_mode,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("scale_fn"), dict):
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)


def _as_python_number(value):
    """An int stays an int (NumPy's included), anything else becomes a float."""
    return int(value) if isinstance(value, Integral) else float(value)


# --- Helpers ------------------------------------------------------------------------------------


def steps_for_epochs(
    epochs: int,
    steps_per_epoch: int | None = None,
    *,
    data=None,
    batch_size: int | None = None,
) -> int:
    """The number of optimizer steps `model.fit` takes: the `total_steps` of a schedule.

    One-cycle schedules need the length of training in optimizer steps, and
    getting it wrong either cuts the cycle short or leaves training at the final
    learning rate. Give either `steps_per_epoch` or the `data` passed to `fit`:

    - a NumPy array (or a list, tuple or dict of arrays, as `fit` accepts):
      `ceil(len / batch_size)` steps per epoch, with Keras's default batch size
      of 32 when `batch_size` is `None`;
    - a `tf.data.Dataset` (already batched): its cardinality;
    - a `keras.utils.PyDataset`: its number of batches.

    Args:
        epochs: The number of epochs, at least 1.
        steps_per_epoch: The number of steps per epoch, at least 1, or `None` to count
            them from `data`. Defaults to `None`.
        data: The training inputs given to `fit`, or `None` when `steps_per_epoch` is
            given. Defaults to `None`.
        batch_size: The `batch_size` given to `fit` with array data, or `None` for Keras's
            default of 32. Not allowed with a dataset, which is batched already.
            Defaults to `None`.

    Returns:
        The total number of optimizer steps, `epochs * steps_per_epoch`.

    Raises:
        TypeError: If an argument has the wrong type or `data` is of a kind this function
            cannot count.
        ValueError: If a count is below 1, both or neither of `steps_per_epoch` and `data`
            are given, `batch_size` is given with a dataset, or a dataset's length is
            infinite or unknown.

    Example:

    ```python
    import numpy as np
    from keras_lrfind import steps_for_epochs

    steps_for_epochs(3, data=np.zeros((1000, 4)), batch_size=64)  # 3 * ceil(1000 / 64) = 48
    steps_for_epochs(10, steps_per_epoch=50)  # 500
    ```
    """
    epochs = _check_integer("epochs", epochs, minimum=1)
    if (steps_per_epoch is None) == (data is None):
        raise ValueError(
            "Pass exactly one of `steps_per_epoch` and `data`. "
            f"Received: steps_per_epoch={steps_per_epoch!r}, data of type "
            f"{type(data).__name__}."
        )
    if steps_per_epoch is not None:
        if batch_size is not None:
            raise ValueError(
                "`batch_size` is only used to count the steps of array `data`; with "
                "`steps_per_epoch` it has no effect. "
                f"Received: steps_per_epoch={steps_per_epoch!r}, batch_size={batch_size!r}."
            )
        return epochs * _check_integer("steps_per_epoch", steps_per_epoch, minimum=1)
    return epochs * _steps_per_epoch_of(data, batch_size)


def _steps_per_epoch_of(data, batch_size):
    """Counts one epoch of `data` (see `_data.steps_per_epoch`), refusing what it cannot count."""
    if _data.is_dataset(data):
        if batch_size is not None:
            raise ValueError(
                "`batch_size` must be `None` when `data` is a dataset: a dataset yields "
                "whole batches, so its batch size is set when it is built. "
                f"Received: batch_size={batch_size!r} with data of type {type(data).__name__}."
            )
    elif not _data.array_leaves(data):
        raise TypeError(
            "`data` must be a NumPy array (or a list, tuple or dict of arrays), a "
            "`tf.data.Dataset` or a `keras.utils.PyDataset`; for a generator, pass "
            f"`steps_per_epoch`. Received: data of type {type(data).__name__}."
        )
    else:
        if batch_size is not None:
            _check_integer("batch_size", batch_size, minimum=1)
    count = _data.steps_per_epoch(data, batch_size)
    if count is None:
        raise ValueError(
            f"Cannot count the steps of a {type(data).__name__} whose length is infinite or "
            "unknown. Pass `steps_per_epoch` (as you would to `fit`), or for a "
            "`tf.data.Dataset` declare the length with "
            "`dataset.apply(tf.data.experimental.assert_cardinality(n))`."
        )
    return count


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

    ```python
    from keras_lrfind import MomentumCycler, OneCycle, plot_schedule

    schedule = OneCycle(max_lr=1e-2, total_steps=1000)
    ax = plot_schedule(schedule, 1000, momentum=MomentumCycler.from_one_cycle(schedule))
    ax.figure.savefig("one_cycle.png")
    ```
    """
    if not callable(schedule):
        raise TypeError(
            "`schedule` must be a `LearningRateSchedule` or a callable of the step. "
            f"Received: schedule={schedule!r} of type {type(schedule).__name__}."
        )
    total_steps = _check_integer("total_steps", total_steps, minimum=1)
    if momentum is not None:
        from keras_lrfind.momentum import MomentumCycler

        if not isinstance(momentum, MomentumCycler):
            raise TypeError(
                "`momentum` must be a `keras_lrfind.MomentumCycler` or `None`. "
                f"Received: momentum of type {type(momentum).__name__}."
            )
    import matplotlib.pyplot as plt

    steps = np.arange(total_steps)
    learning_rates = _evaluate(schedule, steps)
    if ax is None:
        _, ax = plt.subplots()
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
    if isinstance(schedule, (OneCycle, CyclicLR)):
        return np.asarray(keras.ops.convert_to_numpy(schedule(steps)), dtype="float64")
    return np.array(
        [float(keras.ops.convert_to_numpy(schedule(int(step)))) for step in steps], dtype="float64"
    )
