"""Tests for keras_lrfind.schedules: OneCycle, CyclicLR, CycleDecay, steps_for_epochs, plots.

Expected values come from PyTorch's `OneCycleLR.get_lr` and `CyclicLR.get_lr`
transcribed below in plain float64 Python (torch itself is not a dependency),
from hand-worked numbers, and from a NumPy re-implementation of SGD for the
`fit` tests.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import TORCH_COMPILE_WARNING, skip_on_backends
from hypothesis import example, given, settings
from hypothesis import strategies as st

import keras_lrfind
from keras_lrfind.schedules import CycleDecay, CyclicLR, OneCycle

RTOL = 1e-5  # The schedules compute in float32; PyTorch in float64.


def one_cycle_float32_atol(max_lr, total_steps, pct_start, three_phase):
    """The absolute error float32 allows a one-cycle rate: a phase boundary held in float32
    is off by up to `eps * total_steps` steps, which a phase of `n` steps turns into
    `eps * total_steps / n` of its fraction, and the cosine into at most pi / 2 times that
    of the phase's swing (at most `max_lr`). Large only for a phase of a few steps."""
    up = pct_start * total_steps - 1
    phases = [up, up, total_steps - 1 - 2 * up] if three_phase else [up, total_steps - 1 - up]
    shortest = max(min(phases), 1.0)
    return max_lr * np.finfo(np.float32).eps * total_steps / shortest * math.pi / 2


NO_XLA_ON_TORCH = skip_on_backends(
    "torch",
    reason="PyTorch has no XLA; torch.compile runs the schedules in the jit_compile fit tests",
)


@contextlib.contextmanager
def sixty_four_bit_arrays():
    """Lets JAX hold int64 and float64 arrays (without x64 it truncates them, with a warning);
    other backends always can."""
    if keras.backend.backend() != "jax":
        yield
        return
    import jax

    with jax.enable_x64(True):
        yield


def compile_with_xla(schedule, dtype):
    """`schedule` compiled with XLA by the backend, as a function of a step given at run time
    as a tensor of `dtype` (a variable on TensorFlow, an argument on JAX)."""
    if keras.backend.backend() == "jax":
        import jax

        compiled = jax.jit(schedule)
        return lambda k: compiled(keras.ops.convert_to_tensor(k, dtype=dtype))
    step = tf.Variable(0, dtype=dtype)
    compiled = tf.function(lambda: schedule(step), jit_compile=True)

    def evaluate(k):
        step.assign(k)
        return compiled()

    return evaluate


# Keras 3.15 saving a TensorFlow variable with NumPy 2 warns from inside Keras, not from us.
KERAS_SAVE_WARNING = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


# --- PyTorch's formulas, transcribed -----------------------------------------------------------


def torch_one_cycle(
    step,
    max_lr,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    """`OneCycleLR.get_lr()` at `last_epoch == step`; past the end, the value at the end."""
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
            (total_steps - 1, initial_lr, min_lr),
        ]
    else:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (total_steps - 1, max_lr, min_lr),
        ]
    step = min(step, total_steps - 1)
    start_step = 0.0
    for i, (end_step, start, end) in enumerate(phases):
        if step <= end_step or i == len(phases) - 1:
            pct = (step - start_step) / (end_step - start_step)
            if anneal_strategy == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
            return (end - start) * pct + start
        start_step = end_step
    raise AssertionError("unreachable")


def torch_cyclic(
    step,
    base_lr,
    max_lr,
    step_size_up=2000,
    step_size_down=None,
    mode="triangular",
    gamma=1.0,
    scale_fn=None,
    scale_mode="cycle",
):
    """`CyclicLR.get_lr()` at `last_epoch == step`."""
    step_size_down = step_size_up if step_size_down is None else step_size_down
    total_size = float(step_size_up) + float(step_size_down)
    step_ratio = float(step_size_up) / total_size
    if scale_fn is None:
        if mode == "triangular":
            scale_fn, scale_mode = (lambda x: 1.0), "cycle"
        elif mode == "triangular2":
            scale_fn, scale_mode = (lambda x: 1 / (2.0 ** (x - 1))), "cycle"
        else:
            scale_fn, scale_mode = (lambda x: gamma**x), "iterations"
    cycle = math.floor(1 + step / total_size)
    x = 1.0 + step / total_size - cycle
    if x <= step_ratio:
        scale_factor = x / step_ratio
    else:
        scale_factor = (x - 1) / (step_ratio - 1)
    base_height = (max_lr - base_lr) * scale_factor
    return base_lr + base_height * scale_fn(cycle if scale_mode == "cycle" else step)


def values(schedule, steps):
    """The schedule at each step, from one vectorized call, as float64."""
    return np.asarray(keras.ops.convert_to_numpy(schedule(np.asarray(steps))), dtype="float64")


# --- Tiny models and a NumPy SGD -----------------------------------------------------------------


def make_data(num_samples=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(num_samples, 4)).astype("float32")
    y = rng.normal(size=(num_samples, 1)).astype("float32")
    return x, y


def make_model(optimizer, seed=0, **compile_kwargs):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", **compile_kwargs)
    return model


def numpy_sgd(x, y, kernel, bias, batch_size, learning_rates):
    """Plain SGD on MSE for a Dense(1) model, batches in order, in float64."""
    kernel, bias = kernel.astype("float64"), bias.astype("float64")
    steps_per_epoch = math.ceil(len(x) / batch_size)
    for step, learning_rate in enumerate(learning_rates):
        batch = slice(
            (step % steps_per_epoch) * batch_size, (step % steps_per_epoch + 1) * batch_size
        )
        error = x[batch] @ kernel + bias - y[batch]
        kernel = kernel - learning_rate * 2 * x[batch].T @ error / error.size
        bias = bias - learning_rate * 2 * error.sum(axis=0) / error.size
    return kernel, bias


def assert_fit_follows(schedule, expected_learning_rates, jit_compile="auto"):
    """`fit` with SGD(schedule) moves the weights exactly as NumPy SGD with these rates."""
    x, y = make_data()
    model = make_model(keras.optimizers.SGD(schedule), jit_compile=jit_compile)
    kernel, bias = model.get_weights()
    epochs = len(expected_learning_rates) // 4
    model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
    expected_kernel, expected_bias = numpy_sgd(x, y, kernel, bias, 16, expected_learning_rates)
    np.testing.assert_allclose(model.get_weights()[0], expected_kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], expected_bias, rtol=1e-5, atol=1e-6)


def assert_reload_continues(schedule, tmp_path):
    """A saved and reloaded model has the same LR and takes the same next step."""
    x, y = make_data()
    model = make_model(keras.optimizers.Adam(schedule))
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.optimizer.learning_rate) is type(model.optimizer.learning_rate)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 4
    assert float(loaded.optimizer.learning_rate) == float(model.optimizer.learning_rate)
    for _ in range(2):
        model.train_on_batch(x[:16], y[:16])
        loaded.train_on_batch(x[:16], y[:16])
        assert float(loaded.optimizer.learning_rate) == float(model.optimizer.learning_rate)
    for after_reload, continued in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(after_reload, continued)


@keras.saving.register_keras_serializable(package="keras_lrfind_tests")
def halving(cycle):
    """A registered scale function: halves the amplitude every cycle."""
    return keras.ops.power(0.5, cycle - 1.0)


def unregistered(cycle):
    """A named but unregistered scale function."""
    return 1.0


class UnregisteredScale:
    """A scale class with get_config but without registration."""

    def __call__(self, cycle):
        return 1.0

    def get_config(self):
        return {}


# --- OneCycle -------------------------------------------------------------------------------------


class TestOneCycle:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"total_steps": 100},
            {"total_steps": 101, "anneal_strategy": "linear"},
            {"total_steps": 7, "pct_start": 0.3},  # warm-up ends at the float step 1.1
            {"total_steps": 2},  # warm-up ends before step 0: PyTorch starts in phase two
            {"total_steps": 3, "pct_start": 0.5},
            {"total_steps": 13, "pct_start": 0.25, "three_phase": True},
            {"total_steps": 1000, "pct_start": 0.45, "three_phase": True},
            {"total_steps": 10, "pct_start": 0.6, "three_phase": True},  # never reaches phase 3
            {"total_steps": 97, "anneal_strategy": "linear", "three_phase": True},
            {"total_steps": 50, "div_factor": 4.0, "final_div_factor": 100.0},
        ],
    )
    def test_matches_pytorch_at_every_step(self, kwargs):
        """Every step, including phase boundaries and beyond the end, is PyTorch's value."""
        schedule = OneCycle(0.1, **kwargs)
        steps = np.arange(kwargs["total_steps"] + 5)
        expected = [torch_one_cycle(int(step), 0.1, **kwargs) for step in steps]
        np.testing.assert_allclose(values(schedule, steps), expected, rtol=RTOL)

    @settings(max_examples=40, deadline=None)
    @given(
        total_steps=st.integers(2, 3000),
        pct_start=st.floats(0.01, 0.99),
        anneal_strategy=st.sampled_from(["cos", "linear"]),
        three_phase=st.booleans(),
        max_lr=st.floats(1e-5, 10.0),
    )
    # Found in CI on PyTorch: a third phase of 2.3 steps (relative error 1.5e-5 at step 948).
    @example(
        total_steps=950,
        pct_start=0.49930353529407107,
        anneal_strategy="cos",
        three_phase=True,
        max_lr=1.0,
    )
    def test_matches_pytorch_for_random_arguments(
        self, total_steps, pct_start, anneal_strategy, three_phase, max_lr
    ):
        """PyTorch's values hold for any valid arguments, to float32 precision (a phase of a
        few steps amplifies float32's rounding of its boundaries: see the `atol`)."""
        if float(pct_start * total_steps) == 1.0:
            return
        kwargs = {
            "total_steps": total_steps,
            "pct_start": pct_start,
            "anneal_strategy": anneal_strategy,
            "three_phase": three_phase,
        }
        steps = np.arange(total_steps + 2)
        expected = [torch_one_cycle(int(step), max_lr, **kwargs) for step in steps]
        atol = one_cycle_float32_atol(max_lr, total_steps, pct_start, three_phase)
        np.testing.assert_allclose(
            values(OneCycle(max_lr, **kwargs), steps), expected, rtol=RTOL, atol=atol
        )

    def test_hand_worked_key_points(self):
        """Starts at max_lr / 25, peaks at step pct_start * total - 1, ends at max_lr / 25e4."""
        schedule = OneCycle(1.0, total_steps=100, pct_start=0.25)
        np.testing.assert_allclose(
            values(schedule, [0, 24, 99]), [1 / 25, 1.0, 1 / 25e4], rtol=RTOL
        )
        assert schedule.initial_lr == 1 / 25
        assert schedule.min_lr == pytest.approx(1 / 25e4)
        learning_rates = values(schedule, np.arange(100))
        assert np.all(np.diff(learning_rates[:25]) > 0)
        assert np.all(np.diff(learning_rates[24:]) < 0)

    def test_holds_final_value_past_total_steps(self):
        """Past total_steps - 1 the schedule stays at its final value instead of raising."""
        schedule = OneCycle(0.1, total_steps=20)
        final = float(schedule(19))
        assert final == pytest.approx(0.1 / 25 / 1e4, rel=RTOL)
        for step in (20, 21, 1000, 10**6):
            assert float(schedule(step)) == final

    @pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64"])
    def test_accepts_integer_and_float_step_tensors(self, dtype):
        """Steps of any integer or float dtype give the same float32 value."""
        schedule = OneCycle(0.1, total_steps=10)
        with sixty_four_bit_arrays():
            value = schedule(keras.ops.convert_to_tensor(4, dtype=dtype))
        assert keras.backend.standardize_dtype(value.dtype) == "float32"
        assert float(value) == pytest.approx(torch_one_cycle(4, 0.1, 10), rel=RTOL)

    @NO_XLA_ON_TORCH
    def test_runs_under_xla(self):
        """The schedule compiles with XLA and reads the step at run time."""
        schedule = OneCycle(0.1, total_steps=10, three_phase=True)
        with sixty_four_bit_arrays():
            compiled = compile_with_xla(schedule, "int64")
            for k in (0, 2, 5, 9, 12):
                assert float(compiled(k)) == pytest.approx(
                    torch_one_cycle(min(k, 9), 0.1, 10, three_phase=True), rel=RTOL
                )

    @TORCH_COMPILE_WARNING
    def test_fit_applies_the_schedule(self):
        """`fit` with SGD(OneCycle) takes the steps of NumPy SGD at PyTorch's rates."""
        schedule = OneCycle(0.05, total_steps=8, pct_start=0.4)
        expected = [torch_one_cycle(k, 0.05, 8, pct_start=0.4) for k in range(8)]
        assert_fit_follows(schedule, expected, jit_compile=True)

    def test_config_is_the_constructor_arguments(self):
        """get_config returns exactly the constructor arguments, and from_config round-trips."""
        kwargs = {
            "max_lr": 0.3,
            "total_steps": 77,
            "pct_start": 0.2,
            "anneal_strategy": "linear",
            "div_factor": 10.0,
            "final_div_factor": 100.0,
            "three_phase": True,
            "name": "warmup",
        }
        schedule = OneCycle(**kwargs)
        assert schedule.get_config() == kwargs
        assert list(schedule.get_config()) == list(inspect.signature(OneCycle).parameters)
        restored = OneCycle.from_config(schedule.get_config())
        assert restored.get_config() == kwargs
        via_keras = keras.optimizers.schedules.deserialize(
            keras.optimizers.schedules.serialize(schedule)
        )
        assert isinstance(via_keras, OneCycle)
        np.testing.assert_array_equal(values(via_keras, range(80)), values(schedule, range(80)))

    @KERAS_SAVE_WARNING
    def test_reloaded_model_continues_identically(self, tmp_path):
        """A `.keras` round trip keeps the schedule, its current LR and the next steps."""
        assert_reload_continues(OneCycle(0.01, total_steps=10), tmp_path)

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            (
                {"max_lr": 0.0},
                ValueError,
                "`max_lr` must be a positive finite number. Received: max_lr=0.0.",
            ),
            ({"max_lr": -1.0}, ValueError, "Received: max_lr=-1.0."),
            ({"max_lr": float("nan")}, ValueError, "Received: max_lr=nan."),
            ({"max_lr": float("inf")}, ValueError, "Received: max_lr=inf."),
            (
                {"max_lr": "0.1"},
                TypeError,
                "`max_lr` must be a Python number. Received: max_lr='0.1' of type str.",
            ),
            (
                {"total_steps": 1},
                ValueError,
                "`total_steps` must be at least 2. Received: total_steps=1.",
            ),
            (
                {"total_steps": 100.0},
                TypeError,
                "`total_steps` must be an integer (a number of "
                "optimizer steps). Received: total_steps=100.0 of type float.",
            ),
            (
                {"pct_start": 0.0},
                ValueError,
                "`pct_start` must be strictly between 0 and 1. Received: pct_start=0.0.",
            ),
            ({"pct_start": 1.0}, ValueError, "Received: pct_start=1.0."),
            (
                {"pct_start": 0.1},
                ValueError,
                "`pct_start * total_steps` must not equal 1: the "
                "warm-up phase would end at step 0 and last zero steps (PyTorch's OneCycleLR "
                "divides by zero here). Received: pct_start=0.1, total_steps=10. Use a larger "
                "`pct_start` or more `total_steps`.",
            ),
            (
                {"anneal_strategy": "cosine"},
                ValueError,
                "`anneal_strategy` must be one of "
                "'cos', 'linear'. Received: anneal_strategy='cosine'.",
            ),
            (
                {"div_factor": 0.0},
                ValueError,
                "`div_factor` must be a positive finite number. Received: div_factor=0.0.",
            ),
            (
                {"final_div_factor": -5},
                ValueError,
                "`final_div_factor` must be a positive "
                "finite number. Received: final_div_factor=-5.0.",
            ),
            (
                {"three_phase": 1},
                TypeError,
                "`three_phase` must be `True` or `False`. Received: three_phase=1 of type int.",
            ),
            ({"name": None}, TypeError, "`name` must be a string. Received: name=None"),
        ],
    )
    def test_rejects_invalid_arguments(self, kwargs, error, message):
        """Each invalid argument raises a Keras-style message naming it, its value and a fix."""
        arguments = {"max_lr": 0.1, "total_steps": 10, **kwargs}
        with pytest.raises(error, match=re.escape(message)):
            OneCycle(**arguments)


# --- CyclicLR -------------------------------------------------------------------------------------


class TestCyclicLR:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"step_size_up": 4},
            {"step_size_up": 5, "step_size_down": 3},
            {"step_size_up": 2, "step_size_down": 7, "mode": "triangular2"},
            {"step_size_up": 3, "mode": "triangular2"},
            {"step_size_up": 4, "step_size_down": 6, "mode": "exp_range", "gamma": 0.97},
            {"step_size_up": 2.5, "step_size_down": 1.5},  # float step sizes, as PyTorch allows
            {"step_size_up": 1},
        ],
    )
    def test_matches_pytorch_at_every_step(self, kwargs):
        """Several cycles of each mode follow PyTorch's CyclicLR exactly."""
        schedule = CyclicLR(0.001, 0.1, **kwargs)
        steps = np.arange(60)
        expected = [torch_cyclic(int(step), 0.001, 0.1, **kwargs) for step in steps]
        np.testing.assert_allclose(values(schedule, steps), expected, rtol=RTOL)

    @settings(max_examples=30, deadline=None)
    @given(
        step_size_up=st.integers(1, 300),
        step_size_down=st.integers(1, 300) | st.none(),
        mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
        gamma=st.floats(0.99, 1.0),
    )
    def test_matches_pytorch_for_random_arguments(self, step_size_up, step_size_down, mode, gamma):
        """PyTorch's values hold for random step sizes and modes over several cycles."""
        kwargs = {
            "step_size_up": step_size_up,
            "step_size_down": step_size_down,
            "mode": mode,
            "gamma": gamma,
        }
        steps = np.arange(0, 5 * (2 * step_size_up + (step_size_down or step_size_up)), 3)
        expected = [torch_cyclic(int(step), 1e-4, 1e-2, **kwargs) for step in steps]
        schedule = CyclicLR(1e-4, 1e-2, **kwargs)
        np.testing.assert_allclose(values(schedule, steps), expected, rtol=RTOL)

    def test_hand_worked_triangle(self):
        """base at the start of each cycle, max after step_size_up steps, halfway between."""
        schedule = CyclicLR(0.1, 0.5, step_size_up=2, step_size_down=4)
        expected = [0.1, 0.3, 0.5, 0.4, 0.3, 0.2, 0.1, 0.3, 0.5]
        np.testing.assert_allclose(values(schedule, range(9)), expected, rtol=RTOL)

    def test_base_equal_to_max_is_constant(self):
        """max_lr == base_lr is allowed and gives a constant rate."""
        np.testing.assert_allclose(values(CyclicLR(0.01, 0.01, 3), range(10)), 0.01, rtol=RTOL)

    @pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
    def test_custom_scale_fn_gets_cycle_or_step(self, scale_mode):
        """A custom scale_fn receives the cycle (from 1) or the step (from 0) per scale_mode."""
        schedule = CyclicLR(
            0.01, 0.1, step_size_up=3, scale_fn=CycleDecay(0.9), scale_mode=scale_mode
        )
        steps = np.arange(40)
        expected = [
            torch_cyclic(
                int(step), 0.01, 0.1, 3, scale_fn=lambda x: 0.9 ** (x - 1), scale_mode=scale_mode
            )
            for step in steps
        ]
        np.testing.assert_allclose(values(schedule, steps), expected, rtol=RTOL)

    def test_built_in_modes_ignore_scale_mode(self):
        """Without scale_fn, each mode uses its own scale_mode, as in PyTorch."""
        steps = np.arange(30)
        for mode in ("triangular2", "exp_range"):
            plain = CyclicLR(0.01, 0.1, 3, mode=mode, gamma=0.9)
            other = CyclicLR(0.01, 0.1, 3, mode=mode, gamma=0.9, scale_mode="iterations")
            np.testing.assert_array_equal(values(plain, steps), values(other, steps))
            other = CyclicLR(0.01, 0.1, 3, mode=mode, gamma=0.9, scale_mode="cycle")
            np.testing.assert_array_equal(values(plain, steps), values(other, steps))

    def test_accepts_a_registered_function(self):
        """A registered named function is a valid, serializable scale_fn."""
        schedule = CyclicLR(0.01, 0.1, 3, scale_fn=halving)
        restored = CyclicLR.from_config(schedule.get_config())
        assert restored.scale_fn is halving
        np.testing.assert_allclose(
            values(restored, range(30)),
            values(CyclicLR(0.01, 0.1, 3, mode="triangular2"), range(30)),
            rtol=RTOL,
        )

    @pytest.mark.parametrize(
        ("scale_fn", "message"),
        [
            (
                lambda cycle: 1.0,
                "`scale_fn` must be serializable with `keras.saving`, so that a "
                "model using this schedule can be saved and reloaded, and a lambda cannot be "
                "reloaded.",
            ),
            (
                unregistered,
                "`scale_fn` must be serializable with `keras.saving`, so that a model "
                "using this schedule can be saved and reloaded, but Keras could not restore it",
            ),
            (UnregisteredScale(), "but Keras could not restore it"),
        ],
    )
    def test_refuses_a_scale_fn_that_cannot_be_reloaded(self, scale_fn, message):
        """Lambdas and unregistered callables are refused with how to register them."""
        fix = "decorate it with `@keras.saving.register_keras_serializable()`"
        with pytest.raises(TypeError, match=re.escape(message) + ".*" + re.escape(fix)):
            CyclicLR(0.01, 0.1, scale_fn=scale_fn)

    def test_refuses_a_non_callable_scale_fn(self):
        """A scale_fn that is not callable is a TypeError."""
        with pytest.raises(
            TypeError,
            match=re.escape(
                "`scale_fn` must be `None` or a callable that takes the cycle "
                "number (or the step) as a float tensor. Received: scale_fn=0.5 "
                "of type float."
            ),
        ):
            CyclicLR(0.01, 0.1, scale_fn=0.5)

    @NO_XLA_ON_TORCH
    @pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
    def test_runs_under_xla_with_step_tensors(self, dtype):
        """The schedule compiles with XLA for integer and float steps read at run time."""
        schedule = CyclicLR(0.01, 0.1, 3, mode="exp_range", gamma=0.95)
        with sixty_four_bit_arrays():
            compiled = compile_with_xla(schedule, dtype)
            for k in (0, 2, 3, 4, 7, 13):
                assert float(compiled(k)) == pytest.approx(
                    torch_cyclic(k, 0.01, 0.1, 3, mode="exp_range", gamma=0.95), rel=RTOL
                )

    def test_fit_applies_the_schedule(self):
        """`fit` with SGD(CyclicLR) takes the steps of NumPy SGD at PyTorch's rates."""
        schedule = CyclicLR(0.01, 0.1, step_size_up=2, step_size_down=1, mode="triangular2")
        expected = [torch_cyclic(k, 0.01, 0.1, 2, 1, mode="triangular2") for k in range(8)]
        assert_fit_follows(schedule, expected)

    def test_config_is_the_constructor_arguments(self):
        """get_config returns exactly the constructor arguments, and from_config round-trips."""
        schedule = CyclicLR(0.01, 0.1, 3, 5, "exp_range", 0.9, CycleDecay(0.8), "iterations", "clr")
        config = schedule.get_config()
        assert list(config) == list(inspect.signature(CyclicLR).parameters)
        assert {k: v for k, v in config.items() if k != "scale_fn"} == {
            "base_lr": 0.01,
            "max_lr": 0.1,
            "step_size_up": 3,
            "step_size_down": 5,
            "mode": "exp_range",
            "gamma": 0.9,
            "scale_mode": "iterations",
            "name": "clr",
        }
        restored = CyclicLR.from_config(config)
        assert isinstance(restored.scale_fn, CycleDecay)
        assert restored.scale_fn.factor == 0.8
        assert restored.get_config() == config
        plain = CyclicLR(0.01, 0.1)
        assert plain.get_config()["scale_fn"] is None
        assert plain.get_config()["step_size_down"] is None
        via_keras = keras.optimizers.schedules.deserialize(
            keras.optimizers.schedules.serialize(schedule)
        )
        np.testing.assert_array_equal(values(via_keras, range(40)), values(schedule, range(40)))

    @KERAS_SAVE_WARNING
    def test_reloaded_model_continues_identically(self, tmp_path):
        """A `.keras` round trip with a custom scale_fn keeps the LR and the next steps."""
        assert_reload_continues(
            CyclicLR(0.001, 0.01, step_size_up=3, scale_fn=CycleDecay(0.7)), tmp_path
        )

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            (
                {"base_lr": 0.0},
                ValueError,
                "`base_lr` must be a positive finite number. Received: base_lr=0.0.",
            ),
            ({"base_lr": float("nan")}, ValueError, "Received: base_lr=nan."),
            (
                {"max_lr": float("inf")},
                ValueError,
                "`max_lr` must be a positive finite number. Received: max_lr=inf.",
            ),
            (
                {"base_lr": 0.1, "max_lr": 0.01},
                ValueError,
                "`max_lr` must be greater than or "
                "equal to `base_lr`. Received: base_lr=0.1, max_lr=0.01.",
            ),
            (
                {"step_size_up": 0},
                ValueError,
                "`step_size_up` must be a positive finite number. Received: step_size_up=0.0.",
            ),
            (
                {"step_size_down": -2},
                ValueError,
                "`step_size_down` must be a positive finite number. Received: step_size_down=-2.0.",
            ),
            (
                {"step_size_up": "10"},
                TypeError,
                "`step_size_up` must be a Python number. Received: step_size_up='10' of type str.",
            ),
            (
                {"mode": "cosine"},
                ValueError,
                "`mode` must be one of 'triangular', 'triangular2', "
                "'exp_range'. Received: mode='cosine'.",
            ),
            (
                {"gamma": 0.0},
                ValueError,
                "`gamma` must be a positive finite number. Received: gamma=0.0.",
            ),
            (
                {"scale_mode": "epoch"},
                ValueError,
                "`scale_mode` must be one of 'cycle', 'iterations'. Received: scale_mode='epoch'.",
            ),
        ],
    )
    def test_rejects_invalid_arguments(self, kwargs, error, message):
        """Each invalid argument raises a Keras-style message naming it, its value and a fix."""
        arguments = {"base_lr": 0.001, "max_lr": 0.01, **kwargs}
        with pytest.raises(error, match=re.escape(message)):
            CyclicLR(**arguments)


# --- CycleDecay -----------------------------------------------------------------------------------


class TestCycleDecay:
    def test_half_is_triangular2(self):
        """CycleDecay(0.5) as scale_fn reproduces the triangular2 mode."""
        steps = np.arange(50)
        np.testing.assert_allclose(
            values(CyclicLR(0.01, 0.1, 4, scale_fn=CycleDecay(0.5)), steps),
            values(CyclicLR(0.01, 0.1, 4, mode="triangular2"), steps),
            rtol=RTOL,
        )

    def test_scale_per_cycle(self):
        """The scale is factor ** (cycle - 1): 1 for the first cycle."""
        scale = keras.ops.convert_to_numpy(CycleDecay(0.8)(np.array([1.0, 2.0, 3.0])))
        np.testing.assert_allclose(scale, [1.0, 0.8, 0.64], rtol=RTOL)

    def test_serializes_with_keras(self):
        """CycleDecay round-trips through keras.saving."""
        config = keras.saving.serialize_keras_object(CycleDecay(0.3))
        assert keras.saving.deserialize_keras_object(config).factor == 0.3

    def test_rejects_non_positive_factor(self):
        """A factor <= 0 is a ValueError naming it."""
        with pytest.raises(
            ValueError,
            match=re.escape("`factor` must be a positive finite number. Received: factor=0.0."),
        ):
            CycleDecay(0)


# --- Moved names ---------------------------------------------------------------------------------


class TestMovedNames:
    def test_steps_for_epochs_is_also_in_schedules(self):
        """`schedules.steps_for_epochs` is `keras_lrfind.steps_for_epochs`, without a warning:
        counting steps belongs to the schedules package."""
        from keras_lrfind import schedules

        assert schedules.steps_for_epochs is keras_lrfind.steps_for_epochs
        assert schedules.steps_for_epochs(3, steps_per_epoch=7) == 21

    def test_plot_schedule_still_imports_from_schedules(self):
        """`schedules.plot_schedule` warns (DeprecationWarning) and draws the schedule."""
        import matplotlib.pyplot as plt

        from keras_lrfind import schedules

        message = "`keras_lrfind.schedules.plot_schedule` was renamed `keras_lrfind.plot_schedule`."
        with pytest.warns(DeprecationWarning, match=re.escape(message)):
            ax = schedules.plot_schedule(OneCycle(0.1, total_steps=10), 10)
        expected = values(OneCycle(0.1, total_steps=10), range(10))
        np.testing.assert_allclose(ax.lines[0].get_data()[1], expected)
        plt.close(ax.figure)
