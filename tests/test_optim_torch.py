"""Step-by-step parity with torch.optim (float64): same weights and data give the same trajectory."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

STEPS = 200
RTOL = 1e-10

CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, amsgrad=True)),
    ("RMSprop", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-3, alpha=0.9, momentum=0.9, centered=True, weight_decay=1e-3)),
]


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    return X, np.sin(X @ np.array([[1.0], [-2.0], [0.5]]))


def torch_twin(net):
    """A torch.nn.Sequential holding copies of ``net``'s weights (torch stores W transposed)."""
    layers = []
    for layer in net.layers:
        if isinstance(layer, ns.Linear):
            t = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(layer.W.data.T))
                t.bias.copy_(torch.from_numpy(layer.b.data))
            layers.append(t)
        else:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def _as_ours(t):
    a = t.detach().numpy()
    return a.T if a.ndim == 2 else a


def max_rel_diff(net, twin):
    """max over parameters of max |ours - torch| / max |torch|."""
    return max(
        np.abs(p.data - _as_ours(t)).max() / np.abs(_as_ours(t)).max()
        for p, t in zip(net.parameters(), twin.parameters())
    )


def train_both(name, kwargs, steps=STEPS):
    X, Y = _data()
    net = ns.MLP([3, 16, 16, 1], activation="tanh", rng=1)
    twin = torch_twin(net)
    ours, theirs = (
        getattr(optim, name)(net.parameters(), **kwargs),
        getattr(torch.optim, name)(twin.parameters(), **kwargs),
    )
    loss_fn, tX, tY = ns.MSELoss(), torch.from_numpy(X), torch.from_numpy(Y)
    for step in range(steps):
        rows = slice(16 * (step % 4), 16 * (step % 4 + 1))
        loss_fn(net(X[rows]), Y[rows])
        ours.zero_grad()
        net.backward(loss_fn.backward())
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.mse_loss(twin(tX[rows]), tY[rows]).backward()
        theirs.step()
    return net, twin


def test_forward_and_gradients_match():
    X, Y = _data()
    net = ns.MLP([3, 16, 16, 1], activation="tanh", rng=1)
    twin = torch_twin(net)
    loss_fn = ns.MSELoss()
    pred = net(X)
    loss = loss_fn(pred, Y)
    net.backward(loss_fn.backward())
    tpred = twin(torch.from_numpy(X))
    tloss = torch.nn.functional.mse_loss(tpred, torch.from_numpy(Y))
    tloss.backward()
    np.testing.assert_allclose(pred, tpred.detach().numpy(), rtol=1e-13, atol=1e-15)
    assert abs(loss - tloss.item()) <= 1e-13 * abs(loss)
    for p, t in zip(net.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.grad, _as_ours(t.grad), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_trajectory_matches_torch_after_200_steps(name, kwargs):
    net, twin = train_both(name, kwargs)
    assert max_rel_diff(net, twin) < RTOL


def test_param_groups_match_torch():
    X, Y = _data()
    net = ns.MLP([3, 8, 1], activation="tanh", rng=2)
    twin = torch_twin(net)
    p, t = net.parameters(), list(twin.parameters())
    ours = optim.Adam([{"params": p[:2]}, {"params": p[2:], "lr": 0.05}], lr=0.01, amsgrad=True)
    theirs = torch.optim.Adam([{"params": t[:2]}, {"params": t[2:], "lr": 0.05}], lr=0.01, amsgrad=True)
    loss_fn = ns.MSELoss()
    for _ in range(50):
        loss_fn(net(X), Y)
        ours.zero_grad()
        net.backward(loss_fn.backward())
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.mse_loss(twin(torch.from_numpy(X)), torch.from_numpy(Y)).backward()
        theirs.step()
    assert max_rel_diff(net, twin) < RTOL


def _torch_lrs(make, epochs, metrics=None):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(torch.optim.lr_scheduler, opt)
    out = [opt.param_groups[0]["lr"]]
    for e in range(epochs):
        opt.step()  # no gradient: a no-op that keeps torch from warning about the call order
        sched.step(metrics[e]) if metrics is not None else sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def _our_lrs(make, epochs, metrics=None):
    opt = optim.SGD([ns.Parameter(np.zeros(1))], lr=0.1)
    sched = make(optim, opt)
    out = [opt.lr]
    for e in range(epochs):
        sched.step(metrics[e]) if metrics is not None else sched.step()
        out.append(opt.lr)
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
        lambda m, o: m.ExponentialLR(o, gamma=0.93),
        lambda m, o: m.CosineAnnealingLR(o, T_max=10),
        lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.013),
    ],
    ids=["step", "exponential", "cosine", "cosine-eta-min"],
)
def test_schedulers_give_torchs_lr_sequence(make):
    ours, theirs = _our_lrs(make, 40), _torch_lrs(make, 40)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


@given(
    metrics=st.lists(st.sampled_from([1.0, 0.99999, 0.9, 0.5, 0.7, 2.0, 0.49]), min_size=1, max_size=40),
    mode=st.sampled_from(["min", "max"]),
    threshold_mode=st.sampled_from(["rel", "abs"]),
    threshold=st.sampled_from([0.0, 1e-4, 0.1]),
    patience=st.integers(0, 4),
    cooldown=st.integers(0, 3),
    factor=st.sampled_from([0.1, 0.5]),
    min_lr=st.sampled_from([0.0, 0.004]),
)
def test_reduce_on_plateau_gives_torchs_lr_sequence(
    metrics, mode, threshold_mode, threshold, patience, cooldown, factor, min_lr
):
    def make(m, o):
        return m.ReduceLROnPlateau(
            o,
            mode=mode,
            factor=factor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            cooldown=cooldown,
            min_lr=min_lr,
        )

    assert _our_lrs(make, len(metrics), metrics) == _torch_lrs(make, len(metrics), metrics)


def test_torch_default_init_has_torchs_bound():
    # torch.nn.Linear(fan_in, ...) draws W and b from U(±1/sqrt(fan_in)); so must we.
    fan_in, fan_out = 50, 400
    t = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
    W, b = ns.init.torch_default(fan_in, fan_out, np.random.default_rng(0))
    bound = 1 / np.sqrt(fan_in)
    for ours, theirs in ((W, t.weight.detach().numpy()), (b, t.bias.detach().numpy())):
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
        assert np.abs(ours).max() > 0.95 * bound and np.abs(theirs).max() > 0.95 * bound
