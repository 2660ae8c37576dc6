"""Callbacks that end training: :class:`EarlyStopping` and :class:`NonFiniteGuard`.

Both work with ``fit`` and with hand-written loops that fill a
:class:`~nnscratch.callbacks.TrainingContext` and call the hooks (see
:mod:`nnscratch.callbacks`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .backend import get_array_module
from .callbacks import Callback, TrainingContext
from .errors import ConfigError, NonFiniteError
from .validation import check_choice, check_flag, check_number


def _all_finite(a: Any) -> bool:
    return bool(get_array_module(a).isfinite(a).all())


class NonFiniteGuard(Callback):
    """Stop at the first NaN or infinity in the loss, a gradient or a parameter.

    After every step it checks, in the order they were computed, the step's loss, each
    parameter's gradient and each parameter's new value. At the first non-finite one it
    puts the weights back to what they were before that step (the last finite weights;
    ``restore=False`` skips this and the copy it needs each step) and raises
    :class:`~nnscratch.errors.NonFiniteError` naming the step and the tensor. The error
    carries ``step``, ``tensor`` (``"loss"`` or a parameter name such as ``"2.W"``),
    ``kind`` (``"loss"``, ``"gradient"`` or ``"parameter"``) and, from ``fit``, ``history``.

    ``fit`` puts one first in its callbacks unless called with ``guard=False``.
    """

    def __init__(self, restore: bool = True) -> None:
        self.restore = check_flag(restore, "restore")
        self._named: list[tuple[str, Any]] = []
        self._backup: list[Any] = []

    def on_train_begin(self, ctx: TrainingContext) -> None:
        self._named = list(ctx.model.named_parameters())
        self._backup = [p.data.copy() for _, p in self._named] if self.restore else []

    def _first_non_finite(self, ctx: TrainingContext) -> tuple[str, str] | None:
        if not math.isfinite(ctx.loss):
            return "loss", "loss"
        # One sum over every gradient and parameter: it is finite only if each element is (NaN and inf
        # never add up to a finite number), and on a GPU it reaches the host as one number, not one per
        # tensor. A sum that overflows although every element is finite falls through to the exact search.
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for _, p in self._named:
                total = total + p.grad.sum() + p.data.sum()
        if math.isfinite(total):
            return None
        for name, p in self._named:
            if not _all_finite(p.grad):
                return "gradient", name
        for name, p in self._named:
            if not _all_finite(p.data):
                return "parameter", name
        return None

    def on_step_end(self, ctx: TrainingContext) -> None:
        if not self._named:  # a hand-written loop that skipped on_train_begin
            self.on_train_begin(ctx)
        found = self._first_non_finite(ctx)
        if found is None:
            for backup, (_, p) in zip(self._backup, self._named):
                backup[...] = p.data
            return
        kind, tensor = found
        if self.restore:
            for backup, (_, p) in zip(self._backup, self._named):
                p.data[...] = backup
        what = f"the loss ({ctx.loss})" if kind == "loss" else f"the {kind} of {tensor}"
        restored = (
            f"the weights were restored to those before step {ctx.step}"
            if self.restore
            else "the weights were left as they are"
        )
        err = NonFiniteError(
            f"step {ctx.step} (epoch {ctx.epoch}): {what} is not finite (NaN or inf); {restored}. "
            "Training diverged: try a smaller learning rate, standardised inputs and targets, or gradient "
            "clipping; pass guard=False to fit to let it run on."
        )
        err.step, err.tensor, err.kind = ctx.step, tensor, kind
        ctx.stop = True
        notify = getattr(ctx.optimizer, "notify_error", None)
        if callable(notify):  # a training doctor attached to the optimizer records where it stopped
            notify(err)
        raise err


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved for ``patience`` epochs (Keras's rule).

    ``monitor`` is ``"val_loss"``, ``"loss"`` or ``"auto"`` (the validation loss when there
    is one). An epoch improves when its value is below the best so far by more than
    ``min_delta``. With ``restore_best_weights`` the model ends at the best epoch's weights.
    Reads ``ctx.history`` at each epoch end (``fit`` provides it).
    """

    def __init__(
        self, monitor: str = "auto", patience: int = 10, min_delta: float = 0.0, restore_best_weights: bool = False
    ) -> None:
        self.monitor = check_choice(monitor, "monitor", ("auto", "val_loss", "loss"))
        self.patience = check_number(patience, "patience", low=0, integer=True)
        # A finite margin: an infinite one would never count an epoch as better, a NaN one would count every one.
        self.min_delta = check_number(min_delta, "min_delta", low=0)
        self.restore_best_weights = check_flag(restore_best_weights, "restore_best_weights")
        self.best = math.inf
        self.best_epoch = -1
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._best_weights: list[Any] | None = None

    def on_train_begin(self, ctx: TrainingContext) -> None:
        self.best, self.best_epoch, self.stopped_epoch, self.wait = math.inf, -1, None, 0
        self._best_weights = None

    def _value(self, ctx: TrainingContext) -> float:
        history = ctx.history
        if history is None:
            raise ConfigError("EarlyStopping reads ctx.history at each epoch end; set it in your loop.")
        name = self.monitor
        if name == "auto":
            name = "val_loss" if history.val_loss else "loss"
        values = getattr(history, name)
        if not values:
            raise ConfigError(
                f"EarlyStopping monitors {name!r} but none was recorded; pass validation_data to fit "
                "or use monitor='loss'."
            )
        return values[-1]

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        value = self._value(ctx)
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, ctx.epoch, 0
            if self.restore_best_weights:
                self._best_weights = [p.data.copy() for p in ctx.model.parameters()]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = ctx.epoch
            ctx.stop = True

    def on_train_end(self, ctx: TrainingContext) -> None:
        if self._best_weights is not None:
            for p, best in zip(ctx.model.parameters(), self._best_weights):
                p.data[...] = best
