"""Instructions per step, counted by valgrind's callgrind: ``python -m nnscratch.bench.instructions``.

A time measured on a shared machine moves with the load of other programs; the number of
instructions a step executes does not. This counts them for the square-root step of nnscratch
and of the hand-written NumPy loop (the two that ``python -m nnscratch.bench.pair`` times), and,
with ``--doctor``, for the ``fit`` run with and without an attached Doctor (the run that
``python -m nnscratch.bench.doctor.overhead`` times).

Each count comes from two child processes under callgrind, with the same start-up and warm-up
steps and then 0 or ``--steps`` measured steps: their difference over ``--steps`` is the count
per step, without imports and set-up. Python's hash seed and the BLAS threads are fixed, so a
count repeats to within a fraction of a percent. An instruction count is not a time: an
interpreted line and a vectorised NumPy loop retire instructions at different rates, and the
goals are judged on time. The counts show where a change of the engine adds or removes work,
whatever the load of the machine while they are taken.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .cases import ENGINE, HAND

WARMUP = 20  # steps before the measured ones: first-call work and lazily made state are not counted

# name -> what one measured unit of its work is
UNITS = {
    ENGINE: "sqrt step",
    HAND: "sqrt step",
    "fit": "fit run",
    "fit + Doctor": "fit run",
}


def _child(name: str, units: int) -> None:
    """Run inside callgrind: warm up, then ``units`` measured units of ``name``'s work."""
    if UNITS[name] == "fit run":
        from .doctor.__main__ import fit_case, fit_run

        watched = name == "fit + Doctor"
        fit_run(fit_case(), watched)  # warm-up
        cases = [fit_case() for _ in range(max(units, 1))]  # built alike with and without measured runs
        for case in cases[:units]:
            fit_run(case, watched)  # the training alone, as the overhead benchmark times it
        return
    from . import problems
    from .contenders import handwritten_step, nnscratch_step

    step = (nnscratch_step if name == ENGINE else handwritten_step)(problems.sqrt_problem())
    for _ in range(WARMUP + units):
        step()


def _total(name: str, units: int, valgrind: str) -> int:
    """Instructions callgrind counted in a child process that ran ``units`` measured units of ``name``."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
        command += ["-m", "nnscratch.bench.instructions", "--child", name, str(units)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"callgrind run of {name!r} failed ({done.returncode}): {done.stderr[-2000:]}")
        found = re.search(r"^totals:\s*(\d+)", out.read_text(), re.MULTILINE)
        if found is None:
            raise RuntimeError(f"no 'totals:' line in callgrind's output for {name!r}")
        return int(found.group(1))


def per_unit(name: str, units: int, valgrind: str = "valgrind") -> float:
    """Instructions per unit of ``name``'s work: (count with ``units`` units - count with none) / units."""
    if name not in UNITS:
        raise ValueError(f"name must be one of {sorted(UNITS)}, got {name!r}")
    if units < 1:
        raise ValueError(f"units must be at least 1, got {units}")
    return (_total(name, units, valgrind) - _total(name, 0, valgrind)) / units


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnscratch.bench.instructions",
        description=__doc__.split("\n\n")[1],
        epilog="exit status: 0 counted, 1 valgrind missing or a count failed, 2 usage error",
    )
    parser.add_argument("--steps", type=int, default=300, help="measured sqrt steps per count (default: 300)")
    parser.add_argument("--doctor", action="store_true", help="also count a fit run with and without a Doctor")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "UNITS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return 0
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed: counting instructions needs its callgrind tool", file=sys.stderr)
        return 1
    try:
        engine = per_unit(ENGINE, args.steps, valgrind)
        hand = per_unit(HAND, args.steps, valgrind)
        print(
            f"sqrt 1-10-1 N=500: nnscratch {engine:,.0f}, hand-written NumPy {hand:,.0f} instructions per step; "
            f"ratio {engine / hand:.3f}"
        )
        if args.doctor:
            plain, watched = per_unit("fit", 1, valgrind), per_unit("fit + Doctor", 1, valgrind)
            print(
                f"fit 4-64-64-1, 640 steps: {plain:,.0f} instructions, with a Doctor {watched:,.0f}; "
                f"ratio {watched / plain:.3f}"
            )
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
