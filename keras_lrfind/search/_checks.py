"""The checks of `find_best_learning_rate`: its arguments, the sizes of its training and
validation data, its plan, its range test, and what it says when no probe learned."""

from __future__ import annotations

import math
import warnings

import numpy as np

from keras_lrfind import _checks
from keras_lrfind.range_test import LRFinderWarning
from keras_lrfind.search import _data as _probe_data
from keras_lrfind.search._planner import (
    MAX_PROBE_STEPS,
    MIN_PROBE_STEPS,
    MIN_RANGE_TEST_STEPS,
    Planner,
)
from keras_lrfind.search._result import ProbeResult

MIN_TRAINING_STEPS = 32
"""The shortest training the search accepts: below it, the search costs several trainings."""

MIN_VALIDATION_SAMPLES = 16
"""The fewest validation samples (arrays) a probe is judged on."""

MAX_BUDGET = 10.0
"""The largest `budget`, in trainings: a larger one is more likely a percentage typed by
mistake than a search that should cost more than ten trainings."""

MIN_FINITE_LOSSES = 5
"""A range test whose loss is non-finite sooner, at its tiny starting learning rates, shows
broken data rather than a learning rate too high."""


def check_candidates(candidates) -> np.ndarray | None:
    """`candidates`, checked and sorted, or `None`."""
    if candidates is None:
        return None
    array = _checks.as_float_array("candidates", candidates)
    if len(array) < 2 or not np.all(np.isfinite(array) & (array > 0)):
        raise _checks.value_error(
            "candidates",
            _checks.shown(candidates),
            "at least two positive, finite learning rates",
            "Pass e.g. `candidates=[1e-3, 1e-2, 1e-1]`, or `None` for a range test.",
        )
    if len(np.unique(array)) != len(array):
        raise _checks.value_error(
            "candidates", _checks.shown(candidates), "distinct learning rates"
        )
    return np.sort(array)


def check_options(budget, range_test_steps, candidates):
    """`budget`, `range_test_steps` and `candidates`, checked (see `find_best_learning_rate`)."""
    if budget is not None:
        value = _checks.number("budget", budget)
        if not 0 < value <= MAX_BUDGET:  # NaN fails too.
            raise _checks.value_error(
                "budget",
                repr(budget),
                f"in (0, {MAX_BUDGET:g}]",
                "It counts trainings' steps: 0.5 is half a training, 2 two trainings.",
            )
        budget = value
    if range_test_steps is not None:
        range_test_steps = _checks.positive_int("range_test_steps", range_test_steps)
        if range_test_steps < MIN_RANGE_TEST_STEPS:
            raise ValueError(
                f"`range_test_steps` must be at least {MIN_RANGE_TEST_STEPS}: a shorter range "
                "test cannot show where the loss climbs. Received: "
                f"range_test_steps={range_test_steps!r}. Pass `None` for the default length."
            )
    return budget, range_test_steps, check_candidates(candidates)


def check_sizes(training_steps: int, epochs: int, batch_size, data) -> None:
    """Refuses a training too short to search, or validation data too small to judge on."""
    if training_steps < MIN_TRAINING_STEPS:
        raise ValueError(
            f"The training is too short to search: {epochs} epoch(s) of `x` is "
            f"{training_steps} optimizer step(s) (at least {MIN_TRAINING_STEPS} are needed; "
            "the search would cost several trainings). Received: "
            + f"epochs={epochs}"
            + ("" if batch_size is None else f", batch_size={batch_size!r}")
            + ". Train at a few learning rates instead, or pass more data or more `epochs`."
        )
    samples = _probe_data.num_samples(data.validation)
    if samples is not None and samples < MIN_VALIDATION_SAMPLES:
        raise ValueError(
            f"Too little validation data to judge the probes on: {samples} sample(s) (at "
            f"least {MIN_VALIDATION_SAMPLES}). Received: {data.description}. Pass "
            "`validation_data=...` with more samples, more data, or a larger "
            "`validation_split`."
        )


def check_plan(planner: Planner, budget, epochs: int) -> None:
    """Refuses a budget too small for the shortest search, or probes too long."""
    if planner.probe_steps < MIN_PROBE_STEPS or planner.budget_steps < planner.spent + (
        0 if planner.fixed is not None else 3 * planner.probe_steps
    ):
        needed = planner.range_test_steps + (
            len(planner.fixed) if planner.fixed is not None else 3
        ) * max(planner.probe_steps, MIN_PROBE_STEPS)
        least = math.ceil(100 * needed / planner.training_steps) / 100
        fix = "Pass `budget=None` (the default search)"
        fix += f", at least budget={least}" if least <= MAX_BUDGET else ""
        fix += ", fewer `candidates`," if planner.fixed is not None else ""
        fix += " or more `epochs`."
        raise ValueError(
            f"`budget` is too small for this training: {budget!r} x "
            f"{planner.training_steps} training steps gives {planner.budget_steps} steps, and "
            f"the shortest search needs {needed}. Received: budget={budget!r}. {fix}"
        )
    if planner.probe_steps > MAX_PROBE_STEPS:
        raise ValueError(
            f"`epochs` gives a training of {planner.training_steps} steps, whose probes "
            f"would run {planner.probe_steps} steps each (at most {MAX_PROBE_STEPS}). "
            f"Received: epochs={epochs}"
            + ("" if budget is None else f", budget={budget!r}")
            + ". Pass the number of epochs you will train"
            + ("." if budget is None else ", or a smaller `budget`.")
        )


def check_range_test(range_test) -> None:
    """Refuses a range test that shows the data (or the model) is broken: weights that
    became non-finite, or a loss that was not finite within its first steps, at learning
    rates far too small to break any training."""
    finite = np.isfinite(range_test.losses)
    if range_test.stop_reason == "non_finite_weights":
        what = "the model's weights became NaN or infinite (stop_reason='non_finite_weights')"
    elif range_test.stop_reason == "non_finite_loss" and finite.sum() < MIN_FINITE_LOSSES:
        first = range_test.learning_rates[int(np.argmin(finite))]
        what = (
            f"the training loss was NaN or infinite within its first {MIN_FINITE_LOSSES} "
            f"steps, at learning rate {first:.3g}"
        )
    else:
        return
    raise ValueError(
        f"In the search's range test, {what}: the training data (or the model) holds NaN or "
        "infinite values, and no learning rate can be found from it. Check "
        "`np.isfinite(x).all()` and the labels, then search again."
    )


def nothing_learned(details: ProbeResult, diverged: bool, fixed: bool) -> None:
    """Raises, or warns, when no probe learned (see `find_best_learning_rate`)."""
    tried = ", ".join(
        f"{p.learning_rate:.3g} ({p.steps} steps): {p.validation_loss:.4g}" for p in details.probes
    )
    reference = f"the untrained model's {details.untrained_loss:.4g}" + (
        ""
        if details.constant_loss is None
        else f", a constant prediction's {details.constant_loss:.4g}"
    )
    if fixed or diverged:
        what = "No candidate" if fixed else "No probe"
        if diverged:
            fix = (
                "Pass lower `candidates`."
                if fixed
                else (
                    "Check the data (NaN or infinite values in `x` or the labels), the "
                    "labels and the loss: the model gets worse at every learning rate tried."
                )
            )
        else:
            fix = "Pass higher `candidates`, or a larger `budget` (longer probes)."
        raise ValueError(
            f"{what} learned: every validation loss is no better than {reference} "
            f"(probes: {tried}). {fix}"
        )
    spent = details.steps / details.training_steps
    larger = min(math.ceil(20 * spent) / 10, MAX_BUDGET)
    fix = (
        f"Pass a larger `budget` (longer probes), e.g. budget={larger:g}, or check"
        if larger > spent
        else "Check"
    )
    what = (
        "No probe that learned held up within the search's budget: each sat at or above a "
        "learning rate whose longer probe did not learn (training there broke or stalled "
        "when it ran longer)"
        if any(probe.learned for probe in details.probes)
        else "No probe learned within the search's budget: every validation loss is no "
        f"better than {reference}"
    )
    warnings.warn(
        f"{what} (probes: {tried}). The answer, {details.max_lr:.3g}, is the "
        "lowest learning rate probed (past any that moved neither the weights nor the loss "
        "by 1%, when the next did not make the model worse): a safe guess, not a "
        f"measurement. The search spent {details.steps} steps, {spent:.2g} trainings. "
        f"{fix} that the model learns this data.",
        LRFinderWarning,
        stacklevel=3,
    )
