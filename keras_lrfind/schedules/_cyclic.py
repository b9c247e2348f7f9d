"""`CyclicLR` (PyTorch's `CyclicLR`, step for step) and `CycleDecay`, its serializable
per-cycle amplitude decay.

A `keras.optimizers.schedules.LearningRateSchedule` written with `keras.ops` only (see
`_one_cycle`); the triangular wave lives in `_anneal`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral

import keras
from keras import ops

from keras_lrfind import _checks
from keras_lrfind.schedules import _anneal

_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
_SCALE_MODES = ("cycle", "iterations")


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

    >>> from keras_lrfind import CycleDecay, CyclicLR
    >>> schedule = CyclicLR(1e-4, 1e-2, step_size_up=500, scale_fn=CycleDecay(0.8))
    >>> # The peaks of the first three cycles:
    >>> [f"{float(schedule(step)):.2e}" for step in (500, 1500, 2500)]
    ['1.00e-02', '8.02e-03', '6.44e-03']
    """

    def __init__(self, factor: float):
        self.factor = _checks.positive_float("factor", factor)

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
        raise _checks.type_error(
            "scale_fn",
            scale_fn,
            "`None` or a callable that takes the cycle number (or the step) as a float tensor",
        )
    _checks.reloadable(
        "scale_fn",
        scale_fn,
        fix="Define it as a named function, or as a class with `get_config()` and "
        "`from_config()`, and decorate it with `@keras.saving.register_keras_serializable()`; "
        "or use `keras_lrfind.CycleDecay`.",
    )


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

    >>> import keras
    >>> from keras_lrfind import CyclicLR
    >>> schedule = CyclicLR(base_lr=1e-4, max_lr=1e-2, step_size_up=4, mode="triangular2")
    >>> optimizer = keras.optimizers.SGD(schedule, momentum=0.9)
    >>> [round(float(schedule(step)), 6) for step in (0, 2, 4, 8, 12, 16)]
    [0.0001, 0.00505, 0.01, 0.0001, 0.00505, 0.0001]
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
        base_lr = _checks.positive_float("base_lr", base_lr)
        max_lr = _checks.positive_float("max_lr", max_lr)
        if max_lr < base_lr:
            raise ValueError(
                "`max_lr` must be greater than or equal to `base_lr`. "
                f"Received: base_lr={base_lr!r}, max_lr={max_lr!r}."
            )
        _checks.positive_float("step_size_up", step_size_up)
        if step_size_down is not None:
            _checks.positive_float("step_size_down", step_size_down)
        _checks.one_of("mode", mode, _CYCLIC_MODES)
        gamma = _checks.positive_float("gamma", gamma)
        _checks.one_of("scale_mode", scale_mode, _SCALE_MODES)
        _check_scale_fn(scale_fn)
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size_up = _as_python_number(step_size_up)
        self.step_size_down = None if step_size_down is None else _as_python_number(step_size_down)
        self.mode = mode
        self.gamma = gamma
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode
        self.name = _checks.string("name", name)

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
            height = _anneal.triangular_wave(
                position, float(self.step_size_up), float(step_size_down)
            )
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
