"""The `type` of each option of `keras-lrfind`: its value checked as argparse parses it.

A bad value is a `CommandError` whose message names the option, echoes the value and says
what was expected.
"""

from __future__ import annotations

import math

from keras_lrfind.cli._errors import CommandError


def received(flag: str, text) -> str:
    """The end of an error message about `flag`: the text the user gave."""
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


def num_steps_why() -> str:
    """Why `--num-steps` has its minimum, for the error message."""
    from keras_lrfind import suggestions
    from keras_lrfind.range_test._sweep import MIN_STEPS
    from keras_lrfind.suggestions._result_curve import SKIP_END

    return (
        f"the suggestion drops the first tenth and the last {SKIP_END} points of the "
        f"curve and needs {suggestions.MIN_POINTS[suggestions.DEFAULT_METHOD]} points left; "
        f"{MIN_STEPS} or more give reliable suggestions"
    )


def int_at_least(flag: str, minimum: int, why: str = ""):
    """An argparse `type` for an integer `>= minimum`; errors name `flag`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise CommandError(f"`{flag}` must be an integer. {received(flag, text)}") from None
        if value < minimum:
            reason = f": {why}" if why else ""
            raise CommandError(
                f"`{flag}` must be at least {minimum}{reason}. {received(flag, text)}"
            )
        return value

    return parse


def number(flag: str, text: str) -> float:
    """`text` as a float; errors name `flag`."""
    try:
        return float(text)
    except ValueError:
        raise CommandError(
            f"`{flag}` must be a number such as 1e-3. {received(flag, text)}"
        ) from None


def learning_rate(flag: str):
    """An argparse `type` for a positive, finite learning rate."""

    def parse(text: str) -> float:
        value = number(flag, text)
        if not (math.isfinite(value) and value > 0):
            raise CommandError(
                f"`{flag}` must be a positive, finite learning rate such as 1e-7. "
                f"{received(flag, text)}"
            )
        return value

    return parse


def budget(text: str) -> float:
    """The argparse `type` of `--budget`: trainings' steps in (0, 10]."""
    from keras_lrfind.search._checks import MAX_BUDGET

    value = number("--budget", text)
    if not 0 < value <= MAX_BUDGET:  # NaN fails too.
        raise CommandError(
            f"`--budget` must be in (0, {MAX_BUDGET:g}]: the search's steps, in trainings (0.5 "
            f"is half a training's steps, 2 two trainings'). {received('--budget', text)}"
        )
    return value
