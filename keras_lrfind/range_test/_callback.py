"""`LRFinderCallback`: the learning-rate range test as a Keras callback, and the
`SweepRecorder` behind it (which `LRFinder` uses with a session of its own)."""

from __future__ import annotations

import math
import os
import warnings

import keras

from keras_lrfind import _checks
from keras_lrfind._compat import trainer
from keras_lrfind.outputs import tensorboard
from keras_lrfind.range_test._curves import LRFinderWarning
from keras_lrfind.range_test._result import LRFinderResult
from keras_lrfind.range_test._session import LearningRatePlan, ModelSession, check_model
from keras_lrfind.range_test._sweep import Recording, Sweep, SweepFields, step_mode_argument
from keras_lrfind.range_test._validation_data import validation_batches


class SweepRecorder(SweepFields, keras.callbacks.Callback):
    """The range test inside `fit`: drives the sweep, records the curve, stops the run.

    The machinery of `LRFinderCallback` (its public face) and of `LRFinder`, which builds
    one with the `session` it opened before `fit` and restores the model itself once `fit`
    returns (`restore=None`: the callback leaves the restore to its owner).

    Args:
        sweep: The validated sweep.
        session: The `ModelSession` to record into. Defaults to `None`: a session of its
            own, opened in `on_train_begin`.
        restore: At the end of `fit`: `True` restores everything, `False` only the
            learning rate, `None` nothing (the session's owner restores).
        validation_data: As `LRFinderCallback`'s. Defaults to `None`.
        validation_batch_size: As `LRFinderCallback`'s. Defaults to `None`.
        verbose: `1` prints a summary when the test ends. Defaults to `0`.
        log_dir: As `LRFinderCallback`'s. Defaults to `None`.
    """

    def __init__(
        self,
        sweep: Sweep,
        *,
        session: ModelSession | None = None,
        restore: bool | None = True,
        validation_data=None,
        validation_batch_size: int | None = None,
        verbose: int = 0,
        log_dir: str | os.PathLike | None = None,
    ):
        super().__init__()
        self._sweep = sweep
        self._given_session = session
        self.restore_state = restore
        self.verbose = verbose
        self._validation_batches = validation_batches(validation_data, validation_batch_size)
        self.log_dir = None if log_dir is None else tensorboard.checked_log_dir(log_dir)
        self._result = None
        self._session = None  # The session `restore()` still has to close.

    # -- The run -------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        check_model(model)
        sweep = self._planned_sweep(model)
        self._run = sweep
        self._recording = Recording(sweep)
        self._result = None
        self._tracker_resets = trainer.batch_loss_resets(model)
        self._tracker_checked = False
        session = self._session = self._given_session or ModelSession(model)
        session.save(inside_fit=True)
        session.drive(LearningRatePlan(sweep.learning_rate, sweep.schedule()))
        # A loss scaler skips steps with non-finite gradients without advancing
        # `iterations`, which the in-graph sweep reads; see `on_train_batch_end`.
        self._counts_skipped_steps = not session.drives_a_variable and isinstance(
            model.optimizer, keras.optimizers.LossScaleOptimizer
        )

    def _planned_sweep(self, model) -> Sweep:
        """Checks the run, and returns the sweep with its length resolved."""
        steps_per_execution = getattr(model, "steps_per_execution", 1)
        if steps_per_execution != 1:
            raise ValueError(
                "`LRFinderCallback` records the loss of every step, which Keras shows "
                "callbacks only with `steps_per_execution=1`. Received: "
                f"steps_per_execution={steps_per_execution}. Compile with "
                "`steps_per_execution=1` for the range test, or use `keras_lrfind.LRFinder`, "
                "which switches it for the test and back."
            )
        steps_per_epoch = self.params.get("steps")
        epochs = self.params.get("epochs", 1)
        sweep = self._sweep.with_default_length(
            steps_per_epoch,
            data="The epoch length",
            fix="`LRFinderCallback(num_steps=...)`",
            causes="a generator, an infinite dataset or a dataset Keras split between processes",
        )
        planned = sweep.num_steps
        if steps_per_epoch is not None and steps_per_epoch * epochs < planned:
            needed = math.ceil(planned / steps_per_epoch)
            raise ValueError(
                f"The range test needs {planned} steps but `fit` will run only "
                f"{steps_per_epoch * epochs} ({steps_per_epoch} steps x {epochs} epochs). "
                f"Pass `epochs={needed}` to `fit` (the test stops training once done), or "
                "`num_steps` to accept a shorter sweep."
            )
        return sweep

    def on_train_batch_begin(self, batch, logs=None):
        recording = self._recording
        if recording.stop_reason is not None:
            return
        trainer.sync_model_state(self)
        step = len(recording.losses)
        if step & (step - 1) == 0 and step > 0 and not self._session.weights_finite():
            # Checked before steps 1, 2, 4, 8, ... (a cost of log2(num_steps) reads): a NaN
            # or infinite weight (NaN in the data, say) makes every later loss meaningless,
            # even where the loss itself stays finite.
            recording.stop_reason = "non_finite_weights"
            self.model.stop_training = True
            return
        self._learning_rate = self._session.before_step(step)
        for assign, zero in self._tracker_resets:  # The loss tracker's total and count.
            assign(zero)

    def on_train_batch_end(self, batch, logs=None):
        recording = self._recording
        if recording.stop_reason is not None:
            return
        if self._counts_skipped_steps:
            self._count_skipped_step(len(recording.losses))
        loss = float(logs["loss"])
        if not self._tracker_checked:
            self._tracker_checked = True
            self._find_loss_tracker(loss)
        validation_loss = None if self._validation_batches is None else self._validation_loss()
        if logs is not None:  # For callbacks after this one, e.g. Keras' TensorBoard.
            logs["learning_rate"] = self._learning_rate
        if recording.add(self._learning_rate, loss, validation_loss):
            self.model.stop_training = True

    def _find_loss_tracker(self, loss):
        """At the first step, finds the metric whose running mean `logs["loss"]` reports.

        The trainer's tracker is named "loss"; a custom `train_step` may report another
        one (see `trainer.loss_trackers`). Its total and count are emptied before every
        later step, so that each recorded value is the loss of its own batch. A value that
        no metric gives is taken as the batch's loss itself.
        """
        if math.isfinite(loss):
            trackers = trainer.loss_trackers(self.model, loss)  # On JAX, `self.model` syncs.
            if trackers:
                self._tracker_resets = trackers

    def _count_skipped_step(self, step):
        """Keeps the sweep schedule at one rate per batch when the loss scaler skips a step.

        A skipped step applies no update and leaves `iterations` where it was, so the
        in-graph sweep would give the next batch this batch's rate again. Advancing
        `iterations` by hand keeps the rule of the float path: every batch, applied or
        skipped, uses up its own point of the sweep.
        """
        iterations = self.model.optimizer.iterations  # On JAX, `self.model` syncs state.
        expected = self._session.first_step + step + 1
        if int(iterations.numpy()) < expected:
            iterations.assign(expected)

    def _validation_loss(self) -> float:
        total, count = 0.0, 0
        for x, y in self._validation_batches:
            logs = self.model.test_on_batch(x, y, return_dict=True)
            size = len(x)
            total += float(logs["loss"]) * size
            count += size
        return total / count

    def on_train_end(self, logs=None):
        if self._session is None:
            return
        recording = self._recording
        if recording.stop_reason in (None, "completed") and not self._session.weights_finite():
            recording.stop_reason = "non_finite_weights"  # In the steps since the last check.
        self._result = LRFinderResult(
            recording.learning_rates,
            recording.losses,
            recording.smoothed_losses,
            recording.stop_reason or "data_exhausted",
            **self._run.to_dict(),
            validation_losses=(
                recording.validation_losses if self._validation_batches is not None else None
            ),
        )
        self.restore()
        if self.log_dir is not None:
            self._result.to_tensorboard(self.log_dir)
        if self._result.stop_reason == "data_exhausted":
            last = recording.learning_rates[-1] if recording.learning_rates else self.start_lr
            warnings.warn(
                f"The range test ran {self._result.num_recorded} of {self._run.num_steps} "
                f"steps before the data or `fit` ended: the curve stops at lr={last:.3g}.",
                LRFinderWarning,
                stacklevel=2,
            )
        if self.verbose:
            print(f"LR range test: {self._result!r}")

    # -- Restoring -----------------------------------------------------------------------

    def restore(self) -> None:
        """Undoes what the test did to the model; safe to call more than once.

        Called at the end of `fit`, and on leaving a `with` block. Restores the learning
        rate (or schedule) and `stop_training`, and, when `restore=True`, every weight,
        optimizer and metric variable. A recorder whose session belongs to `LRFinder`
        leaves the restore to it.
        """
        session, self._session = self._session, None
        if session is not None and self.restore_state is not None:
            session.restore(weights=self.restore_state)

    @property
    def result(self) -> LRFinderResult:
        """The curve of the last run."""
        if self._result is None:
            raise RuntimeError(
                "No range test has finished yet: pass the callback to `model.fit(..., "
                "callbacks=[cb])` first."
            )
        return self._result


class LRFinderCallback(SweepRecorder):
    """Runs the learning-rate range test inside your own `model.fit` call.

    The learning rate grows from `start_lr` to `end_lr` over `num_steps` optimizer steps,
    exponentially by default (Smith 2015, fastai's `lr_find`). Each step records the learning
    rate it used and the loss of its own batch: Keras's `logs["loss"]` is a running mean
    over the epoch, which smears the curve, so the callback resets the loss tracker before
    every batch and reads the batch's true loss. Training stops when the smoothed loss
    exceeds `diverge_threshold` times the best smoothed loss so far, or when a loss is NaN
    or infinite. At the end of `fit`, when `restore=True`, the model's weights, every
    optimizer variable (`iterations` included), the metrics and the original learning rate
    or `LearningRateSchedule` are put back exactly as they were, and `cb.result` holds the
    curve.

    When `fit` may be interrupted (Ctrl-C, an exception), use the callback as a context
    manager (`with LRFinderCallback() as cb: model.fit(..., callbacks=[cb])`), or use
    `LRFinder`, which always restores. Keras calls `on_train_end` in list order, so list
    this callback after any callback that writes weights when training ends
    (`EarlyStopping(restore_best_weights=True)`): the restore then has the last word.
    `LRFinder` restores after `fit` returns, whatever its extra callbacks do.

    A model that `fit` builds during its first step (a `Sequential` without `keras.Input`,
    or one never trained, on TensorFlow) is built first, the way `fit` builds it, so the
    copy holds its initial weights, fresh optimizer slots and empty metrics. The weights
    are checked before steps 1, 2, 4, 8, ... and at the end: a NaN or infinite weight stops
    the test with `stop_reason="non_finite_weights"` (NaN in the data can cause it while
    the loss stays finite).

    Under mixed precision (`mixed_float16`), the `LossScaleOptimizer` that Keras wraps around
    the optimizer skips any step whose scaled gradients overflow, and lowers its loss scale.
    A skipped step still records its batch's (finite) loss and uses up its point of the
    sweep: the curve keeps one point per batch, and the next batch trains at the next rate.
    With a schedule-built optimizer the callback advances `iterations` past a skipped step
    to keep the in-graph sweep on that rule (so Adam's bias correction counts it); the
    restore puts `iterations` and the loss scale back.

    During the test `logs["loss"]` (and so the progress bar and `History`) shows each
    batch's own loss, and `logs["learning_rate"]` the learning rate the batch trained with,
    so a `keras.callbacks.TensorBoard(update_freq=...)` listed after this callback logs
    both per step (`batch_loss`, `batch_learning_rate`). The callback needs
    `steps_per_execution=1` (Keras calls batch hooks only once per execution); `LRFinder`
    switches it for you.

    Args:
        start_lr: The learning rate of the first step. Defaults to `1e-7`.
        end_lr: The learning rate of the last step. Defaults to `10.0`.
        num_steps: The number of steps of the sweep. Defaults to `None`: one epoch, but at
            least 100 (continued into the next epochs, so `fit` must run that many steps)
            and at most 1000. Required when the epoch length is unknown.
        step_mode: `"exponential"` or `"linear"` growth. Defaults to `"exponential"`.
        smoothing: The factor of the debiased exponential moving average of the loss; `0`
            disables smoothing. Defaults to `0.98`.
        diverge_threshold: Stop when the smoothed loss exceeds this many times the best
            one (for negative losses: rises above the best by `diverge_threshold - 1`
            times its magnitude). `None` disables the divergence stop (Lightning's
            `early_stop_threshold=None`): the sweep runs every step unless a loss is NaN
            or infinite. Defaults to `4.0`.
        restore: Whether to restore weights and optimizer state at the end of `fit`. With
            `False` the model keeps what the sweep did to it, but the learning rate is
            still restored. Defaults to `True`.
        validation_data: A fixed small sample `(x, y)` of NumPy arrays (or a list of
            `(x, y)` batches) whose loss is evaluated after every step and used as the
            curve instead of the training loss (pytorch-lr-finder's `val_loader` mode:
            less noisy, slower). Defaults to `None`.
        validation_batch_size: The batch size for `validation_data` arrays. Defaults to
            `None` (one batch).
        verbose: `1` prints a one-line summary when the test ends. Defaults to `0`.
        log_dir: A directory to write the finished test to as a TensorBoard run (see
            `LRFinderResult.to_tensorboard`; needs `pip install keras-lrfind[tensorboard]`).
            Defaults to `None` (nothing written).
        mode: Deprecated name of `step_mode`. Defaults to `None`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> import keras_lrfind
    >>> keras.utils.set_random_seed(1)
    >>> features = np.random.uniform(-2, 2, size=(1600, 3)).astype("float32")
    >>> targets = np.sin(features).sum(axis=1) + 0.5 * np.random.normal(size=1600)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(momentum=0.5), loss="mse")
    >>> callback = keras_lrfind.LRFinderCallback()  # 100 steps: one epoch of 100 batches.
    >>> history = model.fit(features, targets, batch_size=16, callbacks=[callback], verbose=0)
    >>> callback.result.stop_reason
    'diverged'
    >>> max_lr = callback.result.suggest()  # The maximum rate of a one-cycle schedule.
    """

    def __init__(
        self,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        num_steps: int | None = None,
        *,
        step_mode: str = "exponential",
        smoothing: float = 0.98,
        diverge_threshold: float | None = 4.0,
        restore: bool = True,
        validation_data=None,
        validation_batch_size: int | None = None,
        verbose: int = 0,
        log_dir: str | os.PathLike | None = None,
        mode: str | None = None,
    ):
        step_mode = step_mode_argument(step_mode, mode)
        super().__init__(
            Sweep(start_lr, end_lr, num_steps, step_mode, smoothing, diverge_threshold),
            restore=_checks.boolean("restore", restore),
            validation_data=validation_data,
            validation_batch_size=validation_batch_size,
            verbose=_checks.one_of("verbose", verbose, (0, 1)),
            log_dir=log_dir,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.restore()
        return False
