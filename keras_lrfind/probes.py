"""Deprecated: `keras_lrfind.probes` moved to `keras_lrfind.search`.

Its names work from here for one release, each with a `DeprecationWarning`.
"""

from keras_lrfind import _checks

__getattr__, __dir__ = _checks.moved_module(
    __name__, "keras_lrfind.search", ("ProbeResult", "find_best_learning_rate")
)
