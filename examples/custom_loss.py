"""
A loss of your own, gradient-checked
====================================

Write a loss as an ``ns.Loss`` subclass. It needs two methods; the base class does the
rest (argument checks, the reduction, scaling the gradient to match it)::

    elementwise(pred, target)   one loss value per element; keep what the derivative needs
    elementwise_grad()          d (elementwise loss) / d pred, the same shape

The loss used here is the relative L1 loss of the wide-range reproduction,
abs(pred - target) / scale, where ``scale`` is a per-sample normaliser. It is written in
``nnscratch/repro/wide_range.py`` (``RelativeL1Loss``, about twenty lines): ``elementwise``
keeps ``pred - target`` and divides it by the scale, ``elementwise_grad`` returns
sign(pred - target) / scale. Because ``Loss.__call__`` takes only (pred, target), the class
also overrides ``__call__`` to accept the scale as a third argument, the way a training loop
calls ``loss_fn(model(xb), yb, *loss_args)``.

``ns.check_loss`` compares ``backward()`` with finite differences. It calls the loss with
pred and target only, so the scale is fixed when the loss is built: ``RelativeL1Loss(scale=s)``.

Run it with ``python examples/custom_loss.py``.
"""

import numpy as np

import nnscratch as ns
from nnscratch.repro.wide_range import RelativeL1Loss, make_data, normaliser

gen = np.random.default_rng(0)
X, y, terms = make_data(gen, 8, dtype=np.float64)
pred = y + gen.standard_normal(y.shape) * 10.0

# In training the scale comes with each batch: loss_fn(pred, target, scale).
for kind in ("first-term", "terms"):
    scale = normaliser(kind, y, terms)
    per_sample = RelativeL1Loss(reduction="none")(pred, y, scale)
    print(f"scale = {kind:10s}  loss {RelativeL1Loss()(pred, y, scale):.3g}  per sample {per_sample.ravel().round(3)}")

# The gradient check: every element of d loss / d pred against a central difference.
scale = normaliser("terms", y, terms)
for reduction in ("mean", "sum", "none"):
    report = ns.check_loss(RelativeL1Loss(scale=scale, reduction=reduction), pred, y, rng=0)
    print(f"reduction={reduction}:", report)
    report.assert_ok()
