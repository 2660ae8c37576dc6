"""Property-test hand-written gradients with Hypothesis: strategies and ``assert_gradients_match``.

Three lines test a layer of your own on every input shape and value Hypothesis can think of::

    @given(x=finite_arrays(shapes(features=3)))
    def test_my_layer(x):
        assert_gradients_match(lambda: MyLayer(3), x)

Strategies that build a network draw its input with it and yield ``(network, x)``, because
what a valid input is depends on the network (``Log`` needs positive pre-activations,
``Exp`` must not overflow; see :mod:`nnscratch.gradcheck.cases`). Networks may have
biases of exactly 0, so that rows of zeros put ReLU units exactly on their kink: the
checker has to cope with that.

This module needs Hypothesis (``pip install 'nnscratch[test]'``); ``import nnscratch`` does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:
    raise ModuleNotFoundError(
        f"nnscratch.testing needs Hypothesis, which is not installed ({exc}): pip install 'nnscratch[test]'",
        name="hypothesis",
    ) from exc

from .activations import ACTIVATIONS, make_activation
from .gradcheck import GradcheckReport, check_loss, check_model, check_module
from .gradcheck.cases import REGIMES, regime_of
from .layers import MLP, Linear, Sequential
from .losses import REDUCTIONS, HuberLoss, L1Loss, Loss, MSELoss
from .module import Module

_SEED = st.integers(0, 2**32 - 1)


def shapes(
    *, min_rows: int = 1, max_rows: int = 8, min_features: int = 1, max_features: int = 16, features: int | None = None
) -> st.SearchStrategy[tuple[int, int]]:
    """Batch shapes (N, D), N in [min_rows, max_rows]; D fixed by ``features`` or drawn."""
    d = st.just(features) if features is not None else st.integers(min_features, max_features)
    return st.tuples(st.integers(min_rows, max_rows), d)


def finite_arrays(
    shape: Any, *, min_value: float = -3.0, max_value: float = 3.0, dtype: Any = np.float64
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` (a tuple or a strategy of tuples) with finite values in [min_value, max_value]."""
    width = np.dtype(dtype).itemsize * 8
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
    return hnp.arrays(dtype, shape, elements=elements)


def activations(names: tuple[str, ...] | None = None) -> st.SearchStrategy[str]:
    """Activation names (all of the engine's by default)."""
    return st.sampled_from(tuple(names or ACTIVATIONS))


def losses() -> st.SearchStrategy[Loss]:
    """Every loss with every reduction (Huber with a drawn delta)."""
    reduction = st.sampled_from(REDUCTIONS)
    return st.one_of(
        st.builds(MSELoss, reduction),
        st.builds(L1Loss, reduction),
        st.builds(HuberLoss, reduction, st.sampled_from([0.1, 0.5, 1.0, 2.0])),
    )


@st.composite
def mlps(
    draw: Callable,
    *,
    min_depth: int = 1,
    max_depth: int = 4,
    min_width: int = 1,
    max_width: int = 16,
    activation: st.SearchStrategy[str] | None = None,
    max_rows: int = 8,
    dtype: Any = np.float64,
) -> tuple[MLP, np.ndarray]:
    """``(MLP, x)``: random depth (Linear layers), widths and activation, and a valid input batch."""
    name = draw(activation or activations())
    _, (low, high), inits = REGIMES[regime_of(name)]
    depth = draw(st.integers(min_depth, max_depth))
    sizes = draw(st.lists(st.integers(min_width, max_width), min_size=depth + 1, max_size=depth + 1))
    model = MLP(sizes, activation=name, init=draw(st.sampled_from(inits)), rng=draw(_SEED), dtype=dtype)
    x = draw(finite_arrays(shapes(max_rows=max_rows, features=sizes[0]), min_value=low, max_value=high, dtype=dtype))
    return model, x


@st.composite
def layer_stacks(
    draw: Callable, *, max_layers: int = 6, max_width: int = 16, max_rows: int = 8, dtype: Any = np.float64
) -> tuple[Sequential, np.ndarray]:
    """``(Sequential, x)``: Linear layers and activations in any order (two activations in a row too)."""
    regime = draw(st.sampled_from(tuple(REGIMES)))
    acts, (low, high), inits = REGIMES[regime]
    init, rng = draw(st.sampled_from(inits)), np.random.default_rng(draw(_SEED))
    width = draw(st.integers(1, max_width))
    kinds = draw(st.lists(st.sampled_from(("linear", *acts)), min_size=1, max_size=max_layers))
    layers: list[Module] = []
    for kind in kinds:
        # Log and Exp stay in their domain only right after a Linear layer of the regime (see cases.py).
        needs_linear = kind in ("log", "exp") and not (layers and isinstance(layers[-1], Linear))
        if kind == "linear" or needs_linear:
            out = draw(st.integers(1, max_width))
            layers.append(Linear(_width(layers, width), out, init=init, rng=rng, dtype=dtype))
        if kind != "linear":
            layers.append(make_activation(kind))
    x = draw(finite_arrays(shapes(max_rows=max_rows, features=width), min_value=low, max_value=high, dtype=dtype))
    return Sequential(*layers), x


def _width(layers: list[Module], first: int) -> int:
    """The feature count coming out of ``layers`` (activations keep it, Linear sets it)."""
    linears = [layer for layer in layers if isinstance(layer, Linear)]
    return linears[-1].out_features if linears else first


def assert_gradients_match(
    module_or_factory: Any, x: Any, *, loss: Loss | None = None, target: Any = None, **options: Any
) -> GradcheckReport:
    """Gradient-check a module (or a zero-argument factory of one, or a Loss) and raise if it fails.

    - a module alone: :func:`~nnscratch.gradcheck.check_module` at input x;
    - a module with ``loss`` and ``target``: :func:`~nnscratch.gradcheck.check_model`;
    - a Loss: :func:`~nnscratch.gradcheck.check_loss` with pred = x.

    ``options`` go to the check (``fast``, ``rng`` (default 0), ``richardson``, ``dtype``...).
    Raises :class:`~nnscratch.errors.GradientError` (an AssertionError) with the report.
    """
    subject = module_or_factory
    if callable(subject) and not isinstance(subject, (Module, Loss)):
        subject = subject()
    options.setdefault("rng", 0)
    if isinstance(subject, Loss):
        report = check_loss(subject, x, target, **options)
    elif loss is not None:
        report = check_model(subject, loss, x, target, **options)
    else:
        report = check_module(subject, x, **options)
    return report.assert_ok()
