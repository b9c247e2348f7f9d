"""Learning-rate suggestions: pure NumPy functions of a range-test curve.

Each suggestion method takes the swept `learning_rates` and the matching
`losses` and returns one learning rate as a Python float:

- `one_cycle`, keras_lrfind's default: the maximum learning rate of a one-cycle
  schedule, read from the RAW losses smoothed without lag (`smooth_without_lag`).
- fastai 2.8's `valley`, `slide`, `minimum` and `steep`, decision for decision,
  quirks included, on fastai's smoothed curve after `trim` (fastai's own
  preprocessing), so that a user moving from fastai gets the same learning rate
  from the same curve. They compare and differentiate the losses in float32, as
  fastai does.

`METHODS` holds them all by name (`DEFAULT_METHOD` first); `check_curve` gives
the reasons not to trust a curve; `scale_for_batch_size` carries a suggestion to
another batch size.

Non-finite losses: each method cuts the curve at the first loss that is NaN or
infinite (for fastai's methods once cast to float32, so a loss beyond the float32
range counts as infinite) and works on the points before it, as fastai's
`lr_find` does for NaN before calling the methods. If too few points remain (see
`MIN_POINTS`), the method raises a `ValueError`; it never returns a value computed
from a non-finite loss.

Bounds: on any valid input the result lies inside the swept range:
`learning_rates[0] <= valley, steep <= learning_rates[-1]`,
`learning_rates[0] / 10 <= minimum <= learning_rates[-1] / 10`, `slide`
returns a swept learning rate times `adjust_value`, and
`learning_rates[0] <= one_cycle <= learning_rates[-1]` with its default arguments.
"""

from __future__ import annotations

from keras_lrfind import _checks
from keras_lrfind.suggestions._batch_size import BATCH_SIZE_RULES, scale_for_batch_size
from keras_lrfind.suggestions._curve_checks import (
    MIN_TRUSTED_POINTS,
    RISE_RATIO,
    cannot_read,
    check_curve,
)
from keras_lrfind.suggestions._fastai import minimum, slide, steep, valley
from keras_lrfind.suggestions._methods import (
    DEFAULT_METHOD,
    FASTAI_METHODS,
    METHODS,
    MIN_POINTS,
    RAW_LOSS_METHODS,
    RENAMED_METHODS,
    method_name,
    trim,
)
from keras_lrfind.suggestions._one_cycle import (
    DIVERGENCE_DIVISOR,
    FLAT_START_RATIO,
    divergence_point,
    is_flat_start,
    one_cycle,
)
from keras_lrfind.suggestions._reading import NOISE_RATIO
from keras_lrfind.suggestions._smoothing import smooth_without_lag

__all__ = [
    "BATCH_SIZE_RULES",
    "DEFAULT_METHOD",
    "DIVERGENCE_DIVISOR",
    "FASTAI_METHODS",
    "FLAT_START_RATIO",
    "METHODS",
    "MIN_POINTS",
    "MIN_TRUSTED_POINTS",
    "NOISE_RATIO",
    "RAW_LOSS_METHODS",
    "RENAMED_METHODS",
    "RISE_RATIO",
    "cannot_read",
    "check_curve",
    "divergence_point",
    "is_flat_start",
    "method_name",
    "minimum",
    "one_cycle",
    "scale_for_batch_size",
    "slide",
    "smooth_without_lag",
    "steep",
    "trim",
    "valley",
]

onecycle = _checks.renamed(
    one_cycle, "`keras_lrfind.suggestions.onecycle`", "`keras_lrfind.suggestions.one_cycle`"
)
