"""The callback protocol shared by ``fit``, hand-written loops and the reproductions.

A training loop fills a :class:`TrainingContext` and calls each callback's hooks.
``fit`` does this for you; a hand-written loop (the documents' failures are
reproduced with explicit loops) calls them itself, so tools like the training
doctor watch both kinds of loop the same way::

    ctx = TrainingContext(model=net, loss_fn=loss_fn, optimizer=opt)
    for cb in callbacks: cb.on_train_begin(ctx)
    for step in range(steps):
        ...forward, backward, optimizer.step()...
        ctx.step, ctx.loss = step, loss
        for cb in callbacks: cb.on_step_end(ctx)
        if ctx.stop: break
    for cb in callbacks: cb.on_train_end(ctx)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainingContext:
    """What a callback may look at (and ``stop``, which it may set) during training.

    ``step`` counts optimizer steps from 0 across epochs; ``loss`` is the loss of the
    batch that step used; ``x_batch``/``y_batch`` that batch as the model saw it.
    """

    model: Any
    loss_fn: Any = None
    optimizer: Any = None
    step: int = -1
    epoch: int = 0
    loss: float = float("nan")
    x_batch: Any = None
    y_batch: Any = None
    history: Any = None
    stop: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Callback:
    """Base class: override the hooks you need; each receives the shared context."""

    def on_train_begin(self, ctx: TrainingContext) -> None:
        """Before the first step."""

    def on_step_end(self, ctx: TrainingContext) -> None:
        """After each optimizer step (``ctx.step``, ``ctx.loss`` are up to date)."""

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        """After each pass over the data (``fit`` only; hand-written loops may skip it)."""

    def on_train_end(self, ctx: TrainingContext) -> None:
        """After the last step, also when a callback stopped training early."""
