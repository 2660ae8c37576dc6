import numpy as np
import pytest

import nnscratch as ns
from nnscratch.backend import to_numpy

from .helpers import fd_grad

# independent per-element formulas and derivatives
FORMULAS = {
    "mse": (lambda d: d**2, lambda d: 2 * d),
    "l1": (np.abs, np.sign),
    "huber": (
        lambda d: np.where(np.abs(d) <= 1.5, 0.5 * d**2, 1.5 * (np.abs(d) - 0.75)),
        lambda d: np.clip(d, -1.5, 1.5),
    ),
}


def make(name, **kw):
    return {"mse": ns.MSELoss, "l1": ns.L1Loss, "huber": lambda **k: ns.HuberLoss(delta=1.5, **k)}[name](**kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_loss_values_and_gradients(name, reduction, dtype, backend, xp):
    rng = np.random.default_rng(0)
    pred = rng.uniform(-3, 3, (6, 2)).astype(dtype)
    target = rng.uniform(-3, 3, (6, 2)).astype(dtype)
    f, df = FORMULAS[name]
    d = pred.astype(np.float64) - target
    loss_fn = make(name, reduction=reduction)
    value = loss_fn(xp.asarray(pred), xp.asarray(target))
    grad = to_numpy(loss_fn.backward())
    tol = 1e-5 if dtype == np.float32 else 1e-12
    expected = {"mean": f(d).mean(), "sum": f(d).sum(), "none": f(d)}[reduction]
    scale = {"mean": 1 / d.size, "sum": 1.0, "none": 1.0}[reduction]
    if reduction == "none":
        np.testing.assert_allclose(to_numpy(value), expected, rtol=tol, atol=tol)
    else:
        assert isinstance(value, float)
        assert value == pytest.approx(expected, rel=tol)
    np.testing.assert_allclose(grad, df(d) * scale, rtol=tol, atol=tol)
    assert grad.dtype == dtype


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_loss_gradient_matches_finite_differences(name):
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss_fn = make(name)
    loss_fn(pred, target)
    np.testing.assert_allclose(loss_fn.backward(), fd_grad(lambda: loss_fn(pred, target), pred), atol=1e-8)


def test_none_reduction_backward_takes_upstream_gradient():
    loss_fn = ns.MSELoss(reduction="none")
    pred, target = np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]])
    loss_fn(pred, target)
    np.testing.assert_allclose(loss_fn.backward(np.array([[3.0], [0.5]])), [[6.0], [2.0]])


def test_shape_mismatch_explains_torch_broadcasting():
    with pytest.raises(ns.ShapeError, match=r"\(5, 5\).*predict the mean.*reshape\(-1, 1\)"):
        ns.MSELoss()(np.zeros((5, 1)), np.zeros(5))
    with pytest.raises(ns.ShapeError, match="must be equal"):
        ns.MSELoss()(np.zeros((5, 2)), np.zeros((5, 3)))


def test_broadcast_mode_reproduces_torch_semantics():
    rng = np.random.default_rng(2)
    pred, target = rng.standard_normal((4, 1)), rng.standard_normal(4)
    loss_fn = ns.MSELoss(reduction="mean", broadcast=True)
    with pytest.warns(ns.BroadcastWarning, match=r"\(4, 4\)"):
        value = loss_fn(pred, target)
    # torch: ((pred - target)**2).mean() over the broadcast (4, 4) matrix
    full = (pred - target[None, :]) ** 2
    assert value == pytest.approx(full.mean(), rel=1e-14)
    assert loss_fn.broadcasted
    analytic = loss_fn.backward()
    np.testing.assert_allclose(analytic, (2 * (pred - target[None, :])).sum(axis=1, keepdims=True) / 16)
    with pytest.warns(ns.BroadcastWarning):
        np.testing.assert_allclose(analytic, fd_grad(lambda: loss_fn(pred, target), pred), atol=1e-8)


def test_unknown_reduction_and_bad_delta():
    with pytest.raises(ns.ConfigError, match="reduction must be one of"):
        ns.MSELoss(reduction="avg")
    with pytest.raises(ns.ConfigError, match="delta must be positive"):
        ns.HuberLoss(delta=0)


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before the loss"):
        ns.L1Loss().backward()


def test_custom_loss_subclass():
    class RelativeL1(ns.Loss):
        def elementwise(self, pred, target):
            self.diff, self.scale = pred - target, np.abs(target)
            return np.abs(self.diff) / self.scale

        def elementwise_grad(self):
            return np.sign(self.diff) / self.scale

    loss_fn = RelativeL1()
    pred, target = np.array([[2.0], [1.0]]), np.array([[1.0], [4.0]])
    assert loss_fn(pred, target) == pytest.approx((1.0 + 0.75) / 2)
    np.testing.assert_allclose(loss_fn.backward(), [[0.5], [-0.125]])


def test_float32_losses_reduce_without_overflow_where_the_result_is_finite():
    pred = np.full((1000, 1), 1e18, dtype=np.float32)  # each square is 1e36: finite in float32, the sum is not
    target = np.zeros((1000, 1), dtype=np.float32)
    with np.errstate(over="ignore"):
        assert np.isinf((pred**2).sum())  # what summing in float32 gives
    for reduction, expected in (("mean", 1e36), ("sum", 1e39)):
        value = ns.MSELoss(reduction=reduction)(pred, target)
        assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-6)
