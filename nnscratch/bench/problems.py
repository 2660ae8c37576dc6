"""The networks and data the benchmarks train, shared by every contender.

A :class:`Problem` fixes everything but the library: layer sizes (ReLU after every
hidden layer, a linear output), batch, dtype, optimizer and learning rate, the batch
``X``, ``y`` and the initial weights. Every contender starts from the same weights
and sees the same batch, so they do the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import nnscratch as ns
from nnscratch.demo import sqrt_data


@dataclass
class Problem:
    """One benchmark case. ``weights[i]`` is layer i's ``(W, b)``, W of shape (in, out)."""

    name: str
    sizes: list[int]
    batch: int
    dtype: np.dtype
    optimizer: str  # "sgd" or "adam" (torch's algorithms, eps 1e-8)
    lr: float
    X: np.ndarray  # (batch, sizes[0])
    y: np.ndarray  # (batch, sizes[-1])
    weights: list[tuple[np.ndarray, np.ndarray]]

    @property
    def label(self) -> str:
        return f"{self.name} {np.dtype(self.dtype).name} {self.optimizer}"

    @property
    def n_params(self) -> int:
        return sum(W.size + b.size for W, b in self.weights)


def _weights(sizes: list[int], dtype: Any, init: Any, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    params = ns.MLP(sizes, init=init, rng=seed, dtype=dtype).parameters()  # W0, b0, W1, b1, ...
    return [(W.data.copy(), b.data.copy()) for W, b in zip(params[::2], params[1::2])]


def sqrt_problem() -> Problem:
    """The square-root network: 1-10-1, N=500, float64, full-batch SGD at lr 0.05 (standardised data)."""
    x, y = sqrt_data(500, seed=0)
    x, y = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    return Problem(
        "sqrt 1-10-1 N=500",
        [1, 10, 1],
        500,
        np.dtype(np.float64),
        "sgd",
        0.05,
        x,
        y,
        _weights([1, 10, 1], np.float64, None, 0),
    )


def mlp_problem(dtype: Any, optimizer: str, batch: int = 1024, sizes: tuple[int, ...] = (64, 256, 256, 1)) -> Problem:
    """A 64-256-256-1 MLP on a smooth regression target, torch's default initialisation."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((batch, sizes[0]))
    y = np.sin(X[:, :8]).sum(axis=1, keepdims=True) / 2 + 0.1 * rng.standard_normal((batch, 1))
    lr = 0.01 if optimizer == "sgd" else 1e-3
    name = f"MLP {'-'.join(map(str, sizes))} N={batch}"
    return Problem(
        name,
        list(sizes),
        batch,
        dtype,
        optimizer,
        lr,
        X.astype(dtype),
        y.astype(dtype),
        _weights(list(sizes), dtype, None, 1),
    )


def deep_narrow_problem(batch: int = 1000) -> Problem:
    """The random-targets network: 2 inputs, eleven Dense(25, relu), one output; batch 1000.

    Weights uniform in ±0.25 with zero biases and random targets in [0, 1], as in that
    document; Adam at lr 0.01 with torch's semantics (the document's Keras AMSGrad is a
    reproduction matter, not a speed one).
    """
    sizes = [2, *[25] * 11, 1]
    rng = np.random.default_rng(2)
    X = rng.standard_normal((batch, 2))
    y = rng.random((batch, 1))
    return Problem(
        f"deep narrow 2-25x11-1 N={batch}",
        sizes,
        batch,
        np.dtype(np.float64),
        "adam",
        0.01,
        X,
        y,
        _weights(sizes, np.float64, ns.init.uniform(-0.25, 0.25), 2),
    )
