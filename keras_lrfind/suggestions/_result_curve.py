"""The part of a range-test curve the suggestion methods read, and running them on it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.suggestions import _curve_checks, _one_cycle
from keras_lrfind.suggestions import _methods as _suggestions
from keras_lrfind.suggestions._reading import CurveReading, read

# fastai drops the last 5 points (and the first `num_it // 10`) before suggesting.
SKIP_END = 5


class TrimmedCurve(NamedTuple):
    """The part of a curve the suggestion methods read (see `LRFinderResult.curve`)."""

    learning_rates: np.ndarray
    """The learning rates, trimmed."""
    smoothed_losses: np.ndarray
    """fastai's smoothed losses, which fastai's methods read."""
    losses: np.ndarray
    """The raw losses (of `validation_data` when the test had it), which ours reads."""


def _skips(result, skip_start: int | None, skip_end: int | None) -> tuple:
    """The skips given, or fastai's defaults: a tenth of the planned steps, and 5."""
    skip_start = result.num_steps // 10 if skip_start is None else skip_start
    return skip_start, SKIP_END if skip_end is None else skip_end


def _raw(result) -> np.ndarray:
    """The raw losses the suggestions read: of `validation_data` when the test had it."""
    return result.validation_losses if result.validation_losses is not None else result.losses


def trimmed(result, skip_start: int | None, skip_end: int | None) -> TrimmedCurve:
    """`result`'s curve minus `skip_start` and `skip_end` points, cut at its first NaN."""
    skip_start, skip_end = _skips(result, skip_start, skip_end)
    raw = _raw(result)
    learning_rates, smoothed = _suggestions.trim(  # Also checks the skips.
        result.learning_rates, result.smoothed_losses, skip_start, skip_end
    )
    return TrimmedCurve(learning_rates, smoothed, raw[skip_start : skip_start + len(smoothed)])


def method_name(method: str | None, argument: str = "method") -> str:
    """The suggestion method `method` names (`None`: the default); raises if unknown."""
    if method is not None and not isinstance(method, str):
        raise _checks.type_error(
            argument, method, "a method name or `None`", f"E.g. {_suggestions.DEFAULT_METHOD!r}."
        )
    name = _suggestions.DEFAULT_METHOD if method is None else _suggestions.method_name(method)
    if name not in _suggestions.METHODS:
        raise ValueError(
            f"Unknown suggestion method. Received: {argument}={method!r}. Expected `None` (the "
            f"default) or one of {sorted(_suggestions.METHODS)}."
        )
    return name


def can_read(name: str, curve: TrimmedCurve) -> bool:
    """Whether the method `name` has the points it needs (`MIN_POINTS`) in `curve`.

    Each method stops at the first loss that is not finite (for fastai's methods: once cast
    to float32, as they compute in float32); see `keras_lrfind.suggestions`.
    """
    if name in _suggestions.RAW_LOSS_METHODS:
        losses = curve.losses
    else:
        with np.errstate(over="ignore"):
            losses = curve.smoothed_losses.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(losses))
    points = int(bad[0]) if bad.size else len(losses)
    return points >= _suggestions.MIN_POINTS[name]


def reading(curve: TrimmedCurve, diverged: bool = False) -> CurveReading:
    """The one reading of the curve's raw losses that every method and check shares;
    `diverged` says whether the sweep stopped because training broke."""
    return read(curve.learning_rates, curve.losses, diverged)


def run(name: str, curve: TrimmedCurve, raw: CurveReading) -> float:
    """Runs a suggestion method on the curve it reads: the reading of the raw losses
    (ours, see `_default`), or fastai's smoothed losses (fastai's)."""
    if name in _suggestions.RAW_LOSS_METHODS:
        return _default(curve, raw)[0]
    return _suggestions.METHODS[name](curve.learning_rates, curve.smoothed_losses)


def _default(curve: TrimmedCurve, raw: CurveReading) -> tuple[float, str | None]:
    """The default method's answer, and the warning of its fallback (or `None`): the
    divergence point / 32 on a flat start where training broke (`one_cycle`, step 4);
    fastai's `valley` on a curve that cannot be read and never broke, where the trimmed
    curve has the points it needs and the valley is not the sweep's end (fastai's quirk
    for a valley of the first two points); else the reading stands."""
    answer = _one_cycle.answer(raw)
    if answer.fell_back:
        return answer.learning_rate, _one_cycle.FLAT_START_MESSAGE
    if raw.unreadable and not raw.divergence[1] and can_read("valley", curve):
        valley = run("valley", curve, raw)
        if valley < curve.learning_rates[-1]:
            return valley, _one_cycle.UNREADABLE_MESSAGE
    return answer.learning_rate, None


def suggestion(
    name: str, curve: TrimmedCurve, raw: CurveReading, stop_reason: str, end_lr: float
) -> tuple[float, list[str]]:
    """`(learning rate, warnings)` of method `name`: the reasons not to trust the curve
    (`check_curve`), and for the default method the warning of its fallback (`_default`)."""
    messages = _curve_checks.messages(raw, stop_reason, end_lr)
    if name in _suggestions.RAW_LOSS_METHODS:
        learning_rate, message = _default(curve, raw)
        return learning_rate, messages if message is None else [*messages, message]
    return run(name, curve, raw), messages


def why_unreadable(result, name: str, skip_start: int | None, skip_end: int | None) -> str | None:
    """Why method `name` has too few points in `result`'s trimmed curve, or `None`.

    Names what removed the points (the skips, the cut at the first non-finite loss, with
    its step) and the fix; see `_curve_checks.short_curve_message`.
    """
    skip_start, skip_end = _skips(result, skip_start, skip_end)
    return _curve_checks.short_curve_message(
        name,
        _suggestions.MIN_POINTS[name],
        result.learning_rates,
        result.smoothed_losses,
        _raw(result),
        skip_start=skip_start,
        skip_end=skip_end,
        reads_raw=name in _suggestions.RAW_LOSS_METHODS,
        detail=f" with lr_diff={_suggestions.MIN_POINTS[name] - 1}" if name == "slide" else "",
    )
