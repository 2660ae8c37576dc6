"""Valid random problems to check: initializers that keep every activation in its domain.

What a valid input is depends on the network: ``Log`` needs positive pre-activations
(all weights >= 0, biases >= 1 and inputs >= 0 keep every pre-activation >= 1), ``Exp``
must not overflow (small weights and inputs in [-1, 1] keep a stack of four finite).
Used by ``nnscratch gradcheck`` (:func:`check_random_mlp`) and by the Hypothesis strategies of :mod:`nnscratch.testing`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ..activations import ACTIVATIONS
from ..errors import ConfigError
from ..layers import MLP
from ..losses import HuberLoss, L1Loss, Loss, MSELoss
from ..rng import SeedLike, as_generator
from .check import check_model
from .report import GradcheckReport

LOSSES: dict[str, type[Loss]] = {"mse": MSELoss, "l1": L1Loss, "huber": HuberLoss}


def positive_init(in_features: int, out_features: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W in [0, 1/in], b in [1, 2]: with inputs >= 0 every pre-activation is >= 1 (valid for Log)."""
    return rng.uniform(0, 1 / in_features, (in_features, out_features)), rng.uniform(1, 2, out_features)


def contracting_init(in_features: int, out_features: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """|W| <= 0.5/in, b = 0: |pre-activation| <= max|input| / 2, so stacked Exps stay finite."""
    bound = 0.5 / in_features
    return rng.uniform(-bound, bound, (in_features, out_features)), np.zeros(out_features)


def zero_bias_init(in_features: int, out_features: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """torch's W with b = 0: a row of zeros puts every ReLU unit of the first layer on its kink."""
    bound = 1 / np.sqrt(in_features)
    return rng.uniform(-bound, bound, (in_features, out_features)), np.zeros(out_features)


SMOOTH = ("tanh", "sigmoid", "softplus", "silu", "identity")
KINKED = ("relu", "leaky_relu")

# regime: (activations allowed, input range, initializers that keep them valid; None is torch's)
REGIMES: dict[str, tuple[tuple[str, ...], tuple[float, float], tuple[Any, ...]]] = {
    "default": (SMOOTH + KINKED, (-3.0, 3.0), (None, zero_bias_init)),
    "positive": (SMOOTH + KINKED + ("log",), (0.0, 3.0), (positive_init,)),
    "contracting": (SMOOTH + KINKED + ("exp",), (-1.0, 1.0), (contracting_init,)),
}


def regime_of(activation: str) -> str:
    """The regime in which an MLP of this activation is valid."""
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; got {activation!r}.")
    return {"log": "positive", "exp": "contracting"}.get(activation, "default")


def mlp_case(
    sizes: list[int], activation: str = "relu", *, batch: int = 8, rng: SeedLike = None, dtype: DTypeLike = np.float64
) -> tuple[MLP, NDArray[np.floating], NDArray[np.floating]]:
    """An ``MLP(sizes, activation)``, an input batch x (batch, sizes[0]) valid for it, and targets y."""
    _, (low, high), inits = REGIMES[regime_of(activation)]
    gen = as_generator(rng)
    model = MLP(sizes, activation=activation, init=inits[0], rng=gen, dtype=dtype)
    x = gen.uniform(low, high, (batch, sizes[0])).astype(dtype)
    return model, x, gen.standard_normal((batch, sizes[-1])).astype(dtype)


def check_random_mlp(
    sizes: list[int],
    activation: str = "relu",
    loss: str = "mse",
    *,
    reduction: str = "mean",
    batch: int = 8,
    fast: bool = False,
    seed: int = 0,
) -> GradcheckReport:
    """Check ``MLP(sizes, activation)`` + a loss by name on a random batch (``nnscratch gradcheck``)."""
    if loss not in LOSSES:
        raise ConfigError(f"loss must be one of {', '.join(map(repr, LOSSES))}; got {loss!r}.")
    model, x, y = mlp_case(sizes, activation, batch=batch, rng=seed)
    return check_model(model, LOSSES[loss](reduction), x, y, fast=fast, rng=seed)
