"""What a probe must beat to count as learning: the untrained model, and a constant guess.

A probe that learned nothing is not a candidate. Its validation loss must be clearly below
both the loss of the model as it starts (one evaluation) and the loss of the best
prediction that ignores the input: for cross-entropy, the entropy of the class frequencies.
Beating the untrained model alone proves nothing when it starts far above chance (a
pre-trained backbone with a fresh head), and beating chance alone nothing when it starts
below (a model trained before).

The constant prediction is the mean target, in the output space of the loss: class
frequencies (label smoothing applied) for categorical cross-entropy, their logarithm
`from_logits`; the mean of each output for binary cross-entropy (logits `from_logits`);
the mean for the mean squared error and the median for the mean absolute error. Its loss is
computed with the model's own loss object on the validation targets, so label smoothing
and sample weights count as in `evaluate`. Other losses, several outputs, or a model with
regularization losses (which `evaluate` adds and a constant cannot have) have no constant
baseline: the untrained model's loss is then the only one.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from keras_lrfind import _data

_CATEGORICAL = ("categorical_crossentropy", "CategoricalCrossentropy")
_SPARSE = ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")
_BINARY = ("binary_crossentropy", "BinaryCrossentropy")
_SQUARED = ("mean_squared_error", "mse", "MeanSquaredError")
_ABSOLUTE = ("mean_absolute_error", "mae", "MeanAbsoluteError")
_EPSILON = 1e-7  # Keras's clip of probabilities in its cross-entropies.


@dataclasses.dataclass(frozen=True)
class Baselines:
    """What a probe must beat: the untrained model's and a constant prediction's loss; and
    how many validation samples judge it (`None`: unknown), which sets how far apart two
    validation accuracies must be to differ by more than chance."""

    untrained: float
    constant: float | None = None
    samples: int | None = None

    @property
    def reference(self) -> float:
        """The lower of the two: a probe that learned is clearly below it."""
        if self.constant is None or not math.isfinite(self.constant):
            return self.untrained
        return min(self.untrained, self.constant)

    def learned(self, loss: float, margin: float) -> bool:
        """Whether a validation loss is clearly below the reference."""
        reference = self.reference
        return math.isfinite(loss) and loss < reference - margin * abs(reference)

    def accuracy_error(self, accuracy: float) -> float | None:
        """The standard error of a validation accuracy near `accuracy` (binomial, with
        Laplace's `(k + 1) / (n + 2)` so that 0% and 100% are not exact), or `None`."""
        if not self.samples:
            return None
        rate = (accuracy * self.samples + 1) / (self.samples + 2)
        return math.sqrt(rate * (1 - rate) / self.samples)


def _loss_kind(loss) -> tuple[str, dict] | None:
    """`(name, config)` of a compiled loss keras_lrfind knows the best constant of."""
    if isinstance(loss, keras.losses.Loss):
        return type(loss).__name__, loss.get_config()
    if isinstance(loss, str):
        return loss, {}
    if callable(loss):
        return getattr(loss, "__name__", ""), {}
    return None


def _targets(validation) -> tuple[np.ndarray, np.ndarray | None] | None:
    """All validation targets (and sample weights) in memory, or `None` (no targets)."""
    x, y, *rest = validation
    weights = rest[0] if rest else None
    if y is not None:
        leaves = keras.tree.flatten(y)
        if len(leaves) != 1:
            return None
        return np.asarray(leaves[0]), None if weights is None else np.asarray(weights)
    if not _data.is_dataset(x):
        return None
    targets, sample_weights = [], []
    batches = (x[i] for i in range(len(x))) if isinstance(x, keras.utils.PyDataset) else x
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            return None
        leaves = keras.tree.flatten(batch[1])
        if len(leaves) != 1:
            return None
        targets.append(np.asarray(leaves[0]))
        if len(batch) > 2 and batch[2] is not None:
            sample_weights.append(np.asarray(batch[2]))
    if not targets:
        return None
    weights = np.concatenate(sample_weights) if len(sample_weights) == len(targets) else None
    return np.concatenate(targets), weights


def validation_samples(validation) -> int | None:
    """How many samples the validation data holds (one target per sample), or `None`."""
    found = _targets(validation)
    return None if found is None else len(found[0])


def _weighted_mean(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    if weights is None:
        return values.mean(axis=0)
    weights = weights.reshape((-1,) + (1,) * (values.ndim - 1))
    return (values * weights).sum(axis=0) / weights.sum()


def _constant(kind: str, config: dict, targets, weights, num_outputs: int):
    """The best constant prediction for one sample, or `None`."""
    from_logits = bool(config.get("from_logits", False))
    smoothing = float(config.get("label_smoothing", 0.0) or 0.0)
    if kind in _SPARSE:
        labels = targets.reshape(-1).astype(np.int64)
        if labels.min() < 0 or labels.max() >= num_outputs:
            return None
        one_hot = np.eye(num_outputs)[labels]
        mean = _weighted_mean(one_hot, weights)
    elif kind in _CATEGORICAL:
        mean = _weighted_mean(targets.reshape(len(targets), -1).astype(np.float64), weights)
        mean = (1 - smoothing) * mean + smoothing / mean.shape[-1]
    elif kind in _BINARY:
        mean = _weighted_mean(targets.astype(np.float64), weights)
        mean = (1 - smoothing) * mean + 0.5 * smoothing
        mean = np.clip(mean, _EPSILON, 1 - _EPSILON)
        return np.log(mean / (1 - mean)) if from_logits else mean
    elif kind in _SQUARED:
        return _weighted_mean(targets.astype(np.float64), weights)
    elif kind in _ABSOLUTE:
        return np.median(targets.astype(np.float64), axis=0)
    else:
        return None
    mean = np.clip(mean, _EPSILON, 1.0)
    return np.log(mean) if from_logits else mean


def constant_loss(model, validation) -> float | None:
    """The validation loss of the best constant prediction, or `None` (see the module doc).

    Args:
        model: The compiled model (its `loss`, its output width).
        validation: `(x, y)`, `(x, y, sample_weight)`, or `(dataset, None)`.
    """
    kind = _loss_kind(model.loss)
    outputs = getattr(model, "outputs", None)  # A subclassed model has none.
    if kind is None or model.losses or len(keras.tree.flatten(outputs or [None])) > 1:
        return None
    found = _targets(validation)
    if found is None:
        return None
    targets, weights = found
    if len(targets) == 0:
        return None
    num_outputs = _output_width(model, validation) if kind[0] in _SPARSE else None
    prediction = _constant(*kind, targets, weights, num_outputs)
    if prediction is None:
        return None
    loss_function = model.loss if callable(model.loss) else keras.losses.get(model.loss)
    predictions = np.broadcast_to(
        np.asarray(prediction, dtype="float32"), (len(targets), *np.shape(prediction))
    )
    if kind[0] in _SPARSE:
        predictions = predictions.reshape(len(targets), num_outputs)
    values = keras.ops.convert_to_numpy(_per_sample(loss_function, targets, predictions)).astype(
        np.float64
    )
    value = float(_weighted_mean(values, weights))
    return value if math.isfinite(value) else None


def _output_width(model, validation) -> int:
    """The width of the model's output: from its graph, or from one prediction (a model
    subclassed from `keras.Model` has no symbolic outputs)."""
    if getattr(model, "outputs", None):
        return int(model.outputs[0].shape[-1])
    x = validation[0]
    if _data.is_dataset(x):
        batch = x[0] if isinstance(x, keras.utils.PyDataset) else next(iter(x.take(1)))
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
    sample = keras.tree.map_structure(lambda array: array[:1], x)
    return int(keras.ops.shape(model(sample, training=False))[-1])


def _per_sample(loss_function, targets, predictions):
    """The loss of every sample (a `Loss` object reduces; its `call` does not)."""
    if isinstance(loss_function, keras.losses.Loss):
        return loss_function.call(
            keras.ops.convert_to_tensor(targets), keras.ops.convert_to_tensor(predictions)
        )
    return loss_function(
        keras.ops.convert_to_tensor(targets), keras.ops.convert_to_tensor(predictions)
    )
