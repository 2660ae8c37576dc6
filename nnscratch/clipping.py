"""Gradient clipping, as torch's ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Both edit every ``.grad`` in place through NumPy's ``out=``, so the edit is not counted as a
backward pass (``Parameter.accumulated``, what the training doctor reads to spot a forgotten
``zero_grad``). A hand-written ``p.grad *= c`` would be: Python assigns the result of ``*=``
back through the ``grad`` setter, which cannot tell it from the ``+=`` of a backward pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .backend import get_array_module
from .errors import ConfigError, NonFiniteError
from .module import Parameter
from .validation import check_flag, check_number


def _parameters(parameters: Parameter | Iterable[Parameter]) -> list[Parameter]:
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise ConfigError(
                f"parameters[{i}] must be an nnscratch Parameter (e.g. from model.parameters()), "
                f"got {type(p).__name__}."
            )
    return params


def clip_grad_norm_(
    parameters: Parameter | Iterable[Parameter],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients by one factor so that their total norm is at most ``max_norm``; return
    the total norm before clipping.

    The total norm is the ``norm_type``-norm of the per-parameter norms (``math.inf``: the
    largest absolute value). As torch, every gradient is multiplied by
    ``min(1, max_norm / (total + 1e-6))``. ``error_if_nonfinite``: raise a ``NonFiniteError``
    when the total norm is NaN or infinite, instead of scaling by it.
    """
    params = _parameters(parameters)
    max_norm = check_number(max_norm, "max_norm", low=0)
    if not (isinstance(norm_type, float) and norm_type == math.inf):  # inf: the largest absolute value
        norm_type = check_number(norm_type, "norm_type", low=0, low_open=True)
    check_flag(error_if_nonfinite, "error_if_nonfinite")
    if not params:
        return 0.0
    xp = get_array_module(params[0].grad)
    if norm_type == math.inf:
        total = max(float(xp.abs(p.grad).max()) if p.grad.size else 0.0 for p in params)
    else:
        norms = xp.asarray([float(xp.linalg.norm(p.grad.ravel(), norm_type)) for p in params])
        total = float(xp.linalg.norm(norms, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise NonFiniteError(
            f"the total norm of the gradients is {total} (order {norm_type}): a gradient holds NaN or infinity, "
            "so clipping cannot scale it; pass error_if_nonfinite=False to scale by it anyway."
        )
    coef = min(1.0, max_norm / (total + 1e-6))
    for p in params:
        xp.multiply(p.grad, coef, out=p.grad)  # in place: an edit, not a backward pass
    return total


def clip_grad_value_(parameters: Parameter | Iterable[Parameter], clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    params = _parameters(parameters)
    clip_value = check_number(clip_value, "clip_value", low=0)
    for p in params:
        get_array_module(p.grad).clip(p.grad, -clip_value, clip_value, out=p.grad)
