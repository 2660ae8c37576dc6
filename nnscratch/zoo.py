"""A zoo of wrong gradients: the backprop mistakes people actually make, one class each.

Every class here subclasses the correct engine layer or loss and overrides one method
with a classic mistake; its docstring says what the mistake is and how to fix it. The
gradient checker must fail every one of them and name the tensor whose gradient is
wrong (``SPECIMENS[name].wrong_tensor``); the tests make sure it does.

>>> from nnscratch import zoo
>>> print(zoo.check_specimen("bias_not_summed"))      # FAILED, tensor b
>>> print(zoo.check_specimen("bias_not_summed", correct=True))   # passed: plain Linear
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .backend import get_array_module
from .errors import ConfigError
from .gradcheck import GradcheckReport, check_loss, check_module
from .layers import Linear, Sequential
from .losses import HuberLoss, L1Loss, MSELoss
from .module import Module
from .rng import as_generator


class BiasNotSummed(Linear):
    """Mistake: db = mean of grad_out over the batch (or one row of it) instead of the sum.

    y[n] = x[n] @ W + b uses b in every row, so every row's gradient flows into b.
    Right for N = 1 only. Fix: ``db = grad_out.sum(axis=0)``.
    """

    def backward(self, grad_out: Any) -> Any:
        self.W.grad += self.x.T @ grad_out
        if self.b is not None:  # as in Linear: a layer built with bias=False has no b
            self.b.grad += grad_out.mean(axis=0)
        return grad_out @ self.W.T


class WeightGradFromOutput(Linear):
    """Mistake: dW = y.T @ grad_out, built from the layer's output instead of its input.

    (Shapes only line up for a square layer, which is how it slips through.)
    Fix: keep the input in forward and use ``dW = x.T @ grad_out``.
    """

    def forward(self, x: Any) -> Any:
        self.y = super().forward(x)
        return self.y

    def backward(self, grad_out: Any) -> Any:
        self.W.grad += self.y.T @ grad_out
        if self.b is not None:
            self.b.grad += grad_out.sum(axis=0)
        return grad_out @ self.W.T


class TransposedWeightGrad(Linear):
    """Mistake: dW = grad_out.T @ x, the transpose of the right answer (square layers only).

    Fix: the gradient has W's shape (in, out): ``dW = x.T @ grad_out``.
    """

    def backward(self, grad_out: Any) -> Any:
        self.W.grad += grad_out.T @ self.x
        if self.b is not None:
            self.b.grad += grad_out.sum(axis=0)
        return grad_out @ self.W.T


class InputGradWithoutTranspose(Linear):
    """Mistake: dx = grad_out @ W instead of grad_out @ W.T (square layers only).

    Fix: y = x @ W, so dL/dx = dL/dy @ W.T.
    """

    def backward(self, grad_out: Any) -> Any:
        self.W.grad += self.x.T @ grad_out
        if self.b is not None:
            self.b.grad += grad_out.sum(axis=0)
        return grad_out @ self.W


class ReLUMaskFromGradient(ReLU):
    """Mistake: the ReLU mask is taken from the incoming gradient (grad_out > 0), not from x.

    Fix: the derivative of max(x, 0) depends on x: ``grad_out * (x > 0)``.
    """

    def backward(self, grad_out: Any) -> Any:
        return grad_out * (grad_out > 0)


class SigmoidGradFromInput(Sigmoid):
    """Mistake: σ'(x) written as x·(1 - x), with the input where the output belongs.

    Fix: σ'(x) = σ(x)·(1 - σ(x)); keep the output s in forward, use ``grad_out * s * (1 - s)``.
    """

    def forward(self, x: Any) -> Any:
        self.x = x
        return super().forward(x)

    def backward(self, grad_out: Any) -> Any:
        return grad_out * self.x * (1 - self.x)


class TanhWithoutUpstream(Tanh):
    """Mistake: backward returns the local derivative 1 - tanh² without the upstream gradient.

    Fix: the chain rule multiplies: ``grad_out * (1 - out**2)``.
    """

    def backward(self, grad_out: Any) -> Any:
        return 1 - self.out**2


class LeakyReLUWithoutSlope(LeakyReLU):
    """Mistake: LeakyReLU's backward copies ReLU's, so the negative side gets no gradient.

    Fix: the negative side has slope ``negative_slope``: ``grad_out * where(x > 0, 1, slope)``.
    """

    def backward(self, grad_out: Any) -> Any:
        return grad_out * self.mask


class InPlaceReLU(ReLU):
    """Mistake: the mask is applied to grad_out in place (``grad_out *= mask``).

    Harmless in a plain chain, but an array handed to backward may still be needed by
    someone else: in :class:`Residual` the skip connection adds the same grad_out after
    the inner branch ran, and now reads the masked one.
    Fix: return a new array, ``grad_out * mask``, as every engine layer does.
    """

    def backward(self, grad_out: Any) -> Any:
        grad_out *= self.mask
        return grad_out


class Residual(Module):
    """A correct skip connection, y = x + inner(x), so dL/dx = grad_out + inner.backward(grad_out).

    Here to show what :class:`InPlaceReLU` breaks; ``inner`` must keep the shape.
    """

    def __init__(self, inner: Module) -> None:
        self.inner = inner

    def forward(self, x: Any) -> Any:
        return x + self.inner(x)

    def backward(self, grad_out: Any) -> Any:
        return grad_out + self.inner.backward(grad_out)


class MSELossMissingMean(MSELoss):
    """Mistake: a mean-reduced loss whose backward forgets the 1/N of the mean.

    Fix: L = (1/N) Σ (pred - target)², so dL/dpred = 2 (pred - target) / N.
    """

    def backward(self, grad_output: Any = 1.0) -> Any:
        return 2 * self.diff * grad_output


class L1LossWrongSign(L1Loss):
    """Mistake: d|pred - target| / d pred written as sign(target - pred).

    Fix: differentiate with respect to pred: ``sign(pred - target)``.
    """

    def elementwise_grad(self) -> Any:
        return get_array_module(self.diff).sign(-self.diff)


class HuberLossUnclipped(HuberLoss):
    """Mistake: Huber's derivative taken as d everywhere, as if it were ½d² for all residuals.

    Fix: beyond the band the loss is linear: ``where(|d| <= delta, d, delta * sign(d))``.
    """

    def elementwise_grad(self) -> Any:
        return self.diff


@dataclass(frozen=True)
class Specimen:
    """A zoo entry: the wrong class, the tensor the checker must blame, and a valid problem for it.

    ``build(cls, gen)`` returns ("module", module, (x,)) or ("loss", loss, (pred, target))
    for ``cls`` (the wrong class, or the correct engine class it derives from).
    """

    cls: type
    wrong_tensor: str
    build: Callable[[type, np.random.Generator], tuple[str, Any, tuple]]

    @property
    def correct_cls(self) -> type:
        return self.cls.__mro__[1]

    @property
    def doc(self) -> str:
        return self.cls.__doc__ or ""


def _square_linear(cls: type, gen: np.random.Generator) -> tuple[str, Any, tuple]:
    return "module", cls(4, 4, rng=gen), (gen.standard_normal((5, 4)),)


def _activation(cls: type, gen: np.random.Generator) -> tuple[str, Any, tuple]:
    return "module", cls(), (gen.uniform(-3, 3, (5, 4)),)


def _residual(cls: type, gen: np.random.Generator) -> tuple[str, Any, tuple]:
    return "module", Residual(Sequential(Linear(4, 4, rng=gen), cls())), (gen.standard_normal((5, 4)),)


def _loss(cls: type, gen: np.random.Generator) -> tuple[str, Any, tuple]:
    return "loss", cls(), (gen.normal(0, 2, (6, 2)), gen.normal(0, 2, (6, 2)))


SPECIMENS: dict[str, Specimen] = {
    "bias_not_summed": Specimen(BiasNotSummed, "b", _square_linear),
    "weight_grad_from_output": Specimen(WeightGradFromOutput, "W", _square_linear),
    "transposed_weight_grad": Specimen(TransposedWeightGrad, "W", _square_linear),
    "input_grad_without_transpose": Specimen(InputGradWithoutTranspose, "input", _square_linear),
    "relu_mask_from_gradient": Specimen(ReLUMaskFromGradient, "input", _activation),
    "sigmoid_grad_from_input": Specimen(SigmoidGradFromInput, "input", _activation),
    "tanh_without_upstream": Specimen(TanhWithoutUpstream, "input", _activation),
    "leaky_relu_without_slope": Specimen(LeakyReLUWithoutSlope, "input", _activation),
    "in_place_relu": Specimen(InPlaceReLU, "input", _residual),
    "mse_missing_mean": Specimen(MSELossMissingMean, "pred", _loss),
    "l1_wrong_sign": Specimen(L1LossWrongSign, "pred", _loss),
    "huber_unclipped": Specimen(HuberLossUnclipped, "pred", _loss),
}


def names() -> list[str]:
    return list(SPECIMENS)


def check_specimen(name: str, *, correct: bool = False, fast: bool = False, rng: Any = 0) -> GradcheckReport:
    """Gradient-check zoo entry ``name`` (or, with ``correct=True``, the engine class it breaks)."""
    if name not in SPECIMENS:
        raise ConfigError(f"zoo specimen must be one of {', '.join(map(repr, SPECIMENS))}; got {name!r}.")
    specimen = SPECIMENS[name]
    gen = as_generator(rng)
    kind, subject, args = specimen.build(specimen.correct_cls if correct else specimen.cls, gen)
    check = check_module if kind == "module" else check_loss
    return check(subject, *args, fast=fast, rng=gen)
