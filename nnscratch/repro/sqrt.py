"""``sqrt``: a 1-10-1 ReLU network that fits √x with a straight line, from a Stack Overflow question.

The question: a NumPy network with one hidden layer of 10 ReLU units, trained to fit
y = √x + noise, only ever produces a straight line. The answer standardises x and y.

Faithful settings (all variants unless they say otherwise)
    data        500 samples, x = |N(0, 1000²)| (so x spans 0 to about 3000), y = √x + N(0, 0.5²)
    network     Linear(1, 10), ReLU, Linear(10, 1); weights 0.01·N(0, 1), biases zero
    loss        squared error summed and divided by N (``MSELoss(reduction="mean")``)
    optimizer   full-batch gradient descent (``SGD``, no momentum), step 1e-6
    iterations  300 000
    dtype       float64 (NumPy's default)

Choices the question left open
    - The posted loop uses ``bh1`` and ``dh1``, names that are never defined; they are read
      as ``bh`` and ``dh`` (the only reading under which the code runs).
    - ``dh[h <= 0] = 0`` gives the ReLU a derivative of 0 at exactly 0, as ``nnscratch.ReLU`` does.
    - The random numbers come from ``numpy.random.default_rng(seed)`` in the question's order
      (x, noise, first weights, second weights), not from NumPy's legacy global generator.

Why it fails
    Every bias starts at 0, so every hidden unit's kink (where x·w + b = 0) sits at x = 0,
    at the left edge of data that is all positive. Each unit is then either on for every
    sample or off for every sample, and a sum of units that never switch is one affine
    function: the network *is* a straight line over the data. The bias gradient is ~1000
    times smaller than the weight gradient (x is ~1000, the bias's "input" is 1), and at a
    step of 1e-6 the biases hardly move in 300 000 steps, so no kink enters the data.

Variants
    failure          the posted code
    answer-literal   the answer's fix as written: standardise x and y, everything else as posted
    standardised     standardise x and y *and* use a step the standardised problem allows (0.01)
    larger-step      raw data, a 10x larger step (1e-5): the step alone does not help

``quick=True`` runs 30 000 steps instead of 300 000 for every variant: the failure's
straight line is exact from the first step (no kink is inside the data), the answer's
literal fix has not moved by then, and the standardised fit has converged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import init, optim
from ..backend import to_backend, to_numpy
from ..layers import MLP, Linear
from ..losses import MSELoss
from .base import Result, Scenario, baseline_loss, repeat, train_loop
from .metrics import dead_fractions, linearity, relative_mse, spread_ratio
from .sweep import Claim

N, HIDDEN, STEPS, QUICK_STEPS = 500, 10, 300_000, 30_000
STEP_SIZE = {"failure": 1e-6, "answer-literal": 1e-6, "standardised": 1e-2, "larger-step": 1e-5}
STANDARDISE = {"failure": False, "answer-literal": True, "standardised": True, "larger-step": False}


def make_data(gen: np.random.Generator, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """x = |N(0, 1000²)|, y = √x + N(0, 0.5²), both (n, 1)."""
    x = np.abs(gen.standard_normal((n, 1)) * 1000)
    return x, np.sqrt(x) + gen.standard_normal((n, 1)) * 0.5


def _first_layer(net: MLP) -> tuple[np.ndarray, np.ndarray]:
    """W and b of the network's first layer, a Linear with a bias as MLP builds it."""
    layer = net[0]
    assert isinstance(layer, Linear) and layer.b is not None, "an MLP starts with a Linear layer with a bias"
    return layer.W.data, layer.b.data


def kinks(net: MLP, x_mean: float, x_std: float) -> np.ndarray:
    """Where each hidden unit switches (x·w + b = 0), in raw x; ±inf for a unit with w = 0."""
    w, b = (to_numpy(a).ravel() for a in _first_layer(net))
    with np.errstate(divide="ignore", invalid="ignore"):
        return -b / w * x_std + x_mean


def _run(variant: str, seed: int, quick: bool, callbacks: list, progress: bool | None) -> Result:
    gen = np.random.default_rng(seed)
    x, y = make_data(gen)
    net = MLP([1, HIDDEN, 1], init=init.normal(0.01), rng=gen)
    if STANDARDISE[variant]:
        x_mean, x_std, y_mean, y_std = float(x.mean()), float(x.std()), float(y.mean()), float(y.std())
    else:
        x_mean, x_std, y_mean, y_std = 0.0, 1.0, 0.0, 1.0
    xs, ys = (x - x_mean) / x_std, (y - y_mean) / y_std
    backend = net.parameters()[0].backend  # the default backend: the data go where the network was built
    xd, yd = to_backend(xs, backend), to_backend(ys, backend)
    loss_fn = MSELoss(reduction="mean")
    steps = QUICK_STEPS if quick else STEPS
    history = train_loop(
        net,
        loss_fn,
        optim.SGD(net.parameters(), lr=STEP_SIZE[variant]),
        repeat(xd, yd),
        steps,
        callbacks=callbacks,
        probe=(xd, yd),
        baseline=baseline_loss(loss_fn, yd),
        progress=progress,
        label=f"sqrt/{variant}",
    )

    def predict(x_raw: np.ndarray) -> np.ndarray:
        """Predictions on the host, in raw y units."""
        z = (np.asarray(x_raw, dtype=np.float64).reshape(-1, 1) - x_mean) / x_std
        return to_numpy(net(to_backend(z, backend))) * y_std + y_mean

    lo, hi = float(x.min()), float(x.max())
    k = kinks(net, x_mean, x_std)
    inside = np.sort(k[(k > lo) & (k < hi)])
    x_fresh, y_fresh = make_data(np.random.default_rng(seed + 10_000), 2000)
    line = np.polyval(np.polyfit(x.ravel(), y.ravel(), 1), x.ravel())[:, None]
    fit = predict(x)
    metrics: dict[str, Any] = {
        "relative_mse": relative_mse(fit, y),
        "best_line_relative_mse": relative_mse(line, y),
        "fresh_relative_mse": relative_mse(predict(x_fresh), y_fresh),
        "spread_ratio": spread_ratio(fit, y),
        "linearity_r2": linearity(predict, lo, hi),
        "kinks_in_data": int(inside.size),
        "dead_units": dead_fractions(history.snapshots[-1]).get("1", float("nan")),
        "max_abs_bias": float(np.abs(_first_layer(net)[1]).max()),
        "final_loss": history.loss[-1],
    }
    return Result(
        "sqrt",
        variant,
        seed,
        quick,
        net,
        x,
        y,
        xs,
        predict,
        history,
        metrics,
        _verdict(variant, metrics, history.stopped, steps),
        settings={
            "standardise": STANDARDISE[variant],
            "step_size": STEP_SIZE[variant],
            "steps": steps,
            "init": "0.01*randn, zero bias",
            "loss": "MSE (mean)",
            "dtype": "float64",
        },
        extras={"kinks": k, "kinks_in_range": inside},
    )


def _verdict(variant: str, m: dict[str, Any], stopped: str | None, steps: int) -> str:
    rel, line, k = m["relative_mse"], m["best_line_relative_mse"], m["kinks_in_data"]
    if stopped:
        return (
            f"Diverged: {stopped}. With raw x of about 1000 the loss is so steep in the first layer's "
            f"weights that a step of {STEP_SIZE[variant]:g} overshoots; a larger step is no cure for "
            "unscaled inputs."
        )
    shape = (
        "a straight line over the whole data range"
        if k == 0 and m["linearity_r2"] > 1 - 1e-9
        else f"a piecewise-linear curve with {k} kink(s) inside the data"
    )
    if rel > 0.9:
        return (
            f"Learned nothing: after {steps} steps the error is {rel:.2f} of the targets' variance, as "
            f"bad as predicting the mean. The data are standardised, but a step of {STEP_SIZE[variant]:g} "
            f"is {STEP_SIZE['standardised'] / STEP_SIZE[variant]:.0f}x too small for standardised data: "
            "from 0.01-scale weights it moves them almost nowhere in this many steps. Standardising alone "
            "does not suffice; the step has to grow with it."
        )
    if k == 0:
        return (
            f"The fit is {shape} (R² of a line through it: {m['linearity_r2']:.12f}). Every hidden unit's "
            "kink is at x <= 0, outside the all-positive data, because the biases started at 0 and moved "
            f"at most {m['max_abs_bias']:.2g}: each unit is on for all samples or for none, and a sum of "
            f"units that never switch is affine. Error {rel:.3f} of the variance, against {line:.3f} for the "
            "best straight line: the network has become linear regression."
        )
    return (
        f"Fits: the error is {rel:.4f} of the targets' variance ({line:.3f} for the best straight line), "
        f"{m['fresh_relative_mse']:.4f} on fresh samples, with {shape}. Standardised inputs put the kinks "
        "inside the data, where the units can bend the fit."
    )


# The public question this scenario reproduces (what `nnscratch repro` prints as its source).
QUESTION = "Neural network for univariate regression with numpy gives only linear results"
SITE = "Stack Overflow"
URL = ""
CITATION = f'"{QUESTION}", {SITE}' + (f", {URL}" if URL else "")


def _straight(m: dict[str, Any]) -> bool:
    """The verdict's "straight line": no hidden unit switches inside the data and the fit is affine there."""
    return m["kinks_in_data"] == 0 and m["linearity_r2"] > 1 - 1e-9


# What each variant's verdict claims, checked per seed by ``repro.sweep`` (``nnscratch repro sqrt --seeds 20``).
KEY_METRIC = "relative_mse"
CLAIMS = {
    "failure": Claim("the fit is a straight line", lambda m: np.isfinite(m["final_loss"]) and _straight(m)),
    "answer-literal": Claim("it learns nothing (error above 0.9 of the variance)", lambda m: m["relative_mse"] > 0.9),
    "standardised": Claim(
        "the fit bends (kinks inside the data) and beats the best straight line",
        lambda m: m["kinks_in_data"] > 0 and m["relative_mse"] < m["best_line_relative_mse"],
    ),
    "larger-step": Claim(
        "the fit is still a straight line, or training diverges",
        lambda m: not np.isfinite(m["final_loss"]) or _straight(m),
    ),
}


SCENARIO = Scenario(
    name="sqrt",
    title="a 1-10-1 ReLU network on raw x fits √x with a straight line",
    document=CITATION,
    variants={
        "failure": "as posted: raw x ~ |N(0, 1000²)|, 0.01·randn weights, step 1e-6, 300 000 steps",
        "answer-literal": "the answer's fix as written: standardise x and y, step still 1e-6",
        "standardised": "standardise x and y and use step 0.01: what actually makes it work",
        "larger-step": "raw data with a 10x larger step (1e-5): the step alone is no fix",
    },
    runner=_run,
    expected={
        "failure": ("UNSCALED_INPUT", "LINEAR_REGIME"),
        "answer-literal": ("LR_TOO_SMALL",),
        "standardised": (),
        "larger-step": ("UNSCALED_INPUT", "LINEAR_REGIME"),
    },
    question=QUESTION,
    site=SITE,
    url=URL,
)
