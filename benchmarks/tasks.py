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
import os
from collections.abc import Callable
from pathlib import Path
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
    u, v = _rotated_coordinates(
        rng, count, size, min_scale=4.5 * size / 20, max_scale=8.0 * size / 20
    )
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
def shapes(num_train: int = 3000, num_test: int = 1000, size: int = 20) -> Data:
    """Six rotated, scaled, noisy shapes (disk, ring, square, frame, triangle, plus), 20x20
    by default (the shapes scale with `size`)."""
    rng = np.random.default_rng(_SHAPES_SEED)
    x_train, y_train = _generate_shapes(rng, num_train, size)
    x_test, y_test = _generate_shapes(rng, num_test, size)
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


_GLYPHS_SEED = 20261201
_SYMMETRY_SEED = 20261202
_BLOBS_SEED = 20261203
_NUM_GLYPHS = 10


@functools.cache
def _glyph_templates() -> np.ndarray:
    """Ten distinct random 5x5 binary glyphs (fixed by `_GLYPHS_SEED`)."""
    rng = np.random.default_rng(_GLYPHS_SEED)
    templates: list[np.ndarray] = []
    while len(templates) < _NUM_GLYPHS:
        glyph = rng.random((5, 5)) < 0.5
        # Keep glyphs at least 6 pixels apart from each other, so every class is learnable.
        if all(np.sum(glyph != other) >= 6 for other in templates):
            templates.append(glyph)
    return np.array(templates, dtype=np.float64)


def _generate_glyphs(rng, count, size, probabilities):
    templates = _glyph_templates()
    labels = rng.choice(_NUM_GLYPHS, size=count, p=probabilities)
    scale = 2 if size >= 14 else 1
    glyphs = np.kron(templates[labels], np.ones((scale, scale)))  # (count, 5s, 5s)
    extent = glyphs.shape[1]
    # 5% of the glyph pixels flipped, a jittered position, contrast and pixel noise.
    flips = rng.random(glyphs.shape) < 0.05
    glyphs = np.where(flips, 1.0 - glyphs, glyphs)
    images = np.zeros((count, size, size))
    # Centred, jittered by up to 2 pixels either way.
    centre = (size - extent) // 2
    offsets = np.clip(centre + rng.integers(-2, 3, size=(count, 2)), 0, size - extent)
    for index, (row, column) in enumerate(offsets):
        images[index, row : row + extent, column : column + extent] = glyphs[index]
    contrast = rng.uniform(0.5, 1.0, size=(count, 1, 1))
    images = contrast * images + rng.normal(0.0, 0.3, size=images.shape)
    return images[..., None].astype("float32"), labels.astype("int64")


@functools.cache
def glyphs(
    size: int = 12, num_train: int = 1500, num_test: int = 600, imbalance: float = 1.0
) -> Data:
    """Ten random 5x5 binary glyphs (doubled in size from 14x14 on), centred within 2
    pixels, with flipped pixels and noise.

    With `imbalance` < 1, the training classes are long-tailed: class k is drawn with
    probability proportional to `imbalance ** k`; the test set stays balanced, so that
    accuracy measures every class.
    """
    rng = np.random.default_rng(_GLYPHS_SEED + size + int(1000 * imbalance))
    weights = imbalance ** np.arange(_NUM_GLYPHS)
    x_train, y_train = _generate_glyphs(rng, num_train, size, weights / weights.sum())
    x_test, y_test = _generate_glyphs(rng, num_test, size, np.full(_NUM_GLYPHS, 0.1))
    return Data(x_train, y_train, x_test, y_test)


def _generate_symmetry(rng, count, size):
    # Class: 0 no symmetry, 1 left-right mirror, 2 up-down mirror, 3 180-degree rotation,
    # 4 both mirrors. A random pattern is symmetrised, then buried in noise.
    labels = rng.integers(0, 5, size=count)
    pattern = rng.normal(0.0, 1.0, size=(count, size, size))
    mirror_lr = pattern[:, :, ::-1]
    mirror_ud = pattern[:, ::-1, :]
    rotated = pattern[:, ::-1, ::-1]
    images = np.select(
        [
            (labels == 1)[:, None, None],
            (labels == 2)[:, None, None],
            (labels == 3)[:, None, None],
            (labels == 4)[:, None, None],
        ],
        [
            pattern + mirror_lr,
            pattern + mirror_ud,
            pattern + rotated,
            pattern + mirror_lr + mirror_ud + rotated,
        ],
        default=pattern,
    )
    images = images / images.std(axis=(1, 2), keepdims=True)
    images = images + rng.normal(0.0, 0.5, size=images.shape)
    return images[..., None].astype("float32"), labels.astype("int64")


@functools.cache
def symmetry(size: int = 12, num_train: int = 1500, num_test: int = 600) -> Data:
    """Noisy random patterns by symmetry: none, left-right, up-down, 180-degree, both."""
    rng = np.random.default_rng(_SYMMETRY_SEED + size)
    x_train, y_train = _generate_symmetry(rng, num_train, size)
    x_test, y_test = _generate_symmetry(rng, num_test, size)
    return Data(x_train, y_train, x_test, y_test)


def _generate_blobs(rng, count, size):
    # Class = number of Gaussian blobs minus one (1 to 4 blobs).
    labels = rng.integers(0, 4, size=count)
    grid = np.arange(size, dtype=np.float64) + 0.5
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = np.zeros((count, size, size))
    for blob in range(4):
        present = (labels >= blob).astype(np.float64)[:, None, None]
        cx, cy = rng.uniform(2, size - 2, size=(2, count, 1, 1))
        sigma = rng.uniform(0.8, 1.6, size=(count, 1, 1))
        amplitude = rng.uniform(0.7, 1.2, size=(count, 1, 1))
        bump = amplitude * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2))
        images += present * bump
    images = images + rng.normal(0.0, 0.3, size=images.shape)
    return images[..., None].astype("float32"), labels.astype("int64")


@functools.cache
def blobs(size: int = 16, num_train: int = 2000, num_test: int = 600) -> Data:
    """Count the Gaussian blobs (1 to 4) in a noisy image."""
    rng = np.random.default_rng(_BLOBS_SEED + size)
    x_train, y_train = _generate_blobs(rng, num_train, size)
    x_test, y_test = _generate_blobs(rng, num_test, size)
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


def mlp_dropout(input_shape, num_classes, rate=0.3):
    """The MLP 128-64 with dropout after each hidden layer."""
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(rate),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dropout(rate),
            keras.layers.Dense(num_classes),
        ]
    )


def augmented(model_fn, translation=0.1):
    """`model_fn` behind a random translation (active in training only): augmentation."""

    def build(input_shape, num_classes):
        import keras

        inner = model_fn(input_shape, num_classes)
        return keras.Sequential(
            [
                keras.Input(input_shape),
                keras.layers.RandomTranslation(translation, translation, fill_mode="constant"),
                inner,
            ]
        )

    build.__name__ = f"augmented_{model_fn.__name__}"
    return build


def small_resnet_narrow(input_shape, num_classes):
    """A narrower residual network: stem at 8 channels, one block at 8, one strided at 16."""
    import keras
    from keras import layers

    def block(x, filters, stride):
        shortcut = x
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        if stride != 1 or shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
            shortcut = layers.BatchNormalization()(shortcut)
        return layers.ReLU()(layers.Add()([y, shortcut]))

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = block(x, 8, 1)
    x = block(x, 16, 2)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))


def depthwise_cnn(input_shape, num_classes):
    """MobileNet-like: a stem, then depthwise 3x3 + pointwise 1x1 blocks (BN, ReLU6)."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU(6.0)(layers.BatchNormalization()(x))
    for filters, stride in ((32, 2), (48, 2), (48, 1)):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = layers.ReLU(6.0)(layers.BatchNormalization()(x))
        x = layers.Conv2D(filters, 1, use_bias=False)(x)
        x = layers.ReLU(6.0)(layers.BatchNormalization()(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))


def _patch_tokens(inputs, patch, dim):
    from keras import layers

    x = layers.Conv2D(dim, patch, strides=patch)(inputs)
    return layers.Reshape((-1, dim))(x)


def mlp_mixer(input_shape, num_classes, patch=4, dim=32, blocks=2):
    """A tiny MLP-Mixer: patch embedding, token-mixing and channel-mixing MLPs, layer norm."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = _patch_tokens(inputs, patch, dim)
    tokens = x.shape[1]
    for _ in range(blocks):
        y = layers.Permute((2, 1))(layers.LayerNormalization()(x))
        y = layers.Dense(2 * tokens, activation="gelu")(y)
        x = layers.Add()([x, layers.Permute((2, 1))(layers.Dense(tokens)(y))])
        y = layers.Dense(2 * dim, activation="gelu")(layers.LayerNormalization()(x))
        x = layers.Add()([x, layers.Dense(dim)(y)])
    x = layers.GlobalAveragePooling1D()(layers.LayerNormalization()(x))
    return keras.Model(inputs, layers.Dense(num_classes)(x))


@functools.cache
def _position_embedding_layer():
    import keras

    class PositionEmbedding(keras.layers.Layer):
        """Adds a learned embedding per token position."""

        def build(self, input_shape):
            self.embedding = self.add_weight(
                shape=tuple(input_shape[1:]),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
                name="embedding",
            )

        def call(self, inputs):
            return inputs + self.embedding

    return PositionEmbedding


def tiny_vit(input_shape, num_classes, patch=4, dim=32, heads=2, blocks=2):
    """A tiny ViT: patch embedding, learned positions, pre-norm attention and MLP blocks."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = _position_embedding_layer()()(_patch_tokens(inputs, patch, dim))
    for _ in range(blocks):
        y = layers.LayerNormalization()(x)
        x = layers.Add()([x, layers.MultiHeadAttention(heads, dim // heads)(y, y)])
        y = layers.Dense(2 * dim, activation="gelu")(layers.LayerNormalization()(x))
        x = layers.Add()([x, layers.Dense(dim)(y)])
    x = layers.GlobalAveragePooling1D()(layers.LayerNormalization()(x))
    return keras.Model(inputs, layers.Dense(num_classes)(x))


# Fine-tuning: a small CNN backbone pre-trained by the benchmark itself on the glyphs (16x16),
# then fine-tuned with a fresh head on the blobs (16x16), frozen or not.
_PRETRAIN_SEED = 20261204
BACKBONE_DIR = Path(__file__).resolve().parent / ".cache" / "backbones"


def _backbone(input_shape):
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(input_shape),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
        ],
        name="backbone",
    )


def _backbone_path() -> Path:
    return BACKBONE_DIR / "glyphs16_cnn_v1.npz"


def pretrain_backbone() -> Path:
    """Pre-trains the backbone on the 16x16 glyphs once (Adam 2e-3, 6 epochs, batch 64) and
    caches its weights; returns the file. Deterministic given the seed and the machine."""
    import keras

    path = _backbone_path()
    if path.exists():
        return path
    data = glyphs(16, 2000)
    keras.utils.set_random_seed(_PRETRAIN_SEED)
    backbone = _backbone(data.x_train.shape[1:])
    model = keras.Sequential([backbone, keras.layers.Dense(data.num_classes)])
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(data.x_train, data.y_train, batch_size=64, epochs=6, verbose=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.stem + ".tmp.npz")
    np.savez(temporary, *backbone.get_weights())
    os.replace(temporary, path)
    return path


def fine_tuned(frozen: bool):
    """A model factory: the pre-trained backbone (frozen or not) and a fresh dense head."""

    def build(input_shape, num_classes):
        import keras

        backbone = _backbone(input_shape)
        with np.load(pretrain_backbone()) as weights:
            backbone.set_weights([weights[f"arr_{i}"] for i in range(len(weights.files))])
        backbone.trainable = not frozen
        return keras.Sequential(
            [keras.Input(input_shape), backbone, keras.layers.Dense(num_classes)]
        )

    build.__name__ = "fine_tuned_frozen" if frozen else "fine_tuned"
    return build


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
        name="depthwise_lion_ls_symmetry",
        description="MobileNet-like depthwise CNN + Lion, label smoothing 0.1, symmetry (12x12)",
        data=functools.partial(symmetry, 12, 1000),
        model=depthwise_cnn,
        optimizer=optimizer("Lion"),
        optimizer_name="Lion",
        keras_default_lr=1e-3,
        epochs={"full": 3, "quick": 2},
        batch_size=32,
        lr_range=(1e-5, 1e-1),
        architecture="depthwise",
        dataset="symmetry",
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
