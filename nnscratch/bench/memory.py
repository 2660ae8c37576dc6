"""Peak memory of one training step, against the bytes a step cannot do without.

``tracemalloc`` sees every NumPy allocation (NumPy reports its buffers to it). The
step is measured in steady state: two steps first (so optimizer state and the
activations of the previous forward exist, as they do in a training loop), then the
peak of traced memory during one more step, counted from before the problem was built.

What must exist during a step, for N samples and layer widths w_0 .. w_L:

* the batch X (N, w_0) and targets y (N, w_L);
* the parameters, their gradients, and the optimizer state (Adam: two moments per parameter);
* the activations kept for backward: each hidden layer's output (N, w_i), which the next
  layer needs for dW, plus its ReLU mask (N, w_i) of booleans (one byte each), and the
  loss's residual (N, w_L).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .problems import Problem


@dataclass
class MemoryResult:
    label: str
    contender: str
    peak: int  # bytes
    required: int  # bytes
    growth: int  # bytes of traced memory gained over ``steps`` further steps
    steps: int

    @property
    def ratio(self) -> float:
        return self.peak / self.required


def required_bytes(problem: Problem) -> dict[str, int]:
    """The bytes that must exist during one step, by kind (see the module docstring)."""
    itemsize, n = np.dtype(problem.dtype).itemsize, problem.batch
    n_params = problem.n_params
    hidden = problem.sizes[1:-1]
    return {
        "batch": problem.X.nbytes + problem.y.nbytes,
        "parameters": n_params * itemsize,
        "gradients": n_params * itemsize,
        "optimizer state": 2 * n_params * itemsize if problem.optimizer == "adam" else 0,
        "activations": sum(n * w * (itemsize + 1) for w in hidden) + n * problem.sizes[-1] * itemsize,
    }


def step_memory(
    problem: Problem, contender: str, build: Callable[[Problem], Callable[[], float]], steps: int = 20
) -> MemoryResult:
    """Peak traced bytes of one steady-state step of ``build(problem)``, and growth over ``steps`` more."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step = build(problem)
        step()
        step()
        gc.collect()
        tracemalloc.reset_peak()
        step()
        current, peak = tracemalloc.get_traced_memory()
        for _ in range(steps):
            step()
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - current
    finally:
        tracemalloc.stop()
    return MemoryResult(problem.label, contender, peak - base, sum(required_bytes(problem).values()), growth, steps)
