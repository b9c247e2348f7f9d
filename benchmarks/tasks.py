"""The small vision tasks of the suggestion-quality benchmark: data, models, optimizers.

Every task runs offline on a CPU in seconds: the scikit-learn digits that keras_lrfind
ships as a TFDS dataset (8x8, and upscaled to 16x16 for the CNNs), and two procedurally
generated image sets with a fixed seed (`shapes`: noisy, rotated geometric shapes;
`gratings`: noisy oriented sine gratings at two spatial frequencies). The architectures
(MLP, plain CNN, CNN with batch norm, small residual network) and optimizers (Adam, SGD with
Nesterov-free momentum 0.9, AdamW) differ from task to task, so that a suggestion rule
cannot win by being tuned to one loss landscape.

Each `Task` says how to build its data, a fresh model and its optimizer for a given
learning rate (a float or a `LearningRateSchedule`), and how long to train. The range test
and every training of a task see the same data, batch size, model and optimizer.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

# The datasets are fixed by these seeds, so every run trains on the same images.
_SHAPES_SEED = 20240601
_GRATINGS_SEED = 20240602


@dataclasses.dataclass(frozen=True)
class Data:
    """Train and test arrays of one task: images `(n, h, w, 1)` float32, labels int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.y_train.max()) + 1


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
            and chosen so that both ends train clearly worse than the best.
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

    def steps_per_epoch(self, data: Data) -> int:
        return math.ceil(len(data.x_train) / self.batch_size)


# ---------------------------------------------------------------------------------------
# Data.


@functools.cache
def digits(size: int = 8) -> Data:
    """The offline scikit-learn digits (1,442 train / 355 test), optionally upscaled."""
    from keras_lrfind import datasets

    x_train, y_train = datasets.load_numpy("digits", "train")
    x_test, y_test = datasets.load_numpy("digits", "test")
    if size != 8:
        import tensorflow as tf

        x_train = tf.image.resize(x_train, (size, size), method="bilinear").numpy()
        x_test = tf.image.resize(x_test, (size, size), method="bilinear").numpy()
    return Data(
        x_train.astype("float32"),
        y_train.astype("int64"),
        x_test.astype("float32"),
        y_test.astype("int64"),
    )


def _rotated_coordinates(rng, count, size, min_scale, max_scale):
    """Per-image coordinates centred on a random point, rotated by a random angle, in units of
    a random shape scale: arrays `(count, size, size)` for `u`, `v`, and the scales."""
    grid = np.arange(size, dtype=np.float64) + 0.5
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    scale = rng.uniform(min_scale, max_scale, size=(count, 1, 1))
    margin = scale * 0.9
    cx = rng.uniform(margin, size - margin)
    cy = rng.uniform(margin, size - margin)
    angle = rng.uniform(0, 2 * np.pi, size=(count, 1, 1))
    dx, dy = xx[None] - cx, yy[None] - cy
    u = (np.cos(angle) * dx + np.sin(angle) * dy) / scale
    v = (-np.sin(angle) * dx + np.cos(angle) * dy) / scale
    return u, v


_SHAPE_MASKS = (
    lambda u, v: np.hypot(u, v) < 0.9,  # disk
    lambda u, v: (np.hypot(u, v) < 0.9) & (np.hypot(u, v) > 0.55),  # ring
    lambda u, v: np.maximum(abs(u), abs(v)) < 0.75,  # square
    lambda u, v: (np.maximum(abs(u), abs(v)) < 0.8) & (np.maximum(abs(u), abs(v)) > 0.5),  # frame
    lambda u, v: (v > -0.45) & (np.sqrt(3) * abs(u) + v < 0.9),  # triangle
    lambda u, v: ((abs(u) < 0.22) & (abs(v) < 0.9)) | ((abs(v) < 0.22) & (abs(u) < 0.9)),  # plus
)


def _generate_shapes(rng, count, size=20):
    labels = rng.integers(0, len(_SHAPE_MASKS), size=count)
    u, v = _rotated_coordinates(rng, count, size, min_scale=4.5, max_scale=8.0)
    images = np.zeros((count, size, size))
    for label, mask in enumerate(_SHAPE_MASKS):
        members = labels == label
        images[members] = mask(u[members], v[members])
    contrast = rng.uniform(0.4, 1.0, size=(count, 1, 1))
    # A random linear background ramp and strong pixel noise make the task non-trivial.
    ramp = np.linspace(-1, 1, size)
    slope_x = rng.uniform(-0.3, 0.3, size=(count, 1, 1))
    slope_y = rng.uniform(-0.3, 0.3, size=(count, 1, 1))
    background = slope_x * ramp[None, None, :] + slope_y * ramp[None, :, None]
    noise = rng.normal(0.0, 0.25, size=images.shape)
    images = contrast * images + background + noise
    return images[..., None].astype("float32"), labels.astype("int64")


@functools.cache
def shapes(num_train: int = 3000, num_test: int = 1000) -> Data:
    """Six rotated, scaled, noisy shapes (disk, ring, square, frame, triangle, plus), 20x20."""
    rng = np.random.default_rng(_SHAPES_SEED)
    x_train, y_train = _generate_shapes(rng, num_train)
    x_test, y_test = _generate_shapes(rng, num_test)
    return Data(x_train, y_train, x_test, y_test)


def _generate_gratings(rng, count, size=16):
    # Class = orientation bin (4 bins of 45 degrees) x frequency band (low, high): 8 classes.
    labels = rng.integers(0, 8, size=count)
    orientation_bin, band = labels % 4, labels // 4
    angle = (orientation_bin + rng.uniform(-0.3, 0.3, size=count)) * (np.pi / 4)
    period = np.where(band == 0, rng.uniform(6.0, 9.0, count), rng.uniform(2.8, 4.0, count))
    phase = rng.uniform(0, 2 * np.pi, size=count)
    grid = np.arange(size, dtype=np.float64)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    projection = np.cos(angle)[:, None, None] * xx[None] + np.sin(angle)[:, None, None] * yy[None]
    contrast = rng.uniform(0.15, 0.6, size=(count, 1, 1))
    images = contrast * np.sin(
        2 * np.pi * projection / period[:, None, None] + phase[:, None, None]
    )
    images = images + rng.normal(0.0, 0.5, size=images.shape)
    return images[..., None].astype("float32"), labels.astype("int64")


@functools.cache
def gratings(num_train: int = 3000, num_test: int = 1000) -> Data:
    """Noisy sine gratings, 16x16: 4 orientations x 2 frequency bands, low contrast."""
    rng = np.random.default_rng(_GRATINGS_SEED)
    x_train, y_train = _generate_gratings(rng, num_train)
    x_test, y_test = _generate_gratings(rng, num_test)
    return Data(x_train, y_train, x_test, y_test)


# ---------------------------------------------------------------------------------------
# Models. All end in logits; the loss is sparse categorical cross-entropy from logits.


def mlp(input_shape, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes),
        ]
    )


def plain_cnn(input_shape, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes),
        ]
    )


def batch_norm_cnn(input_shape, num_classes):
    import keras

    def conv_bn_relu(filters):
        return [
            keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input(input_shape),
            *conv_bn_relu(16),
            keras.layers.MaxPooling2D(),
            *conv_bn_relu(32),
            keras.layers.MaxPooling2D(),
            *conv_bn_relu(64),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(num_classes),
        ]
    )


def small_resnet(input_shape, num_classes):
    """A pre-activation-free ResNet: stem, two blocks at 16 channels, one strided block at 32."""
    import keras
    from keras import layers

    def block(x, filters, stride):
        shortcut = x
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)
        y = layers.ReLU()(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        if stride != 1 or shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
            shortcut = layers.BatchNormalization()(shortcut)
        return layers.ReLU()(layers.Add()([y, shortcut]))

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = block(x, 16, 1)
    x = block(x, 16, 1)
    x = block(x, 32, 2)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))


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
    ),
)
"""The benchmark tasks, in report order; the last two are held out (see above)."""

TASKS_BY_NAME = {task.name: task for task in TASKS}
