"""Random number generators: every random choice in nnscratch goes through here.

Pass a seed or a ``numpy.random.Generator`` wherever an ``rng`` is accepted. With
``rng=None`` nnscratch draws from its own global generator, which starts from seed 0
and is reset by :func:`manual_seed`, so an unseeded script is still reproducible.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from .errors import ConfigError

# What every ``rng`` argument accepts: None (the global generator), a seed, or a Generator.
SeedLike: TypeAlias = int | np.integer | np.random.Generator | None

_global = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the global generator (as ``torch.manual_seed``) and return it."""
    global _global
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    _global = np.random.default_rng(seed)
    return _global


def as_generator(rng: SeedLike = None) -> np.random.Generator:
    """``None`` -> the global generator, an int -> a fresh seeded one, a Generator -> itself."""
    if rng is None:
        return _global
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ConfigError(f"rng must be None, a seed >= 0 or a numpy.random.Generator, got {rng!r}.")
        return np.random.default_rng(int(rng))
    raise ConfigError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r:.60} ({type(rng).__name__})."
    )
