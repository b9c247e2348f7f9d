"""Shared fixtures: tiny real Keras models and data, and a recorder of what each step saw."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # Tests draw off-screen; the library itself never picks a backend.

BATCH_SIZE = 8
NUM_SAMPLES = 256
BACKEND = keras.backend.backend()

# torch.compile (`jit_compile=True` on PyTorch) imports a deprecated torch.jit API of its own.
TORCH_COMPILE_WARNING = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script_method` is deprecated:DeprecationWarning"
)


def skip_on_backends(*backends, reason):
    """Skips a test (or class) on the named Keras backends, saying why."""
    return pytest.mark.skipif(BACKEND in backends, reason=f"{BACKEND} backend: {reason}")


@pytest.fixture
def linear_data():
    """A noisy linear regression problem: x (256, 3), y (256, 1), float32."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(NUM_SAMPLES, 3)).astype("float32")
    w = np.array([[1.5], [-2.0], [0.5]], dtype="float32")
    y = (x @ w + 0.3 + 0.1 * rng.normal(size=(NUM_SAMPLES, 1))).astype("float32")
    return x, y


def make_linear_model(optimizer="sgd", seed=1, **compile_kwargs):
    """A compiled single Dense unit with MSE loss, so losses and gradients have closed forms."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", **compile_kwargs)
    return model


def make_mlp(optimizer="adam", seed=1, **compile_kwargs):
    """A compiled small MLP with dropout and batch norm (state beyond the weights)."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"], **compile_kwargs)
    return model


def full_state(model):
    """Copies of every weight, optimizer variable and metric variable, by path."""
    variables = (
        list(model.variables)
        + list(model.optimizer.variables)
        + [v for metric in model.metrics for v in metric.variables]
    )
    return [(v.path, np.array(v.numpy(), copy=True)) for v in variables]


def assert_same_state(before, after):
    """Every variable is bit-identical (same paths, same values)."""
    assert [path for path, _ in before] == [path for path, _ in after]
    for (path, a), (_, b) in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=path)


class StepRecorder(keras.callbacks.Callback):
    """Records the weights before and after each step, and the learning rate in force."""

    def __init__(self, raise_at=None, exception=KeyboardInterrupt):
        super().__init__()
        self.raise_at = raise_at
        self.exception = exception
        self.weights = []
        self.weights_after = []
        self.learning_rates = []

    def on_train_batch_begin(self, batch, logs=None):
        if self.raise_at is not None and len(self.weights) == self.raise_at:
            raise self.exception("interrupted by the test")
        self.weights.append([np.array(w) for w in self.model.get_weights()])
        lr = self.model.optimizer.learning_rate
        self.learning_rates.append(float(lr.numpy() if isinstance(lr, keras.Variable) else lr))

    def on_train_batch_end(self, batch, logs=None):
        self.weights_after.append([np.array(w) for w in self.model.get_weights()])
