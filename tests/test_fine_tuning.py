"""The fine-tuning recipe (notebooks/04_fine_tuning.ipynb) on a tiny backbone with BatchNorm.

Freeze the backbone, range-test, train the head on a one-cycle schedule, unfreeze, compile
again, range-test again, train the whole model. These tests pin what the recipe relies on: a
frozen backbone (its BatchNorm statistics included) does not move during the range test or the
head's training, the range test after unfreezing restores everything, and it sees a different
curve because it now trains the backbone.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import assert_same_state, full_state

import keras_lrfind

BATCH_SIZE = 8
NUM_SAMPLES = 64
# A short sweep that stays finite on this problem, so every planned step runs.
SWEEP = dict(start_lr=1e-4, end_lr=0.1, num_steps=16, diverge_threshold=1e9, verbose=0)
# A sweep long enough for a usable suggestion. The divergence stop is off: the first batch of a
# tiny dataset can have a low enough loss that the next ones look like divergence.
LONG_SWEEP = dict(start_lr=1e-4, end_lr=1.0, num_steps=48, diverge_threshold=1e9, verbose=0)


@pytest.fixture
def data():
    """A 3-class problem, linearly separable in its 6 features: x (64, 6), y (64,)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(NUM_SAMPLES, 6)).astype("float32")
    y = np.argmax(x @ rng.normal(size=(6, 3)), axis=1)
    return x, y


def compile_with(model, learning_rate=1e-3):
    model.compile(
        keras.optimizers.Adam(learning_rate),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def pretrained(data, seed=0):
    """A backbone (Dense, BatchNorm, ReLU) trained with a first head, under a new head.

    The pre-training moves BatchNorm's statistics away from their initial 0 and 1.
    """
    keras.utils.set_random_seed(seed)
    backbone = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, use_bias=False),
            keras.layers.BatchNormalization(momentum=0.5),
            keras.layers.ReLU(),
        ],
        name="backbone",
    )
    pretraining = keras.Sequential([backbone, keras.layers.Dense(3)])
    compile_with(pretraining, 1e-2)
    pretraining.fit(*data, batch_size=BATCH_SIZE, epochs=2, shuffle=False, verbose=0)
    model = keras.Sequential([keras.Input((6,)), backbone, keras.layers.Dense(3)])
    return model, backbone


def frozen(data):
    """The pre-trained model with its backbone frozen and the model compiled for the head."""
    model, backbone = pretrained(data)
    backbone.trainable = False
    compile_with(model)
    return model, backbone


def values(variables):
    return [np.array(variable.numpy(), copy=True) for variable in variables]


def batchnorm(backbone):
    return next(
        layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)
    )


class VariableRecorder(keras.callbacks.Callback):
    """Copies the values of the given variables after every training step."""

    def __init__(self, variables):
        super().__init__()
        self.variables = list(variables)
        self.after_step = []

    def on_train_batch_end(self, batch, logs=None):
        _ = self.model  # On JAX, reading `self.model` syncs the variables with the train state.
        self.after_step.append(values(self.variables))


def assert_equal_values(expected, actual):
    for a, b in zip(expected, actual, strict=True):
        np.testing.assert_array_equal(a, b)


def changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


class TestFrozenBackbone:
    def test_range_test_never_moves_the_frozen_weights(self, data):
        """At every step of the sweep the backbone's weights are unchanged; the head's move."""
        model, backbone = frozen(data)
        head = model.layers[-1]
        backbone_before, head_before = values(backbone.variables), values(head.variables)
        recorder = VariableRecorder(backbone.variables + head.variables)
        keras_lrfind.LRFinder(model).find(
            *data, batch_size=BATCH_SIZE, callbacks=[recorder], **SWEEP
        )
        assert len(recorder.after_step) == SWEEP["num_steps"]
        for step_values in recorder.after_step:
            assert_equal_values(backbone_before, step_values[: len(backbone_before)])
        assert changed(head_before, recorder.after_step[-1][len(backbone_before) :])

    def test_range_test_keeps_the_batchnorm_statistics_bit_for_bit(self, data):
        """BatchNorm's moving mean and variance do not move at any step of the sweep."""
        model, backbone = frozen(data)
        layer = batchnorm(backbone)
        statistics = [layer.moving_mean, layer.moving_variance]
        before = values(statistics)
        assert changed([np.zeros(8), np.ones(8)], before)  # Pre-training moved them.
        recorder = VariableRecorder(statistics)
        keras_lrfind.LRFinder(model).find(
            *data, batch_size=BATCH_SIZE, callbacks=[recorder], **SWEEP
        )
        for step_values in recorder.after_step:
            assert_equal_values(before, step_values)
        assert_equal_values(before, values(statistics))

    def test_head_training_keeps_the_backbone_and_its_statistics(self, data):
        """A one-cycle fit of the head leaves every backbone variable, BatchNorm's included."""
        model, backbone = frozen(data)
        result = keras_lrfind.LRFinder(model).find(*data, batch_size=BATCH_SIZE, **SWEEP)
        head = model.layers[-1]
        backbone_before, head_before = values(backbone.variables), values(head.variables)
        steps = keras_lrfind.steps_for_epochs(3, data=data[0], batch_size=BATCH_SIZE)
        compile_with(model, keras_lrfind.OneCycle(result.suggest(warn=False), steps))
        model.fit(*data, batch_size=BATCH_SIZE, epochs=3, verbose=0)
        assert_equal_values(backbone_before, values(backbone.variables))
        assert changed(head_before, values(head.variables))

    def test_frozen_batchnorm_normalizes_with_its_moving_statistics_in_training(self, data):
        """Keras 3: a non-trainable BatchNorm runs in inference mode even with training=True."""
        _, backbone = frozen(data)
        dense, layer = backbone.layers[0], batchnorm(backbone)
        x = data[0][:BATCH_SIZE]
        features = x @ keras.ops.convert_to_numpy(dense.kernel)
        mean, variance, gamma, beta = (
            keras.ops.convert_to_numpy(v)
            for v in (layer.moving_mean, layer.moving_variance, layer.gamma, layer.beta)
        )
        normalized = (features - mean) / np.sqrt(variance + layer.epsilon)
        expected = np.maximum(normalized * gamma + beta, 0)  # BatchNorm, then ReLU.
        actual = keras.ops.convert_to_numpy(backbone(x, training=True))
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


class TestAfterUnfreezing:
    def test_range_test_restores_everything_bit_for_bit(self, data):
        """After head training and unfreezing, the sweep moves the backbone, then puts back
        every weight, BatchNorm statistic and optimizer variable exactly."""
        model, backbone = frozen(data)
        model.fit(*data, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        backbone.trainable = True
        compile_with(model)
        model.optimizer.build(model.trainable_variables)  # So both snapshots list its slots.
        before = full_state(model)
        backbone_before = values(backbone.variables)
        recorder = VariableRecorder(backbone.variables)
        keras_lrfind.LRFinder(model).find(
            *data, batch_size=BATCH_SIZE, callbacks=[recorder], **SWEEP
        )
        assert changed(backbone_before, recorder.after_step[-1])  # Kernel and statistics.
        assert_same_state(before, full_state(model))

    def test_second_range_test_trains_the_backbone(self, data):
        """From the same weights and batches, the unfrozen sweep's first loss is the frozen
        sweep's (BatchNorm kept in inference mode in both), and its later losses differ."""
        model, backbone = frozen(data)
        sweep = dict(SWEEP, shuffle=False, smoothing=0.0)
        first = keras_lrfind.LRFinder(model).find(*data, batch_size=BATCH_SIZE, **sweep)
        backbone.trainable = True
        batchnorm(backbone).trainable = False  # Only the Dense kernel of the backbone trains.
        compile_with(model)
        second = keras_lrfind.LRFinder(model).find(*data, batch_size=BATCH_SIZE, **sweep)
        np.testing.assert_array_equal(first.learning_rates, second.learning_rates)
        assert first.losses[0] == second.losses[0]
        assert not np.allclose(first.losses[2:], second.losses[2:], rtol=1e-3, atol=0)

    def test_training_false_at_construction_does_not_keep_batchnorm_frozen(self, data):
        """Keras 3 (keras-team/keras#20285), as the notebook warns: `fit` passes
        `training=True` down and overrides `backbone(inputs, training=False)`, so an unfrozen
        BatchNorm updates its statistics."""
        _, backbone = pretrained(data)
        inputs = keras.Input((6,))
        model = keras.Model(inputs, keras.layers.Dense(3)(backbone(inputs, training=False)))
        layer = batchnorm(backbone)
        before = values([layer.moving_mean, layer.moving_variance])
        compile_with(model)
        model.fit(*data, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        assert changed(before, values([layer.moving_mean, layer.moving_variance]))

    def test_a_batchnorm_left_frozen_keeps_its_statistics_while_the_rest_trains(self, data):
        """The notebook's remedy: `trainable = False` on the BatchNorm layer alone."""
        model, backbone = pretrained(data)
        batchnorm(backbone).trainable = False
        dense, layer = backbone.layers[0], batchnorm(backbone)
        kernel_before = values([dense.kernel])
        statistics_before = values(layer.variables)  # gamma, beta, mean and variance.
        compile_with(model)
        keras_lrfind.LRFinder(model).find(*data, batch_size=BATCH_SIZE, **SWEEP)
        model.fit(*data, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        assert_equal_values(statistics_before, values(layer.variables))
        assert changed(kernel_before, values([dense.kernel]))

    def test_without_compiling_again_the_model_comes_back_as_it_was(self, data):
        """Unfrozen but not compiled again, the sweep (refused or not) leaves the model."""
        model, backbone = frozen(data)
        model.fit(*data, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        backbone.trainable = True
        try:
            keras_lrfind.LRFinder(model).find(*data, batch_size=BATCH_SIZE, **SWEEP)
        except ValueError:
            pass  # Refused on JAX and PyTorch; see the next test.
        assert_same_state(before, full_state(model))

    def test_without_compiling_again_the_sweep_is_refused(self, data):
        """Unfrozen but not compiled again, the sweep is refused on every backend: the
        optimizer was built for the head's variables only (TensorFlow would silently train
        the head only and record a head-only curve)."""
        model, backbone = frozen(data)
        model.fit(*data, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        backbone.trainable = True
        with pytest.raises(ValueError, match="built with"):
            keras_lrfind.LRFinder(model).find(*data, batch_size=BATCH_SIZE, **SWEEP)


class TestRecipe:
    def test_two_stage_recipe_trains_the_head_then_everything(self, data):
        """The notebook's recipe runs end to end; only the second stage moves the backbone, and
        the training loss ends below where it started."""
        model, backbone = frozen(data)
        x, y = data
        initial_loss = model.evaluate(x, y, verbose=0)
        backbone_before = values(backbone.variables)
        head_test = keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, **LONG_SWEEP)
        steps = keras_lrfind.steps_for_epochs(4, data=x, batch_size=BATCH_SIZE)
        compile_with(model, keras_lrfind.OneCycle(head_test.suggest(warn=False), steps))
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=4, verbose=0)
        assert_equal_values(backbone_before, values(backbone.variables))
        backbone.trainable = True
        compile_with(model)
        whole_test = keras_lrfind.LRFinder(model).find(x, y, batch_size=BATCH_SIZE, **LONG_SWEEP)
        compile_with(model, keras_lrfind.OneCycle(whole_test.suggest(warn=False), steps))
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=4, verbose=0)
        assert changed(backbone_before, values(backbone.variables))
        assert model.evaluate(x, y, verbose=0) < initial_loss
