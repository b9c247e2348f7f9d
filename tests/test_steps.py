"""Tests for `steps_for_epochs`: counts checked against the steps `model.fit` really takes."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_schedules import make_data, make_model

from keras_lrfind import steps_for_epochs


class FourBatches(keras.utils.PyDataset):
    """A PyDataset of 4 batches of 8 samples."""

    def __init__(self):
        super().__init__()
        self.x, self.y = make_data(32)

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return self.x[index * 8 : (index + 1) * 8], self.y[index * 8 : (index + 1) * 8]


class InfiniteBatches(FourBatches):
    """A PyDataset with no end."""

    @property
    def num_batches(self):
        return None


class TestStepsForEpochs:
    def test_from_steps_per_epoch(self):
        """epochs * steps_per_epoch."""
        assert steps_for_epochs(10, 50) == 500
        assert steps_for_epochs(3, steps_per_epoch=np.int64(7)) == 21

    def test_from_arrays_uses_keras_default_batch_size(self):
        """ceil(n / 32) steps per epoch by default, ceil(n / batch_size) otherwise."""
        x = np.zeros((1000, 4))
        assert steps_for_epochs(2, data=x) == 2 * 32  # ceil(1000 / 32) = 32
        assert steps_for_epochs(3, data=x, batch_size=64) == 3 * 16
        assert steps_for_epochs(1, data=[x, x[:, :1]], batch_size=100) == 10
        assert steps_for_epochs(1, data={"a": x}, batch_size=999) == 2

    def test_from_tf_dataset_and_pydataset(self):
        """A tf.data.Dataset counts by cardinality, a PyDataset by its number of batches."""
        dataset = tf.data.Dataset.from_tensor_slices(np.zeros((100, 4))).batch(32)
        assert steps_for_epochs(3, data=dataset) == 12
        assert steps_for_epochs(2, data=FourBatches()) == 8

    @pytest.mark.parametrize("kind", ["array", "dataset", "pydataset"])
    def test_agrees_with_the_steps_fit_takes(self, kind):
        """The count equals optimizer.iterations after `fit` on the same data."""
        x, y = make_data(40)
        data = {
            "array": (x, y),
            "dataset": tf.data.Dataset.from_tensor_slices((x, y)).batch(16),
            "pydataset": FourBatches(),
        }[kind]
        batch_size = 16 if kind == "array" else None
        model = make_model("sgd")
        inputs = data if kind != "array" else x
        if kind == "array":
            model.fit(x, y, batch_size=batch_size, epochs=2, verbose=0)
        else:
            model.fit(data, epochs=2, shuffle=False, verbose=0)
        assert int(model.optimizer.iterations) == steps_for_epochs(
            2, data=inputs, batch_size=batch_size
        )

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "message"),
        [
            ((0, 5), {}, ValueError, "`epochs` must be at least 1. Received: epochs=0."),
            ((2.0, 5), {}, TypeError, "`epochs` must be an integer"),
            (
                (2, 0),
                {},
                ValueError,
                "`steps_per_epoch` must be at least 1. Received: steps_per_epoch=0.",
            ),
            (
                (2,),
                {},
                ValueError,
                "Pass exactly one of `steps_per_epoch` and `data`. "
                "Received: steps_per_epoch=None, data of type NoneType.",
            ),
            ((2, 5), {"data": np.zeros((4, 1))}, ValueError, "Pass exactly one of"),
            (
                (2, 5),
                {"batch_size": 8},
                ValueError,
                "`batch_size` is only used to count the steps of array `data`",
            ),
            (
                (2,),
                {"data": np.zeros((4, 1)), "batch_size": 0},
                ValueError,
                "`batch_size` must be at least 1. Received: batch_size=0.",
            ),
            (
                (2,),
                {"data": np.zeros((0, 1))},
                ValueError,
                "The data is empty: it has 0 samples (shape (0, 1)).",
            ),
            (
                (2,),
                {"data": iter([1, 2])},
                TypeError,
                "`data` must be a NumPy array (or a list, "
                "tuple or dict of arrays), a `tf.data.Dataset` or a `keras.utils.PyDataset`; for a "
                "generator, pass `steps_per_epoch`. Received: data of type list_iterator.",
            ),
            (
                (2,),
                {"data": FourBatches(), "batch_size": 8},
                ValueError,
                "`batch_size` must be `None` when `data` is a dataset",
            ),
            (
                (2,),
                {"data": InfiniteBatches()},
                ValueError,
                "Cannot count the steps of a InfiniteBatches whose length is infinite or unknown.",
            ),
        ],
    )
    def test_rejects_invalid_arguments(self, args, kwargs, error, message):
        """Each invalid argument raises a message naming it, its value and a fix."""
        with pytest.raises(error, match=re.escape(message)):
            steps_for_epochs(*args, **kwargs)

    @pytest.mark.parametrize(
        "dataset",
        [tf.data.Dataset.range(3).repeat(), tf.data.Dataset.range(10).filter(lambda v: v > 3)],
    )
    def test_rejects_datasets_of_unknown_length(self, dataset):
        """An infinite or unknown cardinality is refused with how to give the length."""
        message = (
            f"Cannot count the steps of a {type(dataset).__name__} whose length is infinite or "
            "unknown. Pass `steps_per_epoch` (as you would to `fit`), or for a "
            "`tf.data.Dataset` declare the length with "
            "`dataset.apply(tf.data.experimental.assert_cardinality(n))`."
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            steps_for_epochs(1, data=dataset)

    def test_rejects_empty_datasets(self):
        """A dataset with no batch is refused."""
        message = "The data is empty: this _RangeDataset yields no batches."
        with pytest.raises(ValueError, match=re.escape(message)):
            steps_for_epochs(1, data=tf.data.Dataset.range(0))
