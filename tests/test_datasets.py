"""Tests for `keras_lrfind.datasets`: the offline digits as a real TFDS dataset, and TFDS names."""

from __future__ import annotations

import collections
import hashlib
import os
import socket

import numpy as np
import pytest
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits

from keras_lrfind import datasets
from keras_lrfind.datasets import _tfds

NUM_EXAMPLES = 1797
TRAIN_SIZE = 1442
TEST_SIZE = 355


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A data dir where the digits are prepared once for the whole module."""
    path = tmp_path_factory.mktemp("tfds")
    datasets.info(data_dir=path)
    return path


@pytest.fixture(scope="module")
def source():
    """The scikit-learn digits scaled independently: round(v * 255 / 16) as uint8 (n, 8, 8, 1)."""
    digits = load_digits()
    images = np.round(digits.images * 255 / 16).astype(np.uint8)[..., np.newaxis]
    return images, digits.target.astype(np.int64)


@pytest.fixture
def no_network(monkeypatch):
    """Makes any attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def read(split, data_dir, **kwargs):
    """All (images, labels) of a split, read with `load` as uint8 images in dataset order."""
    images, labels = [], []
    for image, label in datasets.load(
        "digits", split, data_dir=data_dir, normalize=False, **kwargs
    ).as_numpy_iterator():
        images.append(image)
        labels.append(label)
    return np.stack(images), np.array(labels)


def fingerprints(images, labels):
    """A hash per (image, label) example, to compare datasets as multisets."""
    return [
        hashlib.sha256(image.astype(np.uint8).tobytes() + bytes([int(label)])).hexdigest()
        for image, label in zip(images, labels, strict=True)
    ]


class TestLoad:
    def test_split_sizes_are_as_documented(self, data_dir):
        """The train and test splits hold 1,442 and 355 examples, 1,797 in all."""
        train = datasets.load("digits", "train", data_dir=data_dir)
        test = datasets.load("digits", "test", data_dir=data_dir)
        assert sum(1 for _ in train) == TRAIN_SIZE
        assert sum(1 for _ in test) == TEST_SIZE
        assert TRAIN_SIZE + TEST_SIZE == NUM_EXAMPLES

    def test_splits_are_disjoint_and_hold_exactly_the_scaled_source(self, data_dir, source):
        """Train and test share no example and together are the scaled sklearn digits."""
        train = fingerprints(*read("train", data_dir))
        test = fingerprints(*read("test", data_dir))
        assert not set(train) & set(test)
        assert collections.Counter(train + test) == collections.Counter(fingerprints(*source))

    def test_images_match_sklearn_examples(self, data_dir, source):
        """A few loaded images equal their sklearn source scaled, and carry its label."""
        images, labels = read("test", data_dir)
        source_images, source_labels = source
        for image, label in zip(images[:5], labels[:5], strict=True):
            matches = np.flatnonzero((source_images == image).all(axis=(1, 2, 3)))
            assert len(matches) == 1
            assert source_labels[matches[0]] == label

    def test_each_split_has_all_ten_classes_stratified(self, data_dir, source):
        """Each class has floor(n / 5) test examples and the rest in train, labels 0..9."""
        class_sizes = np.bincount(source[1], minlength=10)
        _, train_labels = read("train", data_dir)
        _, test_labels = read("test", data_dir)
        assert set(train_labels) == set(range(10)) == set(test_labels)
        np.testing.assert_array_equal(np.bincount(test_labels, minlength=10), class_sizes // 5)
        np.testing.assert_array_equal(
            np.bincount(train_labels, minlength=10), class_sizes - class_sizes // 5
        )

    def test_normalized_images_are_float32_in_unit_interval(self, data_dir):
        """Images are float32 (8, 8, 1) in [0, 1] spanning both ends; labels are int64 scalars."""
        dataset = datasets.load("digits", "train", data_dir=data_dir)
        image_spec, label_spec = dataset.element_spec
        assert (image_spec.shape, image_spec.dtype.name) == ((8, 8, 1), "float32")
        assert (label_spec.shape, label_spec.dtype.name) == ((), "int64")
        images = np.stack([image for image, _ in dataset.as_numpy_iterator()])
        assert images.min() == 0.0
        assert images.max() == 1.0

    def test_normalize_divides_uint8_images_by_255(self, data_dir):
        """`normalize=True` gives the `normalize=False` uint8 images divided by 255."""
        raw, _ = read("test", data_dir)
        normalized = np.stack(
            [x for x, _ in datasets.load("digits", "test", data_dir=data_dir).as_numpy_iterator()]
        )
        assert raw.dtype == np.uint8
        np.testing.assert_array_equal(normalized, raw.astype(np.float32) / np.float32(255))

    def test_as_supervised_false_yields_feature_dicts(self, data_dir):
        """Without `as_supervised`, examples are dicts with a normalized image and a label."""
        dataset = datasets.load("digits", "test", data_dir=data_dir, as_supervised=False)
        assert set(dataset.element_spec) == {"image", "label"}
        assert dataset.element_spec["image"].dtype.name == "float32"

    def test_preparation_is_offline_and_deterministic(self, data_dir, tmp_path, no_network):
        """Preparing into a new dir, with sockets refused, gives the same examples in order."""
        for split in ("train", "test"):
            first_images, first_labels = read(split, data_dir)
            second_images, second_labels = read(split, tmp_path)
            np.testing.assert_array_equal(first_images, second_images)
            np.testing.assert_array_equal(first_labels, second_labels)
        assert (tmp_path / "sklearn_digits" / "1.0.0" / "dataset_info.json").exists()

    def test_second_call_reuses_prepared_files(self, data_dir):
        """Loading again leaves the prepared TFRecord files and the data dir untouched."""
        version_dir = data_dir / "sklearn_digits" / "1.0.0"
        before = {path: path.stat().st_mtime_ns for path in version_dir.iterdir()}
        entries = sorted(os.listdir(data_dir / "sklearn_digits"))
        datasets.load("digits", "train", data_dir=data_dir)
        assert {path: path.stat().st_mtime_ns for path in version_dir.iterdir()} == before
        assert sorted(os.listdir(data_dir / "sklearn_digits")) == entries

    def test_batch_size_groups_examples(self, data_dir):
        """`batch_size=32` gives full batches of 32 and a last batch of the remainder."""
        sizes = [
            len(labels)
            for _, labels in datasets.load(
                "digits", "train", data_dir=data_dir, batch_size=32
            ).as_numpy_iterator()
        ]
        assert sizes == [32] * (TRAIN_SIZE // 32) + [TRAIN_SIZE % 32]

    def test_shuffle_with_seed_is_a_reproducible_permutation(self, data_dir):
        """The same seed gives the same new order of the same examples; another seed differs."""
        plain = fingerprints(*read("test", data_dir))
        first = fingerprints(*read("test", data_dir, shuffle=True, seed=3))
        again = fingerprints(*read("test", data_dir, shuffle=True, seed=3))
        other = fingerprints(*read("test", data_dir, shuffle=True, seed=4))
        assert first == again
        assert first != plain
        assert first != other
        assert sorted(first) == sorted(plain) == sorted(other)

    def test_default_data_dir_honours_tfds_data_dir(self, tmp_path, monkeypatch):
        """With `data_dir=None`, the digits are prepared under `$TFDS_DATA_DIR`."""
        monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
        datasets.load("digits", "test")
        assert (tmp_path / "sklearn_digits" / "1.0.0" / "dataset_info.json").exists()

    def test_default_data_dir_is_a_keras_lrfind_cache(self, tmp_path, monkeypatch):
        """Without `$TFDS_DATA_DIR`, the digits go to the keras_lrfind cache directory."""
        monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        datasets.load("digits", "test")
        cache = tmp_path / "keras_lrfind" / "tensorflow_datasets"
        assert (cache / "sklearn_digits" / "1.0.0" / "dataset_info.json").exists()

    def test_builder_can_be_defined_twice_without_registering(self, data_dir):
        """Redefining the builder (as a reload does) works and never registers its name."""
        _tfds.digits_builder_class.cache_clear()
        _, labels = read("test", data_dir)
        assert len(labels) == TEST_SIZE
        assert "sklearn_digits" not in tfds.list_builders(with_community_datasets=False)

    def test_unknown_name_raises_value_error_with_suggestions(self, tmp_path, no_network):
        """A misspelt dataset name fails at once, naming it and suggesting the right one."""
        with pytest.raises(
            ValueError, match=r"Unknown dataset `name`='mnsit'\. Did you mean 'mnist'"
        ):
            datasets.load("mnsit", data_dir=tmp_path)

    def test_unprepared_tfds_dataset_fails_fast_without_download(self, tmp_path, no_network):
        """A known TFDS dataset absent from `data_dir` raises instead of downloading."""
        with pytest.raises(
            RuntimeError, match=r"Dataset 'mnist' is not prepared in .*download=True"
        ):
            datasets.load("mnist", "train", data_dir=tmp_path)

    def test_unknown_split_raises_value_error(self, data_dir):
        """A split the dataset does not have is refused with the list of splits."""
        with pytest.raises(ValueError, match=r"Unknown `split`.*\['train', 'test'\].*'validation'"):
            datasets.load("digits", "validation", data_dir=data_dir)

    def test_sliced_split_is_accepted(self, data_dir):
        """TFDS slicing syntax such as 'test[:10]' selects the first examples."""
        _, labels = read("test[:10]", data_dir)
        np.testing.assert_array_equal(labels, read("test", data_dir)[1][:10])

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"name": 3}, TypeError, r"`name` must be a string.*Received: name=3 of type int"),
            ({"name": ""}, ValueError, r"`name` must not be empty"),
            ({"split": None}, TypeError, r"`split` must be a string.*Received: split=None"),
            ({"data_dir": 3}, TypeError, r"`data_dir` must be a path.*Received: data_dir=3"),
            ({"batch_size": 0}, ValueError, r"`batch_size` must be a positive.*batch_size=0\."),
            ({"batch_size": 2.5}, TypeError, r"`batch_size` must be a positive.*type float"),
            ({"batch_size": True}, TypeError, r"`batch_size` must be a positive.*type bool"),
            ({"seed": "1"}, TypeError, r"`seed` must be an integer or None.*seed='1'"),
            ({"shuffle": "yes"}, TypeError, r"`shuffle` must be `True` or `False`.*shuffle='yes'"),
            ({"download": 1}, TypeError, r"`download` must be `True` or `False`.*download=1 "),
        ],
    )
    def test_invalid_arguments_are_refused(self, kwargs, error, match):
        """Each invalid argument raises, naming the argument and echoing the value."""
        with pytest.raises(error, match=match):
            datasets.load(**kwargs)


class TestLoadNumpy:
    def test_arrays_equal_the_tf_data_content(self, data_dir):
        """The arrays hold the `load` examples in the same order, images float32 in [0, 1]."""
        x, y = datasets.load_numpy("digits", "train", data_dir=data_dir)
        examples = list(datasets.load("digits", "train", data_dir=data_dir).as_numpy_iterator())
        assert (x.shape, x.dtype, y.shape, y.dtype) == (
            (TRAIN_SIZE, 8, 8, 1),
            np.float32,
            (TRAIN_SIZE,),
            np.int64,
        )
        np.testing.assert_array_equal(x, np.stack([image for image, _ in examples]))
        np.testing.assert_array_equal(y, np.array([label for _, label in examples]))

    def test_normalize_false_gives_uint8_source_values(self, data_dir, source):
        """With `normalize=False` the images are the uint8 scaled source values."""
        x, y = datasets.load_numpy("digits", "test", data_dir=data_dir, normalize=False)
        assert x.dtype == np.uint8
        assert set(fingerprints(x, y)) <= set(fingerprints(*source))


class TestInfo:
    def test_digits_summary(self, data_dir):
        """The digits have 10 classes, 8x8x1 images and the documented split sizes."""
        assert datasets.info("digits", data_dir=data_dir) == datasets.DatasetSummary(
            name="sklearn_digits",
            num_classes=10,
            image_shape=(8, 8, 1),
            split_sizes={"train": TRAIN_SIZE, "test": TEST_SIZE},
        )

    def test_unprepared_tfds_dataset_has_shape_but_no_sizes(self, tmp_path, no_network):
        """For an unprepared TFDS dataset, classes and shape come from the catalogue."""
        summary = datasets.info("mnist", data_dir=tmp_path)
        assert (summary.name, summary.num_classes, summary.image_shape) == (
            "mnist",
            10,
            (28, 28, 1),
        )
        assert summary.split_sizes == {}

    def test_unknown_name_raises_value_error(self, tmp_path):
        """An unknown name raises the same error as `load`."""
        with pytest.raises(ValueError, match=r"Unknown dataset `name`='no_such_dataset'\."):
            datasets.info("no_such_dataset", data_dir=tmp_path)


class TestDatasetSummary:
    def test_is_frozen(self):
        """A summary is immutable, so it can be shared and compared safely."""
        summary = datasets.DatasetSummary("x", 2, (1,), {"train": 1})
        with pytest.raises(AttributeError):
            summary.num_classes = 3
