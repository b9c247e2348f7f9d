"""How the benchmarks time calls: contenders alternating round by round, operations in a
tight loop, and operations inside real training steps.

`time_interleaved` gives each contender's wall-clock and CPU times per round (`Timings`);
`per_call_us` the cost of one call in a tight loop; `in_loop_us` the extra time of an
operation run between the train steps of a real `fit`.
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
from collections.abc import Callable

import numpy as np


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
        setups.get(name, nothing)()
        contenders[name]()
    timings = {name: Timings() for name in names}
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            setups.get(name, nothing)()
            gc.collect()
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            contenders[name]()
            timings[name].wall.append(time.perf_counter() - wall_start)
            timings[name].cpu.append(time.process_time() - cpu_start)
    return timings


def nothing() -> None:
    """Does nothing: the setup of a contender without one, the noise floor of a timing."""


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
