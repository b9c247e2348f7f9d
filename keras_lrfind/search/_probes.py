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
import typing

import keras
import numpy as np

from keras_lrfind import _data
from keras_lrfind._compat import trainer
from keras_lrfind.range_test._callback import SweepRecorder
from keras_lrfind.range_test._session import LearningRatePlan, ModelSession
from keras_lrfind.range_test._sweep import Sweep
from keras_lrfind.schedules import OneCycle
from keras_lrfind.search._data import ProbeData


def one_cycle_values(max_lr: float, steps: int) -> np.ndarray:
    """The learning rate of each step of a probe: `OneCycle(max_lr, steps)` at 0..steps-1."""
    values = OneCycle(float(max_lr), int(steps))(np.arange(steps, dtype="float32"))
    return np.asarray(keras.ops.convert_to_numpy(values), dtype=np.float64)


class _ProbeControl(keras.callbacks.Callback):
    """Drives the probe's learning rate before each step and stops after `steps`."""

    def __init__(self, session: ModelSession, steps: int, progress):
        super().__init__()
        self.session = session
        self.steps = steps
        self.progress = progress
        self.done = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.session.drives_a_variable and self.done < self.steps:
            trainer.sync_model_state(self)
            self.session.before_step(self.done)

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
    """The search's progress: Keras's progress bar over its budget of steps (`verbose=1`),
    one line when it ends (`verbose=2`), or nothing (`0`). The search may end before it
    spends its whole budget; the bar then jumps to its end."""

    def __init__(self, total_steps: int, verbose: int):
        self.bar = (
            keras.utils.Progbar(total_steps, verbose=1, stateful_metrics=["lr"])
            if verbose == 1
            else None
        )
        self.verbose = verbose
        self.current = 0
        self.values: list = []

    def step(self, count: int = 1) -> None:
        self.current += count
        if self.bar is not None and self.current < self.bar.target:
            self.bar.update(self.current, values=self.values)

    def grow(self, total_steps: int) -> None:
        """Lets the bar run to `total_steps` (a search that learned nothing may spend more
        than its budget: `Planner.limit_steps`)."""
        if self.bar is not None and total_steps > self.bar.target:
            self.bar.target = total_steps

    def show(self, **values) -> None:
        self.values = list(values.items())

    def finish(self, summary: str) -> None:
        """Ends the bar, or prints `summary` on one line (`verbose=2`)."""
        if self.bar is not None:
            self.bar.update(self.bar.target, values=self.values, finalize=True)
        elif self.verbose == 2:
            print(f"find_best_learning_rate: {summary}")


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


def batch_norm_statistics(layers) -> list[tuple[np.ndarray, np.ndarray]]:
    """The moving mean and variance of each layer of `layers`, as NumPy arrays."""
    return [
        (
            np.array(keras.ops.convert_to_numpy(layer.moving_mean)),
            np.array(keras.ops.convert_to_numpy(layer.moving_variance)),
        )
        for layer in layers
    ]


def recalibrate_batch_norm(model, layers, data: ProbeData, starts=None, training_steps=None):
    """Sets the moving statistics of `layers` to what the training's would hold at its end.

    A probe is judged in inference mode, which reads the moving statistics; after a few
    dozen steps they still hold mostly their starting values (momentum 0.99 keeps 78% of
    them after 25 steps), and a probe at a high learning rate, whose weights moved most,
    is judged on the most stale ones: on the benchmark, probes that scored a validation
    loss of 104 came from a peak whose full training reached 90% accuracy. So the
    statistics are recomputed at the probe's weights ("precise batch norm"): each of a few
    training batches runs forward in training mode with `momentum` set so that the
    statistics become the running mean of the batches' (`i / (i + 1)` for batch `i`);
    `momentum` is a plain attribute read when the layer runs eagerly, and is put back at
    once (traced train steps keep the value they were traced with).

    The training the probe stands for is not settled either when it is short: after
    `training_steps` steps its moving statistics still hold `momentum ** training_steps`
    of their starting values (38% after 96 steps, a thousandth after 700), however far its
    weights moved. With `starts` (each layer's statistics before any training) and
    `training_steps`, the recomputed statistics are blended with the starting ones in that
    proportion, so that a peak whose short training ends on stale statistics (a pre-trained
    batch-norm backbone fine-tuned at a high rate) is judged as it will end. (An
    approximation: the training's statistics average the batches of its whole path, the
    blend only those at its end.)
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
    if starts is None or not training_steps:
        return
    for layer, (mean, variance) in zip(layers, starts, strict=True):
        kept = float(layer.momentum) ** training_steps
        for variable, start in ((layer.moving_mean, mean), (layer.moving_variance, variance)):
            current = keras.ops.convert_to_numpy(variable)
            variable.assign((kept * start + (1.0 - kept) * current).astype(current.dtype))


class ProbeRun(typing.NamedTuple):
    """What one probe returns: the validation logs of `model.evaluate` at its end, and the
    relative change of the trainable weights, `||w - w0|| / ||w0||`
    (`StateSnapshot.relative_change`)."""

    logs: dict[str, float]
    weight_change: float


class ProbeSession:
    """The search's trainings on `model`, restoring it exactly on exit. See the module doc.

    `training_steps`, the length of the training the probes stand for, sets how much of
    their starting batch-norm statistics the probes are judged with (see
    `recalibrate_batch_norm`); `None` judges them on settled statistics.
    """

    def __init__(self, model, data: ProbeData, callbacks, progress: Progress, training_steps=None):
        self.model = model
        self.training_steps = training_steps
        self.data = data
        self.callbacks = list(callbacks or [])
        self.progress = progress
        self.steps = 0  # Optimizer steps run so far (range test and probes).
        self.seconds = 0.0
        self.session = ModelSession(model)

    def __enter__(self):
        self.session.isolate()
        self.session.save()
        self._batch_norm = batch_norm_layers(self.model)
        self._batch_norm_starts = batch_norm_statistics(self._batch_norm)
        return self

    def __exit__(self, *exc_info):
        self.session.restore()
        return False

    def range_test(self, num_steps: int):
        """The range test on the probes' training data, `num_steps` steps, from the snapshot."""
        data, model = self.data, self.model
        start = time.perf_counter()
        self.session.reset()
        sweep = Sweep(num_steps=num_steps)
        recorder = SweepRecorder(sweep, session=self.session, restore=None)
        model.fit(
            data.x,
            data.y,
            batch_size=data.batch_size,
            epochs=math.ceil(num_steps / data.steps_per_epoch),
            shuffle=False,
            verbose=0,
            callbacks=[recorder, _RangeTestProgress(self.progress), *self.callbacks],
        )
        result = recorder.result
        self.seconds += time.perf_counter() - start
        self.steps += result.num_recorded
        self.progress.step(num_steps - result.num_recorded)  # A diverged test stops early.
        return result

    def probe(self, max_lr: float, steps: int) -> ProbeRun:
        """Trains `steps` steps of `OneCycle(max_lr, steps)` from the snapshot; returns the
        validation logs of `model.evaluate` and how far the trainable weights moved."""
        model, data = self.model, self.data
        start = time.perf_counter()
        self.session.reset()
        values = one_cycle_values(max_lr, steps)
        self.session.drive(
            LearningRatePlan(lambda step: float(values[step]), OneCycle(float(max_lr), steps))
        )
        control = _ProbeControl(self.session, steps, self.progress)
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
        moved = self.session.snapshot.relative_change(model.trainable_variables)
        logs = self.judge()
        self.seconds += time.perf_counter() - start
        return ProbeRun(logs, moved)

    def judge(self) -> dict[str, float]:
        """The validation logs of the model at its current weights, judged as a training
        of `training_steps` would end: with batch-norm statistics recomputed and blended
        (`recalibrate_batch_norm`). The untrained model is judged the same way, so that a
        probe whose weights did not move scores what the untrained model does: judged on
        its own starting statistics (a fine-tuned backbone's, from other data), it would
        be a model no training ends as."""
        if self._batch_norm:
            recalibrate_batch_norm(
                self.model,
                self._batch_norm,
                self.data,
                self._batch_norm_starts,
                self.training_steps,
            )
        return self.evaluate()

    def evaluate(self) -> dict[str, float]:
        """`model.evaluate` on the validation data, at the model's current weights."""
        x_val, y_val, *rest = self.data.validation
        logs = self.model.evaluate(
            x_val,
            y_val,
            sample_weight=rest[0] if rest else None,
            batch_size=self.data.validation_batch_size,
            verbose=0,
            return_dict=True,
        )
        return {name: float(value) for name, value in logs.items()}
