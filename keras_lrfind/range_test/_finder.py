"""`LRFinder`: run the learning-rate range test on a compiled model and get its curve."""

from __future__ import annotations

import math
import os

import keras

from keras_lrfind import _checks, _data
from keras_lrfind._compat import distribute
from keras_lrfind.range_test import _fit_arguments
from keras_lrfind.range_test._callback import SweepRecorder
from keras_lrfind.range_test._result import LRFinderResult
from keras_lrfind.range_test._session import ModelSession, check_model
from keras_lrfind.range_test._sweep import Sweep, step_mode_argument


class LRFinder:
    """The learning-rate range test for a compiled Keras model.

    `find()` trains the model for (at most) one epoch while the learning rate grows
    exponentially from `start_lr` to `end_lr`, records the true loss of every batch, stops
    when the loss diverges, and then puts the model back exactly as it was: weights, every
    optimizer variable (`iterations` included), metrics, the learning rate or schedule,
    `steps_per_execution` and `stop_training`, also when the run is interrupted by an
    exception or Ctrl-C. The restore runs after `fit` returns, so the extra `callbacks`
    cannot undo it, even those that write weights when training ends. It uses the model's
    compiled loss, metrics and optimizer, so the curve describes the training you are about
    to do.

    Args:
        model: A compiled Keras 3 model.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> import keras_lrfind
    >>> keras.utils.set_random_seed(0)
    >>> x = np.random.normal(size=(1000, 8)).astype("float32")
    >>> y = x @ np.linspace(-1, 1, 8, dtype="float32") + np.random.normal(size=1000)
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", loss="mse")
    >>> result = keras_lrfind.LRFinder(model).find(x, y, batch_size=10, verbose=0)
    >>> result.stop_reason, result.num_recorded < result.num_steps
    ('diverged', True)
    >>> max_lr = result.suggest()  # The maximum rate of a one-cycle schedule.
    >>> schedule = result.one_cycle(total_steps=5 * 100)  # 5 epochs of 100 batches.
    """

    def __init__(self, model: keras.Model):
        if not isinstance(model, keras.Model):
            raise _checks.type_error("model", model, "a Keras 3 `keras.Model`")
        self.model = model
        self.result: LRFinderResult | None = None

    def find(
        self,
        x=None,
        y=None,
        *,
        batch_size: int | None = None,
        num_steps: int | None = None,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        step_mode: str = "exponential",
        smoothing: float = 0.98,
        diverge_threshold: float | None = 4.0,
        validation_data=None,
        validation_batch_size: int | None = None,
        sample_weight=None,
        class_weight=None,
        shuffle: bool = True,
        verbose="auto",
        callbacks=None,
        log_dir: str | os.PathLike | None = None,
        mode: str | None = None,
    ) -> LRFinderResult:
        """Runs the range test and returns its curve.

        Args:
            x: The training data, anything `model.fit` accepts: NumPy arrays, a
                `tf.data.Dataset` (including `tfds` pipelines), a `keras.utils.PyDataset`
                or a Python generator (generators need `num_steps`).
            y: The targets, when `x` is an array. Defaults to `None`.
            batch_size: The batch size for array input. Defaults to `None` (Keras's 32).
            num_steps: The number of steps. Defaults to `None`: one epoch, at least 100
                steps (a short epoch is continued into the next ones) and at most 1000.
                Required when the data's length is unknown.
            start_lr: The learning rate of the first step. Defaults to `1e-7`.
            end_lr: The learning rate of the last step. Defaults to `10.0`.
            step_mode: `"exponential"` or `"linear"` growth. Defaults to `"exponential"`.
            smoothing: The debiased moving-average factor; `0` disables. Defaults to `0.98`.
            diverge_threshold: Stop when the smoothed loss exceeds this many times the best;
                `None` disables the divergence stop (Lightning's `early_stop_threshold=None`),
                though a NaN or infinite loss still stops the sweep. Defaults to `4.0`.
            validation_data: A small fixed `(x, y)` sample whose loss is evaluated after
                every step and used as the curve (slower, less noisy). Defaults to `None`.
            validation_batch_size: Batch size for `validation_data`. Defaults to `None`.
            sample_weight: Passed to `fit`. Defaults to `None`.
            class_weight: Passed to `fit`. Defaults to `None`.
            shuffle: Passed to `fit` for array input (datasets and generators are
                expected to shuffle themselves). Defaults to `True`.
            verbose: Passed to `fit`. Defaults to `"auto"`.
            callbacks: Extra callbacks for `fit`, after the range test's own, so a
                `keras.callbacks.TensorBoard(update_freq=1)` here logs the learning rate of
                every step as `batch_learning_rate`. Defaults to `None`.
            log_dir: A directory to write the finished test to as a TensorBoard run (see
                `LRFinderResult.to_tensorboard`; needs `pip install
                keras-lrfind[tensorboard]`). Defaults to `None` (nothing written).
            mode: Deprecated name of `step_mode`. Defaults to `None`.

        Returns:
            The `LRFinderResult`, also kept as `finder.result`.

        Raises:
            TypeError: For an argument of the wrong type; the model is untouched.
            ValueError: For a bad argument, empty data, unknown length without
                `num_steps`, or a distribution Keras cannot run the test under (a
                `tf.distribute.MultiWorkerMirroredStrategy` with several workers, loss
                scaling under a `tf.distribute` strategy with several replicas); the model
                is untouched.
            RuntimeError: If the model is not compiled.
        """
        sweep = Sweep(
            start_lr,
            end_lr,
            num_steps,
            step_mode_argument(step_mode, mode),
            smoothing,
            diverge_threshold,
        )
        model = self.model
        check_model(model, before_fit=True)
        _fit_arguments.check(x, y, batch_size, sample_weight, class_weight, shuffle, verbose)
        callbacks = _fit_arguments.checked_callbacks(callbacks)
        steps_per_epoch = _data.steps_per_epoch(x, batch_size)
        sweep = sweep.with_default_length(
            steps_per_epoch, data="The length of `x`", fix="`find(x, num_steps=...)`"
        )
        session = ModelSession(model)
        # The session is restored in `finally`, after every callback's `on_train_end`: a
        # callback that writes weights when training ends (EarlyStopping's
        # restore_best_weights) runs before the restore, never after it.
        recorder = SweepRecorder(
            sweep,
            session=session,
            restore=None,
            validation_data=validation_data,
            validation_batch_size=validation_batch_size,
            log_dir=log_dir,
        )
        if steps_per_epoch is None:
            epochs, fit_steps = 1, sweep.num_steps
        else:
            epochs, fit_steps = math.ceil(sweep.num_steps / steps_per_epoch), None
        try:
            session.isolate()
            model.fit(
                x,
                y,
                batch_size=batch_size,
                epochs=epochs,
                steps_per_epoch=fit_steps,
                sample_weight=sample_weight,
                class_weight=class_weight,
                shuffle=shuffle if _data.array_leaves(x) else False,
                verbose=verbose,
                callbacks=[recorder, *callbacks],
            )
        except Exception as error:
            if distribute.peer_stopped(error):
                raise RuntimeError(
                    "The range test stopped: another process of the distribution stopped "
                    "while it ran (JAX's collectives lost their connection to it). This "
                    "process's model is restored; restart every process to run the test "
                    'again (see the documentation\'s page "Beyond one machine").'
                ) from error
            raise
        finally:
            session.restore()
        self.result = recorder.result
        return self.result
