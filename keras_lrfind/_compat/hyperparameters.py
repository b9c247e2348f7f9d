"""Optimizer hyperparameters computed in the graph: `ScheduledFloat` (`MomentumCycler`).

Part of `keras_lrfind._compat`: see its docstring. Checked on Keras 3.15.1, TensorFlow 2.21,
jax 0.10.2 and torch 2.13 unless a function says otherwise.
"""

from __future__ import annotations

import keras


def _scheduled_operator(operation, reflected=False):
    """A binary operator of `ScheduledFloat` that computes with its scheduled tensor."""

    def operator(self, other):
        tensor = self._tensor()
        return operation(other, tensor) if reflected else operation(tensor, other)

    return operator


class ScheduledFloat(float):
    """A float that reads as `schedule(optimizer.iterations)` in a traced train step.

    Why: SGD's `momentum` and the Adam family's `beta_1` are Python floats that Keras
    reads when it traces the train step (TensorFlow, JAX) and bakes in as constants; SGD
    refuses a `keras.Variable`, and an Adam given a `beta_1` variable cannot reload its
    saved optimizer. As a Python float this equals the optimizer's original value, so
    Python-side checks (`momentum != 0`) and `get_config()` see the user's number.
    Converted to a tensor, through TensorFlow's `__tf_tensor__` and JAX's `__jax_array__`
    protocols (JAX uses the protocol only when a dtype is given, as in `ops.cast`), or
    combined with numbers and tensors by arithmetic (`1 - beta_1`), it becomes the
    schedule's value, computed in the graph. `dtype = float` tells Keras' dtype inference
    to treat it as a weakly typed Python float. Relies on how the optimizers use the
    hyperparameter in their update (a variable on the left of an operator converts it
    without a dtype on JAX, which Nadam does: `MomentumCycler` refuses that case).
    Checked on Keras 3.15.1 with TensorFlow 2.21 and jax 0.10.2.
    """

    dtype = float

    def __new__(cls, original, schedule, optimizer):
        self = super().__new__(cls, original)
        self.original = original
        self._schedule = schedule
        self._optimizer = optimizer
        return self

    def _tensor(self):
        return self._schedule(self._optimizer.iterations)

    def __tf_tensor__(self, dtype=None, name=None):
        value = self._tensor()
        return value if dtype is None else keras.ops.cast(value, dtype)

    def __jax_array__(self):
        # `jnp.asarray(x, dtype)` calls this; `jnp.asarray(x)` takes the float value.
        return self._tensor()

    __add__ = _scheduled_operator(keras.ops.add)
    __radd__ = _scheduled_operator(keras.ops.add, reflected=True)
    __sub__ = _scheduled_operator(keras.ops.subtract)
    __rsub__ = _scheduled_operator(keras.ops.subtract, reflected=True)
    __mul__ = _scheduled_operator(keras.ops.multiply)
    __rmul__ = _scheduled_operator(keras.ops.multiply, reflected=True)
    __truediv__ = _scheduled_operator(keras.ops.divide)
    __rtruediv__ = _scheduled_operator(keras.ops.divide, reflected=True)
    __pow__ = _scheduled_operator(keras.ops.power)
    __rpow__ = _scheduled_operator(keras.ops.power, reflected=True)

    def __neg__(self):
        return keras.ops.negative(self._tensor())

    def __reduce__(self):
        # Copies and pickles of the optimizer get the plain original value.
        return (float, (float(self),))
