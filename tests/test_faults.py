"""The fault matrix: however a range test ends, on whatever model, nothing is lost.

Each cell runs one entry point (`LRFinder.find`, or `LRFinderCallback` in the user's own
`fit`) on one kind of model under one fault, then checks every variable bit for bit
(weights, every optimizer variable with `iterations`, metric variables), the learning-rate
variable or schedule object by identity, `stop_training`, and that the user's own `fit`
still trains the model afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest
from conftest import assert_same_state, full_state

import keras_lrfind
from keras_lrfind._compat import optimizers as _compat

NUM_SAMPLES = 48
BATCH_SIZE = 8  # 6 batches an epoch: a 6-step sweep is one epoch.
NUM_STEPS = 6

ENTRY_POINTS = ("find", "callback", "search")
SETUPS = ("plain", "schedule", "unbuilt", "extra_writer")
FAULTS = (
    "normal",
    "user_exception",
    "keyboard_interrupt",
    "nan_at_step_0",
    "divergence",
    "weights_non_finite",
    "keras_error_in_step",
)

# The sweep of each fault; every sweep fits in one epoch.
QUIET = dict(start_lr=1e-4, end_lr=1e-2, num_steps=NUM_STEPS, diverge_threshold=1e9)
SWEEPS = {fault: QUIET for fault in FAULTS}
SWEEPS["divergence"] = dict(start_lr=1.0, end_lr=1e6, num_steps=NUM_STEPS)


def masked_mse(y_true, y_pred):
    """MSE that skips NaN labels, a common pattern: its gradient is NaN all the same.

    `where(isnan(e), 0, e**2)` takes the NaN out of the loss but not out of the gradient
    (0 * NaN is NaN), so one NaN label turns every weight NaN while the loss stays finite.
    """
    error = y_pred - y_true
    squared = keras.ops.where(keras.ops.isnan(error), 0.0, keras.ops.square(error))
    return keras.ops.mean(squared, axis=-1)


def clean_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(NUM_SAMPLES, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3).astype("float32")
    return x, y


def fault_data(fault):
    x, y = clean_data()
    if fault == "nan_at_step_0":
        y = np.full_like(y, np.nan)
    elif fault == "weights_non_finite":
        y = y.copy()
        y[1] = np.nan  # In the first batch: the data is not shuffled.
    elif fault == "keras_error_in_step":
        # No targets for a loss that needs them: Keras raises inside the first train step,
        # where its JAX trainer has already emptied every variable (it fills them again
        # only at the end of an epoch).
        y = None
    return x, y


def build_model(setup, fault, seed=3):
    """A tiny compiled model of the kind `setup` names, never trained."""
    keras.utils.set_random_seed(seed)
    layers = [keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)]
    if setup != "unbuilt":
        layers.insert(0, keras.Input((3,)))
    model = keras.Sequential(layers)
    if setup == "schedule":
        learning_rate = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)
    else:
        learning_rate = 0.01
    loss = masked_mse if fault == "weights_non_finite" else "mse"
    model.compile(keras.optimizers.Adam(learning_rate), loss=loss, metrics=["mae"])
    return model


def make_model(setup, fault):
    """The model of a cell; all but the unbuilt one trained once, so their state is not trivial."""
    model = build_model(setup, fault)
    if setup != "unbuilt":
        x, y = clean_data()
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    return model


class Raise(keras.callbacks.Callback):
    """Raises `exception` at the start of step `at`."""

    def __init__(self, exception, at=3):
        super().__init__()
        self.exception = exception
        self.at = at
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.step == self.at:
            raise self.exception("interrupted by the test")
        self.step += 1


class StateWriter(keras.callbacks.Callback):
    """Writes every weight, optimizer and metric variable and `stop_training` at the end,
    as `EarlyStopping(restore_best_weights=True)` or `BackupAndRestore` do."""

    def on_train_end(self, logs=None):
        model = self.model
        for variable in model.weights + model.optimizer.variables + model.metrics_variables:
            variable.assign(keras.ops.full(variable.shape, 7, dtype=variable.dtype))
        model.stop_training = True


def extra_callbacks(setup, fault):
    extra = []
    if setup == "extra_writer":
        extra.append(StateWriter())
    if fault == "user_exception":
        extra.append(Raise(RuntimeError))
    elif fault == "keyboard_interrupt":
        extra.append(Raise(KeyboardInterrupt))
    return extra


SEARCH_ERRORS = {
    "nan_at_step_0": r"NaN or infinite",
    "weights_non_finite": r"weights became NaN or infinite",
    "divergence": r"No candidate learned",
}
"""What `find_best_learning_rate` raises under each fault it must not answer through."""


def search(model, x, y, fault, extra):
    """`find_best_learning_rate` (36 training steps, judged on the clean data); under
    `divergence`, with candidates far too high."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", keras_lrfind.LRFinderWarning)  # Nothing learned.
        return keras_lrfind.find_best_learning_rate(
            model,
            x,
            y,
            batch_size=BATCH_SIZE,
            epochs=6,
            validation_data=clean_data(),
            candidates=[1e4, 1e5, 1e6] if fault == "divergence" else None,
            callbacks=extra,
            verbose=0,
            return_details=True,
        )


def run(entry_point, model, x, y, fault, extra):
    """Runs the range test through `entry_point` and returns its result."""
    if entry_point == "search":
        return search(model, x, y, fault, extra)
    if entry_point == "find":
        return keras_lrfind.LRFinder(model).find(
            x, y, batch_size=BATCH_SIZE, shuffle=False, verbose=0, callbacks=extra, **SWEEPS[fault]
        )
    # The callback ordered last: Keras calls `on_train_end` in list order, so the restore
    # runs after the other callbacks' (see the README's "Nothing is lost").
    with keras_lrfind.LRFinderCallback(**SWEEPS[fault]) as callback:
        model.fit(
            x,
            y,
            batch_size=BATCH_SIZE,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[*extra, callback],
        )
    return callback.result


def learning_rate_object(optimizer):
    """The learning-rate variable, or the schedule a schedule-built optimizer holds."""
    learning_rate = optimizer.learning_rate
    if isinstance(learning_rate, keras.Variable):
        return learning_rate
    return _compat.learning_rate_schedule(optimizer)


def fresh_state(setup, fault):
    """What an unbuilt model must hold after the test: the state of its twin, just built.

    The twin is made with the same seed (so the same initial weights) and built by hand:
    a never-updated optimizer (zero slots, `iterations` 0) and zero metric totals.
    """
    twin = build_model(setup, fault)
    twin.build((None, 3))
    twin.optimizer.build(twin.trainable_variables)
    x, y = clean_data()
    twin.compute_metrics(x, y, twin(x), sample_weight=None)  # Builds the compiled metrics.
    twin.reset_metrics()
    return full_state(twin)


def assert_same_values(expected, actual):
    """Every variable bit-identical to its twin's (the twin's paths have other numbers)."""
    assert len(expected) == len(actual)
    for (_, a), (path, b) in zip(expected, actual, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=path)


EXPECTED_STOP = {
    "normal": ("completed",),
    "nan_at_step_0": ("non_finite_loss",),
    "divergence": ("diverged", "non_finite_loss"),
    "weights_non_finite": ("non_finite_weights",),
}


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_nothing_is_lost(entry_point, fault, setup):
    """The range test ends as the fault dictates (the search refuses to answer through a
    broken run) and the model comes back bit for bit."""
    if entry_point == "search" and setup == "unbuilt":
        pytest.skip("The search refuses an unbuilt model up front (tests/test_probes.py).")
    model = make_model(setup, fault)
    x, y = fault_data(fault)
    before = None if setup == "unbuilt" else full_state(model)
    learning_rate = learning_rate_object(model.optimizer)
    if fault in ("user_exception", "keyboard_interrupt"):
        exception = RuntimeError if fault == "user_exception" else KeyboardInterrupt
        with pytest.raises(exception, match="interrupted by the test"):
            run(entry_point, model, x, y, fault, extra_callbacks(setup, fault))
    elif fault == "keras_error_in_step":
        with pytest.raises(ValueError):  # Keras's own error; its message differs by backend.
            run(entry_point, model, x, y, fault, extra_callbacks(setup, fault))
    elif entry_point == "search" and (fault in SEARCH_ERRORS or setup == "extra_writer"):
        # A callback that overwrites the weights when each `fit` ends ruins every probe.
        expected = SEARCH_ERRORS.get(fault, r"No probe learned")
        with pytest.raises(ValueError, match=expected):
            run(entry_point, model, x, y, fault, extra_callbacks(setup, fault))
    elif entry_point == "search":
        details = run(entry_point, model, x, y, fault, extra_callbacks(setup, fault))
        assert details.max_lr > 0
    else:
        result = run(entry_point, model, x, y, fault, extra_callbacks(setup, fault))
        assert result.stop_reason in EXPECTED_STOP[fault]
        if fault == "weights_non_finite":
            with pytest.raises(ValueError, match=r"weights became NaN or infinite"):
                result.suggest()

    if setup == "unbuilt" and fault == "keras_error_in_step":
        # The first step failed before the optimizer built its slots: the model holds its
        # twin's initial weights and the optimizer has not stepped.
        twin = build_model(setup, fault)
        twin.build((None, 3))
        assert_same_values(
            [(w.path, w.numpy()) for w in twin.weights],
            [(w.path, w.numpy()) for w in model.weights],
        )
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0
    elif setup == "unbuilt":
        assert_same_values(fresh_state(setup, fault), full_state(model))
    else:
        assert_same_state(before, full_state(model))
    assert learning_rate_object(model.optimizer) is learning_rate
    assert model.stop_training is False

    # The user's own `fit` trains the model afterwards.
    x, y = clean_data()
    weights = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(not np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


def run_python(code):
    """Runs `code` in a fresh Python on the same backend: its exit status, stdout, stderr."""
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    return done.returncode, done.stdout, done.stderr


def test_loading_a_one_cycle_model_needs_the_import_the_readme_names(tmp_path):
    """Without `import keras_lrfind`, Keras cannot find `OneCycle` (the README quotes its
    error); with the import, as the README says, the model loads with its schedule."""
    x, y = clean_data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(keras_lrfind.OneCycle(0.1, 100)), loss="mse")
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    load = f"import keras; model = keras.saving.load_model({str(path)!r}); "
    load += "print(float(model.optimizer.learning_rate))"

    status, _, errors = run_python(load)
    assert status != 0
    assert "Could not locate class 'OneCycle'" in errors
    assert "'module': 'keras_lrfind.schedules'" in errors

    status, output, errors = run_python("import keras_lrfind; " + load)
    assert status == 0, errors
    expected = float(keras_lrfind.OneCycle(0.1, 100)(NUM_SAMPLES // BATCH_SIZE))
    assert float(output) == pytest.approx(expected, rel=1e-6)
