"""Losses: ``loss_fn(pred, target)`` returns the loss, ``loss_fn.backward()`` d loss / d pred.

A loss works in two steps, like a layer. ``elementwise(pred, target)`` computes one
loss value per element and keeps what its derivative needs; ``elementwise_grad()``
returns that derivative. The base class :class:`Loss` does the rest: it checks the
arguments, applies the reduction (``"mean"``, ``"sum"`` or ``"none"``) and scales
the gradient to match. To write a custom loss, subclass :class:`Loss` and write
those two methods (see ``examples/custom_loss.py``).

Shapes must match exactly. torch silently broadcasts ``pred`` of shape (N, 1)
against ``target`` of shape (N,) into an (N, N) comparison of every prediction with
every target, which trains a network to predict the mean; nnscratch refuses, unless
the loss is built with ``broadcast=True`` to reproduce that behaviour on purpose.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .backend import get_array_module
from .errors import BroadcastWarning, CallOrderError, ConfigError, ShapeError
from .validation import as_float_array, check_choice

REDUCTIONS = ("mean", "sum", "none")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Undo broadcasting: sum ``grad`` over the axes that were stretched to reach its shape."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


class Loss:
    """Base class of losses; subclasses write ``elementwise`` and ``elementwise_grad``."""

    def __init__(self, reduction: str = "mean", broadcast: bool = False) -> None:
        self.reduction = check_choice(reduction, "reduction", REDUCTIONS)
        self.broadcast = bool(broadcast)
        self.broadcasted = False  # did the last call broadcast? (read by the training doctor)
        self._pred_shape: tuple[int, ...] | None = None

    def elementwise(self, pred: Any, target: Any) -> Any:
        """Loss of each element (shape of ``pred - target``); keep what the derivative needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement elementwise(pred, target)")

    def elementwise_grad(self) -> Any:
        """d elementwise-loss / d pred, same shape as the elementwise loss."""
        raise NotImplementedError(f"{type(self).__name__} must implement elementwise_grad()")

    def _check(self, pred: Any, target: Any) -> tuple[Any, Any]:
        dtype = getattr(pred, "dtype", None)
        if (
            dtype is not None
            and dtype in _FLOATS
            and type(target) is type(pred)
            and target.dtype == dtype
            and target.shape == pred.shape
            and pred.size
        ):
            self.broadcasted = False  # the usual case, settled by a few attribute reads
            return pred, target
        pred = as_float_array(pred, "pred")
        target = as_float_array(target, "target", pred.dtype)
        get_array_module(pred, target)
        if pred.shape == target.shape:
            self.broadcasted = False
        else:
            shape = self._broadcast_shape(pred, target)
            if not self.broadcast:
                raise ShapeError(self._mismatch_message(pred.shape, target.shape, shape))
            warnings.warn(
                f"{type(self).__name__}: pred {tuple(pred.shape)} and target {tuple(target.shape)} are "
                f"broadcast to {shape}, as torch would do silently.",
                BroadcastWarning,
                stacklevel=3,
            )
            self.broadcasted = True
        if pred.size == 0:
            raise ShapeError(f"{type(self).__name__} got an empty batch: pred has shape {tuple(pred.shape)}.")
        return pred, target

    @staticmethod
    def _broadcast_shape(pred: Any, target: Any) -> tuple[int, ...] | None:
        try:
            return tuple(np.broadcast_shapes(pred.shape, target.shape))
        except ValueError:
            return None

    def _mismatch_message(self, pred_shape: tuple, target_shape: tuple, shape: tuple | None) -> str:
        msg = f"{type(self).__name__}: pred has shape {tuple(pred_shape)} but target has shape {tuple(target_shape)}."
        if shape is None:
            return msg + " The shapes must be equal."
        msg += (
            f" torch would silently broadcast them to {shape} and compare every prediction with every "
            "target, so the network learns to predict the mean."
        )
        if len(pred_shape) == 2 and pred_shape[1] == 1 and tuple(target_shape) == (pred_shape[0],):
            msg += " Fix: target.reshape(-1, 1)."
        return msg + " Pass broadcast=True to reproduce torch's behaviour on purpose."

    def __call__(self, pred: Any, target: Any) -> Any:
        """Return the reduced loss: a Python float for "mean"/"sum", an array for "none"."""
        pred, target = self._check(pred, target)
        losses = self.elementwise(pred, target)
        self._pred_shape = pred.shape
        self._count = losses.size
        if self.reduction == "none":
            return losses
        total = float(losses.sum())  # summed in the array's dtype, divided in double precision
        return total / self._count if self.reduction == "mean" else total

    forward = __call__

    def backward(self, grad_output: Any = 1.0) -> Any:
        """d loss / d pred, shape of pred. ``grad_output`` scales it (an array for "none")."""
        if self._pred_shape is None:
            raise CallOrderError(
                f"{type(self).__name__}.backward() called before the loss was computed; "
                "call loss_fn(pred, target) first."
            )
        grad = self.elementwise_grad()
        if getattr(grad_output, "ndim", 0):
            scale = as_float_array(grad_output, "grad_output", grad.dtype)  # float64 must not upcast float32
        else:
            scale = 1.0 if grad_output is None else float(grad_output)  # a Python float keeps grad's dtype
        if self.reduction == "mean":
            scale = scale / self._count
        if not (isinstance(scale, float) and scale == 1.0):
            grad = grad * scale
        if grad.shape != self._pred_shape:
            grad = _sum_to_shape(grad, self._pred_shape)
        return grad

    def kink_state(self) -> Any:
        """Which side of each kink the last call's residuals were on (``None``: smooth)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r}{', broadcast=True' if self.broadcast else ''})"


class MSELoss(Loss):
    """(pred - target)²; derivative 2 (pred - target)."""

    def elementwise(self, pred: Any, target: Any) -> Any:
        self.diff = pred - target
        return self.diff**2

    def elementwise_grad(self) -> Any:
        return 2 * self.diff


class L1Loss(Loss):
    """|pred - target|; derivative sign(pred - target), taken as 0 at 0 (as torch)."""

    def elementwise(self, pred: Any, target: Any) -> Any:
        self.diff = pred - target
        return abs(self.diff)

    def elementwise_grad(self) -> Any:
        return get_array_module(self.diff).sign(self.diff)

    def kink_state(self) -> Any:
        return get_array_module(self.diff).sign(self.diff)


class HuberLoss(Loss):
    """½d² for |d| <= delta, delta(|d| - ½delta) beyond (d = pred - target), as torch.

    Derivative: d inside the band, delta·sign(d) outside it.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0, broadcast: bool = False) -> None:
        super().__init__(reduction, broadcast)
        if not delta > 0:
            raise ConfigError(f"HuberLoss delta must be positive, got {delta!r}.")
        self.delta = float(delta)

    def elementwise(self, pred: Any, target: Any) -> Any:
        xp = get_array_module(pred)
        self.diff = pred - target
        self.inside = abs(self.diff) <= self.delta
        return xp.where(self.inside, 0.5 * self.diff**2, self.delta * (abs(self.diff) - 0.5 * self.delta))

    def elementwise_grad(self) -> Any:
        xp = get_array_module(self.diff)
        return xp.where(self.inside, self.diff, self.delta * xp.sign(self.diff))

    def kink_state(self) -> Any:
        # The second derivative jumps where |d| = delta: that is where a stencil can straddle a kink.
        return self.inside
