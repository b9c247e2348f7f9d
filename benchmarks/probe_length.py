"""How long `find_best_learning_rate`'s probes must be, and what they favour: a measurement.

`keras_lrfind.find_best_learning_rate` judges candidate peak learning rates by short probe
trainings, each a compressed one-cycle (warm-up and anneal within the probe), scored on a
validation split of the training data. Short probes are known to favour the wrong learning
rates (short-horizon bias, Wu et al. 2018). This script measures how the pick moves with
the probe's length, on TUNING tasks of the benchmark only (never an evaluation task), one
seed, to keep it small (the machine is shared):

1. `probes`: for probe lengths of 1/32 to 1 of one full training (the task's epochs x
   steps per epoch), a fresh model (the init a training starts from) trained with
   `OneCycle(max_lr, probe_steps)` at every `max_lr` of the task's ground-truth grid, on
   the training split (90% of the training data, seeded split, fixed order, as
   `find_best_learning_rate` does), scored on the held-out 10% (loss and accuracy). A pick
   is scored by its regret against the ground truth (test accuracy of full one-cycle
   trainings on all the training data, seed mean, `benchmarks/results/quality.json`),
   interpolated linearly in log10(lr).
2. `end-to-end`: `find_best_learning_rate` with its defaults on each task, from the model a
   training starts from, with one training timed next to it; its range test, bracket and
   probes are recorded.
3. A replay of search designs on the recorded probes (candidates snapped to the grid): one
   rung of probes against successive halving at the same cost, candidate counts, bracket
   widths and the correction for the short probes' bias, each design averaged over
   bracket widths so that a design does not win by one lucky bracket.

Run `python -m benchmarks.probe_length probes`, then `... end-to-end`, then `... report`
(the default). Results go to `benchmarks/results/probe_length.json` as they come (a rerun
computes only what is missing), the report to `benchmarks/results/probe_length.md`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from benchmarks import cache, study, trainings
from benchmarks.probe_length_report import (
    FRACTIONS,
    INIT_SEED,
    REPORT_PATH,
    SPLIT_SEED,
    TRAINED_CORRECTIONS,
    VALIDATION_SPLIT,
    load_ground_truth,
    load_results,
    report,
    save_results,
)
from keras_lrfind.search._data import num_validation

# Tuning tasks only: the six original tasks are tuning tasks by the benchmark's split rule.
# resnet_sgd_gratings is left out of the probe grid (14 s a training, 6 times slower).
PROBE_TASKS = (
    "mlp_adam_digits",
    "cnn_sgd_digits16",
    "bncnn_adamw_shapes",
    "cnn_adam_gratings",
    "mlp_sgd_shapes",
)
END_TO_END_TASKS = (*PROBE_TASKS, "resnet_sgd_gratings")
# The shortest probe measured. Not the library's `MIN_PROBE_STEPS` (8 since this study ran):
# the recorded probes of the 188-step tasks are 6 steps long at 1/32 of a training, and a
# rerun computes only the probes missing from `probe_length.json`, keyed by their steps.
MIN_PROBE_STEPS = 6


def _evaluation_tasks() -> set[str]:
    """Names of the benchmark's evaluation tasks (empty if the split module is absent)."""
    try:
        from benchmarks import split
    except ImportError:
        return set()
    return set(split.evaluation_tasks())


def _check_tuning(name: str) -> None:
    if name in _evaluation_tasks():
        raise SystemExit(f"{name} is an evaluation task: only tuning tasks are measured here.")


def split_indices(num_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The split `find_best_learning_rate` makes: `(train, validation)` indices (Keras's
    rounding, seeded order)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(num_samples)
    count = num_validation(num_samples, VALIDATION_SPLIT)
    return order[count:], order[:count]


# ---------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------
# 1. Probes of every length at every grid learning rate.


def run_probe(task, data, learning_rate: float, steps: int) -> dict:
    """One probe: a fresh model, `OneCycle(learning_rate, steps)`, scored on the split."""
    import keras

    from keras_lrfind import OneCycle

    train, validation = split_indices(len(data.x_train))
    x, y = data.x_train[train], task.targets(data.y_train[train], data.num_classes)
    model = trainings.build(
        task, data, INIT_SEED, task.optimizer(OneCycle(float(learning_rate), steps))
    )

    class StopAfter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.done = getattr(self, "done", 0) + 1
            if self.done >= steps:
                self.model.stop_training = True

    epochs = math.ceil(steps / math.ceil(len(x) / task.batch_size))
    start = time.perf_counter()
    model.fit(
        x, y, batch_size=task.batch_size, epochs=epochs, shuffle=False, verbose=0,
        callbacks=[StopAfter()],
    )  # fmt: skip
    fit_seconds = time.perf_counter() - start
    logits = keras.ops.convert_to_numpy(
        model.predict(data.x_train[validation], batch_size=500, verbose=0)
    )
    labels = data.y_train[validation]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probabilities[np.arange(len(labels)), labels].mean())
    return {
        "learning_rate": float(learning_rate),
        "steps": steps,
        "validation_loss": loss if math.isfinite(loss) else None,
        "validation_accuracy": float(np.mean(np.argmax(logits, axis=1) == labels)),
        "fit_seconds": fit_seconds,
    }


def measure_probes(task_names) -> dict:
    from benchmarks.tasks import TASKS_BY_NAME

    study.configure_threads(1)
    results = load_results()
    ground_truth = load_ground_truth()
    for name in task_names:
        _check_tuning(name)
        task = TASKS_BY_NAME[name]
        data = task.data()
        training_steps = task.epochs["full"] * task.steps_per_epoch(data)
        entry = results["tasks"].setdefault(
            name, {"training_steps": training_steps, "epochs": task.epochs["full"], "probes": []}
        )
        done = {(p["learning_rate"], p["steps"]) for p in entry["probes"]}
        for fraction in FRACTIONS:
            steps = max(MIN_PROBE_STEPS, round(fraction * training_steps))
            for learning_rate in ground_truth[name].learning_rates:
                if (float(learning_rate), steps) in done:
                    continue
                probe = {**run_probe(task, data, float(learning_rate), steps), "fraction": fraction}
                entry["probes"].append(probe)
                save_results(results)
                print(f"{name} f={fraction:.4g} lr={learning_rate:.3g}: {probe}", flush=True)
    return results


# ---------------------------------------------------------------------------------------
# 2. `find_best_learning_rate` end to end.


def measure_end_to_end(task_names) -> dict:
    """`find_best_learning_rate` with its defaults on each task, seed 0, from the model a
    training starts from (the task's optimizer at its Keras default learning rate), and
    one timed one-cycle training of the same task; the order alternates between tasks."""
    from benchmarks.tasks import TASKS_BY_NAME
    from keras_lrfind import OneCycle, find_best_learning_rate

    study.configure_threads(1)
    results = load_results()
    runs = results.setdefault("end_to_end", {})
    for number, name in enumerate(task_names):
        _check_tuning(name)
        task = TASKS_BY_NAME[name]
        data = task.data()
        epochs = task.epochs["full"]
        y = task.targets(data.y_train, data.num_classes)
        steps = epochs * task.steps_per_epoch(data)
        seconds = {}
        for part in ("search", "training")[:: 1 if number % 2 == 0 else -1]:
            if part == "training":
                model = trainings.build(
                    task, data, INIT_SEED, task.optimizer(OneCycle(0.01, steps))
                )
                start = time.perf_counter()
                model.fit(data.x_train, y, batch_size=task.batch_size, epochs=epochs, verbose=0)
            else:
                model = trainings.build(
                    task, data, INIT_SEED, task.optimizer(task.keras_default_lr)
                )
                start = time.perf_counter()
                details = find_best_learning_rate(
                    model, data.x_train, y, batch_size=task.batch_size, epochs=epochs,
                    verbose=0, return_details=True,
                )  # fmt: skip
            seconds[part] = time.perf_counter() - start
        previous = runs.get(name, {})
        runs[name] = {
            **(
                {"trained": previous["trained"]} if previous.get("winner") == details.winner else {}
            ),
            "max_lr": details.max_lr,
            "winner": details.winner,
            "bracket": list(details.bracket),
            "candidates": list(details.candidates),
            "validation_losses": [
                v if math.isfinite(v) else None for v in details.validation_losses
            ],
            "probe_steps": details.probe_steps,
            "steps": details.steps,
            "training_steps": details.training_steps,
            "search_seconds": seconds["search"],
            "training_seconds": seconds["training"],
            "range_test": {
                "learning_rates": details.range_test.learning_rates.tolist(),
                "losses": [v if math.isfinite(v) else None for v in details.range_test.losses],
            },
        }
        save_results(results)
        print(f"{name}: {details!r}, training {seconds['training']:.1f} s", flush=True)
    return results


def train_picks(task_names) -> dict:
    """Trains each task once (seed 0) at `winner / correction` of its end-to-end run for
    every correction in `TRAINED_CORRECTIONS`: the test accuracy a user gets, not an
    interpolation between grid points (which cannot see a cliff between two of them)."""
    from benchmarks.tasks import TASKS_BY_NAME

    study.configure_threads(1)
    results = load_results()
    for name in task_names:
        _check_tuning(name)
        run = results["end_to_end"][name]
        task = TASKS_BY_NAME[name]
        data = task.data()
        trained = run.setdefault("trained", {})
        for correction in TRAINED_CORRECTIONS:
            if str(correction) in trained:
                continue
            learning_rate = run["winner"] / correction
            entry = trainings.train(
                task, data, cache.MODES["full"], INIT_SEED, "one_cycle", learning_rate
            )
            trained[str(correction)] = {
                "learning_rate": learning_rate,
                "accuracy": entry["accuracy"],
            }
            save_results(results)
            print(f"{name} winner/{correction:g}: {entry['accuracy']:.3f}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "part", nargs="?", default="report", choices=["probes", "end-to-end", "picks", "report"]
    )
    parser.add_argument("--tasks", default=None, help="comma-separated task names")
    args = parser.parse_args(argv)
    if args.part == "probes":
        measure_probes(args.tasks.split(",") if args.tasks else PROBE_TASKS)
    elif args.part == "end-to-end":
        measure_end_to_end(args.tasks.split(",") if args.tasks else END_TO_END_TASKS)
    elif args.part == "picks":
        train_picks(args.tasks.split(",") if args.tasks else END_TO_END_TASKS)
    REPORT_PATH.write_text(report(load_results()))
    print(REPORT_PATH.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
