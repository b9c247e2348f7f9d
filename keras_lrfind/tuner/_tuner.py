"""`LearningRateTuner`: `find_best_learning_rate` with its probes run as KerasTuner trials.

Every process runs the same script: it builds the model (with the same initial weights),
the tuner and calls `search` with the same data. What `search` does depends on the
process's role in KerasTuner's distributed tuning (its `KERASTUNER_*` variables):

- alone (no variables): the range test, then every trial in turn, on this model;
- the chief (`KERASTUNER_TUNER_ID=chief`): the range test, then it serves the oracle
  (`tuner_server.serve`) until the workers have run every round;
- a worker (`tuner0`, `tuner1`, ...): it checks that its model and data are the chief's
  (their checksums), then runs the trials the chief gives it.

Each process opens one `ProbeSession` on its model: every probe starts from the weights it
had when `search` began, and the model comes back exactly as it was when `search` returns
or raises.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

import keras
from keras_tuner.engine.base_tuner import BaseTuner
from keras_tuner.engine.trial import TrialStatus

from keras_lrfind import _checks
from keras_lrfind._compat import tuner_server
from keras_lrfind.range_test._session import check_model
from keras_lrfind.search import _find_best
from keras_lrfind.search._probes import ProbeSession, Progress
from keras_lrfind.tuner._oracle import LearningRateOracle
from keras_lrfind.tuner._trials import (
    FINGERPRINTS,
    WEIGHT_CHANGE,
    data_checksum,
    probe_of,
    weights_checksum,
)

POLL_SECONDS = 0.2
"""How long a tuner waits before asking again when a round's last probes still run."""


class LearningRateTuner(BaseTuner):
    """`find_best_learning_rate` on KerasTuner: the probes as trials, on one or many workers.

    The search is `find_best_learning_rate`'s, and so is the answer (`best_learning_rate`):
    the range test and the baselines run first, in the chief's `search` (or the one
    process's); then `LearningRateOracle` proposes the probes round by round, each probe a
    trial, run by whichever worker asks. Each probe trains from the model's weights as they
    were when `search` began, on the same seeded split of the data, so the result does not
    depend on which worker ran it, nor on how many there are.

    Distributed tuning is KerasTuner's: run the same script in every process, the chief
    with `KERASTUNER_TUNER_ID=chief` and the workers with `tuner0`, `tuner1`, ..., all with
    `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT` naming the chief. Every worker must
    build the same model with the same initial weights (seed it with
    `keras.utils.set_random_seed` before building, or load the same weights) and pass the
    same data and arguments to `search`; a worker whose model or data differ (checksums) from
    the chief's refuses to join with a `ValueError`. The project directory need not be
    shared: only the chief keeps the search's state there.

    A search interrupted (Ctrl-C, a crash) resumes where it stopped when run again with
    `overwrite=False`: the finished probes are read back, the range test is not run again,
    the interrupted probes run again. A worker that stops answering for `worker_timeout`
    seconds (killed, or its host gone) has its probe run by another worker; with no worker
    left, the chief's `search` raises `RuntimeError` after that time instead of waiting.
    A probe that raises on a worker stops the search: the worker re-raises the error, the
    chief's `search` raises `RuntimeError` naming the probe.

    Args:
        model: A compiled, built Keras 3 model, with the optimizer and loss you will train
            with. Every probe starts from its weights; it comes back unchanged.
        budget: The steps the search may spend, in trainings, as in
            `find_best_learning_rate`. Defaults to `None` (its default).
        range_test_steps: The length of the range test, in steps. Defaults to `None`.
        candidates: The peak learning rates to compare instead of a range test and rounds
            of probes. Defaults to `None`.
        worker_timeout: Seconds without a call from a worker after which the chief takes
            it for dead (see above). Defaults to `120.0`.
        directory: The directory of KerasTuner's project folders. Defaults to `None` (the
            current directory).
        project_name: The project folder's name. Defaults to `None` (`"untitled_project"`).
        overwrite: Whether to start a new search instead of resuming the project's. Only
            the chief (or the one process) deletes the project folder; a worker never does.
            Defaults to `False`.

    Raises:
        TypeError: For an argument of the wrong type.
        ValueError: For a bad value, or a model that is not built.
        RuntimeError: If the model is not compiled.

    Example:

    ```python
    tuner = keras_lrfind.tuner.LearningRateTuner(model, directory="lr_search")
    tuner.search(x, y, batch_size=64, epochs=5)
    max_lr = tuner.best_learning_rate()
    ```
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        budget: float | None = None,
        range_test_steps: int | None = None,
        candidates=None,
        worker_timeout: float = 120.0,
        directory=None,
        project_name: str | None = None,
        overwrite: bool = False,
    ):
        check_model(model, before_fit=True, built=True)
        overwrite = _checks.boolean("overwrite", overwrite)
        oracle = LearningRateOracle(
            budget=budget,
            range_test_steps=range_test_steps,
            candidates=candidates,
            worker_timeout=worker_timeout,
        )
        self.model = model
        self._options = oracle  # On a worker, `self.oracle` becomes the chief's proxy.
        self._session: ProbeSession | None = None
        self._error: BaseException | None = None
        self._waiting = False
        role = tuner_server.role()
        super().__init__(
            oracle,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite and role != "worker",
        )
        if role == "worker":
            tuner_server.connect(self.oracle)  # KerasTuner's proxy of the chief's oracle.
        if role != "worker" and not overwrite and not oracle.started:
            # A project that another role began (one process, then distributed: the
            # tuner's own file is named after its role) is resumed too.
            if os.path.exists(os.path.join(self.project_dir, "oracle.json")):
                oracle.reload()

    # -- The search ------------------------------------------------------------------------

    def search(
        self,
        x=None,
        y=None,
        *,
        batch_size: int | None = None,
        epochs: int,
        validation_data=None,
        validation_split: float = 0.1,
        callbacks=None,
        verbose="auto",
        seed: int = 0,
    ) -> None:
        """Runs the search (or, on a worker, its share of the probes).

        The arguments are `find_best_learning_rate`'s: every process must pass the same
        ones. The answer is `best_learning_rate()`, on the chief (or the one process).

        Args:
            x: The training data: arrays, a `tf.data.Dataset` or a `keras.utils.PyDataset`.
            y: The targets, when `x` is arrays. Defaults to `None`.
            batch_size: The batch size for arrays. Defaults to `None` (Keras's 32).
            epochs: The epochs of the one-cycle training you will run, at least 1.
            validation_data: Data to judge the probes on. Defaults to `None` (a split of
                `x`).
            validation_split: The fraction of `x` held out when `validation_data` is
                `None`. Defaults to `0.1`.
            callbacks: Extra callbacks for every `fit` of the search. Defaults to `None`.
            verbose: `0` is silent; `1` or `"auto"` show the range test's progress bar and
                KerasTuner's table of each trial (on the chief); `2` only the tables.
                Defaults to `"auto"`.
            seed: The seed of the validation split and the order of the probes' batches.
                Defaults to `0`.

        Raises:
            TypeError, ValueError: As `find_best_learning_rate`, before any training; also
                on a worker whose model or data differ from the chief's, and on a chief
                whose project holds another search (`overwrite=False`).
            RuntimeError: If the model is not compiled; on the chief, when no worker is
                left or a probe failed on a worker.
        """
        options, role = self._options, tuner_server.role()
        search = _find_best.prepare(
            self.model,
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=validation_data,
            validation_split=validation_split,
            budget=options.budget,
            range_test_steps=options.range_test_steps,
            candidates=options.candidates,
            verbose=verbose,
            callbacks=callbacks,
            seed=seed,
        )
        verbose = 1 if verbose == "auto" else verbose
        if role != "worker":
            self.oracle.verbose = verbose
        steps = search.planner.range_test_steps  # 0 with `candidates`: no range test.
        progress = Progress(steps, 1 if role != "worker" and verbose == 1 and steps else 0)
        start = time.perf_counter()
        with ProbeSession(
            self.model, search.data, search.callbacks, progress, search.planner.training_steps
        ) as session:
            fingerprints = {
                "initial_weights": weights_checksum(self.model),
                "data": data_checksum(search.data),
            }
            if role == "worker":
                self._check_fingerprints(fingerprints)
            elif self.oracle.started:
                self.oracle.begin(search, fingerprints=fingerprints)
            else:
                baselines, range_test = _find_best.start(session, search)
                progress.finish("")
                self.oracle.begin(
                    search, fingerprints=fingerprints, baselines=baselines, range_test=range_test
                )
            if role != "chief":
                self._session = session
                try:
                    super().search()
                finally:
                    self._session = None
        if role == "chief":
            self.save()
            tuner_server.serve(self.oracle)
            self.oracle.check_failure()
        if role != "worker":
            self.oracle.add_seconds(time.perf_counter() - start)

    def _check_fingerprints(self, fingerprints: dict[str, str]) -> None:
        """Refuses to join a chief whose model or data differ from this worker's."""
        space = self.oracle.get_space()  # From the chief; waits until it serves.
        for name in FINGERPRINTS:
            chief = space.values.get(name)
            if chief is not None and chief != fingerprints[name]:
                what = "initial weights" if name == "initial_weights" else "data"
                raise ValueError(
                    f"This worker's {what} differ from the chief's (checksum "
                    f"{fingerprints[name]} here, {chief} on the chief), so its probes would "
                    "not be the chief's search. Every process must build the same model with "
                    "the same initial weights (call `keras.utils.set_random_seed(...)` "
                    "before building it, or load the same weights) and pass the same data, "
                    "`seed` and arguments to `search`."
                )

    def run_trial(self, trial, *args, **kwargs):
        """Trains the trial's probe from the initial weights; returns its validation logs
        (`val_loss`, and `val_` + each compiled metric) and `weight_change`."""
        probe = probe_of(trial)
        try:
            with self._heartbeat(trial.trial_id):
                logs, moved = self._session.probe(probe.learning_rate, probe.steps)
        except Exception as error:
            self._error = error
            raise
        return {**{f"val_{name}": value for name, value in logs.items()}, WEIGHT_CHANGE: moved}

    @contextlib.contextmanager
    def _heartbeat(self, trial_id):
        """On a worker, tells the chief every quarter of `worker_timeout` that the probe
        still runs (KerasTuner's `get_trial` call, which the oracle counts)."""
        if not self._is_worker():
            yield
            return
        import grpc

        stop = threading.Event()

        def beat():
            while not stop.wait(self._options.worker_timeout / 4):
                try:
                    self.oracle.get_trial(trial_id)
                except grpc.RpcError:  # The chief is gone: the next request says so.
                    return

        thread = threading.Thread(target=beat, name="keras_lrfind-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()

    def pre_create_trial(self):
        if self._waiting:  # The last request got no trial: the round's last probes run.
            time.sleep(POLL_SECONDS)
        self._waiting = True

    def on_trial_begin(self, trial):
        self._waiting = False

    def on_trial_end(self, trial):
        """Ends the trial; re-raises a probe's error (after the oracle was told)."""
        super().on_trial_end(trial)
        error, self._error = self._error, None
        if error is not None and trial.status != TrialStatus.COMPLETED:
            raise error

    @property
    def role(self) -> str:
        """This process's role: `"chief"`, `"worker"` (from KerasTuner's `KERASTUNER_*`
        environment variables), or `"alone"` (no distributed tuning)."""
        return tuner_server.role()

    # -- The answer ------------------------------------------------------------------------

    def best_learning_rate(self, return_details: bool = False):
        """The answer: the peak learning rate of a one-cycle training, as
        `find_best_learning_rate` returns it for the same model, data and arguments.

        It is read from the probes (refined between them), so it is usually not the
        learning rate of a trial: `get_best_hyperparameters()` gives the probe with the
        lowest validation loss, among every length of probe.

        Args:
            return_details: Whether to return a `ProbeResult` instead of the float
                (`seconds` is the wall time of the chief's `search` calls). Defaults to
                `False`.

        Returns:
            The peak learning rate (a float), or a `ProbeResult`.

        Raises:
            RuntimeError: On a worker (the answer is the chief's), before the search has
                finished, or after it failed.
            ValueError: When every probe diverged or no given candidate learned (as
                `find_best_learning_rate`).
        """
        return_details = _checks.boolean("return_details", return_details)
        if self._is_worker():
            raise RuntimeError(
                "`best_learning_rate()` is the chief's: a worker runs probes but does not "
                "hold the search. Call it in the process with KERASTUNER_TUNER_ID=chief."
            )
        details = self.oracle.result()
        return _find_best.answer(self.oracle.planner, details, return_details)

    def load_model(self, trial):
        raise NotImplementedError(
            "The probes' trained models are not kept. Train your model with "
            "`keras_lrfind.OneCycle(tuner.best_learning_rate(), total_steps)`."
        )
