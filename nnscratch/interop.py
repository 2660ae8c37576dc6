"""Moving weights between nnscratch and torch, without importing torch.

torch's ``nn.Linear`` computes ``y = x @ weight.T + bias`` with ``weight`` of shape
(out, in); nnscratch computes ``y = x @ W + b`` with ``W`` of shape (in, out). So
``weight = W.T`` and ``bias = b``. Names follow torch's ``nn.Sequential``: the layer's
index, then ``weight`` or ``bias`` (``"0.weight"``, ``"2.bias"``); nested containers
add one index per level (``"1.0.weight"``), exactly as ``named_modules`` names them here.

>>> sd = to_torch_state_dict(net)                                    # NumPy arrays
>>> torch_net.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
>>> from_torch_state_dict(net, torch_net.state_dict())               # tensors or arrays
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .backend import get_array_module, to_numpy
from .errors import ConfigError, NonFiniteError, ShapeError
from .layers import Linear
from .module import Module, Parameter
from .validation import as_float_array


def _torch_names(model: Module) -> Iterator[tuple[str, Parameter, bool]]:
    """Yield ``(torch name, parameter, transposed)`` for every parameter of ``model``."""
    if not isinstance(model, Module):
        raise ConfigError(f"model must be an nnscratch Module, got {model!r:.60} ({type(model).__name__}).")
    for name, module in model.named_modules():
        if isinstance(module, Linear):
            prefix = f"{name}." if name else ""
            yield prefix + "weight", module.W, True
            if module.b is not None:
                yield prefix + "bias", module.b, False
        elif any(isinstance(value, Parameter) for value in vars(module).values()):
            raise ConfigError(
                f"module {name or 'model'!r} ({type(module).__name__}) has parameters that have no "
                "torch counterpart known to nnscratch.interop; only Linear layers are mapped."
            )


def to_torch_state_dict(model: Module) -> dict[str, NDArray[np.floating]]:
    """torch-layout copies of the weights: ``{"0.weight": W.T (out, in), "0.bias": b (out,), ...}``."""
    return {
        key: np.array(to_numpy(p.data).T if transposed else to_numpy(p.data), order="C")  # copies
        for key, p, transposed in _torch_names(model)
    }


def _as_numpy(value: Any, key: str) -> np.ndarray:
    """A torch tensor (duck-typed: ``.detach().cpu().numpy()``), CuPy or NumPy array -> NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    array = to_numpy(as_float_array(value, f"state_dict[{key!r}]", np.float64))
    bad = int((~np.isfinite(array)).sum())
    if bad:  # torch would copy them; a NaN weight only shows up later, as a NaN loss
        raise NonFiniteError(f"state_dict[{key!r}] holds {bad} non-finite value(s) (NaN or inf) out of {array.size}.")
    return array


def from_torch_state_dict(model: Module, state_dict: Mapping[str, ArrayLike]) -> Module:
    """Copy torch-layout weights (tensors or arrays) into ``model``, in place; returns ``model``.

    Every key must match (no missing, no unexpected names), every shape must be torch's and
    every value finite; otherwise nothing is changed and a :class:`~nnscratch.errors.ConfigError`
    (names), :class:`~nnscratch.errors.ShapeError` (shapes) or
    :class:`~nnscratch.errors.NonFiniteError` (NaN, inf) says which entry is wrong. Values are cast
    to each parameter's dtype and moved to its backend, as torch's ``load_state_dict`` copies.
    """
    if not isinstance(state_dict, Mapping):
        raise ConfigError(f"state_dict must be a mapping of names to arrays, got {type(state_dict).__name__}.")
    targets = list(_torch_names(model))
    missing = [key for key, _, _ in targets if key not in state_dict]
    unexpected = sorted(set(state_dict) - {key for key, _, _ in targets})
    if missing or unexpected:
        raise ConfigError(
            f"state_dict names do not match the model: missing {missing}, unexpected {unexpected}. "
            f"The model expects {[key for key, _, _ in targets]}."
        )
    new: list[tuple[Parameter, np.ndarray]] = []
    for key, p, transposed in targets:  # check everything before changing anything
        value = _as_numpy(state_dict[key], key)
        expected = p.shape[::-1] if transposed else p.shape
        if value.shape != expected:
            layout = " (torch stores Linear weights as (out_features, in_features))" if transposed else ""
            raise ShapeError(f"state_dict[{key!r}] has shape {value.shape}, expected {expected}{layout}.")
        new.append((p, value.T if transposed else value))
    for p, value in new:
        p.data[...] = get_array_module(p.data).asarray(value, dtype=p.dtype)  # in place, like torch's copy_
    return model
