"""Tests for the documentation build's hooks (docs/hooks.py): the tutorials' nav titles, and
what the kernels that execute the notebooks put on the pages."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("mkdocs")


@pytest.fixture(scope="module")
def hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def nav(hooks, monkeypatch):
    """The nav `on_config` builds; the environment it sets is put back afterwards."""
    monkeypatch.delenv("IPYTHONDIR", raising=False)
    config = {"nav": [{"Tutorials": []}, {"Benchmarks": []}]}
    return hooks.on_config(config)["nav"]


class TestTutorialTitles:
    def test_code_spans_keep_their_text(self, nav):
        """A heading with a code span keeps its words ("5. against a manual grid" lost the
        function's name, "3. The callback in your own , ..." lost `fit`)."""
        tutorials = {uri: title for entry in nav[0]["Tutorials"] for title, uri in entry.items()}
        assert tutorials["notebooks/05_find_best_learning_rate.ipynb"] == (
            "5. find_best_learning_rate against a manual grid"
        )
        assert tutorials["notebooks/03_callback_cyclic_momentum.ipynb"] == (
            "3. The callback in your own fit, cyclical schedules, momentum cycling, saving"
        )
        assert len(tutorials) == len(list((ROOT / "notebooks").glob("*.ipynb")))

    def test_mkdocs_jupyter_keeps_the_nav_title(self):
        """mkdocs-jupyter's own title (code spans dropped) would replace the nav's."""
        from mkdocs.utils.yaml import yaml_load

        config = yaml_load((ROOT / "mkdocs.yml").read_text())
        [jupyter] = [p["mkdocs-jupyter"] for p in config["plugins"] if "mkdocs-jupyter" in p]
        assert jupyter["ignore_h1_titles"] is True


class TestNotebookKernels:
    def test_native_stderr_stays_off_the_page(self, nav, tmp_path):
        """A kernel started after `on_config` (as mkdocs-jupyter starts them) keeps what native
        code writes to file descriptor 2 (TensorFlow's start-up log) out of the cell's
        outputs; Python's own stderr (warnings) still reaches the page."""
        nbformat = pytest.importorskip("nbformat")
        nbclient = pytest.importorskip("nbclient")
        assert os.environ["IPYTHONDIR"]
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [
            nbformat.v4.new_code_cell(
                "import os, sys\n"
                "os.write(2, b'native start-up log\\n')\n"
                "print('a Python warning', file=sys.stderr)"
            )
        ]
        client = nbclient.NotebookClient(
            notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
        )
        client.execute()
        text = "".join(output.get("text", "") for output in notebook.cells[0].outputs)
        assert "a Python warning" in text
        assert "native start-up log" not in text
