"""One-cycle and cyclical learning-rate schedules, momentum cycling, and counting steps.

`OneCycle` and `CyclicLR` reproduce PyTorch's `OneCycleLR` and `CyclicLR`: the value of a
schedule at step `k` is the learning rate PyTorch uses for optimizer step `k` (0-based) with
the same arguments. They are `keras.optimizers.schedules.LearningRateSchedule`s written with
`keras.ops` only, so they run eagerly, inside `tf.function`, under XLA and on every backend,
take integer or float step tensors, and survive a `.keras` save and reload. The arithmetic
lives in `_anneal`, small functions of the progress through a phase (a number in [0, 1])
shared with `MomentumCycler`, which cycles SGD's momentum or the Adam family's `beta_1`
against the learning rate. `steps_for_epochs` turns epochs into the `total_steps` these
schedules need; `keras_lrfind.plot_schedule` draws a schedule.
"""

from keras_lrfind import _checks
from keras_lrfind.schedules._cyclic import CycleDecay, CyclicLR
from keras_lrfind.schedules._momentum import MomentumCycler
from keras_lrfind.schedules._one_cycle import OneCycle
from keras_lrfind.schedules._steps import steps_for_epochs

__all__ = ["CycleDecay", "CyclicLR", "MomentumCycler", "OneCycle", "steps_for_epochs"]

# A model saved with one of these schedules names its module in the file; the public one,
# not where the class happens to be written, so that files stay readable across releases.
for _serializable in (CycleDecay, CyclicLR, OneCycle):
    _serializable.__module__ = __name__
del _serializable


def __getattr__(name: str):
    # Moved in this release to `keras_lrfind.plot_schedule`; the old path keeps working,
    # with a `DeprecationWarning`, for one release.
    if name == "plot_schedule":
        from keras_lrfind.outputs.plotting import plot_schedule

        return _checks.renamed(
            plot_schedule, "`keras_lrfind.schedules.plot_schedule`", "`keras_lrfind.plot_schedule`"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
