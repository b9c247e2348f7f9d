"""`LRFinder`: run the learning-rate range test on a compiled model and get its curve."""

from __future__ import annotations

import math

import keras

from keras_lrfind import _data, _distribution
from keras_lrfind.callback import LRFinderCallback, default_num_steps
from keras_lrfind.result import LRFinderResult


class LRFinder:
    """The learning-rate range test for a compiled Keras model.

    `find()` trains the model for (at most) one epoch while the learning rate grows
    exponentially from `start_lr` to `end_lr`, records the true loss of every batch, stops
    when the loss diverges, and then puts the model back exactly as it was: weights, every
    optimizer variable (`iterations` included), metrics, the learning rate or schedule,
    `steps_per_execution` and `stop_training`, also when the run is interrupted by an
    exception or Ctrl-C. It uses the model's compiled loss, metrics and optimizer, so the
    curve describes the training you are about to do.

    Args:
        model: A compiled Keras 3 model.

    Example:

    ```python
    finder = keras_lrfind.LRFinder(model)
    result = finder.find(x_train, y_train, batch_size=64)
    print(result.best_lr)
    ```
    """

    def __init__(self, model: keras.Model):
        if not isinstance(model, keras.Model):
            raise TypeError(
                "`model` must be a Keras 3 `keras.Model`. "
                f"Received: model of type {type(model).__name__}."
            )
        self.model = model
        self.result: LRFinderResult | None = None

    def find(
        self,
        x=None,
        y=None,
        *,
        batch_size: int | None = None,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        num_steps: int | None = None,
        mode: str = "exponential",
        smoothing: float = 0.98,
        diverge_threshold: float = 4.0,
        validation_data=None,
        validation_batch_size: int | None = None,
        sample_weight=None,
        class_weight=None,
        shuffle: bool = True,
        verbose="auto",
        callbacks=None,
    ) -> LRFinderResult:
        """Runs the range test and returns its curve.

        Args:
            x: The training data, anything `model.fit` accepts: NumPy arrays, a
                `tf.data.Dataset` (including `tfds` pipelines), a `keras.utils.PyDataset`
                or a Python generator (generators need `num_steps`).
            y: The targets, when `x` is an array. Defaults to `None`.
            batch_size: The batch size for array input. Defaults to `None` (Keras's 32).
            start_lr: The learning rate of the first step. Defaults to `1e-7`.
            end_lr: The learning rate of the last step. Defaults to `10.0`.
            num_steps: The number of steps. Defaults to `None`: one epoch, at least 100
                steps (a short epoch is continued into the next ones) and at most 1000.
                Required when the data's length is unknown.
            mode: `"exponential"` or `"linear"` growth. Defaults to `"exponential"`.
            smoothing: The debiased moving-average factor; `0` disables. Defaults to `0.98`.
            diverge_threshold: Stop when the smoothed loss exceeds this many times the best.
                Defaults to `4.0`.
            validation_data: A small fixed `(x, y)` sample whose loss is evaluated after
                every step and used as the curve (slower, less noisy). Defaults to `None`.
            validation_batch_size: Batch size for `validation_data`. Defaults to `None`.
            sample_weight: Passed to `fit`. Defaults to `None`.
            class_weight: Passed to `fit`. Defaults to `None`.
            shuffle: Passed to `fit` for array input (datasets and generators are
                expected to shuffle themselves). Defaults to `True`.
            verbose: Passed to `fit`. Defaults to `"auto"`.
            callbacks: Extra callbacks for `fit`. Defaults to `None`.

        Returns:
            The `LRFinderResult`, also kept as `finder.result`.

        Raises:
            ValueError: For a bad argument, empty data, unknown length without
                `num_steps`, or a distribution Keras cannot run the test under (a
                `tf.distribute.MultiWorkerMirroredStrategy` with several workers, loss
                scaling under a `tf.distribute` strategy with several replicas); the model
                is untouched.
            RuntimeError: If the model is not compiled.
        """
        callback = LRFinderCallback(
            start_lr,
            end_lr,
            num_steps,
            mode=mode,
            smoothing=smoothing,
            diverge_threshold=diverge_threshold,
            validation_data=validation_data,
            validation_batch_size=validation_batch_size,
        )
        model = self.model
        if not getattr(model, "compiled", False) or model.optimizer is None:
            raise RuntimeError(
                "The model must be compiled before the range test: call "
                "`model.compile(optimizer=..., loss=...)` first, with the optimizer and loss "
                "you will train with."
            )
        _distribution.check_fit_runs(model)
        _distribution.check_loss_scaling(model)
        steps_per_epoch = _data.steps_per_epoch(x, batch_size)
        if num_steps is None:
            if steps_per_epoch is None:
                raise ValueError(
                    "The length of `x` is unknown (a generator or an infinite dataset), so "
                    "`num_steps` is required. Received: num_steps=None. Pass e.g. "
                    "`find(x, num_steps=100)`."
                )
            num_steps = default_num_steps(steps_per_epoch)
        callback.num_steps = num_steps
        if steps_per_epoch is None:
            epochs, fit_steps = 1, num_steps
        else:
            epochs, fit_steps = math.ceil(num_steps / steps_per_epoch), None

        original_steps_per_execution = model.steps_per_execution
        try:
            if original_steps_per_execution != 1:
                model.steps_per_execution = 1
                model.make_train_function(force=True)
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
                callbacks=[callback, *(callbacks or [])],
            )
        finally:
            callback.restore()
            if original_steps_per_execution != 1:
                model.steps_per_execution = original_steps_per_execution
                # The next `fit` builds the train function for it. Building it here would
                # raise on PyTorch, which refuses `steps_per_execution > 1`. (Keeping the
                # old function object to put back is no option: on JAX a live reference to
                # it makes the rebuilt step reuse its stale trace.)
                model.train_function = None
        self.result = callback.result
        return self.result
