"""Numbers that tell a failure from its fix, computed the same way for every scenario.

All of them are scale-free, so a run on raw data and a run on standardised data compare:

- :func:`relative_mse`: mean squared error over the targets' variance. 1 is what predicting
  the mean gets; a network that learned something is well below it.
- :func:`spread_ratio`: the predictions' standard deviation over the targets'. Near 0 is the
  "predicts one value for everything" failure.
- :func:`dead_fractions`: per ReLU layer, the share of units that are off for (almost) every
  sample; such units pass no gradient and never recover.
- :func:`linearity`: how close a 1-D fit is to a straight line over the data range (R² of the
  best affine fit to the predictions; 1.0 is exactly linear).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..doctor.stats import Snapshot


def relative_mse(pred: Any, target: Any) -> float:
    """mean((pred - target)²) / var(target); pred and target of the same shape."""
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"relative_mse needs pred and target of one shape, got {pred.shape} and {target.shape}")
    var = float(target.var())
    return float(((pred - target) ** 2).mean()) / var if var > 0 else float("nan")


def spread_ratio(pred: Any, target: Any) -> float:
    """std(pred) / std(target): near 0 when the network predicts about one value for every input."""
    std = float(np.std(np.asarray(target, dtype=np.float64)))
    return float(np.std(np.asarray(pred, dtype=np.float64))) / std if std > 0 else float("nan")


def dead_fractions(snapshot: Snapshot) -> dict[str, float]:
    """Per ReLU layer of a probe snapshot: the share of units on for fewer than 1% of the probe rows."""
    return {s.name: float(s.dead) for s in snapshot.relus() if s.dead is not None}


def layer_spreads(snapshot: Snapshot) -> dict[str, float]:
    """Per Linear layer of a probe snapshot: the spread (input-dependent std) of its output."""
    return {s.name: s.spread for s in snapshot.linears()}


def linearity(predict: Callable[[np.ndarray], np.ndarray], low: float, high: float, points: int = 2001) -> float:
    """R² of the best straight line through ``predict`` on a grid over [low, high] (1.0: exactly linear).

    A constant prediction counts as linear (1.0): it is a straight line too.
    """
    grid = np.linspace(low, high, points)[:, None]
    f = np.asarray(predict(grid), dtype=np.float64).ravel()
    design = np.column_stack([grid.ravel(), np.ones(points)])
    coef, *_ = np.linalg.lstsq(design, f, rcond=None)
    ss_res = float(((f - design @ coef) ** 2).sum())
    ss_tot = float(((f - f.mean()) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
