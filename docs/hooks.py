"""MkDocs hooks: pages that live outside docs/ (mkdocs.yml names this file in `hooks`).

The tutorials are the notebooks in notebooks/, committed without outputs; mkdocs-jupyter
executes them while the site builds, so the pages show their plots. The benchmark pages are
benchmarks/README.md and the reports in benchmarks/results/. Both are added here with their
nav entries, so a new notebook or report appears without editing mkdocs.yml and no copy of
either is kept in docs/. Each keeps its path in the repository (notebooks/..., benchmarks/...;
benchmarks/README.md is served as benchmarks/index.html), so links between them resolve.

A tutorial's title is its notebook's first heading, code spans kept as text (mkdocs-jupyter
drops them, so mkdocs.yml sets its `ignore_h1_titles` and the nav entry carries the title).
The kernels that execute the notebooks keep what native code writes to the process's stderr
out of the pages (see `_quiet_kernels`).
"""

from __future__ import annotations

import ast
import atexit
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
ASSETS = (".png", ".svg", ".json")
PACKAGE_INIT = ROOT / "keras_lrfind" / "__init__.py"
log = logging.getLogger("mkdocs.hooks")


def _uri(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _tutorials() -> list[str]:
    return [_uri(path) for path in sorted(NOTEBOOKS.glob("*.ipynb"))]


def tutorial_title(path: Path) -> str:
    """The first `# ` heading of the notebook at `path`, as plain text (code spans keep their
    text: "5. `find_best_learning_rate` against ..." is "5. find_best_learning_rate against
    ..."); the file name when no markdown cell has one."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("# "):
                return re.sub(r"`([^`]*)`", r"\1", line[2:]).strip()
    return path.stem.replace("_", " ")


def _tutorial_entries() -> list[dict[str, str]]:
    return [{tutorial_title(ROOT / uri): uri} for uri in _tutorials()]


# The IPython directory of the kernels that execute the notebooks (see `_quiet_kernels`).
_KERNEL_IPYTHONDIR: str | None = None


def _quiet_kernels() -> None:
    """Keeps native code's stderr (TensorFlow's start-up log) out of the rendered notebooks.

    ipykernel forwards what C++ code writes to file descriptor 2 into the cell's output by
    default (`capture_fd_output`). TensorFlow 2.21 logs its start-up lines (oneDNN, CUDA,
    absl) through absl before `TF_CPP_MIN_LOG_LEVEL` is read, so the notebooks' first cells
    cannot silence them, and every page showed them in red under its first cell. The
    kernels the build starts get `capture_fd_output=False` from an IPython directory of
    their own (`IPYTHONDIR`, inherited from this process): those lines go to the build's
    log instead; Python's warnings and `print` to `sys.stderr` still reach the page.
    """
    global _KERNEL_IPYTHONDIR
    if _KERNEL_IPYTHONDIR is None:
        _KERNEL_IPYTHONDIR = tempfile.mkdtemp(prefix="keras_lrfind_docs_ipython_")
        atexit.register(shutil.rmtree, _KERNEL_IPYTHONDIR, ignore_errors=True)
        profile = Path(_KERNEL_IPYTHONDIR) / "profile_default"
        profile.mkdir()
        config = {"IPKernelApp": {"capture_fd_output": False}}
        (profile / "ipython_kernel_config.json").write_text(json.dumps(config))
    os.environ["IPYTHONDIR"] = _KERNEL_IPYTHONDIR


def _benchmark_pages() -> list[str]:
    readme = BENCHMARKS / "README.md"
    return [_uri(path) for path in [readme] if path.is_file()] + [
        _uri(path) for path in sorted(RESULTS.glob("*.md"))
    ]


def _benchmark_assets() -> list[str]:
    return [_uri(path) for path in sorted(RESULTS.iterdir()) if path.suffix in ASSETS]


def _fill_section(nav: list, title: str, uris: list[str]) -> None:
    for entry in nav:
        if isinstance(entry, dict) and title in entry:
            entry[title] = [*entry[title], *uris]
            return
    raise ValueError(f"mkdocs.yml's nav has no {title!r} section for docs/hooks.py to fill.")


def on_config(config):
    _fill_section(config["nav"], "Tutorials", _tutorial_entries())
    _quiet_kernels()
    _fill_section(config["nav"], "Benchmarks", _benchmark_pages())
    return config


@event_priority(100)  # Before mkdocs-jupyter's on_files, which turns notebooks into pages.
def on_files(files, config):
    for uri in _tutorials() + _benchmark_pages() + _benchmark_assets():
        # A real File rooted at the repository (not File.generated): mkdocs-jupyter's
        # wrapper reads `src_dir`, which a generated file lacks.
        files.append(File(uri, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def public_names() -> list[str]:
    """`keras_lrfind.__all__`, read from the source (no import: TensorFlow stays unloaded)."""
    for node in ast.parse(PACKAGE_INIT.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return [name for name in ast.literal_eval(node.value) if not name.startswith("_")]
    raise ValueError(f"{PACKAGE_INIT} defines no `__all__`.")


def on_page_markdown(markdown, page, config, files):
    """Appends to the API reference every public name that its sections do not show yet.

    A name counts as shown when a `::: keras_lrfind.NAME` block documents it or when the
    "Deprecated names" section lists it (as a `- `keras_lrfind.NAME`` item).
    """
    if page.file.src_uri != "api.md":
        return markdown
    shown = set(re.findall(r"^::: keras_lrfind\.(\w+)\s*$", markdown, flags=re.MULTILINE))
    _, _, deprecated = markdown.partition("\n## Deprecated names\n")
    shown |= set(re.findall(r"^- `keras_lrfind\.(\w+)`", deprecated, flags=re.MULTILINE))
    missing = [name for name in public_names() if name not in shown]
    if not missing:
        return markdown
    log.info("api.md: adding %s under 'More' (give them a section there).", ", ".join(missing))
    return markdown + "\n## More\n\n" + "".join(f"::: keras_lrfind.{n}\n\n" for n in missing)


def on_serve(server, config, builder):
    for folder in (NOTEBOOKS, BENCHMARKS):
        server.watch(str(folder))
    return server
