"""``Parameter`` and ``Module``: the bookkeeping every layer gets, so that a layer is only its math.

A layer subclasses :class:`Module` and writes two methods::

    class Linear(Module):
        def forward(self, x):             # keep what backward needs
            self.x = x
            return x @ self.W + self.b

        def backward(self, grad_out):     # d loss / d output -> d loss / d input
            self.W.grad += self.x.T @ grad_out
            self.b.grad += grad_out.sum(axis=0)
            return grad_out @ self.W.T

A parameter stands for its array in the math (``x @ self.W`` is ``x @ self.W.data``).
Everything else happens here, once, for every module: ``module(x)`` checks the input and
runs the forward hooks; ``module.backward(grad_out)`` (however it is called: on the root
model, inside a container, by a tool) checks that a forward came first and that
``grad_out`` has the output's shape, then runs the layer's ``backward`` and the backward
hooks. Gradients *add* into ``.grad`` (``+=``) as in torch, so forgetting ``zero_grad()``
between steps does here what it does there: gradients of old batches pile up.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .backend import backend_of, get_array_module, to_backend
from .errors import CallOrderError, ConfigError, ShapeError
from .validation import as_float_array, check_batch, check_same_backend_as

FLOAT_DTYPES = frozenset((np.dtype(np.float32), np.dtype(np.float64)))  # a set: None is not in it


class _Operand:
    """An array in a layer's math: ``x @ W + b``, ``g @ W.T``, ``x * gamma`` compute with ``.data``.

    NumPy and CuPy arrays leave arithmetic operators to the methods below because of
    ``__array_ufunc__ = None`` (NumPy's NEP 13), so a layer reads as the formula. NumPy
    functions (``np.tanh(p.data)``) and in-place updates (``p.data -= lr * p.grad``) take the
    array itself: ``p -= ...`` is an error, because it would only rebind the name ``p``.
    """

    __array_ufunc__ = None
    data: Any

    def __rmatmul__(self, x: NDArray[Any]) -> NDArray[Any]:
        """``x @ W`` for (N, K) @ (K, M): NumPy's product, or for K = 1 the same numbers as a broadcast.

        With K = 1 each output element is one product, ``x[n, 0] * W[0, m]``, so the broadcast
        ``x * W`` gives the same numbers bit for bit, without the general matrix product's fixed
        cost for that shape. K = 1 is common: a 1-input first layer (the square-root fit) and
        d loss / d x of a 1-output last layer (``g @ W.T``). A broadcast loops along the output's
        last axis, so a tall output with short rows (under 32 columns) is computed as its
        transpose, (M, N), and handed back transposed (column-major): a few long loops instead of
        N short ones. The element-wise work and ``sum(axis=0)`` that follow are faster on that
        layout too. Wider outputs stay row-major, the layout the arrays they meet have.
        """
        if getattr(x, "ndim", 0) != 2 or x.shape[1] != 1 or self.data.ndim != 2:  # a list goes to NumPy's @
            return x @ self.data
        return (self.data.T * x.T).T if len(x) > self.data.shape[1] and self.data.shape[1] < 32 else x * self.data

    def __matmul__(self, x: Any) -> Any:
        return self.data @ x

    def __radd__(self, x: Any) -> Any:
        return x + self.data

    def __add__(self, x: Any) -> Any:
        return self.data + x

    def __rsub__(self, x: Any) -> Any:
        return x - self.data

    def __sub__(self, x: Any) -> Any:
        return self.data - x

    def __rmul__(self, x: Any) -> Any:
        return x * self.data

    def __mul__(self, x: Any) -> Any:
        return self.data * x

    def __rtruediv__(self, x: Any) -> Any:
        return x / self.data

    def __truediv__(self, x: Any) -> Any:
        return self.data / x

    def __pow__(self, x: Any) -> Any:
        return self.data**x

    def __neg__(self) -> Any:
        return -self.data

    def __iadd__(self, x: Any) -> Any:
        raise TypeError(f"update a {type(self).__name__} through its array: p.data += ..., not p += ...")

    __isub__ = __imul__ = __itruediv__ = __imatmul__ = __ipow__ = __iadd__

    @property
    def T(self) -> _Transposed:  # noqa: N802 - NumPy's name
        """The transpose, for ``g @ W.T``."""
        return tuple.__new__(_Transposed, (self.data.T,))  # the NamedTuple's own __new__ is a Python call


class _Transposed(_Operand, NamedTuple("_TransposedArray", [("data", Any)])):  # type: ignore[misc]
    """``W.T`` in a layer's math: a read-only view of the transposed array, as a tuple of one."""


class Parameter(_Operand):
    """A trainable array ``data`` and its gradient ``grad`` (same shape, dtype and backend).

    ``accumulated`` counts the backward passes summed into ``grad`` since the last
    ``zero_grad()``: the ``grad`` setter sees each ``p.grad += ...`` (Python assigns the
    result of ``+=`` back), which is how the training doctor spots a forgotten ``zero_grad``.
    Optimizer buffers belong to the optimizer (``optimizer.state[p]``), as in torch.
    In a layer's math a parameter stands for its array: ``x @ W + b``, ``g @ W.T``.
    """

    def __init__(self, data: NDArray[Any]) -> None:
        self.data = data
        self._grad = get_array_module(data).zeros_like(data)
        self.accumulated = 0
        # The optimizers holding this parameter, so that ``to()`` moves their buffers too.
        self._optimizers: weakref.WeakSet[Any] = weakref.WeakSet()

    def _set_grad(self, value: NDArray[Any]) -> None:
        if value is self._grad:  # ``p.grad += g`` added one backward pass in place
            self.accumulated += 1
        else:
            self._replace_grad(value)

    # Reading is ``self._grad`` itself (a C-level getter: it runs at every ``+=``); writing counts the pass.
    grad = property(
        attrgetter("_grad"),
        _set_grad,
        doc="d loss / d data, summed over the backward passes since the last zero_grad().",
    )

    def _replace_grad(self, value: Any) -> None:
        """``p.grad = array``: a gradient of the parameter's shape, in its dtype, counted as one pass."""
        if getattr(value, "shape", None) != self._grad.shape:
            raise ShapeError(
                f"a gradient for a parameter of shape {self.shape} must have that shape, "
                f"got {getattr(value, 'shape', type(value).__name__)}."
            )
        self._grad = as_float_array(value, "grad", self.dtype)
        self.accumulated = 1

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype  # type: ignore[no-any-return]

    @property
    def backend(self) -> str:
        return backend_of(self.data)

    def accumulate(self, grad: NDArray[Any]) -> None:
        """``self.grad += grad``: add one backward pass's gradient (kept for older layer code)."""
        self.grad += grad

    def zero_grad(self) -> None:
        self._grad.fill(0)
        self.accumulated = 0

    def to(self, backend: str) -> Parameter:
        """Move ``data``, ``grad`` and every optimizer buffer of this parameter to ``backend``."""
        self.data = to_backend(self.data, backend)
        self._grad = to_backend(self._grad, backend)
        for optimizer in self._optimizers:
            optimizer.move_state(self, backend)
        return self

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype}, backend={self.backend!r})"


@contextmanager
def grads_aside(params: Sequence[Parameter]) -> Iterator[None]:
    """Inside the block every parameter's ``.grad`` is a fresh zero array (no pass counted);
    the gradients and counts they held come back after it, the same arrays.

    Tools run a side pass in it (the doctor's probe, ``nnscratch.explain``) without touching
    what training has accumulated.
    """
    saved = [(p._grad, p.accumulated) for p in params]
    try:
        for p in params:
            p._grad, p.accumulated = get_array_module(p._grad).zeros_like(p._grad), 0
        yield
    finally:
        for p, (grad, accumulated) in zip(params, saved):
            p._grad, p.accumulated = grad, accumulated


Hook = Callable[[Any, Any, Any], None]


def backward_default(backward: Callable[..., Any]) -> Any:
    """The default of ``backward``'s argument (a loss's ``backward()`` means ``backward(1.0)``), else None."""
    params = list(inspect.signature(backward).parameters.values())[1:2]
    return params[0].default if params and params[0].default is not inspect.Parameter.empty else None


class Module:
    """Base class of layers, activations, losses and containers.

    Subclasses write ``forward(x)`` and ``backward(grad_out) -> grad_in``; parameters and
    sub-modules are found among the instance's attributes in the order they were assigned,
    so ``self.W = Parameter(...)`` is all it takes to register a parameter. A module with an
    ``in_features`` attribute takes (N, in_features) batches of its parameters' dtype.
    """

    # Until a hook is registered these are empty tuples, so a subclass need not call
    # super().__init__() and an unhooked module pays one attribute read.
    formula = "y = forward(x)"  # what forward computes, one line (``nnscratch.explain`` prints it)
    grad_formula = "dx = backward(g)"  # what backward computes from g = d loss / d output
    _forward_hooks: tuple[Hook, ...] = ()
    _backward_hooks: tuple[Hook, ...] = ()
    _out: tuple[tuple[int, ...], Any] | None = None  # shape and dtype of the last forward's output
    # The names of the arrays forward keeps, found at the first call (None before it): backward sets
    # them to None, and ``_out`` too, so each forward allows one backward.
    _kept: tuple[str, ...] | None = None
    # What the input check compares a batch with. A layer with a weight ``W`` (as Linear) takes (N, D)
    # batches of W's array type and dtype, D = W.shape[0]; a layer with ``in_features`` is held to that
    # width. Class defaults, so that a module without them pays one lookup, not a failed getattr.
    W: Parameter | None = None
    in_features: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__:
            cls.backward = cls._checked_backward(cls.__dict__["backward"])  # type: ignore[method-assign]

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out: NDArray[np.floating]) -> NDArray[np.floating] | None:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def __call__(self, x: ArrayLike) -> NDArray[np.floating]:
        # The usual input, settled by a few attribute reads here rather than in a method (a call costs
        # as much as the reads): a float array; for a module with ``W``, an (N, W.shape[0]) batch of W's
        # type and dtype. Anything else, and every input of a module with ``in_features`` but no ``W``,
        # goes through _checked_input, which converts it or says what is wrong with it.
        w = self.W
        if w is None:
            usual = getattr(x, "dtype", None) in FLOAT_DTYPES and self.in_features is None
        else:
            w = w.data
            usual = type(x) is type(w) and x.dtype == w.dtype and x.ndim == 2 and x.shape[1] == len(w) and len(x) > 0  # type: ignore[union-attr,arg-type]
        if not usual or self._kept is None:
            x = self._checked_input(x)
            if self._kept is None:
                return self._first_call(x)
        out = self.forward(x)  # type: ignore[arg-type]  # x is usual: a float array
        self._out = (out.shape, out.dtype)
        for hook in self._forward_hooks:
            hook(self, x, out)
        return out

    def _checked_input(self, x: Any) -> NDArray[np.floating]:
        """``x`` converted to a float array, or a clear error saying what is wrong with it."""
        like = getattr(self.W, "data", None)
        x = as_float_array(x, "x", None if like is None else like.dtype)
        if self.in_features is not None:
            check_batch(x, "x", self.in_features, self)
        if like is not None:
            check_same_backend_as(x, "x", like, self)
        return x

    @staticmethod
    def _checked_backward(backward: Callable[..., Any]) -> Callable[..., Any]:
        """A layer's ``backward`` wrapped in the bookkeeping: check ``grad_out`` against the last forward,
        run ``backward``, release what the forward kept, then run the hooks. One frame per call."""
        default = backward_default(backward)

        @wraps(backward)
        def run(self: Module, grad_out: Any = default) -> Any:
            if type(self).backward is not run:  # super().backward() from a subclass: its wrapper checks
                return backward(self) if grad_out is None else backward(self, grad_out)
            if self._out is None or getattr(grad_out, "shape", None) != self._out[0] or grad_out.dtype != self._out[1]:
                grad_out = self._checked_grad_out(grad_out)
            grad_in = backward(self, grad_out)
            for name in self._kept:  # type: ignore[union-attr]  # _out proves the first call set it
                setattr(self, name, None)
            for hook in self._backward_hooks:
                hook(self, grad_out, grad_in)
            return grad_in

        return run

    def _checked_grad_out(self, grad_out: Any) -> Any:
        """``grad_out`` in the last output's dtype, or the error that says what is wrong."""
        if self._out is None:
            raise CallOrderError(
                f"{self!r}.backward() called before forward(), or twice after one forward: run the forward "
                f"pass (module(x)) first; each forward allows one backward."
            )
        shape, dtype = self._out
        if grad_out is None:
            raise ConfigError(
                f"{self!r} got no gradient (None) from the layer after it: only the first layer of a network "
                "may skip its input gradient (input_grad=False)."
            )
        if getattr(grad_out, "shape", None) != shape:
            raise ShapeError(
                f"{self!r}.backward expects grad_out of shape {tuple(shape)} (d loss / d output of the last "
                f"forward), got {getattr(grad_out, 'shape', type(grad_out).__name__)}. Pass loss_fn.backward(), "
                "not the loss value."
            )
        return as_float_array(grad_out, "grad_out", dtype)  # a float64 gradient must not upcast a float32 network

    def _first_call(self, x: Any) -> Any:
        """The first forward: run it, then note which arrays it kept (:meth:`_kept_arrays`)."""
        known = set(vars(self))
        self._kept = ()
        out = self(x)
        self._kept = ("_out", *self._kept_arrays(known))
        return out

    def _kept_arrays(self, known: set[str]) -> tuple[str, ...]:
        """The arrays the first forward stored on ``self`` (not parameters, not sub-modules).

        Backward releases them, as torch frees the tensors a graph saved: they are the largest
        things a layer holds, and a step's peak memory is set by how many (N, D) arrays are
        alive at once. This is also why each forward allows one backward.
        """
        return tuple(
            name
            for name, value in vars(self).items()
            if name not in known and hasattr(value, "shape") and not isinstance(value, (Parameter, Module))
        )

    def register_forward_hook(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(module, input, output)`` after each forward; returns a remover."""
        self._forward_hooks = (*self._forward_hooks, hook)
        return lambda: setattr(self, "_forward_hooks", tuple(h for h in self._forward_hooks if h is not hook))

    def register_backward_hook(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(module, grad_out, grad_in)`` after each backward; returns a remover."""
        self._backward_hooks = (*self._backward_hooks, hook)
        return lambda: setattr(self, "_backward_hooks", tuple(h for h in self._backward_hooks if h is not hook))

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, with dotted names (``""`` for self)."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` pairs such as ``("0.W", p)``, ``("2.b", p)``."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield (f"{prefix}.{name}" if prefix else name), value
        for name, child in self.named_children():
            yield from child.named_parameters(f"{prefix}.{name}" if prefix else name)

    def parameters(self) -> list[Parameter]:
        """The parameters in ``named_parameters()`` order (a plain recursion: it runs every step)."""
        found = [value for value in vars(self).values() if isinstance(value, Parameter)]
        for _, child in self.named_children():
            found += child.parameters()
        return found

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def to(self, backend: str) -> Module:
        """Move every parameter, its gradient and its optimizers' buffers to ``backend``."""
        for p in self.parameters():
            p.to(backend)
        return self

    def kink_state(self) -> Any:
        """Which side of each non-differentiable point the last forward's inputs were on.

        ``None`` for smooth modules. Gradient checking compares this before and after
        a perturbation to tell a stencil that crossed a kink from a wrong gradient.
        """
        return None

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """``dtype`` as a NumPy float32 or float64 dtype, or a ConfigError."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise ConfigError(f"dtype must be float32 or float64, got {dtype!r}.") from exc
    if resolved not in FLOAT_DTYPES:
        raise ConfigError(f"dtype must be float32 or float64, got {dtype!r} ({resolved.name}).")
    return resolved
