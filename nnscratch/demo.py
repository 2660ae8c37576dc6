"""The first thing to run: the 1-10-1 ReLU network learning y = sqrt(x), written out by hand.

This is a hand-written training loop on purpose: a learner can read every step
(forward, loss, backward, update, zero_grad) and map it onto the engine's files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .layers import MLP
from .losses import MSELoss


def sqrt_data(n: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x = |N(0, 1000²)|, y = sqrt(x) + N(0, 0.5²), both of shape (n, 1)."""
    rng = np.random.default_rng(seed)
    x = np.abs(rng.standard_normal((n, 1)) * 1000)
    return x, np.sqrt(x) + rng.standard_normal((n, 1)) * 0.5


def train_sqrt(steps: int = 5000, lr: float = 0.05, seed: int = 0) -> dict:
    """Fit the square-root network on standardised data with full-batch gradient descent."""
    x, y = sqrt_data(seed=seed)
    x_mean, x_std, y_mean, y_std = x.mean(), x.std(), y.mean(), y.std()
    xs, ys = (x - x_mean) / x_std, (y - y_mean) / y_std
    net, loss_fn = MLP([1, 10, 1], rng=seed), MSELoss()
    losses = []
    for _ in range(steps):
        losses.append(loss_fn(net(xs), ys))
        net.zero_grad()
        net.backward(loss_fn.backward())
        for p in net.parameters():
            p.data -= lr * p.grad
    grid = np.linspace(x.min(), x.max(), 400)[:, None]
    fit = net((grid - x_mean) / x_std) * y_std + y_mean
    return {"x": x, "y": y, "grid": grid, "fit": fit, "losses": np.array(losses)}


def run_demo(out: str | Path = "figures", steps: int = 5000) -> Path:
    """Train, print the loss, and write ``demo_sqrt.png`` into ``out``; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = train_sqrt(steps=steps)
    losses = result["losses"]
    for step in (0, steps // 10, steps // 2, steps - 1):
        print(f"step {step:6d}  loss (standardised units) {losses[step]:.5f}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    ax_fit.scatter(result["x"], result["y"], s=4, alpha=0.4, label="data: sqrt(x) + noise")
    ax_fit.plot(result["grid"], result["fit"], color="C3", label="1-10-1 ReLU network")
    ax_fit.set(xlabel="x", ylabel="y", title="Square-root fit (standardised inputs)")
    ax_fit.legend()
    ax_loss.semilogy(losses)
    ax_loss.set(xlabel="step", ylabel="MSE (standardised)", title="Training loss")
    fig.tight_layout()
    path = out / "demo_sqrt.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"figure written to {path}")
    return path
