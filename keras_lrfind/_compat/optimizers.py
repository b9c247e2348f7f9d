"""Optimizer internals: the schedule object, a fast variable write, the variables it was built for.

Part of `keras_lrfind._compat`: see its docstring. Checked on Keras 3.15.1, TensorFlow 2.21,
jax 0.10.2 and torch 2.13 unless a function says otherwise.
"""

from __future__ import annotations

import keras


def learning_rate_schedule(optimizer):
    """The `LearningRateSchedule` (or callable) an optimizer was built with.

    Why: for a schedule-built optimizer the public `optimizer.learning_rate` returns the
    schedule's current value, not the schedule; the object, which the range test swaps out
    and must put back, is only in the private `_learning_rate`. `LossScaleOptimizer`
    forwards its learning rate to `inner_optimizer`. Checked on Keras 3.8 to 3.15.1.
    """
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        return learning_rate_schedule(inner)
    if not hasattr(optimizer, "_learning_rate"):
        raise RuntimeError(
            f"keras_lrfind cannot read the learning-rate schedule of {type(optimizer).__name__} "
            f"in Keras {keras.version()}: `optimizer._learning_rate` is gone. Please report "
            "this; meanwhile build the optimizer with a float learning rate for the test."
        )
    return optimizer._learning_rate


def fast_assign(variable):
    """`variable.assign`, minus Keras' per-call checks where the backend allows it.

    Why: the range test writes three variables per batch (the learning rate and the loss
    tracker's total and count). On TensorFlow, the `tf.Variable` behind a Keras variable
    (the public `variable.value`) assigns faster than Keras' `assign` (the documentation's
    Benchmarks section, "Speed overhead of the range test", has the numbers). It skips
    Keras' dtype and shape checks, so the caller passes values of the variable's own dtype
    and shape. Other backends keep Keras' `assign`. Checked on Keras 3.15.1 with
    TensorFlow 2.21, jax 0.10.2, torch 2.13.
    """
    backend_variable = variable.value
    return backend_variable.assign if hasattr(backend_variable, "assign") else variable.assign


def variables_unknown_to_optimizer(model) -> list:
    """The trainable variables of `model` that its built optimizer was not built for.

    Why: an optimizer is built for the trainable variables of the moment. After a change of
    `trainable` (unfreezing a backbone) without a new `compile`, Keras on JAX and PyTorch
    refuses to train ("Unknown variable ... built with"), but on TensorFlow the old compiled
    step silently trains the old variables only, so a range test would record the head's
    curve, not the whole model's. The optimizer's own index of its variables (the private
    `_trainable_variables_indices`, keyed by `_var_key`) is the only record of what it was
    built for. An unbuilt optimizer, or one without that index, reports nothing. Checked on
    Keras 3.15.1, all three backends.
    """
    optimizer = model.optimizer
    while getattr(optimizer, "inner_optimizer", None) is not None:
        optimizer = optimizer.inner_optimizer
    known = getattr(optimizer, "_trainable_variables_indices", None)
    if not getattr(optimizer, "built", False) or not known or not hasattr(optimizer, "_var_key"):
        return []
    return [v for v in model.trainable_variables if optimizer._var_key(v) not in known]


def rebind_ema_state(optimizer) -> None:
    """Makes a JAX optimizer with `use_ema=True` that trained before trainable again.

    Why: on JAX, Keras 3.15's second `fit` of a model whose optimizer has `use_ema=True`
    fails inside Keras (`TypeError: 'NoneType' object is not callable` from
    `Variable.value`); writing the optimizer's variables back with their own values (a
    no-op for the state) avoids it. Checked on Keras 3.15.1 (JAX); other backends and
    optimizers without EMA are left alone.
    """
    if keras.backend.backend() != "jax" or not getattr(optimizer, "use_ema", False):
        return
    if not optimizer.built:
        return
    for variable in optimizer.variables:
        variable.assign(variable.numpy())
