"""fastai 2.8's suggestion methods, decision for decision: `valley`, `slide`, `minimum`, `steep`.

Each takes the swept `learning_rates` and the matching `losses` (already trimmed
and smoothed by the caller, see `keras_lrfind.suggestions.trim`) and returns one
learning rate as a Python float, the same one fastai's `lr_find` gives for the
same curve, quirks included:

- fastai holds the curve in float32 tensors, so every method here compares and
  differentiates the losses in float32. Two losses that round to the same
  float32 are equal here, exactly as in fastai.
- The returned value is the caller's learning rate at the chosen index at full
  precision, not its float32 rounding (fastai returns the float32 value; the
  two differ by less than one part in 10 million).

The public names are `keras_lrfind.suggestions.valley` and so on.
"""

from __future__ import annotations

import math

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.suggestions._reading import first_non_finite, validate_curve

MIN_POINTS = {"valley": 2, "slide": 16, "minimum": 1, "steep": 2}
"""Fewest curve points each fastai method accepts (after the cut at a non-finite loss);
the entry for `slide` is for its default `lr_diff=15`."""


def valley(learning_rates, losses):
    """Suggest a learning rate inside the longest valley of the loss curve.

    fastai's default since 2.4. It finds the longest decreasing subsequence of
    the losses (not necessarily contiguous), then returns the learning rate
    about half-way along it (at `start + int(sec) + int(sec / 2)` with
    `sec = (end - start) / 3`). Robust to noise, it usually lands in the steep
    middle of the descent.

    Reproduces fastai 2.8 exactly, quirks included: the valley's start is
    taken as `end - length`, one point before its first point; it is only set
    when a longer valley is found, so a curve without any decrease gives the
    first learning rate; and when the longest valley is the first two points,
    the index is -1, which picks the *last* learning rate. The losses are
    compared in float32.

    Args:
        learning_rates: 1-D array-like of the swept learning rates, positive,
            finite and strictly increasing.
        losses: 1-D array-like of the trimmed, smoothed losses, same length as
            `learning_rates`. The curve is cut at the first non-finite loss.

    Returns:
        A learning rate from `learning_rates`, as a Python float, so that
        `learning_rates[0] <= result <= learning_rates[-1]`.

    Raises:
        TypeError: If an array is not numeric.
        ValueError: If the arrays are not 1-D or differ in length, if a
            learning rate is not positive, not finite or not strictly
            increasing, or if fewer than `MIN_POINTS["valley"]` points remain.

    Example:

    >>> import numpy as np
    >>> lrs = np.geomspace(1e-5, 1e4, 10)
    >>> valley(lrs, [5.0, 4.9, 4.5, 4.0, 3.0, 2.0, 1.5, 1.4, 3.0, 8.0])
    0.001
    """
    learning_rates, losses = prepare("valley", learning_rates, losses, MIN_POINTS["valley"])
    count = len(losses)
    lengths = np.ones(count, dtype=np.int64)
    end = start = 0
    for i in range(1, count):
        # fastai's inner loop over j < i raises lengths[i] to lengths[j] + 1
        # whenever losses[i] < losses[j], so lengths[i] ends as 1 + the
        # longest valley ending above losses[i].
        above = lengths[:i][losses[:i] > losses[i]]
        lengths[i] = above.max() + 1 if above.size else 1
        # fastai takes `start` inside that loop, when lengths[i] first exceeds
        # lengths[end]. As lengths[end] is the longest so far, lengths[i] can
        # exceed it by one at most, so that first value is already the final
        # one. `start` is only set here: with no decrease at all it stays 0.
        if lengths[i] > lengths[end]:
            end = i
            start = i - int(lengths[i])
    section = (end - start) / 3
    index = start + int(section) + int(section / 2)
    return float(learning_rates[index])


def slide(learning_rates, losses, *, lr_diff=15, thresh=0.005, adjust_value=1.0):
    """Suggest a learning rate with fastai's interval slide rule.

    Slides a window of `lr_diff` points from the end of the curve towards the
    start, and stops at the first window whose two ends have loss gradients
    (`np.gradient`, with respect to the index) within `thresh` of each other;
    the answer is the left end of the last window that was still too steep,
    times `adjust_value`. `thresh` is absolute, so the answer depends on the
    scale of the loss: the same curve times 100 usually gives another answer.

    Reproduces fastai 2.8 exactly (gradients in float32). fastai raises an
    `IndexError` when `lr_diff` is not smaller than the number of points; this
    raises a `ValueError` instead.

    Args:
        learning_rates: The swept learning rates, as in `valley`.
        losses: The trimmed, smoothed losses, as in `valley`.
        lr_diff: Width of the window, in points; the curve needs at least
            `lr_diff + 1` points. Defaults to `15`.
        thresh: Largest difference of the loss gradients at the two ends of
            the window that counts as flat. Defaults to `0.005`.
        adjust_value: Factor applied to the chosen learning rate. Defaults to
            `1.0`.

    Returns:
        A Python float, `adjust_value` times one of
        `learning_rates[0], ..., learning_rates[-1 - lr_diff]`; with the
        default `adjust_value` it lies inside the swept range.

    Raises:
        TypeError: If `lr_diff` is not an integer, `thresh` or
            `adjust_value` not a real number, or an array is not numeric.
        ValueError: If `lr_diff` is not positive, `thresh` is negative or not
            finite, `adjust_value` is not positive or not finite, the arrays
            are invalid (see `valley`), or fewer than `lr_diff + 1` points
            remain.

    Example:

    >>> import numpy as np
    >>> lrs = np.geomspace(1e-4, 10.0, 6)
    >>> slide(lrs, [5.0, 4.0, 3.0, 2.0, 1.5, 3.0], lr_diff=2, thresh=0.5)
    0.01
    """
    lr_diff = _checks.positive_int("lr_diff", lr_diff)
    thresh = _checks.non_negative_float("thresh", thresh)
    adjust_value = _checks.positive_float("adjust_value", adjust_value)
    learning_rates, losses = prepare(
        "slide", learning_rates, losses, lr_diff + 1, detail=f" with lr_diff={lr_diff}"
    )
    count = len(losses)
    with np.errstate(over="ignore", invalid="ignore"):
        gradient = np.gradient(losses)
        # Negative indices, as in fastai: `right` is the window's right end.
        right = -1
        left = right - lr_diff
        chosen = left
        while left >= -count and abs(gradient[right] - gradient[left]) > thresh:
            chosen = left
            right -= 1
            left -= 1
    return float(learning_rates[chosen]) * adjust_value


def minimum(learning_rates, losses):
    """Suggest one tenth of the learning rate at the lowest loss.

    The classic rule of thumb: the loss is lowest just before the learning
    rate becomes too large, so back off by a factor of 10. Simple, but it
    moves with noise near the minimum. Ties go to the first (smallest)
    learning rate. Reproduces fastai 2.8 (losses compared in float32).

    Args:
        learning_rates: The swept learning rates, as in `valley`.
        losses: The trimmed, smoothed losses, as in `valley`.

    Returns:
        `learning_rates[argmin(losses)] / 10` as a Python float, so that
        `learning_rates[0] / 10 <= result <= learning_rates[-1] / 10`.

    Raises:
        TypeError: If an array is not numeric.
        ValueError: If the arrays are invalid (see `valley`) or no point
            remains.

    Example:

    >>> minimum([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.0, 0.5, 4.0])
    0.01
    """
    learning_rates, losses = prepare("minimum", learning_rates, losses, MIN_POINTS["minimum"])
    return float(learning_rates[int(np.argmin(losses))]) / 10


def steep(learning_rates, losses):
    """Suggest the learning rate where the loss falls fastest.

    Computes the slope of every segment against the logarithm of the learning
    rate, `(losses[i + 1] - losses[i]) / (log(lr[i + 1]) - log(lr[i]))`, and
    returns the left point of the steepest (most negative) segment; ties go
    to the first. Reproduces fastai 2.8 (slopes computed in float32, learning
    rates included).

    Args:
        learning_rates: The swept learning rates, as in `valley`.
        losses: The trimmed, smoothed losses, as in `valley`.

    Returns:
        A learning rate from `learning_rates[:-1]`, as a Python float, so that
        `learning_rates[0] <= result < learning_rates[-1]`.

    Raises:
        TypeError: If an array is not numeric.
        ValueError: If the arrays are invalid (see `valley`) or fewer than
            `MIN_POINTS["steep"]` points remain.

    Example:

    >>> steep([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.8, 0.5, 0.4])
    0.01
    """
    learning_rates, losses = prepare("steep", learning_rates, losses, MIN_POINTS["steep"])
    with np.errstate(all="ignore"):
        log_rates = np.log(learning_rates.astype(np.float32))
        slopes = np.diff(losses) / np.diff(log_rates)
    return float(learning_rates[int(np.argmin(slopes))])


def prepare(method, learning_rates, losses, min_points, detail=""):
    """Validates the curve, casts the losses to float32 and cuts at the first bad loss."""
    learning_rates, losses = validate_curve(learning_rates, losses)
    received = len(losses)
    with np.errstate(over="ignore"):
        losses32 = losses.astype(np.float32)
    cut = first_non_finite(losses32)
    if cut is not None:
        bad_value = float(losses[cut])
        learning_rates, losses32 = learning_rates[:cut], losses32[:cut]
    if len(losses32) < min_points:
        points = "point" if min_points == 1 else "points"
        message = f"`{method}`{detail} needs at least {min_points} {points}; received {received}"
        if cut is not None:
            reason = " (beyond the float32 range)" if math.isfinite(bad_value) else ""
            message += (
                f", only {cut} before the first non-finite loss, losses[{cut}]={bad_value}{reason}"
            )
        raise ValueError(message + ".")
    return learning_rates, losses32
