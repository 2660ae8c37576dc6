"""What watching costs: ``python -m nnscratch.bench.doctor.overhead [--full] [--repeats N]``.

Times ``fit`` and the reproductions with and without an attached :class:`~nnscratch.Doctor`,
the two runs of a pair one after the other (so they share the machine's load), and prints
the median of the paired ratios: the doctor's goals are at most 1.05 on ``fit`` at its
defaults and at most 1.2 on a reproduction, quick or full length.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Sequence
from statistics import median

from nnscratch import repro

from .__main__ import PAIRS, overhead


def repro_ratio(name: str, quick: bool, repeats: int) -> tuple[float, float, float]:
    """Median seconds of ``repro.run(name)`` without and with ``doctor=True``, and the median paired ratio."""

    def once(doctor: bool) -> float:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            repro.run(name, "failure", quick=quick, doctor=doctor, progress=False)
        return time.perf_counter() - start

    pairs = [(once(False), once(True)) for _ in range(repeats)]
    return median(p for p, _ in pairs), median(d for _, d in pairs), median(d / p for p, d in pairs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnscratch.bench.doctor.overhead", description=__doc__.split("\n\n")[1].replace("``", "")
    )
    parser.add_argument("--full", action="store_true", help="also time the sqrt reproduction at full length")
    parser.add_argument("--repeats", type=int, default=PAIRS, help=f"pairs per measurement of fit (default: {PAIRS})")
    parser.add_argument(
        "--repro-repeats", type=int, default=5, help="pairs per measurement of the quick reproduction (default: 5)"
    )
    parser.add_argument("--scenario", default="sqrt", help="the reproduction to time (default: sqrt)")
    args = parser.parse_args(argv)
    plain, doctored, ratio = overhead(args.repeats)
    print(f"fit 4-64-64-1, 640 steps:        {plain:7.3f} s -> {doctored:7.3f} s, paired ratio {ratio:.3f}")
    for quick in (True, False) if args.full else (True,):
        plain, doctored, ratio = repro_ratio(args.scenario, quick, args.repro_repeats if quick else 1)
        form = "quick" if quick else "full length"
        print(
            f"repro {args.scenario} failure, {form:11s}: {plain:7.3f} s -> {doctored:7.3f} s, paired ratio {ratio:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
