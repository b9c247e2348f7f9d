"""Scoring of learning-rate suggestions against a ground-truth grid: pure NumPy, no Keras.

The ground truth of a task is a grid of one-cycle trainings over log-spaced `max_lr` values,
several seeds each, giving a test accuracy per (learning rate, seed). A suggested learning
rate is scored by its regret:

    regret = 100 * (max over the grid of the seed-mean accuracy
                    - seed-mean accuracy interpolated at the suggestion)

in accuracy points (percent). The interpolation is linear in `log10(lr)` between the two
grid points around the suggestion; a suggestion outside the grid gets the accuracy of the
nearest end and is flagged as clipped, because the grid says nothing beyond its ends (the
grid ranges are chosen so that both ends train clearly worse than the best).

Everything here is a small function of arrays, so that the scoring is tested with
hand-worked numbers (`tests/test_benchmarks.py`) and rescoring cached curves is instant.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

COARSE_GRID = (1e-3, 1e-2, 1e-1)
"""The learning rates a user without a range test would try (one training each)."""

_RELATIVE_TOLERANCE = 1e-9


def grid_learning_rates(low: float, high: float, per_decade: int) -> np.ndarray:
    """The log-spaced grid `10 ** (k / per_decade)` for every integer `k` within `[low, high]`.

    Every power of ten in the range is on the grid (so `COARSE_GRID` is, when in range),
    and so are `low` and `high` when they are grid values themselves.

    Args:
        low: The smallest learning rate, positive.
        high: The largest learning rate, at least `low`.
        per_decade: Grid points per factor of ten, at least 1.

    Returns:
        The increasing float64 array of grid learning rates.
    """
    if not (low > 0 and high >= low):
        raise ValueError(f"Need 0 < low <= high. Received: low={low}, high={high}.")
    if per_decade < 1:
        raise ValueError(f"`per_decade` must be at least 1. Received: per_decade={per_decade}.")
    first = math.ceil(math.log10(low) * per_decade - 1e-6)
    last = math.floor(math.log10(high) * per_decade + 1e-6)
    return np.array([10.0 ** (k / per_decade) for k in range(first, last + 1)])


@dataclasses.dataclass(frozen=True)
class Grid:
    """Test accuracies of one-cycle trainings: `accuracies[i, s]` at `learning_rates[i]`, seed s.

    Accuracies are fractions in [0, 1].
    """

    learning_rates: np.ndarray
    accuracies: np.ndarray

    def __post_init__(self):
        learning_rates = np.asarray(self.learning_rates, dtype=np.float64)
        accuracies = np.asarray(self.accuracies, dtype=np.float64)
        if accuracies.ndim == 1:
            accuracies = accuracies[:, None]
        if learning_rates.ndim != 1 or len(learning_rates) < 1:
            raise ValueError("`learning_rates` must be a non-empty 1-D array.")
        if accuracies.shape[0] != len(learning_rates):
            raise ValueError(
                f"`accuracies` must have one row per learning rate. Received shapes "
                f"{learning_rates.shape} and {accuracies.shape}."
            )
        if np.any(learning_rates <= 0) or np.any(np.diff(learning_rates) <= 0):
            raise ValueError("`learning_rates` must be positive and strictly increasing.")
        object.__setattr__(self, "learning_rates", learning_rates)
        object.__setattr__(self, "accuracies", accuracies)

    @property
    def mean_accuracies(self) -> np.ndarray:
        """The seed-mean accuracy at each grid learning rate."""
        return self.accuracies.mean(axis=1)

    @property
    def best_index(self) -> int:
        """Index of the best seed-mean accuracy (the smaller learning rate on a tie)."""
        return int(np.argmax(self.mean_accuracies))

    @property
    def best_lr(self) -> float:
        return float(self.learning_rates[self.best_index])

    @property
    def best_accuracy(self) -> float:
        return float(self.mean_accuracies[self.best_index])

    def index_of(self, learning_rate: float) -> int | None:
        """The index of a grid learning rate (relative tolerance 1e-9), or `None`."""
        close = np.isclose(self.learning_rates, learning_rate, rtol=_RELATIVE_TOLERANCE, atol=0)
        hits = np.flatnonzero(close)
        return int(hits[0]) if len(hits) else None


def interpolate_accuracy(grid: Grid, learning_rate: float) -> tuple[float, bool]:
    """The seed-mean accuracy at `learning_rate`, linear in `log10(lr)` between grid points.

    Args:
        grid: The ground truth.
        learning_rate: The learning rate to score, positive and finite.

    Returns:
        `(accuracy, clipped)`: outside the grid, the accuracy at the nearest end and
        `clipped=True`; inside, the interpolated value and `False`.

    Raises:
        ValueError: If `learning_rate` is not a positive finite number.
    """
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(
            f"`learning_rate` must be positive and finite. Received: {learning_rate!r}."
        )
    log_grid = np.log10(grid.learning_rates)
    log_lr = math.log10(learning_rate)
    means = grid.mean_accuracies
    tolerance = 1e-9
    if log_lr < log_grid[0] - tolerance:
        return float(means[0]), True
    if log_lr > log_grid[-1] + tolerance:
        return float(means[-1]), True
    log_lr = min(max(log_lr, log_grid[0]), log_grid[-1])
    return float(np.interp(log_lr, log_grid, means)), False


def regret(best_accuracy: float, accuracy: float) -> float:
    """Accuracy points (percent) lost against the best: `100 * (best - accuracy)`."""
    return 100.0 * (best_accuracy - accuracy)


def suggestion_regret(grid: Grid, learning_rate: float) -> tuple[float, bool]:
    """`(regret, clipped)` of training at a suggested `max_lr` (see `interpolate_accuracy`)."""
    accuracy, clipped = interpolate_accuracy(grid, learning_rate)
    return regret(grid.best_accuracy, accuracy), clipped


def coarse_grid_choices(grid: Grid, candidates: Sequence[float] = COARSE_GRID) -> list[float]:
    """The learning rate a user keeps after training once at each candidate, for every seed.

    A user who trains at 1e-3, 1e-2 and 1e-1 keeps the one with the best test accuracy. With
    several seeds each seed is one such user: seed `s` keeps the candidate with the highest
    `accuracies[:, s]` (the smaller learning rate on a tie). Selecting on one seed's noisy
    accuracy is part of the method's cost, so the choice is scored below by the seed-mean
    accuracy at the chosen learning rate, like every suggestion.

    Raises:
        ValueError: If a candidate is not a grid learning rate.
    """
    rows = []
    for candidate in candidates:
        index = grid.index_of(candidate)
        if index is None:
            raise ValueError(
                f"The coarse-grid learning rate {candidate:g} is not on the grid "
                f"{[f'{lr:.3g}' for lr in grid.learning_rates]}; include it in the grid."
            )
        rows.append(index)
    rows = np.array(rows)
    choices = np.argmax(grid.accuracies[rows], axis=0)  # First maximum: the smaller lr.
    return [float(grid.learning_rates[rows[choice]]) for choice in choices]


def coarse_grid_regret(grid: Grid, candidates: Sequence[float] = COARSE_GRID) -> float:
    """Mean regret over seeds of the learning rate kept from the coarse grid."""
    return float(
        np.mean([suggestion_regret(grid, lr)[0] for lr in coarse_grid_choices(grid, candidates)])
    )


def constant_lr_regret(grid: Grid, accuracies: Sequence[float]) -> float:
    """Regret of an extra training outside the grid (e.g. a constant default learning rate),
    from its test accuracies over seeds; negative when it beats the best of the grid."""
    return regret(grid.best_accuracy, float(np.mean(accuracies)))


def geometric_mean(values: Sequence[float]) -> float:
    """The geometric mean of positive values (NaN for an empty input or any non-positive)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0 or np.any(~np.isfinite(values)) or np.any(values <= 0):
        return math.nan
    return float(np.exp(np.mean(np.log(values))))


def mean_ignoring_nan(values: Sequence[float]) -> float:
    """The mean of the finite values (NaN if there are none)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table: first column left-aligned, the others right-aligned."""
    if any(len(row) != len(header) for row in rows):
        raise ValueError("Every row must have as many cells as the header.")
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def format_regret(value: float, clipped: bool = False, failures: int = 0) -> str:
    """A regret cell: one decimal, `†` when a suggestion fell outside the grid, and the
    number of failed suggestions (`✗2`) when a method raised."""
    text = "n/a" if not math.isfinite(value) else f"{value:.1f}"
    if clipped:
        text += " †"
    if failures:
        text += f" ✗{failures}"
    return text


def bootstrap_interval(
    values, statistic, level: float = 0.9, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """The percentile bootstrap interval of `statistic` over `values` (tasks resampled with
    replacement), at `level`; NaN when there are no values."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    samples = values[rng.integers(0, len(values), size=(resamples, len(values)))]
    estimates = statistic(samples, axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(estimates, tail)), float(np.quantile(estimates, 1 - tail))
