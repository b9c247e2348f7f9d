"""What a range-test result becomes outside Python: files, a table, TensorBoard, plots.

`ResultOutputs` holds the methods of `LRFinderResult` that hand its curve to
`keras_lrfind.outputs`: `to_dict`/`from_dict` and `to_json`/`from_json` (the file format of
`_result_file`), `to_pandas`, `to_tensorboard`, `plot`, `plot_loss_change` and the plot
Jupyter shows. `LRFinderResult` inherits them, as a Keras `Model` inherits its `Trainer`.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, TypeVar

from keras_lrfind.outputs import _result_file
from keras_lrfind.range_test._curves import LRFinderWarning
from keras_lrfind.range_test._sweep import Sweep

# The class a loading method is called on (`LRFinderResult`), which it returns an instance of.
_Result = TypeVar("_Result", bound="ResultOutputs")


class ResultOutputs:
    """The outputs of an `LRFinderResult` (a base class of it, not used on its own)."""

    def to_dict(self) -> dict[str, Any]:
        """Returns the result as JSON-ready Python values (non-finite numbers become `None`)."""
        return _result_file.to_dict(self, self._sweep)

    @classmethod
    def from_dict(cls: type[_Result], data: dict[str, Any]) -> _Result:
        """Builds a result from the output of `to_dict()`.

        Raises:
            TypeError: If `data` is not a dict, or a field has the wrong type.
            ValueError: If a field is missing or out of range, the curves hold more points
                than `num_steps`, or `data` is not a saved result (of a version this
                keras_lrfind reads).
        """
        fields = _result_file.from_dict(data)
        return cls._from_sweep(Sweep.from_dict(fields.pop("sweep")), **fields)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """Serializes the result to JSON, and writes it to `path` when one is given.

        Non-finite losses (a NaN at divergence) are written as `null`, so the file is
        standard JSON that any tool can read.

        Args:
            path: A file to write. Defaults to `None` (only return the text).

        Returns:
            The JSON text.

        Raises:
            TypeError: If `path` is not `None`, a `str` or an `os.PathLike`.
            ValueError: If no file can be written at `path` (a directory, in a directory
                that does not exist or that this process cannot write to, a read-only file),
                before anything is written.
        """
        return _result_file.write_json(self.to_dict(), path)

    @classmethod
    def from_json(cls: type[_Result], source: str | os.PathLike) -> _Result:
        """Loads a result from JSON text or from a file written by `to_json(path)`.

        Args:
            source: The JSON text, or the path of a file holding it.

        Returns:
            The `LRFinderResult`.

        A `str` that names an existing file is read as that file, whatever its name looks
        like (`"{run}.json"` too); any other `str` is read as JSON text.

        Raises:
            TypeError: If `source` is not a `str` or path, or a field has the wrong type;
                the message names the file (or "the JSON text") and the field.
            ValueError: If the content is not UTF-8 JSON holding a saved result (a list,
                a file cut short, binary content, a missing field, more points than
                `num_steps`); the message names the file and what was expected. Also for
                a `str` that is neither an existing file nor JSON text: the message says
                what each reading found.
            OSError: If the file cannot be read (`FileNotFoundError` for a missing
                `pathlib.Path`, say).
        """
        data, where = _result_file.read_json(source)
        with _result_file.reading(where):
            return cls.from_dict(data)

    def to_pandas(self):
        """Returns the curve as a pandas `DataFrame`, one row per recorded step.

        The columns are `step` (0 first), `learning_rate`, `loss` and `smoothed_loss`, and
        `validation_loss` when the test had `validation_data`; NaN stays NaN.

        Returns:
            A `pandas.DataFrame`.

        Raises:
            ImportError: If pandas is not installed (`pip install keras-lrfind[pandas]`).

        Example:

        >>> import keras_lrfind
        >>> result = keras_lrfind.LRFinderResult(
        ...     [1e-3, 1e-2, 1e-1], [2.0, 1.0, 3.0], [2.0, 1.5, 2.0], "completed", 1e-3, 0.1, 3
        ... )
        >>> print(result.to_pandas().to_string(index=False))
         step  learning_rate  loss  smoothed_loss
            0          0.001   2.0            2.0
            1          0.010   1.0            1.5
            2          0.100   3.0            2.0
        """
        return _result_file.data_frame(self)

    def to_tensorboard(self, log_dir: str | os.PathLike) -> None:
        """Writes the result to TensorBoard as one run in `log_dir`.

        The learning rate and losses of every step become scalars, the plot an image and
        every suggestion a text (see `keras_lrfind.tensorboard` for the tags). View it with
        `tensorboard --logdir LOG_DIR`.

        Args:
            log_dir: The run's directory, created if needed, e.g. `"logs/lr_find"`.

        Raises:
            TypeError: If `log_dir` is not a path.
            ValueError: If nothing can be written into `log_dir` (a file, under a file, a
                directory this process cannot write to), before anything is written.
            ImportError: If the `tensorboard` package is missing (`pip install
                keras-lrfind[tensorboard]`).
        """
        from keras_lrfind.outputs.tensorboard import write_result

        write_result(self, log_dir)

    # -- Plots -----------------------------------------------------------------------------

    def plot(self, ax=None, suggest=True, **kwargs):
        """Draws loss against learning rate with the suggestions; see `plot_curve`.

        Returns:
            The matplotlib `Axes`.
        """
        from keras_lrfind.outputs.plotting import plot_curve

        return plot_curve(self, ax, suggest=suggest, **kwargs)

    def plot_loss_change(self, ax=None, **kwargs):
        """Draws the loss change per decade of learning rate; see `plot_loss_change`.

        Returns:
            The matplotlib `Axes`.
        """
        from keras_lrfind.outputs.plotting import plot_loss_change

        return plot_loss_change(self, ax, **kwargs)

    def _repr_png_(self) -> bytes:
        """Jupyter shows a result as its plot."""
        from keras_lrfind.outputs.plotting import figure_png

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LRFinderWarning)
            return figure_png(lambda ax: self.plot(ax))
