"""Momentum cycling for the one-cycle policy: `MomentumCycler`.

Smith's one-cycle policy lowers momentum while the learning rate rises and
raises it again while the learning rate anneals; PyTorch's `OneCycleLR` does it
by default. In Keras 3 this is not a matter of setting an attribute: SGD's
`momentum` and the Adam family's `beta_1` are Python floats read once, when the
train step is traced, so assigning a new value during `fit` is silently
ignored; SGD refuses a `keras.Variable`, and an Adam given a `beta_1` variable
cannot reload its saved optimizer.

How `MomentumCycler` makes the momentum take effect (the Keras internals it
needs live in `_compat`):

- In `on_train_begin` it wraps the model's train function so that each call
  (one step, or one chunk of `steps_per_execution` steps) runs with the
  optimizer's hyperparameter set to a scheduled value and puts the original
  float object back in a `finally` block. Between steps, and after an
  exception or Ctrl-C anywhere in `fit`, the optimizer holds its own float.
- On TensorFlow and JAX, which trace the train step once, the value set is a
  `hyperparameters.ScheduledFloat`: a `float` subclass whose float value is the
  original hyperparameter (so `momentum != 0`, `get_config()` and a `.keras`
  file saved mid-training see the user's number), but which, when the traced
  train step turns it into a tensor (`ops.cast`, `1 - beta_1`, `beta_1 * x`),
  yields the one-cycle momentum computed in the graph from
  `optimizer.iterations`. The value is therefore exact at every step, also with
  `steps_per_execution > 1` and under XLA, at no per-batch cost. It is not a
  variable, so `optimizer.variables` (the checkpoint layout) never changes. The
  train function is rebuilt (`model.make_train_function(force=True)`) so the
  step is traced with it. JAX honours `__jax_array__` only when a dtype is
  given (`ops.cast`); arithmetic with Python numbers (`1 - beta_1`) reaches the
  float's own operators. But a variable or array on the left of an operator
  (`u_product * beta_1`) converts it without a dtype, and JAX then bakes the
  float value in as a constant. Nadam's update does exactly that, so Nadam is
  refused on JAX rather than trained with a half-cycled momentum.
- On PyTorch the train step runs eagerly and the optimizers hand the Python
  float straight to `torch._foreach_*` kernels, which read its C value and
  ignore any subclass. There the value set is that step's momentum, a plain
  float read from `optimizer.iterations`. PyTorch allows only
  `steps_per_execution=1`, so every step is seen. Under `jit_compile=True`
  (torch.compile) the steps stay exact, but torch.compile specializes the
  compiled update on the float: it recompiles it for each new value until its
  recompile limit (8 in torch 2.13), then runs that update uncompiled.
- In `on_train_end` it drops the traced function that holds the schedule
  (TensorFlow, JAX) or puts the original train function back (PyTorch), so the
  optimizer, its config and later `fit` calls are exactly as before.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_lrfind import _checks
from keras_lrfind._compat import hyperparameters, trainer
from keras_lrfind.schedules import _anneal
from keras_lrfind.schedules._one_cycle import OneCycle

_BACKENDS = ("tensorflow", "jax", "torch")
_SUPPORTED_OPTIMIZERS = {
    "momentum": (keras.optimizers.SGD,),
    "beta_1": (
        keras.optimizers.Adam,
        keras.optimizers.AdamW,
        keras.optimizers.Adamax,
        keras.optimizers.Nadam,
        keras.optimizers.Lion,
    ),
}


def check_backend(backend, optimizer):
    """Raises if this backend cannot cycle this optimizer's momentum (see the module docstring)."""
    if backend not in _BACKENDS:
        raise RuntimeError(
            "`MomentumCycler` needs the TensorFlow, JAX or PyTorch backend: it feeds the "
            "cycled momentum into the train step through their tensor conversion or eager "
            f"step. Received: backend={backend!r}. Set `KERAS_BACKEND` to one of "
            f"{', '.join(_BACKENDS)}, or train without momentum cycling."
        )
    if backend == "jax" and isinstance(optimizer, keras.optimizers.Nadam):
        raise TypeError(
            "`MomentumCycler` cannot cycle Nadam's `beta_1` on the JAX backend: Nadam "
            "multiplies a variable by `beta_1`, and JAX compiles a Python float met that "
            "way into the step as a constant, so part of the update would keep the "
            "original value. Received: optimizer of type Nadam, backend='jax'. Use Adam, "
            "AdamW, Adamax or Lion, or the TensorFlow or PyTorch backend."
        )


def _momentum_attribute(optimizer):
    """The name of the optimizer's momentum hyperparameter, after checking it can be cycled."""
    attribute = next(
        (name for name, classes in _SUPPORTED_OPTIMIZERS.items() if isinstance(optimizer, classes)),
        None,
    )
    if attribute is None:
        supported = ", ".join(c.__name__ for cs in _SUPPORTED_OPTIMIZERS.values() for c in cs)
        raise TypeError(
            "`MomentumCycler` cycles SGD's `momentum` or the Adam family's `beta_1`, and "
            f"the model's optimizer has neither. Received: optimizer of type "
            f"{type(optimizer).__name__}. Compile the model with one of: {supported}."
        )
    value = getattr(optimizer, attribute)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(
            f"`MomentumCycler` can only cycle a Python float `{attribute}`. Received: "
            f"{type(optimizer).__name__} with {attribute} of type {type(value).__name__}. "
            f"Build the optimizer with a float `{attribute}`."
        )
    if attribute == "momentum" and value == 0:
        raise ValueError(
            "`MomentumCycler` needs an SGD optimizer built with momentum, but this one was "
            "built with momentum=0.0 and so has no momentum slot to cycle. "
            f"Received: momentum={value!r}. Compile with e.g. "
            "`keras.optimizers.SGD(learning_rate, momentum=0.9)`."
        )
    return attribute, value


class MomentumCycler(keras.callbacks.Callback):
    """Cycles the optimizer's momentum opposite to a one-cycle learning rate.

    The one-cycle policy (Smith, 2018) lowers momentum from `max_momentum` to
    `base_momentum` while the learning rate warms up, and raises it back while
    the learning rate anneals, which stabilizes the high-learning-rate phase.
    This callback does it for SGD's `momentum` and for `beta_1` of Adam, AdamW,
    Adamax, Nadam and Lion (also inside a `LossScaleOptimizer`), step for step as
    PyTorch's `OneCycleLR(cycle_momentum=True)`, with the same phase boundaries
    as `OneCycle`, on the TensorFlow, JAX and PyTorch backends (Nadam not on
    JAX). Build it with `MomentumCycler.from_one_cycle(schedule)` to copy those
    boundaries from the learning-rate schedule.

    The momentum at step `k` is computed from `optimizer.iterations`, like the
    learning rate of a schedule, so it is exact at every step (also with
    `steps_per_execution > 1` and `jit_compile=True`), stays in step with
    `OneCycle` across several `fit` calls, and holds `max_momentum` past
    `total_steps - 1`. On TensorFlow and JAX, during `fit` the optimizer's
    hyperparameter is a float subclass that equals the original value but turns
    into the scheduled tensor in the traced train step; on PyTorch each step
    sets the hyperparameter to its momentum and back (see the module docstring
    for why: Keras bakes the plain float into the traced step). `on_train_end`
    puts the original train function back, so `optimizer.get_config()`,
    `optimizer.variables` and later `fit` calls are unchanged. If `fit` is
    interrupted (an exception or Ctrl-C), `on_train_end` does not run, but the
    optimizer's hyperparameter is its own float object again (each step sets
    the scheduled value only while it runs), and the next `fit` with a
    `MomentumCycler` takes over cleanly; the model's train function still
    cycles, though: call `model.make_train_function(force=True)` before
    training on without one.

    The momentum, as Python: `OneCycle`'s phase walk (see its docstring) with the
    momentum in place of the learning rate, from `max_momentum` down to
    `base_momentum` while the learning rate warms up, and back:

    ```python
    def momentum(step):
        one_cycle = OneCycle(
            max_lr=base_momentum, total_steps=total_steps, pct_start=pct_start,
            anneal_strategy=anneal_strategy, three_phase=three_phase,
            div_factor=base_momentum / max_momentum, final_div_factor=1.0,
        )  # initial_lr = min_lr = max_momentum
        return one_cycle(step)
    ```

    Args:
        total_steps: The number of optimizer steps in the cycle, as in `OneCycle`; at
            least 2.
        max_momentum: The momentum at the start and the end of the cycle, in [0, 1).
            Defaults to `0.95`.
        base_momentum: The momentum when the learning rate peaks, in [0, 1) and at most
            `max_momentum`. Defaults to `0.85`.
        pct_start: The fraction of `total_steps` spent warming up, strictly between 0
            and 1. Defaults to `0.3`.
        anneal_strategy: `"cos"` or `"linear"`. Defaults to `"cos"`.
        three_phase: Whether to use `OneCycle`'s three-phase shape. Defaults to `False`.

    Raises:
        TypeError: If an argument has the wrong type; in `on_train_begin`, if the
            optimizer is not one of the supported classes or its hyperparameter is not
            a Python float.
        ValueError: If a momentum is outside [0, 1), `base_momentum > max_momentum`, or
            an argument shared with `OneCycle` is invalid; in `on_train_begin`, if the
            optimizer is an SGD without momentum.
        TypeError: In `on_train_begin`, for Nadam on the JAX backend (see the module
            docstring).
        RuntimeError: In `on_train_begin`, if the Keras backend is not TensorFlow, JAX
            or PyTorch.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> from keras_lrfind import MomentumCycler, OneCycle, steps_for_epochs
    >>> x, y = np.random.rand(64, 4), np.random.rand(64, 1)
    >>> schedule = OneCycle(max_lr=1e-2, total_steps=steps_for_epochs(3, data=x, batch_size=16))
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> optimizer = keras.optimizers.SGD(schedule, momentum=0.9)
    >>> model.compile(optimizer=optimizer, loss="mse")
    >>> cycler = MomentumCycler.from_one_cycle(schedule)
    >>> history = model.fit(x, y, batch_size=16, epochs=3, callbacks=[cycler], verbose=0)
    >>> # Momentum dips while the learning rate peaks (step 0.3 * 12 - 1), then recovers:
    >>> [round(float(cycler.momentum_at(step)), 3) for step in (0, 2.6, 11)]
    [0.95, 0.85, 0.95]
    >>> optimizer.momentum  # The optimizer's own value again after `fit`.
    0.9
    """

    def __init__(
        self,
        total_steps: int,
        max_momentum: float = 0.95,
        base_momentum: float = 0.85,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        three_phase: bool = False,
    ):
        super().__init__()
        total_steps, pct_start, anneal_strategy, three_phase = _anneal.check_phases(
            total_steps, pct_start, anneal_strategy, three_phase
        )
        max_momentum = _checks.fraction("max_momentum", max_momentum, include_zero=True)
        base_momentum = _checks.fraction("base_momentum", base_momentum, include_zero=True)
        if base_momentum > max_momentum:
            raise ValueError(
                "`base_momentum` must be less than or equal to `max_momentum` (momentum "
                "dips while the learning rate peaks). "
                f"Received: base_momentum={base_momentum!r}, max_momentum={max_momentum!r}."
            )
        self.total_steps = total_steps
        self.max_momentum = max_momentum
        self.base_momentum = base_momentum
        self.pct_start = pct_start
        self.anneal_strategy = anneal_strategy
        self.three_phase = three_phase
        self._train_function = None  # The model's own train function, while `fit` runs.

    @classmethod
    def from_one_cycle(
        cls, schedule: OneCycle, max_momentum: float = 0.95, base_momentum: float = 0.85
    ) -> MomentumCycler:
        """A `MomentumCycler` with the phase boundaries of a `OneCycle` schedule.

        Args:
            schedule: The `OneCycle` schedule whose `total_steps`, `pct_start`,
                `anneal_strategy` and `three_phase` to copy.
            max_momentum: The momentum at the start and the end of the cycle.
                Defaults to `0.95`.
            base_momentum: The momentum when the learning rate peaks. Defaults to `0.85`.

        Returns:
            A new `MomentumCycler`.

        Raises:
            TypeError: If `schedule` is not a `OneCycle`.
            ValueError: If a momentum is invalid (see the class).

        Example:

        >>> from keras_lrfind import MomentumCycler, OneCycle
        >>> schedule = OneCycle(max_lr=1e-2, total_steps=1000, pct_start=0.25)
        >>> cycler = MomentumCycler.from_one_cycle(schedule, max_momentum=0.9)
        >>> cycler.total_steps, cycler.pct_start, cycler.max_momentum
        (1000, 0.25, 0.9)
        """

        if not isinstance(schedule, OneCycle):
            raise TypeError(
                "`schedule` must be a `keras_lrfind.OneCycle`. "
                f"Received: schedule of type {type(schedule).__name__}."
            )
        return cls(
            total_steps=schedule.total_steps,
            max_momentum=max_momentum,
            base_momentum=base_momentum,
            pct_start=schedule.pct_start,
            anneal_strategy=schedule.anneal_strategy,
            three_phase=schedule.three_phase,
        )

    def momentum_at(self, step):
        """The momentum at optimizer step `step`, as a float32 tensor.

        Args:
            step: A Python number or a scalar or array tensor of any integer or float
                dtype.

        Returns:
            The momentum, a float32 tensor of the shape of `step`.
        """
        return _anneal.one_cycle(
            step, self, self.max_momentum, self.base_momentum, self.max_momentum
        )

    def on_train_begin(self, logs=None):
        model = self.model
        # A LossScaleOptimizer applies the updates through its inner optimizer.
        optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
        attribute, original = _momentum_attribute(optimizer)
        backend = keras.backend.backend()
        check_backend(backend, optimizer)
        if backend == "torch":
            # The same float32 values the traced schedule gives, once for all steps.
            momenta = keras.ops.convert_to_numpy(self.momentum_at(np.arange(self.total_steps)))
            last_step = self.total_steps - 1

            def momentum_of_step():
                return float(momenta[min(int(optimizer.iterations), last_step)])

        else:
            scheduled = hyperparameters.ScheduledFloat(original, self.momentum_at, optimizer)

            def momentum_of_step():
                return scheduled

            model.make_train_function(force=True)  # Traced anew, with the scheduled float.
        self._train_function = trainer.set_attribute_during_train_steps(
            model, optimizer, attribute, momentum_of_step
        )

    def on_train_end(self, logs=None):
        if self._train_function is None:
            return
        if keras.backend.backend() == "torch":
            trainer.restore_train_function(self.model, self._train_function)
        else:  # Drop the trace that holds the scheduled momentum.
            self.model.make_train_function(force=True)
        self._train_function = None
