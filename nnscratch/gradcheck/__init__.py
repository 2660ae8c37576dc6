"""Gradient checking: hand-written backward passes against finite differences.

>>> import nnscratch as ns
>>> report = ns.gradcheck.check_model(ns.MLP([1, 10, 1], rng=0), ns.MSELoss(), x, y)
>>> print(report)            # one row per tensor: worst element, errors, kinks...
>>> report.assert_ok()       # raises GradientError (with the report) when a gradient is wrong

- :mod:`.numeric`: finite differences with per-element steps, error estimates, kink detection;
- :mod:`.check`: ``check_module``, ``check_loss``, ``check_model`` (full and fast mode);
- :mod:`.report`: the report objects and the tolerance rule.
"""

from __future__ import annotations

from .check import check_loss, check_model, check_module
from .numeric import FiniteDifference, KinkWatch, numerical_gradient
from .report import GradcheckReport, TensorCheck

__all__ = [
    "FiniteDifference",
    "GradcheckReport",
    "KinkWatch",
    "TensorCheck",
    "check_loss",
    "check_model",
    "check_module",
    "numerical_gradient",
]
