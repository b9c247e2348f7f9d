"""Computing the ground truth: one-cycle trainings, range tests and baselines, cached.

Every entry (one training or one range test of one task and seed) is a JSON file in the
cache (`benchmarks.cache`), written atomically, so an interrupted run resumes where it
stopped; each is measured by `benchmarks.trainings`. TensorFlow runs on one thread
(`study.configure_threads`), so that the timings of a training and of a range test compare.

Per task and seed: the range test (`LRFinder(model).find(x, y, batch_size=...)` with every
other setting at its default), one-cycle trainings over the task's `max_lr` grid and one
training at the optimizer's Keras default learning rate, constant. When the grid is
complete, an end of the grid whose seed-mean accuracy is not clearly worse than the best
(`CLEARLY_WORSE` points) is extended by a decade, at most `MAX_EXTENSIONS` times per side.
"""

from __future__ import annotations

import datetime
import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from benchmarks import scoring
from benchmarks.cache import (
    CACHE_DIR,
    CODE_VERSION,
    MODES,
    Mode,
    baseline_path,
    find_best_path,
    grid_path,
    range_test_path,
    read,
    search_seed_version,
    task_dir,
    write,
)
from benchmarks.study import configure_threads
from benchmarks.tasks import Task
from benchmarks.trainings import BASELINE_KINDS, find_best, find_best_version, range_test, train

CLEARLY_WORSE = 0.02
"""A grid end within this accuracy of the best seed-mean accuracy gets the grid extended."""
MAX_EXTENSIONS = 2
"""Decades the grid may grow by on each side."""


# ---------------------------------------------------------------------------------------
# The grid and its extension.


def initial_grid(task: Task, mode: Mode) -> np.ndarray:
    return scoring.grid_learning_rates(*task.lr_range, mode.lrs_per_decade)


def cached_grid(directory: Path, task: Task, mode: Mode) -> tuple[np.ndarray, np.ndarray] | None:
    """The learning rates of the (possibly extended) grid with every seed cached, and the
    accuracies `[lr, seed]`; `None` while the initial grid is incomplete."""
    low, high = task.lr_range
    wide = scoring.grid_learning_rates(
        low / 10**MAX_EXTENSIONS, high * 10**MAX_EXTENSIONS, mode.lrs_per_decade
    )
    rows = {}
    for lr in wide:
        entries = [read(grid_path(directory, lr, seed)) for seed in mode.seeds]
        if all(entry is not None for entry in entries):
            rows[float(lr)] = [entry["accuracy"] for entry in entries]
    initial = initial_grid(task, mode)
    if not all(float(lr) in rows for lr in initial):
        return None
    # Keep the contiguous run of cached learning rates around the initial grid.
    index = [i for i, lr in enumerate(wide) if float(lr) in rows]
    first = int(np.flatnonzero(np.isclose(wide, initial[0]))[0])
    last = int(np.flatnonzero(np.isclose(wide, initial[-1]))[0])
    while first - 1 in index:
        first -= 1
    while last + 1 in index:
        last += 1
    learning_rates = wide[first : last + 1]
    return learning_rates, np.array([rows[float(lr)] for lr in learning_rates])


def extension(task: Task, mode: Mode, learning_rates, accuracies) -> list[float]:
    """The learning rates to add: a decade beyond an end that is not clearly worse than the
    best seed-mean accuracy, within `MAX_EXTENSIONS` decades of the task's range."""
    means = np.asarray(accuracies).mean(axis=1)
    best = means.max()
    low, high = task.lr_range
    step = 10 ** (1 / mode.lrs_per_decade)
    added = []
    if means[0] > best - CLEARLY_WORSE and learning_rates[0] > low / 10**MAX_EXTENSIONS * 1.001:
        added += [learning_rates[0] / step**k for k in range(1, mode.lrs_per_decade + 1)]
    if means[-1] > best - CLEARLY_WORSE and learning_rates[-1] < high * 10**MAX_EXTENSIONS / 1.001:
        added += [learning_rates[-1] * step**k for k in range(1, mode.lrs_per_decade + 1)]
    # Snap to the grid's exact values (powers of ten stay exact).
    wide = scoring.grid_learning_rates(
        low / 10**MAX_EXTENSIONS, high * 10**MAX_EXTENSIONS, mode.lrs_per_decade
    )
    return [float(wide[np.argmin(abs(np.log(wide) - math.log(lr)))]) for lr in added]


# ---------------------------------------------------------------------------------------
# Running.


def _compute(task, data, mode, path, kind, seed, lr, run_id, log, label, search_seed=0):
    if kind == "range_test":
        entry = range_test(task, data, seed)
        summary = f"{entry['find_seconds']:.1f} s, {len(entry['losses'])} steps"
    elif kind == "find_best":
        entry = find_best(task, data, mode, seed, search_seed)
        answer = (
            f"lr {entry['learning_rate']:.3g}"
            if entry.get("error") is None
            else "raised, trained at the Keras default"
        )
        summary = (
            f"{answer} in {entry['seconds']:.1f} s "
            f"(training {entry['training_seconds']:.1f} s), acc {100 * entry['accuracy']:.1f}%"
        )
    else:
        entry = train(task, data, mode, seed, kind, lr)
        summary = f"acc {100 * entry['accuracy']:.1f}% in {entry['fit_seconds']:.1f} s"
    entry["run"] = run_id
    entry["code_version"] = CODE_VERSION
    write(path, entry)
    what = kind if lr is None else f"{kind} max_lr={lr:.3g}"
    log(f"  [{label}] {what} seed={seed}: {summary}")


def _ground_truth_work(task: Task, mode: Mode, directory: Path) -> list[tuple]:
    work = []
    for seed in mode.seeds:
        work.append((range_test_path(directory, seed), "range_test", seed, None))
        for baseline in BASELINE_KINDS:
            work.append((baseline_path(directory, baseline, seed), baseline, seed, None))
    for lr in initial_grid(task, mode):
        for seed in mode.seeds:
            work.append((grid_path(directory, lr, seed), "one_cycle", seed, float(lr)))
    return work


PASSES = ("ground_truth", "find_best")
"""What `run` computes: the ground truth (range tests, grid, baselines), and
`find_best_learning_rate` per seed (keyed by `find_best_version()` and the search seed)."""


def run(
    mode: Mode,
    tasks: Iterable[Task],
    cache_dir: Path = CACHE_DIR,
    run_id: str | None = None,
    log: Callable[[str], None] = print,
    passes: Iterable[str] = ("ground_truth",),
    search_seed: int = 0,
) -> dict[str, int]:
    """Computes every missing cache entry of `tasks` in `mode` for `passes`, the searches
    with `find_best_learning_rate(..., seed=search_seed)`. Returns counts."""
    passes = tuple(passes)
    unknown = [name for name in passes if name not in PASSES]
    if unknown:
        raise ValueError(f"Unknown pass(es) {unknown}. Expected some of {PASSES}.")
    run_id = run_id or datetime.datetime.now().isoformat(timespec="seconds")
    version = None
    if "find_best" in passes:
        version = search_seed_version(find_best_version(), search_seed)
    counts = {"computed": 0, "cached": 0}
    for task in tasks:
        directory = task_dir(cache_dir, mode, task)
        work = _ground_truth_work(task, mode, directory) if "ground_truth" in passes else []
        if version is not None:
            work += [
                (find_best_path(directory, version, seed), "find_best", seed, None)
                for seed in mode.seeds
            ]
        data = None
        started = time.perf_counter()
        while True:
            missing = [item for item in work if not item[0].exists()]
            counts["cached"] += len(work) - len(missing)
            if missing and data is None:
                data = task.data()
                if task.prepare is not None:
                    task.prepare()
                log(f"[{task.name}] {len(missing)} entries to compute")
            for number, (path, kind, seed, lr) in enumerate(missing, start=1):
                label = f"{number}/{len(missing)}"
                _compute(task, data, mode, path, kind, seed, lr, run_id, log, label, search_seed)
                counts["computed"] += 1
            grid = cached_grid(directory, task, mode) if "ground_truth" in passes else None
            added = extension(task, mode, *grid) if grid is not None else []
            if not added:
                break
            log(f"[{task.name}] extending the grid by {[f'{lr:.3g}' for lr in added]}")
            work = [
                (grid_path(directory, lr, seed), "one_cycle", seed, lr)
                for lr in added
                for seed in mode.seeds
            ]
        if data is not None:
            log(f"[{task.name}] done in {time.perf_counter() - started:.0f} s")
        else:
            log(f"[{task.name}] all entries cached")
    return counts


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.runner [--quick] [--tasks a,b] [--cache-dir DIR]`: computes the
    missing ground truth on one TensorFlow thread, logging each entry."""
    import argparse

    from benchmarks.tasks import ALL_TASKS, TASKS_BY_NAME

    parser = argparse.ArgumentParser(prog="python -m benchmarks.runner")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tasks", help="Comma-separated task names (default: all).")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument(
        "--passes", default="ground_truth", help=f"Comma-separated, from {', '.join(PASSES)}."
    )
    arguments = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    configure_threads(1)
    names = arguments.tasks.split(",") if arguments.tasks else [t.name for t in ALL_TASKS]
    mode = MODES["quick" if arguments.quick else "full"]
    started = time.perf_counter()

    def log(line):
        print(f"{time.perf_counter() - started:7.0f}s {line}", flush=True)

    tasks = [TASKS_BY_NAME[name] for name in names]
    passes = arguments.passes.split(",")
    counts = run(mode, tasks, arguments.cache_dir, log=log, passes=passes)
    log(f"finished: {counts}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
