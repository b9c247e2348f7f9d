"""`ModelSession`: what a range test or a search changes on a model, and putting it back.

One object owns every change keras_lrfind makes to a user's model, for `LRFinder`,
`LRFinderCallback` and `find_best_learning_rate`'s probes alike:

- outside `fit` (`isolate`): one step per execution, so that batch hooks see every step;
  `stop_training` and `model.history` are remembered;
- the snapshot (`save`): every variable of the model, its optimizer and its metrics, copied
  before the first update (inside `fit`, a model that `fit` builds in its first step is
  copied right after that build);
- the learning rate (`drive`): a `LearningRatePlan` reaches the optimizer as a value written
  into its learning-rate variable before each step, or, for an optimizer built with a
  `LearningRateSchedule`, as the plan's schedule counted from the current step
  (`OffsetSchedule`, in the graph);
- the check that every weight is still finite (`weights_finite`);
- `restore`: everything back, bit for bit, however the run ended.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np

from keras_lrfind import _checks
from keras_lrfind._compat import optimizers, trainer
from keras_lrfind.range_test import _distribution
from keras_lrfind.range_test._snapshot import StateSnapshot

NOT_COMPILED = (
    "The model must be compiled first: call `model.compile(optimizer=..., loss=...)` with "
    "the optimizer and loss you will train with (the learning rate you pass there is not "
    "used)."
)
"""The one message for a model that is not compiled."""


def check_model(model, *, before_fit: bool = False, built: bool = False) -> None:
    """Raises unless keras_lrfind can run on `model`; touches nothing.

    Args:
        model: The model a range test or a search will train.
        before_fit: Whether `fit` has not started yet (then strategies under which `fit`
            itself fails are refused too).
        built: Whether the model must already be built (the search snapshots it before
            any `fit`; a range test can build it the way `fit` does).

    Raises:
        TypeError: If `model` is not a `keras.Model`.
        RuntimeError: If the model is not compiled.
        ValueError: For a distribution Keras cannot run the test under, an optimizer
            built for other trainable variables than the model has now, or an unbuilt
            model where `built` is required.
    """
    if not isinstance(model, keras.Model):
        raise _checks.type_error("model", model, "a Keras 3 `keras.Model`")
    if not trainer.is_compiled(model):
        raise RuntimeError(NOT_COMPILED)
    if built and not model.built:
        raise ValueError(
            "`model` must be built, so that its weights can be saved and restored before "
            f"anything trains. Received: an unbuilt model of type {type(model).__name__}. "
            "Call `model.build(input_shape)` or call the model on a batch first."
        )
    unknown = optimizers.variables_unknown_to_optimizer(model)
    if unknown:
        raise ValueError(
            "The model's optimizer was built with other trainable variables than the model "
            f"has now ({len(unknown)} unknown to it, e.g. `{unknown[0].path}`): `trainable` "
            "changed after `compile` (a backbone unfrozen?). Call `model.compile(...)` again "
            "before the range test, as before training, or the test trains the old "
            "variables only."
        )
    if before_fit:
        _distribution.check_fit_runs(model)
    _distribution.check_loss_scaling(model)


@keras.saving.register_keras_serializable(package="keras_lrfind")
class OffsetSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A schedule counted from optimizer step `first_step`: `schedule(step - first_step)`.

    How a plan reaches an optimizer built with a `LearningRateSchedule` (which refuses a
    float): its value is computed in the graph from the optimizer's own step counter, so it
    is right at every step whatever the backend or compilation.

    Args:
        schedule: A `LearningRateSchedule` of the step within the plan (0 first).
        first_step: The optimizer's `iterations` at the plan's first step.
    """

    def __init__(self, schedule, first_step):
        self.schedule = schedule
        self.first_step = int(first_step)

    def __call__(self, step):
        return self.schedule(keras.ops.cast(step, "float32") - float(self.first_step))

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "first_step": self.first_step,
        }

    @classmethod
    def from_config(cls, config):
        schedule = keras.saving.deserialize_keras_object(config["schedule"])
        return cls(schedule, config["first_step"])


@dataclasses.dataclass(frozen=True)
class LearningRatePlan:
    """The learning rate of every step of a run: `rate(step)` as a Python float, and the
    same as an in-graph `schedule` of the step (0 first)."""

    rate: Callable[[int], float]
    schedule: keras.optimizers.schedules.LearningRateSchedule


class ModelSession:
    """Every change a run makes to `model`, and putting it back. See the module docstring.

    Args:
        model: A compiled Keras model (see `check_model`).
    """

    def __init__(self, model):
        self.model = model
        self.snapshot: StateSnapshot | None = None
        self._outside_fit: tuple | None = None  # steps_per_execution, history.
        self._stop_training = None
        self._build_wrapper = None
        self._schedule = None  # The optimizer's own schedule while a plan's schedule runs.
        self._lr_variable = None
        self._assign_lr = None
        self._plan: LearningRatePlan | None = None
        self.first_step = 0

    # -- Opening ---------------------------------------------------------------------------

    def isolate(self) -> None:
        """Before `fit`: one step per execution (batch hooks then see every step).

        `steps_per_execution` is traced into the train and test steps, so both are rebuilt
        when it changes (and again after `restore`).
        """
        model = self.model
        optimizers.rebind_ema_state(model.optimizer)
        self._outside_fit = (model.steps_per_execution, getattr(model, "history", None))
        self._stop_training = model.stop_training
        if model.steps_per_execution != 1:
            trainer.set_steps_per_execution(model, 1)
            trainer.forget_train_function(model)
            trainer.forget_test_function(model)

    def save(self, *, inside_fit: bool = False) -> None:
        """Copies every variable of the model, its optimizer and its metrics (once).

        Outside `fit`, an unbuilt optimizer is built first (its slots must be copied as
        they are before the first update). Inside `fit` (`on_train_begin`), a model that
        TensorFlow's `fit` builds in its first step (a `Sequential` without `keras.Input`,
        a model never trained) is built the way `fit` builds it and copied right after, before
        the step updates it.
        """
        if self.snapshot is not None:
            return
        model = self.model
        if self._stop_training is None:
            self._stop_training = model.stop_training
        if not inside_fit and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        snapshot = self.snapshot = StateSnapshot(model)
        if inside_fit and trainer.needs_build(model):
            self._build_wrapper = trainer.build_before_first_step(
                model, lambda: snapshot.add_new(model)
            )

    # -- The learning rate -----------------------------------------------------------------

    def drive(self, plan: LearningRatePlan) -> None:
        """Makes the optimizer train with `plan` from its next step on.

        An optimizer with a learning-rate variable gets `plan.rate(step)` written into it
        before each step (`before_step`); one built with a schedule trains with
        `OffsetSchedule(plan.schedule, iterations)` instead, computed in the graph (the
        train step is rebuilt once). Its own schedule comes back with `restore`.
        """
        optimizer = self.model.optimizer
        self._plan = plan
        self.first_step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        if isinstance(optimizer.learning_rate, keras.Variable):
            self._lr_variable = optimizer.learning_rate
            self._lr_dtype = np.dtype(self._lr_variable.dtype)
            self._assign_lr = optimizers.fast_assign(self._lr_variable)
            return
        if self._schedule is None:
            self._schedule = optimizers.learning_rate_schedule(optimizer)
        optimizer.learning_rate = OffsetSchedule(plan.schedule, self.first_step)
        self.model.make_train_function(force=True)

    @property
    def drives_a_variable(self) -> bool:
        """Whether the plan is written into a learning-rate variable before each step."""
        return self._assign_lr is not None

    def before_step(self, step: int) -> float:
        """Writes the plan's learning rate of `step` (if the optimizer has a variable);
        returns it. Inside `fit` on JAX, sync the model's state first
        (`trainer.sync_model_state`)."""
        learning_rate = self._plan.rate(step)
        if self._assign_lr is not None:
            self._assign_lr(np.asarray(learning_rate, dtype=self._lr_dtype))
        return learning_rate

    # -- Checks ----------------------------------------------------------------------------

    def weights_finite(self) -> bool:
        """Whether every weight of the model is finite (non-float weights always are).

        Checked by the backend where the weights live: one boolean per variable comes to
        the host, not a copy of the weights.
        """
        for variable in self.model.weights:
            if "float" in str(variable.dtype):
                finite = keras.ops.all(keras.ops.isfinite(variable.value))
                if not bool(keras.ops.convert_to_numpy(finite)):
                    return False
        return True

    # -- Putting everything back -----------------------------------------------------------

    def reset(self) -> None:
        """Puts the saved variables back (before each probe); the session stays open."""
        self.snapshot.restore()

    def restore(self, *, weights: bool = True) -> None:
        """Undoes everything the session changed; safe to call more than once.

        With `weights=False` the model keeps what it trained (weights, optimizer slots),
        but the learning rate (its variable's value, or the optimizer's own schedule)
        comes back.
        """
        model = self.model
        if self._build_wrapper is not None:
            trainer.unwrap_train_function(model, self._build_wrapper)
            self._build_wrapper = None
        if self.snapshot is not None:
            if weights:
                # Metrics built during the run (a model never trained builds its compiled
                # metrics in its first `fit`) are emptied; the snapshot restores the others.
                if self._outside_fit is not None:
                    self.snapshot.empty_metrics(model)
                self.snapshot.restore()
            elif self._lr_variable is not None:
                self.snapshot.restore(only=self._lr_variable)
        outside, self._outside_fit = self._outside_fit, None
        if self._schedule is not None:
            model.optimizer.learning_rate = self._schedule
        if outside is not None and outside[0] != 1:
            trainer.set_steps_per_execution(model, outside[0])
            trainer.forget_train_function(model)  # The next `fit` builds it.
            trainer.forget_test_function(model)
        elif self._schedule is not None:
            model.make_train_function(force=True)
        self._schedule = None
        if self._stop_training is not None:
            model.stop_training = self._stop_training
        if outside is not None:
            model.history = outside[1]
        self.snapshot = None
