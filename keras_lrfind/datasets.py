"""Small image datasets for range tests, demos and benchmarks, through TensorFlow Datasets.

The default dataset, `"digits"`, is scikit-learn's bundled handwritten digits (1,797 8x8
grayscale images, 10 classes) turned into a real TensorFlow Datasets (TFDS) dataset: it is
prepared with `download_and_prepare()` into TFRecord files and read back with `as_dataset()`,
exactly like MNIST or CIFAR-10, but fully offline and in about a second. Any other name is a
TFDS dataset (`"mnist"`, `"fashion_mnist"`, `"cifar10"`, ...), read from a local data
directory, or downloaded when asked to.

`tensorflow_datasets`, `tensorflow` and `scikit-learn` are imported inside the functions, so
`import keras_lrfind` stays cheap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import io
import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["DatasetSummary", "info", "load", "load_numpy"]

_DIGITS = "digits"

_DIGITS_TFDS_NAME = "sklearn_digits"
_DIGITS_VERSION = "1.0.0"
_DIGITS_TEST_EVERY = 5
_DIGITS_MAX_VALUE = 16
_SHUFFLE_BUFFER_CAP = 10_000
_NUMPY_CHUNK = 4096
_EXAMPLE_NAMES = "'mnist', 'fashion_mnist' or 'cifar10'"


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

    ```python
    from keras_lrfind import datasets

    dataset = datasets.load("digits", "train", batch_size=32, shuffle=True, seed=0)
    images, labels = next(iter(dataset))  # (32, 8, 8, 1) float32, (32,) int64
    ```
    """
    _check_name(name)
    _check_split(split)
    _check_data_dir(data_dir)
    _check_batch_size(batch_size)
    _check_seed(seed)
    for argument, value in (
        ("shuffle", shuffle),
        ("normalize", normalize),
        ("as_supervised", as_supervised),
        ("download", download),
    ):
        _check_bool(argument, value)

    import tensorflow as tf
    import tensorflow_datasets as tfds

    builder = _prepared_builder(name, data_dir, download=download)
    _check_split_exists(builder, name, split)
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
            functools.partial(_normalize, builder=builder, as_supervised=as_supervised),
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

    ```python
    from keras_lrfind import datasets

    x_train, y_train = datasets.load_numpy("digits", "train")
    x_train.shape  # (1442, 8, 8, 1)
    ```
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

    ```python
    import keras
    from keras_lrfind import datasets

    summary = datasets.info("digits")
    inputs = keras.Input(summary.image_shape)
    outputs = keras.layers.Dense(summary.num_classes, activation="softmax")(
        keras.layers.Flatten()(inputs)
    )
    ```
    """
    _check_name(name)
    _check_data_dir(data_dir)

    import tensorflow_datasets as tfds

    if _is_digits(name):
        builder = _prepared_builder(name, data_dir, download=False)
    else:
        builder = _tfds_builder(name, data_dir)
    dataset_info = builder.info
    keys = dataset_info.supervised_keys
    if not (isinstance(keys, tuple) and len(keys) >= 2 and all(isinstance(k, str) for k in keys)):
        message = (
            f"Dataset '{builder.name}' has no (input, label) supervised keys, so its image "
            f"shape and classes are not defined. Received: name={name!r}. Use a "
            f"classification dataset such as 'digits', {_EXAMPLE_NAMES}."
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


# ---------------------------------------------------------------------------------------
# Argument checks.


def _check_name(name: Any) -> None:
    if not isinstance(name, str):
        message = (
            f"`name` must be a string such as 'digits' or 'mnist'. "
            f"Received: name={name!r} of type {type(name).__name__}."
        )
        raise TypeError(message)
    if not name:
        message = f"`name` must not be empty. Received: name={name!r}. Use 'digits' or 'mnist'."
        raise ValueError(message)


def _check_split(split: Any) -> None:
    if not isinstance(split, str):
        message = (
            f"`split` must be a string such as 'train' or 'test'. "
            f"Received: split={split!r} of type {type(split).__name__}."
        )
        raise TypeError(message)


def _check_data_dir(data_dir: Any) -> None:
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        message = (
            f"`data_dir` must be a path (str or os.PathLike) or None. "
            f"Received: data_dir={data_dir!r} of type {type(data_dir).__name__}."
        )
        raise TypeError(message)


def _check_batch_size(batch_size: Any) -> None:
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        message = (
            f"`batch_size` must be a positive integer or None. "
            f"Received: batch_size={batch_size!r} of type {type(batch_size).__name__}."
        )
        raise TypeError(message)
    if batch_size < 1:
        message = (
            f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size}."
        )
        raise ValueError(message)


def _check_seed(seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        message = (
            f"`seed` must be an integer or None. "
            f"Received: seed={seed!r} of type {type(seed).__name__}."
        )
        raise TypeError(message)


def _check_bool(argument: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        message = (
            f"`{argument}` must be True or False. "
            f"Received: {argument}={value!r} of type {type(value).__name__}."
        )
        raise TypeError(message)


def _check_split_exists(builder: Any, name: str, split: str) -> None:
    # "train[:10%]" and "train+test" name the splits "train" and "test"; tfds reports the
    # finer syntax errors itself.
    known = list(builder.info.splits.keys())
    accepted = [*known, "all"]
    for part in split.split("+"):
        base = part.split("[", 1)[0].strip()
        if base and base not in accepted:
            message = (
                f"Unknown `split` for dataset '{builder.name}'. Expected one of {known}, "
                f"optionally sliced like 'train[:10%]'. Received: name={name!r}, "
                f"split={split!r}."
            )
            raise ValueError(message)


# ---------------------------------------------------------------------------------------
# Builders.


def _is_digits(name: str) -> bool:
    return name in (_DIGITS, _DIGITS_TFDS_NAME)


def _default_digits_data_dir() -> str:
    if os.environ.get("TFDS_DATA_DIR"):
        return os.environ["TFDS_DATA_DIR"]
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return os.path.expanduser(os.path.join(cache_home, "keras_lrfind", "tensorflow_datasets"))


def _prepared_builder(name: str, data_dir: Any, *, download: bool) -> Any:
    """Returns the TFDS builder for `name`, prepared in `data_dir`."""
    if _is_digits(name):
        builder_cls = _digits_builder_class()
        root = _default_digits_data_dir() if data_dir is None else data_dir
        builder = builder_cls(data_dir=os.path.expanduser(os.fspath(root)))
        if not builder.is_prepared():
            _prepare_quietly(builder)
        return builder

    builder = _tfds_builder(name, data_dir)
    if not builder.is_prepared():
        if not download:
            where = "TFDS' default data directory" if data_dir is None else repr(data_dir)
            message = (
                f"Dataset '{name}' is not prepared in {where} (looked in "
                f"{builder.data_dir!r}) and `download=False`. Pass `download=True` on a "
                f"machine with network access, run `tfds build {name} --data_dir=DIR` and "
                f"pass `data_dir=DIR`, or use the offline dataset `name='digits'`."
            )
            raise RuntimeError(message)
        builder.download_and_prepare()
    return builder


def _tfds_builder(name: str, data_dir: Any) -> Any:
    """Returns `tfds.builder(name)` without touching the network, or a clear ValueError."""
    import tensorflow_datasets as tfds

    root = None if data_dir is None else os.path.expanduser(os.fspath(data_dir))
    try:
        return tfds.builder(name, data_dir=root)
    except tfds.core.DatasetNotFoundError:
        pass
    known = tfds.list_builders(with_community_datasets=False)
    close = difflib.get_close_matches(name.split(":")[0].split("/")[0], [_DIGITS, *known])
    hint = f" Did you mean {', '.join(repr(match) for match in close)}?" if close else ""
    message = (
        f"Unknown dataset `name`={name!r}.{hint} Expected 'digits' (the offline "
        f"scikit-learn digits bundled with keras_lrfind) or a TensorFlow Datasets name such "
        f"as {_EXAMPLE_NAMES}; `tfds.list_builders()` lists them all."
    )
    raise ValueError(message)


@contextlib.contextmanager
def _quiet_tfds_progress():
    """Silences TFDS' progress bars and "prepared" message during a sub-second preparation."""
    import tensorflow_datasets as tfds

    tqdm_utils = getattr(getattr(tfds.core, "utils", None), "tqdm_utils", None)
    previous = getattr(tqdm_utils, "_active", None)
    if isinstance(previous, bool):
        tfds.display_progress_bar(False)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        if isinstance(previous, bool):
            tfds.display_progress_bar(previous)


def _prepare_quietly(builder: Any) -> None:
    with _quiet_tfds_progress():
        builder.download_and_prepare()


def _normalize(*example: Any, builder: Any, as_supervised: bool) -> Any:
    import tensorflow as tf
    import tensorflow_datasets as tfds

    def scale(image):
        if image.dtype != tf.uint8:
            return image
        return tf.cast(image, tf.float32) / 255.0

    if as_supervised:
        image, *rest = example
        return (scale(image), *rest)
    (features,) = example
    return {
        key: scale(value) if isinstance(builder.info.features[key], tfds.features.Image) else value
        for key, value in features.items()
    }


def _load_sklearn_digits() -> Any:
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        message = (
            "The offline 'digits' dataset is built from scikit-learn's bundled digits, but "
            "scikit-learn is not installed. Install it with `pip install scikit-learn`, or "
            "load a TensorFlow Datasets dataset such as 'mnist' instead."
        )
        raise ImportError(message) from error
    return load_digits()


def _digits_split_indices(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Splits by class: every fifth example of each class, in source order, is a test one."""
    rank_in_class = np.zeros(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = labels == label
        rank_in_class[members] = np.arange(np.count_nonzero(members))
    is_test = rank_in_class % _DIGITS_TEST_EVERY == _DIGITS_TEST_EVERY - 1
    return {"train": np.flatnonzero(~is_test), "test": np.flatnonzero(is_test)}


@functools.cache
def _digits_builder_class() -> type:
    """Defines the TFDS builder of the digits, once per process.

    The class is created lazily so that importing keras_lrfind does not import TFDS, and with
    `skip_registration=True` so that it never enters TFDS' global name registry: defining it
    again (after `importlib.reload`, say) cannot collide with an earlier definition.
    """
    import tensorflow_datasets as tfds

    class SklearnDigits(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        """scikit-learn's handwritten digits as a TFDS dataset."""

        name = _DIGITS_TFDS_NAME
        VERSION = tfds.core.Version(_DIGITS_VERSION)
        RELEASE_NOTES = {_DIGITS_VERSION: "Initial release."}  # noqa: RUF012

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self,
                description=(
                    "scikit-learn's copy of the UCI optical recognition of handwritten "
                    "digits test set: 1,797 8x8 grayscale images of the digits 0-9, "
                    "source values 0..16 scaled to 0..255 with (v * 255 + 8) // 16. "
                    "Of each class, in source order, every fifth example is in 'test'."
                ),
                features=tfds.features.FeaturesDict(
                    {
                        "image": tfds.features.Image(shape=(8, 8, 1)),
                        "label": tfds.features.ClassLabel(num_classes=10),
                    }
                ),
                supervised_keys=("image", "label"),
                homepage="https://archive.ics.uci.edu/dataset/80",
                citation=(
                    "@misc{alpaydin1998optdigits,\n"
                    "  author = {Alpaydin, E. and Kaynak, C.},\n"
                    "  title = {Optical Recognition of Handwritten Digits},\n"
                    "  year = {1998},\n"
                    "  howpublished = {UCI Machine Learning Repository},\n"
                    "  doi = {10.24432/C50P49}\n"
                    "}"
                ),
            )

        def _split_generators(self, dl_manager):
            del dl_manager  # Nothing to download: the data ships with scikit-learn.
            digits = _load_sklearn_digits()
            labels = np.asarray(digits.target, dtype=np.int64)
            pixels = np.rint(np.asarray(digits.images)).astype(np.int64)
            images = ((pixels * 255 + _DIGITS_MAX_VALUE // 2) // _DIGITS_MAX_VALUE).astype(
                np.uint8
            )[..., np.newaxis]
            return {
                split: self._generate_examples(images, labels, indices)
                for split, indices in _digits_split_indices(labels).items()
            }

        def _generate_examples(self, images, labels, indices):
            for index in indices:
                yield int(index), {"image": images[index], "label": int(labels[index])}

    return SklearnDigits
