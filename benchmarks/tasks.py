"""The tasks of the suggestion-quality benchmark: the table in `tasks.toml`, as `Task` objects.

Every task runs offline on a CPU in seconds (`benchmarks.data`, `benchmarks.models`). The
tasks differ on every axis a suggestion rule could overfit: architecture, optimizer, batch
size (16 to 512), budget (2 to 30 epochs, 64 to 1,250 steps), regularisation (dropout,
weight decay, label smoothing, augmentation), data (digits, shapes, gratings, glyphs,
symmetry, blobs), class imbalance, and fine-tuning of backbones the benchmark pre-trains
itself.

Each `Task` says how to build its data, a fresh model and its optimizer for a given
learning rate (a float or a `LearningRateSchedule`), its loss, and how long to train. The
range test and every training of a task see the same data, batch size, model and optimizer.
`benchmarks.split` assigns every task to tuning or evaluation, batch by batch.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import data as _data_sets
from benchmarks import models as _models
from benchmarks.data import Data

TABLE = Path(__file__).resolve().parent / "tasks.toml"

BATCHES = (
    "original",
    "issue10",
    "issue17",
    "issue17_tails",
    "issue17_slow_start",
    "issue17_medium",
    "issue17_flat",
)
"""The batches of tasks, in the order they were added (see `benchmarks.split`)."""


@dataclasses.dataclass(frozen=True)
class Task:
    """One benchmark task (one row of `tasks.toml`).

    Args:
        name: Short identifier, used in cache paths and tables.
        description: One line for the report.
        data: Builds the `Data` (deterministic, offline).
        model: Builds a fresh, uncompiled model for `(input_shape, num_classes)`.
        optimizer: Builds the optimizer for a learning rate (float or schedule).
        optimizer_name: The optimizer as the report names it (its call in the table).
        keras_default_lr: The optimizer's default learning rate in Keras.
        epochs: Training epochs in the full and in the quick mode.
        batch_size: Batch size of every training and range test.
        lr_range: `(low, high)` learning rates of the first ground-truth grid.
        architecture: The model family (`mlp`, `plain_cnn`, `bn_cnn`, `residual`,
            `depthwise`, `mixer`, `vit`, `fine_tuned`).
        dataset: The data set's name.
        regularisation: Any of `dropout`, `weight_decay`, `label_smoothing`, `augmentation`.
        imbalanced: Whether the training classes are long-tailed.
        label_smoothing: Label smoothing of the loss (then trained on one-hot labels).
        prepare: Called once before the task's first model is built (e.g. pre-training
            a backbone), or `None`.
        batch: The batch of tasks it was added with (`BATCHES`).
        replaces: The task it replaces (lengthened), or `None`.
    """

    name: str
    description: str
    data: Callable[[], Data]
    model: Callable[[tuple[int, ...], int], Any]
    optimizer: Callable[[Any], Any]
    optimizer_name: str
    keras_default_lr: float
    epochs: dict[str, int]
    batch_size: int
    lr_range: tuple[float, float]
    architecture: str = "mlp"
    dataset: str = "digits"
    regularisation: tuple[str, ...] = ()
    imbalanced: bool = False
    label_smoothing: float = 0.0
    prepare: Callable[[], Any] | None = None
    batch: str = "original"
    replaces: str | None = None

    def loss(self):
        """A fresh loss: cross-entropy from logits (on one-hot labels with label smoothing)."""
        import keras

        if self.label_smoothing:
            return keras.losses.CategoricalCrossentropy(
                from_logits=True, label_smoothing=self.label_smoothing
            )
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def targets(self, labels: np.ndarray, num_classes: int) -> np.ndarray:
        """The training targets the loss expects: the labels, or one-hot with smoothing."""
        if self.label_smoothing:
            return np.eye(num_classes, dtype="float32")[labels]
        return labels

    def steps_per_epoch(self, data: Data) -> int:
        return math.ceil(len(data.x_train) / self.batch_size)


# ---------------------------------------------------------------------------------------
# Reading the table: `name(arg, key=literal, ...)` calls of the builders.

_DATA_SETS = {
    name: getattr(_data_sets, name)
    for name in ("digits", "shapes", "gratings", "glyphs", "symmetry", "blobs")
}
_MODELS = {
    name: getattr(_models, name)
    for name in (
        "mlp",
        "mlp_dropout",
        "plain_cnn",
        "batch_norm_cnn",
        "small_resnet",
        "small_resnet_narrow",
        "depthwise_cnn",
        "mlp_mixer",
        "tiny_vit",
        "augmented",
        "fine_tuned",
    )
}


def _call(spec: str, builders: dict[str, Callable]) -> tuple[str, list, dict]:
    """`(name, positional, keyword)` of a call `spec` such as `"glyphs(size=12)"`; a
    positional argument that is a bare name is one of `builders` (`augmented(mlp)`)."""
    node = ast.parse(spec, mode="eval").body
    if not isinstance(node, ast.Call):
        node = ast.Call(func=node, args=[], keywords=[])  # A bare name: no arguments.
    if not isinstance(node.func, ast.Name):
        raise ValueError(f"Not a call of a builder by name: {spec!r}.")
    args = [
        builders[arg.id] if isinstance(arg, ast.Name) else ast.literal_eval(arg)
        for arg in node.args
    ]
    kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords}
    return node.func.id, args, kwargs


def _builder(spec: str, builders: dict[str, Callable]) -> Callable:
    name, args, kwargs = _call(spec, builders)
    function = builders[name]
    if name in ("augmented", "fine_tuned"):  # Factories: they return the model builder.
        return function(*args, **kwargs)
    return functools.partial(function, *args, **kwargs) if args or kwargs else function


def _optimizer(spec: str) -> Callable[[Any], Any]:
    """A factory `learning_rate -> keras.optimizers.<Name>(learning_rate, **kwargs)`."""
    class_name, args, kwargs = _call(spec, {})
    if args:
        raise ValueError(f"Optimizer arguments must be named: {spec!r}.")

    def build(learning_rate):
        import keras

        return getattr(keras.optimizers, class_name)(learning_rate, **kwargs)

    build.__name__ = class_name.lower()
    return build


def _task(row: dict[str, Any]) -> Task:
    row = dict(row)
    model_spec = row.pop("model")
    prepare = None
    name, _, kwargs = _call(model_spec, _MODELS)
    if name == "fine_tuned":
        prepare = functools.partial(_models.pretrain_backbone, kwargs.get("backbone"))
    return Task(
        data=_builder(row.pop("data"), _DATA_SETS),
        model=_builder(model_spec, _MODELS),
        optimizer=_optimizer(row["optimizer"]),
        optimizer_name=row.pop("optimizer"),
        lr_range=tuple(row.pop("lr_range")),
        regularisation=tuple(row.pop("regularisation", ())),
        prepare=prepare,
        **row,
    )


def load(path: Path = TABLE) -> tuple[Task, ...]:
    """Every task of the table, in its order."""
    with open(path, "rb") as file:
        rows = tomllib.load(file)["task"]
    tasks = tuple(_task(row) for row in rows)
    unknown = {task.batch for task in tasks} - set(BATCHES)
    if unknown:
        raise ValueError(f"Unknown batch(es) {sorted(unknown)} in {path}.")
    return tasks


DECLARED_TASKS: tuple[Task, ...] = load()
"""Every task ever declared, retired ones included (the split of a batch depends on them)."""

RETIRED = frozenset(task.replaces for task in DECLARED_TASKS if task.replaces)
"""Tasks replaced by a lengthened version: no longer scored."""

ALL_TASKS: tuple[Task, ...] = tuple(task for task in DECLARED_TASKS if task.name not in RETIRED)
"""The tasks of the benchmark, in report order."""

TASKS_BY_NAME = {task.name: task for task in DECLARED_TASKS}
