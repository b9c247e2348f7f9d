"""The arguments `LRFinder.find` and `find_best_learning_rate` pass on to `model.fit`, checked
before the model is touched."""

from __future__ import annotations

import keras
import numpy as np

from keras_lrfind import _checks, _data

VERBOSE_CHOICES = ("auto", 0, 1, 2)
MAX_BATCH_SIZE = 2**31 - 1


def check(
    x, y, batch_size, sample_weight, class_weight, shuffle, verbose, *, generators=True
) -> None:
    """Checks the arguments passed on to `fit`, before the model is touched; `generators`
    says whether the caller accepts a Python generator as `x`."""
    if x is None or isinstance(x, (str, bytes)) or _checks.is_number(x) or isinstance(x, bool):
        kinds = "a `tf.data.Dataset`, a `keras.utils.PyDataset`" + (
            " or a Python generator" if generators else " of known length"
        )
        raise _checks.type_error("x", x, f"the training data: NumPy arrays (or tensors), {kinds}")
    if not keras.tree.flatten(x):
        raise ValueError(f"`x` must hold the training data. Received: x={_checks.shown(x)}.")
    if len(getattr(x, "shape", (0,))) == 0:
        raise _checks.type_error("x", x, "arrays with one row per sample, not a 0-d array")
    if batch_size is not None:
        _checks.positive_int("batch_size", batch_size, fix="E.g. batch_size=32.")
        _checks.integer("batch_size", batch_size, maximum=MAX_BATCH_SIZE)  # TensorFlow's int32.
    arrays = _data.array_leaves(x)
    if arrays and y is not None:
        targets = _data.array_leaves(y)
        if not targets:
            raise _checks.type_error(
                "y", y, "arrays of targets (NumPy arrays or tensors) with one row per sample"
            )
        lengths = {int(leaf.shape[0]) for leaf in arrays + targets}
        if len(lengths) > 1:
            raise ValueError(
                "`x` and `y` must have one row per sample each. Received: "
                f"{int(arrays[0].shape[0])} rows in `x` and {int(targets[0].shape[0])} in `y`."
            )
    if sample_weight is not None:
        if not arrays:
            raise ValueError(
                "`sample_weight` must be `None` when `x` is a dataset, a `PyDataset` or a "
                f"generator. Received: sample_weight of type {type(sample_weight).__name__}. "
                "Yield `(x, y, sample_weight)` batches from the data instead."
            )
        try:
            weights = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise _checks.type_error(
                "sample_weight", sample_weight, "an array of numbers, one per sample of `x`"
            ) from None
        num_samples = int(arrays[0].shape[0])
        if weights.ndim == 0 or len(weights) != num_samples:
            raise ValueError(
                "`sample_weight` must hold one weight per sample of `x`. Received: "
                f"sample_weight of shape {weights.shape} for {num_samples} samples."
            )
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise _checks.type_error(
                "class_weight", class_weight, "a dict of class index to weight, or `None`"
            )
        for label, weight in class_weight.items():
            if not _checks.is_integer(label) or not _checks.is_number(weight):
                raise TypeError(
                    "`class_weight` must map integer class indices to numbers. "
                    f"Received: class_weight[{_checks.shown(label)}]={_checks.shown(weight)}."
                )
            _checks.non_negative_float(f"class_weight[{label}]", weight)
    _checks.boolean("shuffle", shuffle)
    _checks.one_of("verbose", verbose, VERBOSE_CHOICES)


def checked_callbacks(callbacks) -> list:
    """The extra callbacks as a list, each a `keras.callbacks.Callback`."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise _checks.type_error(
            "callbacks", callbacks, "a list of `keras.callbacks.Callback` instances, or `None`"
        )
    for index, callback in enumerate(callbacks):
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(
                "`callbacks` must be a list of `keras.callbacks.Callback` instances. "
                f"Received: callbacks[{index}]={_checks.shown(callback)} of type "
                f"{type(callback).__name__}."
            )
    return list(callbacks)
