"""The doctor's plot: only panels with data, every axis labelled, short legends, zeros marked on log axes."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

import nnscratch as ns


def _report(sizes, activation, steps=60):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, sizes[0]))
    y = np.sin(X[:, :1])
    net, loss_fn = ns.MLP(sizes, activation=activation, rng=0), ns.MSELoss()
    opt = ns.optim.Adam(net.parameters(), lr=1e-2)
    doctor = ns.Doctor(net, loss_fn, opt, every=10)
    ns.fit(net, X, y, loss_fn, opt, epochs=steps // 4, batch_size=64, progress=False)
    return doctor.report()


@pytest.mark.parametrize(
    "sizes, activation, panels",
    [
        ([2, 16, 16, 1], "relu", 6),  # every statistic
        ([2, 16, 16, 1], "tanh", 5),  # no ReLU: no dead-unit panel
        ([2] + [8] * 10 + [1], "relu", 6),  # more layers than a legend holds: a colour bar
    ],
)
def test_the_doctor_plot_has_only_panels_with_data(tmp_path, monkeypatch, sizes, activation, panels):
    figures = []
    monkeypatch.setattr(plt, "close", lambda fig: figures.append(fig))
    _report(sizes, activation).plot(tmp_path / "doctor.png")
    assert (tmp_path / "doctor.png").stat().st_size > 0
    fig = figures[-1]
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert len(shown) == panels
    for ax in shown:
        assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
        assert ax.lines, ax.get_title()
        assert not any("not measured" in t.get_text() for t in ax.texts)
        legend = ax.get_legend()
        assert legend is None or len(legend.get_texts()) <= 8
        if ax.get_yscale() == "log":  # nothing non-positive is handed to a log axis
            for line in ax.lines:
                y = np.asarray(line.get_ydata(), dtype=float)
                assert (y > 0).all(), ax.get_title()
    plt.close("all")
