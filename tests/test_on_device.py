"""The engine on the CuPy code path, run on nnscratch.devicedouble (a CPU double of CuPy).

Every test builds its model with ``backend="cupy"`` while the double plays CuPy (the ``cp``
fixture), so the engine takes exactly the path it takes on a GPU: its arrays refuse implicit
conversion to NumPy, NumPy functions CuPy lacks, and host arrays mixed into device
arithmetic. Where a NumPy run exists to compare with, the results must be equal bit for bit:
the double computes with NumPy, so any difference is a different code path, not rounding.

A training step may move one number to the host, its loss (``Loss.forward`` returns a float);
the tests at the end count the transfers of a step, of ``fit`` and of the doctor.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import devicedouble, optim
from nnscratch.activations import ACTIVATIONS
from nnscratch.devicedouble import transfers
from nnscratch.training import train_step

pytestmark = pytest.mark.device_double
BACKENDS = ("numpy", "cupy")  # "cupy" is the double inside the cp fixture


def host(a):
    """A host copy of a device array (explicitly), anything else as it is."""
    return a.get() if type(a) is devicedouble.ndarray else a


def data(n=64, d=3, k=1, seed=0, dtype=np.float64):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((n, d)).astype(dtype)
    y = (np.sin(X[:, :1]) + X[:, -1:] ** 2 / 2).repeat(k, axis=1).astype(dtype)
    return X, y


def on(backend, *arrays):
    return tuple(ns.to_backend(a, backend) for a in arrays)


def assert_params_equal(a, b):
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(host(p.data), host(q.data), err_msg=name)


# --- layers and losses --------------------------------------------------------------------------------


def _positive(x):
    return abs(x) + 0.5


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_forward_and_backward_equal_numpys(cp, name):
    gen = np.random.default_rng(1)
    x = gen.standard_normal((8, 5))
    x = _positive(x) if name == "log" else x
    g = gen.standard_normal((8, 5))
    results = {}
    for backend in ("numpy", "cupy"):
        act = ns.activations.make_activation(name)
        xb, gb = on(backend, x, g)
        out = act(xb)
        grad = act.backward(gb)
        assert ns.backend.backend_of(out) == backend and ns.backend.backend_of(grad) == backend
        results[backend] = (host(out), host(grad))
    for a, b in zip(results["numpy"], results["cupy"]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_and_backward_equal_numpys(cp, dtype, bias):
    x, g = data(16, 4, dtype=dtype)[0], np.random.default_rng(2).standard_normal((16, 3)).astype(dtype)
    layers = {b: ns.Linear(4, 3, bias=bias, rng=0, dtype=dtype, backend=b) for b in ("numpy", "cupy")}
    outs = {}
    for backend, layer in layers.items():
        xb, gb = on(backend, x, g)
        out, grad_in = layer(xb), layer.backward(gb)
        assert out.dtype == dtype and grad_in.dtype == dtype
        outs[backend] = (host(out), host(grad_in), host(layer.W.grad))
    for a, b in zip(outs["numpy"], outs["cupy"]):
        np.testing.assert_array_equal(a, b)
    assert_params_equal(layers["numpy"], layers["cupy"])


def test_sequential_and_mlp_with_every_activation_equal_numpys(cp):
    x, y = data(32, 3)
    for act in sorted(set(ACTIVATIONS) - {"log", "exp"}):
        nets = {b: ns.MLP([3, 8, 8, 1], activation=act, rng=3, backend=b) for b in ("numpy", "cupy")}
        grads = {}
        for backend, net in nets.items():
            xb, yb = on(backend, x, y)
            loss_fn = ns.MSELoss()
            value = loss_fn(net(xb), yb)
            grads[backend] = (value, host(net.backward(loss_fn.backward())))
        assert grads["numpy"][0] == grads["cupy"][0], act
        np.testing.assert_array_equal(grads["numpy"][1], grads["cupy"][1], err_msg=act)


@pytest.mark.parametrize("loss_cls", [ns.MSELoss, ns.L1Loss, ns.HuberLoss])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_every_loss_value_and_gradient_equal_numpys(cp, loss_cls, reduction):
    gen = np.random.default_rng(4)
    pred, target = gen.standard_normal((10, 2)) * 2, gen.standard_normal((10, 2))
    results = {}
    for backend in ("numpy", "cupy"):
        loss_fn = loss_cls(reduction=reduction)
        pb, tb = on(backend, pred, target)
        value = loss_fn(pb, tb)
        grad_out = ns.to_backend(np.full((10, 2), 0.5), backend) if reduction == "none" else 1.0
        results[backend] = (host(value), host(loss_fn.backward(grad_out)))
    if reduction != "none":
        assert isinstance(results["cupy"][0], float)
    for a, b in zip(results["numpy"], results["cupy"]):
        np.testing.assert_array_equal(a, b)


def test_a_broadcasting_loss_sums_its_gradient_back_on_the_device(cp):
    pred, target = np.arange(4.0).reshape(4, 1), np.arange(4.0)
    values = {}
    for backend in ("numpy", "cupy"):
        loss_fn = ns.MSELoss(broadcast=True)
        with pytest.warns(ns.BroadcastWarning):
            value = loss_fn(*on(backend, pred, target))
        values[backend] = (value, host(loss_fn.backward()))
    assert values["numpy"][0] == values["cupy"][0]
    np.testing.assert_array_equal(values["numpy"][1], values["cupy"][1])


def test_a_host_batch_for_a_device_model_is_a_clear_error(cp):
    net = ns.MLP([2, 4, 1], rng=0, backend="cupy")
    with pytest.raises(ns.BackendError, match="model.to|to_backend"):
        net(np.ones((3, 2)))
    with pytest.raises(ns.BackendError):
        ns.MSELoss()(cp.ones((3, 1)), np.ones((3, 1)))


def test_log_refuses_non_positive_device_input_with_a_clear_error(cp):
    with pytest.raises(ns.DomainError, match="non-positive"):
        ns.Log()(cp.asarray([[1.0, -2.0]]))


def test_every_initializer_builds_the_same_weights_on_the_device(cp):
    for name in ns.init.NAMES:
        a = ns.Linear(3, 4, init=name, rng=5, backend="numpy")
        b = ns.Linear(3, 4, init=name, rng=5, backend="cupy")
        assert type(b.W.data) is cp.ndarray
        assert_params_equal(a, b)


# --- optimizers and schedulers ------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05),
    "sgd-momentum-wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "sgd-nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-3),
    "adam-amsgrad": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
    "adam-keras": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True, semantics="keras"),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-3, weight_decay=1e-3),
    "rmsprop-centered-momentum": lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
}


def _train(backend, make_opt, steps=5, seed=0, dtype=np.float64):
    X, y = data(32, 3, dtype=dtype)
    net = ns.MLP([3, 8, 1], rng=seed, dtype=dtype, backend=backend)
    opt = make_opt(net.parameters())
    xb, yb = on(backend, X, y)
    losses = [train_step(net, ns.MSELoss(), opt, xb, yb) for _ in range(steps)]
    return net, opt, losses


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_steps_as_on_numpy(cp, name):
    a, _, losses_a = _train("numpy", OPTIMIZERS[name])
    b, opt_b, losses_b = _train("cupy", OPTIMIZERS[name])
    assert losses_a == losses_b
    assert_params_equal(a, b)
    for p in b.parameters():  # the buffers live where the parameters live
        assert all(type(v) is cp.ndarray for v in opt_b.state[p].values() if hasattr(v, "shape"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_state_dict_round_trip_on_the_device(cp, dtype):
    net, opt, _ = _train("cupy", OPTIMIZERS["adam-amsgrad"], dtype=dtype)
    saved = opt.state_dict()
    fresh = optim.Adam(net.parameters(), lr=1e-2, amsgrad=True)
    fresh.load_state_dict(saved)
    for p in net.parameters():
        for key, value in opt.state[p].items():
            if hasattr(value, "shape"):
                restored = fresh.state[p][key]
                assert type(restored) is cp.ndarray and restored.dtype == dtype
                np.testing.assert_array_equal(host(restored), host(value))
    host_state = {i: {k: host(v) for k, v in s.items()} for i, s in saved["state"].items()}
    fresh.load_state_dict({**saved, "state": host_state})  # a state saved on the host goes to the device
    assert type(fresh.state[net.parameters()[0]]["exp_avg"]) is cp.ndarray


SCHEDULERS = {
    "step": lambda o: optim.StepLR(o, step_size=2, gamma=0.5),
    "exponential": lambda o: optim.ExponentialLR(o, gamma=0.8),
    "cosine": lambda o: optim.CosineAnnealingLR(o, T_max=4),
    "plateau": lambda o: optim.ReduceLROnPlateau(o, patience=0, factor=0.5, threshold=0.5),
}


def _fit(backend, **kwargs):
    X, y = data(48, 3)
    net = ns.MLP([3, 8, 1], rng=0, backend=backend)
    opt = kwargs.pop("opt", optim.Adam)(net.parameters(), lr=kwargs.pop("lr", 1e-2))
    scheduler = kwargs.pop("scheduler", None)
    val = kwargs.pop("validation", False)
    xb, yb = on(backend, X, y)
    history = ns.fit(
        net,
        xb,
        yb,
        ns.MSELoss(),
        opt,
        epochs=kwargs.pop("epochs", 5),
        batch_size=16,
        rng=0,
        progress=False,
        scheduler=None if scheduler is None else scheduler(opt),
        validation_data=on(backend, X[:16], y[:16]) if val else None,
        **kwargs,
    )
    return net, history


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_scheduler_in_fit_as_on_numpy(cp, name):
    a, ha = _fit("numpy", scheduler=SCHEDULERS[name], validation=True)
    b, hb = _fit("cupy", scheduler=SCHEDULERS[name], validation=True)
    assert ha.as_dict() == hb.as_dict()
    assert len(set(hb.lr)) > 1  # the schedule did change the rate
    assert_params_equal(a, b)


# --- fit, its guard and early stopping ----------------------------------------------------------------


@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_records_the_same_history_as_on_numpy(cp, shuffle):
    a, ha = _fit("numpy", shuffle=shuffle, validation=True, drop_last=True)
    b, hb = _fit("cupy", shuffle=shuffle, validation=True, drop_last=True)
    assert ha.as_dict() == hb.as_dict() and all(isinstance(v, float) for v in hb.step_loss + hb.val_loss)
    assert_params_equal(a, b)


def test_fit_converts_integer_device_data(cp):
    X = cp.asarray(np.arange(12).reshape(6, 2))
    y = cp.asarray(np.arange(6).reshape(6, 1))
    net = ns.MLP([2, 4, 1], rng=0, backend="cupy")
    history = ns.fit(net, X, y, ns.MSELoss(), optim.SGD(net.parameters(), lr=1e-3), 2, 3, progress=False)
    assert history.epochs == 2


def test_fit_refuses_non_finite_device_data_naming_the_index(cp):
    X = cp.asarray(np.ones((5, 2)))
    X[3, 1] = float("nan")
    net = ns.MLP([2, 1], rng=0, backend="cupy")
    with pytest.raises(ns.NonFiniteError, match=r"index \(3, 1\)"):
        ns.fit(net, X, cp.ones((5, 1)), ns.MSELoss(), optim.SGD(net.parameters()), 1, 2, progress=False)


def test_the_guard_stops_a_diverging_device_run_and_restores_its_weights(cp):
    for backend in ("numpy", "cupy"):
        with pytest.raises(ns.NonFiniteError) as info, np.errstate(all="ignore"):  # NumPy warns, CuPy does not
            _fit(backend, opt=optim.SGD, lr=1e3, epochs=50)
        if backend == "numpy":
            expected = (info.value.step, info.value.tensor, info.value.kind)
    assert (info.value.step, info.value.tensor, info.value.kind) == expected
    assert info.value.history.step_loss and all(math.isfinite(v) for v in info.value.history.step_loss[:-1])


def test_the_guard_restores_the_last_finite_weights_on_the_device(cp):
    net = ns.MLP([1, 1], rng=0, backend="cupy")
    before = host(net[0].W.data).copy()
    guard = ns.NonFiniteGuard()
    ctx = ns.TrainingContext(model=net, loss=1.0)
    guard.on_train_begin(ctx)
    net[0].W.data[...] = float("inf")
    with pytest.raises(ns.NonFiniteError, match="parameter of 0.W"):
        guard.on_step_end(ctx)
    np.testing.assert_array_equal(host(net[0].W.data), before)
    net[0].W.grad[...] = float("nan")
    with pytest.raises(ns.NonFiniteError, match="gradient of 0.W"):
        guard.on_step_end(ctx)


def test_a_finite_run_whose_sums_overflow_is_not_stopped_by_the_guard(cp):
    for backend in BACKENDS:
        net = ns.MLP([1, 4], rng=0, backend=backend, dtype=np.float32)
        net[0].W.data[...] = 3e38  # every element finite, their sum is not
        guard = ns.NonFiniteGuard()
        ctx = ns.TrainingContext(model=net, loss=1.0)
        guard.on_train_begin(ctx)
        guard.on_step_end(ctx)  # no error
        assert not ctx.stop
        net[0].b.data[2] = float("inf")
        with pytest.raises(ns.NonFiniteError, match="parameter of 0.b"):
            guard.on_step_end(ctx)


def test_early_stopping_restores_the_best_weights_as_on_numpy(cp):
    def stop():
        return ns.EarlyStopping(patience=1, restore_best_weights=True, min_delta=1e9)  # stops after 2 epochs

    a, ha = _fit("numpy", callbacks=[stop()], validation=True, epochs=20)
    b, hb = _fit("cupy", callbacks=[stop()], validation=True, epochs=20)
    assert hb.stopped_early and hb.epochs == 2 and ha.as_dict() == hb.as_dict()
    assert_params_equal(a, b)


# --- data ---------------------------------------------------------------------------------------------


def test_standardizer_and_splits_on_the_device(cp):
    X, y = data(40, 3)
    X = X * [1.0, 100.0, 1e-3] + 5.0
    s_host, s_dev = ns.data.Standardizer().fit(X), ns.data.Standardizer().fit(cp.asarray(X))
    z = s_dev.transform(cp.asarray(X))
    assert type(z) is cp.ndarray
    np.testing.assert_array_equal(host(z), s_host.transform(X))
    np.testing.assert_array_equal(host(s_dev.inverse_transform(z)), s_host.inverse_transform(s_host.transform(X)))
    parts_host = ns.data.train_test_split(X, y, 0.25, rng=0)
    parts_dev = ns.data.train_test_split(cp.asarray(X), cp.asarray(y), 0.25, rng=0)
    for a, b in zip(parts_host, parts_dev):
        assert type(b) is cp.ndarray
        np.testing.assert_array_equal(a, host(b))


def test_minibatches_upload_the_order_once_per_epoch(cp):
    X, y = on("cupy", *data(64, 2))
    transfers.reset()
    batches = list(ns.data.minibatches(X, y, 8, shuffle=True, rng=0))
    assert len(batches) == 8 and all(type(b) is cp.ndarray for pair in batches for b in pair)
    assert transfers.to_device == 1 and transfers.to_host == 0, transfers


# --- module.to() round trips --------------------------------------------------------------------------


def test_module_to_round_trip_keeps_every_value(cp):
    net, opt, _ = _train("numpy", OPTIMIZERS["adam-amsgrad"])
    before = {n: (p.data.copy(), p.grad.copy()) for n, p in net.named_parameters()}
    state = {k: v.copy() for k, v in opt.state[net.parameters()[0]].items() if hasattr(v, "copy")}
    net.to("cupy")
    for name, p in net.named_parameters():
        assert p.backend == "cupy" and type(p.grad) is cp.ndarray
        np.testing.assert_array_equal(host(p.data), before[name][0])
        np.testing.assert_array_equal(host(p.grad), before[name][1])
    moved = opt.state[net.parameters()[0]]
    assert all(type(v) is cp.ndarray for k, v in moved.items() if k in state)
    net.to("numpy")
    for name, p in net.named_parameters():
        assert type(p.data) is np.ndarray
        np.testing.assert_array_equal(p.data, before[name][0])
    for k, v in state.items():
        np.testing.assert_array_equal(opt.state[net.parameters()[0]][k], v)


def test_training_continues_identically_after_a_move_to_the_device(cp):
    a, opt_a, _ = _train("numpy", OPTIMIZERS["rmsprop-centered-momentum"], steps=3)
    b, opt_b, _ = _train("numpy", OPTIMIZERS["rmsprop-centered-momentum"], steps=3)
    b.to("cupy")
    X, y = data(32, 3)
    for _ in range(3):
        la = train_step(a, ns.MSELoss(), opt_a, X, y)
        lb = train_step(b, ns.MSELoss(), opt_b, *on("cupy", X, y))
        assert la == lb
    assert_params_equal(a, b)


# --- gradient checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fast", [False, True])
def test_check_module_on_the_device(cp, fast):
    x = cp.asarray(np.random.default_rng(0).standard_normal((6, 3)))
    for module in (ns.Linear(3, 2, rng=0, backend="cupy"), ns.Tanh(), ns.Softplus(), ns.SiLU(), ns.Sigmoid()):
        report = ns.check_module(module, x, fast=fast, rng=0)
        report.assert_ok()
        assert report.backend == "cupy"


@pytest.mark.parametrize("fast", [False, True])
def test_check_model_and_check_loss_on_the_device(cp, fast):
    X, y = on("cupy", *data(8, 2))
    net = ns.MLP([2, 5, 1], activation="tanh", rng=0, backend="cupy")
    ns.check_model(net, ns.HuberLoss(), X, y, fast=fast, rng=0).assert_ok()
    ns.check_loss(ns.MSELoss(reduction="sum"), net(X), y, fast=fast, rng=0).assert_ok()
    assert net.parameters()[0].backend == "cupy"  # the check worked on a copy


def test_check_module_with_relu_kinks_on_the_device_agrees_with_numpy(cp):
    x = np.random.default_rng(0).standard_normal((6, 3))
    x[0] = 0.0
    nets = [ns.MLP([3, 4, 1], init=ns.init.normal(0.5), rng=0, backend=b) for b in BACKENDS]  # zero biases
    inputs = [x, cp.asarray(x)]
    reports = [ns.check_module(net, xb, rng=0, allow_unverified=True) for net, xb in zip(nets, inputs)]
    assert reports[0].passed and reports[1].passed
    assert sum(t.kinks for t in reports[1].tensors) > 0  # the zero row put units on their kinks
    for a, b in zip(reports[0].tensors, reports[1].tensors):
        assert (a.name, a.max_abs_error, a.kinks, a.evaluations) == (b.name, b.max_abs_error, b.kinks, b.evaluations)


@pytest.mark.parametrize("fast", [False, True])
def test_the_checker_blames_the_same_tensor_of_every_wrong_gradient_on_the_device(cp, fast):
    from nnscratch import zoo

    for name, specimen in zoo.SPECIMENS.items():
        reports = []
        for backend in BACKENDS:
            kind, subject, args = specimen.build(specimen.cls, np.random.default_rng(0))
            if isinstance(subject, ns.Module):
                subject.to(backend)
            check = ns.check_module if kind == "module" else ns.check_loss
            reports.append(check(subject, *on(backend, *args), fast=fast, rng=0))
        assert not reports[1].passed and specimen.wrong_tensor in [t.name for t in reports[1].failed], name
        assert str(reports[1]) == str(reports[0]).replace("numpy", "cupy"), name


# --- save, load, torch --------------------------------------------------------------------------------


def test_save_a_device_model_and_load_it_on_either_backend(cp, tmp_path):
    net, opt, _ = _train("cupy", OPTIMIZERS["adam"])
    sched = optim.StepLR(opt, 2)
    ns.save(tmp_path / "m.npz", net, opt, sched, epoch=3)
    on_host = ns.load(tmp_path / "m.npz", backend="numpy")
    on_device = ns.load(tmp_path / "m.npz", backend="cupy")
    assert on_host.model.parameters()[0].backend == "numpy" and on_device.model.parameters()[0].backend == "cupy"
    assert_params_equal(net, on_host.model)
    assert_params_equal(net, on_device.model)
    fresh = optim.Adam(on_device.model.parameters(), lr=1e-2, weight_decay=1e-3)
    on_device.restore(fresh)
    p, q = net.parameters()[0], on_device.model.parameters()[0]
    assert type(fresh.state[q]["exp_avg"]) is cp.ndarray
    np.testing.assert_array_equal(host(fresh.state[q]["exp_avg"]), host(opt.state[p]["exp_avg"]))
    X, y = on("cupy", *data(32, 3))
    assert train_step(net, ns.MSELoss(), opt, X, y) == train_step(on_device.model, ns.MSELoss(), fresh, X, y)


def test_torch_state_dict_round_trip_through_the_host(cp):
    net = ns.MLP([3, 4, 2], rng=0, backend="cupy")
    sd = ns.interop.to_torch_state_dict(net)
    assert all(type(v) is np.ndarray for v in sd.values())
    np.testing.assert_array_equal(sd["0.weight"], host(net[0].W.data).T)
    other = ns.MLP([3, 4, 2], rng=1, backend="cupy")
    ns.interop.from_torch_state_dict(other, sd)
    assert type(other[0].W.data) is cp.ndarray
    assert_params_equal(net, other)
    ns.interop.from_torch_state_dict(other, {k: cp.asarray(v) for k, v in sd.items()})  # device arrays too
    assert_params_equal(net, other)


@pytest.mark.torch
def test_torch_tensors_load_into_a_device_model(cp):
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).double()
    net = ns.MLP([3, 4, 1], rng=0, backend="cupy")
    ns.interop.from_torch_state_dict(net, tnet.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3))
    expected = tnet(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(host(net(cp.asarray(x))), expected, rtol=1e-12, atol=1e-12)


# --- the training doctor ------------------------------------------------------------------------------


def same_report(a, b):
    """Equal reports, every number included (NaN equal to NaN: a diverged run's evidence holds some)."""
    return json.dumps(a.to_dict(), sort_keys=True, default=str) == json.dumps(b.to_dict(), sort_keys=True, default=str)


def _doctor_fit(backend):
    X, y = data(256, 3)
    net = ns.MLP([3, 16, 1], rng=0, backend=backend)
    doctor = ns.Doctor(every=5)
    xb, yb = on(backend, X * 100, y)  # unscaled inputs: a finding to agree on
    opt = optim.Adam(net.parameters(), 1e-3)
    ns.fit(net, xb, yb, ns.MSELoss(), opt, 3, 32, callbacks=[doctor], progress=False, rng=0)
    return doctor.report()


def test_the_doctor_reports_on_a_device_fit_as_on_numpy(cp):
    a, b = _doctor_fit("numpy"), _doctor_fit("cupy")
    assert "UNSCALED_INPUT" in b.codes
    assert same_report(a, b) and str(a) == str(b)


def test_diagnose_on_device_data_as_on_numpy(cp):
    X, y = data(300, 3)
    reports = []
    for backend in BACKENDS:
        net = ns.MLP([3, 8, 1], rng=0, backend=backend)
        reports.append(ns.diagnose(net, *on(backend, X, y * 10 + 500)))
    assert {"UNSCALED_TARGET", "INIT_LOSS_HIGH"} <= set(reports[1].codes)
    assert same_report(*reports)
    net = ns.MLP([3, 8, 1], rng=0, backend="cupy")
    assert ns.diagnose(net, *on("cupy", X, y[:, 0])).codes[0] == "SHAPE_BROADCAST"  # (N, 1) against (N,)


def test_a_doctor_that_saw_no_batch_says_so_on_the_device(cp):
    net = ns.MLP([3, 8, 1], rng=0, backend="cupy")
    doctor = ns.Doctor()
    doctor.on_train_begin(ns.TrainingContext(model=net))
    assert [f.code for f in doctor.report().findings] == ["NOT_MEASURED"]


def _doctor_cases():
    from nnscratch.bench.doctor import cases

    first = {}
    for case in cases.CASES:
        for code in case.expect:
            first.setdefault(code, case)
    return sorted(first.items())


@pytest.mark.filterwarnings("ignore::nnscratch.BroadcastWarning")  # the broadcast cases warn on every step
@pytest.mark.parametrize(("code", "case"), _doctor_cases(), ids=[code for code, _ in _doctor_cases()])
def test_each_doctor_code_on_a_small_device_run_as_on_numpy(cp, code, case):
    """The first case of the doctor's benchmark that demonstrates each code, trained on the device."""
    from nnscratch.bench.doctor import cases

    reports = []
    for backend in BACKENDS:
        cfg = case.build(0)
        cfg["model"].to(backend)
        cfg["X"], cfg["y"] = on(backend, cfg["X"], cfg["y"])
        doctor = ns.Doctor()
        cases.train(cases.Case(case.name, case.expect, lambda s, cfg=cfg: cfg), 0, [doctor])
        reports.append(doctor.report())
    assert code in reports[1].codes, str(reports[1])
    assert same_report(*reports)


# --- what crosses between host and device -------------------------------------------------------------


class StepTransfers(ns.Callback):
    """The transfers of each step, as the log holds them when the step's callbacks run."""

    def __init__(self):
        self.per_step = []
        self._seen = 0

    def on_train_begin(self, ctx):
        self._seen = transfers.total

    def on_step_end(self, ctx):
        self.per_step.append(transfers.records[self._seen :])
        self._seen = transfers.total


def _places(records):
    return sorted({r.where.split(" in ")[0].split(":")[0] + ":" + r.how for r in records})


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_training_step_moves_only_the_loss_to_the_host(cp, name):
    X, y = on("cupy", *data(32, 3))
    for activation in sorted(set(ACTIVATIONS) - {"log"}):
        net = ns.MLP([3, 8, 8, 1], activation=activation, rng=0, backend="cupy", input_grad=False)
        opt = OPTIMIZERS[name](net.parameters())
        for loss_fn in (ns.MSELoss(), ns.L1Loss(), ns.HuberLoss()):
            for _ in range(2):  # the first step creates the optimizer's buffers
                with devicedouble.counting() as log:
                    value = train_step(net, loss_fn, opt, X, y)
                assert isinstance(value, float)
                assert (log.to_host, log.to_device) == (1, 0), f"{activation}, {loss_fn}:\n{log}"
                assert _places(log.records) == ["losses.py:float()"]


def test_a_fit_step_moves_the_loss_and_one_guard_flag_to_the_host(cp):
    X, y = on("cupy", *data(64, 3))
    for guard, expected in ((True, ["losses.py:float()", "stopping.py:float()"]), (False, ["losses.py:float()"])):
        net = ns.MLP([3, 8, 1], rng=0, backend="cupy")
        spy = StepTransfers()
        ns.fit(net, X, y, ns.MSELoss(), optim.Adam(net.parameters()), 3, 16, callbacks=[spy], guard=guard, rng=0)
        # the first step of each epoch also carries that epoch's upload of the shuffled order
        for step, records in enumerate(spy.per_step):
            uploads = [r for r in records if r.direction == "to_device"]
            assert len(uploads) == (1 if step % 4 == 0 else 0), records
            downloads = [r for r in records if r.direction == "to_host"]
            assert len(downloads) == len(expected) and _places(downloads) == expected, records


def test_the_doctor_adds_no_transfer_to_a_step_between_its_probes(cp):
    X, y = on("cupy", *data(256, 3))
    net = ns.MLP([3, 8, 1], rng=0, backend="cupy")
    doctor, spy = ns.Doctor(every=10, probe=(X[:64], y[:64])), StepTransfers()
    opt = optim.SGD(net.parameters(), lr=0.01)
    ns.fit(net, X, y, ns.MSELoss(), opt, 2, 32, callbacks=[doctor, spy], guard=False, shuffle=False, progress=False)
    quiet = [records for step, records in enumerate(spy.per_step) if step % 10 not in (0, 1)]
    assert quiet and all(_places(r) == ["losses.py:float()"] for r in quiet), quiet
    assert [s.step for s in doctor.trace.snapshots] == [-1, 0, 10, 15]  # it did probe, every 10 steps and last


# --- the reproductions --------------------------------------------------------------------------------


def _shortened(monkeypatch):
    """Every scenario cut to a few hundred steps through its own constants: the same code, less of it."""
    import dataclasses

    from nnscratch.repro import poly32, random_targets, sqrt, sum_of_squares, wide_range

    monkeypatch.setattr(sqrt, "QUICK_STEPS", 300)
    monkeypatch.setattr(sum_of_squares, "QUICK_EPOCHS", 100)
    monkeypatch.setattr(sum_of_squares, "EPOCHS", 100)
    monkeypatch.setattr(sum_of_squares, "ANSWER_STEPS", 100)
    shorter = {k: dataclasses.replace(v, quick_steps=60, samples=500) for k, v in random_targets.SETUPS.items()}
    monkeypatch.setattr(random_targets, "SETUPS", shorter)
    monkeypatch.setattr(random_targets, "PROBE_ROWS", 500)
    monkeypatch.setattr(wide_range, "QUICK_STEPS", 150)
    monkeypatch.setattr(poly32, "N", 2048)
    monkeypatch.setattr(poly32, "QUICK_EPOCHS", 2)


def _summary(result):
    out = result.to_dict()
    out.pop("seconds")
    return json.dumps(out, sort_keys=True, default=str)


def _variants():
    from nnscratch import repro

    return [(name, variant) for name in repro.names() for variant in repro.variants(name)]


@pytest.mark.parametrize(("name", "variant"), _variants())
def test_every_reproduction_variant_runs_on_the_device_as_on_numpy(cp, monkeypatch, name, variant):
    """A shortened quick run with the doctor: metrics, verdict, loss ends and the doctor's report all equal."""
    from nnscratch import repro

    _shortened(monkeypatch)
    on_host = repro.run(name, variant, quick=True, doctor=True)
    with ns.set_backend("cupy"):
        on_device = repro.run(name, variant, quick=True, doctor=True)
    assert type(on_device.model.parameters()[0].data) is cp.ndarray
    assert type(on_device.predict(on_device.X[:3])) is np.ndarray  # predictions come back to the host
    assert _summary(on_host) == _summary(on_device)


def test_the_figures_of_a_device_run_render(cp, monkeypatch, tmp_path):
    from nnscratch import repro
    from nnscratch.repro.figures import write_figures

    _shortened(monkeypatch)
    with ns.set_backend("cupy"):
        results = [repro.run("sqrt", variant, quick=True) for variant in repro.variants("sqrt")]
    paths = write_figures(results, tmp_path)
    assert paths and all(p.stat().st_size > 0 for p in paths)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "variant"), _variants())
def test_the_quick_form_of_every_variant_on_the_device_as_on_numpy(cp, name, variant):
    """The quick form itself, unshortened, with the doctor (minutes in all: marked slow)."""
    from nnscratch import repro

    on_host = repro.run(name, variant, quick=True, doctor=True)
    with ns.set_backend("cupy"):
        on_device = repro.run(name, variant, quick=True, doctor=True)
    assert type(on_device.model.parameters()[0].data) is cp.ndarray
    assert _summary(on_host) == _summary(on_device)


# --- the examples -------------------------------------------------------------------------------------


def _example(name, monkeypatch):
    import importlib.util
    from pathlib import Path

    monkeypatch.setenv("NNSCRATCH_QUICK_EXAMPLES", "1")
    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"device_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_gpu_example_takes_its_cupy_branch(cp, monkeypatch, capsys):
    example = _example("gpu_training", monkeypatch)
    monkeypatch.setattr(example, "STEPS", 3)
    example.main()
    out = capsys.readouterr().out
    assert "cupy   MLP [64, 256, 256, 1]" in out and "batch  16384" in out, out
    loss, _ = example.train("cupy", [4, 16, 1], 256, steps=30)
    assert loss == example.train("numpy", [4, 16, 1], 256, steps=30)[0] and loss < 1.5


def test_the_sqrt_walkthrough_on_device_data(cp, monkeypatch, capsys):
    walk = _example("sqrt_walkthrough", monkeypatch)
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((500, 1)) * 1000)
    y = np.sqrt(x) + 0.5 * rng.standard_normal((500, 1))
    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    with ns.set_backend("cupy"):
        raw = walk.train(*on("cupy", x, y), lr=1e-6, steps=500)
        fixed = walk.train(*on("cupy", xs, ys), lr=1e-2, steps=2000)
    assert type(raw[0].W.data) is cp.ndarray
    assert walk.kinks_inside(raw, cp.asarray(x)) == 0 and walk.kinks_inside(fixed, cp.asarray(xs)) >= 1


def test_the_custom_layer_example_on_the_device(cp, monkeypatch):
    pytest.importorskip("hypothesis")
    example = _example("custom_layer_gradcheck", monkeypatch)
    x = np.array([[0.0, -1.5, 2.0], [0.3, 0.0, -0.7], [1.0, 2.0, -3.0]])
    layer = example.PReLU(3).to("cupy")
    report = ns.check_module(layer, cp.asarray(x), rng=0)
    report.assert_ok()
    on_host = ns.check_module(example.PReLU(3), x, rng=0)
    assert report.backend == "cupy" and str(report) == str(on_host).replace("numpy", "cupy")


def test_the_custom_loss_example_on_the_device(cp, monkeypatch, capsys):
    _example("custom_loss", monkeypatch)  # the example itself, on NumPy
    from nnscratch.repro.wide_range import RelativeL1Loss, make_data, normaliser

    gen = np.random.default_rng(0)
    _, y, terms = make_data(gen, 8, dtype=np.float64)
    pred = y + gen.standard_normal(y.shape) * 10.0
    scale = normaliser("terms", y, terms)
    for reduction in ("mean", "sum", "none"):
        on_host = ns.check_loss(RelativeL1Loss(scale=scale, reduction=reduction), pred, y, rng=0)
        device_loss = RelativeL1Loss(scale=cp.asarray(scale), reduction=reduction)
        on_device = ns.check_loss(device_loss, *on("cupy", pred, y), rng=0)
        on_device.assert_ok()
        assert str(on_host).replace("numpy", "cupy") == str(on_device)


# --- the GPU benchmark (what benchmarks/gpu_check.sh times on a real GPU) ------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_benchmarks_cupy_contenders_step_as_on_numpy(cp, optimizer):
    from nnscratch.bench import contenders, problems

    problem = problems.mlp_problem(np.float32, optimizer, batch=256)
    for build in (contenders.nnscratch_step, contenders.handwritten_step):
        on_host, on_device = build(problem, backend="numpy"), build(problem, backend="cupy")
        for _ in range(3):
            with devicedouble.counting() as log:
                value = on_device()
            assert value == on_host() and (log.to_host, log.to_device) == (1, 0), log


def test_the_gpu_benchmark_runs_on_the_double(cp):
    from nnscratch.bench.cases import ENGINE, Settings
    from nnscratch.bench.gpu import gpu_cases

    results, note = gpu_cases(Settings.quick(), quick=True)
    assert "device double" in note and len(results) == 2
    for case in results:
        assert {ENGINE, "hand-written CuPy"} <= set(case.timings) and case.label.endswith("(GPU)")
