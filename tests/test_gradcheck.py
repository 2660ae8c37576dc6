"""check_module / check_loss / check_model, the report, the dtype policy, sensitivity, kinks, CLI."""

import sys

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.cli import main
from nnscratch.gradcheck import check_loss, check_model, check_module


def data(n=6, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, k))


class Tamper(ns.Module):
    """Wraps a network and corrupts one gradient after its (correct) backward."""

    def __init__(self, net, name, how, seed=0):
        self.net, self.name, self.how, self.seed = net, name, how, seed

    def forward(self, x):
        return self.net(x)

    def backward(self, grad_out):
        grad_in = self.net.backward(grad_out)
        g = grad_in if self.name == "input" else dict(self.net.named_parameters())[self.name].grad
        if self.how == "scale":
            g *= 1 + 1e-4
        else:  # flip the sign of one element that is not negligible
            candidates = np.flatnonzero(np.abs(g) >= 1e-3 * np.abs(g).max())
            i = np.random.default_rng(self.seed).choice(candidates)
            g.reshape(-1)[i] *= -1
        return grad_in


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("how", ["scale", "flip"])
def test_scaled_or_sign_flipped_gradient_is_caught_and_located(how, activation, fast):
    x, y = data(seed=2)
    net = ns.MLP([3, 8, 8, 2], activation=activation, rng=2)
    names = ["input"] + [name for name, _ in net.named_parameters()]
    for name in names:
        report = check_model(Tamper(net, name, how), ns.MSELoss(), x, y, rng=1, fast=fast)
        prefixed = "input" if name == "input" else f"net.{name}"
        assert [t.name for t in report.failed] == [prefixed], (name, str(report))
        assert report[prefixed].worst_index is not None  # fast mode re-checked it element by element


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_scaled_loss_gradient_is_caught(reduction):
    class Scaled(ns.MSELoss):
        def elementwise_grad(self):
            return 2 * self.diff * (1 + 1e-4)

    pred, target = data(k=3)
    assert check_loss(ns.MSELoss(reduction), pred, target, rng=0).passed
    for fast in (False, True):
        report = check_loss(Scaled(reduction), pred, target, rng=0, fast=fast)
        assert not report.passed and report.failed[0].name == "pred"


def test_report_contents_and_worst_element():
    layer = ns.Linear(3, 2, rng=0)
    x, _ = data()
    report = check_module(layer, x, rng=0)
    assert report.passed and bool(report)
    assert [t.name for t in report.tensors] == ["input", "W", "b"]
    assert (report.dtype, report.model_dtype, report.backend, report.mode) == ("float64", "float64", "numpy", "full")
    w = report["W"]
    assert w.shape == (3, 2) and w.kinks == 0 and w.max_abs_error < 1e-8 and w.used < 1
    assert w.step == pytest.approx(np.finfo(float).eps ** (1 / 3) * max(1, abs(layer.W.data[w.worst_index])))
    assert w.analytic == pytest.approx(w.numeric, rel=1e-7) and w.fd_error > 0
    assert report.evaluations == 1 + sum(t.evaluations for t in report.tensors) == 1 + 4 * (18 + 6 + 2)
    text = str(report)
    for word in ("gradcheck Linear: passed", "input", "W", "b", "worst at", "fd error", "kinks"):
        assert word in text
    with pytest.raises(KeyError, match="tensors"):
        report["nope"]


def test_failing_report_names_element_values_and_raises():
    class WrongBias(ns.Linear):
        def backward(self, grad_out):
            grad_in = super().backward(grad_out)
            self.b.grad[1] += 0.5
            return grad_in

    x, _ = data()
    report = check_module(WrongBias(3, 2, rng=0), x, rng=0)
    b = report["b"]
    assert not report.passed and not b.passed and report["W"].passed and b.failures == 1
    assert b.worst_index == (1,) and b.analytic - b.numeric == pytest.approx(0.5, rel=1e-6)
    assert b.max_abs_error == pytest.approx(0.5, rel=1e-6) and b.used > 1
    assert "FAILED (1 of 3 tensors)" in str(report) and "b: 1 element(s) outside tolerance; worst (1,)" in str(report)
    with pytest.raises(ns.GradientError, match="worst") as info:
        report.assert_ok()
    assert isinstance(info.value, AssertionError)


def test_zero_gradient_gives_zero_relative_error_not_nan():
    report = check_module(ns.ReLU(), -np.ones((2, 3)), rng=0)  # every unit off: gradient exactly 0
    t = report["input"]
    assert report.passed and t.max_rel_error == 0.0 and t.max_abs_error == 0.0


def test_float32_model_is_checked_through_a_float64_copy_and_left_alone():
    x, y = data()
    net = ns.MLP([3, 5, 2], activation="tanh", rng=0, dtype=np.float32)
    before = [(p.data.copy(), p.grad.copy()) for p in net.parameters()]
    report = check_model(net, ns.MSELoss(), x.astype(np.float32), y.astype(np.float32), rng=0)
    assert report.passed and (report.dtype, report.model_dtype) == ("float64", "float32")
    assert "float32 model checked in float64" in str(report)
    for p, (data_, grad) in zip(net.parameters(), before):
        assert p.data.dtype == np.float32
        np.testing.assert_array_equal(p.data, data_)
        np.testing.assert_array_equal(p.grad, grad)


def test_forcing_float32_warns_and_widens_the_tolerance():
    x, y = data()
    net = ns.MLP([3, 8, 2], activation="tanh", rng=0)
    with pytest.warns(ns.PrecisionWarning, match="float32"):
        report32 = check_model(net, ns.MSELoss(), x, y, rng=0, dtype=np.float32)
    report64 = check_model(net, ns.MSELoss(), x, y, rng=0)
    assert report32.passed and report32.dtype == "float32"
    assert report32["0.W"].tolerance > 100 * report64["0.W"].tolerance


@pytest.mark.parametrize("fast", [False, True])
def test_relu_exactly_at_zero_is_a_kink_not_a_failure(fast):
    x = np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 3.0]])
    for layer in (ns.ReLU(), ns.LeakyReLU(0.2)):
        report = check_module(layer, x, rng=0, fast=fast)
        assert report.passed and report["input"].kinks == 3 and report["input"].unverified_kinks == 0


def test_kink_with_a_wrong_subgradient_still_fails():
    class ReLUOneAtZero(ns.ReLU):  # derivative 1 at exactly 0 is fine...
        def backward(self, grad_out):
            return grad_out * (self.mask + 1.5 * (self.mask == 0) * (self.x == 0))

        def forward(self, x):
            self.x = x
            return super().forward(x)

    report = check_module(ReLUOneAtZero(), np.array([[0.0, 1.0]]), rng=0)  # ...1.5 is not between 0 and 1
    assert not report.passed and report["input"].worst_index == (0, 0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_kinks_l1_at_zero_residual_and_huber_at_delta(reduction):
    pred = np.array([[1.0, 2.0, -0.5], [3.0, 0.0, 1.0]])
    target = pred.copy()
    target[0, 2] += 1.3  # a smooth element
    target[1, 0] -= 0.5  # |d| = delta for Huber(0.5)
    for loss in (ns.L1Loss(reduction), ns.HuberLoss(reduction, delta=0.5)):
        for fast in (False, True):
            report = check_loss(loss, pred, target, rng=0, fast=fast)
            assert report.passed, str(report)
    report = check_loss(ns.L1Loss(reduction), pred, target, rng=0)
    assert report["pred"].kinks == 4  # the four zero residuals


def test_user_layer_without_kink_state_gets_the_generic_detector():
    class Abs(ns.Module):
        def forward(self, x):
            self.x = x
            return abs(x)

        def backward(self, grad_out):
            return grad_out * np.where(self.x >= 0, 1.0, -1.0)  # 1 at 0: a valid subgradient

    report = check_module(Abs(), np.array([[0.0, 2e-6, -1.0, 0.4]]), rng=0)
    assert report.passed and report["input"].suspected_kinks >= 1 and report["input"].kinks == 0


def test_fast_mode_costs_probes_not_elements():
    x, y = data(n=8, d=10, k=1)
    net = ns.MLP([10, 32, 32, 1], activation="tanh", rng=0)
    full = check_model(net, ns.MSELoss(), x, y, rng=0)
    fast = check_model(net, ns.MSELoss(), x, y, rng=0, fast=True, probes=3)
    assert full.passed and fast.passed
    assert fast.evaluations == 1 + 7 * 4 * 3 and full.evaluations > 4 * 1400
    assert all(t.mode == "fast" and t.worst_index is None for t in fast.tensors)


def test_backward_editing_its_input_gradient_is_a_problem():
    class InPlaceTanh(ns.Tanh):
        def backward(self, grad_out):
            grad_out *= 1 - self.out**2
            return grad_out

    report = check_module(InPlaceTanh(), data()[0], rng=0)
    assert not report.passed and "in place" in report.problems[0] and "problem:" in str(report)


def test_wrong_gradient_shape_is_a_problem():
    class Flat(ns.Identity):
        def backward(self, grad_out):
            return grad_out.reshape(-1)

    report = check_module(Flat(), data()[0], rng=0)
    assert not report.passed and "shape" in report.problems[0]


def test_same_seed_same_report_and_bad_arguments():
    x, y = data()
    net = ns.MLP([3, 4, 2], rng=0)
    assert str(check_model(net, ns.MSELoss(), x, y, rng=5)) == str(check_model(net, ns.MSELoss(), x, y, rng=5))
    with pytest.raises(ns.ConfigError, match="probes"):
        check_model(net, ns.MSELoss(), x, y, fast=True, probes=0)
    with pytest.raises(ns.ConfigError, match="Loss"):
        check_model(net, lambda p, t: 0.0, x, y)
    with pytest.raises(ns.ShapeError, match="rows"):
        check_model(net, ns.MSELoss(), x, y[:2])
    with pytest.raises(ns.ConfigError, match="float32 or float64"):
        check_module(net, x, dtype=np.float16)


def test_richardson_mode_passes_and_tightens_the_error_estimate():
    x, y = data()
    net = ns.MLP([3, 6, 2], activation="silu", rng=0)
    plain = check_model(net, ns.MSELoss(), x, y, rng=0)
    rich = check_model(net, ns.MSELoss(), x, y, rng=0, richardson=True)
    assert rich.passed and rich["0.W"].fd_error < plain["0.W"].fd_error


@pytest.mark.gpu
def test_cupy_model_is_checked_on_the_gpu():
    import cupy

    x, y = data()
    net = ns.MLP([3, 6, 2], activation="relu", rng=0, backend="cupy")
    for fast in (False, True):
        report = check_model(net, ns.MSELoss(), cupy.asarray(x), cupy.asarray(y), rng=0, fast=fast)
        assert report.passed and report.backend == "cupy"
    fd = ns.numerical_gradient(lambda v: float((v**3).sum()), cupy.asarray([1.0, 2.0]))
    np.testing.assert_allclose(fd.grad, [3.0, 12.0], rtol=1e-8)


def test_cli_gradcheck(capsys):
    assert main(["gradcheck", "--sizes", "1,10,1", "--activation", "relu", "--loss", "mse", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "passed" in out and "0.W" in out
    assert main(["gradcheck", "--sizes", "2,5,1", "--activation", "log", "--loss", "huber", "--fast"]) == 0
    assert "fast" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["gradcheck", "--sizes", "1"])


def test_cli_exit_code_on_failure(monkeypatch, capsys):
    from nnscratch.gradcheck import cases

    monkeypatch.setitem(cases.LOSSES, "mse", type("Bad", (ns.MSELoss,), {"elementwise_grad": lambda s: s.diff}))
    assert main(["gradcheck", "--sizes", "2,3,1"]) == 1
    assert "FAILED" in capsys.readouterr().out


class ReLUThreeAtZero(ns.ReLU):
    """A ReLU whose derivative at exactly 0 is 3: outside [0, 1], so wrong by any convention."""

    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, grad_out):
        return grad_out * np.where(self.x > 0, 1.0, np.where(self.x == 0, 3.0, 0.0))


def _kink_net(relu, first_weights=((1.0, -1.0), (-1.0, 1.0))):
    """Bias-free first layer whose input columns feed units of both signs: a zero row puts two kinks at x."""
    first, last = ns.Linear(2, 2, bias=False, rng=0), ns.Linear(2, 1, rng=0)
    first.W.data[...] = first_weights
    last.W.data[...] = [[0.7], [0.4]]
    return ns.Sequential(first, relu, last)


KINK_X = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 1.5]])  # row 0 on both kinks, the others far from them
KINK_Y = np.array([[0.3], [-1.0], [2.0]])


@pytest.mark.parametrize("fast", [False, True])
def test_wrong_derivative_at_a_multi_kink_point_fails_instead_of_passing_silently(fast):
    report = check_model(_kink_net(ReLUThreeAtZero()), ns.MSELoss(), KINK_X, KINK_Y, rng=0, fast=fast)
    assert not report.passed
    assert [t.name for t in report.failed] == ["input"]
    t = report["input"]
    assert t.unverified_kinks == 2 and t.worst_index[0] == 0 and not t.unverified_allowed
    assert "input: 2 element(s) unverified" in str(report) and "allow_unverified=True" in str(report)
    with pytest.raises(ns.GradientError, match="unverified"):
        report.assert_ok()


def test_unverified_elements_pass_only_when_allowed():
    right = _kink_net(ns.ReLU())
    strict = check_model(right, ns.MSELoss(), KINK_X, KINK_Y, rng=0)
    assert not strict.passed and strict["input"].failures == 0 and strict["input"].unverified_kinks == 2
    lenient = check_model(right, ns.MSELoss(), KINK_X, KINK_Y, rng=0, allow_unverified=True)
    assert lenient.passed and lenient["input"].unverified_allowed and "accepted (allow_unverified=True)" in str(lenient)
    # Everything else is still compared: a wrong parameter gradient fails with allow_unverified too.
    tampered = check_model(Tamper(right, "2.W", "scale"), ns.MSELoss(), KINK_X, KINK_Y, rng=0, allow_unverified=True)
    assert [t.name for t in tampered.failed] == ["net.2.W"]


@pytest.mark.parametrize("offset", [1e-7, 1e-9])
def test_kinks_near_the_point_are_resolved_with_smaller_steps(offset, monkeypatch):
    # Pre-activations (offset, -offset) of row 0 move together with x[0, 0]: one unit crosses its kink
    # on each side of the default stencil, but a small enough step crosses none.
    net = _kink_net(ns.ReLU(), ((1.0, 1.0), (1.0, -1.0)))
    x = KINK_X.copy()
    x[0] = [0.0, offset]
    report = check_model(net, ns.MSELoss(), x, KINK_Y, rng=0)
    t = report["input"]
    assert report.passed and t.unverified_kinks == 0 and t.kinks >= 1, str(report)
    assert report.evaluations > 1 + 4 * (KINK_X.size + 4 + 2 + 1)  # some element was re-checked
    monkeypatch.setattr(sys.modules["nnscratch.gradcheck.check"], "REFINE_ROUNDS", 0)
    unrefined = check_model(net, ns.MSELoss(), x, KINK_Y, rng=0)
    assert not unrefined.passed and unrefined["input"].unverified_kinks == 1


def test_unverified_elements_are_refined_with_smaller_steps_before_giving_up():
    report = check_model(_kink_net(ns.ReLU()), ns.MSELoss(), KINK_X, KINK_Y, rng=0, allow_unverified=True)
    base = 1 + 4 * (KINK_X.size + 4 + 2 + 1)  # f0, then 4 evaluations per element of every tensor
    assert report.evaluations == base + 4 * 2 * 4  # two unverified elements, four smaller steps each
