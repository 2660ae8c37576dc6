import numpy as np
import pytest

import nnscratch as ns
from nnscratch.backend import to_numpy

from .helpers import fd_grad

ACTIVATION_FORMULAS = {
    # name: (f(x), f'(x)) written independently with plain NumPy
    "relu": (lambda x: np.where(x > 0, x, 0.0), lambda x: (x > 0).astype(float)),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    "softplus": (lambda x: np.log(1 + np.exp(x)), lambda x: 1 / (1 + np.exp(-x))),
    "silu": (lambda x: x / (1 + np.exp(-x)), lambda x: 1 / (1 + np.exp(-x)) + x * np.exp(-x) / (1 + np.exp(-x)) ** 2),
    "exp": (np.exp, np.exp),
    "log": (np.log, lambda x: 1 / x),
    "identity": (lambda x: x, np.ones_like),
}


def _inputs(name, dtype, rng):
    x = rng.uniform(-3, 3, size=(4, 5))
    if name == "log":
        x = np.abs(x) + 0.1
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATION_FORMULAS))
def test_activation_matches_formula(name, dtype, backend, xp):
    rng = np.random.default_rng(1)
    x = _inputs(name, dtype, rng)
    g = rng.standard_normal((4, 5)).astype(dtype)
    f, df = ACTIVATION_FORMULAS[name]
    layer = ns.activations.make_activation(name)
    out = layer(xp.asarray(x))
    grad = layer.backward(xp.asarray(g))
    assert out.dtype == dtype and grad.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(to_numpy(out), f(x.astype(np.float64)), rtol=tol, atol=tol)
    np.testing.assert_allclose(to_numpy(grad), g * df(x.astype(np.float64)), rtol=tol * 10, atol=tol)


def test_relu_derivative_at_zero_is_zero():
    relu = ns.ReLU()
    relu(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "silu"])
def test_stable_for_large_inputs(name):
    layer = ns.activations.make_activation(name)
    x = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = layer(x)
        grad = layer.backward(np.ones_like(x))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))
    if name == "softplus":
        np.testing.assert_allclose(out, [[0.0, np.exp(-50.0), np.log(2), 50.0, 1000.0]], rtol=1e-12, atol=1e-300)
    if name == "sigmoid":
        np.testing.assert_allclose(
            out, [[0.0, np.exp(-50.0) / (1 + np.exp(-50.0)), 0.5, 1 / (1 + np.exp(-50.0)), 1.0]], rtol=1e-12
        )


def test_backward_does_not_modify_incoming_gradient():
    for name in ACTIVATION_FORMULAS:
        layer = ns.activations.make_activation(name)
        layer(np.abs(np.random.default_rng(0).standard_normal((3, 3))) + 0.1)
        g = np.ones((3, 3))
        layer.backward(g)
        np.testing.assert_array_equal(g, np.ones((3, 3)))


def test_log_rejects_non_positive_input():
    with pytest.raises(ns.DomainError, match="non-positive"):
        ns.Log()(np.array([[1.0, 0.0, -2.0]]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_forward_backward_by_hand(dtype, backend, xp):
    layer = ns.Linear(3, 2, dtype=dtype, backend=backend)
    W = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]], dtype=dtype)
    b = np.array([0.25, -1.0], dtype=dtype)
    layer.W.data[...] = xp.asarray(W)
    layer.b.data[...] = xp.asarray(b)
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]], dtype=dtype)
    y = layer(xp.asarray(x))
    # row 0: 1*1 + 2*0.5 + 3*3 + 0.25 = 11.25 ; 1*-2 + 0 + 3*1 - 1 = 0
    np.testing.assert_allclose(to_numpy(y), [[11.25, 0.0], [2.25, 2.0]])
    g = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=dtype)
    grad_in = layer.backward(xp.asarray(g))
    np.testing.assert_allclose(to_numpy(grad_in), [[1.0, 0.5, 3.0], [-4.0, 0.0, 2.0]])
    np.testing.assert_allclose(to_numpy(layer.W.grad), [[1.0, -2.0], [2.0, 0.0], [3.0, 2.0]])
    np.testing.assert_allclose(to_numpy(layer.b.grad), [1.0, 2.0])
    assert layer.W.grad.dtype == dtype and grad_in.dtype == dtype


def test_mlp_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    net = ns.MLP([3, 7, 5, 2], activation="tanh", rng=3)
    x = rng.standard_normal((6, 3))
    t = rng.standard_normal((6, 2))
    loss_fn = ns.MSELoss()

    def loss():
        return loss_fn(net(x), t)

    loss()
    net.zero_grad()
    grad_x = net.backward(loss_fn.backward())
    np.testing.assert_allclose(grad_x, fd_grad(loss, x), rtol=1e-6, atol=1e-9)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(p.grad, fd_grad(loss, p.data), rtol=1e-6, atol=1e-9, err_msg=name)


def test_gradients_accumulate_until_zero_grad():
    net = ns.MLP([2, 4, 1], rng=0)
    x, t = np.ones((3, 2)), np.zeros((3, 1))
    loss_fn = ns.MSELoss()
    loss_fn(net(x), t)
    net.backward(loss_fn.backward())
    once = [p.grad.copy() for p in net.parameters()]
    loss_fn(net(x), t)
    net.backward(loss_fn.backward())
    for p, g in zip(net.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g)
        assert p.accumulated == 2
    net.zero_grad()
    assert all(not p.grad.any() and p.accumulated == 0 for p in net.parameters())


def test_named_parameters_and_repr():
    net = ns.Sequential(ns.Linear(1, 10), ns.ReLU(), ns.Linear(10, 1))
    assert [n for n, _ in net.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert [p.shape for p in net.parameters()] == [(1, 10), (10,), (10, 1), (1,)]
    assert "Linear(in_features=1, out_features=10" in repr(net)
    mlp = ns.MLP([1, 10, 1])
    assert [type(m).__name__ for m in mlp.layers] == ["Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in ns.MLP([2, 3, 1], "tanh", "sigmoid").layers][-1] == "Sigmoid"


def test_same_seed_builds_identical_models():
    a, b = ns.MLP([2, 8, 8, 1], rng=42), ns.MLP([2, 8, 8, 1], rng=42)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(p.data, q.data), n
    c = ns.MLP([2, 8, 8, 1], rng=43)
    assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)


def test_torch_default_init_bounds():
    layer = ns.Linear(16, 200, rng=0)
    bound = 1 / np.sqrt(16)
    assert np.abs(layer.W.data).max() <= bound and np.abs(layer.b.data).max() <= bound
    assert np.abs(layer.W.data).max() > 0.9 * bound


def test_float32_end_to_end():
    net = ns.MLP([3, 5, 1], dtype=np.float32, rng=0)
    x = np.ones((4, 3), dtype=np.float32)
    loss_fn = ns.MSELoss()
    loss_fn(net(x), np.zeros((4, 1), dtype=np.float32))
    grad = net.backward(loss_fn.backward())
    assert grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in net.parameters())


def test_integer_and_bool_inputs_are_converted():
    net = ns.MLP([2, 3, 1], rng=0)
    assert net(np.array([[1, 2], [3, 4]])).dtype == np.float64
    assert net(np.array([[True, False]])).dtype == np.float64


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.ones((2, 2), dtype=complex), ns.DTypeError, "complex"),
        (np.array([["a", "b"]]), ns.DTypeError, "real numbers"),
        (np.array([[object(), object()]]), ns.DTypeError, "dtype object"),
        (np.ones((2, 3)), ns.ShapeError, "expects x of shape (N, 2)"),
        (np.ones(2), ns.ShapeError, "rank 1"),
        (np.ones((0, 2)), ns.ShapeError, "empty batch"),
    ],
)
def test_bad_inputs_raise_clear_errors(bad, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        ns.MLP([2, 3, 1])(bad)
    assert isinstance(info.value, ns.NNScratchError)


def test_rank1_hint_suggests_reshape():
    with pytest.raises(ns.ShapeError, match=r"reshape\(-1, 1\)"):
        ns.Linear(1, 3)(np.ones(5))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"in_features": 0, "out_features": 2}, "in_features must be a positive integer"),
        ({"in_features": 2, "out_features": 2.5}, "out_features must be a positive integer"),
        ({"in_features": 2, "out_features": 2, "dtype": np.int32}, "float32 or float64"),
        ({"in_features": 2, "out_features": 2, "init": "nope"}, "init must be"),
    ],
)
def test_bad_linear_config(kwargs, words):
    with pytest.raises(ns.ConfigError, match=words):
        ns.Linear(**kwargs)


def test_unknown_activation_name():
    with pytest.raises(ns.ConfigError, match="activation must be one of"):
        ns.MLP([1, 2, 1], activation="rleu")


def test_forward_and_backward_hooks_fire():
    net = ns.MLP([2, 3, 1], rng=0)
    seen = []
    remove = net.layers[1].register_forward_hook(lambda m, x, y: seen.append(("f", y.shape)))
    net.layers[1].register_backward_hook(lambda m, g, gi: seen.append(("b", gi.shape)))
    net.backward(np.ones_like(net(np.ones((4, 2)))))
    assert seen == [("f", (4, 3)), ("b", (4, 3))]
    remove()
    net(np.ones((4, 2)))
    assert len(seen) == 2
