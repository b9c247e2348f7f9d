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

MIN_POINTS = {"onecycle": 5, "valley": 2, "slide": 16, "minimum": 1, "steep": 2}
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


def smooth_without_lag(learning_rates, losses, bandwidth=0.15, median_window=5):
    """Smooths raw batch losses without shifting the curve to the right.

    fastai's exponential moving average (0.98) trails the raw losses by up to 50 steps,
    about a decade of learning rate on a 100-step test, so its minimum sits far to the
    right of where the loss really bottomed out. This smoother is centred instead: a
    running median over `median_window` points removes single-batch spikes, then a local
    linear regression in `log10(learning_rate)` with a Gaussian kernel of `bandwidth`
    decades follows the trend on both sides of each point (and stays unbiased at the ends).

    Args:
        learning_rates: The swept learning rates, increasing.
        losses: The raw losses, finite.
        bandwidth: The kernel's standard deviation in decades. Defaults to `0.15`.
        median_window: The running median's width in points (odd). Defaults to `5`.

    Returns:
        The smoothed losses, a float64 array of the same length.
    """
    x = np.log10(np.asarray(learning_rates, dtype=np.float64))
    y = np.asarray(losses, dtype=np.float64)
    half = median_window // 2
    y = np.array([np.median(y[max(0, i - half) : i + half + 1]) for i in range(len(y))])
    smoothed = np.empty_like(y)
    for start in range(0, len(x), 256):  # Rows in chunks: memory stays O(256 n).
        offsets = x[None, :] - x[start : start + 256, None]
        weights = np.exp(-0.5 * (offsets / bandwidth) ** 2)
        s0, s1 = weights.sum(1), (weights * offsets).sum(1)
        s2 = (weights * offsets**2).sum(1)
        t0, t1 = weights @ y, (weights * offsets) @ y
        determinant = s0 * s2 - s1 * s1
        flat = determinant <= 1e-12 * s0 * s0  # A single effective point: the kernel mean.
        smoothed[start : start + 256] = np.where(
            flat, t0 / s0, (s2 * t0 - s1 * t1) / np.where(flat, 1.0, determinant)
        )
    return smoothed


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


def onecycle(
    learning_rates,
    losses,
    *,
    bandwidth=0.15,
    rise=0.5,
    valley_band=0.1,
    target_drop=0.5,
    min_divisor=1.0,
    max_divisor=5.0,
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
       `clip(target_drop / drop, min_divisor, max_divisor)`. A curve that fell by half or
       more bottoms out where training is still stable: the suggestion is the centre. A
       curve that barely fell (drop 0.1 or less) often bottoms out where instability sets
       in: the suggestion backs off 5 times.
    4. The result is at least `learning_rates[0]`.

    The rule is scale-free: it uses ratios of losses, never absolute loss values, so
    multiplying the loss by a constant does not change the answer (it assumes a loss
    whose zero means "perfect", such as cross-entropy or MSE).

    How it was chosen: on six small vision tasks (MLP, plain CNN, batch-norm CNN and
    residual network; Adam, AdamW and SGD with momentum), each with a grid of one-cycle
    trainings over 11 to 13 learning rates and 3 seeds, the rule and its constants were
    picked to minimise the mean regret (test accuracy lost to the best grid learning
    rate): 0.7 points on average, 1.8 at worst, against 1.4 (3.7 at worst) for fastai's
    best method, `minimum`, and 1.2 (4.3 at worst) for the best of the three trainings at
    1e-3, 1e-2 and 1e-1. Choosing the constants on five tasks and scoring the sixth
    (leave one task out) gives 1.1 on average, 2.1 at worst: expect that on new tasks.
    Reproduce with `python -m benchmarks.quality` (`benchmarks/results/quality.md`).

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
            Defaults to `0.5`.
        min_divisor: The smallest margin. Defaults to `1.0`.
        max_divisor: The largest margin. Defaults to `5.0`.

    Returns:
        The suggested maximum learning rate, in
        `[learning_rates[0], learning_rates[-1] / min_divisor]`.

    Example:

    >>> lrs = np.logspace(-5, 0, 60)
    >>> losses = 2.3 - 1.5 / (1 + np.exp(-4 * (np.log10(lrs) + 2.5))) + np.exp(
    ...     4 * (np.log10(lrs) + 0.5))
    >>> f"{onecycle(lrs, losses):.1e}"
    '3.3e-02'
    """
    learning_rates, losses = _validate_curve(learning_rates, losses)
    received = len(losses)
    cut = _first_non_finite(losses)
    if cut is not None:
        learning_rates, losses = learning_rates[:cut], losses[:cut]
    if len(losses) < MIN_POINTS["onecycle"]:
        raise ValueError(
            f"`onecycle` needs at least {MIN_POINTS['onecycle']} points; received {received}"
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
    return float(max(centre / divisor, learning_rates[0]))


FASTAI_METHODS = {"valley": valley, "slide": slide, "minimum": minimum, "steep": steep}
"""The fastai suggestion methods by name, each `f(learning_rates, smoothed_losses) -> float`."""

METHODS = {"onecycle": onecycle, **FASTAI_METHODS}
"""Every suggestion method by name, our default first."""

DEFAULT_METHOD = "onecycle"
"""The method `LRFinderResult.suggest()` uses when none is named."""

RAW_LOSS_METHODS = frozenset({"onecycle"})
"""Methods that read the raw losses (they smooth without lag); the others read fastai's
smoothed curve."""


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

    Example:

    >>> scale_for_batch_size(0.01, 64, 256)
    0.04
    >>> scale_for_batch_size(0.01, 64, 256, rule="sqrt")
    0.02
    """
    if (
        not isinstance(learning_rate, Real)
        or not math.isfinite(learning_rate)
        or (learning_rate <= 0)
    ):
        raise ValueError(
            "`learning_rate` must be a positive, finite number. "
            f"Received: learning_rate={learning_rate!r}."
        )
    for name, value in (("from_batch_size", from_batch_size), ("to_batch_size", to_batch_size)):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}.")
    if rule not in BATCH_SIZE_RULES:
        raise ValueError(f"`rule` must be one of {BATCH_SIZE_RULES}. Received: rule={rule!r}.")
    ratio = to_batch_size / from_batch_size
    return float(learning_rate * (ratio if rule == "linear" else math.sqrt(ratio)))


# -- Telling the user when not to trust a curve ----------------------------------------------

MIN_TRUSTED_POINTS = 20
"""Fewer points than this after trimming give a warning: the curve is too short to read."""

NOISE_RATIO = 0.5
"""A curve whose batch-to-batch noise exceeds this fraction of its drop is too noisy.

On the benchmark tasks' healthy curves the ratio is 0.03 to 0.13."""

RISE_RATIO = 0.25
"""A completed sweep whose loss never climbs back this fraction of its drop never diverged."""


def check_curve(learning_rates, raw_losses, stop_reason="completed"):
    """Returns the reasons (possibly none) not to trust a trimmed range-test curve.

    The checks read the lag-free smoothed curve (`smooth_without_lag`) and are scale-free:

    - too few points: fewer than `MIN_TRUSTED_POINTS` after trimming and the NaN cut;
    - the loss never decreased: the curve is lowest within its first tenth;
    - no divergence: the sweep completed and the loss never climbed back `RISE_RATIO` of its
      drop after its lowest point, so `end_lr` was probably too low to show where training
      breaks;
    - too noisy: the noise of the raw losses around the smoothed curve (a robust standard
      deviation) exceeds `NOISE_RATIO` times the curve's drop.

    Args:
        learning_rates: The trimmed learning rates.
        raw_losses: The raw losses of the same steps.
        stop_reason: Why the sweep ended. Defaults to `"completed"`.

    Returns:
        A list of messages, empty for a healthy curve.
    """
    learning_rates, raw = _validate_curve(learning_rates, raw_losses)
    cut = _first_non_finite(raw)
    if cut is not None:
        learning_rates, raw = learning_rates[:cut], raw[:cut]
    count = len(raw)
    if count < MIN_TRUSTED_POINTS:
        return [
            f"Only {count} points remain after trimming the range-test curve (at least "
            f"{MIN_TRUSTED_POINTS} are needed to read it): the suggestion is unreliable. Run "
            "more steps (`num_steps`), or start lower if the loss diverged early."
        ]
    smoothed = smooth_without_lag(learning_rates, raw)
    head = max(3, count // 10)
    start = float(np.median(smoothed[:head]))
    lowest = int(np.argmin(smoothed))
    drop = start - float(smoothed[lowest])
    if drop <= 0 or lowest < head:
        return [
            "The loss never decreased during the range test: the model may not be learning "
            "(check the data, labels and loss) or `start_lr` is already too high "
            f"(start_lr={learning_rates[0]:.3g}). The suggestion is unreliable."
        ]
    messages = []
    if stop_reason == "completed" and np.max(smoothed[lowest:]) - smoothed[lowest] < (
        RISE_RATIO * drop
    ):
        messages.append(
            "The range test ended without the loss rising again "
            f"(end_lr={learning_rates[-1]:.3g}): the largest usable learning rate is probably "
            "higher. Rerun with a larger `end_lr`."
        )
    residuals = raw - smoothed
    noise = float(np.median(np.abs(residuals - np.median(residuals)))) / 0.6745
    if noise > NOISE_RATIO * drop:
        messages.append(
            f"The range-test curve is too noisy to read: the noise of the batch losses "
            f"({noise:.3g}) exceeds half of the loss's drop ({drop:.3g}). Use a larger batch "
            "size, more steps, or `validation_data`."
        )
    return messages
