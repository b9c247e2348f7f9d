"""Random garbage to every public entry point: only our own errors, and the model intact.

Each test gives one argument of an entry point a random bad value (wrong types, NaN,
infinities, negatives, huge integers, strings, bytes, `None`, nested lists, dicts), the
others valid ones, and accepts either success or a `TypeError`/`ValueError` that
keras_lrfind itself raised with a message naming the argument (our message shape puts
names in backticks; Python's and NumPy's own errors do not). For the data (`x`, `y`),
whatever `model.fit` accepts or refuses past our own checks is Keras's business: a
`TypeError` or `ValueError` raised in Keras (or the backend it runs on) is accepted
there. After every call on a model, its whole state is bit-for-bit what it was.
"""

from __future__ import annotations

import json
import os
import traceback
import warnings

import keras
import numpy as np
import pytest
from conftest import assert_same_state, full_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras_lrfind

PACKAGE = os.path.dirname(keras_lrfind.__file__)
# Keras and the libraries it runs on, whose errors about the data are Keras's to give.
SITE_PACKAGES = os.path.dirname(os.path.dirname(keras.__file__))
KERAS = tuple(
    os.path.join(SITE_PACKAGES, name) for name in ("keras", "tensorflow", "jax", "torch", "optree")
)

GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 1, 2, 10**8, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), -1.0, 0.0, 1e308, 5e-324]),
    st.text(max_size=6),
    st.binary(max_size=6),
    st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=3)), max_size=3),
    st.lists(st.lists(st.floats(allow_nan=True), max_size=2), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.tuples(st.integers(), st.text(max_size=2)),
    st.sampled_from([object(), np.array([1.0, np.nan]), np.array("x"), [None]]),
)

GARBAGE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def assert_ours(error: BaseException, argument: str, keras_may_refuse: bool = False) -> None:
    """`error` is a `TypeError`/`ValueError` raised by keras_lrfind with a named argument
    (or, where `keras_may_refuse`, one Keras raised)."""
    assert isinstance(error, (TypeError, ValueError)), f"{argument}: {error!r}"
    innermost = traceback.extract_tb(error.__traceback__)[-1].filename
    if keras_may_refuse and innermost.startswith(KERAS):
        return
    assert innermost.startswith(PACKAGE), f"{argument}: raised in {innermost}: {error!r}"
    assert "`" in str(error), f"{argument}: the message names no argument: {error!r}"


def call(function, argument, keras_may_refuse=False, **kwargs):
    """Calls `function(**kwargs)`; success or one of our own errors passes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Only errors matter here.
            return function(**kwargs)
    except Exception as error:
        assert_ours(error, argument, keras_may_refuse)
        return None


# -- Data and models ---------------------------------------------------------------------------

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")


@pytest.fixture(scope="module")
def model():
    """One compiled, trained model for the whole module (every call must leave it intact)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    model.fit(X, Y, batch_size=8, verbose=0)
    return model


@pytest.fixture(scope="module", autouse=True)
def in_a_temporary_directory(tmp_path_factory):
    """Garbage paths (`to_json(path)`, `log_dir`) are written in a directory of their own."""
    previous = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("garbage"))
    yield
    os.chdir(previous)


class StopAfter(keras.callbacks.Callback):
    """Ends `fit` after three steps, so a valid but long sweep stays cheap."""

    def on_train_batch_end(self, batch, logs=None):
        if batch >= 2:
            self.model.stop_training = True


FIND = dict(
    x=X,
    y=Y,
    batch_size=8,
    num_steps=4,
    start_lr=1e-4,
    end_lr=1e-2,
    step_mode="exponential",
    smoothing=0.98,
    diverge_threshold=4.0,
    validation_data=None,
    validation_batch_size=None,
    sample_weight=None,
    class_weight=None,
    shuffle=True,
    verbose=0,
    log_dir=None,
)


@GARBAGE_SETTINGS
@given(argument=st.sampled_from([*FIND, "callbacks", "mode"]), value=GARBAGE)
def test_find(model, argument, value):
    """`LRFinder.find` refuses garbage itself, before touching the model."""
    before = full_state(model)
    learning_rate = model.optimizer.learning_rate
    kwargs = {**FIND, "callbacks": [StopAfter()], argument: value}
    call(keras_lrfind.LRFinder(model).find, argument, argument in ("x", "y"), **kwargs)
    assert_same_state(before, full_state(model))
    assert model.optimizer.learning_rate is learning_rate
    assert model.stop_training is False


@GARBAGE_SETTINGS
@given(value=GARBAGE)
def test_lr_finder(value):
    """`LRFinder(model)` takes only a Keras model."""
    call(keras_lrfind.LRFinder, "model", model=value)


CALLBACK = dict(
    start_lr=1e-4,
    end_lr=1e-2,
    num_steps=4,
    step_mode="exponential",
    smoothing=0.98,
    diverge_threshold=4.0,
    restore=True,
    validation_data=None,
    validation_batch_size=None,
    verbose=0,
    log_dir=None,
)


@GARBAGE_SETTINGS
@given(argument=st.sampled_from([*CALLBACK, "mode"]), value=GARBAGE)
def test_callback(model, argument, value):
    """`LRFinderCallback` refuses garbage when made; one it accepts runs in `fit` cleanly."""
    before = full_state(model)
    callback = call(keras_lrfind.LRFinderCallback, argument, **{**CALLBACK, argument: value})
    if callback is not None:
        with callback:
            call(model.fit, argument, x=X, y=Y, batch_size=8, verbose=0, callbacks=[callback])
    if getattr(callback, "restore_state", True):
        assert_same_state(before, full_state(model))
    else:  # `restore=False` keeps the sweep's weights, as documented: put them back here.
        for variable, (_, value) in zip(
            model.variables + model.optimizer.variables + model.metrics_variables,
            before,
            strict=True,
        ):
            variable.assign(value)


def healthy_result():
    learning_rates = np.logspace(-5, 0, 60)
    x = np.log10(learning_rates)
    losses = 2.3 - 1.6 * np.exp(-(((x + 2.5) / 0.6) ** 2)) + np.where(x > -1, 9 * (x + 1) ** 2, 0)
    return keras_lrfind.LRFinderResult(
        learning_rates, losses, losses, "diverged", 1e-5, 1.0, 60, smoothing=0
    )


RESULT = dict(
    learning_rates=np.logspace(-5, 0, 10),
    losses=np.linspace(2.0, 1.0, 10),
    smoothed_losses=np.linspace(2.0, 1.0, 10),
    stop_reason="completed",
    start_lr=1e-5,
    end_lr=1.0,
    num_steps=10,
    step_mode="exponential",
    smoothing=0.98,
    diverge_threshold=4.0,
    validation_losses=None,
)


@GARBAGE_SETTINGS
@given(argument=st.sampled_from([*RESULT, "mode"]), value=GARBAGE)
def test_result(argument, value):
    """`LRFinderResult(...)` refuses garbage in any argument."""
    call(keras_lrfind.LRFinderResult, argument, **{**RESULT, argument: value})


@GARBAGE_SETTINGS
@given(field=st.sampled_from([*healthy_result().to_dict()]), value=GARBAGE)
def test_from_dict_and_from_json(field, value):
    """A saved result with a garbage field is refused naming the field (and the file)."""
    data = {**healthy_result().to_dict(), field: value}
    call(keras_lrfind.LRFinderResult.from_dict, field, data=data)
    text = json.dumps(data, default=repr)  # Values JSON cannot hold are written as text.
    call(keras_lrfind.LRFinderResult.from_json, field, source=text)


@GARBAGE_SETTINGS
@given(value=GARBAGE)
def test_from_json_source(value):
    """`from_json` takes JSON text or a path, and says what is wrong with the content; a
    string that is neither a file nor JSON says so too (it was a bare `FileNotFoundError`)."""
    call(keras_lrfind.LRFinderResult.from_json, "source", source=value)


# -- Paths written to: the outputs and the command line -------------------------------------------
# Relative paths built from the names below, in the module's temporary directory: an existing
# file and folder, a read-only file and folder, a missing name, and random names. Whatever
# the check accepts must then be written for real, and whatever it refuses is refused with
# our error naming the argument. Root writes into read-only places, and the checks say so
# (they ask `os.access`), so the property holds with or without root.

PATH_PARTS = st.one_of(
    st.sampled_from(["a_file", "a_dir", "ro_dir", "ro_file", "missing", "", ".", "x.json"]),
    st.text(
        st.characters(blacklist_characters="/", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=4,
    ).filter(lambda part: part != ".."),  # Never above the temporary directory.
)
GARBAGE_PATHS = st.lists(PATH_PARTS, min_size=1, max_size=3).map(lambda parts: os.path.join(*parts))


@pytest.fixture(scope="module")
def places(in_a_temporary_directory):
    """The named files and folders of `PATH_PARTS`, in the module's directory."""
    with open("a_file", "w") as file:
        file.write("mine")
    with open("ro_file", "w") as file:
        file.write("mine")
    os.chmod("ro_file", 0o444)
    os.makedirs("a_dir", exist_ok=True)
    os.makedirs("ro_dir", exist_ok=True)
    os.chmod("ro_dir", 0o555)
    open("net.keras", "w").close()  # The command's MODEL: the checks never open it.
    yield
    os.chmod("ro_dir", 0o755)
    os.chmod("ro_file", 0o644)


@GARBAGE_SETTINGS
@given(path=GARBAGE_PATHS)
def test_to_json_paths(places, path):
    """`to_json(path)` refuses, naming `path`, or writes a file that reads back."""
    result = healthy_result()
    if call(result.to_json, "path", path=path) is not None:
        assert keras_lrfind.LRFinderResult.from_json(path).num_recorded == result.num_recorded


@GARBAGE_SETTINGS
@given(path=GARBAGE_PATHS)
def test_from_json_paths(places, path):
    """`from_json` on any path: a result, or our error naming the file or `source`."""
    call(keras_lrfind.LRFinderResult.from_json, "source", source=path)


@GARBAGE_SETTINGS
@given(path=GARBAGE_PATHS)
def test_log_dir_paths(places, path):
    """`to_tensorboard(log_dir)` and `LRFinderCallback(log_dir=...)` refuse, naming
    `log_dir`, or accept a directory that TensorBoard's writer then writes into."""
    call(keras_lrfind.LRFinderCallback, "log_dir", log_dir=path)
    try:
        keras_lrfind.tensorboard.checked_log_dir(path)
    except ValueError as error:
        assert_ours(error, "log_dir")
        assert "`log_dir`" in str(error)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        healthy_result().to_tensorboard(path)
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(path))


@GARBAGE_SETTINGS
@given(
    output=GARBAGE_PATHS.filter(lambda p: "\0" not in p),
    flag=st.sampled_from(["--output", "--log-dir"]),
)
def test_command_line_paths(places, output, flag):
    """`keras-lrfind find --output/--log-dir` refuses, naming the option, before anything
    runs, or accepts a folder the command can then create and write its files into."""
    from keras_lrfind.cli import _arguments

    argv = ["find", "net.keras", "--data", "tfds:digits", "--overwrite", f"{flag}={output}"]
    if flag == "--log-dir":
        argv.append("--output=a_dir")
    try:
        args = _arguments.build_parser().parse_args(argv)
        _arguments.check_arguments(args)
    except _arguments.CommandError as error:
        assert f"`{flag}`" in str(error), error
        return
    folder = args.output if flag == "--output" else args.log_dir  # `Path("")` is ".".
    os.makedirs(folder, exist_ok=True)
    files = _arguments.output_files(args) if flag == "--output" else [folder / "probe"]
    for path in files:
        with open(path, "w") as file:
            file.write("written")


SUGGEST_CALLS = {
    "suggest": ("method", "skip_start", "skip_end", "warn"),
    "suggestions": ("skip_start", "skip_end", "methods"),
    "suggest_range": ("method", "ratio"),
    "curve": ("skip_start", "skip_end"),
    "one_cycle": ("total_steps", "max_lr", "pct_start", "anneal_strategy", "div_factor"),
    "cyclic": ("step_size_up", "ratio", "method", "mode", "gamma", "scale_fn"),
    "to_json": ("path",),
}
REQUIRED = {"one_cycle": {"total_steps": 100}, "cyclic": {"step_size_up": 10}}


@GARBAGE_SETTINGS
@given(
    call_and_argument=st.sampled_from(
        [(name, argument) for name, arguments in SUGGEST_CALLS.items() for argument in arguments]
    ),
    value=GARBAGE,
)
def test_result_methods(call_and_argument, value):
    """Every method of a result refuses garbage in any argument."""
    name, argument = call_and_argument
    method = getattr(healthy_result(), name)
    call(method, argument, **{**REQUIRED.get(name, {}), argument: value})


FUNCTIONS = {
    keras_lrfind.scale_for_batch_size: dict(
        learning_rate=0.01, from_batch_size=32, to_batch_size=64, rule="linear"
    ),
    keras_lrfind.steps_for_epochs: dict(epochs=2, steps_per_epoch=10),
    keras_lrfind.suggestions.one_cycle: dict(
        learning_rates=np.logspace(-5, 0, 60), losses=healthy_result().losses, bandwidth=0.15
    ),
    keras_lrfind.OneCycle: dict(
        max_lr=0.1,
        total_steps=100,
        pct_start=0.3,
        anneal_strategy="cos",
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        name="OneCycle",
    ),
    keras_lrfind.CyclicLR: dict(
        base_lr=1e-3,
        max_lr=1e-2,
        step_size_up=10,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        name="CyclicLR",
    ),
    keras_lrfind.CycleDecay: dict(factor=0.5),
    keras_lrfind.MomentumCycler: dict(
        total_steps=100,
        max_momentum=0.95,
        base_momentum=0.85,
        pct_start=0.3,
        anneal_strategy="cos",
        three_phase=False,
    ),
    keras_lrfind.MomentumCycler.from_one_cycle: dict(
        schedule=keras_lrfind.OneCycle(0.1, 100), max_momentum=0.95, base_momentum=0.85
    ),
}


@GARBAGE_SETTINGS
@given(
    function_and_argument=st.sampled_from(
        [(function, argument) for function, kwargs in FUNCTIONS.items() for argument in kwargs]
    ),
    value=GARBAGE,
)
def test_functions_and_schedules(function_and_argument, value):
    """The schedules, the momentum cycler and the helper functions refuse garbage."""
    function, argument = function_and_argument
    call(function, argument, **{**FUNCTIONS[function], argument: value})


X_SEARCH = rng.normal(size=(96, 3)).astype("float32")  # 72 to train (9 steps), 24 to judge.
Y_SEARCH = (X_SEARCH @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")

PROBES = dict(
    x=X_SEARCH,
    y=Y_SEARCH,
    batch_size=8,
    epochs=4,
    validation_data=None,
    validation_split=0.25,
    budget=None,
    candidates=[1e-3, 1e-2],
    verbose=0,
    return_details=False,
    seed=0,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(argument=st.sampled_from(list(PROBES)), value=GARBAGE)
def test_find_best_learning_rate(model, argument, value):
    """`find_best_learning_rate` refuses garbage, and leaves the model as it was."""
    before = full_state(model)
    kwargs = {**PROBES, argument: value}
    call(
        keras_lrfind.find_best_learning_rate,
        argument,
        argument in ("x", "y"),
        model=model,
        **kwargs,
    )
    assert_same_state(before, full_state(model))
