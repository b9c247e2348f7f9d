"""Running the trainings of `find_best_learning_rate` on the user's model, and undoing them.

`ProbeSession` is a context manager around the whole search. On entry it snapshots every
variable of the model, its optimizer and its metrics; each probe starts from that snapshot;
on exit (normal, exception or Ctrl-C) it puts everything back: variables bit for bit
(`iterations` included), the learning rate or schedule, `steps_per_execution`,
`stop_training` and `model.history`.

A probe is a compressed one-cycle: `OneCycle(max_lr, probe_steps)` with PyTorch's defaults,
the shape of the training it stands for, squeezed into the probe. An optimizer built with a
float learning rate gets the schedule's value written into its learning-rate variable before
every step (the range test's mechanism, no retrace); one built with a schedule gets a
one-cycle schedule counted from its current `iterations` instead (one retrace per probe).
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from keras_lrfind import _data
from keras_lrfind._compat import optimizers, trainer
from keras_lrfind.range_test import LRFinder, _distribution
from keras_lrfind.range_test._snapshot import StateSnapshot
from keras_lrfind.schedules import OneCycle
from keras_lrfind.search._data import ProbeData


def _forget_compiled_functions(model) -> None:
    """Drops the model's traced train and test steps; the next `fit`/`evaluate` rebuilds them.

    `steps_per_execution` is traced into both, so both go when it changes.
    """
    trainer.forget_train_function(model)
    trainer.forget_test_function(model)


@keras.saving.register_keras_serializable(package="keras_lrfind")
class _ProbeSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """`OneCycle(max_lr, total_steps)` counted from optimizer step `first_step`."""

    def __init__(self, max_lr, total_steps, first_step):
        self.max_lr = float(max_lr)
        self.total_steps = int(total_steps)
        self.first_step = int(first_step)
        self._one_cycle = OneCycle(self.max_lr, self.total_steps)

    def __call__(self, step):
        return self._one_cycle(keras.ops.cast(step, "float32") - float(self.first_step))

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "first_step": self.first_step,
        }


def one_cycle_values(max_lr: float, steps: int) -> np.ndarray:
    """The learning rate of each step of a probe: `OneCycle(max_lr, steps)` at 0..steps-1."""
    values = OneCycle(float(max_lr), int(steps))(np.arange(steps, dtype="float32"))
    return np.asarray(keras.ops.convert_to_numpy(values), dtype=np.float64)


class _ProbeControl(keras.callbacks.Callback):
    """Writes the probe's learning rate before each step (if given) and stops after `steps`."""

    def __init__(self, steps: int, learning_rates: np.ndarray | None, progress):
        super().__init__()
        self.steps = steps
        self.learning_rates = learning_rates
        self.progress = progress
        self.done = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.learning_rates is not None and self.done < self.steps:
            trainer.sync_model_state(self)
            variable = self.model.optimizer.learning_rate
            variable.assign(np.asarray(self.learning_rates[self.done], dtype=variable.dtype))

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        self.progress.step()
        if self.done >= self.steps:
            self.model.stop_training = True


class _RangeTestProgress(keras.callbacks.Callback):
    def __init__(self, progress):
        super().__init__()
        self.progress = progress

    def on_train_batch_end(self, batch, logs=None):
        self.progress.step()


class Progress:
    """Keras's progress bar over the planned steps of the whole search (silent at 0)."""

    def __init__(self, total_steps: int, verbose: int):
        self.bar = (
            keras.utils.Progbar(total_steps, verbose=verbose, stateful_metrics=["lr", "score"])
            if verbose
            else None
        )
        self.current = 0
        self.values: list = []

    def step(self, count: int = 1) -> None:
        self.current += count
        if self.bar is not None:
            self.bar.update(self.current, values=self.values)

    def show(self, **values) -> None:
        self.values = list(values.items())

    def finish(self) -> None:
        if self.bar is not None and self.current < self.bar.target:
            self.bar.update(self.bar.target, values=self.values, finalize=True)


CALIBRATION_BATCHES = 8
"""Training batches whose statistics replace a probe's batch-norm moving statistics."""


def batch_norm_layers(model) -> list:
    """The `BatchNormalization` layers of a model, its nested models included."""
    found = []

    def visit(layer):
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        for inner in getattr(layer, "layers", ()):
            visit(inner)

    visit(model)
    return found


def _calibration_inputs(data: ProbeData):
    """The inputs of the first `CALIBRATION_BATCHES` batches the probes train on."""
    if data.batch_size is not None or not _data.is_dataset(data.x):
        size = data.batch_size or _data.KERAS_DEFAULT_BATCH_SIZE
        count = min(CALIBRATION_BATCHES, data.steps_per_epoch)
        for start in range(0, count * size, size):
            part = slice(start, start + size)
            yield keras.tree.map_structure(lambda array, part=part: array[part], data.x)
        return
    if isinstance(data.x, keras.utils.PyDataset):
        batches = (data.x[i] for i in range(min(CALIBRATION_BATCHES, len(data.x))))
    else:
        batches = iter(data.x.take(CALIBRATION_BATCHES))
    for batch in batches:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


def recalibrate_batch_norm(model, layers, data: ProbeData) -> None:
    """Sets the moving statistics of `layers` to the mean over a few training batches.

    A probe is judged in inference mode, which reads the moving statistics; after a few
    dozen steps they still hold mostly their starting values (momentum 0.99 keeps 78% of
    them after 25 steps), and a probe at a high learning rate, whose weights moved most,
    is judged on the most stale ones: on the benchmark, probes that scored a validation
    loss of 104 came from a peak whose full training reached 90% accuracy. The final
    training's statistics are settled; recomputing the probe's ("precise batch norm")
    judges it the same way. Each batch runs forward in training mode with `momentum` set
    so that the statistics become the running mean of the batches' (`i / (i + 1)` for
    batch `i`); `momentum` is a plain attribute read when the layer runs eagerly, and is
    put back at once (traced train steps keep the value they were traced with).
    """
    saved = [layer.momentum for layer in layers]
    try:
        for index, inputs in enumerate(_calibration_inputs(data)):
            for layer in layers:
                layer.momentum = index / (index + 1)
            model(inputs, training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


class ProbeSession:
    """The search's trainings on `model`, restoring it exactly on exit. See the module doc."""

    def __init__(self, model, data: ProbeData, callbacks, progress: Progress):
        self.model = model
        self.data = data
        self.callbacks = list(callbacks or [])
        self.progress = progress
        self.steps = 0  # Optimizer steps run so far (range test and probes).
        self.seconds = 0.0

    def __enter__(self):
        model = self.model
        _distribution.check_fit_runs(model)
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        self._saved_steps_per_execution = model.steps_per_execution
        self._saved_stop_training = model.stop_training
        self._saved_history = getattr(model, "history", None)
        self._schedule = (
            None
            if isinstance(optimizer.learning_rate, keras.Variable)
            else optimizers.learning_rate_schedule(optimizer)
        )
        self._first_step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        self._snapshot = StateSnapshot(model)
        self._batch_norm = batch_norm_layers(model)
        if self._saved_steps_per_execution != 1:
            trainer.set_steps_per_execution(model, 1)  # `_ProbeControl` acts on every step.
            _forget_compiled_functions(model)
        return self

    def __exit__(self, *exc_info):
        model = self.model
        # Metrics built during the search (a model never trained builds its compiled metrics
        # in its first `fit`) are emptied; the snapshot then restores all the others.
        model.reset_metrics()
        self._snapshot.restore()
        if self._schedule is not None:
            model.optimizer.learning_rate = self._schedule
        trainer.set_steps_per_execution(model, self._saved_steps_per_execution)
        if self._schedule is not None or self._saved_steps_per_execution != 1:
            _forget_compiled_functions(model)
        model.stop_training = self._saved_stop_training
        model.history = self._saved_history
        return False

    def range_test(self, num_steps: int):
        """`LRFinder.find` on the probes' training data, `num_steps` steps."""
        data = self.data
        start = time.perf_counter()
        result = LRFinder(self.model).find(
            data.x,
            data.y,
            batch_size=data.batch_size,
            num_steps=num_steps,
            shuffle=False,
            verbose=0,
            callbacks=[_RangeTestProgress(self.progress), *self.callbacks],
        )
        self.seconds += time.perf_counter() - start
        self.steps += result.num_recorded
        self.progress.step(num_steps - result.num_recorded)  # A diverged test stops early.
        return result

    def probe(self, max_lr: float, steps: int) -> dict[str, float]:
        """Trains `steps` steps of `OneCycle(max_lr, steps)` from the snapshot; returns the
        validation logs of `model.evaluate`."""
        model, data = self.model, self.data
        start = time.perf_counter()
        self._snapshot.restore()
        if self._schedule is None:
            control = _ProbeControl(steps, one_cycle_values(max_lr, steps), self.progress)
        else:
            model.optimizer.learning_rate = _ProbeSchedule(max_lr, steps, self._first_step)
            model.make_train_function(force=True)
            control = _ProbeControl(steps, None, self.progress)
        model.fit(
            data.x,
            data.y,
            batch_size=data.batch_size,
            epochs=math.ceil(steps / data.steps_per_epoch),
            shuffle=False,
            verbose=0,
            callbacks=[control, *self.callbacks],
        )
        self.steps += control.done
        self.progress.step(steps - control.done)
        if self._batch_norm:
            recalibrate_batch_norm(model, self._batch_norm, data)
        x_val, y_val, *rest = self.data.validation
        logs = model.evaluate(
            x_val,
            y_val,
            sample_weight=rest[0] if rest else None,
            batch_size=data.validation_batch_size,
            verbose=0,
            return_dict=True,
        )
        self.seconds += time.perf_counter() - start
        return {name: float(value) for name, value in logs.items()}
