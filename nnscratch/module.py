"""Parameters and the Module base class every layer derives from.

A :class:`Module` has a ``forward`` that keeps what its ``backward`` needs, and a
``backward`` that takes d loss / d output and returns d loss / d input while
*adding* d loss / d parameter into each parameter's ``.grad``. Adding rather
than overwriting is what torch does, so forgetting ``zero_grad()`` between steps
here does exactly what it does there: gradients of old batches pile up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .backend import backend_of, get_array_module, to_backend


class Parameter:
    """A trainable array ``data`` with its gradient ``grad`` (same shape, dtype and backend).

    ``state`` holds per-parameter optimizer buffers (Adam's moments, momentum), so
    that moving a module with ``to()`` moves them as well.
    ``accumulated`` counts the backward passes summed into ``grad`` since the last
    ``zero_grad()``; the training doctor reads it to spot a forgotten ``zero_grad``.
    """

    def __init__(self, data: Any) -> None:
        self.data = data
        self.grad = get_array_module(data).zeros_like(data)
        self.state: dict[str, Any] = {}
        self.accumulated = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def backend(self) -> str:
        return backend_of(self.data)

    def accumulate(self, grad: Any) -> None:
        """Add one backward pass's gradient into ``.grad`` (in place, as torch does)."""
        self.grad += grad
        self.accumulated += 1

    def zero_grad(self) -> None:
        self.grad.fill(0)
        self.accumulated = 0

    def to(self, backend: str) -> Parameter:
        self.data = to_backend(self.data, backend)
        self.grad = to_backend(self.grad, backend)
        self.state = {k: to_backend(v, backend) if hasattr(v, "dtype") else v for k, v in self.state.items()}
        return self

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype}, backend={self.backend!r})"


Hook = Callable[["Module", Any, Any], None]


class Module:
    """Base class: subclasses write ``forward(x)`` and ``backward(grad_out) -> grad_in``.

    Parameters and sub-modules are found by looking at the instance's attributes in
    the order they were assigned, so ``self.W = Parameter(...)`` is all it takes to
    register a parameter.
    """

    # Empty tuples until a hook is registered, so subclasses need not call super().__init__()
    # and the hot path pays one attribute lookup when no hook is attached.
    _forward_hooks: tuple[Hook, ...] | list[Hook] = ()
    _backward_hooks: tuple[Hook, ...] | list[Hook] = ()

    def forward(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def __call__(self, x: Any) -> Any:
        out = self.forward(x)
        for hook in self._forward_hooks:
            hook(self, x, out)
        return out

    def run_backward(self, grad_out: Any) -> Any:
        """``backward`` plus the registered backward hooks (what containers call)."""
        grad_in = self.backward(grad_out)
        for hook in self._backward_hooks:
            hook(self, grad_out, grad_in)
        return grad_in

    def register_forward_hook(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(module, input, output)`` after each forward; returns a remover."""
        self._forward_hooks = [*self._forward_hooks, hook]
        return lambda: setattr(self, "_forward_hooks", [h for h in self._forward_hooks if h is not hook])

    def register_backward_hook(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(module, grad_out, grad_in)`` after each backward; returns a remover."""
        self._backward_hooks = [*self._backward_hooks, hook]
        return lambda: setattr(self, "_backward_hooks", [h for h in self._backward_hooks if h is not hook])

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
        """The parameters in ``named_parameters()`` order, without building their names.

        Training loops call this (through ``zero_grad``) every step, so it is a plain
        recursion: the dotted names of ``named_parameters`` would cost more than the step
        of a small network.
        """
        found = [value for value in vars(self).values() if isinstance(value, Parameter)]
        for _, child in self.named_children():
            found += child.parameters()
        return found

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def to(self, backend: str) -> Module:
        """Move every parameter, its gradient and its optimizer state to ``backend``."""
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
