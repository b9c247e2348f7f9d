"""The range test under mixed precision and loss scaling, on whichever backend runs the suite.

The expected losses and updates are NumPy re-computations of a Dense(1) layer in the policy's
compute dtype (inputs, kernel and output rounded to float16 or bfloat16, as Keras' mixed
policies do; the MSE itself in float32). Skipped steps are found independently of the range
test: a step whose weights did not move.
"""

from __future__ import annotations

import keras
import ml_dtypes
import numpy as np
import pytest
from conftest import (
    BATCH_SIZE,
    StepRecorder,
    assert_same_state,
    full_state,
    make_linear_model,
    make_mlp,
    skip_on_backends,
)

import keras_lrfind
from keras_lrfind.range_test._sweep import Sweep

COMPUTE_DTYPES = {"mixed_float16": np.float16, "mixed_bfloat16": ml_dtypes.bfloat16}
# A 16-bit output has 11 (float16) or 8 (bfloat16) significant bits; the MSE sums them.
LOSS_RTOL = {"mixed_float16": 2e-3, "mixed_bfloat16": 1.5e-2}
# The gradient flows back through 16-bit activations, and a bias gradient sums errors of
# both signs: compare each update to within this fraction of its largest component. Still
# far below the factor of 1.39 between consecutive rates of the sweeps used here.
UPDATE_TOLERANCE = {"mixed_float16": 2e-2, "mixed_bfloat16": 1e-1}
# A sweep that stays finite on the problems below, so every planned step runs.
QUIET = dict(start_lr=1e-4, end_lr=0.05, num_steps=20, diverge_threshold=1e9)


@pytest.fixture(params=list(COMPUTE_DTYPES))
def policy(request):
    """Sets a global mixed-precision policy for the test and restores the previous one."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(request.param)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture
def float16_policy():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy(previous)


def batch(x, y, step):
    """The batch of a step when `fit` does not shuffle."""
    start = (step * BATCH_SIZE) % len(x)
    return x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]


def mixed_loss_and_gradient(weights, x, y, compute_dtype):
    """MSE of a Dense(1) layer computed in `compute_dtype`, and its gradient (float64)."""
    kernel, bias = weights

    def rounded(a):
        return np.asarray(a).astype(compute_dtype).astype(np.float64)

    prediction = rounded(rounded(x) @ rounded(kernel) + rounded(bias))
    error = prediction - y
    loss = float(np.mean(error**2))
    return loss, [2.0 * rounded(x).T @ error / len(x), 2.0 * error.sum(axis=0) / len(x)]


def check_steps(recorder, result, x, y, policy):
    """Each recorded loss is its batch's loss at the weights the step started from, and each
    applied step moved the weights by `-lr * gradient` at that step's sweep rate. Returns the
    indices of the skipped steps (weights unchanged)."""
    compute_dtype = COMPUTE_DTYPES[policy]
    skipped = []
    assert len(recorder.weights) == len(recorder.weights_after) == result.num_recorded
    for step, lr in enumerate(result.learning_rates):
        xb, yb = batch(x, y, step)
        loss, gradient = mixed_loss_and_gradient(recorder.weights[step], xb, yb, compute_dtype)
        np.testing.assert_allclose(
            result.losses[step], loss, rtol=LOSS_RTOL[policy], err_msg=f"step {step}"
        )
        before, after = recorder.weights[step], recorder.weights_after[step]
        if all(np.array_equal(b, a) for b, a in zip(before, after, strict=True)):
            skipped.append(step)
            continue
        for b, a, g in zip(before, after, gradient, strict=True):
            tolerance = UPDATE_TOLERANCE[policy] * lr * np.abs(g).max()
            np.testing.assert_allclose(a - b, -lr * g, rtol=0, atol=tolerance, err_msg=f"{step}")
    return skipped


class TestMixedPrecision:
    def test_mixed_float16_compiles_a_loss_scale_optimizer(self, float16_policy):
        """Under mixed_float16 Keras wraps the optimizer, so the tests below cover loss scaling."""
        model = make_linear_model(keras.optimizers.SGD(0.01))
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)

    def test_state_is_restored_bit_for_bit(self, policy, linear_data):
        """Weights, optimizer slots, loss scale, iterations and metrics come back exactly."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)  # Non-trivial state.
        before = full_state(model)
        lr_variable = model.optimizer.learning_rate
        result = keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, verbose=0)
        assert result.num_recorded > 10
        assert_same_state(before, full_state(model))
        assert model.optimizer.learning_rate is lr_variable
        assert model.layers[0].compute_dtype == COMPUTE_DTYPES[policy].__name__

    def test_interrupted_run_is_restored_bit_for_bit(self, policy, linear_data):
        """Ctrl-C in the middle of a mixed-precision sweep leaves the model exactly as it was."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        recorder = StepRecorder(raise_at=5)
        with pytest.raises(KeyboardInterrupt, match="interrupted by the test"):
            keras_lrfind.LRFinder(model).find(
                x, y, batch_size=BATCH_SIZE, callbacks=[recorder], verbose=0
            )
        assert_same_state(before, full_state(model))

    @pytest.mark.parametrize("schedule", [False, True], ids=["float_lr", "schedule"])
    def test_records_batch_losses_at_the_sweep_rates(self, policy, schedule, linear_data):
        """Each step records its batch's loss and trains at its own sweep rate."""
        x, y = linear_data
        learning_rate = (
            keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5) if schedule else 0.01
        )
        model = make_linear_model(keras.optimizers.SGD(learning_rate))
        model.optimizer.build(model.trainable_variables)
        before = full_state(model)
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, callbacks=[recorder], verbose=0, **QUIET
        )
        assert result.stop_reason == "completed"
        expected = Sweep(1e-4, 0.05, 20).learning_rates()
        np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-12)
        np.testing.assert_allclose(recorder.learning_rates, expected, rtol=1e-6)
        skipped = check_steps(recorder, result, x, y, policy)
        # Only the loss scaler of mixed_float16 skips steps (here while its scale comes down).
        assert len(skipped) < 5 if policy == "mixed_float16" else skipped == []
        assert_same_state(before, full_state(model))


class TestSkippedSteps:
    """mixed_float16 starts with a loss scale of 2**15. With targets near 100, the float16
    gradient of the bias, summed over the batch of 8 (8 * 2 * 100 / 8 * scale), overflows
    float16 (max 65504) until the scale is down to 2**8, so the loss scaler skips the first
    seven steps, halving the scale each time."""

    @pytest.fixture
    def large_targets(self, linear_data):
        x, y = linear_data
        return x, y + 100.0

    @pytest.mark.parametrize("schedule", [False, True], ids=["float_lr", "schedule"])
    def test_skipped_steps_record_their_loss_and_use_up_their_rate(
        self, float16_policy, large_targets, schedule
    ):
        """A skipped step records its batch's finite loss at its own sweep rate; the sweep goes
        on at the next rate (one point per batch), and the state is restored afterwards."""
        x, y = large_targets
        learning_rate = (
            keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5) if schedule else 0.01
        )
        model = make_linear_model(keras.optimizers.SGD(learning_rate))
        model.optimizer.build(model.trainable_variables)
        before = full_state(model)
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x,
            y,
            batch_size=BATCH_SIZE,
            shuffle=False,
            callbacks=[recorder],
            verbose=0,
            start_lr=1e-6,
            end_lr=1e-4,
            num_steps=12,
            diverge_threshold=1e9,
        )
        assert result.stop_reason == "completed"
        assert np.all(np.isfinite(result.losses))
        expected = Sweep(1e-6, 1e-4, 12).learning_rates()
        np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-12)
        np.testing.assert_allclose(recorder.learning_rates, expected, rtol=1e-6)
        assert check_steps(recorder, result, x, y, "mixed_float16") == list(range(7))
        assert_same_state(before, full_state(model))
        assert float(model.optimizer.dynamic_scale.numpy()) == 2.0**15


@skip_on_backends("tensorflow", "jax", reason="only PyTorch refuses steps_per_execution > 1")
class TestTorch:
    def test_find_on_a_model_compiled_with_steps_per_execution(self, linear_data):
        """PyTorch's fit refuses steps_per_execution=4, but the range test runs at 1 and puts
        the setting back without raising."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01), steps_per_execution=4)
        model.optimizer.build(model.trainable_variables)
        before = full_state(model)
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, verbose=0, **QUIET
        )
        assert result.num_recorded == 20
        assert model.steps_per_execution == 4
        assert_same_state(before, full_state(model))
        with pytest.raises(ValueError, match="must be 1 with the PyTorch backend"):
            model.fit(x, y, batch_size=BATCH_SIZE, verbose=0)
