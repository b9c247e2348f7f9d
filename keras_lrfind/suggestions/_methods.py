"""The suggestion methods by name, the points each needs, and fastai's trimming of a curve."""

from __future__ import annotations

from keras_lrfind import _checks
from keras_lrfind.suggestions import _fastai, _one_cycle
from keras_lrfind.suggestions._fastai import minimum, slide, steep, valley
from keras_lrfind.suggestions._one_cycle import one_cycle
from keras_lrfind.suggestions._reading import first_non_finite, validate_curve

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
