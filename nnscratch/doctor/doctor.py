"""The training doctor: :class:`Doctor` watches a run, :func:`diagnose` checks a set-up before one.

Because the doctor is part of the engine it sees what outside tools cannot: whether a
loss broadcast its arguments (``Loss.broadcasted``), how many backward passes a
gradient holds at an optimizer step (``Parameter.accumulated``), and every layer's
activations and gradients through the modules' hooks.

Cost: every step it reads the loss and two attributes per parameter (O(1) each); every
``every`` steps it runs the probe batch forward and backward once and copies the weight
matrices, to measure the next update's size. Use it with ``fit``::

    doctor = Doctor(net)
    fit(net, X, y, loss, opt, epochs=20, batch_size=32, callbacks=[doctor], guard=False)
    print(doctor.report())

(``guard=False`` lets the doctor see a NaN: ``fit``'s guard would stop first. With the
guard on, pass the caught ``NonFiniteError`` to ``report(error=...)``.) Or call its hooks
from a hand-written loop, as :mod:`nnscratch.callbacks` shows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..callbacks import Callback, TrainingContext
from ..errors import ConfigError
from ..losses import MSELoss
from ..module import Module
from ..rng import as_generator
from . import rules
from .codes import Thresholds, finding, order
from .report import Report
from .stats import Trace, first_nonfinite, probe_pass, update_ratios, weight_copies


def _target_scale(y: Any) -> tuple[float, float]:
    """Largest |mean| and largest std over the target columns."""
    y2 = y.reshape(y.shape[0], -1)
    return float(abs(y2.mean(axis=0)).max()), float(y2.std(axis=0).max())


def subsample(arrays: tuple[Any, ...], size: int, rng: np.random.Generator) -> tuple[Any, ...]:
    """Up to ``size`` rows of ``(X, y, *loss_args)``, drawn without replacement, kept in order.

    Arrays with as many rows as X are subsampled with it; anything else passes through.
    """
    n = len(arrays[0])
    if n <= size:
        return tuple(arrays)
    rows = np.sort(rng.choice(n, size, replace=False))
    return tuple(a[rows] if getattr(a, "shape", ())[:1] == (n,) else a for a in arrays)


class Doctor(Callback):
    """Watch a training run and explain what went wrong, with evidence.

    ``model``: the network (default: ``ctx.model``); ``loss_fn``: the loss (default:
    ``ctx.loss_fn``); ``probe``: a fixed ``(X, y)`` batch to measure on, or ``(X, y, *loss_args)``
    for a loss called as ``loss_fn(pred, y, *loss_args)`` (default: ``probe_size`` rows, chosen
    with ``rng``, of the first batches the loop reports in ``ctx.x_batch``/``ctx.y_batch`` and
    ``ctx.extra["loss_args"]``); ``every``: probe every this many optimizer steps (also before
    the first step when the probe is known, and after the last one; default 100, or fewer so
    that a run whose length the loop announces in ``ctx.extra["total_steps"]`` gets at least 10
    probes); ``thresholds``: a :class:`Thresholds` to tune the codes.
    """

    def __init__(
        self,
        model: Module | None = None,
        loss_fn: Any = None,
        probe: tuple[Any, ...] | None = None,
        every: int | None = None,
        probe_size: int = 256,
        rng: Any = 0,
        thresholds: Thresholds | None = None,
    ) -> None:
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ConfigError(f"Doctor every must be a positive integer (steps between probes), got {every!r}.")
        self.model, self.loss_fn, self.every, self.probe_size = model, loss_fn, every, int(probe_size)
        self.thresholds = thresholds or Thresholds()
        self._rng = as_generator(rng)
        self.probe: tuple[Any, ...] | None = None
        if probe is not None:
            self.probe = subsample(tuple(probe), self.probe_size, self._rng)
        self.trace = Trace()
        self._before: dict[str, Any] | None = None  # weights at the last probe, to measure the next update
        self._last_accumulated = 0
        self._y_scale: tuple[float, float] | None = None
        self._params: list = []
        self._gathered: list[tuple[Any, ...]] = []  # batches collected until the probe is full
        self._fixed: dict[str, float] = {}  # what depends on the probe targets alone, measured once

    # --- callback hooks ---------------------------------------------------------------------------------

    def on_train_begin(self, ctx: TrainingContext) -> None:
        self.model = self.model or ctx.model
        self.loss_fn = self.loss_fn or ctx.loss_fn or MSELoss()
        self._params = self.model.parameters()
        if self.every is None:
            total = ctx.extra.get("total_steps")
            self.every = max(1, min(100, total // 10)) if isinstance(total, int) and total > 0 else 100
        self._ensure_probe(ctx)
        if self.probe is not None and not self.trace.snapshots:
            self._sample(-1)
        else:  # no probe yet: still measure the first update, where a too-large step does its damage
            self._before = weight_copies(self.model)

    def on_step_end(self, ctx: TrainingContext) -> None:
        if self.model is None:  # a hand-written loop that skipped on_train_begin
            self.on_train_begin(ctx)
        step, trace = ctx.step, self.trace
        trace.steps += 1
        trace.losses.append(float(ctx.loss))
        self._check_events(ctx)
        if self._before is not None:
            ratios = update_ratios(self.model, self._before)
            self._before = None
            if trace.snapshots:
                trace.snapshots[-1].update_ratio = ratios
            else:  # until the probe is gathered, keep each layer's largest update, measured every step
                trace.first_update = {k: max(v, trace.first_update.get(k, v)) for k, v in ratios.items()}
                self._before = weight_copies(self.model)
        if self.probe is None:
            self._ensure_probe(ctx)
        if self.probe is not None and (not trace.snapshots or step % self.every == 0):
            self._sample(step)

    def on_train_end(self, ctx: TrainingContext) -> None:
        snaps = self.trace.snapshots
        if self.probe is not None and snaps and snaps[-1].step != ctx.step:
            self._sample(ctx.step, measure_update=False)

    # --- measurement ------------------------------------------------------------------------------------

    def _ensure_probe(self, ctx: TrainingContext) -> None:
        """Collect the first batches the loop reports until they hold ``probe_size`` rows."""
        if self.probe is not None or ctx.x_batch is None or ctx.y_batch is None:
            return
        batch = (ctx.x_batch, ctx.y_batch, *ctx.extra.get("loss_args", ()))
        self._gathered.append(tuple(a.copy() if hasattr(a, "copy") else a for a in batch))
        rows = sum(len(b[0]) for b in self._gathered)
        if rows >= self.probe_size or len(self._gathered) >= 64:
            xp = get_array_module(ctx.x_batch)
            n = len(ctx.x_batch)
            columns = zip(*self._gathered)  # per-row arrays are stacked; anything else is taken from one batch
            stacked = tuple(xp.concatenate(c) if getattr(c[0], "shape", ())[:1] == (n,) else c[0] for c in columns)
            self.probe, self._gathered = subsample(stacked, self.probe_size, self._rng), []

    def _sample(self, step: int, measure_update: bool = True) -> None:
        X, y, *args = self.probe
        if self._y_scale is None:
            self._y_scale = _target_scale(y)
        self.trace.snapshots.append(probe_pass(self.model, self.loss_fn, X, y, step, tuple(args), self._fixed))
        self._before = weight_copies(self.model) if measure_update else None

    def _check_events(self, ctx: TrainingContext) -> None:
        """The per-step checks: O(1) each (a float and two attributes per parameter)."""
        events, step = self.trace.events, ctx.step
        if "NON_FINITE" not in events and not math.isfinite(ctx.loss):
            X = self.probe[0] if self.probe is not None else ctx.x_batch
            tensor = first_nonfinite(self.model, X, None) or "the loss"
            events["NON_FINITE"] = {"step": step, "tensor": tensor, "last_finite_loss": _last_finite(self.trace)}
        if "SHAPE_BROADCAST" not in events and getattr(self.loss_fn, "broadcasted", False):
            events["SHAPE_BROADCAST"] = {"step": step}
        accumulated = max((p.accumulated for p in self._params), default=0)
        if "GRAD_ACCUMULATION" not in events and accumulated > self._last_accumulated >= 1:
            events["GRAD_ACCUMULATION"] = {
                "step": step,
                "backward_passes_in_grad": accumulated,
                "at_previous_step": self._last_accumulated,
            }
        self._last_accumulated = accumulated

    # --- verdict ----------------------------------------------------------------------------------------

    def report(self, error: BaseException | None = None) -> Report:
        """The findings so far, root causes first. ``error``: a NonFiniteError that stopped training."""
        if error is not None and "NON_FINITE" not in self.trace.events:
            self.trace.events["NON_FINITE"] = {
                "step": getattr(error, "step", None),
                "tensor": f"{getattr(error, 'kind', '')} {getattr(error, 'tensor', '')}".strip() or str(error),
                "last_finite_loss": _last_finite(self.trace),
            }
        th, snaps = self.thresholds, self.trace.snapshots
        findings = event_findings(self.trace, snaps[-1] if snaps else None)
        if snaps:
            findings += rules.data_rules(snaps[0], self._y_scale, th)
            findings = rules.spare_fitted_run(findings + rules.snapshot_rules(self.trace, th), snaps[-1], th)
        else:
            findings.append(finding("NO_PROBE", "The doctor never saw a batch, so it measured nothing per layer.", {}))
        return Report(order(findings), self.trace, th)


def _last_finite(trace: Trace) -> float:
    return next((v for v in reversed(trace.losses) if math.isfinite(v)), math.nan)


def event_findings(trace: Trace, last: Any) -> list:
    """Findings from the per-step events: NON_FINITE, SHAPE_BROADCAST, GRAD_ACCUMULATION."""
    out, ev = [], trace.events
    if "NON_FINITE" in ev:
        e = ev["NON_FINITE"]
        out.append(
            finding(
                "NON_FINITE",
                (
                    f"The loss became NaN or infinite at step {e['step']}; the first non-finite tensor in that step is "
                    f"{e['tensor']}. The last finite loss was {e['last_finite_loss']:.3g}."
                ),
                dict(e),
                step=e["step"],
            )
        )
    if "SHAPE_BROADCAST" in ev:
        shapes = {"pred_shape": last.pred_shape, "target_shape": last.target_shape} if last else {}
        out.append(
            finding(
                "SHAPE_BROADCAST",
                (
                    f"The loss broadcast predictions {shapes.get('pred_shape', '')} against targets "
                    f"{shapes.get('target_shape', '')}: every prediction is compared with every target, so the best "
                    "the network can do is predict their mean for every input."
                ),
                {**ev["SHAPE_BROADCAST"], **shapes},
                step=ev["SHAPE_BROADCAST"]["step"],
            )
        )
    if "GRAD_ACCUMULATION" in ev:
        e = ev["GRAD_ACCUMULATION"]
        out.append(
            finding(
                "GRAD_ACCUMULATION",
                (
                    f"Gradients are being summed across optimizer steps: at step {e['step']} the gradients held "
                    f"{e['backward_passes_in_grad']} backward passes, one more than at the step before, so zero_grad() "
                    "was not called in between. Each step then follows the sum of all past gradients."
                ),
                dict(e),
                step=e["step"],
            )
        )
    return out


def diagnose(
    model: Module,
    X: Any,
    y: Any,
    loss_fn: Any = None,
    probe_size: int = 512,
    rng: Any = 0,
    thresholds: Thresholds | None = None,
) -> Report:
    """Check a set-up before training: data scaling, target shape, dead units and signal at init, initial loss.

    X: (N, D) inputs as the model will see them; y: the targets as the loss will see them.
    Runs one probe pass on up to ``probe_size`` rows; the model's parameters are not changed.
    """
    th = thresholds or Thresholds()
    loss_fn = loss_fn or MSELoss()
    X, y = subsample((X, y), probe_size, as_generator(rng))
    trace = Trace()
    found = []
    tensor = first_nonfinite(model, X, y)
    if tensor is not None:
        trace.events["NON_FINITE"] = {"step": 0, "tensor": tensor, "last_finite_loss": math.nan}
        return Report(order(event_findings(trace, None)), trace, th)
    out_shape = tuple(model(X[:2]).shape)
    if (out_shape[1:] != tuple(y.shape[1:])) and int(np.prod(out_shape[1:])) == int(np.prod(y.shape[1:] or (1,))):
        found.append(
            finding(
                "SHAPE_BROADCAST",
                (
                    f"The model predicts shape {(len(X), *out_shape[1:])} but the targets have shape {tuple(y.shape)}. "
                    "A loss that broadcasts (as torch's does) would compare every prediction with every target and "
                    "train the network to predict the mean."
                ),
                {"pred_shape": (len(X), *out_shape[1:]), "target_shape": tuple(y.shape)},
                step=0,
            )
        )
        y = y.reshape((len(y), *out_shape[1:]))
    snap = probe_pass(model, loss_fn, X, y, -1)
    trace.snapshots.append(snap)
    found += rules.data_rules(snap, _target_scale(y), th)
    found += rules.dead_relu([snap], th) + rules.linear_regime([snap], th) + rules.signal([snap], th)
    if snap.relative_loss > th.init_loss:
        found.append(
            finding(
                "INIT_LOSS_HIGH",
                (
                    f"Before training, the loss is {snap.relative_loss:.3g} x that of simply predicting the targets' "
                    "mean: the untrained network's outputs are on the wrong scale."
                ),
                {"initial_loss": snap.loss, "mean_predictor_loss": snap.baseline, "threshold": th.init_loss},
                step=0,
            )
        )
    return Report(order(found), trace, th)


def checkup(
    model: Module,
    X: Any,
    y: Any,
    loss_fn: Any = None,
    epochs: int = 0,
    lr: float = 1e-3,
    batch_size: int = 32,
    every: int | None = None,
    seed: int = 0,
) -> tuple[Report, Report | None]:
    """``diagnose`` the set-up, then (``epochs`` > 0) train it with Adam under a Doctor.

    Returns ``(before, during)``; ``during`` is None without training. What ``nnscratch
    doctor`` runs on a saved model and a data file.
    """
    from ..optim import Adam
    from ..training import fit

    loss_fn = loss_fn or MSELoss()
    before = diagnose(model, X, y, loss_fn, rng=seed)
    if epochs <= 0 or any(f.code == "SHAPE_BROADCAST" for f in before.findings):
        return before, None
    doctor = Doctor(model, loss_fn, probe=(X, y), every=every, rng=seed)
    fit(
        model,
        X,
        y,
        loss_fn,
        Adam(model.parameters(), lr),
        epochs,
        batch_size,
        callbacks=[doctor],
        rng=seed,
        guard=False,
        progress=False,
    )
    return before, doctor.report()
