"""Re-choosing the range-test-only default suggestion on the TUNING tasks, reproducibly.

`python -m benchmarks.choose_default` scores candidate rules on the committed range-test
curves of the tuning tasks (no training), picks the rule with the lowest WORST regret there
(ties: the lower mean regret, then the simpler rule, listed first): a rate too high wrecks a
training where one too low costs a few points, so the tail decides (issue 17). Only then it
reports the chosen rule's numbers on the evaluation tasks, beside the library's current
default, the fastai methods and the baselines. Evaluation tasks choose nothing. A
leave-one-task-out estimate on the tuning tasks says how much the choice itself overfits.

Two requirements no score can trade away. A rule must not answer from the flat start of a
curve where training broke (issue 10; a *flat-start answer* here is a suggestion more than
100 times below the learning rate at the smoothed curve's lowest point), and it must not
answer from the end of a sweep that never broke (issue 17): the guarded candidates answer
`divergence_point / k` only where training broke, and choose what an unreadable curve that
never broke answers among readings that do not use its end.

The output of the last run is committed as `benchmarks/results/choose_default.txt`
(`python -m benchmarks.choose_default > benchmarks/results/choose_default.txt`).

The candidates read only public parts of a result (`learning_rates`, `losses`,
`num_steps`, `stop_reason`, `suggest(...)`) and `keras_lrfind.suggestions`:

- `current`: the library's default `result.suggest()`;
- fastai's `valley`, `slide`, `minimum`, `steep`;
- `min/k`: the learning rate at the lowest point of the smoothed curve (fastai's
  smoothing and trimming) divided by `k`;
- `valley*k`: fastai's valley times `k`;
- `onecycle(d, lo, hi) + broke guard(r, /k) + unreadable: X`: the library's rule with
  margin constants `(target_drop, min_divisor, max_divisor)`, answering
  `divergence_point / k` where training broke and its answer lies more than `r` times below
  the divergence point, and `X` on an unreadable curve that never broke (see `guarded`).
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable

import numpy as np

from benchmarks import evaluate
from benchmarks.store import load_results
from keras_lrfind.range_test import DIVERGED_STOP_REASONS

_SMOOTHING = 0.98
_SKIP_END = 5


def smoothed_curve(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(learning_rates, smoothed, raw)` as fastai reads them: an exponential moving
    average with bias correction (0.98), the first `num_steps // 10` and the last 5 points
    dropped, cut before the first non-finite loss."""
    learning_rates = np.asarray(result.learning_rates, dtype=np.float64)
    raw = np.asarray(result.losses, dtype=np.float64)
    finite = np.isfinite(raw)
    end = len(raw) if finite.all() else int(np.argmin(finite))
    learning_rates, raw = learning_rates[:end], raw[:end]
    average, smoothed = 0.0, np.empty_like(raw)
    for index, loss in enumerate(raw):
        average = _SMOOTHING * average + (1 - _SMOOTHING) * loss
        smoothed[index] = average / (1 - _SMOOTHING ** (index + 1))
    start = int(getattr(result, "num_steps", len(raw))) // 10
    stop = max(start + 1, len(raw) - _SKIP_END)
    return learning_rates[start:stop], smoothed[start:stop], raw[start:stop]


def readability(result) -> tuple[float, float]:
    """`(drop, noise)`: the fraction of the starting smoothed loss the curve removed at its
    lowest point, and the robust standard deviation (1.4826 MAD) of the raw losses around
    the smoothed curve, relative to the absolute drop (inf when nothing dropped)."""
    _, smoothed, raw = smoothed_curve(result)
    if len(smoothed) < 3 or not smoothed[0] > 0:
        return 0.0, math.inf
    lowest = float(np.min(smoothed))
    drop = (float(smoothed[0]) - lowest) / float(smoothed[0])
    residual = raw - smoothed
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    absolute = float(smoothed[0]) - lowest
    return drop, (spread / absolute if absolute > 0 else math.inf)


def min_over(k: float) -> Callable:
    def rule(result) -> float:
        learning_rates, smoothed, _ = smoothed_curve(result)
        if len(smoothed) == 0:
            raise ValueError("No finite point left on the curve.")
        return float(learning_rates[int(np.argmin(smoothed))]) / k

    return rule


def library(name: str | None) -> Callable:
    return evaluate.library_method(name)


def valley_times(k: float) -> Callable:
    def rule(result) -> float:
        return result.suggest("valley", warn=False) * k

    return rule


def onecycle_with(
    target_drop: float,
    min_divisor: float,
    max_divisor: float,
    max_below_divergence: float | None = None,
    divergence_divisor: float = 6.0,
) -> Callable:
    def rule(result) -> float:
        from keras_lrfind import suggestions

        learning_rates, _, raw = smoothed_curve(result)
        return float(
            suggestions.one_cycle(
                learning_rates,
                raw,
                target_drop=target_drop,
                min_divisor=min_divisor,
                max_divisor=max_divisor,
                max_below_divergence=max_below_divergence,
                divergence_divisor=divergence_divisor,
                diverged=result.stop_reason in DIVERGED_STOP_REASONS,
            )
        )

    return rule


def with_fallback(rule: Callable, min_drop: float, max_noise: float, k: float) -> Callable:
    fallback = min_over(k)

    def combined(result) -> float:
        drop, noise = readability(result)
        if drop < min_drop or noise > max_noise:
            return fallback(result)
        return rule(result)

    return combined


FLAT_START_FACTOR = 100.0


def flat_start_answers(results, rule: Callable) -> int:
    """How many curves of `results` get a flat-start answer from `rule` (see above)."""
    count = 0
    for result in results.values():
        for curve in result.curves:
            try:
                suggestion = float(rule(curve))
            except (ValueError, ArithmeticError):
                continue
            if suggestion * FLAT_START_FACTOR < min_over(1)(curve):
                count += 1
    return count


def guarded(
    margins: tuple[float, float, float], ratio: float, divisor: float, unreadable: str
) -> Callable:
    """`one_cycle` with the given margin, and its two guards.

    A curve on which training broke (the loss climbs, a loss is non-finite, or the sweep
    stopped on divergence) and whose valley answer lies more than `ratio` times below the
    divergence point answers `divergence_point / divisor`. A curve that never broke and
    cannot be read (`suggestions.cannot_read`) never answers from the end of its sweep:
    `unreadable` says what it answers instead: `"valley"` (the rule's own valley answer),
    `"fastai valley"`, or `"min/k"` (the lowest point of fastai's smoothed curve over k).
    """
    from keras_lrfind import suggestions

    base = onecycle_with(*margins)
    fallback = {"valley": base, "fastai valley": library("valley")}.get(unreadable)
    if fallback is None:
        fallback = min_over(float(unreadable.split("/")[1]))

    def rule(result) -> float:
        answer = base(result)
        learning_rates, _, raw = smoothed_curve(result)
        limit = suggestions.divergence_point(learning_rates, raw)
        broke = (
            result.stop_reason in DIVERGED_STOP_REASONS
            or limit < learning_rates[-1]
            or not np.isfinite(raw).all()
        )
        if broke:
            return limit / divisor if answer * ratio < limit else answer
        if suggestions.cannot_read(learning_rates, raw):
            return float(fallback(result))
        return answer

    return rule


MARGINS = [
    (d, lo, hi)
    for d, lo, hi in itertools.product((0.25, 0.5, 1.0), (1.0, 2.0), (3.0, 5.0, 10.0))
    if hi > lo
]
"""`one_cycle`'s margin constants tried: `(target_drop, min_divisor, max_divisor)`."""


def candidates() -> dict[str, Callable]:
    """Every candidate rule by name, simplest first (ties go to the earlier one)."""
    rules: dict[str, Callable] = {"current": library(None)}
    rules |= {name: library(name) for name in ("valley", "slide", "minimum", "steep")}
    rules |= {f"min/{k:g}": min_over(k) for k in (1, 1.5, 2, 3, 5, 10)}
    rules |= {f"valley*{k:g}": valley_times(k) for k in (0.5, 2, 3, 5)}
    for margins, ratio, divisor, unreadable in itertools.product(
        MARGINS, (16, 32, 64), (6, 10, 16, 32), ("valley", "fastai valley", "min/3", "min/10")
    ):
        d, lo, hi = margins
        label = (
            f"onecycle({d:g}, {lo:g}, {hi:g}) + broke guard({ratio:g}, /{divisor:g})"
            f" + unreadable: {unreadable}"
        )
        rules[label] = guarded(margins, ratio, divisor, unreadable)
    return rules


def main() -> int:
    results = load_results()
    tuning = {name: r for name, r in results.items() if r.split == "tuning"}
    evaluation = {name: r for name, r in results.items() if r.split == "evaluation"}
    if not tuning:
        print("No committed tuning results: run `python -m benchmarks.quality` first.")
        return 1
    rules = candidates()
    table = evaluate.score_methods(tuning, rules, baselines=False)
    names = list(rules)
    regrets = np.array([[table.regret(t, n) for t in table.tasks] for n in names])
    order = sorted(range(len(names)), key=lambda i: (regrets[i].max(), regrets[i].mean(), i))
    print(f"{len(names)} candidate rules on {len(tuning)} tuning tasks. Best ten:")
    for i in order[:10]:
        print(f"  {regrets[i].mean():5.2f} mean, {regrets[i].max():5.1f} worst  {names[i]}")
    chosen = names[order[0]]
    print(f"\nChosen (tuning worst, then mean): {chosen}")
    flat = {name: flat_start_answers(tuning, rules[name]) for name in names}
    print(f"  flat-start answers on tuning curves: {flat[chosen]}")
    safe = next(names[i] for i in order if flat[names[i]] == 0)
    index = names.index(safe)
    print(
        f"Chosen among rules with no flat-start answer on tuning curves: {safe} "
        f"({regrets[index].mean():.2f} mean, {regrets[index].max():.1f} worst)"
    )
    held_out = []
    for j, task in enumerate(table.tasks):
        others = [t for t in range(len(table.tasks)) if t != j]
        pick = min(
            range(len(names)),
            key=lambda i: (regrets[i, others].max(), regrets[i, others].mean(), i),
        )
        held_out.append(regrets[pick, j])
        print(f"  leave out {task}: picks {names[pick]}, regret there {regrets[pick, j]:.1f}")
    print(f"Leave one tuning task out: mean {np.mean(held_out):.2f}, worst {np.max(held_out):.1f}")
    if evaluation:
        shown = {
            "chosen": rules[chosen],
            "chosen, no flat start": rules[safe],
            "current default": rules["current"],
            **{name: rules[name] for name in ("valley", "slide", "minimum", "steep")},
        }
        final = evaluate.score_methods(evaluation, shown)
        print(f"\nOn the {len(evaluation)} evaluation tasks (never used above):")
        for method in final.methods:
            answers = flat_start_answers(evaluation, shown[method]) if method in shown else 0
            print(
                f"  {evaluate.label(method):>24}: mean "
                f"{final.mean_regret(method):5.2f}, worst {final.worst_regret(method):5.1f}, "
                f"misses {final.misses(method)}, flat-start answers {answers}"
            )
        for task in final.tasks:
            print(
                f"    {task}: chosen {final.regret(task, 'chosen'):.1f}, no flat start "
                f"{final.regret(task, 'chosen, no flat start'):.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
