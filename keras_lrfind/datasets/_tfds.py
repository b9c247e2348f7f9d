"""The TensorFlow Datasets side of `keras_lrfind.datasets`: finding, preparing and reading builders.

`prepared_builder` returns a TFDS builder ready for `as_dataset()`: the offline digits
(`digits_builder_class`, prepared from scikit-learn's bundled copy in about a second) or any
TFDS dataset prepared in a data directory (downloaded only when asked to). TFDS and
scikit-learn are imported inside the functions that need them.
"""

from __future__ import annotations

import difflib
import functools
import os
from typing import Any

import numpy as np

from keras_lrfind._compat import tfds as compat_tfds

DIGITS = "digits"
DIGITS_TFDS_NAME = "sklearn_digits"
_DIGITS_VERSION = "1.0.0"
_DIGITS_TEST_EVERY = 5
_DIGITS_MAX_VALUE = 16
EXAMPLE_NAMES = "'mnist', 'fashion_mnist' or 'cifar10'"


def is_digits(name: str) -> bool:
    """Whether `name` names the offline digits."""
    return name in (DIGITS, DIGITS_TFDS_NAME)


def _default_digits_data_dir() -> str:
    if os.environ.get("TFDS_DATA_DIR"):
        return os.environ["TFDS_DATA_DIR"]
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return os.path.expanduser(os.path.join(cache_home, "keras_lrfind", "tensorflow_datasets"))


def prepared_builder(name: str, data_dir: Any, *, download: bool) -> Any:
    """Returns the TFDS builder for `name`, prepared in `data_dir`."""
    if is_digits(name):
        builder_cls = digits_builder_class()
        root = _default_digits_data_dir() if data_dir is None else data_dir
        builder = builder_cls(data_dir=os.path.expanduser(os.fspath(root)))
        if not builder.is_prepared():
            compat_tfds.prepare_tfds_quietly(builder)
        return builder

    builder = tfds_builder(name, data_dir)
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


def tfds_builder(name: str, data_dir: Any) -> Any:
    """Returns `tfds.builder(name)` without touching the network, or a clear ValueError."""
    import tensorflow_datasets as tfds

    root = None if data_dir is None else os.path.expanduser(os.fspath(data_dir))
    try:
        return tfds.builder(name, data_dir=root)
    except tfds.core.DatasetNotFoundError:
        pass
    known = tfds.list_builders(with_community_datasets=False)
    close = difflib.get_close_matches(name.split(":")[0].split("/")[0], [DIGITS, *known])
    hint = f" Did you mean {', '.join(repr(match) for match in close)}?" if close else ""
    message = (
        f"Unknown dataset `name`={name!r}.{hint} Expected 'digits' (the offline "
        f"scikit-learn digits bundled with keras_lrfind) or a TensorFlow Datasets name such "
        f"as {EXAMPLE_NAMES}; `tfds.list_builders()` lists them all."
    )
    raise ValueError(message)


def check_split_exists(builder: Any, name: str, split: str) -> None:
    """Refuses a `split` whose base names are not splits of the dataset."""
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


def normalize(*example: Any, builder: Any, as_supervised: bool) -> Any:
    """Scales the `uint8` images of an example to `float32` in [0, 1]."""
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
def digits_builder_class() -> type:
    """Defines the TFDS builder of the digits, once per process.

    The class is created lazily so that importing keras_lrfind does not import TFDS, and with
    `skip_registration=True` so that it never enters TFDS' global name registry: defining it
    again (after `importlib.reload`, say) cannot collide with an earlier definition.
    """
    import tensorflow_datasets as tfds

    class SklearnDigits(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        """scikit-learn's handwritten digits as a TFDS dataset."""

        name = DIGITS_TFDS_NAME
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
