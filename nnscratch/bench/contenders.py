"""One training step of a :class:`~nnscratch.bench.problems.Problem`, three ways.

* ``nnscratch_step``: the engine as a learner uses it (``MLP``, ``MSELoss``, an optimizer
  from ``nnscratch.optim``), with ``input_grad=False``: like the other two, it does not
  compute d loss / d X, which a training loop never uses;
* ``handwritten_step``: the same math written out by hand in NumPy (or CuPy), the way
  the documents' scripts do it — the floor the engine is measured against;
* ``torch_step``: ``torch.nn`` with ``torch.optim``, on the CPU or on CUDA.

Each builder returns a zero-argument callable that does one full-batch step (forward,
loss, backward, update) and returns the loss as a Python float, or raises
:class:`UnavailableError` with the reason it cannot run here.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import nnscratch as ns
from nnscratch import optim

from .problems import Problem

Step = Callable[[], float]
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8


class UnavailableError(Exception):
    """A contender that cannot run on this machine or branch (the message says why)."""


def _import_torch() -> Any:
    """torch, or :class:`UnavailableError` where it is not installed (it is optional)."""
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise UnavailableError("torch is not installed (optional: `pip install torch`)") from exc


def nnscratch_step(problem: Problem, backend: str = "numpy") -> Step:
    """The engine's step: ``zero_grad``, forward, loss, ``backward``, ``optimizer.step()``."""
    net = ns.MLP(problem.sizes, dtype=problem.dtype, backend=backend, input_grad=False)  # X is data
    params = net.parameters()
    for param, value in zip(params, (a for layer in problem.weights for a in layer)):  # W0, b0, W1, b1...
        param.data[...] = ns.to_backend(value, backend)
    X, y = ns.to_backend(problem.X, backend), ns.to_backend(problem.y, backend)
    loss_fn, lr = ns.MSELoss(), problem.lr
    opt: optim.Optimizer
    if problem.optimizer == "sgd":
        opt = optim.SGD(params, lr=lr)
    else:
        opt = optim.Adam(params, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(net(X), y)
        net.backward(loss_fn.backward())
        opt.step()
        return loss

    return step


def handwritten_step(problem: Problem, backend: str = "numpy") -> Step:
    """The same network, loss and optimizer written by hand, as a NumPy script would.

    Forward keeps each layer's input and each ReLU's mask; backward walks the layers in
    reverse and updates each one as soon as its gradient is known. Like any hand-written
    loop, it does not compute d loss / d X, which no one needs.
    """
    xp = ns.backend.xp_for(backend)
    layers = [(xp.asarray(W).copy(), xp.asarray(b).copy()) for W, b in problem.weights]
    X, y = xp.asarray(problem.X), xp.asarray(problem.y)
    lr, last = problem.lr, len(layers) - 1
    b1, b2 = ADAM_BETAS
    moments = [[xp.zeros_like(a) for a in layer for _ in range(2)] for layer in layers]  # m_W, v_W, m_b, v_b
    t = 0

    def update(i: int, grads: tuple[Any, Any]) -> None:
        for k, (param, grad) in enumerate(zip(layers[i], grads)):
            if problem.optimizer == "sgd":
                param -= lr * grad
                continue
            m, v = moments[i][2 * k], moments[i][2 * k + 1]
            m *= b1
            m += (1 - b1) * grad
            v *= b2
            v += (1 - b2) * grad * grad
            denom = xp.sqrt(v) / math.sqrt(1 - b2**t) + ADAM_EPS
            param -= (lr / (1 - b1**t)) * m / denom

    def step() -> float:
        nonlocal t
        t += 1
        inputs, masks, a = [], [], X
        for i, (W, b) in enumerate(layers):
            inputs.append(a)
            z = a @ W
            z += b
            if i < last:
                masks.append(z > 0)
                a = z * masks[-1]
        diff = z - y
        loss = float((diff * diff).sum()) / diff.size
        g = diff * (2.0 / diff.size)  # d mean((z - y)²) / dz
        for i in range(last, -1, -1):
            W = layers[i][0]
            grads = (inputs[i].T @ g, g.sum(axis=0))
            if i:
                g = (g @ W.T) * masks[i - 1]
            update(i, grads)
        return loss

    return step


def torch_step(problem: Problem, device: str = "cpu") -> Step:
    """``torch.nn.Sequential`` of Linear/ReLU, ``nn.MSELoss``, ``torch.optim.SGD``/``Adam``."""
    torch = _import_torch()
    if device == "cuda" and not torch.cuda.is_available():
        raise UnavailableError("torch has no CUDA device here")
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(problem.dtype)]
    modules: list[Any] = []
    for i, (W, b) in enumerate(problem.weights):
        linear = torch.nn.Linear(*W.shape, dtype=dtype, device=device)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))  # torch stores W as (out, in)
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, torch.nn.ReLU()] if i < len(problem.weights) - 1 else [linear]
    model = torch.nn.Sequential(*modules)
    X = torch.from_numpy(problem.X).to(device)
    y = torch.from_numpy(problem.y).to(device)
    loss_fn = torch.nn.MSELoss()
    if problem.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=problem.lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=problem.lr, betas=ADAM_BETAS, eps=ADAM_EPS)

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def products_step(problem: Problem, library: str = "numpy") -> Step:
    """Only the matrix products of one training step, in NumPy (its BLAS) or torch (its BLAS).

    Forward ``a @ W`` for every layer; backward ``a.T @ g`` for every layer and ``g @ W.T``
    for every layer but the first, on fixed arrays of the right shapes: the floor under a
    step, with no element-wise work. NumPy's time over torch's is the BLAS ratio that bounds
    how far nnscratch can beat torch on a large network.
    """
    rng = np.random.default_rng(0)
    shapes = [(problem.batch, W.shape[0]) for W, _ in problem.weights]  # each layer's input
    inputs = [rng.standard_normal(s).astype(problem.dtype) for s in shapes]
    grads = [rng.standard_normal((problem.batch, W.shape[1])).astype(problem.dtype) for W, _ in problem.weights]
    weights = [W for W, _ in problem.weights]
    if library == "torch":
        torch = _import_torch()
        inputs, grads, weights = ([torch.from_numpy(a) for a in arrays] for arrays in (inputs, grads, weights))

    def step() -> float:
        for i, (a, g, W) in enumerate(zip(inputs, grads, weights)):
            _ = a @ W, a.T @ g
            if i:
                _ = g @ W.T
        return 0.0

    return step
