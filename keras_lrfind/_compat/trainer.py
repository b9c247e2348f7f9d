"""Trainer internals: compiled state, the loss tracker, JAX's state sync, the train and test
functions, `steps_per_execution`.

Part of `keras_lrfind._compat`: see its docstring. Checked on Keras 3.15.1, TensorFlow 2.21,
jax 0.10.2 and torch 2.13 unless a function says otherwise.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_lrfind._compat.optimizers import fast_assign


def is_compiled(model) -> bool:
    """Whether `model.compile()` ran: Keras' trainer sets `compiled`, which it does not
    document. Checked on Keras 3.8 to 3.15.1."""
    return bool(getattr(model, "compiled", False)) and model.optimizer is not None


def batch_loss_resets(model) -> list:
    """`(assign, zero)` pairs that empty the trainer's loss tracker before a batch.

    Why: `logs["loss"]` in batch hooks is the running mean of the trainer's loss tracker, a
    `keras.metrics.Mean` named `"loss"` (the private `Trainer._loss_tracker`, listed in the
    public `model.metrics`), since the epoch began. Zeroing its `total` and `count` before
    each batch makes it the batch's own loss, on every backend (resetting all metrics
    would cost more and reset the user's compiled metrics too). A model whose
    `train_step` keeps no tracker named "loss" gets no resets. Checked on Keras 3.8 to
    3.15.1, all three backends.
    """
    tracker = next((metric for metric in model.metrics if metric.name == "loss"), None)
    if tracker is None:
        return []
    return [(fast_assign(v), np.zeros(v.shape, dtype=v.dtype)) for v in tracker.variables]


def sync_model_state(callback) -> None:
    """Makes the model's variables current inside a training loop (JAX only).

    Why: Keras' JAX trainer keeps the training state outside the model's variables during
    `fit` and writes it back only when something reads the public `Callback.model`
    property, which calls the trainer's `jax_state_sync()`. A batch hook that writes a
    variable (the learning rate, the loss tracker) must read `callback.model` first, or
    the write is lost. Other backends need nothing. Checked on Keras 3.15.1, jax 0.10.2.
    """
    if keras.backend.backend() == "jax":
        callback.model  # noqa: B018 -- read for its side effect: the state sync.


def loss_trackers(model, loss: float) -> list:
    """`(assign, zero)` pairs that empty every metric whose result is `loss`.

    Why: `batch_loss_resets` finds the trainer's own tracker by its name, but a custom
    `train_step` (or `compute_metrics`) may report another tracker's running mean as
    `logs["loss"]`, say a `keras.metrics.Mean(name="total_loss")` as in Keras' VAE example,
    while the trainer's tracker named "loss" is never updated. Read right after the first
    step of an epoch (when `fit` has just reset every metric of `model.metrics`, which
    lists the trackers a model holds as attributes), the tracker behind `logs["loss"]` is
    the metric whose result equals it. Only public API (`model.metrics`, `result()`,
    `variables`); the trainer's reset of `model.metrics` at each epoch begin is
    documented behaviour of `fit`. Checked on Keras 3.15.1, all three backends.
    """
    resets = []
    for metric in model.metrics:
        try:
            value = float(np.asarray(metric.result()))
        except (TypeError, ValueError):  # A container of several results (compiled metrics).
            continue
        if np.isclose(value, loss, rtol=1e-6, atol=0.0):
            resets += [(fast_assign(v), np.zeros(v.shape, dtype=v.dtype)) for v in metric.variables]
    return resets


def needs_build(model) -> bool:
    """Whether `fit` will build part of the model inside its first train step.

    Why: a range test must copy the model's state once it is built and before its first
    update. Keras' JAX and PyTorch trainers build the layers, the compiled loss and
    metrics and the optimizer (the private `Trainer._symbolic_build`) before
    `on_train_begin`; the TensorFlow trainer without a distribution strategy leaves that
    to the first trace of the train step, after `on_train_batch_begin` of the first step:
    a `Sequential` without `keras.Input`, or a model never trained, has no optimizer
    slots (and maybe no weights) when the callback starts. The conditions are those of
    `_symbolic_build`, read from the private `_flatten_layers`, `_compile_metrics` and
    `_compile_loss`. Checked on Keras 3.15.1 with TensorFlow 2.21.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    parts = [*model._flatten_layers(), model.optimizer]
    parts += [getattr(model, "_compile_metrics", None), getattr(model, "_compile_loss", None)]
    return not all(part.built for part in parts if part is not None)


def build_before_first_step(model, on_built):
    """Makes the next call of `model.train_function` build the model first, as `fit` would.

    The first call builds every unbuilt part from the shapes and dtypes of the data the
    step is about to read, calls `on_built()`, then runs the step; later calls only run
    it. Returns the wrapper, for `unwrap_train_function`.

    Why: see `needs_build` (TensorFlow only). The TensorFlow trainer calls
    `model.train_function(iterator)` with a `tf.distribute` iterator whose `element_spec`
    gives the batch's structure, and `Trainer._symbolic_build(data_batch=...)` (private)
    is what Keras' other trainers, and its TensorFlow trainer under a strategy, run before
    the first step. Checked on Keras 3.15.1 with TensorFlow 2.21.
    """
    train_function = model.train_function
    built = []

    def build_then_train(iterator, *args, **kwargs):
        if not built:
            built.append(True)
            model._symbolic_build(data_batch=iterator.element_spec)
            on_built()
        return train_function(iterator, *args, **kwargs)

    build_then_train.wrapped_train_function = train_function
    model.train_function = build_then_train
    return build_then_train


def unwrap_train_function(model, wrapper) -> None:
    """Takes off `wrapper` (from `build_before_first_step`) if it is still the train step.

    A wrapper that another callback has wrapped in turn stays: it only runs the step.
    """
    if model.train_function is wrapper:
        model.train_function = wrapper.wrapped_train_function


def set_steps_per_execution(model, steps_per_execution: int) -> None:
    """Changes `steps_per_execution` of a compiled model.

    Why: Keras has no setter for it; `compile()` stores it as a plain attribute that the
    trainer reads when it builds its train function, so the function is rebuilt next.
    Checked on Keras 3.8 to 3.15.1.
    """
    model.steps_per_execution = steps_per_execution


def forget_train_function(model) -> None:
    """Drops the model's compiled train step so that the next `fit` builds a new one.

    Why: building it at once with `make_train_function(force=True)` raises on PyTorch when
    `steps_per_execution > 1`, and keeping the old function object to put back is no
    option: on JAX a live reference to it makes the rebuilt step reuse its stale trace.
    `fit` builds the function when `model.train_function` is `None` (undocumented).
    Checked on Keras 3.15.1, all three backends.
    """
    model.train_function = None


def forget_test_function(model) -> None:
    """Drops the model's compiled test step so that the next `evaluate` builds a new one.

    Why: `steps_per_execution` is traced into the test step too; as
    `forget_train_function` (`model.test_function`, set by `make_test_function`, is not
    documented as public). Checked on Keras 3.15.1, all three backends.
    """
    model.test_function = None


def set_attribute_during_train_steps(model, target, attribute, value_of_call):
    """Runs every call of `model.train_function` with `target.<attribute>` set for it.

    Each call sets the attribute to `value_of_call()` and puts the value it had before the
    call back in a `finally` block, so between steps, and after an exception or Ctrl-C
    anywhere in `fit`, the attribute holds its own value again. Returns the train function
    it wrapped, for `restore_train_function`.

    Why: Keras has no hook inside the train step, but every backend's `fit` looks up
    `model.train_function` for each step after `on_train_begin`, so a callback can replace
    it there (`model.train_function` is set by `make_train_function`, not documented as
    public). A wrapper left in place by an interrupted `fit` (whose `on_train_end` never
    ran) is taken off first. Checked on Keras 3.15.1: the TensorFlow, JAX and PyTorch
    trainers, where the train function is called with `(iterator)`, `(state, iterator)`
    and `(data)`.
    """
    train_function = model.train_function
    while hasattr(train_function, "unwrapped"):
        train_function = train_function.unwrapped
    original = getattr(target, attribute)

    def train_function_with_attribute(*args, **kwargs):
        setattr(target, attribute, value_of_call())
        try:
            return train_function(*args, **kwargs)
        finally:
            setattr(target, attribute, original)

    train_function_with_attribute.unwrapped = train_function
    model.train_function = train_function_with_attribute
    return train_function


def restore_train_function(model, train_function) -> None:
    """Puts back the train function `set_attribute_during_train_steps` wrapped."""
    model.train_function = train_function
