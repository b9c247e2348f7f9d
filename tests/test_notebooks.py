"""The tutorials are committed clean and use only the public API (CI executes them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_tutorials_are_numbered_without_gaps():
    """The tutorials (at least the four written so far) are numbered 01, 02, ... in order."""
    assert len(NOTEBOOKS) >= 4
    assert [path.stem[:2] for path in NOTEBOOKS] == [
        f"{number:02d}" for number in range(1, len(NOTEBOOKS) + 1)
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_outputs_are_stripped(path):
    """No cell carries outputs or an execution count."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_public_api_only(path):
    """No private name of keras_lrfind or of Keras is used."""
    source = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
    assert not re.search(r"keras_lrfind\.(\w+\.)*_\w", source)
    assert "keras.src" not in source
