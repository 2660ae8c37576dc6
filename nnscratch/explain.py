"""``explain``: one step of backprop written out as a learner draws it, with the engine's own numbers.

Each module describes itself with two class attributes, its forward ``formula`` and its
``grad_formula`` (what its ``backward`` computes from ``g`` = d loss / d output), so a user's
layer explains itself too::

    class Scale(ns.Module):
        formula = "y = a * x"
        grad_formula = "da += (g * x).sum(axis=0);  dx = g * a"

The step is run on copies of nothing: the model's gradients are set aside and put back, so
``explain`` can be called in the middle of training without changing it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .module import Module, grads_aside


def _shape(a: Any) -> str:
    return str(tuple(a.shape)) if hasattr(a, "shape") else type(a).__name__


def _norm(a: Any) -> float:
    return float(np.sqrt((a * a).sum())) if hasattr(a, "shape") else float("nan")


def _leaves(model: Module) -> list[tuple[str, Module]]:
    return [(name or type(m).__name__, m) for name, m in model.named_modules() if not any(m.named_children())]


def explain(model: Module, loss_fn: Any, x: ArrayLike, y: ArrayLike, *, show: bool = True) -> str:
    """Print (``show``) and return one step of backprop of ``model`` and ``loss_fn`` on ``(x, y)``.

    For each module in order: its forward formula with the shapes it saw; then the loss; then
    the backward chain in reverse, each gradient's formula, shape and norm, and which
    parameters' ``.grad`` it adds to (with the norm of what it added).
    """
    leaves = _leaves(model)
    seen_forward: list[tuple[str, Module, Any, Any]] = []
    seen_backward: list[tuple[str, Module, Any, Any]] = []
    names = {id(m): name for name, m in leaves}

    def on_forward(m: Module, inp: Any, out: Any) -> None:
        seen_forward.append((names[id(m)], m, inp, out))

    def on_backward(m: Module, grad_out: Any, grad_in: Any) -> None:
        seen_backward.append((names[id(m)], m, grad_out, grad_in))

    removers = [
        r for _, m in leaves for r in (m.register_forward_hook(on_forward), m.register_backward_hook(on_backward))
    ]
    params = model.parameters()
    try:
        with grads_aside(params):
            pred = model(x)
            loss = loss_fn(pred, y)
            grad_pred = loss_fn.backward()
            model.backward(grad_pred)
            added = {id(p): _norm(p.grad) for p in params}
    finally:
        for remove in removers:
            remove()
    lines = ["forward:"]
    for name, m, inp, out in seen_forward:
        own = [f"{pname} {_shape(p.data)}" for pname, p in m.named_parameters()]
        shapes = ", ".join([f"x {_shape(inp)}", *own]) + f" -> {_shape(out)}"
        lines.append(f"  [{name}] {type(m).__name__:10s} {getattr(m, 'formula', '?'):32s} {shapes}")
    lines.append("loss:")
    lines.append(f"  {type(loss_fn).__name__:15s} {getattr(loss_fn, 'formula', '?'):32s} = {float(np.sum(loss)):.6g}")
    lines.append(
        f"  {'':15s} {getattr(loss_fn, 'grad_formula', '?'):32s} g {_shape(grad_pred)}, |g| = {_norm(grad_pred):.4g}"
    )
    lines.append("backward (g = d loss / d output of each module):")
    for name, m, grad_out, grad_in in seen_backward:
        grads = ", ".join(f"{pname}.grad += |{added[id(p)]:.4g}|" for pname, p in m.named_parameters())
        given = f"g {_shape(grad_out)} |g| = {_norm(grad_out):.4g}"
        back = "no input gradient (input_grad=False)" if grad_in is None else f"dx {_shape(grad_in)}"
        lines.append(f"  [{name}] {type(m).__name__:10s} {getattr(m, 'grad_formula', '?'):50s} {given} -> {back}")
        if grads:
            lines.append(f"  {'':14s} adds to: {grads}")
    text = "\n".join(lines)
    if show:
        print(text)
    return text
