"""Gradient-check time: nnscratch full vs fast mode, and torch.autograd.gradcheck on the same network.

The network is an MLP 32-96-64-1 with ReLU (9,441 parameters) on a batch of 16 with an
MSE loss, in float64; every checker checks the input and every parameter. torch's
checker gets the same function written with torch operations (``x @ W + b`` on the same
weights), on one thread by default: on matrices this small torch's thread pool only adds
synchronisation, and on a busy machine it made each forward pass 80 times slower.
Not a test: it prints times and ratios. ``python -m nnscratch.bench.bench_gradcheck``,
or ``run()`` from ``nnscratch bench``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import nnscratch as ns
from nnscratch.gradcheck.cases import mlp_case

SIZES, QUICK_SIZES = [32, 96, 64, 1], [8, 24, 16, 1]
BATCH = 16


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def _torch_checker(model: ns.MLP, x: np.ndarray, y: np.ndarray, threads: int | None) -> Callable[[bool], bool] | None:
    try:
        import torch  # optional: the torch.autograd contender only
    except ImportError:
        return None
    params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in model.parameters()]
    inputs = (torch.tensor(x, requires_grad=True), *params)
    target = torch.tensor(y)

    def f(x: Any, *weights: Any) -> Any:
        h = x
        for i in range(0, len(weights), 2):
            h = h @ weights[i] + weights[i + 1]
            if i + 2 < len(weights):
                h = torch.relu(h)
        return ((h - target) ** 2).mean()

    def check(fast: bool) -> bool:
        before = torch.get_num_threads()
        torch.set_num_threads(threads or before)
        try:
            return bool(torch.autograd.gradcheck(f, inputs, fast_mode=fast))
        finally:
            torch.set_num_threads(before)

    return check


def run(quick: bool = False, torch_threads: int | None = 1) -> list[dict[str, Any]]:
    """Time each checker on the same network; one row per checker and mode.

    ``per_nnscratch_full`` / ``per_nnscratch_fast``: the row's time divided by nnscratch's
    full-mode time / fast-mode time (2 probes, the default); above 1, nnscratch is faster.

    torch_threads: torch's threads while its checker runs (None: leave torch's setting).
    """
    sizes = QUICK_SIZES if quick else SIZES
    model, x, y = mlp_case(sizes, "relu", batch=BATCH, rng=0)
    loss = ns.MSELoss()
    n_params = sum(p.data.size for p in model.parameters())
    repeats = 1 if quick else 5
    full_s, full = _time(lambda: ns.check_model(model, loss, x, y, rng=0), 1)
    rows = [
        {
            "checker": "nnscratch check_model",
            "mode": "full",
            "seconds": full_s,
            "evaluations": full.evaluations,
            "passed": full.passed,
        }
    ]
    for probes in (2, 1):
        seconds, fast = _time(
            functools.partial(ns.check_model, model, loss, x, y, rng=0, fast=True, probes=probes), repeats
        )
        rows.append(
            {
                "checker": "nnscratch check_model",
                "mode": f"fast ({probes} probe{'s' * (probes > 1)})",
                "seconds": seconds,
                "evaluations": fast.evaluations,
                "passed": fast.passed,
            }
        )
    torch_check = _torch_checker(model, x, y, torch_threads)
    if torch_check is not None:
        for mode, is_fast in (("slow", False), ("fast", True)):
            seconds, passed = _time(functools.partial(torch_check, is_fast), repeats if is_fast else 1)
            rows.append(
                {
                    "checker": "torch.autograd.gradcheck",
                    "mode": mode,
                    "seconds": seconds,
                    "evaluations": None,
                    "passed": passed,
                }
            )
    fast_s = rows[1]["seconds"]
    for row in rows:
        row.update(
            parameters=n_params,
            per_nnscratch_full=row["seconds"] / full_s,
            per_nnscratch_fast=row["seconds"] / fast_s,
            seconds=round(row["seconds"], 5),
        )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    columns = [
        "checker",
        "mode",
        "parameters",
        "evaluations",
        "seconds",
        "per_nnscratch_full",
        "per_nnscratch_fast",
        "passed",
    ]
    cells = [columns] + [[f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells)


def main(argv: Sequence[str] | None = None, prog: str = "python -m nnscratch.bench.bench_gradcheck") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller network, one repeat: a smoke run")
    args = parser.parse_args(argv)
    print(_table(run(quick=args.quick)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
