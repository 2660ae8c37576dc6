"""Element-wise activations: each forward keeps the one array its backward needs.

Every activation maps x: (N, ...) -> y of the same shape, and grad_out -> grad_in of that
shape too. Backward never edits ``grad_out`` in place: an earlier layer may still hold it.
NumPy's functions (``np.maximum``, ``np.tanh``...) also work on CuPy arrays: CuPy takes
them over (NumPy's ``__array_ufunc__`` protocol), so the same lines run on a GPU.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError, DomainError
from .module import Module


class ReLU(Module):
    """max(x, 0); its derivative is 1 where x > 0 and 0 elsewhere (also at x = 0, as torch)."""

    formula = "y = max(x, 0)"
    grad_formula = "dx = g * (x > 0)"

    def forward(self, x: Any) -> Any:
        self.mask = x > 0  # where the unit is active
        return np.maximum(x, 0)

    def backward(self, grad_out: Any) -> Any:
        return grad_out * self.mask

    def kink_state(self) -> Any:
        return self.mask


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise (derivative at 0: negative_slope, as torch)."""

    formula = "y = where(x > 0, x, slope * x)"
    grad_formula = "dx = g * where(x > 0, 1, slope)"

    def __init__(self, negative_slope: float = 0.01) -> None:
        if isinstance(negative_slope, (bool, np.bool_)) or not isinstance(negative_slope, (int, float, np.number)):
            raise ConfigError(f"LeakyReLU negative_slope must be a real number, got {negative_slope!r}.")
        if not math.isfinite(negative_slope):
            raise ConfigError(f"LeakyReLU negative_slope must be finite, got {negative_slope!r}.")
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Any:
        self.mask = x > 0
        self.slope = np.where(self.mask, 1.0, self.negative_slope).astype(x.dtype)  # d y / d x
        return x * self.slope

    def backward(self, grad_out: Any) -> Any:
        return grad_out * self.slope

    def kink_state(self) -> Any:
        return self.mask

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """tanh(x); d/dx = 1 - tanh(x)², so the output is all backward needs."""

    formula = "y = tanh(x)"
    grad_formula = "dx = g * (1 - y**2)"

    def forward(self, x: Any) -> Any:
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out: Any) -> Any:
        return grad_out * (1 - self.out**2)


def stable_sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x) computed from e^-|x| <= 1, so it never overflows."""
    e = np.exp(-abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^-x); d/dx = σ(x)(1 - σ(x)), computed from the output."""

    formula = "y = 1 / (1 + exp(-x))"
    grad_formula = "dx = g * y * (1 - y)"

    def forward(self, x: Any) -> Any:
        self.out = stable_sigmoid(x)
        return self.out

    def backward(self, grad_out: Any) -> Any:
        return grad_out * self.out * (1 - self.out)


class Softplus(Module):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|) (stable for large |x|); d/dx = σ(x)."""

    formula = "y = log(1 + exp(x))"
    grad_formula = "dx = g * sigmoid(x)"

    def forward(self, x: Any) -> Any:
        self.x = x
        return np.maximum(x, 0) + np.log1p(np.exp(-abs(x)))

    def backward(self, grad_out: Any) -> Any:
        return grad_out * stable_sigmoid(self.x)


class SiLU(Module):
    """x·σ(x) (also called swish); d/dx = σ(x)(1 + x(1 - σ(x)))."""

    formula = "y = x * sigmoid(x)"
    grad_formula = "dx = g * s * (1 + x * (1 - s)), s = sigmoid(x)"

    def forward(self, x: Any) -> Any:
        self.x = x
        self.sig = stable_sigmoid(x)
        return x * self.sig

    def backward(self, grad_out: Any) -> Any:
        return grad_out * self.sig * (1 + self.x * (1 - self.sig))


class Exp(Module):
    """e^x; d/dx = e^x, so the output is kept. Overflows to inf for x > ~709 (float64)."""

    formula = "y = exp(x)"
    grad_formula = "dx = g * y"

    def forward(self, x: Any) -> Any:
        self.out = np.exp(x)
        return self.out

    def backward(self, grad_out: Any) -> Any:
        return grad_out * self.out


class Log(Module):
    """log(x) for x > 0; d/dx = 1/x. Non-positive input is an error, not a silent NaN."""

    formula = "y = log(x)"
    grad_formula = "dx = g / x"

    def forward(self, x: Any) -> Any:
        if not bool((x > 0).all()):
            raise DomainError(
                f"Log got {int((x <= 0).sum())} non-positive value(s) in x (min {float(x.min())!r}); log is "
                "defined only for x > 0: shift or clip the input, or take log(|x| + eps) upstream."
            )
        self.x = x
        return np.log(x)

    def backward(self, grad_out: Any) -> Any:
        return grad_out / self.x


class Identity(Module):
    """x unchanged; the gradient passes through."""

    formula = "y = x"
    grad_formula = "dx = g"

    def forward(self, x: Any) -> Any:
        return x

    def backward(self, grad_out: Any) -> Any:
        return grad_out


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "softplus": Softplus,
    "silu": SiLU,
    "exp": Exp,
    "log": Log,
    "identity": Identity,
}


def make_activation(name: str) -> Module:
    """Build an activation from its lower-case name (``"relu"``, ``"tanh"``...)."""
    if name not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; got {name!r}.")
    return ACTIVATIONS[name]()
