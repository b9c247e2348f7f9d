"""keras_lrfind: the learning-rate range test, one-cycle and cyclical schedules for Keras 3."""

from importlib import metadata as _metadata

from keras_lrfind import datasets, suggestions, tensorboard
from keras_lrfind.outputs.plotting import plot_curves, plot_results, plot_schedule
from keras_lrfind.range_test import LRFinder, LRFinderCallback, LRFinderResult, LRFinderWarning
from keras_lrfind.schedules import CycleDecay, CyclicLR, MomentumCycler, OneCycle, steps_for_epochs
from keras_lrfind.search import ProbeResult, find_best_learning_rate
from keras_lrfind.suggestions import scale_for_batch_size

try:
    __version__ = _metadata.version("keras-lrfind")
except _metadata.PackageNotFoundError:  # Running from a source tree that was never installed.
    __version__ = "0.0.0+unknown"

__all__ = [
    "CycleDecay",
    "CyclicLR",
    "LRFinder",
    "LRFinderCallback",
    "LRFinderResult",
    "LRFinderWarning",
    "MomentumCycler",
    "OneCycle",
    "ProbeResult",
    "__version__",
    "datasets",
    "find_best_learning_rate",
    "plot_curves",
    "plot_results",
    "plot_schedule",
    "scale_for_batch_size",
    "steps_for_epochs",
    "suggestions",
    "tensorboard",
]
