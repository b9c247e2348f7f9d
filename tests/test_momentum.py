"""Tests for keras_lrfind.momentum: MomentumCycler.

Expected momenta come from PyTorch's `OneCycleLR` momentum cycling transcribed
in plain Python; expected weights come from NumPy re-implementations of Keras'
SGD and Adam update rules fed with those momenta. Each `fit` test is a real
`model.fit` of a one-unit Dense model.
"""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest
from conftest import BACKEND, TORCH_COMPILE_WARNING, skip_on_backends

from keras_lrfind.schedules import MomentumCycler, OneCycle
from keras_lrfind.schedules._momentum import check_backend

KERAS_SAVE_WARNING = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
BATCH_SIZE = 16
STEPS_PER_EPOCH = 4  # 64 samples in batches of 16


def anneal(start, end, pct, anneal_strategy):
    if anneal_strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def torch_one_cycle(
    step,
    total_steps,
    start_end_pairs,
    pct_start=0.3,
    anneal_strategy="cos",
):
    """`OneCycleLR`'s phase walk for one quantity; past the end, the value at the end."""
    ends = [float(pct_start * total_steps) - 1]
    if len(start_end_pairs) == 3:
        ends.append(float(2 * pct_start * total_steps) - 2)
    ends.append(total_steps - 1)
    step = min(step, total_steps - 1)
    start_step = 0.0
    for i, (end_step, (start, end)) in enumerate(zip(ends, start_end_pairs, strict=True)):
        if step <= end_step or i == len(ends) - 1:
            return anneal(
                start, end, (step - start_step) / (end_step - start_step), anneal_strategy
            )
        start_step = end_step
    raise AssertionError("unreachable")


def torch_momentum(
    step,
    total_steps,
    max_momentum=0.95,
    base_momentum=0.85,
    pct_start=0.3,
    anneal_strategy="cos",
    three_phase=False,
):
    """The momentum `OneCycleLR(cycle_momentum=True)` sets for optimizer step `step`."""
    pairs = [(max_momentum, base_momentum), (base_momentum, max_momentum)]
    if three_phase:
        pairs.append((max_momentum, max_momentum))
    return torch_one_cycle(step, total_steps, pairs, pct_start, anneal_strategy)


def torch_lr(step, max_lr, total_steps):
    """The learning rate of `OneCycleLR(max_lr, total_steps)` with default arguments."""
    return torch_one_cycle(step, total_steps, [(max_lr / 25, max_lr), (max_lr, max_lr / 25e4)])


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    return x, y


def make_model(optimizer, seed=0, **compile_kwargs):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", **compile_kwargs)
    return model


def fit(model, epochs, callbacks=(), **kwargs):
    x, y = make_data()
    model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=list(callbacks),
        **kwargs,
    )


def gradients(kernel, bias, step):
    """MSE gradients of a Dense(1) model on the batch of `step` (batches in order)."""
    x, y = make_data()
    batch = slice((step % STEPS_PER_EPOCH) * BATCH_SIZE, (step % STEPS_PER_EPOCH + 1) * BATCH_SIZE)
    error = x[batch] @ kernel + bias - y[batch]
    return [2 * x[batch].T @ error / error.size, 2 * error.sum(axis=0) / error.size]


def numpy_sgd(weights, learning_rates, momenta):
    """Keras' SGD with momentum: `v = momentum * v - lr * g; w = w + v`, in float64."""
    weights = [w.astype("float64") for w in weights]
    velocities = [np.zeros_like(w) for w in weights]
    for step, (learning_rate, momentum) in enumerate(zip(learning_rates, momenta, strict=True)):
        for i, gradient in enumerate(gradients(*weights, step)):
            velocities[i] = momentum * velocities[i] - learning_rate * gradient
            weights[i] = weights[i] + velocities[i]
    return weights


def numpy_adam(weights, learning_rate, beta_1s, beta_2=0.999, epsilon=1e-7):
    """Keras' Adam update with a per-step `beta_1`, in float64."""
    weights = [w.astype("float64") for w in weights]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for step, beta_1 in enumerate(beta_1s):
        t = step + 1
        alpha = learning_rate * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for i, gradient in enumerate(gradients(*weights, step)):
            m[i] = m[i] + (gradient - m[i]) * (1 - beta_1)
            v[i] = v[i] + (gradient**2 - v[i]) * (1 - beta_2)
            weights[i] = weights[i] - m[i] * alpha / (np.sqrt(v[i]) + epsilon)
    return weights


def assert_weights(model, expected):
    for actual, wanted in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(actual, wanted, rtol=1e-5, atol=1e-6)


def optimizer_with_beta_1(optimizer_class, beta_1):
    if optimizer_class is keras.optimizers.SGD:
        return keras.optimizers.SGD(0.05, momentum=beta_1)
    if optimizer_class is keras.optimizers.Lion:
        # Lion steps by a sign: beta_1 only shows once momentum can flip it.
        return keras.optimizers.Lion(0.1, beta_1=beta_1)
    return optimizer_class(0.01, beta_1=beta_1)


class Interrupt(keras.callbacks.Callback):
    """Raises `exception` (KeyboardInterrupt by default) at the start of batch `at`."""

    def __init__(self, at, exception=KeyboardInterrupt):
        super().__init__()
        self.at = at
        self.exception = exception

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.at:
            raise self.exception("interrupted by the test")


def failing_loss(y_true, y_pred):
    """A loss that raises inside the train step (while it is traced, or run eagerly)."""
    raise RuntimeError("the loss failed")


class OptimizerWatcher(keras.callbacks.Callback):
    """Records the optimizer's variable paths and config after each batch."""

    def __init__(self):
        super().__init__()
        self.paths = []
        self.configs = []

    def on_train_batch_end(self, batch, logs=None):
        self.paths.append([v.path for v in self.model.optimizer.variables])
        self.configs.append(self.model.optimizer.get_config())


class TestMomentumCycler:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"total_steps": 100},
            {"total_steps": 7, "anneal_strategy": "linear"},
            {"total_steps": 2},
            {"total_steps": 13, "pct_start": 0.25, "three_phase": True},
            {"total_steps": 10, "pct_start": 0.6, "three_phase": True},
            {"total_steps": 51, "max_momentum": 0.9, "base_momentum": 0.8, "pct_start": 0.5},
        ],
    )
    def test_momentum_matches_pytorch(self, kwargs):
        """momentum_at follows OneCycleLR's momentum at every step, and holds past the end."""
        cycler = MomentumCycler(**kwargs)
        steps = np.arange(kwargs["total_steps"] + 4)
        expected = [torch_momentum(int(step), **kwargs) for step in steps]
        actual = keras.ops.convert_to_numpy(cycler.momentum_at(steps))
        np.testing.assert_allclose(actual, expected, rtol=1e-6)

    def test_from_one_cycle_mirrors_the_learning_rate(self):
        """from_one_cycle copies the phases: momentum is lowest exactly where the LR peaks."""
        schedule = OneCycle(0.1, total_steps=40, pct_start=0.25, three_phase=True)
        cycler = MomentumCycler.from_one_cycle(schedule, max_momentum=0.9, base_momentum=0.8)
        assert (cycler.total_steps, cycler.pct_start, cycler.anneal_strategy) == (40, 0.25, "cos")
        assert cycler.three_phase
        steps = np.arange(40)
        momenta = keras.ops.convert_to_numpy(cycler.momentum_at(steps))
        learning_rates = keras.ops.convert_to_numpy(schedule(steps))
        assert int(np.argmin(momenta)) == int(np.argmax(learning_rates)) == 9
        assert momenta[0] == pytest.approx(0.9)
        assert momenta[9] == pytest.approx(0.8)
        assert momenta[-1] == pytest.approx(0.9)

    def test_sgd_weights_follow_numpy_with_cycled_momentum(self):
        """SGD's updates use the cycled momentum each step, then the original 0.9 again."""
        schedule = OneCycle(0.05, total_steps=12)
        cycler = MomentumCycler.from_one_cycle(schedule)
        model = make_model(keras.optimizers.SGD(schedule, momentum=0.9))
        initial = model.get_weights()
        fit(model, epochs=2, callbacks=[cycler])  # steps 0-7
        fit(model, epochs=1, callbacks=[cycler])  # steps 8-11: the same cycler, continued
        fit(model, epochs=1)  # steps 12-15: no cycler, momentum back to 0.9
        learning_rates = [torch_lr(step, 0.05, 12) for step in range(16)]
        momenta = [torch_momentum(step, 12) for step in range(12)] + [0.9] * 4
        assert_weights(model, numpy_sgd(initial, learning_rates, momenta))

    def test_adam_weights_follow_numpy_with_cycled_beta_1(self):
        """Adam's updates (bias correction included) use the cycled beta_1 each step."""
        cycler = MomentumCycler(total_steps=8, pct_start=0.4, anneal_strategy="linear")
        model = make_model(keras.optimizers.Adam(0.01))
        initial = model.get_weights()
        fit(model, epochs=2, callbacks=[cycler])
        beta_1s = [
            torch_momentum(step, 8, pct_start=0.4, anneal_strategy="linear") for step in range(8)
        ]
        assert_weights(model, numpy_adam(initial, 0.01, beta_1s))

    @skip_on_backends(
        "torch", reason="Keras' PyTorch trainer refuses steps_per_execution > 1 and has no XLA"
    )
    def test_exact_with_steps_per_execution_and_xla(self):
        """Several steps per call under XLA still get each step's own momentum."""
        cycler = MomentumCycler(total_steps=8, three_phase=True)
        model = make_model(
            keras.optimizers.SGD(0.05, momentum=0.9), steps_per_execution=3, jit_compile=True
        )
        initial = model.get_weights()
        fit(model, epochs=2, callbacks=[cycler])
        momenta = [torch_momentum(step, 8, three_phase=True) for step in range(8)]
        assert_weights(model, numpy_sgd(initial, [0.05] * 8, momenta))

    @TORCH_COMPILE_WARNING
    @skip_on_backends("tensorflow", "jax", reason="torch.compile is PyTorch's jit_compile")
    def test_exact_with_torch_compile(self):
        """Under torch.compile each step still gets its own momentum (torch specializes the
        compiled update on the float, so it recompiles for new values up to its limit)."""
        cycler = MomentumCycler(total_steps=8, three_phase=True)
        model = make_model(keras.optimizers.SGD(0.05, momentum=0.9), jit_compile=True)
        initial = model.get_weights()
        fit(model, epochs=2, callbacks=[cycler])
        momenta = [torch_momentum(step, 8, three_phase=True) for step in range(8)]
        assert_weights(model, numpy_sgd(initial, [0.05] * 8, momenta))

    def test_changes_training(self):
        """Two identical models end with different weights with and without the cycler."""
        with_cycler = make_model(keras.optimizers.SGD(0.05, momentum=0.9))
        without = make_model(keras.optimizers.SGD(0.05, momentum=0.9))
        np.testing.assert_array_equal(with_cycler.get_weights()[0], without.get_weights()[0])
        fit(with_cycler, epochs=1, callbacks=[MomentumCycler(total_steps=4)])
        fit(without, epochs=1)
        assert not np.allclose(with_cycler.get_weights()[0], without.get_weights()[0])

    @pytest.mark.parametrize(
        ("optimizer_class", "value"),
        [
            (keras.optimizers.SGD, 0.5),
            (keras.optimizers.Adam, 0.5),
            (keras.optimizers.AdamW, 0.5),
            (keras.optimizers.Adamax, 0.5),
            (keras.optimizers.Nadam, 0.5),
            (keras.optimizers.Lion, 0.99),
        ],
    )
    def test_each_optimizer_trains_with_the_cycled_value(self, optimizer_class, value):
        """A constant cycle at `value` trains exactly as the optimizer built with it, not 0.9."""
        if optimizer_class is keras.optimizers.Nadam and BACKEND == "jax":
            pytest.skip("Nadam is refused on JAX (test_rejects_nadam_on_jax)")
        # Two epochs: on PyTorch's initial weights Lion's signs first differ at step 5.
        cycled = make_model(optimizer_with_beta_1(optimizer_class, 0.9))
        fit(cycled, 2, [MomentumCycler(total_steps=4, max_momentum=value, base_momentum=value)])
        built_with_value = make_model(optimizer_with_beta_1(optimizer_class, value))
        fit(built_with_value, 2)
        built_with_default = make_model(optimizer_with_beta_1(optimizer_class, 0.9))
        fit(built_with_default, 2)
        for actual, expected in zip(
            cycled.get_weights(), built_with_value.get_weights(), strict=True
        ):
            np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7)
        assert not np.allclose(cycled.get_weights()[0], built_with_default.get_weights()[0])

    def test_loss_scale_optimizer_cycles_its_inner_optimizer(self):
        """Inside a LossScaleOptimizer the inner SGD's momentum is cycled."""
        cycler = MomentumCycler(total_steps=8)
        inner = keras.optimizers.SGD(0.05, momentum=0.9)
        model = make_model(keras.optimizers.LossScaleOptimizer(inner))
        initial = model.get_weights()
        fit(model, epochs=2, callbacks=[cycler])
        momenta = [torch_momentum(step, 8) for step in range(8)]
        assert_weights(model, numpy_sgd(initial, [0.05] * 8, momenta))
        assert type(inner.momentum) is float

    def test_optimizer_variables_and_config_are_unchanged(self):
        """optimizer.variables and get_config are the same during and after the cycled fit."""
        optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
        original_momentum = optimizer.momentum
        model = make_model(optimizer)
        optimizer.build(model.trainable_variables)
        paths = [v.path for v in optimizer.variables]
        config = optimizer.get_config()
        watcher = OptimizerWatcher()
        fit(model, epochs=1, callbacks=[MomentumCycler(total_steps=4), watcher])
        assert watcher.paths == [paths] * 4
        assert all(during == config for during in watcher.configs)
        assert [v.path for v in optimizer.variables] == paths
        assert optimizer.get_config() == config
        assert optimizer.momentum is original_momentum
        assert keras.optimizers.SGD.from_config(optimizer.get_config()).momentum == 0.9

    @KERAS_SAVE_WARNING
    def test_model_saved_during_fit_reloads(self, tmp_path):
        """A ModelCheckpoint taken mid-cycle saves the original momentum and reloads."""
        path = tmp_path / "checkpoint.keras"
        model = make_model(keras.optimizers.Adam(0.01, beta_1=0.9))
        checkpoint = keras.callbacks.ModelCheckpoint(path)
        fit(model, epochs=2, callbacks=[MomentumCycler(total_steps=8), checkpoint])
        loaded = keras.saving.load_model(path)
        assert type(loaded.optimizer.beta_1) is float
        assert loaded.optimizer.beta_1 == 0.9
        assert int(loaded.optimizer.iterations) == 8
        for actual, expected in zip(loaded.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(actual, expected)

    def test_interrupted_fit_then_resumed(self):
        """After an interrupted fit the optimizer reports 0.9, and the next cycled fit restores."""
        optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
        original_momentum = optimizer.momentum
        model = make_model(optimizer)
        cycler = MomentumCycler(total_steps=8)
        with pytest.raises(KeyboardInterrupt):
            fit(model, epochs=2, callbacks=[cycler, Interrupt(at=2)])
        assert optimizer.momentum == 0.9
        assert optimizer.get_config()["momentum"] == 0.9
        fit(model, epochs=1, callbacks=[cycler])
        assert optimizer.momentum is original_momentum

    @pytest.mark.parametrize("exception", [KeyboardInterrupt, RuntimeError])
    def test_interrupted_fit_leaves_the_original_float(self, exception):
        """An exception in a callback mid-fit leaves the optimizer's own float object."""
        optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
        original_momentum = optimizer.momentum
        model = make_model(optimizer)
        interrupt = Interrupt(at=2, exception=exception)
        with pytest.raises(exception, match="interrupted by the test"):
            fit(model, epochs=2, callbacks=[MomentumCycler(total_steps=8), interrupt])
        assert type(optimizer.momentum) is float
        assert optimizer.momentum is original_momentum

    def test_failing_train_step_leaves_the_original_float(self):
        """An exception raised inside the train step leaves Adam's own float `beta_1`."""
        optimizer = keras.optimizers.Adam(0.01, beta_1=0.9)
        original_beta_1 = optimizer.beta_1
        model = make_model(optimizer)
        model.compile(optimizer=optimizer, loss=failing_loss)
        with pytest.raises(RuntimeError, match="the loss failed"):
            fit(model, epochs=1, callbacks=[MomentumCycler(total_steps=8)])
        assert type(optimizer.beta_1) is float
        assert optimizer.beta_1 is original_beta_1

    def test_rejects_optimizer_without_momentum(self):
        """RMSprop and SGD without momentum are refused before anything changes."""
        message = (
            "`MomentumCycler` cycles SGD's `momentum` or the Adam family's `beta_1`, and the "
            "model's optimizer has neither. Received: optimizer of type RMSprop. Compile the "
            "model with one of: SGD, Adam, AdamW, Adamax, Nadam, Lion."
        )
        model = make_model(keras.optimizers.RMSprop(0.01, momentum=0.9))
        with pytest.raises(TypeError, match=re.escape(message)):
            fit(model, epochs=1, callbacks=[MomentumCycler(total_steps=4)])
        message = (
            "`MomentumCycler` needs an SGD optimizer built with momentum, but this one was "
            "built with momentum=0.0 and so has no momentum slot to cycle. Received: "
            "momentum=0.0. Compile with e.g. `keras.optimizers.SGD(learning_rate, momentum=0.9)`."
        )
        optimizer = keras.optimizers.SGD(0.01)
        model = make_model(optimizer)
        with pytest.raises(ValueError, match=re.escape(message)):
            fit(model, epochs=1, callbacks=[MomentumCycler(total_steps=4)])
        assert type(optimizer.momentum) is float

    def test_rejects_a_non_float_hyperparameter(self):
        """A beta_1 that is not a Python float (here a tensor) is refused."""
        model = make_model(keras.optimizers.Adam(0.01, beta_1=keras.ops.convert_to_tensor(0.9)))
        message = "`MomentumCycler` can only cycle a Python float `beta_1`. Received: Adam with"
        with pytest.raises(TypeError, match=re.escape(message)):
            fit(model, epochs=1, callbacks=[MomentumCycler(total_steps=4)])

    def test_rejects_other_backends(self):
        """Backends other than TensorFlow, JAX and PyTorch are refused with how to switch."""
        message = (
            "`MomentumCycler` needs the TensorFlow, JAX or PyTorch backend: it feeds the "
            "cycled momentum into the train step through their tensor conversion or eager "
            "step. Received: backend='numpy'. Set `KERAS_BACKEND` to one of tensorflow, jax, "
            "torch, or train without momentum cycling."
        )
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
        with pytest.raises(RuntimeError, match=re.escape(message)):
            check_backend("numpy", optimizer)
        for backend in ("tensorflow", "jax", "torch"):
            check_backend(backend, optimizer)

    def test_rejects_nadam_on_jax(self):
        """Nadam on JAX is refused, naming the backend and why; other backends cycle it."""
        message = (
            "`MomentumCycler` cannot cycle Nadam's `beta_1` on the JAX backend: Nadam "
            "multiplies a variable by `beta_1`, and JAX compiles a Python float met that way "
            "into the step as a constant, so part of the update would keep the original "
            "value. Received: optimizer of type Nadam, backend='jax'. Use Adam, AdamW, "
            "Adamax or Lion, or the TensorFlow or PyTorch backend."
        )
        with pytest.raises(TypeError, match=re.escape(message)):
            check_backend("jax", keras.optimizers.Nadam(0.01))
        check_backend("tensorflow", keras.optimizers.Nadam(0.01))
        check_backend("torch", keras.optimizers.Nadam(0.01))
        check_backend("jax", keras.optimizers.Adam(0.01))

    @skip_on_backends("tensorflow", "torch", reason="the Nadam refusal is JAX's")
    def test_nadam_is_refused_before_anything_changes_on_jax(self):
        """On JAX, fit with a Nadam model raises in on_train_begin and leaves beta_1 alone."""
        optimizer = keras.optimizers.Nadam(0.01, beta_1=0.9)
        model = make_model(optimizer)
        with pytest.raises(TypeError, match="cannot cycle Nadam's `beta_1` on the JAX backend"):
            fit(model, epochs=1, callbacks=[MomentumCycler(total_steps=4)])
        assert type(optimizer.beta_1) is float

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            (
                {"max_momentum": 1.0},
                ValueError,
                "`max_momentum` must be in [0, 1). Received: max_momentum=1.0.",
            ),
            (
                {"base_momentum": -0.1},
                ValueError,
                "`base_momentum` must be in [0, 1). Received: base_momentum=-0.1.",
            ),
            (
                {"max_momentum": "0.9"},
                TypeError,
                "`max_momentum` must be a Python number. Received: max_momentum='0.9' of type str.",
            ),
            (
                {"max_momentum": 0.8, "base_momentum": 0.9},
                ValueError,
                "`base_momentum` must be less than or equal to `max_momentum` (momentum dips "
                "while the learning rate peaks). Received: base_momentum=0.9, max_momentum=0.8.",
            ),
            (
                {"total_steps": 1},
                ValueError,
                "`total_steps` must be at least 2. Received: total_steps=1.",
            ),
            (
                {"pct_start": 1.5},
                ValueError,
                "`pct_start` must be strictly between 0 and 1. Received: pct_start=1.5.",
            ),
            (
                {"anneal_strategy": "step"},
                ValueError,
                "`anneal_strategy` must be one of 'cos', 'linear'. "
                "Received: anneal_strategy='step'.",
            ),
            (
                {"three_phase": "yes"},
                TypeError,
                "`three_phase` must be `True` or `False`. Received: three_phase='yes' of type str.",
            ),
        ],
    )
    def test_rejects_invalid_arguments(self, kwargs, error, message):
        """Each invalid argument raises a Keras-style message naming it and its value."""
        with pytest.raises(error, match=re.escape(message)):
            MomentumCycler(**{"total_steps": 10, **kwargs})

    def test_from_one_cycle_rejects_other_schedules(self):
        """from_one_cycle needs a OneCycle schedule."""
        message = (
            "`schedule` must be a `keras_lrfind.OneCycle`. Received: schedule of type "
            "ExponentialDecay."
        )
        with pytest.raises(TypeError, match=re.escape(message)):
            MomentumCycler.from_one_cycle(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))
