"""The measurements the ground truth is made of, each returning its cache entry: one
training of a task (one-cycle at a `max_lr`, or a baseline without a search), one range
test with `LRFinder`'s defaults, one `find_best_learning_rate` with the training at its
pick, and the version of `find_best_learning_rate`'s code its entries are keyed by.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.cache import Mode
from benchmarks.tasks import Data, Task

_EVALUATION_BATCH = 500


def build(task: Task, data: Data, seed: int, optimizer) -> Any:
    """A fresh model of `task`, initialised from `seed`, compiled with `optimizer`."""
    import keras

    keras.utils.set_random_seed(seed)
    model = task.model(data.x_train.shape[1:], data.num_classes)
    model.compile(optimizer=optimizer, loss=task.loss(), metrics=["accuracy"])
    return model


def test_accuracy(model, data: Data) -> float:
    import keras

    predictions = []
    for start in range(0, len(data.x_test), _EVALUATION_BATCH):
        logits = model(data.x_test[start : start + _EVALUATION_BATCH], training=False)
        predictions.append(np.argmax(keras.ops.convert_to_numpy(logits), axis=-1))
    return float(np.mean(np.concatenate(predictions) == data.y_test))


BASELINE_KINDS = ("keras_default", "schedule_free")
"""Trainings without a search: the task's optimizer at its Keras default learning rate,
constant; Keras's `ScheduleFreeAdamW` at its default learning rate (what a Keras user can
run instead of choosing a learning rate), evaluated as Keras leaves the model."""


def train(task: Task, data: Data, mode: Mode, seed: int, kind: str, learning_rate=None) -> dict:
    """One training of `task`; `kind` is `"one_cycle"` (at `max_lr=learning_rate`) or one
    of `BASELINE_KINDS`. Returns the cache entry."""
    import keras

    from keras_lrfind import OneCycle

    epochs = task.epochs[mode.name]
    steps = epochs * task.steps_per_epoch(data)
    if kind == "one_cycle":
        optimizer = task.optimizer(OneCycle(float(learning_rate), steps))
    elif kind == "keras_default":
        optimizer = task.optimizer(task.keras_default_lr)
    elif kind == "schedule_free":
        optimizer = keras.optimizers.ScheduleFreeAdamW()
    else:
        raise ValueError(f"Unknown training kind {kind!r}.")
    model = build(task, data, seed, optimizer)
    start = time.perf_counter()
    history = model.fit(
        data.x_train,
        task.targets(data.y_train, data.num_classes),
        batch_size=task.batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=0,
    )
    fit_seconds = time.perf_counter() - start
    final_loss = history.history["loss"][-1]
    return {
        "task": task.name,
        "kind": kind,
        "learning_rate": None if learning_rate is None else float(learning_rate),
        "seed": seed,
        "epochs": epochs,
        "steps": steps,
        "accuracy": test_accuracy(model, data),
        "final_train_loss": final_loss if math.isfinite(final_loss) else None,
        "fit_seconds": fit_seconds,
    }


def range_test(task: Task, data: Data, seed: int) -> dict:
    """One range test of `task` with `LRFinder`'s defaults. Returns the cache entry: the raw
    learning rates and losses, and the result's dictionary."""
    from keras_lrfind import LRFinder

    model = build(task, data, seed, task.optimizer(task.keras_default_lr))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = LRFinder(model).find(
            data.x_train,
            task.targets(data.y_train, data.num_classes),
            batch_size=task.batch_size,
            verbose=0,
        )
        find_seconds = time.perf_counter() - start
    return {
        "task": task.name,
        "seed": seed,
        "find_seconds": find_seconds,
        "warnings": [str(w.message) for w in caught],
        "learning_rates": np.asarray(result.learning_rates).tolist(),
        "losses": np.asarray(result.losses).tolist(),
        "result": json.loads(result.to_json()),
    }


def find_best_version() -> str:
    """A short hash of the code of `find_best_learning_rate` (`keras_lrfind/search/` and the
    curve reading it uses), docstrings and comments left out: a change of its behaviour or
    defaults makes a new version, whose entries are computed afresh; a change of its
    documentation does not."""
    import keras_lrfind

    package = Path(keras_lrfind.__file__).resolve().parent
    digest = hashlib.sha1()
    for path in sorted([*package.glob("search/*.py"), package / "suggestions" / "_reading.py"]):
        digest.update(path.name.encode())
        digest.update(_code_without_docs(path.read_text()).encode())
    return digest.hexdigest()[:10]


def _code_without_docs(source: str) -> str:
    """The module's syntax tree without docstrings (comments never enter it)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def find_best(task: Task, data: Data, mode: Mode, seed: int, search_seed: int = 0) -> dict:
    """`keras_lrfind.find_best_learning_rate` from the fresh model a training starts from
    (same seed, optimizer at the Keras default learning rate), then the one-cycle training
    at its pick, timed in the same process. Returns the cache entry. A search that raises
    `ValueError` (it refuses to answer) is a miss: the entry holds the error, no pick, and
    the training at the Keras default learning rate that a user would fall back to.
    `search_seed` is the search's own `seed` (its validation split and batch order)."""
    from keras_lrfind import find_best_learning_rate

    epochs = task.epochs[mode.name]
    model = build(task, data, seed, task.optimizer(task.keras_default_lr))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        error = None
        try:
            details = find_best_learning_rate(
                model,
                data.x_train,
                task.targets(data.y_train, data.num_classes),
                batch_size=task.batch_size,
                epochs=epochs,
                verbose=0,
                return_details=True,
                seed=search_seed,
            )
        except ValueError as exception:  # It refused to answer: a miss, scored as one.
            details, error = None, str(exception)
        seconds = time.perf_counter() - start
    if details is None:
        training = train(task, data, mode, seed, "keras_default")
    else:
        training = train(task, data, mode, seed, "one_cycle", details.max_lr)
    entry = {
        "task": task.name,
        "seed": seed,
        "learning_rate": None if details is None else details.max_lr,
        "search_steps": None if details is None else details.steps,
        "training_steps": training["steps"] if details is None else details.training_steps,
        "seconds": seconds,
        "training_seconds": training["fit_seconds"],
        "accuracy": training["accuracy"],
        "warnings": [str(w.message) for w in caught],
    }
    if details is not None:  # What the search saw, in order: (rate, steps, validation loss).
        entry["probes"] = [[p.learning_rate, p.steps, p.validation_loss] for p in details.probes]
    if error is not None:
        entry["error"] = error
    return entry
