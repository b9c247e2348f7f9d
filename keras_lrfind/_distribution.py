"""What the range test needs to know about `tf.distribute` strategies.

The Keras distribution API on JAX (`keras.distribution.DataParallel`) keeps one global array
per variable and needs nothing here. A `tf.distribute` strategy keeps one copy of each
variable per replica, and the copies of some variables (BatchNormalization's moving
statistics, metric totals) differ from replica to replica. Two combinations do not work in
this Keras, each for a Keras bug: they are refused with an error naming them.
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
    """
    tensorflow = _tensorflow()
    if tensorflow is None:
        return None
    value = variable.value
    if isinstance(value, tensorflow.distribute.DistributedValues):
        return list(value.values)
    return None


def _num_workers(strategy) -> int:
    cluster = strategy.cluster_resolver.cluster_spec().as_dict()
    return sum(len(cluster.get(job, ())) for job in ("chief", "worker"))


def check_fit_runs(model) -> None:
    """Raises for a strategy under which Keras's own `fit` fails before the first step.

    `LRFinder` calls it before `fit`; the callback cannot (`fit` fails before calling it).

    Raises:
        ValueError: For `tf.distribute.MultiWorkerMirroredStrategy` with more than one
            worker, under which Keras 3's `model.fit` fails.
    """
    tensorflow = _tensorflow()
    if tensorflow is None:
        return
    strategy = model.distribute_strategy
    if not isinstance(strategy, tensorflow.distribute.MultiWorkerMirroredStrategy):
        return
    num_workers = _num_workers(strategy)
    if num_workers > 1:
        raise ValueError(
            "`LRFinder` does not support `tf.distribute.MultiWorkerMirroredStrategy` with "
            f"more than one worker: Keras {keras.version()}'s own `model.fit` fails under it "
            "(it reduces per-replica values it cannot reduce). Received: a model built "
            f"in the scope of a MultiWorkerMirroredStrategy with {num_workers} workers. Run "
            "the range test in a single process (without a strategy, or under "
            "`tf.distribute.MirroredStrategy` over one machine's devices) with the same "
            "global batch size: the learning rate it suggests carries over."
        )


def check_loss_scaling(model) -> None:
    """Raises for loss scaling under a `tf.distribute` strategy with several replicas.

    Keras's `LossScaleOptimizer` decides whether to skip a step from the first replica's
    gradients alone, before they are summed over replicas. A step whose gradients overflow
    on another replica is then applied, writing `inf` into the weights, where one device
    would skip it and lower the loss scale. A range test drives the loss up until it
    overflows, so its curve would end in NaN steps early.

    Raises:
        ValueError: For a `LossScaleOptimizer` (the `mixed_float16` policy) under a
            `tf.distribute` strategy with more than one replica in sync.
    """
    tensorflow = _tensorflow()
    if tensorflow is None:
        return
    if not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer):
        return
    strategy = model.distribute_strategy
    num_replicas = strategy.num_replicas_in_sync
    if num_replicas > 1:
        raise ValueError(
            "The range test does not support loss scaling (a `LossScaleOptimizer`, as the "
            "`mixed_float16` policy uses) under a `tf.distribute` strategy with more than one "
            f"replica: in Keras {keras.version()} the loss scaler checks only the first "
            "replica's gradients for overflow, so a step that overflows on another replica "
            "writes inf into the weights instead of being skipped, and the curve ends in NaN "
            f"early. Received: optimizer={type(model.optimizer).__name__} under "
            f"{type(strategy).__name__} with {num_replicas} replicas. Run the range test on "
            "one device with the same global batch size, or use the `mixed_bfloat16` policy, "
            "which needs no loss scaling."
        )
