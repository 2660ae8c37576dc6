"""Losses: ``loss_fn(pred, target)`` returns the loss, ``loss_fn.backward()`` d loss / d pred.

A loss is a module whose forward takes two arrays. Write one as torch does, overriding
``forward(pred, target)`` and ``backward(grad_output=1.0)``; or, as the built-in losses
do, write ``elementwise(pred, target)`` (one loss value per element, keeping what the
derivative needs) and ``elementwise_grad()`` (that derivative), and the base class
:class:`Loss` applies the reduction (``"mean"``, ``"sum"`` or ``"none"``) and scales the
gradient to match (see ``examples/custom_loss.py``).

Shapes must match exactly. torch silently broadcasts ``pred`` of shape (N, 1)
against ``target`` of shape (N,) into an (N, N) comparison of every prediction with
every target, which trains a network to predict the mean; nnscratch refuses, unless
the loss is built with ``broadcast=True`` to reproduce that behaviour on purpose.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .backend import get_array_module
from .errors import BroadcastWarning, CallOrderError, DTypeError, ShapeError
from .module import FLOAT_DTYPES, Module, backward_default
from .validation import as_float_array, check_choice, check_flag, check_positive

REDUCTIONS = ("mean", "sum", "none")


def _sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Undo broadcasting: sum ``grad`` over the axes that were stretched to reach its shape."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


class Loss(Module):
    """Base class of losses: ``loss_fn(pred, target)`` is the loss, ``loss_fn.backward()`` d loss / d pred.

    Write a loss either as torch does, overriding ``forward(pred, target)`` (return the loss)
    and ``backward(grad_output=1.0)`` (return d loss / d pred), or, to get the reductions for
    free, as the built-in losses do: ``elementwise(pred, target)`` and ``elementwise_grad()``.
    Calling the loss checks the arguments and runs the forward hooks (``hook(loss, (pred,
    target, *args), value)``); ``backward`` checks the call order and the result's shape and
    runs the backward hooks (``hook(loss, grad_output, grad_pred)``), as for any module.
    """

    def __init__(self, reduction: str = "mean", broadcast: bool = False) -> None:
        self.reduction = check_choice(reduction, "reduction", REDUCTIONS)
        self.broadcast = check_flag(broadcast, "broadcast")
        self.broadcasted = False  # did the last call broadcast? (read by the training doctor)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__ and "backward" not in cls.__dict__ and "elementwise_grad" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} overrides forward() but not backward(): write both (torch's protocol).")

    def __call__(self, pred: ArrayLike, target: ArrayLike, *args: Any) -> Any:  # type: ignore[override]
        """The loss: a Python float for "mean" and "sum", an array for "none" (hence ``Any``)."""
        pred, target = (pred, target) if self._is_usual_pair(pred, target) else self._check(pred, target)
        value = self.forward(pred, target, *args) if args else self.forward(pred, target)  # a plain call is cheaper
        self._out = (pred.shape, pred.dtype)  # what backward must return
        for hook in self._forward_hooks:
            hook(self, (pred, target, *args), value)
        return value

    def forward(self, pred: Any, target: Any) -> Any:  # type: ignore[override]
        """pred, target: (N, ...) -> the mean or sum of ``elementwise(pred, target)`` (or all of it)."""
        losses = self.elementwise(pred, target)
        self.divisor = losses.size if self.reduction == "mean" else 1  # the mean divides by the count
        # Summed in float64: a float32 loss whose sum overflows float32 is still finite.
        return losses if self.reduction == "none" else float(losses.sum(dtype=np.float64)) / self.divisor

    def backward(self, grad_output: float | NDArray[np.floating] = 1.0) -> NDArray[np.floating]:
        """-> d loss / d pred, pred's shape; ``grad_output`` scales it (an array for "none")."""
        return self.elementwise_grad() * (grad_output / self.divisor)

    def elementwise(self, pred: Any, target: Any) -> Any:
        """Loss of each element (shape of ``pred - target``); keep what the derivative needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement elementwise(pred, target) or forward()")

    def elementwise_grad(self) -> Any:
        """d elementwise-loss / d pred, same shape as the elementwise loss."""
        raise NotImplementedError(f"{type(self).__name__} must implement elementwise_grad() or backward()")

    @staticmethod
    def _checked_backward(backward: Callable[..., Any]) -> Callable[..., Any]:
        """A loss's ``backward`` wrapped in the bookkeeping: check the call order and ``grad_output``,
        run ``backward``, check its result, then run the hooks. One frame per call."""
        default = backward_default(backward)

        @wraps(backward)
        def run(self: Loss, grad_output: Any = default) -> Any:
            if type(self).backward is not run:  # super().backward() from a subclass: its wrapper checks
                return backward(self) if grad_output is None else backward(self, grad_output)
            if self._out is None or type(grad_output) is not float:
                grad_output = self._checked_grad_output(grad_output)
            grad = backward(self, grad_output)
            # mypy cannot see it, but _out is set here: _checked_grad_output raised if it was None.
            if getattr(grad, "shape", None) != self._out[0] or grad.dtype != self._out[1]:  # type: ignore[index]
                grad = self._checked_grad(grad)
            self._out = None
            for hook in self._backward_hooks:
                hook(self, grad_output, grad)
            return grad

        return run

    def _checked_grad_output(self, grad_output: Any) -> Any:
        if self._out is None:
            raise CallOrderError(
                f"{type(self).__name__}.backward() called before the loss was computed (or twice after one "
                "call); call loss_fn(pred, target) first."
            )
        if grad_output is None:
            return 1.0
        if getattr(grad_output, "ndim", 0):
            if not self.broadcasted and grad_output.shape != self._out[0]:
                raise ShapeError(
                    f"{type(self).__name__}.backward: grad_output has shape {tuple(grad_output.shape)}, the loss "
                    f"per element has shape {tuple(self._out[0])}."
                )
            return as_float_array(grad_output, "grad_output", self._out[1])  # float64 must not upcast float32
        if isinstance(grad_output, (bool, np.bool_)) or not isinstance(grad_output, (int, float, np.number)):
            raise DTypeError(f"grad_output must be a real number, got {grad_output!r} ({type(grad_output).__name__}).")
        if isinstance(grad_output, np.complexfloating):
            raise DTypeError(f"grad_output must be a real number, got {grad_output!r} (complex).")
        return float(grad_output)  # a NumPy float64 scalar would upcast a float32 gradient

    def _checked_grad(self, grad: Any) -> Any:
        """The loss gradient summed back to pred's shape (after a broadcast) in pred's dtype, or an error."""
        shape, dtype = self._out  # type: ignore[misc]
        if getattr(grad, "shape", None) != shape and self.broadcasted:
            grad = _sum_to_shape(grad, shape)
        if getattr(grad, "shape", None) != shape:
            raise ShapeError(
                f"{type(self).__name__}.backward must return d loss / d pred of pred's shape {tuple(shape)}, "
                f"got {getattr(grad, 'shape', type(grad).__name__)}."
            )
        return as_float_array(grad, "the loss gradient", dtype)

    @staticmethod
    def _is_usual_pair(pred: Any, target: Any) -> TypeGuard[NDArray[np.floating]]:
        """Two non-empty float arrays of one type, dtype and shape: settled by a few attribute reads."""
        same = getattr(pred, "dtype", None) in FLOAT_DTYPES and type(target) is type(pred)
        return same and target.dtype == pred.dtype and pred.shape == target.shape and pred.size > 0

    def _check(self, pred: Any, target: Any) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
        """``pred`` and ``target`` converted to float arrays, or a clear error (a broadcast only on request)."""
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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r}{', broadcast=True' if self.broadcast else ''})"


class MSELoss(Loss):
    """(pred - target)²; derivative 2 (pred - target)."""

    formula = "L = mean((pred - y)**2)"
    grad_formula = "g = 2 * (pred - y) / N"

    def elementwise(self, pred: Any, target: Any) -> Any:
        self.diff = pred - target
        return self.diff**2

    def elementwise_grad(self) -> Any:
        return 2 * self.diff


class L1Loss(Loss):
    """|pred - target|; derivative sign(pred - target), taken as 0 at 0 (as torch)."""

    formula = "L = mean(|pred - y|)"
    grad_formula = "g = sign(pred - y) / N"

    def elementwise(self, pred: Any, target: Any) -> Any:
        self.diff = pred - target
        return abs(self.diff)

    def elementwise_grad(self) -> Any:
        return np.sign(self.diff)

    def kink_state(self) -> Any:
        return np.sign(self.diff)


class HuberLoss(Loss):
    """½d² for |d| <= delta, delta(|d| - ½delta) beyond (d = pred - target), as torch.

    Derivative: d inside the band, delta·sign(d) outside it.
    """

    formula = "L = mean(huber(pred - y, delta))"
    grad_formula = "g = clip(pred - y, -delta, delta) / N"

    def __init__(self, reduction: str = "mean", delta: float = 1.0, broadcast: bool = False) -> None:
        super().__init__(reduction, broadcast)
        self.delta = float(check_positive(delta, "HuberLoss delta"))

    def elementwise(self, pred: Any, target: Any) -> Any:
        self.diff = pred - target
        self.inside = abs(self.diff) <= self.delta
        return np.where(self.inside, 0.5 * self.diff**2, self.delta * (abs(self.diff) - 0.5 * self.delta))

    def elementwise_grad(self) -> Any:
        return np.where(self.inside, self.diff, self.delta * np.sign(self.diff))

    def kink_state(self) -> Any:
        # The second derivative jumps where |d| = delta: that is where a stencil can straddle a kink.
        return self.inside
