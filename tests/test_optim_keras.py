"""semantics="keras" is tf.keras 2's Adam rule computed in the parameter's dtype, as Keras computes it."""

import numpy as np
import pytest

import nnscratch as ns


def keras_adam_step(params, grads, slots, t, lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras 2's Adam with amsgrad, written from its documented update, every coefficient in float32."""
    f = np.float32
    b1, b2 = f(beta_1), f(beta_2)
    lr_t = f(lr) * (np.sqrt(f(1) - b2 ** f(t)) / (f(1) - b1 ** f(t)))
    for w, g, (m, v, vhat) in zip(params, grads, slots):
        m[...] = m * b1 + g * (f(1) - b1)
        v[...] = v * b2 + (g * g) * (f(1) - b2)
        vhat[...] = np.maximum(vhat, v)
        w -= lr_t * m / (np.sqrt(vhat) + f(epsilon))


def _network_and_data():
    # The random-targets set-up in small: eleven ReLU layers of 25, U(-0.25, 0.25) kernels, float32.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (500, 2)).astype(np.float32)
    y = rng.uniform(-1, 1, (500, 1)).astype(np.float32)
    net = ns.MLP([2] + [25] * 11 + [1], init="uniform", rng=0, dtype=np.float32)
    for p in net.parameters():
        p.data[...] = rng.uniform(-0.25, 0.25, p.shape).astype(np.float32)
    return net, X, y


def _gradients(net, loss_fn, X, y):
    net.zero_grad()
    loss_fn(net(X), y)
    net.backward(loss_fn.backward())
    return [p.grad for p in net.parameters()]


@pytest.mark.parametrize("steps", [200])
def test_keras_semantics_match_an_independent_float32_keras_rule(steps):
    ours, X, y = _network_and_data()
    ref, _, _ = _network_and_data()
    loss_fn = ns.MSELoss()
    opt = ns.optim.Adam(ours.parameters(), lr=0.01, amsgrad=True, semantics="keras")
    slots = [tuple(np.zeros_like(p.data) for _ in range(3)) for p in ref.parameters()]
    for t in range(1, steps + 1):
        _gradients(ours, loss_fn, X, y)
        opt.step()
        grads = _gradients(ref, loss_fn, X, y)
        keras_adam_step([p.data for p in ref.parameters()], grads, slots, t)
    for a, b in zip(ours.parameters(), ref.parameters()):
        assert a.data.dtype == np.float32
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)
