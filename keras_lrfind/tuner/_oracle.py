"""`LearningRateOracle`: the rounds of `find_best_learning_rate`'s planner as KerasTuner trials.

The search's planner proposes a round of independent probes; each probe becomes one trial
(hyperparameters `learning_rate` and `probe_steps`), which any tuner may run. When every
trial of a round has completed, the oracle hands their validation losses to the planner and
asks for the next round; until then, a tuner that asks for a trial is told to wait (`IDLE`).
An empty round ends the search (`STOPPED`); the answer is the planner's decision.

The oracle keeps no planner state of its own: its saved state (`oracle.json`, with
KerasTuner's trial files) is the planner's arguments, the baselines, the range test and
the finished trials, and the planner is rebuilt by replaying the finished trials round by
round. That is how a search resumes (`overwrite=False`): the finished probes are read back,
the interrupted ones run again.

In distributed tuning the oracle also watches the workers: every call from a tuner (asking
for a trial, a heartbeat during a probe, a result) counts as a sign of life. A worker
silent for `worker_timeout` seconds is taken for dead: its trial goes back to KerasTuner's
retry queue and the next worker that asks runs it. With no worker left, `watch` raises.
"""

from __future__ import annotations

import math
import time

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from keras_lrfind import _checks
from keras_lrfind.range_test import LRFinderResult
from keras_lrfind.search import _checks as search_checks
from keras_lrfind.search import _find_best
from keras_lrfind.search._baselines import Baselines
from keras_lrfind.search._planner import Planner, Probe
from keras_lrfind.search._result import ProbeResult
from keras_lrfind.tuner._trials import OBJECTIVE, measures_of, outcome_of, probe_of, space


class LearningRateOracle(keras_tuner.Oracle):
    """Runs `find_best_learning_rate`'s search as KerasTuner trials, one probe per trial.

    `LearningRateTuner` builds one; build your own only to pass it to
    `LearningRateTuner(oracle=...)`. The range test and the baselines run in the chief's
    `search` (or the one process's), which hands them to the oracle; from then on the oracle
    proposes the probes round by round, exactly as `find_best_learning_rate` runs them,
    and answers with the same learning rate. See `keras_lrfind.tuner`.

    Args:
        budget: The steps the search may spend, in trainings, as in
            `find_best_learning_rate`. Defaults to `None` (its default).
        range_test_steps: The length of the range test, in steps, as in
            `find_best_learning_rate`. Defaults to `None` (its default).
        candidates: The peak learning rates to compare instead of a range test and
            rounds of probes, as in `find_best_learning_rate`. Defaults to `None`.
        worker_timeout: Seconds without a call from a worker after which the chief takes
            it for dead and gives its probe to another worker (or, with no worker left,
            stops the search with an error). Workers call at least every quarter of it,
            also during a probe. Defaults to `120.0`.

    Raises:
        TypeError: For an argument of the wrong type.
        ValueError: For a bad value.
    """

    def __init__(
        self,
        *,
        budget: float | None = None,
        range_test_steps: int | None = None,
        candidates=None,
        worker_timeout: float = 120.0,
    ):
        self.budget, self.range_test_steps, fixed = search_checks.check_options(
            budget, range_test_steps, candidates
        )
        self.candidates = None if fixed is None else [float(lr) for lr in fixed]
        self.worker_timeout = _checks.positive_float("worker_timeout", worker_timeout)
        super().__init__(
            objective=keras_tuner.Objective(OBJECTIVE, "min"),
            max_trials=None,
            hyperparameters=space(),
        )
        self._search: dict | None = None  # What `begin` received (saved in the state).
        self._planner: Planner | None = None
        self._round: list[Probe] = []
        self._finished = False
        self._failure: str | None = None
        self._last_seen: dict[str, float] = {}
        self._last_contact = time.monotonic()

    # -- The search ------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the baselines (and range test) are known: a search began here."""
        return self._search is not None

    @property
    def finished(self) -> bool:
        """Whether the planner has no more probes to run."""
        return self._finished

    @keras_tuner.synchronized
    def begin(
        self,
        search: _find_best.Search,
        *,
        fingerprints: dict[str, str],
        baselines: Baselines | None = None,
        range_test: LRFinderResult | None = None,
    ) -> None:
        """Starts (or resumes) the rounds of `search` (made with this oracle's options).

        A new search passes the `baselines` and `range_test` just measured. A resumed one
        (`started`) passes neither: the saved ones are checked against this search (the
        same planner arguments and checksums, else it raises) and handed to its planner.
        """
        planner = search.planner
        arguments = {
            "training_steps": int(planner.training_steps),
            "epoch_steps": int(search.data.steps_per_epoch),
            "budget": self.budget,
            "range_test_steps": self.range_test_steps,
            "candidates": self.candidates,
        }
        if self._search is None:
            if baselines is None:
                raise RuntimeError("A new search needs its baselines (the chief measures them).")
            self._search = {
                "planner": arguments,
                "fingerprints": dict(fingerprints),
                "validation": search.data.description,
                "baselines": [baselines.untrained, baselines.constant, baselines.samples],
                "range_test": None if range_test is None else range_test.to_dict(),
                "seconds": 0.0,
            }
            for name, value in fingerprints.items():
                self.hyperparameters.Fixed(name, value)
        else:
            self._check_same_search(arguments, fingerprints)
            self._read_saved(planner)
        self._planner = planner
        self._failure = None
        for trial_id, trial in sorted(self.trials.items()):  # Of an earlier, failed run.
            if trial.status == TrialStatus.FAILED:
                trial.status = TrialStatus.RUNNING
                self._run_times[trial_id] = 0
                self._retry_queue.append(trial_id)
        self._replay()
        self._last_contact = time.monotonic()  # The workers' time starts now.
        self.save()

    def _read_saved(self, planner: Planner) -> None:
        """Hands the saved baselines and range test to `planner`."""
        planner.set_baselines(Baselines(*self._search["baselines"]))
        range_test = self.range_test
        if range_test is not None:
            planner.read_range_test(
                range_test.learning_rates, range_test.losses, range_test.stop_reason
            )

    def _check_same_search(self, arguments: dict, fingerprints: dict[str, str]) -> None:
        saved = self._search
        problems = [
            f"{name}: {saved['planner'][name]!r} saved, {value!r} now"
            for name, value in arguments.items()
            if saved["planner"][name] != value
        ] + [
            f"checksum of the {name.replace('_', ' ')}: {saved['fingerprints'][name]} saved, "
            f"{value} now"
            for name, value in fingerprints.items()
            if saved["fingerprints"].get(name) != value
        ]
        if problems:
            raise ValueError(
                f"The project directory {self._project_dir!r} holds another search than "
                f"this one ({'; '.join(problems)}), so its probes cannot be reused. Pass "
                "`overwrite=True` (or another `project_name`) to start a new search, or "
                "resume with the same model, initial weights, data and arguments."
            )

    def _replay(self) -> None:
        """Replays the planner's rounds from the finished trials, up to the current one."""
        self._round = self._planner.next_round()
        self._finished = not self._round
        self._advance()

    def _losses(self) -> dict[Probe, tuple[float, float | None, float | None]]:
        """`(validation loss, weight change, validation accuracy)` of every completed probe."""
        return {
            probe_of(trial): measures_of(trial)
            for trial in self.trials.values()
            if trial.status == TrialStatus.COMPLETED
        }

    def _advance(self) -> None:
        """While every probe of the round has a loss, records them and plans the next."""
        losses = self._losses()
        while not self._finished and all(probe in losses for probe in self._round):
            for probe in self._round:
                self._planner.record(probe, *losses[probe])
            self._round = self._planner.next_round()
            self._finished = not self._round

    # -- KerasTuner's protocol -------------------------------------------------------------

    def populate_space(self, trial_id):
        """The next probe of the round not yet given to a tuner; `IDLE` while the round's
        last probes run; `STOPPED` when the search is over (or has failed)."""
        if self._failure is not None or self._finished:
            return {"status": TrialStatus.STOPPED}
        if self._planner is None:
            return {"status": TrialStatus.IDLE}
        given = {probe_of(trial) for trial in self.trials.values()}
        for probe in self._round:
            if probe not in given:
                values = {"learning_rate": probe.learning_rate, "probe_steps": probe.steps}
                return {"status": TrialStatus.RUNNING, "values": values}
        return {"status": TrialStatus.IDLE}

    def score_trial(self, trial):
        """The probe's validation loss; infinite when it diverged (a result, not a crash)."""
        loss = trial.metrics.get_last_value(OBJECTIVE)
        trial.score = float(loss) if loss is not None and math.isfinite(loss) else math.inf
        trial.best_step = 0

    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        self._seen(tuner_id)
        return super().create_trial(tuner_id)

    @keras_tuner.synchronized
    def get_trial(self, trial_id):
        """The trial; a worker calls it during a probe as its heartbeat."""
        self._seen(self._tuner_of(trial_id))
        return super().get_trial(trial_id)

    @keras_tuner.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        tuner_id = self._tuner_of(trial_id)
        if tuner_id is None:  # A worker taken for dead came back: its probe ran elsewhere.
            return self.trials[trial_id]
        self._seen(tuner_id)
        trial = self.trials[trial_id]
        trial.metrics = type(trial.metrics)()  # A probe reports once; a re-run replaces it.
        return super().update_trial(trial_id, metrics, step=step)

    @keras_tuner.synchronized
    def end_trial(self, trial):
        tuner_id = self._tuner_of(trial.trial_id)
        if tuner_id is None:  # See `update_trial`.
            return
        self._seen(tuner_id)
        super().end_trial(trial)
        ended = self.trials[trial.trial_id]
        if ended.status == TrialStatus.COMPLETED:
            self._advance()
        elif ended.status == TrialStatus.FAILED:
            self.tuner_ids.discard(tuner_id)  # It re-raises the error and exits.
            probe = probe_of(ended)
            self._failure = (
                f"The probe at learning rate {probe.learning_rate:.4g} ({probe.steps} steps, "
                f"trial {ended.trial_id}) raised an error on tuner {tuner_id!r}; its "
                "traceback is in that process's output. Fix it and search again with "
                "`overwrite=False`: the finished probes are kept."
            )

    # -- Watching the workers --------------------------------------------------------------

    def _tuner_of(self, trial_id) -> str | None:
        for tuner_id, trial in self.ongoing_trials.items():
            if trial.trial_id == trial_id:
                return tuner_id
        return None

    def _seen(self, tuner_id) -> None:
        if tuner_id is not None:
            now = time.monotonic()
            self._last_seen[tuner_id] = now
            self._last_contact = now

    @keras_tuner.synchronized
    def watch(self) -> bool:
        """The chief's check, every second or so: whether the search is over (finished or
        failed, with every worker told). Gives the probe of a worker silent for
        `worker_timeout` to the next worker that asks.

        Raises:
            RuntimeError: When no worker has called for `worker_timeout` seconds while
                probes remain.
        """
        now = time.monotonic()
        for tuner_id in sorted(self.tuner_ids):
            if now - self._last_seen.get(tuner_id, self._last_contact) > self.worker_timeout:
                self.tuner_ids.discard(tuner_id)
                trial = self.ongoing_trials.pop(tuner_id, None)
                if trial is not None:
                    self._retry_queue.append(trial.trial_id)
                    self.save()
        over = self._finished or self._failure is not None
        if over and not self.ongoing_trials and not self.tuner_ids:
            return True
        if not self.tuner_ids and now - self._last_contact > self.worker_timeout:
            left = "" if over else f"; {self._remaining()} probe(s) of this round remain"
            raise RuntimeError(
                f"No worker has called the chief for {self.worker_timeout:g} s "
                f"(`worker_timeout`){left}. Start workers with the same script and "
                "KERASTUNER_TUNER_ID=tuner0, tuner1, ... (a worker whose model or data differ "
                "from the chief's refuses to join: see its output), then run the chief again "
                "with `overwrite=False` to resume."
            )
        return False

    def _remaining(self) -> int:
        losses = self._losses()
        return sum(probe not in losses for probe in self._round)

    # -- The answer ------------------------------------------------------------------------

    def check_failure(self) -> None:
        """Raises `RuntimeError` if a probe failed (see `end_trial`)."""
        if self._failure is not None:
            raise RuntimeError(f"The search failed: {self._failure}")

    @property
    def range_test(self) -> LRFinderResult | None:
        saved = None if self._search is None else self._search["range_test"]
        return None if saved is None else LRFinderResult.from_dict(saved)

    def add_seconds(self, seconds: float) -> None:
        """Adds the wall time of one `search` call (the chief's, or the one process's)."""
        self._search["seconds"] += float(seconds)
        self.save()

    def result(self) -> ProbeResult:
        """The search's `ProbeResult` (see `find_best_learning_rate`).

        Raises:
            RuntimeError: If the search has not run to its end (or failed).
        """
        self.check_failure()
        if self._search is not None and self._planner is None:
            self._planner = self._rebuilt_planner()
            self._replay()
        if not self._finished:
            remaining = "it has not started" if self._search is None else "probes remain"
            raise RuntimeError(
                f"The search has not finished ({remaining}): call `tuner.search(...)` (on "
                "the chief, with workers running, in distributed tuning) until it returns."
            )
        trials = sorted(
            (t for t in self.trials.values() if t.status == TrialStatus.COMPLETED),
            key=lambda trial: trial.trial_id,
        )
        outcomes = [outcome_of(trial, self._planner.learned) for trial in trials]
        range_test = self.range_test
        steps = (0 if range_test is None else range_test.num_recorded) + sum(
            outcome.steps for outcome in outcomes
        )
        return _find_best.result(
            self._planner,
            self._planner.baselines,
            range_test,
            outcomes,
            validation=self._search["validation"],
            steps=steps,
            seconds=self._search["seconds"],
        )

    @property
    def planner(self) -> Planner | None:
        """The search's planner (after `begin`, or after `result()` on a reloaded project)."""
        return self._planner

    def _rebuilt_planner(self) -> Planner:
        """The planner of a saved search (a project reloaded for its answer)."""
        arguments = dict(self._search["planner"])
        planner = Planner(
            arguments.pop("training_steps"),
            arguments.pop("epoch_steps"),
            budget=arguments["budget"],
            range_test_steps=arguments["range_test_steps"],
            candidates=arguments["candidates"],
        )
        self._read_saved(planner)
        return planner

    # -- State -----------------------------------------------------------------------------

    def get_state(self):
        state = super().get_state()
        state["learning_rate_search"] = self._search
        return state

    def set_state(self, state):
        super().set_state(state)
        self._search = state.get("learning_rate_search")
        self._planner = None  # Rebuilt by `begin` (or `result`) from the finished trials.
