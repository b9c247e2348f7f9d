"""Runs one of two JAX processes of a range test across processes, and prints its results.

`test_distribution.py` starts two of these on localhost, as on two machines:

    KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 \\
        python tests/_multiprocess_worker.py PROCESS_ID PORT

Each process joins the other through JAX's coordination service on `127.0.0.1:PORT`
(process 0 hosts it); their steps meet in JAX's CPU collectives (gloo over TCP, the default
of jax 0.10.2). The distribution is `keras.distribution.DataParallel` over both processes'
devices, the input a batched `tf.data.Dataset` of the global batches, which Keras splits
between the processes. Each process prints:

1. `RESULT {json}`: `LRFinder` (a diverging sweep, a NaN batch), `LRFinderCallback` and
   `find_best_learning_rate`, each also run by the same process on one device without a
   distribution, from the same state and on the same global batches: the reference the
   test compares with; and the metric variables of a model whose compiled metrics `fit`
   builds during an `LRFinder` test, after it.
2. Then process `VICTIM_ID` kills itself (SIGKILL) after `KILLED_AFTER_STEPS` steps of one
   more `LRFinder` test; the other prints `KILLED {json}`, the error it got and its state,
   and exits the way JAX makes it: the coordination service aborts it once the dead
   process has missed its heartbeats for `HEARTBEAT_TIMEOUT_S`.

The processes join with `jax.distributed.initialize`, as `keras.distribution.initialize`
does, with the heartbeat timeout it does not pass on (JAX's default is 100 s).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
import warnings

import numpy as np
from _distributed_worker import (
    FULL_SWEEP,
    GLOBAL_BATCH_SIZE,
    QUIET_SWEEP,
    copy_state,
    emit,
    full_state,
    linear_data,
    make_linear,
    make_mlp,
)

KILLED_PREFIX = "KILLED "
NUM_PROCESSES = 2
DEVICES_PER_PROCESS = 2
ENVIRONMENT = {
    "KERAS_BACKEND": "jax",
    "XLA_FLAGS": f"--xla_force_host_platform_device_count={DEVICES_PER_PROCESS}",
}
"""What each process's environment adds (`test_distribution.py` sets it)."""
HEARTBEAT_TIMEOUT_S = 15
"""How long JAX waits for a silent process's heartbeat before it aborts the others."""
NAN_STEP = 7
"""The step whose global batch holds a NaN, in the half of it that process 1 reads."""
FIND_BEST_BATCHES = 32
"""The global batches `find_best_learning_rate` trains on (the rest judge its probes)."""
VICTIM_ID = 1
KILLED_AFTER_STEPS = 5


def dataset(x, y):
    """The global batches, in order: Keras gives each process its half of each one."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH_SIZE)


def nan_data():
    """`linear_data` with a NaN feature in the last sample of global batch `NAN_STEP`."""
    x, y = linear_data()
    x[NAN_STEP * GLOBAL_BATCH_SIZE + GLOBAL_BATCH_SIZE - 1, 0] = np.nan
    return x, y


def _find(model, data, sweep, **kwargs):
    import keras_lrfind

    return keras_lrfind.LRFinder(model).find(data, verbose=0, **sweep, **kwargs).to_dict()


def _with_callback(model, data, sweep):
    import keras_lrfind

    sweep = dict(sweep)
    callback = keras_lrfind.LRFinderCallback(num_steps=sweep.pop("num_steps"), **sweep)
    model.fit(data, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
    return callback.result.to_dict()


def _find_best(model, data):
    import keras_lrfind

    result = keras_lrfind.find_best_learning_rate(
        model,
        data.take(FIND_BEST_BATCHES),
        epochs=1,
        validation_data=data.skip(FIND_BEST_BATCHES),
        verbose=0,
        return_details=True,
    )
    return {
        "max_lr": result.max_lr,
        "candidates": list(result.candidates),
        "validation_losses": list(result.validation_losses),
    }


def _pair(make_model, data, run, distribution):
    """Runs `run(model, data)` on one device, then under `distribution`, from the same state.

    The reference model trains one epoch (of `linear_data`) first, and its whole state is
    copied into the distributed one: both tests start from the same, non-trivial optimizer
    state.
    """
    import keras

    keras.distribution.set_distribution(None)
    started = time.perf_counter()
    reference = make_model()
    reference.fit(dataset(*linear_data()), epochs=1, shuffle=False, verbose=0)
    reference_result = run(reference, data)
    reference_seconds = time.perf_counter() - started
    keras.distribution.set_distribution(distribution)
    model = make_model()
    copy_state(reference, model)
    model.evaluate(data.take(1), verbose=0)  # Builds the compiled metrics.
    before = full_state(model)
    result = run(model, data)
    report = {
        "reference": reference_result,
        "distributed": result,
        "state_before": before,
        "state_after": full_state(model),
        "seconds": [reference_seconds, time.perf_counter() - started - reference_seconds],
    }
    keras.distribution.set_distribution(None)
    return report


def range_tests(distribution):
    """Every check of one pair of processes: each range test distributed and on one device."""
    import keras

    import keras_lrfind

    data = dataset(*linear_data())

    def mlp():
        return make_mlp(False)

    def sgd():
        return make_linear(keras.optimizers.SGD(0.01))

    report = {
        "adam_mlp": _pair(mlp, data, lambda m, d: _find(m, d, FULL_SWEEP), distribution),
        "callback": _pair(mlp, data, lambda m, d: _with_callback(m, d, FULL_SWEEP), distribution),
        "nan": _pair(
            sgd, dataset(*nan_data()), lambda m, d: _find(m, d, QUIET_SWEEP), distribution
        ),
        "find_best": _pair(mlp, data, _find_best, distribution),
    }
    # A model whose compiled metrics `fit` builds during the test: they end empty.
    keras.distribution.set_distribution(distribution)
    model = mlp()
    _find(model, data, QUIET_SWEEP)
    report["metrics_built_during_the_test"] = {
        variable.path: np.asarray(variable.numpy()).tolist()
        for metric in model.metrics
        for variable in metric.variables
    }
    # The callback without `num_steps`: Keras's split of the dataset between processes
    # (`rebatch`) has no known length, so the callback cannot default to one epoch.
    keras.distribution.set_distribution(distribution)
    try:
        mlp().fit(data, shuffle=False, verbose=0, callbacks=[keras_lrfind.LRFinderCallback()])
        report["callback_default_length_error"] = None
    except ValueError as error:
        report["callback_default_length_error"] = str(error)
    return report


def killed(process_id, distribution):
    """`LRFinder` on a process whose peer dies after `KILLED_AFTER_STEPS` steps."""
    import keras

    keras.distribution.set_distribution(distribution)

    class KillVictim(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if process_id == VICTIM_ID and batch + 1 == KILLED_AFTER_STEPS:
                os.kill(os.getpid(), signal.SIGKILL)

    model = make_mlp(False)
    data = dataset(*linear_data())
    model.evaluate(data.take(1), verbose=0)
    report = {"process_id": process_id, "state_before": full_state(model)}
    started = time.perf_counter()
    try:
        _find(model, data, FULL_SWEEP, callbacks=[KillVictim()])
        report["error"] = report["cause"] = None
    except Exception as error:  # Reported to the test, which checks it.
        report["error"] = f"{type(error).__name__}: {error}"
        cause = error.__cause__
        report["cause"] = None if cause is None else f"{type(cause).__name__}: {cause}"
        report["traceback"] = traceback.format_exc()
    report["seconds_to_error"] = time.perf_counter() - started
    report["state_after"] = full_state(model)
    return report


def main(process_id, port):
    import jax

    # What `keras.distribution.initialize(job_addresses=..., num_processes=...,
    # process_id=...)` calls, plus the heartbeat timeout.
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}",
        num_processes=NUM_PROCESSES,
        process_id=process_id,
        heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT_S,
    )
    import keras

    distribution = keras.distribution.DataParallel(devices=jax.devices())
    started = time.perf_counter()
    report = range_tests(distribution)
    report.update(
        process_id=jax.process_index(),
        num_processes=jax.process_count(),
        devices=[str(device) for device in jax.devices()],
        local_devices=[str(device) for device in jax.local_devices()],
        seconds=time.perf_counter() - started,
    )
    emit(report)
    report = killed(process_id, distribution)
    print(KILLED_PREFIX + json.dumps(report), flush=True)
    # Returns: the interpreter's exit waits for the dead process at JAX's shutdown barrier
    # until the coordination service gives up on its heartbeat and aborts this process.


if __name__ == "__main__":
    if os.environ.get("KERAS_BACKEND") != "jax":
        raise SystemExit("This worker needs KERAS_BACKEND='jax'.")
    # As the test suite: a warning is a failure, with two exceptions.
    warnings.simplefilter("error")
    warnings.filterwarnings(
        "ignore", "__array__ implementation doesn't accept a copy keyword", DeprecationWarning
    )
    # Keras splits a dataset between processes with `rebatch`, whose length tf.data does not
    # know: every `evaluate` (and a `fit` that reads to the end) ends on this warning.
    warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main(int(sys.argv[1]), int(sys.argv[2]))
