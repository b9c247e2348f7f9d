"""How `find_best_learning_rate` spends its steps and reads its probes: pure functions.

The constants were chosen on the benchmark's tuning tasks, one seed, with
`benchmarks/probe_length.py` (`benchmarks/results/probe_length.md`):

- Probes of 1/32 or 1/16 of the training rank learning rates badly: a one-cycle squeezed
  into a few steps survives peaks at which the full training diverges (64 accuracy points
  lost on one task), and batch-norm statistics are far from settled when the probe is
  judged (24 lost on another). From an eighth of the training on, one probe per grid
  learning rate picked within about 1 point of the best (section 1).
- At the same probe cost (half a training), successive halving from 4 probes of 1/16 to 2
  of 1/8 lost 3 to 14 points on average (worst 16 to 64) against 0.3 to 0.5 (worst 1 to
  3) for one rung of 4 probes of 1/8 (section 3): the search runs one rung.
- Probes of an eighth of the training still favour peaks higher than the full training
  tolerates (the opposite of the short-horizon bias of greedy schedules: a compressed
  cycle spends few steps near its peak). Trained at `winner / c`, the mean regret was 1.6,
  0.1, 1.8 and 2.2 points for c = 1, 1.5, 2 and 3 (worst 6.1, 2.2, 8.4, 4.7; section 2),
  hence `SHORT_PROBE_BIAS = 1.5`.
- The range test is cut to a quarter of the training (at least 32 steps) when that is
  shorter than its default length (one epoch, 100 to 1000 steps):
  `benchmarks/range_test_length.py` compared the default, a quarter and an eighth on the
  tuning tasks (both seeds), with the rule fixed beforehand (the shortest design within 0.5
  points of the default's mean regret and 2 of its worst): 2.5 / 12.3 (default), 2.7 / 14.2
  (a quarter), 10.3 / 83.7 (an eighth: 32 steps over eight decades misplaced the climb on
  one task), for searches of 1.04, 0.76 and 0.68 trainings of steps
  (`benchmarks/results/range_test_length.md`).
- The range test is read where it is robust: where its lag-free
  smoothed loss climbs clearly above its lowest point. The best peaks lay 1/13 to 2 times
  that learning rate (section 2), so the candidates span 32 times below it.
- Judged in inference mode, a short probe reads batch-norm moving statistics that are
  mostly their starting values; the probe's statistics are recomputed from training batches
  before it is judged (`_probe_run.recalibrate_batch_norm`), which moved the residual
  network's winner from 0.16 (12 points lost when trained at `winner / 1.5`;
  `end_to_end_v1` in `probe_length.json`) to 0.51 (0.2 gained).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from keras_lrfind import suggestions
from keras_lrfind.range_test._sweep import default_num_steps

NUM_CANDIDATES = 4
"""The candidate peaks, log-spaced across the bracket (3.2 times apart)."""

PROBE_FRACTION = 1 / 8
"""The length of a probe, as a fraction of the training, with the default budget."""

MIN_PROBE_STEPS = 8
"""The shortest probe: a one-cycle needs a few steps to warm up and anneal."""

MIN_RANGE_TEST_STEPS = 20
"""The shortest range test `find_best_learning_rate` accepts."""

RANGE_TEST_FRACTION = 1 / 4
"""The default range test is at most this fraction of the training (and at least
`MIN_DEFAULT_RANGE_TEST_STEPS`), within `LRFinder`'s default length."""

MIN_DEFAULT_RANGE_TEST_STEPS = 32

MAX_PROBE_STEPS = 1_000_000
"""The longest probe: an eighth of a training of 8 million steps (the probes of a training
of 100 epochs of ImageNet at batch size 256, 500,000 steps, are 62,500 steps each)."""

BRACKET_RATIO = 32.0
"""The candidates span `[limit / BRACKET_RATIO, limit]`."""

SHORT_PROBE_BIAS = 1.5
"""The winning probe's peak is divided by this (see the module docstring)."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """The steps of every part of the search."""

    training_steps: int
    range_test_steps: int
    num_candidates: int
    probe_steps: int

    @property
    def total_steps(self) -> int:
        return self.range_test_steps + self.num_candidates * self.probe_steps


def default_range_test_steps(training_steps: int, epoch_steps: int) -> int:
    """`LRFinder`'s default length (one epoch of the probes' data, 100 to 1000 steps), cut
    to a quarter of the training when that is shorter, but at least 32 steps.

    Example:

    >>> [default_range_test_steps(t, 50) for t in (96, 200, 368, 5000)]
    [32, 50, 92, 100]
    """
    share = max(MIN_DEFAULT_RANGE_TEST_STEPS, math.ceil(RANGE_TEST_FRACTION * training_steps))
    return int(min(default_num_steps(epoch_steps), share))


def make_plan(
    training_steps: int,
    budget: float | None,
    num_candidates: int,
    range_test: bool,
    epoch_steps: int,
    range_test_steps: int | None = None,
) -> Plan:
    """The range test's length (`range_test_steps`, else `default_range_test_steps`) and
    the probes' length: an eighth of the training each
    with `budget=None`, else an equal share of what the budget leaves after the range test.

    Raises:
        ValueError: If the budget leaves less than `MIN_PROBE_STEPS` per probe.
    """
    if not range_test:
        range_test_steps = 0
    elif range_test_steps is None:
        range_test_steps = default_range_test_steps(training_steps, epoch_steps)
    if budget is None:
        probe_steps = max(MIN_PROBE_STEPS, math.ceil(PROBE_FRACTION * training_steps))
    else:
        budget_steps = math.floor(budget * training_steps)
        probe_steps = (budget_steps - range_test_steps) // num_candidates
        if probe_steps < MIN_PROBE_STEPS:
            needed = range_test_steps + num_candidates * MIN_PROBE_STEPS
            raise ValueError(
                f"`budget` is too small for this training: {budget!r} x {training_steps} "
                f"training steps gives {budget_steps} steps, and the shortest search needs "
                f"{needed} ("
                + (f"a range test of {range_test_steps} and " if range_test else "")
                + f"{num_candidates} probes of {MIN_PROBE_STEPS} steps). Received: "
                f"budget={budget!r}. Pass `budget=None` (an eighth of the training per "
                f"probe), at least budget={math.ceil(100 * needed / training_steps) / 100}, "
                "or more `epochs`."
            )
    return Plan(training_steps, range_test_steps, num_candidates, probe_steps)


def bracket(learning_rates, losses) -> tuple[float, float]:
    """The learning rates worth probing: `[limit / BRACKET_RATIO, limit]`, with `limit` the
    range test's `keras_lrfind.suggestions.divergence_point`."""
    limit = suggestions.divergence_point(learning_rates, losses)
    return limit / BRACKET_RATIO, limit


def candidates(low: float, high: float, count: int) -> np.ndarray:
    """`count` learning rates log-spaced from `low` to `high`, both included."""
    return np.geomspace(low, high, count)


def best_peak(learning_rates, validation_losses) -> float:
    """The peak the probes favour, between the candidates.

    The candidate with the lowest validation loss, refined by parabolic interpolation: the
    vertex (in log learning rate) of the parabola through it and its two neighbours. The
    candidate itself when it is the first or the last, when a neighbour diverged (NaN or
    infinite loss), or when the three points do not curve upwards. A probe that diverged
    never wins unless all did; a tie goes to the smaller learning rate.
    """
    learning_rates = np.asarray(learning_rates, dtype=np.float64)
    losses = np.asarray(validation_losses, dtype=np.float64)
    losses = np.where(np.isfinite(losses), losses, np.inf)
    best = int(np.argmin(losses))
    if best in (0, len(losses) - 1) or not np.isfinite(losses[[best - 1, best + 1]]).all():
        return float(learning_rates[best])
    u0, u1, u2 = np.log(learning_rates[best - 1 : best + 2])
    y0, y1, y2 = losses[best - 1 : best + 2]
    # y = a u^2 + b u + c through the three points (Lagrange form).
    denominator = (u0 - u1) * (u0 - u2) * (u1 - u2)
    a = (u2 * (y1 - y0) + u1 * (y0 - y2) + u0 * (y2 - y1)) / denominator
    b = (u2**2 * (y0 - y1) + u1**2 * (y2 - y0) + u0**2 * (y1 - y2)) / denominator
    if not a > 0:
        return float(learning_rates[best])
    return float(np.exp(np.clip(-b / (2 * a), u0, u2)))
