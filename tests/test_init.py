import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import init

# name: (initializer, weight variance as a function of (fan_in, fan_out), bound on |W| or None, bias is zero)
SPECS = {
    "torch_default": (init.torch_default, lambda i, o: 1 / (3 * i), lambda i, o: 1 / np.sqrt(i), False),
    "keras_default": (init.keras_default, lambda i, o: 2 / (i + o), lambda i, o: np.sqrt(6 / (i + o)), True),
    "glorot_uniform": (init.glorot_uniform, lambda i, o: 2 / (i + o), lambda i, o: np.sqrt(6 / (i + o)), True),
    "he_uniform": (init.he_uniform, lambda i, o: 2 / i, lambda i, o: np.sqrt(6 / i), True),
    # truncated at 2 sigma, sigma = sqrt(target variance) / 0.8796...: the bound is 2 sigma
    "glorot_normal": (
        init.glorot_normal,
        lambda i, o: 2 / (i + o),
        lambda i, o: 2 * np.sqrt(2 / (i + o)) / 0.87962566103423978,
        True,
    ),
    "he_normal": (init.he_normal, lambda i, o: 2 / i, lambda i, o: 2 * np.sqrt(2 / i) / 0.87962566103423978, True),
    "normal(0.01)": (init.normal(0.01), lambda i, o: 1e-4, None, True),
    "uniform(-0.25, 0.25)": (init.uniform(-0.25, 0.25), lambda i, o: 0.25**2 / 3, lambda i, o: 0.25, True),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_moments(name):
    fn, var, _, _ = SPECS[name]
    fan_in, fan_out = 300, 200
    W, _ = fn(fan_in, fan_out, np.random.default_rng(123))
    n = W.size
    target = var(fan_in, fan_out)
    # mean within 6 standard errors of 0; variance within 6 standard errors of the target
    # (the variance of a sample variance is at most 2 var² / n for these light-tailed laws)
    assert abs(W.mean()) < 6 * np.sqrt(target / n)
    assert abs(W.var() - target) < 6 * target * np.sqrt(2 / n)


@given(
    fan_in=st.integers(1, 40),
    fan_out=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(sorted(SPECS)),
)
def test_shapes_bounds_and_determinism(fan_in, fan_out, seed, name):
    fn, _, bound, zero_bias = SPECS[name]
    W, b = fn(fan_in, fan_out, np.random.default_rng(seed))
    assert W.shape == (fan_in, fan_out) and b.shape == (fan_out,)
    assert W.dtype == np.float64 and b.dtype == np.float64
    if bound is not None:
        assert np.abs(W).max() <= bound(fan_in, fan_out)
    if zero_bias:
        assert not b.any()
    else:  # torch's bias is uniform in ±1/sqrt(fan_in), like its weights
        assert np.abs(b).max() <= 1 / np.sqrt(fan_in)
    W2, b2 = fn(fan_in, fan_out, np.random.default_rng(seed))
    np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(b, b2)


def test_truncated_normal_redraws_tails():
    # Without truncation about 4.6% of draws would fall beyond 2 sigma; here none may.
    W, _ = init.he_normal(1, 100_000, np.random.default_rng(0))
    sigma = np.sqrt(2.0) / 0.87962566103423978
    assert np.abs(W).max() <= 2 * sigma
    assert np.mean(np.abs(W) > 1.9 * sigma) > 0  # the tails up to the cut are still populated


@given(value=st.floats(-10, 10), bias=st.floats(-10, 10))
def test_constant_and_zeros(value, bias):
    W, b = init.constant(value, bias)(3, 2, None)
    np.testing.assert_array_equal(W, np.full((3, 2), value))
    np.testing.assert_array_equal(b, np.full(2, bias))
    W, b = init.zeros(3, 2, None)
    assert not W.any() and not b.any()


@pytest.mark.parametrize("name", init.NAMES)
def test_linear_accepts_every_name(name):
    direct = getattr(init, name)
    if name in ("normal", "uniform", "constant"):  # factories: a name means their defaults
        direct = direct()
    a, b = ns.Linear(4, 3, init=name, rng=7), ns.Linear(4, 3, init=direct, rng=7)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    np.testing.assert_array_equal(a.b.data, b.b.data)
    assert a.W.shape == (4, 3)


def test_mlp_built_twice_with_same_seed_is_identical():
    for name in ("keras_default", "he_normal", "torch_default"):
        a, b = ns.MLP([3, 8, 8, 1], init=name, rng=11), ns.MLP([3, 8, 8, 1], init=name, rng=11)
        for p, q in zip(a.parameters(), b.parameters()):
            np.testing.assert_array_equal(p.data, q.data)
        c = ns.MLP([3, 8, 8, 1], init=name, rng=12)
        assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)


def test_bad_initializer_arguments():
    with pytest.raises(ns.ConfigError, match="factory"):
        ns.Linear(2, 2, init=init.normal)
    with pytest.raises(ns.ConfigError, match="he_normal"):
        ns.Linear(2, 2, init="kaiming")
    with pytest.raises(ns.ConfigError, match="std"):
        init.normal(-1.0)
    with pytest.raises(ns.ConfigError, match="low < high"):
        init.uniform(1.0, 1.0)
    with pytest.raises(ns.ConfigError, match="finite"):
        init.constant(float("nan"))
