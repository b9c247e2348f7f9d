"""What a trial of `LearningRateOracle` holds: one probe's hyperparameters and, once it
completed, its outcome; and the checksums of the initial weights and the probes' data that
every worker must match."""

from __future__ import annotations

import hashlib

import keras
import keras_tuner
import numpy as np

from keras_lrfind import _data
from keras_lrfind.search._data import ProbeData
from keras_lrfind.search._find_best import validation_accuracy, validation_loss
from keras_lrfind.search._planner import MAX_PROBE_STEPS, Probe
from keras_lrfind.search._result import ProbeOutcome

OBJECTIVE = "val_loss"
"""The trials' objective: the probe's validation loss (`model.evaluate`'s `loss`)."""

WEIGHT_CHANGE = "weight_change"
"""The metric a trial reports beside its validation logs: how far the probe moved the
trainable weights (`ProbeOutcome.weight_change`)."""

FINGERPRINTS = ("initial_weights", "data")
"""The fixed hyperparameters the chief sets: checksums every worker must match."""


def space() -> keras_tuner.HyperParameters:
    """The trials' hyperparameters. Their values come from the planner, never sampled."""
    space = keras_tuner.HyperParameters()
    space.Float("learning_rate", min_value=1e-12, max_value=1e6, sampling="log")
    space.Int("probe_steps", min_value=1, max_value=MAX_PROBE_STEPS)
    return space


def probe_of(trial) -> Probe:
    """The probe a trial runs."""
    values = trial.hyperparameters.values
    return Probe(float(values["learning_rate"]), int(values["probe_steps"]))


def weight_change_of(trial) -> float | None:
    """How far a completed trial's probe moved the weights (`None` when not reported)."""
    if WEIGHT_CHANGE not in trial.metrics.metrics:
        return None
    return float(trial.metrics.get_last_value(WEIGHT_CHANGE))


def logs_of(trial) -> dict[str, float]:
    """A completed trial's `val_` metrics: the probe's validation logs."""
    return {
        name[len("val_") :]: float(trial.metrics.get_last_value(name))
        for name in trial.metrics.metrics
        if name.startswith("val_")
    }


def measures_of(trial) -> tuple[float, float | None, float | None]:
    """What the planner records of a completed trial: its validation loss (the score), how
    far it moved the weights and its validation accuracy (`None`: not reported)."""
    return trial.score, weight_change_of(trial), validation_accuracy(logs_of(trial))


def outcome_of(trial, learned) -> ProbeOutcome:
    """A completed trial as the search's `ProbeOutcome`: its `val_` metrics are the probe's
    validation logs; `learned(loss)` says whether the probe learned."""
    probe = probe_of(trial)
    logs = logs_of(trial)
    loss = validation_loss(logs)
    return ProbeOutcome(
        probe.learning_rate, probe.steps, loss, learned(loss), logs, weight_change_of(trial)
    )


def weights_checksum(model) -> str:
    """A checksum of the model's weights and its optimizer's variables (values, shapes and
    dtypes, in order): what every probe starts from."""
    digest = hashlib.sha256()
    for variable in [*model.weights, *model.optimizer.variables]:
        _update(digest, keras.ops.convert_to_numpy(variable.value))
    return digest.hexdigest()[:16]


def data_checksum(data: ProbeData) -> str:
    """A checksum of what the probes train and are judged on: every array (after the
    seeded split), or only the batch counts and description for a dataset."""
    digest = hashlib.sha256()
    digest.update(
        f"{data.steps_per_epoch}|{data.batch_size}|{data.validation_batch_size}|"
        f"{data.description}".encode()
    )
    for part in (data.x, data.y, *data.validation):
        for leaf in _data.array_leaves(part):
            _update(digest, keras.ops.convert_to_numpy(leaf))
    return digest.hexdigest()[:16]


def _update(digest, array) -> None:
    array = np.ascontiguousarray(array)
    digest.update(f"{array.dtype}{array.shape}".encode())
    digest.update(memoryview(array).cast("B"))
