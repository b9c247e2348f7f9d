"""The offline data sets of the suggestion-quality benchmark, all fixed by seeds.

The scikit-learn digits that keras_lrfind ships (8x8, optionally upscaled), and five
procedurally generated image sets: `shapes` (noisy, rotated geometric shapes), `gratings`
(noisy oriented sine gratings at two spatial frequencies), `glyphs` (ten random 5x5 binary
glyphs, optionally long-tailed), `symmetry` (noisy patterns by their symmetry) and `blobs`
(count the Gaussian blobs). Every function is cached: a data set is generated once per
process.
"""

from __future__ import annotations

import dataclasses
import functools

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
