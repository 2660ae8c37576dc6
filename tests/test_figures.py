"""Every figure of every reproduction, rendered from short runs, read the way a learner reads it.

Each scenario runs all its variants once (shortened further than ``--quick``: what is checked
here is how the figures are drawn, not what the runs find), and every figure it writes is
checked: axes labelled, at most 8 legend entries, a legend never on top of data, no empty
panel, no value silently dropped by a log axis, and a panel per variant that says whether the
variant shows the failure or a fix.
"""

from __future__ import annotations

import dataclasses
import importlib

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from nnscratch import repro
from nnscratch.repro.figures import MAX_LEGEND, write_figures

# Far shorter than --quick: the figures' drawing does not depend on how long the runs were.
SHORT = {
    "sqrt": {"QUICK_STEPS": 2000},
    "sum-of-squares": {"QUICK_EPOCHS": 200, "EPOCHS": 1000, "ANSWER_STEPS": 300},
    "random-targets": {"quick_steps": (200, 200, 600)},
    "wide-range": {"QUICK_STEPS": 400},
    "poly32": {"QUICK_EPOCHS": 2},
}
MODULES = {
    "sqrt": "nnscratch.repro.sqrt",
    "sum-of-squares": "nnscratch.repro.sum_of_squares",
    "random-targets": "nnscratch.repro.random_targets",
    "wide-range": "nnscratch.repro.wide_range",
    "poly32": "nnscratch.repro.poly32",
}


def _shorten(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    module = importlib.import_module(MODULES[name])
    for attr, value in SHORT[name].items():
        if attr == "quick_steps":
            setups = {k: dataclasses.replace(s, quick_steps=q) for (k, s), q in zip(module.SETUPS.items(), value)}
            monkeypatch.setattr(module, "SETUPS", setups)
        else:
            monkeypatch.setattr(module, attr, value)


@pytest.fixture(scope="module", params=repro.names())
def rendered(request, tmp_path_factory):
    """(results, {file name: Figure}) of one scenario: all variants trained once, every figure written."""
    name = request.param
    figures: dict[str, Figure] = {}
    save = Figure.savefig

    def keep(fig, path, *args, **kwargs):
        figures[str(path).rsplit("/", 1)[-1]] = fig
        return save(fig, path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        _shorten(mp, name)
        mp.setattr(Figure, "savefig", keep)
        results = [repro.run(name, v, quick=True, progress=False) for v in repro.variants(name)]
        paths = write_figures(results, tmp_path_factory.mktemp(name.replace("-", "_")))
    assert {p.name for p in paths} == set(figures) and all(p.stat().st_size > 10_000 for p in paths)
    for fig in figures.values():
        FigureCanvasAgg(fig).draw()  # closing the figure took its canvas; the extents need one, drawn
    return results, figures


def _axes(fig: Figure):
    return [ax for ax in fig.axes if not hasattr(ax, "_colorbar")]


def _has_data(ax) -> bool:
    lines = any(len(line.get_xdata()) for line in ax.get_lines())
    collections = any(len(c.get_offsets()) or len(c.get_paths()) for c in ax.collections if isinstance(c, Collection))
    images = any(isinstance(im, AxesImage) for im in ax.get_images())
    bars = any(p.get_height() != 0 for p in ax.patches if hasattr(p, "get_height"))
    return lines or collections or images or bars


def _data_points(ax) -> np.ndarray:
    """Display coordinates of every plotted point (lines' vertices, scatter offsets)."""
    points = [line.get_transform().transform(line.get_xydata()) for line in ax.get_lines() if len(line.get_xdata())]
    for c in ax.collections:
        offsets = np.asarray(c.get_offsets())
        if offsets.size:
            points.append(c.get_offset_transform().transform(offsets))
    return np.concatenate(points) if points else np.empty((0, 2))


def test_every_axes_is_labelled_and_has_data(rendered):
    _, figures = rendered
    for file, fig in figures.items():
        for ax in _axes(fig):
            assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), f"{file}: unlabelled axes {ax.get_title()!r}"
            assert _has_data(ax), f"{file}: empty panel {ax.get_title()!r}"


def test_legends_are_short_and_cover_no_data(rendered):
    _, figures = rendered
    for file, fig in figures.items():
        renderer = fig.canvas.get_renderer()
        for legend in fig.legends:
            assert len(legend.get_texts()) <= MAX_LEGEND, file
        for ax in _axes(fig):
            legend = ax.get_legend()
            if legend is None:
                continue
            assert len(legend.get_texts()) <= MAX_LEGEND, f"{file}: {len(legend.get_texts())} entries"
            box = legend.get_window_extent(renderer)
            points = _data_points(ax)
            inside = (
                (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)
            )
            assert not inside.any(), f"{file}: the legend of {ax.get_title()!r} covers {inside.sum()} data points"


def _data_coordinate(line, ax, axis: str) -> bool:
    transform = line.get_transform()
    blended = ax.get_yaxis_transform() if axis == "y" else ax.get_xaxis_transform()
    return transform in (ax.transData, blended)


def test_no_value_is_silently_dropped_by_a_log_axis(rendered):
    _, figures = rendered
    for file, fig in figures.items():
        for ax in _axes(fig):
            for axis, scale in (("x", ax.get_xscale()), ("y", ax.get_yscale())):
                if scale != "log":
                    continue
                for line in ax.get_lines():
                    if not _data_coordinate(line, ax, axis):
                        continue
                    values = np.asarray(line.get_ydata() if axis == "y" else line.get_xdata(), dtype=np.float64)
                    assert np.isfinite(values).all(), f"{file}: {line.get_label()!r} has gaps on a log {axis} axis"
                    assert (values > 0).all(), f"{file}: {line.get_label()!r} has values <= 0 on a log {axis} axis"
                for c in ax.collections:
                    offsets = np.asarray(c.get_offsets(), dtype=np.float64)
                    if offsets.size:
                        column = offsets[:, 1 if axis == "y" else 0]
                        assert np.isfinite(column).all() and (column > 0).all(), file


def test_panels_say_which_variant_fails_and_which_works(rendered):
    results, figures = rendered
    per_variant = [fig for file, fig in figures.items() if file.endswith(("_dead.png", "_spread.png"))]
    for fig in per_variant:
        titles = [ax.get_title() for ax in _axes(fig)]
        for r in results:
            tag = "[works]" if not repro.get(r.scenario).expected[r.variant] else "[fails]"
            assert f"{r.variant} {tag}" in titles, (r.variant, titles)


def test_loss_panels_hold_one_loss_each_and_the_reference_stays_underneath(rendered):
    results, figures = rendered
    loss_of = {r.variant: r.settings.get("loss") for r in results}
    (fig,) = [f for file, f in figures.items() if file.endswith("_loss.png")]
    seen = set()
    for ax in _axes(fig):
        variants = [t.get_text().split(" ")[0] for t in ax.get_legend().get_texts()]  # "name [fails] (vs ...)"
        seen.update(variants)
        assert len({loss_of[v] for v in variants}) == 1, f"variants with different losses share an axes: {variants}"
        reference = [line for line in ax.get_lines() if _data_coordinate(line, ax, "y") and line.get_lw() >= 4]
        curves = [
            line for line in ax.get_lines() if line.get_label() in {t.get_text() for t in ax.get_legend().get_texts()}
        ]
        assert reference and curves
        assert all(c.get_zorder() > reference[0].get_zorder() for c in curves)
        styles = [(c.get_color(), c.get_linestyle()) for c in curves]
        assert len(set(styles)) == len(styles)  # two variants on the same values stay tellable apart
    assert seen == set(loss_of)
    assert len(_axes(fig)) == len(set(loss_of.values()))  # wide-range: three losses, three panels


def _log_axis_problems(fig: Figure) -> list[str]:
    problems = []
    for ax in _axes(fig):
        if ax.get_yscale() != "log":
            continue
        for line in ax.get_lines():
            if _data_coordinate(line, ax, "y"):
                y = np.asarray(line.get_ydata(), dtype=np.float64)
                if not (np.isfinite(y).all() and (y > 0).all()):
                    problems.append(line.get_label())
    return problems


def test_zeros_and_overflows_are_drawn_and_said_not_dropped(monkeypatch, tmp_path):
    """A spread of 0 and a loss that hits 0 then overflows: on the figure, marked, not silently gone."""
    from nnscratch.repro.figures import plot_losses, plot_spread

    monkeypatch.setattr(importlib.import_module(MODULES["sum-of-squares"]), "EPOCHS", 60)
    result = repro.run("sum-of-squares", "larger-step", quick=True, progress=False)
    result.history.snapshots[-1].linears()[1].spread = 0.0
    result.history.loss[-3:] = [0.0, float("nan"), float("inf")]
    figures = {}
    save = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, *a, **k: figures.setdefault(path.name, fig) and None)
    plot_spread([result], tmp_path / "spread.png")
    plot_losses([result], tmp_path / "loss.png")
    monkeypatch.setattr(Figure, "savefig", save)
    for name, what in (("spread.png", "spread 0"), ("loss.png", "a loss of 0")):
        fig = figures[name]
        assert _log_axis_problems(fig) == [], name
        (ax,) = _axes(fig)
        assert any(line.get_marker() == "v" for line in ax.get_lines()), f"{name}: the floored point is not marked"
        assert any(what in t.get_text() and "drawn at" in t.get_text() for t in ax.texts), f"{name}: not said"
    (ax,) = _axes(figures["loss.png"])
    assert any(line.get_marker() == "x" for line in ax.get_lines())  # where the loss stopped being finite
