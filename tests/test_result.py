"""Tests for `LRFinderResult`: derived values, JSON round-trips, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import keras_lrfind
from keras_lrfind import LRFinderResult


def make_result(**overrides):
    values = dict(
        learning_rates=[1e-4, 1e-3, 1e-2, 1e-1, 1.0],
        losses=[2.0, 1.5, 0.7, 0.9, math.nan],
        smoothed_losses=[2.0, 1.8, 1.2, 0.8, math.nan],
        stop_reason="non_finite_loss",
        start_lr=1e-4,
        end_lr=1.0,
        num_steps=5,
    )
    values.update(overrides)
    return LRFinderResult(**values)


class TestLRFinderResult:
    def test_best_is_the_lowest_finite_smoothed_loss(self):
        """`best_lr`/`best_loss` come from the lowest finite smoothed loss, NaN ignored."""
        result = make_result()
        assert result.best_lr == 1e-1
        assert result.best_loss == 0.8

    def test_all_nan_curve_has_no_best(self):
        """A curve with no finite loss has NaN best values."""
        result = make_result(
            learning_rates=[1e-3], losses=[math.nan], smoothed_losses=[math.nan], num_steps=100
        )
        assert math.isnan(result.best_lr) and math.isnan(result.best_loss)

    def test_json_round_trip_with_nan(self, tmp_path):
        """`to_json` writes standard JSON (NaN as null) and `from_json` reads it back."""
        result = make_result(validation_losses=[3.0, 2.0, 1.0, 2.0, 4.0])
        text = result.to_json()
        data = json.loads(text)  # Standard JSON: the NaN is a null.
        assert data["losses"][-1] is None
        for loaded in (
            LRFinderResult.from_json(text),
            LRFinderResult.from_json(
                result.to_json(tmp_path / "curve.json") and tmp_path / "curve.json"
            ),
            LRFinderResult.from_json(str(tmp_path / "curve.json")),
        ):
            np.testing.assert_array_equal(loaded.learning_rates, result.learning_rates)
            np.testing.assert_array_equal(loaded.losses, result.losses)  # NaN == NaN here.
            np.testing.assert_array_equal(loaded.smoothed_losses, result.smoothed_losses)
            np.testing.assert_array_equal(loaded.validation_losses, result.validation_losses)
            assert loaded.stop_reason == result.stop_reason
            assert (loaded.start_lr, loaded.end_lr, loaded.num_steps) == (1e-4, 1.0, 5)

    def test_repr_is_readable(self):
        """The repr names the length, range, stop reason and best point."""
        text = repr(make_result())
        assert text == (
            "LRFinderResult(steps=5/5, lr=0.0001..1 (exponential), "
            "stop_reason='non_finite_loss', best_lr=0.1, best_loss=0.8)"
        )

    def test_mismatched_lengths(self):
        """Curves of different lengths are refused with the lengths."""
        with pytest.raises(ValueError, match=r"same length.*'losses': 2"):
            make_result(losses=[1.0, 2.0])

    def test_unknown_stop_reason(self):
        """An unknown stop reason is refused with the accepted ones."""
        with pytest.raises(ValueError, match=r"`stop_reason` must be one of.*stop_reason='bored'"):
            make_result(stop_reason="bored")

    def test_foreign_json(self):
        """JSON that is not a saved result is refused."""
        with pytest.raises(ValueError, match=r"not a saved keras_lrfind result"):
            LRFinderResult.from_json('{"format": "something else"}')


class TestPublicAPI:
    def test_all_names_exist(self):
        """Every name in `__all__` is importable from the package."""
        for name in keras_lrfind.__all__:
            assert hasattr(keras_lrfind, name), name

    def test_version_from_metadata(self):
        """`__version__` comes from the installed package metadata."""
        from importlib.metadata import version

        assert keras_lrfind.__version__ == version("keras-lrfind")
