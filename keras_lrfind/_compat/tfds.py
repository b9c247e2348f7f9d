"""TensorFlow Datasets internals: preparing a dataset quietly (`keras_lrfind.datasets`).

Part of `keras_lrfind._compat`: see its docstring. Checked on Keras 3.15.1, TensorFlow 2.21,
jax 0.10.2 and torch 2.13 unless a function says otherwise.
"""

from __future__ import annotations


def prepare_tfds_quietly(builder) -> None:
    """Runs `builder.download_and_prepare()` without TFDS' progress bars and messages.

    Why: the offline digits prepare in under a second, and TFDS' progress bars and its
    "Dataset ... downloaded and prepared" line would be all a notebook shows.
    `tfds.display_progress_bar(enable)` is public, but TFDS has no public way to read the
    current setting, so the one to restore is read from the private
    `tfds.core.utils.tqdm_utils._active` flag; when that attribute is missing or not a
    bool (another TFDS release), the setting is left alone. The message goes to stdout.
    Checked on tensorflow-datasets 4.9.10.
    """
    import contextlib
    import io

    import tensorflow_datasets as tfds

    tqdm_utils = getattr(getattr(tfds.core, "utils", None), "tqdm_utils", None)
    previous = getattr(tqdm_utils, "_active", None)
    if isinstance(previous, bool):
        tfds.display_progress_bar(False)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            builder.download_and_prepare()
    finally:
        if isinstance(previous, bool):
            tfds.display_progress_bar(previous)
