"""`steps_for_epochs`: the number of optimizer steps `model.fit` takes, for a schedule.

The count of batches per epoch is `_data.steps_per_epoch`, the same one `LRFinder`
uses for its default sweep length; this module adds the public checks and errors.
"""

from __future__ import annotations

from keras_lrfind import _checks, _data

_COUNT = "an integer (a number of optimizer steps)"


def steps_for_epochs(
    epochs: int,
    steps_per_epoch: int | None = None,
    *,
    data=None,
    batch_size: int | None = None,
) -> int:
    """The number of optimizer steps `model.fit` takes: the `total_steps` of a schedule.

    One-cycle schedules need the length of training in optimizer steps, and
    getting it wrong either cuts the cycle short or leaves training at the final
    learning rate. Give either `steps_per_epoch` or the `data` passed to `fit`:

    - a NumPy array (or a list, tuple or dict of arrays, as `fit` accepts):
      `ceil(len / batch_size)` steps per epoch, with Keras's default batch size
      of 32 when `batch_size` is `None`;
    - a `tf.data.Dataset` (already batched): its cardinality;
    - a `keras.utils.PyDataset`: its number of batches.

    Args:
        epochs: The number of epochs, at least 1.
        steps_per_epoch: The number of steps per epoch, at least 1, or `None` to count
            them from `data`. Defaults to `None`.
        data: The training inputs given to `fit`, or `None` when `steps_per_epoch` is
            given. Defaults to `None`.
        batch_size: The `batch_size` given to `fit` with array data, or `None` for Keras's
            default of 32. Not allowed with a dataset, which is batched already.
            Defaults to `None`.

    Returns:
        The total number of optimizer steps, `epochs * steps_per_epoch`.

    Raises:
        TypeError: If an argument has the wrong type or `data` is of a kind this function
            cannot count.
        ValueError: If a count is below 1, both or neither of `steps_per_epoch` and `data`
            are given, `batch_size` is given with a dataset, or a dataset's length is
            infinite or unknown.

    Example:

    >>> import numpy as np
    >>> from keras_lrfind import steps_for_epochs
    >>> steps_for_epochs(3, data=np.zeros((1000, 4)), batch_size=64)  # 3 * ceil(1000 / 64)
    48
    >>> steps_for_epochs(10, steps_per_epoch=50)
    500
    """
    epochs = _checks.integer("epochs", epochs, minimum=1, expected=_COUNT)
    if (steps_per_epoch is None) == (data is None):
        raise ValueError(
            "Pass exactly one of `steps_per_epoch` and `data`. "
            f"Received: steps_per_epoch={steps_per_epoch!r}, data of type "
            f"{type(data).__name__}."
        )
    if steps_per_epoch is not None:
        if batch_size is not None:
            raise ValueError(
                "`batch_size` is only used to count the steps of array `data`; with "
                "`steps_per_epoch` it has no effect. "
                f"Received: steps_per_epoch={steps_per_epoch!r}, batch_size={batch_size!r}."
            )
        return epochs * _checks.integer(
            "steps_per_epoch", steps_per_epoch, minimum=1, expected=_COUNT
        )
    return epochs * _steps_per_epoch_of(data, batch_size)


def _steps_per_epoch_of(data, batch_size):
    """Counts one epoch of `data` (see `_data.steps_per_epoch`), refusing what it cannot count."""
    if _data.is_dataset(data):
        if batch_size is not None:
            raise ValueError(
                "`batch_size` must be `None` when `data` is a dataset: a dataset yields "
                "whole batches, so its batch size is set when it is built. "
                f"Received: batch_size={batch_size!r} with data of type {type(data).__name__}."
            )
    elif not _data.array_leaves(data):
        raise TypeError(
            "`data` must be a NumPy array (or a list, tuple or dict of arrays), a "
            "`tf.data.Dataset` or a `keras.utils.PyDataset`; for a generator, pass "
            f"`steps_per_epoch`. Received: data of type {type(data).__name__}."
        )
    else:
        if batch_size is not None:
            _checks.integer("batch_size", batch_size, minimum=1)
    count = _data.steps_per_epoch(data, batch_size)
    if count is None:
        raise ValueError(
            f"Cannot count the steps of a {type(data).__name__} whose length is infinite or "
            "unknown. Pass `steps_per_epoch` (as you would to `fit`), or for a "
            "`tf.data.Dataset` declare the length with "
            "`dataset.apply(tf.data.experimental.assert_cardinality(n))`."
        )
    return count
