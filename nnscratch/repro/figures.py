"""The figures of ``nnscratch repro``: one PNG per question a learner asks of the variants.

- ``NAME_loss.png``: every variant's training loss over the loss of the better trivial prediction
  (the targets' mean, or 0 where that costs less), on a log scale, so variants on different data
  scales compare; 1 means the network learned nothing. Variants trained on different losses get
  a panel each, since their numbers do not compare.
- ``NAME_fit.png`` (1-D inputs): each variant's fit against the raw data.
- ``NAME_dead.png``: per variant, the share of each layer's ReLU units that never switch over the
  probe rows: off for nearly all of them (dead) or on for all (a linear unit).
- ``NAME_spread.png`` (networks of three or more layers): per variant, the spread of each layer's
  output at initialisation and after training, which shows a signal fading with depth.

Conventions every figure here follows, so that it reads at a glance: each axis is labelled; a
panel per variant says in its title whether the variant shows the failure or a fix; a legend has
at most :data:`MAX_LEGEND` entries and sits outside the data; a value a log axis cannot show
(0, or an overflow) is drawn at a marked floor and said so, never dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import Result

MAX_LEGEND = 8
STYLES = ("-", "--", "-.", ":")
FAILURE_COLOUR, FIX_COLOUR = "#b2182b", "#1b7837"


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, layout: bool = True) -> Path:
    """Lay out (unless the caller did), write the PNG with everything outside the axes, close the figure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout:
        fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return path


def variant_style(i: int) -> dict[str, Any]:
    """Colour and line style of the i-th variant: two variants on the same values stay tellable apart."""
    return {"color": f"C{i % 10}", "ls": STYLES[i % len(STYLES)]}


def outcome(r: Result) -> bool | None:
    """True if the variant is a fix (the doctor should find it healthy), False if it shows a failure."""
    from .base import get

    expected = get(r.scenario).expected.get(r.variant)
    return None if expected is None else not expected


def variant_title(ax: Any, r: Result, detail: str = "") -> None:
    """``variant [fails]`` in red or ``variant [works]`` in green, with an optional detail after it."""
    ok = outcome(r)
    tag = "" if ok is None else (" [works]" if ok else " [fails]")
    colour = "k" if ok is None else (FIX_COLOUR if ok else FAILURE_COLOUR)
    ax.set_title(f"{r.variant}{tag}{': ' + detail if detail else ''}", color=colour, fontsize=10)


def thousands(ax: Any, axis: str = "x") -> None:
    """Step counts as 50k, 1.2M: six-digit tick labels run into each other."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def fmt(value: float, _: Any) -> str:
        for size, suffix in ((1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:g}{suffix}"
        return f"{value:g}"

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(fmt))
    target.set_major_locator(MaxNLocator(5, integer=True))


def legend_outside(ax: Any, **kwargs: Any) -> Any:
    """A legend to the right of the axes, where it cannot cover data."""
    handles, _ = ax.get_legend_handles_labels()
    if not handles:
        return None
    if len(handles) > MAX_LEGEND:
        raise ValueError(f"{len(handles)} legend entries, more than {MAX_LEGEND}: group them or use a colour bar.")
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0.0, **kwargs)


def log_floor(values: Sequence[np.ndarray], default: float = 1e-12) -> float:
    """A floor a decade under the smallest positive finite value: where zeros are drawn on a log axis."""
    positive = [v[np.isfinite(v) & (v > 0)] for v in (np.asarray(a, dtype=np.float64) for a in values)]
    smallest = min((float(p.min()) for p in positive if p.size), default=default * 10)
    return 10 ** math.floor(math.log10(smallest) - 1)


def plot_log(ax: Any, x: Any, y: Any, floor: float, *, log_x: bool = False, **style: Any) -> dict[str, int]:
    """Plot ``y`` over ``x`` on a log y axis (and log x if ``log_x``) without losing a point silently.

    Non-positive values are drawn at ``floor`` with a downward triangle; a non-finite value
    (an overflow, a NaN after divergence) ends the line with an ``x`` at the last finite point.
    Returns how many points were floored and whether the line was ended early, so the caller
    can say so on the figure (:func:`note_floor`).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & (x > 0) if log_x else np.isfinite(x)
    x, y = x[keep], y[keep]
    bad = ~np.isfinite(y)
    cut = int(np.argmax(bad)) if bad.any() else len(y)
    x, y = x[:cut], y[:cut]
    floored = y <= 0
    y = np.where(floored, floor, y)
    if y.size:
        ax.plot(x, y, **style)
    colour = style.get("color")
    if floored.any():
        ax.plot(x[floored], y[floored], "v", color=colour, ms=6, ls="none", zorder=5)
    if cut < len(bad) and y.size:
        ax.plot(x[-1:], y[-1:], "x", color=colour, ms=10, mew=2, ls="none", zorder=5)
    return {"floored": int(floored.sum()), "ended": int(cut < len(bad))}


def note_floor(ax: Any, floor: float, what: str = "0") -> None:
    """Say on the axes that triangles at the bottom stand for values a log axis cannot show."""
    ax.axhline(floor, color="0.6", lw=0.8, ls=":", zorder=1)
    ax.annotate(
        f"▼ {what}, drawn at {floor:.0e}",
        xy=(0.01, floor),
        xycoords=("axes fraction", "data"),
        ha="left",
        va="bottom",
        fontsize=7,
        color="0.35",
    )


def yardstick(r: Result) -> tuple[float, str]:
    """The loss of the better trivial prediction, in the units of ``r.history.loss``, and its name.

    The mean is the best constant under a squared error; under a relative error predicting 0 can
    cost far less (it costs exactly 1 when dividing by |y|), and a run that settled there has
    learned nothing even though it beats the mean. The probe's first snapshot holds both losses;
    their ratio carries over to the training loss's units (a summed loss over fewer rows, say).
    """
    base = r.history.baseline
    snaps = r.history.snapshots
    if snaps and math.isfinite(snaps[0].zero_loss) and snaps[0].baseline > 0:
        ratio = snaps[0].zero_loss / snaps[0].baseline
        if 0 < ratio < 1:
            return base * ratio, "predicting 0"
    return base, "predicting the mean"


def final_ratio(r: Result) -> float:
    """The loss over its yardstick at the end of training (median of the last 5% of steps)."""
    loss = np.asarray(r.history.loss, dtype=np.float64)
    base, _ = yardstick(r)
    if loss.size == 0 or not (math.isfinite(base) and base > 0):
        return math.nan
    tail = loss[-max(1, loss.size // 20) :]
    tail = tail[np.isfinite(tail)]
    return float(np.median(tail)) / base if tail.size else math.inf


def _loss_groups(results: list[Result]) -> list[tuple[str, list[tuple[int, Result]]]]:
    groups: dict[str, list[tuple[int, Result]]] = {}
    for i, r in enumerate(results):
        groups.setdefault(str(r.settings.get("loss", "")), []).append((i, r))
    return list(groups.items())


def plot_losses(results: list[Result], path: Path) -> Path:
    """Loss over the better trivial prediction's, log scale; a panel per loss function."""
    plt = pyplot()
    groups = _loss_groups(results)
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, 3.6 * len(groups)), squeeze=False)
    curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    names: dict[int, str] = {}
    for i, r in enumerate(results):
        loss = np.asarray(r.history.loss, dtype=np.float64)
        base, names[i] = yardstick(r)
        if loss.size == 0:
            continue
        rel = loss / base if math.isfinite(base) and base > 0 else loss
        # Log-spaced steps: every early step (where most happens), a readable line later, not 300 000 points.
        steps = np.unique(np.geomspace(1, loss.size, 4000).astype(int)) - 1
        curves[i] = (steps + 1, rel[steps])
    floor = log_floor([c[1] for c in curves.values()])
    for ax, (loss_name, members) in zip(axes[:, 0], groups):
        # The reference: a wide grey band under the variants, so a variant lying on it stays visible.
        ax.axhline(1.0, color="0.55", lw=5, alpha=0.35, zorder=1)
        on_line, floored, yard_names = [], 0, set()
        for i, r in members:
            if i not in curves:
                continue
            yard_names.add(names[i])
            ok = outcome(r)
            label = r.variant + ("" if ok is None else " [works]" if ok else " [fails]")
            label += " (vs predicting 0)" if names[i] == "predicting 0" else ""
            drawn = plot_log(ax, *curves[i], floor, log_x=True, lw=1.5, label=label, zorder=3, **variant_style(i))
            floored += drawn["floored"]
            end = final_ratio(r)
            if math.isfinite(end) and 0.8 <= end <= 1.25:
                on_line.append(r.variant)
        reference = next(iter(yard_names), "predicting the mean")
        if len(yard_names) > 1:
            reference = "predicting the mean or 0 (the lower)"
        text = f"grey band: 1 = as good as\n{reference}: learned nothing"
        if on_line:
            text += f"\nends on the band: {', '.join(on_line)}"
        # Beside the axes, under the legend: a note inside would lie on the curves.
        ax.text(1.01, 0.0, text, transform=ax.transAxes, va="bottom", fontsize=8, color="0.25")
        if floored:
            note_floor(ax, floor, "a loss of 0")
        ax.set_xscale("log")
        ax.set_yscale("log")
        stopped = any(r.history.stopped for r in results)
        title = f"{results[0].scenario}: training loss of each variant" + (
            " (x: the loss stopped being finite)" if stopped else ""
        )
        if len(groups) > 1:
            title = f"loss: {loss_name}"
        ax.set(xlabel="optimizer step", ylabel=f"training loss /\nloss of {reference}", title=title)
        ax.grid(alpha=0.3, which="both")
        legend_outside(ax)
    if len(groups) > 1:
        fig.suptitle(
            f"{results[0].scenario}: training loss of each variant, a panel per loss (their values do not compare)"
        )
    return save_figure(fig, path)


def plot_fit_1d(results: list[Result], path: Path) -> Path:
    """The raw data and each variant's prediction over the data range (1-D inputs only)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x, y = results[0].X.ravel(), results[0].y.ravel()
    ax.scatter(x, y, s=5, alpha=0.35, color="0.5", label="training data", zorder=1)
    grid = np.linspace(x.min(), x.max(), 1000)[:, None]
    for i, r in enumerate(results):
        ok = outcome(r)
        tag = "" if ok is None else (" [works]" if ok else " [fails]")
        ax.plot(grid.ravel(), np.asarray(r.predict(grid)).ravel(), lw=1.8, label=r.variant + tag, **variant_style(i))
        kinks = r.extras.get("kinks_in_range")
        if kinks is not None and len(kinks):
            ax.plot(kinks, np.asarray(r.predict(np.asarray(kinks)[:, None])).ravel(), "v", color=f"C{i}", ms=6)
    ax.set(
        xlabel="x (raw)",
        ylabel="y (raw)",
        title=f"{results[0].scenario}: fits against the data (triangles: hidden units' kinks inside the data)",
    )
    legend_outside(ax)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def panels(n: int, width: float = 4.0, height: float = 3.2, **kwargs: Any) -> tuple[Any, list[Any]]:
    plt = pyplot()
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kwargs)
    for ax in axes.ravel()[n:]:
        ax.remove()
    return fig, list(axes.ravel()[:n])


def _ratio_text(r: Result) -> str:
    end = final_ratio(r)
    _, name = yardstick(r)
    return f"loss at the end: {end:.3g} × {name}'s" if math.isfinite(end) else "training stopped: loss not finite"


def plot_dead(results: list[Result], path: Path) -> Path:
    """Per variant: the share of each layer's ReLU units that never switch over the probe rows.

    Solid: off for more than 99% of the rows (dead). Dashed: on for every row (linear). A unit
    in either state bends nothing; when every unit is in one of them the network is affine.
    """
    plt = pyplot()
    fig, axes = panels(len(results), width=4.3, height=3.4)
    cmap = plt.get_cmap("viridis")
    depth = max((len(r.history.snapshots[0].relus()) for r in results if r.history.snapshots), default=0)

    def colour(j: int) -> Any:
        return cmap(0.85 * j / max(1, depth - 1))

    for ax, r in zip(axes, results):
        snaps = r.history.snapshots
        steps = np.array([max(s.step + 1, 0) for s in snaps])
        layers = [s.name for s in snaps[0].relus()] if snaps else []
        for j, name in enumerate(layers):
            stats = [next(s for s in snap.relus() if s.name == name) for snap in snaps]
            ax.plot(steps, [s.dead for s in stats], color=colour(j), lw=1.5)
            on = [math.nan if s.always_on is None else s.always_on for s in stats]
            ax.plot(steps, on, color=colour(j), lw=1.2, ls="--")
        ax.set(xlabel="optimizer step", ylabel="share of the layer's units", ylim=(-0.03, 1.03))
        variant_title(ax, r)
        ax.text(0.02, 0.97, _ratio_text(r), transform=ax.transAxes, va="top", fontsize=7, color="0.25")
        thousands(ax)
        ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="0.3", lw=1.5, label="dead: off for > 99% of probe rows"),
        Line2D([], [], color="0.3", lw=1.2, ls="--", label="linear: on for every probe row"),
    ]
    if depth <= MAX_LEGEND - 2:
        handles += [Line2D([], [], color=colour(j), lw=3, label=f"hidden layer {j + 1}") for j in range(depth)]
    fig.suptitle(f"{results[0].scenario}: ReLU units that never switch, per layer (title: the variant's outcome)")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), fontsize=8)
    if depth > MAX_LEGEND - 2:  # too many layers for a legend: the colour says how deep the layer is
        from matplotlib.colors import BoundaryNorm, ListedColormap

        bar = fig.colorbar(
            plt.cm.ScalarMappable(
                norm=BoundaryNorm(np.arange(0.5, depth + 1), depth),
                cmap=ListedColormap([colour(j) for j in range(depth)]),
            ),
            cax=fig.add_axes((1.02, 0.1, 0.015, 0.45)),
        )
        bar.set_label("hidden layer (1 = next to the input)", fontsize=8)
        bar.set_ticks(list(range(1, depth + 1)))
    return save_figure(fig, path, layout=False)


def plot_spread(results: list[Result], path: Path) -> Path:
    """Per variant: the spread of every Linear layer's output, at initialisation and after training."""
    shown = [r for r in results if r.history.snapshots]
    fig, axes = panels(len(shown), width=4.3, height=3.4, sharey=True)
    ends = [snap for r in shown for snap in (r.history.snapshots[0], r.history.snapshots[-1])]
    floor = log_floor([np.array([s.spread for s in snap.linears()]) for snap in ends])
    any_floored = False
    for ax, r in zip(axes, shown):
        snaps = r.history.snapshots
        floored = 0
        for snap, style, when in ((snaps[0], ":", "at initialisation"), (snaps[-1], "-", "after training")):
            spreads = [s.spread for s in snap.linears()]
            drawn = plot_log(
                ax, np.arange(1, len(spreads) + 1), spreads, floor, ls=style, marker="o", ms=3, color="C0", label=when
            )
            floored += drawn["floored"]
        if floored:
            note_floor(ax, floor, "spread 0: no signal")
            any_floored = True
        ax.set_yscale("log")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set(xlabel="Linear layer (depth)", ylabel="spread of the layer's output")
        variant_title(ax, r)
        ax.grid(alpha=0.3, which="both")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="C0", ls=":", marker="o", ms=3, label="at initialisation"),
        Line2D([], [], color="C0", ls="-", marker="o", ms=3, label="after training"),
    ]
    if any_floored:
        handles.append(Line2D([], [], color="C0", ls="none", marker="v", label="spread 0 (drawn at the floor)"))
    fig.suptitle(f"{results[0].scenario}: spread of each layer's output over the probe samples")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), fontsize=8)
    return save_figure(fig, path, layout=False)


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
