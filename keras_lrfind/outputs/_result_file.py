"""The JSON file format of an `LRFinderResult` (what `to_json` writes, `from_json` reads),
and its pandas `DataFrame` (`to_pandas`).

A file is one JSON object: `format` and `version` (this module reads version 1), the
sweep's settings (`Sweep.to_dict()`), `stop_reason`, and the curves as lists in which a
non-finite number is `null`, so the file is standard JSON.
"""

from __future__ import annotations

import contextlib
import json
import math
import os

import numpy as np

from keras_lrfind import _checks

FORMAT = "keras_lrfind.LRFinderResult"
VERSION = 1
CURVES = ("learning_rates", "losses", "smoothed_losses", "validation_losses")


def _encode(array):
    if array is None:
        return None
    return [float(v) if math.isfinite(v) else None for v in array.tolist()]


def _decode(name: str, values):
    """A curve read from a file: a list of numbers, `null` for NaN."""
    if values is None and name == "validation_losses":
        return None
    if not isinstance(values, list):
        raise _checks.type_error(name, values, "a list of numbers (`null` for NaN)")
    for index, value in enumerate(values):
        if value is not None and not _checks.is_number(value):
            raise TypeError(
                f"`{name}` must be a list of numbers (`null` for NaN). "
                f"Received: {name}[{index}]={_checks.shown(value)}."
            )
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def to_dict(result, sweep) -> dict:
    """The JSON-ready values of `result`, whose sweep is `sweep`."""
    return {
        "format": FORMAT,
        "version": VERSION,
        **sweep.to_dict(),
        "stop_reason": result.stop_reason,
        **{name: _encode(getattr(result, name)) for name in CURVES},
    }


# The fields of a file besides `format` and `version` (`validation_losses` may be null).
FIELDS = (
    "start_lr",
    "end_lr",
    "num_steps",
    "step_mode",
    "smoothing",
    "diverge_threshold",
    "stop_reason",
    *CURVES,
)


def from_dict(data) -> dict:
    """The arguments of `LRFinderResult._from_sweep` from `to_dict()` output.

    Raises:
        TypeError: If `data` is not a dict, or a field has the wrong type.
        ValueError: If `data` is not a saved result of a version this module reads, or a
            field is missing or out of range.
    """
    if not isinstance(data, dict):
        raise _checks.type_error("data", data, "a dict, as `to_dict()` returns")
    form, version = data.get("format"), data.get("version")
    if not (isinstance(form, str) and form == FORMAT):
        raise ValueError(
            f"This is not a saved keras_lrfind result: its `format` must be {FORMAT!r}. "
            f"Received: format={_checks.shown(form)}."
        )
    if not (_checks.is_integer(version) and version == VERSION):
        raise ValueError(
            f"Unsupported result `version`: this keras_lrfind reads version {VERSION}. "
            f"Received: version={_checks.shown(version)}. Upgrade keras_lrfind to read it."
        )
    for name in FIELDS:
        if name not in data and not (name == "step_mode" and "mode" in data):
            raise ValueError(
                f"This saved result is incomplete: the field `{name}` is missing. Expected "
                f"every field `to_json()` writes: {', '.join(FIELDS)}."
            )
    return {
        "sweep": {name: data[name] for name in (*FIELDS[:6], "mode") if name in data},
        "stop_reason": data["stop_reason"],
        **{name: _decode(name, data[name]) for name in CURVES},
    }


@contextlib.contextmanager
def reading(where: str):
    """Re-raises the `TypeError` or `ValueError` of a bad saved result, naming `where`."""
    try:
        yield
    except (TypeError, ValueError) as error:
        kind = ValueError if isinstance(error, ValueError) else TypeError
        raise kind(f"Cannot load a keras_lrfind result from {where}: {error}") from None


def _check_path(name: str, path, *, allow_none: bool = False):
    if (path is None and allow_none) or isinstance(path, (str, os.PathLike)):
        return path
    expected = "the path of a file (a `str` or `os.PathLike`)"
    raise _checks.type_error(name, path, f"`None` or {expected}" if allow_none else expected)


def _check_writable(name: str, path) -> None:
    """Raises a `ValueError` naming `name` for a path no file can be written at."""
    problem = _checks.file_problem(path)
    if problem is not None:
        raise ValueError(f"`{name}` {problem[0]}. Received: {name}={path!r}. {problem[1]}")


def write_json(data: dict, path: str | os.PathLike | None) -> str:
    """`data` as JSON text, also written to `path` when one is given."""
    _check_path("path", path, allow_none=True)
    if path is not None:
        _check_writable("path", path)
    text = json.dumps(data, indent=1)
    if path is not None:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    return text


def _is_file(text: str) -> bool:
    """Whether `text` names an existing file (anything but a directory: a pipe reads too)."""
    return os.path.exists(text) and not os.path.isdir(text)


def _json_error(error: json.JSONDecodeError) -> str:
    return f"{error.msg} at line {error.lineno}, column {error.colno}"


def read_json(source: str | os.PathLike) -> tuple[dict, str]:
    """The JSON object in `source` (JSON text, or the path of a file holding it), and
    how to name `source` in an error message.

    A `str` naming an existing file is that file, whatever its name looks like
    (`"{run}.json"` is a file name); any other `str` is JSON text.

    Raises:
        TypeError: If `source` is neither a `str` nor a path.
        ValueError: If the file or text is not UTF-8 JSON holding an object, or a `str` is
            neither an existing file nor JSON text.
        OSError: If the file cannot be read (`FileNotFoundError` for a missing path).
    """
    if isinstance(source, str) and not _is_file(source):
        text, where = source, "the JSON text"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(
                "Cannot load a keras_lrfind result: `source` is neither an existing file nor "
                f"valid JSON text. Received: source={_checks.shown(source)}. As a path: "
                f"{_missing(source)}. As the JSON text: it is not valid JSON "
                f"({_json_error(error)}). Pass the path of a file written by "
                "`result.to_json(path)`, or the text `result.to_json()` returns."
            ) from None
    elif isinstance(source, (str, os.PathLike)):
        where = f"the file {os.fspath(source)!r}"
        with reading(where):
            try:
                with open(source, encoding="utf-8") as file:
                    text = file.read()
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"it is not UTF-8 text (byte {error.start} is {error.object[error.start]:#x}"
                    "). Pass a file written by `result.to_json(path)`."
                ) from None
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"it is not valid JSON ({_json_error(error)}): the file may have been cut "
                    "short. Write it again with `result.to_json(path)`."
                ) from None
    else:
        raise _checks.type_error(
            "source", source, "JSON text or the path of a file written by `result.to_json(path)`"
        )
    with reading(where):
        if not isinstance(data, dict):
            kind = {list: "list", str: "string", bool: "boolean"}.get(type(data), "number")
            kind = "null" if data is None else kind
            raise ValueError(
                f"expected a JSON object (what `result.to_json()` writes). Received: a JSON {kind}."
            )
    return data, where


def _missing(text: str) -> str:
    """Why `text` is not a file to read: what is (or is not) at that path."""
    if "\0" in text or not text:
        return "not a file name"
    if os.path.isdir(text):
        return "a directory, not a file"
    return "no such file"


def data_frame(result):
    """`result`'s curves as a pandas `DataFrame`, one row per recorded step.

    Raises:
        ImportError: If pandas is not installed, naming the extra that installs it.
    """
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            "`to_pandas()` needs pandas. Install it with `pip install keras-lrfind[pandas]` "
            "(or `pip install pandas`)."
        ) from error
    columns = {
        "step": np.arange(result.num_recorded),
        "learning_rate": result.learning_rates,
        "loss": result.losses,
        "smoothed_loss": result.smoothed_losses,
    }
    if result.validation_losses is not None:
        columns["validation_loss"] = result.validation_losses
    return pandas.DataFrame(columns)
