"""A finished range test written to TensorBoard: `write_result`, and `checked_log_dir`, its
up-front check of the directory (see `keras_lrfind.outputs.tensorboard`, where they live
with the other outputs)."""

from keras_lrfind.outputs.tensorboard import PREFIX, checked_log_dir, write_result

__all__ = ["PREFIX", "checked_log_dir", "write_result"]
