"""The ground-truth cache: where each entry lives, and reading and writing one atomically.

Every entry (one training or one range test of one task and seed) is a JSON file under
`benchmarks/.cache/quality/v<CODE_VERSION>/<mode>/<task>-e<epochs>-b<batch>/`, written
atomically, so an interrupted run resumes where it stopped. `Mode` says how much work a run
does (grid density and seeds).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from benchmarks.study import BENCHMARK_DIR
from benchmarks.tasks import Task

CODE_VERSION = "2"
"""Bump when the training or range-test protocol changes: old cache entries are then unused."""

CACHE_DIR = BENCHMARK_DIR / ".cache" / "quality"


@dataclasses.dataclass(frozen=True)
class Mode:
    """How much work a run does: grid density and seeds (a range test per seed)."""

    name: str
    lrs_per_decade: int
    seeds: tuple[int, ...]


MODES = {
    "full": Mode("full", lrs_per_decade=3, seeds=(0, 1, 2)),
    "quick": Mode("quick", lrs_per_decade=2, seeds=(0,)),
}


def task_dir(cache_dir: Path, mode: Mode, task: Task) -> Path:
    epochs = task.epochs[mode.name]
    return (
        Path(cache_dir)
        / f"v{CODE_VERSION}"
        / mode.name
        / (f"{task.name}-e{epochs}-b{task.batch_size}")
    )


def grid_path(directory: Path, learning_rate: float, seed: int) -> Path:
    return directory / f"grid_lr{learning_rate:.4e}_seed{seed}.json"


def baseline_path(directory: Path, baseline: str, seed: int) -> Path:
    return directory / f"{baseline}_seed{seed}.json"


def range_test_path(directory: Path, seed: int) -> Path:
    return directory / f"range_test_seed{seed}.json"


def find_best_path(directory: Path, version: str, seed: int) -> Path:
    return directory / f"find_best_{version}_seed{seed}.json"


SEARCH_SEED_MARK = "-search"
"""Marks the version key of `find_best_learning_rate` entries run with a search seed other
than its default 0."""


def search_seed_version(version: str, search_seed: int) -> str:
    """The version key of `find_best_learning_rate`'s entries of code `version` run with its
    own `seed=search_seed` (validation split and batch order): `version` itself for the
    default 0, else `<version>-search<search_seed>`."""
    return version if search_seed == 0 else f"{version}{SEARCH_SEED_MARK}{search_seed}"


def read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def write(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(entry, indent=1))
    os.replace(temporary, path)
