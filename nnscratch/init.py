"""Weight initializers for :class:`~nnscratch.layers.Linear`.

An initializer is a callable ``init(in_features, out_features, rng) -> (W, b)``
returning float64 NumPy arrays of shapes ``(in_features, out_features)`` and
``(out_features,)``. The layer casts them to its dtype and backend, so the same seed
gives the same starting weights on every backend and dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import ConfigError
from .rng import as_generator

Initializer = Callable[[int, int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def torch_default(in_features: int, out_features: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """What ``torch.nn.Linear`` does: W and b both uniform in ±1/sqrt(in_features).

    (torch calls it kaiming-uniform with a = sqrt(5), whose bound works out to the same.)
    """
    gen = as_generator(rng)
    bound = 1.0 / np.sqrt(in_features)
    W = gen.uniform(-bound, bound, size=(in_features, out_features))
    b = gen.uniform(-bound, bound, size=(out_features,))
    return W, b


def normal(std: float = 0.01, mean: float = 0.0) -> Initializer:
    """W ~ N(mean, std²), zero bias: ``normal(0.01)`` is the classic ``0.01 * randn``."""

    def init(in_features: int, out_features: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        W = mean + std * as_generator(rng).standard_normal((in_features, out_features))
        return W, np.zeros(out_features)

    return init


def uniform(low: float = -0.05, high: float = 0.05) -> Initializer:
    """W ~ U(low, high), zero bias (Keras' ``RandomUniform``)."""
    if not low < high:
        raise ConfigError(f"uniform(low, high) needs low < high, got low={low}, high={high}.")

    def init(in_features: int, out_features: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return as_generator(rng).uniform(low, high, size=(in_features, out_features)), np.zeros(out_features)

    return init


_NAMED: dict[str, Callable[[], Initializer]] = {
    "torch_default": lambda: torch_default,
    "normal": normal,
    "uniform": uniform,
}


def get(init: str | Initializer | None) -> Initializer:
    """Resolve an initializer given by name, as a callable, or ``None`` (torch's default)."""
    if init is None:
        return torch_default
    if callable(init):
        return init
    if isinstance(init, str) and init in _NAMED:
        return _NAMED[init]()
    raise ConfigError(f"init must be a callable or one of {sorted(_NAMED)}; got {init!r}.")
