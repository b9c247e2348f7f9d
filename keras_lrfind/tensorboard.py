"""A finished range test written to TensorBoard: `write_result` (see
`keras_lrfind.outputs.tensorboard`, where it lives with the other outputs)."""

from keras_lrfind.outputs.tensorboard import PREFIX, write_result

__all__ = ["PREFIX", "write_result"]
