"""The data of `find_best_learning_rate`: what the probes train on and what judges them.

The probes are judged on validation data that they never train on: the user's
`validation_data`, or else a split of the TRAINING data (never anything the user holds
out). The split depends on the kind of data:

- arrays (NumPy, tensors, nested structures of them): a seeded random split by sample; the
  probes train on the rest in one fixed, seeded order, so that every candidate sees the
  same batches (a fair comparison);
- a `tf.data.Dataset`: the first batches are the validation data (`take`), the rest the
  training data (`skip`). This is a clean split only if the dataset yields its batches in
  the same order on every pass, which is checked on the targets of its first batch;
- a `keras.utils.PyDataset`: by batch index, the first batches for validation. Its
  `on_epoch_end` is not called during the search, so a dataset that reshuffles there keeps
  one order and the split stays clean.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

import keras
import numpy as np

from keras_lrfind import _data


@dataclasses.dataclass
class ProbeData:
    """What the probes train on (`x`, `y`, `batch_size`) and are judged on (`validation`)."""

    x: Any
    y: Any
    batch_size: int | None
    steps_per_epoch: int
    validation: tuple
    validation_batch_size: int | None
    description: str


def _is_tf_dataset(data) -> bool:
    tensorflow = sys.modules.get("tensorflow")
    return tensorflow is not None and isinstance(data, tensorflow.data.Dataset)


def num_validation(total: int, validation_split: float) -> int:
    """Keras's own rule for `validation_split`: the last `total - ceil(total * (1 - split))`."""
    return total - math.ceil(total * (1 - validation_split))


def _check_split(total: int, count: int, unit: str, validation_split: float) -> None:
    """Keras's rule leaves at least one for training; it may leave none for validation."""
    if count == 0:
        raise ValueError(
            f"`validation_split` must leave data on both sides, but splitting {total} {unit} "
            f"by it leaves no validation data. Received: validation_split={validation_split!r}"
            ". Pass `validation_data=...`, more data, or a larger `validation_split`."
        )


def _take(structure, indices: np.ndarray):
    """The samples `indices` of every array in a nested structure (NumPy copies)."""
    return keras.tree.map_structure(lambda array: np.asarray(array)[indices], structure)


def _first_targets(dataset):
    """The targets (or, without targets, the whole element) of a dataset's first batch."""
    element = next(iter(dataset.take(1)))
    if isinstance(element, (tuple, list)) and len(element) > 1:
        element = element[1]
    return [np.asarray(leaf) for leaf in keras.tree.flatten(element)]


def _check_fixed_order(dataset) -> None:
    """Raises if two passes over `dataset` start with different targets (a reshuffle)."""
    first, second = _first_targets(dataset), _first_targets(dataset)
    if any(
        a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(first, second, strict=True)
    ):
        raise ValueError(
            "`x` must yield its batches in the same order on every pass to be split into "
            "probe training and validation batches, but its first batch changed between two "
            "passes (a `shuffle` that reshuffles each iteration?), so validation batches "
            "would end up in the probes' training data. Received: x=a tf.data.Dataset that "
            "reshuffles. Pass `validation_data=...`, or shuffle with "
            "`reshuffle_each_iteration=False` (or before `cache()`)."
        )


class _BatchRange(keras.utils.PyDataset):
    """The batches `start` to `stop - 1` of a `PyDataset`, without its epoch-end hook."""

    def __init__(self, dataset, start: int, stop: int):
        super().__init__(
            workers=dataset.workers,
            use_multiprocessing=dataset.use_multiprocessing,
            max_queue_size=dataset.max_queue_size,
        )
        self.dataset, self.start, self.stop = dataset, start, stop

    def __len__(self):
        return self.stop - self.start

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range [0, {len(self)}).")
        return self.dataset[self.start + index]


def _evaluation_data(validation_data) -> tuple:
    """`validation_data` as `(x, y)` or `(x, y, sample_weight)` for `model.evaluate`."""
    if isinstance(validation_data, tuple):
        if len(validation_data) in (2, 3):
            names = ("x_val", "y_val", "sample_weight")[: len(validation_data)]
            lengths = {}
            for part, name in zip(validation_data, names, strict=True):
                if name == "sample_weight" and part is None:
                    continue
                leaves = _data.array_leaves(part)
                if not leaves:
                    raise TypeError(
                        "`validation_data` must be `(x_val, y_val)` or `(x_val, y_val, "
                        f"sample_weight)` of arrays with one row per sample. Received: {name} "
                        f"of type {type(part).__name__}."
                    )
                lengths[name] = {int(np.shape(leaf)[0]) if np.ndim(leaf) else 0 for leaf in leaves}
            sizes = set().union(*lengths.values())
            if len(sizes) != 1 or 0 in sizes:
                shown = ", ".join(f"{name} {sorted(n)}" for name, n in lengths.items())
                raise ValueError(
                    "`validation_data` must hold the same number of samples, at least one, in "
                    f"every array. Received: samples per array: {shown}. Pass arrays with "
                    "one row per sample."
                )
            return validation_data
        raise ValueError(
            "`validation_data` must be `(x_val, y_val)`, `(x_val, y_val, sample_weight)`, a "
            "dataset or a `PyDataset`. Received: validation_data=a tuple of length "
            f"{len(validation_data)}."
        )
    if validation_data is None or not _data.is_dataset(validation_data):
        raise TypeError(
            "`validation_data` must be `(x_val, y_val)`, `(x_val, y_val, sample_weight)`, a "
            "`tf.data.Dataset` or a `keras.utils.PyDataset`. Received: validation_data of "
            f"type {type(validation_data).__name__}."
        )
    return (validation_data, None)


def _known_length(x, batch_size) -> int:
    steps = _data.steps_per_epoch(x, batch_size)
    if steps is None:
        raise ValueError(
            "`x` must have a known length: the budget is a fraction of `epochs` x the steps of "
            "one epoch. Received: x of unknown length (a generator, or an infinite or "
            "unknown-cardinality dataset). Pass arrays, a `PyDataset` with `__len__`, or a "
            "finite `tf.data.Dataset` (e.g. `ds.apply(tf.data.experimental.assert_cardinality"
            "(num_batches))`)."
        )
    return steps


def prepare(x, y, batch_size, validation_data, validation_split, seed) -> ProbeData:
    """Splits (or reads) the data; touches no model. See the module docstring."""
    is_dataset = _data.is_dataset(x)
    if not is_dataset and not _data.array_leaves(x):
        raise TypeError(
            "`x` must be arrays (NumPy or tensors, possibly nested), a `tf.data.Dataset` or a "
            f"`keras.utils.PyDataset`. Received: x of type {type(x).__name__}."
        )
    if is_dataset and (y is not None or batch_size is not None):
        raise ValueError(
            "`y` and `batch_size` must be `None` when `x` is a dataset (it yields batches of "
            f"inputs and targets). Received: y={'an array' if y is not None else None}, "
            f"batch_size={batch_size!r}."
        )
    total = _known_length(x, batch_size)
    with_validation = validation_data is not None
    if with_validation:
        validation_data = _evaluation_data(validation_data)
    if not is_dataset:
        num_samples = int(_data.array_leaves(x)[0].shape[0])
        order = np.random.default_rng(seed).permutation(num_samples)
        count = 0 if with_validation else num_validation(num_samples, validation_split)
        if not with_validation:
            _check_split(num_samples, count, "samples", validation_split)
        train, held = order[count:], order[:count]
        x_train = _take(x, train)
        y_train = None if y is None else _take(y, train)
        steps = math.ceil(len(train) / (batch_size or _data.KERAS_DEFAULT_BATCH_SIZE))
        if with_validation:
            return ProbeData(
                x_train, y_train, batch_size, steps, validation_data, batch_size,
                "validation_data",
            )  # fmt: skip
        validation = (_take(x, held), None if y is None else _take(y, held))
        description = f"{count} of {num_samples} training samples (seeded split, seed {seed})"
        return ProbeData(
            x_train, y_train, batch_size, steps, validation, batch_size, description
        )  # fmt: skip
    if with_validation:
        return ProbeData(x, None, None, total, validation_data, None, "validation_data")
    count = num_validation(total, validation_split)
    _check_split(total, count, "batches", validation_split)
    if _is_tf_dataset(x):
        _check_fixed_order(x)
        x_train, validation = x.skip(count), x.take(count)
    else:
        x_train, validation = _BatchRange(x, count, total), _BatchRange(x, 0, count)
    description = f"the first {count} of {total} training batches"
    return ProbeData(x_train, None, None, total - count, (validation, None), None, description)


def num_samples(validation: tuple) -> int | None:
    """The number of validation samples when they are arrays; `None` for a dataset."""
    leaves = _data.array_leaves(validation[0])
    return int(np.shape(leaves[0])[0]) if leaves else None
