"""The doctor's labelled benchmark: short training runs, each broken in a known way or healthy.

None of these is one of the five documents' set-ups. Each case builds its data, model,
loss and optimizer from a seed; :func:`train` runs it with a hand-written loop (so
that a forgotten ``zero_grad`` or deliberate gradient accumulation can be expressed)
that calls the callbacks as :mod:`nnscratch.callbacks` describes. ``expect`` lists the
codes the case demonstrates; the doctor may add others (a run can have several
problems), but a healthy case (``expect=()``) must come back with no problem at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import nnscratch as ns
from nnscratch.callbacks import TrainingContext
from nnscratch.optim import SGD, Adam, AdamW


@dataclass
class Case:
    name: str
    expect: tuple[str, ...]
    build: Callable[[int], dict[str, Any]]


@dataclass
class Reported(Case):
    """A case modelled on a kind of public report: ``source`` names it, ``why`` justifies ``expect``."""

    source: str = ""
    why: str = ""


def _std(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(0)) / a.std(0)


def wave(rng: np.random.Generator, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """2 standard-normal inputs; y = sin(2 x1) + x2²/2 (standardised), shape (n, 1)."""
    X = rng.standard_normal((n, 2))
    return X, _std(np.sin(2 * X[:, :1]) + 0.5 * X[:, 1:] ** 2)


def mix(rng: np.random.Generator, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """4 inputs; y = x1·x2 + cos(x3) - x4 (standardised), shape (n, 1)."""
    X = rng.standard_normal((n, 4))
    return X, _std(X[:, :1] * X[:, 1:2] + np.cos(X[:, 2:3]) - X[:, 3:4])


class RelativeError(ns.Loss):
    """|pred - y| / |y| (a "percentage error"): it rewards predicting 0 where some targets are near 0."""

    def elementwise(self, pred, target):
        self.diff, self.scale = pred - target, abs(target)
        return abs(self.diff) / self.scale

    def elementwise_grad(self):
        return np.sign(self.diff) / self.scale


class LoggedMSE(ns.MSELoss):
    """MSELoss that keeps the value of each training call, for a scheduler stepped with the loss (the batch's or
    an epoch's mean)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []

    def __call__(self, pred, target, *args):
        value = super().__call__(pred, target, *args)
        if self.reduction != "none":  # the measurement's per-row copy is not a training step
            self.values.append(float(value))
        return value


def relative_targets(rng: np.random.Generator, tiny: float | None) -> tuple[np.ndarray, np.ndarray]:
    """``wave`` moved to about [0.5, 4]; with ``tiny``, a tenth of the targets (at random) set to it."""
    X, y = wave(rng)
    y = y + 2.0
    if tiny is not None:
        y[rng.choice(len(y), len(y) // 10, replace=False)] = tiny
    return X, y


def named(cases: list[Any], name: str) -> Any:
    """The case called ``name`` in ``cases`` (a KeyError if there is none)."""
    for case in cases:
        if case.name == name:
            return case
    raise KeyError(name)


def run(model, X, y, loss, opt, steps=400, batch=None, zero_grad=True, accumulate=1):
    return dict(
        model=model, X=X, y=y, loss=loss, opt=opt, steps=steps, batch=batch, zero_grad=zero_grad, accumulate=accumulate
    )


def _mlp(sizes: Sequence[int], seed: int, **kw: Any) -> ns.MLP:
    return ns.MLP(list(sizes), rng=seed, **kw)


def _bias_init(bias: float) -> Callable:
    def init(n_in, n_out, rng=None):
        W, _ = ns.init.he_normal(n_in, n_out, rng)
        return W, np.full(n_out, bias)

    return init


def _broken() -> list[Case]:
    def c(name, expect, build):
        return Case(name, tuple(expect), build)

    def nonfinite_sgd(s):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=3.0), 200)

    def nonfinite_exp(s):
        rng = np.random.default_rng(s)
        X = rng.standard_normal((512, 3)) * 300
        m = ns.Sequential(ns.Linear(3, 8, rng=s), ns.Exp(), ns.Linear(8, 1, rng=s + 1))
        return run(m, X, _std(X[:, :1] ** 2), ns.MSELoss(), Adam(m.parameters(), 1e-3), 100)

    def broadcast(s, loss, opt):
        X, y = mix(np.random.default_rng(s))
        m = _mlp([4, 32, 32, 1], s)
        return run(m, X, y[:, 0], loss, opt(m.parameters()), 400, batch=64)

    def accum(s, opt, data=wave):
        X, y = data(np.random.default_rng(s))
        m = _mlp([X.shape[1], 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), opt(m.parameters()), 400, zero_grad=False)

    def unscaled_input(s):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 1], s)
        return run(m, X * 500 + 1000, y, ns.MSELoss(), SGD(m.parameters(), lr=1e-7), 400)

    def mixed_scales(s):
        X, y = mix(np.random.default_rng(s))
        m = _mlp([4, 32, 32, 1], s)
        return run(m, X * np.array([1e-4, 1.0, 1e3, 1.0]), y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def unscaled_target(s, scale, shift, opt):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 1], s)
        return run(m, X, y * scale + shift, ns.MSELoss(), opt(m.parameters()), 300, 64)

    def dead_bias(s):
        X, y = mix(np.random.default_rng(s))
        m = _mlp([4, 32, 32, 1], s, init=_bias_init(-4.0))
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 300, 64)

    def dead_kick(s):
        X, y = mix(np.random.default_rng(s))
        m = _mlp([4, 32, 32, 1], s)
        return run(m, X, y + 20.0, ns.MSELoss(), SGD(m.parameters(), lr=0.1), 300, 64)

    def deep(s, init, act="relu", width=32, depth=10, lr=1e-3):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2] + [width] * depth + [1], s, init=init, activation=act)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), lr), 200, 64)

    def final_relu(s):
        X, y = mix(np.random.default_rng(s))
        m = _mlp([4, 32, 1], s, final_activation="relu")
        return run(m, X, y - 3.0, ns.MSELoss(), Adam(m.parameters(), 1e-3), 300, 64)

    def decay(s):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), AdamW(m.parameters(), 1e-2, weight_decay=100.0), 300, 64)

    def small_lr(s, opt):
        X, y = mix(np.random.default_rng(s))
        m = _mlp([4, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), opt(m.parameters()), 400, 64)

    def large_lr(s, opt):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), opt(m.parameters()), 300, 64)

    def zero_init(s):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 1], s, init="zeros")
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=0.05), 400)

    def too_simple(s):
        rng = np.random.default_rng(s)
        X = rng.standard_normal((512, 2))
        m = ns.Linear(2, 1, rng=s)
        return run(m, X, _std((X**2).sum(1, keepdims=True)), ns.MSELoss(), Adam(m.parameters(), 1e-2), 400, 64)

    def outliers(s):
        rng = np.random.default_rng(s)
        X, y = wave(rng)
        y[rng.choice(len(y), 8, replace=False)] += 200.0
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def cauchy(s):
        rng = np.random.default_rng(s)
        X, y = wave(rng)
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, y + rng.standard_cauchy(y.shape), ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def lognormal(s):
        rng = np.random.default_rng(s)
        X = rng.standard_normal((512, 2))
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, np.exp(3 * X[:, :1]), ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def tiny_targets(s, lr):
        X, y = relative_targets(np.random.default_rng(s), 1e-2)
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, y, RelativeError(), Adam(m.parameters(), lr), 400, 64)

    def shifted(s):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 1], s, init=ns.init.normal(0.1))
        return run(m, X + 60.0, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def rebuilt(s):
        """A notebook: the optimizer was built, then the cell that builds the model ran again."""
        X, y = mix(np.random.default_rng(s))
        opt = Adam(_mlp([4, 32, 32, 1], s).parameters(), 1e-3)
        m = _mlp([4, 32, 32, 1], s + 1)
        return run(m, X, y, ns.MSELoss(), opt, 300, 64)

    return [
        c("sgd-lr-3-diverges", ["NON_FINITE", "LR_TOO_LARGE"], nonfinite_sgd),
        c("exp-layer-overflows", ["NON_FINITE", "UNSCALED_INPUT"], nonfinite_exp),
        c(
            "broadcast-mse-adam",
            ["SHAPE_BROADCAST", "CONSTANT_OUTPUT"],
            lambda s: broadcast(s, ns.MSELoss(broadcast=True), lambda p: Adam(p, 1e-3)),
        ),
        c(
            "broadcast-l1-sgd",
            ["SHAPE_BROADCAST"],
            lambda s: broadcast(s, ns.L1Loss(broadcast=True), lambda p: SGD(p, lr=0.05)),
        ),
        c("no-zero-grad-sgd", ["GRAD_ACCUMULATION"], lambda s: accum(s, lambda p: SGD(p, lr=1e-3))),
        c("no-zero-grad-adam", ["GRAD_ACCUMULATION"], lambda s: accum(s, lambda p: Adam(p, 1e-3), mix)),
        c("inputs-around-1000", ["UNSCALED_INPUT"], unscaled_input),
        c("features-1e-4-to-1e3", ["UNSCALED_INPUT"], mixed_scales),
        c(
            "targets-x100-plus-500",
            ["UNSCALED_TARGET"],
            lambda s: unscaled_target(s, 100.0, 500.0, lambda p: Adam(p, 1e-3)),
        ),
        c("targets-x1e-5", ["UNSCALED_TARGET"], lambda s: unscaled_target(s, 1e-5, 0.0, lambda p: SGD(p, lr=0.01))),
        c("bias-init-minus-4", ["DEAD_RELU"], dead_bias),
        c("sgd-first-steps-kill-units", ["DEAD_RELU"], dead_kick),
        c("deep-relu-small-init", ["VANISHING_SIGNAL"], lambda s: deep(s, ns.init.normal(0.05))),
        c("deep-sigmoid", ["VANISHING_SIGNAL"], lambda s: deep(s, "glorot_uniform", "sigmoid", depth=8)),
        c("deep-relu-large-init", ["EXPLODING_SIGNAL"], lambda s: deep(s, ns.init.normal(0.5), width=64, depth=8)),
        c(
            "deep-leaky-large-init",
            ["EXPLODING_SIGNAL"],
            lambda s: deep(s, ns.init.normal(0.6), "leaky_relu", depth=8, lr=1e-4),
        ),
        c("final-relu-negative-targets", ["CONSTANT_OUTPUT", "DEAD_RELU"], final_relu),
        c("weight-decay-100", ["CONSTANT_OUTPUT"], decay),
        c("adam-lr-1e-7", ["LR_TOO_SMALL", "PLATEAU"], lambda s: small_lr(s, lambda p: Adam(p, 1e-7))),
        c("sgd-lr-1e-6", ["LR_TOO_SMALL"], lambda s: small_lr(s, lambda p: SGD(p, lr=1e-6))),
        c("adam-lr-1", ["LR_TOO_LARGE"], lambda s: large_lr(s, lambda p: Adam(p, 1.0))),
        c("sgd-momentum-lr-1", ["LR_TOO_LARGE"], lambda s: large_lr(s, lambda p: SGD(p, lr=1.0, momentum=0.9))),
        c("zero-init-symmetry", ["PLATEAU"], zero_init),
        c("linear-model-on-quadratic", ["PLATEAU"], too_simple),
        c("eight-corrupted-targets", ["HEAVY_TAILED_LOSS"], outliers),
        c("cauchy-noise", ["HEAVY_TAILED_LOSS"], cauchy),
        c("lognormal-targets", ["HEAVY_TAILED_LOSS"], lognormal),
        c("relative-error-tiny-targets", ["TRIVIAL_SOLUTION"], lambda s: tiny_targets(s, 1e-2)),
        c("relative-error-tiny-targets-slow", ["TRIVIAL_SOLUTION"], lambda s: tiny_targets(s, 3e-3)),
        c("inputs-shifted-by-60", ["LINEAR_REGIME", "UNSCALED_INPUT"], shifted),
        c("model-rebuilt-after-the-optimizer", ["OPTIMIZER_MISMATCH", "PLATEAU"], rebuilt),
    ]


def _healthy() -> list[Case]:
    def h(name, build):
        return Case(name, (), build)

    def adam(s, data=wave, sizes=(32, 32), act="relu", loss=None, lr=1e-3, init=None, steps=400, batch=64):
        X, y = data(np.random.default_rng(s))
        m = _mlp([X.shape[1], *sizes, y.shape[1]], s, activation=act, init=init)
        return run(m, X, y, loss or ns.MSELoss(), Adam(m.parameters(), lr), steps, batch)

    def slow(s):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=0.01), 600)

    def momentum(s):
        X, y = mix(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=0.02, momentum=0.9), 400, 32)

    def noisy(rng):
        X, y = wave(rng)
        return X, _std(y + rng.standard_normal(y.shape))

    def unit_box(rng):
        X = rng.random((512, 2))
        return X, (X**2).sum(1, keepdims=True)

    def multi(rng):
        X = rng.standard_normal((512, 3))
        return X, _std(np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2], np.abs(X[:, 0])]))

    def relative(s):
        X, y = relative_targets(np.random.default_rng(s), None)
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, y, RelativeError(), Adam(m.parameters(), 1e-3), 400, 64)

    def accumulate(s):
        X, y = wave(np.random.default_rng(s))
        m = _mlp([2, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 300, 16, accumulate=4)

    return [
        h("adam-standardised", lambda s: adam(s)),
        h("sgd-momentum-4d", momentum),
        h("slow-steady-sgd", slow),
        h("wide-relu-half-sparse", lambda s: adam(s, sizes=(256,), batch=None, lr=3e-3)),
        h("tanh-net", lambda s: adam(s, mix, act="tanh")),
        h("deep-he-init", lambda s: adam(s, sizes=(32,) * 6, init="he_normal")),
        h("huber-noisy", lambda s: adam(s, noisy, loss=ns.HuberLoss())),
        h("l1-loss", lambda s: adam(s, mix, loss=ns.L1Loss(), lr=3e-3)),
        h("noisy-targets-floor", lambda s: adam(s, noisy, steps=600)),
        h("unit-box-unstandardised", lambda s: adam(s, unit_box, sizes=(25, 10))),
        h("three-outputs", lambda s: adam(s, multi, sizes=(64, 64))),
        h("deliberate-accumulation", accumulate),
        h("relative-error-positive-targets", relative),
        h("adam-lr-1e-2", lambda s: adam(s, mix, lr=1e-2)),
    ]


CASES: list[Case] = _broken() + _healthy()


def train(case: Case, seed: int = 0, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run one case with a hand-written loop calling ``callbacks``; return its set-up.

    The set-up's keys say how the loop runs: ``steps``; ``batch`` (rows drawn at random for each
    batch, or every row when None); ``zero_grad`` (False: never) and ``accumulate`` (micro-batches
    summed into one step on purpose). Optional keys express mistakes that the usual loop cannot:
    ``order="sequential"``, consecutive batches in the data's stored order, the same order every
    epoch (a data loader without shuffling); ``zero_grad_every=k``, ``zero_grad()`` only every k
    optimizer steps (once per epoch when k is the number of batches in an epoch);
    ``zero_grad_of``, a module whose ``zero_grad()`` is called instead of the optimizer's;
    ``zero_grad_before_step``, gradients zeroed again between ``backward`` and ``step``;
    ``scheduler``, a learning-rate scheduler stepped after every optimizer step.
    """
    cfg = case.build(seed)
    model, X, y, loss, opt = cfg["model"], cfg["X"], cfg["y"], cfg["loss"], cfg["opt"]
    rng = np.random.default_rng(seed + 1000)
    n, batch, every = len(X), cfg["batch"], cfg.get("zero_grad_every", 1)
    zeroer, scheduler = cfg.get("zero_grad_of") or opt, cfg.get("scheduler")
    ctx = TrainingContext(model=model, loss_fn=loss, optimizer=opt, extra={"total_steps": cfg["steps"]})
    for cb in callbacks:
        cb.on_train_begin(ctx)
    drawn = 0  # batches drawn so far, for the sequential order
    with np.errstate(all="ignore"):
        for step in range(cfg["steps"]):
            if cfg["zero_grad"] and step % every == 0:
                zeroer.zero_grad()
            for _ in range(cfg["accumulate"]):  # micro-batches summed into one step on purpose
                if cfg.get("order") == "sequential":
                    start = (drawn * (batch or n)) % n
                    rows: Any = slice(start, start + (batch or n))
                else:
                    rows = rng.choice(n, batch, replace=False) if batch else slice(None)
                drawn += 1
                xb, yb = X[rows], y[rows]
                value = loss(model(xb), yb)
                model.backward(loss.backward())
            if cfg.get("zero_grad_before_step"):
                opt.zero_grad()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            ctx.step, ctx.loss, ctx.x_batch, ctx.y_batch = step, value, xb, yb
            for cb in callbacks:
                cb.on_step_end(ctx)
    for cb in callbacks:
        cb.on_train_end(ctx)
    return cfg
