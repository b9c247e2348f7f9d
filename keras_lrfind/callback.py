"""`LRFinderCallback`: the learning-rate range test as a Keras callback."""

from __future__ import annotations

import math
import numbers
import warnings

import keras
import numpy as np

from keras_lrfind import _distribution
from keras_lrfind.result import LRFinderResult, LRFinderWarning

# fastai's `lr_find` records 100 steps; fewer points make suggestions unreliable.
MIN_STEPS = 100
# A default sweep spans one epoch, but never more than this many steps on a huge dataset.
MAX_STEPS = 1000
MODES = ("exponential", "linear")


def sweep_learning_rates(start_lr: float, end_lr: float, num_steps: int, mode: str) -> np.ndarray:
    """Returns the learning rate of each step of a range test.

    Step `i` of `num_steps` uses, in exponential mode (pytorch-lr-finder's formula, which
    ends exactly at `end_lr`):

    ```python
    start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
    ```

    and in linear mode `start_lr + (end_lr - start_lr) * i / (num_steps - 1)`.

    Args:
        start_lr: The learning rate of step 0.
        end_lr: The learning rate of the last step.
        num_steps: The number of steps, at least 2.
        mode: `"exponential"` or `"linear"`.

    Returns:
        A float64 array of `num_steps` learning rates.
    """
    _check_sweep_arguments(start_lr, end_lr, num_steps, mode, 0.0, 4.0)
    fraction = np.arange(num_steps, dtype=np.float64) / (num_steps - 1)
    if mode == "exponential":
        return start_lr * (end_lr / start_lr) ** fraction
    return start_lr + (end_lr - start_lr) * fraction


def default_num_steps(steps_per_epoch: int) -> int:
    """The default sweep length: one epoch, clipped to [`MIN_STEPS`, `MAX_STEPS`]."""
    return int(min(max(steps_per_epoch, MIN_STEPS), MAX_STEPS))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_sweep_arguments(start_lr, end_lr, num_steps, mode, smoothing, diverge_threshold):
    """Raises a clear error for the first bad sweep argument, before anything is touched."""
    for name, value in (("start_lr", start_lr), ("end_lr", end_lr)):
        if not _is_real(value):
            raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}.")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"`{name}` must be a positive, finite learning rate. Received: {name}={value!r}."
            )
    if end_lr <= start_lr:
        raise ValueError(
            "`end_lr` must be greater than `start_lr`. "
            f"Received: start_lr={start_lr!r}, end_lr={end_lr!r}."
        )
    if num_steps is not None:
        if not isinstance(num_steps, numbers.Integral) or isinstance(num_steps, bool):
            raise TypeError(f"`num_steps` must be an integer. Received: num_steps={num_steps!r}.")
        if num_steps < 2:
            raise ValueError(
                "`num_steps` must be at least 2 (a sweep needs a first and a last step); "
                f"{MIN_STEPS} or more give reliable suggestions. Received: num_steps={num_steps}."
            )
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}.")
    if not _is_real(smoothing) or not 0 <= smoothing < 1:
        raise ValueError(
            "`smoothing` must be in [0, 1) (0 disables smoothing; fastai uses 0.98). "
            f"Received: smoothing={smoothing!r}."
        )
    if not _is_real(diverge_threshold) or not diverge_threshold > 1:
        raise ValueError(
            "`diverge_threshold` must be greater than 1 (the sweep stops when the smoothed "
            "loss exceeds this many times the best one; fastai uses 4). "
            f"Received: diverge_threshold={diverge_threshold!r}."
        )


@keras.saving.register_keras_serializable(package="keras_lrfind")
class _SweepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The sweep as an in-graph schedule, for optimizers built with a schedule.

    Such optimizers refuse a float learning rate, so the range test swaps their schedule
    for this one (and back). Its value is computed from the optimizer's own step counter,
    so it is right at every step whatever the backend or compilation.
    """

    def __init__(self, start_lr, end_lr, num_steps, mode, first_step):
        self.start_lr = float(start_lr)
        self.end_lr = float(end_lr)
        self.num_steps = int(num_steps)
        self.mode = mode
        self.first_step = int(first_step)

    def __call__(self, step):
        index = keras.ops.cast(step, "float32") - float(self.first_step)
        fraction = keras.ops.clip(index / float(self.num_steps - 1), 0.0, 1.0)
        if self.mode == "exponential":
            return self.start_lr * keras.ops.exp(math.log(self.end_lr / self.start_lr) * fraction)
        return self.start_lr + (self.end_lr - self.start_lr) * fraction

    def get_config(self):
        return {
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "num_steps": self.num_steps,
            "mode": self.mode,
            "first_step": self.first_step,
        }


def _uses_schedule(optimizer) -> bool:
    """Whether the optimizer was built with a schedule (its learning rate is no variable)."""
    return not isinstance(optimizer.learning_rate, keras.Variable)


def _learning_rate_object(optimizer):
    """The schedule object an optimizer was built with.

    Keras exposes it only through the private `_learning_rate`; `LossScaleOptimizer`
    forwards to its inner optimizer.
    """
    inner = getattr(optimizer, "inner_optimizer", None)
    return _learning_rate_object(inner) if inner is not None else optimizer._learning_rate


def _fast_assign(variable):
    """`variable.assign`, minus Keras' per-call checks where the backend allows it.

    The range test writes three variables per batch (the learning rate and the loss
    tracker's total and count). On TensorFlow the backend variable's own `assign` costs
    about half of Keras' (measured in `benchmarks/overhead.py`); other backends keep
    Keras' `assign`.
    """
    backend_variable = variable.value
    return backend_variable.assign if hasattr(backend_variable, "assign") else variable.assign


class _StateSnapshot:
    """A copy of every variable of a model, its optimizer and its metrics.

    Restoring assigns the saved values back into the same variable objects, so the
    optimizer slots, `iterations`, the learning-rate variable, metric totals and random
    seed states all come back bit for bit. Under a `tf.distribute` strategy every replica's
    copy is saved and restored, as replicas may differ (BatchNormalization's moving
    statistics, metric totals): assigning the variable itself would give them all the
    first replica's value (or, for metrics, an equal share of the total).
    """

    def __init__(self, model):
        seen = set()
        self.variables = []
        for variable in (
            list(model.variables)
            + list(model.optimizer.variables)
            + [v for metric in model.metrics for v in metric.variables]
        ):
            if id(variable) not in seen:
                seen.add(id(variable))
                self.variables.append(variable)
        self.values = [np.array(v.numpy(), copy=True) for v in self.variables]
        self.replica_values = []
        for variable in self.variables:
            replicas = _distribution.replica_variables(variable)
            self.replica_values.append(
                None
                if replicas is None
                else [(copy, np.array(copy.numpy(), copy=True)) for copy in replicas]
            )

    def restore(self):
        for variable, value, replica_values in zip(
            self.variables, self.values, self.replica_values, strict=True
        ):
            if replica_values is None:
                variable.assign(value)
            else:
                for copy, copy_value in replica_values:
                    copy.assign(copy_value)


class LRFinderCallback(keras.callbacks.Callback):
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
    manager, or use `LRFinder`, which always restores:

    ```python
    with keras_lrfind.LRFinderCallback() as cb:
        model.fit(train_ds, epochs=1, callbacks=[cb])
    ```

    Under mixed precision (`mixed_float16`), the `LossScaleOptimizer` that Keras wraps around
    the optimizer skips any step whose scaled gradients overflow, and lowers its loss scale.
    A skipped step still records its batch's (finite) loss and uses up its point of the
    sweep: the curve keeps one point per batch, and the next batch trains at the next rate.
    With a schedule-built optimizer the callback advances `iterations` past a skipped step
    to keep the in-graph sweep on that rule (so Adam's bias correction counts it); the
    restore puts `iterations` and the loss scale back.

    During the test `logs["loss"]` (and so the progress bar and `History`) shows each
    batch's own loss. The callback needs `steps_per_execution=1` (Keras calls batch hooks
    only once per execution); `LRFinder` switches it for you.

    Args:
        start_lr: The learning rate of the first step. Defaults to `1e-7`.
        end_lr: The learning rate of the last step. Defaults to `10.0`.
        num_steps: The number of steps of the sweep. Defaults to `None`: one epoch, but at
            least `MIN_STEPS` (100, continued into the next epochs, so `fit` must run that
            many steps) and at most `MAX_STEPS` (1000). Required when the epoch length is
            unknown.
        mode: `"exponential"` or `"linear"` growth. Defaults to `"exponential"`.
        smoothing: The factor of the debiased exponential moving average of the loss; `0`
            disables smoothing. Defaults to `0.98`.
        diverge_threshold: Stop when the smoothed loss exceeds this many times the best
            one (for negative losses: rises above the best by `diverge_threshold - 1`
            times its magnitude). Defaults to `4.0`.
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

    Example:

    ```python
    cb = keras_lrfind.LRFinderCallback()
    model.fit(x_train, y_train, epochs=1, callbacks=[cb])
    print(cb.result.best_lr)
    ```
    """

    def __init__(
        self,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        num_steps: int | None = None,
        *,
        mode: str = "exponential",
        smoothing: float = 0.98,
        diverge_threshold: float = 4.0,
        restore: bool = True,
        validation_data=None,
        validation_batch_size: int | None = None,
        verbose: int = 0,
    ):
        super().__init__()
        _check_sweep_arguments(start_lr, end_lr, num_steps, mode, smoothing, diverge_threshold)
        self.start_lr = float(start_lr)
        self.end_lr = float(end_lr)
        self.num_steps = num_steps
        self.mode = mode
        self.smoothing = float(smoothing)
        self.diverge_threshold = float(diverge_threshold)
        self.restore_state = bool(restore)
        self.verbose = verbose
        self._validation_batches = _validation_batches(validation_data, validation_batch_size)
        self._result = None
        self._pending = None  # What `restore()` still has to undo.

    # -- The run -------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        planned = self._planned_steps(model)
        _distribution.check_loss_scaling(model)
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)

        self._learning_rates = sweep_learning_rates(self.start_lr, self.end_lr, planned, self.mode)
        self._planned = planned
        self._step = 0
        self._average = 0.0
        self._best = math.inf
        self._stop_reason = None
        self._recorded = {"lr": [], "loss": [], "smoothed": [], "validation": []}
        self._result = None
        loss_tracker = next((m for m in model.metrics if m.name == "loss"), None)
        self._tracker_resets = (
            [(_fast_assign(v), np.zeros(v.shape, dtype=v.dtype)) for v in loss_tracker.variables]
            if loss_tracker is not None
            else []
        )

        pending = {
            "model": model,
            "stop_training": model.stop_training,
            "snapshot": _StateSnapshot(model),
            "schedule": None,
        }
        self._pending = pending
        if _uses_schedule(optimizer):
            pending["schedule"] = _learning_rate_object(optimizer)
            self._first_iteration = int(optimizer.iterations.numpy())
            optimizer.learning_rate = _SweepSchedule(
                self.start_lr,
                self.end_lr,
                planned,
                self.mode,
                self._first_iteration,
            )
            model.make_train_function(force=True)
            self._lr_variable = None
            self._assign_lr = None
            # A loss scaler skips steps with non-finite gradients without advancing
            # `iterations`, which the sweep schedule reads; see `on_train_batch_end`.
            self._counts_skipped_steps = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        else:
            self._lr_variable = optimizer.learning_rate
            self._counts_skipped_steps = False
            self._assign_lr = _fast_assign(self._lr_variable)
            dtype = self._lr_variable.dtype
            self._lr_values = [np.asarray(lr, dtype=dtype) for lr in self._learning_rates]

    def _planned_steps(self, model) -> int:
        """Checks the model and the run, and returns the number of sweep steps."""
        if getattr(model, "optimizer", None) is None:
            raise RuntimeError(
                "The model must be compiled with an optimizer and a loss before the range "
                "test. Call `model.compile(optimizer=..., loss=...)` first."
            )
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
        if self.num_steps is not None:
            planned = self.num_steps
        elif steps_per_epoch is None:
            raise ValueError(
                "The epoch length is unknown (a generator or an infinite dataset), so "
                "`num_steps` is required. Received: num_steps=None. Pass "
                f"`LRFinderCallback(num_steps=...)`, e.g. num_steps={MIN_STEPS}."
            )
        else:
            planned = default_num_steps(steps_per_epoch)
        if steps_per_epoch is not None and steps_per_epoch * epochs < planned:
            needed = math.ceil(planned / steps_per_epoch)
            raise ValueError(
                f"The range test needs {planned} steps but `fit` will run only "
                f"{steps_per_epoch * epochs} ({steps_per_epoch} steps x {epochs} epochs). "
                f"Pass `epochs={needed}` to `fit` (the test stops training once done), or "
                "`num_steps` to accept a shorter sweep."
            )
        return planned

    def on_train_batch_begin(self, batch, logs=None):
        if self._step >= self._planned:
            return
        if keras.backend.backend() == "jax":
            self.model  # noqa: B018 -- syncs JAX state so the writes below reach the step.
        if self._assign_lr is not None:
            self._assign_lr(self._lr_values[self._step])
        for assign, zero in self._tracker_resets:  # The loss tracker's total and count.
            assign(zero)

    def on_train_batch_end(self, batch, logs=None):
        if self._step >= self._planned:
            return
        loss = float(logs["loss"])
        curve_loss = loss
        if self._validation_batches is not None:
            curve_loss = self._validation_loss()
            self._recorded["validation"].append(curve_loss)
        step = self._step
        self._recorded["lr"].append(float(self._learning_rates[step]))
        self._recorded["loss"].append(loss)
        if self._counts_skipped_steps:
            self._count_skipped_step(step)

        if self.smoothing:
            self._average = self.smoothing * self._average + (1 - self.smoothing) * curve_loss
            smoothed = self._average / (1 - self.smoothing ** (step + 1))
        else:
            smoothed = curve_loss
        self._recorded["smoothed"].append(smoothed)
        self._step += 1

        if not math.isfinite(curve_loss) or not math.isfinite(smoothed):
            self._stop_reason = "non_finite_loss"
        elif smoothed - self._best > (self.diverge_threshold - 1) * abs(self._best):
            self._stop_reason = "diverged"
        elif self._step >= self._planned:
            self._stop_reason = "completed"
        self._best = min(self._best, smoothed)
        if self._stop_reason is not None:
            self.model.stop_training = True

    def _count_skipped_step(self, step):
        """Keeps the sweep schedule at one rate per batch when the loss scaler skips a step.

        A skipped step applies no update and leaves `iterations` where it was, so the
        in-graph sweep would give the next batch this batch's rate again. Advancing
        `iterations` by hand keeps the rule of the float path: every batch, applied or
        skipped, uses up its own point of the sweep.
        """
        iterations = self.model.optimizer.iterations  # On JAX, `self.model` syncs state.
        expected = self._first_iteration + step + 1
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
        if self._pending is None:
            return
        self._result = LRFinderResult(
            learning_rates=self._recorded["lr"],
            losses=self._recorded["loss"],
            smoothed_losses=self._recorded["smoothed"],
            validation_losses=(
                self._recorded["validation"] if self._validation_batches is not None else None
            ),
            stop_reason=self._stop_reason or "data_exhausted",
            start_lr=self.start_lr,
            end_lr=self.end_lr,
            num_steps=self._planned,
            mode=self.mode,
            smoothing=self.smoothing,
            diverge_threshold=self.diverge_threshold,
        )
        self.restore()
        if self._result.stop_reason == "data_exhausted":
            warnings.warn(
                f"The range test ran {self._result.num_recorded} of {self._planned} steps "
                "before the data or `fit` ended: the curve stops at "
                f"lr={self._result.learning_rates[-1] if self._step else self.start_lr:.3g}.",
                LRFinderWarning,
                stacklevel=2,
            )
        if self.verbose:
            print(f"LR range test: {self._result!r}")

    # -- Restoring -----------------------------------------------------------------------

    def restore(self) -> None:
        """Undoes what the test did to the model; safe to call more than once.

        Called at the end of `fit`, by `LRFinder` even when `fit` raised, and on leaving a
        `with` block. Restores the learning rate (or schedule) and `stop_training`, and, when
        `restore=True`, every weight, optimizer and metric variable.
        """
        pending, self._pending = self._pending, None
        if pending is None:
            return
        model = pending["model"]
        snapshot = pending["snapshot"]
        if self.restore_state:
            snapshot.restore()
        elif self._lr_variable is not None:
            # Keep the trained weights, but not the sweep's last learning rate.
            index = next(i for i, v in enumerate(snapshot.variables) if v is self._lr_variable)
            self._lr_variable.assign(snapshot.values[index])
        if pending["schedule"] is not None:
            model.optimizer.learning_rate = pending["schedule"]
            model.make_train_function(force=True)
        model.stop_training = pending["stop_training"]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.restore()
        return False

    @property
    def result(self) -> LRFinderResult:
        """The curve of the last run."""
        if self._result is None:
            raise RuntimeError(
                "No range test has finished yet: pass the callback to `model.fit(..., "
                "callbacks=[cb])` first."
            )
        return self._result


def _validation_batches(validation_data, batch_size):
    """Turns `validation_data` into a fixed list of `(x, y)` NumPy batches."""
    if validation_data is None:
        return None
    if isinstance(validation_data, tuple) and len(validation_data) == 2:
        x, y = (np.asarray(a) for a in validation_data)
        if len(x) == 0 or len(x) != len(y):
            raise ValueError(
                "`validation_data` must be a non-empty `(x, y)` pair of equal length. "
                f"Received lengths {len(x)} and {len(y)}."
            )
        size = batch_size or len(x)
        return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]
    if isinstance(validation_data, list) and validation_data:
        return [(np.asarray(x), np.asarray(y)) for x, y in validation_data]
    raise TypeError(
        "`validation_data` must be an `(x, y)` tuple of NumPy arrays or a non-empty list of "
        f"`(x, y)` batches. Received: validation_data of type {type(validation_data).__name__}."
        " For a dataset, take a fixed sample first, e.g. "
        "`list(ds.take(4).as_numpy_iterator())`."
    )
