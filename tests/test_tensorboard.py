"""Tests for the TensorBoard output, read back with TensorBoard's own data provider: the
range test's own run, and the learning rate a user's Keras TensorBoard callback logs."""

from __future__ import annotations

import io
import math
import os
import sys

import keras
import matplotlib.image
import numpy as np
import pytest
from conftest import BATCH_SIZE, StepRecorder, assert_same_state, full_state, make_linear_model

import keras_lrfind
from keras_lrfind import LRFinderResult, suggestions
from keras_lrfind.outputs.tensorboard import checked_log_dir, write_result

START_LR, END_LR = 1e-4, 1.0
# Root may write anywhere, so read-only places cannot be tested as root.
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


class Run:
    """One TensorBoard run read back as the TensorBoard server reads it.

    `MultiplexerDataProvider` is what feeds TensorBoard's dashboards, so a value found
    here under the scalars, images or text plugin is what a user sees there.
    """

    def __init__(self, log_dir, run="."):
        from tensorboard import context
        from tensorboard.backend.event_processing import data_provider
        from tensorboard.backend.event_processing import plugin_event_multiplexer as pem

        multiplexer = pem.EventMultiplexer(
            tensor_size_guidance={"scalars": 0, "images": 0, "text": 0}  # 0: keep all.
        )
        multiplexer.AddRunsFromDirectory(str(log_dir))
        multiplexer.Reload()
        self._provider = data_provider.MultiplexerDataProvider(multiplexer, str(log_dir))
        self._context = context.RequestContext()
        self._run = run

    def tags(self, plugin):
        """The tags a plugin (`"scalars"`, `"images"` or `"text"`) finds in the run."""
        listing = {
            "scalars": self._provider.list_scalars,
            "images": self._provider.list_blob_sequences,
            "text": self._provider.list_tensors,
        }[plugin]
        return set(listing(self._context, experiment_id="", plugin_name=plugin).get(self._run, {}))

    def scalars(self, tag):
        """`(steps, values)` of a scalar series, in step order."""
        data = self._provider.read_scalars(
            self._context, experiment_id="", plugin_name="scalars", downsample=10**6
        )[self._run][tag]
        return [d.step for d in data], np.array([d.value for d in data])

    def images(self, tag):
        """`[(step, [blob, ...])]`: the image plugin's blobs are width, height, PNG."""
        data = self._provider.read_blob_sequences(
            self._context, experiment_id="", plugin_name="images", downsample=10**6
        )[self._run][tag]
        return [
            (
                d.step,
                [self._provider.read_blob(self._context, blob_key=b.blob_key) for b in d.values],
            )
            for d in data
        ]

    def texts(self, tag):
        """`[(step, text)]` of a text series."""
        data = self._provider.read_tensors(
            self._context, experiment_id="", plugin_name="text", downsample=10**6
        )[self._run][tag]
        return [(d.step, d.numpy.item().decode()) for d in data]


def make_result(**overrides):
    """A short diverging curve with hand-picked values and a NaN last loss."""
    learning_rates = START_LR * (END_LR / START_LR) ** (np.arange(30) / 29)
    losses = np.concatenate([np.linspace(2.0, 0.5, 25), [0.8, 1.5, 3.0, 9.0, math.nan]])
    values = dict(
        learning_rates=learning_rates,
        losses=losses,
        smoothed_losses=losses * 1.01,
        stop_reason="non_finite_loss",
        start_lr=START_LR,
        end_lr=END_LR,
        num_steps=30,
    )
    values.update(overrides)
    return LRFinderResult(**values)


def assert_series(run, tag, expected):
    """A scalar series has one point per step 0, 1, ... holding `expected` as float32."""
    steps, values = run.scalars(tag)
    assert steps == list(range(len(expected)))
    np.testing.assert_array_equal(values, np.asarray(expected, dtype=np.float32))


class TestWriteResult:
    def test_scalars_are_the_curves_by_sweep_step(self, tmp_path):
        """Learning rate, loss and smoothed loss are scalars at steps 0..n-1, NaN kept."""
        result = make_result()
        write_result(result, tmp_path)
        run = Run(tmp_path)
        assert run.tags("scalars") == {
            "lr_find/learning_rate",
            "lr_find/loss",
            "lr_find/smoothed_loss",
        }
        assert_series(run, "lr_find/learning_rate", result.learning_rates)
        assert_series(run, "lr_find/loss", result.losses)
        assert_series(run, "lr_find/smoothed_loss", result.smoothed_losses)
        assert math.isnan(run.scalars("lr_find/loss")[1][-1])

    def test_validation_loss_is_written_when_recorded(self, tmp_path):
        """A result with validation losses gets a fourth series, `lr_find/validation_loss`."""
        validation = np.linspace(3.0, 1.0, 30)
        write_result(make_result(validation_losses=validation), tmp_path)
        assert_series(Run(tmp_path), "lr_find/validation_loss", validation)

    def test_plot_is_a_png_of_the_result_plot(self, tmp_path):
        """The image is `result.plot()` at 100 dpi: a PNG of the figure's size, last step."""
        result = make_result()
        write_result(result, tmp_path)
        run = Run(tmp_path)
        assert run.tags("images") == {"lr_find/plot"}
        [(step, (width, height, png))] = run.images("lr_find/plot")
        assert step == result.num_recorded - 1
        figure_inches = result.plot().figure.get_size_inches()
        expected_width, expected_height = np.rint(figure_inches * 100).astype(int)
        assert (int(width), int(height)) == (expected_width, expected_height)
        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert pixels.shape[:2] == (expected_height, expected_width)
        assert pixels.std() > 0  # Something was drawn.

    def test_suggestions_text_lists_every_method(self, tmp_path):
        """The text names the run and every method with its learning rate, default marked."""
        result = make_result()
        write_result(result, tmp_path)
        [(step, text)] = Run(tmp_path).texts("lr_find/suggestions")
        assert step == result.num_recorded - 1
        assert "30 of 30 steps" in text and "stopped: non_finite_loss" in text
        found = result.suggestions()
        assert list(found) == list(suggestions.METHODS)
        for name, lr in found.items():
            label = f"{name} (default)" if name == suggestions.DEFAULT_METHOD else name
            assert f"| {label} | {lr:.3g} |" in text

    def test_methods_that_cannot_read_the_curve_say_so(self, tmp_path):
        """On a curve too short for any method, every row says "cannot read this curve"."""
        result = make_result(
            learning_rates=[1e-3, 1e-2, 1e-1],
            losses=[1.0, 0.9, 0.8],
            smoothed_losses=[1.0, 0.95, 0.9],
            stop_reason="data_exhausted",
            num_steps=3,
        )
        write_result(result, tmp_path)
        [(_, text)] = Run(tmp_path).texts("lr_find/suggestions")
        rows = [line for line in text.splitlines() if line.startswith("| ") and "|---" not in line]
        assert len(rows) == 1 + len(suggestions.METHODS)  # The header and one row per method.
        assert all(row.endswith("| cannot read this curve |") for row in rows[1:])

    def test_missing_tensorboard_names_the_extra(self, tmp_path, monkeypatch):
        """Without the `tensorboard` package the error names the extra; nothing is written."""
        monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` fails.
        with pytest.raises(ImportError, match=r"pip install keras-lrfind\[tensorboard\]"):
            write_result(make_result(), tmp_path / "logs")
        assert not (tmp_path / "logs").exists()

    def test_log_dir_must_be_a_path(self):
        """`log_dir` of another type is a TypeError that shows the value."""
        with pytest.raises(TypeError, match=r"`log_dir` must be a directory path .* log_dir=3"):
            write_result(make_result(), 3)

    def test_result_must_be_a_result(self, tmp_path):
        """Anything but an `LRFinderResult` is a TypeError."""
        with pytest.raises(TypeError, match=r"`result` must be an `LRFinderResult`"):
            write_result({"learning_rates": [1e-3]}, tmp_path)


# A sweep that stays finite on the linear problem, so every planned step runs.
QUIET = dict(start_lr=1e-4, end_lr=0.05, num_steps=20, diverge_threshold=1e9)


def sweep_formula(step):
    """pytorch-lr-finder's exponential sweep, written out: the rate of step `step`."""
    start, end, num_steps = QUIET["start_lr"], QUIET["end_lr"], QUIET["num_steps"]
    return start * (end / start) ** (np.asarray(step) / (num_steps - 1))


def assert_same_curves(run, result):
    """The run holds the result's curves, plot and suggestions."""
    assert_series(run, "lr_find/learning_rate", result.learning_rates)
    assert_series(run, "lr_find/loss", result.losses)
    assert_series(run, "lr_find/smoothed_loss", result.smoothed_losses)
    assert run.tags("images") == {"lr_find/plot"}
    assert run.tags("text") == {"lr_find/suggestions"}


class TestRangeTestLogDir:
    def test_find_writes_the_result(self, linear_data, tmp_path):
        """`find(log_dir=...)` writes the finished curve, plot and suggestions."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        result = keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, verbose=0, log_dir=tmp_path, **QUIET
        )
        assert result.num_recorded == QUIET["num_steps"]
        assert_same_curves(Run(tmp_path), result)

    def test_callback_writes_the_result_at_the_end_of_fit(self, linear_data, tmp_path):
        """`LRFinderCallback(log_dir=...)` in the user's `fit` writes the same."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        callback = keras_lrfind.LRFinderCallback(log_dir=str(tmp_path), **QUIET)
        model.fit(x, y, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)
        assert_same_curves(Run(tmp_path), callback.result)

    def test_to_tensorboard_writes_the_result(self, tmp_path):
        """`result.to_tensorboard(log_dir)` writes the result's curves."""
        result = make_result()
        result.to_tensorboard(tmp_path)
        assert_same_curves(Run(tmp_path), result)

    def test_missing_tensorboard_fails_before_training(self, linear_data, tmp_path, monkeypatch):
        """Without `tensorboard`, `find` and the callback refuse `log_dir` before any step."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        before = full_state(model)
        monkeypatch.setitem(sys.modules, "tensorboard", None)
        with pytest.raises(ImportError, match=r"pip install keras-lrfind\[tensorboard\]"):
            keras_lrfind.LRFinder(model).find(x, y, verbose=0, log_dir=tmp_path / "logs", **QUIET)
        with pytest.raises(ImportError, match=r"pip install keras-lrfind\[tensorboard\]"):
            keras_lrfind.LRFinderCallback(log_dir=tmp_path / "logs")
        assert_same_state(before, full_state(model))
        assert not (tmp_path / "logs").exists()

    def test_callback_log_dir_must_be_a_path(self):
        """A `log_dir` of another type is refused when the callback is made."""
        with pytest.raises(TypeError, match=r"`log_dir` must be a directory path.*log_dir=\["):
            keras_lrfind.LRFinderCallback(log_dir=["logs"])


class TestCheckedLogDir:
    """`log_dir` is checked before anything is written or trained, everywhere it is taken."""

    def test_is_public_and_returns_a_str(self, tmp_path):
        """`keras_lrfind.tensorboard.checked_log_dir` is the check; a new directory passes."""
        assert keras_lrfind.tensorboard.checked_log_dir is checked_log_dir
        assert checked_log_dir(tmp_path / "new" / "run") == str(tmp_path / "new" / "run")
        assert not (tmp_path / "new").exists()  # Checked, not created.

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            (
                "a_file",
                r"^`log_dir` is a file, not a directory\. Received: log_dir='a_file'\. Pass the "
                r"path of a directory \(created if needed\)\.$",
            ),
            (
                "a_file/run",
                r"^`log_dir` cannot be created: '.*a_file' is a file, not a directory\. "
                r"Received: log_dir='a_file/run'\. Choose a path whose parents are directories\.$",
            ),
            (
                "",
                r"^`log_dir` is not a directory name\. Received: log_dir=''\. Pass the path of a "
                r"directory, e.g\. 'logs/lr_find'\.$",
            ),
            ("a\0b", r"^`log_dir` is not a directory name\. Received: log_dir='a\\x00b'\."),
        ],
    )
    def test_paths_that_cannot_be_written(self, tmp_path, monkeypatch, name, message):
        """A file, a path under a file, no name: a ValueError naming `log_dir` and the fix,
        from `to_tensorboard` too, with nothing written (these hold for root as well)."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "a_file").write_text("mine")
        with pytest.raises(ValueError, match=message):
            checked_log_dir(name)
        with pytest.raises(ValueError, match=message):
            make_result().to_tensorboard(name)
        assert sorted(os.listdir(tmp_path)) == ["a_file"]
        assert (tmp_path / "a_file").read_text() == "mine"

    @pytest.mark.skipif(ROOT, reason="root may write into read-only directories")
    def test_read_only_directories(self, tmp_path, monkeypatch):
        """A read-only directory, or a new one inside it, is refused."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "locked").mkdir(mode=0o555)
        try:
            with pytest.raises(
                ValueError,
                match=r"^`log_dir` is a directory this process cannot write to\. Received: "
                r"log_dir='locked'\. Choose a directory you can write to, or change its "
                r"permissions\.$",
            ):
                make_result().to_tensorboard("locked")
            with pytest.raises(
                ValueError,
                match=r"^`log_dir` cannot be created in '.*locked', a directory this process "
                r"cannot write to\. Received: log_dir='locked/run'\.",
            ):
                make_result().to_tensorboard("locked/run")
        finally:
            (tmp_path / "locked").chmod(0o755)
        assert list((tmp_path / "locked").iterdir()) == []

    def test_url_is_left_to_the_writer(self):
        """A URL (`gs://...`) is not checked as a local path."""
        assert checked_log_dir("gs://bucket/logs") == "gs://bucket/logs"

    def test_find_and_callback_refuse_before_training(self, linear_data, tmp_path, capfd):
        """`find(log_dir=a file)` and `LRFinderCallback(log_dir=...)` fail at once: the model is
        untouched and no writer thread prints a traceback (it did after the whole test)."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        before = full_state(model)
        a_file = tmp_path / "a_file"
        a_file.write_text("mine")
        message = r"`log_dir` is a file, not a directory\. Received: log_dir=PosixPath\("
        with pytest.raises(ValueError, match=message):
            keras_lrfind.LRFinder(model).find(x, y, verbose=0, log_dir=a_file, **QUIET)
        with pytest.raises(ValueError, match=r"`log_dir` cannot be created: .*a_file' is a file"):
            keras_lrfind.LRFinderCallback(log_dir=str(a_file / "run"), **QUIET)
        assert_same_state(before, full_state(model))  # `iterations` included: no step ran.
        assert a_file.read_text() == "mine"
        err = capfd.readouterr().err
        assert "Traceback" not in err and "Exception in thread" not in err


def user_tensorboard(log_dir, update_freq=1):
    """The user's own Keras TensorBoard callback, logging batch-level summaries."""
    return keras.callbacks.TensorBoard(str(log_dir), update_freq=update_freq)


class TestKerasTensorBoardCallback:
    def test_find_logs_each_steps_learning_rate(self, linear_data, tmp_path):
        """A TensorBoard passed to `find` logs every step's own rate and batch loss."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        result = keras_lrfind.LRFinder(model).find(
            x,
            y,
            batch_size=BATCH_SIZE,
            verbose=0,
            callbacks=[user_tensorboard(tmp_path)],
            **QUIET,
        )
        run = Run(tmp_path, "train")
        steps, learning_rates = run.scalars("batch_learning_rate")
        # Keras numbers batches from 1: its step k is the sweep's step k - 1.
        assert steps == list(range(1, QUIET["num_steps"] + 1))
        np.testing.assert_array_equal(
            learning_rates, sweep_formula(np.arange(QUIET["num_steps"])).astype(np.float32)
        )
        np.testing.assert_array_equal(
            run.scalars("batch_loss")[1], result.losses.astype(np.float32)
        )

    def test_update_freq_logs_every_nth_step(self, linear_data, tmp_path):
        """With `update_freq=3`, Keras logs steps 3, 6, ... with the rate each of them used."""
        x, y = linear_data
        model = make_linear_model(keras.optimizers.SGD(0.01))
        keras_lrfind.LRFinder(model).find(
            x,
            y,
            batch_size=BATCH_SIZE,
            verbose=0,
            callbacks=[user_tensorboard(tmp_path, update_freq=3)],
            **QUIET,
        )
        steps, learning_rates = Run(tmp_path, "train").scalars("batch_learning_rate")
        assert steps == list(range(3, QUIET["num_steps"] + 1, 3))
        np.testing.assert_array_equal(
            learning_rates, sweep_formula(np.array(steps) - 1).astype(np.float32)
        )

    @pytest.mark.parametrize(
        "optimizer",
        [
            pytest.param(lambda: keras.optimizers.SGD(0.01), id="float"),
            pytest.param(
                lambda: keras.optimizers.SGD(
                    keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)
                ),
                id="schedule",
            ),
        ],
    )
    def test_beside_the_callback_logs_the_applied_rate(self, linear_data, tmp_path, optimizer):
        """Listed after the range-test callback in `fit`, TensorBoard logs the rate that the
        optimizer held at each step (read by a recorder), also for a schedule-built one."""
        x, y = linear_data
        model = make_linear_model(optimizer())
        recorder = StepRecorder()
        callbacks = [keras_lrfind.LRFinderCallback(**QUIET), recorder, user_tensorboard(tmp_path)]
        model.fit(x, y, batch_size=BATCH_SIZE, callbacks=callbacks, verbose=0)
        steps, learning_rates = Run(tmp_path, "train").scalars("batch_learning_rate")
        assert steps == list(range(1, QUIET["num_steps"] + 1))
        np.testing.assert_allclose(learning_rates, recorder.learning_rates, rtol=1e-6)
