"""Deprecated: `keras_lrfind.plotting` moved to `keras_lrfind.outputs.plotting`.

Its names work from here for one release, each with a `DeprecationWarning`.
"""

from keras_lrfind import _checks

__getattr__, __dir__ = _checks.moved_module(
    __name__,
    "keras_lrfind.outputs.plotting",
    (
        "figure_png",
        "loss_change",
        "offscreen_axes",
        "plot_curve",
        "plot_curves",
        "plot_loss_change",
        "plot_result",
        "plot_results",
        "plot_schedule",
    ),
)
