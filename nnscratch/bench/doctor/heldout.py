"""The doctor's held-out runs: labelled before the doctor ever saw them, never used to tune it.

Each run is modelled on a kind of failure (or healthy set-up) that users report in public
places, such as Stack Overflow questions, the PyTorch and Keras forums, Kaggle notebooks and
course notes, and none is one of the five documents' set-ups, a copy of a tuning run
(:mod:`.cases`) or of a retired held-out run (:mod:`.retired`). ``expect`` lists the codes that
the codes' definitions (:mod:`nnscratch.doctor.codes`) say a correct diagnosis must contain;
``()`` marks a healthy run, on which any problem is a false alarm. ``source`` says which kind of
public report the run is modelled on, and ``why`` why the label follows from the codes' definitions.

How the labels were set: each run was first trained without the doctor and measured directly
(the loss over all rows against the mean predictor's, the predictions' spread, the share of dead
units, the signal's size per layer, the early update-to-weight ratio, the learning rate over the
run), on seeds 0, 1 and 2. ``expect`` holds the code that names the cause where its definition
held in every seed; where no code names the cause, or its definition did not hold in every seed,
the codes whose definitions did hold and that point at the fix (PLATEAU, CONSTANT_OUTPUT, or e.g.
DEAD_RELU, whose fix names He initialisation and a lower rate); and NON_FINITE where the loss
became NaN or infinite in every seed. Codes the doctor adds beyond ``expect`` are not counted
against it on a broken run. The measurements come from ``python -m nnscratch.bench.doctor.measure``
(:mod:`.measure`), which trains a run with no doctor attached; runs that did not fail as designed
in all three seeds are in :data:`REJECTED`, with the reason, and were dropped before the doctor
was run on any run of this set.

The thresholds and rules must not change because of these runs: a rule or threshold changed
after seeing them moves them into the tuning set (:mod:`.retired`), and new held-out runs have
to be written. This is the fifth held-out set; the first four are in :mod:`.retired`.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

import nnscratch as ns
from nnscratch.optim import SGD, Adam, AdamW, RMSprop
from nnscratch.rng import as_generator
from nnscratch.schedulers import LRScheduler, ReduceLROnPlateau

from .cases import LoggedMSE, Reported, _mlp, _std, named, run

# --- data -----------------------------------------------------------------------------------------------


def folds(rng: np.random.Generator, n: int = 768, d: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """d standard-normal inputs; y = the sum of tanh of 3 random projections plus a product of two
    inputs (standardised)."""
    X = rng.standard_normal((n, d))
    P = rng.standard_normal((d, 3)) / np.sqrt(d)
    return X, _std(np.tanh(1.5 * X @ P).sum(1, keepdims=True) + 0.5 * X[:, :1] * X[:, 1:2])


def wiggle(rng: np.random.Generator, n: int = 1024, freq: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """One input uniform on [-1, 1]; y = sin(freq pi x) + 0.3 x (standardised): a fast oscillation."""
    x = rng.uniform(-1.0, 1.0, (n, 1))
    return x, _std(np.sin(freq * np.pi * x) + 0.3 * x)


def demand(rng: np.random.Generator, n: int = 1024, d: int = 4, share: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """d standardised features (price, promotion, weekday...) -> units sold on a day, 0 on most days: a sale
    happens with probability about ``share`` (barely related to the features), its size depends on them."""
    X = rng.standard_normal((n, d))
    sold = rng.random(n) < share * np.exp(0.3 * np.tanh(X[:, 0]))
    size = np.round(np.exp(1.0 + 0.4 * np.tanh(X[:, 1]) + 0.3 * X[:, 2] * X[:, 3] / 2))
    return X, np.where(sold, np.maximum(size, 1.0), 0.0)[:, None]


def geo(rng: np.random.Generator, n: int = 768) -> tuple[np.ndarray, np.ndarray]:
    """Latitude (32 to 42) and longitude (-124 to -114) in degrees and 3 standardised features -> a standardised
    price that depends on the place (two centres) and on the features."""
    lat, lon = rng.uniform(32.0, 42.0, n), rng.uniform(-124.0, -114.0, n)
    other = rng.standard_normal((n, 3))
    near = np.exp(-((lat - 34.0) ** 2 + (lon + 118.3) ** 2) / 4) + np.exp(-((lat - 37.8) ** 2 + (lon + 122.4) ** 2) / 4)
    y = 1.5 * near + 0.4 * np.tanh(other[:, 0]) + 0.3 * other[:, 1] * other[:, 2]
    return np.column_stack([lat, lon, other]), _std(y + 0.1 * rng.standard_normal(n))[:, None]


def customers(rng: np.random.Generator, n: int = 768) -> tuple[np.ndarray, np.ndarray]:
    """Raw customer features: income (mean 60000, sd 20000), age (45, 12), tenure in years (5, 3) and a
    share of online orders (0.3, 0.1) -> a standardised spend."""
    Z, y = folds(rng, n, d=4)
    return Z * np.array([20000.0, 12.0, 3.0, 0.1]) + np.array([60000.0, 45.0, 5.0, 0.3]), y


def categories(rng: np.random.Generator, n: int = 1024, k: int = 40, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """d standardised features drawn around one of k class centres -> the class's index (0 to k-1)."""
    C = rng.standard_normal((k, d)) * 1.5
    label = rng.integers(0, k, n)
    return C[label] + 0.5 * rng.standard_normal((n, d)), label.astype(float)[:, None]


def wind(rng: np.random.Generator, n: int = 768) -> tuple[np.ndarray, np.ndarray]:
    """4 standardised weather features -> the wind's direction in degrees (0 to 360) and the same as its
    (sin, cos) pair."""
    X = rng.standard_normal((n, 4))
    angle = np.mod(
        200.0 + 70.0 * np.tanh(X[:, 0] + 0.5 * X[:, 1]) + 40.0 * X[:, 2] * 0.5 + 15 * rng.standard_normal(n), 360
    )
    rad = np.deg2rad(angle)
    return X, np.column_stack([angle, np.sin(rad), np.cos(rad)])


def steps_counts(rng: np.random.Generator, n: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """4 standardised features -> daily step counts (median about 8000, log-normal), as the true int64 count
    and as stored in an int16 column (counts above 32767 wrap around to large negative numbers)."""
    X = rng.standard_normal((n, 4))
    steps = np.round(
        np.exp(np.log(8000.0) + 0.25 * np.tanh(X[:, 0]) + 0.2 * X[:, 1] * X[:, 2] / 2 + 0.55 * rng.standard_normal(n))
    )
    wrapped = steps.astype(np.int64).astype(np.int16).astype(float)
    return X, np.column_stack([steps, wrapped])


def hike_steps(rng: np.random.Generator, n: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """4 standardised features -> daily step counts stored in an int16 column: about 9000 on most days, and on
    about 1% of days (hikes, not told apart by the features) 33000 to 45000, which wrap around to -32500 to
    -20500."""
    X = rng.standard_normal((n, 4))
    steps = 9000 + 2500 * np.tanh(X[:, 0]) + 1200 * X[:, 1] * X[:, 2] / 2 + 800 * rng.standard_normal(n)
    hike = rng.random(n) < 0.01
    counted = np.round(np.where(hike, rng.uniform(33000, 45000, n), np.clip(steps, 500, None)))
    return X, counted.astype(np.int64).astype(np.int16).astype(float)[:, None]


def claims(rng: np.random.Generator, n: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """5 standardised policy features -> the year's claim amount: 0 for about 95% of policies, a log-normal
    amount (sigma 1.2) for the rest; the claim's chance depends weakly on the features."""
    X = rng.standard_normal((n, 5))
    claim = rng.random(n) < 0.05 * np.exp(0.4 * np.tanh(X[:, 0]))
    amount = np.exp(7.5 + 0.3 * X[:, 1] + 1.2 * rng.standard_normal(n))
    return X, np.where(claim, amount, 0.0)[:, None]


def pixels(rng: np.random.Generator, n: int = 1024, side: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """side x side 8-bit images (integers 0 to 255) of a blurred blob at a random place and brightness ->
    the blob's standardised horizontal position times its brightness."""
    cx, cy, b = rng.uniform(0, side - 1, n), rng.uniform(0, side - 1, n), rng.uniform(0.3, 1.0, n)
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    img = b[:, None, None] * np.exp(-((gx[None] - cx[:, None, None]) ** 2 + (gy[None] - cy[:, None, None]) ** 2) / 2)
    img = np.round(np.clip(img + 0.05 * rng.standard_normal(img.shape), 0, 1) * 255)
    return img.reshape(n, -1), _std(cx * b + 0.5 * np.sin(cy))[:, None]


def shop(rng: np.random.Generator, n: int = 768) -> tuple[np.ndarray, np.ndarray]:
    """4 standardised features and a one-hot store type with 6 columns, one of which no row has (a store type
    listed in the schema but absent from this data) -> a standardised target."""
    X, y = folds(rng, n, d=4)
    kind = rng.integers(0, 5, n)  # types 0 to 4 occur; the sixth column stays 0
    onehot = np.eye(6)[kind]
    return np.hstack([X, onehot]), _std(y + 0.5 * np.sin(kind)[:, None])


def incomes(rng: np.random.Generator, n: int = 768) -> tuple[np.ndarray, np.ndarray]:
    """3 standardised features and a yearly income (log-normal, median 40000, some above 65504) -> a
    standardised target that depends on the log-income."""
    X, y = folds(rng, n, d=3)
    income = np.exp(np.log(40000.0) + 0.5 * rng.standard_normal(n))
    return np.column_stack([X, income]), _std(y + 0.5 * (np.log(income) - np.log(40000.0))[:, None])


def churn(rng: np.random.Generator, n: int = 768) -> tuple[np.ndarray, np.ndarray]:
    """5 standardised features -> a 0/1 label (churned or not, about 30% ones)."""
    X, y = folds(rng, n)
    p = 1 / (1 + np.exp(-(2.5 * y[:, 0] - 1.2)))
    return X, (rng.random(n) < p).astype(float)[:, None]


def coords(rng: np.random.Generator, n: int = 768) -> tuple[np.ndarray, np.ndarray]:
    """The same houses as :func:`geo`: latitude and longitude (here in radians) and 3 standardised features."""
    X, y = geo(rng, n)
    return np.column_stack([np.deg2rad(X[:, :2]), X[:, 2:]]), y


# --- losses, layers, optimizers and schedules -------------------------------------------------------------


class SMAPE(ns.Loss):
    """Symmetric mean absolute percentage error, 2 |pred - y| / (|pred| + |y|), with 1e-8 added to the
    denominator so that 0 / 0 is 0 (as the Kaggle kernels for sales forecasting write it)."""

    def elementwise(self, pred, target):
        self.diff, self.pred = pred - target, pred
        self.den = abs(pred) + abs(target) + 1e-8
        return 2 * abs(self.diff) / self.den

    def elementwise_grad(self):
        return 2 * np.sign(self.diff) / self.den - 2 * abs(self.diff) * np.sign(self.pred) / self.den**2


class KerasMAPE(ns.Loss):
    """Keras' mean absolute percentage error: 100 |y - pred| / max(|y|, 1e-7)."""

    def elementwise(self, pred, target):
        self.diff, self.scale = pred - target, np.maximum(abs(target), 1e-7)
        return 100 * abs(self.diff) / self.scale

    def elementwise_grad(self):
        return 100 * np.sign(self.diff) / self.scale


class SignSlipMSE(ns.Loss):
    """The squared error with its derivative written by hand as 2 (y - pred): the sign of d loss / d pred
    flipped, so every step climbs the loss."""

    def elementwise(self, pred, target):
        self.diff = pred - target
        return self.diff**2

    def elementwise_grad(self):
        return -2 * self.diff


class LossScaledMSE(ns.Loss):
    """The squared error whose backward is scaled by a mixed-precision loss scale (65536, torch's GradScaler
    default), as scaler.scale(loss).backward() does; the value is the unscaled loss."""

    scale = 65536.0

    def elementwise(self, pred, target):
        self.diff = pred - target
        return self.diff**2

    def elementwise_grad(self):
        return 2 * self.diff * self.scale


class Pinball(ns.Loss):
    """The quantile (pinball) loss for quantile q: q (y - pred) above the prediction, (1 - q) (pred - y) below."""

    def __init__(self, q: float) -> None:
        super().__init__()
        self.q = q

    def elementwise(self, pred, target):
        self.diff = target - pred
        return np.maximum(self.q * self.diff, (self.q - 1) * self.diff)

    def elementwise_grad(self):
        return np.where(self.diff > 0, -self.q, 1 - self.q)


class Scale(ns.Module):
    """Multiply by a constant: the sqrt(d_model) of a transformer's embedding, here after every hidden layer."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def backward(self, grad_out):
        return grad_out * self.factor


class Softmax(ns.Module):
    """Softmax over the last axis (Keras' activation='softmax'); on one output column it is always 1."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        self.out = e / e.sum(axis=-1, keepdims=True)
        return self.out

    def backward(self, grad_out):
        return self.out * (grad_out - (grad_out * self.out).sum(axis=-1, keepdims=True))


class Residual(ns.Module):
    """x + alpha Linear(ReLU(Linear(x))): a residual block whose branch is scaled down (as SkipInit and
    Fixup-style recipes do)."""

    def __init__(self, width: int, alpha: float, rng: int) -> None:
        self.alpha = alpha
        self.body = ns.Sequential(
            ns.Linear(width, width, init="he_normal", rng=rng),
            ns.ReLU(),
            ns.Linear(width, width, init="he_normal", rng=rng + 1),
        )

    def forward(self, x):
        return x + self.alpha * self.body(x)

    def backward(self, grad_out):
        return grad_out + self.body.backward(self.alpha * grad_out)


class ClampedAdam(Adam):
    """Adam followed by every parameter clamped to [-c, c] (p.data.clamp_(-c, c), WGAN's weight clipping),
    written where clip_grad_value_ was meant."""

    def __init__(self, params: Any, c: float, **kw: Any) -> None:
        super().__init__(params, **kw)
        self.c = c

    def step(self) -> None:
        super().step()
        for p in self.parameters():
            np.clip(p.data, -self.c, self.c, out=p.data)


class NormClippedSGD(SGD):
    """SGD after ns.clip_grad_norm_(params, max_norm)."""

    def __init__(self, params: Any, max_norm: float, **kw: Any) -> None:
        super().__init__(params, **kw)
        self.max_norm = max_norm

    def step(self) -> None:
        ns.clip_grad_norm_(self.parameters(), self.max_norm)
        super().step()


class ValueClippedAdam(Adam):
    """Adam after ns.clip_grad_value_(params, clip)."""

    def __init__(self, params: Any, clip: float, **kw: Any) -> None:
        super().__init__(params, **kw)
        self.clip = clip

    def step(self) -> None:
        ns.clip_grad_value_(self.parameters(), self.clip)
        super().step()


class Lambda(LRScheduler):
    """The starting rate times ``factor(step)``, as torch's LambdaLR."""

    def __init__(self, optimizer: Any, factor: Any) -> None:
        self.factor = factor
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]


class BatchPlateau:
    """ReduceLROnPlateau stepped after every batch with that batch's loss (the benchmark's loop steps a
    scheduler after every optimizer step)."""

    def __init__(self, scheduler: ReduceLROnPlateau, loss: LoggedMSE) -> None:
        self.scheduler, self.loss = scheduler, loss

    def step(self) -> None:
        self.scheduler.step(self.loss.values[-1])


def _he_no_sqrt(n_in, n_out, rng=None):
    """He initialisation written by hand without its square root: std 2 / fan_in instead of sqrt(2 / fan_in)."""
    return as_generator(rng).normal(0.0, 2.0 / n_in, (n_in, n_out)), np.zeros(n_out)


def _lecun(n_in, n_out, rng=None):
    """LeCun normal initialisation: std sqrt(1 / fan_in), zero bias (the usual choice for tanh)."""
    return as_generator(rng).normal(0.0, math.sqrt(1.0 / n_in), (n_in, n_out)), np.zeros(n_out)


def _triangle(low: float, high: float, half: int):
    """CyclicLR's triangular policy as a factor of ``high``: from low up to high over ``half`` steps and back."""

    def factor(t: int) -> float:
        pos = abs((t % (2 * half)) - half) / half  # 1 at the start of a cycle, 0 at its peak
        return (low + (high - low) * (1 - pos)) / high

    return factor


# --- the runs -------------------------------------------------------------------------------------------


def _broken() -> list[Reported]:
    def unsqueezed(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y[:, :, None], ns.HuberLoss(broadcast=True), AdamW(m.parameters(), 1e-3), 400, 32)

    def target_net(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        target = copy.deepcopy(m)
        opt = SGD(m.parameters(), lr=0.01, momentum=0.9)
        return {**run(m, X, y, ns.MSELoss(), opt, 400, 32), "zero_grad_of": target}

    def ensemble(s):
        X, y = folds(np.random.default_rng(s))
        models = [_mlp([5, 64, 64, 1], s + 10 * k) for k in range(5)]
        opts = []
        for member in models:
            opt = Adam(member.parameters(), 1e-3)  # the loop's variable outlives the loop
            opts.append(opt)
        return run(models[0], X, y, ns.MSELoss(), opt, 400, 32)

    def quantile_low(s):
        X, y = demand(np.random.default_rng(s), share=0.3)
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, y, Pinball(0.01), Adam(m.parameters(), 1e-3), 400, 32)

    def lat_lon(s):
        X, y = geo(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def reordered(s):
        X, y = customers(np.random.default_rng(s))
        mean, std = X.mean(0), X.std(0)
        m = _mlp([4, 64, 64, 1], s)
        return run(m, (X - mean[::-1]) / std[::-1], y, ns.MSELoss(), RMSprop(m.parameters(), lr=1e-3), 400, 32)

    def class_ids(s):
        X, y = categories(np.random.default_rng(s))
        m = _mlp([6, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=1e-3, momentum=0.9, nesterov=True), 400, 32)

    def degrees(s):
        X, Y = wind(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 1], s, activation="tanh")
        return run(m, X, Y[:, :1], ns.L1Loss(), Adam(m.parameters(), 1e-3), 400, 32)

    def int16_hikes(s):
        X, y = hike_steps(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, _std(y), ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def insurance(s):
        X, y = claims(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, _std(y), ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def amp(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y, LossScaledMSE(), SGD(m.parameters(), lr=1e-3, momentum=0.9), 300, 32)

    def cyclic(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        opt = SGD(m.parameters(), lr=2.0, momentum=0.9)
        return {**run(m, X, y, ns.MSELoss(), opt, 400, 32), "scheduler": Lambda(opt, _triangle(1e-3, 2.0, 100))}

    def int_warmup(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        opt = AdamW(m.parameters(), 1e-3, weight_decay=0.01)
        return {**run(m, X, y, ns.MSELoss(), opt, 400, 32), "scheduler": Lambda(opt, lambda t: min(1, t // 1000))}

    def clip_lr(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        opt = NormClippedSGD(m.parameters(), 1e-4, lr=1e-2, momentum=0.9)
        return run(m, X, y, ns.MSELoss(), opt, 400, 32)

    def batch_plateau(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        opt, loss = Adam(m.parameters(), 1e-3), LoggedMSE()
        sched = BatchPlateau(ReduceLROnPlateau(opt, factor=0.1, patience=0), loss)
        return {**run(m, X, y, loss, opt, 400, 32), "scheduler": sched}

    def sqrt_d(s):
        X, y = folds(np.random.default_rng(s))
        layers: list = [ns.Linear(5, 64, init="he_normal", rng=s), ns.ReLU(), Scale(8.0)]
        for i in range(4):
            layers += [ns.Linear(64, 64, init="he_normal", rng=s + 1 + i), ns.ReLU(), Scale(8.0)]
        m = ns.Sequential(*layers, ns.Linear(64, 1, rng=s + 9))
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-4), 300, 32)

    def no_sqrt_deep(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5] + [64] * 8 + [1], s, init=_he_no_sqrt)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=0.01, momentum=0.9), 400, 32)

    def clamped_deep(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5] + [64] * 5 + [1], s)
        return run(m, X, y, ns.MSELoss(), ClampedAdam(m.parameters(), 0.01, lr=1e-3), 400, 32)

    def sign_slip(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y, SignSlipMSE(), SGD(m.parameters(), lr=0.01), 300, 32)

    def twice_255(s):
        X, y = pixels(np.random.default_rng(s))
        m = _mlp([16, 64, 64, 1], s, init="torch_default")
        return run(m, X / 255.0 / 255.0, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def eps_zero(s):
        X, y = shop(np.random.default_rng(s))
        m = _mlp([10, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3, eps=0.0), 300, 32)

    def float16(s):
        X, y = incomes(np.random.default_rng(s))
        with np.errstate(over="ignore", invalid="ignore"):
            X = X.astype(np.float16).astype(np.float64)  # a "reduce memory" step: 65504 is float16's largest value
            X = (X - X.mean(0)) / X.std(0)
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 300, 32)

    def softmax_one(s):
        X, y = churn(np.random.default_rng(s))
        m = ns.Sequential(
            ns.Linear(5, 64, rng=s),
            ns.ReLU(),
            ns.Linear(64, 64, rng=s + 1),
            ns.ReLU(),
            ns.Linear(64, 1, rng=s + 2),
            Softmax(),
        )
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 300, 32)

    def high_freq(s):
        X, y = wiggle(np.random.default_rng(s))
        m = _mlp([1, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 500, 64)

    H = Reported
    return [
        H(
            "target-unsqueezed-twice",
            ("SHAPE_BROADCAST",),
            unsqueezed,
            "PyTorch forum questions: y.unsqueeze(-1) applied to a target that was already (N, 1), so it is "
            "(N, 1, 1) against predictions of (N, 1) and the loss (here Huber, AdamW) broadcasts to (N, N, 1)",
            "the loss broadcast in every seed (SHAPE_BROADCAST); every prediction is compared with every target, "
            "so the loss stays at 0.99-1.00 of the mean's with no gain (PLATEAU also holds, CONSTANT_OUTPUT in two "
            "seeds)",
        ),
        H(
            "zero-grad-on-the-target-network",
            ("GRAD_ACCUMULATION",),
            target_net,
            "reinforcement-learning and siamese-network code on the forums: a copy of the model kept as a target "
            "network, and zero_grad() called on the copy instead of the online model; SGD with momentum",
            "the online model's gradients hold one backward pass more at every step, 400 at the end "
            "(GRAD_ACCUMULATION); the summed gradients blow the run up, the loss ends 1e30 or more times the mean's "
            "(LR_TOO_LARGE, DEAD_RELU and PLATEAU also hold)",
        ),
        H(
            "ensemble-loop-keeps-the-last-optimizer",
            ("OPTIMIZER_MISMATCH",),
            ensemble,
            "ensemble and cross-validation scripts: the members and their optimizers are built in a loop, and the "
            "first member is trained with `opt`, the variable the loop left holding the last member's optimizer",
            "the optimizer holds none of the trained model's parameters (OPTIMIZER_MISMATCH); the model never "
            "changes and the loss stays at 1.02-1.07 of the mean's (CONSTANT_OUTPUT and PLATEAU also hold)",
        ),
        H(
            "quantile-0.01-on-intermittent-sales",
            ("TRIVIAL_SOLUTION",),
            quantile_low,
            "demand-forecasting questions on quantile regression: the pinball loss with q = 0.01 where the upper "
            "quantile 0.99 was meant, on daily sales that are 0 on about 70% of days",
            "the 1% quantile of such sales is 0: predicting 0 costs 0.014-0.015 of the mean predictor's loss, and "
            "the network ends at 1.03-1.06 times that (TRIVIAL_SOLUTION; CONSTANT_OUTPUT in two seeds)",
        ),
        H(
            "latitude-longitude-in-degrees",
            ("UNSCALED_INPUT",),
            lat_lon,
            "house-price questions (California housing and similar): latitude and longitude fed in degrees next "
            "to standardised features",
            "the longitude's RMS is 119 (UNSCALED_INPUT); 53-66% of a layer's units end dead and fewer than 10% "
            "switch within the data (DEAD_RELU, LINEAR_REGIME), and the run ends at 0.72-0.77 of the mean's loss",
        ),
        H(
            "scaler-columns-in-another-order",
            ("UNSCALED_INPUT",),
            reordered,
            "preprocessing questions: a scaler fitted on the columns in one order and applied to a frame whose "
            "columns came in another, so income is divided by the standard deviation of a share; RMSprop",
            "the income column's RMS is about 6e5 (UNSCALED_INPUT); the first loss is 6e7-1e9 times the mean's and "
            "the early updates are 1e-6 of the weights (LR_TOO_SMALL and PLATEAU also hold)",
        ),
        H(
            "class-index-as-regression-target",
            ("UNSCALED_TARGET",),
            class_ids,
            "beginners' questions: a 40-class problem trained as regression on the class index (0 to 39) with "
            "MSE, SGD with Nesterov momentum",
            "the target's mean is about 20 and its standard deviation 11 (UNSCALED_TARGET); the loss starts at "
            "3.9-4.2 times the mean predictor's and ends at 0.12-0.25 of it",
        ),
        H(
            "wind-direction-in-degrees",
            ("UNSCALED_TARGET",),
            degrees,
            "weather questions: the wind's direction in degrees (0 to 360) as the target of a tanh network, "
            "the L1 loss, Adam",
            "the target's mean is about 200 and its standard deviation 52 (UNSCALED_TARGET); the tanh units "
            "saturate reaching for 200 and the predictions' spread ends below 0.001 of the targets' "
            "(VANISHING_SIGNAL and CONSTANT_OUTPUT also hold)",
        ),
        H(
            "hike-step-counts-wrapped-by-int16",
            ("HEAVY_TAILED_LOSS",),
            int16_hikes,
            "pandas questions on integer overflow: daily step counts stored as int16 to save memory, so the "
            "days above 32767 (hikes) wrap around to large negative numbers; the target then standardised",
            "the 1% of wrapped days sit far below the rest and nothing in the features tells them apart: the worst "
            "1% of rows carry 82-89% of the loss while the run stays at 0.77-0.85 of the mean's (HEAVY_TAILED_LOSS)",
        ),
        H(
            "zero-inflated-claims-mse",
            ("HEAVY_TAILED_LOSS",),
            insurance,
            "Kaggle insurance-claims questions: the year's claim amount (0 for about 95% of policies, log-normal "
            "otherwise) standardised and fitted with MSE",
            "the few largest claims carry the loss: the worst 1% of rows hold 89-92% of it while the run stays "
            "at 0.95-0.98 of the mean's (HEAVY_TAILED_LOSS; PLATEAU also holds)",
        ),
        H(
            "loss-scale-never-unscaled",
            ("LR_TOO_LARGE", "NON_FINITE"),
            amp,
            "mixed-precision questions: scaler.scale(loss).backward() followed by optimizer.step() instead of "
            "scaler.step(optimizer), so the gradients keep the loss scale of 65536; SGD with momentum at 1e-3",
            "the gradients are 65536 times too large, the first updates are 1e6 times the weights and more, and "
            "the loss is NaN by step 4 in every seed (LR_TOO_LARGE, NON_FINITE; DEAD_RELU also holds)",
        ),
        H(
            "cyclic-lr-max-2",
            ("LR_TOO_LARGE",),
            cyclic,
            "CyclicLR questions: a triangular cycle from 1e-3 up to max_lr = 2 over 100 steps (the range test's "
            "largest rate taken as the maximum), SGD with momentum",
            "as the rate climbs the updates reach 0.68 of the weights or more and the loss rises 400-fold or becomes "
            "NaN by step 48 (LR_TOO_LARGE; DEAD_RELU also holds, NON_FINITE in two seeds of three)",
        ),
        H(
            "warm-up-integer-division",
            ("LR_TOO_SMALL",),
            int_warmup,
            "warm-up written by hand as LambdaLR(lambda step: min(1, step // warmup_steps)), with integer "
            "division and a warm-up of 1000 steps, AdamW",
            "step // 1000 is 0 for the whole run, so the rate is 0 and no weight moves: the update-to-weight ratio "
            "is 0 while the loss stays at 1.02-1.07 of the mean's (LR_TOO_SMALL; CONSTANT_OUTPUT and PLATEAU also "
            "hold)",
        ),
        H(
            "clip-grad-norm-given-the-rate",
            ("LR_TOO_SMALL",),
            clip_lr,
            "gradient-clipping questions: clip_grad_norm_(params, 1e-4), the learning rate's value passed as "
            "max_norm, SGD with momentum",
            "every step's gradient is cut to a norm of 1e-4, so the updates are about 1e-5 of the weights and the "
            "loss stays at 1.01-1.07 of the mean's (LR_TOO_SMALL; CONSTANT_OUTPUT and PLATEAU also hold)",
        ),
        H(
            "reduce-on-plateau-every-batch",
            ("LR_TOO_SMALL",),
            batch_plateau,
            "PyTorch forum questions: ReduceLROnPlateau(patience=0) stepped after every batch with the batch's "
            "loss, so every noisy batch counts as a plateau",
            "the rate over the second half is 1e-5 of its start while the loss stalls at 0.93-0.97 of the mean's "
            "(LR_TOO_SMALL; CONSTANT_OUTPUT and PLATEAU also hold)",
        ),
        H(
            "sqrt-d-scale-after-every-layer",
            ("EXPLODING_SIGNAL",),
            sqrt_d,
            "questions from code ported from transformers: the embedding's multiplication by sqrt(d_model) (8 for "
            "64 units) applied after every hidden layer of an MLP",
            "the activations' spread grows 2800-3900 times across the hidden layers (EXPLODING_SIGNAL); the loss "
            "starts at about 1e8 times the mean's and is still 3e6-5e6 times it at the end",
        ),
        H(
            "he-init-without-the-square-root-8-layers",
            ("VANISHING_SIGNAL",),
            no_sqrt_deep,
            "NumPy-from-scratch questions: He initialisation written as std = 2 / fan_in, the square root "
            "forgotten, in 8 ReLU layers of 64 units, SGD with momentum",
            "each layer shrinks the signal by about 0.18: at the start the activations' spread falls to 2e-6..4e-6 "
            "of its size across the hidden layers (VANISHING_SIGNAL), and the loss stays at 1.00-1.01 of the mean's "
            "(DEAD_RELU, CONSTANT_OUTPUT and PLATEAU also hold, LR_TOO_SMALL in two seeds)",
        ),
        H(
            "weights-clamped-instead-of-gradients-5-layers",
            ("VANISHING_SIGNAL",),
            clamped_deep,
            "clipping questions: p.data.clamp_(-0.01, 0.01) after every step (WGAN's weight clipping) written where "
            "clip_grad_value_ was meant, in 5 ReLU layers of 64 units, Adam",
            "with every weight at most 0.01 each layer shrinks the signal: by the end the activations' spread falls "
            "to 2e-6..6e-6 of its size across the hidden layers (VANISHING_SIGNAL) and the loss stays at the mean's "
            "(DEAD_RELU, CONSTANT_OUTPUT and PLATEAU also hold)",
        ),
        H(
            "mse-gradient-sign-flipped",
            ("NON_FINITE",),
            sign_slip,
            "NumPy-from-scratch questions ('my loss goes up'): the squared error's derivative written as "
            "2 (y - pred), so every step climbs the loss; plain SGD",
            "no code names a gradient of the wrong sign; the loss grows until it is NaN at step 45-57 in every "
            "seed (NON_FINITE; LR_TOO_LARGE and DEAD_RELU also hold, but a lower rate only slows the climb)",
        ),
        H(
            "pixels-divided-by-255-twice",
            ("UNSCALED_INPUT", "LINEAR_REGIME"),
            twice_255,
            "image questions: pixels divided by 255 in the dataset and again by the transform (ToTensor already "
            "scales), on a network with torch's default initialisation",
            "the pixels' RMS is 7.7e-4 to 1.5e-3, some below 1e-3 (UNSCALED_INPUT); the biases decide every unit's "
            "state, fewer than 10% of the units switch within the data (LINEAR_REGIME) and the loss stays at "
            "0.96-0.99 of the mean's (DEAD_RELU and PLATEAU also hold)",
        ),
        H(
            "adam-eps-0-empty-one-hot-column",
            ("NON_FINITE",),
            eps_zero,
            "Keras and PyTorch questions on NaN with epsilon=0 in Adam, here with a one-hot column for a category "
            "that no row has, so its weights always get a zero gradient",
            "Adam divides 0 by 0 on those weights, they become NaN and the loss is NaN from step 1 in every seed "
            "(NON_FINITE; DEAD_RELU also holds)",
        ),
        H(
            "float16-income-overflows",
            ("NON_FINITE",),
            float16,
            "Kaggle's reduce_mem_usage: a column cast to float16 to save memory, where incomes above 65504 become "
            "inf; the column then standardised by hand",
            "the standardisation turns the column into NaN and the loss is NaN at step 0 in every seed "
            "(NON_FINITE; DEAD_RELU also holds)",
        ),
        H(
            "softmax-on-a-single-output",
            ("CONSTANT_OUTPUT", "PLATEAU"),
            softmax_one,
            "Stack Overflow's Dense(1, activation='softmax'): a softmax over one output, which is always 1, on 0/1 "
            "churn labels with MSE",
            "no code names the softmax; the prediction is 1 on every row and no gradient passes it: the spread is "
            "0 (CONSTANT_OUTPUT) and the loss stays at 2.8-3.2 times the mean's (PLATEAU; LR_TOO_SMALL also holds, "
            "but a larger rate changes nothing)",
        ),
        H(
            "high-frequency-sine-1d",
            ("PLATEAU",),
            high_freq,
            "questions on fitting sin(x) with an MLP: one input on [-1, 1] and sin(12 pi x), 12 periods, which a "
            "small ReLU network fed the raw coordinate does not learn in a short run (spectral bias)",
            "no code names the missing input encoding; the loss stalls at 0.95-0.96 of the mean's with under 1% "
            "gain over the second half (PLATEAU)",
        ),
    ]


def _healthy() -> list[Reported]:
    def cyclic(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        opt = AdamW(m.parameters(), 3e-3, weight_decay=0.01)
        return {**run(m, X, y, ns.MSELoss(), opt, 400, 32), "scheduler": Lambda(opt, _triangle(1e-4, 3e-3, 100))}

    def pinball(s):
        rng = np.random.default_rng(s)
        X, y = folds(rng)
        noisy = y + 0.3 * (1 + np.abs(X[:, :1])) * rng.standard_normal(y.shape)
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, noisy, Pinball(0.9), Adam(m.parameters(), 2e-3), 500, 32)

    def fourier(s):
        x, y = wiggle(np.random.default_rng(s))
        k = np.arange(1, 17)
        F = np.hstack([np.sin(np.pi * k * x), np.cos(np.pi * k * x)])
        m = _mlp([32, 64, 64, 1], s)
        return run(m, F, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 500, 64)

    def sin_cos(s):
        X, Y = wind(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 2], s, activation="tanh")
        return run(m, X, Y[:, 1:], ns.MSELoss(), Adam(m.parameters(), 2e-3), 500, 32)

    def noise_features(s):
        rng = np.random.default_rng(s)
        X, y = folds(rng, 1024, d=4)
        Xn = np.hstack([X, rng.standard_normal((len(X), 36))])
        m = _mlp([40, 64, 64, 1], s)
        return run(m, Xn, y, ns.MSELoss(), AdamW(m.parameters(), 1e-3, weight_decay=0.05), 500, 32)

    def residual(s):
        X, y = folds(np.random.default_rng(s))
        blocks = [Residual(32, 0.1, s + 10 + 2 * i) for i in range(8)]
        m = ns.Sequential(
            ns.Linear(5, 32, init="he_normal", rng=s),
            ns.ReLU(),
            ns.Linear(32, 32, init="he_normal", rng=s + 1),
            *blocks,
            ns.ReLU(),
            ns.Linear(32, 1, rng=s + 2),
        )
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def clip_value(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), ValueClippedAdam(m.parameters(), 0.01, lr=1e-3), 400, 32)

    def large_batch(s):
        X, y = folds(np.random.default_rng(s), 2048)
        m = _mlp([5, 64, 64, 1], s)
        opt = SGD(m.parameters(), lr=0.1, momentum=0.9)
        sched = Lambda(opt, lambda t: min(1.0, (t + 1) / 50))
        return {**run(m, X, y, ns.MSELoss(), opt, 400, 512), "scheduler": sched}

    def heteroscedastic(s):
        rng = np.random.default_rng(s)
        X, y = folds(rng)
        noisy = _std(y + 0.5 * np.abs(X[:, 1:2]) * rng.standard_normal(y.shape))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, noisy, ns.L1Loss(), Adam(m.parameters(), 2e-3), 500, 16)

    def restarts(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        opt = SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        sched = Lambda(opt, lambda t: 0.5 * (1 + math.cos(math.pi * (t % 100) / 100)) + 0.01)
        return {**run(m, X, y, ns.MSELoss(), opt, 500, 32), "scheduler": sched}

    def deep_tanh(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5] + [64] * 10 + [1], s, activation="tanh", init=_lecun)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 5e-4), 400, 32)

    def rms_centered(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s, activation="leaky_relu")
        opt = RMSprop(m.parameters(), lr=3e-4, momentum=0.9, centered=True)
        return run(m, X, y, ns.HuberLoss(), opt, 400, 32)

    H = Reported
    return [
        H(
            "adamw-triangular-cyclic-lr",
            (),
            cyclic,
            "CyclicLR used as its paper suggests: a triangular cycle between 1e-4 and 3e-3 over 200 steps, AdamW",
            "the rate rises and falls twice; the loss falls to 0.009-0.015 of the mean's and never rises",
        ),
        H(
            "pinball-loss-q0.9",
            (),
            pinball,
            "quantile regression for an upper bound: the pinball loss at q = 0.9 on targets whose noise grows "
            "with one feature, Adam",
            "the noise sets a floor: the loss falls to 0.19-0.20 of the mean predictor's (of the same loss) and "
            "still gains 11-18% over the second half",
        ),
        H(
            "fourier-features-for-a-fast-sine",
            (),
            fourier,
            "the usual answer to fitting a fast sine: the coordinate encoded as sin and cos of 16 multiples "
            "(Fourier features) before the MLP",
            "the same 12-period target the raw coordinate cannot fit falls to 4e-4..7e-4 of the mean's loss; the "
            "worst rows carry most of that tiny loss, but the run has fitted, so that is information only",
        ),
        H(
            "wind-direction-as-sin-cos",
            (),
            sin_cos,
            "the usual answer to predicting an angle: the wind's direction as its (sin, cos) pair, two tanh-network "
            "outputs, Adam",
            "the loss falls to 0.12-0.13 of the mean's, the 15-degree noise of the directions setting the floor, "
            "and still gains 6-8% over the second half",
        ),
        H(
            "36-noise-features-among-4",
            (),
            noise_features,
            "tabular questions with many useless columns: 4 informative features among 40, AdamW with weight "
            "decay 0.05",
            "the network learns to ignore the noise: the loss falls to 0.046-0.070 of the mean's",
        ),
        H(
            "8-residual-blocks-scaled-0.1",
            (),
            residual,
            "residual MLPs done as SkipInit and Fixup suggest: 8 blocks x + 0.1 f(x), no normalisation, Adam",
            "the scaled branches keep the signal's size: the loss falls to 0.034-0.040 of the mean's",
        ),
        H(
            "adam-clip-grad-value-0.01",
            (),
            clip_value,
            "clip_grad_value_ with a small clip (0.01) in front of Adam, copied from an RNN recipe",
            "Adam normalises the clipped gradients, so the run trains as usual: the loss falls to 0.013-0.027 of "
            "the mean's",
        ),
        H(
            "batch-512-sgd-warm-up",
            (),
            large_batch,
            "large-batch training as Goyal et al. describe it: batch 512, SGD with momentum at 0.1 after a linear "
            "warm-up over 50 steps",
            "the early updates reach 0.12-0.13 of the weights, but the loss never rises and falls to 0.0015-0.0018 "
            "of the mean's",
        ),
        H(
            "heteroscedastic-noise-l1-batch-16",
            (),
            heteroscedastic,
            "noisy tabular targets whose noise grows with a feature, the L1 loss at batch 16, Adam",
            "the noise sets a floor: the loss falls to 0.37-0.40 of the mean predictor's and still gains 4.6-9% over "
            "the second half",
        ),
        H(
            "sgd-cosine-warm-restarts",
            (),
            restarts,
            "SGDR (CosineAnnealingWarmRestarts): the rate restarts at 0.05 every 100 steps and decays to 1% of it, "
            "SGD with Nesterov momentum",
            "the restarts lift the early updates to 0.21-0.26 of the weights, but the loss rises at most 1.2x and "
            "ends at 0.003-0.005 of the mean's",
        ),
        H(
            "10-tanh-layers-lecun-init",
            (),
            deep_tanh,
            "a deep tanh network initialised as LeCun's recipe says (std sqrt(1 / fan_in)), Adam at 5e-4",
            "the signal keeps its size through the 10 layers and the loss falls to 0.020-0.045 of the mean's",
        ),
        H(
            "rmsprop-centered-momentum-huber",
            (),
            rms_centered,
            "RMSprop with centered=True and momentum 0.9 (a Keras and TensorFlow set-up), LeakyReLU layers, Huber",
            "the loss falls to 0.006-0.010 of the mean's",
        ),
    ]


def _rejected() -> list[tuple[Reported, str]]:
    """Runs written for this set and dropped before the doctor was run on any run of it, with the reason.

    Each was measured without the doctor, as the labels were (:mod:`.measure`), to check that it fails
    (or stays healthy) as designed; these did not, in every seed. They are kept so that the claim can be
    checked.
    """

    def smape_relu(s):
        X, y = demand(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 1], s, final_activation="relu")
        return run(m, X, y, SMAPE(), Adam(m.parameters(), 1e-3), 400, 64)

    def int16_lognormal(s):
        X, Y = steps_counts(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, _std(Y[:, 1:]), ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def no_sqrt(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 64, 64, 64, 1], s, init=_he_no_sqrt)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=0.01, momentum=0.9), 400, 32)

    def clamped(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), ClampedAdam(m.parameters(), 0.01, lr=1e-3), 400, 32)

    def l1_sparse(s):
        X, y = demand(np.random.default_rng(s), share=0.3)
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, y, ns.L1Loss(), Adam(m.parameters(), 1e-3), 400, 32)

    def mape_std(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y, KerasMAPE(), Adam(m.parameters(), 1e-3), 400, 32)

    def accum_undivided(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        opt = SGD(m.parameters(), lr=0.02, momentum=0.9)
        return run(m, X, y, ns.MSELoss(), opt, 300, 16, accumulate=8)

    def rmsprop_high(s):
        X, y = folds(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), RMSprop(m.parameters(), lr=1e-2), 400, 16)

    def radians(s):
        X, y = coords(np.random.default_rng(s))
        m = _mlp([5, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 3e-3), 500, 32)

    H = Reported
    return [
        (
            H(
                "smape-relu-output-intermittent-sales",
                ("TRIVIAL_SOLUTION",),
                smape_relu,
                "sales-forecasting kernels: SMAPE (with 1e-8 in the denominator) on daily sales that are 0 on most "
                "days, a ReLU output that can predict exactly 0",
            ),
            "predicting 0 costs 0.11-0.14 of the mean predictor's loss, but the network ends at 0.90-0.92 of the "
            "mean's: on a zero target SMAPE is 2 for any prediction much larger than 1e-8, so nothing pulls the "
            "output to 0, and TRIVIAL_SOLUTION's definition did not hold (only PLATEAU did)",
        ),
        (
            H(
                "step-counts-wrapped-by-int16",
                ("HEAVY_TAILED_LOSS",),
                int16_lognormal,
                "daily step counts (log-normal, median 8000) stored as int16, the days above 32767 wrapping around",
            ),
            "the wrapped days are about 1% of the rows but the log-normal spread of the others is wide: the worst 1% "
            "carry 22-35% of the loss and no code's definition held in every seed (PLATEAU in one). Replaced by "
            "hike-step-counts-wrapped-by-int16, whose ordinary days vary less",
        ),
        (
            H(
                "he-init-without-the-square-root",
                ("VANISHING_SIGNAL",),
                no_sqrt,
                "He initialisation written as std = 2 / fan_in in 5 ReLU layers, SGD with momentum",
            ),
            "the signal starts at 6e-4..8e-4 of its size across the hidden layers, but in one seed of three SGD "
            "grows the weights and the run fits (0.066 of the mean's loss), so VANISHING_SIGNAL held in two seeds "
            "only. Replaced by the 8-layer network",
        ),
        (
            H(
                "weights-clamped-instead-of-gradients",
                ("VANISHING_SIGNAL",),
                clamped,
                "p.data.clamp_(-0.01, 0.01) after every step instead of clipping the gradients, 3 ReLU layers, Adam",
            ),
            "across only two hidden layers the signal shrinks to 0.12-0.17, not below 1e-2: VANISHING_SIGNAL never "
            "held; DEAD_RELU and PLATEAU held in every seed but neither names the clamp nor points at its fix. "
            "Replaced by the 5-layer network",
        ),
        (
            H(
                "l1-loss-mostly-zero-sales",
                ("CONSTANT_OUTPUT",),
                l1_sparse,
                "the L1 loss on daily sales that are 0 on about 70% of days: the median, 0, is predicted everywhere",
            ),
            "the network ends at the loss of predicting 0, but the predictions' spread (0.013-0.035 of the "
            "targets') was still growing by more than 10% since mid-run, so CONSTANT_OUTPUT's definition did not "
            "hold; only PLATEAU did",
        ),
        (
            H(
                "mape-on-standardised-targets",
                ("TRIVIAL_SOLUTION",),
                mape_std,
                "Keras questions: targets standardised (so many are near 0) and then loss='mape'",
            ),
            "the network partly fits (0.68-2.1 of the mean predictor's loss, far from predicting 0's) and no code's "
            "definition held in every seed (HEAVY_TAILED_LOSS in one)",
        ),
        (
            H(
                "accumulated-loss-not-divided",
                ("LR_TOO_LARGE",),
                accum_undivided,
                "gradient accumulation over 8 micro-batches without dividing the loss by 8, SGD with momentum at 0.02",
            ),
            "an 8 times larger step is still stable here: the run fits (0.001-0.002 of the mean's loss) and no "
            "code's definition held",
        ),
        (
            H(
                "rmsprop-lr-1e-2-batch-16",
                ("DEAD_RELU",),
                rmsprop_high,
                "RMSprop at 1e-2 (ten times Keras' default) at batch 16 kills ReLU units",
            ),
            "47-52% of a layer's units end dead, but the run fits (0.018-0.029 of the mean's loss), so DEAD_RELU "
            "is information only; LR_TOO_LARGE held in one seed of three",
        ),
        (
            H(
                "coordinates-in-radians",
                (),
                radians,
                "latitude and longitude converted to radians (RMS about 0.6 and 2) rather than standardised, Adam",
            ),
            "no code's definition held, but the run ends at 0.44-0.48 of the mean's loss on targets with a few "
            "percent noise: the places span only 0.17 radians, so this is not the healthy set-up it was meant to be",
        ),
    ]


HELDOUT: list[Reported] = _broken() + _healthy()

REJECTED: list[tuple[Reported, str]] = _rejected()


def get(name: str) -> Reported:
    """The held-out case called ``name``."""
    return named(HELDOUT, name)  # type: ignore[no-any-return]
