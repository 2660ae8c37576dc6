"""Input checks that turn bad arguments into errors a person can act on.

These run on every forward pass, so each check reads only attributes (``ndim``,
``shape``, ``dtype``) and never makes a pass over the data.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .backend import backend_of, get_array_module
from .errors import BackendError, ConfigError, DTypeError, NonFiniteError, ShapeError


def as_float_array(x: Any, name: str, dtype: DTypeLike | None = None) -> NDArray[np.floating]:
    """Return ``x`` as an array of floating ``dtype``, or raise a clear error.

    Integer and boolean input is converted (a common, harmless case: ``np.arange``);
    complex, object and string input is refused because a real-valued network cannot
    use it without losing information. ``dtype=None`` keeps float32 and float64 as they
    are and converts anything else to float64.
    """
    if not hasattr(x, "dtype"):
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise DTypeError(f"{name} must be an array of numbers, got {type(x).__name__}: {exc}") from exc
    kind = x.dtype.kind
    if dtype is None:
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
    if kind == "f":
        return x if x.dtype == dtype else x.astype(dtype)
    if kind in "iub":
        return x.astype(dtype)
    raise DTypeError(
        f"{name} must hold real numbers (float, int or bool), got dtype {x.dtype}"
        + (" (complex: take .real or abs() first)" if kind == "c" else "")
        + "."
    )


_ArrayT = TypeVar("_ArrayT", bound=NDArray[Any])


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


def as_batch(x: Any, name: str, features: int, dtype: Any, like: Any, where: object) -> Any:
    """A layer's input check: ``x`` as a (N, features) batch of ``dtype`` on the backend of ``like``.

    The usual case (right type, dtype and shape) costs five attribute reads and returns
    ``x`` itself; anything else goes through :func:`as_float_array`, :func:`check_batch` and
    :func:`check_same_backend_as`, which convert it or say exactly what is wrong.
    """
    if type(x) is type(like) and x.dtype == dtype and x.ndim == 2 and x.shape[1] == features and x.shape[0]:
        return x
    x = as_float_array(x, name, dtype)
    check_batch(x, name, features, where)
    check_same_backend_as(x, name, like, where)
    return x


def check_same_backend(*arrays: Any) -> None:
    """Raise :class:`~nnscratch.errors.BackendError` when NumPy and CuPy arrays are mixed."""
    get_array_module(*arrays)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``choices`` (an unknown reduction or activation name)."""
    if not isinstance(value, str) or value not in choices:  # an array would compare element by element
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r:.80}.")
    return value


def check_positive(value: Any, name: str, integer: bool = False) -> Any:
    """Check that ``value`` is a positive finite number (a learning rate, a batch size)."""
    ok_type = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, ok_type):
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"{name} must be {kind}, got {value!r} ({type(value).__name__}).")
    if not (value > 0 and np.isfinite(value)):
        kind = "a positive integer" if integer else "positive and finite"
        raise ConfigError(f"{name} must be {kind}, got {value!r}.")
    return value


def check_real(value: Any, name: str) -> Any:
    """Check that ``value`` is a finite real number (Python or NumPy scalar, not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a real number, got {value!r} ({type(value).__name__}).")
    if not np.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}.")
    return value


def check_finite(x: _ArrayT, name: str) -> _ArrayT:
    """Refuse NaN and infinity in ``x``, naming the first bad index.

    This reads every element, so it is for data checked once (``fit``'s X and y,
    ``Standardizer.fit``), never for a per-step hot path.
    """
    xp = get_array_module(x)
    bad = ~xp.isfinite(x)
    if bool(bad.any()):
        index = tuple(int(i) for i in xp.argwhere(bad)[0])
        raise NonFiniteError(
            f"{name} holds {int(bad.sum())} non-finite value(s) (NaN or inf); the first is {float(x[index])} at "
            f"index {index}. Drop or impute those samples first."
        )
    return x


def check_same_backend_as(x: Any, name: str, reference: Any, where: object) -> None:
    """Raise a BackendError when ``x`` lives on another backend than ``reference`` (an O(1) type check).

    ``where`` is the layer (or its name): its repr is built only when there is an error to report.
    """
    if type(x) is not type(reference) and backend_of(x) != backend_of(reference):  # same type: same backend
        raise BackendError(
            f"{where} has its parameters on {backend_of(reference)} but {name} is a {backend_of(x)} array; "
            f"move {name} with nnscratch.to_backend({name}, {backend_of(reference)!r}) or the model with "
            f"model.to({backend_of(x)!r})."
        )


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> Any:
    """Check that ``value`` is a finite real number within the bounds; return it as a Python int or float.

    Python and NumPy scalars are accepted alike (``np.float32(0.01)``, ``np.int64(3)``); bool,
    strings, complex numbers, arrays and None are refused. ``low``/``high`` are inclusive
    unless ``low_open``/``high_open``; ``integer`` asks for an integer type.
    """
    ok_type = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
    hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
    bounds = " and ".join(b for b in (lo, hi) if b)
    wanted = ("an integer" if integer else "a finite number") + (f" {bounds}" if bounds else "")
    if high is None and ((low == 0 and low_open) or (integer and low == 1 and not low_open)):
        wanted = "a positive integer" if integer else "a positive finite number"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, ok_type):
        raise ConfigError(f"{name} must be {wanted}, got {value!r} ({type(value).__name__}).")
    try:
        number = int(value) if integer else float(value)
    except OverflowError:  # a Python int beyond float's range
        number = float("inf")
    if not integer and not np.isfinite(number):
        raise ConfigError(f"{name} must be {wanted}, got {value!r}.")
    if low is not None and (number <= low if low_open else number < low):
        raise ConfigError(f"{name} must be {wanted}, got {value!r}.")
    if high is not None and (number >= high if high_open else number > high):
        raise ConfigError(f"{name} must be {wanted}, got {value!r}.")
    return number


def check_flag(value: Any, name: str) -> bool:
    """Check that ``value`` is a bool (Python or NumPy): a string such as ``"no"`` would otherwise count as True."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    return bool(value)
