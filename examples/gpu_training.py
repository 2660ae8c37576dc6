"""
The same training on the GPU
============================

The square-root network and a larger MLP on CuPy, when available. nnscratch code does not
change between backends: layers ask their arrays which module (NumPy or CuPy) to use. Only
where the arrays live changes: build the model with ``backend="cupy"`` (or
``model.to("cupy")``) and move the data with ``to_backend``. Without CuPy or a GPU this
script says so and runs on NumPy instead.

.. code-block:: console

    pip install -e '.[gpu]'          # CuPy for CUDA 12
    python examples/gpu_training.py

Each network trains 200 steps; with ``NNSCRATCH_QUICK_EXAMPLES=1``, as the documentation build
sets it, 20.
"""

from __future__ import annotations

import os
import time

import numpy as np

import nnscratch as ns
from nnscratch import optim

# The documentation build runs every example; 20 steps show the same thing, sooner.
STEPS = 20 if os.environ.get("NNSCRATCH_QUICK_EXAMPLES") else 200


def train(backend: str, sizes: list[int], n: int, steps: int, seed: int = 0) -> tuple[float, float]:
    """Standardised sqrt-like data, Adam, full batch; returns (final loss, seconds per step)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0]))
    y = np.sqrt(np.abs(x).sum(axis=1, keepdims=True))
    y = (y - y.mean()) / y.std()
    xb, yb = ns.to_backend(x, backend), ns.to_backend(y, backend)  # the data moves...
    net = ns.MLP(sizes, rng=seed, backend=backend, input_grad=False)  # ...and the parameters are made there
    loss_fn, opt = ns.MSELoss(), optim.Adam(net.parameters(), lr=1e-3)
    loss = float("nan")
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)  # a Python float: this synchronises with the GPU every step
        net.backward(loss_fn.backward())
        opt.step()
    return loss, (time.perf_counter() - start) / steps


def main() -> None:
    backends = ns.available_backends()
    if "cupy" not in backends:
        print("CuPy or a usable GPU is missing (nnscratch info says which); running on NumPy only.")
    for backend in backends:
        big = 16384 if backend == "cupy" else 1024  # a batch where a GPU pays; a smaller one on the CPU
        for sizes, n in (([1, 10, 1], 500), ([64, 256, 256, 1], big)):
            loss, per_step = train(backend, sizes, n, steps=STEPS)
            print(
                f"{backend:5s}  MLP {sizes!s:18s} batch {n:6d}: loss after {STEPS} steps {loss:.4f}, "
                f"{per_step * 1e3:.2f} ms per step"
            )


if __name__ == "__main__":
    main()
