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
their defaults).

fan_in is ``in_features`` and fan_out ``out_features``. The "he" and "glorot" names are
Keras's, and so are their distributions: the ``*_normal`` ones draw from a normal truncated
at two standard deviations (values beyond are redrawn), with the standard deviation
enlarged so that the *variance* of the weights is exactly the target (2/fan_in for He,
2/(fan_in + fan_out) for Glorot). The ``*_uniform`` ones equal torch's
``kaiming_uniform_`` (nonlinearity="relu") and ``xavier_uniform_``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import ConfigError
from .rng import as_generator

Initializer = Callable[[int, int, np.random.Generator], tuple[np.ndarray, np.ndarray]]
InitPair = tuple[np.ndarray, np.ndarray]

# Standard deviation of N(0, 1) truncated to [-2, 2]; dividing by it restores unit variance.
_TRUNCATED_STD = 0.87962566103423978


def _truncated_normal(gen: np.random.Generator, std: float, shape: tuple[int, int]) -> np.ndarray:
    """N(0, std²) restricted to ±2 std by redrawing the values that fall outside."""
    values = gen.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = gen.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return std * values


def torch_default(in_features: int, out_features: int, rng: Any = None) -> InitPair:
    """What ``torch.nn.Linear`` does: W and b both uniform in ±1/sqrt(in_features).

    (torch calls it kaiming-uniform with a = sqrt(5), whose bound works out to the same.)
    """
    gen = as_generator(rng)
    bound = 1.0 / np.sqrt(in_features)
    W = gen.uniform(-bound, bound, size=(in_features, out_features))
    b = gen.uniform(-bound, bound, size=(out_features,))
    return W, b


def glorot_uniform(in_features: int, out_features: int, rng: Any = None) -> InitPair:
    """W ~ U(±sqrt(6 / (fan_in + fan_out))), so Var W = 2 / (fan_in + fan_out); zero bias."""
    limit = np.sqrt(6.0 / (in_features + out_features))
    return as_generator(rng).uniform(-limit, limit, size=(in_features, out_features)), np.zeros(out_features)


def keras_default(in_features: int, out_features: int, rng: Any = None) -> InitPair:
    """What a Keras ``Dense`` layer does: glorot-uniform weights, zero bias."""
    return glorot_uniform(in_features, out_features, rng)


def glorot_normal(in_features: int, out_features: int, rng: Any = None) -> InitPair:
    """W from a ±2σ truncated normal with Var W = 2 / (fan_in + fan_out); zero bias."""
    std = np.sqrt(2.0 / (in_features + out_features)) / _TRUNCATED_STD
    return _truncated_normal(as_generator(rng), std, (in_features, out_features)), np.zeros(out_features)


def he_uniform(in_features: int, out_features: int, rng: Any = None) -> InitPair:
    """W ~ U(±sqrt(6 / fan_in)), so Var W = 2 / fan_in (keeps ReLU activations' scale); zero bias."""
    limit = np.sqrt(6.0 / in_features)
    return as_generator(rng).uniform(-limit, limit, size=(in_features, out_features)), np.zeros(out_features)


def he_normal(in_features: int, out_features: int, rng: Any = None) -> InitPair:
    """W from a ±2σ truncated normal with Var W = 2 / fan_in; zero bias."""
    std = np.sqrt(2.0 / in_features) / _TRUNCATED_STD
    return _truncated_normal(as_generator(rng), std, (in_features, out_features)), np.zeros(out_features)


def zeros(in_features: int, out_features: int, rng: Any = None) -> InitPair:
    """W = 0 and b = 0: every hidden unit stays identical, the symmetry problem made visible."""
    return np.zeros((in_features, out_features)), np.zeros(out_features)


def normal(std: float = 0.01, mean: float = 0.0) -> Initializer:
    """W ~ N(mean, std²), zero bias: ``normal(0.01)`` is the classic ``0.01 * randn``."""
    if not (std > 0 and np.isfinite(std)):
        raise ConfigError(f"normal(std) needs a positive finite std, got std={std!r}.")

    def init(in_features: int, out_features: int, rng: Any = None) -> InitPair:
        W = mean + std * as_generator(rng).standard_normal((in_features, out_features))
        return W, np.zeros(out_features)

    return init


def uniform(low: float = -0.05, high: float = 0.05) -> Initializer:
    """W ~ U(low, high), zero bias (Keras' ``RandomUniform``)."""
    if not low < high:
        raise ConfigError(f"uniform(low, high) needs low < high, got low={low}, high={high}.")

    def init(in_features: int, out_features: int, rng: Any = None) -> InitPair:
        return as_generator(rng).uniform(low, high, size=(in_features, out_features)), np.zeros(out_features)

    return init


def constant(value: float = 0.0, bias: float = 0.0) -> Initializer:
    """Every weight equal to ``value`` and every bias to ``bias`` (no randomness)."""
    if not (np.isfinite(value) and np.isfinite(bias)):
        raise ConfigError(f"constant(value, bias) needs finite numbers, got value={value!r}, bias={bias!r}.")

    def init(in_features: int, out_features: int, rng: Any = None) -> InitPair:
        return np.full((in_features, out_features), float(value)), np.full(out_features, float(bias))

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
_FACTORIES: dict[str, Callable[[], Initializer]] = {"normal": normal, "uniform": uniform, "constant": constant}
NAMES = tuple(sorted([*_READY, *_FACTORIES]))


def get(init: str | Initializer | None) -> Initializer:
    """Resolve an initializer given by name, as a callable, or ``None`` (torch's default)."""
    if init is None:
        return torch_default
    if isinstance(init, str):
        if init in _READY:
            return _READY[init]
        if init in _FACTORIES:
            return _FACTORIES[init]()
    elif init in _FACTORIES.values():
        raise ConfigError(f"init={init.__name__} is a factory: call it, e.g. init={init.__name__}(...).")
    elif callable(init):
        return init
    raise ConfigError(f"init must be a callable or one of {list(NAMES)}; got {init!r}.")
