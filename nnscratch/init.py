"""Weight initializers for :class:`~nnscratch.layers.Linear`.

An initializer is a callable ``init(in_features, out_features, rng) -> (W, b)``
returning float64 NumPy arrays of shapes ``(in_features, out_features)`` and
``(out_features,)``. The layer casts them to its dtype and backend, so the same seed
gives the same starting weights on every backend and dtype.

Two kinds live here:

* ready-made initializers, passed as they are: ``Linear(1, 10, init=init.he_normal)``
  (``torch_default``, ``keras_default``, ``he_normal``, ``he_uniform``, ``glorot_normal``,
  ``glorot_uniform``, ``zeros``);
* factories that take the distribution's parameters and return an initializer:
  ``init=init.normal(0.01)``, ``init.uniform(-0.25, 0.25)``, ``init.constant(0.5)``.

``Linear(init="he_normal")`` also accepts the name of any of them (factories by name use
their defaults). :func:`get` returns the initializer wrapped in a check of what it returns,
so a hand-written one that returns W transposed, a bias of the wrong length, complex or
non-finite values is refused with an error saying what it returned and what was needed.

fan_in is ``in_features`` and fan_out ``out_features``. The "he" and "glorot" names are
Keras's, and so are their distributions: the ``*_normal`` ones draw from a normal truncated
at two standard deviations (values beyond are redrawn), with the standard deviation
enlarged so that the *variance* of the weights is exactly the target (2/fan_in for He,
2/(fan_in + fan_out) for Glorot). The ``*_uniform`` ones equal torch's
``kaiming_uniform_`` (nonlinearity="relu") and ``xavier_uniform_``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .backend import get_array_module
from .errors import ConfigError, NonFiniteError, ShapeError
from .rng import SeedLike, as_generator
from .validation import as_float_array, check_number

InitPair = tuple[NDArray[np.floating], NDArray[np.floating]]  # float64, (in, out) and (out,)
# What Linear accepts as ``init``: it calls it with a Generator (and checks the arrays it returns).
Initializer = Callable[[int, int, np.random.Generator], tuple[NDArray[Any], NDArray[Any]]]


class SeededInitializer(Protocol):
    """The initializers defined here: ``rng`` may also be a seed, or None for the global generator."""

    __name__: str
    __qualname__: str

    def __call__(self, in_features: int, out_features: int, rng: SeedLike = None) -> InitPair: ...


# Standard deviation of N(0, 1) truncated to [-2, 2]; dividing by it restores unit variance.
_TRUNCATED_STD = 0.87962566103423978


def _sized(fn: Callable[[int, int, SeedLike], InitPair]) -> SeededInitializer:
    """Check the layer sizes an initializer is called with (positive integers of any integer type)."""

    @functools.wraps(fn)
    def init(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
        in_features = check_number(in_features, "in_features", low=1, integer=True)
        out_features = check_number(out_features, "out_features", low=1, integer=True)
        return fn(in_features, out_features, rng)

    return init


def _truncated_normal(gen: np.random.Generator, std: float, shape: tuple[int, int]) -> np.ndarray:
    """N(0, std²) restricted to ±2 std by redrawing the values that fall outside."""
    values = gen.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = gen.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return std * values


@_sized
def torch_default(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
    """What ``torch.nn.Linear`` does: W and b both uniform in ±1/sqrt(in_features).

    (torch calls it kaiming-uniform with a = sqrt(5), whose bound works out to the same.)
    """
    gen = as_generator(rng)
    bound = 1.0 / np.sqrt(in_features)
    W = gen.uniform(-bound, bound, size=(in_features, out_features))
    b = gen.uniform(-bound, bound, size=(out_features,))
    return W, b


@_sized
def glorot_uniform(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
    """W ~ U(±sqrt(6 / (fan_in + fan_out))), so Var W = 2 / (fan_in + fan_out); zero bias."""
    limit = np.sqrt(6.0 / (in_features + out_features))
    return as_generator(rng).uniform(-limit, limit, size=(in_features, out_features)), np.zeros(out_features)


@_sized
def keras_default(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
    """What a Keras ``Dense`` layer does: glorot-uniform weights, zero bias."""
    return glorot_uniform(in_features, out_features, rng)


@_sized
def glorot_normal(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
    """W from a ±2σ truncated normal with Var W = 2 / (fan_in + fan_out); zero bias."""
    std = np.sqrt(2.0 / (in_features + out_features)) / _TRUNCATED_STD
    return _truncated_normal(as_generator(rng), std, (in_features, out_features)), np.zeros(out_features)


@_sized
def he_uniform(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
    """W ~ U(±sqrt(6 / fan_in)), so Var W = 2 / fan_in (keeps ReLU activations' scale); zero bias."""
    limit = np.sqrt(6.0 / in_features)
    return as_generator(rng).uniform(-limit, limit, size=(in_features, out_features)), np.zeros(out_features)


@_sized
def he_normal(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
    """W from a ±2σ truncated normal with Var W = 2 / fan_in; zero bias."""
    std = np.sqrt(2.0 / in_features) / _TRUNCATED_STD
    return _truncated_normal(as_generator(rng), std, (in_features, out_features)), np.zeros(out_features)


@_sized
def zeros(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
    """W = 0 and b = 0: every hidden unit stays identical, the symmetry problem made visible."""
    return np.zeros((in_features, out_features)), np.zeros(out_features)


def normal(std: float = 0.01, mean: float = 0.0) -> SeededInitializer:
    """W ~ N(mean, std²), zero bias: ``normal(0.01)`` is the classic ``0.01 * randn``."""
    std = check_number(std, "normal(std)", low=0, low_open=True)
    mean = check_number(mean, "normal(mean)")
    if not np.isfinite(abs(mean) + 10 * std):  # draws would overflow float64
        raise ConfigError(f"normal(std, mean) would draw beyond float64's range, got std={std!r}, mean={mean!r}.")

    @_sized
    def init(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
        W = mean + std * as_generator(rng).standard_normal((in_features, out_features))
        return W, np.zeros(out_features)

    init.__name__ = init.__qualname__ = f"normal(std={std!r}, mean={mean!r})"
    return init


def uniform(low: float = -0.05, high: float = 0.05) -> SeededInitializer:
    """W ~ U(low, high), zero bias (Keras' ``RandomUniform``)."""
    low = check_number(low, "uniform(low)")
    high = check_number(high, "uniform(high)")
    if not low < high:
        raise ConfigError(f"uniform(low, high) needs low < high, got low={low!r}, high={high!r}.")
    if not np.isfinite(high - low):
        raise ConfigError(
            f"uniform(low, high) needs high - low within float64's range, got low={low!r}, high={high!r}."
        )

    @_sized
    def init(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
        return as_generator(rng).uniform(low, high, size=(in_features, out_features)), np.zeros(out_features)

    init.__name__ = init.__qualname__ = f"uniform(low={low!r}, high={high!r})"
    return init


def constant(value: float = 0.0, bias: float = 0.0) -> SeededInitializer:
    """Every weight equal to ``value`` and every bias to ``bias`` (no randomness)."""
    value = check_number(value, "constant(value)")
    bias = check_number(bias, "constant(bias)")

    @_sized
    def init(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
        return np.full((in_features, out_features), value), np.full(out_features, bias)

    init.__name__ = init.__qualname__ = f"constant(value={value!r}, bias={bias!r})"
    return init


_READY: dict[str, Initializer] = {
    "torch_default": torch_default,
    "keras_default": keras_default,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "zeros": zeros,
}
_FACTORIES: dict[str, Callable[[], SeededInitializer]] = {"normal": normal, "uniform": uniform, "constant": constant}
NAMES = tuple(sorted([*_READY, *_FACTORIES]))


def _describe(init: Any) -> str:
    return getattr(init, "__qualname__", None) or type(init).__name__


def _check_returned(pair: Any, in_features: int, out_features: int, label: str) -> InitPair:
    """What an initializer returned, checked: real, finite W of (in, out) and b of (out,)."""
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        got = f"an array of shape {tuple(pair.shape)}" if hasattr(pair, "shape") else f"{pair!r:.60}"
        raise ConfigError(f"init {label} must return a pair (W, b) of arrays, got {got} ({type(pair).__name__}).")
    expected = {"W": (in_features, out_features), "b": (out_features,)}
    checked = []
    for name, array in zip(("W", "b"), pair):
        array = as_float_array(array, f"the {name} returned by init {label}", np.float64)
        if tuple(array.shape) != expected[name]:
            meaning = "(in_features, out_features)" if name == "W" else "(out_features,)"
            raise ShapeError(
                f"init {label} returned {name} of shape {tuple(array.shape)}, but Linear({in_features}, "
                f"{out_features}) needs {name} of shape {meaning} = {expected[name]}."
            )
        bad = int((~get_array_module(array).isfinite(array)).sum())
        if bad:
            raise NonFiniteError(
                f"init {label} returned {name} with {bad} non-finite value(s) (NaN or inf) out of {array.size}."
            )
        checked.append(array)
    return checked[0], checked[1]


def get(init: str | Initializer | None) -> SeededInitializer:
    """Resolve an initializer given by name, as a callable, or ``None`` (torch's default).

    The result checks what the initializer returns (see the module's docstring).
    """
    if init is None:
        chosen: Callable[..., Any] = torch_default
    elif isinstance(init, str) and init in _READY:
        chosen = _READY[init]
    elif isinstance(init, str) and init in _FACTORIES:
        chosen = _FACTORIES[init]()
    elif any(init is factory for factory in _FACTORIES.values()):
        name = init.__name__  # type: ignore[union-attr]
        raise ConfigError(f"init={name} is a factory: call it, e.g. init={name}(...).")
    elif callable(init) and not isinstance(init, str):
        chosen = init
    else:
        raise ConfigError(f"init must be a callable or one of {list(NAMES)}; got {init!r:.80}.")
    label = _describe(chosen)

    def checked(in_features: int, out_features: int, rng: SeedLike = None) -> InitPair:
        return _check_returned(chosen(in_features, out_features, rng), in_features, out_features, label)

    checked.__name__ = checked.__qualname__ = label
    checked.__wrapped__ = chosen  # type: ignore[attr-defined]
    return checked
