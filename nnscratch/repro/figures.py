"""The figures of ``nnscratch repro``: one PNG per question a learner asks of the variants.

- ``NAME_loss.png``: every variant's training loss over the loss of predicting the mean
  (1 = learned nothing), on a log scale, so variants on different data scales compare.
- ``NAME_fit.png`` (1-D inputs): each variant's fit against the raw data.
- ``NAME_dead.png``: the share of dead ReLU units per layer over training, one panel per variant.
- ``NAME_spread.png`` (networks of three or more layers): the spread of each layer's output at
  initialisation and after training, which shows a signal fading with depth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .base import Result


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def plot_losses(results: list[Result], path: Path) -> Path:
    """Loss over the mean-prediction baseline, every variant on one log-scale plot."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, r in enumerate(results):
        loss = np.asarray(r.history.loss, dtype=np.float64)
        base = r.history.baseline
        if loss.size == 0:
            continue
        rel = loss / base if np.isfinite(base) and base > 0 else loss
        # Log-spaced steps: every early step (where most happens), a readable line later, not 300 000 points.
        steps = np.unique(np.geomspace(1, loss.size, 4000).astype(int)) - 1
        ax.plot(steps + 1, rel[steps], color=f"C{i}", lw=1.2, label=f"{r.variant}")
        if r.history.stopped:
            ax.plot(steps[-1] + 1, rel[steps[-1]], "x", color=f"C{i}", ms=9)
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="predicting the mean")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(
        xlabel="optimizer step",
        ylabel="training loss / loss of predicting the mean",
        title=f"{results[0].scenario}: training loss of each variant",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


def plot_fit_1d(results: list[Result], path: Path) -> Path:
    """The raw data and each variant's prediction over the data range (1-D inputs only)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x, y = results[0].X.ravel(), results[0].y.ravel()
    ax.scatter(x, y, s=5, alpha=0.35, color="0.5", label="training data")
    grid = np.linspace(x.min(), x.max(), 1000)[:, None]
    for i, r in enumerate(results):
        ax.plot(grid.ravel(), np.asarray(r.predict(grid)).ravel(), color=f"C{i}", lw=1.8, label=r.variant)
        kinks = r.extras.get("kinks_in_range")
        if kinks is not None and len(kinks):
            ax.plot(kinks, np.asarray(r.predict(np.asarray(kinks)[:, None])).ravel(), "v", color=f"C{i}", ms=6)
    ax.set(
        xlabel="x (raw)",
        ylabel="y (raw)",
        title=f"{results[0].scenario}: fits against the data (triangles: hidden units' kinks inside the data)",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def panels(n: int, width: float = 4.0, height: float = 3.2) -> tuple[Any, list[Any]]:
    plt = pyplot()
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, list(axes.ravel()[:n])


def plot_dead(results: list[Result], path: Path) -> Path:
    """Per variant: the share of dead ReLU units in each layer over training."""
    fig, axes = panels(len(results))
    cmap = pyplot().get_cmap("viridis")
    for ax, r in zip(axes, results):
        snaps = r.history.snapshots
        steps = np.array([max(s.step + 1, 0) for s in snaps])
        layers = [s.name for s in snaps[0].relus()] if snaps else []
        for j, name in enumerate(layers):
            dead = [next(s.dead for s in snap.relus() if s.name == name) for snap in snaps]
            ax.plot(
                steps,
                dead,
                color=cmap(j / max(1, len(layers) - 1)),
                lw=1.4,
                label=f"hidden layer {j + 1} (module {name})",
            )
        ax.set(xlabel="optimizer step", ylabel="share off for > 99% of probe rows", ylim=(-0.03, 1.03), title=r.variant)
        ax.grid(alpha=0.3)
        if 0 < len(layers) <= 6:
            ax.legend(fontsize=7)
        elif layers:  # too many lines for a legend: the colour says how deep the layer is
            norm = pyplot().Normalize(1, len(layers))
            bar = fig.colorbar(pyplot().cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax)
            bar.set_label("hidden layer (1 = next to the input)")
    fig.suptitle(f"{results[0].scenario}: dead ReLU units per layer")
    return save_figure(fig, path)


def plot_spread(results: list[Result], path: Path) -> Path:
    """Per variant: the spread of every Linear layer's output, at initialisation and after training."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, r in enumerate(results):
        snaps = r.history.snapshots
        if not snaps:
            continue
        for snap, style, when in ((snaps[0], ":", "init"), (snaps[-1], "-", "trained")):
            spreads = [s.spread if s.spread > 0 else np.nan for s in snap.linears()]  # 0 (dead) leaves a gap
            ax.plot(
                np.arange(1, len(spreads) + 1),
                spreads,
                style,
                marker="o",
                ms=3,
                color=f"C{i}",
                label=f"{r.variant} ({when})",
            )
    ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(
        xlabel="Linear layer (depth)",
        ylabel="spread of the layer's output over samples",
        title=f"{results[0].scenario}: signal spread through depth (dotted: at init, solid: trained)",
    )
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


def write_figures(results: list[Result], out: str | Path) -> list[Path]:
    """Write every figure that applies to these variants of one scenario; return the paths."""
    from .base import get

    out = Path(out)
    name = results[0].scenario.replace("-", "_")
    paths = [plot_losses(results, out / f"{name}_loss.png")]
    if results[0].X.ndim == 2 and results[0].X.shape[1] == 1:
        paths.append(plot_fit_1d(results, out / f"{name}_fit.png"))
    if any(r.history.snapshots and r.history.snapshots[0].relus() for r in results):
        paths.append(plot_dead(results, out / f"{name}_dead.png"))
    if any(r.history.snapshots and len(r.history.snapshots[0].linears()) >= 3 for r in results):
        paths.append(plot_spread(results, out / f"{name}_spread.png"))
    extra = get(results[0].scenario).figures
    if extra is not None:
        paths += list(extra(results, out))
    return paths
