"""What every reproduction shares: the :class:`Scenario` registry, the hand-written training
loop, and the :class:`Result` a run hands back.

Each step is :func:`nnscratch.training.train_step`, the same step ``fit`` runs; two of the
documented failures live in it (a forgotten ``zero_grad``, a loss that broadcasts its
arguments)::

    if zero_grad:
        model.zero_grad()                       # gradients add up (+=) until reset
    loss = loss_fn(model(xb), yb, *loss_args)   # forward
    model.backward(loss_fn.backward())          # backward: fills every p.grad
    optimizer.step()                            # update

Every ``record_every`` steps it runs :func:`~nnscratch.doctor.stats.probe_pass` on a fixed
probe batch, which measures each layer's output spread and dead-unit fraction without
touching the gradients, so the figures can show how the network got where it ended.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..callbacks import Callback, TrainingContext
from ..doctor.stats import Snapshot, probe_pass
from ..errors import ConfigError
from ..module import Module
from ..progress import Progress
from ..schedulers import ReduceLROnPlateau
from ..training import train_step

# name -> module that defines ``SCENARIO``; imported only when the scenario is asked for.
_MODULES = {
    "sqrt": "nnscratch.repro.sqrt",
    "sum-of-squares": "nnscratch.repro.sum_of_squares",
    "random-targets": "nnscratch.repro.random_targets",
    "wide-range": "nnscratch.repro.wide_range",
    "poly32": "nnscratch.repro.poly32",
}


@dataclass
class Run:
    """What the training loop recorded.

    ``loss``: the loss of every step, as the loss function reported it. ``baseline``: the
    loss of predicting the training targets' mean for every sample, under the same loss
    (the yardstick of the loss-curve figure: 1 means the network learned nothing).
    ``snapshots``: probe statistics every ``record_every`` steps (step -1: before training).
    ``stopped``: why training ended early (a non-finite loss), or ``None``.
    """

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # the rate at each recorded step
    baseline: float = math.nan
    snapshots: list[Snapshot] = field(default_factory=list)
    steps_planned: int = 0
    stopped: str | None = None
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.loss)


@dataclass
class Result:
    """One variant of one scenario, trained.

    ``X``, ``y``: the raw training data, as the document generates it. ``model_inputs``:
    the inputs exactly as the model saw them (standardised, logged, ...). ``predict(X_raw)``
    returns predictions in the raw target space, undoing any standardisation. ``metrics``:
    numbers that tell failure from fix; ``verdict``: what happened and why, in plain words.
    ``settings``: the settings this variant ran with. ``extras``: scenario-specific arrays
    for the figures (not part of the JSON output).
    """

    scenario: str
    variant: str
    seed: int
    quick: bool
    model: Module
    X: np.ndarray
    y: np.ndarray
    model_inputs: np.ndarray
    predict: Callable[[np.ndarray], np.ndarray]
    history: Run
    metrics: dict[str, float]
    verdict: str
    settings: dict[str, Any] = field(default_factory=dict)
    doctor: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary: settings, metrics, verdict, loss curve ends and the doctor's codes."""
        h = self.history
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "variant": self.variant,
            "seed": self.seed,
            "quick": self.quick,
            "settings": self.settings,
            "metrics": self.metrics,
            "verdict": self.verdict,
            "steps": h.steps,
            "stopped": h.stopped,
            "seconds": round(h.seconds, 2),
            "first_loss": h.loss[0] if h.loss else None,
            "last_loss": h.loss[-1] if h.loss else None,
            "baseline_loss": h.baseline,
        }
        if self.doctor is not None:
            out["doctor"] = self.doctor.to_dict()
        return out


@dataclass(frozen=True)
class Scenario:
    """A documented failure: its set-up, its named variants and the function that runs one.

    ``variants`` maps each variant's name to a one-line description, the failure first.
    ``runner(variant, seed, quick, callbacks, progress)`` trains and returns a :class:`Result`.
    ``expected`` maps each variant to the doctor codes that name its cause (empty: healthy).
    ``figures(results, out)`` may write scenario-specific figures and return their paths.
    ``question``, ``site``, ``url``: the public question the scenario reproduces, cited by its
    title, the site it was asked on, and its address (empty when the source gives none).
    ``document`` is the same citation in one line.
    """

    name: str
    title: str
    document: str
    variants: dict[str, str]
    runner: Callable[..., Result]
    expected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    figures: Callable[[list[Result], Any], list[Any]] | None = None
    question: str = ""
    site: str = ""
    url: str = ""


def names() -> list[str]:
    """The scenarios, in the order of the documents' issue."""
    return list(_MODULES)


def get(name: str) -> Scenario:
    """The :class:`Scenario` called ``name``."""
    if name not in _MODULES:
        raise ConfigError(
            f"unknown reproduction {name!r}; expected one of {', '.join(_MODULES)} (nnscratch repro list shows them)."
        )
    return importlib.import_module(_MODULES[name]).SCENARIO


def variants(name: str) -> list[str]:
    """The variants of scenario ``name``, the failure as posted first."""
    return list(get(name).variants)


def run(
    name: str,
    variant: str = "failure",
    seed: int = 0,
    quick: bool = False,
    doctor: bool = False,
    progress: bool | None = None,
    callbacks: Iterable[Callback] = (),
) -> Result:
    """Train one variant of scenario ``name`` and return its :class:`Result`.

    ``quick`` shortens a run only where the symptom is already unambiguous (each scenario
    says where); the default is the document's settings. ``doctor`` attaches a
    :class:`~nnscratch.Doctor` and puts its report in ``Result.doctor``. ``progress``: a
    progress bar on stderr (``None``: only on a terminal).
    """
    scenario = get(name)
    if variant not in scenario.variants:
        raise ConfigError(f"unknown variant {variant!r} of {name}; expected one of {', '.join(scenario.variants)}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    callbacks = list(callbacks)
    doc = None
    if doctor:
        from ..doctor import Doctor

        # 1024 probe rows, not the default 256: the worst 1% is then 11 rows, enough to see a heavy tail.
        doc = Doctor(probe_size=1024)
        callbacks.append(doc)
    result = scenario.runner(variant, int(seed), bool(quick), callbacks, progress)
    if doc is not None:
        result.doctor = doc.report()
    return result


def baseline_loss(loss_fn: Any, y: Any, loss_args: tuple = ()) -> float:
    """The loss of predicting the mean of ``y`` (per column) for every sample."""
    mean = np.broadcast_to(y.mean(axis=0, keepdims=True), y.shape).astype(y.dtype)
    return float(loss_fn(mean.copy(), y, *loss_args))


def train_loop(
    model: Module,
    loss_fn: Any,
    optimizer: Any,
    batches: Iterable[tuple[Any, ...]],
    steps: int,
    *,
    zero_grad: bool = True,
    scheduler: Any = None,
    callbacks: Iterable[Callback] = (),
    probe: tuple[Any, ...] | None = None,
    record_every: int | None = None,
    baseline: float = math.nan,
    progress: bool | None = None,
    label: str = "train",
) -> Run:
    """Run ``steps`` optimizer steps on ``batches`` (tuples ``(xb, yb, *loss_args)``); return the :class:`Run`.

    ``zero_grad=False`` leaves out ``model.zero_grad()``, as the sum-of-squares document did.
    ``scheduler``: stepped after every optimizer step; a ``ReduceLROnPlateau`` gets that step's
    loss (as the wide-range document does), others nothing. ``probe``: ``(X, y, *loss_args)``
    to measure layer statistics on, every ``record_every`` steps (default: 100 probes a run).
    Training stops at the first non-finite loss and says so in ``Run.stopped``: a diverging
    variant is a result to show, not an error.
    """
    callbacks = list(callbacks)
    record_every = record_every or max(1, steps // 100)
    run = Run(baseline=baseline, steps_planned=steps)
    ctx = TrainingContext(model=model, loss_fn=loss_fn, optimizer=optimizer, extra={"total_steps": steps})
    bar = Progress(steps, label, progress)
    plateau = isinstance(scheduler, ReduceLROnPlateau)
    started = time.perf_counter()

    fixed: dict[str, float] = {}  # the probe's target statistics, measured at the first probe

    def record(step: int) -> None:
        if probe is not None:
            with np.errstate(all="ignore"):
                run.snapshots.append(probe_pass(model, loss_fn, probe[0], probe[1], step, tuple(probe[2:]), fixed))
            run.lr.append(float(optimizer.lr))

    for cb in callbacks:
        cb.on_train_begin(ctx)
    record(-1)
    # A failure being reproduced may overflow on its way to a NaN; the loop checks the loss itself.
    with np.errstate(over="ignore", invalid="ignore"):
        for step, (xb, yb, *loss_args) in enumerate(batches):
            if step >= steps:
                break
            value = train_step(model, loss_fn, optimizer, xb, yb, *loss_args, zero_grad=zero_grad)
            if plateau:
                scheduler.step(value)
            elif scheduler is not None:
                scheduler.step()
            run.loss.append(value)
            ctx.step, ctx.loss, ctx.x_batch, ctx.y_batch = step, value, xb, yb
            ctx.extra["loss_args"] = tuple(loss_args)
            for cb in callbacks:
                cb.on_step_end(ctx)
            bar.update(value)
            if not math.isfinite(value):
                run.stopped = f"the loss became {value} at step {step}"
                break
            if (step + 1) % record_every == 0 or step == steps - 1:
                record(step)
            if ctx.stop:
                run.stopped = f"a callback stopped training at step {step}"
                break
    bar.close(run.loss[-1] if run.loss else None)
    run.seconds = time.perf_counter() - started
    for cb in callbacks:
        cb.on_train_end(ctx)
    return run


def repeat(*batch: Any) -> Iterable[tuple[Any, ...]]:
    """The same full batch for every step (full-batch gradient descent)."""
    while True:
        yield batch


def epochs_of(X: Any, y: Any, batch_size: int, rng: np.random.Generator, shuffle: bool = True) -> Iterable[tuple]:
    """Minibatches epoch after epoch, a fresh permutation from ``rng`` each epoch (a DataLoader)."""
    from ..data import minibatches

    while True:
        yield from minibatches(X, y, batch_size, shuffle, rng)
