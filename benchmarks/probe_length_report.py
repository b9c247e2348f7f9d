"""The probe-length study's results and report (`benchmarks.probe_length` measures them).

Its JSON file (`load_results`, `save_results`), the ground truth it is scored against
(`load_ground_truth`, regret from `benchmarks.scoring`), the replay of search designs on
the recorded probes (`replay_designs`) and the Markdown report: pure NumPy, no training.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import numpy as np

from benchmarks import scoring
from benchmarks.study import RESULTS_DIR

JSON_PATH = RESULTS_DIR / "probe_length.json"
REPORT_PATH = RESULTS_DIR / "probe_length.md"
GROUND_TRUTH_PATH = RESULTS_DIR / "quality.json"
# What was measured: probe lengths as fractions of one full training, the validation split
# of the training data (as `find_best_learning_rate` makes it) and the seeds.
FRACTIONS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
VALIDATION_SPLIT = 0.1
SPLIT_SEED = 0
INIT_SEED = 0
CODE_VERSION = "1"

TRAINED_CORRECTIONS = (1.0, 1.5, 2.0, 3.0)


def load_ground_truth(path: Path = GROUND_TRUTH_PATH) -> dict[str, scoring.Grid]:
    """`{task: grid}` of the full one-cycle trainings (test accuracies, every seed)."""
    data = json.loads(path.read_text())
    return {
        name: scoring.Grid(np.asarray(task["learning_rates"]), np.asarray(task["accuracies"]))
        for name, task in data["tasks"].items()
    }


def _loss(probe: dict) -> float:
    return probe["validation_loss"] if probe["validation_loss"] is not None else math.inf


def _score(probe: dict, objective: str) -> tuple:
    """Higher is better; accuracy ties are broken by the loss."""
    if objective == "accuracy":
        return (probe["validation_accuracy"], -_loss(probe))
    return (-_loss(probe),)


def probe_table(results: dict, name: str) -> dict[float, dict[float, dict]]:
    """`{fraction: {learning_rate: probe}}` of a task."""
    table: dict[float, dict[float, dict]] = {}
    for probe in results["tasks"][name]["probes"]:
        table.setdefault(probe["fraction"], {})[probe["learning_rate"]] = probe
    return table


def replay(table, grid, candidates, fractions, objective="loss") -> tuple[float, float]:
    """Successive halving replayed on recorded probes: `(pick, probe cost in trainings)`.

    The candidates are snapped to the nearest grid learning rate. Rung `k` probes the
    survivors for `fractions[k]` of a training and keeps the better half (rounded up);
    the last rung keeps one. One fraction is one rung: the best probe wins.
    """
    survivors = sorted({float(grid[np.argmin(abs(np.log(grid / c)))]) for c in candidates})
    cost = 0.0
    for rung, fraction in enumerate(fractions):
        cost += fraction * len(survivors)
        keep = 1 if rung == len(fractions) - 1 else math.ceil(len(survivors) / 2)
        ranked = sorted(survivors, key=lambda lr: _score(table[fraction][lr], objective))
        survivors = sorted(ranked[-keep:])
    return survivors[0], cost


DESIGNS = {
    "one rung: 4 x 1/8": (4, (1 / 8,)),
    "one rung: 3 x 1/8": (3, (1 / 8,)),
    "one rung: 5 x 1/8": (5, (1 / 8,)),
    "one rung: 4 x 1/16": (4, (1 / 16,)),
    "one rung: 4 x 1/4": (4, (1 / 4,)),
    "halving: 4 x 1/16, 2 x 1/8": (4, (1 / 16, 1 / 8)),
    "halving: 4 x 1/32, 2 x 1/8": (4, (1 / 32, 1 / 8)),
    "halving: 8 x 1/32, 4 x 1/16, 2 x 1/8": (8, (1 / 32, 1 / 16, 1 / 8)),
    "halving: 4 x 1/8, 2 x 1/4": (4, (1 / 8, 1 / 4)),
}
BRACKET_RATIOS = (16, 32, 64)
CORRECTIONS = (1.0, 1.5, 2.0)


def replay_designs(results: dict, ground_truth) -> list[dict]:
    """Every design x correction x objective on every task that has probes and an
    end-to-end run (whose range test gives the bracket's top, `limit`), averaged over the
    bracket ratios `[limit / ratio, limit]`."""
    runs = results.get("end_to_end", {})
    names = [name for name in results["tasks"] if name in runs]
    rows = []
    for label, (count, fractions) in DESIGNS.items():
        for objective in ("loss", "accuracy"):
            for correction in CORRECTIONS:
                regrets, costs = [], []
                for ratio in BRACKET_RATIOS:
                    for name in names:
                        limit = runs[name]["bracket"][1]
                        candidates = np.geomspace(limit / ratio, limit, count)
                        table = probe_table(results, name)
                        pick, cost = replay(
                            table,
                            ground_truth[name].learning_rates,
                            candidates,
                            fractions,
                            objective,
                        )
                        regrets.append(
                            scoring.suggestion_regret(ground_truth[name], pick / correction)[0]
                        )
                        costs.append(cost)
                rows.append(
                    {
                        "design": label,
                        "objective": objective,
                        "correction": correction,
                        "mean_regret": float(np.mean(regrets)),
                        "worst_regret": float(np.max(regrets)),
                        "probe_cost": float(np.mean(costs)),
                    }
                )
    return rows


def load_results() -> dict:
    if JSON_PATH.exists():
        results = json.loads(JSON_PATH.read_text())
        if results.get("code_version") == CODE_VERSION:
            return results
    return {"code_version": CODE_VERSION, "tasks": {}}


def save_results(results: dict) -> None:
    results["updated"] = datetime.datetime.now().isoformat(timespec="seconds")
    JSON_PATH.write_text(json.dumps(results, indent=1) + "\n")


def _probe_length_tables(results, ground_truth) -> list[str]:
    lines = []
    for objective in ("loss", "accuracy"):
        lines += [
            f"## 1. The pick of one probe length, by validation {objective}",
            "",
            "| task | ground-truth best | "
            + " | ".join(f"{fraction:.3g}" for fraction in FRACTIONS)
            + " |",
            "|:---|---:|" + "---:|" * len(FRACTIONS),
        ]
        regrets: dict[float, list[float]] = {fraction: [] for fraction in FRACTIONS}
        for name in results["tasks"]:
            truth = ground_truth[name]
            best = truth.best_lr
            table = probe_table(results, name)
            cells = []
            for fraction in FRACTIONS:
                probes = list(table.get(fraction, {}).values())
                if len(probes) < len(truth.learning_rates):
                    cells.append("-")
                    continue
                chosen = max(probes, key=lambda p: _score(p, objective))["learning_rate"]
                regrets[fraction].append(scoring.suggestion_regret(truth, chosen)[0])
                cells.append(f"{chosen:.3g} (x{chosen / best:.2g}, {regrets[fraction][-1]:.1f})")
            lines.append(f"| {name} | {best:.3g} | " + " | ".join(cells) + " |")
        means = [f"**{np.mean(r):.1f}**" if r else "-" for r in regrets.values()]
        lines += ["| **mean regret** | | " + " | ".join(means) + " |", ""]
    return lines


def _trained_regret(run, truth, correction) -> float | None:
    trained = run.get("trained", {}).get(str(float(correction)))
    return None if trained is None else scoring.regret(truth.best_accuracy, trained["accuracy"])


def _end_to_end_table(results, ground_truth) -> list[str]:
    runs = results.get("end_to_end", {})
    if not runs:
        return []
    lines = [
        "## 2. `find_best_learning_rate` with its defaults, end to end (seed 0)",
        "",
        "`winner`: the probes' favourite (parabolic refinement around the lowest validation "
        "loss); `max_lr = winner / 1.5`. Regret of `max_lr`: interpolated on the grid, and "
        "measured by one training at `max_lr` (seed 0, against the grid's seed-mean best; "
        "negative: better than the grid's best). Wall times: the search against one "
        "training of the same task, run back to back in one process (order alternating "
        "between tasks); both include tracing.",
        "",
        "| task | bracket | probes | winner | max_lr | ground-truth best | regret (grid) "
        "| regret (trained) | search steps / training | search wall time / training |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    interpolated, trained, fractions, times = [], [], [], []
    for name, run in runs.items():
        truth = ground_truth[name]
        best = truth.best_lr
        interpolated.append(scoring.suggestion_regret(truth, run["max_lr"])[0])
        measured = _trained_regret(run, truth, run["winner"] / run["max_lr"])
        trained += [] if measured is None else [measured]
        fractions.append(run["steps"] / run["training_steps"])
        times.append(run["search_seconds"] / run["training_seconds"])
        lines.append(
            f"| {name} | {run['bracket'][0]:.3g}..{run['bracket'][1]:.3g} "
            f"| {len(run['candidates'])} x {run['probe_steps']} steps | {run['winner']:.3g} "
            f"| {run['max_lr']:.3g} | {best:.3g} | {interpolated[-1]:.1f} "
            f"| {'-' if measured is None else f'{measured:.1f}'} | {fractions[-1]:.2f} "
            f"| {times[-1]:.2f} |"
        )
    lines += [
        f"| **mean** | | | | | | **{np.mean(interpolated):.1f}** (worst "
        f"{np.max(interpolated):.1f}) | **{np.mean(trained):.1f}** (worst {np.max(trained):.1f}) "
        f"| **{np.mean(fractions):.2f}** | **{np.mean(times):.2f}** |",
        "",
        "The correction, measured: regret (trained, seed 0) of `winner / correction`.",
        "",
        "| correction | " + " | ".join(runs) + " | mean | worst |",
        "|---:|" + "---:|" * (len(runs) + 2),
    ]
    for correction in TRAINED_CORRECTIONS:
        cells = [_trained_regret(run, ground_truth[name], correction) for name, run in runs.items()]
        known = [cell for cell in cells if cell is not None]
        lines.append(
            f"| {correction:g} | "
            + " | ".join("-" if cell is None else f"{cell:.1f}" for cell in cells)
            + (f" | {np.mean(known):.1f} | {np.max(known):.1f} |" if known else " | - | - |")
        )
    return [*lines, ""]


def _design_table(results, ground_truth) -> list[str]:
    rows = replay_designs(results, ground_truth)
    if not rows:
        return []
    lines = [
        "## 3. Search designs replayed on the recorded probes",
        "",
        "Candidates log-spaced over `[limit / r, limit]` (`limit`: the end-to-end run's "
        f"bracket top) for r in {BRACKET_RATIOS}, snapped to the grid; regret of "
        "`pick / correction`, mean and worst over tasks and bracket ratios; probe cost in "
        "trainings (the range test comes on top). Sorted by mean regret.",
        "",
        "| design | objective | correction | mean regret | worst regret | probe cost |",
        "|:---|:---|---:|---:|---:|---:|",
    ]
    for row in sorted(rows, key=lambda row: (row["mean_regret"], row["worst_regret"])):
        lines.append(
            f"| {row['design']} | {row['objective']} | {row['correction']:g} "
            f"| {row['mean_regret']:.2f} | {row['worst_regret']:.1f} | {row['probe_cost']:.2f} |"
        )
    return [*lines, ""]


def report(results: dict) -> str:
    ground_truth = load_ground_truth()
    header = [
        "# Probe length: what short one-cycle probes favour, and the search built on it",
        "",
        "Generated by `python -m benchmarks.probe_length` on tuning tasks only, one seed "
        f"(init seed {INIT_SEED}; {VALIDATION_SPLIT:.0%} validation split, seed {SPLIT_SEED}). "
        "Ground truth: test accuracy of full one-cycle trainings, seed mean "
        "(`quality.json`). Section 1 cells: the grid `max_lr` whose probe (of that "
        "fraction of a training) scored best on the validation split, its ratio to the "
        "ground truth's best, and its regret in accuracy points. Sections 1 and 3 judge "
        "fresh models with `predict` (batch-norm statistics as the probe left them); "
        "section 2 runs the library, which recomputes them before judging. "
        "`end_to_end_v1` in the JSON is the end-to-end run before that recalibration and "
        "the parabolic refinement were added.",
        "",
    ]
    return "\n".join(
        header
        + _probe_length_tables(results, ground_truth)
        + _end_to_end_table(results, ground_truth)
        + _design_table(results, ground_truth)
    )
