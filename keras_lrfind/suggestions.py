"""Learning-rate suggestions: pure NumPy functions of a range-test curve.

Each suggestion method takes the swept `learning_rates` and the matching
`losses` (already trimmed and smoothed by the caller, see `trim`) and returns
one learning rate as a Python float. The four fastai methods (`valley`,
`slide`, `minimum`, `steep`) reproduce fastai 2.8's `callback/schedule.py`
decision for decision, quirks included, so that a user moving from fastai gets
the same learning rate from the same curve:

- fastai holds the curve in float32 tensors, so every method here compares and
  differentiates the losses in float32. Two losses that round to the same
  float32 are equal here, exactly as in fastai.
- The returned value is the caller's learning rate at the chosen index at full
  precision, not its float32 rounding (fastai returns the float32 value; the
  two differ by less than one part in 10 million).

Non-finite losses: each method cuts the curve at the first loss that is NaN or
infinite once cast to float32 (a loss beyond the float32 range counts as
infinite) and works on the points before it, as fastai's `lr_find` does for
NaN before calling the methods. If too few points remain (see `MIN_POINTS`),
the method raises a `ValueError`; it never returns a value computed from a
non-finite loss.

Bounds: on any valid input the result lies inside the swept range:
`learning_rates[0] <= valley, steep <= learning_rates[-1]`,
`learning_rates[0] / 10 <= minimum <= learning_rates[-1] / 10`, and `slide`
returns a swept learning rate times `adjust_value`.
"""

import math
import reprlib
from numbers import Integral, Real

import numpy as np

MIN_POINTS = {"valley": 2, "slide": 16, "minimum": 1, "steep": 2}
"""Fewest curve points each method accepts (after the cut at a non-finite loss).

`valley` and `steep` need one segment, `minimum` one point (fastai's `valley`
also answers `learning_rates[0]` for a single point, which says nothing).
`slide` needs `lr_diff + 1` points (its window starts `lr_diff` points before
the end; fastai raises an `IndexError` otherwise); the entry is for the default
`lr_diff=15`.
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
    learning_rates, losses = _validate_curve(learning_rates, losses)
    for name, value in (("skip_start", skip_start), ("skip_end", skip_end)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(
                f"`{name}` must be an integer. Received: {name}={value!r} "
                f"of type {type(value).__name__}."
            )
        if value < 0:
            raise ValueError(f"`{name}` must be non-negative. Received: {name}={value}.")
    stop = max(len(losses) - int(skip_end), 0)
    learning_rates = learning_rates[int(skip_start) : stop]
    losses = losses[int(skip_start) : stop]
    cut = _first_non_finite(losses)
    if cut is not None:
        learning_rates, losses = learning_rates[:cut], losses[:cut]
    return learning_rates, losses


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
    learning_rates, losses = _prepare("valley", learning_rates, losses, MIN_POINTS["valley"])
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
        learning_rates: 1-D array-like of the swept learning rates, positive,
            finite and strictly increasing.
        losses: 1-D array-like of the trimmed, smoothed losses, same length as
            `learning_rates`. The curve is cut at the first non-finite loss.
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
    if isinstance(lr_diff, bool) or not isinstance(lr_diff, Integral):
        raise TypeError(
            f"`lr_diff` must be an integer. Received: lr_diff={lr_diff!r} "
            f"of type {type(lr_diff).__name__}."
        )
    if lr_diff < 1:
        raise ValueError(f"`lr_diff` must be a positive integer. Received: lr_diff={lr_diff}.")
    for name, value in (("thresh", thresh), ("adjust_value", adjust_value)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(
                f"`{name}` must be a real number. Received: {name}={value!r} "
                f"of type {type(value).__name__}."
            )
    if not (math.isfinite(thresh) and thresh >= 0):
        raise ValueError(
            f"`thresh` must be a finite, non-negative number. Received: thresh={thresh}."
        )
    if not (math.isfinite(adjust_value) and adjust_value > 0):
        raise ValueError(
            "`adjust_value` must be a finite, positive number. "
            f"Received: adjust_value={adjust_value}."
        )
    lr_diff = int(lr_diff)
    learning_rates, losses = _prepare(
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
        learning_rates: 1-D array-like of the swept learning rates, positive,
            finite and strictly increasing.
        losses: 1-D array-like of the trimmed, smoothed losses, same length as
            `learning_rates`. The curve is cut at the first non-finite loss.

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
    learning_rates, losses = _prepare("minimum", learning_rates, losses, MIN_POINTS["minimum"])
    return float(learning_rates[int(np.argmin(losses))]) / 10


def steep(learning_rates, losses):
    """Suggest the learning rate where the loss falls fastest.

    Computes the slope of every segment against the logarithm of the learning
    rate, `(losses[i + 1] - losses[i]) / (log(lr[i + 1]) - log(lr[i]))`, and
    returns the left point of the steepest (most negative) segment; ties go
    to the first. Reproduces fastai 2.8 (slopes computed in float32, learning
    rates included).

    Args:
        learning_rates: 1-D array-like of the swept learning rates, positive,
            finite and strictly increasing.
        losses: 1-D array-like of the trimmed, smoothed losses, same length as
            `learning_rates`. The curve is cut at the first non-finite loss.

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
    learning_rates, losses = _prepare("steep", learning_rates, losses, MIN_POINTS["steep"])
    with np.errstate(all="ignore"):
        log_rates = np.log(learning_rates.astype(np.float32))
        slopes = np.diff(losses) / np.diff(log_rates)
    return float(learning_rates[int(np.argmin(slopes))])


METHODS = {"valley": valley, "slide": slide, "minimum": minimum, "steep": steep}
"""The fastai suggestion methods by name, each `f(learning_rates, losses) -> float`."""


def _as_float_array(name, values):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be a 1-D array-like of real numbers. "
            f"Received: {name}={reprlib.repr(values)} ({error})."
        ) from None
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D. Received: an array of shape {array.shape}.")
    return array


def _validate_curve(learning_rates, losses):
    learning_rates = _as_float_array("learning_rates", learning_rates)
    losses = _as_float_array("losses", losses)
    if len(learning_rates) != len(losses):
        raise ValueError(
            "`learning_rates` and `losses` must have the same length. "
            f"Received: len(learning_rates)={len(learning_rates)}, len(losses)={len(losses)}."
        )
    bad = np.flatnonzero(~np.isfinite(learning_rates))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            "`learning_rates` must be finite. "
            f"Received: learning_rates[{i}]={float(learning_rates[i])!r}."
        )
    bad = np.flatnonzero(learning_rates <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            "`learning_rates` must be positive. "
            f"Received: learning_rates[{i}]={float(learning_rates[i])!r}."
        )
    bad = np.flatnonzero(np.diff(learning_rates) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            "`learning_rates` must be strictly increasing. "
            f"Received: learning_rates[{i}]={float(learning_rates[i])!r} followed by "
            f"learning_rates[{i + 1}]={float(learning_rates[i + 1])!r}."
        )
    return learning_rates, losses


def _first_non_finite(values):
    bad = np.flatnonzero(~np.isfinite(values))
    return int(bad[0]) if bad.size else None


def _prepare(method, learning_rates, losses, min_points, detail=""):
    """Validates the curve, casts the losses to float32 and cuts at the first bad loss."""
    learning_rates, losses = _validate_curve(learning_rates, losses)
    received = len(losses)
    with np.errstate(over="ignore"):
        losses32 = losses.astype(np.float32)
    cut = _first_non_finite(losses32)
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


# -- Telling the user when not to trust a curve ----------------------------------------------

MIN_TRUSTED_POINTS = 20
"""Fewer points than this after trimming give a warning: the curve is too short to read."""

NOISE_RATIO = 1.0
"""A curve whose batch-to-batch noise exceeds this fraction of its total drop is too noisy."""


def check_curve(learning_rates, smoothed_losses, raw_losses, stop_reason="completed"):
    """Returns the reasons (possibly none) not to trust a trimmed range-test curve.

    The checks, each scale-free:

    - too few points: fewer than `MIN_TRUSTED_POINTS` after trimming and the NaN cut;
    - the loss never decreased: no smoothed loss is below the first one;
    - no divergence: the sweep completed and the smoothed loss is still at its lowest in
      the last tenth of the curve, so `end_lr` was probably too low to show where
      training breaks;
    - too noisy: the batch-to-batch noise of the raw losses (a robust standard deviation
      of their differences) exceeds `NOISE_RATIO` times the smoothed curve's total drop.

    Args:
        learning_rates: The trimmed learning rates.
        smoothed_losses: The trimmed smoothed losses.
        raw_losses: The raw losses of the same steps.
        stop_reason: Why the sweep ended. Defaults to `"completed"`.

    Returns:
        A list of messages, empty for a healthy curve.
    """
    learning_rates = np.asarray(learning_rates, dtype=np.float64)
    smoothed = np.asarray(smoothed_losses, dtype=np.float64)
    raw = np.asarray(raw_losses, dtype=np.float64)[: len(smoothed)]
    count = len(smoothed)
    if count < MIN_TRUSTED_POINTS:
        return [
            f"Only {count} points remain after trimming the range-test curve (at least "
            f"{MIN_TRUSTED_POINTS} are needed to read it): the suggestion is unreliable. Run "
            "more steps (`num_steps`), or start lower if the loss diverged early."
        ]
    messages = []
    lowest = int(np.argmin(smoothed))
    drop = float(smoothed[0] - smoothed[lowest])
    if drop <= 0:
        messages.append(
            "The loss never decreased during the range test: the model may not be learning "
            "(check the data, labels and loss) or `start_lr` is already too high "
            f"(start_lr={learning_rates[0]:.3g}). The suggestion is unreliable."
        )
    if stop_reason == "completed" and lowest >= count - max(1, count // 10):
        messages.append(
            "The range test ended without the loss rising again "
            f"(end_lr={learning_rates[-1]:.3g}): the largest usable learning rate is probably "
            "higher. Rerun with a larger `end_lr`."
        )
    if drop > 0 and count > 2:
        noise = float(np.median(np.abs(np.diff(raw)))) / (0.6745 * math.sqrt(2))
        if noise > NOISE_RATIO * drop:
            messages.append(
                f"The range-test curve is too noisy to read: the batch-to-batch noise "
                f"({noise:.3g}) exceeds its total drop ({drop:.3g}). Use a larger batch size, "
                "more steps, or `validation_data`."
            )
    return messages


DEFAULT_METHOD = "valley"
