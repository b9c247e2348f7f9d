"""The constants of `find_best_learning_rate`'s search (`Policy`), apart from its planner."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Policy:
    """The constants of the search (chosen on the benchmark's tuning tasks).

    Args:
        range_test_min_steps: The shortest default range test.
        range_test_fraction: The default range test, as a fraction of the training
            (within `range_test_min_steps` and `LRFinder`'s default length).
        probe_min_steps: The shortest default probe.
        probe_fraction: The default probe, as a fraction of the training.
        spacing: Grid steps between neighbouring probes.
        anchor_below_limit: Grid steps from the range test's limit down to the anchor.
        max_above_limit: How many spacings above a real break the probes may go.
        learned_margin: A probe learned if its loss is below the reference loss minus this
            fraction of it.
        flat_margin: A round that learned nothing walks one spacing lower only when its
            lowest probe was best by more than this fraction of the reference loss against
            its nearest neighbour that moved (not inert), or has no such neighbour; a
            flatter round runs its best probes longer instead, where the budget has room.
            Lower rates learn less in a short probe, so walking down a flat round finds
            nothing; a clear slope is a rate too high. Walking up is not held back: higher
            rates learn more per step, and the range test's limit caps them. Set, not
            tuned: half of `learned_margin`. It ties the old search on every tuning task;
            it was tested on a batch of tasks added after it was fixed (README, Benchmarks).
        tie_tolerance: Candidates within this fraction of the best candidate's improvement
            over the reference tie; the lowest learning rate of them wins.
        short_probe_bias: The winning peak is divided by this.
        budget: The default budget, as a fraction of the training; a smaller one is raised
            to what a range test and `min_probes` probes of the default length need, and
            to `min_short_probes` probes of `probe_min_steps` (or of the default length,
            when shorter): room for the longer probes on short trainings.
        min_probes: See `budget`. A budget that holds the range test and this many probes
            of the whole training probes the whole training (a probe that long is the
            training).
        min_short_probes: See `budget`. Eleven 32-step probes hold a first round and two
            probes of 128 steps: room for a short training's probes that learned nothing
            to run again as long as its whole training, or nearly (chosen over nine on the
            tuning tasks: worst regret 17.0 -> 9.1 points, mean 2.93 -> 1.99).
        lengthen: Once the best candidate is settled, it and the probe one spacing below
            run again this many times as long, when the budget allows, and the answer is
            read from the longer probes (`1`: never).
        inert_change: A probe was inert if it moved the trainable weights by less than
            this fraction of their norm and the loss by less than this fraction of the
            untrained model's. Set, not tuned: 1% is far below what a probe that learns
            moves (on the tuning tasks the rule changed one search, for the better).
        accuracy_noise: Where the model reports a validation accuracy, a probe that learned
            is a candidate only if its accuracy is within this many standard errors
            (binomial, over the validation samples) of the most accurate one's: the loss
            ranks the rest. A fine-tuned or over-confident model can score a worse loss at
            the rate that classifies best. `0` ranks by the loss alone. Chosen on the
            tuning tasks: 2 scored worst 7.7 / mean 1.59 points, 1 scored 12.4 / 1.71, the
            loss alone 9.1 / 1.82.
        rescue: When a round of a search with the default budget learned nothing, on a
            training shorter than `rescue_max_steps`, the search may spend up to this many
            trainings (or its budget, when larger) from then on: room for probes long enough
            to learn before it answers blind. Chosen on the 28 tuning tasks, on one machine
            (it changes searches on trainings of 209 to 999 steps only): 2 scored
            `cnn_sgd_gratings_medium` 15.0 -> 8.4 points, `depthwise_nadam_aug_symmetry_medium`
            14.5 -> 4.8, `cnn_nesterov_wd_symmetry_medium` 9.0 -> 1.4, no task worse; 1 scored
            15.0, 10.3 and 8.4 on those three.
        rescue_max_steps: See `rescue`. Searches on longer trainings keep their budget (half
            a training), as the cost target of trainings of 1,000 steps or more says.
    """

    range_test_min_steps: int = 64
    range_test_fraction: float = 1 / 16
    probe_min_steps: int = 32
    probe_fraction: float = 1 / 10
    spacing: int = 2
    anchor_below_limit: int = 2
    max_above_limit: int = 1
    learned_margin: float = 0.05
    flat_margin: float = 0.025
    tie_tolerance: float = 0.0
    short_probe_bias: float = 1.0
    budget: float = 0.5
    min_probes: int = 4
    lengthen: int = 3
    min_short_probes: int = 11
    inert_change: float = 0.01
    accuracy_noise: float = 2.0
    rescue: float = 2.0
    rescue_max_steps: int = 1000


DEFAULT_POLICY = Policy()
