"""The curves a range test records: why the sweep ended, their checks, and the warning.

`STOP_REASONS` names every way a sweep can end, `checked_curves` validates the recorded
curves against the sweep that planned them (for `LRFinderResult`, whether the callback, a
file or a user made it), and `LRFinderWarning` is what a curve that should not be trusted
as it is raises.
"""

from __future__ import annotations

from keras_lrfind import _checks

# Why a sweep ended. Kept as plain strings so results stay JSON-friendly.
STOP_REASONS = (
    "completed",  # every planned step ran.
    "diverged",  # the smoothed loss exceeded `diverge_threshold` times the best one.
    "non_finite_loss",  # a batch loss was NaN or infinite.
    "data_exhausted",  # the data ran out (or `fit` ended) before the planned steps.
    "non_finite_weights",  # a weight became NaN or infinite: the losses mean nothing.
)

# The stop reasons that say training broke within the sweep (its last points, which
# `suggest()` trims, are where).
DIVERGED_STOP_REASONS = ("diverged", "non_finite_loss")


class LRFinderWarning(UserWarning):
    """A range-test curve, or the run that made it, should not be trusted as it is.

    Filter it like any warning, e.g.
    `warnings.simplefilter("ignore", keras_lrfind.LRFinderWarning)`.
    """


def checked_curves(sweep, learning_rates, losses, smoothed_losses, validation_losses) -> dict:
    """The curves as float arrays by name, checked to be as long as each other and no longer
    than `sweep` planned (`validation_losses` only when it is not `None`)."""
    if sweep.num_steps is None:
        raise ValueError(
            "`num_steps` must be the number of planned steps. Received: num_steps=None."
        )
    curves = {"learning_rates": learning_rates, "losses": losses}
    curves["smoothed_losses"] = smoothed_losses
    if validation_losses is not None:
        curves["validation_losses"] = validation_losses
    curves = {name: _checks.as_float_array(name, values) for name, values in curves.items()}
    lengths = {name: len(array) for name, array in curves.items()}
    if len(set(lengths.values())) != 1:
        names = ", ".join(f"`{name}`" for name in lengths)
        raise ValueError(f"{names} must have the same length. Received lengths {lengths}.")
    recorded = lengths["learning_rates"]
    if recorded > sweep.num_steps:
        raise ValueError(
            "A range test records at most one point per planned step, so the curves can "
            f"hold at most `num_steps` points. Received: num_steps={sweep.num_steps}, "
            f"{recorded} points. Pass the `num_steps` the test was planned with."
        )
    return curves
