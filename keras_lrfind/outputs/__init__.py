"""What a range test leaves behind: its file (`LRFinderResult.to_json`), its plots
(`keras_lrfind.outputs.plotting`) and its TensorBoard run (`keras_lrfind.outputs.tensorboard`).
"""

from keras_lrfind.outputs import plotting, tensorboard

__all__ = ["plotting", "tensorboard"]
