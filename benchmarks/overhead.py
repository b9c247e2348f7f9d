"""Speed overhead of the range test: `LRFinder.find` and `LRFinderCallback` against plain `fit`.

Run with `python -m benchmarks.overhead [--quick]`.

Each comparison times, in one process and on the same small CNN (two convolutions, 28x28x1
random images, batch 32, Adam), a range test over N steps and a plain `model.fit` over the
same N batches of the same `tf.data` pipeline. The range test runs all N steps: its learning
rate stays small and `diverge_threshold` is huge. Both sides are fresh calls, as a user makes
them, so `find` includes the snapshot, the restore and any train-function rebuild. Every
contender gets its own model (same architecture, same initial weights), so that what one call
does to its model cannot slow the other down, and one warm-up call before timing. The calls
then alternate, in the reverse order every other round, and each contender's median is
reported. tf.data autotuning is off on both sides: it can stall `fit` up to 2 s at return.

The rows:

- default: `LRFinder.find` against `fit`, TensorFlow defaults.
- `steps_per_execution=8`: the model is compiled with 8 steps per execution. `find` must run
  at 1 (it records every step), so it is compared with `fit` at 8 (what the user gives up) and
  at 1 (what the test itself costs). `find` rebuilds the train function twice: the spe=1
  function is traced inside `find`, and the restored spe=8 function is traced lazily by the
  next `fit`; a separate row times that next `fit`.
- `jit_compile=True`: both compiled with XLA.
- LR schedule: Adam built with an `ExponentialDecay` schedule. The range test swaps in its
  own in-graph schedule and back, each swap a train-function rebuild: one traced inside
  `find`, one lazily by the next `fit` (its own row).
- callback: `model.fit(..., callbacks=[LRFinderCallback(num_steps=N)])` against `fit`.

The ratios are medians of wall-clock time; the CPU-time ratio (all threads of the process) is
less sensitive to other processes on a shared machine. A second table gives the per-step cost of the
callback's batch hooks and of each way to do their work (LR write, loss-tracker reset),
in a tight loop and inside real training, and the one-off snapshot and restore costs.

The full run writes its tables to `benchmarks/results/overhead.md`; `--quick` (a smoke test
with fewer steps and rounds) only prints them, unless `--output` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BATCH_SIZE = 32
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
# The sweep stays in a range where Adam cannot diverge on this model, so it runs every step.
SWEEP = {"start_lr": 1e-5, "end_lr": 1e-4, "diverge_threshold": 1e9}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The size of a run: steps per timed call and timed rounds per comparison."""

    num_steps: int
    rounds: int
    hook_calls: int
    in_loop_fits: int


FULL = Settings(num_steps=256, rounds=11, hook_calls=2000, in_loop_fits=6)
QUICK = Settings(num_steps=64, rounds=3, hook_calls=500, in_loop_fits=2)


def machine_info() -> dict[str, str]:
    """Platform, CPU and library versions, for the header of a results file."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "keras_lrfind": _source_version(),
        "platform": platform.platform(),
        "cpu": f"{cpu}, {os.cpu_count()} logical cores",
        "python": platform.python_version(),
        "tensorflow": version("tensorflow"),
        "keras": version("keras"),
        "numpy": version("numpy"),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
    }


def _source_version() -> str:
    """The git commit of the measured `keras_lrfind`, and whether its sources were edited."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        edited = subprocess.run(
            ["git", "status", "--porcelain", "--", "keras_lrfind"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"git {commit}" + (" + uncommitted changes" if edited else "")


def machine_header(info: dict[str, str]) -> str:
    """The machine info as a Markdown list."""
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


# -- Data and model -------------------------------------------------------------------------


def make_dataset(num_steps: int, seed: int = 0):
    """`num_steps` batches of random images and labels, as a `tf.data` pipeline.

    Autotuning is disabled: at the end of a short `fit` its shutdown can stall up to 2 s.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.random((num_steps * BATCH_SIZE, *IMAGE_SHAPE), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, num_steps * BATCH_SIZE)
    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE).with_options(options)


def make_cnn(schedule: bool = False, **compile_kwargs):
    """The benchmark CNN, compiled with Adam; the same initial weights on every call.

    With `schedule=True` Adam is built with an `ExponentialDecay` learning-rate schedule.
    """
    import keras

    learning_rate = (
        keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1000, decay_rate=0.9)
        if schedule
        else 1e-3
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(NUM_CLASSES),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        **compile_kwargs,
    )
    return model


# -- Contenders -----------------------------------------------------------------------------


def plain_fit(model, dataset) -> Callable[[], None]:
    """A plain one-epoch `fit` over the dataset."""

    def run():
        model.fit(dataset, epochs=1, shuffle=False, verbose=0)

    return run


def range_test(model, dataset, num_steps: int) -> Callable[[], None]:
    """`LRFinder(model).find(...)` over every batch of the dataset, checked to run them all."""
    import keras_lrfind

    def run():
        result = keras_lrfind.LRFinder(model).find(dataset, num_steps=num_steps, verbose=0, **SWEEP)
        _check_complete(result, num_steps)

    return run


def callback_fit(model, dataset, num_steps: int) -> Callable[[], None]:
    """`model.fit` with a fresh `LRFinderCallback`, checked to record every step."""
    import keras_lrfind

    def run():
        callback = keras_lrfind.LRFinderCallback(num_steps=num_steps, **SWEEP)
        model.fit(dataset, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
        _check_complete(callback.result, num_steps)

    return run


def _check_complete(result, num_steps: int) -> None:
    if result.num_recorded != num_steps or result.stop_reason != "completed":
        raise RuntimeError(
            f"The range test stopped early ({result.stop_reason!r} after "
            f"{result.num_recorded} of {num_steps} steps), so it is not comparable to `fit`."
        )


@dataclasses.dataclass
class Timings:
    """Wall-clock and process CPU seconds of each timed call of one contender."""

    wall: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def time_interleaved(
    contenders: dict[str, Callable[[], None]],
    rounds: int,
    setups: dict[str, Callable[[], None]] | None = None,
) -> dict[str, Timings]:
    """Times each contender once per round, alternating, after one untimed warm-up each.

    The order is reversed every other round, so a slow drift of the machine hits all
    contenders alike. `setups[name]`, when given, runs untimed before each of that
    contender's calls.
    """
    setups = setups or {}
    names = list(contenders)
    for name in names:
        setups.get(name, _nothing)()
        contenders[name]()
    timings = {name: Timings() for name in names}
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            setups.get(name, _nothing)()
            gc.collect()
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            contenders[name]()
            timings[name].wall.append(time.perf_counter() - wall_start)
            timings[name].cpu.append(time.process_time() - cpu_start)
    return timings


def _nothing() -> None:
    pass


# -- Comparisons ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the results table: a contender against its baseline."""

    label: str
    subject: Timings
    baseline: Timings
    num_steps: int

    @property
    def paired_ratios(self) -> list[float]:
        """Subject / baseline of each round: the two calls ran next to each other."""
        return [s / b for s, b in zip(self.subject.wall, self.baseline.wall, strict=True)]

    @property
    def ratio(self) -> float:
        """The median paired wall-clock ratio: robust to slow changes of the machine's load."""
        return statistics.median(self.paired_ratios)

    @property
    def ratio_of_medians(self) -> float:
        return self.subject.wall_median / self.baseline.wall_median

    @property
    def cpu_ratio(self) -> float:
        """The median paired ratio of process CPU time."""
        return statistics.median(
            s / b for s, b in zip(self.subject.cpu, self.baseline.cpu, strict=True)
        )

    @property
    def extra_ms_per_step(self) -> float:
        """The median paired wall-clock difference, per step, in milliseconds."""
        differences = [s - b for s, b in zip(self.subject.wall, self.baseline.wall, strict=True)]
        return statistics.median(differences) / self.num_steps * 1e3


def compare_all(settings: Settings, log: Callable[[str], None]) -> list[Row]:
    """Runs every comparison and returns the table rows."""
    steps = settings.num_steps
    dataset = make_dataset(steps)
    rows = []

    log("default ...")
    t = time_interleaved(
        {
            "find": range_test(make_cnn(), dataset, steps),
            "fit": plain_fit(make_cnn(), dataset),
        },
        settings.rounds,
    )
    rows.append(Row("default: `find` vs `fit`", t["find"], t["fit"], steps))

    log("steps_per_execution=8 ...")
    after_find_model = make_cnn(steps_per_execution=8)
    t = time_interleaved(
        {
            "find": range_test(make_cnn(steps_per_execution=8), dataset, steps),
            "fit8": plain_fit(make_cnn(steps_per_execution=8), dataset),
            "fit1": plain_fit(make_cnn(), dataset),
            "fit8_after_find": plain_fit(after_find_model, dataset),
        },
        settings.rounds,
        setups={"fit8_after_find": range_test(after_find_model, dataset, steps)},
    )
    rows += [
        Row("spe=8: `find` (runs at spe=1) vs `fit` spe=8", t["find"], t["fit8"], steps),
        Row("spe=8: `find` vs `fit` spe=1 (reference)", t["find"], t["fit1"], steps),
        Row(
            "spe=8: first `fit` after `find` (lazy retrace) vs `fit`",
            t["fit8_after_find"],
            t["fit8"],
            steps,
        ),
    ]

    log("jit_compile=True ...")
    t = time_interleaved(
        {
            "find": range_test(make_cnn(jit_compile=True), dataset, steps),
            "fit": plain_fit(make_cnn(jit_compile=True), dataset),
        },
        settings.rounds,
    )
    rows.append(Row("`jit_compile=True`: `find` vs `fit`", t["find"], t["fit"], steps))

    log("schedule ...")
    after_find_model = make_cnn(schedule=True)
    t = time_interleaved(
        {
            "find": range_test(make_cnn(schedule=True), dataset, steps),
            "fit": plain_fit(make_cnn(schedule=True), dataset),
            "fit_after_find": plain_fit(after_find_model, dataset),
        },
        settings.rounds,
        setups={"fit_after_find": range_test(after_find_model, dataset, steps)},
    )
    rows += [
        Row("LR schedule: `find` vs `fit`", t["find"], t["fit"], steps),
        Row(
            "LR schedule: first `fit` after `find` (lazy retrace) vs `fit`",
            t["fit_after_find"],
            t["fit"],
            steps,
        ),
    ]

    log("callback ...")
    t = time_interleaved(
        {
            "callback": callback_fit(make_cnn(), dataset, steps),
            "fit": plain_fit(make_cnn(), dataset),
        },
        settings.rounds,
    )
    rows.append(
        Row("callback: `fit` + `LRFinderCallback` vs `fit`", t["callback"], t["fit"], steps)
    )
    return rows


def rows_table(rows: list[Row]) -> str:
    """The comparison rows as a Markdown table."""
    lines = [
        "| comparison | N | subject (s) | baseline (s) | ratio | paired ratios min-max "
        "| ratio of medians | CPU ratio | extra per step (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        paired = row.paired_ratios
        lines.append(
            f"| {row.label} | {row.num_steps} | {row.subject.wall_median:.3f} "
            f"| {row.baseline.wall_median:.3f} | **{row.ratio:.3f}** "
            f"| {min(paired):.2f}-{max(paired):.2f} | {row.ratio_of_medians:.3f} "
            f"| {row.cpu_ratio:.3f} | {row.extra_ms_per_step:+.2f} |"
        )
    return "\n".join(lines)


# -- The per-step hook costs, piece by piece ------------------------------------------------


def per_call_us(
    operations: dict[str, Callable[[], object]], calls: int, blocks: int = 9
) -> dict[str, float]:
    """The time of one call of each operation in a tight loop, in microseconds.

    Each operation runs `calls` times in a block; the blocks of all operations alternate, and
    each operation's fastest block mean is returned: the cost without interference from
    other processes (as `timeit` advises).
    """
    for operation in operations.values():
        operation()
    means: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(blocks):
        for name, operation in operations.items():
            start = time.perf_counter()
            for _ in range(calls):
                operation()
            means[name].append((time.perf_counter() - start) / calls)
    return {name: min(values) * 1e6 for name, values in means.items()}


def _step_probe(operation: Callable[[], object], parity: int):
    """A callback that runs `operation` at the start of every other step and clocks all steps.

    It records the wall-clock and process CPU time at every `on_train_batch_begin`, so each
    step's duration, hook included, is the difference to the next one.
    """
    import keras

    class StepProbe(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.wall: list[float] = []
            self.cpu: list[float] = []

        def on_train_batch_begin(self, batch, logs=None):
            self.wall.append(time.perf_counter())
            self.cpu.append(time.process_time())
            if batch % 2 == parity:
                operation()

        def on_train_batch_end(self, batch, logs=None):
            pass

    return StepProbe()


def in_loop_us(
    model, dataset, operations: dict[str, Callable[[], object]], fits: int
) -> dict[str, tuple[float, float]]:
    """The extra time of each operation inside real training, per step, in microseconds.

    Isolated loops flatter small eager operations; between train steps they cost more. Each
    `fit` runs the operation on every other step only, and compares the median duration of
    those steps with the median of the others, so that changes of the machine's load,
    slower than a step, cancel. The parity alternates between fits. Returns the median over
    `fits` of the CPU-time and of the wall-clock difference.
    """
    differences: dict[str, list[tuple[float, float]]] = {name: [] for name in operations}
    for fit_index in range(fits):
        parity = fit_index % 2
        for name, operation in operations.items():
            probe = _step_probe(operation, parity)
            model.fit(dataset, epochs=1, shuffle=False, verbose=0, callbacks=[probe])
            durations = [np.diff(probe.cpu), np.diff(probe.wall)]
            with_operation = np.arange(len(durations[0])) % 2 == parity
            differences[name].append(
                tuple(
                    float(np.median(d[with_operation]) - np.median(d[~with_operation]))
                    for d in durations
                )
            )
    return {
        name: (
            statistics.median(cpu for cpu, _ in values) * 1e6,
            statistics.median(wall for _, wall in values) * 1e6,
        )
        for name, values in differences.items()
    }


@dataclasses.dataclass(frozen=True)
class HookCosts:
    """The measured costs of the callback's work, in µs: per step and one-off.

    `rows` holds `(label, isolated µs, in-loop CPU µs, in-loop wall µs)`.
    """

    rows: list[tuple[str, float, float | None, float | None]]
    step_us: float
    hooks_in_loop_us: float
    one_off_us: float


def hook_costs(settings: Settings, step_us: float, log: Callable[[str], None]) -> HookCosts:
    """What the callback does per step, and one-off, each measured on its own."""
    import keras
    import tensorflow as tf

    import keras_lrfind

    calls = settings.hook_calls
    dataset = make_dataset(settings.num_steps)
    model = make_cnn()
    model.fit(dataset, epochs=1, shuffle=False, verbose=0)  # Builds and traces everything.
    learning_rate = model.optimizer.learning_rate
    tracker = next(metric for metric in model.metrics if metric.name == "loss")
    logs = {"loss": 2.3, "compile_metrics": 0.1}  # Keras passes Python floats to callbacks.

    # The library's hooks, driven by hand; its sweep (the longest the library accepts) is
    # longer than every call below (9 blocks of `hook_calls`, then the fits in the loop).
    callback = keras_lrfind.LRFinderCallback(num_steps=100_000, **SWEEP)
    callback.set_model(model)
    callback.set_params({"epochs": 1, "steps": None, "verbose": 0})
    callback.on_train_begin()

    def both_hooks():
        callback.on_train_batch_begin(0)
        callback.on_train_batch_end(0, logs)

    # The ways to do the hooks' work: write the learning rate, reset the loss tracker's
    # `total` and `count`, read the batch loss. Values prebuilt as NumPy or tensors.
    lr64 = np.float64(1e-4)
    lr32 = np.float32(1e-4)
    lr_tensor = keras.ops.convert_to_tensor(1e-4, "float32")
    zeros = [np.zeros(v.shape, v.dtype) for v in tracker.variables]
    zero_tensors = [keras.ops.zeros(v.shape, v.dtype) for v in tracker.variables]
    backend_lr = learning_rate.value  # The backend `tf.Variable` behind the Keras variable.
    backend_tracker = [variable.value for variable in tracker.variables]

    def keras_prebuilt_reset():
        for variable, zero in zip(tracker.variables, zero_tensors, strict=True):
            variable.assign(zero)

    def backend_reset():
        for variable, zero in zip(backend_tracker, zeros, strict=True):
            variable.assign(zero)

    @tf.function
    def fused(lr):
        backend_lr.assign(lr)
        for variable, zero in zip(backend_tracker, zero_tensors, strict=True):
            variable.assign(zero)

    operations = {
        "`LRFinderCallback` batch hooks, begin + end (the library as installed)": both_hooks,
        "LR write: Keras `learning_rate.assign(np.float64)`": lambda: learning_rate.assign(lr64),
        "LR write: Keras `assign` of a prebuilt float32 tensor": (
            lambda: learning_rate.assign(lr_tensor)
        ),
        "LR write: backend `learning_rate.value.assign(np.float32)` (TF)": (
            lambda: backend_lr.assign(lr32)
        ),
        "tracker reset: Keras `reset_state()` (2 Keras `assign(0)`)": tracker.reset_state,
        "tracker reset: 2 Keras `assign`s of prebuilt zero tensors": keras_prebuilt_reset,
        "tracker reset: 2 backend `assign`s of prebuilt NumPy zeros (TF)": backend_reset,
        "LR write + reset fused in one `tf.function` call (TF)": lambda: fused(lr_tensor),
        "no reset: read `loss_tracker.count` to undo the running mean": (
            lambda: tracker.count.numpy()
        ),
        '`float(logs["loss"])` (Keras already passes a float)': lambda: float(logs["loss"]),
        "nothing (the noise floor of the in-training measurement)": _nothing,
    }
    isolated = per_call_us(operations, calls)
    log("hook costs in the training loop ...")
    in_loop = in_loop_us(model, dataset, operations, settings.in_loop_fits)
    callback.restore()

    def begin_and_restore():  # `on_train_begin` takes the snapshot, `restore` writes it back.
        callback.on_train_begin()
        callback.restore()

    one_off = per_call_us(
        {"snapshot": callback.on_train_begin, "both": begin_and_restore},
        max(calls // 50, 10),
        blocks=5,
    )
    one_off["restore"] = one_off.pop("both") - one_off["snapshot"]
    callback.restore()
    metric_variables = [v for metric in model.metrics for v in metric.variables]
    count = len({id(v) for v in model.variables + model.optimizer.variables + metric_variables})
    rows: list[tuple[str, float, float | None, float | None]] = [
        (label, isolated[label], *in_loop[label]) for label in operations
    ]
    rows += [
        (
            f"one-off: `on_train_begin`, snapshot of {count} variables",
            one_off["snapshot"],
            None,
            None,
        ),
        (f"one-off: restore of {count} variables", one_off["restore"], None, None),
    ]
    hooks_label = next(iter(operations))
    return HookCosts(
        rows=rows,
        step_us=step_us,
        hooks_in_loop_us=in_loop[hooks_label][0],
        one_off_us=one_off["snapshot"] + one_off["restore"],
    )


def costs_table(costs: HookCosts) -> str:
    """The hook costs as a Markdown table."""
    lines = [
        "| operation | isolated loop (µs) | in training, CPU (µs/step) | in training, wall "
        "(µs/step) |",
        "|---|---:|---:|---:|",
    ]
    for label, isolated, cpu, wall in costs.rows:
        in_loop = "| - | - |" if cpu is None else f"| {cpu:.0f} | {wall:.0f} |"
        lines.append(f"| {label} | {isolated:.1f} {in_loop}")
    return "\n".join(lines)


# -- Report ---------------------------------------------------------------------------------


def report(settings: Settings, rows: list[Row], costs: HookCosts) -> str:
    """The whole results file as Markdown."""
    default = rows[0]
    predicted = 1 + (costs.hooks_in_loop_us * settings.num_steps + costs.one_off_us) / (
        default.baseline.wall_median * 1e6
    )
    return f"""# Speed overhead of the range test

Generated by `python -m benchmarks.overhead{" --quick" if settings is QUICK else ""}`.

{machine_header(machine_info())}

Model: 2-conv CNN (16 and 32 filters, dense 64), {IMAGE_SHAPE} random images, batch
{BATCH_SIZE}, Adam, sparse categorical cross-entropy + accuracy, `tf.data` input with
autotune off. Each call runs N={settings.num_steps} steps; the range test sweeps
{SWEEP["start_lr"]:g} to {SWEEP["end_lr"]:g} with `diverge_threshold={SWEEP["diverge_threshold"]:g}`
so that it runs them all. Every contender has its own model and one warm-up call; then
{settings.rounds} rounds, alternating (order reversed every other round); medians.
Subject and baseline: median wall-clock seconds of a call. "ratio": the median over rounds
of subject / baseline (the two ran next to each other, so this resists load changes);
"ratio of medians": the same from the medians; "CPU ratio": the median paired ratio of
process CPU time (all threads); "extra per step": the median paired difference / N.

{rows_table(rows)}

## Where the callback's per-step time goes

A plain `fit` train step of this CNN takes {costs.step_us:.0f} µs (median `fit` time / N).
"isolated loop": the operation called {settings.hook_calls} times in a tight loop, blocks of
all operations alternating, fastest of 9 blocks (wall clock). "in training": the operation
run in a real `fit` at the start of every other step, the median duration of those steps
minus that of the others (process CPU time and wall clock), median of
{settings.in_loop_fits} fits. Small eager operations cost several times more between train
steps than in a tight loop. Below the first row (the library's hooks as installed), the
rows are the ways to do the hooks' work per step: write the learning rate, reset the loss
tracker, read the loss; the hooks cost about one LR write plus one reset, plus Python.

{costs_table(costs)}

From the in-training cost of the hooks, the predicted default ratio is {predicted:.3f}
(N x hooks + snapshot + restore over the plain `fit` time); measured: {default.ratio:.3f}.

Noise: on a machine shared with other processes, single calls vary a lot (see the
paired-ratio spread); prefer the medians, and the CPU-time ratio.
"""


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Markdown file to write (default: results/overhead.md, none with --quick)",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    rows = compare_all(settings, log)
    log("hook costs ...")
    step_us = rows[0].baseline.wall_median / settings.num_steps * 1e6
    costs = hook_costs(settings, step_us, log)
    text = report(settings, rows, costs)
    print(text)
    output = args.output or (None if args.quick else RESULTS_DIR / "overhead.md")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        log(f"written to {output}")
    return text


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
