"""Peak memory of the range test: `LRFinder.find` against plain `fit` on the same steps.

Run with `python -m benchmarks.memory [--quick]`.

The range test keeps a NumPy copy of every variable (weights, optimizer slots, metrics) while
it runs, so its peak should exceed plain `fit`'s by about that copy: for Adam,
`(params + 2 * params) * 4` bytes. To see it, the model is an MLP of a few million
parameters (2048 -> 2048 -> 1024 -> 10, Adam).

Each measurement runs in a fresh subprocess, alternating `find` and `fit`: build the model and
the data, warm up with one plain `fit` over the same steps (which traces the train function
and builds the optimizer), collect garbage, take the resident set size (RSS) as the baseline,
then run the call while a thread samples the RSS every 0.5 ms. The peak extra memory is the
highest sample minus the baseline. Eight more calls follow, to tell a leak (growth on every
call) from the allocator settling (growth that stops): the RSS is read after each, after
glibc's `malloc_trim(0)`, and the live range-test objects are counted at the end.
`ru_maxrss` (the whole-process peak, warm-up included) is reported too. The expected
snapshot size is computed from the variables the range test copies. Results go to
`benchmarks/results/memory.md` (with `--quick`: one process per side, and only printed,
unless `--output` is given).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.study import RESULTS_DIR, machine_header, machine_info

INPUT_SIZE = 2048
LAYER_SIZES = (2048, 1024, 10)
BATCH_SIZE = 64
NUM_STEPS = 50
# Further calls after the measured one: the RSS may settle over the first half, but a leak
# would keep growing over the second.
REPEATS_FOR_LEAKS = 8
_RESULT_MARKER = "MEMORY_RESULT "
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_MB = 1024 * 1024


def _rss_bytes() -> int:
    """The resident set size of this process, from `/proc/self/statm`."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE


class _PeakSampler:
    """A thread that samples the RSS until stopped, keeping the highest value."""

    def __init__(self, interval: float = 0.0005):
        self.interval = interval
        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> _PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _trimmed_rss_bytes() -> int:
    """The RSS after garbage collection and, with glibc, after returning free heap memory.

    Without the trim, memory that the allocator keeps after a call looks like a leak.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return _rss_bytes()


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux.


def measure(mode: str) -> dict[str, float]:
    """Runs one measurement of `mode` (`"find"` or `"fit"`) in this process."""
    import keras
    import tensorflow as tf

    import keras_lrfind

    rng = np.random.default_rng(0)
    x = rng.random((NUM_STEPS * BATCH_SIZE, INPUT_SIZE), dtype=np.float32)
    y = rng.integers(0, LAYER_SIZES[-1], NUM_STEPS * BATCH_SIZE)
    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE).with_options(options)

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((INPUT_SIZE,))]
        + [keras.layers.Dense(size, activation="relu") for size in LAYER_SIZES[:-1]]
        + [keras.layers.Dense(LAYER_SIZES[-1])]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(dataset, epochs=1, shuffle=False, verbose=0)  # Warm-up: traces, builds Adam.

    # The variables the range test copies, counted once each.
    variables = {
        id(variable): variable
        for variable in (
            list(model.variables)
            + list(model.optimizer.variables)
            + [v for metric in model.metrics for v in metric.variables]
        )
    }.values()
    sizes = [int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables]

    def run() -> None:
        if mode == "find":
            result = keras_lrfind.LRFinder(model).find(
                dataset,
                start_lr=1e-5,
                end_lr=1e-4,
                num_steps=NUM_STEPS,
                diverge_threshold=1e9,
                verbose=0,
            )
            if result.num_recorded != NUM_STEPS:
                raise RuntimeError(f"The range test stopped early: {result!r}.")
        else:
            model.fit(dataset, epochs=1, shuffle=False, verbose=0)

    gc.collect()
    baseline = _rss_bytes()
    max_rss_before = _max_rss_bytes()
    with _PeakSampler() as sampler:
        run()
    gc.collect()
    after = _rss_bytes()
    trimmed = [_trimmed_rss_bytes()]
    for _ in range(REPEATS_FOR_LEAKS):
        run()
        trimmed.append(_trimmed_rss_bytes())
    half = REPEATS_FOR_LEAKS // 2
    live = sum(
        isinstance(obj, keras_lrfind.LRFinderCallback | keras_lrfind.LRFinder)
        for obj in gc.get_objects()
    )
    return {
        "mode": mode,
        "params": model.count_params(),
        "baseline_mb": baseline / _MB,
        "peak_extra_mb": (sampler.peak - baseline) / _MB,
        "after_extra_mb": (after - baseline) / _MB,
        "settling_mb": (trimmed[half] - trimmed[0]) / _MB,
        "growth_mb": (trimmed[-1] - trimmed[half]) / _MB,
        "live_objects": live,
        "max_rss_before_mb": max_rss_before / _MB,
        "max_rss_mb": _max_rss_bytes() / _MB,
        "snapshot_mb": sum(sizes) / _MB,
        "largest_variable_mb": max(sizes) / _MB,
        "num_variables": len(sizes),
    }


def _run_child(mode: str) -> dict[str, float]:
    """Runs `measure(mode)` in a fresh Python process and returns its result."""
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--child", mode],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith(_RESULT_MARKER):
            return json.loads(line[len(_RESULT_MARKER) :])
    raise RuntimeError(
        f"The `{mode}` measurement failed (exit code {completed.returncode}):\n"
        f"{completed.stderr[-3000:]}"
    )


def report(results: dict[str, list[dict[str, float]]], repetitions: int) -> str:
    """The results as Markdown."""

    def median(mode: str, key: str) -> float:
        return statistics.median(result[key] for result in results[mode])

    def values(mode: str, key: str) -> str:
        return ", ".join(f"{result[key]:.1f}" for result in results[mode])

    first = results["find"][0]
    snapshot = first["snapshot_mb"]
    lines = [
        "| measure (MB) | `find` | plain `fit` | difference |",
        "|---|---:|---:|---:|",
    ]
    for key, label in (
        ("peak_extra_mb", "peak RSS above the warmed-up baseline (median)"),
        ("after_extra_mb", "RSS left above the baseline after the call (median)"),
        ("settling_mb", f"trimmed RSS growth over calls 2-{REPEATS_FOR_LEAKS // 2 + 1} (median)"),
        (
            "growth_mb",
            f"trimmed RSS growth over calls {REPEATS_FOR_LEAKS // 2 + 2}-{REPEATS_FOR_LEAKS + 1}"
            " (median)",
        ),
        ("max_rss_mb", "`ru_maxrss`, whole process incl. warm-up (median)"),
        ("baseline_mb", "baseline RSS after build + warm-up (median)"),
    ):
        find, fit = median("find", key), median("fit", key)
        lines.append(f"| {label} | {find:.1f} | {fit:.1f} | **{find - fit:+.1f}** |")
    table = "\n".join(lines)
    params = int(first["params"])
    return f"""# Peak memory of the range test

Generated by `python -m benchmarks.memory`.

{machine_header(machine_info())}

Model: MLP {INPUT_SIZE} -> {" -> ".join(map(str, LAYER_SIZES))} ({params:,} parameters),
Adam, sparse categorical cross-entropy + accuracy; {NUM_STEPS} steps of batch {BATCH_SIZE}
(`tf.data`, autotune off). Each call in a fresh process after a warm-up `fit`;
{repetitions} processes per side, alternating; medians.

{table}

Expected snapshot (a NumPy copy of each of the {int(first["num_variables"])} variables:
weights, Adam's 2 slots, iterations, learning rate, metrics): **{snapshot:.1f} MB**
(`3 * params * 4 B` = {3 * params * 4 / _MB:.1f} MB). The largest single variable is
{first["largest_variable_mb"]:.1f} MB: `v.numpy()` followed by `np.array(..., copy=True)` can
hold it twice for a moment.

The difference in peak can come out a little below the expected size: the allocator
reuses memory freed after the warm-up, which is already resident. The RSS left after the
call is freed memory the allocator keeps. Over further calls (RSS read after glibc's
`malloc_trim(0)`), growth that stops is the allocator settling; growth that goes on would
be a leak. `LRFinder`/`LRFinderCallback` objects still alive after all calls:
{max(result["live_objects"] for result in results["find"])}.

Peak extra RSS of each process: `find` {values("find", "peak_extra_mb")};
`fit` {values("fit", "peak_extra_mb")}.
"""


def main(argv: list[str] | None = None) -> str | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one process per side")
    parser.add_argument("--child", choices=("find", "fit"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Markdown file to write (default: results/memory.md, none with --quick)",
    )
    args = parser.parse_args(argv)
    if args.child:
        print(_RESULT_MARKER + json.dumps(measure(args.child)), flush=True)
        return None

    repetitions = 1 if args.quick else 3
    results: dict[str, list[dict[str, float]]] = {"find": [], "fit": []}
    for repetition in range(repetitions):
        for mode in ("find", "fit") if repetition % 2 == 0 else ("fit", "find"):
            print(f"{mode} ({repetition + 1}/{repetitions}) ...", file=sys.stderr, flush=True)
            results[mode].append(_run_child(mode))
    text = report(results, repetitions)
    print(text)
    output = args.output or (None if args.quick else RESULTS_DIR / "memory.md")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"written to {output}", file=sys.stderr)
    return text


if __name__ == "__main__":
    main()
