"""What `find_best_learning_rate` sees on the TUNING tasks: its range tests and probes, recorded.

A search design (how long the range test, where the candidates, when to extend or lengthen
the probes, what counts as learning) is a function of what its range test and probes
return. This module runs them once, with the library's own machinery on the model a training
of the task starts from (the same split, the same order of batches, the same restore
between probes), and records every outcome, so that `benchmarks.search_design` compares
designs by replaying the library's planner on the table, in seconds, instead of training.

Per tuning task and seed (the seed of the model's initialisation; the validation split is
`find_best_learning_rate`'s default, seed 0):

- the baselines a probe must beat: the untrained model's validation loss and the constant
  prediction's (`keras_lrfind.search`'s `constant_loss`);
- range tests of `RANGE_TEST_STEPS` steps (1e-7 to 10), their learning rates and losses;
- probes (a compressed one-cycle of `steps` steps at peak `max_lr`, from the initial
  weights, judged by the validation loss) at every learning rate of the task's ground-truth
  grid and a decade either side, for lengths of a sixteenth, an eighth and a quarter of the
  training and 32 and 64 steps (at least 8, at most half the training).

The probes are judged on batch-norm statistics recomputed at their weights, and the
untrained model on its own starting statistics, as the library judged them when the table
was recorded. The library now blends the recomputed statistics with the starting ones in
the proportion its training keeps them (`momentum ** training_steps`; see
`keras_lrfind.search._probes.recalibrate_batch_norm`) and judges the untrained model the
same way, so on the tasks with batch-norm layers a replay reads the earlier judgement.
The library's own answers on every task come from `benchmarks.quality`'s `find_best` pass,
and the choice between the two judgements was made there, on the tuning tasks
(`CHANGELOG.md`). Recording the table again with the new judgement is left to a later run.
The table holds no probe's weight change either, so in a replay no probe is inert and the
planner's climb past inert probes never fires; that rule, too, was measured in full
searches.

Entries are cached under `benchmarks/.cache/search_table/` as they come; `--export` writes
the committed table `benchmarks/results/search_table.json`, which is all the design study
reads. Run: `python -m benchmarks.search_table [--tasks a,b] [--seeds 0,1,2] [--export]`.
Only tuning tasks are accepted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from benchmarks import scoring, split, study, trainings
from benchmarks.tasks import TASKS_BY_NAME

CACHE = study.BENCHMARK_DIR / ".cache" / "search_table"
TABLE = study.RESULTS_DIR / "search_table.json"
RANGE_TEST_STEPS = (32, 64, 128, 256)
PROBE_FRACTIONS = (1 / 16, 1 / 8, 1 / 4)
PROBE_STEPS = (32, 64)
MIN_PROBE_STEPS = 8
SEEDS = (0, 1, 2)


def probe_lengths(training_steps: int) -> list[int]:
    """The probe lengths recorded for a training of `training_steps` steps."""
    lengths = {max(MIN_PROBE_STEPS, round(f * training_steps)) for f in PROBE_FRACTIONS}
    lengths |= {steps for steps in PROBE_STEPS if steps <= training_steps / 2}
    return sorted(length for length in lengths if length <= max(training_steps / 2, 8))


def probe_learning_rates(task) -> np.ndarray:
    """The ground-truth grid of the task (as committed) and a decade either side."""
    grid = json.loads((study.RESULTS_DIR / "ground_truth" / f"{task.name}.json")
                      .read_text())["grid"]["learning_rates"]  # fmt: skip
    return scoring.grid_learning_rates(min(grid) / 10, max(grid) * 10, 3)


def key(learning_rate: float, steps: int) -> str:
    return f"{learning_rate:.4e}|{steps}"


def _path(name: str, seed: int) -> Path:
    return CACHE / f"{name}-s{seed}.json"


def _load(name: str, seed: int) -> dict:
    """The cached entry, else the committed table's (a fresh clone has no cache)."""
    path = _path(name, seed)
    if path.exists():
        return json.loads(path.read_text())
    if TABLE.exists():
        return load().get(name, {}).get(str(seed), {})
    return {}


def _range_test_entry(result) -> dict:
    """A range test as the table stores it (7 significant digits; NaN as `None`)."""
    return {
        "learning_rates": [float(f"{v:.7g}") for v in result.learning_rates],
        "losses": [float(f"{v:.7g}") if math.isfinite(v) else None for v in result.losses],
        "stop_reason": result.stop_reason,
    }


def _probe_entry(session, learning_rate: float, steps: int) -> float | None:
    """One probe's validation loss as the table stores it (`None` when not finite)."""
    loss = session.probe(float(learning_rate), steps).logs["loss"]
    return loss if math.isfinite(loss) else None


def _save(name: str, seed: int, entry: dict) -> None:
    path = _path(name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(entry))
    os.replace(temporary, path)


def measure(name: str, seed: int, log=print) -> dict:
    """Computes what is missing of one task and seed; returns its entry."""
    from keras_lrfind.search._baselines import constant_loss
    from keras_lrfind.search._data import prepare
    from keras_lrfind.search._probes import ProbeSession, Progress

    if name not in split.tuning_tasks():
        raise SystemExit(f"{name} is not a tuning task: only tuning tasks are measured here.")
    task = TASKS_BY_NAME[name]
    entry = _load(name, seed)
    data = task.data()
    if task.prepare is not None:
        task.prepare()
    training_steps = task.epochs["full"] * task.steps_per_epoch(data)
    lengths = probe_lengths(training_steps)
    learning_rates = probe_learning_rates(task)
    entry.setdefault("training_steps", training_steps)
    range_tests = entry.setdefault("range_tests", {})
    probes = entry.setdefault("probes", {})
    missing_tests = [n for n in RANGE_TEST_STEPS if str(n) not in range_tests]
    missing = [(lr, n) for n in lengths for lr in learning_rates if key(lr, n) not in probes]
    if not missing_tests and not missing and "untrained_loss" in entry:
        return entry
    model = trainings.build(task, data, seed, task.optimizer(task.keras_default_lr))
    targets = task.targets(data.y_train, data.num_classes)
    probe_data = prepare(data.x_train, targets, task.batch_size, None, 0.1, 0)
    started = time.perf_counter()
    with ProbeSession(model, probe_data, [], Progress(0, 0)) as session:
        entry["untrained_loss"] = session.evaluate()["loss"]
        entry["constant_loss"] = constant_loss(model, probe_data.validation)
        for num_steps in missing_tests:
            range_tests[str(num_steps)] = _range_test_entry(session.range_test(num_steps))
            _save(name, seed, entry)
        for count, (learning_rate, steps) in enumerate(missing, start=1):
            probes[key(learning_rate, steps)] = _probe_entry(session, learning_rate, steps)
            if count % 10 == 0 or count == len(missing):
                _save(name, seed, entry)
    log(f"{name} seed {seed}: {len(missing)} probes, {len(missing_tests)} range tests in "
        f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return entry


class Oracle:
    """What the search would see on one task and seed: the table's outcomes, and on a miss
    the same measurement made now (the model and session are built on the first miss)."""

    def __init__(self, name: str, seed: int, entry: dict | None = None):
        self.name, self.seed = name, seed
        self.entry = entry if entry is not None else _load(name, seed)
        self._session = None
        self.computed = 0

    @property
    def training_steps(self) -> int:
        return self.entry["training_steps"]

    def _open(self):
        from keras_lrfind.search._data import prepare
        from keras_lrfind.search._probes import ProbeSession, Progress

        if self._session is None:
            task = TASKS_BY_NAME[self.name]
            data = task.data()
            if task.prepare is not None:
                task.prepare()
            model = trainings.build(task, data, self.seed, task.optimizer(task.keras_default_lr))
            targets = task.targets(data.y_train, data.num_classes)
            probe_data = prepare(data.x_train, targets, task.batch_size, None, 0.1, 0)
            self._session = ProbeSession(model, probe_data, [], Progress(0, 0)).__enter__()
        return self._session

    def range_test(self, num_steps: int) -> dict:
        tests = self.entry.setdefault("range_tests", {})
        if str(num_steps) not in tests:
            tests[str(num_steps)] = _range_test_entry(self._open().range_test(num_steps))
            self.computed += 1
            _save(self.name, self.seed, self.entry)
        return tests[str(num_steps)]

    def probe(self, learning_rate: float, steps: int) -> float:
        probes = self.entry.setdefault("probes", {})
        if key(learning_rate, steps) not in probes:
            probes[key(learning_rate, steps)] = _probe_entry(self._open(), learning_rate, steps)
            self.computed += 1
            _save(self.name, self.seed, self.entry)
        loss = probes[key(learning_rate, steps)]
        return math.nan if loss is None else loss

    def close(self) -> None:
        if self._session is not None:
            self._session.__exit__(None, None, None)
            self._session = None


def export(names, seeds=SEEDS) -> dict:
    """Writes the committed table from the cache (complete entries only); returns it."""
    table = {}
    for name in names:
        for seed in seeds:
            entry = _load(name, seed)
            if "untrained_loss" in entry:
                table.setdefault(name, {})[str(seed)] = entry
    TABLE.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
    return table


def load() -> dict:
    """The committed table: `{task: {seed: entry}}`."""
    return json.loads(TABLE.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", help="Comma-separated tuning tasks (default: all).")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--export", action="store_true", help="Only write the table.")
    arguments = parser.parse_args(argv)
    names = arguments.tasks.split(",") if arguments.tasks else list(split.tuning_tasks())
    seeds = [int(seed) for seed in arguments.seeds.split(",")]
    if not arguments.export:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        study.configure_threads(1)
        for name in names:
            for seed in seeds:
                measure(name, seed, log=lambda line: print(line, flush=True))
    table = export(list(split.tuning_tasks()), SEEDS)
    print(f"table: {sum(len(seeds) for seeds in table.values())} task-seeds in {TABLE}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
