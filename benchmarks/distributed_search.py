"""Wall time of `LearningRateTuner`'s search on one worker against two (KerasTuner's
distributed tuning, chief and workers on the loopback address).

Run with `python -m benchmarks.distributed_search [--report] [--tasks ...]`.

The task: a small CNN (two convolutions, Adam) on the offline digits (`keras_lrfind.datasets`,
8x8 images upsampled to 32x32 so that a step costs what a small real model's does), a
one-cycle training of `EPOCHS` epochs, batch 32, seed 0. Two searches:

- `default`: `find_best_learning_rate`'s own search (range test, then rounds of probes);
  its rounds are of 3, then 1 or 2 probes, so a second worker helps only in some of them;
- `candidates`: four given candidates, one round of four independent probes (the best
  case for parallel workers).

Each is timed with one worker and with two, `ROUNDS` times, alternating. Every process (chief
and workers) runs TensorFlow on one thread, so that two workers on a machine with two cores
compare with one worker on one core; the chief only runs the range test and serves. The
workers are started first and timed from when every worker is ready (TensorFlow imported,
model built): the time is the chief's `search` call, range test included, interpreter start
excluded. Every configuration must give the same answer, which is checked. The wall time
of one process without KerasTuner's distribution (`alone`) is given for reference.

Writes `benchmarks/results/distributed_search.md` and `.json` (`Entries`, `main` of
`benchmarks/study.py`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.study import Entries, configure_threads, machine_header, machine_info, main

NAME = "distributed_search"
EPOCHS = 100
BATCH_SIZE = 32
CANDIDATES = [1e-3, 3e-3, 1e-2, 3e-2]
ROUNDS = 2
WORKER_TIMEOUT = 60.0
TIMEOUT_S = 900
RESULT_PREFIX = "RESULT "
TASKS = {
    "default/alone": ("default", 0),
    "default/1 worker": ("default", 1),
    "default/2 workers": ("default", 2),
    "candidates/alone": ("candidates", 0),
    "candidates/1 worker": ("candidates", 1),
    "candidates/2 workers": ("candidates", 2),
}


def make_data():
    """The digits' training split, 8x8 upsampled to 32x32 (float32 in [0, 1])."""
    import numpy as np

    from keras_lrfind import datasets

    x, y = datasets.load_numpy("digits", "train")
    return np.repeat(np.repeat(x, 4, axis=1), 4, axis=2), y


def make_model():
    """The benchmark CNN; the same initial weights in every process."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


# -- One process of a run (`--process SEARCH DIRECTORY`) ------------------------------------


def process(search: str, directory: str) -> None:
    """Runs one process of a search (its role from `KERASTUNER_*`) and prints its report."""
    configure_threads(1)
    from keras_lrfind.tuner import LearningRateTuner

    model = make_model()
    x, y = make_data()
    tuner = LearningRateTuner(
        model,
        candidates=CANDIDATES if search == "candidates" else None,
        worker_timeout=WORKER_TIMEOUT,
        directory=directory,
        project_name="search",
        overwrite=True,
    )
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "alone")
    Path(directory, f"{tuner_id}.ready").write_text("ready")
    if tuner_id == "chief" or tuner_id == "alone":
        _wait_for_workers(Path(directory), int(os.environ.get("BENCHMARK_WORKERS", "0")))
    start = time.perf_counter()
    tuner.search(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0, seed=0)
    seconds = time.perf_counter() - start
    report = {"tuner_id": tuner_id, "seconds": seconds}
    if tuner_id in ("chief", "alone"):
        details = tuner.best_learning_rate(return_details=True)
        report.update(max_lr=details.max_lr, probes=len(details.probes), steps=details.steps)
    print(RESULT_PREFIX + json.dumps(report), flush=True)


def _wait_for_workers(directory: Path, count: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while sum(1 for _ in directory.glob("tuner*.ready")) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"The {count} worker(s) did not start in {TIMEOUT_S} s.")
        time.sleep(0.1)


# -- The measurement -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_once(search: str, workers: int) -> dict:
    """One search with `workers` workers (0: one process, no distribution); the chief's
    report."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        base = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="3",
            BENCHMARK_WORKERS=str(workers),
        )
        names = [f"tuner{index}" for index in range(workers)] + ["chief" if workers else None]
        processes = []
        try:
            for name in names:
                environment = dict(base)
                if name is not None:
                    environment.update(
                        KERASTUNER_TUNER_ID=name,
                        KERASTUNER_ORACLE_IP="127.0.0.1",
                        KERASTUNER_ORACLE_PORT=str(port),
                    )
                command = [sys.executable, "-m", "benchmarks.distributed_search"]
                processes.append(
                    subprocess.Popen(
                        [*command, "--process", search, directory],
                        env=environment,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
            outputs = [p.communicate(timeout=TIMEOUT_S) for p in reversed(processes)]
        finally:
            for p in processes:
                if p.poll() is None:
                    p.kill()
        stdout, stderr = outputs[0]  # The chief's (or the one process's).
        lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if not lines:
            raise RuntimeError(f"The search failed:\n{stderr[-3000:]}")
        return json.loads(lines[0][len(RESULT_PREFIX) :])


def measure(tasks: list[str]) -> None:
    entries = Entries(NAME)
    results = entries.load()
    for round_ in range(ROUNDS):
        for task in tasks:
            runs = results.setdefault(task, [])
            if len(runs) > round_:
                continue
            search, workers = TASKS[task]
            load = os.getloadavg()[0]  # Other work on the machine skews the times.
            report = run_once(search, workers)
            report["load_before"] = load
            print(f"{task}: {report['seconds']:.1f} s, max_lr {report['max_lr']:.4g}", flush=True)
            runs.append(report)
            results["machine"] = machine_info()
            entries.save(results)


def report(results: dict) -> str:
    lines = [
        "# The search on KerasTuner's workers: one worker against two",
        "",
        "Generated by `python -m benchmarks.distributed_search` (see its docstring). Wall "
        "time of the chief's `LearningRateTuner.search` (range test included), median of "
        f"{ROUNDS} runs; every process on one TensorFlow thread.",
        "",
        machine_header(results.get("machine", {})),
        "",
        "| search | probes | alone (s) | 1 worker (s) | 2 workers (s) | 2 workers / 1 worker "
        "| same answer | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for search in ("default", "candidates"):
        runs = {label: results.get(f"{search}/{label}", []) for label in TASK_LABELS}
        if not all(runs.values()):
            continue
        seconds = {label: _median([r["seconds"] for r in rs]) for label, rs in runs.items()}
        answers = {r["max_lr"] for rs in runs.values() for r in rs}
        probes = runs["1 worker"][0]["probes"]
        ratio = seconds["2 workers"] / seconds["1 worker"]
        loads = [r["load_before"] for rs in runs.values() for r in rs if "load_before" in r]
        load = f"{min(loads):.1f}-{max(loads):.1f}" if loads else "?"
        lines.append(
            f"| {search} | {probes} | {seconds['alone']:.1f} | {seconds['1 worker']:.1f} | "
            f"{seconds['2 workers']:.1f} | {ratio:.2f} | "
            f"{'yes' if len(answers) == 1 else 'NO: ' + str(sorted(answers))} | {load} |"
        )
    lines += [
        "",
        "`load`: the machine's 1-minute load average before each run (its range). With two "
        "cores, a load above 1 before a run means other work competed with the workers.",
    ]
    return "\n".join(lines) + "\n"


TASK_LABELS = ("alone", "1 worker", "2 workers")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


if __name__ == "__main__":
    if sys.argv[1:2] == ["--process"]:
        process(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main(None, __doc__, Entries(NAME), measure, report, lambda: list(TASKS)))
