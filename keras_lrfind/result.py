"""Deprecated: `keras_lrfind.result` moved to `keras_lrfind.range_test`.

Its names work from here for one release, each with a `DeprecationWarning`.
"""

from keras_lrfind import _checks

__getattr__, __dir__ = _checks.moved_module(
    __name__,
    "keras_lrfind.range_test",
    ("DIVERGED_STOP_REASONS", "STOP_REASONS", "LRFinderResult", "LRFinderWarning"),
)
