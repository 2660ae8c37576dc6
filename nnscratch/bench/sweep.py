"""Wall time of a seed sweep with one worker process against two (or more).

``python -m nnscratch.bench.sweep [--repeats 3] [--jobs 2] [--all] [--all-full] [--json PATH]`` times, in one run,
``repro.sweep("sqrt", 4, quick=True)`` (4 seeds x 4 variants = 16 runs) with ``jobs=1`` and with
``--jobs`` worker processes, alternately, and prints each pair's ratio and their median (the goal
on two cores: at most 0.6). ``--all`` times ``nnscratch repro all --quick`` the same way (every
variant of every scenario, seed 0), which is where runs of very different lengths have to be
shared out; ``--all-full`` times one pair of ``nnscratch repro all`` at full length.

Every parallel measurement starts its workers afresh, as the command line does, so the ratio
includes starting them. The two runs of a pair follow each other and see about the same load;
on a machine shared with other work the ratios still scatter, which is why each is printed with
the cores the parallel run actually got (its CPU seconds over its wall seconds): where other
programs keep the cores busy, a second worker process gains little, and where the kernel shares
the CPU fairly between groups of processes (Linux autogroup) it gains nothing at all.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

from nnscratch.repro import names
from nnscratch.repro.sweep import same_metrics, sweeps

from . import machine


def _fresh_workers() -> None:
    """Stop joblib's reusable loky workers, so the next parallel call pays for starting them."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the loky workers, once shut down)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return math.nan
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``work()``, and its value; the workers are shut down so their CPU time counts."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    out = work()
    wall = time.perf_counter() - start
    _fresh_workers()
    return wall, _cpu_seconds() - cpu, out


def compare(
    label: str, plan: dict[str, Any], seeds: int, jobs: int, repeats: int, quick: bool = True
) -> dict[str, Any]:
    """``repeats`` pairs of (jobs=1, jobs=``jobs``) runs of the same sweeps; checks they agree bit for bit."""
    pairs: list[tuple[float, float]] = []
    loads: list[float] = []
    cores: list[float] = []
    _fresh_workers()
    for _ in range(repeats):
        serial_s, _, serial = _timed(lambda: sweeps(plan, seeds, quick=quick, jobs=1, progress=False))
        parallel_s, parallel_cpu, parallel = _timed(lambda: sweeps(plan, seeds, quick=quick, jobs=jobs, progress=False))
        if not all(same_metrics(a, b) for a, b in zip(serial, parallel)):
            raise AssertionError(f"{label}: jobs=1 and jobs={jobs} gave different metrics")
        pairs.append((serial_s, parallel_s))
        ratio, load = parallel_s / serial_s, os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
        # CPU seconds over wall seconds: how many cores the parallel run actually got. Well below ``jobs``
        # means other work shared the cores (so does a load average above ``jobs``), and the ratio says little.
        cores.append(round(parallel_cpu / parallel_s, 2))
        loads.append(round(load, 2))
        times = f"jobs=1 {serial_s:6.1f} s, jobs={jobs} {parallel_s:6.1f} s"
        print(f"  {label}: {times}, ratio {ratio:.3f} (jobs={jobs} got {cores[-1]:.2f} cores; load average {load:.1f})")
    runs = sum(len(s.runs) for s in serial)
    ratios = [p / s for s, p in pairs]
    return {
        "case": label,
        "runs": runs,
        "jobs": jobs,
        "seconds_jobs_1": [round(s, 2) for s, _ in pairs],
        f"seconds_jobs_{jobs}": [round(p, 2) for _, p in pairs],
        "ratios": [round(r, 3) for r in ratios],
        "median_ratio": round(median(ratios), 3),
        "cores_used_by_parallel_run": cores,
        "load_average_after_pair": loads,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnscratch.bench.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="pairs of measurements per case (default: 3)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes to compare with one (default: 2)")
    parser.add_argument("--all", action="store_true", help="also time `repro all --quick` (about a minute a run)")
    parser.add_argument(
        "--all-full",
        action="store_true",
        help="also time `repro all` at full length, one pair (the sequential run takes tens of minutes)",
    )
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    info = machine.describe()
    for key, value in info.items():
        print(f"{key:13s} {value}")
    results = [compare("sqrt, 4 seeds, quick", {"sqrt": None}, 4, args.jobs, args.repeats)]
    if args.all:
        results.append(compare("repro all, seed 0, quick", dict.fromkeys(names()), 1, args.jobs, args.repeats))
    if args.all_full:
        everything = dict.fromkeys(names())
        results.append(compare("repro all, seed 0, full length", everything, 1, args.jobs, 1, quick=False))
    print()
    for r in results:
        print(
            f"{r['case']} ({r['runs']} runs): median ratio jobs={r['jobs']} / jobs=1 = {r['median_ratio']:.3f} "
            f"(pairs: {', '.join(f'{x:.3f}' for x in r['ratios'])}; goal <= 0.6)"
        )
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
