"""Input checks that turn bad arguments into errors a person can act on.

These run on every forward pass, so each check reads only attributes (``ndim``,
``shape``, ``dtype``) and never makes a pass over the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import get_array_module
from .errors import ConfigError, DTypeError, ShapeError


def as_float_array(x: Any, name: str, dtype: Any = None) -> Any:
    """Return ``x`` as an array of floating ``dtype``, or raise a clear error.

    ``dtype=None`` keeps float32 and float64 input as it is and makes anything else
    float64. Integer and boolean input is converted (a common, harmless case:
    ``np.arange``); complex, object and string input is refused because a real-valued
    network cannot use it without losing information. An array that already has the
    dtype is returned as it is, not copied.
    """
    if not hasattr(x, "dtype"):
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise DTypeError(f"{name} must be an array of numbers, got {type(x).__name__}: {exc}") from exc
    kind = x.dtype.kind
    if dtype is None:
        dtype = x.dtype if kind == "f" and x.dtype.itemsize in (4, 8) else np.float64
    if kind == "f":
        return x if x.dtype == dtype else x.astype(dtype)
    if kind in "iub":
        return x.astype(dtype)
    raise DTypeError(
        f"{name} must hold real numbers (float, int or bool), got dtype {x.dtype}"
        + (" (complex: take .real or abs() first)" if kind == "c" else "")
        + "."
    )


def check_batch(x: Any, name: str, features: int, where: object) -> None:
    """Check that ``x`` is a non-empty (N, features) batch for layer ``where``.

    ``where`` is the layer itself: its repr is built only when there is an error to report.
    """
    if x.ndim != 2:
        hint = " Reshape it with x.reshape(-1, 1)." if x.ndim == 1 and features == 1 else ""
        raise ShapeError(
            f"{where} expects {name} of shape (N, {features}) (rank 2), got shape {tuple(x.shape)} "
            f"(rank {x.ndim}).{hint}"
        )
    if x.shape[1] != features:
        raise ShapeError(
            f"{where} expects {name} of shape (N, {features}), got shape {tuple(x.shape)}: "
            f"{x.shape[1]} features instead of {features}."
        )
    if x.shape[0] == 0:
        raise ShapeError(f"{where} got an empty batch: {name} has shape {tuple(x.shape)}; N must be at least 1.")


def check_same_backend(*arrays: Any) -> None:
    """Raise :class:`~nnscratch.errors.BackendError` when NumPy and CuPy arrays are mixed."""
    get_array_module(*arrays)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``choices`` (an unknown reduction or activation name)."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_positive(value: Any, name: str, integer: bool = False) -> Any:
    """Check that ``value`` is a positive finite number (a learning rate, a batch size)."""
    ok_type = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"{name} must be {kind}, got {value!r} ({type(value).__name__}).")
    if not (value > 0 and np.isfinite(value)):
        raise ConfigError(f"{name} must be positive and finite, got {value!r}.")
    return value
