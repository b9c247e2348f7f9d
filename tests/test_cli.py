"""Tests for the `keras-lrfind` command line: arguments, errors, the files it writes."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys

import keras
import pytest

from keras_lrfind import LRFinderResult, cli
from keras_lrfind.cli import _arguments, _errors, _option_types

MIN_NUM_STEPS = 11  # 11 - 11 // 10 - 5 = 5 points left for `one_cycle`, which needs 5.
# Root may write anywhere, so read-only places cannot be tested as root.
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# TensorFlow's C++ runtime logs to stderr when it is imported, before any Python runs:
# glog-style lines ("I0000 00:00:... port.cc:153] ...") and absl's banner. They are not the
# command's output; everything else on stderr is.
TF_NATIVE_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWEF]\d{4} )"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One TFDS data directory for the module, so the digits are prepared once."""
    return str(tmp_path_factory.mktemp("tfds"))


def saved_model(path, compile=True, loss="sparse_categorical_crossentropy", shape=(8, 8, 1)):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    if compile:
        model.compile(optimizer="adam", loss=loss)
        model.optimizer.build(model.trainable_variables)  # As after training.
    model.save(path)
    return path


@pytest.fixture
def model_file(tmp_path):
    """An empty file named like a model: argument checks never open it."""
    path = tmp_path / "net.keras"
    path.touch()
    return path


def user_errors(model_file):
    """(arguments, expected message) for each user error the CLI must refuse up front."""
    find = ["find", str(model_file), "--data", "tfds:digits"]
    existing = model_file.parent / "net_lr_find.json"
    return {
        "num_steps_1": (
            [*find, "--num-steps", "1"],
            rf"`--num-steps` must be at least {MIN_NUM_STEPS}: .*Received: --num-steps=1\.$",
        ),
        "num_steps_3": (
            [*find, "--num-steps", "3"],
            rf"`--num-steps` must be at least {MIN_NUM_STEPS}: .*Received: --num-steps=3\.$",
        ),
        "start_lr_nan": (
            [*find, "--start-lr", "nan"],
            r"`--start-lr` must be a positive, finite learning rate .*Received: --start-lr=nan\.",
        ),
        "start_lr_negative": (
            [*find, "--start-lr", "-1"],
            r"`--start-lr` must be a positive, finite learning rate .*Received: --start-lr=-1\.",
        ),
        "start_above_end": (
            [*find, "--start-lr", "10", "--end-lr", "1"],
            r"`--end-lr` must be greater than `--start-lr`.*"
            r"Received: --start-lr=10, --end-lr=1\.",
        ),
        "output_exists": (
            [*find, "--output", str(model_file.parent)],
            rf"{re.escape(str(existing))} already exists: pass --overwrite",
        ),
        "bad_data_spec": (
            ["find", str(model_file), "--data", "mnist"],
            r"`--data` must look like tfds:NAME\[:SPLIT\].*Received: --data='mnist'\.",
        ),
        "missing_model": (
            ["find", str(model_file.parent / "nope.keras"), "--data", "tfds:digits"],
            r"`MODEL` must be a model file .*nope\.keras does not exist\.",
        ),
        "log_dir_under_file": (
            [*find, "--log-dir", str(model_file / "logs")],
            r"`--log-dir` cannot be created: '.*net\.keras' is a file, not a directory\. "
            r"Received: --log-dir='.*net\.keras/logs'\. Choose a path whose parents are "
            r"directories\.$",
        ),
        "output_under_file": (
            [*find, "--output", str(model_file / "out")],
            r"`--output` cannot be created: '.*net\.keras' is a file, not a directory\. "
            r"Received: --output=.*net\.keras/out\. Choose a path whose parents are "
            r"directories\.$",
        ),
    }


USER_ERRORS = [
    "num_steps_1",
    "num_steps_3",
    "start_lr_nan",
    "start_lr_negative",
    "start_above_end",
    "output_exists",
    "bad_data_spec",
    "missing_model",
    "log_dir_under_file",
    "output_under_file",
]


def error_line(err: str) -> str:
    """The single line the command wrote to stderr (a test fails if there are more)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("keras-lrfind: error: "), err
    return lines[0].removeprefix("keras-lrfind: error: ")


class TestParseDataSpec:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("tfds:mnist", ("mnist", "train")),
            ("tfds:mnist:test", ("mnist", "test")),
            ("tfds:digits:train[:50%]", ("digits", "train[:50%]")),
        ],
    )
    def test_valid(self, spec, expected):
        """`tfds:NAME[:SPLIT]` gives the name and the split (train by default)."""
        assert _arguments.parse_data_spec(spec) == expected

    @pytest.mark.parametrize("spec", ["mnist", "file:x.npz", "tfds:", "tfds::train"])
    def test_invalid(self, spec):
        """Anything else is refused with the expected form."""
        with pytest.raises(_arguments.CommandError, match=r"tfds:NAME|names no dataset"):
            _arguments.parse_data_spec(spec)


class TestArgumentErrors:
    """Every user error: one line on stderr, exit status 2, before anything is loaded."""

    @pytest.mark.parametrize("case", USER_ERRORS)
    def test_user_error_is_one_line_with_status_2(self, case, model_file, capsys):
        """Each user error of issue 12 gives its own message in one line, status 2."""
        (model_file.parent / "net_lr_find.json").touch()  # For output_exists.
        argv, expected = user_errors(model_file)[case]
        assert cli.main(argv) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert re.search(expected, error_line(err)), err

    def test_min_num_steps_leaves_the_default_suggestion_its_points(self):
        """The minimum sweep keeps exactly the points the default suggestion needs."""
        from keras_lrfind import suggestions

        assert _option_types.min_num_steps() == MIN_NUM_STEPS
        needed = suggestions.MIN_POINTS[suggestions.DEFAULT_METHOD]
        assert MIN_NUM_STEPS - MIN_NUM_STEPS // 10 - 5 == needed
        assert (MIN_NUM_STEPS - 1) - (MIN_NUM_STEPS - 1) // 10 - 5 < needed

    @pytest.mark.parametrize(
        ("extra", "expected"),
        [
            (["--num-steps", "x"], r"`--num-steps` must be an integer\. Received: --num-steps=x"),
            (["--end-lr", "inf"], r"`--end-lr` must be a positive, finite learning rate"),
            (["--end-lr", "ten"], r"`--end-lr` must be a number such as 1e-3"),
            (["--batch-size", "0"], r"`--batch-size` must be at least 1\. .*=0\.$"),
            (["--seed", "-1"], r"`--seed` must be at least 0\."),
            (["--output", "FILE"], r"`--output` must be a folder, not a file"),
            (["--data-dir", "FILE"], r"`--data-dir` must be a folder, not a file"),
            (["--log-dir", "FILE"], r"`--log-dir` must be a folder, not a file"),
            (["--log-dir", "FILE/logs"], r"^`--log-dir` cannot be created: .*a_file' is a file"),
            (["--output", "FILE/out"], r"^`--output` cannot be created: .*a_file' is a file"),
            (["--epochs", "3"], r"`--epochs` applies only with `--best`"),
            (["--budget", "0.5"], r"`--budget` applies only with `--best`"),
            (["--validation-data", "tfds:digits"], r"`--validation-data` applies only with"),
            (["--best"], r"`--best` needs `--epochs`"),
            (["--best", "--epochs", "2", "--num-steps", "50"], r"`--num-steps` sets the plain"),
            (["--best", "--epochs", "2", "--start-lr", "1e-5"], r"`--start-lr` sets the plain"),
            (["--best", "--epochs", "0"], r"`--epochs` must be at least 1\."),
            (["--best", "--epochs", "2", "--budget", "0"], r"`--budget` must be in \(0, 10\]"),
            (["--best", "--epochs", "2", "--budget", "50"], r"`--budget` must be in \(0, 10\]"),
            (["--best", "--epochs", "2", "--budget", "nan"], r"`--budget` must be in \(0, 10\]"),
            (
                ["--best", "--epochs", "2", "--validation-data", "digits"],
                r"`--validation-data` must look like tfds:NAME",
            ),
            (["--bogus"], r"unrecognized arguments: --bogus\. See `keras-lrfind --help`\."),
            # The library's own limits on the sweep, named as options.
            (["--num-steps", "100000000"], r"^`--num-steps` must be at most .*=100000000\."),
            (
                ["--start-lr", "1e-300", "--end-lr", "1e300"],
                r"^`--end-lr / --start-lr` must be a finite number.*Raise `--start-lr`",
            ),
        ],
    )
    def test_find_argument_errors(self, extra, expected, model_file, capsys):
        """Bad values and combinations of `find`'s options are refused in one line."""
        a_file = model_file.parent / "a_file"
        a_file.touch()
        extra = [value.replace("FILE", str(a_file)) for value in extra]
        assert cli.main(["find", str(model_file), "--data", "tfds:digits", *extra]) == 2
        assert re.search(expected, error_line(capsys.readouterr().err))

    @pytest.mark.parametrize(
        ("argv", "expected"),
        [
            ([], r"the following arguments are required: COMMAND"),
            (["find"], r"required: model, --data\. See `keras-lrfind find --help`\."),
            (["demo", "--epochs", "0"], r"`--epochs` must be at least 1\."),
            (["demo", "--batch-size", "-3"], r"`--batch-size` must be at least 1\."),
        ],
    )
    def test_other_argument_errors(self, argv, expected, capsys):
        """Missing arguments and bad `demo` options are one line too."""
        assert cli.main(argv) == 2
        assert re.search(expected, error_line(capsys.readouterr().err))

    def test_overwrite_allows_existing_output_files(self, model_file):
        """With `--overwrite`, output files of an earlier run pass the checks."""
        for suffix in ("json", "png"):
            (model_file.parent / f"net_lr_find.{suffix}").touch()
        parser = _arguments.build_parser()
        argv = [
            "find",
            str(model_file),
            "--data",
            "tfds:digits",
            "--output",
            str(model_file.parent),
        ]
        with pytest.raises(
            _arguments.CommandError, match=r"net_lr_find\.json and .*png already exist"
        ):
            _arguments.check_arguments(parser.parse_args(argv))
        args = parser.parse_args([*argv, "--overwrite"])
        _arguments.check_arguments(args)
        assert (args.start_lr, args.end_lr) == (1e-7, 10.0)  # The library's defaults.

    def test_output_file_that_is_a_folder(self, model_file, capsys):
        """With `--overwrite`, an output file that is a folder is refused before any work."""
        (model_file.parent / "net_lr_find.json").mkdir()
        argv = ["find", str(model_file), "--data", "tfds:digits", "--overwrite"]
        assert cli.main([*argv, "--output", str(model_file.parent)]) == 2
        assert re.fullmatch(
            r"`--output` holds .*net_lr_find\.json, which is a directory, and the command writes "
            r"that file\. Received: --output=.*\. Move it away, or choose another `--output` "
            r"folder\.",
            error_line(capsys.readouterr().err),
        )

    def test_demo_output_that_cannot_be_written(self, tmp_path, capsys):
        """`demo --output` under a file, or with a folder where lr_find.png goes: refused."""
        (tmp_path / "a_file").touch()
        assert cli.main(["demo", "--output", str(tmp_path / "a_file" / "out")]) == 2
        assert error_line(capsys.readouterr().err).startswith(
            f"`--output` cannot be created: '{tmp_path / 'a_file'}' is a file, not a directory."
        )
        (tmp_path / "out" / "lr_find.png").mkdir(parents=True)
        assert cli.main(["demo", "--output", str(tmp_path / "out")]) == 2
        assert error_line(capsys.readouterr().err).startswith(
            f"`--output` holds {tmp_path / 'out' / 'lr_find.png'}, which is a directory"
        )

    @pytest.mark.skipif(ROOT, reason="root may write into read-only folders and files")
    def test_read_only_output_and_log_dir(self, model_file, tmp_path, capsys):
        """A read-only `--output` or `--log-dir`, or a read-only output file to replace."""
        locked = tmp_path / "locked"
        locked.mkdir()
        (locked / "net_lr_find.json").touch()  # Replaced in place: the folder's mode is moot.
        (locked / "net_lr_find.png").touch(mode=0o444)
        locked.chmod(0o555)
        find = ["find", str(model_file), "--data", "tfds:digits"]
        cases = {
            "output_folder": (
                ["--output", str(locked / "out")],
                r"`--output` cannot be created in '.*locked', a directory this process cannot "
                r"write to\. Received: --output=.*locked/out\. Choose a directory you can "
                r"write to, or change its permissions\.",
            ),
            "output_file": (
                ["--output", str(locked), "--overwrite"],
                r"`--output` holds .*locked/net_lr_find\.png, which is a read-only file, and the "
                r"command writes that file\.",
            ),
            "log_dir": (
                ["--log-dir", str(locked)],
                r"`--log-dir` is a directory this process cannot write to\. Received: "
                r"--log-dir='.*locked'\.",
            ),
        }
        try:
            for case, (extra, expected) in cases.items():
                assert cli.main([*find, *extra]) == 2, case
                assert re.match(expected, error_line(capsys.readouterr().err)), case
        finally:
            locked.chmod(0o755)

    def test_log_dir_without_tensorboard(self, model_file, monkeypatch, capsys):
        """`--log-dir` without the `tensorboard` package names the extra, before any work."""
        monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` fails.
        argv = ["find", str(model_file), "--data", "tfds:digits", "--log-dir", "logs"]
        assert cli.main(argv) == 2
        assert error_line(capsys.readouterr().err).endswith("pip install keras-lrfind[tensorboard]")

    def test_traceback_flag_raises_instead(self, model_file):
        """`--traceback` shows the error as a Python exception, for bug reports."""
        missing = str(model_file.parent / "nope.keras")
        with pytest.raises(_arguments.CommandError, match=r"nope\.keras does not exist"):
            cli.main(["--traceback", "find", missing, "--data", "tfds:digits"])


class TestOptionsNamed:
    """The library's messages that reach the command's user name its options."""

    def test_code_and_values_are_renamed(self):
        """Names in code spans and before `=` become the options."""
        error = ValueError(
            "`end_lr / start_lr` must be finite. Received: start_lr=1e-300, end_lr=1e+300. "
            "Raise `start_lr`."
        )
        assert str(_errors.options_named(error, _errors.RANGE_TEST_OPTIONS)) == (
            "`--end-lr / --start-lr` must be finite. Received: --start-lr=1e-300, "
            "--end-lr=1e+300. Raise `--start-lr`."
        )

    def test_prose_and_calls_are_left_alone(self):
        """`x` in prose ("0.5 x 20") or in a call (`np.isfinite(x)`) is not `--data`."""
        error = ValueError("`x` gives 0.5 x 20 steps; check `np.isfinite(x).all()`. Received: x=3.")
        assert str(_errors.options_named(error, _errors.BEST_OPTIONS)) == (
            "`--data` gives 0.5 x 20 steps; check `np.isfinite(x).all()`. Received: --data=3."
        )

    def test_phrases_without_an_option(self):
        """A fix naming a value no option gives is reworded (`budget=None`: no --budget)."""
        error = ValueError("Pass `budget=None`, or `validation_data=...`.")
        message = _errors.options_named(error, _errors.BEST_OPTIONS, _errors.BEST_PHRASES)
        assert str(message) == "Pass no `--budget`, or `--validation-data tfds:NAME[:SPLIT]`."


class TestOneLine:
    def test_collapses_whitespace_and_colour(self):
        """A multi-line, coloured Keras message becomes one plain line."""
        error = ValueError("Exception encountered.\n\n\x1b[1mInput 0 is incompatible\x1b[0m\n")
        assert cli.one_line(error) == "Exception encountered. Input 0 is incompatible"

    def test_names_unexpected_types_and_caps_length(self):
        """An unexpected error type is named; a huge message is cut to `MAX_MESSAGE`."""
        assert cli.one_line(ZeroDivisionError("division by zero")) == (
            "ZeroDivisionError: division by zero"
        )
        long = cli.one_line(ValueError("x" * 5000))
        assert len(long) == _errors.MAX_MESSAGE and long.endswith("...")


class TestSubprocess:
    # One user error per stage of `main`: a value the parser refuses, a combination the
    # checks refuse, a file the checks find. TestArgumentErrors runs every user error through
    # the same `main` in-process; each fresh Python here costs a Keras import.
    CASES = ("num_steps_3", "start_above_end", "output_exists", "log_dir_under_file")

    def test_user_errors_in_a_fresh_python(self, tmp_path):
        """`python -m keras_lrfind` with a user error: status 2, one line, no traceback."""
        model_file = tmp_path / "net.keras"
        model_file.touch()
        (tmp_path / "net_lr_find.json").touch()
        cases = {case: user_errors(model_file)[case] for case in self.CASES}
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

        def run(argv):
            return subprocess.run(
                [sys.executable, "-m", "keras_lrfind", *argv],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(cases)) as pool:
            arguments = [argv for argv, _ in cases.values()]
            runs = dict(zip(cases, pool.map(run, arguments), strict=True))
        for case, completed in runs.items():
            output = completed.stdout + completed.stderr
            assert "Traceback" not in output, (case, output)
            assert completed.returncode == 2, (case, output)
            assert completed.stdout == "", (case, output)
            ours = [line for line in completed.stderr.splitlines() if not TF_NATIVE_LOG.match(line)]
            assert len(ours) == 1, (case, completed.stderr)
            assert ours[0].startswith("keras-lrfind: error: "), (case, ours)
            assert re.search(cases[case][1], ours[0]), (case, ours)


class TestFind:
    def test_writes_json_png_and_tensorboard_and_prints_the_suggestion(
        self, tmp_path, data_dir, capsys
    ):
        """`find` on a saved model and the offline digits writes the curve, plot and events."""
        pytest.importorskip("tensorboard")
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.util import tensor_util

        model_path = saved_model(tmp_path / "net.keras")
        before = model_path.read_bytes()
        argv = [
            "find",
            str(model_path),
            "--data",
            "tfds:digits",
            "--data-dir",
            data_dir,
            "--batch-size",
            "32",
            "--num-steps",
            "40",
            "--output",
            str(tmp_path / "out"),
            "--log-dir",
            str(tmp_path / "logs"),
        ]
        status = cli.main(argv)
        assert status == 0
        out = capsys.readouterr().out
        result = LRFinderResult.from_json(tmp_path / "out" / "net_lr_find.json")
        assert result.num_steps == 40 and 1 < result.num_recorded <= 40
        assert (tmp_path / "out" / "net_lr_find.png").read_bytes().startswith(b"\x89PNG")
        suggested = float(out.strip().splitlines()[-1].rpartition(": ")[2])
        assert result.learning_rates[0] / 10 <= suggested <= result.learning_rates[-1]
        assert json.loads((tmp_path / "out" / "net_lr_find.json").read_text())["num_steps"] == 40
        events = EventAccumulator(str(tmp_path / "logs"), size_guidance={"tensors": 0})
        events.Reload()
        recorded = [
            float(tensor_util.make_ndarray(event.tensor_proto))
            for event in events.Tensors("lr_find/learning_rate")
        ]
        assert recorded == pytest.approx(list(result.learning_rates), rel=1e-6)
        assert model_path.read_bytes() == before  # The model file is never written.
        # A second run into the same folder needs --overwrite.
        assert cli.main(argv) == 2
        assert "already exist: pass --overwrite" in capsys.readouterr().err

    def test_best_prints_the_max_lr_of_find_best_learning_rate(self, tmp_path, data_dir, capsys):
        """`find --best` runs the probes on a split of --data and prints their max_lr."""
        model_path = saved_model(tmp_path / "net.keras")
        before = model_path.read_bytes()
        status = cli.main(
            [
                "find",
                str(model_path),
                "--data",
                "tfds:digits",
                "--data-dir",
                data_dir,
                "--best",
                "--epochs",
                "2",
                "--batch-size",
                "32",
                "--output",
                str(tmp_path),
            ]
        )
        assert status == 0
        lines = capsys.readouterr().out.strip().splitlines()
        label, _, value = lines[-1].rpartition(": ")
        assert label == "Best max_lr for a 2-epoch one-cycle training"
        assert lines[-3].startswith("Validation: ") and "training" in lines[-3]  # Of --data.
        range_test = LRFinderResult.from_json(tmp_path / "net_lr_find.json")
        assert range_test.learning_rates[0] < float(value) < range_test.learning_rates[-1]
        assert (tmp_path / "net_lr_find.png").read_bytes().startswith(b"\x89PNG")
        assert model_path.read_bytes() == before

    def test_one_hot_labels_and_resized_rgb_input(self, tmp_path, data_dir):
        """A model with categorical loss and 12x12x3 input gets one-hot labels and resized RGB."""
        model_path = saved_model(
            tmp_path / "rgb.keras", loss="categorical_crossentropy", shape=(12, 12, 3)
        )
        status = cli.main(
            [
                "find",
                str(model_path),
                "--data",
                "tfds:digits:test",
                "--data-dir",
                data_dir,
                "--num-steps",
                "20",
                "--output",
                str(tmp_path),
            ]
        )
        assert status == 0
        result = LRFinderResult.from_json(tmp_path / "rgb_lr_find.json")
        assert result.num_recorded >= 2

    def test_uncompiled_model(self, tmp_path, data_dir, capsys):
        """An uncompiled model exits with status 2 and says how to fix it."""
        model_path = saved_model(tmp_path / "raw.keras", compile=False)
        status = cli.main(
            ["find", str(model_path), "--data", "tfds:digits", "--data-dir", data_dir]
        )
        assert status == 2
        assert "is not compiled: call model.compile(" in error_line(capsys.readouterr().err)

    @pytest.mark.parametrize("content", ["empty", "text", "cut short"])
    def test_file_that_is_not_a_model(self, tmp_path, data_dir, capsys, content):
        """A .keras file that is not a zip archive is named as not a Keras model file (Keras
        said "File not found" for a file that exists), one line, status 2."""
        path = tmp_path / "net.keras"
        if content == "text":
            path.write_text("not a model")
        elif content == "cut short":
            path.write_bytes(saved_model(tmp_path / "whole.keras").read_bytes()[:200])
        else:
            path.touch()
        status = cli.main(["find", str(path), "--data", "tfds:digits", "--data-dir", data_dir])
        assert status == 2
        assert error_line(capsys.readouterr().err) == (
            f"{path} is not a valid Keras model file: a .keras file is a zip archive, and this "
            "one is not (empty, cut short, or another format). Save the model again with "
            "model.save('NAME.keras')."
        )

    def test_best_fails_before_training_when_output_cannot_be_written(
        self, tmp_path, data_dir, capsys
    ):
        """`find --best` with an output file that cannot be replaced stops before any work
        (the whole search ran, then `[Errno 21]`, and the answer was never printed)."""
        model_path = saved_model(tmp_path / "net.keras")
        (tmp_path / "net_lr_find.png").mkdir()
        argv = ["find", str(model_path), "--data", "tfds:digits", "--data-dir", data_dir]
        status = cli.main(
            [*argv, "--best", "--epochs", "1", "--overwrite", "--output", str(tmp_path)]
        )
        assert status == 2
        out, err = capsys.readouterr()
        assert out == ""  # No progress line: nothing trained.
        assert error_line(err).startswith(f"`--output` holds {tmp_path / 'net_lr_find.png'}")

    def test_unknown_dataset_before_the_model(self, model_file, capsys):
        """An unknown TFDS dataset is named, before the (unreadable) model is opened."""
        status = cli.main(["find", str(model_file), "--data", "tfds:no_such_dataset_xyz"])
        assert status == 2
        assert error_line(capsys.readouterr().err).startswith(
            "Unknown dataset `--data`='no_such_dataset_xyz'."
        )

    def test_dataset_not_prepared_names_the_options(self, model_file, tmp_path, capsys):
        """A TFDS dataset not prepared in `--data-dir`: the fix names options, not `download=`
        or `data_dir=` (arguments of `keras_lrfind.datasets` the command does not have)."""
        status = cli.main(
            ["find", str(model_file), "--data", "tfds:mnist", "--data-dir", str(tmp_path)]
        )
        assert status == 2
        line = error_line(capsys.readouterr().err)
        assert line.startswith("Dataset 'mnist' is not prepared in ")
        assert line.endswith(
            "Run `tfds build mnist --data_dir=DIR` and pass `--data-dir DIR`, or use the "
            "offline dataset `--data tfds:digits`."
        )
        assert "download" not in line and "data_dir=DIR`" not in line.replace("--data_dir", "")

    def test_best_budget_too_small_names_the_options(self, tmp_path, data_dir, capsys):
        """find_best_learning_rate's refusal of a small budget names `--budget` and
        `--epochs`, before any training."""
        model_path = saved_model(tmp_path / "net.keras")
        argv = ["find", str(model_path), "--data", "tfds:digits", "--data-dir", data_dir]
        status = cli.main(
            [*argv, "--best", "--epochs", "3", "--budget", "0.05", "--output", str(tmp_path)]
        )
        assert status == 2
        out, err = capsys.readouterr()
        line = error_line(err)
        assert out == ""
        assert line.startswith("`--budget` is too small for this training: 0.05 x 69 training")
        assert "Received: --budget=0.05. Pass no `--budget` (" in line
        assert line.endswith("or more `--epochs`.")
        assert not re.search(r"`budget|`epochs|(?<!-)budget=", line)

    def test_best_data_too_small_to_hold_out_a_tenth(self, tmp_path, data_dir, capsys):
        """Without `--validation-data`, `--data` too small for a held-out tenth is named with
        the options that fix it (the library's message named `validation_split`)."""
        model_path = saved_model(tmp_path / "net.keras")
        argv = ["find", str(model_path), "--data", "tfds:digits:train[:40]"]
        status = cli.main(
            [*argv, "--data-dir", data_dir, "--best", "--epochs", "1", "--batch-size", "32"]
        )
        assert status == 2
        assert error_line(capsys.readouterr().err) == (
            "`--data` is too small for `--best` to hold out a tenth of it to judge the probes: "
            "its 2 batches of 32 leave no validation batch. Received: "
            "--data=tfds:digits:train[:40]. Pass `--validation-data tfds:NAME[:SPLIT]`, more "
            "data in `--data`, or a smaller `--batch-size`."
        )

    def test_library_error_during_the_run_is_one_line(self, tmp_path, data_dir, capsys):
        """A model that does not fit the data fails inside Keras: one line, status 2."""
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(10, "softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.save(tmp_path / "flat.keras")
        argv = ["find", str(tmp_path / "flat.keras"), "--data", "tfds:digits"]
        status = cli.main([*argv, "--data-dir", data_dir, "--output", str(tmp_path)])
        assert status == 2
        assert error_line(capsys.readouterr().err)
        assert not (tmp_path / "flat_lr_find.json").exists()


@keras.saving.register_keras_serializable(package="test_cli")
class Interrupting(keras.layers.Layer):
    """A layer whose forward pass is a Ctrl-C: the first training step never finishes."""

    def call(self, inputs):
        raise KeyboardInterrupt

    def compute_output_shape(self, input_shape):
        return input_shape


class TestInterrupt:
    def test_ctrl_c_is_one_line_with_status_130(self, tmp_path, data_dir, capsys):
        """Ctrl-C during the range test: one line, status 130, no files, model file intact."""
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((8, 8, 1)), Interrupting(), keras.layers.Flatten(), keras.layers.Dense(10)]
        )
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.save(tmp_path / "stop.keras")
        before = (tmp_path / "stop.keras").read_bytes()
        argv = ["find", str(tmp_path / "stop.keras"), "--data", "tfds:digits"]
        status = cli.main([*argv, "--data-dir", data_dir, "--output", str(tmp_path)])
        assert status == 130
        assert error_line(capsys.readouterr().err) == "interrupted; the model file was not changed"
        assert (tmp_path / "stop.keras").read_bytes() == before
        assert not (tmp_path / "stop_lr_find.json").exists()


class TestDemo:
    def test_help(self, capsys):
        """`demo --help` describes the demo and its options."""
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["demo", "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        for option in ("--dataset", "--epochs", "--batch-size", "--output"):
            assert option in out

    def test_runs_offline_and_writes_the_plot(self, tmp_path, data_dir, capsys):
        """One short demo run prints suggestions and both accuracies and writes the files."""
        status = cli.main(
            ["demo", "--epochs", "1", "--output", str(tmp_path), "--data-dir", data_dir]
        )
        assert status == 0
        out = capsys.readouterr().out
        assert "<- default" in out
        assert out.count("%  ") == 2  # Two accuracy rows.
        assert (tmp_path / "lr_find.png").read_bytes().startswith(b"\x89PNG")
        LRFinderResult.from_json(tmp_path / "lr_find.json")
