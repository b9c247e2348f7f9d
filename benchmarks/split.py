"""The split of the tasks into tuning and evaluation tasks, fixed batch by batch, before any
tuning on the batch.

Tuning tasks may be used to choose anything (a default, a constant, a rule); evaluation
tasks never are: they only measure. Tasks come in batches (`benchmarks.tasks.BATCHES`), and
each batch is split once, by a rule written here and committed before any ground truth or
suggestion was computed on it; a later batch never moves an earlier task:

- `original`: the six tasks the library was tuned on before this split existed: all tuning.
- `issue10`: tuning tasks are at most half of the tasks so far (`original` and `issue10`),
  the six original ones and the first `22 // 2 - 6 = 5` tasks of a shuffled order of the
  batch: `numpy.random.default_rng(20261201 + attempt).permutation`, for the first
  `attempt = 0, 1, 2, ...` under which both halves (the original tasks included) cover every
  bucket of every axis in `AXES` (so that neither half lacks, say, a large batch size or an
  adaptive optimizer other than Adam).
- `issue17`: half of the batch's new tasks (rounded down) are tuning tasks, the first of
  `numpy.random.default_rng(20261205 + attempt).permutation` for the first attempt under
  which both halves of the batch cover every bucket of `ISSUE17_AXES` (the kind of failure
  issue 17 is about, and trainings of 1,000 steps or more). A task that replaces an earlier
  one (`replaces`, a lengthened version) takes the half of the task it replaces.
- `issue17_tails`: the same rule on its own tasks (more of issue 17's failing kinds, two
  of them long), with `numpy.random.default_rng(20261206 + attempt)`.
- `issue17_slow_start`: the same rule on its own tasks (short trainings whose first tens of
  steps learn little), with `numpy.random.default_rng(20261207 + attempt)`.
- `issue17_medium`: the same rule on its own tasks (trainings of 300 to 1,000 steps whose
  first tenth learns little), with `numpy.random.default_rng(20261208 + attempt)`.
- `issue17_flat`: the same rule on its own tasks (trainings of 128 to 256 steps whose first
  32 steps learn nothing at any rate), with `numpy.random.default_rng(20261209 + attempt)`.
"""

from __future__ import annotations

import functools

import numpy as np

from benchmarks.tasks import ALL_TASKS, DECLARED_TASKS, TASKS_BY_NAME, Task

_MAX_ATTEMPTS = 100_000
ISSUE10_SEED = 20261201
ISSUE17_SEED = 20261205
TAILS_SEED = 20261206
SLOW_START_SEED = 20261207
MEDIUM_SEED = 20261208
FLAT_SEED = 20261209
LONG_TRAINING_STEPS = 1000
"""A training of at least this many steps is long (`ISSUE17_AXES`)."""


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
"""Issue 10's axes: each maps a task to its bucket."""


def _failure_kind(task: Task) -> str:
    if _optimizer_family(task) != "adam":
        return "other"
    if task.architecture == "fine_tuned":
        return "fine-tuned backbone + Adam family"
    if task.architecture in ("bn_cnn", "residual", "depthwise"):
        return "batch norm + Adam family"
    return "other"


@functools.cache
def training_steps(name: str) -> int:
    """The optimizer steps of one full training of a task (builds its data)."""
    task = TASKS_BY_NAME[name]
    return task.epochs["full"] * task.steps_per_epoch(task.data())


ISSUE17_AXES = {
    "failure kind": _failure_kind,
    "training": lambda task: (
        "long (>= 1000 steps)"
        if training_steps(task.name) >= LONG_TRAINING_STEPS
        else "short (< 1000 steps)"
    ),
}
"""Issue 17's axes: the kind of task the search failed on, and long trainings."""


def covers(tuning: list[Task], evaluation: list[Task], everything: list[Task], axes) -> bool:
    """Whether both halves hold every bucket (of `everything`) of every axis."""
    for bucket_of in axes.values():
        buckets = {bucket_of(task) for task in everything}
        for half in (tuning, evaluation):
            if {bucket_of(task) for task in half} != buckets:
                return False
    return True


def _batch(name: str) -> list[Task]:
    return [task for task in DECLARED_TASKS if task.batch == name]


def _split_batch(new: list[Task], count: int, seed: int, check) -> tuple[list[Task], int]:
    """The first `count` tasks of the first seeded order under which `check` passes."""
    for attempt in range(_MAX_ATTEMPTS):
        order = np.random.default_rng(seed + attempt).permutation(len(new))
        chosen = [new[i] for i in sorted(order[:count])]
        if check(chosen, [task for task in new if task not in chosen]):
            return chosen, attempt
    raise RuntimeError("No split covers every axis; add tasks to the thin buckets.")


def _split_half(new: list[Task], seed: int) -> tuple[list[Task], int]:
    """Issue 17's rule: half of `new` (rounded down) for tuning, both halves covering every
    bucket of `ISSUE17_AXES` among `new`."""
    return _split_batch(
        new,
        len(new) // 2,
        seed,
        lambda chosen, rest: covers(chosen, rest, new, ISSUE17_AXES),
    )


@functools.cache
def split() -> tuple[tuple[str, ...], tuple[str, ...], dict[str, int]]:
    """`(tuning task names, evaluation task names, {batch: attempt})` by the rule above,
    retired tasks left out."""
    original, issue10 = _batch("original"), _batch("issue10")
    everything = original + issue10
    tuning10, attempt10 = _split_batch(
        issue10,
        len(everything) // 2 - len(original),
        ISSUE10_SEED,
        lambda chosen, rest: covers(original + chosen, rest, everything, AXES),
    )
    issue17 = _batch("issue17")
    tuning17, attempt17 = _split_half(
        [task for task in issue17 if task.replaces is None], ISSUE17_SEED
    )
    tuning_tails, attempt_tails = _split_half(_batch("issue17_tails"), TAILS_SEED)
    tuning_slow, attempt_slow = _split_half(_batch("issue17_slow_start"), SLOW_START_SEED)
    tuning_medium, attempt_medium = _split_half(_batch("issue17_medium"), MEDIUM_SEED)
    tuning_flat, attempt_flat = _split_half(_batch("issue17_flat"), FLAT_SEED)
    tuning = {
        task.name
        for task in original
        + tuning10
        + tuning17
        + tuning_tails
        + tuning_slow
        + tuning_medium
        + tuning_flat
    }
    tuning |= {task.name for task in issue17 if task.replaces in tuning}
    names = [task.name for task in ALL_TASKS]
    return (
        tuple(name for name in names if name in tuning),
        tuple(name for name in names if name not in tuning),
        {
            "issue10": attempt10,
            "issue17": attempt17,
            "issue17_tails": attempt_tails,
            "issue17_slow_start": attempt_slow,
            "issue17_medium": attempt_medium,
            "issue17_flat": attempt_flat,
        },
    )


def tuning_tasks() -> tuple[str, ...]:
    return split()[0]


def evaluation_tasks() -> tuple[str, ...]:
    return split()[1]


def split_markdown() -> str:
    """The split as a Markdown table: task, batch, split, and its bucket on every axis."""
    tuning = set(tuning_tasks())
    axes = {**AXES, **ISSUE17_AXES}
    header = ["task", "batch", "split", *axes]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for task in ALL_TASKS:
        cells = [task.name, task.batch, "tuning" if task.name in tuning else "evaluation"]
        cells += [bucket_of(task) for bucket_of in axes.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    tuning_names, evaluation_names, attempts = split()
    print(f"attempts {attempts}: {len(tuning_names)} tuning, {len(evaluation_names)} evaluation")
    print(split_markdown())
