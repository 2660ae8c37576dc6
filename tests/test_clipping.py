"""Gradient clipping: torch's formulas, edits that are not backward passes, and clear errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch.optim import SGD


def _params_with_grads(seed, shapes=((3, 4), (4,), (4, 1)), scale=1.0):
    rng = np.random.default_rng(seed)
    params = [ns.Parameter(rng.standard_normal(s)) for s in shapes]
    for p in params:
        p.grad += scale * rng.standard_normal(p.shape)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    params = _params_with_grads(0, scale=2.0)
    tensors = [torch.tensor(p.data, requires_grad=True) for p in params]
    for t, p in zip(tensors, params):
        t.grad = torch.tensor(p.grad.copy())
    expected = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type))
    total = ns.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert total == pytest.approx(expected, rel=1e-12)
    for t, p in zip(tensors, params):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=0)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    params = _params_with_grads(1, scale=3.0)
    tensors = [torch.tensor(p.data, requires_grad=True) for p in params]
    for t, p in zip(tensors, params):
        t.grad = torch.tensor(p.grad.copy())
    torch.nn.utils.clip_grad_value_(tensors, 0.5)
    ns.clip_grad_value_(params, 0.5)
    for t, p in zip(tensors, params):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**6), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3))
def test_clipping_keeps_the_direction_and_bounds_the_norm(seed, scale, max_norm):
    params = _params_with_grads(seed, scale=scale)
    before = np.concatenate([p.grad.ravel() for p in params])
    total = ns.clip_grad_norm_(params, max_norm)
    after = np.concatenate([p.grad.ravel() for p in params])
    assert total == pytest.approx(np.linalg.norm(before), rel=1e-12)
    assert np.linalg.norm(after) <= max_norm * (1 + 1e-9) or np.array_equal(after, before)
    np.testing.assert_allclose(after, before * min(1.0, max_norm / (total + 1e-6)), rtol=1e-15, atol=0)


def test_clipping_is_not_counted_as_a_backward_pass_so_the_doctor_stays_quiet():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((256, 3))
    y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]
    net, loss_fn = ns.MLP([3, 32, 1], rng=2), ns.MSELoss()
    opt = SGD(net.parameters(), lr=0.05, momentum=0.9)
    doctor = ns.Doctor(net, loss_fn, opt)
    clipped = 0
    for _ in range(300):
        rows = rng.choice(256, 16, replace=False)
        opt.zero_grad()
        loss_fn(net(X[rows]), y[rows])
        net.backward(loss_fn.backward())
        clipped += ns.clip_grad_norm_(net.parameters(), 0.5) > 0.5  # clips in some steps, not others
        assert {p.accumulated for p in net.parameters()} == {1}
        opt.step()
    assert 0 < clipped < 300
    assert "GRAD_ACCUMULATION" not in doctor.report().codes


def test_clipping_refuses_bad_arguments():
    params = _params_with_grads(3)
    with pytest.raises(ns.ConfigError, match="max_norm"):
        ns.clip_grad_norm_(params, -1.0)
    with pytest.raises(ns.ConfigError, match="max_norm"):
        ns.clip_grad_norm_(params, float("nan"))
    with pytest.raises(ns.ConfigError, match="norm_type"):
        ns.clip_grad_norm_(params, 1.0, norm_type=0)
    with pytest.raises(ns.ConfigError, match=r"parameters\[1\] must be an nnscratch Parameter"):
        ns.clip_grad_norm_([params[0], np.zeros(3)], 1.0)
    with pytest.raises(ns.ConfigError, match="clip_value"):
        ns.clip_grad_value_(params, True)
    params[0].grad[0, 0] = np.nan
    with pytest.raises(ns.NonFiniteError, match="total norm"):
        ns.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert ns.clip_grad_norm_([], 1.0) == 0.0
    assert ns.clip_grad_norm_(params[1], 1e9) == pytest.approx(np.linalg.norm(params[1].grad))
