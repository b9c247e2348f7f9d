"""Choosing `find_best_learning_rate`'s design on the TUNING tasks, by replaying its planner.

The library's planner (`keras_lrfind.search._planner`) makes every decision of the search
from what its range test and probes return. Here it runs, with each candidate `Policy`, on
the outcomes recorded in `benchmarks.search_table` (a probe the table lacks is measured
then, with the same machinery, and recorded), for every tuning task and seed; its answer
is scored like any suggestion, by its regret against the task's ground truth, and its cost
in optimizer steps as a fraction of the training.

The rule, fixed before the comparison (issue 17): a design is chosen by its WORST regret on
the tuning tasks first, then its mean; leave-one-task-out says how much the choice itself
overfits. Evaluation tasks choose nothing; this module never runs one.

Run: `python -m benchmarks.search_design` (the report goes to
`benchmarks/results/search_design.md`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from benchmarks import scoring, search_table, split, store, study
from keras_lrfind.search._planner import Baselines, Planner
from keras_lrfind.search._policy import DEFAULT_POLICY, Policy


@dataclasses.dataclass
class Run:
    """One replayed search: its answer, regret, cost, and whether anything learned."""

    task: str
    seed: int
    max_lr: float
    regret: float
    cost: float
    learned: bool
    probes: int


def replay(policy: Policy, oracle: search_table.Oracle, epoch_steps: int, grid) -> Run:
    """Runs the planner with `policy` on one task and seed's recorded outcomes."""
    entry = oracle.entry
    planner = Planner(oracle.training_steps, epoch_steps, policy=policy)
    planner.set_baselines(Baselines(entry["untrained_loss"], entry["constant_loss"]))
    test = oracle.range_test(planner.range_test_steps)
    losses = [math.nan if v is None else v for v in test["losses"]]
    planner.read_range_test(test["learning_rates"], losses, test["stop_reason"])
    while probes := planner.next_round():
        for probe in probes:
            planner.record(probe, oracle.probe(probe.learning_rate, probe.steps))
    decision = planner.decision()
    regret = scoring.suggestion_regret(grid, decision.max_lr)[0]
    return Run(
        oracle.name,
        oracle.seed,
        decision.max_lr,
        regret,
        planner.spent / oracle.training_steps,
        decision.learned,
        len(planner.losses),
    )


def evaluate(policy: Policy, tasks=None, seeds=search_table.SEEDS) -> list[Run]:
    """Every tuning task and seed, replayed with `policy`."""
    results = store.load_results(tasks=tasks or split.tuning_tasks())
    runs = []
    for name, result in results.items():
        if result.split != "tuning":
            raise SystemExit(f"{name} is not a tuning task.")
        epoch_steps = _epoch_steps(name)
        for seed in seeds:
            oracle = search_table.Oracle(name, seed)
            if "untrained_loss" not in oracle.entry:
                continue
            try:
                runs.append(replay(policy, oracle, epoch_steps, result.grid))
            finally:
                oracle.close()
    return runs


def _epoch_steps(name: str) -> int:
    """The steps of one epoch of the probes' training split (90% of the training data)."""
    from benchmarks.tasks import TASKS_BY_NAME

    task = TASKS_BY_NAME[name]
    data = task.data()
    validation = len(data.x_train) - math.ceil(len(data.x_train) * 0.9)
    return math.ceil((len(data.x_train) - validation) / task.batch_size)


def summary(runs: list[Run]) -> dict:
    """Per task (seed mean) regrets: worst, mean, leave-one-task-out; median cost."""
    by_task: dict[str, list[Run]] = {}
    for run in runs:
        by_task.setdefault(run.task, []).append(run)
    regrets = {task: float(np.mean([r.regret for r in rs])) for task, rs in by_task.items()}
    values = np.array(list(regrets.values()))
    return {
        "worst": float(values.max()),
        "mean": float(values.mean()),
        "cost": float(np.median([run.cost for run in runs])),
        "max_cost": float(max(run.cost for run in runs)),
        "unlearned": sum(not run.learned for run in runs),
        "regrets": regrets,
    }


VARIANTS: dict[str, dict] = {
    "chosen (the library's default)": {},
    "first draft": dict(
        range_test_fraction=1 / 8,
        probe_fraction=1 / 16,
        tie_tolerance=0.1,
        short_probe_bias=1.5,
        min_probes=5,
        lengthen=1,
        min_short_probes=0,
    ),
    "no longer probes (an earlier default)": dict(lengthen=1, min_short_probes=0),
    "no longer probes, room for 9 short probes": dict(lengthen=1),
    "longer probes 2x (the previous default)": dict(lengthen=2),
    "longer probes 4x": dict(lengthen=4),
    "room for 8 short probes": dict(min_short_probes=8),
    "room for 10 short probes": dict(min_short_probes=10),
    "room for 12 short probes": dict(min_short_probes=12),
    "range test 1/8": dict(range_test_fraction=1 / 8),
    "range test 1/8, bias 1.25": dict(range_test_fraction=1 / 8, short_probe_bias=1.25),
    "probes 1/16": dict(probe_fraction=1 / 16),
    "probes 1/8": dict(probe_fraction=1 / 8),
    "3 probes at least": dict(min_probes=3),
    "tie tolerance 0.1": dict(tie_tolerance=0.1),
    "tie tolerance 0.25": dict(tie_tolerance=0.25),
    "bias 1.25": dict(short_probe_bias=1.25),
    "bias 1.5": dict(short_probe_bias=1.5),
    "anchor 1 grid point below": dict(anchor_below_limit=1),
    "anchor 3 grid points below": dict(anchor_below_limit=3),
    "spacing 1 grid point": dict(spacing=1),
    "learned margin 2%": dict(learned_margin=0.02),
    "learned margin 10%": dict(learned_margin=0.1),
}
"""The designs compared: the chosen policy, its neighbours one constant away, and the path
to it (the first draft; the draft's best neighbours, range test 1/8 with bias 1.25; an
earlier default without the round of longer probes; the previous default, whose longer
probes ran twice as long). The choice was made in steps, each a change of one or two
constants that the rule preferred (the last on the 20 tuning tasks: longer probes three
times as long instead of twice, worst 5.9 -> 5.4)."""

ENTRIES = study.Entries("search_design")


def measure(tasks: list[str]) -> None:
    """Replays every variant on `tasks` (all seeds) and stores the runs."""
    entries = {}
    for label, changes in VARIANTS.items():
        runs = evaluate(dataclasses.replace(DEFAULT_POLICY, **changes), tasks=tasks)
        entries[label] = {
            "changes": {k: round(v, 4) for k, v in changes.items()},
            "runs": [dataclasses.asdict(run) for run in runs],
        }
    ENTRIES.save(entries)


def rank(item: tuple[str, dict]) -> tuple[float, float]:
    """The rule: worst regret first, then mean."""
    return (round(item[1]["worst"], 1), round(item[1]["mean"], 2))


def leave_one_task_out(summaries: dict[str, dict]) -> list[float]:
    """For each task, the regret on it of the variant the rule picks from the other tasks."""
    tasks = list(next(iter(summaries.values()))["regrets"])
    held_out = []
    for task in tasks:
        others = {
            label: {
                "worst": max(r for t, r in s["regrets"].items() if t != task),
                "mean": float(np.mean([r for t, r in s["regrets"].items() if t != task])),
            }
            for label, s in summaries.items()
        }
        pick = min(others.items(), key=rank)[0]
        held_out.append(summaries[pick]["regrets"][task])
    return held_out


def report(entries: dict) -> str:
    summaries = {
        label: summary([Run(**run) for run in entry["runs"]]) for label, entry in entries.items()
    }

    def order(item):  # Ties go to the design with fewer changes: the default first.
        return (*rank(item), len(entries[item[0]]["changes"]))

    chosen = min(summaries.items(), key=order)[0]
    held_out = leave_one_task_out(summaries)
    lines = [
        "# `find_best_learning_rate`: the search's design, chosen on the tuning tasks",
        "",
        "Generated by `python -m benchmarks.search_design` from the recorded probes of",
        "`benchmarks/results/search_table.json`. Each design is the library's planner with the",
        "constants shown changed from the default, replayed on the "
        f"{len(held_out)} tuning tasks x 3 seeds.",
        "Regret: accuracy points below the best one-cycle peak of the task's ground truth,",
        "mean of the seeds per task. Cost: the search's optimizer steps (range test and probes)",
        "per training step. Not learned: runs in which no probe learned (the search warns).",
        "The rule, fixed before the runs: worst regret first, then mean (then fewer changes).",
        "",
        scoring.markdown_table(
            ["design", "changes", "worst", "mean", "median cost", "max cost", "not learned"],
            [
                [
                    label,
                    ", ".join(f"{k}={v}" for k, v in entries[label]["changes"].items()) or "-",
                    f"{s['worst']:.1f}",
                    f"{s['mean']:.2f}",
                    f"{s['cost']:.2f}",
                    f"{s['max_cost']:.2f}",
                    str(s["unlearned"]),
                ]
                for label, s in sorted(summaries.items(), key=order)
            ],
        ),
        "",
        f"Chosen by the rule: **{chosen}**. Leave-one-task-out (each task scored with the",
        f"design the rule picks from the other {len(held_out) - 1}): "
        f"mean {np.mean(held_out):.2f}, worst {max(held_out):.1f}.",
        "",
        "Per task, the chosen design (regret per seed; cost on the longest seed):",
        "",
    ]
    by_task: dict[str, list[dict]] = {}
    for run in entries[chosen]["runs"]:
        by_task.setdefault(run["task"], []).append(run)
    lines.append(
        scoring.markdown_table(
            ["task", "training steps", "regrets", "cost", "learned"],
            [
                [
                    task,
                    str(TRAINING_STEPS.get(task, "")),
                    " / ".join(f"{r['regret']:.1f}" for r in runs),
                    f"{max(r['cost'] for r in runs):.2f}",
                    " / ".join("yes" if r["learned"] else "no" for r in runs),
                ]
                for task, runs in by_task.items()
            ],
        )
    )
    return "\n".join(lines) + "\n"


TRAINING_STEPS: dict[str, int] = {}


def main(argv: list[str] | None = None) -> int:
    for name, seeds in search_table.load().items():
        TRAINING_STEPS[name] = next(iter(seeds.values()))["training_steps"]
    return study.main(argv, __doc__, ENTRIES, measure, report, split.tuning_tasks)


if __name__ == "__main__":
    import os
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
