"""Tests for `keras_lrfind.suggestions`.

Expected values are worked out by hand from fastai 2.8's definitions (see
CONTRIBUTING.md, "Reference behaviour of fastai's suggestion methods"); each test's
comment shows the working.
Answers are given as indices into the learning rates, so the tests do not
depend on how a learning rate prints.
"""

import doctest
import functools
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from keras_lrfind import LRFinderResult, LRFinderWarning, suggestions
from keras_lrfind.suggestions import (
    FASTAI_METHODS,
    METHODS,
    MIN_POINTS,
    _curve_checks,
    _fastai,
    _methods,
    _smoothing,
    check_curve,
    divergence_point,
    minimum,
    one_cycle,
    slide,
    steep,
    trim,
    valley,
)

NAN = float("nan")
INF = float("inf")


def _lrs(count):
    """Learning rates 1e-6 * 2**k: exact in float32, equally spaced in log."""
    return 1e-6 * 2.0 ** np.arange(count)


# ----------------------------------------------------------------------------
# Hypothesis strategies.


@st.composite
def _learning_rates(draw, count):
    """Strictly increasing, unevenly spaced learning rates over 0.5 to 25 nats."""
    start = 10.0 ** draw(st.floats(-9.0, 0.0))
    span = draw(st.floats(0.5, 25.0))
    weights = draw(hnp.arrays(np.float64, count - 1, elements=st.floats(0.05, 1.0)))
    offsets = np.concatenate([[0.0], np.cumsum(weights)]) / max(weights.sum(), 1.0)
    return start * np.exp(span * offsets)


@st.composite
def _curves(draw, min_size=2, max_size=300):
    """Finite curves: losses of scale 1e-6 to 1e6, either sign, with some ties."""
    count = draw(st.integers(min_size, max_size))
    elements = st.one_of(
        st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False),
        st.integers(-3, 3).map(float),
    )
    scale = 10.0 ** draw(st.integers(-6, 6))
    offset = draw(st.sampled_from([0.0, 1.0, -5.0, 100.0]))
    losses = draw(hnp.arrays(np.float64, count, elements=elements)) * scale + offset * scale
    return draw(_learning_rates(count)), losses


def _reference_valley(learning_rates, losses):
    """fastai's `valley`, written from CONTRIBUTING.md line by line (quadratic loops)."""
    losses = np.asarray(losses, dtype=np.float32)
    count = len(losses)
    lds = [1] * count
    s = e = 0
    for i in range(1, count):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[e] < lds[i]:
                e = i
                s = e - lds[e]
    sec = (e - s) / 3
    return float(learning_rates[s + int(sec) + int(sec / 2)])


# ----------------------------------------------------------------------------


class TestValley:
    def test_descent_then_divergence(self):
        """A clean descent gives the point a third of the way down the valley."""
        losses = [5.0, 4.9, 4.5, 4.0, 3.0, 2.0, 1.5, 1.4, 3.0, 8.0]
        # lds = [1, 2, 3, 4, 5, 6, 7, 8, 5, 1]: e = 7, s = 7 - 8 = -1,
        # sec = 8 / 3 = 2.67, index = -1 + 2 + int(1.33) = 2.
        lrs = _lrs(10)
        assert valley(lrs, losses) == lrs[2]

    def test_non_contiguous_valley_with_ties(self):
        """The valley skips bumps, and equal losses do not extend it."""
        losses = [3.0, 3.2, 2.8, 2.9, 2.5, 2.5, 2.0, 2.1, 1.5, 1.0, 4.0, 9.0]
        # lds = [1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 1, 1] (the second 2.5 does not
        # beat the first one); the longest ends at e = 9 with length 6,
        # s = 9 - 6 = 3, sec = 2, index = 3 + 2 + 1 = 6.
        lrs = _lrs(12)
        assert valley(lrs, losses) == lrs[6]

    def test_monotone_decreasing(self):
        """A curve that only falls gives index 2 of 8."""
        losses = [8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
        # e = 7, lds[7] = 8, s = -1, sec = 8 / 3 = 2.67, index = -1 + 2 + 1 = 2.
        lrs = _lrs(8)
        assert valley(lrs, losses) == lrs[2]

    def test_monotone_increasing(self):
        """A curve that only rises gives the first learning rate."""
        # No decrease: e and s keep their initial 0, index = 0.
        lrs = _lrs(8)
        assert valley(lrs, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]) == lrs[0]

    def test_plateau_keeps_initial_start(self):
        """fastai sets `s` only when a longer valley appears: a flat curve gives lr[0]."""
        # All lds are 1, so `lds[e] < lds[i]` never holds and s stays 0:
        # index = 0. Computing s = e - lds[e] = -1 after the loop instead would
        # give index -1, the last learning rate.
        lrs = _lrs(8)
        result = valley(lrs, [2.0] * 8)
        assert result == lrs[0]
        assert result != lrs[-1]

    def test_first_two_points_wrap_to_last(self):
        """A longest valley of the first two points gives index -1: the last lr."""
        losses = [2.0, 1.0, 3.0, 4.0, 5.0, 6.0]
        # i = 1: lds[1] = 2 > lds[0], so e = 1 and s = 1 - 2 = -1; nothing later
        # is longer. sec = 2 / 3, index = -1 + 0 + 0 = -1, i.e. lrs[5].
        lrs = _lrs(6)
        assert valley(lrs, losses) == lrs[5]

    def test_negative_losses(self):
        """Negative losses are compared like any others."""
        losses = [-1.0, -2.0, -3.0, -2.5, -4.0, 0.0]
        # lds = [1, 2, 3, 3, 4, 1]: e = 4, s = 0, sec = 4 / 3, index = 0 + 1 + 0 = 1.
        lrs = _lrs(6)
        assert valley(lrs, losses) == lrs[1]

    def test_nan_tail_is_cut(self):
        """The curve is cut at the first NaN; later points are ignored."""
        losses = [5.0, 4.0, 3.0, 2.0, 1.0, NAN, 0.5, 0.1]
        # Cut to [5, 4, 3, 2, 1]: e = 4, s = -1, sec = 5 / 3, index = -1 + 1 + 0 = 0.
        # (Going on past the NaN would give e = 7, s = 0, index 3.)
        lrs = _lrs(8)
        assert valley(lrs, losses) == lrs[0]

    def test_infinite_loss_is_cut(self):
        """An infinite loss cuts the curve like a NaN."""
        lrs = _lrs(8)
        assert valley(lrs, [5.0, 4.0, 3.0, 2.0, 1.0, INF, 0.5, 0.1]) == lrs[0]

    def test_losses_compared_in_float32(self):
        """Losses that differ only beyond float32 precision are ties, as in fastai."""
        losses = [1.0 - 1e-10 * k for k in range(8)]
        # All round to 1.0f: a plateau, index 0 (in float64 it would be index 2).
        lrs = _lrs(8)
        assert valley(lrs, losses) == lrs[0]

    def test_two_points(self):
        """Two falling points give the last learning rate (index -1)."""
        lrs = _lrs(2)
        assert valley(lrs, [2.0, 1.0]) == lrs[1]

    def test_one_point_raises(self):
        """Fewer than two points is an error."""
        with pytest.raises(
            ValueError, match=re.escape("`valley` needs at least 2 points; received 1.")
        ):
            valley([0.1], [1.0])

    def test_cut_leaves_too_few_points(self):
        """A NaN at index 1 leaves one point: the error says where the cut was."""
        message = (
            "`valley` needs at least 2 points; received 4, only 1 before the first "
            "non-finite loss, losses[1]=nan."
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            valley(_lrs(4), [1.0, NAN, 2.0, 3.0])

    def test_float32_overflow_counts_as_non_finite(self):
        """A loss beyond the float32 range cuts the curve, and the error says why."""
        message = (
            "`valley` needs at least 2 points; received 3, only 0 before the first "
            "non-finite loss, losses[0]=1e+300 (beyond the float32 range)."
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            valley(_lrs(3), [1e300, 1.0, 0.5])

    @settings(max_examples=60, deadline=None)
    @given(_curves(max_size=60))
    def test_matches_reference_loops(self, curve):
        """The vectorised valley equals fastai's quadratic loops on random curves."""
        learning_rates, losses = curve
        assert valley(learning_rates, losses) == _reference_valley(learning_rates, losses)

    @settings(max_examples=40, deadline=None)
    @given(_curves(max_size=60))
    def test_start_quirk_never_changes_the_valley(self, curve):
        """Taking `s` at the moment i first becomes longest equals taking it at the end."""
        # lds[i] <= max(lds[:i]) + 1 = lds[e] + 1, so when lds[i] first exceeds
        # lds[e] it already has its final value: s = e - lds[e] either way,
        # except when no valley is found (s stays 0, see the plateau test).
        learning_rates, losses = curve
        losses32 = np.asarray(losses, dtype=np.float32)
        count = len(losses32)
        lds = [1] * count
        for i in range(1, count):
            lds[i] = 1 + max([lds[j] for j in range(i) if losses32[j] > losses32[i]], default=0)
        end = int(np.argmax(lds))
        start = end - lds[end] if end else 0
        sec = (end - start) / 3
        expected = learning_rates[start + int(sec) + int(sec / 2)]
        assert valley(learning_rates, losses) == expected


class TestSlide:
    def test_stops_at_first_flat_window(self):
        """The answer is the left end of the last window still too steep."""
        losses = [5.0, 4.0, 3.0, 2.0, 1.5, 3.0]
        # g = [-1, -1, -1, -0.75, 0.5, 1.5]; lr_diff = 2, thresh = 0.5:
        # (r, l) = (5, 3): 2.25 > 0.5, candidate 3; (4, 2): 1.5, candidate 2;
        # (3, 1): 0.25 <= 0.5, stop. Answer lrs[2].
        lrs = _lrs(6)
        assert slide(lrs, losses, lr_diff=2, thresh=0.5) == lrs[2]

    def test_zero_threshold_walks_further(self):
        """With `thresh=0` only identical gradients stop the slide."""
        # Same gradients: (3, 1): 0.25 > 0, candidate 1; (2, 0): 0, stop.
        lrs = _lrs(6)
        assert slide(lrs, [5.0, 4.0, 3.0, 2.0, 1.5, 3.0], lr_diff=2, thresh=0.0) == lrs[1]

    def test_linear_decrease_stops_at_once(self):
        """A straight descent has equal gradients: the first window is the answer."""
        losses = [20.0 - k for k in range(20)]
        # g = -1 everywhere, so the loop never runs: lrs[-1 - 15] = lrs[4].
        lrs = _lrs(20)
        assert slide(lrs, losses) == lrs[4]

    def test_plateau(self):
        """A flat curve has zero gradients: the first window is the answer."""
        lrs = _lrs(20)
        assert slide(lrs, [3.0] * 20) == lrs[4]

    def test_convex_increase_walks_to_start(self):
        """A curve whose gradient keeps changing slides all the way to lr[0]."""
        losses = [float(k * k) for k in range(20)]
        # g = [1, 2, 4, ..., 36, 37]: |g[r] - g[r - 15]| >= 29 for every window,
        # so the candidate walks from index 4 down to 0 and l falls below -20.
        lrs = _lrs(20)
        assert slide(lrs, losses) == lrs[0]

    def test_threshold_is_absolute(self):
        """The same curve times 100 gives another answer: thresh ignores the scale."""
        losses = [1.0, 0.99, 0.98, 0.97, 0.965, 0.98]
        # g = [-0.01, -0.01, -0.01, -0.0075, 0.005, 0.015], lr_diff = 2:
        # (5, 3): 0.0225 > 0.005; (4, 2): 0.015 > 0.005; (3, 1): 0.0025, stop: lrs[2].
        # Times 100: (3, 1): 0.25 > 0.005 goes on; (2, 0): 0, stop: lrs[1].
        lrs = _lrs(6)
        assert slide(lrs, losses, lr_diff=2) == lrs[2]
        assert slide(lrs, [100.0 * x for x in losses], lr_diff=2) == lrs[1]

    def test_window_as_wide_as_curve(self):
        """With `lr_diff = n - 1` the only window starts at lr[0]."""
        lrs = _lrs(6)
        assert slide(lrs, [5.0, 1.0, 4.0, 2.0, 3.0, 9.0], lr_diff=5) == lrs[0]

    def test_window_wider_than_curve_raises(self):
        """`lr_diff >= n` is an error (fastai raises an IndexError)."""
        message = "`slide` with lr_diff=6 needs at least 7 points; received 6."
        with pytest.raises(ValueError, match=re.escape(message)):
            slide(_lrs(6), [1.0] * 6, lr_diff=6)

    def test_default_needs_sixteen_points(self):
        """With the default `lr_diff=15`, 15 points are too few."""
        message = "`slide` with lr_diff=15 needs at least 16 points; received 15."
        with pytest.raises(ValueError, match=re.escape(message)):
            slide(_lrs(15), [1.0] * 15)

    def test_adjust_value_scales_answer(self):
        """`adjust_value` multiplies the chosen learning rate."""
        lrs = _lrs(6)
        result = slide(lrs, [5.0, 4.0, 3.0, 2.0, 1.5, 3.0], lr_diff=2, thresh=0.5, adjust_value=0.5)
        assert result == lrs[2] * 0.5

    def test_nan_tail_is_cut(self):
        """The curve is cut at the first NaN before the window is placed."""
        losses = [20.0 - k for k in range(18)] + [NAN, 50.0]
        # 18 linear points remain: the first window's left end is lrs[18 - 16] = lrs[2].
        lrs = _lrs(20)
        assert slide(lrs, losses) == lrs[2]

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            (
                {"lr_diff": 1.5},
                TypeError,
                "`lr_diff` must be a positive integer. Received: lr_diff=1.5 of type float.",
            ),
            (
                {"lr_diff": True},
                TypeError,
                "`lr_diff` must be a positive integer. Received: lr_diff=True of type bool.",
            ),
            (
                {"lr_diff": 0},
                ValueError,
                "`lr_diff` must be a positive integer. Received: lr_diff=0.",
            ),
            (
                {"thresh": "0.1"},
                TypeError,
                "`thresh` must be a Python number. Received: thresh='0.1' of type str.",
            ),
            (
                {"thresh": -0.1},
                ValueError,
                "`thresh` must be a non-negative finite number. Received: thresh=-0.1.",
            ),
            (
                {"thresh": math.inf},
                ValueError,
                "`thresh` must be a non-negative finite number. Received: thresh=inf.",
            ),
            (
                {"adjust_value": 0.0},
                ValueError,
                "`adjust_value` must be a positive finite number. Received: adjust_value=0.0.",
            ),
            (
                {"adjust_value": None},
                TypeError,
                "`adjust_value` must be a Python number. Received: adjust_value=None of type "
                "NoneType.",
            ),
        ],
    )
    def test_invalid_arguments(self, kwargs, error, message):
        """Bad `lr_diff`, `thresh` or `adjust_value` raise with the value echoed."""
        with pytest.raises(error, match=re.escape(message)):
            slide(_lrs(20), [1.0] * 20, **kwargs)


class TestMinimum:
    def test_tenth_of_lowest_loss(self):
        """The answer is the learning rate at the lowest loss divided by 10."""
        lrs = _lrs(5)
        assert minimum(lrs, [3.0, 2.0, 1.0, 2.0, 5.0]) == lrs[2] / 10

    def test_ties_take_first(self):
        """Equal lowest losses pick the first."""
        lrs = _lrs(5)
        assert minimum(lrs, [3.0, 1.0, 2.0, 1.0, 4.0]) == lrs[1] / 10

    def test_monotone_curves(self):
        """Falling curves pick the last point, rising and flat ones the first."""
        lrs = _lrs(5)
        assert minimum(lrs, [5.0, 4.0, 3.0, 2.0, 1.0]) == lrs[4] / 10
        assert minimum(lrs, [1.0, 2.0, 3.0, 4.0, 5.0]) == lrs[0] / 10
        assert minimum(lrs, [2.0] * 5) == lrs[0] / 10

    def test_negative_losses(self):
        """The lowest negative loss wins."""
        lrs = _lrs(3)
        assert minimum(lrs, [-1.0, -3.0, -2.0]) == lrs[1] / 10

    def test_nan_tail_is_cut(self):
        """A lower loss after a NaN is ignored."""
        # Cut to [3, 2]: argmin 1 (not 3, where 0.5 lies after the NaN).
        lrs = _lrs(4)
        assert minimum(lrs, [3.0, 2.0, NAN, 0.5]) == lrs[1] / 10

    def test_losses_compared_in_float32(self):
        """Losses equal in float32 are ties, so the first wins."""
        lrs = _lrs(2)
        assert minimum(lrs, [1.0, 1.0 - 1e-10]) == lrs[0] / 10

    def test_one_point(self):
        """One point is enough."""
        assert minimum([0.5], [1.0]) == 0.05

    def test_no_point_raises(self):
        """An empty curve is an error."""
        with pytest.raises(
            ValueError, match=re.escape("`minimum` needs at least 1 point; received 0.")
        ):
            minimum([], [])


class TestSteep:
    def test_steepest_segment_left_point(self):
        """The answer is the left point of the most negative slope."""
        # Equal log spacing; differences -1, -2, -0.5, 1.5: segment 1, lrs[1].
        lrs = _lrs(5)
        assert steep(lrs, [5.0, 4.0, 2.0, 1.5, 3.0]) == lrs[1]

    def test_slope_is_taken_in_log_learning_rate(self):
        """Uneven spacing: the slope divides by the log-lr step, not the index step."""
        lrs = [1e-3, 1e-2, 2e-2, 1e-1]
        # Slopes: -1 / ln 10 = -0.43, -0.5 / ln 2 = -0.72, -0.5 / ln 5 = -0.31:
        # segment 1 (per index, segment 0 with -1 would win).
        assert steep(lrs, [3.0, 2.0, 1.5, 1.0]) == 1e-2

    def test_monotone_decreasing(self):
        """A falling curve picks its steepest step."""
        # Differences -1, -2, -1, -0.5: segment 1.
        lrs = _lrs(5)
        assert steep(lrs, [10.0, 9.0, 7.0, 6.0, 5.5]) == lrs[1]

    def test_monotone_increasing(self):
        """A rising curve picks the gentlest rise."""
        # Differences 1, 2, 4: segment 0.
        lrs = _lrs(4)
        assert steep(lrs, [1.0, 2.0, 4.0, 8.0]) == lrs[0]

    def test_plateau_ties_take_first(self):
        """All-zero slopes tie, and the first wins."""
        lrs = _lrs(6)
        assert steep(lrs, [2.0] * 6) == lrs[0]

    def test_nan_tail_is_cut(self):
        """A steep drop after a NaN is ignored."""
        # Cut to [5, 4, 2]: differences -1, -2: segment 1 (not the drop to -100).
        lrs = _lrs(5)
        assert steep(lrs, [5.0, 4.0, 2.0, NAN, -100.0]) == lrs[1]

    def test_two_points(self):
        """Two points give the first learning rate, never the last."""
        lrs = _lrs(2)
        assert steep(lrs, [2.0, 1.0]) == lrs[0]

    def test_one_point_raises(self):
        """One point has no segment."""
        with pytest.raises(
            ValueError, match=re.escape("`steep` needs at least 2 points; received 1.")
        ):
            steep([0.1], [1.0])


class TestTrim:
    def test_fastai_defaults(self):
        """`num_it=20`: skip 2 at the start and 5 at the end."""
        lrs = _lrs(20)
        losses = np.arange(20.0)
        trimmed_lrs, trimmed_losses = trim(lrs, losses, skip_start=20 // 10, skip_end=5)
        np.testing.assert_array_equal(trimmed_lrs, lrs[2:15])
        np.testing.assert_array_equal(trimmed_losses, losses[2:15])

    def test_skip_end_zero_keeps_last_point(self):
        """`skip_end=0` keeps everything (unlike fastai's `[a:-0]`)."""
        lrs, losses = trim(_lrs(4), [1.0, 2.0, 3.0, 4.0], skip_start=0, skip_end=0)
        assert losses.tolist() == [1.0, 2.0, 3.0, 4.0]
        assert lrs.tolist() == _lrs(4).tolist()

    def test_cut_at_first_nan_after_skipping(self):
        """A NaN in the skipped start is ignored; one in the kept part cuts there."""
        losses = [NAN, 1.0, 2.0, NAN, 4.0, 5.0]
        lrs, trimmed = trim(_lrs(6), losses, skip_start=1, skip_end=1)
        assert trimmed.tolist() == [1.0, 2.0]
        assert lrs.tolist() == _lrs(6)[1:3].tolist()

    def test_cut_at_infinity(self):
        """Positive and negative infinity cut the curve too."""
        _, trimmed = trim(_lrs(5), [1.0, 2.0, -INF, 4.0, 5.0], skip_start=0, skip_end=0)
        assert trimmed.tolist() == [1.0, 2.0]

    def test_skips_larger_than_curve_give_empty_arrays(self):
        """Skipping everything returns empty float64 arrays."""
        lrs, losses = trim(_lrs(5), [1.0] * 5, skip_start=3, skip_end=3)
        assert lrs.shape == losses.shape == (0,)
        assert lrs.dtype == losses.dtype == np.float64

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            (
                {"skip_start": 1.0, "skip_end": 0},
                TypeError,
                "`skip_start` must be a non-negative integer. "
                "Received: skip_start=1.0 of type float.",
            ),
            (
                {"skip_start": 0, "skip_end": True},
                TypeError,
                "`skip_end` must be a non-negative integer. Received: skip_end=True of type bool.",
            ),
            (
                {"skip_start": -1, "skip_end": 0},
                ValueError,
                "`skip_start` must be non-negative. Received: skip_start=-1.",
            ),
        ],
    )
    def test_invalid_skips(self, kwargs, error, message):
        """Non-integer or negative skips raise with the value echoed."""
        with pytest.raises(error, match=re.escape(message)):
            trim(_lrs(5), [1.0] * 5, **kwargs)

    def test_validates_curve(self):
        """The curve is validated like the methods' input."""
        with pytest.raises(ValueError, match="`learning_rates` must be strictly increasing"):
            trim([0.1, 0.1], [1.0, 2.0], skip_start=0, skip_end=0)


_ALL_METHODS = pytest.mark.parametrize(
    "method",
    [one_cycle, valley, functools.partial(slide, lr_diff=1), minimum, steep],
    ids=["one_cycle", "valley", "slide", "minimum", "steep"],
)


class TestValidation:
    @_ALL_METHODS
    def test_mismatched_lengths(self, method):
        """Arrays of different lengths are rejected with both lengths."""
        message = (
            "`learning_rates` and `losses` must have the same length. "
            "Received: len(learning_rates)=3, len(losses)=2."
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            method([0.1, 0.2, 0.3], [1.0, 2.0])

    @_ALL_METHODS
    def test_not_one_dimensional(self, method):
        """A 2-D array is rejected with its shape."""
        message = "`losses` must be 1-D. Received: an array of shape (2, 2)."
        with pytest.raises(ValueError, match=re.escape(message)):
            method([0.1, 0.2], [[1.0, 2.0], [3.0, 4.0]])

    @_ALL_METHODS
    @pytest.mark.parametrize(
        ("learning_rates", "message"),
        [
            (
                [0.0, 0.1, 1.0],
                "`learning_rates` must be positive. Received: learning_rates[0]=0.0.",
            ),
            (
                [-0.1, 0.1, 1.0],
                "`learning_rates` must be positive. Received: learning_rates[0]=-0.1.",
            ),
            ([0.01, 0.1, INF], "`learning_rates` must be finite. Received: learning_rates[2]=inf."),
            ([0.01, NAN, 1.0], "`learning_rates` must be finite. Received: learning_rates[1]=nan."),
            (
                [0.01, 0.1, 0.1],
                "`learning_rates` must be strictly increasing. "
                "Received: learning_rates[1]=0.1 followed by learning_rates[2]=0.1.",
            ),
            (
                [0.1, 0.01, 1.0],
                "`learning_rates` must be strictly increasing. "
                "Received: learning_rates[0]=0.1 followed by learning_rates[1]=0.01.",
            ),
        ],
    )
    def test_bad_learning_rates(self, method, learning_rates, message):
        """Non-positive, non-finite or non-increasing learning rates are rejected."""
        with pytest.raises(ValueError, match=re.escape(message)):
            method(learning_rates, [3.0, 2.0, 1.0])

    @_ALL_METHODS
    def test_non_numeric_losses(self, method):
        """Losses that are not numbers raise a TypeError."""
        with pytest.raises(
            TypeError, match=re.escape("`losses` must be a 1-D array-like of real numbers.")
        ):
            method([0.1, 0.2], ["a", "b"])

    @pytest.mark.parametrize("name", ["one_cycle", "valley", "slide", "minimum", "steep"])
    def test_min_points_is_exact(self, name):
        """Each method accepts `MIN_POINTS[name]` points and rejects one fewer."""
        count = MIN_POINTS[name]
        assert math.isfinite(METHODS[name](_lrs(count), np.linspace(2.0, 1.0, count)))
        fewer = count - 1
        points = "point" if count == 1 else "points"
        detail = " with lr_diff=15" if name == "slide" else ""
        message = f"`{name}`{detail} needs at least {count} {points}; received {fewer}."
        with pytest.raises(ValueError, match=re.escape(message)):
            METHODS[name](_lrs(fewer), np.ones(fewer))


class TestModule:
    def test_methods(self):
        """`FASTAI_METHODS` maps fastai's four names; `METHODS` adds ours, first."""
        assert FASTAI_METHODS == {
            "valley": valley,
            "slide": slide,
            "minimum": minimum,
            "steep": steep,
        }
        assert list(METHODS) == ["one_cycle", "valley", "slide", "minimum", "steep"]
        assert METHODS["one_cycle"] is one_cycle
        assert suggestions.DEFAULT_METHOD == "one_cycle"
        assert suggestions.RAW_LOSS_METHODS == {"one_cycle"}

    def test_min_points_names(self):
        """`MIN_POINTS` covers exactly the methods in `METHODS`."""
        assert set(MIN_POINTS) == set(METHODS)

    @pytest.mark.parametrize("module", [_methods, _fastai, _smoothing, _curve_checks])
    def test_docstring_examples(self, module):
        """The examples in the docstrings run and print what they show."""
        result = doctest.testmod(module)
        assert result.attempted > 0
        assert result.failed == 0

    def test_returns_python_float(self):
        """Every method returns a built-in float, not a NumPy scalar (ours included)."""
        lrs = _lrs(20)
        losses = np.linspace(3.0, 1.0, 20)
        for method in METHODS.values():
            assert type(method(lrs, losses)) is float


def _bounds(name, learning_rates):
    """Documented range of each method's answer (slide with adjust_value=1)."""
    low, high = learning_rates[0], learning_rates[-1]
    if name == "minimum":
        return low / 10, high / 10
    if name == "steep":
        return low, learning_rates[-2]
    return low, high


class TestProperties:
    @settings(max_examples=40, deadline=None)
    @given(_curves())
    def test_finite_curves_give_swept_learning_rates(self, curve):
        """On any finite curve every method returns a swept lr (or a tenth of one)."""
        learning_rates, losses = curve
        count = len(losses)
        for name, method in FASTAI_METHODS.items():
            if name == "slide":
                lr_diff = min(15, count - 1)
                result = slide(learning_rates, losses, lr_diff=lr_diff)
                assert learning_rates[0] <= result <= learning_rates[-1 - lr_diff]
            else:
                result = method(learning_rates, losses)
                low, high = _bounds(name, learning_rates)
                assert low <= result <= high
            assert math.isfinite(result)
            assert learning_rates[0] / 10 <= result <= learning_rates[-1]
            swept = learning_rates / 10 if name == "minimum" else learning_rates
            assert result in swept

    @settings(max_examples=40, deadline=None)
    @given(_curves(max_size=80), st.data())
    def test_non_finite_losses_cut_the_curve(self, curve, data):
        """With NaN or inf inside, each method answers as on the finite prefix, or raises;
        for `one_cycle`, a prefix whose sweep stopped on divergence (`diverged=True`)."""
        learning_rates, losses = curve
        count = len(losses)
        position = data.draw(st.integers(0, count - 1))
        losses = losses.copy()
        losses[position] = data.draw(st.sampled_from([NAN, INF, -INF]))
        for name, method in METHODS.items():
            method = functools.partial(slide, lr_diff=1) if name == "slide" else method
            needed = 2 if name == "slide" else MIN_POINTS[name]
            if position < needed:
                with pytest.raises(ValueError, match="before the first non-finite loss"):
                    method(learning_rates, losses)
                continue
            result = method(learning_rates, losses)
            prefix = (learning_rates[:position], losses[:position])
            if name == "one_cycle":
                expected = method(*prefix, diverged=True)
            else:
                expected = method(*prefix)
            assert result == expected
            assert learning_rates[0] / 10 <= result <= learning_rates[position - 1]


def _dip(depth, learning_rates=None, centre=-2.0, width=0.3):
    """A loss of 1 with a Gaussian dip of `depth` at lr = 10**centre (log-symmetric)."""
    if learning_rates is None:
        learning_rates = np.logspace(-4, 0, 81)  # 20 per decade, symmetric around 1e-2.
    x = np.log10(learning_rates)
    return learning_rates, 1.0 - depth * np.exp(-(((x - centre) / width) ** 2))


class TestOneCycle:
    @pytest.mark.parametrize(
        ("depth", "divisor"), [(0.9, 2.0), (0.5, 2.0), (0.05, 5.0), (0.01, 5.0)]
    )
    def test_symmetric_valley(self, depth, divisor):
        """A symmetric valley at 1e-2 gives 1e-2 / clip(0.5 / depth, 2, 5)."""
        learning_rates, losses = _dip(depth)
        assert one_cycle(learning_rates, losses) == pytest.approx(1e-2 / divisor, rel=1e-9)

    @pytest.mark.parametrize(("depth", "divisor"), [(0.2, 2.5), (0.125, 4.0), (0.11, 4.545)])
    def test_margin_between_the_clips(self, depth, divisor):
        """Between the clips the margin is 0.5 / depth (a wide valley, barely smoothed)."""
        learning_rates, losses = _dip(depth, np.logspace(-5, 1, 121), width=0.8)
        # Smoothing shaves about 3% off the depth of a valley this wide.
        assert one_cycle(learning_rates, losses) == pytest.approx(1e-2 / divisor, rel=0.05)

    def test_scale_free(self):
        """Multiplying the loss by any positive constant leaves the answer unchanged."""
        learning_rates, losses = _dip(0.3, centre=-1.7)
        expected = one_cycle(learning_rates, losses)
        for factor in (1e-4, 0.37, 100.0, 1e5):
            assert one_cycle(learning_rates, losses * factor) == pytest.approx(expected)

    def test_ignores_a_second_dip_in_the_divergent_tail(self):
        """A deeper dip after the loss climbed back does not move the suggestion."""
        learning_rates, losses = _dip(0.6)
        x = np.log10(learning_rates)
        tail = np.where(x > -1.0, 1.5 - 1.2 * np.exp(-(((x + 0.4) / 0.1) ** 2)), losses)
        assert tail.min() < losses.min()  # The same curve, with a deeper dip later.
        assert one_cycle(learning_rates, tail) == pytest.approx(one_cycle(learning_rates, losses))

    def test_centre_of_a_flat_valley(self):
        """On a flat-bottomed valley the answer is its centre, not an edge (over the margin
        of a deep valley, 2)."""
        learning_rates = np.logspace(-4, 0, 81)
        x = np.log10(learning_rates)
        losses = np.where(np.abs(x + 2) <= 0.5, 0.2, 1.0)  # Floor from 10**-2.5 to 10**-1.5.
        losses = losses + 1e-9 * (x + 2) ** 2  # Ties broken towards the centre.
        assert one_cycle(learning_rates, losses) == pytest.approx(1e-2 / 2, rel=0.05)

    def test_noise_spikes_are_ignored(self):
        """Single-batch spikes (the median filter) barely move the answer."""
        learning_rates, losses = _dip(0.6)
        spiky = losses.copy()
        spiky[::7] += 5.0
        assert one_cycle(learning_rates, spiky) == pytest.approx(
            one_cycle(learning_rates, losses), rel=0.1
        )

    def test_nan_tail_is_cut(self):
        """A NaN tail gives the answer of the finite part."""
        learning_rates, losses = _dip(0.6)
        with_nan = losses.copy()
        with_nan[70:] = NAN
        assert one_cycle(learning_rates, with_nan) == one_cycle(learning_rates[:70], losses[:70])

    def test_never_below_the_first_learning_rate(self):
        """A curve falling from the very first point cannot suggest below the sweep."""
        learning_rates = np.logspace(-3, 0, 40)
        losses = np.linspace(0.5, 2.0, 40)  # Rising: the bottom is the first point.
        assert one_cycle(learning_rates, losses) == learning_rates[0]

    @settings(max_examples=30, deadline=None)
    @given(_curves(min_size=5, max_size=300))
    def test_bounds_on_random_curves(self, curve):
        """On any finite curve the answer is finite and inside the swept range."""
        learning_rates, losses = curve
        result = one_cycle(learning_rates, losses)
        assert math.isfinite(result)
        assert learning_rates[0] <= result <= learning_rates[-1]


class TestCheckCurve:
    def test_healthy_curve(self):
        """A valley that rises again, with mild noise, gives no warning."""
        learning_rates, losses = _dip(0.6)
        noisy = losses + 0.02 * np.random.default_rng(0).normal(size=len(losses))
        assert check_curve(learning_rates, noisy, "diverged") == []
        assert check_curve(learning_rates, noisy, "completed") == []

    def test_too_few_points(self):
        """Fewer than 20 points is unreliable, with the count."""
        learning_rates, losses = _dip(0.6, np.logspace(-4, 0, 12))
        (message,) = check_curve(learning_rates, losses)
        assert "Only 12 points remain" in message

    def test_never_decreased(self):
        """A rising curve says the loss never decreased."""
        learning_rates = np.logspace(-4, 0, 50)
        (message,) = check_curve(learning_rates, np.linspace(1.0, 3.0, 50), "diverged")
        assert message.startswith("The loss never decreased")

    def test_never_diverged(self):
        """A completed sweep still falling at the end says end_lr was too low."""
        learning_rates = np.logspace(-4, -2, 50)
        losses = np.linspace(2.0, 1.0, 50)
        (message,) = check_curve(learning_rates, losses, "completed")
        assert "ended without the loss rising again (end_lr=0.01)" in message
        assert check_curve(learning_rates, losses, "diverged") == []

    def test_too_noisy(self):
        """Noise twice the drop makes the curve unreadable."""
        learning_rates, losses = _dip(0.1)
        noisy = losses + 0.2 * np.random.default_rng(1).normal(size=len(losses))
        messages = check_curve(learning_rates, noisy, "diverged")
        assert any(message.startswith("The range-test curve is too noisy") for message in messages)

    def test_nan_tail_is_cut(self):
        """Points after a NaN do not count."""
        learning_rates, losses = _dip(0.6)
        losses[15:] = NAN
        (message,) = check_curve(learning_rates, losses, "non_finite_loss")
        assert "Only 15 points remain" in message


class TestScaleForBatchSize:
    @pytest.mark.parametrize(
        ("rule", "to_batch_size", "expected"),
        [
            ("linear", 256, 0.04),
            ("linear", 16, 0.0025),
            ("sqrt", 256, 0.02),
            ("sqrt", 16, 0.005),
            ("linear", 64, 0.01),
        ],
    )
    def test_rules(self, rule, to_batch_size, expected):
        """Linear multiplies by the batch ratio, sqrt by its square root (hand-worked)."""
        assert suggestions.scale_for_batch_size(0.01, 64, to_batch_size, rule) == pytest.approx(
            expected
        )

    @pytest.mark.parametrize(
        ("args", "error", "match"),
        [
            ((0.0, 64, 128), ValueError, r"`learning_rate` must be a positive.*learning_rate=0.0"),
            ((math.nan, 64, 128), ValueError, r"`learning_rate` must be a positive"),
            (("0.1", 64, 128), TypeError, r"`learning_rate` must be a Python number.*type str"),
            (
                (0.1, 0, 128),
                ValueError,
                r"`from_batch_size` must be a positive integer.*from_batch_size=0",
            ),
            (
                (0.1, 64, 12.5),
                TypeError,
                r"`to_batch_size` must be a positive integer.*to_batch_size=12.5 of type float",
            ),
            ((0.1, 64, 128, "cubic"), ValueError, r"`rule` must be one of.*rule='cubic'"),
        ],
    )
    def test_bad_arguments(self, args, error, match):
        """Each bad argument is named with its value: a TypeError for a wrong type."""
        with pytest.raises(error, match=match):
            suggestions.scale_for_batch_size(*args)


def _result(losses, smoothed=None, learning_rates=None):
    """An `LRFinderResult` of `losses` (smoothed: themselves), swept 1e-7 to 10."""
    losses = np.asarray(losses, dtype=np.float64)
    count = len(losses)
    if learning_rates is None:
        learning_rates = np.geomspace(1e-7, 10.0, count)
    return LRFinderResult(
        learning_rates=learning_rates,
        losses=losses,
        smoothed_losses=losses if smoothed is None else smoothed,
        stop_reason="completed",
        start_lr=float(learning_rates[0]),
        end_lr=float(learning_rates[-1]),
        num_steps=count,
    )


class TestRenamedMethod:
    def test_onecycle_function_warns_and_answers_as_one_cycle(self):
        """`suggestions.onecycle` still answers, with a DeprecationWarning naming the new name."""
        learning_rates, losses = _dip(0.6)
        message = (
            "`keras_lrfind.suggestions.onecycle` was renamed `keras_lrfind.suggestions.one_cycle`."
        )
        with pytest.warns(DeprecationWarning, match=re.escape(message)):
            old = suggestions.onecycle(learning_rates, losses)
        assert old == one_cycle(learning_rates, losses)

    def test_result_accepts_the_old_method_name(self):
        """`suggest("onecycle")` warns and answers as `suggest("one_cycle")`, the default."""
        learning_rates, losses = _dip(0.6)
        result = _result(losses, learning_rates=learning_rates)
        message = "The suggestion method 'onecycle' was renamed 'one_cycle'."
        with pytest.warns(DeprecationWarning, match=re.escape(message)):
            old = result.suggest("onecycle", warn=False)
        assert old == result.suggest("one_cycle", warn=False) == result.suggest(warn=False)
        with pytest.warns(DeprecationWarning, match=re.escape(message)):
            assert result.suggestions(methods=["onecycle"]) == {"one_cycle": old}

    def test_other_names_pass_through(self):
        """`method_name` returns current and unknown names unchanged, without warning."""
        assert suggestions.method_name("valley") == "valley"
        assert suggestions.method_name("fast") == "fast"
        assert suggestions.RENAMED_METHODS == {"onecycle": "one_cycle"}


class TestShortCurveMessage:
    def test_nan_from_the_first_step(self):
        """After a NaN at step 0, suggest() names the skips, the NaN's step and the fix."""
        result = _result(np.full(100, NAN))
        message = (
            "`one_cycle` needs at least 5 points, but 0 of the 100 recorded remain: "
            "`skip_start`=10 dropped the first 10, `skip_end`=5 the last 5, and the curve is "
            "cut at its first non-finite loss, losses[0]=nan at step 0. The loss was not finite "
            "from the first step: rerun with a lower `start_lr`, or check the data and the "
            "model for NaN."
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            result.suggest(warn=False)

    def test_large_skip_start(self):
        """A `skip_start` that leaves no point says so, with how many each skip dropped."""
        result = _result(np.linspace(3.0, 1.0, 30))
        message = (
            "`minimum` needs at least 1 point, but 0 of the 30 recorded remain: "
            "`skip_start`=28 dropped the first 28 and `skip_end`=5 the last 2. Pass a smaller "
            "`skip_start` or `skip_end`, or run more steps (`num_steps`)."
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            result.suggest("minimum", skip_start=28, warn=False)

    def test_nan_after_a_few_steps(self):
        """A NaN inside the kept window is named with its step; the smoothed curve is NaN too."""
        losses = np.linspace(3.0, 1.0, 100)
        losses[12] = NAN
        smoothed = losses.copy()
        smoothed[12:] = NAN  # A moving average stays NaN after a NaN.
        result = _result(losses, smoothed)
        message = (
            "`slide` with lr_diff=15 needs at least 16 points, but 2 of the 100 recorded remain: "
            "`skip_start`=10 dropped the first 10, `skip_end`=5 the last 5, and the curve is "
            "cut at its first non-finite loss, losses[12]=nan at step 12. The loss was not "
            "finite from step 12 on: rerun with a lower `start_lr`, or check the data and the "
            "model for NaN."
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            result.suggest("slide", warn=False)
        assert result.suggestions()["slide"] is None

    def test_float32_overflow_is_named(self):
        """A smoothed loss beyond the float32 range cuts fastai's methods, and says why."""
        smoothed = np.full(20, 1e300)
        message = _curve_checks.short_curve_message(
            "valley",
            2,
            _lrs(20),
            smoothed,
            smoothed,
            skip_start=0,
            skip_end=0,
            reads_raw=False,
        )
        assert message == (
            "`valley` needs at least 2 points, but 0 of the 20 recorded remain: the curve is "
            "cut at its first non-finite loss, smoothed_losses[0]=1e+300 (beyond the float32 "
            "range) at step 0. The loss was not finite from the first step: rerun with a lower "
            "`start_lr`, or check the data and the model for NaN."
        )

    def test_none_when_enough_points_remain(self):
        """With enough points there is nothing to explain, at exactly `MIN_POINTS`."""
        losses = np.linspace(3.0, 1.0, 20)
        for name, needed in MIN_POINTS.items():
            arguments = {"skip_start": 0, "reads_raw": name == "one_cycle"}
            enough = _curve_checks.short_curve_message(
                name, needed, _lrs(20), losses, losses, skip_end=20 - needed, **arguments
            )
            assert enough is None
            short = _curve_checks.short_curve_message(
                name, needed, _lrs(20), losses, losses, skip_end=21 - needed, **arguments
            )
            assert short.startswith(f"`{name}` needs at least {needed} point")


def _flat_then_climb(seed=0, num=120):
    """A flat, noisy curve (loss 1.5 +- 0.05) over lr 1e-7..10 that climbs steeply from 0.1:
    nothing to read but where training breaks."""
    learning_rates = np.logspace(-7, 1, num)
    noise = 0.05 * np.random.default_rng(seed).standard_normal(num)
    climb = np.where(learning_rates > 0.1, 5.0 * np.log10(learning_rates / 0.1), 0.0)
    return learning_rates, 1.5 + noise + climb


class TestDivergencePoint:
    def test_step_up_is_found_where_it_happens(self):
        """A loss that jumps from 1 to 3 at lr[60] climbs there; the lag-free smoothing, a
        symmetric kernel of 0.15 decade, sees the jump at most two bandwidths (0.3 decade,
        6 points at 20 per decade) early."""
        learning_rates = np.logspace(-4, 0, 81)
        losses = np.where(np.arange(81) < 60, 1.0, 3.0)
        answer = divergence_point(learning_rates, losses)
        assert learning_rates[54] <= answer <= learning_rates[60]
        assert answer in learning_rates

    def test_a_curve_that_never_climbs_gives_its_last_learning_rate(self):
        learning_rates = np.logspace(-4, 0, 41)
        assert divergence_point(learning_rates, np.linspace(2.0, 1.0, 41)) == 1.0

    def test_cut_at_the_first_non_finite_loss(self):
        """With the loss NaN from the 4th point, only three remain: the last of them."""
        learning_rates = np.logspace(-4, 0, 41)
        losses = np.full(41, 1.0)
        losses[3:] = np.nan
        assert divergence_point(learning_rates, losses) == learning_rates[2]


class TestFlatStartGuard:
    """Issues 10 and 17: never the flat start of a curve where training broke; never the end
    of a sweep that never broke."""

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_flat_noisy_curve_answers_from_the_divergence_point(self, seed):
        learning_rates, losses = _flat_then_climb(seed)
        limit = divergence_point(learning_rates, losses)
        # The climb starts at 0.1 (read up to 0.3 decade early, see above), 5 per decade.
        assert 10**-1.3 <= limit <= 1.0
        unguarded = one_cycle(learning_rates, losses, max_below_divergence=None)
        assert unguarded * suggestions.FLAT_START_RATIO < limit  # The defect's precondition.
        assert suggestions.is_flat_start(learning_rates, losses)
        assert one_cycle(learning_rates, losses) == pytest.approx(limit / 32.0, rel=1e-12)
        assert one_cycle(learning_rates, losses, divergence_divisor=2.0) == pytest.approx(
            limit / 2.0, rel=1e-12
        )

    def test_readable_curve_is_left_alone(self):
        """The docstring's curve: a clear valley near 3e-3, well within 64x of the climb."""
        learning_rates = np.logspace(-5, 0, 60)
        losses = (
            2.3
            - 1.5 / (1 + np.exp(-4 * (np.log10(learning_rates) + 2.5)))
            + np.exp(4 * (np.log10(learning_rates) + 0.5))
        )
        assert not suggestions.is_flat_start(learning_rates, losses)
        assert one_cycle(learning_rates, losses) == one_cycle(
            learning_rates, losses, max_below_divergence=None
        )

    def test_no_fallback_when_the_loss_never_climbs(self):
        """Without a climb the divergence point is only the sweep's end, not a reading:
        a valley 100x below the end keeps its own answer (1e-2 / 5 for a 5% dip)."""
        learning_rates, losses = _dip(0.05)
        assert not suggestions.is_flat_start(learning_rates, losses)
        assert one_cycle(learning_rates, losses) == pytest.approx(1e-2 / 5, rel=1e-9)

    @pytest.mark.parametrize("seed", [0, 1, 2, 3])
    def test_an_unreadable_curve_that_never_breaks_never_answers_from_its_end(self, seed):
        """Pure noise around 1.5 over the whole sweep: no valley, no climb, no break up to
        the last learning rate (10). The answer is the curve's own valley reading (wherever
        the noise put it, on the safe side of a sweep that never broke), never anything
        read from the sweep's end, and `suggest()` warns."""
        learning_rates = np.logspace(-7, 1, 120)
        losses = 1.5 + 0.05 * np.random.default_rng(seed).standard_normal(120)
        assert suggestions.cannot_read(learning_rates, losses)
        assert not suggestions.is_flat_start(learning_rates, losses)
        answer = one_cycle(learning_rates, losses)
        assert answer == one_cycle(learning_rates, losses, max_below_divergence=None)
        assert answer <= learning_rates[-1] / 2  # At least the minimal margin below the end.
        result = LRFinderResult(learning_rates, losses, losses, "completed", 1e-7, 10.0, 120)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result.suggest()
        messages = " ".join(str(w.message) for w in caught)
        assert re.search("never decreased|too noisy", messages)

    def test_a_sweep_stopped_on_divergence_falls_back_without_a_climb(self):
        """The last points of a diverged sweep (its climb) are trimmed before suggesting:
        `diverged=True` says the curve's end is where training broke, so the same 5% dip,
        100 times below that end, is a flat-start answer: 1.0 / 32."""
        learning_rates, losses = _dip(0.05)
        assert suggestions.is_flat_start(learning_rates, losses, diverged=True)
        assert one_cycle(learning_rates, losses, diverged=True) == pytest.approx(1 / 32, rel=1e-12)

    def test_a_non_finite_loss_marks_where_training_broke(self):
        """The 5% dip 100 times below the curve's end, then NaN: training broke at the
        end, as with `diverged=True`, so the answer is the last finite rate / 32."""
        learning_rates, losses = _dip(0.05)
        losses = np.append(losses, np.nan)
        learning_rates = np.append(learning_rates, 2.0)
        assert suggestions.is_flat_start(learning_rates, losses)
        assert one_cycle(learning_rates, losses) == pytest.approx(1 / 32, rel=1e-12)

    def test_bad_guard_arguments_name_the_argument(self):
        learning_rates, losses = _flat_then_climb()
        with pytest.raises(ValueError, match="max_below_divergence"):
            one_cycle(learning_rates, losses, max_below_divergence=0)
        with pytest.raises(ValueError, match="divergence_divisor"):
            one_cycle(learning_rates, losses, divergence_divisor=-1.0)

    def test_suggest_warns_and_names_find_best_learning_rate(self):
        learning_rates, losses = _flat_then_climb()
        result = LRFinderResult(
            learning_rates=learning_rates,
            losses=losses,
            smoothed_losses=losses,
            stop_reason="completed",
            start_lr=1e-7,
            end_lr=10.0,
            num_steps=len(losses),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            suggested = result.suggest()
        messages = [str(w.message) for w in caught if issubclass(w.category, LRFinderWarning)]
        assert any(re.search("flat start.*find_best_learning_rate", m) for m in messages)
        curve = result.curve()
        limit = divergence_point(curve.learning_rates, curve.losses)
        assert suggested == pytest.approx(limit / 32.0, rel=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert result.suggest(warn=False) == suggested
