"""`find_best_learning_rate` on KerasTuner: its probes as trials, on one or many workers.

The probes of `find_best_learning_rate` are independent trainings: `LearningRateTuner`
runs them as KerasTuner trials, so KerasTuner's distributed tuning spreads them over
workers (and one process runs them in turn). The answer, `best_learning_rate()`, is the
one `find_best_learning_rate` gives for the same model, data and arguments.

Needs KerasTuner: `pip install keras-lrfind[tuner]`. One process:

```python
import keras_lrfind.tuner

tuner = keras_lrfind.tuner.LearningRateTuner(model, directory="lr_search")
tuner.search(x, y, batch_size=64, epochs=5)
max_lr = tuner.best_learning_rate()
```

Distributed: run the same script in every process, with `KERASTUNER_ORACLE_IP` and
`KERASTUNER_ORACLE_PORT` naming the chief and `KERASTUNER_TUNER_ID=chief` for the chief,
`tuner0`, `tuner1`, ... for the workers. Every process must build the model with the same
initial weights (`keras.utils.set_random_seed` before building it) and pass the same data
and arguments; `best_learning_rate()` is read on the chief. See `LearningRateTuner`.
"""

try:
    import keras_tuner  # noqa: F401
except ImportError as error:
    raise ImportError(
        "`keras_lrfind.tuner` needs KerasTuner, which is not installed. Install it with "
        "`pip install keras-lrfind[tuner]` (or `pip install keras-tuner`)."
    ) from error

from keras_lrfind.tuner._oracle import LearningRateOracle
from keras_lrfind.tuner._tuner import LearningRateTuner

__all__ = ["LearningRateOracle", "LearningRateTuner"]
