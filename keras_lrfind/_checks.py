"""The argument checks every public entry point uses: one place, one message shape.

Each check raises `TypeError` for a value of the wrong type and `ValueError` for a
value of the right type that is out of range, with the message shape of CONTRIBUTING.md,
"`name` must be EXPECTED. Received: name=VALUE." followed by the fix when one is
given, and returns the value converted to the plain Python type the caller stores
(`float`, `int`, `bool`, a float64 array). Bools are never numbers here, and NaN
or infinity never passes where a finite number is needed.

Example:

>>> positive_float("max_lr", 0.1)
0.1
>>> positive_float("max_lr", "0.1")
Traceback (most recent call last):
...
TypeError: `max_lr` must be a Python number. Received: max_lr='0.1' of type str.
>>> integer("total_steps", 1, minimum=2)
Traceback (most recent call last):
...
ValueError: `total_steps` must be at least 2. Received: total_steps=1.
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import reprlib
import warnings
from collections.abc import Collection
from numbers import Integral, Real

import numpy as np

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60


def shown(value) -> str:
    """`repr(value)`, shortened for long strings, arrays and containers."""
    return _REPR.repr(value)


def _with_fix(message: str, fix: str) -> str:
    return f"{message} {fix}" if fix else message


def type_error(name: str, value, expected: str, fix: str = "") -> TypeError:
    """A `TypeError` saying what `name` must be, with its value and type."""
    return TypeError(
        _with_fix(
            f"`{name}` must be {expected}. "
            f"Received: {name}={shown(value)} of type {type(value).__name__}.",
            fix,
        )
    )


def value_error(name: str, value, expected: str, fix: str = "") -> ValueError:
    """A `ValueError` saying what `name` must be, with its value (already formatted or not)."""
    return ValueError(_with_fix(f"`{name}` must be {expected}. Received: {name}={value}.", fix))


# --- Predicates ---------------------------------------------------------------------------------


def is_number(value) -> bool:
    """Whether `value` is a real number (NumPy's included) and not a bool."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def is_integer(value) -> bool:
    """Whether `value` is an integer (NumPy's included) and not a bool."""
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


# --- Types --------------------------------------------------------------------------------------


def check_type(name: str, value, types, expected: str, fix: str = ""):
    """Returns `value` if it is an instance of `types`, else raises a `TypeError`."""
    if not isinstance(value, types):
        raise type_error(name, value, expected, fix)
    return value


def boolean(name: str, value) -> bool:
    """Checks that `value` is `True` or `False` (NumPy's bool too) and returns a `bool`."""
    if not isinstance(value, (bool, np.bool_)):
        raise type_error(name, value, "`True` or `False`")
    return bool(value)


def string(name: str, value, expected: str = "a string") -> str:
    """Checks that `value` is a `str`."""
    return check_type(name, value, str, expected)


def number(name: str, value, expected: str = "a Python number") -> float:
    """Checks that `value` is a real number (not a bool) and returns it as a float."""
    if not is_number(value):
        raise type_error(name, value, expected)
    return float(value)


# --- Numbers ------------------------------------------------------------------------------------


def positive_float(
    name: str, value, *, expected: str = "a positive finite number", fix: str = ""
) -> float:
    """Checks that `value` is a finite number `> 0` and returns it as a float."""
    value = number(name, value)
    if not (math.isfinite(value) and value > 0):
        raise value_error(name, repr(value), expected, fix)
    return value


def non_negative_float(
    name: str, value, *, expected: str = "a non-negative finite number", fix: str = ""
) -> float:
    """Checks that `value` is a finite number `>= 0` and returns it as a float."""
    value = number(name, value)
    if not (math.isfinite(value) and value >= 0):
        raise value_error(name, repr(value), expected, fix)
    return value


def fraction(
    name: str,
    value,
    *,
    include_zero: bool = False,
    include_one: bool = False,
    fix: str = "",
) -> float:
    """Checks that `value` lies between 0 and 1 (ends excluded unless included) as a float.

    NaN never passes. The expected range is written as "strictly between 0 and 1"
    or in interval notation, e.g. "in [0, 1)".
    """
    value = number(name, value)
    above = value >= 0 if include_zero else value > 0
    below = value <= 1 if include_one else value < 1
    if not (above and below):
        if include_zero or include_one:
            low, high = "[" if include_zero else "(", "]" if include_one else ")"
            expected = f"in {low}0, 1{high}"
        else:
            expected = "strictly between 0 and 1"
        raise value_error(name, repr(value), expected, fix)
    return value


def integer(
    name: str,
    value,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    expected: str = "an integer",
    fix: str = "",
) -> int:
    """Checks that `value` is an integer (not a bool) within the bounds; returns an `int`."""
    if not is_integer(value):
        raise type_error(name, value, expected, fix)
    value = int(value)
    if minimum is not None and value < minimum:
        raise value_error(name, value, f"at least {minimum}", fix)
    if maximum is not None and value > maximum:
        raise value_error(name, value, f"at most {maximum}", fix)
    return value


def _int_from(name: str, value, minimum: int, expected: str, too_small: str, fix: str) -> int:
    """`value` as an `int` if it is an integer `>= minimum`; else the error that says so."""
    if not is_integer(value):
        raise type_error(name, value, expected, fix)
    if value < minimum:
        raise value_error(name, int(value), too_small, fix)
    return int(value)


def positive_int(name: str, value, *, fix: str = "") -> int:
    """Checks that `value` is an integer `>= 1` and returns it as an `int`."""
    return _int_from(name, value, 1, "a positive integer", "a positive integer", fix)


def non_negative_int(name: str, value, *, fix: str = "") -> int:
    """Checks that `value` is an integer `>= 0` and returns it as an `int`."""
    return _int_from(name, value, 0, "a non-negative integer", "non-negative", fix)


# --- Choices and arrays -------------------------------------------------------------------------


def one_of(name: str, value, choices: Collection, fix: str = ""):
    """Checks that `value` is one of `choices` and returns it.

    A value of a type no choice has (an unhashable list, say) is refused with the
    same `ValueError`: the list of choices is the fix either way.
    """
    try:
        known = bool(value in choices)
    except (TypeError, ValueError):  # unhashable, or an array whose truth is ambiguous
        known = False
    if not known:
        options = ", ".join(repr(choice) for choice in choices)
        raise value_error(name, shown(value), f"one of {options}", fix)
    return value


def as_float_array(name: str, values) -> np.ndarray:
    """Converts `values` to a 1-D float64 NumPy array.

    Raises a `TypeError` if `values` is not numeric, a `ValueError` if it is not 1-D.
    Non-finite values pass: whether they are allowed is the caller's decision.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be a 1-D array-like of real numbers. "
            f"Received: {name}={shown(values)} ({error})."
        ) from None
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D. Received: an array of shape {array.shape}.")
    return array


def reloadable(name: str, value, *, fix: str):
    """Checks that `keras.saving` can serialize `value` and restore it, as a `.keras` file must.

    A lambda is refused outright (Keras saves it as bytecode and will not load it by
    default); anything else is round-tripped through `serialize_keras_object` and
    `deserialize_keras_object`, and the error Keras gives is quoted.
    """
    expected = (
        "serializable with `keras.saving`, so that a model using this schedule can be saved "
        "and reloaded"
    )
    if getattr(value, "__name__", None) == "<lambda>":
        raise TypeError(
            f"`{name}` must be {expected}, and a lambda cannot be reloaded. "
            f"Received: {name}={value!r}. {fix}"
        )
    import keras

    try:
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(value))
    except Exception as error:
        raise TypeError(
            f"`{name}` must be {expected}, but Keras could not restore it: {error} "
            f"Received: {name}={value!r}. {fix}"
        ) from error


# --- Paths written to ------------------------------------------------------------------------
# Each returns `None` when the path can be written, else `(problem, fix)`: the problem reads
# after "`name` ", the fix is a sentence. They ask the file system now, so a write can still
# fail later (a full disk); they catch the paths that would otherwise fail only after a range
# test ran. `os.access` says what this process may do, so a read-only place is refused for
# everyone but root (who may write anywhere).

_NO_ACCESS_FIX = "Choose a directory you can write to, or change its permissions."


def file_problem(path) -> tuple[str, str] | None:
    """Why no file can be written at `path`, in a directory that must exist; else `None`."""
    text = os.fsdecode(path)
    folder = os.path.dirname(text) or "."
    if not text or "\0" in text:
        return "is not a file name", "Pass the path of a file, e.g. 'lr_find.json'."
    if os.path.isdir(text):
        return "is a directory", "Pass the path of a file inside it."
    if not os.path.isdir(folder):
        return f"is in {folder!r}, which is not a directory", "Create the directory first."
    if os.path.exists(text):  # Replacing a file needs the file's permission, not the folder's.
        if not os.access(text, os.W_OK):
            return "is a read-only file", "Choose another path, or change the file's permissions."
    elif not os.access(folder, os.W_OK | os.X_OK):
        return f"is in {folder!r}, a directory this process cannot write to", _NO_ACCESS_FIX
    return None


def directory_problem(path) -> tuple[str, str] | None:
    """Why no file can be written into the directory `path`, created with its missing parents
    if needed; else `None`. A URL (`gs://...`) is left to the writer that understands it."""
    text = os.fsdecode(path)
    if not text or "\0" in text:
        return "is not a directory name", "Pass the path of a directory, e.g. 'logs/lr_find'."
    if "://" in text:
        return None
    if os.path.exists(text) and not os.path.isdir(text):
        return "is a file, not a directory", "Pass the path of a directory (created if needed)."
    target = os.path.abspath(text)
    existing = target
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return (
            f"cannot be created: {existing!r} is a file, not a directory",
            "Choose a path whose parents are directories.",
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == target:
            return "is a directory this process cannot write to", _NO_ACCESS_FIX
        return f"cannot be created in {existing!r}, a directory this process cannot write to", (
            _NO_ACCESS_FIX
        )
    return None


# --- Renamed names ------------------------------------------------------------------------------


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warns with a `DeprecationWarning` that `old` is now called `new`.

    `stacklevel=3` points at the caller of the function that calls this one: the
    user's line that still spells the old name.
    """
    warnings.warn(
        f"{old} was renamed {new}. The old name still works in this release and will be "
        f"removed in the next one: use {new}.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed(function, old: str, new: str):
    """A deprecated alias of `function` that warns (see `warn_renamed`), then calls it.

    Example:

    >>> import warnings
    >>> def plot_curve(x):
    ...     return x
    >>> plot_result = renamed(plot_curve, "`plot_result`", "`plot_curve`")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     plot_result(1)
    1
    >>> caught[0].category.__name__, str(caught[0].message).split(".")[0]
    ('DeprecationWarning', '`plot_result` was renamed `plot_curve`')
    """

    @functools.wraps(function)
    def alias(*args, **kwargs):
        warn_renamed(old, new)
        return function(*args, **kwargs)

    alias.__doc__ = f"Deprecated: {old} was renamed {new}. See {new}."
    return alias


def renamed_attribute(old: str, new: str) -> property:
    """A read-only property `old` that warns (see `warn_renamed`), then reads `new`."""

    def read(self):
        warn_renamed(f"`{old}`", f"`{new}`")
        return getattr(self, new)

    return property(read, doc=f"Deprecated: `{old}` was renamed `{new}`. See `{new}`.")


def moved_module(old: str, new: str, names: tuple[str, ...]):
    """`(__getattr__, __dir__)` for a module `old` whose `names` moved to the module `new`.

    Each name still works from `old` for one release, with a `DeprecationWarning` (see
    `warn_renamed`) that points at the user's line; importing `old` alone does not warn.
    """

    def module_getattr(name: str):
        if name not in names:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warn_renamed(f"`{old}.{name}`", f"`{new}.{name}`", stacklevel=3)
        return getattr(importlib.import_module(new), name)

    def module_dir() -> list[str]:
        return sorted(names)

    return module_getattr, module_dir
