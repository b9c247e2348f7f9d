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

from keras_lrfind import _checks, _fastai, _one_cycle
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
from keras_lrfind._one_cycle import (
    DIVERGENCE_DIVISOR,
    FLAT_START_RATIO,
    divergence_point,
    is_flat_start,
    one_cycle,
)
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

MIN_POINTS = {"one_cycle": _one_cycle.MIN_POINTS, **_fastai.MIN_POINTS}
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
