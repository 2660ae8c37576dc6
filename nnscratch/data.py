"""Data utilities: standardise features, cut a data set into minibatches, split off a test set.

Shapes: N samples on the first axis; X is (N, D) and y is (N, K) (or (N,)).
Randomness (shuffling, splitting) takes a seed or a ``numpy.random.Generator``, so the
same seed gives the same batches. Arrays may be NumPy or CuPy; the random indices are
drawn with NumPy on the CPU either way, so both backends see the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .backend import get_array_module
from .errors import CallOrderError, ConfigError, NonFiniteError, ShapeError
from .rng import SeedLike, as_generator
from .validation import as_float_array, check_finite, check_flag, check_number, check_positive


def check_pair(X: NDArray[Any], y: NDArray[Any], names: tuple[str, str] = ("X", "y")) -> int:
    """Check that X and y are arrays with the same, non-zero number of samples; return it.

    ``names`` are the argument names the messages use (``fit`` checks its validation data too).
    """
    x_name, y_name = names
    for name, a in zip(names, (X, y)):
        if getattr(a, "ndim", 0) < 1:
            raise ShapeError(
                f"{name} must be an array with samples on the first axis, got {type(a).__name__} "
                f"of shape {getattr(a, 'shape', None)}."
            )
    if len(X) != len(y):
        raise ShapeError(
            f"{x_name} and {y_name} must have the same number of samples: {x_name} has {len(X)} "
            f"(shape {tuple(X.shape)}), {y_name} has {len(y)} (shape {tuple(y.shape)})."
        )
    if len(X) == 0:
        raise ShapeError(f"{x_name} and {y_name} are empty (shape {tuple(X.shape)}); there is nothing to batch.")
    return len(X)


def _take(a: Any, index: Any) -> Any:
    """Rows ``index`` of ``a``; an index array is moved to ``a``'s backend first (if it is not there)."""
    if isinstance(index, slice):
        return a[index]
    return a[get_array_module(a).asarray(index)]


class Standardizer:
    """Per-feature standardisation: ``transform(x) = (x - mean) / std``, with mean and std from ``fit``.

    std is the population standard deviation (ddof = 0). A constant feature has std 0
    (or only the rounding noise of its mean); it is divided by 1 instead, so it becomes 0
    rather than NaN or noise (as scikit-learn does).
    ``inverse_transform`` undoes it: ``x = z * std + mean``, e.g. to turn predictions made
    in standardised units back into the targets' units.
    """

    def __init__(self) -> None:
        self.mean_: Any = None
        self.scale_: Any = None

    def fit(self, x: ArrayLike) -> Standardizer:
        """Learn mean and std of each column of ``x`` (N, D) or of ``x`` (N,)."""
        x = as_float_array(x, "x", np.float64)
        if x.ndim not in (1, 2) or x.shape[0] == 0:
            raise ShapeError(f"Standardizer.fit expects x of shape (N,) or (N, D) with N >= 1, got {tuple(x.shape)}.")
        xp = get_array_module(check_finite(x, "x"))
        high, low = x.max(axis=0), x.min(axis=0)
        with np.errstate(over="ignore"):
            spread = high - low
        wide = ~xp.isfinite(spread)
        if bool(wide.any()):
            j = int(xp.flatnonzero(wide)[0])
            where = "x" if x.ndim == 1 else f"column {j} of x"
            raise NonFiniteError(
                f"Standardizer.fit: the spread of {where}, max - min = {float(high.reshape(-1)[j])!r} - "
                f"({float(low.reshape(-1)[j])!r}), is beyond float64's range, so (x - mean) / std cannot be "
                "computed; rescale x first (divide it by a large power of ten)."
            )
        # Mean and std of x / 2^k, scaled back: the same numbers as x.mean() and x.std() bit for bit
        # (a power of two scales exactly), but squares of values near 1e308 no longer overflow.
        _, k = xp.frexp(xp.abs(x).max(axis=0))
        scaled = xp.ldexp(x, -k)
        self.mean_ = xp.ldexp(scaled.mean(axis=0), k)
        std = xp.ldexp(scaled.std(axis=0), k)
        # The mean of N equal values is off by up to ~N rounding errors, so a constant
        # feature can show a std of 1e-16 that division would blow up to ±1: count it as 0.
        constant = std <= len(x) * np.finfo(np.float64).eps * abs(self.mean_)
        self.scale_ = xp.where(constant | (std == 0), 1.0, std)
        return self

    def _check(self, x: ArrayLike, where: str) -> NDArray[np.floating]:
        if self.mean_ is None:
            raise CallOrderError(f"Standardizer.{where} called before fit(); call fit(x) first.")
        own = getattr(x, "dtype", None)
        x = as_float_array(x, "x", own if own in (np.float32, np.float64) else np.float64)
        if x.shape[1:] != self.mean_.shape:
            raise ShapeError(
                f"Standardizer was fitted on samples of shape {tuple(self.mean_.shape)}, "
                f"{where} got x of shape {tuple(x.shape)} (samples of shape {tuple(x.shape[1:])})."
            )
        return x

    def transform(self, x: ArrayLike) -> NDArray[np.floating]:
        """(x - mean) / std, in x's dtype."""
        x = self._check(x, "transform")
        return ((x - self.mean_) / self.scale_).astype(x.dtype, copy=False)

    def inverse_transform(self, z: ArrayLike) -> NDArray[np.floating]:
        """z * std + mean: back to the original units."""
        z = self._check(z, "inverse_transform")
        return (z * self.scale_ + self.mean_).astype(z.dtype, copy=False)

    def fit_transform(self, x: ArrayLike) -> NDArray[np.floating]:
        return self.fit(x).transform(x)

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean_ is None else f"features={self.mean_.size}"
        return f"Standardizer({fitted})"


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """How many batches :func:`minibatches` yields for ``n`` samples."""
    n = check_number(n, "n", low=0, integer=True)
    batch_size = check_number(batch_size, "batch_size", low=1, integer=True)
    drop_last = check_flag(drop_last, "drop_last")
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def minibatches(
    X: NDArray[Any],
    y: NDArray[Any],
    batch_size: int,
    shuffle: bool = True,
    rng: SeedLike = None,
    drop_last: bool = False,
) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (one epoch).

    With ``shuffle`` the order is a fresh permutation drawn from ``rng`` at each call
    (rows are copied); without it the batches are consecutive views. The last batch is
    smaller when ``batch_size`` does not divide N, unless ``drop_last`` drops it, as
    torch's ``DataLoader`` does.
    """
    check_positive(batch_size, "batch_size", integer=True)
    shuffle, drop_last = check_flag(shuffle, "shuffle"), check_flag(drop_last, "drop_last")
    n = check_pair(X, y)
    order = as_generator(rng).permutation(n) if shuffle else None
    if order is not None and type(X) is not np.ndarray:
        # One upload of the epoch's order, not one per batch: each batch then slices it where X lives.
        order = get_array_module(X).asarray(order)
    for start in range(0, num_batches(n, batch_size, drop_last) * batch_size, batch_size):
        stop = min(start + batch_size, n)
        index = slice(start, stop) if order is None else order[start:stop]
        yield _take(X, index), _take(y, index)


def train_test_split(
    X: NDArray[Any], y: NDArray[Any], test_size: float | int = 0.25, rng: SeedLike = None, shuffle: bool = True
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Split into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction in (0, 1) (the test set gets ceil(fraction · N) samples)
    or a number of samples in [1, N - 1]. Rows are shuffled first unless ``shuffle=False``,
    in which case the last rows form the test set.
    """
    n = check_pair(X, y)
    shuffle = check_flag(shuffle, "shuffle")
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)) and 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    else:
        raise ConfigError(f"test_size must be a fraction in (0, 1) or a sample count, got {test_size!r}.")
    if not 1 <= n_test <= n - 1:
        raise ConfigError(
            f"test_size={test_size!r} leaves {n_test} test and {n - n_test} training samples out of "
            f"{n}; both sets need at least one."
        )
    order = as_generator(rng).permutation(n) if shuffle else np.arange(n)
    train, test = order[: n - n_test], order[n - n_test :]
    return _take(X, train), _take(X, test), _take(y, train), _take(y, test)
