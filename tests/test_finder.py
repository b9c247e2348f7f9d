"""Tests for `LRFinder`: the curve it records, the state it restores, the inputs it takes."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import (
    BATCH_SIZE,
    TORCH_COMPILE_WARNING,
    StepRecorder,
    assert_same_state,
    full_state,
    make_linear_model,
    make_mlp,
    skip_on_backends,
)

import keras_lrfind
from keras_lrfind.range_test._sweep import Sweep, default_num_steps

# A sweep that stays finite on the linear problem, so every planned step runs.
QUIET = dict(start_lr=1e-4, end_lr=0.05, num_steps=20, diverge_threshold=1e9)


def linear_loss_and_gradient(weights, x, y):
    """MSE of a Dense(1) layer and its gradient, written out by hand."""
    kernel, bias = weights
    error = x @ kernel + bias - y
    loss = float(np.mean(error**2))
    return loss, [2.0 * x.T @ error / len(x), 2.0 * error.sum(axis=0) / len(x)]


def batches(x, y, step):
    """The (x, y) batch of a step when `fit` does not shuffle."""
    start = (step * BATCH_SIZE) % len(x)
    return x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]


def check_sgd_steps(recorder, result, x, y):
    """Each recorded loss is the batch loss at that step's weights, and SGD used that step's
    learning rate: w[k+1] = w[k] - lr[k] * grad[k]."""
    assert len(recorder.weights) == len(recorder.weights_after) == result.num_recorded
    for step, lr in enumerate(result.learning_rates):
        xb, yb = batches(x, y, step)
        loss, gradient = linear_loss_and_gradient(recorder.weights[step], xb, yb)
        np.testing.assert_allclose(result.losses[step], loss, rtol=1e-5, err_msg=f"step {step}")
        weights = zip(recorder.weights[step], recorder.weights_after[step], gradient, strict=True)
        for before, after, grad in weights:
            np.testing.assert_allclose(after, before - lr * grad, rtol=1e-4, atol=1e-6)


class TestLRFinderCurve:
    def test_records_true_batch_loss_and_uses_each_steps_learning_rate(self, linear_data):
        """Losses are per-batch (not Keras's running mean) and each step trains at its own LR."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, callbacks=[recorder], verbose=0, **QUIET
        )
        assert result.stop_reason == "completed"
        assert result.num_recorded == 20
        expected = 1e-4 * (0.05 / 1e-4) ** (np.arange(20) / 19)
        np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-12)
        np.testing.assert_allclose(recorder.learning_rates, expected, rtol=1e-6)
        check_sgd_steps(recorder, result, x, y)

    def test_running_mean_is_not_what_is_recorded(self, linear_data):
        """The recorded loss differs from the epoch running mean Keras reports in `logs`."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, verbose=0, **QUIET
        )
        running_mean = np.cumsum(result.losses) / np.arange(1, 21)
        assert not np.allclose(result.losses[1:], running_mean[1:], rtol=1e-3)

    def test_smoothing_is_the_debiased_moving_average(self, linear_data):
        """smoothed[i] = avg_i / (1 - 0.98 ** (i + 1)) with avg = 0.98 avg + 0.02 loss."""
        x, y = linear_data
        result = keras_lrfind.LRFinder(make_linear_model()).find(
            x, y, batch_size=BATCH_SIZE, verbose=0, **QUIET
        )
        average, expected = 0.0, []
        for i, loss in enumerate(result.losses):
            average = 0.98 * average + 0.02 * loss
            expected.append(average / (1 - 0.98 ** (i + 1)))
        np.testing.assert_allclose(result.smoothed_losses, expected, rtol=1e-12)

    def test_smoothing_zero_keeps_the_raw_loss(self, linear_data):
        """With `smoothing=0` the smoothed curve is the raw curve."""
        x, y = linear_data
        result = keras_lrfind.LRFinder(make_linear_model()).find(
            x, y, batch_size=BATCH_SIZE, verbose=0, smoothing=0, **QUIET
        )
        np.testing.assert_array_equal(result.smoothed_losses, result.losses)

    def test_linear_mode(self, linear_data):
        """Linear mode steps evenly from start_lr to end_lr."""
        x, y = linear_data
        result = keras_lrfind.LRFinder(make_linear_model()).find(
            x, y, batch_size=BATCH_SIZE, verbose=0, step_mode="linear", **QUIET
        )
        np.testing.assert_allclose(result.learning_rates, np.linspace(1e-4, 0.05, 20))
        assert result.step_mode == "linear"

    def test_mode_is_a_deprecated_name_of_step_mode(self, linear_data):
        """`mode=` still works for one release, with a `DeprecationWarning`."""
        x, y = linear_data
        with pytest.warns(DeprecationWarning, match=r"`mode` was renamed `step_mode`"):
            result = keras_lrfind.LRFinder(make_linear_model()).find(
                x, y, batch_size=BATCH_SIZE, verbose=0, mode="linear", **QUIET
            )
        np.testing.assert_allclose(result.learning_rates, np.linspace(1e-4, 0.05, 20))

    def test_stops_at_the_first_divergent_step(self, linear_data):
        """The sweep stops at the first step whose smoothed loss exceeds 4x the best before."""
        x, y = linear_data
        result = keras_lrfind.LRFinder(make_linear_model()).find(
            x, y, batch_size=BATCH_SIZE, verbose=0, start_lr=1e-3, end_lr=100.0, num_steps=60
        )
        assert result.stop_reason in ("diverged", "non_finite_loss")
        assert result.num_recorded < 60
        smoothed = result.smoothed_losses
        for i in range(1, result.num_recorded - 1):
            assert smoothed[i] <= 4 * smoothed[:i].min()
        last = smoothed[-1]
        assert not math.isfinite(last) or last > 4 * smoothed[:-1].min()

    def test_unbuilt_optimizer_ends_built_with_fresh_slots(self, linear_data):
        """A never-trained model keeps its weights; its optimizer's new slots hold zeros."""
        x, y = linear_data
        model = make_mlp("adam")
        weights = [w.copy() for w in model.get_weights()]
        keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, verbose=0)
        for a, b in zip(weights, model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        assert int(model.optimizer.iterations.numpy()) == 0
        for variable in model.optimizer.variables:
            if "momentum" in variable.path or "velocity" in variable.path:
                assert not np.any(variable.numpy()), variable.path

    def test_nan_from_the_first_step(self, linear_data):
        """A NaN loss at step 0 stops the test with `non_finite_loss` and restores the model."""
        x, y = linear_data
        y = np.full_like(y, np.nan)
        model = make_linear_model()
        before = full_state(model)
        result = keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, verbose=0)
        assert result.stop_reason == "non_finite_loss"
        assert result.num_recorded == 1
        assert math.isnan(result.lr_at_min_loss)
        assert_same_state(before, full_state(model))

    def test_default_length_continues_a_short_epoch(self, linear_data):
        """A 32-step epoch is continued into a second one to reach 100 steps."""
        x, y = linear_data
        result = keras_lrfind.LRFinder(make_linear_model()).find(
            x, y, batch_size=BATCH_SIZE, verbose=0, end_lr=0.05, diverge_threshold=1e9
        )
        assert result.num_steps == 100
        assert result.num_recorded == 100

    def test_default_length_is_one_epoch_when_longer(self):
        """A 150-step epoch gives a 150-step sweep."""
        rng = np.random.default_rng(3)
        x = rng.normal(size=(150, 3)).astype("float32")
        y = x.sum(axis=1, keepdims=True)
        result = keras_lrfind.LRFinder(make_linear_model()).find(
            x, y, batch_size=1, verbose=0, end_lr=1e-3, diverge_threshold=1e9
        )
        assert (result.num_steps, result.num_recorded) == (150, 150)

    def test_default_length_bounds(self):
        """The default is clipped to [100, 1000] steps."""
        assert [default_num_steps(n) for n in (1, 99, 100, 640, 1000, 50_000)] == [
            100,
            100,
            100,
            640,
            1000,
            1000,
        ]

    def test_validation_mode_records_loss_on_the_fixed_sample(self, linear_data):
        """`validation_data` loss after each step equals the loss at that step's new weights."""
        x, y = linear_data
        x_val, y_val = x[:40], y[:40]
        model = make_linear_model(keras.optimizers.SGD(0.01))
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x,
            y,
            batch_size=BATCH_SIZE,
            shuffle=False,
            validation_data=(x_val, y_val),
            validation_batch_size=16,
            callbacks=[recorder],
            verbose=0,
            **QUIET,
        )
        expected = [linear_loss_and_gradient(w, x_val, y_val)[0] for w in recorder.weights_after]
        np.testing.assert_allclose(result.validation_losses, expected, rtol=1e-5)
        # The curve follows the validation loss; the batch loss is still recorded.
        assert result.smoothed_losses[0] == pytest.approx(result.validation_losses[0])
        check_sgd_steps(recorder, result, x, y)


class TestLRFinderRestores:
    def test_bit_identical_after_a_run(self, linear_data):
        """Weights, optimizer slots, iterations, metrics and LR are bit-identical afterwards."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)  # Non-trivial state.
        before = full_state(model)
        lr_variable = model.optimizer.learning_rate
        keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, verbose=0)
        assert_same_state(before, full_state(model))
        assert model.optimizer.learning_rate is lr_variable
        assert not model.stop_training

    @pytest.mark.parametrize("exception", [KeyboardInterrupt, RuntimeError])
    def test_bit_identical_after_an_interrupted_run(self, linear_data, exception):
        """An exception or Ctrl-C mid-run propagates and the model comes back exactly."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        recorder = StepRecorder(raise_at=7, exception=exception)
        with pytest.raises(exception, match="interrupted by the test"):
            keras_lrfind.LRFinder(model).find(
                x, y, batch_size=BATCH_SIZE, callbacks=[recorder], verbose=0
            )
        assert len(recorder.weights) == 7
        assert_same_state(before, full_state(model))

    def test_training_afterwards_matches_an_untouched_model(self, linear_data):
        """Fitting after `find` gives the same weights as fitting a model that never ran it."""
        x, y = linear_data
        tested, untouched = make_mlp("adam", seed=4), make_mlp("adam", seed=4)
        # Both trained alike first: a model's first `fit` on PyTorch draws from torch's global
        # generator (unseeded dropout uses it) differently from later ones.
        for model in (tested, untouched):
            keras.utils.set_random_seed(5)
            model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
        keras_lrfind.LRFinder(tested).find(x, y, batch_size=BATCH_SIZE, verbose=0)
        for model in (tested, untouched):
            keras.utils.set_random_seed(9)
            model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
        for a, b in zip(tested.get_weights(), untouched.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)

    def test_schedule_optimizer_is_swapped_and_restored(self, linear_data):
        """A schedule-built optimizer sweeps at the test's rates, then gets its schedule back."""
        x, y = linear_data
        schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)
        model = make_linear_model(keras.optimizers.SGD(schedule))
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, callbacks=[recorder], verbose=0, **QUIET
        )
        check_sgd_steps(recorder, result, x, y)
        assert_same_state(before, full_state(model))
        assert model.optimizer.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"
        # The restored train step uses the schedule again: lr at iteration 32 is 0.01 * 0.5**3.2.
        recorder = StepRecorder()
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0, callbacks=[recorder])
        assert recorder.learning_rates[0] == pytest.approx(0.01 * 0.5 ** (32 / 10), rel=1e-6)

    @skip_on_backends(
        "torch",
        reason="Keras' PyTorch trainer refuses steps_per_execution > 1 (see test_backends.py)",
    )
    def test_steps_per_execution_is_restored(self, linear_data):
        """With steps_per_execution=4 every step is still recorded, and the setting comes back."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01), steps_per_execution=4)
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, callbacks=[recorder], verbose=0, **QUIET
        )
        assert result.num_recorded == 20
        check_sgd_steps(recorder, result, x, y)
        assert model.steps_per_execution == 4
        history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    @TORCH_COMPILE_WARNING
    def test_jit_compile(self, linear_data):
        """With `jit_compile=True` each step still trains at its own learning rate."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01), jit_compile=True)
        before = full_state(model)
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, callbacks=[recorder], verbose=0, **QUIET
        )
        check_sgd_steps(recorder, result, x, y)
        assert_same_state(before, full_state(model))

    def test_loss_scale_optimizer(self, linear_data):
        """A `LossScaleOptimizer` (mixed precision) is swept and restored, loss scale included."""
        x, y = linear_data
        optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.01))
        model = make_linear_model(optimizer)
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, callbacks=[recorder], verbose=0, **QUIET
        )
        check_sgd_steps(recorder, result, x, y)
        assert_same_state(before, full_state(model))

    def test_gradient_accumulation(self, linear_data):
        """An optimizer with `gradient_accumulation_steps` is swept and restored."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01, gradient_accumulation_steps=2))
        model.fit(x[:24], y[:24], batch_size=BATCH_SIZE, verbose=0)  # Leaves a pending gradient.
        before = full_state(model)
        result = keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, verbose=0, **QUIET)
        assert result.num_recorded == 20
        assert np.all(np.isfinite(result.losses))
        assert_same_state(before, full_state(model))


class TestLRFinderFaults:
    def test_model_without_input_is_built_as_fit_builds_it(self, linear_data):
        """A `Sequential` without `keras.Input` runs the test, and trains as if it never had."""
        x, y = linear_data

        def unbuilt():
            keras.utils.set_random_seed(2)
            model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(1)])
            model.compile(keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
            return model

        tested, untouched = unbuilt(), unbuilt()
        result = keras_lrfind.LRFinder(tested).find(x, y, batch_size=BATCH_SIZE, verbose=0, **QUIET)
        assert result.stop_reason == "completed"
        assert int(tested.optimizer.iterations.numpy()) == 0
        for model in (tested, untouched):
            model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
        for a, b in zip(tested.get_weights(), untouched.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)

    def test_never_trained_model_keeps_fresh_metrics_and_slots(self, linear_data):
        """Metrics and optimizer slots built during the test hold their fresh zeros after it."""
        x, y = linear_data
        model = make_mlp("adam")
        keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, verbose=0, **QUIET)
        for variable in model.metrics_variables:
            assert not np.any(variable.numpy()), variable.path
        assert int(model.optimizer.iterations.numpy()) == 0
        for variable in model.optimizer.variables:
            if "momentum" in variable.path or "velocity" in variable.path:
                assert not np.any(variable.numpy()), variable.path

    def test_extra_callbacks_cannot_undo_the_restore(self, linear_data):
        """EarlyStopping's restore_best_weights runs before the restore, so nothing changes."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, verbose=0)
        before = full_state(model)
        # It never stops the test (so every backend runs all 100 steps), and still writes
        # its best weights when training ends.
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="loss", patience=100, restore_best_weights=True
        )
        keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, verbose=0, callbacks=[early_stopping]
        )
        assert early_stopping.best_weights is not None  # It did write its weights at the end.
        assert_same_state(before, full_state(model))
        assert not model.stop_training

    def test_custom_tracker_records_each_batchs_own_loss(self, linear_data):
        """A `logs["loss"]` from a tracker not named "loss" is still each batch's own loss."""
        x, y = linear_data

        class RenamedTracker(keras.Model):
            """Reports its own Mean tracker as the loss (as Keras' VAE example does)."""

            def __init__(self):
                super().__init__()
                self.dense = keras.layers.Dense(1)
                self.batch_losses = keras.metrics.Mean(name="batch_losses")

            def call(self, inputs):
                return self.dense(inputs)

            def compute_metrics(self, x, y, y_pred, sample_weight=None):
                self.batch_losses.update_state(keras.ops.mean(keras.ops.square(y_pred - y)))
                return {"loss": self.batch_losses.result()}

        keras.utils.set_random_seed(1)
        model = RenamedTracker()
        model.compile(keras.optimizers.SGD(0.01), loss="mse")
        model(x[:1])
        recorder = StepRecorder()
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, callbacks=[recorder], verbose=0, **QUIET
        )
        check_sgd_steps(recorder, result, x, y)

    def test_weights_going_non_finite_fail_the_test(self, linear_data):
        """A NaN label under a NaN-masking loss turns the weights NaN with a finite loss:
        the test stops, says so, restores the model and suggests nothing."""
        x, y = linear_data
        y = y.copy()
        y[3] = np.nan

        def masked_mse(y_true, y_pred):
            error = y_pred - y_true
            return keras.ops.where(keras.ops.isnan(error), 0.0, keras.ops.square(error))

        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.01), loss=masked_mse)
        model.fit(x[8:], y[8:], batch_size=BATCH_SIZE, verbose=0)
        before = full_state(model)
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, verbose=0, **QUIET
        )
        assert result.stop_reason == "non_finite_weights"
        assert result.num_recorded == 1  # The weights are checked before steps 1, 2, 4, 8...
        assert np.isfinite(result.losses).all()
        assert_same_state(before, full_state(model))
        with pytest.raises(ValueError, match=r"weights became NaN or infinite"):
            result.suggest()


class TestLRFinderInputs:
    def test_tf_data_dataset(self, linear_data):
        """A batched `tf.data.Dataset` gives the same curve as the same arrays unshuffled."""
        x, y = linear_data
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE)
        from_dataset = keras_lrfind.LRFinder(make_linear_model()).find(dataset, verbose=0, **QUIET)
        from_arrays = keras_lrfind.LRFinder(make_linear_model()).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, verbose=0, **QUIET
        )
        np.testing.assert_allclose(from_dataset.losses, from_arrays.losses, rtol=1e-6)

    def test_infinite_dataset_with_num_steps(self, linear_data):
        """An infinite (repeated) dataset runs exactly `num_steps` steps."""
        x, y = linear_data
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE).repeat()
        result = keras_lrfind.LRFinder(make_linear_model()).find(dataset, verbose=0, **QUIET)
        assert result.num_recorded == 20

    def test_py_dataset(self, linear_data):
        """A `keras.utils.PyDataset` is accepted and sized by its length."""
        x, y = linear_data

        class Batches(keras.utils.PyDataset):
            def __len__(self):
                return len(x) // BATCH_SIZE

            def __getitem__(self, index):
                return batches(x, y, index)

        result = keras_lrfind.LRFinder(make_linear_model()).find(
            Batches(), verbose=0, end_lr=0.05, diverge_threshold=1e9
        )
        assert result.num_recorded == 100  # 32 batches a pass, continued to 100 steps.

    def test_generator_with_num_steps(self, linear_data):
        """A Python generator works when `num_steps` is given."""
        x, y = linear_data

        def generate():
            step = 0
            while True:
                yield batches(x, y, step)
                step += 1

        result = keras_lrfind.LRFinder(make_linear_model()).find(generate(), verbose=0, **QUIET)
        assert result.num_recorded == 20

    @pytest.mark.filterwarnings("ignore:Your input ran out of data:UserWarning")
    def test_short_generator_ends_with_data_exhausted(self, linear_data):
        """A generator that runs out early ends the sweep with a warning and `data_exhausted`."""
        x, y = linear_data
        generator = (batches(x, y, step) for step in range(5))
        model = make_linear_model()
        before = full_state(model)
        with pytest.warns(keras_lrfind.LRFinderWarning, match="ran 5 of 20 steps"):
            result = keras_lrfind.LRFinder(model).find(generator, verbose=0, **QUIET)
        assert result.stop_reason == "data_exhausted"
        assert_same_state(before, full_state(model))


def linear_model_and_state():
    model = make_linear_model()
    return model, full_state(model)


class TestLRFinderErrors:
    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"start_lr": 0.0}, ValueError, r"`start_lr` must be a positive.*start_lr=0.0"),
            ({"start_lr": -1e-3}, ValueError, r"`start_lr` must be a positive"),
            ({"end_lr": math.inf}, ValueError, r"`end_lr` must be a positive.*end_lr=inf"),
            ({"end_lr": math.nan}, ValueError, r"`end_lr` must be a positive"),
            (
                {"start_lr": "1e-3"},
                TypeError,
                r"`start_lr` must be a Python number. Received: start_lr='1e-3' of type str",
            ),
            (
                {"start_lr": 0.1, "end_lr": 0.01},
                ValueError,
                r"`end_lr` must be greater than `start_lr`. Received: start_lr=0.1, end_lr=0.01",
            ),
            ({"start_lr": 0.1, "end_lr": 0.1}, ValueError, r"greater than `start_lr`"),
            ({"smoothing": 1.0}, ValueError, r"`smoothing` must be in \[0, 1\).*smoothing=1.0"),
            ({"smoothing": -0.1}, ValueError, r"`smoothing` must be in \[0, 1\)"),
            ({"diverge_threshold": 1.0}, ValueError, r"`diverge_threshold` must be greater"),
            ({"num_steps": 1}, ValueError, r"`num_steps` must be at least 2.*num_steps=1"),
            ({"num_steps": 10.5}, TypeError, r"`num_steps` must be an integer"),
            (
                {"step_mode": "cosine"},
                ValueError,
                r"`step_mode` must be one of 'exponential', 'linear'. Received: "
                r"step_mode='cosine'",
            ),
        ],
    )
    def test_bad_arguments_leave_the_model_untouched(self, linear_data, kwargs, error, match):
        """Each bad argument raises a message naming it and its value; nothing changes."""
        x, y = linear_data
        model, before = linear_model_and_state()
        with pytest.raises(error, match=match):
            keras_lrfind.LRFinder(model).find(x, y, verbose=0, **kwargs)
        assert_same_state(before, full_state(model))

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            (
                {"batch_size": 0},
                ValueError,
                r"`batch_size` must be a positive integer. "
                r"Received: batch_size=0. E.g. batch_size=32.",
            ),
            ({"batch_size": -1}, ValueError, r"`batch_size` must be a positive integer.*=-1"),
            (
                {"batch_size": "32"},
                TypeError,
                r"`batch_size` must be a positive integer. "
                r"Received: batch_size='32' of type str",
            ),
            ({"batch_size": 2.5}, TypeError, r"Received: batch_size=2.5 of type float"),
            ({"batch_size": True}, TypeError, r"Received: batch_size=True of type bool"),
            (
                {"validation_data": "VALIDATION", "validation_batch_size": 0},
                ValueError,
                r"`validation_batch_size` must be a positive integer.*=0",
            ),
            (
                {"validation_batch_size": 16},
                ValueError,
                r"`validation_batch_size` batches a `validation_data=\(x, y\)` pair.*"
                r"validation_batch_size=16 with validation_data=None",
            ),
            (
                {"validation_data": (["a", "b"], [1, 2])},
                TypeError,
                r"`validation_data` must be an `\(x, y\)` pair of numeric arrays, but its x",
            ),
            ({"num_steps": 10**8}, ValueError, r"`num_steps` must be at most 100000"),
            (
                {"start_lr": 5e-324},
                ValueError,
                r"`end_lr / start_lr` must be a finite number.*start_lr=5e-324, end_lr=10.0",
            ),
            ({"sample_weight": "abc"}, TypeError, r"`sample_weight` must be an array of numbers"),
            (
                {"sample_weight": np.ones(3)},
                ValueError,
                r"one weight per sample.*shape \(3,\) for 256 samples",
            ),
            ({"class_weight": "abc"}, TypeError, r"`class_weight` must be a dict"),
            ({"class_weight": {0: "a"}}, TypeError, r"class_weight\[0\]='a'"),
            ({"class_weight": {0: -1.0}}, ValueError, r"`class_weight\[0\]` must be a non-neg"),
            ({"shuffle": "yes"}, TypeError, r"`shuffle` must be `True` or `False`"),
            ({"verbose": "loud"}, ValueError, r"`verbose` must be one of 'auto', 0, 1, 2"),
            ({"callbacks": [1]}, TypeError, r"Received: callbacks\[0\]=1 of type int"),
            ({"callbacks": keras.callbacks.History()}, TypeError, r"`callbacks` must be a list"),
            ({"x": None}, TypeError, r"`x` must be the training data.*x=None"),
            ({"x": "data.npy"}, TypeError, r"`x` must be the training data.*of type str"),
        ],
    )
    def test_fit_arguments_are_checked_first(self, linear_data, kwargs, error, match):
        """Every argument `find` passes on to `fit` is checked before the model is touched."""
        x, y = linear_data
        kwargs = {"x": x, "y": y, "verbose": 0, **kwargs}
        if kwargs.get("validation_data") == "VALIDATION":
            kwargs["validation_data"] = (x[:16], y[:16])
        model, before = linear_model_and_state()
        with pytest.raises(error, match=match):
            keras_lrfind.LRFinder(model).find(**kwargs)
        assert_same_state(before, full_state(model))

    def test_uncompiled_model(self, linear_data):
        """An uncompiled model is refused with the fix."""
        x, y = linear_data
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        with pytest.raises(RuntimeError, match=r"must be compiled.*model.compile"):
            keras_lrfind.LRFinder(model).find(x, y, verbose=0)

    def test_not_a_model(self):
        """Something that is not a Keras model is refused."""
        with pytest.raises(TypeError, match=r"`model` must be a Keras 3.*Received: model="):
            keras_lrfind.LRFinder(object())

    def test_empty_arrays(self):
        """Empty arrays are refused before training."""
        model, before = linear_model_and_state()
        x = np.zeros((0, 3), "float32")
        with pytest.raises(ValueError, match=r"data is empty: it has 0 samples"):
            keras_lrfind.LRFinder(model).find(x, np.zeros((0, 1), "float32"), verbose=0)
        assert_same_state(before, full_state(model))

    def test_empty_dataset(self, linear_data):
        """An empty `tf.data.Dataset` is refused before training."""
        x, y = linear_data
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE).take(0)
        model, before = linear_model_and_state()
        with pytest.raises(ValueError, match=r"data is empty: this _TakeDataset yields no batches"):
            keras_lrfind.LRFinder(model).find(dataset, verbose=0)
        assert_same_state(before, full_state(model))

    def test_unsized_data_needs_num_steps(self, linear_data):
        """A generator without `num_steps` is refused with the fix."""
        x, y = linear_data
        model, before = linear_model_and_state()
        with pytest.raises(ValueError, match=r"length of `x` is unknown.*num_steps=None"):
            keras_lrfind.LRFinder(model).find(iter([(x, y)]), verbose=0)
        assert_same_state(before, full_state(model))


class TestSweepLearningRates:
    def test_exponential_ends_exactly(self):
        """The exponential sweep starts at start_lr, ends at end_lr, with a constant ratio."""
        rates = Sweep(1e-7, 10.0, 100, "exponential").learning_rates()
        assert rates[0] == 1e-7 and rates[-1] == pytest.approx(10.0, rel=1e-12)
        ratios = rates[1:] / rates[:-1]
        np.testing.assert_allclose(ratios, (1e8) ** (1 / 99))


def test_a_model_trained_before_with_ema_is_searched_and_trains_again():
    """An optimizer with `use_ema=True` on a model that was trained before: the range test
    runs, the model comes back exactly, and it trains again (on JAX, Keras 3.15's own second
    `fit` of such a model fails; the finder must not)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = (x @ np.ones((3, 1))).astype("float32")
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(use_ema=True), loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    before = full_state(model)
    result = keras_lrfind.LRFinder(model).find(x, y, batch_size=8, num_steps=30, verbose=0)
    assert result.num_recorded > 0
    assert_same_state(before, full_state(model))
    model.fit(x, y, epochs=1, verbose=0)
