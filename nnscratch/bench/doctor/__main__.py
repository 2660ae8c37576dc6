"""Score the doctor on the labelled runs and measure its overhead on ``fit``.

``python -m nnscratch.bench.doctor [--seeds 0 1 2] [--verbose]`` prints, per code, how many
of the broken runs that demonstrate it the doctor named (recall), the share of healthy
runs it raised any problem on (false alarms), and the wall-time ratio of ``fit`` with
and without a Doctor at its default sampling interval.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from statistics import median

import numpy as np

import nnscratch as ns
from nnscratch.doctor import Doctor
from nnscratch.optim import Adam

from .cases import CASES, train


def score(seeds: list[int], verbose: bool = False) -> tuple[dict[str, tuple[int, int]], int, int]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    alarms, healthy = 0, 0
    for case in CASES:
        for seed in seeds:
            doctor = Doctor()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the broadcasting cases warn at every step, on purpose
                train(case, seed, [doctor])
            report = doctor.report()
            found = set(report.codes)
            if case.expect:
                for code in case.expect:
                    totals[code] += 1
                    hits[code] += code in found
            else:
                healthy += 1
                alarms += not report.healthy
            missed = [c for c in case.expect if c not in found]
            flag = "ok " if (not missed and (case.expect or report.healthy)) else "BAD"
            if verbose or flag == "BAD":
                print(
                    f"{flag} {case.name:30s} seed {seed}: expected {list(case.expect) or 'healthy'}, "
                    f"got {report.codes or 'healthy'}"
                )
    return {c: (hits[c], totals[c]) for c in sorted(totals)}, alarms, healthy


def overhead(repeats: int = 15) -> tuple[float, float, float]:
    """Median wall time of ``fit`` without and with a Doctor() (its default interval), and the median
    of the per-pair ratios: the two runs of a pair follow each other, so a pair sees the same load.

    Timings on a shared machine are noisy; for stable numbers run with OMP_NUM_THREADS=1
    (a multi-threaded BLAS can make the probe's larger matrix products wake idle threads).
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2048, 4))
    y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]

    def once(with_doctor: bool) -> float:
        net, loss_fn = ns.MLP([4, 64, 64, 1], rng=0), ns.MSELoss()
        opt = Adam(net.parameters(), 1e-3)
        doctor = Doctor(net, loss_fn, opt) if with_doctor else None  # attached: it watches what follows
        start = time.perf_counter()
        ns.fit(net, X, y, loss_fn, opt, epochs=10, batch_size=32, rng=0, progress=False)
        if doctor is not None:
            doctor.report()
        return time.perf_counter() - start

    times = [(once(False), once(True)) for _ in range(repeats)]
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
    args = parser.parse_args(argv)
    n_broken = sum(1 for c in CASES if c.expect)
    print(f"{len(CASES)} labelled runs ({n_broken} broken, {len(CASES) - n_broken} healthy) x seeds {args.seeds}")
    per_code, alarms, healthy = score(args.seeds, args.verbose)
    print(f"\n{'code':20s} recall")
    for code, (hit, total) in per_code.items():
        print(f"{code:20s} {hit}/{total} = {hit / total:.0%}")
    hit, total = sum(h for h, _ in per_code.values()), sum(t for _, t in per_code.values())
    print(f"{'overall':20s} {hit}/{total} = {hit / total:.0%}")
    print(f"false alarms on healthy runs: {alarms}/{healthy} = {alarms / healthy:.0%}")
    plain, doctored, ratio = overhead()
    print(
        f"\noverhead on fit (4-64-64-1, 2048 rows, batch 32, 10 epochs, an attached Doctor at its defaults, "
        f"report included): median {plain:.3f} s -> {doctored:.3f} s, median of paired ratios {ratio - 1:+.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
