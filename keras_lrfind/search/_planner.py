"""The decisions of `find_best_learning_rate`, apart from any training: a pure planner.

It plans the range test, the probes and the answer; whatever runs the trainings
(`find_best_learning_rate`, a KerasTuner oracle, a replay) drives it a round at a time:

1. **The range test** reads where training breaks (its divergence point, or where its loss
   climbs back to a constant prediction's after falling clearly below it); the first probes
   go around an anchor below it, or at the lowest smoothed loss of a test that never broke.
2. **Rounds of probes** (compressed one-cycles of `probe_steps`): a probe *learned* if its
   validation loss is clearly below the untrained model's and a constant prediction's
   (`Baselines`); candidates are the probes that learned, within `accuracy_noise` standard
   errors of the most accurate where the model reports an accuracy. The first round is the
   anchor and one spacing either side; an edge winner extends the bracket (upwards at most
   `max_above_limit` spacings past a real break). A round that learned nothing goes higher
   past *inert* probes (`_climb`), one spacing higher when the highest was best, lower when
   all were worse than untrained or the lowest was best by more than `flat_margin` (or no
   longer probes fit), else longer at the best and the one below. From then on, a default
   search on a training under `rescue_max_steps` steps may spend up to `rescue` trainings
   (`limit_steps`), room for probes long enough to learn.
3. **Longer probes**: the settled winner and its better neighbour (the one below unless the
   one above scored lower) run `lengthen` times as long (at most the training; extended
   downward only) where the budget has room; short trainings get room for this
   (`min_short_probes`), whole-training probes when it holds `min_probes` of them.
4. **The answer**: from the longest probes that learned (below every rate whose longer
   probe failed), the best candidate (the lowest within `tie_tolerance` of the best loss),
   refined by a parabola through its neighbours, divided by `short_probe_bias`; with none
   learned, no answer. Steps count against `limit_steps`; rates are on a grid.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from keras_lrfind.range_test._sweep import default_num_steps
from keras_lrfind.search._baselines import Baselines
from keras_lrfind.search._policy import DEFAULT_POLICY, Policy
from keras_lrfind.suggestions._reading import read

GRID_PER_DECADE = 3
"""Candidate learning rates are `10 ** (k / GRID_PER_DECADE)`."""

MIN_PROBE_STEPS = 8
"""The shortest probe: a one-cycle needs a few steps to warm up and anneal."""

MIN_RANGE_TEST_STEPS = 20
"""The shortest range test the search accepts."""

MAX_PROBE_STEPS = 1_000_000
"""The longest probe."""


@dataclasses.dataclass(frozen=True)
class Probe:
    """One probe training: `OneCycle(learning_rate, steps)` from the initial weights."""

    learning_rate: float
    steps: int


@dataclasses.dataclass(frozen=True)
class Decision:
    """The planner's answer: `max_lr`, the refined `winner` over `short_probe_bias` (with
    nothing learned, the lowest rate probed, past inert ones when the next did not make the
    model worse; `winner` is then `None`); whether the answer `learned` (see step 4); whether
    every probe `diverged` (non-finite, or clearly worse than untrained); and the
    `probe_steps` of the probes it was read from."""

    max_lr: float
    winner: float | None
    learned: bool
    diverged: bool
    probe_steps: int


def grid_index(learning_rate: float) -> int:
    """The index `k` of the grid point `10 ** (k / GRID_PER_DECADE)` nearest (in log)."""
    return round(math.log10(learning_rate) * GRID_PER_DECADE)


def grid_rate(index: int) -> float:
    """The grid learning rate of index `index`."""
    return float(10.0 ** (index / GRID_PER_DECADE))


def default_range_test_steps(training_steps: int, epoch_steps: int, policy: Policy) -> int:
    """The default range test: `range_test_fraction` of the training, at least
    `range_test_min_steps`, at most `LRFinder`'s default (one epoch, 100 to 1000 steps)."""
    share = max(policy.range_test_min_steps, math.ceil(policy.range_test_fraction * training_steps))
    return int(min(default_num_steps(epoch_steps), share))


def default_probe_steps(training_steps: int, policy: Policy) -> int:
    """The default probe: `probe_fraction` of the training, at least `probe_min_steps`, at
    most half the training (and at least `MIN_PROBE_STEPS`)."""
    steps = max(policy.probe_min_steps, round(policy.probe_fraction * training_steps))
    return int(max(MIN_PROBE_STEPS, min(steps, training_steps // 2)))


class Planner:
    """The search's decisions; see the module docstring.

    Args:
        training_steps: The steps of the training the answer is for.
        epoch_steps: The steps of one epoch of the probes' training data.
        budget: The search's budget as a fraction of the training, or `None` (the policy's).
        range_test_steps: The range test's length, or `None` (the default).
        candidates: The peak learning rates to probe instead of a range test's, or `None`.
        policy: The constants.
    """

    def __init__(
        self,
        training_steps: int,
        epoch_steps: int,
        *,
        budget: float | None = None,
        range_test_steps: int | None = None,
        candidates=None,
        policy: Policy = DEFAULT_POLICY,
    ):
        self.policy = policy
        self.training_steps = training_steps
        self.fixed = None if candidates is None else [float(lr) for lr in candidates]
        self.probe_steps = default_probe_steps(training_steps, policy)
        if self.fixed is not None:
            self.range_test_steps = 0
        elif range_test_steps is not None:
            self.range_test_steps = int(range_test_steps)
        else:
            self.range_test_steps = default_range_test_steps(training_steps, epoch_steps, policy)
        if budget is None:
            short = policy.min_short_probes * min(self.probe_steps, policy.probe_min_steps)
            minimum = self.range_test_steps + max(policy.min_probes * self.probe_steps, short)
            if self.fixed is not None:
                minimum = len(self.fixed) * self.probe_steps
            self.budget_steps = max(math.floor(policy.budget * training_steps), minimum)
        else:
            self.budget_steps = math.floor(budget * training_steps)
            if self.fixed is not None:
                self.probe_steps = (self.budget_steps - self.range_test_steps) // len(self.fixed)
        self.rescue_steps = self.budget_steps  # The budget once a round learned nothing.
        if budget is None and self.fixed is None and training_steps < policy.rescue_max_steps:
            rescue = math.floor(policy.rescue * training_steps)
            self.rescue_steps = max(self.budget_steps, rescue)
        self.rescued = False
        room = self.budget_steps - self.range_test_steps
        if self.fixed is None and room >= policy.min_probes * training_steps:
            self.probe_steps = max(self.probe_steps, training_steps)  # Probes *are* trainings.
        self.spent = self.range_test_steps
        self.baselines: Baselines | None = None
        self.limit: float | None = None  # Where the range test saw training break.
        self.broke = False
        self.anchor: float | None = None
        self.losses: dict[Probe, float] = {}
        self.weight_changes: dict[Probe, float] = {}
        self.accuracies: dict[Probe, float] = {}
        self.length = self.probe_steps  # The probes' current length.

    def read_range_test(self, learning_rates, losses, stop_reason: str) -> None:
        """Places the anchor of the first probes (see the module docstring, step 1)."""
        self.range_test = (np.asarray(learning_rates), np.asarray(losses), stop_reason)

    def set_baselines(self, baselines: Baselines) -> None:
        self.baselines = baselines

    def _place_anchor(self) -> None:
        learning_rates, losses, stop_reason = self.range_test
        reading = read(learning_rates, losses, stop_reason in ("diverged", "non_finite_loss"))
        if len(reading) < 5:  # The loss blew up at once: start well below.
            self.limit, self.broke = reading.divergence
            self.anchor = self.limit / grid_rate(self.policy.spacing)
            return
        limit, broke = reading.divergence
        reference = self.baselines.reference
        floor = reference - self.policy.learned_margin * abs(reference)
        smoothed = reading.smoothed
        if smoothed[reading.lowest] < floor:  # It fell clearly below chance: a return is a break.
            level = reference - 0.5 * self.policy.learned_margin * abs(reference)
            back = np.flatnonzero(smoothed[reading.lowest :] >= level)
            if len(back):
                limit = min(limit, float(reading.learning_rates[reading.lowest + back[0]]))
                broke = True
        self.limit, self.broke = limit, broke
        if broke:
            self.anchor = limit / grid_rate(self.policy.anchor_below_limit)
        else:
            self.anchor = float(reading.learning_rates[reading.lowest])

    def next_round(self) -> list[Probe]:
        """The probes to run next (independent of each other); empty when done."""
        if self.fixed is not None:
            probes = [Probe(lr, self.probe_steps) for lr in self.fixed]
            probes = [probe for probe in probes if probe not in self.losses]
        elif not self.losses:
            self._place_anchor()
            centre = grid_index(self.anchor)
            spacing = self.policy.spacing
            probes = [
                Probe(grid_rate(index), self.length)
                for index in (centre - spacing, centre, centre + spacing)
            ]
        else:
            probes = self._next_probes()
        cost = sum(probe.steps for probe in probes)
        if not probes or self.spent + cost > self.limit_steps:
            return []
        self.spent += cost
        self.length = probes[0].steps
        return probes

    @property
    def limit_steps(self) -> int:
        """`budget_steps`, or `rescue_steps` once a round learned nothing."""
        return self.rescue_steps if self.rescued else self.budget_steps

    def record(self, probe: Probe, loss: float, weight_change=None, accuracy=None) -> None:
        """A probe's validation loss (NaN or infinite: diverged), how far it moved the
        trainable weights (`None`: not measured, never inert) and its validation accuracy."""
        self.losses[probe] = float(loss) if math.isfinite(loss) else math.inf
        if weight_change is not None:
            self.weight_changes[probe] = float(weight_change)
        if accuracy is not None and math.isfinite(accuracy):
            self.accuracies[probe] = float(accuracy)

    def _current(self) -> list[tuple[float, float]]:
        """`(learning rate, loss)` of the probes of the current length, by learning rate."""
        return self._of_length(self.length)

    def _of_length(self, steps: int) -> list[tuple[float, float]]:
        return sorted(
            (p.learning_rate, loss) for p, loss in self.losses.items() if p.steps == steps
        )

    def _next_probes(self) -> list[Probe]:
        spacing = self.policy.spacing
        current = self._current()
        indices = [grid_index(lr) for lr, _ in current]
        learned = [(lr, loss) for lr, loss in current if self.learned(loss)]
        if not learned:
            self.rescued = True
            # Too high, too low or too short (step 2 of the module docstring).
            top = Probe(current[-1][0], self.length)
            above = self._climb(top) if self._inert(top, current[-1][1]) else None
            if above is not None:
                return [Probe(grid_rate(above), self.length)]
            moved = [
                item for item in current if not self._inert(Probe(item[0], self.length), item[1])
            ]
            best = grid_index(min(moved or current, key=lambda item: item[1])[0])
            worse = all(self._diverged(loss) for _, loss in current)
            longer = min((self.limit_steps - self.spent) // 2, self.training_steps)
            walk = longer < 2 * self.length or self._sloped(moved or current, best)
            if worse or (best == min(indices) and walk):
                return [Probe(grid_rate(min(indices) - spacing), self.length)]
            if (
                best == max(indices)
                and self.length == self.probe_steps
                and not self._diverged(self.losses[Probe(grid_rate(best), self.length)])
                and best + spacing <= self._ceiling()
            ):
                return [Probe(grid_rate(best + spacing), self.length)]
            probes = [Probe(grid_rate(best - spacing), longer), Probe(grid_rate(best), longer)]
            return probes if longer >= 2 * self.length else []
        winner = self._choice(learned, self.length)
        index = grid_index(winner)
        if index == min(indices):
            return [Probe(grid_rate(index - spacing), self.length)]
        lengthened = self.length != self.probe_steps
        if index == max(indices) and not lengthened and self._may_go_above(index + spacing):
            return [Probe(grid_rate(index + spacing), self.length)]
        longer = min(self.policy.lengthen * self.length, self.training_steps)
        if longer > self.length and not lengthened:
            losses = {grid_index(lr): loss for lr, loss in learned}  # The better neighbour:
            up = losses.get(index + spacing, math.inf) < losses.get(index - spacing, math.inf)
            low = index if up else index - spacing
            return [Probe(grid_rate(low), longer), Probe(grid_rate(low + spacing), longer)]
        return []

    def _sloped(self, probes: list[tuple[float, float]], best: int) -> bool:
        """Whether grid index `best` beats its nearest neighbour by `flat_margin` (a slope)."""
        losses = {grid_index(lr): loss for lr, loss in probes}
        others = sorted(
            (abs(index - best), loss) for index, loss in losses.items() if index != best
        )
        reference = abs(self.baselines.reference) if self.baselines is not None else 0.0
        return not others or others[0][1] - losses[best] > self.policy.flat_margin * reference

    def _may_go_above(self, index: int) -> bool:
        return not self.broke or index <= self._ceiling()

    def learned(self, loss: float) -> bool:
        return self.baselines is None or self.baselines.learned(loss, self.policy.learned_margin)

    def _inert(self, probe: Probe, loss: float) -> bool:
        """Whether `probe` moved the weights and the loss by less than `inert_change`."""
        change = self.weight_changes.get(probe)
        if change is None or self.baselines is None or not math.isfinite(loss):
            return False
        limit, untrained = self.policy.inert_change, self.baselines.untrained
        return change < limit and abs(loss - untrained) < limit * abs(untrained)

    def _climb(self, probe: Probe) -> int | None:
        """Where to probe above an inert `probe`: where the weights would move by
        `inert_change` (in proportion to the rate), two spacings up at least, `_ceiling` most."""
        change = self.weight_changes[probe]
        index = grid_index(probe.learning_rate)
        target = index + 2 * self.policy.spacing
        if change > 0:
            rate = probe.learning_rate * self.policy.inert_change / change
            target = max(target, math.ceil(math.log10(rate) * GRID_PER_DECADE - 1e-9))
        target = min(target, self._ceiling())
        return target if target > index else None

    def _ceiling(self) -> int:
        """The highest index a round that learned nothing may probe: the range test's limit,
        or `max_above_limit` spacings past a real break."""
        above = self.policy.max_above_limit * self.policy.spacing if self.broke else 0
        return grid_index(self.limit) + above

    def _diverged(self, loss: float) -> bool:
        if self.baselines is None or not math.isfinite(loss):
            return not math.isfinite(loss)
        untrained = self.baselines.untrained
        return loss > untrained + self.policy.learned_margin * abs(untrained)

    def _accurate(self, learned: list[tuple[float, float]], steps: int) -> list:
        """The probes of `learned` (of `steps` steps) whose validation accuracy is within
        `accuracy_noise` standard errors of the best one's: all, when any has none."""
        scores = [self.accuracies.get(Probe(lr, steps)) for lr, _ in learned]
        noise = self.policy.accuracy_noise
        if not noise or self.baselines is None or None in scores:
            return learned
        error = self.baselines.accuracy_error(max(scores))
        if error is None:
            return learned
        keep = max(scores) - noise * error
        return [item for item, score in zip(learned, scores, strict=True) if score >= keep]

    def _choice(self, learned: list[tuple[float, float]], steps: int) -> float:
        """The lowest rate within `tie_tolerance` of the best loss, of the `_accurate` ones."""
        learned = self._accurate(learned, steps)
        best = min(loss for _, loss in learned)
        reference = self.baselines.reference if self.baselines is not None else best
        tolerance = self.policy.tie_tolerance * max(reference - best, 0.0)
        return min(lr for lr, loss in learned if loss <= best + tolerance)

    def decision(self) -> Decision:
        """The answer from the probes run so far (see the module docstring, step 4)."""
        length = self.length
        current = self._current()
        if self.fixed is not None:
            current = sorted((p.learning_rate, loss) for p, loss in self.losses.items())
        learned = [(lr, loss) for lr, loss in current if self.learned(loss)]
        if not learned and self.fixed is None:
            # Longer probes that learned nothing: the longest probes that did answer, below
            # every rate that failed longer (it broke or stalled once it ran longer).
            cap = math.inf
            for steps in sorted({probe.steps for probe in self.losses}, reverse=True):
                rows = self._of_length(steps)
                learned = [(lr, loss) for lr, loss in rows if self.learned(loss) and lr < cap]
                if learned:
                    length, current = steps, rows
                    break
                cap = min([cap] + [lr for lr, _ in rows])
        diverged = bool(self.losses) and all(map(self._diverged, self.losses.values()))
        if not learned:
            # The lowest rate probed, past inert ones when the next did not make it worse.
            ordered = sorted(self.losses, key=lambda p: (p.learning_rate, p.steps))
            moved = [p for p in ordered if not self._inert(p, self.losses[p])]
            safe = moved and not self._diverged(self.losses[moved[0]])
            lowest = (moved[0] if safe else ordered[0]).learning_rate
            return Decision(lowest, None, False, diverged, length)
        accurate = set(self._accurate(learned, length))
        winner = refine(current, self._choice(learned, length), accurate.__contains__)
        return Decision(winner / self.policy.short_probe_bias, winner, True, diverged, length)


def refine(current: list[tuple[float, float]], choice: float, usable) -> float:
    """The vertex (in log rate) of the parabola through `choice` and its neighbours, within
    them; `choice` at an edge, beside a probe not `usable(item)`, or when not curving up."""
    learning_rates = [lr for lr, _ in current]
    index = learning_rates.index(choice)
    if index in (0, len(current) - 1):
        return choice
    if not (usable(current[index - 1]) and usable(current[index + 1])):
        return choice
    (u0, y0), (u1, y1), (u2, y2) = [
        (math.log(lr), loss) for lr, loss in current[index - 1 : index + 2]
    ]
    denominator = (u0 - u1) * (u0 - u2) * (u1 - u2)
    a = (u2 * (y1 - y0) + u1 * (y0 - y2) + u0 * (y2 - y1)) / denominator
    b = (u2**2 * (y0 - y1) + u1**2 * (y2 - y0) + u0**2 * (y1 - y2)) / denominator
    if not a > 0:
        return choice
    return float(math.exp(min(max(-b / (2 * a), u0), u2)))
