"""Linear layers and the containers that stack them: ``Linear``, ``Sequential``, ``MLP``.

Shapes: N is the batch size, D the input features, H the output features.
The math is NumPy's row-vector convention, ``y = x @ W + b`` with ``W`` of shape (D, H).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from . import init as init_mod
from .activations import ACTIVATIONS, make_activation
from .backend import get_backend, xp_for
from .errors import CallOrderError, ConfigError, ShapeError
from .module import Module, Parameter
from .rng import as_generator
from .validation import as_batch, as_float_array, check_choice


def _float_dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be float32 or float64, got {dtype}.")
    return dtype


def matmul(a: Any, b: Any, transposed: bool | None = None) -> Any:
    """``a @ b`` for (N, K) @ (K, M), as an outer product when K = 1.

    With K = 1 each output element is one product, a[n, 0] * b[0, m], so broadcasting gives
    the same numbers, bit for bit. OpenBLAS's general matrix product pays a large fixed cost
    for that shape: on a 2-core EPYC, (500, 1) @ (1, 10) takes 1.3x as long as the broadcast
    and (1024, 1) @ (1, 256) 2.6x. K = 1 is common: a 1-input first layer (the square-root
    fit), d loss / d x of a 1-output last layer, and dW for a batch of one.

    A broadcast's inner loop runs along the output's last axis, so a tall, narrow product
    (N > M > 1) is faster computed as its transpose, (M, N), and handed back as a transposed
    (column-major) view: ten loops of 500 elements instead of 500 loops of ten, 1.7x faster on
    (500, 1) @ (1, 10) and 6x on (5000, 1) @ (1, 10) on a 2-core Xeon. ``transposed`` forces
    the layout instead: an elementwise product of a row-major and a column-major array costs
    twice that of two alike, so a gradient should be laid out like the array it will meet.
    """
    if a.shape[1] != 1:
        return a @ b
    if transposed is None:
        transposed = a.shape[0] > b.shape[1] > 1
    return (b.T * a.T).T if transposed else a * b


class Linear(Module):
    """Affine map ``y = x @ W + b``.

    W: (in_features, out_features), b: (out_features,).
    ``init`` is an initializer from :mod:`nnscratch.init` (default: torch's), ``rng`` a seed
    or Generator, ``backend`` where the parameters live (default: :func:`get_backend`).
    ``input_grad=False`` is for a first layer whose input is data: no one needs d loss / d x
    then, so backward skips ``grad_out @ W.T`` and returns None, as torch skips inputs that
    do not require grad. In a 64-256-256-1 MLP that product is 7% of a training step.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        init: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
        backend: str | None = None,
        input_grad: bool = True,
    ) -> None:
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"Linear {name} must be a positive integer, got {value!r}.")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.dtype = _float_dtype(dtype)
        xp = xp_for(backend or get_backend())
        W, b = init_mod.get(init)(self.in_features, self.out_features, as_generator(rng))
        self.W = Parameter(xp.asarray(W, dtype=self.dtype))
        self.b = Parameter(xp.asarray(b, dtype=self.dtype)) if bias else None
        self.x: Any = None  # the input, kept because dL/dW = x.T @ dL/dy
        self.input_grad = bool(input_grad)

    def forward(self, x: Any) -> Any:
        """x: (N, D) -> y: (N, H)."""
        x = as_batch(x, "x", self.in_features, self.dtype, self.W.data, self)
        self.x = x
        y = matmul(x, self.W.data)
        if self.b is not None:
            y += self.b.data
        return y

    def backward(self, grad_out: Any) -> Any:
        """grad_out: (N, H) -> grad_in: (N, D), or None with ``input_grad=False``.

        Adds dW = x.T @ grad_out (D, H) and db = Σ_n grad_out (H,) into the parameters' ``.grad``.

        The saved input is released once dW is known, as torch frees what a graph saved:
        it is the largest thing a layer holds, and a step's peak memory is set by how many
        (N, D) arrays are alive at once. So each forward allows one backward.
        """
        if self.x is None:
            raise CallOrderError(
                f"{self!r}.backward() called before forward(), or twice after one forward: each "
                "backward uses up the input its forward saved; run the forward pass first."
            )
        if getattr(grad_out, "shape", None) != (self.x.shape[0], self.out_features):
            raise ShapeError(
                f"{self!r}.backward expects grad_out of shape {(self.x.shape[0], self.out_features)} "
                f"(d loss / d output of the last forward), got {getattr(grad_out, 'shape', type(grad_out).__name__)}."
                " Pass loss_fn.backward(), not the loss value."
            )
        if grad_out.dtype != self.dtype:  # a float64 gradient must not upcast W.grad
            grad_out = as_float_array(grad_out, "grad_out", self.dtype)
        self.W.accumulate(matmul(self.x.T, grad_out, transposed=False))  # laid out like W.grad
        # d loss / d x meets x's layout downstream (the mask of the ReLU before, say): column-major
        # x, as a 1-input layer's transposed outer product leaves it, has strides[0] < strides[1].
        column_major = self.x.strides[0] < self.x.strides[1]
        self.x = None
        if self.b is not None:
            self.b.accumulate(grad_out.sum(axis=0))
        return matmul(grad_out, self.W.data.T, transposed=column_major) if self.input_grad else None

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
            if grad_out is None:
                raise ConfigError(
                    f"{layer!r} got no gradient (None) from the layer after it: only the first layer "
                    "of a Sequential may skip its input gradient (input_grad=False)."
                )
            grad_out = layer.run_backward(grad_out)
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
        sizes: list[int] | tuple[int, ...],
        activation: str = "relu",
        final_activation: str | None = None,
        *,
        init: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
        backend: str | None = None,
        input_grad: bool = True,
    ) -> None:
        sizes = list(sizes)
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
