"""Where the range-test callback's per-step time goes: its batch hooks and each way to do
their work (LR write, loss-tracker reset, loss read), timed in a tight loop and inside real
training, and its one-off snapshot and restore; for `benchmarks.overhead`'s second table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from benchmarks.overhead_cases import SWEEP, Settings, make_cnn, make_dataset
from benchmarks.timing import in_loop_us, nothing, per_call_us


@dataclasses.dataclass(frozen=True)
class HookCosts:
    """The measured costs of the callback's work, in µs: per step and one-off.

    `rows` holds `(label, isolated µs, in-loop CPU µs, in-loop wall µs)`.
    """

    rows: list[tuple[str, float, float | None, float | None]]
    step_us: float
    hooks_in_loop_us: float
    one_off_us: float


def hook_costs(settings: Settings, step_us: float, log: Callable[[str], None]) -> HookCosts:
    """What the callback does per step, and one-off, each measured on its own."""
    import keras
    import tensorflow as tf

    import keras_lrfind

    calls = settings.hook_calls
    dataset = make_dataset(settings.num_steps)
    model = make_cnn()
    model.fit(dataset, epochs=1, shuffle=False, verbose=0)  # Builds and traces everything.
    learning_rate = model.optimizer.learning_rate
    tracker = next(metric for metric in model.metrics if metric.name == "loss")
    logs = {"loss": 2.3, "compile_metrics": 0.1}  # Keras passes Python floats to callbacks.

    # The library's hooks, driven by hand; its sweep (the longest the library accepts) is
    # longer than every call below (9 blocks of `hook_calls`, then the fits in the loop).
    callback = keras_lrfind.LRFinderCallback(num_steps=100_000, **SWEEP)
    callback.set_model(model)
    callback.set_params({"epochs": 1, "steps": None, "verbose": 0})
    callback.on_train_begin()

    def both_hooks():
        callback.on_train_batch_begin(0)
        callback.on_train_batch_end(0, logs)

    # The ways to do the hooks' work: write the learning rate, reset the loss tracker's
    # `total` and `count`, read the batch loss. Values prebuilt as NumPy or tensors.
    lr64 = np.float64(1e-4)
    lr32 = np.float32(1e-4)
    lr_tensor = keras.ops.convert_to_tensor(1e-4, "float32")
    zeros = [np.zeros(v.shape, v.dtype) for v in tracker.variables]
    zero_tensors = [keras.ops.zeros(v.shape, v.dtype) for v in tracker.variables]
    backend_lr = learning_rate.value  # The backend `tf.Variable` behind the Keras variable.
    backend_tracker = [variable.value for variable in tracker.variables]

    def keras_prebuilt_reset():
        for variable, zero in zip(tracker.variables, zero_tensors, strict=True):
            variable.assign(zero)

    def backend_reset():
        for variable, zero in zip(backend_tracker, zeros, strict=True):
            variable.assign(zero)

    @tf.function
    def fused(lr):
        backend_lr.assign(lr)
        for variable, zero in zip(backend_tracker, zero_tensors, strict=True):
            variable.assign(zero)

    operations = {
        "`LRFinderCallback` batch hooks, begin + end (the library as installed)": both_hooks,
        "LR write: Keras `learning_rate.assign(np.float64)`": lambda: learning_rate.assign(lr64),
        "LR write: Keras `assign` of a prebuilt float32 tensor": (
            lambda: learning_rate.assign(lr_tensor)
        ),
        "LR write: backend `learning_rate.value.assign(np.float32)` (TF)": (
            lambda: backend_lr.assign(lr32)
        ),
        "tracker reset: Keras `reset_state()` (2 Keras `assign(0)`)": tracker.reset_state,
        "tracker reset: 2 Keras `assign`s of prebuilt zero tensors": keras_prebuilt_reset,
        "tracker reset: 2 backend `assign`s of prebuilt NumPy zeros (TF)": backend_reset,
        "LR write + reset fused in one `tf.function` call (TF)": lambda: fused(lr_tensor),
        "no reset: read `loss_tracker.count` to undo the running mean": (
            lambda: tracker.count.numpy()
        ),
        '`float(logs["loss"])` (Keras already passes a float)': lambda: float(logs["loss"]),
        "nothing (the noise floor of the in-training measurement)": nothing,
    }
    isolated = per_call_us(operations, calls)
    log("hook costs in the training loop ...")
    in_loop = in_loop_us(model, dataset, operations, settings.in_loop_fits)
    callback.restore()

    def begin_and_restore():  # `on_train_begin` takes the snapshot, `restore` writes it back.
        callback.on_train_begin()
        callback.restore()

    one_off = per_call_us(
        {"snapshot": callback.on_train_begin, "both": begin_and_restore},
        max(calls // 50, 10),
        blocks=5,
    )
    one_off["restore"] = one_off.pop("both") - one_off["snapshot"]
    callback.restore()
    metric_variables = [v for metric in model.metrics for v in metric.variables]
    count = len({id(v) for v in model.variables + model.optimizer.variables + metric_variables})
    rows: list[tuple[str, float, float | None, float | None]] = [
        (label, isolated[label], *in_loop[label]) for label in operations
    ]
    rows += [
        (
            f"one-off: `on_train_begin`, snapshot of {count} variables",
            one_off["snapshot"],
            None,
            None,
        ),
        (f"one-off: restore of {count} variables", one_off["restore"], None, None),
    ]
    hooks_label = next(iter(operations))
    return HookCosts(
        rows=rows,
        step_us=step_us,
        hooks_in_loop_us=in_loop[hooks_label][0],
        one_off_us=one_off["snapshot"] + one_off["restore"],
    )


def costs_table(costs: HookCosts) -> str:
    """The hook costs as a Markdown table."""
    lines = [
        "| operation | isolated loop (µs) | in training, CPU (µs/step) | in training, wall "
        "(µs/step) |",
        "|---|---:|---:|---:|",
    ]
    for label, isolated, cpu, wall in costs.rows:
        in_loop = "| - | - |" if cpu is None else f"| {cpu:.0f} | {wall:.0f} |"
        lines.append(f"| {label} | {isolated:.1f} {in_loop}")
    return "\n".join(lines)
