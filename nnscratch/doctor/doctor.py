"""The training doctor: :class:`Doctor` watches a run (:mod:`.checkup` checks a set-up before one).

Because the doctor is part of the engine it sees what outside tools cannot: whether a
loss broadcast its arguments (``Loss.broadcasted``), how many backward passes a
gradient holds at an optimizer step (``Parameter.accumulated``), and every layer's
activations and gradients through the modules' hooks.

Cost: every step it reads the loss and two attributes per parameter (O(1) each); every
``every`` steps (by default as often as 3% of the run's work allows) it runs the probe batch
forward and backward once and copies the weight matrices, to measure the next update's size.
Attach it before training, in ``fit`` or any hand-written loop::

    doctor = Doctor(net, loss_fn, opt)
    fit(net, X, y, loss_fn, opt, epochs=20, batch_size=32)
    print(doctor.report())

If ``fit``'s guard stops a diverging run, the doctor gets its error before it is raised, and
the report names the step and the tensor.
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
from .stats import (
    Trace,
    first_nonfinite,
    leaves,
    probe_pass,
    subsample,
    target_scale,
    update_ratios,
    weight_copies,
)

PROBE_COST = 4.0  # a probe's work over a training step's on as many rows (hooks and per-layer statistics)


class Doctor(Callback):
    """Watch a training run and explain what went wrong, with evidence.

    ``Doctor(model, loss_fn, optimizer)`` attaches at once and watches everything that follows,
    in ``fit``, a reproduction or any hand-written loop, with no other call: each call of
    ``loss_fn`` (value, shapes, broadcast) through its forward hook, the batch the model saw
    through the model's forward hook, and each ``optimizer.step()`` through the optimizer's
    post-step hook. ``report()`` at any time; ``detach()`` (or a ``with`` block) removes the
    hooks. Passed to ``fit(callbacks=[Doctor()])`` it attaches itself to fit's model, loss and
    optimizer at the start: the same hooks, not a second path.

    Keyword arguments: ``probe``: a fixed ``(X, y)`` batch to measure on, or ``(X, y, *loss_args)``
    for a loss called as ``loss_fn(pred, y, *loss_args)`` (default: ``probe_size`` rows, chosen
    with ``rng``, of the first batches the loop trains on); ``every``: probe every this many
    optimizer steps (default: as often as ``budget`` allows); ``budget``: the share of the run's
    work the probes may take (default 0.03), counted in rows so that a seed always gives the same
    report; ``thresholds``: a :class:`Thresholds` to tune the codes.

    Neither a hook nor ``report()`` ever raises: a measurement that fails is noted in the report.
    """

    def __init__(
        self,
        model: Module | None = None,
        loss_fn: Any = None,
        optimizer: Any = None,
        *,
        probe: tuple[Any, ...] | None = None,
        every: int | None = None,
        budget: float = 0.03,
        probe_size: int = 256,
        rng: Any = 0,
        thresholds: Thresholds | None = None,
    ) -> None:
        if every is not None and (isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1):
            raise ConfigError(f"Doctor every must be a positive integer (steps between probes), got {every!r}.")
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget <= 1:
            raise ConfigError(f"Doctor budget must be a share of the run's time in (0, 1], got {budget!r}.")
        if isinstance(probe_size, bool) or not isinstance(probe_size, (int, np.integer)) or probe_size < 1:
            raise ConfigError(f"Doctor probe_size must be a positive integer, got {probe_size!r}.")
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise ConfigError(f"Doctor thresholds must be a Thresholds, got {type(thresholds).__name__}.")
        if probe is not None and (not isinstance(probe, (tuple, list)) or len(probe) < 2):
            raise ConfigError(f"Doctor probe must be a pair (X, y), got {type(probe).__name__}.")
        # Any: None until attached; every hook runs only once attached.
        self.model: Any = model
        self.loss_fn, self.optimizer = loss_fn, optimizer
        self.every, self.budget, self.probe_size = every, float(budget), int(probe_size)
        self.thresholds = thresholds or Thresholds()
        self._rng = as_generator(rng)
        self.probe: tuple[Any, ...] | None = None
        if probe is not None:
            self.probe = subsample(tuple(probe), self.probe_size, self._rng)
        self.trace = Trace()
        self.problems: list[str] = []  # measurements that failed (the doctor never raises)
        self._removers: list[Any] = []
        self._unhook_model: Any = lambda: None  # removes the model's forward hook
        self._before: dict[str, Any] | None = None  # weights at the last probe, to measure the next update
        self._initial: list[tuple[Any, Any]] | None = None  # (parameter, starting values) until the first probe
        self._last_accumulated = 0
        self._y_scale: tuple[float, float] | None = None
        self._params: list = []
        self._structure: tuple[list, list] | None = None
        self._by_callback = False  # steps come from on_step_end, not from the optimizer's hook
        self._attached = False
        self._gathered: list[tuple[Any, ...]] = []  # batches collected until the probe is full
        self._fixed: dict[str, float] = {}  # what depends on the probe targets alone, measured once
        self._probing = False  # the probe's own forward and loss calls are not training
        self._x: Any = None  # the model's last training input, until the probe is gathered
        self._batch: tuple[Any, ...] | None = None  # (x, target, *loss_args) of the last loss call, until then too
        self._loss: float | None = None
        self._total: int | None = None
        self._next_probe = 0
        self._batch_rows = 0  # rows of the last training batch, for the probes' cost
        if optimizer is not None:
            self.attach(model, loss_fn, optimizer)

    # --- attaching ----------------------------------------------------------------------------------------

    def attach(self, model: Any, loss_fn: Any, optimizer: Any, total_steps: int | None = None) -> Doctor:
        """Watch ``model``, ``loss_fn`` and ``optimizer`` through their hooks (what the constructor does).

        An optimizer that holds none of the model's parameters is refused with a ``ConfigError``.
        """
        return self._attach(model, loss_fn, optimizer, total_steps, strict=True)

    def _attach(self, model: Any, loss_fn: Any, optimizer: Any, total_steps: int | None, strict: bool) -> Doctor:
        """``strict=False`` (a training loop's callback, which must not raise): an optimizer that holds none
        of the model's parameters is watched anyway and reported as ``OPTIMIZER_MISMATCH``, and a loss or
        optimizer without nnscratch's hooks (a wrapper that steps two optimizers, a plain function) is
        followed through the callbacks' ``on_step_end`` instead."""
        from ..training import check_optimizer_holds, optimizer_holds

        if not isinstance(model, Module):
            raise ConfigError(f"Doctor model must be an nnscratch Module, got {type(model).__name__}.")
        hooked_loss = callable(getattr(loss_fn, "register_forward_hook", None))
        hooked_step = callable(getattr(optimizer, "register_step_post_hook", None))
        if strict and not hooked_loss:
            raise ConfigError(
                f"Doctor loss_fn must be an nnscratch loss (a subclass of nnscratch.Loss), got {loss_fn!r:.80}."
            )
        if strict and not hooked_step:
            raise ConfigError(
                f"Doctor optimizer must be an nnscratch optimizer (e.g. nnscratch.optim.Adam), got {optimizer!r:.80}."
            )
        if strict:
            check_optimizer_holds(optimizer, model)
        self.detach()
        if not optimizer_holds(optimizer, model):
            self.trace.events["OPTIMIZER_MISMATCH"] = {
                "step": 0,
                "model_parameters": len(model.parameters()),
                "optimizer_parameters": len(optimizer.parameters()),
            }
        self.model, self.loss_fn, self.optimizer, self._total = model, loss_fn, optimizer, total_steps
        self._params = _stepped_parameters(optimizer, model)
        # The model's layers and parameters, looked up once: a probe and an update measurement use them.
        self._structure = (leaves(model), model.parameters())
        # Without both hooks the loop's on_step_end drives each step (it sees the loss and the batch too).
        self._by_callback = not (hooked_loss and hooked_step)
        self._removers = [loss_fn.register_forward_hook(self._on_loss)] if hooked_loss else []
        if not self._by_callback:
            self._removers.append(optimizer.register_step_post_hook(self._on_step))
        if callable(getattr(optimizer, "register_error_hook", None)):
            self._removers.append(optimizer.register_error_hook(self._on_error))
        if self.probe is None:  # the model's inputs are needed only until the probe is gathered from them
            self._unhook_model = model.register_forward_hook(self._on_forward)
            self._removers.append(self._unhook_model)
        self._attached = True
        self._guarded(self._start)
        return self

    @property
    def attached(self) -> bool:
        return self._attached

    def detach(self) -> None:
        """Remove every hook; what was measured stays for ``report()``."""
        for remove in self._removers:
            remove()
        self._removers, self._attached = [], False

    def __enter__(self) -> Doctor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _start(self) -> None:
        if self.probe is not None and not self.trace.snapshots:
            self._sample(-1)
        else:  # no probe yet: still measure the first update, where a too-large step does its damage
            self._before = weight_copies(self.model, self._leaf_list)
            # ...and keep the starting weights, to measure them should the run diverge before the first probe
            self._initial = [(p, p.data.copy()) for p in self._structure[1]]  # type: ignore[index]
        self.trace.first_lr = self._rate()

    @property
    def _leaf_list(self) -> list | None:
        return self._structure[0] if self._structure else None

    def _rate(self) -> float:
        """The optimizer's largest learning rate now (NaN for an optimizer without ``param_groups``)."""
        groups = getattr(self.optimizer, "param_groups", None) or [{}]
        return max(float(g.get("lr", math.nan)) for g in groups)

    # --- the Callback protocol: fit(callbacks=[Doctor()]) attaches it ---------------------------------------

    def on_train_begin(self, ctx: TrainingContext) -> None:
        if not self.attached and ctx.optimizer is not None:
            total = ctx.extra.get("total_steps")
            self._attach(
                self.model or ctx.model,
                self.loss_fn or ctx.loss_fn or MSELoss(),
                ctx.optimizer,
                total if isinstance(total, int) else None,
                strict=False,
            )

    def on_step_end(self, ctx: TrainingContext) -> None:
        if not (self._by_callback and self.attached):
            return
        if not callable(getattr(self.loss_fn, "register_forward_hook", None)):
            # Not an nnscratch Loss: its value still counts, but a probe needs per-row losses it cannot give.
            self._loss = ctx.loss
        self._on_step(ctx.optimizer)

    def on_train_end(self, ctx: TrainingContext) -> None:
        self._guarded(self._final_probe)

    def _final_probe(self) -> None:
        """Measure the state the run ended in, unless the last probe already did."""
        snaps = self.trace.snapshots
        if self.probe is not None and self.model is not None and (not snaps or snaps[-1].step < self.trace.steps - 1):
            self._sample(self.trace.steps - 1, measure_update=False)

    # --- the hooks ----------------------------------------------------------------------------------------

    def _guarded(self, fn: Any, *args: Any) -> None:
        """Run a measurement; a failure is noted for the report, never raised into the training loop."""
        try:
            fn(*args)
        except Exception as exc:  # the doctor must not break the run it watches
            self._note(exc)

    def _note(self, exc: Exception) -> None:
        if len(self.problems) < 5:
            self.problems.append(f"{type(exc).__name__}: {exc}")

    # The training batch is kept only until the probe is gathered from it: holding on to every step's
    # arrays would keep them alive a step longer and change how the run allocates its memory.
    def _on_forward(self, module: Module, x: Any, out: Any) -> None:
        if not self._probing and self.probe is None:
            self._x = x

    def _on_loss(self, loss_fn: Any, inputs: tuple[Any, ...], value: Any) -> None:
        if self._probing:
            return
        self._loss = value
        if getattr(inputs[1], "ndim", 0):
            self._batch_rows = len(inputs[1])
        if self.probe is None:
            self._batch = (self._x, *inputs[1:])

    def _on_error(self, error: BaseException) -> None:
        self._guarded(self._record_error, error)

    def _on_step(self, optimizer: Any) -> None:
        try:  # as _guarded does, without its extra call: this runs at every step
            self._step()
        except Exception as exc:
            self._note(exc)

    def _step(self) -> None:
        trace = self.trace
        step = trace.steps
        trace.steps += 1
        trace.losses.append(float(self._loss) if isinstance(self._loss, (int, float)) else math.nan)
        self._check_events(step)
        if self._before is not None:
            ratios = update_ratios(self.model, self._before, self._leaf_list)
            self._before = None
            if trace.snapshots:
                trace.snapshots[-1].update_ratio = ratios
            else:  # until the probe is gathered, keep each layer's largest update, measured every step
                trace.first_update = {k: max(v, trace.first_update.get(k, v)) for k, v in ratios.items()}
                self._before = weight_copies(self.model, self._leaf_list)
        if self.probe is None:
            self._gather()
        if self.probe is not None and (not trace.snapshots or step >= self._next_probe):
            self._sample(step)

    # --- measurement ----------------------------------------------------------------------------------------

    def _gather(self) -> None:
        """Collect the first training batches until they hold ``probe_size`` rows."""
        batch, self._batch = self._batch, None
        if not _usable(batch):
            return
        self._gathered.append(tuple(a.copy() if hasattr(a, "copy") else a for a in batch))  # type: ignore[union-attr]
        rows = sum(len(b[0]) for b in self._gathered)
        if rows >= self.probe_size or len(self._gathered) >= 64:
            self._probe_from_gathered()

    def _probe_from_gathered(self) -> None:
        """The probe: up to ``probe_size`` rows of the batches gathered so far, stacked."""
        xp, n = get_array_module(self._gathered[-1][0]), len(self._gathered[-1][0])
        columns = zip(*self._gathered)  # per-row arrays are stacked; anything else is taken from one batch
        stacked = tuple(xp.concatenate(c) if getattr(c[0], "shape", ())[:1] == (n,) else c[0] for c in columns)
        self.probe, self._gathered, self._x = subsample(stacked, self.probe_size, self._rng), [], None
        self._unhook_model()

    def _measure_start(self) -> None:
        """A run that went non-finite before its first probe: measure the weights it started from, on the
        rows it trained on so far, as the probe before training (the signal's growth is seen there)."""
        if self.trace.snapshots or self._initial is None:
            return
        if self.probe is None:
            if _usable(self._batch):
                self._gathered.append(self._batch)  # type: ignore[arg-type]
                self._batch = None
            if not self._gathered:
                return
            self._probe_from_gathered()
        now = [(p, p.data) for p, _ in self._initial]
        try:
            for p, start in self._initial:
                p.data = start
            self._sample(-1, measure_update=False)
        finally:
            for p, data in now:
                p.data = data

    def _interval(self) -> int:
        """Steps until the next probe: ``every``, or as many as keep the probes' work within ``budget``.

        A probe runs the probe rows forward and backward and measures every layer: about
        ``PROBE_COST`` times a training step's work on as many rows. The interval follows from
        that count of rows, not from a clock, so the same seed gives the same report.
        """
        if self.every is not None:
            return self.every
        rows = self.trace.probe_rows / max(1, self._batch_rows)
        steps = math.ceil(PROBE_COST * rows / self.budget)
        if self._total:  # a run that announces its length gets at least 4 probes (a plateau needs them)
            steps = min(steps, max(1, self._total // 4))
        return max(1, steps)

    def _sample(self, step: int, measure_update: bool = True) -> None:
        X, y, *args = self.probe  # type: ignore[misc]
        self.trace.probe_rows = len(X)
        if self._y_scale is None:
            self._y_scale = target_scale(y)
        self._probing = True
        try:
            snap = probe_pass(self.model, self.loss_fn, X, y, step, tuple(args), self._fixed, self._structure)
        finally:
            self._probing = False
        snap.lr = self._rate()
        self.trace.snapshots.append(snap)
        self._initial = None
        self._before = weight_copies(self.model, self._leaf_list) if measure_update else None
        interval = self._interval()
        self._next_probe = 0 if step < 0 else (step // interval + 1) * interval  # at multiples of the interval

    def _record_error(self, error: BaseException) -> None:
        if "NON_FINITE" not in self.trace.events:
            self.trace.events["NON_FINITE"] = {
                "step": getattr(error, "step", None),
                "tensor": f"{getattr(error, 'kind', '')} {getattr(error, 'tensor', '')}".strip() or str(error),
                "last_finite_loss": _last_finite(self.trace),
            }
            self._measure_start()

    def _check_events(self, step: int) -> None:
        """The per-step checks: O(1) each (a float and one attribute per parameter)."""
        events = self.trace.events
        if "NON_FINITE" not in events and not math.isfinite(self.trace.losses[-1]):
            X = self.probe[0] if self.probe is not None else self._x
            self._probing = True
            try:
                tensor = first_nonfinite(self.model, X, None) or "the loss"
            finally:
                self._probing = False
            events["NON_FINITE"] = {"step": step, "tensor": tensor, "last_finite_loss": _last_finite(self.trace)}
            self._measure_start()
        if "SHAPE_BROADCAST" not in events and getattr(self.loss_fn, "broadcasted", False):
            events["SHAPE_BROADCAST"] = {"step": step}
        accumulated = 0  # the most backward passes a stepped parameter's .grad holds (a plain loop: the cheapest)
        for p in self._params:
            if p.accumulated > accumulated:
                accumulated = p.accumulated
        if "GRAD_ACCUMULATION" not in events and accumulated > self._last_accumulated >= 1:
            events["GRAD_ACCUMULATION"] = {
                "step": step,
                "backward_passes_in_grad": accumulated,
                "at_previous_step": self._last_accumulated,
            }
        self._last_accumulated = accumulated

    # --- verdict ----------------------------------------------------------------------------------------

    def report(self, error: BaseException | None = None) -> Report:
        """The findings so far, root causes first; never raises. ``error``: an error that stopped training."""
        try:
            return self._report(error)
        except Exception as exc:  # a report must come back, whatever the run
            self.problems.append(f"{type(exc).__name__}: {exc}")
            note = finding("NOT_MEASURED", f"The doctor could not judge this run: {'; '.join(self.problems)}.", {})
            return Report([note], self.trace, self.thresholds)

    def _report(self, error: BaseException | None) -> Report:
        if error is not None:
            self._record_error(error)
        self._guarded(self._final_probe)
        th, snaps = self.thresholds, self.trace.snapshots
        findings = rules.event_findings(self.trace, snaps[-1] if snaps else None)
        if snaps:
            findings += rules.data_rules(snaps[0], self._y_scale or target_scale(self.probe[1]), th)  # type: ignore[index]
            findings = rules.spare_fitted_run(findings + rules.snapshot_rules(self.trace, th), snaps[-1], th)
        else:
            findings.append(finding("NOT_MEASURED", self._not_measured(), {}))
        if self.problems:
            findings.append(finding("NOT_MEASURED", f"Some measurements failed: {'; '.join(self.problems)}.", {}))
        return Report(order(findings), self.trace, th)

    def _not_measured(self) -> str:
        if self.model is None:
            return "The doctor is not attached: build it as Doctor(model, loss_fn, optimizer) before training."
        if not callable(getattr(self.loss_fn, "register_forward_hook", None)):
            return (
                f"The loss {self.loss_fn!r:.60} is not an nnscratch Loss, so the doctor cannot measure a probe batch "
                "with it (it needs each row's loss): write the loss as a subclass of nnscratch.Loss "
                "(elementwise and elementwise_grad). The per-step checks still ran."
            )
        if self.trace.steps == 0:
            return "The doctor saw no optimizer step: attach it before training and call optimizer.step()."
        return (
            "The doctor saw no training batch (the loss was never called on the model's output), so it measured "
            "nothing per layer: pass probe=(X, y) to Doctor."
        )


def _stepped_parameters(optimizer: Any, model: Module) -> list[Any]:
    """The parameters the optimizer steps (``parameters()``, else its ``param_groups``), else the model's."""
    if callable(getattr(optimizer, "parameters", None)):
        return list(optimizer.parameters())
    groups = getattr(optimizer, "param_groups", None)
    if isinstance(groups, list) and all(isinstance(g, dict) and "params" in g for g in groups):
        return [p for g in groups for p in g["params"]]
    return model.parameters()


def _usable(batch: tuple[Any, ...] | None) -> bool:
    """A training batch whose inputs and targets have as many rows: what a probe can be made of."""
    return batch is not None and batch[0] is not None and len(batch[0]) == len(batch[1])


def _last_finite(trace: Trace) -> float:
    return next((v for v in reversed(trace.losses) if math.isfinite(v)), math.nan)
