"""How much of the engine one training step runs: ``python -m nnscratch.bench.step_lines``.

A learner who follows one step of the square-root loop through the source (zero_grad,
forward, loss, backward, SGD step) reads every line this counts: the distinct lines of
the ``nnscratch`` package that execute during one step in steady state (after two warm-up
steps, so that first-call work is not counted), found with :func:`sys.settrace`.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

import nnscratch as ns

PACKAGE = Path(ns.__file__).resolve().parent


def sqrt_step() -> Any:
    """The square-root net of the README (1-10-1, 500 standardised samples) and one SGD step on it."""
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((500, 1)) * 1000)
    y = np.sqrt(x) + 0.5 * rng.standard_normal((500, 1))
    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    net = ns.MLP([1, 10, 1], rng=0)
    loss_fn = ns.MSELoss()
    opt = ns.optim.SGD(net.parameters(), lr=0.05)

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(net(xs), ys)
        net.backward(loss_fn.backward())
        opt.step()
        return loss

    return step


def engine_lines(step: Any, warmup: int = 2) -> dict[str, set[int]]:
    """The distinct package lines (per file, relative to the package) that one call of ``step`` runs."""
    for _ in range(warmup):
        step()
    seen: dict[str, set[int]] = defaultdict(set)

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        path = Path(frame.f_code.co_filename)
        if not path.is_relative_to(PACKAGE) or path.parent.name == "bench":
            return None  # the engine only: not NumPy, not the standard library, not this script
        if event == "line":
            seen[str(path.relative_to(PACKAGE))].add(frame.f_lineno)
        return tracer

    sys.settrace(tracer)
    try:
        step()
    finally:
        sys.settrace(None)
    return dict(seen)


def report(seen: dict[str, set[int]]) -> str:
    """One line per file with its line count, then the total."""
    lines = [f"{name:24s} {len(numbers):3d} lines" for name, numbers in sorted(seen.items())]
    total = sum(len(numbers) for numbers in seen.values())
    lines.append(f"{'total':24s} {total:3d} lines in {len(seen)} files")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnscratch.bench.step_lines",
        description="Count the distinct engine lines one training step of the square-root loop executes.",
    )
    parser.add_argument("--show", action="store_true", help="also print every counted line of source")
    args = parser.parse_args(argv)
    seen = engine_lines(sqrt_step())
    print(report(seen))
    if args.show:
        for name, numbers in sorted(seen.items()):
            source = (PACKAGE / name).read_text().splitlines()
            for n in sorted(numbers):
                print(f"{name}:{n}: {source[n - 1].strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
