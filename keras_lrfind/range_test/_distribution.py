"""Distribution strategies the range test cannot run under, refused before anything runs.

The Keras distribution API on JAX (`keras.distribution.DataParallel`) keeps one global array
per variable and needs nothing here. A `tf.distribute` strategy keeps one copy of each
variable per replica (`_state.StateSnapshot` saves each copy). Two combinations do not work
in Keras up to 3.15.1, each for a Keras bug: they are refused with an error naming them, as
long as the running Keras has the bug (`versions.has_keras_bug`).
"""

from __future__ import annotations

import keras

from keras_lrfind._compat import distribute, versions


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
    strategy = distribute.multi_worker_strategy(model)
    if strategy is None or not versions.has_keras_bug("fit_fails_with_several_workers"):
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
    if not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer):
        return
    num_replicas = distribute.num_replicas(model)
    if num_replicas > 1 and versions.has_keras_bug("loss_scale_checks_first_replica_only"):
        raise ValueError(
            "The range test does not support loss scaling (a `LossScaleOptimizer`, as the "
            "`mixed_float16` policy uses) under a `tf.distribute` strategy with more than one "
            f"replica: in Keras {keras.version()} the loss scaler checks only the first "
            "replica's gradients for overflow, so a step that overflows on another replica "
            "writes inf into the weights instead of being skipped, and the curve ends in NaN "
            f"early. Received: optimizer={type(model.optimizer).__name__} under "
            f"{type(model.distribute_strategy).__name__} with {num_replicas} replicas. Run the "
            "range test on one device with the same global batch size, or use the "
            "`mixed_bfloat16` policy, which needs no loss scaling."
        )
