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
import datetime
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
JSON_PATH = RESULTS_DIR / "probe_length.json"
REPORT_PATH = RESULTS_DIR / "probe_length.md"
GROUND_TRUTH_PATH = RESULTS_DIR / "quality.json"

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
FRACTIONS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
VALIDATION_SPLIT = 0.1
SPLIT_SEED = 0
INIT_SEED = 0
MIN_PROBE_STEPS = 6
CODE_VERSION = "1"


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
    count = num_samples - math.ceil(num_samples * (1 - VALIDATION_SPLIT))
    return order[count:], order[:count]


def _fresh_model(task, data, optimizer):
    """The model a training of `task` starts from (init seed 0), compiled with `optimizer`."""
    import keras

    keras.utils.set_random_seed(INIT_SEED)
    model = task.model(data.x_train.shape[1:], data.num_classes)
    model.compile(optimizer=optimizer, loss=task.loss())
    return model


def _one_thread() -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


# ---------------------------------------------------------------------------------------
# 1. Probes of every length at every grid learning rate.


def run_probe(task, data, learning_rate: float, steps: int) -> dict:
    """One probe: a fresh model, `OneCycle(learning_rate, steps)`, scored on the split."""
    import keras

    from keras_lrfind import OneCycle

    train, validation = split_indices(len(data.x_train))
    x, y = data.x_train[train], task.targets(data.y_train[train], data.num_classes)
    model = _fresh_model(task, data, task.optimizer(OneCycle(float(learning_rate), steps)))

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

    _one_thread()
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
            for learning_rate in ground_truth[name][0]:
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

    _one_thread()
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
                model = _fresh_model(task, data, task.optimizer(OneCycle(0.01, steps)))
                start = time.perf_counter()
                model.fit(data.x_train, y, batch_size=task.batch_size, epochs=epochs, verbose=0)
            else:
                model = _fresh_model(task, data, task.optimizer(task.keras_default_lr))
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


TRAINED_CORRECTIONS = (1.0, 1.5, 2.0, 3.0)


def train_picks(task_names) -> dict:
    """Trains each task once (seed 0) at `winner / correction` of its end-to-end run for
    every correction in `TRAINED_CORRECTIONS`: the test accuracy a user gets, not an
    interpolation between grid points (which cannot see a cliff between two of them)."""
    from benchmarks import runner
    from benchmarks.tasks import TASKS_BY_NAME

    _one_thread()
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
            entry = runner.train(
                task, data, runner.MODES["full"], INIT_SEED, "one_cycle", learning_rate
            )
            trained[str(correction)] = {
                "learning_rate": learning_rate,
                "accuracy": entry["accuracy"],
            }
            save_results(results)
            print(f"{name} winner/{correction:g}: {entry['accuracy']:.3f}", flush=True)
    return results


# ---------------------------------------------------------------------------------------
# Ground truth, scoring and the replay of search designs (pure NumPy).


def load_ground_truth(path: Path = GROUND_TRUTH_PATH) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`{task: (learning_rates, seed-mean test accuracies)}` of the full one-cycle grids."""
    data = json.loads(path.read_text())
    return {
        name: (np.asarray(task["learning_rates"]), np.asarray(task["accuracies"]).mean(axis=1))
        for name, task in data["tasks"].items()
    }


def regret(ground_truth: tuple[np.ndarray, np.ndarray], learning_rate: float) -> float:
    """Accuracy points lost against the grid's best, interpolated in log10(lr), clipped."""
    learning_rates, accuracies = ground_truth
    position = np.clip(np.log10(learning_rate), *np.log10(learning_rates[[0, -1]]))
    accuracy = np.interp(position, np.log10(learning_rates), accuracies)
    return float(100 * (accuracies.max() - accuracy))


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
                            table, ground_truth[name][0], candidates, fractions, objective
                        )
                        regrets.append(regret(ground_truth[name], pick / correction))
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


# ---------------------------------------------------------------------------------------
# Report.


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
            best = float(truth[0][np.argmax(truth[1])])
            table = probe_table(results, name)
            cells = []
            for fraction in FRACTIONS:
                probes = list(table.get(fraction, {}).values())
                if len(probes) < len(truth[0]):
                    cells.append("-")
                    continue
                chosen = max(probes, key=lambda p: _score(p, objective))["learning_rate"]
                regrets[fraction].append(regret(truth, chosen))
                cells.append(f"{chosen:.3g} (x{chosen / best:.2g}, {regrets[fraction][-1]:.1f})")
            lines.append(f"| {name} | {best:.3g} | " + " | ".join(cells) + " |")
        means = [f"**{np.mean(r):.1f}**" if r else "-" for r in regrets.values()]
        lines += ["| **mean regret** | | " + " | ".join(means) + " |", ""]
    return lines


def _trained_regret(run, truth, correction) -> float | None:
    trained = run.get("trained", {}).get(str(float(correction)))
    return None if trained is None else 100 * (truth[1].max() - trained["accuracy"])


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
        best = float(truth[0][np.argmax(truth[1])])
        interpolated.append(regret(truth, run["max_lr"]))
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
