"""`validation_data` of a range test: a fixed sample, checked and cut into batches once."""

from __future__ import annotations

import numpy as np

from keras_lrfind import _checks


def validation_batches(validation_data, batch_size):
    """Turns `validation_data` into a fixed list of `(x, y)` NumPy batches."""
    if batch_size is not None:
        _checks.positive_int("validation_batch_size", batch_size, fix="E.g. 64.")
        if validation_data is None or isinstance(validation_data, list):
            given = "None" if validation_data is None else "a list of batches"
            raise ValueError(
                "`validation_batch_size` batches a `validation_data=(x, y)` pair of arrays, "
                f"so it must be `None` here. Received: validation_batch_size={batch_size} "
                f"with validation_data={given}."
            )
    if validation_data is None:
        return None
    if isinstance(validation_data, tuple) and len(validation_data) == 2:
        x, y = _validation_batch("validation_data", validation_data)
        size = batch_size or len(x)
        return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]
    if isinstance(validation_data, list) and validation_data:
        return [
            _validation_batch(f"validation_data[{index}]", batch)
            for index, batch in enumerate(validation_data)
        ]
    raise TypeError(
        "`validation_data` must be an `(x, y)` tuple of NumPy arrays or a non-empty list of "
        f"`(x, y)` batches. Received: validation_data of type {type(validation_data).__name__}."
        " For a dataset, take a fixed sample first, e.g. "
        "`list(ds.take(4).as_numpy_iterator())`."
    )


def _validation_batch(name: str, batch) -> tuple:
    """`batch`, an `(x, y)` pair of equally long numeric arrays, as NumPy arrays."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise _checks.type_error(name, batch, "an `(x, y)` pair of NumPy arrays")
    arrays = []
    for part, values in zip("xy", batch, strict=True):
        try:
            array = np.asarray(values)
        except (TypeError, ValueError):  # Ragged nested lists.
            array = np.asarray(None)
        if array.ndim == 0 or array.dtype.kind not in "biuf":
            raise _checks.type_error(
                name, batch, f"an `(x, y)` pair of numeric arrays, but its {part} is not one"
            )
        arrays.append(array)
    x, y = arrays
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(
            f"`{name}` must be a non-empty `(x, y)` pair of equal length. "
            f"Received lengths {len(x)} and {len(y)}."
        )
    return x, y
