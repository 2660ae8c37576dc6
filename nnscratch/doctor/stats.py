"""What the training doctor measures, and how: one pass of a fixed probe batch.

Every ``every`` steps the doctor runs a *probe batch* (the same rows each time)
forward and backward through the model, with forward and backward hooks on each
leaf module recording:

- for every layer, the *spread* of its output: sqrt(mean over units of the variance
  over the batch). It measures the input-dependent signal; a constant offset such as a
  bias does not count, since a layer whose output is the same for every input carries
  no information about the input;
- for every ``Linear``, the RMS of d loss / d output (the gradient that reaches it);
- for every ReLU-like layer, the fraction of units that are off for (almost: > 99% of)
  every probe row (*dead*: they pass no gradient) and on for every row (*always on*:
  they never bend);
- for the first ``Linear``, the scale of each input feature as the network sees it.

The probe's backward pass must not disturb training, so each parameter's ``grad`` and
``accumulated`` are swapped out before it and put back after it. The loss function is
copied (``copy.copy``) so that its ``broadcasted`` flag and cached arrays stay those of
the training step.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..layers import Linear
from ..module import Module, grads_aside


@dataclass
class LayerStats:
    """One leaf module's statistics on the probe batch (``None`` where they do not apply)."""

    name: str
    kind: str  # the module's class name, e.g. "Linear", "ReLU"
    units: int
    spread: float  # sqrt(mean_j var_n out[n, j])
    in_spread: float | None = None  # Linear: spread of its input
    grad_rms: float | None = None  # Linear: RMS of d loss / d output
    dead: float | None = None  # ReLU-like: fraction of units on for fewer than 1% of the probe rows
    always_on: float | None = None  # ReLU-like: fraction of units on for every probe row


@dataclass
class Snapshot:
    """Everything measured by one probe pass at optimizer step ``step`` (-1: before training)."""

    step: int
    loss: float  # the loss on the probe batch
    baseline: float  # the loss of predicting the targets' mean for every row
    pred_spread: float  # spread of the predictions over the probe rows
    target_spread: float  # spread of the targets over the probe rows
    tail_share: float  # share of the probe loss contributed by the worst 1% of rows
    layers: list[LayerStats]
    input_scale: list[float]  # per feature, sqrt(mean x²) of the first Linear's input
    pred_shape: tuple[int, ...] = ()
    target_shape: tuple[int, ...] = ()
    zero_loss: float = math.nan  # the loss of predicting 0 for every row (a relative error rewards it)
    update_ratio: dict[str, float] = field(default_factory=dict)  # filled in one step later
    lr: float = math.nan  # the optimizer's largest learning rate after this step (what the next step uses)

    @property
    def relative_loss(self) -> float:
        """Probe loss over the loss of predicting the mean (1: learned nothing)."""
        return self.loss / self.baseline if self.baseline > 0 else math.nan

    def linears(self) -> list[LayerStats]:
        return [s for s in self.layers if s.kind == "Linear"]

    def relus(self) -> list[LayerStats]:
        return [s for s in self.layers if s.dead is not None]


@dataclass
class Trace:
    """What a Doctor collected during a run: probe snapshots, losses and per-step events."""

    snapshots: list[Snapshot] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # the training loss of every step
    steps: int = 0  # optimizer steps seen
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> evidence, first occurrence
    first_update: dict[str, float] = field(default_factory=dict)  # largest update ratios before the first probe
    first_lr: float = math.nan  # the optimizer's largest learning rate when the doctor attached
    probe_rows: int = 0  # rows in the probe batch


def spread(a: Any) -> float:
    """sqrt(mean over columns of the variance over rows) of a (N, ...) array."""
    a = a.reshape(a.shape[0], -1)
    if a.shape[0] < 2:
        return 0.0
    return rms(a - a.sum(axis=0) / a.shape[0])  # two passes, as var() does, without its temporaries


def rms(a: Any) -> float:
    """sqrt(mean of a²), the sum of squares as one dot product (no squared copy of ``a``)."""
    flat = a.ravel()
    return (float(flat @ flat) / flat.size) ** 0.5


def leaves(model: Module) -> list[tuple[str, Module]]:
    """The model's leaf modules (those without children) with their names, in forward order."""
    return [(name or type(m).__name__, m) for name, m in model.named_modules() if not any(m.named_children())]


def _forward_stats(name: str, module: Module, x: Any, out: Any, known: tuple[Any, float] = (None, 0.0)) -> LayerStats:
    """``known``: the previous leaf's (output, spread); a layer's input is usually that output."""
    out2 = out.reshape(out.shape[0], -1)
    stats = LayerStats(name, type(module).__name__, out2.shape[1], spread(out2))
    if isinstance(module, Linear):
        stats.in_spread = known[1] if known[0] is x else spread(x)
    mask = getattr(module, "mask", None)  # ReLU and LeakyReLU keep which units were on
    if mask is not None and mask.shape == out.shape:
        on = mask.reshape(mask.shape[0], -1)
        rows_on = get_array_module(on).count_nonzero(on, axis=0)
        # Dead: on for fewer than 1% of the rows (a unit that fires for 1 row in 256 is as good as dead).
        stats.dead = float((rows_on < 0.01 * on.shape[0]).mean())
        stats.always_on = float((rows_on == on.shape[0]).mean())
    return stats


def probe_pass(
    model: Module,
    loss_fn: Any,
    X: Any,
    y: Any,
    step: int,
    loss_args: tuple = (),
    fixed: dict[str, float] | None = None,
    structure: tuple[list[tuple[str, Module]], list[Any]] | None = None,
) -> Snapshot:
    """Run ``X`` forward and backward through ``model`` with recording hooks; training state is kept.

    X: (N, D) probe inputs, y: the matching targets (any shape ``loss_fn`` accepts);
    ``loss_args``: extra arguments of a loss called as ``loss_fn(pred, y, *loss_args)``.
    ``fixed``: a dict kept between probes of the same (X, y) batch; what depends on the targets
    alone (the losses of predicting their mean and 0, their spread) is measured once into it.
    ``structure``: the model's ``(leaves(model), model.parameters())``, when the caller keeps them.
    """
    records: list[LayerStats] = []
    by_module: dict[int, LayerStats] = {}
    first_input: list[Any] = []
    last_out: list[tuple[Any, float]] = []  # the last leaf's output and its spread

    def on_forward(module: Module, x: Any, out: Any) -> None:
        stats = _forward_stats(names[id(module)], module, x, out, last_out[0] if last_out else (None, 0.0))
        last_out[:] = [(out, stats.spread)]
        records.append(stats)
        by_module[id(module)] = stats
        if isinstance(module, Linear) and not first_input:
            first_input.append(x)

    def on_backward(module: Module, grad_out: Any, grad_in: Any) -> None:
        by_module[id(module)].grad_rms = rms(grad_out)

    leaf_list, params = structure or (leaves(model), model.parameters())
    names = {id(m): name for name, m in leaf_list}
    removers = [m.register_forward_hook(on_forward) for _, m in leaf_list]
    removers += [m.register_backward_hook(on_backward) for _, m in leaf_list if isinstance(m, Linear)]
    try:
        with grads_aside(params), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a broadcasting loss warns on every call; training already did
            out = model(X)
            lf = copy.copy(loss_fn)
            reduction, lf.reduction = lf.reduction, "none"
            per_element = lf(out, y, *loss_args)  # one loss value per element: the per-row loss is its row sum
            lf.reduction = reduction  # backward() then scales the gradient as the real reduction does
            model.backward(lf.backward())
            per_row = per_element.reshape(per_element.shape[0], -1).sum(axis=1)
            loss = float(per_element.mean() if reduction == "mean" else per_element.sum())
            fixed = {} if fixed is None else fixed
            if not fixed:
                mean = y.reshape(y.shape[0], -1).mean(axis=0)
                fixed["baseline"] = _constant_loss(copy.copy(loss_fn), out, y, loss_args, mean)
                fixed["zero_loss"] = _constant_loss(
                    copy.copy(loss_fn), out, y, loss_args, get_array_module(mean).zeros_like(mean)
                )
                fixed["target_spread"] = spread(y)
    finally:
        for remove in removers:
            remove()
    x0 = first_input[0] if first_input else X
    input_scale = [float(v) for v in (x0.reshape(x0.shape[0], -1) ** 2).mean(axis=0) ** 0.5]
    return Snapshot(
        step,
        loss,
        fixed["baseline"],
        spread(out),
        fixed["target_spread"],
        _tail_share(per_row),
        records,
        input_scale,
        tuple(out.shape),
        tuple(y.shape),
        fixed["zero_loss"],
    )


def _constant_loss(lf: Any, out: Any, y: Any, loss_args: tuple, value: Any) -> float:
    """The loss of predicting the per-column ``value`` (the targets' mean, or 0) for every row."""
    xp = get_array_module(out)
    if value.size != int(np.prod(out.shape[1:])):
        return math.nan
    lf.reduction = "mean" if lf.reduction == "none" else lf.reduction
    return float(lf(xp.broadcast_to(value.reshape((1, *out.shape[1:])), out.shape).copy(), y, *loss_args))


def _tail_share(per_row: Any) -> float:
    """Share of the total loss contributed by the worst 1% of rows (at least one row)."""
    total = float(per_row.sum())
    if not total > 0:
        return 0.0
    k = max(1, math.ceil(0.01 * per_row.shape[0]))
    top = per_row[get_array_module(per_row).argsort(per_row)[-k:]]
    return float(top.sum()) / total


def weight_copies(model: Module, leaf_list: list[tuple[str, Module]] | None = None) -> dict[str, Any]:
    """Copies of every Linear's weight matrix, to measure the next update's size (``leaf_list``: ``leaves(model)``)."""
    return {name: m.W.data.copy() for name, m in leaf_list or leaves(model) if isinstance(m, Linear)}


def update_ratios(
    model: Module, before: dict[str, Any], leaf_list: list[tuple[str, Module]] | None = None
) -> dict[str, float]:
    """||W_now - W_before|| / ||W_before|| for each Linear (the update-to-weight ratio)."""
    ratios = {}
    for name, m in leaf_list or leaves(model):
        if name in before and isinstance(m, Linear):  # weight_copies keeps the Linears' weights
            xp = get_array_module(m.W.data)
            norm = float(xp.linalg.norm(before[name]))
            # All-zero weights have no size to compare with: not measured (NaN).
            ratios[name] = float(xp.linalg.norm(m.W.data - before[name])) / norm if norm > 0 else math.nan
    return ratios


def first_nonfinite(model: Module, X: Any | None, y: Any | None) -> str | None:
    """Name the first non-finite tensor in the order a step computes them, or None.

    Order: probe inputs and targets, then parameters (an earlier update broke them),
    then each layer's output on the probe batch.
    """
    for label, a in (("the input batch", X), ("the target batch", y)):
        if a is not None and not bool(get_array_module(a).isfinite(a).all()):
            return label
    for name, p in model.named_parameters():
        if not bool(get_array_module(p.data).isfinite(p.data).all()):
            return f"parameter {name}"
    if X is None:
        return None
    seen: list[str] = []

    def hook(module: Module, x: Any, out: Any) -> None:
        if not seen and not bool(get_array_module(out).isfinite(out).all()):
            seen.append(f"output of layer {names[id(module)]} ({type(module).__name__})")

    leaf_list = leaves(model)
    names = {id(m): name for name, m in leaf_list}
    removers = [m.register_forward_hook(hook) for _, m in leaf_list]
    try:
        with np.errstate(all="ignore"):
            model(X)
    except Exception as exc:  # the forward itself may refuse non-finite values: that names the tensor too
        seen.append(f"forward pass ({type(exc).__name__}: {exc})")
    finally:
        for remove in removers:
            remove()
    return seen[0] if seen else None


def target_scale(y: Any) -> tuple[float, float]:
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
