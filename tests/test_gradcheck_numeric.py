"""Finite differences: steps, accuracy, error estimates, kinks (nnscratch.gradcheck.numeric)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch.gradcheck import KinkWatch, numerical_gradient
from nnscratch.gradcheck.numeric import default_steps


def cubic(v):
    return float((v**3 + np.sin(v)).sum())


def cubic_grad(v):
    return 3 * v**2 + np.cos(v)


def test_step_follows_dtype_and_magnitude():
    x = np.array([0.0, 0.5, 10.0, -1e4])
    h64, h32 = default_steps(x, np.float64), default_steps(x, np.float32)
    np.testing.assert_allclose(h64, np.finfo(np.float64).eps ** (1 / 3) * np.array([1, 1, 10, 1e4]))
    np.testing.assert_allclose(h32 / h64, (np.finfo(np.float32).eps / np.finfo(np.float64).eps) ** (1 / 3))
    assert (default_steps(x, np.float64, richardson=True) > h64).all()  # O(h⁴) error allows larger steps


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=6))
def test_error_estimate_bounds_actual_error(values):
    x = np.array(values)
    scale = float((np.abs(x**3) + np.abs(np.sin(x))).sum())  # the terms of f cancel: |f| understates rounding
    for richardson in (False, True):
        fd = numerical_gradient(cubic, x, richardson=richardson, scale=scale)
        # the truncation estimate is asymptotically exact, so it may be a little low: the checker uses 2x
        assert (np.abs(fd.grad - cubic_grad(x)) <= 2 * fd.error).all()
        assert not fd.kink.any() and not fd.suspect.any()


def test_richardson_is_more_accurate_and_costs_two_more_calls_per_element():
    x = np.linspace(-2, 2, 7)
    f = lambda v: float(np.exp(v).sum())  # noqa: E731
    plain, rich = numerical_gradient(f, x), numerical_gradient(f, x, richardson=True)
    assert np.abs(rich.grad - np.exp(x)).max() < np.abs(plain.grad - np.exp(x)).max()
    assert (plain.evaluations, rich.evaluations) == (1 + 4 * 7, 1 + 6 * 7)


def test_float32_numeric_side_is_less_accurate_but_its_error_estimate_says_so():
    x = np.array([0.3, -1.2, 2.0])
    fd = numerical_gradient(cubic, x, dtype=np.float32)
    err = np.abs(fd.grad - cubic_grad(x))
    assert (err <= fd.error).all() and err.max() > 1e-9  # float64 would be ~1e-10 or better


def test_input_is_not_modified_and_shape_is_kept():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    fd = numerical_gradient(lambda v: float((v**2).sum()), x)
    np.testing.assert_array_equal(x, before)
    assert fd.grad.shape == (2, 3)
    np.testing.assert_allclose(fd.grad, 2 * x, atol=1e-8)


def test_step_argument_forms():
    x = np.array([1.0, 2.0])
    f = lambda v: float((v**2).sum())  # noqa: E731
    assert numerical_gradient(f, x, step=1e-3).step.tolist() == [1e-3, 2e-3]
    assert numerical_gradient(f, x, step=np.array([1e-4, 1e-5])).step.tolist() == [1e-4, 1e-5]
    with pytest.raises(ns.ConfigError, match="step"):
        numerical_gradient(f, x, step=-1.0)
    with pytest.raises(ns.ConfigError, match="shape"):
        numerical_gradient(f, x, step=np.ones(3))


def test_engine_kink_on_one_side_uses_the_other_sides_slope():
    relu = ns.ReLU()
    x = np.array([[0.0, 1e-7, -1e-7, 2.0]])  # on the kink, just right of it, just left of it, far away
    fd = numerical_gradient(lambda v: float(relu(v).sum()), x, kinks=KinkWatch([relu]))
    np.testing.assert_array_equal(fd.kink, [[True, True, True, False]])
    # x = 0: the mask says "off" and so does x - h: the left slope 0 is the one to match
    np.testing.assert_allclose(fd.lo[0, :3], [0.0, 1.0, 0.0], atol=1e-6)
    np.testing.assert_array_equal(fd.lo, fd.hi)
    assert fd.grad[0, 0] == pytest.approx(0.5)  # what a kink-blind checker would compare with


def test_kink_on_both_sides_gives_the_subgradient_range():
    loss = ns.L1Loss(reduction="sum")
    target = np.array([[1.0, 2.0]])
    fd = numerical_gradient(lambda p: loss(p, target), np.array([[1.0, 3.0]]), kinks=KinkWatch([loss]))
    assert fd.kink.tolist() == [[True, False]]
    assert fd.lo[0, 0] == pytest.approx(-1.0) and fd.hi[0, 0] == pytest.approx(1.0)
    assert fd.verified.all()


def test_generic_detector_flags_unreported_kinks_only():
    x = np.array([0.0, 3e-6, -5e-6, 0.7, -2.0])
    fd = numerical_gradient(lambda v: float(np.abs(v).sum()), x)  # no KinkWatch: the engine knows nothing
    np.testing.assert_array_equal(fd.suspect, [True, True, True, False, False])
    assert not fd.kink.any()
    smooth = numerical_gradient(lambda v: float(np.exp(3 * v).sum() + (v**4).sum()), x)
    assert not smooth.suspect.any()


def test_non_scalar_function_is_refused():
    with pytest.raises(ns.ConfigError, match="scalar"):
        numerical_gradient(np.exp, np.ones(3))
