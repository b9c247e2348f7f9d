"""How long `find_best_learning_rate`'s range test must be, measured on the TUNING tasks.

Its search costs the range test plus half a training's steps (four probes of an eighth).
The range test's default length (one epoch, 100 to 1000 steps) is a fixed cost: on the
benchmark's short trainings (96 to 368 steps) 100 steps are 0.27 to 1.04 of a training,
which keeps the search above the issue-10 target (search and final training together at
most 1.5 trainings). A range test only has to bracket where training breaks, so a shorter
one may do. This compares, on every tuning task and both seeds, from the fresh model a
training starts from, `find_best_learning_rate` with `range_test_steps` set by each design:

- `default`: `None` (one epoch, 100 to 1000 steps);
- `quarter`: a quarter of the training's steps, at least 32, at most the default;
- `eighth`: an eighth of the training's steps, at least 32, at most the default.

Rule, fixed before any design ran: the shortest design whose tuning mean regret is within
0.5 points of `default`'s and whose worst tuning regret is within 2 points of `default`'s
becomes the default; if none, the default stays. Evaluation tasks are never run here.

Regret is read from the committed ground truth (`benchmarks/results/ground_truth/`), as in
`python -m benchmarks.quality`. Results are cached in
`benchmarks/results/range_test_length.json` (one entry per task, seed and design) and
reported in `benchmarks/results/range_test_length.md`.

    python -m benchmarks.range_test_length            # compute what is missing, report
    python -m benchmarks.range_test_length --report   # report from the JSON only
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from benchmarks import cache, scoring, split, study, trainings
from benchmarks.store import load_results

ENTRIES = study.Entries("range_test_length")
MIN_STEPS = 32
DESIGNS = ("default", "quarter", "eighth")
FRACTIONS = {"default": None, "quarter": 1 / 4, "eighth": 1 / 8}
MEAN_TOLERANCE = 0.5
WORST_TOLERANCE = 2.0


def range_test_steps(design: str, training_steps: int, default_steps: int) -> int | None:
    """The `range_test_steps` a design passes for a training of `training_steps` steps."""
    fraction = FRACTIONS[design]
    if fraction is None:
        return None
    return int(min(default_steps, max(MIN_STEPS, math.ceil(fraction * training_steps))))


def measure(task_names) -> dict:
    """Runs every missing (task, seed, design) on the tuning tasks; returns all entries."""
    from benchmarks.tasks import TASKS_BY_NAME
    from keras_lrfind import find_best_learning_rate

    study.configure_threads(1)
    entries = ENTRIES.load()
    tuning = set(split.tuning_tasks())
    for name in task_names:
        if name not in tuning:
            raise SystemExit(f"{name} is not a tuning task: designs are chosen on tuning tasks.")
        task = TASKS_BY_NAME[name]
        data = task.data()
        epochs = task.epochs["full"]
        y = task.targets(data.y_train, data.num_classes)
        training_steps = epochs * task.steps_per_epoch(data)
        default_steps = max(100, min(1000, task.steps_per_epoch(data)))
        for seed in cache.MODES["full"].seeds:
            for design in DESIGNS:
                key = f"{name}/{seed}/{design}"
                if key in entries:
                    continue
                steps = range_test_steps(design, training_steps, default_steps)
                model = trainings.build(task, data, seed, task.optimizer(task.keras_default_lr))
                start = time.perf_counter()
                details = find_best_learning_rate(
                    model, data.x_train, y, batch_size=task.batch_size, epochs=epochs,
                    range_test_steps=steps, verbose=0, return_details=True, seed=seed,
                )  # fmt: skip
                entries[key] = {
                    "learning_rate": details.max_lr,
                    "range_test_steps": details.range_test.num_steps,
                    "search_steps": details.steps,
                    "training_steps": training_steps,
                    "seconds": time.perf_counter() - start,
                }
                ENTRIES.save(entries)
                print(
                    f"{key}: lr {details.max_lr:.3g}, {details.steps} steps "
                    f"({details.steps / training_steps:.2f} trainings)",
                    flush=True,
                )
    return entries


def summarise(entries: dict) -> dict[str, dict]:
    """Per design: regret per task (seed mean), mean, worst, search steps per training."""
    results = load_results()
    summary = {}
    for design in DESIGNS:
        regrets, costs = {}, []
        for name in split.tuning_tasks():
            per_seed = [
                entries[f"{name}/{seed}/{design}"]
                for seed in cache.MODES["full"].seeds
                if f"{name}/{seed}/{design}" in entries
            ]
            if not per_seed:
                continue
            grid = results[name].grid
            regrets[name] = float(
                np.mean([scoring.suggestion_regret(grid, e["learning_rate"])[0] for e in per_seed])
            )
            costs += [e["search_steps"] / e["training_steps"] for e in per_seed]
        if regrets:
            summary[design] = {
                "regrets": regrets,
                "mean": float(np.mean(list(regrets.values()))),
                "worst": float(np.max(list(regrets.values()))),
                "search_cost": float(np.median(costs)),
            }
    return summary


def choose(summary: dict) -> str:
    """The rule in the module docstring."""
    base = summary["default"]
    for design in reversed(DESIGNS):  # Shortest first.
        score = summary.get(design)
        if score is None or len(score["regrets"]) != len(base["regrets"]):
            continue
        if (
            score["mean"] <= base["mean"] + MEAN_TOLERANCE
            and score["worst"] <= base["worst"] + WORST_TOLERANCE
        ):
            return design
    return "default"


def report(entries: dict) -> str:
    summary = summarise(entries)
    lines = [
        "# find_best_learning_rate: range-test length (tuning tasks only)",
        "",
        "Generated by `python -m benchmarks.range_test_length` (see its docstring for the "
        "designs and the rule fixed before they ran). Regret in accuracy points, mean of two "
        "seeds per task, from the committed ground truth; search cost in optimizer steps of "
        "the search (range test and probes) per training step, median over runs.",
        "",
    ]
    designs = [d for d in DESIGNS if d in summary]
    tasks = list(summary[designs[0]]["regrets"]) if designs else []
    lines.append(
        scoring.markdown_table(
            ["design", "tuning mean", "tuning worst", "search steps per training step"],
            [
                [
                    d,
                    f"{summary[d]['mean']:.1f}",
                    f"{summary[d]['worst']:.1f}",
                    f"{summary[d]['search_cost']:.2f}",
                ]
                for d in designs
            ],
        )
    )
    lines += ["", "Per task:", ""]
    lines.append(
        scoring.markdown_table(
            ["task", *designs],
            [
                [t, *(f"{summary[d]['regrets'].get(t, math.nan):.1f}" for d in designs)]
                for t in tasks
            ],
        )
    )
    if "default" in summary:
        lines += ["", f"Chosen by the rule: **{choose(summary)}**."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return study.main(argv, __doc__, ENTRIES, measure, report, split.tuning_tasks)


if __name__ == "__main__":
    sys.exit(main())
