"""The anneal maths of the schedules: functions of the progress through a phase, in `keras.ops`.

`OneCycle` and `MomentumCycler` walk the same one-cycle phases (PyTorch's
`OneCycleLR`), one for the learning rate and one for the momentum; `CyclicLR`
rides a triangular wave. Everything here is written with `keras.ops` only, so it
runs eagerly, inside `tf.function`, under XLA and on every backend, and takes
integer or float step tensors. The public classes validate their arguments (with
`check_phases` for the ones they share) and call `one_cycle` or `triangular_wave`.
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

from keras_lrfind import _checks

ANNEAL_STRATEGIES = ("cos", "linear")


def cos_anneal(start, end, progress, remaining):
    """Cosine anneal from `start` (progress 0) to `end` (progress 1).

    PyTorch's `end + (start - end) / 2 * (cos(pi * progress) + 1)`, rewritten as
    the weighted sum `start * sin(pi / 2 * remaining) ** 2 + end * sin(pi / 2 *
    progress) ** 2` with `remaining = 1 - progress`. The two are equal, but the
    sum of positive terms has no cancellation in float32, and each weight is
    accurate near its own end of the phase: the final one-cycle anneal ends
    exactly at an `end` ten thousand times smaller than `start`.
    """
    half_pi = math.pi / 2.0
    return start * ops.square(ops.sin(half_pi * remaining)) + end * ops.square(
        ops.sin(half_pi * progress)
    )


def linear_anneal(start, end, progress, remaining):
    """Linear anneal from `start` (progress 0) to `end` (progress 1).

    PyTorch's `start + (end - start) * progress`, as the weighted sum
    `start * remaining + end * progress` for the same float32 reason as
    `cos_anneal`.
    """
    return start * remaining + end * progress


ANNEALS = {"cos": cos_anneal, "linear": linear_anneal}


def check_phases(total_steps, pct_start, anneal_strategy, three_phase):
    """Validates the phase arguments `OneCycle` and `MomentumCycler` share.

    Returns:
        `(total_steps, pct_start, anneal_strategy, three_phase)` as `int`, `float`,
        `str` and `bool`.
    """
    total_steps = _checks.integer(
        "total_steps", total_steps, minimum=2, expected="an integer (a number of optimizer steps)"
    )
    pct_start = _checks.fraction("pct_start", pct_start)
    _checks.one_of("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    three_phase = _checks.boolean("three_phase", three_phase)
    if float(pct_start * total_steps) == 1.0:
        raise ValueError(
            "`pct_start * total_steps` must not equal 1: the warm-up phase would end at "
            "step 0 and last zero steps (PyTorch's OneCycleLR divides by zero here). "
            f"Received: pct_start={pct_start!r}, total_steps={total_steps}. "
            "Use a larger `pct_start` or more `total_steps`."
        )
    return total_steps, pct_start, anneal_strategy, three_phase


def one_cycle_phase_ends(total_steps, pct_start, three_phase):
    """The last step of each phase, as floats exactly as PyTorch computes them."""
    warmup_end = float(pct_start * total_steps) - 1
    if three_phase:
        return [warmup_end, float(2 * pct_start * total_steps) - 2, float(total_steps - 1)]
    return [warmup_end, float(total_steps - 1)]


def one_cycle(step, phases, start, peak, end):
    """A one-cycle curve at `step`: `start -> peak -> end` (three phases: via `start`).

    `phases` is the object that holds the phase arguments `check_phases` validated, as
    attributes of the same names (`total_steps`, `pct_start`, `anneal_strategy`,
    `three_phase`): a `OneCycle` or a `MomentumCycler`. With two phases the curve
    anneals from `start` to `peak` during the warm-up and from `peak` to `end` after it;
    with three it anneals `start -> peak -> start -> end`. The learning rate of
    `OneCycle` is `(initial_lr, max_lr, min_lr)`; the momentum of `MomentumCycler` is
    `(max_momentum, base_momentum, max_momentum)`, which PyTorch's `OneCycleLR` cycles
    on the same phases.
    """
    if phases.three_phase:
        values = [(start, peak), (peak, start), (start, end)]
    else:
        values = [(start, peak), (peak, end)]
    ends = one_cycle_phase_ends(phases.total_steps, phases.pct_start, phases.three_phase)
    return phase_walk(step, ends, values, ANNEALS[phases.anneal_strategy])


def phase_walk(step, phase_ends, phase_values, anneal):
    """PyTorch's OneCycleLR phase walk, in-graph, holding the last value past the end.

    Phase `i` runs from `phase_ends[i - 1]` (0 for the first) to `phase_ends[i]`
    and anneals from `phase_values[i][0]` to `phase_values[i][1]`. A step
    belongs to the first phase whose end it does not pass; steps past the last
    end are clamped to it. The bounds are rounded to float32 once, here, so that
    the comparisons and the progress agree (`progress == 1` exactly at a phase
    end). A phase of zero or negative float32 length can never be selected for a
    clamped step (validation rules out the one reachable case of PyTorch's), so
    it is dropped, which keeps a division by its length out of the graph.
    """
    phase_ends = [np.float32(end) for end in phase_ends]
    phase_starts = [np.float32(0.0), *phase_ends[:-1]]
    step = ops.minimum(ops.cast(step, "float32"), phase_ends[-1])
    phases = [
        (start, end, values)
        for start, end, values in zip(phase_starts, phase_ends, phase_values, strict=True)
        if end > start
    ]

    def in_phase(start, end, values):
        # The remaining fraction is computed directly, not as `1 - progress`.
        length = end - start
        return anneal(*values, (step - start) / length, (end - step) / length)

    value = in_phase(*phases[-1])
    for start, end, values in reversed(phases[:-1]):
        value = ops.where(step <= end, in_phase(start, end, values), value)
    return ops.cast(value, "float32")


def triangular_wave(position, step_size_up, step_size_down):
    """0 -> 1 -> 0 over one cycle: `position` steps into a cycle of `up + down` steps.

    PyTorch's `x / ratio if x <= ratio else (x - 1) / (ratio - 1)` with
    `x = position / (up + down)` and `ratio = up / (up + down)`, written with the
    step counts so that it is exact for integer steps.
    """
    total = step_size_up + step_size_down
    return ops.where(
        position <= step_size_up, position / step_size_up, (total - position) / step_size_down
    )
