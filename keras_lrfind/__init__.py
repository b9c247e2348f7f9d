"""keras_lrfind: the learning-rate range test, one-cycle and cyclical schedules for Keras 3."""

from importlib.metadata import PackageNotFoundError, version

from keras_lrfind.callback import LRFinderCallback
from keras_lrfind.finder import LRFinder
from keras_lrfind.result import LRFinderResult, LRFinderWarning

try:
    __version__ = version("keras-lrfind")
except PackageNotFoundError:  # Running from a source tree that was never installed.
    __version__ = "0.0.0+unknown"

__all__ = [
    "LRFinder",
    "LRFinderCallback",
    "LRFinderResult",
    "LRFinderWarning",
    "__version__",
]
