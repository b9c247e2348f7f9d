"""Tests for conventions users bring from other finders: `diverge_threshold=None`
(Lightning's `early_stop_threshold=None`) and `result.to_pandas()`."""

from __future__ import annotations

import json
import math
import sys

import keras
import numpy as np
import pytest
from conftest import BATCH_SIZE, make_linear_model
from test_result import make_result

import keras_lrfind
from keras_lrfind import LRFinderResult
from keras_lrfind.range_test._sweep import Recording, Sweep

# On the linear problem this sweep's loss grows by orders of magnitude over its last steps,
# yet stays finite in float32 (measured on all three backends).
EXPLODING = dict(start_lr=1e-3, end_lr=6.0, num_steps=40)


class TestDivergeThresholdNone:
    @pytest.mark.parametrize(
        ("threshold", "stops", "reason"),
        [(None, [False, False, False, True], "completed"), (4.0, [False, False, True], "diverged")],
    )
    def test_recording_stops_on_divergence_only_with_a_threshold(self, threshold, stops, reason):
        """With `None` a ten-thousandfold rise runs to the last step; with 4 it stops at 50."""
        sweep = Sweep(1e-3, 1.0, num_steps=4, smoothing=0, diverge_threshold=threshold)
        recording = Recording(sweep)
        seen = []
        for loss in (1.0, 0.5, 50.0, 5000.0):
            seen.append(recording.add(0.1, loss, None))
            if seen[-1]:
                break
        assert seen == stops
        assert recording.stop_reason == reason

    def test_non_finite_loss_still_stops(self):
        """With `None`, a NaN or infinite loss still ends the sweep."""
        for bad in (math.nan, math.inf):
            recording = Recording(Sweep(1e-3, 1.0, num_steps=10, diverge_threshold=None))
            assert not recording.add(1e-3, 1.0, None)
            assert recording.add(1e-2, bad, None)
            assert recording.stop_reason == "non_finite_loss"

    def test_find_runs_every_step_while_the_loss_explodes(self, linear_data):
        """`find(diverge_threshold=None)` runs all steps of a sweep whose loss explodes
        (the default threshold stops the same sweep early)."""
        x, y = linear_data
        results = {}
        for threshold in (4.0, None):
            model = make_linear_model(keras.optimizers.SGD(0.01))
            results[threshold] = keras_lrfind.LRFinder(model).find(
                x, y, batch_size=BATCH_SIZE, verbose=0, diverge_threshold=threshold, **EXPLODING
            )
        stopped, full = results[4.0], results[None]
        assert stopped.stop_reason == "diverged"
        assert stopped.num_recorded < EXPLODING["num_steps"]
        assert full.stop_reason == "completed"
        assert full.num_recorded == EXPLODING["num_steps"]
        assert full.diverge_threshold is None
        assert np.isfinite(full.losses).all()
        assert full.smoothed_losses[-1] > 100 * full.min_loss  # Far past where 4 stops.

    def test_callback_with_none_stops_on_a_non_finite_loss(self, linear_data):
        """`LRFinderCallback(diverge_threshold=None)` still stops when the loss overflows."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        callback = keras_lrfind.LRFinderCallback(
            start_lr=1e-3, end_lr=1e6, num_steps=40, diverge_threshold=None
        )
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=2, callbacks=[callback], verbose=0)
        result = callback.result
        assert callback.diverge_threshold is None
        assert result.stop_reason == "non_finite_loss"
        assert result.num_recorded < 40
        assert not math.isfinite(result.losses[-1])
        assert np.isfinite(result.losses[:-1]).all()

    @pytest.mark.parametrize(
        ("threshold", "error", "match"),
        [
            (
                "4",
                TypeError,
                r"`diverge_threshold` must be a Python number, or `None` to disable the "
                r"divergence stop. Received: diverge_threshold='4' of type str",
            ),
            (
                1.0,
                ValueError,
                r"`diverge_threshold` must be greater than 1. Received: diverge_threshold=1.0.*"
                r"`None` disables the stop",
            ),
        ],
    )
    def test_other_values_are_refused(self, threshold, error, match):
        """Only `None` or a number greater than 1 is accepted, by the callback and `find`."""
        with pytest.raises(error, match=match):
            keras_lrfind.LRFinderCallback(diverge_threshold=threshold)
        model = make_linear_model()
        with pytest.raises(error, match=match):
            keras_lrfind.LRFinder(model).find(
                np.zeros((8, 3)), np.zeros((8, 1)), diverge_threshold=threshold
            )

    def test_none_survives_json(self):
        """`None` is saved as JSON `null` and read back as `None`."""
        result = make_result(diverge_threshold=None)
        text = result.to_json()
        assert json.loads(text)["diverge_threshold"] is None
        assert LRFinderResult.from_json(text).diverge_threshold is None
        assert LRFinderResult.from_dict(result.to_dict()).diverge_threshold is None


class TestToPandas:
    def test_columns_hold_the_curves(self):
        """One row per step: `step`, `learning_rate`, `loss`, `smoothed_loss`, NaN kept."""
        result = make_result()
        frame = result.to_pandas()
        assert list(frame.columns) == ["step", "learning_rate", "loss", "smoothed_loss"]
        assert frame["step"].tolist() == [0, 1, 2, 3, 4]
        np.testing.assert_array_equal(frame["learning_rate"], [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
        np.testing.assert_array_equal(frame["loss"], [2.0, 1.5, 0.7, 0.9, math.nan])
        np.testing.assert_array_equal(frame["smoothed_loss"], [2.0, 1.8, 1.2, 0.8, math.nan])

    def test_validation_loss_column_when_recorded(self):
        """A test with `validation_data` adds a `validation_loss` column."""
        frame = make_result(validation_losses=[3.0, 2.0, 1.0, 2.0, 4.0]).to_pandas()
        assert list(frame.columns)[-1] == "validation_loss"
        np.testing.assert_array_equal(frame["validation_loss"], [3.0, 2.0, 1.0, 2.0, 4.0])

    def test_missing_pandas_names_the_extra(self, monkeypatch):
        """Without pandas the error names the extra that installs it."""
        monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` fails.
        with pytest.raises(ImportError, match=r"pip install keras-lrfind\[pandas\]"):
            make_result().to_pandas()
