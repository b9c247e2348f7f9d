"""The running Keras release, and the Keras bugs the range test refuses to run into.

Part of `keras_lrfind._compat`: see its docstring. Checked on Keras 3.15.1, TensorFlow 2.21,
jax 0.10.2 and torch 2.13 unless a function says otherwise.
"""

from __future__ import annotations

import keras


def keras_version() -> tuple[int, ...]:
    """The running Keras release as a tuple of ints, e.g. `(3, 15, 1)`."""
    parts = []
    for part in keras.version().split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


# Keras bugs the range test refuses to run into, each with the first Keras release that fixes
# it (None: present in every release checked, up to 3.15.1). tests/test_distribution.py
# reproduces each one ("Keras still fails ..."); when such a test fails on a new Keras, the
# bug is fixed: write that release here and the refusal stops on it.
_KERAS_BUG_FIXED_IN: dict[str, tuple[int, ...] | None] = {
    # `LossScaleOptimizer` decides to skip a step from the first replica's gradients only.
    "loss_scale_checks_first_replica_only": None,
    # `model.fit` fails under `MultiWorkerMirroredStrategy` with several workers.
    "fit_fails_with_several_workers": None,
}


def has_keras_bug(name: str) -> bool:
    """Whether the running Keras has the bug `name` of `_KERAS_BUG_FIXED_IN`."""
    fixed_in = _KERAS_BUG_FIXED_IN[name]
    return fixed_in is None or keras_version() < fixed_in
