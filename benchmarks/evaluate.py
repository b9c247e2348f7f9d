"""Scoring suggestion methods and baselines on the committed results: regret and cost.

A method is a callable `LRFinderResult -> learning rate`. On each task it is scored on
every range-test curve (one per seed): its regret is the accuracy points lost against the
best seed-mean grid accuracy, at the seed-mean accuracy interpolated at its suggestion
(`benchmarks.scoring`). A method that raises on a curve misses there: the user is left with
the optimizer's Keras default learning rate, and the miss is scored at that training's
regret and counted. Baselines: the Keras default learning rate (constant), the 3-point grid
1e-3/1e-2/1e-1 (the best of three one-cycle trainings, per seed) and, when computed,
`find_best_learning_rate` (its pick, scored like a suggestion).

Cost is the wall time of getting a trained model, in trainings of the task: 1 for the
Keras default, 3 for the 3-point grid, 1 + range test / training for a range-test method,
1 + search / training for `find_best_learning_rate` (timed in the same process as a
training at its pick).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from benchmarks import scoring
from benchmarks.cache import SEARCH_SEED_MARK, search_seed_version
from benchmarks.store import TaskResult

Method = Callable[[Any], float]


def library_method(name: str | None) -> Method:
    """`result.suggest(name)` as a user gets it (`None`: the library's default)."""

    def suggest(result) -> float:
        if name is None:
            return result.suggest(warn=False)
        return result.suggest(name, warn=False)

    suggest.__name__ = name or "default"
    return suggest


DEFAULT_METHODS: dict[str, Method] = {
    "suggest()": library_method(None),
    **{name: library_method(name) for name in ("valley", "slide", "minimum", "steep")},
}
"""The range-test methods of the report: our default and fastai's four."""

BASELINES = ("keras_default", "schedule_free", "coarse_grid", "find_best")
LABELS = {
    "keras_default": "Keras default lr",
    "schedule_free": "ScheduleFreeAdamW (Keras default)",
    "coarse_grid": "3-point grid",
    "find_best": "find_best_learning_rate",
}
SEARCH_SEED_METHOD = "find_best_seed"
"""`find_best_seed<k>`: the method `find_best_learning_rate` run with its own `seed=k`."""


def search_seed_method(seed: int) -> str:
    """The method name of `find_best_learning_rate` run with its own `seed`."""
    return "find_best" if seed == 0 else f"{SEARCH_SEED_METHOD}{seed}"


def search_seed(method: str) -> int | None:
    """The search seed of a `find_best_learning_rate` method name (`search_seed_method`'s
    inverse), or `None` for any other method."""
    if method == "find_best":
        return 0
    suffix = method.removeprefix(SEARCH_SEED_METHOD)
    return int(suffix) if suffix != method and suffix.isdigit() else None


def label(method: str) -> str:
    """A method's name in the report."""
    seed = search_seed(method)
    if seed is not None and seed > 0:  # Seed 0 is the default search, "find_best".
        return f"find_best_learning_rate (seed={seed})"
    return LABELS.get(method, method)


@dataclasses.dataclass
class MethodScore:
    """One method on one task: per seed, the suggestion, its regret and whether it missed."""

    suggestions: list[float]
    regrets: list[float]
    clipped: list[bool]
    errors: list[str]
    cost: float  # In trainings of the task, the final training included.
    step_cost: float = math.nan  # The same in optimizer steps (NaN when not recorded).

    def add(self, suggestion: float, regret: float, clipped: bool, error: str) -> None:
        """Records one seed's (or curve's) outcome."""
        self.suggestions.append(suggestion)
        self.regrets.append(regret)
        self.clipped.append(clipped)
        self.errors.append(error)

    @property
    def regret(self) -> float:
        return float(np.mean(self.regrets))

    @property
    def misses(self) -> int:
        return sum(bool(error) for error in self.errors)

    @property
    def suggested_lr(self) -> float:
        """Geometric mean of the suggestions that did not miss."""
        return scoring.geometric_mean([s for s in self.suggestions if math.isfinite(s)])

    def cell(self) -> str:
        return scoring.format_regret(self.regret, any(self.clipped), self.misses)


def keras_default_regret(result: TaskResult) -> float:
    return scoring.constant_lr_regret(result.grid, result.keras_default)


def range_test_cost(result: TaskResult) -> float:
    """1 + the median range test over the median training."""
    return 1.0 + float(np.median(result.range_test_seconds)) / result.training_seconds


def range_test_step_cost(result: TaskResult) -> float:
    """1 + the median range test's recorded steps over the training's steps."""
    steps = np.median([curve.num_recorded for curve in result.curves])
    return 1.0 + float(steps) / result.training_steps


def score_curves(result: TaskResult, method: Method) -> MethodScore:
    """Scores one range-test method on the curves of one task; misses get the Keras
    default's regret."""
    score = MethodScore([], [], [], [], range_test_cost(result), range_test_step_cost(result))
    for curve in result.curves:
        try:
            suggestion = float(method(curve))
            value, clipped = scoring.suggestion_regret(result.grid, suggestion)
            error = ""
        except (ValueError, ArithmeticError) as exception:
            suggestion, clipped, error = math.nan, False, str(exception) or type(exception).__name__
            value = keras_default_regret(result)
        score.add(suggestion, value, clipped, error)
    return score


def score_baselines(
    result: TaskResult, find_best_version: str | None = None, search_seeds=()
) -> dict:
    """The baselines of one task (`find_best` only when its version is in the results; and
    the same search with each of `search_seeds` as its own `seed`, where recorded)."""
    grid = result.grid
    scores = {
        "keras_default": MethodScore(
            [result.task.keras_default_lr], [keras_default_regret(result)], [False], [""], 1.0, 1.0
        )
    }
    if result.schedule_free:
        scores["schedule_free"] = MethodScore(
            [math.nan],
            [scoring.constant_lr_regret(grid, result.schedule_free)],
            [False],
            [""],
            1.0,
            1.0,
        )
    choices = scoring.coarse_grid_choices(grid)
    scores["coarse_grid"] = MethodScore(
        choices,
        [scoring.suggestion_regret(grid, lr)[0] for lr in choices],
        [False] * len(choices),
        [""] * len(choices),
        3.0,
        3.0,
    )
    if find_best_version:
        for seed in (0, *search_seeds):
            entries = result.find_best.get(search_seed_version(find_best_version, seed))
            if entries:
                scores[search_seed_method(seed)] = _find_best_score(result, entries)
    return scores


def _find_best_score(result: TaskResult, entries: list[dict]) -> MethodScore:
    """`find_best_learning_rate`'s entries of one task (one per seed), scored."""
    cost = 1.0 + float(np.median([e["seconds"] / e["training_seconds"] for e in entries]))
    answered = [e for e in entries if not e.get("error")]  # A raise records no steps.
    step_cost = (
        1.0 + float(np.median([e["search_steps"] / e["training_steps"] for e in answered]))
        if answered and all("search_steps" in e for e in answered)
        else math.nan
    )
    score = MethodScore([], [], [], [], cost, step_cost)
    for entry in entries:
        if entry.get("error"):  # A miss, like any method's: trained at the Keras default.
            score.add(math.nan, keras_default_regret(result), False, entry["error"])
        else:
            pick = entry["learning_rate"]
            score.add(pick, *scoring.suggestion_regret(result.grid, pick), "")
    return score


@dataclasses.dataclass
class QualityTable:
    """Every method's score on every task, and the summaries by split."""

    results: dict[str, TaskResult]
    methods: list[str]
    scores: dict[str, dict[str, MethodScore]]  # task -> method -> score

    @property
    def tasks(self) -> list[str]:
        return list(self.results)

    def split_tasks(self, split: str | None) -> list[str]:
        """The tasks of a split (`"tuning"`, `"evaluation"`), or all for `None`."""
        return [t for t in self.tasks if split is None or self.results[t].split == split]

    def regret(self, task: str, method: str) -> float:
        return self.scores[task][method].regret

    def regrets(self, method: str, split: str | None = None) -> np.ndarray:
        return np.array([self.regret(t, method) for t in self.split_tasks(split)])

    def mean_regret(self, method: str, split: str | None = None) -> float:
        values = self.regrets(method, split)
        return float(values.mean()) if len(values) else math.nan

    def worst_regret(self, method: str, split: str | None = None) -> float:
        values = self.regrets(method, split)
        return float(values.max()) if len(values) else math.nan

    def median_cost(self, method: str, split: str | None = None) -> float:
        """The median over tasks of the cost in trainings (robust to a task timed while
        the shared machine was busy)."""
        costs = [self.scores[t][method].cost for t in self.split_tasks(split)]
        return float(np.median(costs)) if costs else math.nan

    def median_step_cost(self, method: str, split: str | None = None) -> float:
        """The median over tasks of the cost in optimizer steps of trainings (NaN when a
        task did not record it)."""
        costs = [self.scores[t][method].step_cost for t in self.split_tasks(split)]
        return float(np.median(costs)) if costs else math.nan

    def misses(self, method: str, split: str | None = None) -> int:
        return sum(self.scores[t][method].misses for t in self.split_tasks(split))

    def clipped(self, method: str, split: str | None = None) -> bool:
        return any(any(self.scores[t][method].clipped) for t in self.split_tasks(split))


def score_methods(
    results: Mapping[str, TaskResult],
    methods: Mapping[str, Method] | None = None,
    *,
    baselines: bool = True,
    find_best_version: str | None = None,
    search_seeds=(),
) -> QualityTable:
    """Scores suggestion methods (and the baselines) on loaded results; trains nothing.

    Args:
        results: From `benchmarks.store.load_results()`.
        methods: `{name: method}`, each `method(result) -> learning rate`. Defaults to
            `DEFAULT_METHODS`.
        baselines: Whether to add the baselines' columns.
        find_best_version: Which `find_best_learning_rate` entries to score; the column
            appears when every task has them.
        search_seeds: Search seeds other than 0 whose entries of `find_best_version` to
            score too, a column each (`find_best_seed<k>`) where every task has them.

    Returns:
        A `QualityTable`.
    """
    methods = dict(DEFAULT_METHODS if methods is None else methods)
    if not results:
        raise ValueError("`results` is empty: run `python -m benchmarks.quality` first.")
    scores = {}
    for name, result in results.items():
        scores[name] = {m: score_curves(result, method) for m, method in methods.items()}
        if baselines:
            scores[name].update(score_baselines(result, find_best_version, search_seeds))
    names = list(methods)
    if baselines:
        extra = [search_seed_method(k) for k in search_seeds]
        names += [b for b in (*BASELINES, *extra) if all(b in scores[t] for t in results)]
    return QualityTable(dict(results), names, scores)


def complete_versions(results: Mapping[str, TaskResult], *, search_seeds: bool = False) -> set[str]:
    """The `find_best_learning_rate` version keys every task has entries for: code versions,
    or with `search_seeds` also their `<version>-search<k>` keys."""
    keys = {key for result in results.values() for key in result.find_best}
    complete = {key for key in keys if all(key in r.find_best for r in results.values())}
    return complete if search_seeds else {k for k in complete if SEARCH_SEED_MARK not in k}


def latest_find_best_version(results: Mapping[str, TaskResult]) -> str | None:
    """The `find_best_learning_rate` code version every task has results for (the greatest
    key if several), or `None`."""
    return max(complete_versions(results), default=None)
