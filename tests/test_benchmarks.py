"""Tests of the suggestion-quality benchmark's scoring: hand-worked numbers, no training."""

from __future__ import annotations

import dataclasses
import json
import math
import types

import numpy as np
import pytest

from benchmarks import quality, scoring
from benchmarks.tasks import TASKS_BY_NAME

# Three decades, one point each: seed-mean accuracies 0.5, 0.9, 0.7.
COARSE = scoring.Grid([1e-3, 1e-2, 1e-1], [[0.4, 0.6], [0.9, 0.9], [0.8, 0.6]])


class TestGridLearningRates:
    def test_powers_of_ten_and_thirds(self):
        """The grid is 10 ** (k / per_decade) for every k within the range, ends included."""
        lrs = scoring.grid_learning_rates(1e-3, 1e-1, 3)
        expected = [10 ** (k / 3) for k in range(-9, -2)]
        np.testing.assert_allclose(lrs, expected, rtol=1e-12)
        assert len(lrs) == 7

    def test_ends_off_the_grid_are_rounded_inwards(self):
        """A range end that is not a grid value is not included; the coarse grid always is."""
        lrs = scoring.grid_learning_rates(2e-4, 3.0, 2)
        np.testing.assert_allclose(lrs[[0, -1]], [10**-3.5, 1.0], rtol=1e-12)
        for value in scoring.COARSE_GRID:
            assert np.isclose(lrs, value, rtol=1e-9).any()

    def test_rejects_a_bad_range(self):
        """`low` must be positive and at most `high`."""
        with pytest.raises(ValueError, match="0 < low <= high"):
            scoring.grid_learning_rates(1e-1, 1e-3, 3)


class TestGrid:
    def test_mean_and_best(self):
        """Seed means per learning rate; the best is the highest mean."""
        np.testing.assert_allclose(COARSE.mean_accuracies, [0.5, 0.9, 0.7])
        assert COARSE.best_lr == 1e-2
        assert COARSE.best_accuracy == pytest.approx(0.9)

    def test_tie_goes_to_the_smaller_learning_rate(self):
        """Two equal best means: the smaller learning rate is the best."""
        grid = scoring.Grid([1e-3, 1e-2, 1e-1], [0.8, 0.8, 0.1])
        assert grid.best_lr == 1e-3

    def test_rejects_unsorted_learning_rates(self):
        """Learning rates must increase."""
        with pytest.raises(ValueError, match="strictly increasing"):
            scoring.Grid([1e-2, 1e-3], [0.5, 0.6])


class TestInterpolation:
    def test_linear_in_log_learning_rate(self):
        """Half-way in log10 between 1e-3 and 1e-2 (3.16e-3) is half-way between 0.5 and 0.9."""
        accuracy, clipped = scoring.interpolate_accuracy(COARSE, 10**-2.5)
        assert accuracy == pytest.approx(0.7)
        assert not clipped

    def test_three_quarters_of_a_decade(self):
        """At 10**-1.25 the accuracy is 0.9 + 0.75 * (0.7 - 0.9) = 0.75, not the linear-lr value."""
        accuracy, _ = scoring.interpolate_accuracy(COARSE, 10**-1.25)
        assert accuracy == pytest.approx(0.75)

    def test_grid_points_and_ends_are_exact_and_not_clipped(self):
        """On a grid point the accuracy is that point's mean, also at the ends."""
        for lr, expected in [(1e-3, 0.5), (1e-2, 0.9), (1e-1, 0.7)]:
            assert scoring.interpolate_accuracy(COARSE, lr) == (pytest.approx(expected), False)

    def test_outside_the_grid_is_clipped_and_flagged(self):
        """Below the grid: the first mean; above: the last mean; both flagged."""
        assert scoring.interpolate_accuracy(COARSE, 1e-5) == (pytest.approx(0.5), True)
        assert scoring.interpolate_accuracy(COARSE, 3.0) == (pytest.approx(0.7), True)

    @pytest.mark.parametrize("lr", [0.0, -1e-3, math.nan, math.inf])
    def test_rejects_non_positive_or_non_finite(self, lr):
        """A learning rate that cannot be placed on a log axis is an error."""
        with pytest.raises(ValueError, match="positive and finite"):
            scoring.interpolate_accuracy(COARSE, lr)


class TestRegret:
    def test_points_below_the_best(self):
        """Regret is 100 * (best - accuracy): 0.9 best, 0.7 at 10**-2.5, so 20 points."""
        assert scoring.regret(0.9, 0.7) == pytest.approx(20.0)
        assert scoring.suggestion_regret(COARSE, 10**-2.5) == (pytest.approx(20.0), False)

    def test_zero_at_the_best(self):
        """The best grid learning rate has no regret."""
        assert scoring.suggestion_regret(COARSE, 1e-2) == (pytest.approx(0.0), False)

    def test_clipped_suggestion_keeps_its_flag(self):
        """A suggestion beyond the grid is scored at the end (70%) and flagged."""
        assert scoring.suggestion_regret(COARSE, 10.0) == (pytest.approx(20.0), True)

    def test_constant_training_can_beat_the_grid(self):
        """An extra training better than the best grid mean has negative regret."""
        assert scoring.constant_lr_regret(COARSE, [0.92, 0.94]) == pytest.approx(-3.0)


class TestCoarseGrid:
    # Seed 0 keeps 1e-2 (0.90 > 0.80 > 0.40); seed 1 keeps 1e-1 (0.95 > 0.88 > 0.6).
    GRID = scoring.Grid(
        [1e-3, 10**-2.5, 1e-2, 10**-1.5, 1e-1],
        [[0.40, 0.60], [0.99, 0.99], [0.90, 0.88], [0.80, 0.80], [0.80, 0.95]],
    )

    def test_each_seed_keeps_its_best_of_three(self):
        """Selection uses each seed's own accuracy, only among 1e-3, 1e-2 and 1e-1."""
        assert scoring.coarse_grid_choices(self.GRID) == [1e-2, 1e-1]

    def test_regret_uses_the_seed_mean_at_the_kept_learning_rate(self):
        """Best mean 0.99; kept 1e-2 (mean 0.89) and 1e-1 (mean 0.875): regret (10 + 11.5) / 2."""
        assert scoring.coarse_grid_regret(self.GRID) == pytest.approx(10.75)

    def test_tie_keeps_the_smaller_learning_rate(self):
        """Equal accuracies at two candidates: the smaller learning rate is kept."""
        grid = scoring.Grid([1e-3, 1e-2, 1e-1], [0.7, 0.9, 0.9])
        assert scoring.coarse_grid_choices(grid) == [1e-2]

    def test_candidate_missing_from_the_grid(self):
        """The coarse grid must be on the ground-truth grid."""
        grid = scoring.Grid([2e-3, 1e-2, 1e-1], [0.5, 0.9, 0.7])
        with pytest.raises(ValueError, match=r"0\.001 is not on the grid"):
            scoring.coarse_grid_choices(grid)


class TestFormatting:
    def test_markdown_table(self):
        """Header, alignment row (first column left, others right), then the rows."""
        table = scoring.markdown_table(["task", "a", "b"], [["x", "1.0", "2.0"]])
        assert table == "| task | a | b |\n|:---|---:|---:|\n| x | 1.0 | 2.0 |"

    def test_markdown_table_rejects_ragged_rows(self):
        """Every row has as many cells as the header."""
        with pytest.raises(ValueError, match="as many cells"):
            scoring.markdown_table(["a", "b"], [["1"]])

    def test_regret_cells(self):
        """One decimal, a dagger for clipping, a cross and count for failures."""
        assert scoring.format_regret(1.25) == "1.2"
        assert scoring.format_regret(0.04, clipped=True) == "0.0 †"
        assert scoring.format_regret(math.nan, failures=3) == "n/a ✗3"

    def test_geometric_mean(self):
        """The geometric mean of 1e-3 and 1e-1 is 1e-2; empty input gives NaN."""
        assert scoring.geometric_mean([1e-3, 1e-1]) == pytest.approx(1e-2)
        assert math.isnan(scoring.geometric_mean([]))


def _fake_cache(task_name="mlp_adam_digits", curves=None):
    """A task cache with the COARSE grid and stand-in curves that only carry `best_lr`."""
    curves = curves or [types.SimpleNamespace(best_lr=0.1), types.SimpleNamespace(best_lr=1e-2)]
    return quality.TaskCache(
        task=TASKS_BY_NAME[task_name],
        grid=COARSE,
        fit_seconds=np.full((3, 2), 2.0),
        training_steps=100,
        curves=curves,
        range_test_seconds=[1.0, 3.0],
        baselines={"keras_default": [0.85, 0.87], "schedule_free_adamw": [0.5, 0.6]},
        runs={"run"},
    )


class TestScoreMethods:
    def test_regret_per_curve_and_mean(self):
        """best_lr gives 0.1 (20 points) and 0.01 (0 points): mean 10; /10 gives 0.75 and 0."""
        table = quality.score_methods(
            {"best_lr": quality.best_lr, "best_lr/10": quality.best_lr_over_10},
            cache={"mlp_adam_digits": _fake_cache()},
        )
        score = table.scores["mlp_adam_digits"]["best_lr"]
        assert score.regrets == pytest.approx([20.0, 0.0])
        assert table.regret("mlp_adam_digits", "best_lr") == pytest.approx(10.0)
        # 0.01 -> 0.9 (0 points); 0.001 -> 0.5 (40 points).
        assert table.regret("mlp_adam_digits", "best_lr/10") == pytest.approx(20.0)
        assert score.suggested_lr == pytest.approx(10**-1.5)

    def test_baselines(self):
        """Keras default 0.86 -> 4 points; coarse grid keeps 1e-2 for both seeds -> 0;
        ScheduleFreeAdamW 0.55 -> 35 points."""
        table = quality.score_methods({}, cache={"mlp_adam_digits": _fake_cache()})
        assert table.methods == ["keras_default", "coarse_grid", "schedule_free_adamw"]
        assert table.regret("mlp_adam_digits", "keras_default") == pytest.approx(4.0)
        assert table.regret("mlp_adam_digits", "coarse_grid") == pytest.approx(0.0)
        assert table.regret("mlp_adam_digits", "schedule_free_adamw") == pytest.approx(35.0)

    def test_failures_are_counted_and_left_out_of_the_mean(self):
        """A method raising ValueError on a curve is a failure, not a regret."""

        def picky(curve):
            if curve.best_lr > 0.05:
                raise ValueError("too steep")
            return curve.best_lr

        table = quality.score_methods({"picky": picky}, cache={"t": _fake_cache()})
        score = table.scores["t"]["picky"]
        assert score.failures == 1
        assert score.regret == pytest.approx(0.0)
        assert score.cell() == "0.0 ✗1"

    def test_mean_row_and_clipping_mark(self):
        """The mean row averages tasks; a clipped suggestion marks its cells."""
        clipped = [types.SimpleNamespace(best_lr=5.0), types.SimpleNamespace(best_lr=5.0)]
        table = quality.score_methods(
            {"best_lr": quality.best_lr},
            cache={"a": _fake_cache(), "b": _fake_cache(curves=clipped)},
            baselines=False,
        )
        assert table.mean_regret("best_lr") == pytest.approx(15.0)
        lines = table.regret_markdown().splitlines()
        assert lines[0] == "| task | best_lr |"
        assert lines[2:] == ["| a | 10.0 |", "| b | 20.0 † |", "| **mean** | **15.0 †** |"]

    def test_cost_ratios_from_pairs(self):
        """Pairs (1, 4), (3, 4), (2, 2): ratios 0.25, 0.75, 1, median 0.75; the grid of 3
        learning rates costs 3 trainings (ratio 0.25), the coarse grid too."""
        cache = dataclasses.replace(
            _fake_cache(),
            curves=[types.SimpleNamespace(num_recorded=80)],
            cost_pairs=[(1.0, 4.0), (3.0, 4.0), (2.0, 2.0)],
        )
        cost = quality.cost_summary(cache)
        assert cost["range_test_seconds"] == 2.0
        assert cost["training_seconds"] == 4.0
        assert cost["range_test_per_training"] == pytest.approx(0.75)
        assert cost["grid_seconds"] == pytest.approx(12.0)
        assert cost["range_test_per_grid"] == pytest.approx(0.25)
        assert cost["range_test_per_coarse_grid"] == pytest.approx(0.25)
        assert cost["range_test_steps"] == 80

    def test_cost_ratios_without_pairs(self):
        """An old cache: medians of the cached range tests (2 s) and trainings (2 s)."""
        cost = quality.cost_summary(
            dataclasses.replace(_fake_cache(), curves=[types.SimpleNamespace(num_recorded=80)])
        )
        assert cost["range_test_per_training"] == pytest.approx(1.0)
        assert cost["range_test_per_grid"] == pytest.approx(1 / 3)


class TestCache:
    def test_round_trip_and_fastai_trimming(self, tmp_path):
        """Entries written where `run` writes them load back; fastai's `minimum` ignores the
        last 5 points, as fastai's lr_find does."""
        from keras_lrfind import LRFinderResult

        mode = quality.MODES["quick"]
        task = TASKS_BY_NAME["mlp_adam_digits"]
        task_dir = quality._task_dir(tmp_path, mode, task)
        lrs = quality.grid_learning_rates(task, mode)
        for index, lr in enumerate(lrs):
            entry = {"accuracy": index / 10, "fit_seconds": 1.0, "steps": 50, "run": "r"}
            quality._write(quality._grid_path(task_dir, lr, 0), entry)
        sweep = np.geomspace(1e-5, 1.0, 30)
        losses = np.linspace(2.0, 1.0, 30)
        losses[-3] = 0.1  # The global minimum sits in the last 5 points.
        curve = LRFinderResult(sweep, losses, losses, "completed", 1e-5, 1.0, 30)
        quality._write(
            quality._range_test_path(task_dir, 0),
            {"find_seconds": 0.5, "run": "r", "result": json.loads(curve.to_json())},
        )
        quality._write(
            quality._baseline_path(task_dir, "keras_default", 0), {"accuracy": 0.3, "run": "r"}
        )
        quality._write(
            quality._cost_path(task_dir, 1),
            {"find_seconds": 1.0, "fit_seconds": 2.0, "run": "r"},
        )
        caches = quality.load_cache("quick", tmp_path, ["mlp_adam_digits"])
        cache = caches["mlp_adam_digits"]
        np.testing.assert_allclose(cache.grid.learning_rates, lrs)
        np.testing.assert_allclose(cache.grid.mean_accuracies, np.arange(len(lrs)) / 10)
        assert cache.baselines == {"keras_default": [0.3]}
        assert cache.cost_pairs == [(1.0, 2.0)]
        assert cache.runs == {"r"}
        minimum = quality.DEFAULT_METHODS["minimum"](cache.curves[0])
        assert minimum == pytest.approx(sweep[24] / 10)  # Last kept point: index 30 - 5 - 1.
        assert quality.best_lr(cache.curves[0]) == pytest.approx(sweep[27])

    def test_incomplete_grid_is_left_out(self, tmp_path):
        """A task with a missing grid entry is not loaded."""
        assert quality.load_cache("quick", tmp_path) == {}
