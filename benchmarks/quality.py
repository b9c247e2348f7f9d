"""Suggestion quality of the learning-rate range test: regret against a ground-truth grid.

For every task in `benchmarks.tasks`:

1. Ground truth: one-cycle trainings (`keras_lrfind.schedules.OneCycle`, PyTorch's
   `OneCycleLR` defaults, no momentum cycling) over a log-spaced grid of `max_lr` values
   (3 per decade, 3 seeds in the full mode; 2 per decade, 1 seed in the quick mode), each
   scored by its test accuracy. The grid always holds 1e-3, 1e-2 and 1e-1.
2. Range tests: a fresh model with the same init seed, compiled with the same optimizer
   (float learning rate), `LRFinder(model).find(x, y, batch_size=..., verbose=0)` with
   every other setting at its default; one per range-test seed. Every curve is saved as
   JSON, so suggestion methods are rescored offline in milliseconds (`score_methods`).
3. Scores: a method's regret is the best seed-mean grid accuracy minus the seed-mean
   accuracy interpolated (linearly in log10 lr) at its suggestion, in accuracy points,
   averaged over the range-test seeds (see `benchmarks.scoring`).
4. Baselines a user would otherwise pick: the optimizer's Keras default learning rate at a
   constant rate; the coarse grid 1e-3/1e-2/1e-1 (one-cycle, keep the best test accuracy;
   costs 3 trainings); `keras.optimizers.ScheduleFreeAdamW()` with its defaults.
5. Cost: wall time of `find()` against one training's `fit()` (at `max_lr=1e-2`), timed
   back to back in pairs in the same process so that a change of machine load hits both
   sides, and against the grid (that many trainings, one seed) and the coarse grid (3).

Every training and range test is cached as a JSON file under `benchmarks/.cache/quality/`,
keyed by code version, mode, task (with its epochs and batch size), learning rate and seed;
a rerun only computes what is missing. Run `python -m benchmarks.quality [--quick]`; the
Markdown report, a JSON of the raw numbers and one plot per task go to
`benchmarks/results/`.

Rescoring new methods from the cache:

```python
from benchmarks.quality import DEFAULT_METHODS, score_methods

table = score_methods({**DEFAULT_METHODS, "mine": lambda result: result.best_lr / 3})
print(table.to_markdown())
table.mean_regret("mine")
```
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import scoring
from benchmarks.tasks import TASKS, TASKS_BY_NAME, Data, Task

CODE_VERSION = "1"
"""Bump when the training or range-test protocol changes: old cache entries are then unused."""

BENCHMARK_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCHMARK_DIR / ".cache" / "quality"
RESULTS_DIR = BENCHMARK_DIR / "results"

SCHEDULE_FREE_DEFAULT_LR = 0.0025  # keras.optimizers.ScheduleFreeAdamW's default.
COST_MAX_LR = 1e-2  # The training timed against the range test (time barely depends on it).
_EVALUATION_BATCH = 500


@dataclasses.dataclass(frozen=True)
class Mode:
    """How much work a run does: grid density and seeds."""

    name: str
    lrs_per_decade: int
    seeds: tuple[int, ...]
    range_test_seeds: tuple[int, ...]
    cost_pairs: int


MODES = {
    "full": Mode(
        "full", lrs_per_decade=3, seeds=(0, 1, 2), range_test_seeds=(0, 1, 2), cost_pairs=3
    ),
    "quick": Mode("quick", lrs_per_decade=2, seeds=(0,), range_test_seeds=(0,), cost_pairs=2),
}

BASELINES = ("keras_default", "coarse_grid", "schedule_free_adamw")
"""What a user picks without a range test (see the module docstring)."""

BASELINE_LABELS = {
    "keras_default": "Keras default",
    "coarse_grid": "best of 1e-3/1e-2/1e-1",
    "schedule_free_adamw": "ScheduleFreeAdamW",
}


def grid_learning_rates(task: Task, mode: Mode) -> np.ndarray:
    """The ground-truth `max_lr` grid of a task in a mode."""
    return scoring.grid_learning_rates(*task.lr_range, mode.lrs_per_decade)


# ---------------------------------------------------------------------------------------
# Suggestion methods: callables `result -> learning rate`.

Method = Callable[[Any], float]


def library_method(name: str) -> Method:
    """`result.suggest(name)`: the method as a user of keras_lrfind gets it (our default
    `onecycle` on the raw losses; fastai's methods on the smoothed curve without its first
    `num_steps // 10` and last 5 points, as fastai's `lr_find` does)."""

    def suggest(result) -> float:
        return result.suggest(name, warn=False)

    suggest.__name__ = name
    return suggest


def best_lr(result) -> float:
    """The learning rate at the lowest smoothed loss."""
    return result.best_lr


def best_lr_over_10(result) -> float:
    """A tenth of the learning rate at the lowest smoothed loss."""
    return result.best_lr / 10


DEFAULT_METHODS: dict[str, Method] = {
    **{name: library_method(name) for name in ("onecycle", "valley", "slide", "minimum", "steep")},
    "best_lr": best_lr,
    "best_lr/10": best_lr_over_10,
}
"""The methods scored by default: fastai's four, and the two simple references."""


# ---------------------------------------------------------------------------------------
# Cache.


def _task_dir(cache_dir: Path, mode: Mode, task: Task) -> Path:
    epochs = task.epochs[mode.name]
    return (
        Path(cache_dir)
        / f"v{CODE_VERSION}"
        / mode.name
        / (f"{task.name}-e{epochs}-b{task.batch_size}")
    )


def _grid_path(task_dir: Path, learning_rate: float, seed: int) -> Path:
    return task_dir / f"grid_lr{learning_rate:.4e}_seed{seed}.json"


def _baseline_path(task_dir: Path, baseline: str, seed: int) -> Path:
    return task_dir / f"{baseline}_seed{seed}.json"


def _range_test_path(task_dir: Path, seed: int) -> Path:
    return task_dir / f"range_test_seed{seed}.json"


def _cost_path(task_dir: Path, pair: int) -> Path:
    return task_dir / f"cost_pair{pair}.json"


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _write(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(entry, indent=1))
    os.replace(temporary, path)


@dataclasses.dataclass
class TaskCache:
    """Everything cached for one task: the grid, the range-test curves and the baselines."""

    task: Task
    grid: scoring.Grid
    fit_seconds: np.ndarray  # Same shape as `grid.accuracies`.
    training_steps: int
    curves: list  # LRFinderResult, one per range-test seed.
    range_test_seconds: list[float]
    baselines: dict[str, list[float]]  # Test accuracies over seeds, constant-lr trainings.
    runs: set[str]  # The runs (start times) that produced the cost pairs.
    cost_pairs: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    """`(find_seconds, fit_seconds)` timed back to back; empty in an old cache."""


def load_cache(
    mode: str = "full",
    cache_dir: str | os.PathLike | None = None,
    tasks: Iterable[str] | None = None,
) -> dict[str, TaskCache]:
    """Loads the cached grids, curves and baselines of every task whose grid is complete.

    Args:
        mode: `"full"` or `"quick"`.
        cache_dir: The cache root. Defaults to `benchmarks/.cache/quality`.
        tasks: Task names to load. Defaults to all.

    Returns:
        `{task name: TaskCache}` in report order; tasks with a missing grid entry or no
        range-test curve are left out.
    """
    from keras_lrfind.result import LRFinderResult

    settings = MODES[mode]
    root = Path(cache_dir) if cache_dir is not None else CACHE_DIR
    names = [task.name for task in TASKS] if tasks is None else list(tasks)
    loaded = {}
    for name in names:
        task = TASKS_BY_NAME[name]
        task_dir = _task_dir(root, settings, task)
        learning_rates = grid_learning_rates(task, settings)
        entries = [
            [_read(_grid_path(task_dir, lr, seed)) for seed in settings.seeds]
            for lr in learning_rates
        ]
        if any(entry is None for row in entries for entry in row):
            continue
        curves, curve_seconds = [], []
        for seed in settings.range_test_seeds:
            entry = _read(_range_test_path(task_dir, seed))
            if entry is not None:
                curves.append(LRFinderResult.from_dict(entry["result"]))
                curve_seconds.append(entry["find_seconds"])
        if not curves:
            continue
        baselines = {}
        for baseline in ("keras_default", "schedule_free_adamw"):
            accuracies = [
                entry["accuracy"]
                for seed in settings.seeds
                if (entry := _read(_baseline_path(task_dir, baseline, seed))) is not None
            ]
            if accuracies:
                baselines[baseline] = accuracies
        pairs = [_read(_cost_path(task_dir, pair)) for pair in range(settings.cost_pairs)]
        pairs = [pair for pair in pairs if pair is not None]
        loaded[name] = TaskCache(
            task=task,
            grid=scoring.Grid(
                learning_rates,
                [[entry["accuracy"] for entry in row] for row in entries],
            ),
            fit_seconds=np.array([[entry["fit_seconds"] for entry in row] for row in entries]),
            training_steps=entries[0][0]["steps"],
            curves=curves,
            range_test_seconds=curve_seconds,
            baselines=baselines,
            runs={pair["run"] for pair in pairs},
            cost_pairs=[(pair["find_seconds"], pair["fit_seconds"]) for pair in pairs],
        )
    return loaded


# ---------------------------------------------------------------------------------------
# Scoring.


@dataclasses.dataclass
class MethodScore:
    """One method on one task: a suggestion and its regret per range-test curve (or seed)."""

    suggestions: list[float]
    regrets: list[float]
    clipped: list[bool]
    errors: list[str]

    @property
    def regret(self) -> float:
        """Mean regret over the suggestions that did not fail (NaN if all failed)."""
        return scoring.mean_ignoring_nan(self.regrets)

    @property
    def failures(self) -> int:
        return sum(bool(error) for error in self.errors)

    @property
    def suggested_lr(self) -> float:
        """Geometric mean of the successful suggestions."""
        return scoring.geometric_mean([s for s in self.suggestions if math.isfinite(s)])

    def cell(self) -> str:
        return scoring.format_regret(self.regret, any(self.clipped), self.failures)


def score_curves(grid: scoring.Grid, curves: list, method: Method) -> MethodScore:
    """Scores one method on the range-test curves of one task."""
    score = MethodScore([], [], [], [])
    for curve in curves:
        try:
            suggestion = float(method(curve))
            value, clipped = scoring.suggestion_regret(grid, suggestion)
            error = ""
        except (ValueError, ArithmeticError) as exception:
            suggestion, value, clipped, error = math.nan, math.nan, False, str(exception)
        score.suggestions.append(suggestion)
        score.regrets.append(value)
        score.clipped.append(clipped)
        score.errors.append(error)
    return score


def score_baselines(cache: TaskCache) -> dict[str, MethodScore]:
    """Scores the baselines of one task that are in the cache."""
    grid, task = cache.grid, cache.task
    scores = {}
    if "keras_default" in cache.baselines:
        accuracies = cache.baselines["keras_default"]
        scores["keras_default"] = MethodScore(
            [task.keras_default_lr],
            [scoring.constant_lr_regret(grid, accuracies)],
            [False],
            [""],
        )
    choices = scoring.coarse_grid_choices(grid)
    scores["coarse_grid"] = MethodScore(
        choices,
        [scoring.suggestion_regret(grid, lr)[0] for lr in choices],
        [False] * len(choices),
        [""] * len(choices),
    )
    if "schedule_free_adamw" in cache.baselines:
        accuracies = cache.baselines["schedule_free_adamw"]
        scores["schedule_free_adamw"] = MethodScore(
            [SCHEDULE_FREE_DEFAULT_LR],
            [scoring.constant_lr_regret(grid, accuracies)],
            [False],
            [""],
        )
    return scores


@dataclasses.dataclass
class QualityTable:
    """Regret of every method on every task, with the Markdown rendering of the report."""

    mode: str
    caches: dict[str, TaskCache]
    methods: list[str]
    scores: dict[str, dict[str, MethodScore]]  # task -> method -> score

    @property
    def tasks(self) -> list[str]:
        return list(self.caches)

    def regret(self, task: str, method: str) -> float:
        return self.scores[task][method].regret

    def mean_regret(self, method: str) -> float:
        """Mean over tasks of the method's regret (tasks where it always failed left out)."""
        return scoring.mean_ignoring_nan([self.regret(task, method) for task in self.tasks])

    def regret_markdown(self) -> str:
        header = ["task", *(BASELINE_LABELS.get(m, m) for m in self.methods)]
        rows = [[task, *(self.scores[task][m].cell() for m in self.methods)] for task in self.tasks]
        mean_row = ["**mean**"]
        for method in self.methods:
            clipped = any(any(self.scores[t][method].clipped) for t in self.tasks)
            failures = sum(self.scores[t][method].failures for t in self.tasks)
            mean_row.append(
                "**" + scoring.format_regret(self.mean_regret(method), clipped, failures) + "**"
            )
        return scoring.markdown_table(header, [*rows, mean_row])

    def suggestion_markdown(self) -> str:
        header = ["task", "grid best", *(BASELINE_LABELS.get(m, m) for m in self.methods)]
        rows = []
        for task in self.tasks:
            grid = self.caches[task].grid
            row = [task, f"{grid.best_lr:.3g} ({100 * grid.best_accuracy:.1f}%)"]
            for method in self.methods:
                lr = self.scores[task][method].suggested_lr
                row.append("n/a" if not math.isfinite(lr) else f"{lr:.3g}")
            rows.append(row)
        return scoring.markdown_table(header, rows)

    def to_markdown(self) -> str:
        return (
            "Regret (accuracy points below the best grid learning rate; lower is better):\n\n"
            + self.regret_markdown()
            + "\n\nSuggested learning rates (geometric mean over range-test seeds):\n\n"
            + self.suggestion_markdown()
            + "\n"
        )

    def to_dict(self) -> dict:
        return {
            task: {
                method: {
                    "regret": _finite_or_none(score.regret),
                    "regrets": [_finite_or_none(v) for v in score.regrets],
                    "suggestions": [_finite_or_none(v) for v in score.suggestions],
                    "clipped": score.clipped,
                    "errors": score.errors,
                }
                for method, score in self.scores[task].items()
            }
            for task in self.tasks
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def score_methods(
    methods: Mapping[str, Method] | None = None,
    mode: str = "full",
    *,
    cache: Mapping[str, TaskCache] | None = None,
    cache_dir: str | os.PathLike | None = None,
    baselines: bool = True,
) -> QualityTable:
    """Scores suggestion methods on the cached curves of every task; runs no training.

    Args:
        methods: `{name: method}`, each `method(result) -> learning rate` taking an
            `LRFinderResult`. A method that raises `ValueError` on a curve counts as a
            failure there. Defaults to `DEFAULT_METHODS`.
        mode: `"full"` or `"quick"`: which cache to read.
        cache: Already loaded caches (from `load_cache`), to skip reading the files.
        cache_dir: The cache root when `cache` is not given.
        baselines: Whether to append the baselines' columns. Defaults to `True`.

    Returns:
        A `QualityTable`; `print(table.to_markdown())` shows it.

    Raises:
        RuntimeError: If no task has a complete cache for `mode`.
    """
    methods = dict(DEFAULT_METHODS if methods is None else methods)
    caches = dict(load_cache(mode, cache_dir) if cache is None else cache)
    if not caches:
        raise RuntimeError(
            f"No complete cache for mode {mode!r} in {cache_dir or CACHE_DIR}. Run "
            f"`python -m benchmarks.quality{' --quick' if mode == 'quick' else ''}` first."
        )
    scores = {}
    for name, task_cache in caches.items():
        scores[name] = {
            method_name: score_curves(task_cache.grid, task_cache.curves, method)
            for method_name, method in methods.items()
        }
        if baselines:
            scores[name].update(score_baselines(task_cache))
    names = list(methods)
    if baselines:
        names += [b for b in BASELINES if all(b in scores[task] for task in caches)]
    return QualityTable(mode, caches, names, scores)


# ---------------------------------------------------------------------------------------
# Cost.


def cost_summary(cache: TaskCache) -> dict[str, float]:
    """Wall times of one task: range test against one training, the grid and the coarse grid.

    With cost pairs (a range test and a training timed back to back), the ratio is the
    median of the pairs' ratios and the seconds are the pairs' medians; the grid costs
    `grid_size` trainings and the coarse grid 3. Without pairs (an old cache), the medians
    of the cached range tests and grid trainings stand in.
    """
    grid_size = len(cache.grid.learning_rates)
    if cache.cost_pairs:
        finds, fits = np.array(cache.cost_pairs, dtype=np.float64).T
        range_test, training = float(np.median(finds)), float(np.median(fits))
        ratio = float(np.median(finds / fits))
    else:
        range_test = float(np.median(cache.range_test_seconds))
        training = float(np.median(cache.fit_seconds))
        ratio = range_test / training
    return {
        "range_test_seconds": range_test,
        "training_seconds": training,
        "range_test_per_training": ratio,
        "grid_size": grid_size,
        "grid_seconds": grid_size * training,
        "range_test_per_grid": ratio / grid_size,
        "range_test_per_coarse_grid": ratio / 3,
        "cost_pairs": len(cache.cost_pairs),
        # The grid as it ran, one seed per learning rate (timed under the load of its time).
        "grid_seconds_measured": float(cache.fit_seconds.mean(axis=1).sum()),
        "range_test_steps": float(np.median([curve.num_recorded for curve in cache.curves])),
        "training_steps": cache.training_steps,
    }


def cost_markdown(caches: Mapping[str, TaskCache]) -> str:
    header = [
        "task",
        "range test (s)",
        "steps",
        "1 training (s)",
        "steps",
        "range test / training",
        "grid (s)",
        "range test / grid",
        "range test / coarse grid (3 trainings)",
    ]
    rows = []
    summaries = {name: cost_summary(cache) for name, cache in caches.items()}
    for name, cost in summaries.items():
        rows.append(
            [
                name,
                f"{cost['range_test_seconds']:.2f}",
                f"{cost['range_test_steps']:.0f}",
                f"{cost['training_seconds']:.2f}",
                f"{cost['training_steps']}",
                f"{cost['range_test_per_training']:.2f}",
                f"{cost['grid_seconds']:.1f} ({cost['grid_size']} lrs)",
                f"{cost['range_test_per_grid']:.3f}",
                f"{cost['range_test_per_coarse_grid']:.2f}",
            ]
        )
    if summaries:
        mean = {
            key: float(np.mean([cost[key] for cost in summaries.values()]))
            for key in (
                "range_test_per_training",
                "range_test_per_grid",
                "range_test_per_coarse_grid",
            )
        }
        rows.append(
            [
                "**mean**",
                "",
                "",
                "",
                "",
                f"**{mean['range_test_per_training']:.2f}**",
                "",
                f"**{mean['range_test_per_grid']:.3f}**",
                f"**{mean['range_test_per_coarse_grid']:.2f}**",
            ]
        )
    return scoring.markdown_table(header, rows)


# ---------------------------------------------------------------------------------------
# Running the trainings and range tests.


def _loss():
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _build(task: Task, data: Data, seed: int, optimizer) -> Any:
    import keras

    keras.utils.set_random_seed(seed)
    model = task.model(data.x_train.shape[1:], data.num_classes)
    model.compile(optimizer=optimizer, loss=_loss())
    return model


def _test_accuracy(model, data: Data) -> float:
    import keras

    predictions = []
    for start in range(0, len(data.x_test), _EVALUATION_BATCH):
        logits = model(data.x_test[start : start + _EVALUATION_BATCH], training=False)
        predictions.append(np.argmax(keras.ops.convert_to_numpy(logits), axis=-1))
    return float(np.mean(np.concatenate(predictions) == data.y_test))


def train(task: Task, data: Data, mode: Mode, seed: int, kind: str, learning_rate=None) -> dict:
    """One training of `task`; `kind` is `"one_cycle"` (at `max_lr=learning_rate`),
    `"keras_default"` or `"schedule_free_adamw"`. Returns the cache entry."""
    import keras

    from keras_lrfind.schedules import OneCycle

    epochs = task.epochs[mode.name]
    steps = epochs * task.steps_per_epoch(data)
    if kind == "one_cycle":
        optimizer = task.optimizer(OneCycle(float(learning_rate), steps))
    elif kind == "keras_default":
        optimizer = task.optimizer(task.keras_default_lr)
    elif kind == "schedule_free_adamw":
        optimizer = keras.optimizers.ScheduleFreeAdamW()
    else:
        raise ValueError(f"Unknown training kind {kind!r}.")
    model = _build(task, data, seed, optimizer)
    start = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=task.batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=0,
    )
    fit_seconds = time.perf_counter() - start
    final_loss = history.history["loss"][-1]
    return {
        "task": task.name,
        "kind": kind,
        "learning_rate": None if learning_rate is None else float(learning_rate),
        "seed": seed,
        "epochs": epochs,
        "steps": steps,
        "accuracy": _test_accuracy(model, data),
        "final_train_loss": final_loss if math.isfinite(final_loss) else None,
        "fit_seconds": fit_seconds,
    }


def range_test(task: Task, data: Data, seed: int) -> dict:
    """One range test of `task` with `LRFinder`'s defaults. Returns the cache entry."""
    from keras_lrfind import LRFinder

    model = _build(task, data, seed, task.optimizer(task.keras_default_lr))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = LRFinder(model).find(
            data.x_train, data.y_train, batch_size=task.batch_size, verbose=0
        )
        find_seconds = time.perf_counter() - start
    return {
        "task": task.name,
        "seed": seed,
        "find_seconds": find_seconds,
        "warnings": [str(w.message) for w in caught],
        "result": json.loads(result.to_json()),
    }


def _planned_work(task: Task, mode: Mode, task_dir: Path) -> list[tuple[Path, tuple]]:
    """The (cache path, job) pairs of one task, in the order they run."""
    work = []
    for seed in mode.range_test_seeds:
        work.append((_range_test_path(task_dir, seed), ("range_test", seed, None)))
    for seed in mode.seeds:
        for lr in grid_learning_rates(task, mode):
            work.append((_grid_path(task_dir, lr, seed), ("one_cycle", seed, float(lr))))
        for baseline in ("keras_default", "schedule_free_adamw"):
            work.append((_baseline_path(task_dir, baseline, seed), (baseline, seed, None)))
    for pair in range(mode.cost_pairs):
        work.append((_cost_path(task_dir, pair), ("cost_pair", pair, None)))
    return work


def cost_pair(task: Task, data: Data, mode: Mode, pair: int) -> dict:
    """A range test and a training (`max_lr=COST_MAX_LR`) timed back to back, in alternating
    order from pair to pair. Returns the cache entry."""
    jobs = {
        "find_seconds": lambda: range_test(task, data, pair)["find_seconds"],
        "fit_seconds": lambda: train(task, data, mode, pair, "one_cycle", COST_MAX_LR)[
            "fit_seconds"
        ],
    }
    order = list(jobs) if pair % 2 == 0 else list(reversed(jobs))
    entry = {"task": task.name, "pair": pair, "order": order}
    for key in order:
        entry[key] = jobs[key]()
    return entry


def run(
    mode: Mode,
    tasks: Iterable[Task] = TASKS,
    cache_dir: Path = CACHE_DIR,
    run_id: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, int]:
    """Computes every missing cache entry of `tasks` in `mode`. Returns counts."""
    run_id = run_id or datetime.datetime.now().isoformat(timespec="seconds")
    counts = {"computed": 0, "cached": 0}
    for task in tasks:
        task_dir = _task_dir(cache_dir, mode, task)
        work = _planned_work(task, mode, task_dir)
        missing = [(path, job) for path, job in work if not path.exists()]
        counts["cached"] += len(work) - len(missing)
        if not missing:
            log(f"[{task.name}] all {len(work)} entries cached")
            continue
        data = task.data()
        log(f"[{task.name}] {len(missing)} of {len(work)} entries to compute")
        for number, (path, (kind, seed, lr)) in enumerate(missing, start=1):
            if kind == "range_test":
                entry = range_test(task, data, seed)
                summary = f"{entry['find_seconds']:.1f} s"
            elif kind == "cost_pair":
                entry = cost_pair(task, data, mode, seed)
                summary = (
                    f"range test {entry['find_seconds']:.1f} s, "
                    f"training {entry['fit_seconds']:.1f} s"
                )
            else:
                entry = train(task, data, mode, seed, kind, lr)
                summary = f"acc {100 * entry['accuracy']:.1f}% in {entry['fit_seconds']:.1f} s"
            entry["run"] = run_id
            entry["code_version"] = CODE_VERSION
            _write(path, entry)
            counts["computed"] += 1
            what = kind if lr is None else f"{kind} max_lr={lr:.3g}"
            log(f"  [{number}/{len(missing)}] {what} seed={seed}: {summary}")
    return counts


# ---------------------------------------------------------------------------------------
# Report.


def machine_description() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "backend": keras.backend.backend(),
    }


def ground_truth_markdown(caches: Mapping[str, TaskCache], mode: Mode) -> str:
    header = [
        "task",
        "optimizer",
        "epochs (steps)",
        "batch",
        "grid max_lr",
        "seeds",
        "best max_lr",
        "best acc",
        "acc at ends",
        "Keras default (constant)",
        "ScheduleFreeAdamW",
    ]
    rows = []
    for name, cache in caches.items():
        task, grid = cache.task, cache.grid
        means = grid.mean_accuracies
        baseline = {key: f"{100 * np.mean(values):.1f}%" for key, values in cache.baselines.items()}
        rows.append(
            [
                name,
                task.optimizer_name,
                f"{task.epochs[mode.name]} ({cache.training_steps})",
                str(task.batch_size),
                f"{grid.learning_rates[0]:.3g}..{grid.learning_rates[-1]:.3g} "
                f"({len(grid.learning_rates)})",
                str(grid.accuracies.shape[1]),
                f"{grid.best_lr:.3g}",
                f"{100 * grid.best_accuracy:.1f}%",
                f"{100 * means[0]:.1f}% / {100 * means[-1]:.1f}%",
                f"{baseline.get('keras_default', 'n/a')} (lr {task.keras_default_lr:g})",
                baseline.get("schedule_free_adamw", "n/a"),
            ]
        )
    return scoring.markdown_table(header, rows)


def render_report(
    table: QualityTable,
    mode: Mode,
    machine: Mapping[str, Any],
    timing: Mapping[str, Any],
) -> str:
    caches = table.caches
    runs = sorted(set().union(*(cache.runs for cache in caches.values())))
    command = "python -m benchmarks.quality" + (" --quick" if mode.name == "quick" else "")
    lines = [
        f"# Suggestion quality of the learning-rate range test ({mode.name} mode)",
        "",
        f"Generated by `{command}` on {timing['finished']} "
        f"(code version {CODE_VERSION}). Machine: {machine['cpu_count']} CPU cores, "
        f"{machine['processor']}, {machine['platform']}; Python {machine['python']}, "
        f"Keras {machine['keras']} ({machine['backend']}), TensorFlow {machine['tensorflow']}. "
        f"Load average at start / end: {timing['load_start']} / {timing['load_end']}.",
        "",
        "Protocol: for each task, one-cycle trainings (`OneCycle(max_lr, total_steps)`, "
        f"PyTorch defaults) over {mode.lrs_per_decade} log-spaced `max_lr` per decade, "
        f"{len(mode.seeds)} seed(s) each, give the ground truth: test accuracy per `max_lr`. "
        f"{len(mode.range_test_seeds)} range test(s) per task (`LRFinder(model).find(x, y, "
        "batch_size=...)` with its defaults, same model, init seed, data, batch size and "
        "optimizer) give the curves. A method's regret is the best seed-mean grid accuracy "
        "minus the seed-mean accuracy at its suggestion, interpolated linearly in log10(lr), "
        "in accuracy points, averaged over the range tests. Every method runs as "
        "`result.suggest(name)`: `onecycle` (keras_lrfind's default) on the raw losses, "
        "fastai's methods on the smoothed curve trimmed as fastai does (first "
        "`num_steps // 10`, last 5 points); `best_lr` is the learning rate at the lowest "
        "smoothed loss.",
        "",
        "Baselines: *Keras default* trains at the optimizer's default learning rate, "
        "constant (what a user who sets nothing gets); *best of 1e-3/1e-2/1e-1* is the "
        "one-cycle grid point each seed's user keeps by test accuracy among those three "
        "(3 trainings), scored by the seed-mean accuracy there; *ScheduleFreeAdamW* is "
        "`keras.optimizers.ScheduleFreeAdamW()` with its defaults (lr 0.0025), constant, "
        "evaluated with the weights `fit` leaves (Keras does not swap in the averaged "
        "iterate). In Keras 3.15 on TensorFlow its update reads the previous `z` after "
        "updating it, which departs from the published algorithm and slows it down "
        "(`python -m benchmarks.schedule_free_check`). Negative regret: better than the best "
        "one-cycle grid point.",
        "",
        "## Regret (accuracy points; lower is better)",
        "",
        table.regret_markdown(),
        "",
        "† a suggestion fell outside the grid and was scored at the nearest grid end. "
        "✗n: the method raised on n curves (left out of the mean).",
        "",
        "## Warnings on these curves",
        "",
        warnings_markdown(caches),
        "",
        "## Suggested learning rates (geometric mean over range-test seeds)",
        "",
        table.suggestion_markdown(),
        "",
        "## Ground truth",
        "",
        ground_truth_markdown(caches, mode),
        "",
        "## Cost (wall time of `find()` against `fit()`)",
        "",
        cost_markdown(caches),
        "",
        f"Each task times {mode.cost_pairs} pairs of a range test (default settings) and a "
        f"one-cycle training (`max_lr={COST_MAX_LR:g}`, same epochs as the grid) back to back "
        "in the same process, alternating which goes first; seconds are the pairs' medians "
        "and `range test / training` the median of the pairs' ratios. The grid it replaces "
        "costs one training per grid learning rate, the coarse grid 3. Times include tracing; "
        "building the model and evaluating it are excluded on both sides.",
        "",
        f"Cost pairs timed in {len(runs)} run(s) started at: {', '.join(runs) or 'n/a'}. "
        f"This invocation: {timing['computed']} trainings or range tests computed, "
        f"{timing['cached']} read from the cache, {timing['wall_seconds'] / 60:.1f} min "
        "wall time.",
        "",
    ]
    return "\n".join(lines)


def warnings_markdown(caches: Mapping[str, TaskCache]) -> str:
    """How many range-test curves make `suggest()` warn, per task (healthy curves should not)."""
    import warnings

    from keras_lrfind import LRFinderWarning

    rows = []
    for name, cache in caches.items():
        messages = []
        for result in cache.curves:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", LRFinderWarning)
                result.suggest()
            messages.append([str(w.message).split(":")[0] for w in caught])
        warned = sum(bool(m) for m in messages)
        reasons = sorted({reason for m in messages for reason in m})
        rows.append([name, f"{warned} / {len(messages)}", "; ".join(reasons) or "-"])
    return scoring.markdown_table(["task", "curves with a warning", "warnings"], rows)


def plot_task(cache: TaskCache, table: QualityTable, path: Path) -> None:
    """Accuracy against `max_lr` with every method's suggestions, above the range-test
    curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_lrfind import suggestions as suggestion_module

    grid = cache.grid
    name = cache.task.name
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    for seed in range(grid.accuracies.shape[1]):
        top.plot(grid.learning_rates, 100 * grid.accuracies[:, seed], ".", color="0.7")
    top.plot(
        grid.learning_rates, 100 * grid.mean_accuracies, ".-", color="k", label="one-cycle grid"
    )
    markers = "ovs^DPX*"
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    curve_methods = [m for m in table.methods if m not in BASELINES]
    for index, method in enumerate(curve_methods):
        score = table.scores[name][method]
        points = [
            (lr, scoring.interpolate_accuracy(grid, lr)[0])
            for lr in score.suggestions
            if math.isfinite(lr)
        ]
        if points:
            lrs, accuracies = zip(*points, strict=True)
            top.plot(
                lrs,
                100 * np.array(accuracies),
                markers[index % len(markers)],
                color=colors[index % len(colors)],
                markersize=8,
                alpha=0.8,
                label=f"{method} ({score.regret:.1f})",
            )
            for lr in lrs:
                bottom.axvline(lr, color=colors[index % len(colors)], alpha=0.35, lw=1)
    for baseline, style in (("keras_default", "--"), ("schedule_free_adamw", ":")):
        if baseline in cache.baselines:
            top.axhline(
                100 * np.mean(cache.baselines[baseline]),
                linestyle=style,
                color="tab:gray",
                label=f"{BASELINE_LABELS[baseline]}, constant",
            )
    top.set_ylabel("test accuracy (%)")
    top.set_title(f"{name}: {cache.task.description}", fontsize=10)
    top.legend(fontsize=7, loc="best", title="method (regret)", title_fontsize=7)
    top.grid(alpha=0.3)
    lowest = math.inf
    for curve in cache.curves:
        lrs, losses = suggestion_module.trim(
            curve.learning_rates, curve.smoothed_losses, skip_start=0, skip_end=0
        )
        bottom.plot(lrs, losses, color="k", alpha=0.6, lw=1)
        if len(losses):
            lowest = min(lowest, float(np.min(losses)))
            first = float(losses[0])
    if math.isfinite(lowest):
        bottom.set_ylim(lowest - 0.1 * (first - lowest), first + 0.5 * (first - lowest))
    bottom.set_xscale("log")
    # The sweep starts far below anything trainable: show the grid's decades and a margin.
    suggested = [lr for m in curve_methods for lr in table.scores[name][m].suggestions]
    finite = [lr for lr in suggested if math.isfinite(lr)]
    low = min([grid.learning_rates[0], *finite]) / 10
    high = max([grid.learning_rates[-1], *finite]) * 3
    bottom.set_xlim(low, high)
    bottom.set_xlabel("learning rate (max_lr for the grid)")
    bottom.set_ylabel("smoothed range-test loss")
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_outputs(
    table: QualityTable,
    mode: Mode,
    machine: Mapping[str, Any],
    timing: Mapping[str, Any],
    results_dir: Path,
    plots: bool = True,
) -> str:
    """Writes the Markdown report, the raw JSON and the plots; returns the report."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = "quality" if mode.name == "full" else "quality_quick"
    report = render_report(table, mode, machine, timing)
    (results_dir / f"{stem}.md").write_text(report)
    raw = {
        "mode": dataclasses.asdict(mode),
        "code_version": CODE_VERSION,
        "machine": dict(machine),
        "timing": dict(timing),
        "methods": table.methods,
        "mean_regret": {m: _finite_or_none(table.mean_regret(m)) for m in table.methods},
        "scores": table.to_dict(),
        "tasks": {
            name: {
                "description": cache.task.description,
                "optimizer": cache.task.optimizer_name,
                "epochs": cache.task.epochs[mode.name],
                "batch_size": cache.task.batch_size,
                "learning_rates": cache.grid.learning_rates.tolist(),
                "accuracies": cache.grid.accuracies.tolist(),
                "fit_seconds": cache.fit_seconds.tolist(),
                "best_lr": cache.grid.best_lr,
                "best_accuracy": cache.grid.best_accuracy,
                "baselines": cache.baselines,
                "keras_default_lr": cache.task.keras_default_lr,
                "range_test_seconds": cache.range_test_seconds,
                "range_test_stop_reasons": [curve.stop_reason for curve in cache.curves],
                "cost": cost_summary(cache),
            }
            for name, cache in table.caches.items()
        },
    }
    (results_dir / f"{stem}.json").write_text(json.dumps(raw, indent=1))
    if plots:
        for name, cache in table.caches.items():
            plot_task(cache, table, results_dir / f"{stem}_{name}.png")
    return report


def _load_average() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return "/".join(f"{value:.1f}" for value in os.getloadavg())
    return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality",
        description="Suggestion quality of the learning-rate range test (regret vs a grid).",
    )
    parser.add_argument("--quick", action="store_true", help="2 lrs per decade, 1 seed.")
    parser.add_argument("--tasks", help=f"Comma-separated subset of: {', '.join(TASKS_BY_NAME)}.")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument(
        "--score-only", action="store_true", help="Rescore the cache; train nothing."
    )
    arguments = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    mode = MODES["quick" if arguments.quick else "full"]
    names = list(TASKS_BY_NAME) if not arguments.tasks else arguments.tasks.split(",")
    unknown = [name for name in names if name not in TASKS_BY_NAME]
    if unknown:
        parser.error(f"Unknown task(s) {unknown}. Expected some of {list(TASKS_BY_NAME)}.")
    started = time.perf_counter()
    run_id = datetime.datetime.now().isoformat(timespec="seconds")
    load_start = _load_average()
    counts = {"computed": 0, "cached": 0}
    if not arguments.score_only:
        counts = run(
            mode,
            [TASKS_BY_NAME[name] for name in names],
            arguments.cache_dir,
            run_id,
            log=lambda line: print(line, flush=True),
        )
    caches = load_cache(mode.name, arguments.cache_dir, names)
    table = score_methods(mode=mode.name, cache=caches)
    timing = {
        "started": run_id,
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "wall_seconds": time.perf_counter() - started,
        "load_start": load_start,
        "load_end": _load_average(),
        **counts,
    }
    report = write_outputs(
        table, mode, machine_description(), timing, arguments.results_dir, not arguments.no_plots
    )
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
