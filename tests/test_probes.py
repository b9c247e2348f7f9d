"""Tests for `find_best_learning_rate`: the search, the split, the restore, the errors."""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import (
    BATCH_SIZE,
    StepRecorder,
    assert_same_state,
    full_state,
    make_mlp,
    skip_on_backends,
)

import keras_lrfind
from keras_lrfind import LRFinderWarning, OneCycle, find_best_learning_rate
from keras_lrfind.search._planner import Baselines, Planner

NUM_SAMPLES = 256
STEPS_PER_EPOCH = NUM_SAMPLES // BATCH_SIZE  # 32


def regression_data(num_samples=NUM_SAMPLES, seed=0):
    """`y = x @ w + 0.3 + noise` with x (n, 3); x[:, 0] is the sample's id / 256 (exact)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_samples, 3)).astype("float32")
    x[:, 0] = np.arange(num_samples, dtype="float32") / 256
    w = np.array([[1.5], [-2.0], [0.5]], dtype="float32")
    y = (x @ w + 0.3 + 0.1 * rng.normal(size=(num_samples, 1))).astype("float32")
    return x, y


def blobs(num_samples=NUM_SAMPLES, seed=0):
    """Four Gaussian blobs in 3-D (labels 0 to 3), centres two standard deviations apart."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, num_samples)
    centres = rng.normal(0.0, 2.0, size=(4, 3))
    x = (centres[y] + rng.normal(size=(num_samples, 3))).astype("float32")
    return x, y.astype("int32")


def replay(details, baselines, accuracy=None):
    """A fresh planner for a 24-epoch training fed a search's range test and its probes'
    validation losses (and accuracies, from the logs key `accuracy`), without their weight
    changes: the probes it asks for, in order, and its decision."""
    planner = Planner(24 * STEPS_PER_EPOCH, STEPS_PER_EPOCH - 3)
    planner.set_baselines(baselines)
    test = details.range_test
    planner.read_range_test(test.learning_rates, test.losses, test.stop_reason)
    outcomes = {(p.learning_rate, p.steps): p for p in details.probes}
    asked = []
    while probes := planner.next_round():
        for probe in probes:
            asked.append((probe.learning_rate, probe.steps))
            outcome = outcomes[asked[-1]]
            score = outcome.logs[accuracy] if accuracy else None
            planner.record(probe, outcome.validation_loss, None, score)
    return asked, planner.decision()


def linear_model(optimizer=None, seed=1, **compile_kwargs):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(0.01), loss="mse", **compile_kwargs)
    return model


class IdRecorder(keras.Model):
    """A Dense(1) regression that records the sample ids (x[:, 0] * 256) of every batch it
    sees, by phase (runs eagerly so that `call` sees concrete values)."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.seen = {"train": [], "test": []}

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, x, training=False):
        try:
            ids = np.rint(keras.ops.convert_to_numpy(x[:, 0]) * 256).astype(int)
        except Exception:  # A symbolic or traced call (Keras builds with those): no data.
            ids = np.zeros(0, dtype=int)
        self.seen["train" if training else "test"].extend(ids.tolist())
        return self.dense(x)


def id_recorder():
    keras.utils.set_random_seed(1)
    model = IdRecorder()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", run_eagerly=True)
    model.build((None, 3))
    return model


class BatchSequence(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size=BATCH_SIZE):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


class TestSearch:
    def test_the_search_replays_through_its_rules(self):
        """The default search: a range test of a sixteenth of the training (at least 64
        steps), probes of a tenth (at least 32) around two grid points below where the
        range test broke, every probe judged by its validation loss; a fresh planner fed
        the same outcomes asks for the same probes and gives the same answer."""
        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=24, verbose=0,
            return_details=True,
        )  # fmt: skip
        training_steps = 24 * STEPS_PER_EPOCH  # 768
        assert details.training_steps == training_steps
        assert details.range_test.num_steps == 64  # 768 / 16 = 48: at least 64
        first = details.probes[:3]
        assert [p.steps for p in first] == [77] * 3  # round(768 / 10)
        ratios = [first[1].learning_rate / first[0].learning_rate,
                  first[2].learning_rate / first[1].learning_rate]  # fmt: skip
        np.testing.assert_allclose(ratios, 10 ** (2 / 3), rtol=1e-9)
        anchor = details.limit / 10 ** (2 / 3)
        assert abs(math.log10(first[1].learning_rate / anchor)) <= 1 / 6 + 1e-9
        assert details.steps == details.range_test.num_recorded + sum(
            p.steps for p in details.probes
        )
        assert details.steps <= max(training_steps // 2, 64 + 4 * 77)
        reference = min(details.untrained_loss, details.constant_loss)  # Both MSE, > 0.
        for probe in details.probes:  # Learned: 5% below the better baseline.
            assert probe.learned == (probe.validation_loss < 0.95 * reference)
        asked, decision = replay(details, Baselines(details.untrained_loss, details.constant_loss))
        assert asked == [(p.learning_rate, p.steps) for p in details.probes]
        assert decision.max_lr == details.max_lr
        assert details.learned and details.max_lr == details.winner

    @pytest.mark.parametrize(
        "metric, one_hot, name",
        [
            ("accuracy", False, "accuracy"),
            ("accuracy", True, "accuracy"),
            ("sparse_categorical_accuracy", False, "sparse_categorical_accuracy"),
        ],
    )
    def test_a_classifier_s_validation_accuracy_joins_the_judgement(self, metric, one_hot, name):
        """A classifier compiled with an accuracy metric: every probe's logs hold the
        validation accuracy under the name Keras gives it, and a fresh planner fed the same
        losses, accuracies and validation sample count (25: Keras's split of 256 by 0.1)
        asks for the same probes and gives the same answer."""
        x, y = blobs()
        targets = np.eye(4, dtype="float32")[y] if one_hot else y
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
        # A loss object: `keras.losses.get` of a dict naming the function would drop
        # `from_logits` and score the raw logits as probabilities.
        loss = (
            keras.losses.CategoricalCrossentropy
            if one_hot
            else keras.losses.SparseCategoricalCrossentropy
        )
        model.compile(
            optimizer=keras.optimizers.SGD(0.01), loss=loss(from_logits=True), metrics=[metric]
        )
        details = find_best_learning_rate(
            model, x, targets, batch_size=BATCH_SIZE, epochs=24, verbose=0,
            return_details=True,
        )  # fmt: skip
        accuracies = {(p.learning_rate, p.steps): p.logs[name] for p in details.probes}
        assert all(0.0 <= value <= 1.0 for value in accuracies.values())
        assert any(p.learned for p in details.probes)
        samples = 256 - math.ceil(256 * 0.9)
        baselines = Baselines(details.untrained_loss, details.constant_loss, samples)
        asked, decision = replay(details, baselines, accuracy=name)
        assert asked == [(p.learning_rate, p.steps) for p in details.probes]
        assert decision.max_lr == details.max_lr

    def test_probes_that_learn_nothing_are_no_answer(self):
        """Targets unrelated to the inputs: no probe beats the constant prediction (the
        mean target, whose mean squared error is the targets' variance), so the search
        warns that nothing learned and answers the lowest learning rate it probed."""
        x, _ = regression_data()
        y = np.random.default_rng(5).normal(3.0, 1.0, size=(NUM_SAMPLES, 1)).astype("float32")
        with pytest.warns(LRFinderWarning, match="No probe learned") as caught:
            details = find_best_learning_rate(
                linear_model(), x, y, batch_size=BATCH_SIZE, epochs=24, verbose=0,
                return_details=True,
            )  # fmt: skip
        validation = y[np.random.default_rng(0).permutation(NUM_SAMPLES)[:25]]
        assert details.constant_loss == pytest.approx(float(np.var(validation)), rel=1e-5)
        assert not details.learned and details.winner is None
        assert not any(p.learned for p in details.probes)
        assert details.max_lr == min(p.learning_rate for p in details.probes)
        # The advice is one a user can follow: a budget of twice what was spent, rounded
        # up to a tenth of a training, which the search accepts and spends more of.
        spent = details.steps / details.training_steps
        message = next(str(w.message) for w in caught if w.category is LRFinderWarning)
        advised = re.search(r"budget=([0-9.]+)", message)
        assert f"The search spent {details.steps} steps" in message
        assert float(advised[1]) == pytest.approx(math.ceil(20 * spent) / 10)
        with pytest.warns(keras_lrfind.LRFinderWarning, match="No probe learned"):
            again = find_best_learning_rate(
                linear_model(), x, y, batch_size=BATCH_SIZE, epochs=24, verbose=0,
                budget=float(advised[1]), return_details=True,
            )  # fmt: skip
        assert details.steps < again.steps <= float(advised[1]) * again.training_steps

    def test_candidates_that_all_diverge_are_an_error(self):
        """Fixed candidates that all diverge: no answer, an error that says so, and the
        model as it was."""
        x, y = regression_data()
        model = linear_model()
        before = full_state(model)
        with pytest.raises(ValueError, match=r"No candidate learned.*Pass lower `candidates`"):
            find_best_learning_rate(
                model, x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
                candidates=[1e4, 1e5, 1e6], verbose=0,
            )  # fmt: skip
        assert_same_state(before, full_state(model))

    def test_the_lowest_validation_loss_wins_refined_between_its_neighbours(self):
        """The winner is the vertex of the parabola (in log learning rate) through the
        lowest validation loss and its two neighbours."""
        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=10, budget=1.0,
            candidates=[1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0], verbose=0, return_details=True,
        )  # fmt: skip
        np.testing.assert_array_equal(
            details.validation_losses, [log["loss"] for log in details.logs]
        )
        losses = np.nan_to_num(np.array(details.validation_losses), nan=np.inf)
        best = int(np.argmin(losses))
        assert 0 < best < 5  # The test needs an interior minimum: 1e-4 is too slow, 10 diverges.
        u = np.log(details.candidates[best - 1 : best + 2])
        a, b, _ = np.polyfit(u, losses[best - 1 : best + 2], 2)
        assert a > 0
        expected = math.exp(min(max(-b / (2 * a), u[0]), u[2]))
        assert details.winner == pytest.approx(expected, rel=1e-9)

    def test_known_winner(self):
        """Of a learning rate too small to learn, a good one and one that diverges, the
        good one wins, and the diverged probe scores NaN."""
        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
            candidates=[1e-7, 0.3, 1e4], verbose=0, return_details=True,
        )  # fmt: skip
        losses = dict(zip(details.candidates, details.validation_losses, strict=True))
        assert math.isnan(losses[1e4])
        assert losses[0.3] < losses[1e-7] / 10
        assert details.winner == 0.3
        assert details.max_lr == 0.3 and details.short_probe_bias == 1.0

    def test_a_probe_is_a_compressed_one_cycle_from_the_current_weights(self):
        """A probe's validation loss equals that of a fresh copy of the model trained with
        `OneCycle(candidate, probe_steps)` for as many steps (full batches: order-free), and
        its weight change is the copy's `||w - w0|| / ||w0||`."""
        x, y = regression_data()
        x_val, y_val = regression_data(64, seed=1)
        model = linear_model(keras.optimizers.SGD(0.01, momentum=0.9))
        details = find_best_learning_rate(
            model, x, y, batch_size=NUM_SAMPLES, epochs=64, budget=1.0,
            validation_data=(x_val, y_val), candidates=[0.01, 0.1], verbose=0,
            return_details=True,
        )  # fmt: skip
        steps = details.probe_steps
        assert steps == 32  # Two probes share the whole budget.
        for probe in details.probes:
            copy = linear_model(
                keras.optimizers.SGD(OneCycle(probe.learning_rate, steps), momentum=0.9)
            )
            start = np.concatenate([w.ravel() for w in copy.get_weights()])
            copy.fit(x, y, batch_size=NUM_SAMPLES, epochs=steps, shuffle=False, verbose=0)
            expected = copy.evaluate(x_val, y_val, verbose=0)
            np.testing.assert_allclose(probe.validation_loss, expected, rtol=1e-4)
            moved = np.concatenate([w.ravel() for w in copy.get_weights()]) - start
            expected_change = np.linalg.norm(moved) / np.linalg.norm(start)
            np.testing.assert_allclose(probe.weight_change, expected_change, rtol=1e-4)

    def test_budget_caps_the_search(self):
        """An explicit budget caps the range test and the probes together."""
        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=24, budget=0.45, verbose=0,
            return_details=True,
        )  # fmt: skip
        assert details.steps <= 0.45 * details.training_steps

    @pytest.mark.parametrize(("epochs", "expected"), [(4, 64), (40, 80), (70, 100)])
    def test_default_range_test_is_a_sixteenth_of_the_training(self, epochs, expected):
        """A sixteenth of the training, at least 64 steps, at most one epoch of the probes'
        data clipped to 100..1000 (29 steps: 100): 4 x 32 steps gives 64, 40 x 32 = 1280
        gives 80, 70 x 32 = 2240 / 16 = 140 is cut to 100."""
        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=epochs, verbose=0,
            return_details=True,
        )  # fmt: skip
        assert details.range_test.num_steps == expected

    def test_range_test_steps_sets_the_range_test_length(self):
        """`range_test_steps` is the range test's length, within the budget."""
        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=24, budget=0.5,
            range_test_steps=40, verbose=0, return_details=True,
        )  # fmt: skip
        assert details.range_test.num_steps == 40
        assert details.steps <= 0.5 * details.training_steps

    def test_returns_a_float_by_default(self):
        """Without `return_details` the answer is a plain float."""
        x, y = regression_data()
        max_lr = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
            candidates=[1e-3, 1e-2], verbose=0,
        )  # fmt: skip
        assert type(max_lr) is float
        assert max_lr in (1e-3, 1e-2)

    def test_schedule_built_optimizer(self):
        """An optimizer built with a schedule probes each candidate's one-cycle from its
        current step and gets its own schedule back."""
        x, y = regression_data()
        schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)
        model = linear_model(keras.optimizers.SGD(schedule))
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        details = find_best_learning_rate(
            model, x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
            candidates=[1e-7, 0.3, 1e4], verbose=0, return_details=True,
        )  # fmt: skip
        assert details.winner == 0.3
        assert_same_state(before, full_state(model))
        assert model.optimizer.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"
        # The restored train step uses the schedule again, at iteration 32: 0.01 * 0.9**0.32.
        recorder = StepRecorder()
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0, callbacks=[recorder])
        assert recorder.learning_rates[0] == pytest.approx(0.01 * 0.9**0.32, rel=1e-6)


class TestRestores:
    def test_bit_identical_after_a_search(self):
        """Weights, optimizer slots, iterations, metrics, LR and stop_training come back."""
        x, y = regression_data()
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)  # Non-trivial state.
        before = full_state(model)
        lr_variable = model.optimizer.learning_rate
        find_best_learning_rate(
            model, x, y, batch_size=BATCH_SIZE, epochs=10, budget=1.0, verbose=0
        )
        assert_same_state(before, full_state(model))
        assert model.optimizer.learning_rate is lr_variable
        assert not model.stop_training
        batch_norm = next(
            layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
        )
        assert batch_norm.momentum == 0.99  # Changed while recalibrating, then put back.

    def test_a_model_never_trained_comes_back_as_it_was(self):
        """A fresh model's variables come back bit for bit; the metric variables the search
        had to build (compiled metrics are built by the first `fit`) are left empty."""
        x, y = regression_data()
        model = make_mlp("adam")
        before = dict(full_state(model))
        find_best_learning_rate(model, x, y, batch_size=BATCH_SIZE, epochs=10, verbose=0)
        after = dict(full_state(model))
        assert set(before) <= set(after)
        for path, value in after.items():
            expected = before.get(path, np.zeros_like(value))
            np.testing.assert_array_equal(value, expected, err_msg=path)

    @pytest.mark.parametrize("raise_at", [5, 60], ids=["in_range_test", "in_probe"])
    @pytest.mark.parametrize("exception", [KeyboardInterrupt, RuntimeError])
    def test_bit_identical_after_an_interrupted_search(self, exception, raise_at):
        """Ctrl-C (or an error) from a user callback propagates and the model comes back."""
        x, y = regression_data()
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        recorder = StepRecorder(raise_at=raise_at, exception=exception)
        with pytest.raises(exception, match="interrupted by the test"):
            find_best_learning_rate(
                model, x, y, batch_size=BATCH_SIZE, epochs=10, budget=1.0,
                callbacks=[recorder], verbose=0,
            )  # fmt: skip
        assert len(recorder.weights) == raise_at
        assert_same_state(before, full_state(model))
        assert not model.stop_training

    def test_interrupted_probe_restores_a_schedule(self):
        """Ctrl-C inside a probe of a schedule-built optimizer puts its schedule back."""
        x, y = regression_data()
        schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)
        model = linear_model(keras.optimizers.Adam(schedule))
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        with pytest.raises(KeyboardInterrupt):
            find_best_learning_rate(
                model, x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
                candidates=[1e-3, 1e-2], callbacks=[StepRecorder(raise_at=3)], verbose=0,
            )  # fmt: skip
        assert_same_state(before, full_state(model))
        assert model.optimizer.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"

    @skip_on_backends(
        "torch", reason="Keras' PyTorch trainer refuses steps_per_execution > 1 at compile"
    )
    def test_steps_per_execution_is_put_back(self):
        """A model compiled with `steps_per_execution=4` is searched step by step and gets
        its setting back; training afterwards works."""
        x, y = regression_data()
        model = linear_model(steps_per_execution=4)
        find_best_learning_rate(
            model, x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
            candidates=[1e-3, 1e-2], verbose=0,
        )  # fmt: skip
        assert model.steps_per_execution == 4
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)


class TestValidationSplit:
    def test_array_split_is_disjoint_and_seeded(self):
        """The probes train only on samples outside the validation split (10%, Keras's
        rounding), which judges them, and the split follows the seed."""
        x, y = regression_data()
        model = id_recorder()
        find_best_learning_rate(
            model, x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
            candidates=[0.1, 0.3], verbose=0,
        )  # fmt: skip
        train, test = set(model.seen["train"]), set(model.seen["test"])
        assert len(test) == NUM_SAMPLES - math.ceil(NUM_SAMPLES * 0.9)  # 25
        assert not train & test
        assert train | test == set(range(NUM_SAMPLES))
        expected = set(np.random.default_rng(0).permutation(NUM_SAMPLES)[: len(test)].tolist())
        assert test == expected

    def test_tf_data_split_takes_the_first_batches(self):
        """A fixed-order `tf.data.Dataset`: the first batches judge, the rest train."""
        x, y = regression_data()
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE)
        model = id_recorder()
        find_best_learning_rate(
            model, dataset, epochs=4, budget=1.0, candidates=[0.1, 0.3], verbose=0
        )
        held = STEPS_PER_EPOCH - math.ceil(STEPS_PER_EPOCH * 0.9)  # 3 batches
        assert set(model.seen["test"]) == set(range(held * BATCH_SIZE))
        assert set(model.seen["train"]) == set(range(held * BATCH_SIZE, NUM_SAMPLES))

    def test_py_dataset_split_by_batch_index(self):
        """A `PyDataset`: split by batch index, the first batches judge."""
        x, y = regression_data()
        model = id_recorder()
        find_best_learning_rate(
            model, BatchSequence(x, y), epochs=4, budget=1.0, candidates=[0.1, 0.3],
            verbose=0,
        )  # fmt: skip
        held = STEPS_PER_EPOCH - math.ceil(STEPS_PER_EPOCH * 0.9)
        assert set(model.seen["test"]) == set(range(held * BATCH_SIZE))
        assert set(model.seen["train"]) == set(range(held * BATCH_SIZE, NUM_SAMPLES))

    def test_validation_data_is_used_and_all_of_x_trains(self):
        """With `validation_data`, the probes train on all of `x` and are judged on it."""
        x, y = regression_data()
        x_val, y_val = regression_data(NUM_SAMPLES + 32)
        x_val, y_val = x_val[NUM_SAMPLES:], y_val[NUM_SAMPLES:]
        model = id_recorder()
        details = find_best_learning_rate(
            model, x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
            validation_data=(x_val, y_val), candidates=[0.1, 0.3], verbose=0,
            return_details=True,
        )  # fmt: skip
        assert set(model.seen["train"]) == set(range(NUM_SAMPLES))
        assert set(model.seen["test"]) == set(range(NUM_SAMPLES, NUM_SAMPLES + 32))
        assert details.validation == "validation_data"


class TestOutput:
    def test_verbose_0_prints_nothing(self, capsys):
        """`verbose=0` is silent."""
        x, y = regression_data()
        find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=10, budget=1.0, verbose=0
        )
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == ""

    def test_verbose_1_shows_one_progress_bar_over_the_search(self, capsys):
        """`verbose=1` draws Keras's progress bar, counting every step of the search."""
        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=4, budget=1.0,
            candidates=[1e-3, 1e-2], verbose=1, return_details=True,
        )  # fmt: skip
        out = capsys.readouterr().out
        assert f"{details.steps}/{details.steps}" in out
        assert "lr:" in out

    def test_plot_draws_the_curve_the_probes_and_the_answer(self):
        """`plot` draws the range-test losses, the probes' losses on a twin axis, and
        vertical lines at the winner and the answer."""
        import matplotlib.pyplot as plt

        x, y = regression_data()
        details = find_best_learning_rate(
            linear_model(), x, y, batch_size=BATCH_SIZE, epochs=10, verbose=0,
            return_details=True,
        )  # fmt: skip
        _, ax = plt.subplots()
        assert details.plot(ax) is ax
        curve = ax.lines[0].get_data()
        np.testing.assert_array_equal(curve[0], details.range_test.learning_rates)
        np.testing.assert_array_equal(curve[1], details.range_test.losses)
        twin = next(other for other in ax.figure.axes if other is not ax)
        lines = {line.get_label(): line for line in twin.lines}
        final = next(line for label, line in lines.items() if label.startswith("final probes"))
        np.testing.assert_array_equal(final.get_data()[0], details.candidates)
        np.testing.assert_array_equal(final.get_data()[1], details.validation_losses)
        learned = [p.learning_rate for p in details.probes if p.learned]
        np.testing.assert_array_equal(lines["probes that learned"].get_data()[0], learned)
        assert lines["untrained model"].get_ydata()[0] == details.untrained_loss
        assert [line.get_xdata()[0] for line in ax.lines[1:]] == [details.winner, details.max_lr]
        plt.close("all")


class TestNothingLearnedWarning:
    """The warning of a search whose answer is a fallback names why: nothing learned, or
    every probe that learned sat at or above a rate that failed when run longer."""

    @staticmethod
    def details(learned_flags):
        from keras_lrfind.search._result import ProbeOutcome, ProbeResult

        probes = tuple(
            ProbeOutcome(lr, steps, loss, learned, {})
            for lr, steps, loss, learned in zip(
                (0.01, 0.01), (32, 96), (1.0, 2.4), learned_flags, strict=True
            )
        )
        return ProbeResult(
            max_lr=0.01, candidates=(0.01,), validation_losses=(2.4,), logs=({},),
            winner=None, short_probe_bias=1.0, probe_steps=96, bracket=None,
            range_test=None, validation="validation_split=0.1", steps=192, seconds=1.0,
            training_steps=96, probes=probes, untrained_loss=2.4, constant_loss=2.3,
            learned=False,
        )  # fmt: skip

    def test_a_probe_that_learned_but_failed_longer(self):
        from keras_lrfind.search import _checks

        held_up = "No probe that learned held up within the search's budget: each sat"
        with pytest.warns(LRFinderWarning, match=held_up):
            _checks.nothing_learned(self.details((True, False)), diverged=False, fixed=False)

    def test_no_probe_learned(self):
        from keras_lrfind.search import _checks

        none = "No probe learned within the search's budget: every validation loss"
        with pytest.warns(LRFinderWarning, match=none):
            _checks.nothing_learned(self.details((False, False)), diverged=False, fixed=False)


def _array(*shape):
    return np.zeros(shape, "float32")


class TestBrokenInput:
    """Data the search can see is broken: it refuses, names what is wrong, and puts the
    model back; nothing is returned from a search known to have broken."""

    def search(self, model, **changes):
        x, y = regression_data()
        arguments = dict(x=x, y=y, batch_size=8, epochs=4, verbose=0)
        arguments.update(changes)
        return find_best_learning_rate(model, **arguments)

    @pytest.mark.parametrize("row", [3, 200])
    def test_nan_in_the_training_data(self, row):
        """One NaN in `x` (in the validation split or in the training part): an error that
        points at NaN in the data, and the model as it was."""
        x, y = regression_data()
        x[row, 1] = np.nan
        model = linear_model()
        before = full_state(model)
        with pytest.raises(ValueError, match=r"NaN or infinite"):
            self.search(model, x=x, y=y)
        assert_same_state(before, full_state(model))

    def test_nan_in_the_validation_data_fails_before_training(self):
        x_val, y_val = regression_data(64, seed=1)
        y_val[5] = np.inf
        model = linear_model()
        with pytest.raises(ValueError, match=r"untrained model's validation loss is not finite"):
            self.search(model, validation_data=(x_val, y_val))
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0

    def test_too_little_data(self):
        """20 samples, batch 32, one epoch: a single step is no training to search."""
        x, y = regression_data(20)
        with pytest.raises(ValueError, match=r"too short to search: 1 epoch\(s\) of `x` is 1 "):
            self.search(linear_model(), x=x, y=y, batch_size=32, epochs=1)

    def test_too_few_validation_samples(self):
        """A split of 10% of 120 samples leaves 12 to judge on, fewer than 16."""
        x, y = regression_data(120)
        with pytest.raises(ValueError, match=r"Too little validation data.*12 sample"):
            self.search(linear_model(), x=x, y=y, batch_size=4, epochs=2)

    @pytest.mark.parametrize(
        "validation_data",
        [
            (_array(0, 3), _array(0, 1)),
            (_array(40, 3), _array(30, 1)),
            (_array(40, 2), _array(40, 1)),
            tf.data.Dataset.from_tensor_slices((_array(40, 3), _array(40, 1))),
        ],
        ids=["empty", "unequal_lengths", "wrong_width", "unbatched_dataset"],
    )
    def test_bad_validation_data_fails_before_training(self, validation_data):
        """Each is refused by an error naming `validation_data`, before any training."""
        model = linear_model()
        with pytest.raises(ValueError, match=r"`validation_data`"):
            self.search(model, validation_data=validation_data)
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0

    def test_verbose_2_prints_one_line(self, capsys):
        self.search(linear_model(), verbose=2, candidates=[0.1, 0.3], budget=1.0)
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 1 and lines[0].startswith("find_best_learning_rate: ProbeResult(")

    def test_x_none_names_only_what_the_search_accepts(self):
        with pytest.raises(TypeError, match=r"`x` must be the training data") as error:
            self.search(linear_model(), x=None, y=None)
        assert "generator" not in str(error.value)


def reshuffling_dataset():
    x, y = regression_data()
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(256).batch(BATCH_SIZE)


def uncompiled():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])


def unbuilt():
    model = IdRecorder()
    model.compile(optimizer="sgd", loss="mse")
    return model


BAD_INPUT = [
    (dict(epochs=0), ValueError, r"`epochs` must be a positive integer\. Received: epochs=0\."),
    (dict(epochs=2.5), TypeError, r"`epochs` must be a positive integer\. Received: epochs=2\.5"),
    (dict(budget=0.0), ValueError, r"`budget` must be in \(0, 10\]\. Received: budget=0\.0\."),
    (dict(budget=50), ValueError, r"`budget` must be in \(0, 10\]\. Received: budget=50\. It "),
    (
        dict(validation_split=1.0),
        ValueError,
        r"`validation_split` must be strictly between 0 and 1",
    ),
    (dict(batch_size=0), ValueError, r"`batch_size` must be a positive integer"),
    (dict(candidates=[0.1]), ValueError, r"`candidates` must be at least two positive"),
    (dict(candidates=[0.1, -1.0]), ValueError, r"`candidates` must be at least two positive"),
    (dict(candidates=[0.1, 0.1]), ValueError, r"`candidates` must be distinct"),
    (dict(verbose=3), ValueError, r"`verbose` must be one of 'auto', 0, 1, 2"),
    (
        dict(epochs=10**8),
        ValueError,
        r"`epochs` gives a training of \d+ steps, whose probes would run \d+ steps each "
        r"\(at most 1000000\)\. Received: epochs=100000000, budget=1\.0\. Pass the number of "
        r"epochs you will train, or a smaller `budget`\.",
    ),
    (
        dict(range_test_steps=19),
        ValueError,
        r"`range_test_steps` must be at least 20.* Received: range_test_steps=19\.",
    ),
    (dict(range_test_steps=50.0), TypeError, r"`range_test_steps` must be a positive integer"),
    (dict(return_details="yes"), TypeError, r"`return_details` must be `True` or `False`"),
    (
        dict(epochs=1, budget=0.5),
        ValueError,
        r"`budget` is too small for this training: 0\.5 x 32 training steps gives 16 steps",
    ),
    (
        dict(x=_array(5, 3), y=_array(5, 1)),
        ValueError,
        r"`validation_split` must leave data on both sides, but splitting 5 samples by it "
        r"leaves no validation data",
    ),
    (
        dict(x=iter([]), y=None, batch_size=None),
        TypeError,
        r"`x` must be arrays .* Received: x of type list_iterator",
    ),
    (
        dict(x=tf.data.Dataset.from_tensor_slices(_array(8, 3)).repeat(), y=None, batch_size=None),
        ValueError,
        r"`x` must have a known length",
    ),
    (
        dict(x=tf.data.Dataset.from_tensor_slices(_array(8, 3)).batch(2)),
        ValueError,
        r"`y` and `batch_size` must be `None` when `x` is a dataset",
    ),
    (
        dict(x=reshuffling_dataset(), y=None, batch_size=None),
        ValueError,
        r"`x` must yield its batches in the same order on every pass",
    ),
    (dict(validation_data=[1, 2]), TypeError, r"`validation_data` must be `\(x_val, y_val\)`"),
    (dict(model=uncompiled()), RuntimeError, r"The model must be compiled"),
    (dict(model="model"), TypeError, r"`model` must be a Keras 3 `keras.Model`"),
    (dict(model=unbuilt()), ValueError, r"`model` must be built, so that its weights"),
]


class TestErrors:
    @pytest.mark.parametrize("changes, error, match", BAD_INPUT)
    def test_bad_input_fails_before_anything_runs(self, changes, error, match):
        """Each bad argument gets its clear error, and the model was not touched."""
        x, y = regression_data()
        model = linear_model()
        arguments = dict(
            model=model, x=x, y=y, batch_size=BATCH_SIZE, epochs=4, budget=1.0, verbose=0
        )
        arguments.update(changes)
        with pytest.raises(error, match=match):
            find_best_learning_rate(**arguments)
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0

    def test_exported(self):
        """`find_best_learning_rate` and `ProbeResult` are public names of the package."""
        assert keras_lrfind.find_best_learning_rate is find_best_learning_rate
        assert {"find_best_learning_rate", "ProbeResult"} <= set(keras_lrfind.__all__)
