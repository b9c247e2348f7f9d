"""The arguments of the `keras-lrfind` command: its parser, and the checks of how they go
together.

Every argument is checked before anything heavy is loaded (no dataset, no model, no
training), so a typo costs a second, not a range test; a bad one is a `CommandError` whose
message names the flag. Each value is checked as it is parsed (`_option_types`); the
files, folders and combinations of options here, in `check_arguments`.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from keras_lrfind import _checks
from keras_lrfind.cli._errors import PROG, RANGE_TEST_OPTIONS, CommandError, options_named
from keras_lrfind.cli._option_types import (
    budget,
    int_at_least,
    learning_rate,
    min_num_steps,
    num_steps_why,
    received,
)

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
        "--epochs", type=int_at_least("--epochs", 1), default=5, help="training epochs (5)"
    )
    demo.add_argument(
        "--batch-size", type=int_at_least("--batch-size", 1), default=32, help="batch size (32)"
    )
    demo.add_argument("--output", type=Path, default=Path("out"), help="output folder (out)")
    demo.add_argument("--seed", type=int_at_least("--seed", 0), default=0, help="random seed (0)")
    demo.add_argument("--data-dir", type=Path, default=None, help="TFDS data directory")

    find = commands.add_parser("find", help="range-test a saved model", description=FIND_HELP)
    find.add_argument("model", type=Path, help="a compiled model saved as .keras")
    find.add_argument(
        "--data",
        required=True,
        help="tfds:NAME[:SPLIT], e.g. tfds:mnist:train or tfds:digits (split: train)",
    )
    find.add_argument(
        "--batch-size", type=int_at_least("--batch-size", 1), default=64, help="batch size (64)"
    )
    find.add_argument(
        "--num-steps",
        type=int_at_least("--num-steps", min_num_steps(), num_steps_why()),
        default=None,
        help=f"sweep length, at least {min_num_steps()} (one epoch, 100 to 1000)",
    )
    find.add_argument(
        "--start-lr",
        type=learning_rate("--start-lr"),
        default=None,
        help="first learning rate (1e-7)",
    )
    find.add_argument(
        "--end-lr", type=learning_rate("--end-lr"), default=None, help="last learning rate (10)"
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
    find.add_argument("--seed", type=int_at_least("--seed", 0), default=0, help="shuffle seed (0)")
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
        type=int_at_least("--epochs", 1),
        default=None,
        help="the epochs of the training the max_lr is for (required with --best)",
    )
    best.add_argument(
        "--budget",
        type=budget,
        default=None,
        help="the steps the search may spend, in trainings, in (0, 10] (0.5: half a training) "
        "(default: half a training, or more on short trainings: a range test and 4 probes, "
        "or 11 probes of 32 steps; up to 2 trainings under 1000 steps once probes learned "
        "nothing)",
    )
    best.add_argument(
        "--validation-data",
        default=None,
        metavar="SPEC",
        help="tfds:NAME[:SPLIT] to judge the probes on, never your test split "
        "(default: a tenth of --data, which the probes never train on)",
    )
    return parser


# -- Arguments, checked together before anything runs ------------------------------------------


def parse_data_spec(spec: str, flag: str = "--data") -> tuple[str, str]:
    """Splits `tfds:NAME[:SPLIT]` into `(NAME, SPLIT)`; the split defaults to `train`."""
    prefix, _, rest = spec.partition(":")
    if prefix != "tfds" or not rest:
        raise CommandError(
            f"`{flag}` must look like tfds:NAME[:SPLIT], e.g. tfds:mnist:train or tfds:digits. "
            f"{received(flag, repr(spec))}"
        )
    name, _, split = rest.partition(":")
    if not name:
        raise CommandError(f"`{flag}` names no dataset. {received(flag, repr(spec))}")
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
        raise CommandError(f"`{flag}` must be a folder, not a file. {received(flag, path)}")


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
                    f"file. {received('--output', args.output)} Move it away, or choose "
                    "another `--output` folder."
                )
        elif folder_problem is not None:
            raise CommandError(
                f"`--output` {folder_problem[0]}. {received('--output', args.output)} "
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
                    f"`--budget`. Drop {flag}, or drop --best. {received(flag, value)}"
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
                    f"{received(flag, value)}"
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
