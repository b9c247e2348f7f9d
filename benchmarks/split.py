"""The split of the tasks into tuning and evaluation tasks, fixed once, before any tuning.

Tuning tasks may be used to choose anything (a default, a constant, a rule); evaluation
tasks never are: they only measure. The six original tasks (`benchmarks.tasks.TASKS`) were
used to tune the library before this split existed, so they are tuning tasks. The new tasks
(`NEW_TASKS`) are assigned by a rule written here, not by hand:

1. Tuning tasks are at most half of all tasks: `len(ALL_TASKS) // 2`, the six original
   ones and the first `len(ALL_TASKS) // 2 - 6` new tasks of a shuffled order.
2. The order is `numpy.random.default_rng(SPLIT_SEED + attempt).permutation` of the new
   tasks, for the first `attempt = 0, 1, 2, ...` under which both halves cover every bucket
   of every axis in `AXES` (so that neither half lacks, say, a large batch size or an
   adaptive optimizer other than Adam).

The rule and the seed were fixed, and the split committed, before any ground truth or
suggestion was computed on the new tasks.
"""

from __future__ import annotations

import functools

import numpy as np

from benchmarks.tasks import ALL_TASKS, NEW_TASKS, TASKS, Task

SPLIT_SEED = 20261201
_MAX_ATTEMPTS = 100_000


def _optimizer_family(task: Task) -> str:
    name = task.optimizer_name.split("(")[0]
    if name == "SGD":
        return "sgd"
    if name in ("Adam", "AdamW", "Nadam"):
        return "adam"
    return "other_adaptive"  # RMSprop, Lion.


def _architecture_family(task: Task) -> str:
    return {
        "mlp": "mlp",
        "plain_cnn": "cnn",
        "bn_cnn": "cnn",
        "residual": "residual",
        "depthwise": "modern",
        "mixer": "modern",
        "vit": "modern",
        "fine_tuned": "fine_tuned",
    }[task.architecture]


def _batch_bucket(task: Task) -> str:
    if task.batch_size <= 32:
        return "small (<= 32)"
    return "medium (64-128)" if task.batch_size <= 128 else "large (>= 256)"


def _epoch_bucket(task: Task) -> str:
    epochs = task.epochs["full"]
    if epochs <= 4:
        return "short (<= 4)"
    return "medium (5-12)" if epochs <= 12 else "long (>= 15)"


AXES = {
    "architecture": _architecture_family,
    "optimizer": _optimizer_family,
    "batch size": _batch_bucket,
    "epochs": _epoch_bucket,
    "regularisation": lambda task: "some" if task.regularisation else "none",
    "data": lambda task: (
        "original set" if task.dataset in ("digits", "shapes", "gratings") else "new set"
    ),
    "class balance": lambda task: "imbalanced" if task.imbalanced else "balanced",
}
"""Each axis maps a task to its bucket; both halves must hold every bucket of every axis."""


def covers(tuning: list[Task], evaluation: list[Task]) -> bool:
    """Whether both halves hold every bucket (of `ALL_TASKS`) of every axis."""
    for bucket_of in AXES.values():
        buckets = {bucket_of(task) for task in ALL_TASKS}
        for half in (tuning, evaluation):
            if {bucket_of(task) for task in half} != buckets:
                return False
    return True


@functools.cache
def split() -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """`(tuning task names, evaluation task names, attempt)` by the rule above."""
    new_tuning = len(ALL_TASKS) // 2 - len(TASKS)
    for attempt in range(_MAX_ATTEMPTS):
        order = np.random.default_rng(SPLIT_SEED + attempt).permutation(len(NEW_TASKS))
        chosen = sorted(order[:new_tuning])
        tuning = [*TASKS, *(NEW_TASKS[i] for i in chosen)]
        evaluation = [task for task in NEW_TASKS if task not in tuning]
        if covers(tuning, evaluation):
            return (
                tuple(task.name for task in tuning),
                tuple(task.name for task in evaluation),
                attempt,
            )
    raise RuntimeError("No split covers every axis; add tasks to the thin buckets.")


def tuning_tasks() -> tuple[str, ...]:
    return split()[0]


def evaluation_tasks() -> tuple[str, ...]:
    return split()[1]


def split_markdown() -> str:
    """The split as a Markdown table: task, split, and its bucket on every axis."""
    tuning = set(tuning_tasks())
    header = ["task", "split", *AXES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for task in ALL_TASKS:
        cells = [task.name, "tuning" if task.name in tuning else "evaluation"]
        cells += [bucket_of(task) for bucket_of in AXES.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    tuning_names, evaluation_names, attempt_used = split()
    print(f"attempt {attempt_used}: {len(tuning_names)} tuning, {len(evaluation_names)} evaluation")
    print(split_markdown())
