"""Optimizers and schedulers against formulas written here, independently, in plain NumPy."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import optim
from nnscratch.backend import to_numpy

STEPS = 25


def _grads(seed, shape=(3, 4), steps=STEPS):
    return list(np.random.default_rng(seed).standard_normal((steps, *shape)))


def _run(opt_cls, kwargs, p0, grads, xp=np):
    """Feed the gradients one by one to a single Parameter; return its values after each step."""
    p = ns.Parameter(xp.asarray(p0.copy()))
    opt = opt_cls([p], **kwargs)
    out = []
    for g in grads:
        p.grad[...] = xp.asarray(g)
        opt.step()
        out.append(to_numpy(p.data).copy())
    return out


# ---- textbook formulas (bias-corrected moments written out, as in the papers) ----


def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    out, buf = [], None
    for t, g in enumerate(grads):
        d = g + weight_decay * p
        if momentum:
            buf = d if t == 0 else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p)
    return out


def ref_adam(p, grads, lr, betas, eps, weight_decay=0.0, amsgrad=False, decoupled=False, keras=False):
    b1, b2 = betas
    m = v = vmax = np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p - lr * weight_decay * p
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        if keras:  # eps added to sqrt(v) before the bias correction is folded into the rate
            p = p - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(vv) + eps)
        else:
            m_hat, v_hat = m / (1 - b1**t), vv / (1 - b2**t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def ref_rmsprop(p, grads, lr, alpha, eps, weight_decay=0.0, momentum=0.0, centered=False):
    s = gbar = buf = np.zeros_like(p)
    out = []
    for g in grads:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g**2
        gbar = alpha * gbar + (1 - alpha) * g
        denom = np.sqrt(s - gbar**2 if centered else s) + eps
        if momentum:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
        out.append(p)
    return out


def _close(ours, ref):
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


P0 = np.random.default_rng(99).standard_normal((3, 4))
rates = st.floats(1e-4, 0.5)
unit = st.floats(0.0, 0.99)


@given(lr=rates, momentum=unit, dampening=unit, nesterov=st.booleans(), wd=st.floats(0, 0.1), seed=st.integers(0, 99))
def test_sgd_matches_formula(lr, momentum, dampening, nesterov, wd, seed):
    if nesterov and (momentum == 0 or dampening != 0):
        dampening, momentum = 0.0, max(momentum, 0.5)
    kw = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=wd)
    _close(_run(optim.SGD, kw, P0, _grads(seed)), ref_sgd(P0, _grads(seed), **kw))


@given(
    lr=rates,
    b1=unit,
    b2=st.floats(0.5, 0.9999),
    eps=st.sampled_from([1e-8, 1e-3, 0.1]),
    wd=st.floats(0, 0.1),
    amsgrad=st.booleans(),
    seed=st.integers(0, 99),
)
def test_adam_matches_formula(lr, b1, b2, eps, wd, amsgrad, seed):
    ours = _run(optim.Adam, dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=amsgrad), P0, _grads(seed))
    _close(ours, ref_adam(P0, _grads(seed), lr, (b1, b2), eps, wd, amsgrad))


@given(lr=rates, wd=st.floats(0, 0.5), amsgrad=st.booleans(), seed=st.integers(0, 99))
def test_adamw_matches_formula(lr, wd, amsgrad, seed):
    ours = _run(optim.AdamW, dict(lr=lr, weight_decay=wd, amsgrad=amsgrad), P0, _grads(seed))
    _close(ours, ref_adam(P0, _grads(seed), lr, (0.9, 0.999), 1e-8, wd, amsgrad, decoupled=True))


@given(lr=rates, amsgrad=st.booleans(), eps=st.sampled_from([None, 1e-3]), seed=st.integers(0, 99))
def test_keras_adam_matches_formula(lr, amsgrad, eps, seed):
    ours = _run(optim.Adam, dict(lr=lr, amsgrad=amsgrad, eps=eps, semantics="keras"), P0, _grads(seed))
    _close(ours, ref_adam(P0, _grads(seed), lr, (0.9, 0.999), 1e-7 if eps is None else eps, 0.0, amsgrad, keras=True))


def test_keras_and_torch_adam_differ_where_eps_matters():
    tiny = [g * 1e-9 for g in _grads(0)]
    torch_like = _run(optim.Adam, dict(lr=0.01, eps=1e-7), P0, tiny)[0]
    keras_like = _run(optim.Adam, dict(lr=0.01, semantics="keras"), P0, tiny)[0]
    # step 1: torch divides by sqrt(v)/sqrt(1-b2) + eps, Keras by sqrt(v) + eps with the rate scaled by sqrt(1-b2)
    g = tiny[0]
    np.testing.assert_allclose(P0 - torch_like, 0.01 * g / (np.abs(g) + 1e-7), rtol=1e-9)
    np.testing.assert_allclose(
        P0 - keras_like, 0.01 * np.sqrt(0.001) * g / (np.sqrt(0.001) * np.abs(g) + 1e-7), rtol=1e-9
    )
    assert not np.allclose(torch_like, keras_like, rtol=1e-3)


@given(
    lr=rates,
    alpha=st.floats(0.5, 0.999),
    eps=st.sampled_from([1e-8, 1e-2]),
    wd=st.floats(0, 0.1),
    momentum=unit,
    centered=st.booleans(),
    seed=st.integers(0, 99),
)
def test_rmsprop_matches_formula(lr, alpha, eps, wd, momentum, centered, seed):
    kw = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=momentum, centered=centered)
    _close(_run(optim.RMSprop, kw, P0, _grads(seed)), ref_rmsprop(P0, _grads(seed), **kw))


def test_defaults_are_torchs():
    p = [ns.Parameter(np.zeros(2))]
    assert optim.Adam(p).param_groups[0]["eps"] == 1e-8
    assert optim.Adam(p, semantics="keras").param_groups[0]["eps"] == 1e-7
    assert optim.AdamW(p).param_groups[0]["weight_decay"] == 1e-2
    assert optim.RMSprop(p).param_groups[0]["lr"] == 1e-2 and optim.RMSprop(p).param_groups[0]["alpha"] == 0.99


def test_step_leaves_grad_alone_and_zero_grad_clears_it():
    p = ns.Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1, weight_decay=0.5, momentum=0.9)
    p.accumulate(np.full(3, 2.0))
    opt.step()
    np.testing.assert_array_equal(p.grad, 2.0)  # weight decay must not leak into the stored gradient
    opt.zero_grad()
    assert not p.grad.any() and p.accumulated == 0


def test_param_groups_and_lr_property():
    a, b = ns.Parameter(np.ones(2)), ns.Parameter(np.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad[...] = b.grad[...] = 1.0
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)
    assert opt.lr == 0.1
    opt.lr = 0.5
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]


def test_optimizer_accepts_a_module_and_owns_its_state():
    net = ns.MLP([2, 3, 1], rng=0)
    opt = optim.Adam(net, lr=0.1)
    assert len(opt.parameters()) == 4
    p = net.parameters()[0]
    p.grad[...] = 1.0
    opt.step()
    assert opt.state[p]["step"] == 1
    moments = opt.state[p]["exp_avg"].copy()
    other = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)  # a second optimizer over the same parameters
    assert p not in other.state
    other.step()
    assert opt.state[p]["step"] == 1  # Adam's moments survive, as in torch
    np.testing.assert_array_equal(opt.state[p]["exp_avg"], moments)
    assert set(other.state[p]) == {"momentum_buffer"}


def test_optimizer_refuses_the_parameters_method_and_groups_without_params():
    net = ns.MLP([2, 3, 1], rng=0)
    with pytest.raises(ns.ConfigError, match=r"call it, net.parameters\(\)"):
        optim.Adam(net.parameters)
    with pytest.raises(ns.ConfigError, match="'params' key"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(ns.ConfigError, match=r"betas must be a pair.*0.9"):
        optim.Adam(net.parameters(), betas=0.9)
    opt = optim.SGD(net.parameters(), lr=np.float32(0.01))  # NumPy scalars are numbers too
    assert opt.lr == pytest.approx(0.01)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
        lambda p: optim.Adam(p, lr=0.01, amsgrad=True, semantics="keras"),
        lambda p: optim.AdamW(p, lr=0.01),
        lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    ],
)
def test_state_dict_round_trip_continues_identically(make):
    grads = _grads(5, steps=20)
    p = ns.Parameter(P0.copy())
    opt = make([p])
    for g in grads[:10]:
        p.grad[...] = g
        opt.step()
    saved, weights = opt.state_dict(), p.data.copy()
    for g in grads[10:]:
        p.grad[...] = g
        opt.step()
    q = ns.Parameter(weights)
    fresh = make([q])
    fresh.load_state_dict(saved)
    for g in grads[10:]:
        q.grad[...] = g
        fresh.step()
    np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_is_a_copy():
    p = ns.Parameter(np.zeros(2))
    opt = optim.Adam([p])
    p.grad[...] = 1.0
    opt.step()
    saved = opt.state_dict()
    opt.step()
    assert saved["state"][0]["step"] == 1
    assert not np.array_equal(saved["state"][0]["exp_avg"], opt.state[p]["exp_avg"])


def test_load_state_dict_refuses_a_different_model():
    opt = optim.Adam([ns.Parameter(np.zeros(2))])
    opt.parameters()[0].grad[...] = 1.0
    opt.step()
    with pytest.raises(ns.ConfigError, match="parameters"):
        optim.Adam([ns.Parameter(np.zeros(2)), ns.Parameter(np.zeros(2))]).load_state_dict(opt.state_dict())
    with pytest.raises(ns.ShapeError, match="shape"):
        optim.Adam([ns.Parameter(np.zeros(3))]).load_state_dict(opt.state_dict())


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: optim.SGD(p, lr=-1.0), "lr"),
        (lambda p: optim.SGD(p, lr=float("nan")), "lr"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "betas"),
        (lambda p: optim.Adam(p, betas=(0.9,)), "pair"),
        (lambda p: optim.Adam(p, semantics="tf"), "semantics"),
        (lambda p: optim.Adam(p, weight_decay=0.1, semantics="keras"), "AdamW"),
        (lambda p: optim.RMSprop(p, alpha=1.5), "alpha"),
        (lambda p: optim.SGD([], lr=0.1), "no parameters"),
        (lambda p: optim.SGD(p[0], lr=0.1), "iterable"),
        (lambda p: optim.SGD([p[0], p[0]], lr=0.1), "more than one"),
        (lambda p: optim.SGD([np.zeros(2)], lr=0.1), "Parameter"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ns.ConfigError, match=match):
        call([ns.Parameter(np.zeros(2))])


# ---- schedulers: closed forms written here ----


def _lrs(make_sched, epochs, base=0.1, metrics=None):
    opt = optim.SGD([ns.Parameter(np.zeros(1))], lr=base)
    sched = make_sched(opt)
    out = [opt.lr]
    for e in range(epochs):
        sched.step(metrics[e]) if metrics is not None else sched.step()
        out.append(opt.lr)
    return out


def test_step_and_exponential_closed_form():
    np.testing.assert_allclose(
        _lrs(lambda o: optim.StepLR(o, 3, 0.5), 10), [0.1 * 0.5 ** (e // 3) for e in range(11)], rtol=1e-15
    )
    np.testing.assert_allclose(
        _lrs(lambda o: optim.ExponentialLR(o, 0.9), 10), [0.1 * 0.9**e for e in range(11)], rtol=1e-14
    )


def test_cosine_closed_form_including_restart():
    T, eta = 7, 0.01
    got = _lrs(lambda o: optim.CosineAnnealingLR(o, T, eta), 3 * T)
    want = [eta + (0.1 - eta) * (1 + math.cos(math.pi * e / T)) / 2 for e in range(3 * T + 1)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_plateau_reduces_after_patience_and_cools_down():
    flat = [1.0] * 12
    got = _lrs(lambda o: optim.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1), 12, metrics=flat)
    # epoch 1 sets best; epochs 2,3,4 are bad -> reduce after the 4th; 1 cooldown epoch; 3 more bad -> reduce...
    assert got == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.0125]
    got = _lrs(lambda o: optim.ReduceLROnPlateau(o, factor=0.5, patience=0, min_lr=0.03), 5, metrics=[1.0] * 5)
    assert got == [0.1, 0.1, 0.05, 0.03, 0.03, 0.03]


def test_nnscratch_optim_lr_scheduler_alias():
    assert optim.lr_scheduler.StepLR is optim.StepLR
    assert optim.lr_scheduler.ReduceLROnPlateau is optim.ReduceLROnPlateau


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([ns.Parameter(np.zeros(1))], lr=1.0)
    sched = optim.CosineAnnealingLR(opt, 10)
    for _ in range(4):
        sched.step()
    saved, lr = sched.state_dict(), opt.lr
    assert "optimizer" not in saved
    opt2 = optim.SGD([ns.Parameter(np.zeros(1))], lr=lr)
    sched2 = optim.CosineAnnealingLR(opt2, 10)
    sched2.load_state_dict(saved)
    for _ in range(3):
        sched.step()
        sched2.step()
    assert opt.lr == opt2.lr and sched.get_last_lr() == sched2.get_last_lr()


def test_scheduler_bad_arguments():
    opt = optim.SGD([ns.Parameter(np.zeros(1))], lr=1.0)
    with pytest.raises(ns.ConfigError, match="step_size"):
        optim.StepLR(opt, 0)
    with pytest.raises(ns.ConfigError, match="factor"):
        optim.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ns.ConfigError, match="mode"):
        optim.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ns.ConfigError, match="optimizer"):
        optim.ExponentialLR(object(), 0.9)


@pytest.mark.gpu
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop])
def test_gpu_matches_cpu_and_state_moves(cls):
    import cupy

    kw = {"lr": 0.05, "momentum": 0.9} if cls in (optim.SGD, optim.RMSprop) else {"lr": 0.05}
    cpu, gpu = _run(cls, kw, P0, _grads(3)), _run(cls, kw, P0, _grads(3), xp=cupy)
    for a, b in zip(cpu, gpu):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    net = ns.MLP([2, 3, 1], rng=0)
    opt = cls(net.parameters(), **kw)
    for p in net.parameters():
        p.grad[...] = 1.0
    opt.step()
    net.to("cupy")
    assert all(
        isinstance(v, cupy.ndarray) for p in net.parameters() for v in opt.state[p].values() if hasattr(v, "dtype")
    )
    opt.step()  # keeps working on the GPU


class _SGDThatCallsSuper(optim.SGD):
    def step(self) -> None:
        super().step()


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam, _SGDThatCallsSuper])
def test_step_post_hooks_run_once_per_step_and_stop_when_removed(make):
    net = ns.MLP([2, 3, 1], rng=0)
    opt = make(net.parameters(), lr=0.1)
    assert "step" not in vars(opt)  # an unhooked step() is the update alone
    seen = []
    remove = opt.register_step_post_hook(lambda o: seen.append(net.layers[0].W.data.copy()))
    before = net.layers[0].W.data.copy()
    for p in net.parameters():
        p.grad = np.ones(p.shape)
    opt.step()
    assert len(seen) == 1 and not np.array_equal(seen[0], before)  # after the update, once
    opt.step()
    assert len(seen) == 2
    remove()
    opt.step()
    assert len(seen) == 2
