"""keras_lrfind's default suggestion, `one_cycle`, and what it reads where a curve says little:
the `divergence_point`. Public through `keras_lrfind.suggestions`."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.suggestions._reading import MIN_POINTS, CurveReading, read
from keras_lrfind.suggestions._smoothing import smooth_without_lag

# -- Where training breaks --------------------------------------------------------------------


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
    return read(learning_rates, losses).divergence[0]


# -- The default: the maximum learning rate of a one-cycle schedule ---------------------------


FLAT_START_RATIO = 64.0
"""`one_cycle` falls back to the `divergence_point` when its answer lies this many times
below it (see `one_cycle`, step 4)."""

DIVERGENCE_DIVISOR = 32.0
"""`one_cycle`'s fallback answer is the `divergence_point` divided by this."""

FLAT_START_MESSAGE = (
    "The curve shows no usable valley (its lowest point lies at its flat start, far below "
    "where training breaks): the suggestion is the divergence point / 32 instead (see "
    "`keras_lrfind.suggestions.one_cycle`, step 4), a rough answer. For a learning rate "
    "read from short trainings, use `keras_lrfind.find_best_learning_rate`."
)
"""What `result.suggest()` warns when `one_cycle` falls back (see `is_flat_start`)."""

UNREADABLE_MESSAGE = (
    "The curve cannot be read and training never broke within the sweep: the suggestion "
    "is fastai's `valley` of it instead of the default reading (see `LRFinderResult.suggest`), "
    "a rough answer that does not extrapolate from the end of the sweep. For a learning "
    "rate read from short trainings, use `keras_lrfind.find_best_learning_rate`."
)
"""What `result.suggest()` warns when it answers fastai's `valley` on a curve that cannot be
read and never broke."""


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


@dataclasses.dataclass(frozen=True)
class OneCycleAnswer:
    """`one_cycle`'s answer, and whether it fell back to the divergence point (step 4)."""

    learning_rate: float
    fell_back: bool


def one_cycle(
    learning_rates,
    losses,
    *,
    bandwidth=0.15,
    rise=0.5,
    valley_band=0.1,
    target_drop=0.5,
    min_divisor=2.0,
    max_divisor=5.0,
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
       `clip(target_drop / drop, min_divisor, max_divisor)`: at least 2, and up to 5 for a
       curve that barely fell (such a curve often bottoms out where instability sets in).
       A rate too high wrecks a training where one too low costs a few points, so the
       margin errs low.
    4. **Never the flat start of a curve where training broke.** On a flat, noisy curve
       the lowest point is wherever the noise put it, often in the flat start, orders of
       magnitude below any rate that trains. When training broke within the sweep (the
       loss climbs, a loss is non-finite, or the sweep stopped on divergence:
       `diverged`) and the answer of steps 1 to 3 lies more than `max_below_divergence`
       (64) times below the `divergence_point`, the suggestion is `divergence_point /
       divergence_divisor` (32) instead, far on the safe side of where training breaks,
       and `result.suggest()` warns (`is_flat_start`).
    5. **Never the end of a sweep that never broke.** Without a break, the end of the
       sweep says nothing about where training breaks: the answer of steps 1 to 3 stands,
       and nothing is extrapolated upwards. On a curve that also cannot be read
       (`cannot_read`), `result.suggest()` answers fastai's `valley` of the recorded curve
       instead (never the sweep's end, where fastai's quirk would put it), and warns (chosen
       on the benchmark's tuning tasks: the same worst case, a lower mean); this function,
       which sees no fastai-smoothed curve, keeps its reading.
    6. The result is at least `learning_rates[0]`.

    The rule is scale-free: it uses ratios of losses, never absolute loss values, so
    multiplying the loss by a constant does not change the answer (it assumes a loss
    whose zero means "perfect", such as cross-entropy or MSE). Its constants were chosen
    on the benchmark's tuning tasks by their worst case first; the docs' "Which suggestion
    when" page has the current numbers. A range-test curve alone cannot see everything
    that decides the best peak: where accuracy matters more than one range test's cost,
    use `keras_lrfind.find_best_learning_rate`.

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
        min_divisor: The smallest margin. Defaults to `2.0`.
        max_divisor: The largest margin. Defaults to `5.0`.
        max_below_divergence: How far below the `divergence_point` (a ratio) the answer
            may lie before it counts as a flat-start answer; `None` never falls back.
            Defaults to `64.0`.
        divergence_divisor: The fallback answer is the `divergence_point` divided by this.
            Defaults to `32.0`.
        diverged: Whether the sweep stopped because the loss diverged (`stop_reason`
            `"diverged"` or `"non_finite_loss"`): the end of the curve then marks where
            training breaks even if the trimmed curve does not climb. Without a climb, a
            non-finite loss or `diverged`, the curve's end is only a lower bound of where
            training breaks, and step 4 does not apply. Defaults to `False`.

    Returns:
        The suggested maximum learning rate, in
        `[learning_rates[0], learning_rates[-1] / min_divisor]`.

    Example:

    >>> import numpy as np
    >>> lrs = np.logspace(-5, 0, 60)
    >>> losses = 2.3 - 1.5 / (1 + np.exp(-4 * (np.log10(lrs) + 2.5))) + np.exp(
    ...     4 * (np.log10(lrs) + 0.5))
    >>> f"{one_cycle(lrs, losses):.1e}"
    '1.6e-02'
    """
    reading = read(learning_rates, losses, diverged)
    return answer(
        reading,
        bandwidth=bandwidth,
        rise=rise,
        valley_band=valley_band,
        target_drop=target_drop,
        min_divisor=min_divisor,
        max_divisor=max_divisor,
        max_below_divergence=max_below_divergence,
        divergence_divisor=divergence_divisor,
    ).learning_rate


def answer(
    reading: CurveReading,
    *,
    bandwidth=0.15,
    rise=0.5,
    valley_band=0.1,
    target_drop=0.5,
    min_divisor=2.0,
    max_divisor=5.0,
    max_below_divergence=FLAT_START_RATIO,
    divergence_divisor=DIVERGENCE_DIVISOR,
) -> OneCycleAnswer:
    """`one_cycle` on a reading: its answer, and whether it fell back (see `one_cycle`)."""
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
    if len(reading) < MIN_POINTS:
        raise ValueError(
            f"`one_cycle` needs at least {MIN_POINTS} points; received {reading.received}"
            + (
                f", only {reading.cut} before the first non-finite loss"
                if reading.cut is not None
                else ""
            )
            + "."
        )
    learning_rates = reading.learning_rates
    smoothed = (
        reading.smoothed
        if bandwidth == 0.15
        else smooth_without_lag(learning_rates, reading.losses, bandwidth)
    )
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
    learning_rate = centre / divisor
    fell_back = False
    if max_below_divergence is not None:
        limit, broke = reading.divergence
        if learning_rate * max_below_divergence < limit and broke:
            learning_rate, fell_back = limit / divergence_divisor, True
    return OneCycleAnswer(float(max(learning_rate, learning_rates[0])), fell_back)


def is_flat_start(learning_rates, losses, diverged=False):
    """Whether `one_cycle`'s valley lies at the flat start of the curve.

    True when `one_cycle` with its defaults answers from the `divergence_point` (step 4 of
    `one_cycle`): training breaks within the sweep (see `one_cycle`'s `diverged`) and the
    valley reading lies more than `FLAT_START_RATIO` times below where. Such a curve says
    little beyond where training breaks;
    `keras_lrfind.find_best_learning_rate` reads the learning rate from short trainings
    instead.

    Args:
        learning_rates: The swept learning rates, strictly increasing.
        losses: The RAW losses of the same steps.
        diverged: As in `one_cycle`. Defaults to `False`.

    Returns:
        A bool.
    """
    return answer(read(learning_rates, losses, diverged)).fell_back
