"""Distribution internals: `tf.distribute` replicas and strategies, JAX arrays over processes.

Part of `keras_lrfind._compat`: see its docstring. Checked on Keras 3.15.1, TensorFlow 2.21,
jax 0.10.2 and torch 2.13 unless a function says otherwise.
"""

from __future__ import annotations

import sys

import keras
import numpy as np


def _tensorflow():
    """The `tensorflow` module when the TensorFlow backend runs, else `None`."""
    if keras.backend.backend() != "tensorflow":
        return None
    return sys.modules.get("tensorflow")


def _jax():
    """The `jax` module when the JAX backend runs, else `None`."""
    if keras.backend.backend() != "jax":
        return None
    return sys.modules.get("jax")


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


def local_value(variable, value):
    """`value` built on this process alone when `variable` spans several JAX processes.

    Returns `value` unchanged unless the JAX backend runs and the variable's value is an
    array over several processes' devices (not fully addressable, as under
    `keras.distribution.DataParallel` across processes): then a `jax.Array` with the
    variable's own sharding whose local shards are cut from `value`.

    Why: `variable.assign(numpy_value)` lays the value out with `jax.device_put`, which
    under several processes first checks that every process passes the same value (an
    all-gather, `multihost_utils.assert_equal`). Once another process has died that
    collective fails, and a restore after a failed test could not write anything back.
    Keras skips the relayout of a `jax.Array` whose sharding already matches the
    variable's (`distribution_lib.distribute_tensor`), so the array built here is written
    as it is, without any collective. The caller passes the same value on every process
    (a copy of this variable), as the all-gather would have checked. Checked on Keras
    3.15.1 with jax 0.10.2.

    Args:
        variable: The Keras variable `value` is written into.
        value: A NumPy array of the variable's shape and dtype.
    """
    if not spans_processes(variable):
        return value
    return _jax().make_array_from_callback(
        value.shape, variable.value.sharding, lambda index: np.asarray(value[index])
    )


def spans_processes(variable) -> bool:
    """Whether the variable's value is a JAX array over several processes' devices.

    Such an array is not fully addressable (`jax.Array.is_fully_addressable`): some of its
    devices belong to other processes. Checked on Keras 3.15.1 with jax 0.10.2.
    """
    jax = _jax()
    if jax is None or jax.process_count() == 1:
        return False
    # `_value`, not `value`: Keras's JAX trainer empties the variables while `fit` runs and
    # fills them again at the end (`_purge_model_variables`, `jax_state_sync`), so after a
    # train step that raised they are empty, and reading `value` raises.
    current = variable._value
    return isinstance(current, jax.Array) and not current.is_fully_addressable


def peer_stopped(error: BaseException) -> bool:
    """Whether `error` is JAX's CPU collectives (gloo) reporting that another process of
    the distribution went away ("Connection closed by peer" or "... reset by peer").

    Checked on jax 0.10.2: the next collective after a process dies raises
    `JaxRuntimeError: ... Gloo ... Connection closed by peer` on the others.
    """
    text = str(error)
    return type(error).__name__ == "JaxRuntimeError" and "Gloo" in text and "by peer" in text
