"""The learning-rate range test: `LRFinder`, `LRFinderCallback` and their `LRFinderResult`.

The sweep's settings (`_sweep`), the snapshot of the model's state (`_snapshot`), the
callback that records the curve (`_callback`), the finder that runs it in `fit` and restores
the model afterwards (`_finder`), and the curve it returns (`_result`): its stop reasons and
checks (`_curves`), suggestions (`_suggest`) and outputs (`_result_outputs`).
"""

from keras_lrfind.range_test._callback import LRFinderCallback
from keras_lrfind.range_test._curves import DIVERGED_STOP_REASONS, STOP_REASONS, LRFinderWarning
from keras_lrfind.range_test._finder import LRFinder
from keras_lrfind.range_test._result import LRFinderResult

__all__ = [
    "DIVERGED_STOP_REASONS",
    "STOP_REASONS",
    "LRFinder",
    "LRFinderCallback",
    "LRFinderResult",
    "LRFinderWarning",
]
