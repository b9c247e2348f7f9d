"""Learning-rate suggestions: pure NumPy functions of a range-test curve.

Each suggestion method takes the swept `learning_rates` and the matching
`losses` and returns one learning rate as a Python float:

- `one_cycle`, keras_lrfind's default: the maximum learning rate of a one-cycle
  schedule, read from the RAW losses smoothed without lag (`smooth_without_lag`).
- fastai 2.8's `valley`, `slide`, `minimum` and `steep`, decision for decision,
  quirks included, on fastai's smoothed curve after `trim` (fastai's own
  preprocessing), so that a user moving from fastai gets the same learning rate
  from the same curve. They compare and differentiate the losses in float32, as
  fastai does.

`METHODS` holds them all by name (`DEFAULT_METHOD` first); `check_curve` gives
the reasons not to trust a curve; `scale_for_batch_size` carries a suggestion to
another batch size.

Non-finite losses: each method cuts the curve at the first loss that is NaN or
infinite (for fastai's methods once cast to float32, so a loss beyond the float32
range counts as infinite) and works on the points before it, as fastai's
`lr_find` does for NaN before calling the methods. If too few points remain (see
`MIN_POINTS`), the method raises a `ValueError`; it never returns a value computed
from a non-finite loss.

Bounds: on any valid input the result lies inside the swept range:
`learning_rates[0] <= valley, steep <= learning_rates[-1]`,
`learning_rates[0] / 10 <= minimum <= learning_rates[-1] / 10`, `slide`
returns a swept learning rate times `adjust_value`, and
`learning_rates[0] <= one_cycle <= learning_rates[-1]` with its default arguments.
"""

from __future__ import annotations

import math

import numpy as np

from keras_lrfind import _checks, _fastai
from keras_lrfind._curve_checks import (
    MIN_TRUSTED_POINTS,
    NOISE_RATIO,
    RISE_RATIO,
    cannot_read,
    check_curve,
    first_non_finite,
    validate_curve,
)
from keras_lrfind._fastai import minimum, slide, steep, valley
from keras_lrfind._smoothing import smooth_without_lag

__all__ = [
    "BATCH_SIZE_RULES",
    "DEFAULT_METHOD",
    "DIVERGENCE_DIVISOR",
    "FASTAI_METHODS",
    "FLAT_START_RATIO",
    "METHODS",
    "MIN_POINTS",
    "MIN_TRUSTED_POINTS",
    "NOISE_RATIO",
    "RAW_LOSS_METHODS",
    "RENAMED_METHODS",
    "RISE_RATIO",
    "cannot_read",
    "check_curve",
    "divergence_point",
    "is_flat_start",
    "method_name",
    "minimum",
    "one_cycle",
    "scale_for_batch_size",
    "slide",
    "smooth_without_lag",
    "steep",
    "trim",
    "valley",
]

MIN_POINTS = {"one_cycle": 5, **_fastai.MIN_POINTS}
"""Fewest curve points each method accepts (after the cut at a non-finite loss).

`valley` and `steep` need one segment, `minimum` one point (fastai's `valley`
also answers `learning_rates[0]` for a single point, which says nothing).
`slide` needs `lr_diff + 1` points (its window starts `lr_diff` points before
the end; fastai raises an `IndexError` otherwise); the entry is for the default
`lr_diff=15`. `one_cycle` needs 5, the width of its running median.
"""


def trim(learning_rates, losses, skip_start, skip_end):
    """Drop the ends of a range-test curve and cut it at the first bad loss.

    This is fastai's preprocessing before any suggestion method: the first
    points are dominated by the warm-up of the smoothing average and the last
    ones by divergence, so both are dropped; then both arrays are cut at the
    first non-finite loss, because nothing after it is meaningful. fastai uses
    `skip_start = num_it // 10` and `skip_end = 5`.

    Two differences from fastai's slicing `[skip_start:-skip_end]`:
    `skip_end=0` keeps the last point (fastai's `[a:-0]` would be empty), and
    the cut also happens at an infinite loss, not only at NaN.

    Args:
        learning_rates: 1-D array-like of the swept learning rates, positive,
            finite and strictly increasing.
        losses: 1-D array-like of the recorded losses, same length as
            `learning_rates`; may contain NaN or infinite values.
        skip_start: Number of points to drop at the start.
        skip_end: Number of points to drop at the end.

    Returns:
        A tuple `(learning_rates, losses)` of float64 NumPy arrays, possibly
        empty: first the skips are applied, then both arrays end before the
        first non-finite loss that remains.

    Raises:
        TypeError: If `skip_start` or `skip_end` is not an integer, or an
            array is not numeric.
        ValueError: If `skip_start` or `skip_end` is negative, or the arrays
            are invalid (see `valley`).

    Example:

    >>> import numpy as np
    >>> lrs, losses = trim(
    ...     [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0],
    ...     [2.0, 1.5, 1.0, np.nan, 3.0, 9.0],
    ...     skip_start=1,
    ...     skip_end=1,
    ... )
    >>> lrs.tolist(), losses.tolist()
    ([0.001, 0.01], [1.5, 1.0])
    """
    learning_rates, losses = validate_curve(learning_rates, losses)
    skip_start = _checks.non_negative_int("skip_start", skip_start)
    skip_end = _checks.non_negative_int("skip_end", skip_end)
    stop = max(len(losses) - skip_end, 0)
    learning_rates = learning_rates[skip_start:stop]
    losses = losses[skip_start:stop]
    cut = first_non_finite(losses)
    if cut is not None:
        learning_rates, losses = learning_rates[:cut], losses[:cut]
    return learning_rates, losses


# -- Where training breaks --------------------------------------------------------------------

NOISE_LEVELS = 3.0
"""`divergence_point`: the climb above the lowest smoothed loss, in noise levels."""

MIN_RISE = 0.05
"""`divergence_point`: the smallest climb, as a fraction of the lowest smoothed loss."""


def divergence_point(learning_rates, losses):
    """Where the range test's loss climbs clearly above its lowest point.

    The raw losses are smoothed without lag (`smooth_without_lag`) up to the first
    non-finite one; the answer is the first learning rate after the smoothed minimum whose
    smoothed loss exceeds that minimum by `NOISE_LEVELS` (3) times the noise (the robust
    spread, 1.4826 MAD, of the raw losses around the smoothed curve) and by at least
    `MIN_RISE` (5%) of it, or the last finite learning rate if the loss never climbs.

    It reads the one part of a curve that stays legible when the rest is flat or noisy:
    where training breaks. `find_best_learning_rate` probes below it, and `one_cycle`
    falls back to it when its valley lies at the flat start (`is_flat_start`).

    Args:
        learning_rates: The swept learning rates, strictly increasing.
        losses: The RAW losses of the same steps.

    Returns:
        A learning rate of the curve (a float).

    Example:

    >>> import numpy as np
    >>> lrs = np.logspace(-5, 0, 60)
    >>> losses = 2.3 - 1.5 / (1 + np.exp(-4 * (np.log10(lrs) + 2.5))) + np.exp(
    ...     4 * (np.log10(lrs) + 0.5))
    >>> f"{divergence_point(lrs, losses):.2g}"
    '0.079'
    """
    learning_rates, losses = validate_curve(learning_rates, losses)
    return _divergence(learning_rates, losses)[0]


def _divergence(learning_rates, losses, diverged=False):
    """`(divergence_point, found)`: `found` is whether training broke within the sweep (the
    smoothed loss climbs, a loss is non-finite, or `diverged` says the sweep stopped on
    divergence); when it is False the answer is the last learning rate, only a lower bound."""
    cut = first_non_finite(losses)
    diverged = bool(diverged) or cut is not None
    cut = len(losses) if cut is None else cut
    if cut < MIN_POINTS["one_cycle"]:  # Too few points to smooth: the loss blew up at once.
        return float(learning_rates[max(cut - 1, 0)]), diverged
    learning_rates, losses = learning_rates[:cut], losses[:cut]
    smoothed = smooth_without_lag(learning_rates, losses)
    noise = 1.4826 * float(np.median(np.abs(losses - smoothed)))
    bottom = int(np.argmin(smoothed))
    level = smoothed[bottom] + max(NOISE_LEVELS * noise, MIN_RISE * abs(smoothed[bottom]))
    above = np.flatnonzero(smoothed[bottom:] > level)
    if len(above) == 0:
        return float(learning_rates[-1]), diverged
    return float(learning_rates[bottom + above[0]]), True


# -- The default: the maximum learning rate of a one-cycle schedule ---------------------------


FLAT_START_RATIO = 64.0
"""`one_cycle` falls back to the `divergence_point` when its answer lies this many times
below it (see `one_cycle`, step 4)."""

DIVERGENCE_DIVISOR = 6.0
"""`one_cycle`'s fallback answer is the `divergence_point` divided by this."""


def _first_valley(smoothed, rise):
    """The index of the lowest point before the curve climbs back `rise` of its total drop.

    Also returns the starting level (the median of the first tenth of the curve).
    """
    start = float(np.median(smoothed[: max(3, len(smoothed) // 10)]))
    drop = start - float(np.min(smoothed))
    best = 0
    for i in range(1, len(smoothed)):
        if smoothed[i] < smoothed[best]:
            best = i
        elif (
            drop > 0
            and smoothed[i] > smoothed[best] + rise * drop
            and start - smoothed[best] > 0.5 * drop
        ):
            break
    return best, start


def one_cycle(
    learning_rates,
    losses,
    *,
    bandwidth=0.15,
    rise=0.5,
    valley_band=0.1,
    target_drop=0.25,
    min_divisor=1.0,
    max_divisor=3.0,
    max_below_divergence=FLAT_START_RATIO,
    divergence_divisor=DIVERGENCE_DIVISOR,
    diverged=False,
):
    """Suggest the maximum learning rate of a one-cycle schedule (keras_lrfind's default).

    Unlike fastai's methods this one reads the RAW batch losses and smooths them itself,
    without lag (`smooth_without_lag`). Then:

    1. **The valley.** It finds the lowest point of the curve before the loss first climbs
       back by `rise` (half) of its total drop, so a second dip in the noisy divergent tail
       is not mistaken for the minimum.
    2. **Its centre.** It takes the geometric centre of the learning rates around that
       point whose loss is within `valley_band` (10%) of the drop from the bottom: on a
       broad, flat valley the lowest point is a coin toss, its centre is not.
    3. **A margin that depends on how much the model learned.** With `drop` the fraction of
       the starting loss removed at the bottom, the suggestion is the centre divided by
       `clip(target_drop / drop, min_divisor, max_divisor)`. A curve that fell by a quarter
       or more bottoms out where training is still stable: the suggestion is the centre. A
       curve that barely fell (drop 0.08 or less) often bottoms out where instability sets
       in: the suggestion backs off 3 times.
    4. **Never the flat start.** On a flat, noisy curve the lowest point is wherever the
       noise put it, often in the flat start, orders of magnitude below any rate that
       trains. When the answer of steps 1 to 3 lies more than `max_below_divergence` (64)
       times below the `divergence_point` (where the loss climbs, or the sweep's end when
       it stopped on divergence: `diverged`), the one part of such a curve that stays
       legible, the suggestion is `divergence_point / divergence_divisor` (6) instead, and
       `result.suggest()` warns (`is_flat_start`).
    5. The result is at least `learning_rates[0]`.

    The rule is scale-free: it uses ratios of losses, never absolute loss values, so
    multiplying the loss by a constant does not change the answer (it assumes a loss
    whose zero means "perfect", such as cross-entropy or MSE).

    How it was chosen: the rule was designed on six small vision tasks; its three margin
    constants and the two of its flat-start fallback were chosen (issue 10) on the 11
    TUNING tasks of the 22-task benchmark, among 729 candidate rules, by mean regret (test
    accuracy lost to the best one-cycle `max_lr` of a grid): 1.4 points on average, 3.5 at
    worst on those tasks. On the 11 EVALUATION tasks, set aside before tuning began, it
    loses 10.1 points on average and 34.9 at worst (before the fallback: 11.9 and 43.6; with
    the first constants, 0.5/1/5: 14.2 and 43.6; the best of three trainings at 1e-3, 1e-2
    and 1e-1: 9.4 and 36.8). A range-test curve alone cannot see everything that decides
    the best peak: where accuracy matters more than one range test's cost, use
    `keras_lrfind.find_best_learning_rate`. Reproduce with
    `python -m benchmarks.choose_default` (`benchmarks/results/choose_default.txt`).

    Args:
        learning_rates: The swept learning rates, strictly increasing.
        losses: The RAW losses of the same steps (not fastai's smoothed curve). The curve
            is cut at the first non-finite loss.
        bandwidth: Smoothing bandwidth in decades. Defaults to `0.15`.
        rise: The climb, as a fraction of the total drop, that ends the first valley.
            Defaults to `0.5`.
        valley_band: The part of the drop, above the bottom, that counts as the valley
            floor. Defaults to `0.1`.
        target_drop: The fractional drop at which the margin reaches `min_divisor`.
            Defaults to `0.25`.
        min_divisor: The smallest margin. Defaults to `1.0`.
        max_divisor: The largest margin. Defaults to `3.0`.
        max_below_divergence: How far below the `divergence_point` (a ratio) the answer
            may lie before it counts as a flat-start answer; `None` never falls back.
            Defaults to `64.0`.
        divergence_divisor: The fallback answer is the `divergence_point` divided by this.
            Defaults to `6.0`.
        diverged: Whether the sweep stopped because the loss diverged (`stop_reason`
            `"diverged"` or `"non_finite_loss"`): the end of the curve then marks where
            training breaks even if the trimmed curve does not climb. Without a climb, a
            non-finite loss or `diverged`, the curve's end is only a lower bound of where
            training breaks: a READABLE valley far below it is kept (raise `end_lr` to see
            more); an unreadable curve (`cannot_read`: the loss never decreased, or noise
            above half its drop) still never answers from its flat start. Defaults to
            `False`.

    Returns:
        The suggested maximum learning rate, in
        `[learning_rates[0], learning_rates[-1] / min_divisor]`.

    Example:

    >>> import numpy as np
    >>> lrs = np.logspace(-5, 0, 60)
    >>> losses = 2.3 - 1.5 / (1 + np.exp(-4 * (np.log10(lrs) + 2.5))) + np.exp(
    ...     4 * (np.log10(lrs) + 0.5))
    >>> f"{one_cycle(lrs, losses):.1e}"
    '3.3e-02'
    """
    learning_rates, losses = validate_curve(learning_rates, losses)
    bandwidth = _checks.positive_float("bandwidth", bandwidth)
    rise = _checks.positive_float("rise", rise)
    valley_band = _checks.non_negative_float("valley_band", valley_band)
    target_drop = _checks.positive_float("target_drop", target_drop)
    min_divisor = _checks.positive_float("min_divisor", min_divisor)
    max_divisor = _checks.positive_float("max_divisor", max_divisor)
    if max_below_divergence is not None:
        max_below_divergence = _checks.positive_float("max_below_divergence", max_below_divergence)
    divergence_divisor = _checks.positive_float("divergence_divisor", divergence_divisor)
    if max_divisor < min_divisor:
        raise ValueError(
            "`max_divisor` must be at least `min_divisor`. "
            f"Received: min_divisor={min_divisor!r}, max_divisor={max_divisor!r}."
        )
    received = len(losses)
    cut = first_non_finite(losses)
    if cut is not None:
        learning_rates, losses = learning_rates[:cut], losses[:cut]
    if len(losses) < MIN_POINTS["one_cycle"]:
        raise ValueError(
            f"`one_cycle` needs at least {MIN_POINTS['one_cycle']} points; received {received}"
            + (f", only {cut} before the first non-finite loss" if cut is not None else "")
            + "."
        )
    smoothed = smooth_without_lag(learning_rates, losses, bandwidth)
    bottom, start = _first_valley(smoothed, rise)
    drop = start - smoothed[bottom]
    floor = smoothed[bottom] + valley_band * max(drop, 0.0)
    low = high = bottom
    while low > 0 and smoothed[low - 1] <= floor:
        low -= 1
    while high < len(smoothed) - 1 and smoothed[high + 1] <= floor:
        high += 1
    centre = math.exp(float(np.mean(np.log(learning_rates[low : high + 1]))))
    centre = min(max(centre, learning_rates[low]), learning_rates[high])  # Rounding.
    fraction = drop / abs(start) if start != 0 else 0.0
    divisor = min(max(target_drop / max(fraction, 1e-12), min_divisor), max_divisor)
    answer = centre / divisor
    if max_below_divergence is not None:
        limit, found = _divergence(learning_rates, losses, diverged)
        if answer * max_below_divergence < limit and (found or cannot_read(learning_rates, losses)):
            answer = limit / divergence_divisor
    return float(max(answer, learning_rates[0]))


def is_flat_start(learning_rates, losses, diverged=False):
    """Whether `one_cycle`'s valley lies at the flat start of the curve.

    True when `one_cycle` with its defaults answers from the `divergence_point` (step 4 of
    `one_cycle`): the valley reading lies more than `FLAT_START_RATIO` times below it, and
    either training breaks within the sweep (see `one_cycle`'s `diverged`) or the curve
    cannot be read at all. Such a curve says little beyond where training breaks;
    `keras_lrfind.find_best_learning_rate` reads the learning rate from short trainings
    instead.

    Args:
        learning_rates: The swept learning rates, strictly increasing.
        losses: The RAW losses of the same steps.
        diverged: As in `one_cycle`. Defaults to `False`.

    Returns:
        A bool.
    """
    learning_rates, losses = validate_curve(learning_rates, losses)
    valley = one_cycle(learning_rates, losses, max_below_divergence=None)
    limit, found = _divergence(learning_rates, losses, diverged)
    return valley * FLAT_START_RATIO < limit and (found or cannot_read(learning_rates, losses))


onecycle = _checks.renamed(
    one_cycle, "`keras_lrfind.suggestions.onecycle`", "`keras_lrfind.suggestions.one_cycle`"
)


# -- The methods by name ---------------------------------------------------------------------

FASTAI_METHODS = {"valley": valley, "slide": slide, "minimum": minimum, "steep": steep}
"""The fastai suggestion methods by name, each `f(learning_rates, smoothed_losses) -> float`."""

METHODS = {"one_cycle": one_cycle, **FASTAI_METHODS}
"""Every suggestion method by name, our default first."""

DEFAULT_METHOD = "one_cycle"
"""The method `LRFinderResult.suggest()` uses when none is named."""

RAW_LOSS_METHODS = frozenset({"one_cycle"})
"""Methods that read the raw losses (they smooth without lag); the others read fastai's
smoothed curve."""

RENAMED_METHODS = {"onecycle": "one_cycle"}
"""Old method names still accepted for one release, with a `DeprecationWarning`."""


def method_name(name):
    """The current name of the method `name`: itself, or the new name of a renamed method.

    A renamed method's old name (see `RENAMED_METHODS`) raises a `DeprecationWarning`
    and gives the new name; any other name is returned as it is, for the caller to
    look up in `METHODS`.

    Example:

    >>> import warnings
    >>> method_name("valley")
    'valley'
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     method_name("onecycle")
    'one_cycle'
    """
    if isinstance(name, str) and name in RENAMED_METHODS:
        new = RENAMED_METHODS[name]
        _checks.warn_renamed(f"The suggestion method {name!r}", repr(new), stacklevel=5)
        return new
    return name


# -- Batch size ------------------------------------------------------------------------------

BATCH_SIZE_RULES = ("linear", "sqrt")


def scale_for_batch_size(learning_rate, from_batch_size, to_batch_size, rule="linear"):
    """Scales a learning rate found at one batch size for training at another.

    A range test run with batch size `from_batch_size` suggests a learning rate for that
    batch size. Two rules carry it to another batch size, both named after where they
    come from:

    - `"linear"`: `learning_rate * to_batch_size / from_batch_size` (Goyal et al. 2017,
      "Accurate, Large Minibatch SGD"): the usual rule for SGD with momentum, with a
      warm-up, which one-cycle provides.
    - `"sqrt"`: `learning_rate * sqrt(to_batch_size / from_batch_size)` (Krizhevsky 2014,
      Hoffer et al. 2017): keeps the gradient noise constant; often better for Adam-type
      optimizers.

    Both are heuristics that break down far from the tested batch size: the most reliable
    answer is a range test at the training batch size.

    Args:
        learning_rate: The learning rate found at `from_batch_size`, positive.
        from_batch_size: The batch size of the range test, a positive integer.
        to_batch_size: The batch size of the training, a positive integer.
        rule: `"linear"` or `"sqrt"`. Defaults to `"linear"`.

    Returns:
        The scaled learning rate.

    Raises:
        TypeError: If `learning_rate` is not a number or a batch size not an integer.
        ValueError: If `learning_rate` is not positive and finite, a batch size is below
            1, or `rule` is unknown.

    Example:

    >>> scale_for_batch_size(0.01, 64, 256)
    0.04
    >>> scale_for_batch_size(0.01, 64, 256, rule="sqrt")
    0.02
    """
    learning_rate = _checks.positive_float("learning_rate", learning_rate)
    from_batch_size = _checks.positive_int("from_batch_size", from_batch_size)
    to_batch_size = _checks.positive_int("to_batch_size", to_batch_size)
    _checks.one_of("rule", rule, BATCH_SIZE_RULES)
    ratio = to_batch_size / from_batch_size
    return float(learning_rate * (ratio if rule == "linear" else math.sqrt(ratio)))
