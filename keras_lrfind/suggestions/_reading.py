"""One reading of a range-test curve: validated, cut at its first non-finite loss, smoothed
without lag, and measured (start, drop, noise, where the loss climbs) once.

Every suggestion that reads the raw losses (`one_cycle`, `divergence_point`) and every
check of a curve (`check_curve`, `cannot_read`) takes a `CurveReading`; `LRFinderResult`
makes one per `suggest()` and passes it down.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.suggestions._smoothing import smooth_without_lag

MIN_POINTS = 5
"""Fewest finite points a reading smooths: the width of the running median."""

NOISE_LEVELS = 3.0
"""The divergence point: the climb above the lowest smoothed loss, in noise levels."""

MIN_RISE = 0.05
"""The divergence point: the smallest climb, as a fraction of the lowest smoothed loss."""


def validate_curve(learning_rates, losses):
    """Checks a curve and returns it as two float64 arrays.

    The learning rates must be positive, finite and strictly increasing; the losses
    may hold NaN or infinite values (each method cuts the curve at the first one).
    """
    learning_rates = _checks.as_float_array("learning_rates", learning_rates)
    losses = _checks.as_float_array("losses", losses)
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


def first_non_finite(values):
    """The index of the first NaN or infinite value, or `None` if all are finite."""
    bad = np.flatnonzero(~np.isfinite(values))
    return int(bad[0]) if bad.size else None


@dataclasses.dataclass(frozen=True, eq=False)
class CurveReading:
    """A range-test curve of raw losses, read once (see `read`).

    Attributes:
        learning_rates: The learning rates up to the first non-finite loss.
        losses: The raw losses up to the first non-finite loss.
        received: The number of points given, before the cut.
        cut: The index of the first non-finite loss, or `None`.
        diverged: Whether the sweep stopped because training broke (`stop_reason`
            `"diverged"` or `"non_finite_loss"`), or a loss is non-finite.
        first_learning_rate: The sweep's first learning rate (also when the cut leaves
            no point).
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    received: int
    cut: int | None
    diverged: bool
    first_learning_rate: float

    def __len__(self) -> int:
        return len(self.losses)

    @functools.cached_property
    def smoothed(self) -> np.ndarray:
        """The losses smoothed without lag (`smooth_without_lag`, its defaults)."""
        return smooth_without_lag(self.learning_rates, self.losses)

    @functools.cached_property
    def head(self) -> int:
        """The points of the curve's start: its first tenth, at least 3."""
        return max(3, len(self) // 10)

    @functools.cached_property
    def start(self) -> float:
        """The starting level: the median smoothed loss of the `head`."""
        return float(np.median(self.smoothed[: self.head]))

    @functools.cached_property
    def lowest(self) -> int:
        """The index of the lowest smoothed loss."""
        return int(np.argmin(self.smoothed))

    @functools.cached_property
    def drop(self) -> float:
        """How far the smoothed loss fell from its `start` to its lowest point."""
        return self.start - float(self.smoothed[self.lowest])

    @functools.cached_property
    def noise(self) -> float:
        """The noise of the raw losses around the smoothed curve: a robust standard
        deviation (centred median absolute deviation / 0.6745)."""
        residuals = self.losses - self.smoothed
        return float(np.median(np.abs(residuals - np.median(residuals)))) / 0.6745

    @functools.cached_property
    def decreased(self) -> bool:
        """Whether the loss decreased at all: dropped, with its lowest point after the
        `head`."""
        return bool(self.drop > 0 and self.lowest >= self.head)

    @property
    def unreadable(self) -> bool:
        """Whether the curve's valley says nothing: the loss never decreased, or the noise
        exceeds `NOISE_RATIO` times the drop. False with fewer than `MIN_POINTS` points."""
        if len(self) < MIN_POINTS:
            return False
        return not self.decreased or self.noise > NOISE_RATIO * self.drop

    @functools.cached_property
    def divergence(self) -> tuple[float, bool]:
        """`(divergence_point, broke)`: where the loss climbs clearly above its lowest point,
        and whether training broke within the sweep.

        The point is the first learning rate after the smoothed minimum whose smoothed loss
        exceeds that minimum by `NOISE_LEVELS` times the noise (here the uncentred robust
        spread, 1.4826 MAD, of the raw losses around the smoothed curve) and by at least
        `MIN_RISE` of it; `broke` is True then. Without such a climb the point is the last
        learning rate, only a lower bound of where training breaks, and `broke` says whether
        the sweep stopped because training broke anyway (`diverged`). With fewer than
        `MIN_POINTS` finite points (the loss blew up at once), the last finite one.
        """
        if len(self) == 0:
            return self.first_learning_rate, self.diverged
        if len(self) < MIN_POINTS:
            return float(self.learning_rates[-1]), self.diverged
        smoothed = self.smoothed
        noise = 1.4826 * float(np.median(np.abs(self.losses - smoothed)))
        level = smoothed[self.lowest] + max(
            NOISE_LEVELS * noise, MIN_RISE * abs(smoothed[self.lowest])
        )
        above = np.flatnonzero(smoothed[self.lowest :] > level)
        if len(above) == 0:
            return float(self.learning_rates[-1]), self.diverged
        return float(self.learning_rates[self.lowest + above[0]]), True


NOISE_RATIO = 0.5
"""A curve whose batch-to-batch noise exceeds this fraction of its drop is too noisy.

On the benchmark tasks' healthy curves the ratio is 0.03 to 0.13."""


def read(learning_rates, losses, diverged: bool = False) -> CurveReading:
    """Reads a curve of raw losses: validates it and cuts it at its first non-finite loss.

    Args:
        learning_rates: The swept learning rates, strictly increasing.
        losses: The RAW losses of the same steps; may hold NaN or infinite values.
        diverged: Whether the sweep stopped because the loss diverged. Defaults to `False`.

    Returns:
        The `CurveReading`; its measurements are computed when first asked for.
    """
    learning_rates, losses = validate_curve(learning_rates, losses)
    cut = first_non_finite(losses)
    received = len(losses)
    first = float(learning_rates[0]) if received else float("nan")
    if cut is not None:
        learning_rates, losses = learning_rates[:cut], losses[:cut]
    return CurveReading(
        learning_rates, losses, received, cut, bool(diverged) or cut is not None, first
    )
