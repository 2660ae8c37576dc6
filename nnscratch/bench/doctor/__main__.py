"""Score the doctor on the labelled runs and measure its overhead on ``fit``.

``python -m nnscratch.bench.doctor [--set tuning|heldout|both] [--seeds 0 1 2] [--verbose]``
prints, per code, how many of the broken runs that demonstrate it the doctor named (recall),
the share of healthy runs it raised any problem on (false alarms), and the wall-time ratio
of ``fit`` with and without a Doctor at its default sampling interval. The tuning set
(cases.py, and retired.py: held-out runs that moved there after a threshold changed) is the
one the thresholds were tuned on; the held-out set (heldout.py) was labelled before the
doctor was run on it and is never used to tune it, so its figures estimate how the doctor
does on runs it was not fitted to. Both are reported separately.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

import nnscratch as ns
from nnscratch.doctor import Doctor
from nnscratch.optim import Adam

from . import heldout, retired
from .cases import CASES, Case, train

# name -> (cases, the loop that runs one, a title)
SETS: dict[str, tuple[list, Callable[..., Any], str]] = {
    "tuning": (CASES + retired.RETIRED, train, "tuning set (thresholds tuned on it)"),
    "heldout": (heldout.HELDOUT, train, "held-out set (labelled before the doctor saw it, never tuned on)"),
}


@dataclass
class Outcome:
    """One run of one case: what was expected, what the doctor said."""

    name: str
    seed: int
    expect: tuple[str, ...]
    codes: list[str]
    healthy: bool  # the report's verdict: no problem found

    @property
    def missed(self) -> list[str]:
        return [c for c in self.expect if c not in self.codes]

    @property
    def ok(self) -> bool:
        return not self.missed and (bool(self.expect) or self.healthy)


@dataclass
class Score:
    """Recall (expected codes found / expected codes, over the broken runs) and false alarms
    (healthy runs with any problem / healthy runs)."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def per_code(self) -> dict[str, tuple[int, int]]:
        hits: Counter[str] = Counter()
        totals: Counter[str] = Counter()
        for o in self.outcomes:
            for code in o.expect:
                totals[code] += 1
                hits[code] += code in o.codes
        return {c: (hits[c], totals[c]) for c in sorted(totals)}

    @property
    def recall(self) -> tuple[int, int]:
        per_code = self.per_code.values()
        return sum(h for h, _ in per_code), sum(t for _, t in per_code)

    @property
    def false_alarms(self) -> tuple[int, int]:
        healthy = [o for o in self.outcomes if not o.expect]
        return sum(not o.healthy for o in healthy), len(healthy)


def tally(outcomes: Iterable[Outcome]) -> Score:
    return Score(list(outcomes))


def _ratio(pair: tuple[int, int]) -> str:
    hit, total = pair
    return f"{hit}/{total} = {hit / total:.0%}" if total else f"{hit}/0"


def evaluate(cases: Sequence[Case], run: Callable[..., Any], seeds: Sequence[int], verbose: bool = False) -> Score:
    """Train every case on every seed under a ``Doctor()`` and compare its report with the label."""
    outcomes = []
    for case in cases:
        for seed in seeds:
            doctor = Doctor()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the broadcasting cases warn at every step, on purpose
                    run(case, seed, [doctor])
            except Exception as exc:  # the doctor stopped the run: no report, every expected code missed
                o = Outcome(case.name, seed, tuple(case.expect), [f"raised {type(exc).__name__}"], False)
            else:
                report = doctor.report()
                o = Outcome(case.name, seed, tuple(case.expect), list(report.codes), report.healthy)
            outcomes.append(o)
            if verbose or not o.ok:
                print(
                    f"{'ok ' if o.ok else 'BAD'} {case.name:34s} seed {seed}: expected {list(o.expect) or 'healthy'}, "
                    f"got {o.codes or 'healthy'}"
                )
    return tally(outcomes)


def score(seeds: list[int], verbose: bool = False) -> tuple[dict[str, tuple[int, int]], int, int]:
    """The tuning set's per-code recall, false alarms and healthy runs (see :func:`evaluate`)."""
    result = evaluate(CASES, train, seeds, verbose)
    alarms, healthy = result.false_alarms
    return result.per_code, alarms, healthy


def _print_score(result: Score) -> None:
    print(f"\n{'code':20s} recall")
    for code, pair in result.per_code.items():
        print(f"{code:20s} {_ratio(pair)}")
    print(f"{'overall':20s} {_ratio(result.recall)}")
    print(f"false alarms on healthy runs: {_ratio(result.false_alarms)}")


# Pairs in one overhead measurement: with 21, the median still moved by about the size of the 5% goal
# from one process to the next (the doctor's reference page has the measurements).
PAIRS = 61


def fit_case() -> tuple[Any, ...]:
    """What the overhead's runs train: a 4-64-64-1 MLP with Adam on 2048 rows, built afresh each time
    (the data are the same every time)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2048, 4))
    y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]
    net = ns.MLP([4, 64, 64, 1], rng=0)
    return net, ns.MSELoss(), Adam(net.parameters(), 1e-3), X, y


def fit_run(case: tuple[Any, ...], with_doctor: bool) -> None:
    """The run whose cost the overhead measures: ``fit`` on ``case`` (:func:`fit_case`), 10 epochs in
    batches of 32 (640 steps), with a Doctor attached before it and its report after it, or without."""
    net, loss_fn, opt, X, y = case
    doctor = Doctor(net, loss_fn, opt) if with_doctor else None  # attached: it watches what follows
    ns.fit(net, X, y, loss_fn, opt, epochs=10, batch_size=32, rng=0, progress=False)
    if doctor is not None:
        doctor.report()


def overhead(repeats: int = PAIRS) -> tuple[float, float, float]:
    """Median wall time of :func:`fit_run` (the training, not building the case) without and with a
    Doctor() at its defaults, and the median of the per-pair ratios: the two runs of a pair follow each
    other, so a pair sees the same load.

    The pairs alternate which run goes first, and the garbage collector is paused while a run is
    timed (as ``timeit`` does), so neither order nor a collection falls on one side. A single pair's
    ratio moves by 10-20% with a shared machine's load, so the median needs many pairs to settle
    (:data:`PAIRS`). For stable numbers run with OMP_NUM_THREADS=1 (a multi-threaded BLAS can make
    the probe's larger matrix products wake idle threads).
    """

    def once(with_doctor: bool) -> float:
        case = fit_case()
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fit_run(case, with_doctor)
            return time.perf_counter() - start
        finally:
            gc.enable()

    times = []
    for i in range(repeats):
        if i % 2:
            doctored = once(True)
            times.append((once(False), doctored))
        else:
            times.append((once(False), once(True)))
    return (median(t for t, _ in times), median(t for _, t in times), median(d / p for p, d in times))


def main(argv: Sequence[str] | None = None, prog: str = "python -m nnscratch.bench.doctor") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 done (the scores are printed, not judged), 2 usage error",
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], metavar="SEED", help="seeds of each case (default: 0 1 2)"
    )
    parser.add_argument("--verbose", action="store_true", help="print every case and seed, not only the misses")
    parser.add_argument(
        "--set",
        choices=("tuning", "heldout", "both"),
        default="tuning",
        dest="which",
        help="which labelled runs to score: the tuning set, the held-out set, or both, reported separately "
        "(default: tuning)",
    )
    parser.add_argument("--no-overhead", action="store_true", help="skip the overhead measurement on fit")
    args = parser.parse_args(argv)
    names = ("tuning", "heldout") if args.which == "both" else (args.which,)
    summary = []
    for name in names:
        cases, run, title = SETS[name]
        n_broken = sum(1 for c in cases if c.expect)
        print(f"\n== {title}")
        print(f"{len(cases)} labelled runs ({n_broken} broken, {len(cases) - n_broken} healthy) x seeds {args.seeds}")
        start = time.perf_counter()
        result = evaluate(cases, run, args.seeds, args.verbose)
        seconds = time.perf_counter() - start
        _print_score(result)
        print(f"({seconds:.0f} s)")
        summary.append((name, result, seconds))
    if len(summary) > 1:
        print(f"\n{'set':10s} {'recall':>20s} {'false alarms':>20s}")
        for name, result, _ in summary:
            print(f"{name:10s} {_ratio(result.recall):>20s} {_ratio(result.false_alarms):>20s}")
    if args.no_overhead:
        return 0
    plain, doctored, ratio = overhead()
    print(
        f"\noverhead on fit (4-64-64-1, 2048 rows, batch 32, 10 epochs, an attached Doctor at its defaults, "
        f"report included): median {plain:.3f} s -> {doctored:.3f} s, median of paired ratios {ratio - 1:+.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
