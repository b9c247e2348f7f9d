"""`find_best_learning_rate`: the peak of a one-cycle training, chosen by short probe trainings.

A range-test curve alone cannot see everything that decides a good one-cycle peak (the best
peak sits anywhere from a few times above to fifty times below the curve's minimum across
tasks). Short trainings can: `find_best_learning_rate` brackets the usable range with a
range test, runs a compressed one-cycle probe training of each of a few candidate peaks
inside the bracket, judges them on validation data and returns the winner, corrected for
what short probes are known to favour.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from keras_lrfind import _checks, _data
from keras_lrfind.range_test import _fit_arguments
from keras_lrfind.range_test._session import check_model
from keras_lrfind.search import _data as _probe_data
from keras_lrfind.search import _plan as _probe_plan
from keras_lrfind.search._probes import ProbeSession, Progress
from keras_lrfind.search._result import ProbeResult


def _check_candidates(candidates) -> np.ndarray | None:
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


def _validation_loss(logs: dict[str, float]) -> float:
    loss = logs["loss"]
    return loss if math.isfinite(loss) else math.nan


def find_best_learning_rate(
    model: keras.Model,
    x=None,
    y=None,
    *,
    batch_size: int | None = None,
    epochs: int,
    validation_data=None,
    validation_split: float = 0.1,
    budget: float | None = None,
    range_test_steps: int | None = None,
    candidates=None,
    verbose="auto",
    callbacks=None,
    return_details: bool = False,
    seed: int = 0,
):
    """Returns the peak learning rate of a one-cycle training of this model on this data.

    The answer is the `max_lr` of `keras_lrfind.OneCycle(max_lr, total_steps)` (PyTorch's
    defaults) for a training of `epochs` epochs with the model's compiled optimizer, loss and
    batch size, where `total_steps` is `epochs` x the steps of one epoch of `x`. It is found
    in three steps:

    1. A range test (`LRFinder`: one epoch, 100 to 1000 steps, cut to a quarter of the
       training when that is shorter, at least 32 steps) finds where the loss starts to
       climb (`limit`, `keras_lrfind.suggestions.divergence_point`); the candidates are 4
       peaks log-spaced from `limit / 32` to `limit`.
    2. Each candidate gets a probe training of an eighth of the training's steps: a
       one-cycle compressed into the probe (warm-up and anneal within it), from the model's
       current weights, judged by its validation loss.
    3. The lowest validation loss, refined between its neighbours by parabolic
       interpolation (in log learning rate), divided by 1.5, is the answer: probes that
       short favour peaks about 1.5 to 2 times higher than the full training tolerates.

    All three were chosen by measurement on the benchmark's tuning tasks
    (`benchmarks/probe_length.py`, `benchmarks/results/probe_length.md`): probes shorter
    than an eighth of the training ranked badly (successive halving, whose first rung
    would be that short at the same cost, did worse than one rung of eighth-long probes),
    and range tests of an eighth of a short training misplaced the climb, where a quarter
    did not (`benchmarks/range_test_length.py`). The search costs the range test plus half a
    training's steps: about 0.75 of a training on short trainings (a few hundred steps),
    barely more than half on long ones.

    The probes are judged on `validation_data`, or else on a split of the training data
    (`validation_split`) that the probes never train on (the final training may use all of
    `x`). Arrays are split by a seeded permutation; a `tf.data.Dataset` by batches
    (`take`/`skip`: it must yield its batches in the same order on every pass, which is
    checked); a `keras.utils.PyDataset` by batch index (its `on_epoch_end` is not called
    during the search). The model comes back exactly as it was (weights, optimizer
    variables with `iterations`, learning rate or schedule, metrics, `steps_per_execution`),
    also after an exception or Ctrl-C.

    Args:
        model: A compiled Keras 3 model, with the optimizer and loss you will train with.
        x: The training data: arrays (NumPy or tensors, possibly nested), a
            `tf.data.Dataset` or a `keras.utils.PyDataset` of known length.
        y: The targets, when `x` is arrays. Defaults to `None`.
        batch_size: The batch size for arrays. Defaults to `None` (Keras's 32).
        epochs: The epochs of the one-cycle training you will run, at least 1.
        validation_data: Data to judge the probes on, as `model.evaluate` accepts it:
            `(x_val, y_val)`, `(x_val, y_val, sample_weight)`, a dataset or a `PyDataset`.
            Never pass your test data. Defaults to `None` (a split of `x`).
        validation_split: The fraction of `x` held out to judge the probes when
            `validation_data` is `None`, strictly between 0 and 1. Defaults to `0.1`.
        budget: The fraction of the training's steps (`epochs` x steps per epoch) the whole
            search may spend, range test included, in (0, 1]; the probes share what the
            range test leaves. Defaults to `None`: a probe of an eighth of the training per
            candidate, plus the range test.
        range_test_steps: The length of the range test, in steps (at least 20). Defaults
            to `None`: one epoch of the probes' data clipped to 100 to 1000 steps
            (`LRFinder`'s default), or a quarter of the training if shorter (at least 32).
        candidates: The peak learning rates to compare, instead of a range test's bracket.
            Defaults to `None`.
        verbose: `0` is silent; `1` or `"auto"` show a Keras progress bar over the whole
            search; `2` one line at its end. Defaults to `"auto"`.
        callbacks: Extra callbacks for every `fit` of the search. Defaults to `None`.
        return_details: Whether to return a `ProbeResult` instead of the float. Defaults to
            `False`.
        seed: The seed of the validation split and the order of the probes' batches.
            Defaults to `0`.

    Returns:
        The peak learning rate (a float), or a `ProbeResult` with `return_details=True`.

    Raises:
        TypeError: For an argument of the wrong type, or data of an unsupported kind.
        ValueError: For a bad value, data of unknown length, a split that leaves no data
            on one side, a reshuffling `tf.data` pipeline without `validation_data`, an
            unbuilt model, a `budget` too small for probes of 8 steps, or `epochs` so many
            that a probe would exceed 1,000,000 steps. Nothing has run yet then.
        RuntimeError: If the model is not compiled.

    Example:

    ```python
    max_lr = keras_lrfind.find_best_learning_rate(model, x, y, batch_size=64, epochs=5)
    total_steps = keras_lrfind.steps_for_epochs(5, data=x, batch_size=64)
    model.compile(optimizer=keras.optimizers.Adam(keras_lrfind.OneCycle(max_lr, total_steps)),
                  loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=5)
    ```
    """
    check_model(model, before_fit=True, built=True)
    epochs = _checks.positive_int("epochs", epochs)
    if budget is not None:
        budget = _checks.fraction(
            "budget", budget, include_one=True, fix="It is a fraction of one training's steps."
        )
    validation_split = _checks.fraction("validation_split", validation_split)
    _fit_arguments.check(
        x, y, batch_size, sample_weight=None, class_weight=None, shuffle=True, verbose=verbose
    )
    callbacks = _fit_arguments.checked_callbacks(callbacks)
    if range_test_steps is not None:
        range_test_steps = _checks.positive_int("range_test_steps", range_test_steps)
        if range_test_steps < _probe_plan.MIN_RANGE_TEST_STEPS:
            raise ValueError(
                f"`range_test_steps` must be at least {_probe_plan.MIN_RANGE_TEST_STEPS}: a "
                "shorter range test cannot show where the loss climbs. Received: "
                f"range_test_steps={range_test_steps!r}. Pass `None` for the default length."
            )
    fixed_candidates = _check_candidates(candidates)
    return_details = _checks.boolean("return_details", return_details)
    seed = _checks.non_negative_int("seed", seed)

    data = _probe_data.prepare(x, y, batch_size, validation_data, validation_split, seed)
    training_steps = epochs * _data.steps_per_epoch(x, batch_size)
    num_candidates = (
        _probe_plan.NUM_CANDIDATES if fixed_candidates is None else len(fixed_candidates)
    )
    plan = _probe_plan.make_plan(
        training_steps,
        budget,
        num_candidates,
        fixed_candidates is None,
        data.steps_per_epoch,
        range_test_steps,
    )
    if plan.probe_steps > _probe_plan.MAX_PROBE_STEPS:
        raise ValueError(
            f"`epochs` gives a training of {training_steps} steps, whose probes would run "
            f"{plan.probe_steps} steps each (at most {_probe_plan.MAX_PROBE_STEPS}). Received: "
            f"epochs={epochs}" + ("" if budget is None else f", budget={budget!r}") + ". Pass "
            "the number of epochs you will train" + ("." if budget is None else ", or a "
            "smaller `budget`.")
        )  # fmt: skip
    progress = Progress(plan.total_steps, 1 if verbose == "auto" else verbose)
    range_test = bracket = None
    with ProbeSession(model, data, callbacks, progress) as session:
        if fixed_candidates is None:
            progress.show(lr=0.0)
            range_test = session.range_test(plan.range_test_steps)
            bracket = _probe_plan.bracket(range_test.learning_rates, range_test.losses)
            learning_rates = _probe_plan.candidates(*bracket, plan.num_candidates)
        else:
            learning_rates = fixed_candidates
        logs = []
        for learning_rate in learning_rates:
            progress.show(lr=float(learning_rate))
            logs.append(session.probe(float(learning_rate), plan.probe_steps))
        progress.finish()
    losses = [_validation_loss(entry) for entry in logs]
    winner = _probe_plan.best_peak(learning_rates, losses)
    details = ProbeResult(
        max_lr=winner / _probe_plan.SHORT_PROBE_BIAS,
        candidates=tuple(float(lr) for lr in learning_rates),
        validation_losses=tuple(losses),
        logs=tuple(logs),
        winner=winner,
        short_probe_bias=_probe_plan.SHORT_PROBE_BIAS,
        probe_steps=plan.probe_steps,
        bracket=bracket,
        range_test=range_test,
        validation=data.description,
        steps=session.steps,
        seconds=session.seconds,
        training_steps=training_steps,
    )
    return details if return_details else details.max_lr
