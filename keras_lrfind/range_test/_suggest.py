"""What `LRFinderResult.suggest` and `LRFinderResult.suggestions` compute from a result.

Both read the trimmed curve once (`keras_lrfind.suggestions`' `_result_curve`) and refuse a
curve whose weights went non-finite, as nothing was measured; `suggest` also returns the
reasons not to trust the curve, which the result raises as warnings.
"""

from __future__ import annotations

from keras_lrfind import _checks
from keras_lrfind import suggestions as _suggestions
from keras_lrfind.range_test._curves import DIVERGED_STOP_REASONS
from keras_lrfind.suggestions import _result_curve as _curve


def check_measured(result) -> None:
    """Raises unless the curve measured training (the weights stayed finite)."""
    if result.stop_reason == "non_finite_weights":
        raise ValueError(
            "The model's weights became NaN or infinite during the range test "
            "(stop_reason='non_finite_weights'), so its losses do not describe training "
            "at these learning rates and no learning rate can be suggested from them. "
            "Check the data for NaN or infinite values (`np.isfinite(x).all()`, and the "
            "labels), or a loss that masks NaN labels (its gradient is NaN all the same), "
            "then run the test again."
        )


def suggest(result, method, skip_start, skip_end, warn) -> tuple[float, list[str]]:
    """`(learning rate, warnings)` of `method` on `result`'s curve; no warnings unless `warn`.

    The arguments are those of `LRFinderResult.suggest`, checked in its order.
    """
    name = _curve.method_name(method)
    curve = result.curve(skip_start, skip_end)
    warn = _checks.boolean("warn", warn)
    check_measured(result)
    unreadable = _curve.why_unreadable(result, name, skip_start, skip_end)
    if unreadable is not None:
        raise ValueError(unreadable)
    raw = _curve.reading(curve, result.stop_reason in DIVERGED_STOP_REASONS)
    learning_rate, messages = _curve.suggestion(name, curve, raw, result.stop_reason, result.end_lr)
    return learning_rate, messages if warn else []


def suggestions(result, skip_start, skip_end, methods) -> dict[str, float | None]:
    """Every method in `methods` (`None`: all) by name, `None` where it cannot read the curve.

    The arguments are those of `LRFinderResult.suggestions`.
    """
    if methods is None:
        names = list(_suggestions.METHODS)
    elif isinstance(methods, (list, tuple)):
        names = [_curve.method_name(name, "methods") for name in methods]
    else:
        raise _checks.type_error(
            "methods", methods, "a list of method names or `None`", "E.g. ['valley']."
        )
    curve = result.curve(skip_start, skip_end)
    if result.stop_reason == "non_finite_weights":  # Nothing was measured.
        return dict.fromkeys(names)
    raw = _curve.reading(curve, result.stop_reason in DIVERGED_STOP_REASONS)
    return {
        name: _curve.run(name, curve, raw) if _curve.can_read(name, curve) else None
        for name in names
    }
