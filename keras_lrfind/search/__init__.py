"""`find_best_learning_rate`: the peak of a one-cycle training, chosen by short probe trainings.

The data the probes train on and are judged on (`_data`), the baselines a probe must beat
(`_baselines`), the pure planner that places the range test and the probes and reads them
(`_planner`), the probe trainings on the user's model (`_probes`), the search's checks
(`_checks`), its wiring (`_find_best`, whose `prepare`, `start` and `result` the KerasTuner
oracle in `keras_lrfind.tuner` shares) and what it returns on request (`_result`).
"""

from keras_lrfind.search._find_best import find_best_learning_rate
from keras_lrfind.search._result import ProbeResult

__all__ = ["ProbeResult", "find_best_learning_rate"]
