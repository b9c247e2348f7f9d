"""The committed results: one small JSON file per task under `benchmarks/results/`.

`export` gathers a task's cache entries (`benchmarks.runner`) into
`results/ground_truth/<task>.json` (`ground_truth_quick/` in the quick mode): the grid of
one-cycle test accuracies with their training times, the Keras-default baseline, every
range-test curve (raw learning rates and losses, as `LRFinderResult.to_dict()` writes
them) and every cached `find_best_learning_rate` pick. These files are committed, so that
`load_results` and every score in the report work on a fresh clone in seconds, without the
cache or any training.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import cache, runner, scoring, split, study, trainings
from benchmarks.tasks import ALL_TASKS, TASKS_BY_NAME, Task

RESULTS_DIR = study.RESULTS_DIR
_DIGITS = 7  # Significant digits kept for the range-test curves in the committed files.


@dataclasses.dataclass
class TaskResult:
    """Everything measured on one task.

    Attributes:
        task: The task.
        split: `"tuning"` or `"evaluation"`.
        grid: The one-cycle test accuracies over `max_lr` and seeds.
        fit_seconds: Wall time of each grid training, shaped like `grid.accuracies`.
        training_steps: Optimizer steps of one training.
        curves: One `LRFinderResult` per range-test seed.
        range_test_seconds: Wall time of each range test.
        range_test_warnings: The warnings each range test raised.
        keras_default: Test accuracies at the optimizer's default learning rate, constant.
        schedule_free: Test accuracies of Keras's `ScheduleFreeAdamW` at its default
            learning rate (empty when not computed).
        find_best: `{version: [entry per seed]}`, each entry with `learning_rate`,
            `seconds`, `training_seconds` and `accuracy` (of the training at the pick); a
            version `<hash>-search<k>` holds the search run with its own `seed=k`.
    """

    task: Task
    split: str
    grid: scoring.Grid
    fit_seconds: np.ndarray
    training_steps: int
    curves: list
    range_test_seconds: list[float]
    range_test_warnings: list[list[str]]
    keras_default: list[float]
    find_best: dict[str, list[dict]] = dataclasses.field(default_factory=dict)
    schedule_free: list[float] = dataclasses.field(default_factory=list)

    @property
    def training_seconds(self) -> float:
        """The median wall time of one training of the grid."""
        return float(np.median(self.fit_seconds))


def _round(value):
    if isinstance(value, float):
        return float(f"{value:.{_DIGITS}g}") if math.isfinite(value) else None
    if isinstance(value, list):
        return [_round(item) for item in value]
    if isinstance(value, dict):
        return {key: _round(item) for key, item in value.items()}
    return value


def _results_dir(results_dir: Path | None, mode: str) -> Path:
    root = Path(results_dir) if results_dir is not None else RESULTS_DIR
    return root / ("ground_truth" if mode == "full" else f"ground_truth_{mode}")


def export(
    mode: str = "full",
    cache_dir: str | os.PathLike | None = None,
    results_dir: str | os.PathLike | None = None,
    tasks: Iterable[str] | None = None,
) -> list[str]:
    """Writes the committed JSON of every task whose ground truth is complete in the cache.

    Returns:
        The names of the tasks written.
    """
    settings = cache.MODES[mode]
    cache_root = Path(cache_dir) if cache_dir is not None else cache.CACHE_DIR
    out = _results_dir(results_dir, mode)
    written = []
    for name in [task.name for task in ALL_TASKS] if tasks is None else list(tasks):
        task = TASKS_BY_NAME[name]
        directory = cache.task_dir(cache_root, settings, task)
        grid = runner.cached_grid(directory, task, settings)
        range_tests = [cache.read(cache.range_test_path(directory, s)) for s in settings.seeds]
        baselines = {
            kind: [cache.read(cache.baseline_path(directory, kind, s)) for s in settings.seeds]
            for kind in trainings.BASELINE_KINDS
        }
        if grid is None or None in range_tests or None in baselines["keras_default"]:
            continue
        learning_rates = grid[0]
        entries = [
            [cache.read(cache.grid_path(directory, lr, s)) for s in settings.seeds]
            for lr in learning_rates
        ]
        find_best: dict[str, list[dict]] = {}
        for path in sorted(directory.glob("find_best_*_seed*.json")):
            version = path.name[len("find_best_") :].rsplit("_seed", 1)[0]
            entry = cache.read(path)
            kept = {
                key: entry[key]
                for key in (
                    "seed",
                    "learning_rate",
                    "search_steps",
                    "training_steps",
                    "seconds",
                    "training_seconds",
                    "accuracy",
                    "error",  # A search that refused to answer (a miss).
                    "probes",  # (rate, steps, validation loss); entries since 2026-12-04.
                )
                if key in entry  # Entries before 2026-12-02 have no step counts.
            }
            kept["warnings"] = _own_warnings(entry["warnings"])
            find_best.setdefault(version, []).append(kept)
        record = {
            "task": name,
            "description": task.description,
            "split": "tuning" if name in split.tuning_tasks() else "evaluation",
            "axes": {axis: bucket(task) for axis, bucket in split.AXES.items()},
            "optimizer": task.optimizer_name,
            "architecture": task.architecture,
            "dataset": task.dataset,
            "regularisation": list(task.regularisation),
            "epochs": task.epochs[mode],
            "batch_size": task.batch_size,
            "steps": entries[0][0]["steps"],
            "keras_default_lr": task.keras_default_lr,
            "mode": mode,
            "code_version": cache.CODE_VERSION,
            "seeds": list(settings.seeds),
            "grid": {
                "learning_rates": [float(lr) for lr in learning_rates],
                "accuracies": [[e["accuracy"] for e in row] for row in entries],
                "fit_seconds": [[e["fit_seconds"] for e in row] for row in entries],
            },
            **{
                kind: {
                    "accuracies": [e["accuracy"] for e in entries],
                    "fit_seconds": [e["fit_seconds"] for e in entries],
                }
                for kind, entries in baselines.items()
                if None not in entries
            },
            "range_tests": [
                {
                    "seed": e["seed"],
                    "find_seconds": e["find_seconds"],
                    "warnings": _own_warnings(e["warnings"]),
                    "result": _round(e["result"]),
                }
                for e in range_tests
            ],
            "find_best": find_best,
        }
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.json").write_text(json.dumps(record, indent=None) + "\n")
        written.append(name)
    return written


def seed_cache(
    mode: str = "full",
    cache_dir: str | os.PathLike | None = None,
    results_dir: str | os.PathLike | None = None,
) -> int:
    """Writes the cache entries that the committed results hold and the cache lacks (the
    grid, the baselines, the range tests, every version's `find_best_learning_rate` picks),
    so that a run on a fresh clone computes only what is new (a seed, a task, a baseline, a
    version). Returns the number of entries written."""
    settings = cache.MODES[mode]
    cache_root = Path(cache_dir) if cache_dir is not None else cache.CACHE_DIR
    written = 0

    def put(path: Path, entry: dict) -> None:
        nonlocal written
        if not path.exists():
            origin = {"run": "committed results", "code_version": cache.CODE_VERSION}
            cache.write(path, {**entry, **origin})
            written += 1

    for path in sorted(_results_dir(results_dir, mode).glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("code_version") != cache.CODE_VERSION or record["task"] not in TASKS_BY_NAME:
            continue
        task = TASKS_BY_NAME[record["task"]]
        directory = cache.task_dir(cache_root, settings, task)
        common = {"task": task.name, "epochs": record["epochs"], "steps": record["steps"]}
        grid = record["grid"]
        for row, learning_rate in enumerate(grid["learning_rates"]):
            for column, seed in enumerate(record["seeds"]):
                put(
                    cache.grid_path(directory, learning_rate, seed),
                    {
                        **common,
                        "kind": "one_cycle",
                        "learning_rate": learning_rate,
                        "seed": seed,
                        "accuracy": grid["accuracies"][row][column],
                        "final_train_loss": None,
                        "fit_seconds": grid["fit_seconds"][row][column],
                    },
                )
        for kind in trainings.BASELINE_KINDS:
            entries = record.get(kind)
            for column, seed in enumerate(record["seeds"] if entries else ()):
                put(
                    cache.baseline_path(directory, kind, seed),
                    {
                        **common,
                        "kind": kind,
                        "learning_rate": None,
                        "seed": seed,
                        "accuracy": entries["accuracies"][column],
                        "final_train_loss": None,
                        "fit_seconds": entries["fit_seconds"][column],
                    },
                )
        for entry in record["range_tests"]:
            put(
                cache.range_test_path(directory, entry["seed"]),
                {
                    "task": task.name,
                    "seed": entry["seed"],
                    "find_seconds": entry["find_seconds"],
                    "warnings": entry["warnings"],
                    "learning_rates": entry["result"]["learning_rates"],
                    "losses": entry["result"]["losses"],
                    "result": entry["result"],
                },
            )
        for version, entries in record.get("find_best", {}).items():
            for entry in entries:
                put(cache.find_best_path(directory, version, entry["seed"]), entry)
    return written


NUMPY_COPY_NOTICE = "__array__ implementation doesn't accept a copy keyword"
"""The start of NumPy 2's DeprecationWarning for TensorFlow's variables, which a run records
many times whenever a variable is read as an array (not ours; see `pyproject.toml`)."""


def _own_warnings(messages: list[str]) -> list[str]:
    """The recorded warnings without `NUMPY_COPY_NOTICE`."""
    return [message for message in messages if not message.startswith(NUMPY_COPY_NOTICE)]


def _curve(result: dict[str, Any]):
    from keras_lrfind import LRFinderResult

    return LRFinderResult.from_dict(result)


def load_results(
    mode: str = "full",
    results_dir: str | os.PathLike | None = None,
    tasks: Iterable[str] | None = None,
) -> dict[str, TaskResult]:
    """Loads the committed results (no cache, no training), in task order.

    Args:
        mode: `"full"` or `"quick"`.
        results_dir: The results root. Defaults to `benchmarks/results`.
        tasks: Task names to load. Defaults to every task with a results file.

    Returns:
        `{task name: TaskResult}`; tasks without a file are left out.
    """
    root = _results_dir(results_dir, mode)
    names = [task.name for task in ALL_TASKS] if tasks is None else list(tasks)
    loaded = {}
    for name in names:
        path = root / f"{name}.json"
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        grid = record["grid"]
        loaded[name] = TaskResult(
            task=TASKS_BY_NAME[name],
            split="tuning" if name in split.tuning_tasks() else "evaluation",
            grid=scoring.Grid(grid["learning_rates"], grid["accuracies"]),
            fit_seconds=np.array(grid["fit_seconds"], dtype=np.float64),
            training_steps=int(record["steps"]),
            curves=[_curve(entry["result"]) for entry in record["range_tests"]],
            range_test_seconds=[entry["find_seconds"] for entry in record["range_tests"]],
            range_test_warnings=[entry["warnings"] for entry in record["range_tests"]],
            keras_default=list(record["keras_default"]["accuracies"]),
            find_best=record.get("find_best", {}),
            schedule_free=list(record.get("schedule_free", {}).get("accuracies", [])),
        )
    return loaded
