"""Small image datasets for range tests, demos and benchmarks, through TensorFlow Datasets.

The default dataset, `"digits"`, is scikit-learn's bundled handwritten digits (1,797 8x8
grayscale images, 10 classes) turned into a real TensorFlow Datasets (TFDS) dataset: it is
prepared with `download_and_prepare()` into TFRecord files and read back with `as_dataset()`,
exactly like MNIST or CIFAR-10, but fully offline and in about a second. Any other name is a
TFDS dataset (`"mnist"`, `"fashion_mnist"`, `"cifar10"`, ...), read from a local data
directory, or downloaded when asked to.

Finding, preparing and reading the TFDS builders (the digits' included) lives in `_tfds`;
this module checks the arguments and builds the `tf.data` pipeline. `tensorflow_datasets`,
`tensorflow` and `scikit-learn` are imported inside the functions, so `import keras_lrfind`
stays cheap.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.datasets import _tfds

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["DatasetSummary", "info", "load", "load_numpy"]

_SHUFFLE_BUFFER_CAP = 10_000
_NUMPY_CHUNK = 4096


@dataclasses.dataclass(frozen=True)
class DatasetSummary:
    """What a model needs to know about a dataset: classes, input shape and split sizes.

    Returned by `info()`, so that a command line or a notebook can build a model whose input
    and output layers match the data.

    Args:
        name: The TensorFlow Datasets name of the dataset, e.g. `"sklearn_digits"` for the
            offline digits, or `"mnist"`.
        num_classes: The number of label classes, or `None` when the label is not a
            `tfds.features.ClassLabel`.
        image_shape: The shape of one input example, e.g. `(8, 8, 1)`; unknown dimensions
            are `None`.
        split_sizes: The number of examples in each split, e.g.
            `{"train": 1442, "test": 355}`; empty for a TFDS dataset that is not prepared.
    """

    name: str
    num_classes: int | None
    image_shape: tuple[int | None, ...]
    split_sizes: dict[str, int]


def load(
    name: str = "digits",
    split: str = "train",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    normalize: bool = True,
    as_supervised: bool = True,
    download: bool = False,
) -> tf.data.Dataset:
    """Loads a dataset split as a `tf.data.Dataset` through TensorFlow Datasets.

    With the default `name="digits"`, the data is scikit-learn's handwritten digits as a
    TFDS dataset named `sklearn_digits`: 8x8x1 `uint8` images (the source values 0..16
    scaled to 0..255 with `(v * 255 + 8) // 16`) and labels 0..9. The first call prepares it
    into `data_dir` offline, in about a second; later calls reuse the prepared files. The
    splits are fixed and stratified: of each class, taken in source order, every fifth
    example (the 5th, 10th, ...) is in `"test"` and the rest in `"train"`, giving 1,442
    training and 355 test examples. Without shuffling, examples come in the order TFDS
    wrote them (deterministic, mixed classes).

    Any other `name` is a TensorFlow Datasets name, e.g. `"mnist"` or `"cifar10"`. It is
    read from `data_dir` when prepared there; otherwise it is downloaded only if
    `download=True` (this needs network access: offline, TFDS retries for minutes before
    failing).

    Args:
        name: `"digits"` (or its TFDS name `"sklearn_digits"`) for the offline digits, or
            any name from `tfds.list_builders()`, optionally with TFDS' `"/config"` and
            `":version"` suffixes. Defaults to `"digits"`.
        split: A TFDS split such as `"train"`, `"test"` or `"train[:10%]"`.
            Defaults to `"train"`.
        data_dir: The TFDS data directory. `None` means, for the digits, `$TFDS_DATA_DIR`
            when set, else `$XDG_CACHE_HOME/keras_lrfind/tensorflow_datasets` (by default
            `~/.cache/keras_lrfind/tensorflow_datasets`); for other datasets, TFDS' own
            default (`$TFDS_DATA_DIR` or `~/tensorflow_datasets`). Defaults to `None`.
        batch_size: If set, examples are grouped into batches of this size (the last one
            may be smaller); if `None`, the dataset yields single examples.
            Defaults to `None`.
        shuffle: Whether to shuffle the examples (and the files, for sharded datasets).
            Defaults to `False`.
        seed: The shuffle seed, for a reproducible order; used only when `shuffle=True`.
            Defaults to `None`.
        normalize: Whether to convert `uint8` images to `float32` in [0, 1] (divided by
            255). Defaults to `True`.
        as_supervised: Whether to yield `(image, label)` tuples; if `False`, yield feature
            dicts such as `{"image": ..., "label": ...}`. Defaults to `True`.
        download: Whether a TFDS dataset that is not prepared in `data_dir` may be
            downloaded and prepared. Ignored for the digits, which never need the network.
            Defaults to `False`.

    Returns:
        A `tf.data.Dataset` of `(image, label)` tuples (or feature dicts), images `float32`
        in [0, 1] when `normalize=True`, labels `int64`.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If `batch_size` is not positive, `name` is not a TFDS dataset, or
            `split` is not one of its splits.
        RuntimeError: If a TFDS dataset is not prepared in `data_dir` and `download=False`.
        ImportError: If the digits must be prepared and scikit-learn is not installed.

    Example:

    >>> import tempfile
    >>> from keras_lrfind import datasets
    >>> data_dir = tempfile.mkdtemp()  # Or `None`, for a cache directory.
    >>> dataset = datasets.load(
    ...     "digits", "train", data_dir=data_dir, batch_size=32, shuffle=True, seed=0
    ... )
    >>> images, labels = next(iter(dataset))
    >>> tuple(images.shape), images.dtype.name, tuple(labels.shape), labels.dtype.name
    ((32, 8, 8, 1), 'float32', (32,), 'int64')
    """
    _check_name(name)
    _checks.string("split", split, expected="a string such as 'train' or 'test'")
    _check_data_dir(data_dir)
    if batch_size is not None:
        _checks.positive_int("batch_size", batch_size, fix="Or pass `None` for single examples.")
    if seed is not None:
        _checks.integer("seed", seed, expected="an integer or None")
    for argument, value in (
        ("shuffle", shuffle),
        ("normalize", normalize),
        ("as_supervised", as_supervised),
        ("download", download),
    ):
        _checks.boolean(argument, value)

    import tensorflow as tf
    import tensorflow_datasets as tfds

    builder = _tfds.prepared_builder(name, data_dir, download=download)
    _tfds.check_split_exists(builder, name, split)
    dataset = builder.as_dataset(
        split=split,
        shuffle_files=shuffle,
        as_supervised=as_supervised,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )
    if shuffle:
        cardinality = int(dataset.cardinality())
        buffer_size = cardinality if 0 < cardinality < _SHUFFLE_BUFFER_CAP else _SHUFFLE_BUFFER_CAP
        dataset = dataset.shuffle(buffer_size, seed=seed)
    if normalize:
        dataset = dataset.map(
            functools.partial(_tfds.normalize, builder=builder, as_supervised=as_supervised),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    return dataset


def load_numpy(
    name: str = "digits",
    split: str = "train",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Loads a whole dataset split as NumPy arrays `(images, labels)`.

    For quick experiments and tests that want plain arrays (`model.fit(x, y)`). The arrays
    are read through the same TensorFlow Datasets pipeline as `load()`, unshuffled, so they
    hold the same examples in the same order. Meant for small datasets: the whole split is
    held in memory.

    Args:
        name: `"digits"` for the offline digits, or a TensorFlow Datasets name; see
            `load()`. Defaults to `"digits"`.
        split: A TFDS split such as `"train"` or `"test"`. Defaults to `"train"`.
        data_dir: The TFDS data directory; see `load()`. Defaults to `None`.
        normalize: Whether to convert `uint8` images to `float32` in [0, 1].
            Defaults to `True`.
        download: Whether a TFDS dataset that is not prepared may be downloaded; see
            `load()`. Defaults to `False`.

    Returns:
        A tuple `(images, labels)`: for the digits, `images` of shape `(n, 8, 8, 1)`,
        `float32` in [0, 1] (or `uint8` when `normalize=False`), and `labels` of shape
        `(n,)`, `int64`.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If `name` is not a TFDS dataset or `split` is not one of its splits.
        RuntimeError: If a TFDS dataset is not prepared in `data_dir` and `download=False`.
        ImportError: If the digits must be prepared and scikit-learn is not installed.

    Example:

    >>> import tempfile
    >>> from keras_lrfind import datasets
    >>> x_train, y_train = datasets.load_numpy("digits", "train", data_dir=tempfile.mkdtemp())
    >>> x_train.shape, y_train.shape
    ((1442, 8, 8, 1), (1442,))
    """
    dataset = load(
        name,
        split,
        data_dir=data_dir,
        batch_size=_NUMPY_CHUNK,
        normalize=normalize,
        download=download,
    )
    image_batches, label_batches = [], []
    for images, labels in dataset.as_numpy_iterator():
        image_batches.append(images)
        label_batches.append(labels)
    return np.concatenate(image_batches), np.concatenate(label_batches)


def info(
    name: str = "digits",
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> DatasetSummary:
    """Describes a dataset: number of classes, image shape and split sizes.

    Lets a command line or notebook build a model that matches the data before loading it.
    For the digits this prepares the dataset if needed (offline, about a second). For a
    TFDS dataset it never downloads: classes and shape come from the TFDS catalogue, and
    the split sizes are empty until the dataset is prepared in `data_dir`.

    Args:
        name: `"digits"` for the offline digits, or a TensorFlow Datasets name; see
            `load()`. Defaults to `"digits"`.
        data_dir: The TFDS data directory; see `load()`. Defaults to `None`.

    Returns:
        A `DatasetSummary`, e.g. for the digits
        `DatasetSummary(name="sklearn_digits", num_classes=10, image_shape=(8, 8, 1),
        split_sizes={"train": 1442, "test": 355})`.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If `name` is not a TFDS dataset, or the dataset has no
            `(input, label)` supervised keys.
        ImportError: If the digits must be prepared and scikit-learn is not installed.

    Example:

    >>> import tempfile
    >>> import keras
    >>> from keras_lrfind import datasets
    >>> summary = datasets.info("digits", data_dir=tempfile.mkdtemp())
    >>> summary.num_classes, summary.image_shape, summary.split_sizes
    (10, (8, 8, 1), {'train': 1442, 'test': 355})
    >>> model = keras.Sequential([
    ...     keras.Input(summary.image_shape),
    ...     keras.layers.Flatten(),
    ...     keras.layers.Dense(summary.num_classes, activation="softmax"),
    ... ])
    """
    _check_name(name)
    _check_data_dir(data_dir)

    import tensorflow_datasets as tfds

    if _tfds.is_digits(name):
        builder = _tfds.prepared_builder(name, data_dir, download=False)
    else:
        builder = _tfds.tfds_builder(name, data_dir)
    dataset_info = builder.info
    keys = dataset_info.supervised_keys
    if not (isinstance(keys, tuple) and len(keys) >= 2 and all(isinstance(k, str) for k in keys)):
        message = (
            f"Dataset '{builder.name}' has no (input, label) supervised keys, so its image "
            f"shape and classes are not defined. Received: name={name!r}. Use a "
            f"classification dataset such as 'digits', {_tfds.EXAMPLE_NAMES}."
        )
        raise ValueError(message)
    input_key, label_key = keys[:2]
    label_feature = dataset_info.features[label_key]
    num_classes = (
        label_feature.num_classes if isinstance(label_feature, tfds.features.ClassLabel) else None
    )
    return DatasetSummary(
        name=builder.name,
        num_classes=num_classes,
        image_shape=tuple(dataset_info.features[input_key].shape),
        split_sizes={
            split_name: split_info.num_examples
            for split_name, split_info in dataset_info.splits.items()
        },
    )


def _check_name(name: Any) -> None:
    _checks.string("name", name, expected="a string such as 'digits' or 'mnist'")
    if not name:
        raise ValueError(
            f"`name` must not be empty. Received: name={name!r}. Use 'digits' or 'mnist'."
        )


def _check_data_dir(data_dir: Any) -> None:
    if data_dir is not None:
        _checks.check_type(
            "data_dir", data_dir, (str, os.PathLike), "a path (str or os.PathLike) or None"
        )
