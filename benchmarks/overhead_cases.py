"""What the overhead study runs: the model, the data, the sweep, the size of a run, and the
contenders it times (a plain `fit`, `LRFinder.find`, `fit` with `LRFinderCallback`).

Every contender is a function of no arguments that makes one fresh call, as a user would;
the range-test contenders check that the test ran every step, so that it compares to `fit`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

BATCH_SIZE = 32
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
# The sweep stays in a range where Adam cannot diverge on this model, so it runs every step.
SWEEP = {"start_lr": 1e-5, "end_lr": 1e-4, "diverge_threshold": 1e9}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The size of a run: steps per timed call and timed rounds per comparison."""

    num_steps: int
    rounds: int
    hook_calls: int
    in_loop_fits: int


FULL = Settings(num_steps=256, rounds=11, hook_calls=2000, in_loop_fits=6)
QUICK = Settings(num_steps=64, rounds=3, hook_calls=500, in_loop_fits=2)


def make_dataset(num_steps: int, seed: int = 0):
    """`num_steps` batches of random images and labels, as a `tf.data` pipeline.

    Autotuning is disabled: at the end of a short `fit` its shutdown can stall up to 2 s.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.random((num_steps * BATCH_SIZE, *IMAGE_SHAPE), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, num_steps * BATCH_SIZE)
    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE).with_options(options)


def make_cnn(schedule: bool = False, **compile_kwargs):
    """The benchmark CNN, compiled with Adam; the same initial weights on every call.

    With `schedule=True` Adam is built with an `ExponentialDecay` learning-rate schedule.
    """
    import keras

    learning_rate = (
        keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1000, decay_rate=0.9)
        if schedule
        else 1e-3
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(NUM_CLASSES),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        **compile_kwargs,
    )
    return model


def plain_fit(model, dataset) -> Callable[[], None]:
    """A plain one-epoch `fit` over the dataset."""

    def run():
        model.fit(dataset, epochs=1, shuffle=False, verbose=0)

    return run


def range_test(model, dataset, num_steps: int) -> Callable[[], None]:
    """`LRFinder(model).find(...)` over every batch of the dataset, checked to run them all."""
    import keras_lrfind

    def run():
        result = keras_lrfind.LRFinder(model).find(dataset, num_steps=num_steps, verbose=0, **SWEEP)
        _check_complete(result, num_steps)

    return run


def callback_fit(model, dataset, num_steps: int) -> Callable[[], None]:
    """`model.fit` with a fresh `LRFinderCallback`, checked to record every step."""
    import keras_lrfind

    def run():
        callback = keras_lrfind.LRFinderCallback(num_steps=num_steps, **SWEEP)
        model.fit(dataset, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
        _check_complete(callback.result, num_steps)

    return run


def _check_complete(result, num_steps: int) -> None:
    if result.num_recorded != num_steps or result.stop_reason != "completed":
        raise RuntimeError(
            f"The range test stopped early ({result.stop_reason!r} after "
            f"{result.num_recorded} of {num_steps} steps), so it is not comparable to `fit`."
        )
