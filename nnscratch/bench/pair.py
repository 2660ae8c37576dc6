"""The square-root step against the hand-written loop alone: ``python -m nnscratch.bench.pair``.

The full benchmark (``python -m nnscratch.bench``) times three contenders in blocks of about
30 ms. This times only nnscratch and the hand-written NumPy loop, in short blocks and many
alternating rounds, with the garbage collector paused (as ``timeit`` does), and prints both
the median of the per-round ratios and the ratio of the two fastest rounds. On a shared
machine the fastest rounds are the ones least disturbed by other tenants.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from threadpoolctl import threadpool_limits

from . import problems
from .cases import ENGINE, HAND
from .contenders import handwritten_step, nnscratch_step
from .timing import compare, ratio

ROUNDS = 301  # alternating rounds of short blocks: enough for the median of the per-round ratios to settle


def pair(rounds: int = ROUNDS, block_seconds: float = 0.005) -> tuple[float, float, float, float]:
    """Median per-step seconds of nnscratch and of the hand-written loop, the median of the
    per-round ratios, and the ratio of the fastest rounds."""
    problem = problems.sqrt_problem()
    steps = {ENGINE: nnscratch_step(problem), HAND: handwritten_step(problem)}
    gc.collect()
    gc.disable()
    try:
        with threadpool_limits(1):
            timings = compare(steps, rounds, block_seconds, warmup_seconds=0.2, label="sqrt pair")
    finally:
        gc.enable()
    engine, hand = timings[ENGINE], timings[HAND]
    return engine.median, hand.median, ratio(timings, ENGINE, HAND), min(engine.per_round) / min(hand.per_round)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnscratch.bench.pair", description=__doc__.split("\n\n")[1])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"alternating rounds (default: {ROUNDS})")
    args = parser.parse_args(argv)
    engine, hand, median_ratio, fastest = pair(args.rounds)
    print(
        f"sqrt 1-10-1 N=500: nnscratch {engine * 1e6:.1f} us, hand-written NumPy {hand * 1e6:.1f} us per step; "
        f"median of per-round ratios {median_ratio:.3f}, fastest rounds {fastest:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
