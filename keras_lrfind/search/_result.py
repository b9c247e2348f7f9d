"""`ProbeResult`: what `find_best_learning_rate` did, for a user who asks."""

from __future__ import annotations

import dataclasses
import math

from keras_lrfind.outputs.plotting import limit_to_curve
from keras_lrfind.range_test import LRFinderResult


@dataclasses.dataclass(frozen=True)
class ProbeOutcome:
    """One probe training: its peak learning rate, length, validation loss, whether it
    learned (its loss clearly below the untrained model's and a constant prediction's),
    its validation logs, and how far it moved the trainable weights (`||w - w0|| /
    ||w0||`; `None` when not measured)."""

    learning_rate: float
    steps: int
    validation_loss: float
    learned: bool
    logs: dict
    weight_change: float | None = None


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """What `find_best_learning_rate` did, for a user who asks (`return_details=True`).

    Args:
        max_lr: The answer: the peak learning rate of `OneCycle(max_lr, total_steps)`, the
            winner divided by `short_probe_bias`; when no probe learned (see `learned`), the
            lowest learning rate probed (past the inert ones, which moved neither the
            weights nor the loss by 1%, when the probe above them did not make the model
            worse than untrained).
        candidates: The peak learning rates of the probes the answer was read from (those
            of the final length, `probe_steps`), increasing.
        validation_losses: Their validation losses (NaN for a probe that diverged).
        logs: Their `model.evaluate` values.
        winner: The peak the probes favour: the best candidate that learned (the lowest of
            those within noise of the best loss), refined by a parabola through its
            neighbours in log learning rate; `None` when no probe learned.
        short_probe_bias: The factor the winner is divided by: short probes favour peaks
            higher than a full training tolerates (measured on the benchmark).
        probe_steps: The optimizer steps of the probes the answer was read from.
        bracket: The `(lowest, highest)` candidate, or `None` when the candidates were given.
        range_test: The range test's `LRFinderResult`, or `None`.
        validation: Where the validation data came from.
        steps: The optimizer steps the search ran (range test and probes).
        seconds: The wall time of the search's trainings and evaluations.
        training_steps: The steps of the training the answer is for (`epochs` x steps per
            epoch).
        probes: Every probe, in the order they ran (`ProbeOutcome`s).
        untrained_loss: The untrained model's validation loss, judged as the probes are
            (with batch-norm layers, on the statistics the training would end with).
        constant_loss: The validation loss of the best constant prediction, or `None` where
            the loss has none keras_lrfind knows (see `find_best_learning_rate`).
        learned: Whether the answer comes from probes that learned (when the longest
            learned nothing, from shorter ones below every rate whose longer probe failed);
            when not, `max_lr` is a safe fallback, not a measured answer (a warning says so).
        limit: Where the range test saw training break, or `None`.
    """

    max_lr: float
    candidates: tuple[float, ...]
    validation_losses: tuple[float, ...]
    logs: tuple[dict, ...]
    winner: float | None
    short_probe_bias: float
    probe_steps: int
    bracket: tuple[float, float] | None
    range_test: LRFinderResult | None
    validation: str
    steps: int
    seconds: float
    training_steps: int
    probes: tuple[ProbeOutcome, ...] = ()
    untrained_loss: float = math.nan
    constant_loss: float | None = None
    learned: bool = True
    limit: float | None = None

    @property
    def fraction_of_training(self) -> float:
        """The search's steps as a fraction of the training's."""
        return self.steps / self.training_steps

    def plot(self, ax=None):
        """Draws the probes' validation losses over the range-test curve.

        The range test's batch losses (left axis, grey, limited to where they fell and a
        little above, as `LRFinderResult.plot` limits its own), every probe's validation loss (right
        axis; the final length's probes joined, probes that did not learn hollow), the
        untrained model's and the constant prediction's losses, the winner and the answer.

        Args:
            ax: A matplotlib `Axes`. Defaults to `None` (a new figure).

        Returns:
            The `Axes` (the probes are drawn on its twin when there is a range test).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        probe_ax = ax
        if self.range_test is not None:
            test = self.range_test
            ax.plot(test.learning_rates, test.losses, color="0.6", lw=1, label="range test")
            ax.set_ylabel("range-test batch loss")
            limit_to_curve(ax, test.smoothed_losses, test.losses)
            probe_ax = ax.twinx()
        for learned in (True, False):
            outcomes = [p for p in self.probes if p.learned is learned]
            if outcomes:
                probe_ax.plot(
                    [p.learning_rate for p in outcomes],
                    [p.validation_loss for p in outcomes],
                    "o",
                    color="tab:blue",
                    fillstyle="full" if learned else "none",
                    label="probes that learned" if learned else "probes that did not learn",
                )
        probe_ax.plot(
            self.candidates,
            self.validation_losses,
            "-",
            color="tab:blue",
            label=f"final probes ({self.probe_steps} steps each)",
        )
        probe_ax.axhline(self.untrained_loss, color="0.4", ls=":", label="untrained model")
        if self.constant_loss is not None:
            probe_ax.axhline(self.constant_loss, color="0.4", ls="-.", label="constant prediction")
        probe_ax.set_ylabel("probe validation loss")
        if self.winner is not None:
            ax.axvline(self.winner, color="tab:blue", ls=":", label=f"winner {self.winner:.3g}")
        ax.axvline(self.max_lr, color="tab:red", ls="--", label=f"max_lr {self.max_lr:.3g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (one-cycle peak for the probes)")
        handles = [
            h for a in dict.fromkeys([ax, probe_ax]) for h in a.get_legend_handles_labels()[0]
        ]
        ax.legend(handles=handles, fontsize="small")
        return ax

    def __repr__(self) -> str:
        learned = "" if self.learned else ", nothing learned"
        return (
            f"ProbeResult(max_lr={self.max_lr:.3g}, probes={len(self.probes)}, "
            f"final {len(self.candidates)} x {self.probe_steps} steps, steps={self.steps} "
            f"({self.fraction_of_training:.2f} of a training), seconds={self.seconds:.1f}"
            f"{learned})"
        )
