"""How a probe's batch-norm statistics are judged: as the training it stands for ends.

A probe's moving statistics are recomputed on a few training batches ("precise batch
norm"), then blended with the statistics the model started from in the proportion a
training of `training_steps` steps still holds them: `momentum ** training_steps`. The
batch-norm layer here comes first, so its batch statistics depend on the inputs only and
the expected values are worked out with NumPy from the batches themselves.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_lrfind import find_best_learning_rate
from keras_lrfind.search._data import prepare
from keras_lrfind.search._probes import (
    CALIBRATION_BATCHES,
    ProbeSession,
    Progress,
    batch_norm_layers,
    batch_norm_statistics,
    recalibrate_batch_norm,
)

BATCH = 16
MOMENTUM = 0.9


def batch_norm_first(seed=0):
    """Input(2) -> BatchNormalization(momentum=0.9) -> Dense(1), trained by SGD."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.BatchNormalization(momentum=MOMENTUM),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return model


def shifted_data(num_samples=256, seed=0):
    """Inputs far from BatchNormalization's starting statistics (mean 0, variance 1)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=[3.0, -2.0], scale=[2.0, 0.5], size=(num_samples, 2)).astype("float32")
    y = (x @ np.array([[0.5], [1.0]], dtype="float32")).astype("float32")
    return x, y


def probe_data(x, y):
    split = len(x) // 4
    return prepare(x[split:], y[split:], BATCH, (x[:split], y[:split]), 0.0, 0)


def calibrated(data):
    """The mean over the first calibration batches of their mean and (biased) variance."""
    x = np.asarray(data.x, dtype=np.float64)
    batches = [x[i * BATCH : (i + 1) * BATCH] for i in range(CALIBRATION_BATCHES)]
    return (
        np.mean([batch.mean(axis=0) for batch in batches], axis=0),
        np.mean([batch.var(axis=0) for batch in batches], axis=0),
    )


def moving_statistics(model):
    (layer,) = batch_norm_layers(model)
    return (
        keras.ops.convert_to_numpy(layer.moving_mean),
        keras.ops.convert_to_numpy(layer.moving_variance),
    )


class TestRecalibration:
    def test_without_a_training_length_the_statistics_are_the_batches(self):
        model, data = batch_norm_first(), probe_data(*shifted_data())
        recalibrate_batch_norm(model, batch_norm_layers(model), data)
        mean, variance = calibrated(data)
        np.testing.assert_allclose(moving_statistics(model)[0], mean, rtol=1e-5)
        np.testing.assert_allclose(moving_statistics(model)[1], variance, rtol=1e-4)

    @pytest.mark.parametrize("training_steps", [1, 5, 20])
    def test_a_short_training_keeps_momentum_to_the_steps_of_its_start(self, training_steps):
        """The start (mean 0, variance 1) keeps 0.9 ** steps: 0.9, 0.59, 0.12."""
        model, data = batch_norm_first(), probe_data(*shifted_data())
        layers = batch_norm_layers(model)
        starts = batch_norm_statistics(layers)
        recalibrate_batch_norm(model, layers, data, starts, training_steps)
        kept = MOMENTUM**training_steps
        mean, variance = calibrated(data)
        np.testing.assert_allclose(moving_statistics(model)[0], (1 - kept) * mean, rtol=1e-5)
        np.testing.assert_allclose(
            moving_statistics(model)[1], kept * 1.0 + (1 - kept) * variance, rtol=1e-4
        )

    def test_a_long_training_is_settled(self):
        """0.9 ** 1000 is 1.7e-46: nothing of the start is left."""
        model, data = batch_norm_first(), probe_data(*shifted_data())
        layers = batch_norm_layers(model)
        recalibrate_batch_norm(model, layers, data, batch_norm_statistics(layers), 1000)
        mean, variance = calibrated(data)
        np.testing.assert_allclose(moving_statistics(model)[0], mean, rtol=1e-5)
        np.testing.assert_allclose(moving_statistics(model)[1], variance, rtol=1e-4)


class TestProbeSession:
    @pytest.mark.parametrize("training_steps", [None, 3, 30])
    def test_a_probe_is_judged_on_the_statistics_its_training_would_end_with(self, training_steps):
        model, data = batch_norm_first(), probe_data(*shifted_data())
        with ProbeSession(model, data, [], Progress(0, 0), training_steps) as session:
            logs = session.probe(0.05, 12).logs
            judged = moving_statistics(model)
            x_val, y_val = data.validation[:2]
            predictions = keras.ops.convert_to_numpy(model(x_val))
            expected_loss = float(np.mean((predictions - y_val) ** 2))
        kept = 0.0 if training_steps is None else MOMENTUM**training_steps
        mean, variance = calibrated(data)
        np.testing.assert_allclose(judged[0], (1 - kept) * mean, rtol=1e-5)
        np.testing.assert_allclose(judged[1], kept + (1 - kept) * variance, rtol=1e-4)
        np.testing.assert_allclose(logs["loss"], expected_loss, rtol=1e-4)
        # And the session puts the starting statistics back.
        np.testing.assert_array_equal(moving_statistics(model)[0], np.zeros(2, "float32"))
        np.testing.assert_array_equal(moving_statistics(model)[1], np.ones(2, "float32"))

    @pytest.mark.parametrize("epochs", [3, 10])
    def test_find_best_learning_rate_judges_for_the_training_it_answers_for(self, epochs):
        """The search passes its training's length to its probes: the statistics its probe
        is evaluated with keep 0.9 ** training_steps of the start (2.3% for three epochs
        of 12 steps, 3e-6 for ten)."""
        seen = []

        class RecordingBatchNorm(keras.layers.BatchNormalization):
            """Records its moving mean whenever it runs in inference mode, eagerly."""

            def call(self, inputs, training=None, mask=None):
                if not training:
                    try:
                        seen.append(keras.ops.convert_to_numpy(self.moving_mean).copy())
                    except Exception:  # Keras's symbolic build call: no values.
                        pass
                return super().call(inputs, training=training, mask=mask)

        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((2,)), RecordingBatchNorm(momentum=MOMENTUM), keras.layers.Dense(1)]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", run_eagerly=True)
        x, y = shifted_data(num_samples=256)
        validation = (x[:64], y[:64])
        details = find_best_learning_rate(
            model,
            x[64:],
            y[64:],
            batch_size=BATCH,
            epochs=epochs,
            validation_data=validation,
            candidates=[0.01, 0.05],
            verbose=0,
            return_details=True,
        )
        assert details.training_steps == 12 * epochs
        kept = MOMENTUM**details.training_steps
        mean, _ = calibrated(prepare(x[64:], y[64:], BATCH, validation, 0.0, 0))
        np.testing.assert_allclose(seen[-1], (1 - kept) * mean, rtol=1e-5)

    def test_the_untrained_model_is_judged_as_the_probes_are(self):
        """The untrained loss a probe must beat is the untrained model's on the statistics
        a training of the same length would end with (recomputed at the starting weights,
        blended with the start): a probe whose weights did not move scores what it does,
        and not what the model scores on its own starting statistics."""
        x, y = shifted_data(num_samples=256)
        validation = (x[:64], y[:64])
        details = find_best_learning_rate(
            batch_norm_first(),
            x[64:],
            y[64:],
            batch_size=BATCH,
            epochs=3,
            validation_data=validation,
            candidates=[1e-12, 0.1],
            verbose=0,
            return_details=True,
        )
        kept = MOMENTUM**details.training_steps  # 0.9 ** 36: 2%.
        mean, variance = calibrated(prepare(x[64:], y[64:], BATCH, validation, 0.0, 0))
        model = batch_norm_first()
        plain = model.evaluate(*validation, verbose=0)
        (layer,) = batch_norm_layers(model)
        layer.moving_mean.assign(((1 - kept) * mean).astype("float32"))
        layer.moving_variance.assign((kept + (1 - kept) * variance).astype("float32"))
        expected = model.evaluate(*validation, verbose=0)
        np.testing.assert_allclose(details.untrained_loss, expected, rtol=1e-4)
        # Not the model on its own starting statistics (what an evaluation would score).
        assert not np.isclose(details.untrained_loss, plain, rtol=1e-3)
        (still,) = [p for p in details.probes if p.learning_rate == 1e-12]
        np.testing.assert_allclose(still.validation_loss, details.untrained_loss, rtol=1e-4)
