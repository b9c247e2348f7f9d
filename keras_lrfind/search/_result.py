"""`ProbeResult`: what `find_best_learning_rate` did, for a user who asks."""

from __future__ import annotations

import dataclasses

from keras_lrfind.range_test import LRFinderResult


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """What `find_best_learning_rate` did, for a user who asks (`return_details=True`).

    Args:
        max_lr: The answer: the peak learning rate of `OneCycle(max_lr, total_steps)`, the
            winning candidate divided by `short_probe_bias`.
        candidates: The peak learning rates probed, increasing.
        validation_losses: Each candidate's validation loss after its probe (NaN for a
            probe that diverged).
        logs: Each candidate's `model.evaluate` values after its probe.
        winner: The peak the probes favour: the candidate with the lowest validation loss,
            refined by parabolic interpolation with its neighbours (in log learning rate).
        short_probe_bias: The factor the winner is divided by: short probes favour peaks
            higher than a full training tolerates (measured on the benchmark).
        probe_steps: The optimizer steps of each probe.
        bracket: The `(low, high)` learning rates the range test bracketed, or `None` when
            the candidates were given.
        range_test: The range test's `LRFinderResult`, or `None`.
        validation: Where the validation data came from.
        steps: The optimizer steps the search ran (range test and probes).
        seconds: The wall time of the search's trainings and evaluations.
        training_steps: The steps of the training the answer is for (`epochs` x steps per
            epoch).
    """

    max_lr: float
    candidates: tuple[float, ...]
    validation_losses: tuple[float, ...]
    logs: tuple[dict, ...]
    winner: float
    short_probe_bias: float
    probe_steps: int
    bracket: tuple[float, float] | None
    range_test: LRFinderResult | None
    validation: str
    steps: int
    seconds: float
    training_steps: int

    @property
    def fraction_of_training(self) -> float:
        """The search's steps as a fraction of the training's."""
        return self.steps / self.training_steps

    def plot(self, ax=None):
        """Draws the probes' validation losses over the range-test curve.

        The range test's batch losses (left axis, grey), the candidates' validation losses
        after their probes (right axis), the bracket (shaded), the winner and the answer.

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
            probe_ax = ax.twinx()
        if self.bracket is not None:
            ax.axvspan(*self.bracket, color="tab:blue", alpha=0.08, label="bracket")
        probe_ax.plot(
            self.candidates,
            self.validation_losses,
            "o-",
            color="tab:blue",
            label=f"probes ({self.probe_steps} steps each)",
        )
        probe_ax.set_ylabel("probe validation loss")
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
        return (
            f"ProbeResult(max_lr={self.max_lr:.3g}, candidates={len(self.candidates)} x "
            f"{self.probe_steps} steps, steps={self.steps} "
            f"({self.fraction_of_training:.2f} of a training), seconds={self.seconds:.1f})"
        )
