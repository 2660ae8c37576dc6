"""The doctor never crashes: random small networks through random healthy and broken hand-written loops."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch.optim import SGD, Adam, AdamW, RMSprop

OPTIMIZERS = {
    "sgd": lambda p, lr: SGD(p, lr=lr),
    "momentum": lambda p, lr: SGD(p, lr=lr, momentum=0.9),
    "adam": lambda p, lr: Adam(p, lr=lr),
    "adamw": lambda p, lr: AdamW(p, lr=lr),
    "rmsprop": lambda p, lr: RMSprop(p, lr=lr),
    "keras": lambda p, lr: Adam(p, lr=lr, amsgrad=True, semantics="keras"),
}


@st.composite
def runs(draw):
    sizes = [draw(st.integers(1, 4)), *draw(st.lists(st.integers(1, 8), min_size=0, max_size=3)), 1]
    return {
        "sizes": sizes,
        "activation": draw(st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "identity"])),
        "optimizer": draw(st.sampled_from(sorted(OPTIMIZERS))),
        "lr": draw(st.sampled_from([1e-3, 0.1, 10.0, 1e6])),  # 1e6: divergence within a few steps
        "rows": draw(st.sampled_from([1, 2, 16])),
        "steps": draw(st.integers(0, 25)),
        "nan_at": draw(st.one_of(st.none(), st.integers(0, 25))),  # NaN in the data from this step on
        "constant_y": draw(st.booleans()),
        "zero_grad": draw(st.booleans()),
        "loss": draw(st.sampled_from(["mse", "l1", "huber"])),
        "seed": draw(st.integers(0, 2**16)),
    }


LOSSES = {"mse": ns.MSELoss, "l1": ns.L1Loss, "huber": ns.HuberLoss}


@settings(max_examples=60, deadline=None)
@given(runs())
def test_the_doctor_always_reports_and_names_the_run_length(run):
    rng = np.random.default_rng(run["seed"])
    net = ns.MLP(run["sizes"], activation=run["activation"], rng=run["seed"])
    loss_fn = LOSSES[run["loss"]]()
    opt = OPTIMIZERS[run["optimizer"]](net.parameters(), run["lr"])
    X = rng.standard_normal((run["rows"], run["sizes"][0]))
    y = np.full((run["rows"], 1), 3.0) if run["constant_y"] else rng.standard_normal((run["rows"], 1))
    doctor = ns.Doctor(net, loss_fn, opt, probe_size=8)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for step in range(run["steps"]):
            xb = X.copy()
            if run["nan_at"] is not None and step >= run["nan_at"]:
                xb[0, 0] = math.nan
            if run["zero_grad"]:
                opt.zero_grad()
            loss_fn(net(xb), y)
            net.backward(loss_fn.backward())
            opt.step()
        report = doctor.report()
    text = str(report)
    steps = run["steps"]
    assert f"{steps} optimizer step" in text, text
    assert report.summary() in text
    if steps and run["nan_at"] is not None and run["nan_at"] < steps:
        assert "NON_FINITE" in report.codes, text
    doctor.detach()


def test_a_doctor_inside_fit_with_the_guard_names_the_step_and_tensor():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((128, 2)), rng.standard_normal((128, 1))
    net = ns.MLP([2, 16, 1], rng=2)
    loss_fn, opt = ns.MSELoss(), SGD(net.parameters(), lr=50.0)
    doctor = ns.Doctor(net, loss_fn, opt)
    with pytest.raises(ns.NonFiniteError) as info, np.errstate(all="ignore"):
        ns.fit(net, X, y, loss_fn, opt, epochs=50, batch_size=128, progress=False)
    report = doctor.report()
    found = next(f for f in report.findings if f.code == "NON_FINITE")
    assert found.step == info.value.step and found.evidence["tensor"], str(report)


def test_with_block_detaches_and_hooks_are_removed():
    net, loss_fn = ns.MLP([1, 4, 1], rng=0), ns.MSELoss()
    opt = SGD(net.parameters(), lr=0.1)
    with ns.Doctor(net, loss_fn, opt) as doctor:
        loss_fn(net(np.ones((4, 1))), np.zeros((4, 1)))
        net.backward(loss_fn.backward())
        opt.step()
    assert doctor.trace.steps == 1 and not doctor.attached
    opt.step()  # no longer watched
    assert doctor.trace.steps == 1
    assert net._forward_hooks == () and loss_fn._forward_hooks == () and opt._step_post_hooks == ()


def test_arguments_after_the_optimizer_are_keyword_only_and_checked():
    net, loss_fn = ns.MLP([1, 4, 1], rng=0), ns.MSELoss()
    opt = SGD(net.parameters(), lr=0.1)
    with pytest.raises(TypeError):
        ns.Doctor(net, loss_fn, opt, None, 5)  # type: ignore[misc]
    with pytest.raises(ns.ConfigError, match="budget"):
        ns.Doctor(net, loss_fn, opt, budget=0)
    with pytest.raises(ns.ConfigError, match="none of the model's parameters"):
        ns.Doctor(net, loss_fn, SGD(ns.MLP([1, 4, 1], rng=1).parameters(), lr=0.1))
    with pytest.raises(ns.ConfigError, match="loss_fn must be an nnscratch loss"):
        ns.Doctor(net, lambda p, t: 0.0, opt)


def test_fixes_are_one_ordered_list_without_contradictions():
    from nnscratch.doctor.codes import finding
    from nnscratch.doctor.report import Report

    report = Report([finding("LR_TOO_SMALL", "small steps", {}), finding("DEAD_RELU", "dead units", {})])
    fixes = report.fixes
    assert any("raise the learning rate" in f for f in fixes)
    assert not any("lower the learning rate" in f for f in fixes)
    assert "What to do, in order:\n  1. " in str(report)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.floats(0, 1e6), st.floats(-1e3, 1e3), st.sampled_from([math.nan, math.inf]))),
    st.sampled_from([0.0, 1e-3, 0.5]),
)
def test_loss_rise_is_the_largest_loss_over_the_best_before_it(losses, floor):
    from nnscratch.doctor.rules import _rise

    if not all(math.isfinite(v) for v in losses):
        expected = math.inf
    else:  # each loss over the smallest one before it, that best counted as at least ``floor``
        bests = [max(min(losses[:i]), floor) for i in range(1, len(losses))]
        expected = max([1.0, *(v / b for v, b in zip(losses[1:], bests) if b > 0)])
    assert _rise(losses, floor) == expected
