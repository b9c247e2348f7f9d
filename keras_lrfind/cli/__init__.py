"""The `keras-lrfind` command: `main`, and its one-line errors.

The arguments and their checks live in `_arguments` (each option's value in
`_option_types`), the errors and the library's messages in the command's words in
`_errors`, the commands themselves (`demo`, `find`) in `_commands`. Every error, the
user's or the library's, is one line on stderr, `keras-lrfind: error: ...`, with exit
status 2; nothing prints a traceback unless `--traceback` asks for it.
"""

from __future__ import annotations

import os
import re
import sys

from keras_lrfind.cli._arguments import build_parser, check_arguments
from keras_lrfind.cli._errors import MAX_MESSAGE, PROG, TRACEBACK_HINT, USER_ERRORS, CommandError

__all__ = ["main"]


# -- Running, and reporting errors in one line --------------------------------------------------


def one_line(error: BaseException) -> str:
    """The error's message on one line: ANSI colours dropped, whitespace collapsed, capped."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    message = " ".join(message.split())
    if not isinstance(error, (CommandError, *USER_ERRORS)) or not message:
        message = f"{type(error).__name__}: {message}" if message else type(error).__name__
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return message


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status.

    0 on success; 2 for any error of the input or the library (one line on stderr);
    1 for an unexpected error (one line, and `--traceback` shows where); 130 on Ctrl-C.
    """
    args = None
    try:
        args = build_parser().parse_args(argv)
        check_arguments(args)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from keras_lrfind.cli import _commands

        if args.command == "demo":
            _commands.run_demo(args)
        else:
            _commands.run_find(args)
    except KeyboardInterrupt:
        if args is not None and args.traceback:
            raise
        _print_error("interrupted; the model file was not changed")
        return 130
    except (CommandError, *USER_ERRORS) as error:
        if args is not None and args.traceback:
            raise
        _print_error(one_line(error))
        return 2
    except Exception as error:
        if args is not None and args.traceback:
            raise
        _print_error(f"{one_line(error)} ({TRACEBACK_HINT})")
        return 1
    return 0


def _print_error(message: str) -> None:
    sys.stdout.flush()  # So that the error comes after what the command printed.
    print(f"{PROG}: error: {message}", file=sys.stderr)
