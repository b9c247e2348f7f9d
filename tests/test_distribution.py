"""The range test under distribution: `tf.distribute` strategies and Keras's DataParallel on JAX.

Devices have to be configured before TensorFlow or JAX start, so each scenario runs in a
fresh interpreter (`tests/_distributed_worker.py`, which documents them) and reports JSON.
Each one runs the same range test distributed and on one device, from the same state and
on the same batches. The expected values here come from that one-device run and from NumPy
re-computations of a Dense(1) layer; they hold whatever backend runs the suite.

Under two replicas a global batch of 16 is two local batches of 8, whose losses differ
from the global one: agreement with the NumPy loss of the whole batch shows the recorded
loss is the global batch's. The distributed sums are reduced in a different order than on
one device, so losses agree to float32 rounding (see `LOSS_RTOL`), not bit for bit; the
restored state is compared bit for bit.

Across processes (JAX only), two processes on localhost each run `tests/_multiprocess_worker.py`
under one `DataParallel` over both processes' devices; each process's curve, stop, restore
and `find_best_learning_rate` answer are compared with its own one-device run and with the
other process's. The pair then checks what a process killed mid-test does to the other.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import warnings

import _multiprocess_worker as multiprocess
import _subprocesses as subprocesses
import numpy as np
import pytest
from _distributed_worker import GLOBAL_BATCH_SIZE, NUM_REPLICAS, RESULT_PREFIX, linear_data

from keras_lrfind import LRFinderResult

pytestmark = pytest.mark.distributed

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_distributed_worker.py")
# Distributed and one-device losses differ by float32 rounding of differently ordered sums:
# measured at most 1.1e-6 relative while the loss falls, and up to 2.6e-5 (JAX) or 9.6e-6
# (TensorFlow) in the last steps of a diverging sweep, where lr > 4 amplifies them.
LOSS_RTOL = 1e-4
# The NumPy re-computation differs from float32 Keras by rounding (as in `test_finder.py`).
NUMPY_RTOL = 1e-5
# A scenario's interpreter takes 10-25 s on two shared cores; this bounds a hang.
TIMEOUT_S = 240


def worker_environment(backend, **extra):
    """The suite's environment with the scenario's backend (and no stray `TF_CONFIG`)."""
    environment = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    environment.pop("TF_CONFIG", None)
    environment.update(extra)
    return environment


def start_worker(scenario, environment, directory, name, command=None):
    """Starts a scenario's interpreter (see `_subprocesses.start`)."""
    return subprocesses.start(
        command or [sys.executable, WORKER, scenario], environment, directory, name
    )


def checked_report(scenario, finished):
    """A worker's report; the test fails when it exited without one."""
    report = finished.report(RESULT_PREFIX)
    if finished.returncode != 0 or report is None:
        pytest.fail(
            f"Scenario {scenario!r} exited with {finished.returncode} without a "
            f"result.\nstderr (end):\n{finished.stderr[-4000:]}"
        )
    return report


def run_scenario(scenario, start):
    """The reports of a scenario's interpreters (`start(attempt)` starts them), all of them
    run again once if one crashed.

    TensorFlow's `MirroredStrategy` crashed twice in CI runs of 2026-12-06 with a
    segmentation fault inside TensorFlow (creating the distributed dataset iterator at the
    start of `fit`), never in repeated runs here. A crash in native code is not a result of
    the range test, so the scenario runs a second time and the first crash is reported as a
    warning with its stderr; a second crash fails the test.
    """
    for attempt in (1, 2):
        finished = subprocesses.finish(start(attempt), TIMEOUT_S, f"Scenario {scenario!r}")
        crashed = [each for each in finished if each.crashed]
        if not crashed or attempt == 2:
            return [checked_report(scenario, each) for each in finished]
        with warnings.catch_warnings():  # Shown in pytest's summary, not raised as an error.
            warnings.simplefilter("always")
            warnings.warn(
                f"Scenario {scenario!r} crashed (exit {crashed[0].returncode}); running it "
                f"once more. stderr (end):\n{crashed[0].stderr[-4000:]}",
                stacklevel=1,
            )


def run_one(scenario, environment, directory):
    """The report of a scenario in one interpreter (see `run_scenario`)."""

    def start(attempt):
        return [start_worker(scenario, environment, directory, f"{scenario}-{attempt}")]

    return run_scenario(scenario, start)[0]


@pytest.fixture(scope="module")
def mirrored_report(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mirrored")
    return run_one("mirrored", worker_environment("tensorflow"), directory)


@pytest.fixture(scope="module")
def jax_report(tmp_path_factory):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed: `pip install jax` to test keras.distribution.")
    environment = worker_environment(
        "jax", XLA_FLAGS=f"--xla_force_host_platform_device_count={NUM_REPLICAS}"
    )
    directory = tmp_path_factory.mktemp("jax")
    return run_one("jax_data_parallel", environment, directory)


@pytest.fixture(scope="module")
def multi_worker_reports(tmp_path_factory):
    """Both workers' reports; each worker is a process, as on two machines."""
    directory = tmp_path_factory.mktemp("multi_worker")

    def start(attempt):
        ports = subprocesses.free_ports(NUM_REPLICAS)
        cluster = {"worker": [f"localhost:{port}" for port in ports]}
        workers = []
        for index in range(NUM_REPLICAS):
            task = {"type": "worker", "index": index}
            environment = worker_environment(
                "tensorflow", TF_CONFIG=json.dumps({"cluster": cluster, "task": task})
            )
            name = f"worker{index}-{attempt}"
            workers.append(start_worker("multi_worker", environment, directory, name))
        return workers

    return run_scenario("multi_worker", start)


@pytest.fixture(scope="module")
def process_pair(tmp_path_factory):
    """What each of two JAX processes reported, its exit status and the end of its stderr.

    Both run `_multiprocess_worker.py` against each other. Process `VICTIM_ID` is killed
    (SIGKILL) in the last test; the other one is expected to exit by itself, aborted by JAX
    once the dead process misses its heartbeats. Both are killed after `TIMEOUT_S`.
    """
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed: `pip install jax` to test keras.distribution.")
    directory = tmp_path_factory.mktemp("processes")
    (port,) = subprocesses.free_ports(1)
    environment = worker_environment("jax", **multiprocess.ENVIRONMENT)
    workers = [
        start_worker(
            "processes",
            environment,
            directory,
            f"process{index}",
            command=[sys.executable, multiprocess.__file__, str(index), str(port)],
        )
        for index in range(multiprocess.NUM_PROCESSES)
    ]
    reports = []
    for finished in subprocesses.finish(workers, TIMEOUT_S, "The two JAX processes"):
        reports.append(
            {
                "returncode": finished.returncode,
                "stderr": finished.stderr[-4000:],
                "heartbeat_error": "heartbeat timeout" in finished.stderr,
                "result": finished.report(RESULT_PREFIX),
                "killed": finished.report(multiprocess.KILLED_PREFIX),
            }
        )
    return reports


# -- Checks shared by every scenario --------------------------------------------------------


def results(pair):
    return LRFinderResult.from_dict(pair["reference"]), LRFinderResult.from_dict(
        pair["distributed"]
    )


def check_same_curve(pair):
    """Same learning rates, same stop, and losses equal to float32 rounding."""
    reference, distributed = results(pair)
    assert distributed.stop_reason == reference.stop_reason
    assert distributed.num_recorded == reference.num_recorded
    np.testing.assert_array_equal(distributed.learning_rates, reference.learning_rates)
    np.testing.assert_allclose(distributed.losses, reference.losses, rtol=LOSS_RTOL)


def check_same_suggestions(pair):
    """Every suggestion method picks the same learning rate as on one device."""
    reference, distributed = results(pair)
    expected = reference.suggestions()
    assert sum(value is not None for value in expected.values()) >= 3, expected
    assert distributed.suggestions() == expected


def check_state_restored(report):
    """Every variable's value, every replica's copy and its placement, bit for bit."""
    before, after = report["state_before"], report["state_after"]
    assert [v["path"] for v in after] == [v["path"] for v in before]
    for a, b in zip(before, after, strict=True):
        assert b["placement"] == a["placement"], a["path"]
        np.testing.assert_array_equal(b["value"], a["value"], err_msg=a["path"])
        assert len(b["replicas"]) == len(a["replicas"]), a["path"]
        for copy_before, copy_after in zip(a["replicas"], b["replicas"], strict=True):
            np.testing.assert_array_equal(copy_after, copy_before, err_msg=a["path"])


def linear_loss_and_gradient(weights, x, y):
    """MSE of a Dense(1) layer and its gradient, written out by hand."""
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in weights)
    error = x @ kernel + bias - y
    return float(np.mean(error**2)), [2.0 * x.T @ error / len(x), 2.0 * error.sum(axis=0) / len(x)]


def check_global_batch_sgd(pair):
    """Each loss is the global batch's at that step's weights (not one replica's half), and
    SGD stepped with that step's rate on the global batch's gradient."""
    _, result = results(pair)
    x, y = (a.astype(np.float64) for a in linear_data())
    local = GLOBAL_BATCH_SIZE // NUM_REPLICAS
    global_losses, local_losses = [], []
    for step, lr in enumerate(result.learning_rates):
        xb = x[step * GLOBAL_BATCH_SIZE : (step + 1) * GLOBAL_BATCH_SIZE]
        yb = y[step * GLOBAL_BATCH_SIZE : (step + 1) * GLOBAL_BATCH_SIZE]
        loss, gradient = linear_loss_and_gradient(pair["weights_before"][step], xb, yb)
        global_losses.append(loss)
        local_losses.append(
            linear_loss_and_gradient(pair["weights_before"][step], xb[:local], yb[:local])[0]
        )
        updates = zip(
            pair["weights_before"][step], pair["weights_after"][step], gradient, strict=True
        )
        for before, after, grad in updates:
            np.testing.assert_allclose(
                after, np.asarray(before) - lr * grad, rtol=1e-4, atol=1e-6, err_msg=f"step {step}"
            )
    np.testing.assert_allclose(result.losses, global_losses, rtol=NUMPY_RTOL)
    # At every step the recorded loss is nearer the global batch's than the first replica's.
    distance_to_global = np.abs(result.losses - global_losses)
    distance_to_local = np.abs(result.losses - local_losses)
    assert np.all(distance_to_global < distance_to_local)


class DistributedChecks:
    """The tests every data-parallel scenario passes; subclasses provide `report`."""

    @pytest.mark.parametrize("case", ["sgd", "adam_mlp", "schedule"])
    def test_every_variable_is_replicated(self, report, case):
        """The premise: every variable of the distributed model has a copy per replica."""
        for variable in report[case]["state_before"]:
            assert len(variable["replicas"]) == NUM_REPLICAS, variable["path"]

    def test_losses_are_the_global_batch_losses(self, report):
        """The recorded loss is the whole global batch's, and SGD steps on its gradient."""
        check_global_batch_sgd(report["sgd"])

    @pytest.mark.parametrize("case", ["sgd", "adam_mlp", "schedule"])
    def test_curve_matches_one_device(self, report, case):
        """Same learning rates and stop; losses equal the one-device run's to 1e-4."""
        check_same_curve(report[case])

    def test_suggestions_match_one_device(self, report):
        """Every suggestion method picks the one-device run's learning rate."""
        check_same_suggestions(report["adam_mlp"])

    @pytest.mark.parametrize("case", ["sgd", "adam_mlp", "schedule"])
    def test_state_restored_on_every_replica(self, report, case):
        """Weights, optimizer slots, `iterations` and metrics come back on every replica."""
        check_state_restored(report[case])

    def test_schedule_comes_back(self, report):
        """A schedule-built optimizer gets its own schedule back."""
        assert report["schedule"]["learning_rate_config"]["class_name"] == "ExponentialDecay"


class TestMirroredStrategy(DistributedChecks):
    """`tf.distribute.MirroredStrategy` over two logical CPU devices."""

    @pytest.fixture
    def report(self, mirrored_report):
        assert mirrored_report["num_replicas"] == NUM_REPLICAS
        return mirrored_report

    def test_replicas_keep_their_own_batch_norm_statistics(self, report):
        """Each replica gets its own BatchNormalization statistics back; evaluation agrees."""
        # Trained under the strategy without `synchronized=True`, the replicas' moving
        # statistics differ; assigning the variable would give both the first replica's.
        per_replica = report["per_replica"]
        moving_mean = next(
            v for v in per_replica["state_before"] if v["path"].endswith("moving_mean")
        )
        first, second = moving_mean["replicas"]
        assert not np.array_equal(first, second)  # The premise: the replicas differ.
        check_state_restored(per_replica)
        assert per_replica["evaluation_after"] == per_replica["evaluation_before"]

    def test_find_best_learning_rate_restores_every_replica(self, report):
        """The search runs its probes under the strategy, answers, and gives every replica
        its own state back, batch-norm statistics included."""
        assert report["find_best"]["learning_rate"] > 0
        check_state_restored(report["find_best"])

    def test_loss_scaling_is_refused_with_a_clear_error(self, report):
        """`LRFinder` and the callback name the combination, the bug and the fix."""
        loss_scaling = report["loss_scaling"]
        for message in (loss_scaling["finder_error"], loss_scaling["callback_error"]):
            assert message is not None
            assert message.startswith(
                "The range test does not support loss scaling (a `LossScaleOptimizer`, as the "
                "`mixed_float16` policy uses) under a `tf.distribute` strategy with more than "
                "one replica: in Keras "
            )
            assert "checks only the first replica's gradients for overflow" in message
            assert (
                "Received: optimizer=LossScaleOptimizer under MirroredStrategy with 2 replicas. "
                "Run the range test on one device with the same global batch size"
            ) in message
        check_state_restored(loss_scaling)  # `LRFinder` refused before touching the model.

    def test_keras_loss_scaler_checks_only_the_first_replica(self, report):
        """Keras applies a step that overflows on the second replica only; one device skips."""
        # When this fails, Keras fixed it: write the release in `_compat._KERAS_BUG_FIXED_IN`.
        loss_scaling = report["loss_scaling"]
        one_device, mirrored = loss_scaling["keras_one_device"], loss_scaling["keras_mirrored"]
        assert one_device["optimizer"] == mirrored["optimizer"] == "LossScaleOptimizer"
        assert one_device["weights_finite"] and not one_device["weights_changed"]
        assert not mirrored["weights_finite"]


class TestKerasDataParallelOnJax(DistributedChecks):
    """`keras.distribution.DataParallel` over two JAX host devices."""

    @pytest.fixture
    def report(self, jax_report):
        assert len(jax_report["devices"]) == NUM_REPLICAS
        return jax_report


class TestMultiWorkerMirroredStrategy:
    """`tf.distribute.MultiWorkerMirroredStrategy`, two worker processes on localhost."""

    def test_finder_refuses_with_a_clear_error(self, multi_worker_reports):
        """`LRFinder.find` names the strategy, the Keras bugs and the fix."""
        for report in multi_worker_reports:
            message = report["finder_error"]
            assert message is not None
            assert message.startswith(
                "`LRFinder` does not support `tf.distribute.MultiWorkerMirroredStrategy` with "
                "more than one worker: Keras "
            )
            assert "own `model.fit` fails under it" in message
            assert f"MultiWorkerMirroredStrategy with {NUM_REPLICAS} workers" in message
            assert "Run the range test in a single process" in message

    def test_keras_fit_itself_fails(self, multi_worker_reports):
        """Plain `model.fit` fails under it in this Keras (a canary for a Keras fix)."""
        # When this fails, Keras fixed it: write the release in `_compat._KERAS_BUG_FIXED_IN`.
        for report in multi_worker_reports:
            assert report["keras_fit_error"] is not None
            assert "PerReplica" in report["keras_fit_error"]

    def test_callback_matches_one_device_once_keras_is_patched(self, multi_worker_reports):
        """With Keras's bugs patched, both workers record the one-device curve and restore."""
        chief, other = multi_worker_reports
        assert {chief["task_index"], other["task_index"]} == {0, 1}
        assert chief["num_replicas"] == NUM_REPLICAS
        for report in multi_worker_reports:
            check_same_curve(report)
            check_same_suggestions(report)
            check_state_restored(report)
        np.testing.assert_array_equal(
            LRFinderResult.from_dict(other["distributed"]).losses,
            LRFinderResult.from_dict(chief["distributed"]).losses,
        )


# The range tests each JAX process runs, distributed and on one device.
PROCESS_CASES = ("adam_mlp", "callback", "nan")


class TestKerasDataParallelAcrossJaxProcesses:
    """`keras.distribution.DataParallel` over two JAX processes of two host devices each."""

    @pytest.fixture
    def reports(self, process_pair):
        """Each process's report of its range tests."""
        for process in process_pair:
            if process["result"] is None:
                pytest.fail(
                    f"A JAX process exited with {process['returncode']} without a result."
                    f"\nstderr (end):\n{process['stderr']}"
                )
        return [process["result"] for process in process_pair]

    def test_every_process_sees_every_device(self, reports):
        """The premise: two processes, four global devices, two of them local to each."""
        assert sorted(report["process_id"] for report in reports) == [0, 1]
        for report in reports:
            assert report["num_processes"] == multiprocess.NUM_PROCESSES
            assert len(report["devices"]) == 4
            assert len(report["local_devices"]) == multiprocess.DEVICES_PER_PROCESS
            assert set(report["local_devices"]) < set(report["devices"])
        assert set(reports[0]["local_devices"]).isdisjoint(reports[1]["local_devices"])

    @pytest.mark.parametrize("case", PROCESS_CASES)
    def test_curve_matches_one_process(self, reports, case):
        """On every process: same learning rates and stop, losses equal to one device's."""
        for report in reports:
            check_same_curve(report[case])

    @pytest.mark.parametrize("case", PROCESS_CASES)
    def test_processes_record_the_same_curve(self, reports, case):
        """Both processes record the very same curve: the global batch's loss."""
        first, second = (
            LRFinderResult.from_dict(report[case]["distributed"]) for report in reports
        )
        assert first.stop_reason == second.stop_reason
        np.testing.assert_array_equal(first.learning_rates, second.learning_rates)
        np.testing.assert_array_equal(first.losses, second.losses)

    @pytest.mark.parametrize("case", ["adam_mlp", "callback"])
    def test_divergence_stops_every_process_at_the_same_step(self, reports, case):
        """`LRFinder` and the callback stop on divergence at the one-device run's step."""
        for report in reports:
            reference, distributed = results(report[case])
            assert reference.stop_reason == distributed.stop_reason == "diverged"
            assert distributed.num_recorded == reference.num_recorded < reference.num_steps

    def test_nan_batch_stops_every_process_at_its_step(self, reports):
        """A NaN in the half of a global batch that one process reads stops both there."""
        for report in reports:
            reference, distributed = results(report["nan"])
            assert reference.stop_reason == distributed.stop_reason == "non_finite_loss"
            assert distributed.num_recorded == reference.num_recorded == multiprocess.NAN_STEP + 1
            assert np.isnan(distributed.losses[-1])

    def test_suggestions_match_one_process(self, reports):
        """Every suggestion method picks the one-device run's learning rate on each process."""
        for report in reports:
            check_same_suggestions(report["adam_mlp"])

    @pytest.mark.parametrize("case", [*PROCESS_CASES, "find_best"])
    def test_state_restored_on_every_process(self, reports, case):
        """Each process gets every variable back bit for bit, on both its devices."""
        for report in reports:
            for variable in report[case]["state_before"]:  # The premise: one copy per device.
                assert len(variable["replicas"]) == multiprocess.DEVICES_PER_PROCESS
            check_state_restored(report[case])

    def test_find_best_learning_rate_matches_one_process(self, reports):
        """Both processes answer the same learning rate, the one-device run's."""
        answers = [report["find_best"]["distributed"]["max_lr"] for report in reports]
        assert answers[0] == answers[1]
        for report in reports:
            reference, distributed = (
                report["find_best"]["reference"],
                report["find_best"]["distributed"],
            )
            assert distributed["candidates"] == reference["candidates"]
            assert distributed["max_lr"] == pytest.approx(reference["max_lr"], rel=1e-6)
            np.testing.assert_allclose(
                distributed["validation_losses"], reference["validation_losses"], rtol=LOSS_RTOL
            )

    def test_metrics_built_during_the_test_end_empty(self, reports):
        """Compiled metrics that `fit` builds during the test (after the snapshot) are
        emptied on every process, as `model.reset_metrics()` empties them on one."""
        for report in reports:
            metrics = report["metrics_built_during_the_test"]
            assert any(path.startswith("mean_absolute_error/") for path in metrics), metrics
            for path, value in metrics.items():
                assert np.all(np.asarray(value) == 0), path

    def test_callback_needs_num_steps(self, reports):
        """Keras's split of a dataset between processes has no known length: the callback
        asks for `num_steps` instead of defaulting to one epoch."""
        for report in reports:
            message = report["callback_default_length_error"]
            assert message is not None
            assert message.startswith("The epoch length is unknown")
            assert "a dataset Keras split between processes" in message
            assert "Pass `LRFinderCallback(num_steps=...)`" in message


class TestJaxProcessKilledMidTest:
    """One of the two JAX processes is killed (SIGKILL) in the middle of an `LRFinder` test."""

    @pytest.fixture
    def victim(self, process_pair):
        return process_pair[multiprocess.VICTIM_ID]

    @pytest.fixture
    def survivor(self, process_pair):
        return process_pair[1 - multiprocess.VICTIM_ID]

    def test_victim_was_killed(self, victim):
        """The premise: the victim died by SIGKILL after its range-test report."""
        assert victim["returncode"] == -signal.SIGKILL
        assert victim["result"] is not None and victim["killed"] is None

    def test_survivor_raises_a_clear_error(self, survivor):
        """The survivor's next collective fails at once (not a hang), and `find` says that
        another process stopped, chained from gloo's error."""
        assert survivor["killed"] is not None, survivor["stderr"]
        error = survivor["killed"]["error"]
        assert error is not None
        assert error.startswith("RuntimeError: The range test stopped: another process")
        cause = survivor["killed"]["cause"]
        assert cause.startswith("JaxRuntimeError: ") and "Gloo" in cause
        assert "Connection closed by peer" in cause or "Connection reset by peer" in cause

    def test_survivor_is_aborted_by_jax(self, survivor):
        """JAX aborts the survivor once the dead process misses its heartbeats (here
        `HEARTBEAT_TIMEOUT_S`): the harness never has to kill it."""
        assert survivor["returncode"] == -signal.SIGABRT, survivor["stderr"]
        assert survivor["heartbeat_error"], survivor["stderr"]

    def test_survivor_restores_its_model(self, survivor):
        """The survivor gets its model back bit for bit even though its peer died: the
        restore writes on this process alone, without the collective JAX runs for
        `variable.assign`."""
        check_state_restored(survivor["killed"])
