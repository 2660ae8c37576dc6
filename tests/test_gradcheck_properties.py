"""Hypothesis: every layer, loss, reduction and random network passes the gradient check.

The inputs are not filtered away from kinks: Hypothesis likes exact zeros (ReLU on its
kink), equal predictions and targets (L1 on its kink) and the strategies below put
Huber residuals on |d| = delta; the checker has to tell those from wrong gradients.
A row of zeros fed to a zero-bias ReLU layer puts several kinks exactly at the point, where
finite differences cannot verify the input's gradient: the networks' checks pass
``allow_unverified=True`` for those elements (and only those; every other one is compared).
Run ``HYPOTHESIS_PROFILE=thorough`` for 500 examples per test.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch.gradcheck.cases import mlp_case
from nnscratch.testing import (
    assert_gradients_match,
    finite_arrays,
    layer_stacks,
    losses,
    mlps,
    shapes,
)

ACTIVATION_RANGES = {"log": (0.01, 5.0), "exp": (-5.0, 5.0)}


@given(name=st.sampled_from(sorted(ns.activations.ACTIVATIONS)), fast=st.booleans(), data=st.data())
def test_every_activation(name, fast, data):
    low, high = ACTIVATION_RANGES.get(name, (-3.0, 3.0))
    x = data.draw(finite_arrays(shapes(), min_value=low, max_value=high))
    assert_gradients_match(lambda: ns.activations.make_activation(name), x, fast=fast)


@given(
    shape=shapes(),
    out=st.integers(1, 16),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    fast=st.booleans(),
    data=st.data(),
)
def test_linear(shape, out, bias, seed, fast, data):
    x = data.draw(finite_arrays(shape))
    assert_gradients_match(ns.Linear(shape[1], out, bias=bias, rng=seed), x, fast=fast, rng=seed)


@st.composite
def loss_problems(draw):
    """A loss and (pred, target) with some residuals exactly 0 (L1's kink) or ±delta (Huber's)."""
    loss = draw(losses())
    pred = draw(finite_arrays(shapes(), min_value=-4, max_value=4))
    noise = draw(finite_arrays(pred.shape, min_value=-3, max_value=3))
    delta = getattr(loss, "delta", 1.0)
    kind = draw(finite_arrays(pred.shape, min_value=0, max_value=3).map(np.floor))
    # 0: a random residual, 1: none, 2: -delta, 3: +delta
    target = np.select([kind == 1, kind == 2, kind == 3], [pred, pred + delta, pred - delta], pred + noise)
    return loss, pred, target


@given(problem=loss_problems(), fast=st.booleans())
def test_every_loss_and_reduction(problem, fast):
    loss, pred, target = problem
    assert_gradients_match(loss, pred, target=target, fast=fast)


@given(case=mlps(), loss=losses(), fast=st.booleans(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_random_mlps_with_every_activation(case, loss, fast, seed, data):
    model, x = case
    y = data.draw(finite_arrays((x.shape[0], model.sizes[-1])))
    assert_gradients_match(model, x, loss=loss, target=y, fast=fast, rng=seed, allow_unverified=True)


@pytest.mark.parametrize("activation", sorted(ns.activations.ACTIVATIONS))
def test_batch_of_one_row_with_every_activation(activation):
    model, x, y = mlp_case([3, 5, 4, 2], activation, batch=1, rng=7)
    for fast in (False, True):
        report = ns.check_model(model, ns.HuberLoss(delta=0.5), x, y, rng=7, fast=fast)
        assert report.passed and report["input"].shape == (1, 3), str(report)


@given(case=layer_stacks(), fast=st.booleans())
def test_random_layer_stacks(case, fast):
    module, x = case
    assert_gradients_match(module, x, fast=fast, allow_unverified=True)


@given(case=mlps(max_depth=2, max_width=6, max_rows=4, dtype=np.float32))
def test_float32_models_through_a_float64_copy(case):
    model, x = case
    report = ns.check_module(model, x, rng=0, allow_unverified=True)
    assert report.passed and report.model_dtype == "float32", str(report)


def test_example_custom_layer():
    path = Path(__file__).resolve().parents[1] / "examples" / "custom_layer_gradcheck.py"
    spec = importlib.util.spec_from_file_location("custom_layer_gradcheck", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.test_prelu_gradients()
    report = ns.check_module(example.PReLU(3), np.array([[0.0, -1.0, 2.0]]), rng=0)
    assert report.passed and report["input"].kinks == 1 and report["a"].shape == (3,)
