"""Checks Keras's `ScheduleFreeAdamW` against the Schedule-Free AdamW update in NumPy.

The quality benchmark's ScheduleFreeAdamW baseline trains poorly; this script shows why on
the TensorFlow backend of Keras 3.15: five steps on `sum(w ** 2)` from the same gradients,
Keras against the reference update of Defazio et al. (2024) (no warm-up, no weight decay,
`c_t = 1 / t`), and against the same update with `z_old` read *after* `z` was updated
(`momentum.value` is the live variable, not a snapshot). Keras matches the second.

Run: `python -m benchmarks.schedule_free_check`.
"""

from __future__ import annotations

import os

import numpy as np


def reference_steps(gradients, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8, aliased=False):
    """The model weights `y` after each step; `aliased` reads `z_old` after updating `z`."""
    z = np.array([1.0, -2.0])
    y = z.copy()
    velocity = np.zeros_like(z)
    trajectory = []
    for t, gradient in enumerate(gradients, start=1):
        velocity = beta_2 * velocity + (1 - beta_2) * gradient**2
        z_old = z.copy()
        z = z - lr * gradient / (np.sqrt(velocity / (1 - beta_2**t)) + epsilon)
        x_old = (y - (1 - beta_1) * (z if aliased else z_old)) / beta_1
        x = (1 - 1 / t) * x_old + z / t
        y = (1 - beta_1) * z + beta_1 * x
        trajectory.append(y.copy())
    return np.array(trajectory)


def keras_steps(gradients, lr):
    import keras

    weights = keras.Variable(np.array([1.0, -2.0], dtype="float32"))
    optimizer = keras.optimizers.ScheduleFreeAdamW(lr)
    optimizer.build([weights])
    trajectory = []
    for gradient in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient, "float32"), weights)])
        trajectory.append(keras.ops.convert_to_numpy(weights).astype(np.float64))
    return np.array(trajectory)


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    lr = 0.1
    # Gradients of sum(y ** 2) along the reference trajectory, fed to all three.
    gradients, y = [], np.array([1.0, -2.0])
    for step in range(5):
        gradients.append(2 * y)
        y = reference_steps(gradients, lr)[step]
    reference = reference_steps(gradients, lr)
    aliased = reference_steps(gradients, lr, aliased=True)
    observed = keras_steps(gradients, lr)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}")
    for step in range(len(gradients)):
        print(
            f"step {step + 1}: keras {observed[step].round(5)}  reference "
            f"{reference[step].round(5)}  z_old aliased {aliased[step].round(5)}"
        )
    print(
        "max |keras - reference| =",
        f"{np.abs(observed - reference).max():.2e};",
        "max |keras - aliased| =",
        f"{np.abs(observed - aliased).max():.2e}",
    )


if __name__ == "__main__":
    main()
