"""The JSON file format of an `LRFinderResult` (what `to_json` writes, `from_json` reads),
and its pandas `DataFrame` (`to_pandas`).

A file is one JSON object: `format` and `version` (this module reads version 1), the
sweep's settings (`Sweep.to_dict()`), `stop_reason`, and the curves as lists in which a
non-finite number is `null`, so the file is standard JSON.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from keras_lrfind._sweep import Sweep

FORMAT = "keras_lrfind.LRFinderResult"
VERSION = 1
CURVES = ("learning_rates", "losses", "smoothed_losses", "validation_losses")


def _encode(array):
    if array is None:
        return None
    return [float(v) if math.isfinite(v) else None for v in array.tolist()]


def _decode(values):
    if values is None:
        return None
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def to_dict(result, sweep: Sweep) -> dict:
    """The JSON-ready values of `result`, whose sweep is `sweep`."""
    return {
        "format": FORMAT,
        "version": VERSION,
        **sweep.to_dict(),
        "stop_reason": result.stop_reason,
        **{name: _encode(getattr(result, name)) for name in CURVES},
    }


def from_dict(data: dict) -> dict:
    """The arguments of `LRFinderResult._from_sweep` from `to_dict()` output.

    Raises:
        ValueError: If `data` is not a saved result of a version this module reads.
    """
    if data.get("format") != FORMAT:
        raise ValueError(
            f"This is not a saved keras_lrfind result: expected format={FORMAT!r}. "
            f"Received: format={data.get('format')!r}."
        )
    if data.get("version") != VERSION:
        raise ValueError(
            f"Unsupported result version {data.get('version')!r}; this keras_lrfind "
            f"reads version {VERSION}. Upgrade keras_lrfind to read it."
        )
    return {
        "sweep": Sweep.from_dict(data),
        "stop_reason": data["stop_reason"],
        **{name: _decode(data.get(name)) for name in CURVES},
    }


def write_json(data: dict, path: str | os.PathLike | None) -> str:
    """`data` as JSON text, also written to `path` when one is given."""
    text = json.dumps(data, indent=1)
    if path is not None:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    return text


def read_json(source: str | os.PathLike) -> dict:
    """The JSON object in `source`: JSON text, or the path of a file holding it."""
    if isinstance(source, str) and source.lstrip().startswith("{"):
        text = source
    else:
        with open(source, encoding="utf-8") as file:
            text = file.read()
    return json.loads(text)


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
