"""Linear layers and the containers that stack them: ``Linear``, ``Sequential``, ``MLP``.

Shapes: N is the batch size, D the input features, H the output features.
The math is NumPy's row-vector convention, ``y = x @ W + b`` with ``W`` of shape (D, H).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import init as init_mod
from .activations import ACTIVATIONS, make_activation
from .backend import get_backend, xp_for
from .errors import ConfigError
from .module import Module, Parameter, float_dtype
from .rng import SeedLike, as_generator
from .validation import check_choice, check_flag, check_positive


class Linear(Module):
    """Affine map ``y = x @ W + b``, with W: (in_features, out_features) and b: (out_features,).

    ``init`` is an initializer from :mod:`nnscratch.init` (default: torch's), ``rng`` a seed
    or Generator, ``backend`` where the parameters live (default: :func:`get_backend`).
    ``input_grad=False`` is for a first layer whose input is data: no one needs d loss / d x
    then, so backward skips ``grad_out @ W.T`` and returns None, as torch skips inputs that
    do not require grad.
    """

    W: Parameter  # (in_features, out_features)
    formula = "y = x @ W + b"
    grad_formula = "dW += x.T @ g;  db += g.sum(axis=0);  dx = g @ W.T"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        init: str | init_mod.Initializer | None = None,
        rng: SeedLike = None,
        dtype: DTypeLike = np.float64,
        backend: str | None = None,
        input_grad: bool = True,
    ) -> None:
        self.in_features = int(check_positive(in_features, "Linear in_features", integer=True))
        self.out_features = int(check_positive(out_features, "Linear out_features", integer=True))
        self.dtype = float_dtype(dtype)
        xp = xp_for(backend or get_backend())
        W, b = init_mod.get(init)(self.in_features, self.out_features, as_generator(rng))
        self.W = Parameter(xp.asarray(W, dtype=self.dtype))
        self.b = Parameter(xp.asarray(b, dtype=self.dtype)) if check_flag(bias, "Linear bias") else None
        self.input_grad = check_flag(input_grad, "Linear input_grad")

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        """x: (N, D) -> y: (N, H)."""
        self.x = x  # kept: dL/dW = x.T @ dL/dy
        return x @ self.W + self.b if self.b is not None else x @ self.W

    def backward(self, grad_out: NDArray[np.floating]) -> NDArray[np.floating] | None:
        """grad_out: (N, H) -> grad_in: (N, D); adds dW (D, H) and db (H,) into the parameters' ``.grad``."""
        self.W.grad += self.x.T @ grad_out
        if self.b is not None:
            self.b.grad += grad_out.sum(axis=0)
        return grad_out @ self.W.T if self.input_grad else None  # the input may be data: no gradient

    def extra_repr(self) -> str:
        extra = "" if self.input_grad else ", input_grad=False"
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.b is not None}{extra}"


class Sequential(Module):
    """Layers applied in order; ``backward`` walks them in reverse (the chain rule)."""

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ConfigError(f"Sequential layer {i} must be a Module, got {type(layer).__name__}.")
        self.layers = list(layers)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out: Any) -> Any:
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)


class MLP(Sequential):
    """``Linear`` + activation stacks: ``MLP([1, 10, 1])`` is Linear(1,10), ReLU, Linear(10,1).

    ``activation`` follows every hidden layer; ``final_activation`` (default none) the last.
    One generator, made from ``rng``, initialises the layers in order, so the same seed
    always builds the same network. ``input_grad=False`` goes to the first ``Linear``: a
    training loop, which never uses d loss / d input, can skip computing it.
    """

    def __init__(
        self,
        sizes: list[int] | tuple[int, ...] | NDArray[np.integer],
        activation: str = "relu",
        final_activation: str | None = None,
        *,
        init: str | init_mod.Initializer | None = None,
        rng: SeedLike = None,
        dtype: DTypeLike = np.float64,
        backend: str | None = None,
        input_grad: bool = True,
    ) -> None:
        if not isinstance(sizes, (list, tuple, np.ndarray)):
            raise ConfigError(
                f"MLP sizes must be a list of layer widths such as [1, 10, 1], got {type(sizes).__name__} {sizes!r}."
            )
        sizes = list(sizes)  # each size is checked by the Linear layer it builds
        if len(sizes) < 2:
            raise ConfigError(f"MLP sizes needs at least an input and an output size, got {sizes}.")
        check_choice(activation, "activation", tuple(ACTIVATIONS))
        if final_activation is not None:
            check_choice(final_activation, "final_activation", tuple(ACTIVATIONS))
        gen = as_generator(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(
                Linear(n_in, n_out, init=init, rng=gen, dtype=dtype, backend=backend, input_grad=input_grad or i > 0)
            )
            last = i == len(sizes) - 2
            name = final_activation if last else activation
            if name is not None:
                layers.append(make_activation(name))
        super().__init__(*layers)
        self.sizes = sizes
        self.activation, self.final_activation = activation, final_activation  # read by save()
