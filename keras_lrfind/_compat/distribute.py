"""`tf.distribute` internals: per-replica copies, the multi-worker strategy, replica count.

Part of `keras_lrfind._compat`: see its docstring. Checked on Keras 3.15.1, TensorFlow 2.21,
jax 0.10.2 and torch 2.13 unless a function says otherwise.
"""

from __future__ import annotations

import sys

import keras


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
