"""Correctness of what the speed and memory work touched: dtypes kept, saved inputs released, cheap walks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import optim
from nnscratch.validation import as_float_array

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid", "softplus", "silu", "identity"]


def _optimizers(params):
    """Plain SGD written out, and every optimizer of nnscratch.optim, with the options that add buffers."""
    return [
        ("inline sgd", None),
        ("SGD momentum", optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)),
        ("Adam", optim.Adam(params, lr=0.1, amsgrad=True, weight_decay=1e-2)),
        ("Adam keras", optim.Adam(params, lr=0.1, semantics="keras")),
        ("AdamW", optim.AdamW(params, lr=0.1)),
        ("RMSprop", optim.RMSprop(params, lr=0.1)),
    ]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss_name", ["MSELoss", "L1Loss", "HuberLoss"])
def test_float32_stays_float32_through_a_training_step(activation, loss_name):
    rng = np.random.default_rng(0)
    net = ns.MLP([3, 6, 4, 2], activation=activation, dtype=np.float32, rng=0)
    loss_fn = getattr(ns, loss_name)()
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((5, 2))  # float64 targets: the loss must cast them, not upcast pred
    params = net.parameters()
    for name, opt in _optimizers(params):
        for _ in range(2):  # the second step uses optimizer state created by the first
            out = net(x)
            assert out.dtype == np.float32, name
            loss = loss_fn(out, y)
            assert isinstance(loss, float)
            net.zero_grad()
            grad_out = loss_fn.backward(np.float64(1.0))  # a NumPy float64 scalar must not upcast either
            assert grad_out.dtype == np.float32
            assert net.backward(grad_out).dtype == np.float32
            if opt is None:
                for p in params:
                    p.data -= 0.1 * p.grad
            else:
                opt.step()
            for p in params:
                assert p.data.dtype == p.grad.dtype == np.float32, name
                state = {} if opt is None else opt.state[p]
                assert all(v.dtype == np.float32 for v in state.values() if hasattr(v, "dtype")), name


def test_float64_gradient_into_float32_layer_is_cast():
    layer = ns.Linear(3, 2, dtype=np.float32, rng=0)
    layer(np.ones((4, 3), dtype=np.float32))
    grad_in = layer.backward(np.ones((4, 2)))  # float64 upstream gradient
    assert grad_in.dtype == layer.W.grad.dtype == np.float32


def test_none_reduction_float64_upstream_keeps_float32():
    loss_fn = ns.MSELoss(reduction="none")
    pred = np.ones((3, 1), dtype=np.float32)
    loss_fn(pred, np.zeros((3, 1), dtype=np.float32))
    grad = loss_fn.backward(np.full((3, 1), 2.0))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 4.0)


def test_linear_releases_its_saved_input_after_backward():
    layer = ns.Linear(2, 3, rng=0)
    x = np.ones((4, 2))
    layer(x)
    assert layer.x is x  # kept by reference, not copied
    layer.backward(np.ones((4, 3)))
    assert layer.x is None
    with pytest.raises(ns.CallOrderError, match="twice after one forward"):
        layer.backward(np.ones((4, 3)))


def test_backward_before_any_forward_is_a_clear_error():
    with pytest.raises(ns.CallOrderError, match="called before forward"):
        ns.MLP([2, 3, 1], rng=0).backward(np.ones((4, 1)))


@given(st.lists(st.integers(1, 6), min_size=2, max_size=5), st.sampled_from(ACTIVATIONS))
def test_parameters_follow_named_parameters(sizes, activation):
    net = ns.Sequential(ns.MLP(sizes, activation=activation, rng=0), ns.Linear(sizes[-1], 2, rng=1))
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]


def test_module_zero_grad_reaches_nested_parameters():
    net = ns.Sequential(ns.MLP([2, 3, 2], rng=0), ns.Tanh(), ns.Linear(2, 1, rng=1))
    loss_fn = ns.MSELoss()
    loss_fn(net(np.ones((4, 2))), np.zeros((4, 1)))
    net.backward(loss_fn.backward())
    assert all(p.grad.any() and p.accumulated == 1 for p in net.parameters())
    net.zero_grad()
    assert all(not p.grad.any() and p.accumulated == 0 for p in net.parameters())


def test_shape_error_still_names_the_layer():
    with pytest.raises(ns.ShapeError, match=r"Linear\(in_features=3, out_features=2"):
        ns.Linear(3, 2)(np.ones((4, 5)))


@pytest.mark.parametrize(
    "dtype, expected",
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float16, np.float64),
        (np.int64, np.float64),
        (bool, np.float64),
    ],
)
def test_as_float_array_default_dtype(dtype, expected):
    x = np.ones((2, 2), dtype=dtype)
    out = as_float_array(x, "x")
    assert out.dtype == expected
    assert (out is x) == (np.dtype(dtype) == np.dtype(expected))  # no copy when nothing changes


def test_get_array_module_ignores_non_arrays():
    assert ns.get_array_module(np.ones(1), 1.0, None, [1, 2]) is np


def test_input_grad_false_skips_only_the_input_gradient():
    x, g = np.random.default_rng(0).standard_normal((4, 3)), np.ones((4, 2))
    full, lean = ns.Linear(3, 2, rng=0), ns.Linear(3, 2, rng=0, input_grad=False)
    assert full(x).tolist() == lean(x).tolist()
    assert full.backward(g).shape == (4, 3) and lean.backward(g) is None
    assert np.array_equal(full.W.grad, lean.W.grad) and np.array_equal(full.b.grad, lean.b.grad)
    assert "input_grad=False" in repr(lean)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_without_input_grad_trains_bit_identically(dtype):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 3)).astype(dtype), rng.standard_normal((16, 1)).astype(dtype)
    nets = [ns.MLP([3, 8, 8, 1], rng=2, dtype=dtype), ns.MLP([3, 8, 8, 1], rng=2, dtype=dtype, input_grad=False)]
    for net in nets:
        loss_fn = ns.MSELoss()
        for _ in range(5):
            loss_fn(net(x), y)
            net.zero_grad()
            net.backward(loss_fn.backward())
            for p in net.parameters():
                p.data -= 0.05 * p.grad
    assert not nets[1].layers[0].input_grad and nets[1].layers[2].input_grad  # only the first Linear skips
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert np.array_equal(a.data, b.data)


def test_input_grad_false_inside_a_stack_is_a_clear_error():
    net = ns.Sequential(ns.Linear(2, 3, rng=0), ns.ReLU(), ns.Linear(3, 1, rng=1, input_grad=False))
    net(np.ones((4, 2)))
    with pytest.raises(ns.ConfigError, match="only the first layer"):
        net.backward(np.ones((4, 1)))


@pytest.mark.parametrize("x_dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("layer_dtype", [np.float32, np.float64])
def test_linear_input_fast_and_slow_paths_agree(x_dtype, layer_dtype):
    layer = ns.Linear(3, 2, rng=0, dtype=layer_dtype)
    x = np.arange(12).reshape(4, 3).astype(x_dtype)
    out = layer(x)
    assert out.dtype == layer_dtype
    expected = x.astype(np.float64) @ layer.W.data.astype(np.float64) + layer.b.data
    np.testing.assert_allclose(out, expected, rtol=1e-5 if layer_dtype == np.float32 else 1e-12)
    assert (layer.x is x) == (np.dtype(x_dtype) == np.dtype(layer_dtype))  # converted only when needed


@pytest.mark.parametrize(
    "pred_dtype, target_dtype, grad_dtype",
    [
        (np.float32, np.float32, np.float32),
        (np.float64, np.float64, np.float64),
        (np.float32, np.float64, np.float32),
        (np.float16, np.float16, np.float64),
        (np.int64, np.float32, np.float64),
    ],
)
def test_loss_fast_and_slow_paths_agree(pred_dtype, target_dtype, grad_dtype):
    pred, target = np.array([[1.0], [2.0], [4.0]]), np.array([[0.0], [2.0], [1.0]])
    loss_fn = ns.MSELoss()
    assert loss_fn(pred.astype(pred_dtype), target.astype(target_dtype)) == pytest.approx(10 / 3, rel=1e-6)
    grad = loss_fn.backward()
    assert grad.dtype == grad_dtype
    np.testing.assert_allclose(grad, 2 * (pred - target) / 3, rtol=1e-6)
    assert loss_fn([[1.0], [2.0]], [[1.0], [0.0]]) == 2.0  # lists take the converting path
    with pytest.raises(ns.ShapeError, match="empty batch"):
        loss_fn(np.ones((0, 1), dtype=pred_dtype), np.ones((0, 1), dtype=pred_dtype))


@given(
    n=st.integers(1, 40),
    d=st.integers(1, 3),
    h=st.integers(1, 12),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_linear_matches_plain_matmul_bit_for_bit(n, d, h, dtype, seed):
    # The layer is the textbook: forward, dW and d loss / d x are exactly what `@` gives, also for
    # K = 1 products (one input, one output, a batch of one).
    rng = np.random.default_rng(seed)
    layer = ns.Linear(d, h, rng=seed, dtype=dtype)
    x = rng.standard_normal((n, d)).astype(dtype)
    g = rng.standard_normal((n, h)).astype(dtype)
    W = layer.W.data.copy()
    out = layer(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, x @ W + layer.b.data)
    grad_in = layer.backward(g)
    np.testing.assert_array_equal(layer.W.grad, x.T @ g)
    np.testing.assert_array_equal(grad_in, g @ W.T)
    assert grad_in.dtype == dtype and layer.W.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_outputs_positive_zero_and_keeps_nan(dtype):
    relu = ns.ReLU()
    x = np.array([[-2.0, -0.0, 0.0, 3.0, np.nan]], dtype=dtype)
    out = relu(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0, 3.0, np.nan]])
    assert not np.signbit(out[0, :3]).any()  # max(x, 0) is +0.0 for x <= 0; x * False gives -0.0 for x < 0
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), [[0.0, 0.0, 0.0, 1.0, 0.0]])


@given(
    n=st.integers(1, 80),
    m=st.integers(1, 70),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_parameter_products_are_numpys_bit_for_bit_and_short_rows_come_back_column_major(n, m, dtype, seed):
    # x @ W with a Parameter W is NumPy's product; for an inner dimension of 1 it is a broadcast,
    # which has the same numbers. Tall outputs with rows under 32 long come back column-major.
    rng = np.random.default_rng(seed)
    x, g = rng.standard_normal((n, 1)).astype(dtype), rng.standard_normal((n, m)).astype(dtype)
    W = ns.Parameter(rng.standard_normal((1, m)).astype(dtype))
    for got, want in ((x @ W, x @ W.data), (g.T @ ns.Parameter(x), g.T @ x), (x @ W.T.T, x @ W.data)):
        assert got.dtype == want.dtype == dtype
        np.testing.assert_array_equal(got, want)
    out = x @ W
    assert out.flags.f_contiguous if n > m and m < 32 else out.flags.c_contiguous
    V = ns.Parameter(rng.standard_normal((m, 1)).astype(dtype))
    np.testing.assert_array_equal(x @ V.T, x @ V.data.T)  # d loss / d x of a 1-output layer
    b = ns.Parameter(rng.standard_normal(m).astype(dtype))
    np.testing.assert_array_equal(g + b, g + b.data)


def test_a_parameter_stands_for_its_array_in_arithmetic_but_not_in_place_or_in_numpy_functions():
    data = np.arange(1.0, 7.0).reshape(2, 3)
    p, x = ns.Parameter(data), np.linspace(-1, 1, 8).reshape(4, 2)
    np.testing.assert_array_equal(x @ p, x @ data)
    np.testing.assert_array_equal(p @ data.T, data @ data.T)
    np.testing.assert_array_equal([[1.0, 2.0]] @ p, [[1.0, 2.0]] @ data)  # a list works as with the array
    np.testing.assert_array_equal(np.ones((4, 3)) @ p.T, np.ones((4, 3)) @ data.T)
    for got, want in (
        (p + 1, data + 1),
        (1 + p, 1 + data),
        (p - 1, data - 1),
        (1 - p, 1 - data),
        (2 * p, 2 * data),
        (p * 2, data * 2),
        (p / 2, data / 2),
        (2 / p, 2 / data),
        (-p, -data),
        (p**2, data**2),
    ):
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, want)
    q = p
    for update in ("q += 1", "q -= 1", "q *= 2", "q /= 2", "q @= data.T"):
        with pytest.raises(TypeError, match=r"p.data \+= \.\.\., not p \+= "):
            exec(update, {"q": q, "data": data})  # p = p - ... would rebind the name and update nothing
    np.testing.assert_array_equal(p.data, np.arange(1.0, 7.0).reshape(2, 3))
    with pytest.raises(TypeError):
        np.add(data, p)  # NumPy functions take the array: np.add(data, p.data)


def test_parameter_products_on_the_device_double_stay_on_the_device():
    from nnscratch import devicedouble

    with devicedouble.activate():
        layer = ns.Linear(1, 10, rng=0, backend="cupy")
        x = devicedouble.cupy.asarray(np.linspace(-1, 1, 50).reshape(-1, 1))
        out = layer(x)
        assert type(out) is devicedouble.ndarray
        grad_in = layer.backward(devicedouble.cupy.ones((50, 10)))
        assert type(grad_in) is devicedouble.ndarray
        np.testing.assert_array_equal(out.get(), x.get() @ layer.W.data.get() + layer.b.data.get())
        with pytest.raises(TypeError):
            np.ones((50, 1)) @ layer.W  # a host array and a device parameter do not mix, as in CuPy
