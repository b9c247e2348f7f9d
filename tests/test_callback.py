"""Tests for `LRFinderCallback` inside the user's own `model.fit`."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import (
    BATCH_SIZE,
    StepRecorder,
    assert_same_state,
    full_state,
    make_mlp,
    skip_on_backends,
)

import keras_lrfind


class TestLRFinderCallback:
    def test_inside_fit_records_and_restores(self, linear_data):
        """Passed to `fit`, it records the sweep, stops training, and restores everything."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, verbose=0)
        before = full_state(model)
        callback = keras_lrfind.LRFinderCallback(num_steps=50)
        history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=3, callbacks=[callback], verbose=0)
        result = callback.result
        assert result.num_steps == 50
        assert 1 < result.num_recorded <= 50
        assert len(history.history["loss"]) <= 2  # Stopped once the sweep ended.
        assert_same_state(before, full_state(model))
        assert not model.stop_training

    def test_reusable_across_fit_calls(self, linear_data):
        """One instance runs twice, and each run starts afresh."""
        x, y = linear_data
        model = make_mlp("adam")
        callback = keras_lrfind.LRFinderCallback(num_steps=20, diverge_threshold=1e9, end_lr=1e-2)
        model.fit(x, y, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)
        first = callback.result
        model.fit(x, y, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)
        second = callback.result
        assert first is not second
        assert first.num_recorded == second.num_recorded == 20
        np.testing.assert_array_equal(first.learning_rates, second.learning_rates)

    def test_default_length_needs_enough_epochs(self, linear_data):
        """A one-epoch fit of 32 steps cannot hold the default 100: a clear error, no change."""
        x, y = linear_data
        model = make_mlp("adam")
        # Trained once, so everything is built: JAX and PyTorch build the optimizer and the
        # compiled metrics in `fit` before any callback runs.
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        before = full_state(model)
        callback = keras_lrfind.LRFinderCallback()
        with pytest.raises(
            ValueError, match=r"needs 100 steps but `fit` will run only 32.*epochs=4"
        ):
            model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, callbacks=[callback], verbose=0)
        assert_same_state(before, full_state(model))

    @skip_on_backends(
        "torch", reason="Keras' PyTorch trainer itself refuses steps_per_execution > 1"
    )
    def test_steps_per_execution_is_refused(self, linear_data):
        """With steps_per_execution > 1 the callback refuses, naming the value and the fix."""
        x, y = linear_data
        model = make_mlp("adam", steps_per_execution=4)
        callback = keras_lrfind.LRFinderCallback(num_steps=20)
        with pytest.raises(ValueError, match=r"steps_per_execution=4.*LRFinder"):
            model.fit(x, y, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)

    def test_context_manager_restores_after_ctrl_c(self, linear_data):
        """Used as a context manager, it restores the model when `fit` is interrupted."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, verbose=0)
        before = full_state(model)
        with pytest.raises(KeyboardInterrupt):
            with keras_lrfind.LRFinderCallback(num_steps=20) as callback:
                model.fit(
                    x,
                    y,
                    batch_size=BATCH_SIZE,
                    callbacks=[callback, StepRecorder(raise_at=5)],
                    verbose=0,
                )
        assert_same_state(before, full_state(model))

    def test_restore_false_keeps_weights_but_not_the_learning_rate(self, linear_data):
        """With `restore=False` the trained weights stay, the learning rate comes back."""
        x, y = linear_data
        model = make_mlp(keras.optimizers.Adam(0.003))
        weights = [w.copy() for w in model.get_weights()]
        callback = keras_lrfind.LRFinderCallback(num_steps=20, end_lr=1e-2, restore=False)
        model.fit(x, y, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)
        assert any(
            not np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True)
        )
        assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.003)
        assert int(model.optimizer.iterations.numpy()) == 20

    def test_result_before_any_run(self):
        """Asking for the result before `fit` is a clear error."""
        with pytest.raises(RuntimeError, match=r"No range test has finished yet"):
            _ = keras_lrfind.LRFinderCallback().result

    def test_unknown_epoch_length_needs_num_steps(self, linear_data):
        """A generator epoch of unknown length without `num_steps` is refused."""
        x, y = linear_data
        model = make_mlp("adam")

        def generate():
            while True:
                yield x[:BATCH_SIZE], y[:BATCH_SIZE]

        with pytest.raises(ValueError, match=r"epoch length is unknown.*num_steps=None"):
            model.fit(
                generate(), callbacks=[keras_lrfind.LRFinderCallback()], shuffle=False, verbose=0
            )

    def test_sweep_arguments_are_read_only_attributes(self):
        """The sweep's settings read back, validated once; they cannot be changed afterwards."""
        callback = keras_lrfind.LRFinderCallback(1e-5, 1.0, 30, step_mode="linear", smoothing=0)
        assert (callback.start_lr, callback.end_lr, callback.num_steps) == (1e-5, 1.0, 30)
        assert (callback.step_mode, callback.smoothing, callback.diverge_threshold) == (
            "linear",
            0.0,
            4.0,
        )
        with pytest.raises(AttributeError):
            callback.num_steps = 1

    def test_mode_is_a_deprecated_name_of_step_mode(self, linear_data):
        """`mode=` still sweeps linearly for one release, with a `DeprecationWarning`."""
        x, y = linear_data
        with pytest.warns(DeprecationWarning, match=r"`mode` was renamed `step_mode`"):
            callback = keras_lrfind.LRFinderCallback(1e-4, 1e-2, 20, mode="linear")
        with pytest.warns(DeprecationWarning, match=r"`mode` was renamed `step_mode`"):
            assert callback.mode == "linear"
        make_mlp("adam").fit(x, y, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)
        np.testing.assert_allclose(callback.result.learning_rates, np.linspace(1e-4, 1e-2, 20))
        with pytest.raises(TypeError, match=r"Pass only `step_mode`, not also"):
            with pytest.warns(DeprecationWarning):
                keras_lrfind.LRFinderCallback(step_mode="linear", mode="linear")

    def test_verbose_prints_a_summary(self, linear_data, capsys):
        """`verbose=1` prints one summary line at the end."""
        x, y = linear_data
        model = make_mlp("adam")
        callback = keras_lrfind.LRFinderCallback(num_steps=20, verbose=1)
        model.fit(x, y, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)
        assert capsys.readouterr().out.startswith("LR range test: LRFinderResult(steps=")


class TestLRFinderCallbackArguments:
    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"restore": "yes"}, TypeError, r"`restore` must be `True` or `False`"),
            ({"verbose": "loud"}, ValueError, r"`verbose` must be one of 0, 1"),
            (
                {"validation_data": "SAMPLE", "validation_batch_size": 2.5},
                TypeError,
                r"`validation_batch_size` must be a positive integer.*of type float",
            ),
            (
                {"validation_batch_size": 8},
                ValueError,
                r"validation_batch_size=8 with validation_data=None",
            ),
            (
                {
                    "validation_data": [(np.ones((4, 3)), np.ones((4, 1)))],
                    "validation_batch_size": 2,
                },
                ValueError,
                r"validation_batch_size=2 with validation_data=a list of batches",
            ),
            ({"validation_data": [(1, 2, 3)]}, TypeError, r"`validation_data\[0\]` must be an"),
            (
                {"validation_data": (np.ones((4, 3)), np.ones((5, 1)))},
                ValueError,
                r"Received lengths 4 and 5",
            ),
            ({"num_steps": 10**6}, ValueError, r"`num_steps` must be at most 100000"),
        ],
    )
    def test_bad_arguments(self, linear_data, kwargs, error, match):
        """Each bad argument is refused when the callback is made, naming it and its value."""
        if kwargs.get("validation_data") == "SAMPLE":
            kwargs = {**kwargs, "validation_data": linear_data}
        with pytest.raises(error, match=match):
            keras_lrfind.LRFinderCallback(**kwargs)

    def test_listed_last_it_restores_after_the_other_callbacks(self, linear_data):
        """Listed after EarlyStopping(restore_best_weights=True), the restore has the last word."""
        x, y = linear_data
        model = make_mlp("adam")
        model.fit(x, y, batch_size=BATCH_SIZE, verbose=0)
        before = full_state(model)
        # It never stops the test (so every backend runs all 100 steps), and still writes
        # its best weights when training ends.
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="loss", patience=100, restore_best_weights=True
        )
        callback = keras_lrfind.LRFinderCallback()
        model.fit(
            x, y, batch_size=BATCH_SIZE, epochs=4, verbose=0, callbacks=[early_stopping, callback]
        )
        assert early_stopping.best_weights is not None
        assert_same_state(before, full_state(model))
