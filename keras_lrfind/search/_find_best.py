"""`find_best_learning_rate`: the peak of a one-cycle training, chosen by short probe trainings.

A range-test curve alone cannot see everything that decides a good one-cycle peak. Short
trainings can: `find_best_learning_rate` runs a range test to see where training breaks,
then rounds of compressed one-cycle probe trainings, judged on validation data, that the
planner (`_planner`) places and reads; this module checks the arguments, runs what the
planner asks for (`_probes`), and says what happened.
"""

from __future__ import annotations

import dataclasses
import math

import keras

from keras_lrfind import _checks, _data
from keras_lrfind.range_test import _fit_arguments
from keras_lrfind.range_test._session import check_model
from keras_lrfind.search import _checks as _search_checks
from keras_lrfind.search import _data as _probe_data
from keras_lrfind.search._baselines import Baselines, constant_loss, validation_samples
from keras_lrfind.search._planner import Planner
from keras_lrfind.search._probes import ProbeSession, Progress
from keras_lrfind.search._result import ProbeOutcome, ProbeResult

ACCURACY_NAMES = (
    "accuracy",
    "acc",
    "sparse_categorical_accuracy",
    "categorical_accuracy",
    "binary_accuracy",
)
"""The names of `evaluate`'s logs read as a probe's validation accuracy, first found first."""


def validation_loss(logs: dict[str, float]) -> float:
    """A probe's validation loss from its logs; NaN when it is not finite."""
    loss = logs["loss"]
    return loss if math.isfinite(loss) else math.nan


def validation_accuracy(logs: dict[str, float]) -> float | None:
    """A probe's validation accuracy from its logs (`ACCURACY_NAMES`), or `None`."""
    found = (logs[name] for name in ACCURACY_NAMES if name in logs)
    return next(found, None)


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
    batch size, where `total_steps` is `epochs` x the steps of one epoch of `x`. The search
    answers only from probe trainings that learned:

    1. **Baselines.** The untrained model's validation loss (one evaluation, before any
       training, judged as the probes are: see below) and, where the loss allows, the
       validation loss of the best constant prediction (for cross-entropy, the entropy of
       the class frequencies). A probe *learned* when its validation loss is clearly (5%)
       below both.
    2. **A range test** (`LRFinder`, a sixteenth of the training: at least 64 steps, at most
       one epoch within 100 to 1000) shows where training breaks: where the loss climbs,
       where the sweep stopped on a NaN or diverging loss, or where the loss came back to
       what a constant prediction scores after falling below it (a plateau at chance).
    3. **Probes**: compressed one-cycle trainings of a tenth of the training (at least 32
       steps; the whole training when the budget holds the range test and four of those),
       from the model's current weights, judged by their validation loss, on a grid
       of 3 learning rates per decade. The first three go two grid points apart around an
       anchor two grid points below the break (or around the range test's lowest loss when
       it never broke). While the best probe that learned sits on the edge of those probed,
       the search extends that way (upwards at most two grid points past a break). When none
       learned: if the highest probe was *inert* (it moved the trainable weights by less
       than 1% of their norm and the loss by less than 1%), the rates were too low, and it
       probes where the weights would move by 1% (the move grows in proportion to the rate;
       at least four grid points higher); else it probes two grid points higher when the
       highest probe was the best (and no worse than untrained); both at most two grid
       points past the break, or up to the range test's end when it never broke; lower
       when the lowest probe was best or every probe made the model worse than untrained;
       or else longer: the best probe that was not inert and the one below it, as long as
       the rest of the budget allows (at least twice as long, at most the whole training).
    4. **Longer probes**: once the best probe has a neighbour either side (or may go no
       higher), it and its better neighbour (the probe below, unless the one above scored a
       lower loss) run again three times as long, budget permitting: short probes favour
       peaks a full training cannot hold, so the longer probes judge the two again. Longer
       probes extend the search downward only, never upward.
    5. **The answer**: from the longest probes that learned, the best one, refined by a
       parabola through its neighbours (in log learning rate). When the longest learned
       nothing, the answer comes from shorter probes below every learning rate whose longer
       probe failed: training there broke or stalled once it ran longer. Where the model reports a
       validation accuracy (compiled with `metrics=["accuracy"]`, or a metric named `acc`,
       `sparse_categorical_accuracy`, `categorical_accuracy` or `binary_accuracy`), a probe
       that learned is a candidate, here and in the rounds before, only if its accuracy is
       within two standard errors (binomial, over the validation samples) of the most
       accurate probe's: a fine-tuned or over-confident model can score a worse loss at the
       rate that classifies best.

    The whole search spends at most `budget` of the training's optimizer steps: by default
    half a training, or where that is more (short trainings), the range test and four
    default probes or eleven probes of 32 steps; on a training of fewer than 1,000 steps, a
    default search whose round of probes learned nothing may spend up to two trainings'
    steps from then on, for probes long enough to learn.
    If no probe learned within it (or every one that did sat at or above a rate whose
    longer probe failed), the search warns (`LRFinderWarning`, naming every probe)
    and returns the lowest learning rate it probed (past the inert ones, which would train
    nothing, when the probe above them did not make the model worse), a safe guess rather
    than a measurement (`ProbeResult.learned` is `False`). It raises
    instead when every probe made the model worse than untrained, when none of the given
    `candidates` learned, and when the data makes the weights or the untrained validation
    loss non-finite: no number is returned from a search known to have broken. How these
    rules were chosen, and how well the answer trains, is on the documentation site's
    benchmark page.

    The probes are judged on `validation_data`, or else on a split of the training data
    (`validation_split`) that the probes never train on (the final training may use all of
    `x`). Arrays are split by a seeded permutation; a `tf.data.Dataset` by batches
    (`take`/`skip`: it must yield its batches in the same order on every pass, which is
    checked); a `keras.utils.PyDataset` by batch index (its `on_epoch_end` is not called
    during the search). In a model with `BatchNormalization` layers, the probes and the
    untrained model are judged on the statistics a training of `epochs` would end with:
    recomputed at their weights on a few training batches, blended with the model's
    starting statistics in the proportion `momentum ** training_steps` that such a
    training still holds. The model comes back exactly as it was (weights, optimizer
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
        budget: The steps the whole search may spend, range test included, in trainings
            (`epochs` x steps per epoch): `0.5` is half a training's steps, `2` two
            trainings'; in (0, 10]. With `candidates`, they share it equally. Defaults to
            `None`: half a training, or where that is more, the range test and four default
            probes or eleven probes of 32 steps (up to two trainings, under 1,000 steps,
            once a round learned nothing).
        range_test_steps: The length of the range test, in steps (at least 20). Defaults
            to `None`: a sixteenth of the training, at least 64 steps, at most `LRFinder`'s
            default (one epoch of the probes' data clipped to 100 to 1000 steps).
        candidates: The peak learning rates to compare, instead of a range test and the
            rounds of probes: each gets one probe, and the best that learned wins.
            Defaults to `None`.
        verbose: `0` is silent; `1` or `"auto"` show a Keras progress bar over the whole
            search; `2` one line at its end. Defaults to `"auto"`.
        callbacks: Extra callbacks for every `fit` of the search. Defaults to `None`.
        return_details: Whether to return a `ProbeResult` instead of the float. Defaults to
            `False`.
        seed: The seed of the validation split and the order of the probes' batches, for
            arrays (a dataset keeps its own). The answer can differ between seeds: on the
            benchmark, the median of three seeds' answers trains better than one seed's
            (the README's "Its answer depends on its `seed`"). Defaults to `0`.

    Returns:
        The peak learning rate (a float), or a `ProbeResult` with `return_details=True`.

    Raises:
        TypeError: For an argument of the wrong type, or data of an unsupported kind.
        ValueError: For a bad value, data of unknown length, a split that leaves no data
            on one side or fewer than 16 validation samples, a reshuffling `tf.data`
            pipeline without `validation_data`, an unbuilt model, a training shorter than
            32 steps, a `budget` too small for three probes, or `epochs` so many that a
            probe would exceed 1,000,000 steps: nothing has trained yet then. Also for
            `validation_data` the model cannot evaluate and a non-finite untrained
            validation loss (before any training), weights that became non-finite in the
            range test, and a search in which every probe diverged or no given candidate
            learned (the model restored).
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
    return_details = _checks.boolean("return_details", return_details)
    search = prepare(
        model,
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation_data,
        validation_split=validation_split,
        budget=budget,
        range_test_steps=range_test_steps,
        candidates=candidates,
        verbose=verbose,
        callbacks=callbacks,
        seed=seed,
    )
    planner = search.planner
    progress = Progress(planner.budget_steps, 1 if verbose == "auto" else verbose)
    outcomes = []
    with ProbeSession(
        model, search.data, search.callbacks, progress, planner.training_steps
    ) as session:
        baselines, range_test = start(session, search)
        while probes := planner.next_round():
            progress.grow(planner.limit_steps)
            for probe in probes:
                progress.show(lr=probe.learning_rate)
                logs, moved = session.probe(probe.learning_rate, probe.steps)
                loss = validation_loss(logs)
                planner.record(probe, loss, moved, validation_accuracy(logs))
                learned = planner.learned(loss)
                outcomes.append(
                    ProbeOutcome(probe.learning_rate, probe.steps, loss, learned, logs, moved)
                )
    details = result(
        planner,
        baselines,
        range_test,
        outcomes,
        validation=search.data.description,
        steps=session.steps,
        seconds=session.seconds,
    )
    progress.finish(f"{details!r}")
    return answer(planner, details, return_details)


@dataclasses.dataclass(frozen=True)
class Search:
    """A checked search, ready to run: its data, its planner and its callbacks."""

    data: _probe_data.ProbeData
    planner: Planner
    callbacks: list


def prepare(
    model,
    x,
    y,
    *,
    batch_size,
    epochs,
    validation_data,
    validation_split,
    budget,
    range_test_steps,
    candidates,
    verbose,
    callbacks,
    seed,
) -> Search:
    """Checks every argument of a search, then prepares its data and plans it (the model is
    not touched). `find_best_learning_rate` and the KerasTuner oracle (`keras_lrfind.tuner`)
    both start here."""
    check_model(model, before_fit=True, built=True)
    epochs = _checks.positive_int("epochs", epochs)
    budget, range_test_steps, fixed_candidates = _search_checks.check_options(
        budget, range_test_steps, candidates
    )
    validation_split = _checks.fraction("validation_split", validation_split)
    _fit_arguments.check(
        x,
        y,
        batch_size,
        sample_weight=None,
        class_weight=None,
        shuffle=True,
        verbose=verbose,
        generators=False,
    )
    callbacks = _fit_arguments.checked_callbacks(callbacks)
    seed = _checks.non_negative_int("seed", seed)

    data = _probe_data.prepare(x, y, batch_size, validation_data, validation_split, seed)
    training_steps = epochs * _data.steps_per_epoch(x, batch_size)
    _search_checks.check_sizes(training_steps, epochs, batch_size, data)
    planner = Planner(
        training_steps,
        data.steps_per_epoch,
        budget=budget,
        range_test_steps=range_test_steps,
        candidates=fixed_candidates,
    )
    _search_checks.check_plan(planner, budget, epochs)
    return Search(data, planner, callbacks)


def start(session: ProbeSession, search: Search):
    """The baselines and (without given candidates) the range test, read by the planner;
    returns `(baselines, range_test)` (`range_test` is `None` with candidates)."""
    planner = search.planner
    baselines = _baselines(session, session.model, search.data)
    planner.set_baselines(baselines)
    if planner.fixed is not None:
        return baselines, None
    session.progress.show(lr=0.0)
    range_test = session.range_test(planner.range_test_steps)
    _search_checks.check_range_test(range_test)
    planner.read_range_test(range_test.learning_rates, range_test.losses, range_test.stop_reason)
    return baselines, range_test


def result(
    planner: Planner,
    baselines: Baselines,
    range_test,
    outcomes,
    *,
    validation: str,
    steps: int,
    seconds: float,
) -> ProbeResult:
    """The `ProbeResult` of a finished search: the planner's decision and every probe."""
    decision = planner.decision()
    final = sorted(
        (outcome for outcome in outcomes if outcome.steps == decision.probe_steps),
        key=lambda outcome: outcome.learning_rate,
    )
    return ProbeResult(
        max_lr=decision.max_lr,
        candidates=tuple(outcome.learning_rate for outcome in final),
        validation_losses=tuple(outcome.validation_loss for outcome in final),
        logs=tuple(outcome.logs for outcome in final),
        winner=decision.winner,
        short_probe_bias=planner.policy.short_probe_bias,
        probe_steps=decision.probe_steps,
        bracket=None
        if planner.fixed is not None
        else (final[0].learning_rate, final[-1].learning_rate),
        range_test=range_test,
        validation=validation,
        steps=steps,
        seconds=seconds,
        training_steps=planner.training_steps,
        probes=tuple(outcomes),
        untrained_loss=baselines.untrained,
        constant_loss=baselines.constant,
        learned=decision.learned,
        limit=planner.limit,
    )


def answer(planner: Planner, details: ProbeResult, return_details: bool):
    """What a finished search returns (`details`, or its `max_lr`), after warning or raising
    when no probe learned (see `find_best_learning_rate`)."""
    if not details.learned:
        _search_checks.nothing_learned(
            details, planner.decision().diverged, planner.fixed is not None
        )
    return details if return_details else details.max_lr


def _baselines(session: ProbeSession, model, data) -> Baselines:
    """The untrained model's validation loss (the first use of the validation data, before
    any training; judged as the probes are, see `ProbeSession.judge`) and the constant
    prediction's."""
    try:
        untrained = session.judge()["loss"]
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(
            "`validation_data` cannot be evaluated by the model (nothing has trained yet): "
            f"{' '.join(str(error).split())[:400]} Received: {data.description}. Pass "
            "`(x_val, y_val)` arrays shaped like `x` and `y`, or a batched dataset."
        ) from error
    if not math.isfinite(untrained):
        raise ValueError(
            "The untrained model's validation loss is not finite "
            f"({untrained}): the validation data (or the model) holds NaN or infinite "
            f"values. Received: {data.description}. Check `np.isfinite(x).all()` and the "
            "labels."
        )
    return Baselines(
        untrained, constant_loss(model, data.validation), validation_samples(data.validation)
    )
