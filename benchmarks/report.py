"""The Markdown report of the suggestion-quality benchmark (`results/quality.md`) and the
optional per-task plots."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import cache, runner, scoring, split
from benchmarks.evaluate import QualityTable, keras_default_regret, label, search_seed


def _number(value: float, digits: int = 1) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def _interval(values: np.ndarray, statistic) -> str:
    """The bootstrap 90% interval over tasks of `statistic` (`scoring.bootstrap_interval`)."""
    low, high = scoring.bootstrap_interval(values, statistic)
    return f"{_number(low)} to {_number(high)}"


def headline_markdown(table: QualityTable) -> str:
    """Mean and worst regret per method on the evaluation tasks, the tuning tasks beside."""
    header = [
        "method",
        "eval mean",
        "90% CI",
        "eval worst",
        "90% CI ",
        "eval misses",
        "tuning mean",
        "tuning worst",
        "cost (trainings)",
        "cost (steps)",
    ]
    rows = []
    for method in table.methods:
        rows.append(
            [
                label(method),
                "**" + _number(table.mean_regret(method, "evaluation")) + "**",
                _interval(table.regrets(method, "evaluation"), np.mean),
                _number(table.worst_regret(method, "evaluation")),
                _interval(table.regrets(method, "evaluation"), np.max),
                str(table.misses(method, "evaluation")),
                _number(table.mean_regret(method, "tuning")),
                _number(table.worst_regret(method, "tuning")),
                _number(table.median_cost(method), 2),
                _number(table.median_step_cost(method), 2),
            ]
        )
    return scoring.markdown_table(header, rows)


def regret_markdown(table: QualityTable) -> str:
    """Regret per task and method, evaluation tasks first."""
    header = ["task", "split", *(label(m) for m in table.methods)]
    rows = []
    for which in ("evaluation", "tuning"):
        for task in table.split_tasks(which):
            rows.append([task, which, *(table.scores[task][m].cell() for m in table.methods)])
    return scoring.markdown_table(header, rows)


def search_seeds_markdown(table: QualityTable) -> str:
    """`find_best_learning_rate` per search seed (its own `seed`: validation split and batch
    order), and the per-task mean over them; empty without another seed's column."""
    searches = [m for m in table.methods if search_seed(m) is not None]
    if len(searches) < 2:
        return ""
    grid = {which: table.regrets("coarse_grid", which) for which in ("evaluation", "tuning")}
    rows = {
        str(search_seed(m)): {which: table.regrets(m, which) for which in grid} for m in searches
    }
    rows["mean over the seeds, per task"] = {
        which: np.mean([regrets[which] for regrets in rows.values()], axis=0) for which in grid
    }
    if len(searches) >= 3:  # A user who runs the search with each seed, trains at the median.
        rows["median of the seeds' answers"] = {
            which: np.array([_median_regret(table, task, searches) for task in tasks])
            for which, tasks in (
                ("evaluation", table.split_tasks("evaluation")),
                ("tuning", table.split_tasks("tuning")),
            )
        }
    header = [
        "search seed",
        "eval mean",
        "90% CI",
        "eval worst",
        "eval tasks > 3 worse than the grid",
        "tuning mean",
        "tuning worst",
    ]
    lines = [
        [
            seed,
            _number(float(regrets["evaluation"].mean())),
            _interval(regrets["evaluation"], np.mean),
            _number(float(regrets["evaluation"].max())),
            str(int(np.sum(regrets["evaluation"] > grid["evaluation"] + 3))),
            _number(float(regrets["tuning"].mean())),
            _number(float(regrets["tuning"].max())),
        ]
        for seed, regrets in rows.items()
    ]
    per_task = np.array([table.regrets(m) for m in searches])
    spread = per_task.max(axis=0) - per_task.min(axis=0)
    widest = int(np.argmax(spread))
    return (
        scoring.markdown_table(header, lines)
        + "\n\nPer task, the search seeds' regrets differ by "
        + f"{_number(float(spread.mean()))} points on average (largest and smallest of "
        + f"{len(searches)} seeds), at most {_number(float(spread[widest]))} "
        + f"(`{table.tasks[widest]}`)."
    )


def _median_regret(table: QualityTable, task: str, searches: list[str]) -> float:
    """The regret of training at the median (in log rate) of `searches`' answers, averaged
    over the model seeds: a search that refused to answer is left out; with none left, the
    user trains at the Keras default."""
    result = table.results[task]
    regrets = []
    for answers in zip(*(table.scores[task][m].suggestions for m in searches), strict=True):
        answered = [lr for lr in answers if math.isfinite(lr)]
        if answered:
            median = float(np.exp(np.median(np.log(answered))))  # In log rate: 2 -> geometric.
            regrets.append(scoring.suggestion_regret(result.grid, median)[0])
        else:
            regrets.append(keras_default_regret(result))
    return float(np.mean(regrets))


def suggestion_markdown(table: QualityTable) -> str:
    header = ["task", "grid best", *(label(m) for m in table.methods)]
    rows = []
    for task in table.tasks:
        grid = table.results[task].grid
        row = [task, f"{grid.best_lr:.3g} ({100 * grid.best_accuracy:.1f}%)"]
        for method in table.methods:
            lr = table.scores[task][method].suggested_lr
            row.append("n/a" if not math.isfinite(lr) else f"{lr:.3g}")
        rows.append(row)
    return scoring.markdown_table(header, rows)


def tasks_markdown(table: QualityTable) -> str:
    """The corpus: axes, split, budget, the ground truth and the seconds per training."""
    header = [
        "task",
        "split",
        "model",
        "optimizer",
        "batch",
        "epochs (steps)",
        "regularisation",
        "data",
        "grid max_lr (points)",
        "best max_lr",
        "best acc",
        "acc at ends",
        "Keras default acc",
        "s / training",
        "range test / training",
    ]
    rows = []
    for name, result in table.results.items():
        task, grid = result.task, result.grid
        means = grid.mean_accuracies
        rows.append(
            [
                name,
                result.split,
                task.architecture,
                task.optimizer_name,
                str(task.batch_size),
                f"{task.epochs['full']} ({result.training_steps})",
                ", ".join(task.regularisation) or "-",
                task.dataset + (" (imbalanced)" if task.imbalanced else ""),
                f"{grid.learning_rates[0]:.3g}..{grid.learning_rates[-1]:.3g} "
                f"({len(grid.learning_rates)})",
                f"{grid.best_lr:.3g}",
                f"{100 * grid.best_accuracy:.1f}%",
                f"{100 * means[0]:.1f}% / {100 * means[-1]:.1f}%",
                f"{100 * np.mean(result.keras_default):.1f}%",
                f"{result.training_seconds:.1f}",
                f"{np.median(result.range_test_seconds) / result.training_seconds:.2f}",
            ]
        )
    return scoring.markdown_table(header, rows)


def warnings_markdown(table: QualityTable) -> str:
    """How many range-test curves made the range test warn, per task."""
    rows = []
    for name, result in table.results.items():
        warned = sum(bool(w) for w in result.range_test_warnings)
        reasons = sorted({w.split(":")[0][:80] for ws in result.range_test_warnings for w in ws})
        rows.append([name, f"{warned} / {len(result.curves)}", "; ".join(reasons) or "-"])
    return scoring.markdown_table(["task", "range tests that warned", "warnings"], rows)


def compute_summary(table: QualityTable) -> dict[str, float]:
    """Trainings and range tests behind the results, and their summed wall time."""
    trainings = sum(r.fit_seconds.size + len(r.keras_default) for r in table.results.values())
    seconds = sum(
        float(r.fit_seconds.sum()) + float(np.sum(r.range_test_seconds)) + r.training_seconds * 2
        for r in table.results.values()
    )
    return {
        "trainings": trainings,
        "range_tests": sum(len(r.curves) for r in table.results.values()),
        "minutes": seconds / 60,
    }


def render(table: QualityTable, mode: str, machine: Mapping[str, Any], note: str = "") -> str:
    """The whole report."""
    settings = cache.MODES[mode]
    compute = compute_summary(table)
    tuning, evaluation = table.split_tasks("tuning"), table.split_tasks("evaluation")
    find_best = "find_best" in table.methods
    seeds_table, seeds = search_seeds_markdown(table), []
    if seeds_table:
        seeds = [
            "## `find_best_learning_rate` across its own seeds",
            "",
            "The same search with its own `seed` (the validation split and the probes' batch "
            "order) changed, everything else alike (`--search-seed`): how much of a regret is "
            "the search's own luck.",
            "",
            seeds_table,
            "",
        ]
    lines = [
        f"# Suggestion quality: {len(table.tasks)} tasks ({mode} mode)",
        "",
        "Generated by `python -m benchmarks.quality"
        + (" --quick" if mode == "quick" else "")
        + " --score-only` from the committed results in `benchmarks/results/ground_truth"
        + ("" if mode == "full" else f"_{mode}")
        + f"/` (code version {cache.CODE_VERSION}), on {machine['cpu']}. The ground "
        "truth's trainings run TensorFlow on one thread.",
        "",
        f"**Split** (fixed before any tuning, `benchmarks/split.py`): {len(tuning)} tuning "
        f"tasks, {len(evaluation)} evaluation tasks. Nothing is chosen on an evaluation task; "
        "the headline numbers are theirs.",
        "",
        "## Headline: regret in accuracy points (lower is better)",
        "",
        headline_markdown(table),
        "",
        "Regret: the best seed-mean test accuracy of the one-cycle grid minus the seed-mean "
        "accuracy at the method's learning rate (interpolated in log10 lr), in points, "
        "averaged over the range-test seeds; *worst* is the worst task. A method that raises "
        "on a curve misses: the user trains at the Keras default learning rate, and that "
        "regret is counted (misses are listed). Cost: wall time to a trained model in "
        "trainings of the task (final training included; median over all tasks, as the "
        "timings share a busy machine); *cost (steps)*: the same in optimizer steps, which "
        "leaves out what a short CPU training pays per `fit` call (tracing, start-up)."
        + (
            " `find_best_learning_rate` runs with its defaults from the same fresh model a "
            "training starts from; its cost is timed in the same process as a training at "
            "its pick."
            if find_best
            else " `find_best_learning_rate` has no results yet."
        ),
        "",
        *seeds,
        "## Regret per task",
        "",
        regret_markdown(table),
        "",
        "† a suggestion fell outside the grid and was scored at the nearest end. "
        "✗n: the method missed on n curves.",
        "",
        "## Suggested learning rates (geometric mean over seeds)",
        "",
        suggestion_markdown(table),
        "",
        "## The tasks and their ground truth",
        "",
        tasks_markdown(table),
        "",
        "Axes and split:",
        "",
        split.split_markdown(),
        "",
        "## Range-test warnings",
        "",
        warnings_markdown(table),
        "",
        "## Compute",
        "",
        f"Per task: {len(settings.seeds)} seed(s) x one-cycle trainings over "
        f"{settings.lrs_per_decade} `max_lr` per decade (grid extended by a decade where an "
        f"end was within {100 * runner.CLEARLY_WORSE:.0f} points of the best), a range test "
        "and a Keras-default training per seed. In all: "
        f"{compute['trainings']} trainings and {compute['range_tests']} range tests, "
        f"{compute['minutes']:.0f} minutes of summed wall time on one TensorFlow thread.",
        "",
    ]
    if note:
        lines += [note, ""]
    return "\n".join(lines)


def plot_task(table: QualityTable, task: str, path: Path) -> None:
    """Accuracy against `max_lr` with every method's suggestions, above the range-test
    curves (raw losses)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = table.results[task]
    grid = result.grid
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    for seed in range(grid.accuracies.shape[1]):
        top.plot(grid.learning_rates, 100 * grid.accuracies[:, seed], ".", color="0.7")
    top.plot(grid.learning_rates, 100 * grid.mean_accuracies, ".-", color="k", label="grid")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, method in enumerate(m for m in table.methods if m != "keras_default"):
        score = table.scores[task][method]
        lrs = [lr for lr in score.suggestions if math.isfinite(lr)]
        accuracies = [scoring.interpolate_accuracy(grid, lr)[0] for lr in lrs]
        color = colors[index % len(colors)]
        top.plot(
            lrs,
            100 * np.array(accuracies),
            "ovs^DPX*"[index % 8],
            color=color,
            label=f"{label(method)} ({score.regret:.1f})",
        )
        for lr in lrs:
            bottom.axvline(lr, color=color, alpha=0.35, lw=1)
    top.axhline(
        100 * np.mean(result.keras_default),
        ls="--",
        color="tab:gray",
        label="Keras default, constant",
    )
    top.set_ylabel("test accuracy (%)")
    top.set_title(f"{task} ({result.split}): {result.task.description}", fontsize=9)
    top.legend(fontsize=7, title="method (regret)", title_fontsize=7)
    low, high = math.inf, -math.inf
    for curve in result.curves:
        bottom.plot(curve.learning_rates, curve.losses, color="k", alpha=0.3, lw=0.8)
        finite = np.asarray(curve.losses)[np.isfinite(curve.losses)]
        if len(finite):
            start = float(np.median(finite[: max(1, len(finite) // 10)]))
            low, high = min(low, float(finite.min())), max(high, start)
    if math.isfinite(low) and high > low:  # Divergence can reach 1e5: show the useful part.
        bottom.set_ylim(low - 0.1 * (high - low), high + 0.5 * (high - low))
    bottom.set_xscale("log")
    bottom.set_xlim(grid.learning_rates[0] / 30, grid.learning_rates[-1] * 3)
    bottom.set_xlabel("learning rate (max_lr for the grid)")
    bottom.set_ylabel("range-test loss")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
