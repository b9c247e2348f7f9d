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
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.overhead_cases import (
    BATCH_SIZE,
    FULL,
    IMAGE_SHAPE,
    QUICK,
    SWEEP,
    Settings,
    callback_fit,
    make_cnn,
    make_dataset,
    plain_fit,
    range_test,
)
from benchmarks.overhead_hooks import HookCosts, costs_table, hook_costs
from benchmarks.study import RESULTS_DIR, machine_header, machine_info
from benchmarks.timing import Timings, time_interleaved


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
