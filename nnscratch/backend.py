"""Where arrays live: NumPy on the CPU or CuPy on a GPU.

Code in nnscratch never imports CuPy at module level. It asks the arrays it was
given which library they belong to (:func:`get_array_module`), so one code path
serves both. A default backend decides only where *new* arrays (fresh
parameters) are created; set it with :func:`set_backend` or the environment
variable ``NNSCRATCH_BACKEND``.

Test hook: :class:`substitute_cupy` makes another module play CuPy for the length of a
``with`` block (``nnscratch.devicedouble`` is one, which runs on the CPU), so that the CuPy
code path is exercised where no GPU is present. It is not a backend of its own.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType, TracebackType
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import BackendError, ConfigError

BACKENDS = ("numpy", "cupy", "auto")
_INSTALL_HINT = (
    "install it with `pip install 'nnscratch[gpu]'` (CuPy for CUDA 12), or `pip install cupy-cuda13x` for CUDA 13"
)

_default: str | None = None  # resolved lazily so that importing nnscratch never probes CuPy
_substitute: ModuleType | None = None  # the module playing CuPy inside substitute_cupy(), for tests
_substitute_type: type | None = None  # its array type


def _is_cupy_array(array: object) -> TypeGuard[Any]:  # Any: CuPy's types are not visible to a type checker
    return type(array).__module__.split(".")[0] == "cupy" or type(array) is _substitute_type


def _import_cupy() -> ModuleType:
    """Import CuPy and check that a GPU is usable, or say which of the two is missing."""
    if _substitute is not None:
        return _substitute
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as exc:
        raise BackendError(f"backend 'cupy' needs CuPy, which is not installed: {_INSTALL_HINT}.") from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA raises its own error types when no driver is present
        raise BackendError(
            f"CuPy is installed but no GPU is usable ({type(exc).__name__}: {exc}); "
            "check the NVIDIA driver with `nvidia-smi`, or use backend 'numpy'."
        ) from exc
    if count < 1:
        raise BackendError("CuPy is installed but it sees no GPU; use backend 'numpy'.")
    return cupy


def cupy_available() -> bool:
    """True when CuPy is installed *and* a GPU is usable."""
    try:
        _import_cupy()
    except BackendError:
        return False
    return True


def available_backends() -> list[str]:
    """The concrete backends usable on this machine, ``"numpy"`` first."""
    return ["numpy", "cupy"] if cupy_available() else ["numpy"]


def resolve_backend(name: str) -> str:
    """Turn ``"numpy" | "cupy" | "auto"`` into a concrete, usable backend name."""
    if name not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, got {name!r}.")
    if name == "auto":
        return "cupy" if cupy_available() else "numpy"
    if name == "cupy":
        _import_cupy()
    return name


def get_backend() -> str:
    """The backend where new arrays are created (``NNSCRATCH_BACKEND`` or ``"numpy"``)."""
    global _default
    if _default is None:
        _default = resolve_backend(os.environ.get("NNSCRATCH_BACKEND", "numpy").strip().lower())
    return _default


class set_backend:  # noqa: N801 - used like a function, as torch.set_grad_enabled
    """Set the default backend; also usable as a context manager that restores the old one.

    >>> with set_backend("numpy"):
    ...     layer = Linear(1, 10)        # parameters created with NumPy
    """

    def __init__(self, name: str) -> None:
        global _default
        self._previous = _default
        _default = resolve_backend(name)

    def __enter__(self) -> str:
        return get_backend()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _default
        self._previous, _default = None, self._previous


def xp_for(name: str) -> ModuleType:
    """The array module (numpy or cupy) of a backend name."""
    return _import_cupy() if resolve_backend(name) == "cupy" else np


def get_array_module(*arrays: object) -> ModuleType:
    """Return numpy or cupy according to the arrays themselves.

    Non-array arguments (floats, None) are ignored. Mixing NumPy and CuPy arrays
    raises a :class:`BackendError` naming the positions of both kinds.
    """
    for a in arrays:  # the common case, all NumPy, costs one type check per argument
        if type(a) is not np.ndarray and _is_cupy_array(a):
            break
    else:
        return np
    cupy_at = [i for i, a in enumerate(arrays) if _is_cupy_array(a)]
    numpy_at = [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray)]
    if numpy_at:
        raise BackendError(
            f"arrays from two backends were mixed: argument(s) {numpy_at} are numpy.ndarray and "
            f"argument(s) {cupy_at} are cupy.ndarray; move them to one backend first "
            "(nnscratch.to_numpy(a) or module.to('cupy'))."
        )
    return _substitute if _substitute is not None else importlib.import_module("cupy")


def backend_of(array: object) -> str:
    """``"cupy"`` for a CuPy array, ``"numpy"`` for anything else."""
    return "cupy" if _is_cupy_array(array) else "numpy"


def to_numpy(array: ArrayLike) -> NDArray[Any]:
    """Copy a CuPy array to the host; NumPy arrays (and array-likes) pass through."""
    if _is_cupy_array(array):
        return array.get()
    return np.asarray(array)


def to_backend(array: ArrayLike, name: str) -> Any:
    """Move an array to backend ``name`` (a no-op when it is already there).

    Returns a NumPy array for ``"numpy"`` and a CuPy array for ``"cupy"`` (typed ``Any``: CuPy
    arrays are not NumPy arrays, and CuPy's types are not visible to a type checker).
    """
    target = resolve_backend(name)
    if target == backend_of(array):
        return array
    if target == "numpy":
        return to_numpy(array)
    return _import_cupy().asarray(array)


class substitute_cupy:  # noqa: N801 - used like set_backend
    """TEST HOOK: inside ``with substitute_cupy(module):``, ``module`` plays CuPy.

    ``module`` must offer what nnscratch uses of CuPy: an ``ndarray`` type, ``asarray``,
    ``zeros_like`` and the NumPy functions CuPy implements, ``cuda.runtime.getDeviceCount()``.
    While the block runs, backend ``"cupy"`` resolves to ``module`` (``xp_for``, ``set_backend``,
    ``to_backend``, ``Module.to``), its arrays count as CuPy arrays (``backend_of``,
    ``get_array_module``), and ``available_backends()`` lists ``"cupy"``. On exit the previous
    default backend comes back. Blocks do not nest, and no thread should use nnscratch meanwhile.

    ``nnscratch.devicedouble.activate()`` uses it with a CPU double of CuPy::

        with substitute_cupy(devicedouble.cupy):
            net = MLP([1, 10, 1], backend="cupy")   # parameters are devicedouble arrays
    """

    def __init__(self, module: ModuleType) -> None:
        if not isinstance(getattr(module, "ndarray", None), type):
            raise ConfigError(f"substitute_cupy needs a module with an ndarray type, got {module!r:.80}.")
        self.module = module
        self._saved: tuple[Any, ...] | None = None

    def __enter__(self) -> ModuleType:
        global _substitute, _substitute_type, _default
        if _substitute is not None:
            raise ConfigError("substitute_cupy blocks do not nest: one module already plays CuPy.")
        self._saved = (_default,)
        _substitute, _substitute_type = self.module, self.module.ndarray  # type: ignore[attr-defined]
        return self.module

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _substitute, _substitute_type, _default
        _substitute, _substitute_type = None, None
        (_default,) = self._saved or (None,)
