"""Writes a finished range test to TensorBoard: its curve, its plot and its suggestions.

TensorBoard is where Keras users watch training, so a range test written there sits next
to the runs it tuned, as the loggers of PyTorch Lightning do. `write_result` (also
`result.to_tensorboard(log_dir)`, and `log_dir=` on `LRFinderCallback` and
`LRFinder.find`) writes one event file into `log_dir` holding:

- the scalars `lr_find/learning_rate`, `lr_find/loss`, `lr_find/smoothed_loss` (and
  `lr_find/validation_loss` when the test had `validation_data`), one point per optimizer
  step of the sweep, the step being the index into the result's arrays (0 first);
- the image `lr_find/plot`: `result.plot()`, loss against learning rate with every
  suggestion marked;
- the text `lr_find/suggestions`: how the sweep ran and ended, and every suggestion method
  with its learning rate, or "cannot read this curve".

Writing needs the `tensorboard` package (`pip install keras-lrfind[tensorboard]`), which
TensorFlow does not install. It uses TensorBoard's own event writer and summary formats,
not `tf.summary`, so it works the same under every Keras backend.
"""

from __future__ import annotations

import io
import os
import struct
import time

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.outputs.plotting import offscreen_axes

PREFIX = "lr_find"
_INSTALL = "pip install keras-lrfind[tensorboard]"
_SCALARS = (
    # (tag suffix, result attribute, description)
    ("learning_rate", "learning_rates", "The learning rate of each step of the range test."),
    ("loss", "losses", "The training loss of each step's own batch."),
    (
        "smoothed_loss",
        "smoothed_losses",
        "The debiased moving average of the loss that the divergence check reads.",
    ),
    (
        "validation_loss",
        "validation_losses",
        "The loss on the fixed validation sample after each step.",
    ),
)
_CANNOT_READ = "cannot read this curve"


def checked_log_dir(log_dir: str | os.PathLike) -> str:
    """Checks that a range test can be written to TensorBoard in `log_dir`; returns a `str`.

    `LRFinderCallback(log_dir=...)` and `LRFinder.find(log_dir=...)` write only once the
    test has run, so they call this first: a missing package or a directory that cannot be
    written fails at once, not after the training. The directory itself is not created
    here (`write_result` creates it with its missing parents). TensorFlow's wheel does not
    bring TensorBoard with it (and `tf.summary` without it lacks the summary functions), so
    the package is an extra of keras_lrfind. A URL such as `gs://bucket/logs` is left to
    the writer.

    Args:
        log_dir: The run's directory, e.g. `"logs/lr_find"`.

    Returns:
        `log_dir` as a `str`.

    Raises:
        TypeError: If `log_dir` is not a `str` or `os.PathLike`.
        ImportError: If `tensorboard` cannot be imported, naming the extra to install.
        ValueError: If nothing can be written into `log_dir`: an empty name, an existing
            file, a path under a file, or a directory this process cannot write to.

    Example:

    >>> import keras_lrfind
    >>> keras_lrfind.tensorboard.checked_log_dir("logs/lr_find")
    'logs/lr_find'
    """
    if not isinstance(log_dir, (str, os.PathLike)):
        raise _checks.type_error(
            "log_dir", log_dir, "a directory path (`str` or `os.PathLike`)", "E.g. 'logs/lr_find'."
        )
    try:
        import tensorboard  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "Writing a range test to TensorBoard needs the `tensorboard` package, which "
            f"TensorFlow does not install. Install it with `{_INSTALL}` (or "
            "`pip install tensorboard`)."
        ) from error
    problem = _checks.directory_problem(log_dir)
    if problem is not None:
        raise ValueError(f"`log_dir` {problem[0]}. Received: log_dir={log_dir!r}. {problem[1]}")
    return os.fspath(log_dir)


def write_result(result, log_dir: str | os.PathLike) -> None:
    """Writes a range-test result to TensorBoard.

    The scalars, the plot and the suggestions (see the module docstring for the tags) go
    into a new event file in `log_dir`, which is created if needed; TensorBoard shows the
    directory as one run. Point TensorBoard at it, or at its parent beside the training
    runs: `tensorboard --logdir logs`.

    Args:
        result: The `LRFinderResult` to write.
        log_dir: The directory of the run, e.g. `"logs/lr_find"`.

    Raises:
        TypeError: If `result` is not an `LRFinderResult` or `log_dir` not a path.
        ValueError: If nothing can be written into `log_dir` (see `checked_log_dir`).
        ImportError: If the `tensorboard` package is missing.

    Example:

    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> import keras_lrfind
    >>> lrs = np.logspace(-5, 0, 100)
    >>> losses = 1 + (np.log10(lrs) + 2) ** 2  # A valley at 1e-2.
    >>> result = keras_lrfind.LRFinderResult(lrs, losses, losses, "diverged", 1e-5, 1.0, 100)
    >>> with tempfile.TemporaryDirectory() as log_dir:
    ...     keras_lrfind.tensorboard.write_result(result, log_dir)  # As result.to_tensorboard.
    ...     print([name[:19] for name in os.listdir(log_dir)])
    ['events.out.tfevents']
    """
    if not all(hasattr(result, name) for name in ("learning_rates", "losses", "suggestions")):
        raise _checks.type_error("result", result, "an `LRFinderResult`")
    log_dir = checked_log_dir(log_dir)

    writer = _EventWriter(log_dir)
    try:
        for suffix, attribute, description in _SCALARS:
            values = getattr(result, attribute)
            if values is None:
                continue
            for step, value in enumerate(values):
                writer.scalar(f"{PREFIX}/{suffix}", float(value), step, description)
        last_step = max(result.num_recorded - 1, 0)
        writer.image(
            f"{PREFIX}/plot",
            _plot_png(result),
            last_step,
            "Loss against learning rate, with every suggestion marked.",
        )
        writer.text(
            f"{PREFIX}/suggestions",
            _suggestions_markdown(result),
            last_step,
            "How the range test ran, and every suggestion method's learning rate.",
        )
    finally:
        writer.close()


def _suggestions_markdown(result) -> str:
    """The text written to TensorBoard: the run in one line, then a table of suggestions.

    Args:
        result: The `LRFinderResult`.

    Returns:
        Markdown: a summary line and a table of every suggestion method (the default
        first) with its learning rate, or "cannot read this curve".
    """
    from keras_lrfind import suggestions as methods

    lines = [
        f"**LR range test**: {result.num_recorded} of {result.num_steps} steps, learning "
        f"rate {result.start_lr:.3g} to {result.end_lr:.3g} ({result.step_mode}), "
        f"stopped: {result.stop_reason}.",
        "",
        "| method | learning rate |",
        "|---|---|",
    ]
    for name, lr in result.suggestions().items():
        label = f"{name} (default)" if name == methods.DEFAULT_METHOD else name
        lines.append(f"| {label} | {_CANNOT_READ if lr is None else f'{lr:.3g}'} |")
    return "\n".join(lines)


def _plot_png(result) -> bytes:
    """`result.plot()` rendered to PNG bytes."""
    ax = result.plot(offscreen_axes())
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


class _EventWriter:
    """One TensorBoard event file, written with TensorBoard's own formats and writer.

    The summary layouts are the ones `tensorboard.plugins.{scalar,text,image}.summary_v2`
    write, built without TensorFlow ops; `EventFileWriter` and the protos are the modules
    `torch.utils.tensorboard` writes with too. Checked on tensorboard 2.21.0.
    """

    def __init__(self, log_dir: str):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._writer = EventFileWriter(log_dir)

    def _add(self, summary, step: int):
        from tensorboard.compat.proto import event_pb2

        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def scalar(self, tag: str, value: float, step: int, description: str):
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        self._add(scalar_pb(tag, np.float32(value), description=description), step)

    def text(self, tag: str, markdown: str, step: int, description: str):
        from tensorboard.plugins.text.summary_v2 import text_pb

        self._add(text_pb(tag, markdown, description=description), step)

    def image(self, tag: str, png: bytes, step: int, description: str):
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.image import metadata
        from tensorboard.util import tensor_util

        # A PNG's IHDR chunk starts at byte 16 with the width and height, big-endian.
        width, height = struct.unpack(">II", png[16:24])
        # The image plugin's layout: [width, height, encoded images...] as strings.
        tensor = tensor_util.make_tensor_proto(
            [str(width).encode(), str(height).encode(), png], dtype=np.object_
        )
        summary = summary_pb2.Summary()
        summary.value.add(
            tag=tag,
            metadata=metadata.create_summary_metadata(display_name=None, description=description),
            tensor=tensor,
        )
        self._add(summary, step)

    def close(self):
        self._writer.close()
