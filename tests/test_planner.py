"""Tests for the search's planner: its rules, on made-up range tests and probe outcomes.

The planner makes every decision of `find_best_learning_rate` from numbers alone, so each
rule is pinned here on outcomes written by hand, with the expected probes and answers worked
out from the documented rules (grid of 3 points per decade, probes two grid points apart, the
anchor two grid points below the break, the answer the refined winner).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from keras_lrfind.search._planner import (
    Baselines,
    Planner,
    Probe,
    grid_index,
    grid_rate,
    refine,
)
from keras_lrfind.search._policy import DEFAULT_POLICY
from keras_lrfind.suggestions._reading import read

CHANCE = math.log(10)  # Ten balanced classes.
# The line search's rules without the last round that lengthens the probes (tested apart).
ONE_LENGTH = dataclasses.replace(DEFAULT_POLICY, lengthen=1)
BASELINES = Baselines(untrained=2.4, constant=CHANCE)
THIRD = 10 ** (1 / 3)  # One grid step.


def falling_curve(lowest=0.6, broke_at=None, num=141):
    """A range test over 1e-6..10 whose loss falls from chance to `lowest` around 1e-3;
    past `broke_at` the loss is NaN (the sweep stopped there)."""
    learning_rates = np.logspace(-6, 1, num)
    fall = 1 / (1 + np.exp(-3 * (np.log10(learning_rates) + 3)))
    losses = CHANCE - (CHANCE - lowest) * fall
    stop_reason = "completed"
    if broke_at is not None:
        losses[learning_rates > broke_at] = np.nan
        stop_reason = "non_finite_loss"
    return learning_rates, losses, stop_reason


def flat_curve(lowest_at, num=141):
    """A range test over 1e-7..10 that learned nothing and never broke: its loss stays
    within 0.1% of the untrained model's, lowest at `lowest_at`."""
    learning_rates = np.logspace(-7, 1, num)
    offset = 1e-3 * BASELINES.untrained * ((np.log10(learning_rates / lowest_at)) / 8) ** 2
    return learning_rates, BASELINES.untrained + offset, "completed"


def last_finite(curve):
    """The last learning rate of a curve with a finite loss."""
    learning_rates, losses, _ = curve
    return float(learning_rates[np.isfinite(losses)][-1])


def run(planner, outcome):
    """Runs the planner's rounds with `outcome(learning_rate, steps)` as the probes'
    validation loss, or as `(validation loss, weight change)`; returns the probes in order
    and the decision."""
    ran = []
    while probes := planner.next_round():
        for probe in probes:
            ran.append(probe)
            result = outcome(probe.learning_rate, probe.steps)
            planner.record(probe, *(result if isinstance(result, tuple) else (result,)))
    return ran, planner.decision()


def planner_for(curve, training_steps=2000, epoch_steps=200, baselines=BASELINES, **kwargs):
    planner = Planner(training_steps, epoch_steps, **kwargs)
    planner.set_baselines(baselines)
    planner.read_range_test(*curve)
    return planner


def rates(probes):
    return [probe.learning_rate for probe in probes]


class TestLengths:
    @pytest.mark.parametrize(
        ("training_steps", "epoch_steps", "range_test", "probe"),
        [
            (2000, 100, 100, 200),  # max(64, 2000 / 16) = 125; one epoch clipped: 100.
            (2000, 900, 125, 200),  # 2000 / 16 = 125; probes 2000 / 10.
            (300, 100, 64, 32),  # At least 64 and 32 steps.
            (92, 23, 64, 32),  # Room for 352 / 92 = 3.8 full trainings: a tenth still.
            (88, 22, 64, 88),  # Room for 352 / 88 = 4 full trainings: the whole training.
            (40, 10, 64, 40),  # Room for 220 / 40 = 5.5: the whole training, not half.
        ],
    )
    def test_default_lengths(self, training_steps, epoch_steps, range_test, probe):
        """The range test is a sixteenth of the training (at least 64 steps, at most
        `LRFinder`'s default of one epoch within 100..1000); a probe a tenth (at least 32
        steps, at most half the training), or the whole training when the budget holds the
        range test and four of those."""
        planner = Planner(training_steps, epoch_steps)
        assert planner.range_test_steps == range_test
        assert planner.probe_steps == probe

    def test_default_budget_is_half_a_training_or_room_for_short_probes(self):
        """The default budget is half the training, raised to what the range test and four
        default probes need, and to the range test and eleven probes of 32 steps."""
        assert Planner(10_000, 2000).budget_steps == 5000
        assert Planner(300, 100).budget_steps == 64 + 11 * 32
        assert Planner(100, 100).budget_steps == 64 + 11 * 32  # Probes of 32 of 100 steps.
        assert Planner(40, 10).budget_steps == 64 + 11 * 20  # Probes of 20: half of 40.
        assert Planner(1000, 100).budget_steps == 500  # Half a training: 100-step probes.

    def test_whole_training_probes_are_never_lengthened(self):
        """Probes as long as the training are not run again longer: the settled winner is
        the answer, and a round that learned nothing cannot go longer either."""
        planner = planner_for(falling_curve(broke_at=0.3), training_steps=64, epoch_steps=32)
        assert planner.probe_steps == 64

        def outcome(learning_rate, steps):  # Best at the first round's centre.
            return 1.0 + 0.1 * math.log10(learning_rate / grid_rate(-4)) ** 2

        ran, decision = run(planner, outcome)
        assert {probe.steps for probe in ran} == {64}
        assert len(ran) == 3 and decision.winner == pytest.approx(grid_rate(-4), rel=1e-9)
        nothing = planner_for(falling_curve(broke_at=0.3), training_steps=64, epoch_steps=32)
        first = nothing.next_round()
        for probe, loss in zip(first, [CHANCE, CHANCE - 0.01, CHANCE], strict=True):
            nothing.record(probe, loss)  # None learned; the middle one is best.
        assert nothing.next_round() == []

    def test_fixed_candidates_share_an_explicit_budget(self):
        """With `candidates` and a budget, there is no range test and the candidates share
        the budget equally."""
        planner = Planner(1000, 100, budget=0.3, candidates=[0.1, 0.01, 1.0])
        assert planner.range_test_steps == 0
        assert planner.probe_steps == 300 // 3


class TestRules:
    def test_probes_go_around_an_anchor_below_where_training_broke(self):
        """A sweep that broke at lr 0.3: the anchor is two grid points below its last
        finite learning rate, the first probes the anchor and two grid points either side."""
        curve = falling_curve(broke_at=0.3)
        limit = last_finite(curve)
        planner = planner_for(curve)
        first = planner.next_round()
        centre = grid_index(limit / THIRD**2)
        assert planner.broke and planner.limit == pytest.approx(limit)
        assert rates(first) == [grid_rate(centre + k) for k in (-2, 0, 2)]
        assert all(probe.steps == 200 for probe in first)

    def test_probes_that_cannot_learn_make_the_search_extend_downward(self):
        """Where no probe beats chance and the loss falls clearly towards lower rates (by
        more than 2.5% of chance per spacing), the search probes lower until one learns,
        then answers from it (and never from a probe that did not learn)."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.0, policy=ONE_LENGTH)

        def outcome(learning_rate, steps):  # Learns only below 0.003; best at 0.002.
            if learning_rate > 0.003:  # Not learned (2.19 is 5% below chance), nor worse.
                return 2.2 + 0.1 * math.log10(learning_rate / 0.003)  # 0.067 per spacing.
            return 1.0 + 0.1 * abs(math.log10(learning_rate / 0.002))

        ran, decision = run(planner, outcome)
        centre = grid_index(planner.limit / THIRD**2)
        assert rates(ran) == [
            grid_rate(centre - 2),
            grid_rate(centre),
            grid_rate(centre + 2),
            grid_rate(centre - 4),  # Nothing learned, the lowest was best: lower.
            grid_rate(centre - 6),  # The winner sat on the lower edge: lower again.
        ]
        assert grid_rate(centre - 4) < 0.003 < grid_rate(centre - 2)
        assert decision.learned
        assert decision.winner == grid_rate(centre - 4)  # Its upper neighbour did not learn.
        assert decision.max_lr == decision.winner

    def test_a_winner_on_the_upper_edge_extends_upward_by_at_most_one_spacing_past_a_break(
        self,
    ):
        """A winner at the top of the probes extends them upward, but not more than one
        spacing (two grid points) above where training broke."""
        curve = falling_curve(broke_at=3.0)
        planner = planner_for(curve, budget=1.0, policy=ONE_LENGTH)
        ran, decision = run(planner, lambda lr, steps: 1.0 - 0.01 * math.log10(lr))
        limit_index = grid_index(planner.limit)
        centre = grid_index(planner.limit / THIRD**2)
        assert rates(ran) == [grid_rate(centre + k) for k in (-2, 0, 2, 4)]
        assert centre + 4 <= limit_index + 2 < centre + 6
        assert decision.winner == grid_rate(centre + 4)

    def test_an_interior_winner_is_refined_and_ends_the_search(self):
        """Without lengthening, a winner with a probe either side ends the search: the
        answer is the parabola's vertex through the three."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.0, policy=ONE_LENGTH)
        centre = grid_index(last_finite(curve) / THIRD**2)
        best = grid_rate(centre) * THIRD**0.5  # Half a grid step above the middle probe.

        def outcome(learning_rate, steps):
            return 1.0 + 0.1 * math.log10(learning_rate / best) ** 2

        ran, decision = run(planner, outcome)
        assert len(ran) == 3
        assert decision.winner == pytest.approx(best, rel=1e-9)  # A parabola in log lr.
        assert decision.max_lr == pytest.approx(best, rel=1e-9)

    def test_a_settled_winner_is_probed_again_three_times_as_long_with_the_one_below(self):
        """Once a winner has a probe either side, it and the probe one spacing below run
        three times as long, and the answer is read from those longer probes: here the
        longer probes favour the lower rate, so the search extends downward at the longer
        length (never upward) and answers from the 600-step probes."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.5)
        centre = grid_index(last_finite(curve) / THIRD**2)

        def outcome(learning_rate, steps):  # Short probes: best at the centre; long: lower.
            best = grid_rate(centre) if steps == 200 else grid_rate(centre - 2)
            return 1.0 + 0.1 * math.log10(learning_rate / best) ** 2

        ran, decision = run(planner, outcome)
        assert [(grid_index(p.learning_rate) - centre, p.steps) for p in ran] == [
            (-2, 200),
            (0, 200),
            (2, 200),
            (-2, 600),  # The winner and the probe below it, three times as long.
            (0, 600),
            (-4, 600),  # The lower one won, at the edge: one more below.
        ]
        assert decision.probe_steps == 600
        assert decision.winner == pytest.approx(grid_rate(centre - 2), rel=1e-9)
        assert planner.spent == 125 + 3 * 200 + 3 * 600 <= planner.budget_steps

    def test_longer_probes_never_extend_upward(self):
        """Longer probes that favour the upper of the two end the search there: the answer
        is that grid point, not a probe above it (the search only moves to the safe side
        once the probes are lengthened)."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.0)
        centre = grid_index(last_finite(curve) / THIRD**2)
        best = grid_rate(centre)
        ran, decision = run(planner, lambda lr, steps: 1.0 + 0.1 * math.log10(lr / best) ** 2
                            - 0.2 * (steps == 600) * (lr >= best))  # fmt: skip
        assert [p.steps for p in ran] == [200, 200, 200, 600, 600]
        assert decision.winner == pytest.approx(best, rel=1e-9)
        assert decision.probe_steps == 600

    def test_a_settled_winner_runs_longer_with_the_one_above_when_it_scored_lower(self):
        """Short probes around the centre score 1.0 there, 1.04 one spacing above and 1.2
        one below: the better neighbour is the one above, so it and the winner run three
        times as long. The longer probes favour the upper one, at the top edge of the
        lengthened probes: the answer is that grid point (never a probe above it)."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.5)
        centre = grid_index(last_finite(curve) / THIRD**2)
        short = {centre - 2: 1.2, centre: 1.0, centre + 2: 1.04}
        long = {centre: 0.9, centre + 2: 0.8}
        ran, decision = run(
            planner, lambda lr, steps: (short if steps == 200 else long)[grid_index(lr)]
        )
        assert [(grid_index(p.learning_rate) - centre, p.steps) for p in ran] == [
            (-2, 200),
            (0, 200),
            (2, 200),
            (0, 600),  # The winner and the one above it, three times as long.
            (2, 600),
        ]
        assert decision.probe_steps == 600
        assert decision.winner == grid_rate(centre + 2)

    def test_a_winner_confirmed_below_the_one_above_extends_downward(self):
        """The same search whose longer probes favour the winner over the one above: the
        winner sits at the lower edge of the longer probes, so one more probe runs below it
        at that length (downward only), and the answer is the refined vertex of the three."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.5)
        centre = grid_index(last_finite(curve) / THIRD**2)
        short = {centre - 2: 1.2, centre: 1.0, centre + 2: 1.04}
        long = {centre - 2: 0.95, centre: 0.8, centre + 2: 0.85}
        ran, decision = run(
            planner, lambda lr, steps: (short if steps == 200 else long)[grid_index(lr)]
        )
        assert [(grid_index(p.learning_rate) - centre, p.steps) for p in ran][3:] == [
            (0, 600),
            (2, 600),
            (-2, 600),
        ]
        # The parabola through (-2, 0.95), (0, 0.8), (2, 0.85) in grid steps has its vertex
        # at 2 * (0.95 - 0.85) / (2 * (0.95 - 2 * 0.8 + 0.85)) = 0.5 grid steps up.
        assert decision.winner == pytest.approx(grid_rate(centre) * THIRD**0.5, rel=1e-9)

    def test_longer_probes_that_learned_nothing_leave_the_answer_to_shorter_ones_below(self):
        """Short probes score 1.1, 1.0, 1.05 and 1.3 at -4, -2, 0 and +2 grid steps: the
        best (-2) runs longer with the one above (0), and both longer probes diverge. The
        search would go lower at 600 steps, but 125 + 4 x 200 + 3 x 600 = 2725 steps exceed
        the budget (2500). The answer comes from the 200-step probes below every rate that
        failed longer (-2): the probe at -4, not the best short one at -2."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.25)
        centre = grid_index(last_finite(curve) / THIRD**2)
        short = {centre - 4: 1.1, centre - 2: 1.0, centre: 1.05, centre + 2: 1.3}
        ran, decision = run(
            planner, lambda lr, steps: short[grid_index(lr)] if steps == 200 else math.inf
        )
        assert [(grid_index(p.learning_rate) - centre, p.steps) for p in ran] == [
            (-2, 200),
            (0, 200),
            (2, 200),
            (-4, 200),  # The best at the lower edge: one more below.
            (-2, 600),  # The best and its better neighbour, three times as long.
            (0, 600),
        ]
        assert decision.learned and decision.probe_steps == 200
        assert decision.winner == grid_rate(centre - 4)

    def test_no_answer_from_probes_at_or_above_a_rate_that_failed_longer(self):
        """When every longer probe diverges, down to one below every short probe (-4, at
        600 steps), no short probe lies below a rate that failed longer: nothing learned
        that held, and the answer is the lowest rate probed, a safe fallback."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, budget=1.5)
        centre = grid_index(last_finite(curve) / THIRD**2)
        best = grid_rate(centre)

        def outcome(learning_rate, steps):
            if steps > 200:
                return math.inf
            return 1.0 + 0.1 * math.log10(learning_rate / best) ** 2

        ran, decision = run(planner, outcome)
        assert [(grid_index(p.learning_rate) - centre, p.steps) for p in ran][3:] == [
            (-2, 600),
            (0, 600),
            (-4, 600),
        ]
        assert not decision.learned and decision.winner is None
        assert decision.max_lr == grid_rate(centre - 4)

    def test_a_short_training_has_room_to_lengthen_its_probes(self):
        """A 300-step training: probes of 32 steps and a budget of 64 + 11 x 32 = 416
        steps, room for the range test, three probes and the two longer probes (96 steps)."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, training_steps=300, epoch_steps=100)
        centre = grid_index(last_finite(curve) / THIRD**2)
        best = grid_rate(centre)
        ran, decision = run(planner, lambda lr, steps: 1.0 + 0.1 * math.log10(lr / best) ** 2)
        assert [p.steps for p in ran] == [32, 32, 32, 96, 96]
        assert planner.spent == 64 + 3 * 32 + 2 * 96 <= planner.budget_steps == 416
        assert decision.probe_steps == 96
        assert decision.winner == pytest.approx(best, rel=1e-9)

    def test_longer_probes_that_do_not_fit_the_budget_are_not_run(self):
        """The same training with `budget=1.0` (300 steps) after one extension downward:
        the two longer probes would take 64 + 4 x 32 + 2 x 96 = 384 > 300 steps, so the
        32-step probes answer."""
        curve = falling_curve(broke_at=0.3)
        planner = planner_for(curve, training_steps=300, epoch_steps=100, budget=1.0)
        centre = grid_index(last_finite(curve) / THIRD**2)
        best = grid_rate(centre - 2)  # The lower probe: one extension downward.
        ran, decision = run(planner, lambda lr, steps: 1.0 + 0.1 * math.log10(lr / best) ** 2)
        assert [p.steps for p in ran] == [32, 32, 32, 32]
        assert planner.spent == 64 + 4 * 32 <= planner.budget_steps == 300
        assert decision.probe_steps == 32
        assert decision.winner == pytest.approx(best, rel=1e-9)

    def test_a_sweep_that_returns_to_chance_is_read_as_broken(self):
        """A sweep that fell clearly below chance and came back to it broke there, even
        when its noise hides the climb from the divergence point and it never stopped."""
        rng = np.random.default_rng(1)
        learning_rates = np.logspace(-6, 1, 141)
        u = np.log10(learning_rates)  # At 1.6 from 1e-3 to 0.1, chance elsewhere; noisy.
        losses = np.where((u >= -3) & (u < -1), 1.6, CHANCE) + rng.normal(0, 0.5, len(u))
        assert read(learning_rates, losses).divergence[1] is False  # Too noisy for it.
        planner = planner_for((learning_rates, losses, "completed"))
        planner.next_round()
        assert planner.broke
        assert 0.05 <= planner.limit <= 0.2

    def test_a_sweep_that_never_broke_anchors_at_its_lowest_point(self):
        """A sweep that fell and never climbed (it stopped at its end, 10) gives no break:
        the probes go around its lowest smoothed point, not above it."""
        learning_rates = np.logspace(-6, 1, 141)
        u = np.log10(learning_rates)
        losses = CHANCE - (CHANCE - 0.6) * np.clip((u + 5) / 4, 0, 1)  # Lowest from 0.1 on.
        planner = planner_for((learning_rates, losses, "completed"))
        first = planner.next_round()
        assert not planner.broke
        assert 0.1 <= planner.anchor < 10
        assert rates(first)[1] == grid_rate(grid_index(planner.anchor))

    def test_nothing_learned_within_the_budget_gives_no_measured_answer(self):
        """When no probe ever learns, the decision says so and its rate is the lowest
        probed (the caller warns or raises)."""
        planner = planner_for(falling_curve(broke_at=0.3))
        ran, decision = run(planner, lambda lr, steps: CHANCE)
        assert not decision.learned and decision.winner is None
        assert decision.max_lr == min(rates(ran))
        assert not decision.diverged  # Chance (2.30) is better than untrained (2.4).

    def test_too_short_probes_are_lengthened(self):
        """When nothing learned and the best probe is not the lowest, the probes were too
        short: the next round runs the best and the one below as long as the rest of the
        budget allows: (2000 - 125 - 3 x 200) // 2 = 637 steps."""
        planner = planner_for(falling_curve(broke_at=0.3), budget=1.0)
        first = planner.next_round()
        for probe, loss in zip(first, [CHANCE, CHANCE - 0.01, CHANCE], strict=True):
            planner.record(probe, loss)  # None learned; the middle one is best.
        assert planner.next_round() == [
            Probe(first[0].learning_rate, 637),
            Probe(first[1].learning_rate, 637),
        ]
        assert planner.spent == 125 + 3 * 200 + 2 * 637 <= planner.budget_steps

    def test_nothing_learned_best_on_the_upper_edge_goes_one_spacing_higher(self):
        """When nothing learned and the highest probe is the best (and no worse than
        untrained), the bracket is too low: one spacing higher at the same length, as far
        as a break allows (one spacing past it); from there, longer: the best and the one
        below, (2000 - 125 - 4 x 200) // 2 = 537 steps each."""
        planner = planner_for(falling_curve(broke_at=0.3), budget=1.0)
        first = planner.next_round()
        top = grid_index(first[-1].learning_rate)
        assert top == grid_index(planner.limit)  # The anchor is two spacings below the break.
        for probe, loss in zip(first, [2.42, 2.36, 2.29], strict=True):
            planner.record(probe, loss)  # None learned (2.19 is 5% below chance); sloped.
        second = planner.next_round()
        assert second == [Probe(grid_rate(top + 2), 200)]
        planner.record(second[0], CHANCE - 0.03)  # The best again, but at the cap.
        assert planner.next_round() == [
            Probe(grid_rate(top), 537),
            Probe(grid_rate(top + 2), 537),
        ]

    def test_a_flat_round_best_at_its_lowest_runs_longer_instead_of_walking_lower(self):
        """A round that learned nothing whose lowest probe was best by less than 2.5% of
        chance (noise, as 32-step probes of a 128-step training score at every rate): it
        and the one below run again as long as the training, (416 - 64 - 3 x 32) // 2 = 128
        steps, instead of walking a spacing lower, and the answer comes from them."""
        planner = planner_for(falling_curve(broke_at=0.3), training_steps=128, epoch_steps=64)
        first = planner.next_round()
        for probe, loss in zip(first, [CHANCE - 0.01, CHANCE, CHANCE + 0.02], strict=True):
            planner.record(probe, loss)  # Flat: 0.01 < 2.5% of 2.30.
        second = planner.next_round()
        index = grid_index(first[0].learning_rate)
        assert second == [Probe(grid_rate(index - 2), 128), Probe(grid_rate(index), 128)]
        for probe, loss in zip(second, [1.4, 1.1], strict=True):
            planner.record(probe, loss)
        decision = planner.decision()
        assert decision.learned and decision.probe_steps == 128
        assert decision.winner == grid_rate(index)

    def test_a_flat_round_best_at_its_highest_still_walks_higher(self):
        """The same flat round best at its top walks a spacing higher (higher rates learn
        more per step; the range test's limit caps the walk)."""
        planner = planner_for(falling_curve(broke_at=0.3), training_steps=128, epoch_steps=64)
        first = planner.next_round()
        for probe, loss in zip(first, [CHANCE + 0.02, CHANCE, CHANCE - 0.01], strict=True):
            planner.record(probe, loss)
        top = grid_index(first[-1].learning_rate)
        assert planner.next_round() == [Probe(grid_rate(top + 2), 32)]

    def test_a_climb_s_probe_that_moved_walks_higher_however_flat(self):
        """After a climb past inert probes, the probe that moved, best at the top though no
        better than untrained, walks a spacing higher (as on `cnn_sgd_shapes16_b16`, whose
        best rate is two spacings up): flatness holds back only the walk down."""
        planner = planner_for(flat_curve(lowest_at=1e-5), budget=1.0)
        first = planner.next_round()
        for probe in first:
            planner.record(probe, BASELINES.untrained, probe.learning_rate)  # Inert.
        climb = planner.next_round()
        assert climb == [Probe(grid_rate(-6), first[0].steps)]
        planner.record(climb[0], BASELINES.untrained + 0.001, 0.05)  # Moved; no better.
        assert planner.next_round() == [Probe(grid_rate(-4), first[0].steps)]

    def test_a_flat_round_walks_when_longer_probes_do_not_fit(self):
        """The same flat round on a 1,128-step training (half a training, no rescue): the
        steps left hold no two probes twice as long, so the search walks a spacing lower."""
        planner = planner_for(falling_curve(broke_at=0.3), training_steps=1128, epoch_steps=94)
        first = planner.next_round()
        for probe, loss in zip(first, [CHANCE - 0.01, CHANCE, CHANCE + 0.02], strict=True):
            planner.record(probe, loss)
        lowest = grid_index(first[0].learning_rate)
        assert planner.next_round() == [Probe(grid_rate(lowest - 2), first[0].steps)]

    def test_too_short_probes_of_a_short_training_are_lengthened_to_the_training(self):
        """A 126-step training (budget 64 + 11 x 32 = 416): after three 32-step probes
        that learned nothing, 256 steps are left, room for two probes of 128: they run the
        whole training, 126 steps, and learn."""
        planner = planner_for(falling_curve(broke_at=0.3), training_steps=126, epoch_steps=63)
        first = planner.next_round()
        for probe, loss in zip(first, [CHANCE, CHANCE - 0.01, CHANCE], strict=True):
            planner.record(probe, loss)  # None learned; the middle one is best.
        second = planner.next_round()
        assert second == [Probe(first[0].learning_rate, 126), Probe(first[1].learning_rate, 126)]
        for probe, loss in zip(second, [1.5, 1.2], strict=True):
            planner.record(probe, loss)
        assert planner.next_round() == []  # 64 + 96 + 252 = 412: no room for another.
        decision = planner.decision()
        assert decision.learned and decision.probe_steps == 126
        assert decision.winner == first[1].learning_rate

    def test_a_medium_training_whose_probes_learned_nothing_may_spend_two_trainings(self):
        """A 564-step training (budget 64 + 11 x 32 = 416; probes of 56 steps): after a
        round that learned nothing (64 + 3 x 56 = 232 spent), the 184 steps left hold no
        two probes twice as long, but the rescue's two trainings do: two of
        (1128 - 232) // 2 = 448 steps, and the answer comes from them."""
        planner = planner_for(falling_curve(broke_at=0.3), training_steps=564, epoch_steps=94)
        assert planner.budget_steps == planner.limit_steps == 416
        first = planner.next_round()
        assert [probe.steps for probe in first] == [56, 56, 56]
        for probe, loss in zip(first, [CHANCE, CHANCE - 0.01, CHANCE], strict=True):
            planner.record(probe, loss)  # None learned; the middle one is best.
        second = planner.next_round()
        assert planner.limit_steps == 1128
        assert second == [Probe(first[0].learning_rate, 448), Probe(first[1].learning_rate, 448)]
        for probe, loss in zip(second, [1.5, 1.2], strict=True):
            planner.record(probe, loss)
        assert planner.next_round() == []  # Settled: longer probes are not lengthened again.
        decision = planner.decision()
        assert decision.learned and decision.probe_steps == 448
        assert decision.winner == first[1].learning_rate

    @pytest.mark.parametrize(
        ("training_steps", "budget"),
        [
            (564, 0.5),  # An explicit budget (282 steps) is the user's: kept.
            (1128, None),  # 1,000+ steps: half a training (564), as the cost target says.
        ],
    )
    def test_no_rescue_for_an_explicit_budget_or_a_long_training(self, training_steps, budget):
        """The same round that learned nothing ends the search when the steps left hold no
        two probes twice as long: the budget stays the limit."""
        planner = planner_for(
            falling_curve(broke_at=0.3),
            training_steps=training_steps,
            epoch_steps=94,
            budget=budget,
        )
        first = planner.next_round()
        for probe, loss in zip(first, [CHANCE, CHANCE - 0.01, CHANCE], strict=True):
            planner.record(probe, loss)
        assert planner.next_round() == []
        assert planner.limit_steps == planner.budget_steps
        assert not planner.decision().learned

    def test_a_search_that_learned_keeps_its_budget(self):
        """The rescue is for searches that learned nothing: one whose first round learned
        runs its longer probes within the budget (three times 56 steps do not fit the 416)."""
        planner = planner_for(falling_curve(broke_at=0.3), training_steps=564, epoch_steps=94)
        ran, decision = run(planner, lambda lr, steps: 1.0 + abs(math.log10(lr) + 3) / 10)
        assert decision.learned
        assert planner.limit_steps == planner.budget_steps == 416
        assert planner.spent <= 416 and all(probe.steps == 56 for probe in ran)

    def test_probes_that_all_end_worse_than_untrained_go_lower_not_longer(self):
        """When nothing learned and every probe ended worse than the untrained model, the
        rates were too high, even where the best of them is not the lowest: the next round
        probes one spacing below the lowest, at the same length."""
        planner = planner_for(falling_curve(broke_at=0.3), budget=1.0)
        first = planner.next_round()
        worse = 2.4 * 1.05 + 0.1  # Past the margin above the untrained model's 2.4.
        for probe, loss in zip(first, [worse + 0.02, worse, worse + 0.05], strict=True):
            planner.record(probe, loss)  # The middle one is best, yet all are worse.
        lowest = grid_index(first[0].learning_rate)
        assert planner.next_round() == [Probe(grid_rate(lowest - 2), first[0].steps)]

    @pytest.mark.parametrize(
        ("moved_per_rate", "expected_index"),
        [
            (1.0, -6),  # The top probe (4.64e-5) moved 4.64e-5: 1% at 1e-2.
            (100.0, -13 + 4),  # It moved 0.46%: 1% at 1e-4, below two spacings up.
        ],
    )
    def test_an_inert_top_probe_climbs_to_where_the_weights_would_move(
        self, moved_per_rate, expected_index
    ):
        """When nothing learned and the highest probe was inert (the weights moved by less
        than 1% of their norm, the loss by less than 1% of the untrained model's), the
        rates were too low: the next round probes where the weights would move by 1%,
        in proportion to the rate, and at least two spacings (four grid steps) higher."""
        planner = planner_for(flat_curve(lowest_at=1e-5), budget=1.0)
        first = planner.next_round()
        assert [grid_index(lr) for lr in rates(first)] == [-17, -15, -13]
        for probe in first:
            planner.record(probe, BASELINES.untrained, moved_per_rate * probe.learning_rate)
        assert planner.next_round() == [Probe(grid_rate(expected_index), first[0].steps)]

    @pytest.mark.parametrize(
        ("loss", "moved"),
        [(2.4, 0.02), (2.4 * 0.985, 1e-4)],  # Weights moved 2%; loss moved 1.5%.
    )
    def test_a_probe_that_moved_the_weights_or_the_loss_is_not_inert(self, loss, moved):
        """A top probe that moved the weights or the loss by 1% or more is not inert: the
        usual rules apply (here the lowest probe is best, so the next round goes lower)."""
        planner = planner_for(flat_curve(lowest_at=1e-5), budget=1.0)
        first = planner.next_round()
        for probe, offset in zip(first, [-0.14, -0.07, 0.0], strict=True):
            planner.record(probe, loss + offset, moved)  # Falling clearly to lower rates.
        assert planner.next_round() == [Probe(grid_rate(-19), first[0].steps)]

    def test_the_climb_stops_at_the_range_test_s_limit(self):
        """An inert top probe climbs no higher than one spacing past a real break (where
        `_may_go_above` stops the probes); when it is already there, no climb."""
        planner = planner_for(falling_curve(broke_at=0.3), budget=1.0)
        first = planner.next_round()
        assert grid_index(planner.limit) == -2 and rates(first)[-1] == grid_rate(-2)
        for probe in first:
            planner.record(probe, BASELINES.untrained, 1e-6)  # Inert: far below 1%.
        assert planner.next_round() == [Probe(grid_rate(0), first[0].steps)]  # Not 10.
        planner.record(Probe(grid_rate(0), first[0].steps), BASELINES.untrained, 1e-6)
        # Inert at the ceiling, every loss alike: longer, the lowest and the one below,
        # (2000 - 125 - 4 x 200) // 2 = 537 steps.
        assert planner.next_round() == [Probe(grid_rate(-8), 537), Probe(grid_rate(-6), 537)]

    def test_nothing_learned_climbs_no_higher_than_an_unbroken_sweep_s_end(self):
        """A round that learned nothing, best at its top, goes one spacing higher at a
        time, but never past the limit of a sweep that never broke (where a round that
        learned may go on); there, its best two run longer instead."""
        untrained = Baselines(untrained=4.0, constant=CHANCE)  # Room for a slope below it.
        planner = planner_for(flat_curve(lowest_at=1e-3), budget=3.0, baselines=untrained)
        probes, ran = planner.next_round(), []
        ceiling = grid_index(planner.limit)
        assert not planner.broke and ceiling > grid_index(rates(probes)[-1])
        while probes and probes[0].steps == 200:
            for probe in probes:  # Clearly lower with the rate; none learned, none worse.
                ran.append(probe)
                planner.record(probe, 2.21 + 0.035 * (ceiling - grid_index(probe.learning_rate)))
            probes = planner.next_round()
        top = max(grid_index(probe.learning_rate) for probe in ran)
        assert ceiling - 2 < top <= ceiling
        assert [grid_index(lr) for lr in rates(probes)] == [top - 2, top]
        assert probes[0].steps > 400

    @pytest.mark.parametrize("worse", [False, True])
    def test_nothing_learned_answers_the_lowest_probe_past_the_inert_ones(self, worse):
        """When no probe learned, the answer is the lowest rate probed past the inert ones
        (an inert rate trains nothing), unless the first probe above them made the model
        worse than untrained: then the lowest probed, never a rate known to break it."""
        planner = planner_for(flat_curve(lowest_at=1e-5), training_steps=400)

        def outcome(learning_rate, steps):
            if learning_rate < 1e-3:
                return BASELINES.untrained, learning_rate  # Inert.
            # Moved; learned nothing, or made the model worse (by 10%).
            return BASELINES.untrained * (1.1 if worse else 0.99), 0.05

        ran, decision = run(planner, outcome)
        assert not decision.learned
        moved = [lr for lr in rates(ran) if lr >= 1e-3]
        assert moved and min(moved) > min(rates(ran))
        assert decision.max_lr == (min(rates(ran)) if worse else min(moved))

    def test_every_fixed_candidate_diverging_is_reported(self):
        """Fixed candidates that all end worse than the untrained model: diverged."""
        planner = Planner(1000, 100, candidates=[1e4, 1e5])
        planner.set_baselines(BASELINES)
        _, decision = run(planner, lambda lr, steps: math.nan)
        assert decision.diverged and not decision.learned

    def test_a_loss_a_hair_above_the_untrained_models_is_no_divergence(self):
        """Losses within the margin above the untrained model's learned nothing, but did not
        diverge; 5% above it they did."""
        for loss, diverged in ((2.41, False), (2.4 * 1.05 + 0.01, True)):
            planner = Planner(1000, 100, candidates=[0.1, 1.0])
            planner.set_baselines(BASELINES)
            _, decision = run(planner, lambda lr, steps, loss=loss: loss)
            assert decision.diverged is diverged and not decision.learned

    def test_ties_go_to_the_lower_learning_rate_within_the_tolerance(self):
        """With a tie tolerance, the lowest learning rate within it of the best wins."""
        policy = dataclasses.replace(DEFAULT_POLICY, tie_tolerance=0.1)
        planner = Planner(1000, 100, candidates=[0.01, 0.1, 1.0], budget=1.0, policy=policy)
        planner.set_baselines(BASELINES)
        losses = {0.01: 1.05, 0.1: 1.0, 1.0: 2.0}  # Improvements 1.25 and 1.30 over 2.30.
        _, decision = run(planner, lambda lr, steps: losses[lr])
        assert decision.winner == 0.01


# A real search's 32-step probes, `(validation loss, validation accuracy)` by rate
# (`finetune_frozen_adam_blobs`, seed 2, four balanced classes, 100 validation samples): the
# loss prefers the lowest rate, which classifies 14 points worse than the highest; the
# one-cycle trainings' test accuracy rises with the rate there.
PROBES = {0.0215: (1.085, 0.47), 0.1: (1.088, 0.56), 0.464: (1.261, 0.61)}
FOUR_CLASSES = Baselines(untrained=1.6, constant=math.log(4), samples=100)


class TestAccuracy:
    """Where the model reports a validation accuracy, a probe that learned is a candidate
    only if its accuracy is within `accuracy_noise` (2) binomial standard errors of the most
    accurate one's; the loss ranks the rest."""

    def decide(self, probes, baselines=FOUR_CLASSES, policy=DEFAULT_POLICY):
        planner = Planner(96, 32, candidates=sorted(probes), budget=1.0, policy=policy)
        planner.set_baselines(baselines)
        _, decision = run(planner, lambda lr, steps: (probes[lr][0], None, probes[lr][1]))
        return decision

    def test_the_standard_error_of_a_validation_accuracy(self):
        """61 of 100: (61 + 1) / 102 = 0.60784, sqrt(0.60784 * 0.39216 / 100) = 0.048824;
        100 of 100 is not exact: (100 + 1) / 102, sqrt(0.990196 * 0.009804 / 100) = 0.0098528."""
        assert FOUR_CLASSES.accuracy_error(0.61) == pytest.approx(0.048824, abs=1e-6)
        assert FOUR_CLASSES.accuracy_error(1.0) == pytest.approx(0.0098528, abs=1e-6)
        assert Baselines(untrained=1.6).accuracy_error(0.61) is None  # Samples unknown.

    def test_a_lower_loss_that_classifies_clearly_worse_is_no_candidate(self):
        """The cut is 0.61 - 2 x 0.048824 = 0.512: 0.47 is out, 0.56 in, and of those the
        loss picks 0.1 (not refined: its lower neighbour is out)."""
        decision = self.decide(PROBES)
        assert decision.learned and decision.winner == 0.1 == decision.max_lr

    @pytest.mark.parametrize(
        "case", ["within noise", "no accuracy noise", "samples unknown", "no accuracy"]
    )
    def test_otherwise_the_loss_alone_decides(self, case):
        probes = dict(PROBES)
        baselines, policy = FOUR_CLASSES, DEFAULT_POLICY
        if case == "within noise":
            probes[0.0215] = (1.085, 0.52)  # 0.52 >= 0.512.
        elif case == "no accuracy noise":
            policy = dataclasses.replace(DEFAULT_POLICY, accuracy_noise=0.0)
        elif case == "samples unknown":
            baselines = dataclasses.replace(baselines, samples=None)
        else:
            probes = {lr: (loss, None) for lr, (loss, _) in probes.items()}
        assert self.decide(probes, baselines, policy).winner == 0.0215

    def test_only_probes_that_learned_count_for_the_most_accurate(self):
        """A probe that learned nothing by its loss (1.40 is above ln 4 x 0.95 = 1.317) sets
        no accuracy bar, however accurate."""
        probes = {**PROBES, 0.464: (1.40, 0.90)}
        assert self.decide(probes).winner == 0.0215

    def test_an_accurate_winner_on_the_upper_edge_extends_the_search_upward(self):
        """In the line search the veto moves the winner to the edge, so the next round
        probes one spacing above it."""
        curve = falling_curve(broke_at=1.0)
        planner = planner_for(curve, training_steps=2000, baselines=FOUR_CLASSES)
        first = planner.next_round()
        accuracies = [0.47, 0.56, 0.70]
        for probe, accuracy in zip(first, accuracies, strict=True):
            planner.record(probe, 1.0, None, accuracy)
        (above,) = planner.next_round()
        assert grid_index(above.learning_rate) == grid_index(first[-1].learning_rate) + 2


class TestBudget:
    @pytest.mark.parametrize("seed", range(20))
    def test_the_search_never_spends_more_than_its_budget(self, seed):
        """On random outcomes, the steps of the range test and every probe add up to what
        the planner counted, within its budget."""
        rng = np.random.default_rng(seed)
        training_steps = int(rng.integers(2000, 20_000))
        budget = [None, 0.5, 1.0][seed % 3]
        planner = Planner(training_steps, int(rng.integers(10, 2000)), budget=budget)
        planner.set_baselines(BASELINES)
        planner.read_range_test(*falling_curve(broke_at=float(10 ** rng.uniform(-3, 1))))
        ran, _ = run(planner, lambda lr, steps: float(rng.uniform(0.5, 2.6)))
        assert planner.spent == planner.range_test_steps + sum(p.steps for p in ran)
        assert planner.spent <= planner.budget_steps

    @pytest.mark.parametrize("seed", range(20))
    def test_a_short_training_s_search_never_spends_more_than_its_limit(self, seed):
        """On random outcomes on trainings of 64 to 1,500 steps, the steps add up to what the
        planner counted, within its budget, or within two trainings (the rescue) when a
        round learned nothing."""
        rng = np.random.default_rng(seed)
        training_steps = int(rng.integers(64, 1500))
        planner = Planner(training_steps, int(rng.integers(10, 200)))
        planner.set_baselines(BASELINES)
        planner.read_range_test(*falling_curve(broke_at=float(10 ** rng.uniform(-3, 1))))
        ran, _ = run(planner, lambda lr, steps: float(rng.uniform(1.9, 2.6)))
        assert planner.spent == planner.range_test_steps + sum(p.steps for p in ran)
        allowed = planner.budget_steps
        if planner.rescued and training_steps < 1000:
            allowed = max(allowed, 2 * training_steps)
        assert planner.spent <= allowed


class TestRefine:
    def test_the_vertex_of_the_parabola_in_log_learning_rate(self):
        """Losses 3, 1, 2 at 0.01, 0.1, 1: in u = log(lr) with spacing h = ln 10, the vertex
        is at u1 + h (y0 - y2) / (2 (y0 - 2 y1 + y2)) = u1 + h / 6."""
        current = [(0.01, 3.0), (0.1, 1.0), (1.0, 2.0)]
        expected = 0.1 * 10 ** (1 / 6)
        assert refine(current, 0.1, lambda item: True) == pytest.approx(expected, rel=1e-12)

    def test_no_refinement_beside_a_probe_that_did_not_learn(self):
        current = [(0.01, 3.0), (0.1, 1.0), (1.0, 2.0)]
        assert refine(current, 0.1, lambda item: item[1] < 2.5) == 0.1
