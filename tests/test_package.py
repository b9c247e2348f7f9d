"""Tests for the package's public face: `keras_lrfind.__all__` and what `import` costs."""

from __future__ import annotations

import ast
import inspect
import pathlib
import subprocess
import sys
import typing

import pytest

import keras_lrfind

PUBLIC_MODULES = {"datasets", "suggestions", "tensorboard"}


def public_names(namespace) -> set[str]:
    """The names a user sees in `namespace` without an underscore, minus the package's own
    implementation modules (Python sets a submodule as an attribute once it is imported)."""
    names = set()
    for name, value in vars(namespace).items():
        if name.startswith("_"):
            continue
        is_submodule = inspect.ismodule(value) and value.__name__.startswith("keras_lrfind.")
        if is_submodule and name not in PUBLIC_MODULES:
            continue
        names.add(name)
    return names


class TestAll:
    def test_all_is_exactly_the_public_names(self):
        """`__all__` lists every public name of the package, and nothing else."""
        assert sorted(keras_lrfind.__all__) == sorted(public_names(keras_lrfind) | {"__version__"})

    def test_all_has_no_duplicates_and_is_sorted(self):
        """`__all__` is sorted (as ruff keeps it) and lists each name once."""
        assert keras_lrfind.__all__ == sorted(set(keras_lrfind.__all__))

    def test_every_public_object_is_defined_by_the_package(self):
        """No third-party name leaks into the package namespace as if it were ours."""
        for name in keras_lrfind.__all__:
            value = getattr(keras_lrfind, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                assert value.__module__.startswith("keras_lrfind"), name
            elif inspect.ismodule(value):
                assert value.__name__ == f"keras_lrfind.{name}", name

    def test_public_modules_are_listed(self):
        """`keras_lrfind.datasets`, `.suggestions` and `.tensorboard` are public, in `__all__`."""
        assert PUBLIC_MODULES <= set(keras_lrfind.__all__)


class TestImport:
    def test_import_does_not_load_matplotlib_or_tfds(self):
        """`import keras_lrfind` stays cheap: plots and TFDS load only when used (beyond what
        `import keras` loads itself: TensorFlow's Keras imports matplotlib)."""
        code = (
            "import sys, keras; before = set(sys.modules); import keras_lrfind; "
            "print(sorted(m for m in ('matplotlib', 'tensorflow_datasets') "
            "if m in sys.modules and m not in before))"
        )
        output = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert output.strip().splitlines()[-1] == "[]"

    def test_version_from_metadata(self):
        """`__version__` comes from the installed package metadata."""
        from importlib.metadata import version

        assert keras_lrfind.__version__ == version("keras-lrfind")


class TestMovedModules:
    MOVED: typing.ClassVar = {
        "finder": ("LRFinder", "keras_lrfind.range_test"),
        "callback": ("LRFinderCallback", "keras_lrfind.range_test"),
        "result": ("LRFinderResult", "keras_lrfind.range_test"),
        "probes": ("find_best_learning_rate", "keras_lrfind.search"),
        "momentum": ("MomentumCycler", "keras_lrfind.schedules"),
        "plotting": ("plot_curve", "keras_lrfind.outputs.plotting"),
    }

    def test_old_paths_warn_and_give_the_same_object(self):
        """A name imported from a module that moved in this release is the moved object, with
        a `DeprecationWarning` that names the new path; the import alone does not warn."""
        import importlib

        import pytest

        for old, (name, new) in self.MOVED.items():
            module = importlib.import_module(f"keras_lrfind.{old}")  # No warning: `error`.
            with pytest.warns(DeprecationWarning, match=f"`{new}.{name}`"):
                value = getattr(module, name)
            assert value is getattr(importlib.import_module(new), name)
            assert dir(module) == sorted(dir(module)) and name in dir(module)
            with pytest.raises(AttributeError, match="no attribute 'nope'"):
                module.nope  # noqa: B018

    def test_tensorboard_stays_public(self):
        """`keras_lrfind.tensorboard` is a public module (in `__all__`): no warning."""
        from keras_lrfind.outputs import tensorboard

        assert keras_lrfind.tensorboard.write_result is tensorboard.write_result


def _import_graph(package_dir):
    """`{module: modules it imports}` inside one package, from every import statement
    (function-level ones included), read statically."""
    import ast
    import pathlib

    root = pathlib.Path(package_dir)
    package = root.name
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def owner(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {owner(a.name) for a in node.names if a.name.startswith(package)}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    here = here[: len(here) - node.level + 1]
                    base = ".".join([*here, base] if base else here)
                if base.split(".")[0] == package:
                    targets |= {owner(f"{base}.{a.name}") for a in node.names}
        graph[name] = targets - {name, None}
    return graph


def _cycle(graph):
    """One import cycle of `graph`, or `None`."""
    state, path = {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", ["keras_lrfind", "benchmarks"])
def test_no_import_cycle(package):
    """No module imports, directly or through others, a module that imports it back
    (function-level imports included)."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / package
    graph = _import_graph(root)
    assert len(graph) > 10
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


# -- The tree reads as the architecture ---------------------------------------------------------

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_LINES = 400


def _python_files(*folders):
    """`{path relative to the repository: Path}` of every `.py` file under `folders`."""
    return {
        path.relative_to(ROOT).as_posix(): path
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def test_no_module_is_too_long():
    """No module of the library or of the benchmarks is over 400 lines: one concern each,
    small enough to hold in the head."""
    lengths = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in _python_files("keras_lrfind", "benchmarks").items()
    }
    assert len(lengths) > 40
    assert {name: count for name, count in lengths.items() if count > MAX_LINES} == {}


def _is_module(base: str, name: str) -> bool:
    """Whether `base.name` is a module or package of this repository."""
    path = ROOT.joinpath(*base.split("."), name)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports_from(path):
    """`(line, module, name)` of every `from module import name` in the file at `path`
    (function-level ones included), relative imports resolved."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    package = list(parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = package[: len(package) - node.level + 1]
                base = ".".join([*here, base] if base else here)
            for alias in node.names:
                yield node.lineno, base, alias.name


def test_no_module_imports_private_names():
    """No module imports another module's private function, class or constant
    (`from a.b import _name`); private modules are fine (`from a import _b`)."""
    found = []
    for name, path in _python_files("keras_lrfind", "benchmarks", "tests").items():
        for line, base, imported in _imports_from(path):
            private = imported.startswith("_") and not imported.startswith("__")
            if private and not _is_module(base, imported):
                found.append(f"{name}:{line}: from {base} import {imported}")
    assert found == [], found


def test_keras_internals_only_in_compat():
    """Only `keras_lrfind/_compat/` reaches Keras internals (`keras.src`, private names):
    one place to look when a Keras release breaks them."""
    found = []
    for name, path in _python_files("keras_lrfind", "benchmarks").items():
        if name.startswith("keras_lrfind/_compat/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module] + [
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
            for module in modules:
                top, _, rest = module.partition(".")
                internal = [part for part in rest.split(".") if part == "src" or part[:1] == "_"]
                if top == "keras" and internal:
                    found.append(f"{name}:{node.lineno}: {module}")
    assert found == [], found
