"""Carrying a learning rate found at one batch size to another: `scale_for_batch_size`."""

from __future__ import annotations

import math

from keras_lrfind import _checks

BATCH_SIZE_RULES = ("linear", "sqrt")


def scale_for_batch_size(learning_rate, from_batch_size, to_batch_size, rule="linear"):
    """Scales a learning rate found at one batch size for training at another.

    A range test run with batch size `from_batch_size` suggests a learning rate for that
    batch size. Two rules carry it to another batch size, both named after where they
    come from:

    - `"linear"`: `learning_rate * to_batch_size / from_batch_size` (Goyal et al. 2017,
      "Accurate, Large Minibatch SGD"): the usual rule for SGD with momentum, with a
      warm-up, which one-cycle provides.
    - `"sqrt"`: `learning_rate * sqrt(to_batch_size / from_batch_size)` (Krizhevsky 2014,
      Hoffer et al. 2017): keeps the gradient noise constant; often better for Adam-type
      optimizers.

    Both are heuristics that break down far from the tested batch size: the most reliable
    answer is a range test at the training batch size.

    Args:
        learning_rate: The learning rate found at `from_batch_size`, positive.
        from_batch_size: The batch size of the range test, a positive integer.
        to_batch_size: The batch size of the training, a positive integer.
        rule: `"linear"` or `"sqrt"`. Defaults to `"linear"`.

    Returns:
        The scaled learning rate.

    Raises:
        TypeError: If `learning_rate` is not a number or a batch size not an integer.
        ValueError: If `learning_rate` is not positive and finite, a batch size is below
            1, or `rule` is unknown.

    Example:

    >>> scale_for_batch_size(0.01, 64, 256)
    0.04
    >>> scale_for_batch_size(0.01, 64, 256, rule="sqrt")
    0.02
    """
    learning_rate = _checks.positive_float("learning_rate", learning_rate)
    from_batch_size = _checks.positive_int("from_batch_size", from_batch_size)
    to_batch_size = _checks.positive_int("to_batch_size", to_batch_size)
    _checks.one_of("rule", rule, BATCH_SIZE_RULES)
    ratio = to_batch_size / from_batch_size
    return float(learning_rate * (ratio if rule == "linear" else math.sqrt(ratio)))
