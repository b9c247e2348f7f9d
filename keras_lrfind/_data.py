"""Counting the batches `model.fit` takes per epoch from the data it is given."""

from __future__ import annotations

import math
import sys

import keras

# Keras's `fit` batches NumPy input by 32 when no batch size is given.
KERAS_DEFAULT_BATCH_SIZE = 32


def is_dataset(data) -> bool:
    """Whether `data` is a `tf.data.Dataset` or a `keras.utils.PyDataset` (batched data)."""
    tensorflow = sys.modules.get("tensorflow")
    return isinstance(data, keras.utils.PyDataset) or (
        tensorflow is not None and isinstance(data, tensorflow.data.Dataset)
    )


def array_leaves(data) -> list:
    """The arrays of array input (NumPy, tensors, nested), or `[]` for any other input."""
    if data is None or is_dataset(data):
        return []
    leaves = keras.tree.flatten(data)
    if leaves and all(hasattr(leaf, "shape") and len(leaf.shape) > 0 for leaf in leaves):
        return leaves
    return []


def steps_per_epoch(data, batch_size: int | None = None) -> int | None:
    """The number of batches one epoch of `data` yields, or `None` when it is unknown.

    Unknown means a generator, an infinite or unknown-length `tf.data.Dataset`, or an
    infinite `PyDataset`. Arrays are batched by `batch_size` (Keras's 32 when `None`).

    Raises:
        ValueError: If `data` yields no batch at all.
    """
    if is_dataset(data):
        if isinstance(data, keras.utils.PyDataset):
            count = data.num_batches
        else:
            count = int(data.cardinality())
            count = None if count < 0 else count
        if count == 0:
            raise ValueError(
                f"The data is empty: this {type(data).__name__} yields no batches. Check the "
                "pipeline (for example a `take(0)`, a filter, or a `batch()` with "
                "`drop_remainder=True` larger than the data)."
            )
        return count
    leaves = array_leaves(data)
    if not leaves:
        return None
    num_samples = int(leaves[0].shape[0])
    if num_samples == 0:
        raise ValueError(
            f"The data is empty: it has 0 samples (shape {tuple(leaves[0].shape)}). "
            "Pass at least one batch of data."
        )
    return math.ceil(num_samples / (batch_size or KERAS_DEFAULT_BATCH_SIZE))
