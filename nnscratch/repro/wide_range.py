"""``wide-range``: a log-exp network that fails on inputs over nine orders of magnitude (Data Science SE).

The question: a PyTorch network should learn y = x5/x2 − (x1 − x2)/(2·x3·x4) · x2/x1 from five
inputs whose ranges run from 1e-6 to 5e4. It takes the log of the inputs, two Linear layers with
nothing in between, an exp, and a Linear output, and is trained with a relative L1 loss. The loss
stays large and bounces; the author blames the spread of the input ranges.

Faithful settings (all variants unless they say otherwise)
    data        a fresh batch of 1000 samples every step: x1 ~ U(500, 1000), x2 ~ U(1, x1 − 1),
                x3 ~ U(1, 10 000), x4 ~ U(1e-6, 1e-3), x5 ~ integers in [1000, 50 000) (the posted code)
    network     log(x), Linear(5, 16), Linear(16, 16), exp, Linear(16, 1); torch's default init; float32
    loss        mean |(y_est − y) / (x5/x2)|: an L1 loss in units of the first term (:class:`RelativeL1Loss`)
    optimizer   Adam, lr 0.01; ReduceLROnPlateau (factor 0.1, patience 1000) stepped with every batch's loss
    iterations  50 000

Choices the question left open
    - The text's bounds differ from the code's for x3 and x5 (text: 1000 <= x3 <= 50 000 and
      1 <= x5 <= 10 000). The code's ranges are the default; ``stated`` variants swap in the text's
      bounds and keep the code's kinds of draw (x3 uniform, x5 an integer).
    - The log is taken of the batch before the first Linear rather than inside the model; nothing
      with parameters comes before it, so the gradients are the same.
    - y is computed in float64 from the float32-rounded inputs, then rounded to float32.
    - Success is measured on 100 000 fresh samples by the median and the 90th percentile of
      |y_est − y| / |y|; a mean would be ruled by the few samples where y is nearly 0.

Why it fails
    The architecture is not the problem: exp(Σ a_i·log x_i + b) is the monomial e^b·∏ x_i^a_i, and y
    is three of them, x5·x2⁻¹ − ½·x2·x3⁻¹·x4⁻¹ + ½·x2²·x1⁻¹·x3⁻¹·x4⁻¹, so three hidden units and the
    output layer represent it exactly (:func:`exact_weights`). The loss is: it divides the error by
    x5/x2, which is |y| only when the first term dominates. On about a third of the samples the
    second term is larger, often by a factor of a thousand, and there the loss asks for an absolute
    accuracy of x5/x2 on a target far larger than that. Those samples carry most of the loss and of
    its gradient, every batch's loss is a lottery over how many it holds, and the plateau
    scheduler, fed that noise, finds no new best batch after the first few hundred steps and cuts
    the rate every 1001 steps: by step ~6200 it is 1e-8 and training is over.

Variants
    failure            as posted
    stated-ranges      as posted with the text's bounds for x3 and x5: fails the same way
    float64            as posted in float64: precision is not the problem
    target-normaliser  divide by |y| instead: the cancelling samples (y near 0) now dominate, and
                       predicting 0 (which costs exactly 1 per sample) is where it settles
    term-normaliser    divide by |x5/x2| + |second term|, the size of the terms, which no cancellation
                       shrinks: it learns
    scaled-logs        term normaliser, and the log inputs standardised (log x4 is about −8 ± 1)
    fixed              term normaliser, standardised logs, and a cosine schedule from 0.01 to 0 in
                       place of the per-batch plateau, which had spent the rate by mid-run
    fixed-stated       ``fixed`` on the text's bounds

``quick=True`` runs 5000 steps instead of 50 000: the failures have cut the rate to 1e-6 by then
and their errors no longer change; the fixes are a few times less precise than at full length
(the cosine schedule is squeezed into the shorter run) but already far from the failures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from ..activations import Exp
from ..backend import get_array_module, to_backend, to_numpy
from ..callbacks import Callback
from ..data import Standardizer
from ..errors import ConfigError, ShapeError
from ..layers import Linear, Sequential
from ..losses import Loss
from .base import Result, Scenario, baseline_loss, train_loop
from .sweep import Claim

BATCH, HIDDEN, LR, STEPS, QUICK_STEPS, N_FRESH = 1000, 16, 0.01, 50_000, 5000, 100_000
USEFUL_LR = 1e-5  # a rate below 1/1000 of the initial one no longer moves the weights measurably

_BASE = {"ranges": "posted", "normaliser": "first-term", "logs": "raw", "dtype": "float32", "schedule": "plateau"}
SETTINGS: dict[str, dict[str, str]] = {
    "failure": _BASE,
    "stated-ranges": {**_BASE, "ranges": "stated"},
    "float64": {**_BASE, "dtype": "float64"},
    "target-normaliser": {**_BASE, "normaliser": "target"},
    "term-normaliser": {**_BASE, "normaliser": "terms"},
    "scaled-logs": {**_BASE, "normaliser": "terms", "logs": "standardised"},
    "fixed": {**_BASE, "normaliser": "terms", "logs": "standardised", "schedule": "cosine"},
    "fixed-stated": {**_BASE, "ranges": "stated", "normaliser": "terms", "logs": "standardised", "schedule": "cosine"},
}


NORMALISER_WORDS = {
    "first-term": "The loss divides by x5/x2, which is not the size of y where the second term dominates",
    "target": "The loss divides by |y|, which cancellation makes tiny",
    "terms": "The loss divides by |x5/x2| + |second term|, which no cancellation shrinks and no dominant term outgrows",
}


class RelativeL1Loss(Loss):
    """|pred − target| / scale per element: an L1 loss measured in units of a per-sample ``scale``.

    Call it as ``loss_fn(pred, target, scale)`` with ``scale`` of pred's shape, or build it with
    ``scale=`` for a fixed normaliser, which is what ``ns.check_loss`` needs (it passes only pred
    and target). ``forward`` keeps this call's scale for ``elementwise`` and the gradient, then
    lets the base class reduce.
    """

    def __init__(self, scale: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.scale = scale

    def forward(self, pred: Any, target: Any, scale: Any = None) -> Any:  # type: ignore[override]
        scale = self.scale if scale is None else scale
        if scale is None:
            raise ConfigError(
                "RelativeL1Loss needs a scale: call loss_fn(pred, target, scale) or build it "
                "with RelativeL1Loss(scale=...)."
            )
        if np.ndim(scale) and np.shape(scale) != np.shape(pred):
            # (N,) against (N, 1) would broadcast to (N, N), the very trap Loss refuses for targets.
            raise ShapeError(f"RelativeL1Loss: scale has shape {np.shape(scale)}, pred {np.shape(pred)}.")
        self._scale = scale
        return super().forward(pred, target)

    def elementwise(self, pred: Any, target: Any) -> Any:
        xp = get_array_module(pred)
        self._scale = xp.asarray(self._scale, dtype=pred.dtype)  # a float64 scale must not upcast float32
        self.diff = pred - target
        return abs(self.diff) / self._scale

    def elementwise_grad(self) -> Any:
        return get_array_module(self.diff).sign(self.diff) / self._scale

    def kink_state(self) -> Any:
        return get_array_module(self.diff).sign(self.diff)


def make_data(
    gen: np.random.Generator, n: int, ranges: str = "posted", dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, terms)``: X (n, 5) in ``dtype``, y (n, 1), terms (n, 2) = (x5/x2, second term), float64."""
    x1 = gen.uniform(500, 1000, n)
    x2 = gen.uniform(1, x1 - 1)
    x3 = gen.uniform(1, 10_000, n) if ranges == "posted" else gen.uniform(1000, 50_000, n)
    x4 = gen.uniform(1e-6, 1e-3, n)
    x5 = gen.integers(1000, 50_000, n) if ranges == "posted" else gen.integers(1, 10_001, n)
    X = np.column_stack([x1, x2, x3, x4, x5]).astype(dtype)
    x1, x2, x3, x4, x5 = X.astype(np.float64).T
    terms = np.column_stack([x5 / x2, (x1 - x2) / (2 * x3 * x4) * x2 / x1])
    return X, (terms[:, :1] - terms[:, 1:]).astype(dtype), terms


def normaliser(kind: str, y: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """The per-sample scale the loss divides by: x5/x2 (posted), |y|, or |x5/x2| + |second term|."""
    scale = {
        "first-term": terms[:, :1],
        "target": np.abs(y.astype(np.float64)),
        "terms": np.abs(terms).sum(axis=1, keepdims=True),
    }[kind]
    return scale.astype(y.dtype)


def build_network(gen: np.random.Generator, dtype: Any) -> Sequential:
    """Linear(5, 16), Linear(16, 16), exp, Linear(16, 1), torch's default init, layers drawn in order."""
    return Sequential(
        Linear(5, HIDDEN, rng=gen, dtype=dtype),
        Linear(HIDDEN, HIDDEN, rng=gen, dtype=dtype),
        Exp(),
        Linear(HIDDEN, 1, rng=gen, dtype=dtype),
    )


def exact_weights(net: Sequential, mean: Any = 0.0, std: Any = 1.0) -> Sequential:
    """Set ``net`` to compute y exactly from inputs (log x − mean) / std: three monomials, the rest off."""
    powers = np.array([[0, -1, 0, 0, 1], [0, 1, -1, -1, 0], [-1, 2, -1, -1, 0]], dtype=np.float64).T
    coef = np.array([1.0, -0.5, 0.5])
    first, second, out = net[0], net[1], net[3]
    assert isinstance(first, Linear) and isinstance(second, Linear) and isinstance(out, Linear), (
        "a network from build_network"
    )
    assert first.b is not None and second.b is not None and out.b is not None, "a network from build_network"
    W, b = np.zeros((5, HIDDEN)), np.zeros(HIDDEN)
    W[:, :3] = powers * np.asarray(std, dtype=np.float64).reshape(-1, 1)
    b[:3] = np.broadcast_to(np.asarray(mean, dtype=np.float64), (5,)) @ powers
    first.W.data[...], first.b.data[...] = W, b
    second.W.data[...], second.b.data[...] = np.eye(HIDDEN), 0.0
    out.W.data[...], out.b.data[...] = 0.0, 0.0
    out.W.data[:3, 0] = coef
    return net


class _Rates(Callback):
    """The optimizer's rate after every step (train_loop records it only at probes)."""

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer
        self.rates: list[float] = []

    def on_step_end(self, ctx: Any) -> None:
        self.rates.append(float(self.optimizer.lr))


def _batches(gen: np.random.Generator, s: dict[str, str], dtype: Any, prep: Any, backend: str) -> Iterator[tuple]:
    """A fresh batch every step, drawn on the host (the same numbers on every backend), sent to ``backend``."""
    while True:
        X, y, terms = make_data(gen, BATCH, s["ranges"], dtype)
        yield tuple(to_backend(a, backend) for a in (prep(X), y, normaliser(s["normaliser"], y, terms)))


def _run(variant: str, seed: int, quick: bool, callbacks: list, progress: bool | None) -> Result:
    s = SETTINGS[variant]
    dtype = np.dtype(s["dtype"])
    gen = np.random.default_rng(seed)
    net = build_network(gen, dtype)
    X_ref, y_ref, terms_ref = make_data(np.random.default_rng(seed + 20_000), 2 * BATCH, s["ranges"], dtype)
    scaler = Standardizer().fit(np.log(X_ref.astype(np.float64))) if s["logs"] == "standardised" else None

    def prep(X: np.ndarray) -> np.ndarray:
        logs = np.log(np.asarray(X, dtype=dtype))
        return logs if scaler is None else scaler.transform(logs)

    steps = QUICK_STEPS if quick else STEPS
    opt = optim.Adam(net.parameters(), lr=LR)
    sched = (
        optim.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=1000)
        if s["schedule"] == "plateau"
        else optim.CosineAnnealingLR(opt, T_max=steps)
    )
    loss_fn, rates = RelativeL1Loss(), _Rates(opt)
    backend = net.parameters()[0].backend  # the default backend: the data go where the network was built
    probe = tuple(to_backend(a, backend) for a in (prep(X_ref), y_ref, normaliser(s["normaliser"], y_ref, terms_ref)))
    history = train_loop(
        net,
        loss_fn,
        opt,
        _batches(gen, s, dtype, prep, backend),
        steps,
        scheduler=sched,
        callbacks=[*callbacks, rates],
        probe=probe,
        progress=progress,
        label=f"wide-range/{variant}",
        baseline=baseline_loss(loss_fn, probe[1], probe[2:]),
    )

    def predict(X_raw: np.ndarray) -> np.ndarray:
        """Predictions on the host, in float64."""
        with np.errstate(over="ignore", invalid="ignore"):
            return to_numpy(net(to_backend(prep(X_raw), backend))).astype(np.float64)

    metrics = _metrics(prep, predict, s, seed, history.loss, np.array(rates.rates), scaler)
    metrics["worst_1pct_share_at_init"] = history.snapshots[0].tail_share
    return Result(
        "wide-range",
        variant,
        seed,
        quick,
        net,
        X_ref,
        y_ref,
        prep(X_ref),
        predict,
        history,
        metrics,
        _verdict(variant, metrics, history.stopped, steps),
        settings={
            **s,
            "steps": steps,
            "batch": BATCH,
            "lr": LR,
            "optimizer": "Adam",
            "init": "torch default",
            "loss": f"mean |y_est - y| / scale, scale = {s['normaliser']}",
        },
        extras={"lr": np.array(rates.rates), "fresh_rel_error": metrics.pop("_rel")},
    )


def _metrics(
    prep: Any,
    predict: Any,
    s: dict[str, str],
    seed: int,
    losses: list[float],
    rates: np.ndarray,
    scaler: Standardizer | None,
) -> dict[str, Any]:
    dtype = np.dtype(s["dtype"])
    X, y, terms = make_data(np.random.default_rng(seed + 10_000), N_FRESH, s["ranges"], dtype)
    y64, pred = y.astype(np.float64), predict(X)
    rel = (np.abs(pred - y64) / np.abs(y64)).ravel()
    per_sample = np.sort((np.abs(pred - y64) / normaliser(s["normaliser"], y, terms)).ravel())[::-1]
    exact = exact_weights(
        build_network(np.random.default_rng(0), dtype), *((scaler.mean_, scaler.scale_) if scaler is not None else ())
    )
    with np.errstate(over="ignore", invalid="ignore"):
        exact_pred = to_numpy(exact(to_backend(prep(X), exact.parameters()[0].backend)))
        exact_rel = np.abs(exact_pred.astype(np.float64) - y64) / np.abs(y64)
    tail = losses[-max(1, len(losses) // 50) :]
    return {
        "median_rel_error": float(np.median(rel)),
        "p90_rel_error": float(np.quantile(rel, 0.9)),
        "median_pred_over_target": float(np.median(np.abs(pred).ravel() / np.abs(y64).ravel())),
        "exact_median_rel_error": float(np.median(exact_rel)),
        "worst_1pct_loss_share": float(per_sample[: N_FRESH // 100].sum() / per_sample.sum()),
        "second_term_dominates": float((np.abs(terms[:, 1]) > np.abs(terms[:, 0])).mean()),
        "second_term_ratio_p99": float(np.quantile(np.abs(terms[:, 1] / terms[:, 0]), 0.99)),
        "final_loss": float(np.mean(tail)),
        "final_lr": float(rates[-1]),
        "rate_cuts": int(((rates[1:] < 0.2 * rates[:-1]) & (rates[1:] > 0)).sum()),  # plateau cuts, not cosine
        "steps_at_useful_lr": int((rates >= USEFUL_LR).sum()),
        "_rel": rel,
    }


def _verdict(variant: str, m: dict[str, Any], stopped: str | None, steps: int) -> str:
    s = SETTINGS[variant]
    med, p90 = m["median_rel_error"], m["p90_rel_error"]
    rate = (
        f"The plateau scheduler, stepped with each batch's loss, cut the rate {m['rate_cuts']} times (to "
        f"{m['final_lr']:.0e}); only {m['steps_at_useful_lr']} of the {steps} steps ran at a rate of at least "
        f"{USEFUL_LR:.0e}."
        if s["schedule"] == "plateau"
        else f"The cosine schedule kept the rate at or above {USEFUL_LR:.0e} for {m['steps_at_useful_lr']} of the "
        f"{steps} steps."
    )
    floor = (
        f"With exact weights the same {s['dtype']} network has a median error of "
        f"{m['exact_median_rel_error']:.1g}, so the architecture and the precision are not what limits it."
        if m["exact_median_rel_error"] < 1e-4
        else ""
    )
    if stopped:
        return f"Diverged: {stopped}. {rate}"
    if med > 0.2 and s["normaliser"] == "target":
        return (
            f"Learned nothing useful: the median relative error on fresh samples is {med:.2f}, and the "
            f"predictions are a median {m['median_pred_over_target']:.2g} of |y|: the network predicts about 0. "
            "Dividing by |y| gives the samples where the two terms nearly cancel (y close to 0) an enormous "
            f"weight: at the start the worst 1% of samples carry {m['worst_1pct_share_at_init']:.0%} of the loss. "
            "Predicting 0 costs exactly 1 per sample whatever y is, and the loss settles there "
            f"({m['final_loss']:.3f}). "
            f"{floor}"
        )
    if med > 0.2:
        return (
            f"Learned nothing useful: on fresh samples the median relative error is {med:.2f} and the 90th "
            f"percentile {p90:.2f}. The loss divides the error by x5/x2, but on "
            f"{m['second_term_dominates']:.0%} of the samples the second term is the larger one (on 1% by more "
            f"than {m['second_term_ratio_p99']:.0f}x), and there the loss demands an absolute accuracy of x5/x2 on "
            "a target far larger than that: the worst 1% of samples "
            f"carry {m['worst_1pct_share_at_init']:.0%} of the loss at the start and "
            f"{m['worst_1pct_loss_share']:.0%} at the end, and each batch's loss depends mostly on how "
            f"many of them it drew (final loss {m['final_loss']:.3g}). {rate} {floor}"
        )
    quality = "Fits" if med < 0.05 else "Half-fits"
    return (
        f"{quality}: on 100 000 fresh samples the median relative error is {med:.2%} and the 90th percentile "
        f"{p90:.2%}. {NORMALISER_WORDS[s['normaliser']]}: at the start the worst 1% of samples carry "
        f"{m['worst_1pct_share_at_init']:.0%} of the loss. "
        f"{'The log inputs are standardised. ' if s['logs'] == 'standardised' else ''}{rate} {floor}"
    )


def _figures(results: list[Result], out: Any) -> list[Path]:
    """``wide_range_errors.png``: each variant's learning rate over training, and its fresh-sample error."""
    from .figures import legend_outside, log_floor, note_floor, plot_log, pyplot, save_figure, variant_style

    plt = pyplot()
    fig, (rate_ax, err_ax) = plt.subplots(1, 2, figsize=(13, 4.8))
    rate_floor = log_floor([r.extras["lr"] for r in results])
    errors = [np.sort(np.asarray(r.extras["fresh_rel_error"], dtype=np.float64)) for r in results]
    err_floor = log_floor(errors)
    zero_rates = zero_errors = 0
    for i, (r, rel) in enumerate(zip(results, errors)):
        style = {"lw": 1.6, "label": r.variant, **variant_style(i)}
        lr = np.asarray(r.extras["lr"], dtype=np.float64)
        zero_rates += plot_log(rate_ax, np.arange(1, lr.size + 1), lr, rate_floor, **style)["floored"]
        # An error of exactly 0 cannot sit on a log x axis: it is drawn at the floor, and said so.
        zero_errors += int((rel <= 0).sum())
        err_ax.plot(np.where(rel > 0, rel, err_floor), np.arange(1, rel.size + 1) / rel.size, **style)
    if zero_rates:
        note_floor(rate_ax, rate_floor, "a rate of 0")
    rate_ax.set(
        yscale="log",
        xlabel="optimizer step",
        ylabel="learning rate",
        title="learning rate: the per-batch plateau spends it early",
    )
    err_ax.axvline(1.0, color="k", lw=0.8)
    if zero_errors:
        err_ax.annotate(
            f"errors of 0 drawn at {err_floor:.0e}", xy=(0.01, 0.99), xycoords="axes fraction", va="top", fontsize=7
        )
    err_ax.set(
        xscale="log",
        xlabel="|y_est - y| / |y| on fresh samples",
        ylabel="share of samples with smaller error",
        title="error distribution (black line: error = |y|, as bad as predicting 0)",
    )
    for ax in (rate_ax, err_ax):
        ax.grid(alpha=0.3, which="both")
    legend_outside(err_ax)
    fig.suptitle("wide-range: what each variant did to the rate, and how far its predictions are from y")
    return [save_figure(fig, Path(out) / "wide_range_errors.png")]


# The public question this scenario reproduces (what `nnscratch repro` prints as its source).
QUESTION = "Neural Net not able to learn simple analytical equation"
SITE = "Data Science Stack Exchange"
URL = "https://datascience.stackexchange.com/questions/124637"
CITATION = f'"{QUESTION}", {SITE}' + (f", {URL}" if URL else "")

# What each variant's verdict claims, checked per seed by ``repro.sweep``; the thresholds are the verdict's
# ("Learned nothing useful" above a median relative error of 0.2, "Fits" below 0.05).
KEY_METRIC = "median_rel_error"
_NOTHING = Claim("it learns nothing useful (median relative error above 0.2)", lambda m: m["median_rel_error"] > 0.2)
_FITS = Claim("it fits (median relative error below 5%)", lambda m: m["median_rel_error"] < 0.05)
CLAIMS = {
    "failure": _NOTHING,
    "stated-ranges": _NOTHING,
    "float64": _NOTHING,
    "target-normaliser": Claim(
        "it predicts about 0 (median relative error above 0.2, predictions a median below 1% of |y|)",
        lambda m: m["median_rel_error"] > 0.2 and m["median_pred_over_target"] < 0.01,
    ),
    "term-normaliser": Claim("it learns (median relative error below 0.2)", lambda m: m["median_rel_error"] < 0.2),
    "scaled-logs": _FITS,
    "fixed": _FITS,
    "fixed-stated": _FITS,
}


SCENARIO = Scenario(
    name="wide-range",
    title="a log-exp network on inputs spanning nine orders of magnitude, trained with a misnormalised L1 loss",
    document=CITATION,
    variants={
        "failure": "as posted: loss divided by x5/x2, raw log inputs, per-batch plateau schedule, float32",
        "stated-ranges": "as posted, with the text's bounds for x3 and x5 instead of the code's",
        "float64": "as posted, in float64",
        "target-normaliser": "the loss divided by |y| instead of x5/x2",
        "term-normaliser": "the loss divided by |x5/x2| + |second term|, the size of the terms",
        "scaled-logs": "term normaliser and standardised log inputs",
        "fixed": "term normaliser, standardised log inputs, cosine schedule instead of the per-batch plateau",
        "fixed-stated": "the fix on the text's bounds for x3 and x5",
    },
    runner=_run,
    expected={
        "failure": ("HEAVY_TAILED_LOSS",),
        "stated-ranges": ("HEAVY_TAILED_LOSS",),
        "float64": ("HEAVY_TAILED_LOSS",),
        "target-normaliser": ("TRIVIAL_SOLUTION",),
        "term-normaliser": (),
        "scaled-logs": (),
        "fixed": (),
        "fixed-stated": (),
    },
    figures=_figures,
    question=QUESTION,
    site=SITE,
    url=URL,
)
