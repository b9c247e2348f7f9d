"""The tasks of the suggestion-quality benchmark: data, model, optimizer, budget.

Every task runs offline on a CPU in seconds (`benchmarks.data`, `benchmarks.models`). The
tasks differ on every axis a suggestion rule could overfit: architecture, optimizer, batch
size (16 to 512), budget (2 to 30 epochs), regularisation (dropout, weight decay, label
smoothing, augmentation), data (digits, shapes, gratings, glyphs, symmetry, blobs), class
imbalance, and fine-tuning of a backbone the benchmark pre-trains itself.

`TASKS` are the six original tasks, with which the library's default suggestion was tuned
before this corpus existed; `NEW_TASKS` were added for issue 10. `benchmarks.split`
assigns every task to tuning or evaluation, by a rule fixed before any tuning.

Each `Task` says how to build its data, a fresh model and its optimizer for a given
learning rate (a float or a `LearningRateSchedule`), its loss, and how long to train. The
range test and every training of a task see the same data, batch size, model and optimizer.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.data import Data, blobs, digits, glyphs, gratings, shapes, symmetry
from benchmarks.models import (
    augmented,
    batch_norm_cnn,
    depthwise_cnn,
    fine_tuned,
    mlp,
    mlp_dropout,
    mlp_mixer,
    plain_cnn,
    pretrain_backbone,
    small_resnet,
    small_resnet_narrow,
    tiny_vit,
)


@dataclasses.dataclass(frozen=True)
class Task:
    """One benchmark task.

    Args:
        name: Short identifier, used in cache paths and tables.
        description: One line for the report.
        data: Builds the `Data` (deterministic, offline).
        model: Builds a fresh, uncompiled model for `(input_shape, num_classes)`.
        optimizer: Builds the optimizer for a learning rate (float or schedule).
        optimizer_name: The optimizer as the report names it.
        keras_default_lr: The optimizer's default learning rate in Keras.
        epochs: Training epochs in the full and in the quick mode.
        batch_size: Batch size of every training and range test.
        lr_range: `(low, high)` learning rates of the ground-truth grid, both ends included
            and chosen so that both ends train clearly worse than the best (the runner
            extends the grid by a decade where an end is not clearly worse).
        architecture: The model family (`mlp`, `plain_cnn`, `bn_cnn`, `residual`,
            `depthwise`, `mixer`, `vit`, `fine_tuned`).
        dataset: The data set's name.
        regularisation: Any of `dropout`, `weight_decay`, `label_smoothing`, `augmentation`.
        imbalanced: Whether the training classes are long-tailed.
        label_smoothing: Label smoothing of the loss (then trained on one-hot labels).
        prepare: Called once before the task's first model is built (e.g. pre-training
            a backbone), or `None`.
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
# Optimizers: every other argument at its Keras default, except SGD's momentum.


def adam(learning_rate):
    import keras

    return keras.optimizers.Adam(learning_rate)


def adamw(learning_rate):
    import keras

    return keras.optimizers.AdamW(learning_rate)


def sgd_momentum(learning_rate):
    import keras

    return keras.optimizers.SGD(learning_rate, momentum=0.9)


def optimizer(class_name: str, **kwargs) -> Callable[[Any], Any]:
    """A factory `learning_rate -> keras.optimizers.<class_name>(learning_rate, **kwargs)`."""

    def build(learning_rate):
        import keras

        return getattr(keras.optimizers, class_name)(learning_rate, **kwargs)

    build.__name__ = class_name.lower()
    return build


TASKS: tuple[Task, ...] = (
    Task(
        name="mlp_adam_digits",
        description="MLP 128-64 + Adam on the digits (8x8)",
        data=functools.partial(digits, 8),
        model=mlp,
        optimizer=adam,
        optimizer_name="Adam",
        keras_default_lr=1e-3,
        epochs={"full": 8, "quick": 4},
        batch_size=32,
        lr_range=(1e-4, 1.0),
        architecture="mlp",
        dataset="digits",
    ),
    Task(
        name="cnn_sgd_digits16",
        description="plain CNN + SGD (momentum 0.9) on the digits upscaled to 16x16",
        data=functools.partial(digits, 16),
        model=plain_cnn,
        optimizer=sgd_momentum,
        optimizer_name="SGD(momentum=0.9)",
        keras_default_lr=1e-2,
        epochs={"full": 6, "quick": 3},
        batch_size=32,
        lr_range=(1e-3, 3.0),
        architecture="plain_cnn",
        dataset="digits",
    ),
    Task(
        name="bncnn_adamw_shapes",
        description="CNN with batch norm + AdamW on generated shapes (20x20, 6 classes)",
        data=shapes,
        model=batch_norm_cnn,
        optimizer=adamw,
        optimizer_name="AdamW",
        keras_default_lr=1e-3,
        epochs={"full": 4, "quick": 2},
        batch_size=64,
        lr_range=(1e-3, 10.0),
        architecture="bn_cnn",
        dataset="shapes",
    ),
    Task(
        name="resnet_sgd_gratings",
        description="small ResNet + SGD (momentum 0.9) on generated gratings (16x16, 8 classes)",
        data=gratings,
        model=small_resnet,
        optimizer=sgd_momentum,
        optimizer_name="SGD(momentum=0.9)",
        keras_default_lr=1e-2,
        epochs={"full": 4, "quick": 2},
        batch_size=64,
        lr_range=(1e-3, 10.0),
        architecture="residual",
        dataset="gratings",
    ),
    # Held out: added after the default suggestion (`onecycle`) was chosen on the four tasks
    # above, to check it on combinations it was not tuned on.
    Task(
        name="cnn_adam_gratings",
        description="plain CNN + Adam on generated gratings (held out)",
        data=gratings,
        model=plain_cnn,
        optimizer=adam,
        optimizer_name="Adam",
        keras_default_lr=1e-3,
        epochs={"full": 4, "quick": 2},
        batch_size=64,
        lr_range=(1e-4, 1.0),
        architecture="plain_cnn",
        dataset="gratings",
    ),
    Task(
        name="mlp_sgd_shapes",
        description="MLP 128-64 + SGD (momentum 0.9) on generated shapes (held out)",
        data=shapes,
        model=mlp,
        optimizer=sgd_momentum,
        optimizer_name="SGD(momentum=0.9)",
        keras_default_lr=1e-2,
        epochs={"full": 6, "quick": 3},
        batch_size=64,
        lr_range=(1e-3, 10.0),
        architecture="mlp",
        dataset="shapes",
    ),
)
"""The six original tasks, in report order; the last two were held out when the
`onecycle` default was first chosen (see above). All six are tuning tasks."""

NEW_TASKS: tuple[Task, ...] = (
    Task(
        name="mlp_nadam_shapes24",
        description="MLP + Nadam at batch size 16 on 24x24 shapes (issue 10's noisy curve)",
        data=functools.partial(shapes, 600, 600, 24),
        model=mlp,
        optimizer=optimizer("Nadam"),
        optimizer_name="Nadam",
        keras_default_lr=1e-3,
        epochs={"full": 3, "quick": 2},
        batch_size=16,
        lr_range=(1e-4, 1.0),
        architecture="mlp",
        dataset="shapes",
    ),
    Task(
        name="mlp_dropout_sgd_glyphs",
        description="MLP with dropout + plain SGD on glyphs (12x12)",
        data=functools.partial(glyphs, 12, 1000),
        model=mlp_dropout,
        optimizer=optimizer("SGD"),
        optimizer_name="SGD",
        keras_default_lr=1e-2,
        epochs={"full": 10, "quick": 4},
        batch_size=32,
        lr_range=(1e-3, 10.0),
        architecture="mlp",
        dataset="glyphs",
        regularisation=("dropout",),
    ),
    Task(
        name="cnn_nesterov_wd_symmetry",
        description="plain CNN + SGD Nesterov (weight decay 5e-4) on symmetry (12x12)",
        data=functools.partial(symmetry, 12, 1000),
        model=plain_cnn,
        optimizer=optimizer("SGD", momentum=0.9, nesterov=True, weight_decay=5e-4),
        optimizer_name="SGD(momentum=0.9, nesterov=True, weight_decay=5e-4)",
        keras_default_lr=1e-2,
        epochs={"full": 8, "quick": 3},
        batch_size=64,
        lr_range=(1e-3, 10.0),
        architecture="plain_cnn",
        dataset="symmetry",
        regularisation=("weight_decay",),
    ),
    Task(
        name="bncnn_rmsprop_blobs",
        description="CNN with batch norm + RMSprop at batch size 128 on blob counting (12x12)",
        data=functools.partial(blobs, 12, 1000),
        model=batch_norm_cnn,
        optimizer=optimizer("RMSprop"),
        optimizer_name="RMSprop",
        keras_default_lr=1e-3,
        epochs={"full": 8, "quick": 3},
        batch_size=128,
        lr_range=(1e-4, 1.0),
        architecture="bn_cnn",
        dataset="blobs",
    ),
    Task(
        name="resnet_adam_aug_glyphs",
        description="narrow ResNet + Adam with random-translation augmentation on glyphs (12x12)",
        data=functools.partial(glyphs, 12, 800),
        model=augmented(small_resnet_narrow),
        optimizer=optimizer("Adam"),
        optimizer_name="Adam",
        keras_default_lr=1e-3,
        epochs={"full": 4, "quick": 2},
        batch_size=32,
        lr_range=(1e-4, 1.0),
        architecture="residual",
        dataset="glyphs",
        regularisation=("augmentation",),
    ),
    Task(
        name="depthwise_sgdm_aug_blobs",
        description="MobileNet-like depthwise CNN + SGD momentum, augmentation, blobs (12x12)",
        data=functools.partial(blobs, 12, 1000),
        model=augmented(depthwise_cnn),
        optimizer=sgd_momentum,
        optimizer_name="SGD(momentum=0.9)",
        keras_default_lr=1e-2,
        epochs={"full": 4, "quick": 2},
        batch_size=64,
        lr_range=(1e-3, 10.0),
        architecture="depthwise",
        dataset="blobs",
        regularisation=("augmentation",),
    ),
    Task(
        name="depthwise_lion_ls_blobs",
        description="depthwise CNN (BN momentum 0.9) + Lion, label smoothing 0.1, blobs (12x12)",
        data=functools.partial(blobs, 12, 1000),
        model=functools.partial(depthwise_cnn, bn_momentum=0.9),
        optimizer=optimizer("Lion"),
        optimizer_name="Lion",
        keras_default_lr=1e-3,
        epochs={"full": 3, "quick": 2},
        batch_size=32,
        lr_range=(1e-5, 1e-1),
        architecture="depthwise",
        dataset="blobs",
        regularisation=("label_smoothing",),
        label_smoothing=0.1,
    ),
    Task(
        name="mixer_adamw_glyphs",
        description="tiny MLP-Mixer (3x3 patches) + AdamW (weight decay 0.05) on glyphs (12x12)",
        data=functools.partial(glyphs, 12, 1000),
        model=functools.partial(mlp_mixer, patch=3),
        optimizer=optimizer("AdamW", weight_decay=0.05),
        optimizer_name="AdamW(weight_decay=0.05)",
        keras_default_lr=1e-3,
        epochs={"full": 6, "quick": 2},
        batch_size=64,
        lr_range=(1e-4, 1.0),
        architecture="mixer",
        dataset="glyphs",
        regularisation=("weight_decay",),
    ),
    Task(
        name="vit_adamw_ls_shapes16",
        description="tiny ViT + AdamW, label smoothing 0.1, on shapes (16x16), 15 epochs",
        data=functools.partial(shapes, 500, 600, 16),
        model=tiny_vit,
        optimizer=adamw,
        optimizer_name="AdamW",
        keras_default_lr=1e-3,
        epochs={"full": 15, "quick": 4},
        batch_size=64,
        lr_range=(1e-4, 1.0),
        architecture="vit",
        dataset="shapes",
        regularisation=("label_smoothing",),
        label_smoothing=0.1,
    ),
    Task(
        name="mixer_lion_digits_b256",
        description="tiny MLP-Mixer (2x2 patches) + Lion at batch size 256, digits, 30 epochs",
        data=functools.partial(digits, 8),
        model=functools.partial(mlp_mixer, patch=2),
        optimizer=optimizer("Lion"),
        optimizer_name="Lion",
        keras_default_lr=1e-3,
        epochs={"full": 30, "quick": 8},
        batch_size=256,
        lr_range=(1e-5, 1e-1),
        architecture="mixer",
        dataset="digits",
    ),
    Task(
        name="mlp_dropout_rmsprop_glyphs8_imbalanced",
        description="MLP with dropout + RMSprop at batch size 512, long-tailed glyphs (8x8)",
        data=functools.partial(glyphs, 8, 2000, 600, 0.7),
        model=functools.partial(mlp_dropout, rate=0.2),
        optimizer=optimizer("RMSprop"),
        optimizer_name="RMSprop",
        keras_default_lr=1e-3,
        epochs={"full": 25, "quick": 8},
        batch_size=512,
        lr_range=(1e-4, 1.0),
        architecture="mlp",
        dataset="glyphs",
        regularisation=("dropout",),
        imbalanced=True,
    ),
    Task(
        name="vit_nadam_glyphs12_imbalanced",
        description="tiny ViT (3x3 patches) + Nadam on long-tailed glyphs (12x12)",
        data=functools.partial(glyphs, 12, 800, 600, 0.75),
        model=functools.partial(tiny_vit, patch=3),
        optimizer=optimizer("Nadam"),
        optimizer_name="Nadam",
        keras_default_lr=1e-3,
        epochs={"full": 5, "quick": 2},
        batch_size=32,
        lr_range=(1e-4, 1.0),
        architecture="vit",
        dataset="glyphs",
        imbalanced=True,
    ),
    Task(
        name="finetune_frozen_adam_blobs",
        description="CNN backbone pre-trained on glyphs, frozen, new head + Adam on blobs",
        data=functools.partial(blobs, 16, 1000),
        model=fine_tuned(frozen=True),
        optimizer=optimizer("Adam"),
        optimizer_name="Adam",
        keras_default_lr=1e-3,
        epochs={"full": 3, "quick": 2},
        batch_size=32,
        lr_range=(1e-4, 1.0),
        architecture="fine_tuned",
        dataset="blobs",
        prepare=pretrain_backbone,
    ),
    Task(
        name="finetune_sgdm_blobs",
        description="CNN backbone pre-trained on glyphs, all layers + SGD momentum on blobs",
        data=functools.partial(blobs, 16, 1000),
        model=fine_tuned(frozen=False),
        optimizer=sgd_momentum,
        optimizer_name="SGD(momentum=0.9)",
        keras_default_lr=1e-2,
        epochs={"full": 3, "quick": 2},
        batch_size=32,
        lr_range=(1e-3, 10.0),
        architecture="fine_tuned",
        dataset="blobs",
        prepare=pretrain_backbone,
    ),
    Task(
        name="cnn_sgd_gratings_b16",
        description="plain CNN + plain SGD at batch size 16 on gratings (16x16), 2 epochs",
        data=functools.partial(gratings, 1000, 600),
        model=plain_cnn,
        optimizer=optimizer("SGD"),
        optimizer_name="SGD",
        keras_default_lr=1e-2,
        epochs={"full": 2, "quick": 1},
        batch_size=16,
        lr_range=(1e-3, 10.0),
        architecture="plain_cnn",
        dataset="gratings",
    ),
    Task(
        name="resnet_nesterov_wd_digits16_b256",
        description="narrow ResNet + SGD Nesterov (weight decay 5e-4), batch 256, digits 16x16",
        data=functools.partial(digits, 16),
        model=small_resnet_narrow,
        optimizer=optimizer("SGD", momentum=0.9, nesterov=True, weight_decay=5e-4),
        optimizer_name="SGD(momentum=0.9, nesterov=True, weight_decay=5e-4)",
        keras_default_lr=1e-2,
        epochs={"full": 20, "quick": 6},
        batch_size=256,
        lr_range=(1e-3, 10.0),
        architecture="residual",
        dataset="digits",
        regularisation=("weight_decay",),
    ),
)
"""The tasks added for issue 10; `benchmarks.split` assigns them to tuning or evaluation."""

ALL_TASKS: tuple[Task, ...] = TASKS + NEW_TASKS
"""Every task: the six original ones (all tuning tasks), then the new ones."""

TASKS_BY_NAME = {task.name: task for task in ALL_TASKS}


def __getattr__(name: str):
    # The split lives in `benchmarks.split` (which imports this module); these names are
    # offered here for scripts that look for them on the task module.
    if name in ("TUNING_TASKS", "EVALUATION_TASKS"):
        from benchmarks import split

        names = split.tuning_tasks() if name == "TUNING_TASKS" else split.evaluation_tasks()
        return tuple(TASKS_BY_NAME[task] for task in names)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
