"""Runs one process of a distributed `LearningRateTuner` search and prints its results.

`test_tuner.py` starts a chief and workers as

    python tests/_tuner_worker.py DIRECTORY [--marker FILE] [--rendezvous FILE]
                                            [--batch-sleep SECONDS] [--weights-seed SEED]

with KerasTuner's `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP` and
`KERASTUNER_ORACLE_PORT` set, and reads one line `RESULT {json}` from its standard output:
the chief's answer and probes, or the number of probes a worker trained. It writes
`DIRECTORY.ready` once TensorFlow is imported and the model built: a chief started after
that hears from the worker within `WORKER_TIMEOUT`. `--marker` writes FILE when the process
starts its first probe; `--rendezvous` then holds that first probe until FILE exists
(another worker's marker: two workers that wait for each other's first probe both run one,
however late either reaches the chief); `--batch-sleep` slows every training step (a probe
that is still running when the test kills the worker); `--weights-seed` builds the model
with other initial weights (a worker that must refuse to join); `--fail` raises
`ArithmeticError` in every probe.

This module imports only NumPy at the top, so the test can import its data and settings.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

RESULT_PREFIX = "RESULT "
SEED = 3
SEARCH = dict(batch_size=32, epochs=8, verbose=0, seed=0)
CANDIDATES = [1e-2, 3e-2, 1e-1, 3e-1]
WORKER_TIMEOUT = 8.0
# How long `--rendezvous` waits for the other worker before going on (the test then fails
# on its count of probes, not on a hang).
RENDEZVOUS_TIMEOUT_S = 120.0


def make_data():
    """A small, learnable classification problem (1024 samples, 8 features, 3 classes)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1024, 8)).astype("float32")
    w = rng.normal(size=(8, 3)).astype("float32")
    y = np.argmax(x @ w + 0.3 * rng.normal(size=(1024, 3)), axis=1).astype("int64")
    return x, y


def make_model(seed=SEED):
    """A seeded MLP: every process that calls this gets the same initial weights."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(3),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--marker")
    parser.add_argument("--rendezvous")
    parser.add_argument("--batch-sleep", type=float, default=0.0)
    parser.add_argument("--weights-seed", type=int, default=SEED)
    parser.add_argument("--fail", action="store_true")
    arguments = parser.parse_args()

    import keras

    from keras_lrfind.tuner import LearningRateTuner

    class Probes(keras.callbacks.Callback):
        """Counts the trainings (one per probe), marks the first (and holds it until the
        rendezvous), slows every step."""

        count = 0

        def on_train_begin(self, logs=None):
            Probes.count += 1
            if arguments.marker and Probes.count == 1:
                pathlib.Path(arguments.marker).write_text("started")
            if arguments.rendezvous and Probes.count == 1:
                deadline = time.monotonic() + RENDEZVOUS_TIMEOUT_S
                while not pathlib.Path(arguments.rendezvous).exists():
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            if arguments.fail:
                raise ArithmeticError("broken callback")

        def on_train_batch_end(self, batch, logs=None):
            if arguments.batch_sleep:
                time.sleep(arguments.batch_sleep)

    model = make_model(arguments.weights_seed)
    before = [np.array(w) for w in model.get_weights()]
    tuner = LearningRateTuner(
        model,
        candidates=CANDIDATES,
        worker_timeout=WORKER_TIMEOUT,
        directory=arguments.directory,
        project_name="search",
        overwrite=True,
    )
    x, y = make_data()
    pathlib.Path(arguments.directory + ".ready").write_text("ready")
    tuner.search(x, y, callbacks=[Probes()], **SEARCH)
    unchanged = all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    report = {"role": tuner.role, "trainings": Probes.count, "weights_unchanged": unchanged}
    if tuner.role == "chief":
        details = tuner.best_learning_rate(return_details=True)
        report["max_lr"] = details.max_lr
        report["probes"] = [[p.learning_rate, p.validation_loss] for p in details.probes]
    print(RESULT_PREFIX + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
