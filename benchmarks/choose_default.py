"""How the constants of the default suggestion (`onecycle`) were chosen, reproducibly.

`python -m benchmarks.choose_default` rescores the cached full-mode curves (no training)
for a grid of `(target_drop, min_divisor, max_divisor)`, prints the constants with the
lowest mean regret over all tasks, and the leave-one-task-out estimate: for each task,
the constants chosen on the other tasks, scored on the one left out. That estimate is
what to expect on a task the constants were not chosen on.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

from benchmarks.quality import load_cache, score_methods

GRID = [
    (target_drop, low, high)
    for target_drop, low, high in itertools.product(
        (0.25, 0.5, 0.75, 1.0), (1.0, 1.5, 2.0, 3.0), (3.0, 4.0, 5.0, 7.0, 10.0)
    )
    if high > low
]


def _method(target_drop, min_divisor, max_divisor):
    from keras_lrfind import suggestions

    def suggest(result):
        learning_rates, _, raw = result.curve()
        return suggestions.onecycle(
            learning_rates,
            raw,
            target_drop=target_drop,
            min_divisor=min_divisor,
            max_divisor=max_divisor,
        )

    return suggest


def main() -> int:
    cache = load_cache("full")
    table = score_methods({str(p): _method(*p) for p in GRID}, "full", cache=cache, baselines=False)
    tasks = table.tasks
    regrets = np.array([[table.regret(task, str(p)) for task in tasks] for p in GRID])
    best = int(np.argmin(regrets.mean(1)))
    print(
        f"Chosen on all {len(tasks)} tasks: (target_drop, min_divisor, max_divisor) = {GRID[best]}"
    )
    print(
        "  regret per task:",
        {t: round(float(r), 1) for t, r in zip(tasks, regrets[best], strict=True)},
    )
    print(f"  mean {regrets[best].mean():.2f}, worst {regrets[best].max():.1f}")
    held_out = []
    for j, task in enumerate(tasks):
        others = [i for i in range(len(tasks)) if i != j]
        pick = int(np.argmin(regrets[:, others].mean(1)))
        held_out.append(regrets[pick, j])
        print(f"  leave out {task}: chosen {GRID[pick]}, regret there {regrets[pick, j]:.1f}")
    print(f"Leave one task out: mean {np.mean(held_out):.2f}, worst {np.max(held_out):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
