"""The command's errors: `CommandError`, the errors a user sees as one line, and the
library's messages in the command's words (`options_named`).

The library names its arguments (`num_steps`, `budget=None`); the command's user typed
options (`--num-steps`, no `--budget`). `options_named` rewrites a library error with the
option names and fixes of the command it came through.
"""

from __future__ import annotations

import re

PROG = "keras-lrfind"

TRACEBACK_HINT = f"rerun as `{PROG} --traceback ...` to see where"

# Errors whose message is meant for the user: ours, the library's argument checks, files.
USER_ERRORS = (TypeError, ValueError, RuntimeError, OSError, ImportError)

# One line at most this long: a Keras error can quote whole tensors.
MAX_MESSAGE = 800


class CommandError(Exception):
    """A problem with the command's input, reported as `keras-lrfind: error: ...`."""


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
