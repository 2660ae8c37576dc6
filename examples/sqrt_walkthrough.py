"""
The square-root network, step by step
=====================================

The learner's entry point to nnscratch. A 1-10-1 ReLU network learns y = sqrt(x) from 500
noisy samples. It is written with nnscratch layers and a hand-written loop, so every line
maps onto one file::

    nnscratch/layers.py       Linear: forward y = x @ W + b, backward dW = x.T @ grad_out
    nnscratch/activations.py  ReLU: forward max(x, 0), backward grad_out * (x > 0)
    nnscratch/losses.py       MSELoss: forward mean((pred - t)^2), backward 2 (pred - t) / N
    nnscratch/optim.py        SGD: p -= lr * p.grad

It trains twice: first on the raw data, as the question did, then standardised. On raw x
(0 to about 3000) every hidden unit's kink, at x = -b / w, starts at x = 0, left of all the
data; each unit is on for every sample or for none, and the network is a straight line.
Standardised, the kinks fall inside the data and the fit bends. ``nnscratch repro sqrt``
runs the full study (300 000 steps, four variants, figures, the doctor's verdict).

Run it with ``python examples/sqrt_walkthrough.py`` (30 000 steps per fit). With
``NNSCRATCH_QUICK_EXAMPLES=1``, as the documentation build sets it, each fit runs 5000 steps.
"""

from __future__ import annotations

import os

import numpy as np

import nnscratch as ns
from nnscratch import init, optim

# The documentation build runs every example; a shorter run shows the same straight line and bend.
STEPS = 5_000 if os.environ.get("NNSCRATCH_QUICK_EXAMPLES") else 30_000


def train(x: np.ndarray, y: np.ndarray, lr: float, steps: int, seed: int = 0) -> ns.MLP:
    net = ns.MLP([1, 10, 1], init=init.normal(0.01), rng=seed)  # Linear(1,10), ReLU, Linear(10,1)
    loss_fn = ns.MSELoss(reduction="mean")
    opt = optim.SGD(net.parameters(), lr=lr)
    for step in range(steps):
        pred = net(x)  # forward: each layer keeps what its backward needs
        loss = loss_fn(pred, y)  # a Python float
        opt.zero_grad()  # gradients add up (+=) until reset, as in torch
        net.backward(loss_fn.backward())  # d loss / d pred, then the chain rule layer by layer
        opt.step()  # p.data -= lr * p.grad for every parameter
        if step % (steps // 4) == 0 or step == steps - 1:
            print(f"  step {step:6d}  loss {loss:.5g}")
    return net


def kinks_inside(net: ns.MLP, x_model: np.ndarray) -> int:
    """How many hidden units switch on or off somewhere inside the data (as the model sees it)."""
    w, b = net[0].W.data.ravel(), net[0].b.data.ravel()
    k = -b / w
    return int(((k > x_model.min()) & (k < x_model.max())).sum())


def main() -> None:
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((500, 1)) * 1000)  # x: (500, 1), all positive, up to ~3000
    y = np.sqrt(x) + 0.5 * rng.standard_normal((500, 1))  # y: (500, 1)

    print(f"raw data, step 1e-6 (the question's settings, {STEPS} of its 300 000 steps):")
    raw = train(x, y, lr=1e-6, steps=STEPS)
    print(f"  kinks inside the data: {kinks_inside(raw, x)} of 10  -> a straight line")

    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    print("standardised x and y, step 1e-2:")
    fixed = train(xs, ys, lr=1e-2, steps=STEPS)
    print(f"  kinks inside the data: {kinks_inside(fixed, xs)} of 10  -> the fit bends")
    for x_new in (100.0, 1000.0, 2500.0):
        pred = fixed(np.array([[(x_new - x.mean()) / x.std()]])) * y.std() + y.mean()
        print(f"  x = {x_new:6.0f}: predicted {pred.item():6.2f}, sqrt(x) = {np.sqrt(x_new):6.2f}")

    import matplotlib.pyplot as plt

    grid = np.linspace(0.0, float(x.max()), 400)[:, None]
    _, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.scatter(x, y, s=4, alpha=0.35, color="0.5", label="data: sqrt(x) + noise")
    ax.plot(grid, raw(grid), color="C3", label="raw x, step 1e-6: a straight line")
    ax.plot(grid, fixed((grid - x.mean()) / x.std()) * y.std() + y.mean(), color="C0", label="standardised, step 1e-2")
    ax.plot(grid, np.sqrt(grid), "k--", lw=0.8, label="sqrt(x)")
    ax.set(xlabel="x", ylabel="y", title=f"1-10-1 ReLU network after {STEPS} steps")
    ax.legend(fontsize=8)
    plt.show()


if __name__ == "__main__":
    main()
