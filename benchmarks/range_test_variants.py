"""What a better range test buys the default suggestion: longer, repeated, or on validation loss.

Issue 10 names three remedies for a curve the default cannot read, besides handing over to
probes (`find_best_learning_rate`, scored in `quality.md`): lengthen the test, repeat it and
average, or read the loss of a fixed validation sample. This measures each, on every task
and both seeds, by the regret of `result.suggest()` (the library's default, unchanged) on
the curve each variant records:

- `default`: the committed range test (100 steps, `LRFinder`'s defaults);
- `longer`: `num_steps=300`;
- `repeated`: the mean of the two seeds' committed curves (two range tests; both seeds
  score the same curve), over the steps both recorded;
- `validation`: 100 steps trained on all but a fixed sample of 256 training examples, whose
  loss `validation_data=` records after every step.

Nothing is chosen here: no default changes. What the README says to do about a noisy or
flat curve follows the tuning tasks' numbers (a variant is recommended only if it lowers
the default's tuning-task mean regret by at least 0.5 points without raising its worst,
a rule fixed before the `longer` and `validation` tests ran); the evaluation tasks'
numbers are reported beside them. Curves are cached in
`benchmarks/results/range_test_variants.json`; the report is
`benchmarks/results/range_test_variants.md`.

    python -m benchmarks.range_test_variants            # compute what is missing, report
    python -m benchmarks.range_test_variants --report   # report from the JSON only
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from benchmarks import cache, scoring, study, trainings
from benchmarks.store import load_results

ENTRIES = study.Entries("range_test_variants", compact=True)
VARIANTS = ("default", "longer", "repeated", "validation")
LONGER_STEPS = 300
VALIDATION_SAMPLES = 256


def _round(values) -> list:
    return [float(f"{v:.5g}") if math.isfinite(v) else None for v in np.asarray(values, float)]


def measure(task_names) -> dict:
    """Runs the `longer` and `validation` range tests missing from the JSON."""
    from benchmarks.tasks import TASKS_BY_NAME
    from keras_lrfind import LRFinder

    study.configure_threads(1)
    entries = ENTRIES.load()
    for name in task_names:
        task = TASKS_BY_NAME[name]
        data = task.data()
        y = task.targets(data.y_train, data.num_classes)
        for seed in cache.MODES["full"].seeds:
            for variant in ("longer", "validation"):
                key = f"{name}/{seed}/{variant}"
                if key in entries:
                    continue
                model = trainings.build(task, data, seed, task.optimizer(task.keras_default_lr))
                start = time.perf_counter()
                if variant == "longer":
                    result = LRFinder(model).find(
                        data.x_train, y, batch_size=task.batch_size, num_steps=LONGER_STEPS,
                        verbose=0,
                    )  # fmt: skip
                else:
                    cut = len(data.x_train) - VALIDATION_SAMPLES
                    result = LRFinder(model).find(
                        data.x_train[:cut], y[:cut], batch_size=task.batch_size, verbose=0,
                        validation_data=(data.x_train[cut:], y[cut:]),
                    )  # fmt: skip
                entries[key] = {
                    "seconds": time.perf_counter() - start,
                    "result": {
                        **result.to_dict(),
                        "losses": _round(result.losses),
                        "smoothed_losses": _round(result.smoothed_losses),
                        **(
                            {"validation_losses": _round(result.validation_losses)}
                            if result.validation_losses is not None
                            else {}
                        ),
                    },
                }
                ENTRIES.save(entries)
                print(f"{key}: {result!r}", flush=True)
    return entries


def _repeated(curves):
    """One result whose raw losses are the mean of the seeds' curves, over the steps all
    recorded (the sweeps are identical, so the learning rates agree)."""
    from keras_lrfind import LRFinderResult

    length = min(curve.num_recorded for curve in curves)
    losses = np.mean([np.asarray(c.losses[:length], float) for c in curves], axis=0)
    first = curves[0]
    smoothed, average = np.empty(length), 0.0
    for index, loss in enumerate(losses):  # fastai's moving average, with bias correction.
        average = 0.98 * average + 0.02 * loss
        smoothed[index] = average / (1 - 0.98 ** (index + 1))
    stopped = any(c.stop_reason != "completed" and c.num_recorded == length for c in curves)
    return LRFinderResult(
        learning_rates=first.learning_rates[:length],
        losses=losses,
        smoothed_losses=smoothed,
        stop_reason=next(c.stop_reason for c in curves if c.num_recorded == length)
        if stopped
        else "completed",
        start_lr=first.start_lr,
        end_lr=first.end_lr,
        num_steps=first.num_steps,
    )


def curves_by_variant(entries: dict, results) -> dict[str, dict[str, list]]:
    """`{variant: {task: [curve per seed]}}` for every task with all its curves."""
    from keras_lrfind import LRFinderResult

    seeds = cache.MODES["full"].seeds
    out: dict[str, dict[str, list]] = {variant: {} for variant in VARIANTS}
    for name, result in results.items():
        out["default"][name] = list(result.curves)
        out["repeated"][name] = [_repeated(result.curves)] * len(result.curves)
        for variant in ("longer", "validation"):
            keys = [f"{name}/{seed}/{variant}" for seed in seeds]
            if all(key in entries for key in keys):
                out[variant][name] = [LRFinderResult.from_dict(entries[k]["result"]) for k in keys]
    return out


def summarise(entries: dict) -> dict[str, dict]:
    """Per variant: the default suggestion's regret per task, by split, and the cost."""
    import warnings

    results = load_results()
    summary = {}
    for variant, by_task in curves_by_variant(entries, results).items():
        regrets, costs = {}, []
        for name, curves in by_task.items():
            grid = results[name].grid
            values = []
            for curve in curves:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        values.append(scoring.suggestion_regret(grid, curve.suggest())[0])
                    except ValueError:  # A miss: the user trains at the Keras default.
                        values.append(scoring.constant_lr_regret(grid, results[name].keras_default))
            regrets[name] = float(np.mean(values))
            tests = 2 if variant == "repeated" else 1
            costs.append(tests * curves[0].num_recorded / results[name].training_steps)
        if not regrets:
            continue
        summary[variant] = {
            "regrets": regrets,
            "splits": {name: results[name].split for name in regrets},
            "cost": float(np.median(costs)),
        }
        for which in ("tuning", "evaluation"):
            values = [r for name, r in regrets.items() if results[name].split == which]
            if values:
                summary[variant][f"{which}_mean"] = float(np.mean(values))
                summary[variant][f"{which}_worst"] = float(np.max(values))
    return summary


def report(entries: dict) -> str:
    summary = summarise(entries)
    variants = [v for v in VARIANTS if v in summary]
    header = ["variant", "tuning mean", "tuning worst", "eval mean", "eval worst", "range test"]
    rows = [
        [
            v,
            *(
                f"{summary[v].get(k, math.nan):.1f}"
                for k in ("tuning_mean", "tuning_worst", "evaluation_mean", "evaluation_worst")
            ),
            f"{summary[v]['cost']:.2f}",
        ]
        for v in variants
    ]
    tasks = list(summary["default"]["regrets"])
    splits = summary["default"]["splits"]
    per_task = [
        [t, splits[t], *(f"{summary[v]['regrets'].get(t, math.nan):.1f}" for v in variants)]
        for t in sorted(tasks, key=lambda t: splits[t])
    ]
    return "\n".join(
        [
            "# The default suggestion on better range tests",
            "",
            "Generated by `python -m benchmarks.range_test_variants` (its docstring says what "
            "each variant records). Regret of `result.suggest()` in accuracy points (seed "
            "mean per task, from the committed ground truth); *range test*: its steps per "
            "training step (median over tasks; two tests for `repeated`). Nothing is chosen "
            "here.",
            "",
            scoring.markdown_table(header, rows),
            "",
            "Per task:",
            "",
            scoring.markdown_table(["task", "split", *variants], per_task),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    return study.main(argv, __doc__, ENTRIES, measure, report, lambda: list(load_results()))


if __name__ == "__main__":
    sys.exit(main())
