"""Tests for `keras_lrfind.tuner`: `find_best_learning_rate`'s search as KerasTuner trials.

The expected values come from `find_best_learning_rate` itself, run sequentially on the
same model (same seed, same initial weights) and data: the tuner must give its answer,
with one process, with a chief and two workers, and when a worker is killed mid-probe.
Distributed runs start the workers as subprocesses (`tests/_tuner_worker.py`) on the
loopback address; the chief runs in the test's own process, so its model can be checked.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import sys
import threading
import time
import traceback

import keras
import numpy as np
import pytest

pytest.importorskip("keras_tuner")

import _subprocesses as subprocesses
from _tuner_worker import (
    CANDIDATES,
    RESULT_PREFIX,
    SEARCH,
    WORKER_TIMEOUT,
    make_data,
    make_model,
)

import keras_lrfind
from keras_lrfind.tuner import LearningRateOracle, LearningRateTuner

# KerasTuner 1.4's `synchronized` (every oracle call) uses `threading`'s deprecated names.
pytestmark = [
    pytest.mark.filterwarnings("ignore:currentThread\\(\\) is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:getName\\(\\) is deprecated:DeprecationWarning"),
]

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_tuner_worker.py")
# A worker's interpreter takes 10-30 s on two shared cores (importing TensorFlow most of
# it); this bounds a hang.
TIMEOUT_S = 180
# Probes run in separate processes: their losses agree with one process's to rounding.
RTOL = 1e-6


def state(model):
    """Every weight and optimizer variable (`iterations` included), as NumPy copies. The
    optimizer is built first: a search builds it (its slots come back zero)."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return [np.array(v) for v in [*model.weights, *model.optimizer.variables]]


def assert_same_state(before, model):
    after = state(model)
    assert len(after) == len(before)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


class Trainings(keras.callbacks.Callback):
    """Counts the `fit` calls of a search (the range test, then one per probe); raises
    `error` when training number `fail_at` begins."""

    def __init__(self, fail_at=None, error=None):
        super().__init__()
        self.count, self.fail_at, self.error = 0, fail_at, error

    def on_train_begin(self, logs=None):
        self.count += 1
        if self.count == self.fail_at:
            raise self.error


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def sequential(data):
    """The reference: `find_best_learning_rate`'s full search (range test and rounds)."""
    x, y = data
    return keras_lrfind.find_best_learning_rate(make_model(), x, y, return_details=True, **SEARCH)


@pytest.fixture(scope="module")
def sequential_candidates(data):
    """The reference for the distributed runs: the four candidates, one probe each."""
    x, y = data
    return keras_lrfind.find_best_learning_rate(
        make_model(), x, y, candidates=CANDIDATES, return_details=True, **SEARCH
    )


@pytest.fixture(scope="module")
def finished(data, tmp_path_factory):
    """A search run to its end by one process: the tuner, its directory and its model's
    state before the search."""
    x, y = data
    directory = tmp_path_factory.mktemp("tuner")
    model = make_model()
    before = state(model)
    tuner = LearningRateTuner(model, directory=directory, project_name="search")
    tuner.search(x, y, **SEARCH)
    return tuner, directory, model, before


class TestOneProcess:
    def test_answer_is_find_best_learning_rates(self, finished, sequential):
        """The same answer, from the same probes with the same losses and weight changes,
        as `find_best_learning_rate` with the same seed."""
        tuner, *_ = finished
        details = tuner.best_learning_rate(return_details=True)
        assert tuner.best_learning_rate() == sequential.max_lr
        assert details.max_lr == sequential.max_lr
        assert len(sequential.probes) >= 4  # Several rounds, not one.
        assert [(p.learning_rate, p.steps) for p in details.probes] == [
            (p.learning_rate, p.steps) for p in sequential.probes
        ]
        np.testing.assert_array_equal(
            [p.validation_loss for p in details.probes],
            [p.validation_loss for p in sequential.probes],
        )
        np.testing.assert_array_equal(
            [p.weight_change for p in details.probes],
            [p.weight_change for p in sequential.probes],
        )
        assert all(p.weight_change > 0 for p in details.probes)
        np.testing.assert_array_equal(details.range_test.losses, sequential.range_test.losses)
        assert details.steps == sequential.steps
        assert details.untrained_loss == sequential.untrained_loss

    def test_model_is_unchanged(self, finished):
        """Weights and optimizer variables come back bit for bit after the search."""
        _, _, model, before = finished
        assert_same_state(before, model)

    def test_one_trial_per_probe(self, finished, sequential):
        """Each probe is one completed trial with its learning rate and length; the best
        trial is the probe with the lowest validation loss."""
        tuner, *_ = finished
        trials = tuner.oracle.get_best_trials(len(sequential.probes))
        assert sorted((t.hyperparameters["learning_rate"], t.score) for t in trials) == sorted(
            (p.learning_rate, p.validation_loss) for p in sequential.probes
        )
        best = min(sequential.probes, key=lambda p: p.validation_loss)
        assert tuner.get_best_hyperparameters()[0]["learning_rate"] == best.learning_rate
        assert tuner.get_best_hyperparameters()[0]["probe_steps"] == best.steps

    def test_reloaded_project_answers_without_searching(self, finished, sequential):
        """A tuner on the finished project's directory answers without training."""
        _, directory, *_ = finished
        tuner = LearningRateTuner(make_model(), directory=directory, project_name="search")
        assert tuner.best_learning_rate() == sequential.max_lr

    def test_another_search_in_the_project_is_refused(self, finished, data):
        """Resuming the project with other initial weights raises before any training."""
        _, directory, *_ = finished
        model = make_model(seed=4)
        tuner = LearningRateTuner(model, directory=directory, project_name="search")
        trainings = Trainings()
        with pytest.raises(ValueError, match=r"holds another search than this one.*initial"):
            tuner.search(*data, callbacks=[trainings], **SEARCH)
        assert trainings.count == 0

    def test_resumes_after_an_interruption(self, data, sequential, tmp_path):
        """Ctrl-C in the third probe leaves the model as it was; searching again with
        `overwrite=False` runs only the probes not finished (no range test) and gives the
        same answer."""
        x, y = data
        model = make_model()
        before = state(model)
        tuner = LearningRateTuner(model, directory=tmp_path, project_name="search")
        # Training 1 is the range test, 2 and 3 the first probes.
        interrupt = Trainings(fail_at=4, error=KeyboardInterrupt())
        with pytest.raises(KeyboardInterrupt):
            tuner.search(x, y, callbacks=[interrupt], **SEARCH)
        assert_same_state(before, model)

        resumed = LearningRateTuner(model, directory=tmp_path, project_name="search")
        trainings = Trainings()
        resumed.search(x, y, callbacks=[trainings], **SEARCH)
        assert trainings.count == len(sequential.probes) - 2
        assert resumed.best_learning_rate() == sequential.max_lr
        assert_same_state(before, model)

    def test_a_probe_that_raises_stops_the_search(self, data, tmp_path):
        """The probe's own exception comes out of `search`, the model is restored, and
        there is no answer."""
        x, y = data
        model = make_model()
        before = state(model)
        tuner = LearningRateTuner(model, directory=tmp_path, project_name="search")
        broken = Trainings(fail_at=3, error=ArithmeticError("broken callback"))
        with pytest.raises(ArithmeticError, match="broken callback"):
            tuner.search(x, y, callbacks=[broken], **SEARCH)
        assert_same_state(before, model)
        with pytest.raises(RuntimeError, match=r"The search failed: The probe at learning"):
            tuner.best_learning_rate()

    def test_no_answer_before_the_search(self, tmp_path):
        """`best_learning_rate()` before `search` says what to call."""
        tuner = LearningRateTuner(make_model(), directory=tmp_path)
        with pytest.raises(RuntimeError, match=r"has not finished \(it has not started\)"):
            tuner.best_learning_rate()


class TestArguments:
    def test_worker_timeout_must_be_positive(self):
        """A timeout of 0 would take every worker for dead."""
        with pytest.raises(ValueError, match=r"`worker_timeout` must be a positive finite"):
            LearningRateOracle(worker_timeout=0)

    def test_search_options_are_find_best_learning_rates(self):
        """`budget`, `range_test_steps` and `candidates` are checked as there."""
        with pytest.raises(ValueError, match=r"`budget` must be"):
            LearningRateOracle(budget=20.0)
        with pytest.raises(ValueError, match=r"`range_test_steps` must be at least 20"):
            LearningRateOracle(range_test_steps=5)
        with pytest.raises(ValueError, match=r"`candidates` must be at least two"):
            LearningRateOracle(candidates=[0.1])

    def test_the_model_must_be_compiled(self, tmp_path):
        """An uncompiled model is refused when the tuner is built."""
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
        with pytest.raises(RuntimeError, match="compile"):
            LearningRateTuner(model, directory=tmp_path)

    def test_import_without_keras_tuner_names_the_extra(self, monkeypatch):
        """Without KerasTuner, `import keras_lrfind.tuner` says how to install it."""
        monkeypatch.setitem(sys.modules, "keras_tuner", None)
        monkeypatch.delitem(sys.modules, "keras_lrfind.tuner")
        with pytest.raises(ImportError, match=r"pip install keras-lrfind\[tuner\]"):
            importlib.import_module("keras_lrfind.tuner")

    def test_all_is_the_public_names(self):
        """`keras_lrfind.tuner.__all__` lists the oracle and the tuner, and the package
        does not import the module (KerasTuner is optional)."""
        module = importlib.import_module("keras_lrfind.tuner")
        assert module.__all__ == ["LearningRateOracle", "LearningRateTuner"]
        assert "tuner" not in keras_lrfind.__all__


# -- Distributed: a chief here, workers in subprocesses -------------------------------------


@pytest.fixture
def chief(monkeypatch):
    """This process as the chief; returns the port the workers must call."""
    (port,) = subprocesses.free_ports(1)
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    return port


def start_worker(name, port, directory, *options):
    """Starts a worker; its output goes to files (a full pipe would block)."""
    environment = dict(
        os.environ,
        KERASTUNER_TUNER_ID=name,
        KERASTUNER_ORACLE_IP="127.0.0.1",
        KERASTUNER_ORACLE_PORT=str(port),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    command = [sys.executable, WORKER, str(directory / name), *options]
    return subprocesses.start(command, environment, directory, name)


def finish(workers):
    """Waits for the workers (killing all after `TIMEOUT_S`); returns, per worker, its
    exit code, its report (or `None`) and the end of its standard error."""
    return [
        (finished.returncode, finished.report(RESULT_PREFIX), finished.stderr[-4000:])
        for finished in subprocesses.finish(workers, TIMEOUT_S, "A worker")
    ]


def wait_for(path: pathlib.Path, process) -> None:
    """Waits until `path` exists (or the process ended, or `TIMEOUT_S`)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)


def run(workers, directory, data, during=None):
    """Runs the chief's search here once every worker is ready (the chief hears from them
    within `worker_timeout`), with `during` in a thread; returns the chief's details and
    the workers' outcomes. A chief that raises leaves its workers waiting for it: they are
    killed at once."""
    for (process, *_), name in zip(workers, ("tuner0", "tuner1", "tuner2"), strict=False):
        wait_for(directory / f"{name}.ready", process)
    thread = None
    if during is not None:
        thread = threading.Thread(target=during, daemon=True)
        thread.start()
    try:
        details = chief_search(directory / "chief", data)
    except BaseException as error:
        subprocesses.stop_all(workers)
        error.add_note(thread_stacks())
        raise
    finally:
        if thread is not None:
            thread.join(timeout=TIMEOUT_S)
    return details, finish(workers)


def thread_stacks() -> str:
    """The stack of every thread of this process but this one: where the chief's gRPC
    handler waits when the chief says that no worker called (a rare failure of these tests
    whose cause is not known yet)."""
    frames = sys._current_frames()
    del frames[threading.get_ident()]
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return "\n".join(
        f"Thread {names.get(ident, ident)}:\n{''.join(traceback.format_stack(frame))}"
        for ident, frame in frames.items()
    )


def chief_search(directory, data, worker_timeout=WORKER_TIMEOUT):
    model = make_model()
    before = state(model)
    tuner = LearningRateTuner(
        model,
        candidates=CANDIDATES,
        worker_timeout=worker_timeout,
        directory=directory,
        project_name="search",
        overwrite=True,
    )
    tuner.search(*data, **SEARCH)
    assert_same_state(before, model)
    return tuner.best_learning_rate(return_details=True)


@pytest.mark.distributed
class TestDistributed:
    def test_two_workers_give_one_process_answer(
        self, chief, data, sequential_candidates, tmp_path
    ):
        """A chief and two workers run the four probes between them (each at least one)
        and answer as `find_best_learning_rate`; a third worker, whose model has other
        initial weights, refuses to join. Each worker holds its first probe until the
        other has started one: otherwise the one that reaches the chief first may run all
        four before the other connects (a worker retries a refused connection about once
        a second)."""
        workers = [
            start_worker(
                name,
                chief,
                tmp_path,
                "--marker",
                str(tmp_path / f"{name}.started"),
                "--rendezvous",
                str(tmp_path / f"{other}.started"),
            )
            for name, other in (("tuner0", "tuner1"), ("tuner1", "tuner0"))
        ]
        workers.append(start_worker("tuner2", chief, tmp_path, "--weights-seed", "4"))
        details, outcomes = run(workers, tmp_path, data)
        assert details.max_lr == pytest.approx(sequential_candidates.max_lr, rel=RTOL)
        np.testing.assert_allclose(
            [p.validation_loss for p in details.probes],
            [p.validation_loss for p in sequential_candidates.probes],
            rtol=RTOL,
        )
        for code, report, error in outcomes[:2]:
            assert code == 0, error
            assert report["weights_unchanged"]
        assert [report["trainings"] >= 1 for _, report, _ in outcomes[:2]] == [True, True]
        assert sum(report["trainings"] for _, report, _ in outcomes[:2]) == len(CANDIDATES)
        code, report, error = outcomes[2]
        assert code != 0 and report is None
        assert "This worker's initial weights differ from the chief's" in error

    def test_a_killed_worker_s_probe_runs_on_another(
        self, chief, data, sequential_candidates, tmp_path
    ):
        """A worker killed in the middle of its first probe (slowed down so that it is
        still running): after `worker_timeout` that probe runs on the other worker, and
        the answer is still `find_best_learning_rate`'s. The other worker holds its first
        probe until the doomed one has started one, so that it cannot run all four first."""
        marker = tmp_path / "doomed.started"
        doomed = start_worker(
            "tuner0", chief, tmp_path, "--marker", str(marker), "--batch-sleep", "0.5"
        )
        workers = [doomed, start_worker("tuner1", chief, tmp_path, "--rendezvous", str(marker))]

        def kill_mid_probe():
            wait_for(marker, doomed[0])
            doomed[0].kill()

        details, outcomes = run(workers, tmp_path, data, during=kill_mid_probe)
        assert details.max_lr == pytest.approx(sequential_candidates.max_lr, rel=RTOL)
        assert outcomes[0][0] != 0 and outcomes[0][1] is None  # Killed.
        code, report, error = outcomes[1]
        assert code == 0, error
        assert report["trainings"] == len(CANDIDATES)  # Its own three, and the lost one.
        assert marker.exists()

    def test_a_worker_that_waited_long_for_its_chief_joins_at_once(
        self, chief, data, sequential_candidates, tmp_path
    ):
        """A worker that waited 80 s for its chief (one that ran a long range test, say)
        reaches it within the chief's `worker_timeout` (8 s) and runs every probe. With
        gRPC's default reconnect backoff (tries 1 s apart, then 1.6 times further apart
        each, +-20%) its tries near 80 s are about 70 s and 113 s: the chief, serving from
        about 82 s, raised that no worker had called."""
        workers = [start_worker("tuner0", chief, tmp_path)]
        wait_for(tmp_path / "tuner0.ready", workers[0][0])
        time.sleep(80)
        details, ((code, report, error),) = run(workers, tmp_path, data)
        assert code == 0, error
        assert report["trainings"] == len(CANDIDATES)
        assert details.max_lr == pytest.approx(sequential_candidates.max_lr, rel=RTOL)

    def test_a_probe_that_raises_on_a_worker_stops_the_search(self, chief, data, tmp_path):
        """The worker re-raises its probe's error; the chief's `search` raises naming the
        probe and the worker (after its `worker_timeout` it would say that no worker
        called instead)."""
        workers = [start_worker("tuner0", chief, tmp_path, "--fail")]
        wait_for(tmp_path / "tuner0.ready", workers[0][0])
        with pytest.raises(
            RuntimeError,
            match=r"The search failed: The probe at learning rate .* raised an error on "
            r"tuner 'tuner0'",
        ):
            chief_search(tmp_path / "chief", data, worker_timeout=60.0)
        ((code, report, error),) = finish(workers)
        assert code != 0 and report is None
        assert "ArithmeticError: broken callback" in error

    def test_no_worker_left_fails_after_the_worker_timeout(self, chief, data, tmp_path):
        """A chief whose workers never call raises after `worker_timeout`, naming the
        fix, with its model unchanged."""
        model = make_model()
        before = state(model)
        tuner = LearningRateTuner(
            model, candidates=CANDIDATES, worker_timeout=1.0, directory=tmp_path
        )
        with pytest.raises(RuntimeError, match=r"No worker has called the chief for 1 s"):
            tuner.search(*data, **SEARCH)
        assert_same_state(before, model)
