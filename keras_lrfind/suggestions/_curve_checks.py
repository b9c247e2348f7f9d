"""Checks of a range-test curve: can it be trusted, why is it too short.

`check_curve` (on a `CurveReading`: `messages`) returns the reasons not to trust a valid
curve (`LRFinderResult.suggest()` warns with them). `short_curve_message` says why a range
test's curve left a method too few points after trimming.
"""

from __future__ import annotations

import numpy as np

from keras_lrfind.suggestions._reading import (
    NOISE_RATIO,
    CurveReading,
    first_non_finite,
    read,
    validate_curve,
)

# -- Telling the user when not to trust a curve ----------------------------------------------

MIN_TRUSTED_POINTS = 20
"""Fewer points than this after trimming give a warning: the curve is too short to read."""

RISE_RATIO = 0.25
"""A completed sweep whose loss never climbs back this fraction of its drop never diverged."""


def check_curve(learning_rates, raw_losses, stop_reason="completed", *, end_lr=None):
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
        end_lr: The sweep's last learning rate, which the "no divergence" message names
            (a trimmed curve ends below it). Defaults to `None`: the curve's last one.

    Returns:
        A list of messages, empty for a healthy curve.
    """
    return messages(read(learning_rates, raw_losses), stop_reason, end_lr)


def messages(reading: CurveReading, stop_reason="completed", end_lr=None) -> list[str]:
    """`check_curve` on a reading."""
    learning_rates = reading.learning_rates
    count = len(reading)
    if count < MIN_TRUSTED_POINTS:
        return [
            f"Only {count} points remain after trimming the range-test curve (at least "
            f"{MIN_TRUSTED_POINTS} are needed to read it): the suggestion is unreliable. Run "
            "more steps (`num_steps`), or start lower if the loss diverged early."
        ]
    smoothed, drop, noise, lowest = reading.smoothed, reading.drop, reading.noise, reading.lowest
    if not reading.decreased:
        return [
            "The loss never decreased during the range test: the model may not be learning "
            "(check the data, labels and loss) or `start_lr` is already too high "
            f"(start_lr={learning_rates[0]:.3g}). The suggestion is unreliable."
        ]
    found = []
    if stop_reason == "completed" and np.max(smoothed[lowest:]) - smoothed[lowest] < (
        RISE_RATIO * drop
    ):
        reached = f"end_lr={learning_rates[-1]:.3g}"
        if end_lr is not None and end_lr != learning_rates[-1]:
            reached = f"end_lr={end_lr:.3g}; the curve read ends at lr={learning_rates[-1]:.3g}"
        found.append(
            f"The range test ended without the loss rising again ({reached}): the largest "
            "usable learning rate is probably higher. Rerun with a larger `end_lr`."
        )
    if noise > NOISE_RATIO * drop:
        found.append(
            f"The range-test curve is too noisy to read: the noise of the batch losses "
            f"({noise:.3g}) exceeds half of the loss's drop ({drop:.3g}). For a learning "
            "rate read from short trainings instead, use "
            "`keras_lrfind.find_best_learning_rate`; a larger batch size gives a smoother "
            "curve (a 3x longer test or `validation_data` did not help the default "
            "suggestion on the benchmark: see the documentation's Benchmarks section, "
            '"The default suggestion on better range tests").'
        )
    return found


def cannot_read(learning_rates, raw_losses) -> bool:
    """Whether a curve's valley says nothing: its loss never decreased, or its noise exceeds
    `NOISE_RATIO` times its drop (the two warnings of `check_curve` that say so). Reads the
    finite points before the first non-finite loss; False with fewer than 5 of them."""
    return read(learning_rates, raw_losses).unreadable


# -- Saying why a trimmed curve is too short -------------------------------------------------


def short_curve_message(
    method: str,
    min_points: int,
    learning_rates,
    smoothed_losses,
    losses,
    *,
    skip_start: int,
    skip_end: int,
    reads_raw: bool,
    detail: str = "",
) -> str | None:
    """Why `method` gets fewer than `min_points` points from a recorded curve, or `None`.

    The curve is the whole recorded one; the method reads it as
    `LRFinderResult.suggest()` gives it: `trim` drops `skip_start` and `skip_end`
    points and cuts at the first non-finite smoothed loss, then the method cuts at its
    own first non-finite loss (the raw `losses` if `reads_raw`, else the smoothed
    losses in float32). The message names each of these that removed points, the first
    non-finite loss with its step, and the fix; `detail` follows the method's name
    (`" with lr_diff=15"`).

    Example:

    >>> import numpy as np
    >>> losses = np.full(100, np.nan)  # NaN from the first step on.
    >>> print(short_curve_message("one_cycle", 5, np.geomspace(1e-7, 10, 100), losses,
    ...                           losses, skip_start=10, skip_end=5, reads_raw=True))
    `one_cycle` needs at least 5 points, but 0 of the 100 recorded remain: `skip_start`=10 \
dropped the first 10, `skip_end`=5 the last 5, and the curve is cut at its first non-finite \
loss, losses[0]=nan at step 0. The loss was not finite from the first step: rerun with a lower \
`start_lr`, or check the data and the model for NaN.
    """
    learning_rates, smoothed = validate_curve(learning_rates, smoothed_losses)
    raw = np.asarray(losses, dtype=np.float64)
    recorded = len(smoothed)
    stop = max(recorded - skip_end, 0)
    window = max(stop - skip_start, 0)
    kept = smoothed[skip_start:stop]
    cut = first_non_finite(kept)
    kept_count = window if cut is None else cut
    if reads_raw:
        read = raw[skip_start : skip_start + kept_count]
    else:
        with np.errstate(over="ignore"):
            read = kept[:kept_count].astype(np.float32)
    cut = first_non_finite(read)
    remaining = kept_count if cut is None else cut
    if remaining >= min_points:
        return None
    reasons = []
    if skip_start:
        reasons.append(f"`skip_start`={skip_start} dropped the first {min(skip_start, recorded)}")
    if skip_end:
        dropped_end = recorded - min(skip_start, recorded) - window
        reasons.append(f"`skip_end`={skip_end} the last {dropped_end}")
    first_bad = None
    if remaining < window:
        first_bad = _first_bad_step(raw, smoothed, skip_start + remaining, reads_raw)
        reasons.append(f"the curve is cut at its first non-finite loss, {first_bad[1]}")
    points = "point" if min_points == 1 else "points"
    message = f"`{method}`{detail} needs at least {min_points} {points}, but {remaining} of the "
    message += f"{recorded} recorded remain"
    if reasons:
        last = reasons.pop()
        if reasons:
            last = f"{', '.join(reasons)}{',' if len(reasons) > 1 else ''} and {last}"
        message += ": " + last
    stop = first_non_finite(raw)
    if first_bad is None and stop is not None and stop == recorded - 1:
        # Too short because the sweep stopped early, on a NaN the skips then dropped.
        since = "the first step" if stop == 0 else f"step {stop} on"
        fix = (
            f"The sweep stopped early, at its first non-finite loss (losses[{stop}]="
            f"{float(raw[stop])} at step {stop}): the loss was not finite from {since}. "
            "Rerun with a lower `start_lr`, or check the data and the model for NaN."
        )
    elif first_bad is None:
        fix = "Pass a smaller `skip_start` or `skip_end`, or run more steps (`num_steps`)."
    else:
        since = "the first step" if first_bad[0] == 0 else f"step {first_bad[0]} on"
        fix = (
            f"The loss was not finite from {since}: rerun with a lower `start_lr`, or check "
            "the data and the model for NaN."
        )
    return f"{message}. {fix}"


def _first_bad_step(raw, smoothed, step, reads_raw):
    """The first step up to `step` whose loss is not finite, and how to name its loss.

    A raw loss is named as `losses[k]`; a smoothed loss (non-finite because an earlier
    raw loss was, or beyond the float32 range fastai's methods compute in) as
    `smoothed_losses[k]`.
    """
    with np.errstate(over="ignore"):
        smoothed_read = smoothed if reads_raw else smoothed.astype(np.float32)
    for k in range(min(step, len(raw) - 1) + 1):
        if not np.isfinite(raw[k]):
            return k, f"losses[{k}]={float(raw[k])} at step {k}"
        if not np.isfinite(smoothed_read[k]):
            beyond = " (beyond the float32 range)" if np.isfinite(smoothed[k]) else ""
            return k, f"smoothed_losses[{k}]={float(smoothed[k])}{beyond} at step {k}"
    return step, f"at step {step}"
