"""Check a set-up before training (:func:`diagnose`), and train it under a doctor (:func:`checkup`).

``diagnose`` runs one probe pass on the data as the model will see it and applies the rules that
need no training: data scaling, the target's shape, dead units and the signal at initialisation,
and the initial loss. ``checkup`` is what ``nnscratch doctor`` runs on a saved model and a data file.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..losses import MSELoss
from ..module import Module
from ..rng import as_generator
from . import rules
from .codes import Thresholds, finding, order
from .doctor import Doctor
from .report import Report
from .stats import Trace, first_nonfinite, probe_pass, subsample, target_scale


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
        return Report(order(rules.event_findings(trace, None)), trace, th)
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
    found += rules.data_rules(snap, target_scale(y), th)
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
