"""Suggestion quality of the learning-rate range test: `python -m benchmarks.quality`.

Computes what is missing of the ground truth (`benchmarks.runner`, cached per entry under
`benchmarks/.cache/`), exports it to the committed JSON files under
`benchmarks/results/ground_truth/` (`benchmarks.store`), scores every method and baseline
(`benchmarks.evaluate`) and writes the report `benchmarks/results/quality.md`
(`benchmarks.report`). `--score-only` skips the first two steps: it rescores the committed
results in seconds, on a fresh clone too.

```python
from benchmarks.quality import DEFAULT_METHODS, load_results, score_methods

results = load_results()
table = score_methods(results, {**DEFAULT_METHODS, "mine": lambda r: r.suggest("valley") * 2})
table.mean_regret("mine", "evaluation"), table.worst_regret("mine", "evaluation")
```
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks import cache, report, runner, store, study, trainings
from benchmarks.evaluate import DEFAULT_METHODS, QualityTable, complete_versions, score_methods
from benchmarks.store import load_results
from benchmarks.study import RESULTS_DIR
from benchmarks.tasks import ALL_TASKS, TASKS_BY_NAME

QUICK_TASKS = (
    "mlp_adam_digits",
    "mlp_nadam_shapes24",
    "finetune_frozen_adam_blobs",
    "mixer_lion_digits_b256",
)
"""The quick mode's smoke test (about 2 minutes): three tuning tasks (an original one, a
fine-tuned backbone, a Mixer with Lion at batch size 256) and issue 10's noisy evaluation
task."""

__all__ = ["DEFAULT_METHODS", "QualityTable", "load_results", "main", "score_methods"]


def _current_find_best_version() -> str | None:
    try:
        return trainings.find_best_version()
    except (ImportError, FileNotFoundError):
        return None


def _find_best_version(results, current: str | None) -> str | None:
    """The `current` code's `find_best_learning_rate` version if every task has it, else
    the only version every task has, else `None`."""
    complete = complete_versions(results)
    if current in complete:
        return current
    return next(iter(complete)) if len(complete) == 1 else None


def _search_seeds(results, version: str | None) -> list[int]:
    """The search seeds other than 0 every task has entries of `version` for."""
    if version is None:
        return []
    prefix = f"{version}{cache.SEARCH_SEED_MARK}"
    keys = complete_versions(results, search_seeds=True)
    seeds = [key[len(prefix) :] for key in keys if key.startswith(prefix)]
    return sorted(int(seed) for seed in seeds if seed.isdigit())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality",
        description="Suggestion quality: regret against a one-cycle grid, by task split.",
    )
    parser.add_argument("--quick", action="store_true", help="Smoke test: 4 tasks, 1 seed.")
    parser.add_argument("--tasks", help="Comma-separated task names (default: all).")
    parser.add_argument(
        "--methods",
        default="",
        help="Extra passes to compute: `find_best` (find_best_learning_rate per seed).",
    )
    parser.add_argument(
        "--search-seed",
        type=int,
        default=0,
        help="find_best_learning_rate's own `seed` (validation split, batch order) for the "
        "find_best pass; entries of a seed other than 0 are scored as a column of their own.",
    )
    parser.add_argument("--score-only", action="store_true", help="Rescore; train nothing.")
    parser.add_argument("--plots", action="store_true", help="One PNG per task.")
    parser.add_argument("--cache-dir", type=Path, default=cache.CACHE_DIR)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    arguments = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    mode = "quick" if arguments.quick else "full"
    if arguments.tasks:
        names = arguments.tasks.split(",")
    else:
        names = list(QUICK_TASKS) if arguments.quick else [task.name for task in ALL_TASKS]
    unknown = [name for name in names if name not in TASKS_BY_NAME]
    if unknown:
        parser.error(f"Unknown task(s) {unknown}. Expected some of {list(TASKS_BY_NAME)}.")
    if not arguments.score_only:
        study.configure_threads(1)
        passes = ["ground_truth", *filter(None, arguments.methods.split(","))]
        seeded = store.seed_cache(mode, arguments.cache_dir, arguments.results_dir)
        print(f"{seeded} cache entries taken from the committed results", flush=True)
        started = time.perf_counter()
        counts = runner.run(
            cache.MODES[mode],
            [TASKS_BY_NAME[name] for name in names],
            arguments.cache_dir,
            log=lambda line: print(f"{time.perf_counter() - started:7.0f}s {line}", flush=True),
            passes=passes,
            search_seed=arguments.search_seed,
        )
        print(f"computed {counts['computed']}, cached {counts['cached']}", flush=True)
        store.export(mode, arguments.cache_dir, arguments.results_dir, names)
    results = load_results(mode, arguments.results_dir, names)
    if not results:
        print(f"No results for mode {mode!r} under {arguments.results_dir}.", file=sys.stderr)
        return 1
    current = _current_find_best_version()
    version = _find_best_version(results, current)
    note = ""
    if version is not None and version != current:
        note = (
            f"`find_best_learning_rate` is scored from its results of code version {version}; "
            f"the code is now version {current} (`python -m benchmarks.quality --methods "
            "find_best` computes its results)."
        )
        print(note, file=sys.stderr)
    table = score_methods(
        results, find_best_version=version, search_seeds=_search_seeds(results, version)
    )
    text = report.render(table, mode, study.machine_info(), note)
    stem = "quality" if mode == "full" else "quality_quick"
    (arguments.results_dir / f"{stem}.md").write_text(text)
    summary = {
        method: {
            split: {
                "mean": table.mean_regret(method, split),
                "worst": table.worst_regret(method, split),
            }
            for split in ("evaluation", "tuning")
        }
        | {"cost": table.median_cost(method)}
        for method in table.methods
    }
    (arguments.results_dir / f"{stem}.json").write_text(json.dumps(summary, indent=1) + "\n")
    if arguments.plots:
        plots = arguments.results_dir / "plots"
        plots.mkdir(parents=True, exist_ok=True)
        for task in table.tasks:
            report.plot_task(table, task, plots / f"{stem}_{task}.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
