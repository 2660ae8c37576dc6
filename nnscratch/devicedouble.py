"""A stand-in for CuPy that runs on the CPU, so the GPU code path can be tested without a GPU.

Its arrays hold a NumPy array but behave like ``cupy.ndarray`` where NumPy code usually
breaks on a GPU:

- implicit conversion to NumPy is refused: ``numpy.asarray(a)`` raises ``TypeError`` with
  CuPy's message, as does any NumPy function that CuPy does not implement;
- NumPy functions called on device arrays (``np.tanh(a)``, ``np.where(m, a, 0)``) run only if
  CuPy implements them (:data:`CUPY_FUNCTIONS`), through the same protocols CuPy uses
  (NEP 13 ``__array_ufunc__`` and NEP 18 ``__array_function__``), and return device arrays;
- mixing host and device arrays in arithmetic or in a function raises ``TypeError``, as CuPy does;
- reductions and scalar indexing return 0-d device arrays, not Python numbers: the number
  reaches the host only through ``float()``, ``int()``, ``bool()``, ``.item()``, ``.tolist()``,
  ``.get()`` or a ``repr``;
- every copy between host and device is counted in :data:`transfers`, with the line that
  made it: explicit ones (``.get()``, ``float(a)``, ``asarray(host_array)``) and implicit ones
  CuPy performs silently (a host index array uploaded by ``a[idx]``, the element count a
  boolean mask ``a[mask]`` or ``nonzero`` must read back before it can allocate its result).

The double plays CuPy through a test hook of :mod:`nnscratch.backend`; inside
:func:`activate` the backend name ``"cupy"`` means this module::

    from nnscratch import devicedouble
    with devicedouble.activate():
        net = MLP([1, 10, 1], backend="cupy")         # parameters are device arrays
        x = devicedouble.cupy.asarray(host_x)          # one upload, counted
        with devicedouble.counting() as log:
            loss = loss_fn(net(x), y)                  # the loss: one device -> host transfer
        assert log.to_host == 1, log

It is not a third backend (``available_backends()`` never lists it) and it is not faster
or slower than NumPy in any meaningful way: its only job is to fail where CuPy would.
Random numbers (``cupy.random``) come from NumPy's generators, so they differ from CuPy's.
"""

from __future__ import annotations

import contextlib
import functools
import operator as op
import os
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The NumPy functions CuPy implements: the "Module-Level" rows of CuPy's comparison table
# (https://docs.cupy.dev/en/stable/reference/comparison.html) whose CuPy column is filled, for
# CuPy 13.6 (nnscratch's gpu extra asks for cupy-cuda12x>=13). The table is generated from the
# names ``cupy`` exports (docs/source/_comparison_generator.py in github.com/cupy/cupy); this
# list is those names in cupy/__init__.py at tag v13.6.0 that are NumPy functions, less the
# ones CuPy re-exports from NumPy unchanged (they are listed in NUMPY_REEXPORTS below).
# CuPy 14 adds only Array-API aliases (acos, concat, permute_dims, ...), left out on purpose.
CUPY_FUNCTIONS = _words(
    """
abs absolute add all allclose amax amin angle any append apply_along_axis arange arccos arccosh arcsin arcsinh
arctan arctan2 arctanh argmax argmin argpartition argsort argwhere around array array2string array_equal
array_equiv array_repr array_split array_str asanyarray asarray asarray_chkfinite ascontiguousarray
asfortranarray atleast_1d atleast_2d atleast_3d average bartlett base_repr binary_repr bincount bitwise_and
bitwise_not bitwise_or bitwise_xor blackman broadcast_arrays broadcast_to can_cast cbrt ceil choose clip
column_stack common_type compress concatenate conj conjugate convolve copy copysign copyto corrcoef correlate
cos cosh count_nonzero cov cross cumprod cumsum deg2rad degrees delete diag diag_indices diag_indices_from
diagflat diagonal diff digitize divide divmod dot dsplit dstack ediff1d einsum empty empty_like equal exp exp2
expand_dims expm1 extract eye fabs fill_diagonal fix flatnonzero flip fliplr flipud float_power floor
floor_divide fmax fmin fmod format_float_positional format_float_scientific frexp from_dlpack frombuffer
fromfile fromfunction fromiter fromstring full full_like gcd genfromtxt gradient greater greater_equal hamming
hanning heaviside histogram histogram2d histogramdd hsplit hstack hypot i0 identity imag indices inner interp
intersect1d invert isclose iscomplex iscomplexobj isfinite isfortran isin isinf isnan isneginf isposinf isreal
isrealobj isscalar ix_ kaiser kron lcm ldexp left_shift less less_equal lexsort linspace load loadtxt log log10
log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or logical_xor logspace mask_indices matmul max
maximum may_share_memory mean median meshgrid min min_scalar_type minimum mod modf moveaxis multiply nan_to_num
nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin nanprod nanstd nansum nanvar ndim
negative nextafter nonzero not_equal ones ones_like outer packbits pad partition percentile piecewise place poly
polyadd polyfit polymul polysub polyval positive power prod ptp put putmask quantile rad2deg radians ravel
ravel_multi_index real real_if_close reciprocal remainder repeat require reshape resize result_type right_shift
rint roll rollaxis roots rot90 round row_stack save savetxt savez savez_compressed searchsorted select setdiff1d
setxor1d shape shares_memory show_config sign signbit sin sinc sinh size sort sort_complex split sqrt square
squeeze stack std subtract sum swapaxes take take_along_axis tan tanh tensordot tile trace transpose tri tril
tril_indices tril_indices_from trim_zeros triu triu_indices triu_indices_from true_divide trunc union1d unique
unpackbits unravel_index unwrap vander var vdot vsplit vstack where zeros zeros_like
"""
)

# ``cupy.linalg`` at v13.6.0 (cupy/linalg/__init__.py): the "Linear Algebra" section of the same table.
CUPY_LINALG = _words(
    "cholesky det eigh eigvalsh inv lstsq matrix_power matrix_rank norm pinv qr slogdet solve svd tensorinv tensorsolve"
)

# Names cupy/__init__.py imports from NumPy as they are (``from numpy import finfo``): dtypes and
# host-side helpers. They work on dtypes and shapes, never on device arrays; the comparison table
# marks them "alias of numpy.X", and CuPy's ``__array_function__`` refuses to dispatch them.
NUMPY_REEXPORTS = _words(
    """
bool_ broadcast_shapes byte cdouble complex128 complex64 complexfloating csingle double dtype e euler_gamma finfo
float16 float32 float64 floating generic half iinfo index_exp inexact inf int16 int32 int64 int8 int_ intc integer
intp issubdtype iterable longlong mintypecode nan ndindex newaxis number pi printoptions promote_types s_ short
signedinteger single typename ubyte uint uint16 uint32 uint64 uint8 uintc uintp ulonglong unsignedinteger ushort
"""
)

# ``cupy.ndarray`` methods (cdef class _ndarray_base in cupy/_core/core.pyx at v13.6.0) that need no
# special care here: they run NumPy's method of the same name and return device arrays (``ptp``,
# which NumPy 2 dropped as a method, is left out).
NDARRAY_METHODS = _words(
    "all any argmax argmin argpartition argsort astype choose clip compress conj conjugate cumprod cumsum diagonal "
    "dot flatten max mean min nonzero partition prod put ravel repeat reshape round searchsorted sort squeeze "
    "std sum swapaxes take trace transpose var view"
)

# Functions whose result size depends on the data: CuPy copies a count back to the host to allocate it.
_SYNCING = _words("argwhere compress extract flatnonzero intersect1d nonzero setdiff1d setxor1d union1d unique")
# Functions that take host data and put it on the device (counted as uploads when given host arrays).
_UPLOADS = _words("array asarray asanyarray ascontiguousarray asfortranarray asarray_chkfinite copy")
# Functions that read or write files: the data crosses to or from the host.
_FILES_OUT = _words("save savez savez_compressed savetxt")
_FILES_IN = _words("load loadtxt genfromtxt fromfile frombuffer fromstring fromiter")

_THIS_FILE = os.path.abspath(__file__)
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))


# --- the transfer log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """One copy between host and device: its direction, how it happened, its size and the code line."""

    direction: str  # "to_host" or "to_device"
    how: str  # e.g. "float()", ".get()", "asarray(numpy.ndarray)", "index array", "boolean mask size"
    nbytes: int
    where: str  # "file.py:123 in function" of the first caller outside this module and NumPy

    def __str__(self) -> str:
        arrow = "device -> host" if self.direction == "to_host" else "host -> device"
        return f"{arrow}: {self.how} ({self.nbytes} B) at {self.where}"


@dataclass
class TransferLog:
    """Transfers between host and device, in the order they happened."""

    records: list[Transfer] = field(default_factory=list)

    @property
    def to_host(self) -> int:
        """Device -> host copies (including the element counts CuPy reads back to size a result)."""
        return sum(r.direction == "to_host" for r in self.records)

    @property
    def to_device(self) -> int:
        """Host -> device copies."""
        return sum(r.direction == "to_device" for r in self.records)

    @property
    def total(self) -> int:
        return len(self.records)

    def reset(self) -> None:
        self.records.clear()

    def __str__(self) -> str:
        lines = [f"{self.to_host} device -> host, {self.to_device} host -> device"]
        return "\n".join(lines + [f"  {r}" for r in self.records])


transfers = TransferLog()  # every transfer since the last reset()
_open_logs: list[TransferLog] = []  # the logs of the counting() blocks now running


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if path != _THIS_FILE and not path.startswith(_NUMPY_DIR):
            return f"{os.path.basename(path)}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def _record(direction: str, how: str, nbytes: int) -> None:
    record = Transfer(direction, how, int(nbytes), _caller())
    transfers.records.append(record)
    for log in _open_logs:
        log.records.append(record)


@contextlib.contextmanager
def counting() -> Iterator[TransferLog]:
    """Count the transfers made inside the block (they are also added to :data:`transfers`)."""
    log = TransferLog()
    _open_logs.append(log)
    try:
        yield log
    finally:
        _open_logs.remove(log)


# --- conversion between the two worlds ----------------------------------------------------------------

_SCALARS = (int, float, complex, bool, np.generic)


def _unwrap(value: Any, what: str) -> Any:
    """A device array's NumPy buffer; a host array is refused as CuPy refuses it (TypeError)."""
    if type(value) is ndarray:
        return value._a
    if isinstance(value, np.ndarray):
        raise TypeError(
            f"Unsupported type {type(value)} in {what}: a numpy.ndarray cannot be mixed with device arrays "
            "(CuPy raises this TypeError too); move it first with cupy.asarray(...)."
        )
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, what) for v in value)
    return value


def _wrap(value: Any) -> Any:
    """NumPy results as device arrays (0-d for scalars, as CuPy returns them); tuples element by element."""
    if isinstance(value, np.ndarray):
        return ndarray._from_numpy(value)
    if isinstance(value, np.generic):
        return ndarray._from_numpy(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _upload(value: Any, how: str) -> Any:
    """Host data (array, list, scalar) as a NumPy array about to live on the device; arrays are counted."""
    if type(value) is ndarray:
        return value._a
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"cannot put {type(value).__name__} of objects on the device (dtype object).")
        _record("to_device", how, array.nbytes)
        return array
    return value


def _index(key: Any) -> tuple[Any, bool]:
    """An index for the NumPy buffer, and whether it holds a boolean device mask (CuPy then syncs)."""
    parts = key if isinstance(key, tuple) else (key,)
    out, mask = [], False
    for part in parts:
        if type(part) is ndarray:
            mask = mask or part.dtype == np.bool_
            out.append(part._a)
        elif isinstance(part, (np.ndarray, list)):  # CuPy uploads these silently
            out.append(_upload(part, f"host index {type(part).__name__}"))
            mask = mask or out[-1].dtype == np.bool_
        else:
            out.append(part)
    return (tuple(out) if isinstance(key, tuple) else out[0]), mask


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a NumPy function as a GPU kernel runs: no floating-point warnings (CuPy never issues them)."""
    with np.errstate(all="ignore"):
        return fn(*args, **kwargs)


def _run(fn: Callable[..., Any], name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Call NumPy's ``fn`` on the buffers of device arguments; ``out=`` device arrays are returned as given."""
    out = kwargs.get("out")
    kwargs = {k: _unwrap(v, name) for k, v in kwargs.items()}
    result = _quiet(fn, *_unwrap(args, name), **kwargs)
    if name in _SYNCING:
        _record("to_host", f"{name}() result size", 8)
    if type(out) is ndarray and result is out._a:
        return out
    return _wrap(result)


class _Flags:
    """``cupy.ndarray.flags``: only ``c_contiguous``, ``f_contiguous`` and ``owndata`` (CuPy's Flags)."""

    def __init__(self, a: np.ndarray) -> None:
        self.c_contiguous = bool(a.flags.c_contiguous)
        self.f_contiguous = bool(a.flags.f_contiguous)
        self.owndata = bool(a.flags.owndata)

    def __getitem__(self, name: str) -> bool:
        keys = {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous, "OWNDATA": self.owndata}
        if name not in keys:
            raise KeyError(f"{name} is not defined for cupy.ndarray.flags")
        return keys[name]


class _Device:
    id = 0

    def synchronize(self) -> None:
        """Nothing runs asynchronously here."""


# --- the array ----------------------------------------------------------------------------------------


def _binary(name: str, op: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[[ndarray, Any], Any]:
    """An operator on the NumPy buffers (NumPy's own operator, with its shortcuts such as ``a ** 0.5`` ->
    ``sqrt``), refusing host arrays as CuPy does."""

    def method(self: ndarray, other: Any) -> Any:
        if not (type(other) is ndarray or isinstance(other, (*_SCALARS, np.ndarray))):
            return NotImplemented
        b = _unwrap(other, name)
        return _wrap(_quiet(op, b, self._a) if reflected else _quiet(op, self._a, b))

    return method


def _inplace(name: str, op: Callable[[Any, Any], Any]) -> Callable[[ndarray, Any], Any]:
    def method(self: ndarray, other: Any) -> Any:
        if not (type(other) is ndarray or isinstance(other, (*_SCALARS, np.ndarray))):
            return NotImplemented
        result = _quiet(op, self._a, _unwrap(other, name))
        if result is not self._a:  # NumPy always works in place here; anything else would be a new array
            raise TypeError(f"in-place {name} did not work in place")
        return self

    return method


class ndarray:  # noqa: N801 - CuPy's name
    """A device array (a NumPy buffer that refuses to be used as one without an explicit transfer)."""

    __slots__ = ("_a",)
    __array_priority__ = 100  # as CuPy: NumPy defers binary operators to this type
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, shape: Any, dtype: Any = float, order: str = "C") -> None:
        self._a = np.empty(shape, dtype=dtype, order=order)  # type: ignore[call-overload]

    @classmethod
    def _from_numpy(cls, a: np.ndarray) -> ndarray:
        new = object.__new__(cls)
        new._a = a
        return new

    # NumPy's protocols: only what CuPy implements, and never an implicit copy to NumPy.

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array "
            "explicitly."
        )

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc.__name__ not in CUPY_FUNCTIONS or method not in ("__call__", "outer", "reduce", "accumulate"):
            return NotImplemented
        out = kwargs.get("out")
        if out is not None:
            if len(out) != 1:
                raise ValueError("The 'out' parameter must have exactly one array value")
            kwargs["out"] = out[0]
        for x in (*inputs, *((kwargs["out"],) if out is not None else ())):
            if not (type(x) is ndarray or isinstance(x, (*_SCALARS, np.ndarray))):
                return NotImplemented
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return _run(fn, ufunc.__name__, inputs, kwargs)

    def __array_function__(self, func: Callable[..., Any], types: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        module, name = func.__module__, func.__name__
        known = CUPY_FUNCTIONS if module == "numpy" else CUPY_LINALG if module == "numpy.linalg" else frozenset()
        if name not in known or not all(issubclass(t, ndarray) for t in types):
            return NotImplemented
        return _run(func, name, args, kwargs)

    # Transfers: each one is counted.

    def get(self, stream: Any = None, order: str = "C", out: np.ndarray | None = None) -> np.ndarray:
        """A NumPy copy on the host (one device -> host transfer)."""
        _record("to_host", ".get()", self._a.nbytes)
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order)  # type: ignore[call-overload]

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        """Copy the host array ``arr`` into this array (one host -> device transfer)."""
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self._a.shape:
            raise ValueError("Shape mismatch")
        _record("to_device", ".set()", arr.nbytes)
        self._a[...] = arr

    def item(self, *args: Any) -> Any:
        _record("to_host", ".item()", self._a.itemsize)
        return self._a.item(*args)

    def tolist(self) -> Any:
        _record("to_host", ".tolist()", self._a.nbytes)
        return self._a.tolist()

    def _scalar(self, how: str) -> Any:
        if self._a.size != 1:
            raise TypeError(f"only size-1 arrays can be converted to Python scalars ({how}, shape {self.shape})")
        _record("to_host", how, self._a.itemsize)
        return self._a.reshape(()).item()

    def __float__(self) -> float:
        return float(self._scalar("float()"))

    def __int__(self) -> int:
        return int(self._scalar("int()"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex()"))

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
            )
        return bool(self._scalar("bool()"))

    def __repr__(self) -> str:
        _record("to_host", "repr()", self._a.nbytes)
        return repr(self._a)

    def __str__(self) -> str:
        _record("to_host", "str()", self._a.nbytes)
        return str(self._a)

    def __format__(self, spec: str) -> str:
        _record("to_host", "format()", self._a.nbytes)
        return format(self._a.reshape(()).item() if self._a.ndim == 0 else self._a, spec)

    def __reduce__(self) -> tuple[Any, tuple[np.ndarray]]:
        return _rebuild, (self.get(),)  # pickling goes through the host, as CuPy's does

    # Attributes read on the host without a transfer.

    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @shape.setter
    def shape(self, value: Any) -> None:
        self._a.shape = value

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def strides(self) -> tuple[int, ...]:
        return self._a.strides

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def flags(self) -> _Flags:
        return _Flags(self._a)

    @property
    def device(self) -> _Device:
        return _Device()

    @property
    def base(self) -> ndarray | None:
        return None if self._a.base is None else ndarray._from_numpy(self._a.base)  # type: ignore[arg-type]

    @property
    def T(self) -> ndarray:  # noqa: N802 - NumPy's name
        return ndarray._from_numpy(self._a.T)

    @property
    def real(self) -> ndarray:
        return ndarray._from_numpy(self._a.real)

    @property
    def imag(self) -> ndarray:
        return ndarray._from_numpy(self._a.imag)

    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self) -> Iterator[ndarray]:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    # Methods that stay on the device.

    def copy(self, order: str = "C") -> ndarray:
        return ndarray._from_numpy(self._a.copy(order=order))  # type: ignore[arg-type]

    def __copy__(self) -> ndarray:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> ndarray:
        return self.copy()

    def fill(self, value: Any) -> None:
        self._a.fill(_unwrap(value, "fill"))

    def astype(self, dtype: Any, order: str = "K", casting: Any = None, subok: Any = None, copy: bool = True) -> Any:
        result = self._a.astype(dtype, order=order, copy=copy)  # type: ignore[call-overload]
        return self if result is self._a else ndarray._from_numpy(result)

    def __getattr__(self, name: str) -> Any:
        if name not in NDARRAY_METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name)

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            return _run(method, name, args, kwargs)

        return call

    def __getitem__(self, key: Any) -> Any:
        index, mask = _index(key)
        if mask:
            _record("to_host", "boolean mask size", 8)
        return _wrap(self._a[index])

    def __setitem__(self, key: Any, value: Any) -> None:
        index, _ = _index(key)
        self._a[index] = _upload(value, f"assigned {type(value).__name__}")

    # Operators.

    __add__, __radd__, __iadd__ = _binary("add", op.add), _binary("add", op.add, True), _inplace("add", op.iadd)
    __sub__, __rsub__ = _binary("subtract", op.sub), _binary("subtract", op.sub, True)
    __isub__ = _inplace("subtract", op.isub)
    __mul__, __rmul__ = _binary("multiply", op.mul), _binary("multiply", op.mul, True)
    __imul__ = _inplace("multiply", op.imul)
    __truediv__, __rtruediv__ = _binary("true_divide", op.truediv), _binary("true_divide", op.truediv, True)
    __itruediv__ = _inplace("true_divide", op.itruediv)
    __floordiv__, __rfloordiv__ = _binary("floor_divide", op.floordiv), _binary("floor_divide", op.floordiv, True)
    __mod__, __rmod__ = _binary("remainder", op.mod), _binary("remainder", op.mod, True)
    __pow__, __rpow__, __ipow__ = _binary("power", op.pow), _binary("power", op.pow, True), _inplace("power", op.ipow)
    __matmul__, __rmatmul__ = _binary("matmul", op.matmul), _binary("matmul", op.matmul, True)
    __and__, __rand__, __iand__ = _binary("and", op.and_), _binary("and", op.and_, True), _inplace("and", op.iand)
    __or__, __ror__, __ior__ = _binary("or", op.or_), _binary("or", op.or_, True), _inplace("or", op.ior)
    __xor__, __rxor__ = _binary("xor", op.xor), _binary("xor", op.xor, True)
    __lt__, __le__ = _binary("less", op.lt), _binary("less_equal", op.le)
    __gt__, __ge__ = _binary("greater", op.gt), _binary("greater_equal", op.ge)
    __eq__, __ne__ = _binary("equal", op.eq), _binary("not_equal", op.ne)  # type: ignore[assignment]

    def __neg__(self) -> ndarray:
        return _wrap(_quiet(op.neg, self._a))  # type: ignore[no-any-return]

    def __pos__(self) -> ndarray:
        return self.copy()

    def __abs__(self) -> ndarray:
        return _wrap(_quiet(op.abs, self._a))  # type: ignore[no-any-return]

    def __invert__(self) -> ndarray:
        return _wrap(_quiet(op.invert, self._a))  # type: ignore[no-any-return]


def _rebuild(host: np.ndarray) -> ndarray:
    _record("to_device", "unpickle", host.nbytes)
    return ndarray._from_numpy(host)


# --- the module ---------------------------------------------------------------------------------------


def _function(name: str) -> Callable[..., Any]:
    """``cupy.<name>``: NumPy's function on device buffers; host arrays given to a creation function upload."""
    fn = getattr(np, name)

    if name in _UPLOADS:

        def create(a: Any, *args: Any, **kwargs: Any) -> Any:
            if name in ("asarray", "asanyarray") and type(a) is ndarray and kwargs.get("dtype") in (None, a.dtype):
                return a if not args else _wrap(np.asarray(a._a, *args, **kwargs))
            return _wrap(_quiet(fn, _upload(a, f"{name}({type(a).__name__})"), *_unwrap(args, name), **kwargs))

        return functools.wraps(fn)(create)

    def call(*args: Any, **kwargs: Any) -> Any:
        if name in _FILES_OUT:
            _record("to_host", f"{name}()", sum(a.nbytes for a in (*args, *kwargs.values()) if type(a) is ndarray))
            host = [a._a if type(a) is ndarray else a for a in args]
            return fn(*host, **{k: v._a if type(v) is ndarray else v for k, v in kwargs.items()})
        if name in _FILES_IN:
            result = fn(*args, **kwargs)
            _record("to_device", f"{name}()", getattr(result, "nbytes", 0))
            return _wrap(result)
        return _run(fn, name, args, kwargs)

    return functools.wraps(fn)(call)


class _Generator:
    """``cupy.random.Generator`` on NumPy's generator: device arrays out, NumPy's stream of numbers."""

    def __init__(self, seed: Any = None) -> None:
        self._gen = np.random.default_rng(seed)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._gen, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return _wrap(method(*_unwrap(args, name), **kwargs))

        return call


class _Random(types.ModuleType):
    """``cupy.random``: ``default_rng``, ``Generator`` and the legacy functions (``rand``, ``randn``...)."""

    def __init__(self) -> None:
        super().__init__("cupy.random")
        self._state = np.random.RandomState()
        self.Generator = _Generator

    def default_rng(self, seed: Any = None) -> _Generator:
        return _Generator(seed)

    def seed(self, seed: Any = None) -> None:
        self._state.seed(seed)

    def __getattr__(self, name: str) -> Any:
        legacy = {"rand", "randn", "random", "random_sample", "uniform", "normal", "standard_normal", "randint"}
        if name not in legacy | {"permutation", "shuffle", "choice"}:
            raise AttributeError(f"module 'cupy.random' has no attribute {name!r}")
        method = getattr(self._state, name)
        return lambda *args, **kwargs: _wrap(method(*_unwrap(args, name), **kwargs))


class _Linalg(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name not in CUPY_LINALG:
            raise AttributeError(f"module 'cupy.linalg' has no attribute {name!r}")
        fn = getattr(np.linalg, name)
        return functools.wraps(fn)(lambda *args, **kwargs: _run(fn, name, args, kwargs))


class _Runtime:
    def getDeviceCount(self) -> int:  # noqa: N802 - CUDA's name
        return 1

    def getDeviceProperties(self, device: int) -> dict[str, Any]:  # noqa: N802 - CUDA's name
        return {"name": b"nnscratch device double (NumPy on the CPU)", "totalGlobalMem": 0}

    def runtimeGetVersion(self) -> int:  # noqa: N802 - CUDA's name
        return 0


class _Cuda(types.ModuleType):
    """``cupy.cuda``: a device that is always there and a synchronize that has nothing to wait for."""

    def __init__(self) -> None:
        super().__init__("cupy.cuda")
        self.runtime = _Runtime()

    @staticmethod
    def Device(device: int = 0) -> _Device:  # noqa: N802 - CuPy's name
        return _Device()

    @staticmethod
    def is_available() -> bool:
        return True


class _Cupy(types.ModuleType):
    """The module object that plays ``cupy``: ``cupy.asarray``, ``cupy.zeros_like``, ``cupy.ndarray``..."""

    def __init__(self) -> None:
        super().__init__("cupy", "CuPy's stand-in from nnscratch.devicedouble (NumPy on the CPU).")
        self.ndarray = ndarray
        self.random = _Random()
        self.linalg = _Linalg("cupy.linalg")
        self.cuda = _Cuda()
        self.__version__ = "13.6.0 (nnscratch device double)"

    def __getattr__(self, name: str) -> Any:
        if name in CUPY_FUNCTIONS:
            fn = _function(name)
            setattr(self, name, fn)  # built once
            return fn
        if name in NUMPY_REEXPORTS:
            return getattr(np, name)
        raise AttributeError(f"module 'cupy' has no attribute {name!r} (CuPy does not implement it)")

    @staticmethod
    def asnumpy(a: Any, stream: Any = None, order: str = "C", out: np.ndarray | None = None) -> np.ndarray:
        """The host copy of ``a`` (a transfer when ``a`` is a device array)."""
        if type(a) is ndarray:
            return a.get(order=order, out=out)
        return np.asarray(a, order=order)  # type: ignore[call-overload]

    @staticmethod
    def get_array_module(*args: Any) -> types.ModuleType:
        return cupy if any(type(a) is ndarray for a in args) else np

    @staticmethod
    def is_available() -> bool:
        return True


cupy = _Cupy()


@contextlib.contextmanager
def activate() -> Iterator[types.ModuleType]:
    """Make the backend ``"cupy"`` mean this double inside the block; yields the module that plays ``cupy``.

    Uses the test hook :func:`nnscratch.backend.substitute_cupy`. The default backend is restored
    on exit; :data:`transfers` is left as it is (call ``transfers.reset()`` to start a count).
    """
    from . import backend

    if backend._substitute is cupy:  # already playing CuPy (a whole test run may run that way)
        yield cupy
        return
    with backend.substitute_cupy(cupy):
        yield cupy


def to_device(a: Any) -> ndarray:
    """``cupy.asarray(a)``: host data on the device (counted)."""
    return cupy.asarray(a)  # type: ignore[no-any-return]


__all__ = [
    "CUPY_FUNCTIONS",
    "CUPY_LINALG",
    "NDARRAY_METHODS",
    "NUMPY_REEXPORTS",
    "Transfer",
    "TransferLog",
    "activate",
    "counting",
    "cupy",
    "ndarray",
    "to_device",
    "transfers",
]
