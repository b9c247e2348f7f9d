"""Every use of Keras, TensorFlow, JAX, PyTorch or TFDS internals, in one place.

keras_lrfind uses the public Keras API wherever it can. A few things the range test, the
momentum cycler and the dataset loaders need have no public API; each lives here behind a
small function whose comment says why it is needed, what it relies on, and which versions
it was checked on, so that a new Keras release breaks one module, not four, and the break
is easy to find. Version guards (`keras.version()`) mark behaviour known to change.

Checked on Keras 3.15.1, TensorFlow 2.21, jax 0.10.2 and torch 2.13.
"""

from __future__ import annotations

import sys

import keras
import numpy as np

# -- Versions ---------------------------------------------------------------------------------


def keras_version() -> tuple[int, ...]:
    """The running Keras release as a tuple of ints, e.g. `(3, 15, 1)`."""
    parts = []
    for part in keras.version().split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


# Keras bugs the range test refuses to run into, each with the first Keras release that fixes
# it (None: present in every release checked, up to 3.15.1). tests/test_distribution.py
# reproduces each one ("Keras still fails ..."); when such a test fails on a new Keras, the
# bug is fixed: write that release here and the refusal stops on it.
_KERAS_BUG_FIXED_IN: dict[str, tuple[int, ...] | None] = {
    # `LossScaleOptimizer` decides to skip a step from the first replica's gradients only.
    "loss_scale_checks_first_replica_only": None,
    # `model.fit` fails under `MultiWorkerMirroredStrategy` with several workers.
    "fit_fails_with_several_workers": None,
}


def has_keras_bug(name: str) -> bool:
    """Whether the running Keras has the bug `name` of `_KERAS_BUG_FIXED_IN`."""
    fixed_in = _KERAS_BUG_FIXED_IN[name]
    return fixed_in is None or keras_version() < fixed_in


# -- Optimizer ---------------------------------------------------------------------------------


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
    (the public `variable.value`) assigns in about half the time of Keras' `assign`
    (measured in `benchmarks/overhead.py`). It skips Keras' dtype and shape checks, so the
    caller passes values of the variable's own dtype and shape. Other backends keep Keras'
    `assign`. Checked on Keras 3.15.1 with TensorFlow 2.21, jax 0.10.2, torch 2.13.
    """
    backend_variable = variable.value
    return backend_variable.assign if hasattr(backend_variable, "assign") else variable.assign


# -- Trainer -----------------------------------------------------------------------------------


def is_compiled(model) -> bool:
    """Whether `model.compile()` ran: Keras' trainer sets `compiled`, which it does not
    document. Checked on Keras 3.8 to 3.15.1."""
    return bool(getattr(model, "compiled", False)) and model.optimizer is not None


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


# -- tf.distribute -----------------------------------------------------------------------------


def _tensorflow():
    """The `tensorflow` module when the TensorFlow backend runs, else `None`."""
    if keras.backend.backend() != "tensorflow":
        return None
    return sys.modules.get("tensorflow")


def replica_variables(variable) -> list | None:
    """The per-replica copies of a variable made under a `tf.distribute` strategy.

    Returns `None` for any other variable. Under `MultiWorkerMirroredStrategy` these are the
    copies on this worker's devices.

    Why: restoring a mirrored variable through Keras assigns one value to every replica,
    but replicas may differ (BatchNormalization's moving statistics, metric totals). The
    copies are the `values` of the `tf.distribute.DistributedValues` behind the Keras
    variable (`variable.value`), an attribute TensorFlow does not document. Checked on
    Keras 3.15.1 with TensorFlow 2.21.
    """
    tensorflow = _tensorflow()
    if tensorflow is None:
        return None
    value = variable.value
    if isinstance(value, tensorflow.distribute.DistributedValues):
        return list(value.values)
    return None


def multi_worker_strategy(model):
    """The model's `tf.distribute.MultiWorkerMirroredStrategy`, or `None`."""
    tensorflow = _tensorflow()
    if tensorflow is None:
        return None
    strategy = model.distribute_strategy
    if isinstance(strategy, tensorflow.distribute.MultiWorkerMirroredStrategy):
        return strategy
    return None


def num_replicas(model) -> int:
    """The number of replicas of the model's `tf.distribute` strategy (1 without one)."""
    if _tensorflow() is None:
        return 1
    return model.distribute_strategy.num_replicas_in_sync


# -- Momentum cycling (`MomentumCycler`) --------------------------------------------------------


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


# -- TensorFlow Datasets (`keras_lrfind.datasets`) ------------------------------------------------


def prepare_tfds_quietly(builder) -> None:
    """Runs `builder.download_and_prepare()` without TFDS' progress bars and messages.

    Why: the offline digits prepare in under a second, and TFDS' progress bars and its
    "Dataset ... downloaded and prepared" line would be all a notebook shows.
    `tfds.display_progress_bar(enable)` is public, but TFDS has no public way to read the
    current setting, so the one to restore is read from the private
    `tfds.core.utils.tqdm_utils._active` flag; when that attribute is missing or not a
    bool (another TFDS release), the setting is left alone. The message goes to stdout.
    Checked on tensorflow-datasets 4.9.10.
    """
    import contextlib
    import io

    import tensorflow_datasets as tfds

    tqdm_utils = getattr(getattr(tfds.core, "utils", None), "tqdm_utils", None)
    previous = getattr(tqdm_utils, "_active", None)
    if isinstance(previous, bool):
        tfds.display_progress_bar(False)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            builder.download_and_prepare()
    finally:
        if isinstance(previous, bool):
            tfds.display_progress_bar(previous)
