"""Measure a labelled run without the doctor: what its label is set from.

``python -m nnscratch.bench.doctor.measure [--set heldout|retired|tuning|rejected] [NAME ...] [--seeds 0 1 2]``
trains each run with no Doctor attached and measures, on all its rows rather than a probe batch,
what the codes' definitions speak of: the loss against the mean predictor's and 0's, the
predictions' spread against the targets', the share of dead and of always-on ReLU units, the
signal's spread through the hidden layers (activations forward, gradients backward), the
update-to-weight ratio over the first half of the run, the optimizer's learning rate over the
second half against its first, the largest number of backward passes a
gradient held at a step, whether the loss broadcast, whether the optimizer holds any of the
model's parameters, and the first non-finite loss. It then lists
the codes whose definitions (docs/reference/doctor.md, with the default
:class:`~nnscratch.doctor.Thresholds`) these numbers meet. Nothing of the doctor runs: only
its thresholds are read.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from nnscratch.activations import LeakyReLU, ReLU
from nnscratch.callbacks import Callback
from nnscratch.doctor.codes import Thresholds
from nnscratch.layers import Linear, Sequential
from nnscratch.training import optimizer_holds

from .cases import CASES, Case, train


def spread(a: Any) -> float:
    """sqrt(mean over columns of the variance over rows)."""
    a = np.asarray(a, dtype=np.float64)
    a = a.reshape(len(a), -1)
    return float(np.sqrt(np.mean(a.var(axis=0))))


@dataclass
class Probe:
    """The model on every row of the data, at one step (-1: before training)."""

    step: int
    loss: float
    pred_spread: float
    dead: list[float]  # per ReLU layer: share of units on for fewer than 1% of the rows
    always_on: list[float]  # per ReLU layer: share of units on for every row
    units: list[int]
    act_ratio: float  # spread of the last Linear's input over the second Linear's
    grad_ratio: float  # RMS of d loss / d output at the first Linear over the last hidden one
    tail: float  # share of the loss carried by the worst 1% of rows


@dataclass
class Measurement:
    """One run, one seed."""

    name: str
    seed: int
    steps: int = 0
    input_rms: tuple[float, float] = (math.nan, math.nan)  # largest and smallest non-zero per-feature RMS
    target_scale: tuple[float, float, float] = (math.nan,) * 3  # largest |mean|, largest and smallest std of y
    baseline: float = math.nan  # loss of predicting the targets' mean on every row
    zero_loss: float = math.nan  # loss of predicting 0
    target_spread: float = math.nan
    probes: list[Probe] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # the training loss per step
    update_ratio: list[float] = field(default_factory=list)  # per step: largest ||dW|| / ||W|| over Linear layers
    accumulated: list[int] = field(default_factory=list)  # per step: most backward passes a gradient held
    lr: list[float] = field(default_factory=list)  # per step: the optimizer's largest learning rate, before the step
    broadcast: bool = False
    mismatch: bool = False  # the optimizer holds none of the model's parameters

    def rel(self, probe: Probe) -> float:
        return probe.loss / self.baseline if self.baseline > 0 else math.nan

    @property
    def final(self) -> float:
        """Final loss over the mean predictor's."""
        return self.rel(self.probes[-1])

    @property
    def gain(self) -> float:
        """Relative improvement of the best loss over the second half of the probes."""
        ps = [p.loss for p in self.probes[1:]]  # the probes taken during training
        half = len(ps) // 2
        early, late = min(ps[: half + 1]), min(ps[half:])
        return (early - late) / early if early > 0 else 0.0

    @property
    def rise(self) -> float:
        """The largest loss over the best so far (a best below 1% of the mean's counts as that)."""
        floor, best, worst = 0.01 * self.baseline, math.inf, 1.0
        for p in self.probes:
            if not math.isfinite(p.loss):
                return math.inf
            if best < math.inf:
                worst = max(worst, p.loss / max(best, floor))
            best = min(best, p.loss)
        return worst

    @property
    def late_fall(self) -> float:
        """The loss at the end over the loss four fifths of the way through."""
        ps = self.probes[1:]
        before = ps[int(len(ps) * 0.8) - 1].loss
        return ps[-1].loss / before if before > 0 else math.nan

    @property
    def nonfinite_step(self) -> int | None:
        return next((i for i, v in enumerate(self.losses) if not math.isfinite(v)), None)

    def early_updates(self) -> tuple[float, float]:
        """(median, max) of the update-to-weight ratio over the first half of the run."""
        first = [r for r in self.update_ratio[: max(1, self.steps // 2)] if math.isfinite(r)]
        return (median(first), max(first)) if first else (math.nan, math.nan)

    def rate_cut(self) -> float:
        """The median learning rate over the second half of the run over the first step's (1: no schedule)."""
        late = self.lr[len(self.lr) // 2 :]
        return median(late) / self.lr[0] if late and self.lr[0] > 0 else math.nan

    def spread_ratio(self, which: int) -> float:
        """The predictions' spread over the targets' at probe ``which``."""
        return self.probes[which].pred_spread / self.target_spread if self.target_spread > 0 else math.nan

    def holds(self, th: Thresholds | None = None) -> list[str]:
        """The codes whose definitions these numbers meet."""
        th = th or Thresholds()
        codes = []
        final, fitted = self.final, self.final < th.fit_ok
        if self.mismatch:
            codes.append("OPTIMIZER_MISMATCH")
        if self.broadcast:
            codes.append("SHAPE_BROADCAST")
        if any(b > a for a, b in zip(self.accumulated[:-1], self.accumulated[1:])):
            codes.append("GRAD_ACCUMULATION")
        zero_better = 0 < self.zero_loss < th.zero_better * self.baseline
        if zero_better and th.near_zero[0] < self.probes[-1].loss / self.zero_loss < th.near_zero[1]:
            codes.append("TRIVIAL_SOLUTION")
        big, small = self.input_rms
        if big > th.input_scale or small < th.input_scale_low:
            codes.append("UNSCALED_INPUT")
        mean, std_big, std_small = self.target_scale
        if max(mean, std_big) > th.target_scale or std_small < th.target_scale_low:
            codes.append("UNSCALED_TARGET")
        if self.probes[-1].tail > th.tail_share and not fitted:
            codes.append("HEAVY_TAILED_LOSS")
        typical, peak = self.early_updates()
        nonfinite = self.nonfinite_step is not None
        if peak > th.lr_large and (self.rise > th.unstable or nonfinite):
            codes.append("LR_TOO_LARGE")
        elif (
            (typical < th.lr_small and final > th.stuck_level)
            or (typical < th.lr_slow and final > th.fit_ok and self.late_fall < th.still_falling)
            or (self.rate_cut() < th.lr_cut and final > th.fit_ok and self.gain < th.plateau_gain)
        ):
            codes.append("LR_TOO_SMALL")
        end = self.probes[-1]
        ratios = (end.act_ratio, end.grad_ratio)
        if not fitted and not any(r < th.vanishing or r > th.exploding for r in ratios):
            ratios = (self.probes[0].act_ratio, self.probes[0].grad_ratio)  # the start, as the definition allows
        if any(r > th.exploding for r in ratios):
            codes.append("EXPLODING_SIGNAL")
        if any(r < th.vanishing for r in ratios):
            codes.append("VANISHING_SIGNAL")
        still_falling = self.late_fall < th.still_falling
        if any(d > th.dead and not (fitted or (still_falling and d < 0.9)) for d in end.dead):
            codes.append("DEAD_RELU")
        units = sum(end.units)
        bending = sum(u * (1 - d - a) for u, d, a in zip(end.units, end.dead, end.always_on)) / units if units else 1
        if units and any(end.always_on) and bending < th.switching:
            codes.append("LINEAR_REGIME")
        if nonfinite:
            codes.append("NON_FINITE")
        mid, last = self.spread_ratio(len(self.probes) // 2), self.spread_ratio(-1)
        if last < th.constant and not (last > 1.1 * mid and last > 1e-3):
            codes.append("CONSTANT_OUTPUT")
        gain = self.gain
        if (gain < th.plateau_gain and final > th.plateau_level) or (final > th.near_mean and gain < th.near_mean_gain):
            codes.append("PLATEAU")
        return codes

    def summary(self) -> str:
        typical, peak = self.early_updates()
        end, start = self.probes[-1], self.probes[0]
        dead = max(end.dead, default=0.0)
        return (
            f"loss/mean {self.rel(start):.3g} -> {self.final:.3g} (gain 2nd half {self.gain:.1%}, "
            f"rise {self.rise:.3g}, late fall {self.late_fall:.2g}); 0/mean {self.zero_loss / self.baseline:.3g}; "
            f"pred/target spread {self.spread_ratio(-1):.3g}; dead {dead:.0%}; "
            f"act {start.act_ratio:.3g}->{end.act_ratio:.3g}, grad {start.grad_ratio:.3g}->{end.grad_ratio:.3g}; "
            f"update {typical:.2g} (peak {peak:.2g}); rate cut to {self.rate_cut():.2g}; tail {end.tail:.0%}; "
            f"acc max {max(self.accumulated)}; "
            f"input RMS {self.input_rms[0]:.3g}/{self.input_rms[1]:.3g}; target |mean| {self.target_scale[0]:.3g} "
            f"std {self.target_scale[1]:.3g}; non-finite at {self.nonfinite_step}"
        )


class _Measure(Callback):
    """Probes the model on all rows ``probes`` times over the run and records every step.

    ``built`` is the run's set-up, filled in by the time training begins.
    """

    def __init__(self, built: dict[str, Any], m: Measurement, probes: int) -> None:
        self.cfg, self.m, self.probes = built, m, probes

    def _loss(self, pred: Any, y: Any) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(self.loss_fn(pred, y))

    def on_train_begin(self, ctx: Any) -> None:
        cfg, m = self.cfg, self.m
        m.steps, self.every = cfg["steps"], max(1, cfg["steps"] // self.probes)
        self.loss_fn = copy.deepcopy(cfg["loss"])
        self.params = [p for g in cfg["opt"].param_groups for p in g["params"]]
        m.mismatch = not optimizer_holds(cfg["opt"], cfg["model"])
        self.layers = cfg["model"].layers if isinstance(cfg["model"], Sequential) else [cfg["model"]]
        self.linears = [layer for layer in self.layers if isinstance(layer, Linear)]
        X, y = cfg["X"], cfg["y"]
        with np.errstate(all="ignore"):
            rms = np.sqrt(np.mean(np.square(X, dtype=np.float64), axis=0))
            nonzero = rms[rms > 0]
            y2 = np.asarray(y, dtype=np.float64)
            y2 = y2.reshape(-1, 1) if y2.ndim == 1 or len(y2) == 1 else y2  # (N,) or (1, N): one target a row
            m.input_rms = (float(np.max(rms)), float(np.min(nonzero)) if len(nonzero) else math.nan)
            m.target_scale = (float(np.max(np.abs(y2.mean(0)))), float(np.max(y2.std(0))), float(np.min(y2.std(0))))
            m.target_spread = spread(y2)
            pred = np.asarray(cfg["model"](X))
            try:
                mean = np.broadcast_to(y2.mean(axis=0), pred.shape).copy()
            except ValueError:  # fewer output columns than target columns: the mean of each target column
                mean = np.broadcast_to(y2.mean(axis=0), y2.shape).copy()
            self.m.baseline = self._loss(mean, y)
            self.m.zero_loss = self._loss(np.zeros_like(pred), y)
        self.before = [lin.W.data.copy() for lin in self.linears]
        self.m.lr.append(self.rate())
        self.m.probes.append(self.probe(-1))

    def rate(self) -> float:
        return max(float(g["lr"]) for g in self.cfg["opt"].param_groups)

    def on_step_end(self, ctx: Any) -> None:
        m = self.m
        if ctx.step < m.steps - 1:
            m.lr.append(self.rate())  # a scheduler has already set the next step's rate
        m.losses.append(float(ctx.loss))
        m.broadcast = m.broadcast or bool(getattr(ctx.loss_fn, "broadcasted", False))
        m.accumulated.append(max(p.accumulated for p in self.params))
        if ctx.step < max(1, m.steps // 2):
            with np.errstate(all="ignore"):
                ratios = [
                    float(np.linalg.norm(lin.W.data - w) / np.linalg.norm(w))
                    for lin, w in zip(self.linears, self.before)
                    if lin.W in self.params and np.linalg.norm(w) > 0
                ]
            m.update_ratio.append(max(ratios, default=math.nan))
            self.before = [lin.W.data.copy() for lin in self.linears]
        if (ctx.step + 1) % self.every == 0 or ctx.step == m.steps - 1:
            m.probes.append(self.probe(ctx.step))

    def probe(self, step: int) -> Probe:
        """Forward and backward over all rows, leaving every gradient as it was."""
        model, X, y = self.cfg["model"], self.cfg["X"], self.cfg["y"]
        saved = [(p, p.grad.copy(), p.accumulated) for p in model.parameters()]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seen, x = [], X
            for layer in self.layers:
                out = layer(x)
                seen.append((layer, x, out))
                x = out
            pred = np.asarray(x)
            value = float(self.loss_fn(pred, y))
            g = self.loss_fn.backward()
            grads = {}
            for layer, _, _ in reversed(seen):
                if isinstance(layer, Linear):
                    grads[id(layer)] = float(np.sqrt(np.mean(np.square(g))))
                g = layer.backward(g)
                if g is None:
                    break
            per = copy.copy(self.loss_fn)
            per.reduction = "none"
            rows = np.asarray(per(pred, y), dtype=np.float64).reshape(len(X), -1).sum(axis=1)
        for p, grad, acc in saved:
            p.grad[...] = grad
            p.accumulated = acc
        k = max(1, math.ceil(0.01 * len(rows)))
        total = rows.sum()
        tail = float(np.sort(rows)[-k:].sum() / total) if total > 0 else math.nan
        relus = [(np.asarray(out) > 0) for layer, _, out in seen if isinstance(layer, (ReLU, LeakyReLU))]
        dead = [float((on.sum(axis=0) < 0.01 * len(on)).mean()) for on in relus]
        always = [float(on.all(axis=0).mean()) for on in relus]
        lin_in = [spread(x_in) for layer, x_in, _ in seen if isinstance(layer, Linear)]
        act = lin_in[-1] / lin_in[1] if len(lin_in) >= 3 and lin_in[1] > 0 and lin_in[-1] > 0 else math.nan
        g_lin = [grads.get(id(lin), math.nan) for lin in self.linears]
        grad = g_lin[0] / g_lin[-2] if len(g_lin) >= 3 and g_lin[-2] > 0 and g_lin[0] > 0 else math.nan
        units = [on.shape[1] for on in relus]
        return Probe(step, value, spread(pred), dead, always, units, act, grad, tail)


def measure(case: Case, seed: int, probes: int = 20) -> Measurement:
    """Train ``case`` on ``seed`` with no doctor and measure it (see the module's docstring)."""
    built: dict[str, Any] = {}

    def build(s: int) -> dict[str, Any]:
        built.update(case.build(s))
        return built

    m = Measurement(case.name, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(Case(case.name, case.expect, build), seed, [_Measure(built, m, probes)])
    return m


def main(argv: Sequence[str] | None = None) -> int:
    from . import heldout, retired

    sets: dict[str, Sequence[Case]] = {
        "heldout": heldout.HELDOUT,
        "rejected": [c for c, _ in heldout.REJECTED],
        "retired": retired.RETIRED,
        "tuning": CASES,
    }
    parser = argparse.ArgumentParser(
        prog="python -m nnscratch.bench.doctor.measure",
        description=(__doc__ or "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="runs to measure (default: the whole set)")
    parser.add_argument(
        "--set",
        choices=tuple(sets),
        default="heldout",
        dest="which",
        help="the held-out runs, the ones rejected from them, the retired held-out runs, or the tuning cases "
        "(default: heldout)",
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], metavar="SEED", help="seeds of each run (default: 0 1 2)"
    )
    parser.add_argument("--verbose", action="store_true", help="print the numbers of every seed")
    args = parser.parse_args(argv)
    cases = [c for c in sets[args.which] if not args.names or c.name in args.names]
    for case in cases:
        per_seed = []
        for seed in args.seeds:
            m = measure(case, seed)
            per_seed.append(m.holds())
            if args.verbose:
                print(f"  {case.name} seed {seed}: {m.holds()}\n    {m.summary()}")
        every = [c for c in per_seed[0] if all(c in s for s in per_seed)]
        some = sorted({c for s in per_seed for c in s} - set(every))
        print(f"{case.name:40s} label {list(case.expect) or 'healthy'}; hold in every seed {every}; in some {some}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
