"""The arguments of the `keras-lrfind` command and their checks.

Every argument is checked before anything heavy is loaded (no dataset, no model, no
training), so a typo costs a second, not a range test; a bad one is a `CommandError` whose
message names the flag.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
from pathlib import Path

from keras_lrfind import _checks

PROG = "keras-lrfind"

DEMO_HELP = """\
Runs the LR range test on a real vision dataset (offline by default: scikit-learn's digits
through TensorFlow Datasets), prints the suggestions, writes the plot and the curve, then
trains a small CNN with a one-cycle schedule built from the suggestion and, side by side,
with Keras's default Adam learning rate, and prints both test accuracies. The files in
--output (lr_find.json, lr_find.png) are replaced on every run."""

FIND_HELP = """\
Runs the LR range test on a saved, compiled Keras model (.keras) and a TFDS dataset, saves
the curve (JSON) and its plot (PNG), and prints the suggested learning rate. With --best it
runs keras_lrfind.find_best_learning_rate instead (a short range test, then probe trainings
of candidate peaks judged on validation data) and prints the max_lr of a one-cycle training
of --epochs epochs. Images are scaled to [0, 1] and resized to the model's input; labels are
one-hot encoded when the model's loss expects it. The model file is never changed."""

TRACEBACK_HINT = f"rerun as `{PROG} --traceback ...` to see where"

# Errors whose message is meant for the user: ours, the library's argument checks, files.
USER_ERRORS = (TypeError, ValueError, RuntimeError, OSError, ImportError)

# One line at most this long: a Keras error can quote whole tensors.
MAX_MESSAGE = 800


class CommandError(Exception):
    """A problem with the command's input, reported as `keras-lrfind: error: ...`."""


class _Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are a `CommandError` (one line), not usage + exit."""

    def error(self, message):
        raise CommandError(f"{message}. See `{self.prog} --help`.")


def build_parser() -> argparse.ArgumentParser:
    """The parser of `keras-lrfind` and its `demo` and `find` commands."""
    parser = _Parser(prog=PROG, description="The learning-rate range test (lr_find) for Keras 3.")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an error, show the full traceback instead of one line (for bug reports)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the demo", description=DEMO_HELP)
    demo.add_argument(
        "--dataset",
        default="digits",
        help="'digits' (offline, default) or a TFDS image dataset name available locally, "
        "e.g. mnist",
    )
    demo.add_argument(
        "--epochs", type=_int_at_least("--epochs", 1), default=5, help="training epochs (5)"
    )
    demo.add_argument(
        "--batch-size", type=_int_at_least("--batch-size", 1), default=32, help="batch size (32)"
    )
    demo.add_argument("--output", type=Path, default=Path("out"), help="output folder (out)")
    demo.add_argument("--seed", type=_int_at_least("--seed", 0), default=0, help="random seed (0)")
    demo.add_argument("--data-dir", type=Path, default=None, help="TFDS data directory")

    find = commands.add_parser("find", help="range-test a saved model", description=FIND_HELP)
    find.add_argument("model", type=Path, help="a compiled model saved as .keras")
    find.add_argument(
        "--data",
        required=True,
        help="tfds:NAME[:SPLIT], e.g. tfds:mnist:train or tfds:digits (split: train)",
    )
    find.add_argument(
        "--batch-size", type=_int_at_least("--batch-size", 1), default=64, help="batch size (64)"
    )
    find.add_argument(
        "--num-steps",
        type=_int_at_least("--num-steps", min_num_steps(), _num_steps_why()),
        default=None,
        help=f"sweep length, at least {min_num_steps()} (one epoch, 100 to 1000)",
    )
    find.add_argument(
        "--start-lr",
        type=_learning_rate("--start-lr"),
        default=None,
        help="first learning rate (1e-7)",
    )
    find.add_argument(
        "--end-lr", type=_learning_rate("--end-lr"), default=None, help="last learning rate (10)"
    )
    find.add_argument(
        "--output",
        type=Path,
        default=Path("."),
        help="output folder (.): MODEL_lr_find.json and MODEL_lr_find.png are written there",
    )
    find.add_argument(
        "--overwrite", action="store_true", help="replace the output files of an earlier run"
    )
    find.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="also write the range test to TensorBoard in this folder "
        "(needs pip install keras-lrfind[tensorboard])",
    )
    find.add_argument("--data-dir", type=Path, default=None, help="TFDS data directory")
    find.add_argument("--seed", type=_int_at_least("--seed", 0), default=0, help="shuffle seed (0)")
    best = find.add_argument_group(
        "--best: the peak learning rate of a one-cycle training, from probe trainings"
    )
    best.add_argument(
        "--best",
        action="store_true",
        help="run find_best_learning_rate and print the max_lr of a one-cycle training",
    )
    best.add_argument(
        "--epochs",
        type=_int_at_least("--epochs", 1),
        default=None,
        help="the epochs of the training the max_lr is for (required with --best)",
    )
    best.add_argument(
        "--budget",
        type=_budget,
        default=None,
        help="the fraction of that training's steps the search may spend, in (0, 1] "
        "(default: half a training, or a range test and 4 probes on short trainings)",
    )
    best.add_argument(
        "--validation-data",
        default=None,
        metavar="SPEC",
        help="tfds:NAME[:SPLIT] to judge the probes on, never your test split "
        "(default: a tenth of --data, which the probes never train on)",
    )
    return parser


# -- Values, checked as they are parsed ---------------------------------------------------------


def _received(flag: str, text) -> str:
    return f"Received: {flag}={text}."


def min_num_steps() -> int:
    """The shortest sweep whose curve the default suggestion can read.

    `result.suggest()` first drops `num_steps // 10` points at the start and `SKIP_END` at
    the end, then needs `MIN_POINTS` of its default method.
    """
    from keras_lrfind import suggestions
    from keras_lrfind.suggestions._result_curve import SKIP_END

    needed = suggestions.MIN_POINTS[suggestions.DEFAULT_METHOD]
    num_steps = 2
    while num_steps - num_steps // 10 - SKIP_END < needed:
        num_steps += 1
    return num_steps


def _num_steps_why() -> str:
    from keras_lrfind import suggestions
    from keras_lrfind.range_test._sweep import MIN_STEPS
    from keras_lrfind.suggestions._result_curve import SKIP_END

    return (
        f"the suggestion drops the first tenth and the last {SKIP_END} points of the "
        f"curve and needs {suggestions.MIN_POINTS[suggestions.DEFAULT_METHOD]} points left; "
        f"{MIN_STEPS} or more give reliable suggestions"
    )


def _int_at_least(flag: str, minimum: int, why: str = ""):
    """An argparse `type` for an integer `>= minimum`; errors name `flag`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise CommandError(f"`{flag}` must be an integer. {_received(flag, text)}") from None
        if value < minimum:
            reason = f": {why}" if why else ""
            raise CommandError(
                f"`{flag}` must be at least {minimum}{reason}. {_received(flag, text)}"
            )
        return value

    return parse


def _number(flag: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CommandError(
            f"`{flag}` must be a number such as 1e-3. {_received(flag, text)}"
        ) from None


def _learning_rate(flag: str):
    """An argparse `type` for a positive, finite learning rate."""

    def parse(text: str) -> float:
        value = _number(flag, text)
        if not (math.isfinite(value) and value > 0):
            raise CommandError(
                f"`{flag}` must be a positive, finite learning rate such as 1e-7. "
                f"{_received(flag, text)}"
            )
        return value

    return parse


def _budget(text: str) -> float:
    value = _number("--budget", text)
    if not 0 < value <= 1:  # NaN fails too.
        raise CommandError(
            "`--budget` must be in (0, 1]: the fraction of one training's steps the search may "
            f"spend. {_received('--budget', text)}"
        )
    return value


# -- Arguments, checked together before anything runs ------------------------------------------


def parse_data_spec(spec: str, flag: str = "--data") -> tuple[str, str]:
    """Splits `tfds:NAME[:SPLIT]` into `(NAME, SPLIT)`; the split defaults to `train`."""
    prefix, _, rest = spec.partition(":")
    if prefix != "tfds" or not rest:
        raise CommandError(
            f"`{flag}` must look like tfds:NAME[:SPLIT], e.g. tfds:mnist:train or tfds:digits. "
            f"{_received(flag, repr(spec))}"
        )
    name, _, split = rest.partition(":")
    if not name:
        raise CommandError(f"`{flag}` names no dataset. {_received(flag, repr(spec))}")
    return name, split or "train"


def output_files(args) -> list[Path]:
    """The files the command writes into `--output`: the curve (JSON), then its plot (PNG)."""
    stem = f"{args.model.stem}_lr_find" if args.command == "find" else "lr_find"
    return [args.output / f"{stem}.json", args.output / f"{stem}.png"]


def check_arguments(args) -> None:
    """Checks what the parser cannot: files, folders and how the arguments go together.

    Nothing is loaded: a mistake is reported before the dataset, the model or TensorFlow's
    work is touched.

    Raises:
        CommandError: For the first problem found.
    """
    _check_folder("--output", args.output)
    if args.data_dir is not None:
        _check_folder("--data-dir", args.data_dir)
    if args.command == "find":
        _check_find_arguments(args)
    _check_output_writable(args)


def _check_folder(flag: str, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise CommandError(f"`{flag}` must be a folder, not a file. {_received(flag, path)}")


def _check_output_writable(args) -> None:
    """`--output` can be created and its files written (or replaced), before any training.

    A file that exists is replaced in place, which needs its own permission only; a new one
    needs the folder's.
    """
    folder_problem = _checks.directory_problem(args.output)
    for path in output_files(args):
        if path.exists():
            problem = _checks.file_problem(path)
            if problem is not None:
                raise CommandError(
                    f"`--output` holds {path}, which {problem[0]}, and the command writes that "
                    f"file. {_received('--output', args.output)} Move it away, or choose "
                    "another `--output` folder."
                )
        elif folder_problem is not None:
            raise CommandError(
                f"`--output` {folder_problem[0]}. {_received('--output', args.output)} "
                f"{folder_problem[1]}"
            )


def _check_find_arguments(args) -> None:
    parse_data_spec(args.data)
    if args.best:
        if args.epochs is None:
            raise CommandError(
                "`--best` needs `--epochs`: the epochs of the one-cycle training the learning "
                "rate is for, e.g. --best --epochs 5."
            )
        for flag, value in (
            ("--num-steps", args.num_steps),
            ("--start-lr", args.start_lr),
            ("--end-lr", args.end_lr),
        ):
            if value is not None:
                raise CommandError(
                    f"`{flag}` sets the plain range test; `--best` plans its own within "
                    f"`--budget`. Drop {flag}, or drop --best. {_received(flag, value)}"
                )
        if args.validation_data is not None:
            parse_data_spec(args.validation_data, "--validation-data")
    else:
        for flag, value in (
            ("--epochs", args.epochs),
            ("--budget", args.budget),
            ("--validation-data", args.validation_data),
        ):
            if value is not None:
                raise CommandError(
                    f"`{flag}` applies only with `--best`. Add --best, or drop {flag}. "
                    f"{_received(flag, value)}"
                )
        _check_sweep(args)
    if not args.model.is_file():
        where = "is a folder" if args.model.is_dir() else "does not exist"
        raise CommandError(
            f"`MODEL` must be a model file saved with model.save('NAME.keras'); {args.model} "
            f"{where}."
        )
    existing = [path for path in output_files(args) if path.exists()]
    if existing and not args.overwrite:
        names = " and ".join(str(path) for path in existing)
        raise CommandError(
            f"{names} already exist{'s' if len(existing) == 1 else ''}: pass --overwrite to "
            "replace them, or choose another --output folder."
        )
    if args.log_dir is not None:
        _check_folder("--log-dir", args.log_dir)
        if importlib.util.find_spec("tensorboard") is None:
            raise CommandError(
                "`--log-dir` needs the `tensorboard` package, which TensorFlow does not "
                "install: pip install keras-lrfind[tensorboard]"
            )
        from keras_lrfind.outputs import tensorboard

        try:
            tensorboard.checked_log_dir(str(args.log_dir))
        except (TypeError, ValueError) as error:
            raise options_named(error, {"log_dir": "--log-dir"}) from None


def _check_sweep(args) -> None:
    """Fills in the sweep's defaults and checks them with the library's own rules."""
    from keras_lrfind.range_test._sweep import Sweep

    defaults = Sweep()
    args.start_lr = defaults.start_lr if args.start_lr is None else args.start_lr
    args.end_lr = defaults.end_lr if args.end_lr is None else args.end_lr
    if args.end_lr <= args.start_lr:
        raise CommandError(
            "`--end-lr` must be greater than `--start-lr`: the test sweeps the learning rate "
            f"upwards. Received: --start-lr={args.start_lr:g}, --end-lr={args.end_lr:g}."
        )
    # Any further rule of the library's sweep (a limit on num_steps, on end_lr / start_lr),
    # in its own words with the options' names.
    try:
        Sweep(start_lr=args.start_lr, end_lr=args.end_lr, num_steps=args.num_steps)
    except (TypeError, ValueError) as error:
        raise options_named(error, RANGE_TEST_OPTIONS) from None


# -- The library's messages, in the command's words ----------------------------------------------

# The arguments the commands pass from an option, by the names the library's messages use.
RANGE_TEST_OPTIONS = {
    "x": "--data",
    "num_steps": "--num-steps",
    "start_lr": "--start-lr",
    "end_lr": "--end-lr",
    "batch_size": "--batch-size",
}
BEST_OPTIONS = {
    "x": "--data",
    "epochs": "--epochs",
    "budget": "--budget",
    "validation_data": "--validation-data",
    "batch_size": "--batch-size",
    "seed": "--seed",
}
# Fixes in find_best_learning_rate's messages that name a value no option gives.
BEST_PHRASES = {
    "`budget=None`": "no `--budget`",
    "`validation_data=...`": "`--validation-data tfds:NAME[:SPLIT]`",
}


def data_options(flag: str) -> tuple[dict[str, str], dict[str, str]]:
    """`(options, phrases)` for the messages of `keras_lrfind.datasets` about the dataset
    named by `flag` (`--data`, `--validation-data`, or `demo`'s `--dataset`)."""
    options = {"name": flag, "split": flag, "data_dir": "--data-dir", "batch_size": "--batch-size"}
    digits = "--dataset digits" if flag == "--dataset" else f"{flag} tfds:digits"
    phrases = {
        # The command never downloads: a dataset is prepared with `tfds build` first.
        " and `download=False`": "",
        "Pass `download=True` on a machine with network access, run": "Run",
        "pass `data_dir=DIR`": "pass `--data-dir DIR`",
        "`name='digits'`": f"`{digits}`",
    }
    return options, phrases


def options_named(
    error: BaseException, options: dict[str, str], phrases: dict[str, str] | None = None
) -> CommandError:
    """`error` as a `CommandError` whose message names the command's options where the
    library named its arguments.

    `options` maps an argument to its option; the argument is renamed where it is code (in
    backticks: `` `num_steps` ``, `` `end_lr / start_lr` ``) and where a value is shown
    (`num_steps=3`), not in prose ("0.5 x 20 steps"). `phrases` are replaced first, word for
    word: the fixes that name a value no option gives (`` `budget=None` ``).
    """
    message = str(error)
    for phrase, replacement in (phrases or {}).items():
        message = message.replace(phrase, replacement)

    def in_code(code: re.Match) -> str:
        text = code[0]
        for name, option in options.items():
            text = re.sub(rf"(?<![\w.(-]){name}(?![\w(-])", option, text)
        return text

    message = re.sub(r"`[^`]*`", in_code, message)
    for name, option in options.items():
        message = re.sub(rf"(?<![\w.`-]){name}=", f"{option}=", message)
    return CommandError(message)
