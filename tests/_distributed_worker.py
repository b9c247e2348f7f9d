"""Runs one distributed range-test scenario in a fresh interpreter and prints its results.

Logical CPU devices, `TF_CONFIG` and `XLA_FLAGS` take effect only before TensorFlow or JAX
start, so `test_distribution.py` runs each scenario as

    python tests/_distributed_worker.py SCENARIO

and reads one line `RESULT {json}` from its standard output. Scenarios:

- `mirrored`: TensorFlow, `tf.distribute.MirroredStrategy` over 2 logical CPUs; also
  `find_best_learning_rate` and loss scaling (`mixed_float16`) under it.
- `multi_worker`: TensorFlow, `tf.distribute.MultiWorkerMirroredStrategy`; the test starts
  two of these with `TF_CONFIG` naming two workers on localhost.
- `jax_data_parallel`: JAX, `keras.distribution.DataParallel` over 2 host devices
  (`XLA_FLAGS=--xla_force_host_platform_device_count=2`).

Every scenario also runs the same range test on one device without a distribution, from
the same state and on the same batches: that run is the reference the test compares with.
This module imports only NumPy at the top, so the test can import its data and constants.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings

import numpy as np

RESULT_PREFIX = "RESULT "
NUM_REPLICAS = 2
GLOBAL_BATCH_SIZE = 16
NUM_STEPS = 40
# SGD on the linear problem stays finite over this sweep, so every step runs.
QUIET_SWEEP = dict(start_lr=1e-3, end_lr=0.3, num_steps=NUM_STEPS, diverge_threshold=1e9)
# A full sweep for the MLP, which diverges before the end: the curve has a shape to suggest on.
FULL_SWEEP = dict(start_lr=1e-4, end_lr=10.0, num_steps=NUM_STEPS)


def linear_data():
    """A noisy linear regression problem of exactly `NUM_STEPS` global batches."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(NUM_STEPS * GLOBAL_BATCH_SIZE, 3)).astype("float32")
    w = np.array([[1.5], [-2.0], [0.5]], dtype="float32")
    y = (x @ w + 0.3 + 0.1 * rng.normal(size=(len(x), 1))).astype("float32")
    return x, y


# -- Helpers run inside the scenario's interpreter ------------------------------------------


def _state_variables(model):
    return (
        list(model.variables)
        + list(model.optimizer.variables)
        + [v for metric in model.metrics for v in metric.variables]
    )


def _replica_values(variable):
    """Each replica's (TensorFlow) or device's (JAX) copy of a variable, as lists."""
    value = variable.value
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None and isinstance(value, tensorflow.distribute.DistributedValues):
        return [np.asarray(copy.numpy()).tolist() for copy in value.values]
    shards = getattr(value, "addressable_shards", None)
    if shards is not None:
        return [np.asarray(shard.data).tolist() for shard in shards]
    return [np.asarray(variable.numpy()).tolist()]


def full_state(model):
    """Every variable's path, value as read, per-replica copies and placement."""
    return [
        {
            "path": variable.path,
            "value": np.asarray(variable.numpy()).tolist(),
            "replicas": _replica_values(variable),
            "placement": str(getattr(variable.value, "sharding", type(variable.value).__name__)),
        }
        for variable in _state_variables(model)
    ]


def copy_state(source, target):
    """Gives `target` (same architecture) the weights and optimizer state of `source`."""
    if not target.optimizer.built:
        strategy = getattr(target, "distribute_strategy", None)  # TensorFlow only.
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            target.optimizer.build(target.trainable_variables)
    pairs = zip(
        list(source.variables) + list(source.optimizer.variables),
        list(target.variables) + list(target.optimizer.variables),
        strict=True,
    )
    for a, b in pairs:
        b.assign(np.asarray(a.numpy()))


def make_linear(optimizer):
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def make_mlp(synchronized_batch_norm):
    """Dense, BatchNormalization, Dense, trained by Adam: state beyond the weights."""
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.BatchNormalization(
                **({"synchronized": True} if synchronized_batch_norm else {})
            ),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    return model


def _weight_recorder():
    """A callback recording the weights before and after each step."""
    import keras

    class WeightRecorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.before, self.after = [], []

        def on_train_batch_begin(self, batch, logs=None):
            self.before.append([w.tolist() for w in self.model.get_weights()])

        def on_train_batch_end(self, batch, logs=None):
            self.after.append([w.tolist() for w in self.model.get_weights()])

    return WeightRecorder()


def _find(model, x, y, sweep, **kwargs):
    import keras_lrfind

    return keras_lrfind.LRFinder(model).find(
        x, y, batch_size=GLOBAL_BATCH_SIZE, shuffle=False, verbose=0, **sweep, **kwargs
    )


def _range_test_pair(make_model, distribute, x, y, sweep, record_weights=False):
    """Runs the same range test on one device and distributed, from the same state.

    `make_model()` builds a compiled model; `distribute(build)` calls it so that the model
    is distributed (inside a strategy scope, or under a global distribution). The
    reference model trains one epoch first, and its whole state is copied into the
    distributed one: both tests start from the same, non-trivial optimizer state.
    """
    reference = make_model()
    reference.fit(x, y, batch_size=GLOBAL_BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    reference_result = _find(reference, x, y, sweep)

    model = distribute(make_model)
    copy_state(reference, model)
    # Builds the compiled metrics, which are part of the state to restore.
    model.evaluate(x[:GLOBAL_BATCH_SIZE], y[:GLOBAL_BATCH_SIZE], verbose=0)
    before = full_state(model)
    recorder = _weight_recorder() if record_weights else None
    result = _find(model, x, y, sweep, callbacks=[recorder] if recorder else None)
    after = full_state(model)
    report = {
        "reference": reference_result.to_dict(),
        "distributed": result.to_dict(),
        "state_before": before,
        "state_after": after,
        "learning_rate_config": model.optimizer.get_config()["learning_rate"],
    }
    if recorder is not None:
        report["weights_before"], report["weights_after"] = recorder.before, recorder.after
    return report


def emit(result):
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# -- Scenarios ------------------------------------------------------------------------------


def mirrored():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * NUM_REPLICAS
    )
    import keras

    strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(NUM_REPLICAS)])

    def distribute(build):
        with strategy.scope():
            return build()

    x, y = linear_data()
    report = {"num_replicas": strategy.num_replicas_in_sync}
    report["sgd"] = _range_test_pair(
        lambda: make_linear(keras.optimizers.SGD(0.01)),
        distribute,
        x,
        y,
        QUIET_SWEEP,
        record_weights=True,
    )
    report["adam_mlp"] = _range_test_pair(lambda: make_mlp(True), distribute, x, y, FULL_SWEEP)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)
    report["schedule"] = _range_test_pair(
        lambda: make_linear(keras.optimizers.Adam(schedule)), distribute, x, y, QUIET_SWEEP
    )

    # Per-replica state: replicas' BatchNormalization statistics drift apart when trained
    # under the strategy without `synchronized=True`. The range test must give each
    # replica its own copy back, so that evaluation under the strategy is unchanged.
    with strategy.scope():
        model = make_mlp(False)
    model.fit(x, y, batch_size=GLOBAL_BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    evaluation_before = model.evaluate(x, y, batch_size=GLOBAL_BATCH_SIZE, verbose=0)
    before = full_state(model)
    _find(model, x, y, FULL_SWEEP)
    report["per_replica"] = {
        "state_before": before,
        "state_after": full_state(model),
        "evaluation_before": evaluation_before,
        "evaluation_after": model.evaluate(x, y, batch_size=GLOBAL_BATCH_SIZE, verbose=0),
    }
    report["find_best"] = _find_best_under(strategy, x, y)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        report["loss_scaling"] = _loss_scaling(strategy)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    emit(report)


def _find_best_under(strategy, x, y):
    """`find_best_learning_rate` on a model built in the strategy's scope (its probes' `fit`
    runs under the strategy): the answer, and the state before and after."""
    import keras_lrfind

    with strategy.scope():
        model = make_mlp(False)
    model.fit(x, y, batch_size=GLOBAL_BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    before = full_state(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", keras_lrfind.LRFinderWarning)
        answer = keras_lrfind.find_best_learning_rate(
            model, x, y, batch_size=GLOBAL_BATCH_SIZE, epochs=4, verbose=0
        )
    return {
        "learning_rate": float(answer),
        "state_before": before,
        "state_after": full_state(model),
    }


def _loss_scaling(strategy):
    """Keras's loss scaler under the strategy, and what the range test says about it.

    One global batch of 16 whose second half (the second replica's) overflows float16 in
    the backward pass: on one device the scaler skips the step; under the strategy it
    checks only the first replica's finite gradients and applies the overflow.
    """
    import keras

    import keras_lrfind

    x = np.ones((GLOBAL_BATCH_SIZE, 1), "float32")
    y = np.zeros((GLOBAL_BATCH_SIZE, 1), "float32")
    y[GLOBAL_BATCH_SIZE // 2 :] = 3000.0

    def make_model():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.01), "mse")
        return model

    report = {}
    for name, scope in (("one_device", contextlib.nullcontext()), ("mirrored", strategy.scope())):
        with scope:
            model = make_model()
        before = [w.copy() for w in model.get_weights()]
        model.fit(x, y, batch_size=GLOBAL_BATCH_SIZE, shuffle=False, verbose=0)
        after = model.get_weights()
        report[f"keras_{name}"] = {
            "optimizer": type(model.optimizer).__name__,
            "weights_finite": bool(all(np.isfinite(w).all() for w in after)),
            "weights_changed": any(
                not np.array_equal(a, b) for a, b in zip(before, after, strict=True)
            ),
        }

    with strategy.scope():
        model = make_model()
    report["state_before"] = full_state(model)
    try:
        _find(model, x, y, dict(start_lr=1e-3, end_lr=1.0, num_steps=2))
        report["finder_error"] = None
    except ValueError as error:
        report["finder_error"] = str(error)
    report["state_after"] = full_state(model)
    callback = keras_lrfind.LRFinderCallback(1e-3, 1.0, 2)
    try:
        model.fit(x, y, batch_size=GLOBAL_BATCH_SIZE, epochs=2, verbose=0, callbacks=[callback])
        report["callback_error"] = None
    except ValueError as error:
        report["callback_error"] = str(error)
    return report


def _patch_keras_multi_worker_bugs(model, strategy):
    """Works around Keras 3's two `fit` bugs under multi-worker `tf.distribute`.

    Test-only, to check what the range test does once `fit` runs; the library refuses the
    combination (see `keras_lrfind/_distribution.py`).

    1. `_maybe_symbolic_build` passes the whole `(x, y)` batch of
       `PerReplica` values to `strategy.reduce`, which multi-worker strategies reject.
       Here the model is built on this worker's first replica's batch instead.
    2. the train step averages the per-replica logs with
       `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars. Here scalars are
       averaged over replicas with `axis=None`, as the single-worker path does.
    """
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer

    def symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = next(batches)
                break
        data_batch = tf.nest.map_structure(
            lambda value: strategy.experimental_local_results(value)[0], data_batch
        )
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = symbolic_build
    reduce_per_replica = trainer.reduce_per_replica

    def patched(values, strategy, reduction="auto"):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tf.nest.map_structure(
                lambda value: strategy.reduce("MEAN", value, axis=None), values
            )
        return reduce_per_replica(values, strategy, reduction)

    trainer.reduce_per_replica = patched


def multi_worker():
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # Reads TF_CONFIG.
    import keras_lrfind

    x, y = linear_data()
    report = {
        "task_index": json.loads(os.environ["TF_CONFIG"])["task"]["index"],
        "num_replicas": strategy.num_replicas_in_sync,
    }

    def make_model():
        return make_mlp(True)

    with strategy.scope():
        model = make_model()
    # What `LRFinder` says, and what Keras's own `fit` does, under this strategy.
    try:
        _find(model, x, y, FULL_SWEEP)
        report["finder_error"] = None
    except ValueError as error:
        report["finder_error"] = str(error)
    try:
        model.fit(x, y, batch_size=GLOBAL_BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
        report["keras_fit_error"] = None
    except Exception as error:  # Reported to the test, which checks it.
        report["keras_fit_error"] = f"{type(error).__name__}: {error}"[:300]

    # The callback under `fit` with Keras's bugs patched, against one device, both from the
    # state one epoch of (patched) multi-worker training left.
    _patch_keras_multi_worker_bugs(model, strategy)
    model.fit(x, y, batch_size=GLOBAL_BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    reference = make_model()
    copy_state(model, reference)
    sweep = dict(FULL_SWEEP)
    num_steps = sweep.pop("num_steps")
    results = {}
    for name, target in (("reference", reference), ("distributed", model)):
        callback = keras_lrfind.LRFinderCallback(num_steps=num_steps, **sweep)
        if name == "distributed":
            report["state_before"] = full_state(model)
        target.fit(
            x, y, batch_size=GLOBAL_BATCH_SIZE, shuffle=False, verbose=0, callbacks=[callback]
        )
        results[name] = callback.result.to_dict()
    report.update(results, state_after=full_state(model))
    emit(report)


def jax_data_parallel():
    import jax
    import keras

    devices = jax.devices()
    distribution = keras.distribution.DataParallel()

    def distribute(build):
        keras.distribution.set_distribution(distribution)
        return build()

    x, y = linear_data()
    # The reference runs first, before the global distribution is set.
    report = {"devices": [str(device) for device in devices]}
    report["sgd"] = _range_test_pair(
        lambda: make_linear(keras.optimizers.SGD(0.01)),
        distribute,
        x,
        y,
        QUIET_SWEEP,
        record_weights=True,
    )
    keras.distribution.set_distribution(None)
    report["adam_mlp"] = _range_test_pair(lambda: make_mlp(False), distribute, x, y, FULL_SWEEP)
    keras.distribution.set_distribution(None)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)
    report["schedule"] = _range_test_pair(
        lambda: make_linear(keras.optimizers.Adam(schedule)), distribute, x, y, QUIET_SWEEP
    )
    emit(report)


SCENARIOS = {
    "mirrored": ("tensorflow", mirrored),
    "multi_worker": ("tensorflow", multi_worker),
    "jax_data_parallel": ("jax", jax_data_parallel),
}


def main(name):
    backend, scenario = SCENARIOS[name]
    if os.environ.get("KERAS_BACKEND") != backend:
        raise SystemExit(f"Scenario {name!r} needs KERAS_BACKEND={backend!r}.")
    # As the test suite: a warning is a failure (NumPy 2's copy-keyword notice aside).
    warnings.simplefilter("error")
    warnings.filterwarnings(
        "ignore", "__array__ implementation doesn't accept a copy keyword", DeprecationWarning
    )
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    scenario()


if __name__ == "__main__":
    main(sys.argv[1])
