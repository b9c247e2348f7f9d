"""Tests of the suggestion-quality benchmark: scoring with hand-worked numbers, the cache and
its export, the grid extension, and the fixed split. No training."""

from __future__ import annotations

import json
import math
import types
from pathlib import Path

import numpy as np
import pytest

from benchmarks import (
    cache,
    evaluate,
    quality,
    range_test_length,
    range_test_variants,
    report,
    runner,
    scoring,
    split,
    store,
)
from benchmarks.tasks import ALL_TASKS, DECLARED_TASKS, RETIRED, TASKS_BY_NAME

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


def _result(name="mlp_adam_digits", curves=None, which="evaluation", find_best=None):
    """A task result with the COARSE grid (best 0.9 at 1e-2) and stand-in curves."""
    curves = curves or [
        types.SimpleNamespace(lr=0.1, num_recorded=30),
        types.SimpleNamespace(lr=1e-2, num_recorded=50),
    ]
    return store.TaskResult(
        task=TASKS_BY_NAME[name],
        split=which,
        grid=COARSE,
        fit_seconds=np.array([[2.0, 2.0], [4.0, 4.0], [4.0, 4.0]]),
        training_steps=100,
        curves=curves,
        range_test_seconds=[1.0, 3.0],
        range_test_warnings=[[], []],
        keras_default=[0.85, 0.87],
        find_best=find_best or {},
    )


def by_lr(curve):
    return curve.lr


class TestScoreMethods:
    def test_regret_per_curve_and_mean(self):
        """Suggestions 0.1 (0.7: 20 points) and 0.01 (0.9: 0 points): mean 10."""
        table = evaluate.score_methods(
            methods={"lr": by_lr}, baselines=False, results={"a": _result()}
        )
        score = table.scores["a"]["lr"]
        assert score.regrets == pytest.approx([20.0, 0.0])
        assert table.regret("a", "lr") == pytest.approx(10.0)
        assert score.suggested_lr == pytest.approx(10**-1.5)

    def test_cost_is_one_training_plus_the_range_test(self):
        """Median range test 2 s, median training 4 s: 1 + 0.5 trainings."""
        table = evaluate.score_methods(
            methods={"lr": by_lr}, baselines=False, results={"a": _result()}
        )
        assert table.scores["a"]["lr"].cost == pytest.approx(1.5)

    def test_step_cost_is_one_training_plus_the_range_test_steps(self):
        """Range tests of 30 and 50 recorded steps (median 40) for a 100-step training."""
        table = evaluate.score_methods(
            methods={"lr": by_lr}, baselines=False, results={"a": _result()}
        )
        assert table.median_step_cost("lr") == pytest.approx(1.4)

    def test_a_miss_gets_the_keras_default_regret(self):
        """A method raising ValueError on a curve misses there: the user trains at the Keras
        default (mean 0.86, 4 points below 0.9), and the miss is counted."""

        def picky(curve):
            if curve.lr > 0.05:
                raise ValueError("too steep")
            return curve.lr

        table = evaluate.score_methods(
            methods={"picky": picky}, baselines=False, results={"a": _result()}
        )
        score = table.scores["a"]["picky"]
        assert score.regrets == pytest.approx([4.0, 0.0])
        assert score.misses == 1
        assert score.cell() == "2.0 ✗1"
        assert table.misses("picky") == 1

    def test_baselines(self):
        """Keras default 0.86 -> 4 points at cost 1; the 3-point grid keeps 1e-2 for both
        seeds -> 0 points at cost 3; no find_best column without its results."""
        table = evaluate.score_methods(methods={}, results={"a": _result()})
        assert table.methods == ["keras_default", "coarse_grid"]
        assert table.regret("a", "keras_default") == pytest.approx(4.0)
        assert table.regret("a", "coarse_grid") == pytest.approx(0.0)
        assert table.median_cost("coarse_grid") == 3.0
        assert table.median_cost("keras_default") == 1.0

    def test_find_best_picks_and_cost(self):
        """Picks 1e-2 (0 points) and 10**-2.5 (20 points): mean 10; searches of 2 s and 1 s
        against trainings of 4 s: cost 1 + median(0.5, 0.25)."""
        entries = [
            {"learning_rate": 1e-2, "seconds": 2.0, "training_seconds": 4.0},
            {"learning_rate": 10**-2.5, "seconds": 1.0, "training_seconds": 4.0},
        ]
        result = _result(find_best={"v1": entries})
        table = evaluate.score_methods(methods={}, results={"a": result}, find_best_version="v1")
        assert table.methods == ["keras_default", "coarse_grid", "find_best"]
        assert table.regret("a", "find_best") == pytest.approx(10.0)
        assert table.median_cost("find_best") == pytest.approx(1.375)
        assert math.isnan(table.median_step_cost("find_best"))  # Steps not recorded.
        for entry, steps in zip(entries, (60, 90), strict=True):
            entry.update(search_steps=steps, training_steps=100)
        table = evaluate.score_methods(methods={}, results={"a": result}, find_best_version="v1")
        assert table.median_step_cost("find_best") == pytest.approx(1.75)
        other = evaluate.score_methods(methods={}, results={"a": result}, find_best_version="v2")
        assert "find_best" not in other.methods

    def test_another_search_seed_is_a_column_of_its_own(self):
        """Entries of version v1 run with `seed=1` are keyed `v1-search1`: picks 10**-1.5 and
        1e-2 (10 points and 0: mean 5) score beside seed 0's (1e-2 twice: 0), labelled with
        the seed; a seed with no entries adds no column, and the latest version is v1."""
        entry = {"seconds": 1.0, "training_seconds": 4.0}
        result = _result(
            find_best={
                "v1": [dict(entry, learning_rate=1e-2)] * 2,
                cache.search_seed_version("v1", 1): [
                    dict(entry, learning_rate=10**-1.5),
                    dict(entry, learning_rate=1e-2),
                ],
            }
        )
        assert cache.search_seed_version("v1", 0) == "v1"
        assert cache.search_seed_version("v1", 1) == "v1-search1"
        table = evaluate.score_methods(
            methods={}, results={"a": result}, find_best_version="v1", search_seeds=(1, 2)
        )
        assert table.methods == ["keras_default", "coarse_grid", "find_best", "find_best_seed1"]
        assert table.regret("a", "find_best") == pytest.approx(0.0)
        assert table.regret("a", "find_best_seed1") == pytest.approx(5.0)
        assert evaluate.label("find_best_seed1") == "find_best_learning_rate (seed=1)"
        assert [evaluate.search_seed(evaluate.search_seed_method(k)) for k in (0, 3)] == [0, 3]
        assert evaluate.search_seed("coarse_grid") is None
        assert evaluate.latest_find_best_version({"a": result}) == "v1"
        assert quality._find_best_version({"a": result}, None) == "v1"
        assert quality._search_seeds({"a": result}, "v1") == [1]

    def test_the_report_compares_the_search_seeds(self):
        """Seed 0 scores 0 on evaluation task a and 10 on tuning task b (10**-1.5: 0.8 where
        the best is 0.9); seed 1 the reverse, 5 and 0: per task, means 2.5 and 5, spreads 5
        and 10 (mean 7.5); seed 1 is 5 points worse than the grid on a (> 3: counted)."""
        entry = {"seconds": 1.0, "training_seconds": 4.0}
        low, mid = dict(entry, learning_rate=1e-2), dict(entry, learning_rate=10**-1.5)
        results = {
            "a": _result(find_best={"v1": [low, low], "v1-search1": [mid, low]}),
            "b": _result(which="tuning", find_best={"v1": [mid, mid], "v1-search1": [low, low]}),
        }
        table = evaluate.score_methods(results, {}, find_best_version="v1", search_seeds=(1,))
        lines = report.search_seeds_markdown(table).splitlines()
        assert lines[2] == "| 0 | 0.0 | 0.0 to 0.0 | 0.0 | 0 | 10.0 | 10.0 |"
        assert lines[3] == "| 1 | 5.0 | 5.0 to 5.0 | 5.0 | 1 | 0.0 | 0.0 |"
        assert (
            lines[4] == "| mean over the seeds, per task | 2.5 | 2.5 to 2.5 | 2.5 | 0 | 5.0 | 5.0 |"
        )
        assert "differ by 7.5 points on average" in lines[-1]
        assert "at most 10.0 (`b`)" in lines[-1]
        single = evaluate.score_methods(results, {}, find_best_version="v1")
        assert report.search_seeds_markdown(single) == ""
        # A third seed: the median answers are 10**-1.5 and 1e-2 on a (10 and 0 points); on b
        # 1e-2 (0) and, the third search refusing, the geometric mean of the other two,
        # 10**-1.75 (a quarter of the way to 0.1: 5 points).
        refused = dict(entry, learning_rate=None, error="No probe learned")
        results["a"].find_best["v1-search2"] = [mid, mid]
        results["b"].find_best["v1-search2"] = [low, refused]
        table = evaluate.score_methods(results, {}, find_best_version="v1", search_seeds=(1, 2))
        median = report.search_seeds_markdown(table).splitlines()[6]
        assert median == "| median of the seeds' answers | 5.0 | 5.0 to 5.0 | 5.0 | 1 | 2.5 | 2.5 |"

    def test_a_find_best_that_raised_is_a_miss_at_the_keras_default(self):
        """One search answered 1e-2 (0 points, 50 of 100 steps); one raised: the user trains
        at the Keras default (mean 0.86: 4 points), the miss is counted, and the step cost
        reads the search that answered (1 + 0.5)."""
        entries = [
            {"learning_rate": 1e-2, "seconds": 2.0, "training_seconds": 4.0,
             "search_steps": 50, "training_steps": 100},
            {"learning_rate": None, "error": "No probe learned", "seconds": 1.0,
             "training_seconds": 4.0, "search_steps": None, "training_steps": 100},
        ]  # fmt: skip
        result = _result(find_best={"v1": entries})
        table = evaluate.score_methods(methods={}, results={"a": result}, find_best_version="v1")
        score = table.scores["a"]["find_best"]
        assert score.regrets == pytest.approx([0.0, 4.0])
        assert score.misses == 1 and table.misses("find_best") == 1
        assert score.suggested_lr == pytest.approx(1e-2)
        assert table.median_step_cost("find_best") == pytest.approx(1.5)

    def test_summaries_by_split(self):
        """Evaluation: regrets 10 and 20 (mean 15, worst 20); tuning: 0 (both curves 0.01)."""
        clipped = [types.SimpleNamespace(lr=5.0, num_recorded=100)] * 2
        tuning = [types.SimpleNamespace(lr=1e-2, num_recorded=100)] * 2
        results = {
            "a": _result(),
            "b": _result(curves=clipped),
            "c": _result(curves=tuning, which="tuning"),
        }
        table = evaluate.score_methods(methods={"lr": by_lr}, baselines=False, results=results)
        assert table.mean_regret("lr", "evaluation") == pytest.approx(15.0)
        assert table.worst_regret("lr", "evaluation") == pytest.approx(20.0)
        assert table.mean_regret("lr", "tuning") == pytest.approx(0.0)
        assert table.mean_regret("lr") == pytest.approx(10.0)
        assert table.clipped("lr", "evaluation")
        assert not table.clipped("lr", "tuning")

    def test_no_results(self):
        """Scoring nothing is an error that says what to run."""
        with pytest.raises(ValueError, match=r"benchmarks\.quality"):
            evaluate.score_methods(methods={}, results={})


class TestGridExtension:
    TASK = TASKS_BY_NAME["mlp_adam_digits"]  # lr_range (1e-4, 1.0).
    MODE = cache.MODES["quick"]  # 2 learning rates per decade.

    def test_clearly_worse_ends_add_nothing(self):
        """Both ends more than 2 points below the best: the grid stays."""
        lrs = scoring.grid_learning_rates(1e-4, 1.0, 2)
        accuracies = np.full((len(lrs), 1), 0.9)
        accuracies[0] = accuracies[-1] = 0.5
        assert runner.extension(self.TASK, self.MODE, lrs, accuracies) == []

    def test_an_end_near_the_best_adds_a_decade_beyond_it(self):
        """The top end within 2 points of the best: 10**0.5 and 10 are added."""
        lrs = scoring.grid_learning_rates(1e-4, 1.0, 2)
        accuracies = np.full((len(lrs), 1), 0.9)
        accuracies[0] = 0.5
        accuracies[-1] = 0.89
        added = runner.extension(self.TASK, self.MODE, lrs, accuracies)
        np.testing.assert_allclose(added, [10**0.5, 10.0], rtol=1e-12)

    def test_at_most_two_decades_per_side(self):
        """A grid already extended to 100 (two decades above 1.0) grows no further there;
        its bottom end, still near the best, grows to 10**-5."""
        lrs = scoring.grid_learning_rates(1e-4, 100.0, 2)
        accuracies = np.full((len(lrs), 1), 0.9)
        added = runner.extension(self.TASK, self.MODE, lrs, accuracies)
        np.testing.assert_allclose(added, [10**-4.5, 1e-5], rtol=1e-12)


class TestStore:
    def _fill_cache(self, cache_dir):
        """Quick-mode entries of `mlp_adam_digits`: grid accuracies 0.1 * index, one range
        test with a real result, a Keras-default training and a find_best entry."""
        from keras_lrfind import LRFinderResult

        mode = cache.MODES["quick"]
        task = TASKS_BY_NAME["mlp_adam_digits"]
        directory = cache.task_dir(cache_dir, mode, task)
        lrs = runner.initial_grid(task, mode)
        for index, lr in enumerate(lrs):
            entry = {"accuracy": index / 20, "fit_seconds": 2.0, "steps": 50}
            cache.write(cache.grid_path(directory, lr, 0), entry)
        sweep = np.geomspace(1e-5, 1.0, 30)
        losses = np.linspace(2.0, 1.0, 30)
        curve = LRFinderResult(sweep, losses, losses, "completed", 1e-5, 1.0, 30)
        range_test = {
            "seed": 0,
            "find_seconds": 0.5,
            "warnings": ["a warning: details", store.NUMPY_COPY_NOTICE + ", so passing..."],
            "result": json.loads(curve.to_json()),
        }
        cache.write(cache.range_test_path(directory, 0), range_test)
        default = {"accuracy": 0.3, "fit_seconds": 1.0}
        cache.write(cache.baseline_path(directory, "keras_default", 0), default)
        pick = {
            "seed": 0,
            "learning_rate": 0.01,
            "seconds": 1.0,
            "training_seconds": 2.0,
            "accuracy": 0.25,
            "warnings": [store.NUMPY_COPY_NOTICE + ", so passing..."],
            "probes": [[0.01, 32, 1.5], [0.1, 32, 2.5]],
        }
        cache.write(cache.find_best_path(directory, "abc", 0), pick)
        refused = {**pick, "seed": 1, "learning_rate": None, "error": "No probe learned."}
        del refused["probes"]  # A search that raised returns no details.
        cache.write(cache.find_best_path(directory, "abc", 1), refused)
        return lrs, sweep

    def test_export_and_load_round_trip(self, tmp_path):
        """What the cache holds comes back from the committed JSON, curves, probes and a
        refusal included; TensorFlow's NumPy 2 notice is not kept as a warning."""
        lrs, sweep = self._fill_cache(tmp_path / "cache")
        written = store.export("quick", tmp_path / "cache", tmp_path / "results")
        assert written == ["mlp_adam_digits"]
        assert (tmp_path / "results" / "ground_truth_quick" / "mlp_adam_digits.json").exists()
        result = store.load_results("quick", tmp_path / "results")["mlp_adam_digits"]
        np.testing.assert_allclose(result.grid.learning_rates, lrs)
        np.testing.assert_allclose(result.grid.mean_accuracies, np.arange(len(lrs)) / 20)
        assert result.split == "tuning"
        assert result.keras_default == [0.3]
        assert result.training_seconds == 2.0
        assert result.range_test_warnings == [["a warning: details"]]
        np.testing.assert_allclose(result.curves[0].learning_rates, sweep, rtol=1e-6)
        picks = result.find_best["abc"]
        assert picks[0]["learning_rate"] == 0.01 and picks[0]["warnings"] == []
        assert picks[0]["probes"] == [[0.01, 32, 1.5], [0.1, 32, 2.5]]
        assert picks[1]["error"] == "No probe learned." and "probes" not in picks[1]

    def test_an_incomplete_task_is_not_exported(self, tmp_path):
        """Without its range test, a task is left out."""
        self._fill_cache(tmp_path / "cache")
        mode = cache.MODES["quick"]
        directory = cache.task_dir(tmp_path / "cache", mode, TASKS_BY_NAME["mlp_adam_digits"])
        cache.range_test_path(directory, 0).unlink()
        assert store.export("quick", tmp_path / "cache", tmp_path / "results") == []
        assert store.load_results("quick", tmp_path / "results") == {}


class TestSplit:
    def test_the_committed_split(self):
        """The rule's split, batch by batch, as committed before tuning: it must not move."""
        assert split.split()[2] == {
            "issue10": 8,
            "issue17": 1,
            "issue17_tails": 2,
            "issue17_slow_start": 5,
            "issue17_medium": 4,
            "issue17_flat": 0,
        }
        assert set(split.tuning_tasks()) == {
            *(task.name for task in DECLARED_TASKS if task.batch == "original"),
            "depthwise_lion_ls_blobs",
            "mixer_lion_digits_b256",
            "finetune_frozen_adam_blobs",
            # Issue 10 put these two in tuning; their lengthened versions take their place.
            "mixer_adamw_glyphs_long",
            "vit_nadam_glyphs12_imbalanced_long",
            "bncnn_adam_glyphs",
            "bncnn_nadam_symmetry",
            "finetune_bn_adamw_glyphs16",
            "mlp_adam_glyphs_long",
            "bncnn_adamw_symmetry_long",
            "finetune_bn_nadam_gratings",
            "finetune_adam_gratings",
            "finetune_bn_nadam_blobs_long",
            "bncnn_adam_blobs_short",
            "cnn_sgd_shapes16_b16",
            "resnet_nesterov_wd_blobs_b128",
            "bncnn_adamw_gratings_short",
            "finetune_bn_nadam_glyphs16",
            "cnn_nesterov_wd_symmetry_medium",
            "cnn_sgd_gratings_medium",
            "depthwise_nadam_aug_symmetry_medium",
            "finetune_bn_adam_glyphs16_medium",
            "mlp_sgdm_wd_glyphs",
            "depthwise_nesterov_glyphs",
            "cnn_sgd_wd_glyphs",
            "resnet_nesterov_gratings",
        }

    def test_half_tune_and_the_halves_partition_the_tasks(self):
        """Tuning tasks are at most half; every task is in exactly one half; retired tasks
        are in neither."""
        tuning, evaluation = set(split.tuning_tasks()), set(split.evaluation_tasks())
        assert len(tuning) <= len(ALL_TASKS) // 2
        assert not tuning & evaluation
        assert tuning | evaluation == {task.name for task in ALL_TASKS}
        assert not RETIRED & (tuning | evaluation)
        assert RETIRED == {
            "depthwise_sgdm_aug_blobs",
            "mixer_adamw_glyphs",
            "vit_adamw_ls_shapes16",
            "vit_nadam_glyphs12_imbalanced",
            "finetune_bn_adam_symmetry16",
            "finetune_bn_adamw_symmetry16",
            "mlp_dropout_sgd_symmetry",
            "resnet_adam_aug_symmetry",
            "resnet_sgdm_symmetry",
        }

    def test_both_halves_of_each_batch_cover_its_axes(self):
        """Issue 10's batch covers every bucket of its axes in both halves (with the original
        tasks), each of issue 17's batches every bucket of issue 17's axes."""
        tuning = set(split.tuning_tasks()) | {"mixer_adamw_glyphs", "vit_nadam_glyphs12_imbalanced"}

        def halves(tasks):
            chosen = [t for t in tasks if t.name in tuning]
            return chosen, [t for t in tasks if t not in chosen]

        first = [t for t in DECLARED_TASKS if t.batch in ("original", "issue10")]
        tuning_half, evaluation_half = halves(first)
        assert split.covers(tuning_half, evaluation_half, first, split.AXES)
        assert not split.covers(tuning_half, tuning_half[:1], first, split.AXES)
        batches = ("issue17", "issue17_tails", "issue17_slow_start", "issue17_medium")
        for batch in (*batches, "issue17_flat"):
            fresh = [t for t in DECLARED_TASKS if t.batch == batch and t.replaces is None]
            tuning_half, evaluation_half = halves(fresh)
            assert len(tuning_half) == len(fresh) // 2
            assert split.covers(tuning_half, evaluation_half, fresh, split.ISSUE17_AXES)

    def test_a_replacement_takes_the_half_of_the_task_it_replaces(self):
        """A lengthened task is tuning exactly when the task it replaces was."""
        tuning = set(split.tuning_tasks())
        assert "vit_adamw_ls_shapes16_long" in split.evaluation_tasks()
        assert "depthwise_sgdm_aug_blobs_long" in split.evaluation_tasks()
        for replaced in (
            "finetune_bn_adam_symmetry16",
            "finetune_bn_adamw_symmetry16",
            "mlp_dropout_sgd_symmetry",
            "resnet_adam_aug_symmetry",
            "resnet_sgdm_symmetry",
        ):
            assert TASKS_BY_NAME[f"{replaced}_long"].replaces == replaced
            assert f"{replaced}_long" in split.evaluation_tasks()
        assert {"mixer_adamw_glyphs_long", "vit_nadam_glyphs12_imbalanced_long"} <= tuning


class TestCorpus:
    def test_the_axes_of_the_issue(self):
        """At least 18 tasks over every architecture, optimizer, batch size 16 to 512, budget
        2 to 30 epochs, four kinds of regularisation, imbalance and fine-tuning."""
        assert len(ALL_TASKS) >= 30
        assert len({task.name for task in ALL_TASKS}) == len(ALL_TASKS)
        assert {task.architecture for task in ALL_TASKS} == {
            "mlp",
            "plain_cnn",
            "bn_cnn",
            "residual",
            "depthwise",
            "mixer",
            "vit",
            "fine_tuned",
        }
        optimizers = {task.optimizer_name for task in ALL_TASKS}
        for name in ("SGD", "SGD(momentum=0.9)", "Adam", "AdamW", "RMSprop", "Lion", "Nadam"):
            assert name in optimizers
        assert any("nesterov=True" in name for name in optimizers)
        assert min(t.batch_size for t in ALL_TASKS) == 16
        assert max(t.batch_size for t in ALL_TASKS) == 512
        assert min(t.epochs["full"] for t in ALL_TASKS) == 2
        assert max(t.epochs["full"] for t in ALL_TASKS) == 30
        kinds = {kind for task in ALL_TASKS for kind in task.regularisation}
        assert kinds == {"dropout", "weight_decay", "label_smoothing", "augmentation"}
        assert any(task.imbalanced for task in ALL_TASKS)

    def test_every_scored_task_learns_to_twice_chance(self):
        """The best seed-mean accuracy of every scored task's committed grid is at least
        twice chance (1 / classes): under it, a regret is noise, and the task is replaced
        by a lengthened version (`replaces`)."""
        results = store.load_results()
        assert set(results) == {task.name for task in ALL_TASKS}
        for name, result in results.items():
            chance = 1 / TASKS_BY_NAME[name].data().num_classes
            best = result.grid.mean_accuracies.max()
            assert best >= 2 * chance, f"{name}: best {best:.3f}, chance {chance:.3f}"

    def test_the_new_data_sets_are_fixed_by_their_seeds(self):
        """Generating a data set twice (cache bypassed) gives the same arrays."""
        from benchmarks import data

        for generate in (data.glyphs, data.symmetry, data.blobs):
            first, second = generate.__wrapped__(), generate.__wrapped__()
            np.testing.assert_array_equal(first.x_train, second.x_train)
            np.testing.assert_array_equal(first.y_test, second.y_test)

    def test_imbalanced_glyphs_have_a_long_tail_and_a_balanced_test_set(self):
        """With imbalance 0.7 the commonest training class is > 10x the rarest; the test
        classes stay within a factor 2."""
        from benchmarks import data

        glyphs = data.glyphs(8, 2000, 600, 0.7)
        train, test = np.bincount(glyphs.y_train), np.bincount(glyphs.y_test)
        assert train.max() > 10 * train.min()
        assert test.max() < 2 * test.min()

    def test_label_smoothing_trains_on_one_hot_targets(self):
        """A task with label smoothing gets one-hot targets; the others the labels."""
        smoothed = TASKS_BY_NAME["depthwise_lion_ls_blobs"]
        labels = np.array([0, 2])
        np.testing.assert_array_equal(smoothed.targets(labels, 3), [[1, 0, 0], [0, 0, 1]])
        assert TASKS_BY_NAME["mlp_adam_digits"].targets(labels, 3) is labels


class TestCandidateRules:
    """The building blocks of `benchmarks.choose_default` on hand-made curves."""

    @staticmethod
    def _curve(losses):
        learning_rates = np.geomspace(1e-5, 1.0, len(losses))
        return types.SimpleNamespace(
            learning_rates=learning_rates, losses=np.asarray(losses), num_steps=len(losses)
        )

    def test_fastai_trimming_and_bias_corrected_smoothing(self):
        """30 points: the first 3 (30 // 10) and last 5 go; a constant loss stays constant."""
        from benchmarks import choose_default

        curve = self._curve(np.full(30, 2.0))
        learning_rates, smoothed, raw = choose_default.smoothed_curve(curve)
        np.testing.assert_allclose(learning_rates, curve.learning_rates[3:25])
        np.testing.assert_allclose(smoothed, 2.0)
        np.testing.assert_allclose(raw, 2.0)

    def test_the_curve_is_cut_before_its_first_nan(self):
        """A NaN at index 20 of 30 leaves indices 3 to 14 (20 - 5 at the end)."""
        from benchmarks import choose_default

        losses = np.full(30, 2.0)
        losses[20] = np.nan
        learning_rates, _, _ = choose_default.smoothed_curve(self._curve(losses))
        np.testing.assert_allclose(learning_rates, np.geomspace(1e-5, 1.0, 30)[3:15])

    def test_a_flat_curve_falls_back_to_the_minimum_not_its_start(self):
        """A flat curve drops nothing: the fallback answers `min/k`; on a constant curve the
        lowest smoothed point is the first kept one (index 3), so lr[3] / 10."""
        from benchmarks import choose_default

        curve = self._curve(np.full(30, 2.0))
        assert choose_default.readability(curve) == (0.0, math.inf)
        rule = choose_default.with_fallback(lambda result: 123.0, 0.05, math.inf, 10)
        assert rule(curve) == pytest.approx(curve.learning_rates[3] / 10)

    def test_a_falling_curve_keeps_the_rule(self):
        """Losses falling from 2 to 0.5 drop far more than 5%: the rule answers; its
        minimum is the last kept point (index 24)."""
        from benchmarks import choose_default

        curve = self._curve(np.linspace(2.0, 0.5, 30))
        drop, _ = choose_default.readability(curve)
        assert drop > 0.05
        rule = choose_default.with_fallback(lambda result: 123.0, 0.05, math.inf, 10)
        assert rule(curve) == 123.0
        assert choose_default.min_over(2)(curve) == pytest.approx(curve.learning_rates[24] / 2)


class TestRangeTestLength:
    def test_designs_cap_the_range_test(self):
        """A quarter / an eighth of the training, at least 32 steps, at most the default."""
        assert range_test_length.range_test_steps("default", 400, 100) is None
        assert range_test_length.range_test_steps("quarter", 400, 150) == 100
        assert range_test_length.range_test_steps("quarter", 400, 80) == 80
        assert range_test_length.range_test_steps("eighth", 100, 100) == 32
        assert range_test_length.range_test_steps("eighth", 1000, 200) == 125

    @staticmethod
    def _summary(mean, worst):
        return {"regrets": {"a": mean}, "mean": mean, "worst": worst, "search_cost": 0.5}

    def test_rule_takes_the_shortest_design_within_the_tolerances(self):
        """Default 1.0 / 3.0: quarter (1.4 / 4.9) is within 0.5 / 2, eighth (1.6) is not."""
        summary = {
            "default": self._summary(1.0, 3.0),
            "quarter": self._summary(1.4, 4.9),
            "eighth": self._summary(1.6, 3.0),
        }
        assert range_test_length.choose(summary) == "quarter"
        summary["quarter"] = self._summary(1.4, 5.1)
        assert range_test_length.choose(summary) == "default"


class TestRangeTestVariants:
    def test_repeated_is_the_mean_over_the_steps_both_recorded(self):
        """Curves of 5 and 4 steps: the mean of the first 4 losses; the shorter one stopped
        on divergence, so the mean curve did too."""
        from keras_lrfind import LRFinderResult

        def curve(losses, stop_reason):
            count = len(losses)
            return LRFinderResult(
                learning_rates=np.logspace(-3, 1, 5)[:count],
                losses=losses,
                smoothed_losses=losses,
                stop_reason=stop_reason,
                start_lr=1e-3,
                end_lr=10.0,
                num_steps=5,
            )

        mean = range_test_variants._repeated(
            [curve([2.0, 1.0, 0.5, 1.0, 3.0], "completed"), curve([4.0, 3.0, 1.5, 9.0], "diverged")]
        )
        np.testing.assert_allclose(mean.losses, [3.0, 2.0, 1.0, 5.0])
        np.testing.assert_allclose(mean.learning_rates, np.logspace(-3, 1, 5)[:4])
        assert mean.stop_reason == "diverged"
        # fastai's bias-corrected moving average of the mean losses: the first is exact.
        assert mean.smoothed_losses[0] == pytest.approx(3.0)
        assert mean.smoothed_losses[1] == pytest.approx(
            (0.98 * 0.02 * 3 + 0.02 * 2) / (1 - 0.98**2)
        )


def test_bootstrap_interval_bounds():
    """Constant values give a point interval; any interval lies within the values' range
    and holds the mean of a symmetric sample at its centre."""
    from benchmarks.scoring import bootstrap_interval

    assert bootstrap_interval([2.0] * 5, np.mean) == (2.0, 2.0)
    values = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    low, high = bootstrap_interval(values, np.max)
    assert 0.0 <= low <= high == 10.0
    low, high = bootstrap_interval([-1.0, 1.0] * 10, np.mean)
    assert low < 0.0 < high and low == pytest.approx(-high, abs=0.05)


def test_the_readme_quotes_the_committed_headline():
    """The README's headline table is the one `benchmarks/results/quality.md` holds, row for
    row: a rescore that moves a number fails here until the README says so too."""
    root = Path(__file__).resolve().parents[1]
    report = (root / "benchmarks" / "results" / "quality.md").read_text().splitlines()
    start = report.index("## Headline: regret in accuracy points (lower is better)") + 2
    table = report[start : report.index("", start)]
    assert len(table) > 3 and all(line.startswith("|") for line in table)
    readme = (root / "README.md").read_text().splitlines()
    first = readme.index(table[0])
    assert readme[first : first + len(table)] == table
