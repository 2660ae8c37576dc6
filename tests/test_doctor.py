"""The training doctor: each code on a constructed case, root-cause ordering, no effect on training."""

import warnings

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.bench.doctor.cases import CASES, train
from nnscratch.callbacks import TrainingContext
from nnscratch.cli import main
from nnscratch.doctor import CODES, Doctor, Finding, Thresholds, checkup, diagnose
from nnscratch.doctor.codes import order
from nnscratch.errors import ConfigError, NonFiniteError
from nnscratch.optim import SGD, Adam


def _report(case, seed):
    doctor = Doctor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(case, seed, [doctor])
    return doctor.report()


# Seed 3 was not used to choose the thresholds (they were tuned on seeds 0-2).
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_labelled_case(case):
    report = _report(case, seed=3)
    if case.expect:
        assert set(case.expect) <= set(report.codes), str(report)
    else:
        assert report.healthy, str(report)
        assert report.summary().startswith("Healthy")


def test_every_code_has_a_broken_case_and_healthy_cases_exist():
    demonstrated = {code for case in CASES for code in case.expect}
    assert set(CODES) - {"NOT_MEASURED", "INIT_LOSS_HIGH"} <= demonstrated
    assert sum(not c.expect for c in CASES) >= 10 and sum(bool(c.expect) for c in CASES) >= 20


def _loop(net, X, y, loss_fn, opt, steps, callbacks=(), zero_grad=True, batch=None, seed=0):
    """A hand-written loop calling the callbacks, with the batch known before the first step."""
    ctx = TrainingContext(model=net, loss_fn=loss_fn, optimizer=opt, x_batch=X, y_batch=y)
    for cb in callbacks:
        cb.on_train_begin(ctx)
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(steps):
            rows = rng.permutation(len(X))[:batch] if batch else slice(None)
            xb, yb = X[rows], y[rows]
            if zero_grad:
                opt.zero_grad()
            ctx.loss = loss_fn(net(xb), yb)
            net.backward(loss_fn.backward())
            opt.step()
            ctx.step, ctx.x_batch, ctx.y_batch = step, xb, yb
            for cb in callbacks:
                cb.on_step_end(ctx)
    for cb in callbacks:
        cb.on_train_end(ctx)


def test_watching_does_not_change_training():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((200, 3)), rng.standard_normal((200, 1))
    weights = []
    for callbacks in ([], [Doctor(every=1)]):
        net = ns.MLP([3, 16, 16, 1], rng=0)
        _loop(net, X, y, ns.MSELoss(), Adam(net.parameters(), 1e-2), 30, callbacks, batch=50)
        weights.append([p.data.copy() for p in net.parameters()])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_doctor_with_fit_and_deliberate_accumulation_is_healthy():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((512, 2))
    y = np.sin(X[:, :1]) + X[:, 1:] ** 2 / 2
    y = (y - y.mean()) / y.std()
    net = ns.MLP([2, 32, 32, 1], rng=1)
    doctor = Doctor(every=20)
    ns.fit(
        net,
        X,
        y,
        ns.MSELoss(),
        Adam(net.parameters(), 3e-3),
        epochs=8,
        batch_size=32,
        callbacks=[doctor],
        rng=0,
        progress=False,
    )
    report = doctor.report()
    assert report.healthy, str(report)
    assert report.trace.snapshots[0].step == 7  # the probe is gathered from the first 256 rows = 8 batches


def test_fit_guard_error_can_be_handed_to_the_report():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((256, 2)), rng.standard_normal((256, 1))
    net = ns.MLP([2, 32, 1], rng=2)
    doctor = Doctor(every=5)
    with pytest.raises(NonFiniteError) as info, np.errstate(all="ignore"):
        ns.fit(
            net,
            X,
            y,
            ns.MSELoss(),
            SGD(net.parameters(), lr=50.0),
            epochs=20,
            batch_size=256,
            callbacks=[doctor],
            progress=False,
        )
    report = doctor.report(error=info.value)
    nonfinite = next(f for f in report.findings if f.code == "NON_FINITE")
    assert nonfinite.step == info.value.step and nonfinite.evidence["tensor"]


def test_order_puts_root_causes_before_symptoms_and_says_unclear():
    def f(code, step):
        return Finding(code, CODES[code][0], code.lower(), CODES[code][1], step=step)

    shuffled = [f("CONSTANT_OUTPUT", 40), f("DEAD_RELU", 10), f("UNSCALED_INPUT", 0)]
    ordered = order(shuffled)
    assert [x.code for x in ordered] == ["UNSCALED_INPUT", "DEAD_RELU", "CONSTANT_OUTPUT"]
    assert ordered[0].role == "root cause" and ordered[1].caused_by == ["UNSCALED_INPUT"]
    assert set(ordered[2].caused_by) == {"UNSCALED_INPUT", "DEAD_RELU"}
    # A dead layer seen before the inputs' problem was recorded is not blamed on it.
    assert all(x.role == "root cause" for x in order([f("DEAD_RELU", 0), f("UNSCALED_INPUT", 5)]))
    alone = order([f("CONSTANT_OUTPUT", 3)])
    assert alone[0].role == "symptom, cause unclear" and "unclear" in alone[0].message


def test_report_root_cause_end_to_end_and_plot(tmp_path):
    case = next(c for c in CASES if c.name == "inputs-shifted-by-60")
    report = _report(case, seed=0)
    assert report.root_cause == "UNSCALED_INPUT"
    codes = report.codes
    assert codes.index("UNSCALED_INPUT") < codes.index("LINEAR_REGIME") < codes.index("PLATEAU")
    d = report.to_dict()
    assert d["healthy"] is False and d["findings"][0]["evidence"]["max_feature_rms"] > 10
    path = report.plot(tmp_path / "doctor.png")
    assert path.stat().st_size > 20_000


def test_thresholds_are_tunable_and_every_is_checked():
    case = next(c for c in CASES if c.name == "bias-init-minus-4")
    doctor = Doctor(thresholds=Thresholds(dead=1.0))
    train(case, 0, [doctor])
    assert "DEAD_RELU" not in doctor.report().codes
    with pytest.raises(ConfigError, match="every"):
        Doctor(every=0)


def test_a_doctor_that_could_not_measure_says_what_to_pass():
    net = ns.MLP([1, 4, 1], rng=0)
    loss_fn, opt = ns.MSELoss(), SGD(net.parameters(), lr=0.1)
    unattached = Doctor(net)  # no optimizer: nothing to watch
    x, y = np.ones((8, 1)), np.zeros((8, 1))
    for _ in range(3):
        opt.zero_grad()
        loss_fn(net(x), y)
        net.backward(loss_fn.backward())
        opt.step()
    report = unattached.report()
    assert not report.healthy and report.codes == ["NOT_MEASURED"]
    assert "Doctor(model, loss_fn, optimizer)" in report.summary()
    steps_only = Doctor(net, loss_fn, opt)
    opt.step()  # a step without a loss call: no batch to measure on
    report = steps_only.report()
    assert "NOT_MEASURED" in report.codes and "probe=(X, y)" in str(report) and "after 1 optimizer step" in str(report)


# --- diagnose ---------------------------------------------------------------------------------------------


def _sqrt_data(seed=0):
    rng = np.random.default_rng(seed)
    x = np.abs(rng.standard_normal((500, 1)) * 1000)
    return x, np.sqrt(x) + 0.5 * rng.standard_normal((500, 1))


def test_diagnose_unscaled_sqrt_and_its_standardised_fix():
    x, y = _sqrt_data()
    net = ns.MLP([1, 10, 1], init=ns.init.normal(0.01), rng=0)
    report = diagnose(net, x, y)
    assert report.root_cause == "UNSCALED_INPUT"
    assert {"UNSCALED_TARGET", "LINEAR_REGIME"} <= set(report.codes)
    assert "before training" in report.summary()
    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    assert diagnose(ns.MLP([1, 10, 1], rng=0), xs, ys).healthy


def test_diagnose_target_shape_nan_and_deep_signal():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((300, 2)), rng.standard_normal(300)
    assert diagnose(ns.MLP([2, 8, 1], rng=0), X, y).codes == ["SHAPE_BROADCAST"]
    X_nan = X.copy()
    X_nan[5, 1] = np.nan
    report = diagnose(ns.MLP([2, 8, 1], rng=0), X_nan, y[:, None])
    assert report.codes == ["NON_FINITE"] and report.findings[0].evidence["tensor"] == "the input batch"
    deep = ns.MLP([2] + [25] * 11 + [1], init=ns.init.uniform(-0.25, 0.25), rng=0)
    report = diagnose(deep, X, y[:, None])
    assert report.root_cause == "VANISHING_SIGNAL"
    assert report.findings[0].evidence["activation_ratio"] < 1e-2
    assert diagnose(ns.MLP([2] + [25] * 11 + [1], init="he_normal", rng=0), X, y[:, None]).healthy
    big = diagnose(ns.MLP([2, 8, 1], init=ns.init.normal(3.0), rng=0), X, y[:, None])
    assert (
        big.codes == ["INIT_LOSS_HIGH"]
        and big.findings[0].evidence["initial_loss"] > 10 * big.trace.snapshots[0].baseline
    )


# --- the documents' failures, re-expressed small (nnscratch.repro runs the faithful versions) ------------------


def _sqrt_run(variant, seed):
    x, y = _sqrt_data(seed)
    if variant != "failure":  # the answer's fix: standardise inputs and targets
        x, y = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    lr = 0.05 if variant == "standardised, larger step" else 1e-6
    net = ns.MLP([1, 10, 1], init=ns.init.normal(0.01), rng=seed)
    doctor = Doctor(every=100)
    _loop(net, x, y, ns.MSELoss(), SGD(net.parameters(), lr=lr), 2000, [doctor])
    return doctor.report()


@pytest.mark.parametrize("seed", [0, 1])
def test_sqrt_like_variants(seed):
    failure = _sqrt_run("failure", seed)
    assert failure.root_cause == "UNSCALED_INPUT" and "LINEAR_REGIME" in failure.codes
    assert _sqrt_run("standardised", seed).root_cause == "LR_TOO_SMALL"
    assert _sqrt_run("standardised, larger step", seed).healthy


def _sum_of_squares_run(forget_zero_grad, broadcast, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((400, 2))  # the document has 850 rows and lr 1e-6; same lr x rows, smaller broadcast (N, N)
    z = (X**2).sum(axis=1)
    y = z if broadcast else z[:, None]
    net = ns.MLP([2, 10, 5, 1], rng=seed)
    doctor = Doctor(every=100)
    _loop(
        net,
        X,
        y,
        ns.MSELoss("sum", broadcast=broadcast),
        SGD(net.parameters(), lr=2e-6),
        1500,
        [doctor],
        zero_grad=not forget_zero_grad,
    )
    return doctor.report()


@pytest.mark.parametrize("seed", [0, 1])
def test_sum_of_squares_like_variants(seed):
    assert _sum_of_squares_run(True, False, seed).root_cause == "GRAD_ACCUMULATION"
    assert _sum_of_squares_run(False, True, seed).root_cause == "SHAPE_BROADCAST"
    both = _sum_of_squares_run(True, True, seed)
    assert both.codes[:2] == ["SHAPE_BROADCAST", "GRAD_ACCUMULATION"]
    fixed = _sum_of_squares_run(False, False, seed)
    assert fixed.healthy, str(fixed)


def test_random_targets_like_variants():
    rng = np.random.default_rng(0)
    X, t = rng.standard_normal((1000, 2)), rng.standard_normal((1000, 1))
    t = (t - t.min()) / (t.max() - t.min())
    reports = {}
    for variant, init, lr in (("failure", ns.init.uniform(-0.25, 0.25), 0.01), ("he", "he_normal", 1e-3)):
        net = ns.MLP([2] + [25] * 11 + [1], init=init, rng=0)
        doctor = Doctor(every=10)
        _loop(
            net,
            X,
            t,
            ns.MSELoss(),
            Adam(net.parameters(), lr, amsgrad=True, semantics="keras"),
            120,
            [doctor],
            batch=500,
        )
        reports[variant] = doctor.report()
    assert reports["failure"].root_cause == "VANISHING_SIGNAL"
    assert {"CONSTANT_OUTPUT", "PLATEAU"} <= set(reports["failure"].codes)
    assert reports["he"].healthy, str(reports["he"])


# --- command line ---------------------------------------------------------------------------------------------


def test_cli_doctor_on_saved_model(tmp_path, capsys):
    x, y = _sqrt_data()
    np.savez(tmp_path / "data.npz", X=x, y=y)
    ns.save(tmp_path / "model.npz", ns.MLP([1, 10, 1], init=ns.init.normal(0.01), rng=0))
    assert (
        main(
            [
                "doctor",
                "--model",
                str(tmp_path / "model.npz"),
                "--data",
                str(tmp_path / "data.npz"),
                "--epochs",
                "2",
                "--plot",
                str(tmp_path / "e.png"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("most likely root cause: UNSCALED_INPUT") == 2 and (tmp_path / "e.png").exists()
    assert main(["doctor", "--sizes", "1,10,1", "--data", str(tmp_path / "data.npz"), "--json"]) == 0
    assert '"root_cause": "UNSCALED_INPUT"' in capsys.readouterr().out


def test_checkup_trains_only_when_asked():
    x, y = _sqrt_data()
    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    before, during = checkup(ns.MLP([1, 10, 1], rng=0), xs, ys)
    assert before.healthy and during is None
    before, during = checkup(ns.MLP([1, 10, 1], rng=0), xs, ys, epochs=20, lr=1e-2)
    assert during.healthy and during.trace.steps == 20 * 16


class _ScaledL1(ns.Loss):
    """|pred - y| / scale, with the per-row ``scale`` passed as an extra loss argument."""

    def forward(self, pred, target, scale):
        self.scale = scale
        return super().forward(pred, target)

    def elementwise(self, pred, target):
        self.sign = np.sign(pred - target)
        return np.abs(pred - target) / self.scale

    def elementwise_grad(self):
        return self.sign / self.scale


def test_extra_loss_arguments_and_announced_length():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2))
    y = X[:, :1] - X[:, 1:]
    scale = np.where(rng.random((300, 1)) < 0.01, 1e-4, 1.0)  # three rows weigh 10^4 times more
    net, loss_fn = ns.MLP([2, 16, 1], rng=0), _ScaledL1()
    opt = Adam(net.parameters(), 1e-3)
    doctor = Doctor(net, loss_fn, opt, every=6)  # attached: it sees the loss's extra argument in its hook
    for _ in range(60):
        opt.zero_grad()
        loss_fn(net(X), y, scale)
        net.backward(loss_fn.backward())
        opt.step()
    report = doctor.report()
    assert len(doctor.trace.snapshots) == 11  # steps 0, 6, ..., 54, and the last step at report time
    assert "HEAVY_TAILED_LOSS" in report.codes, str(report)


def test_trivial_solution_names_the_loss_that_rewards_predicting_zero():
    case = next(c for c in CASES if c.name == "relative-error-tiny-targets")
    report = _report(case, seed=4)
    assert report.root_cause == "TRIVIAL_SOLUTION", str(report)
    f = next(f for f in report.problems if f.code == "TRIVIAL_SOLUTION")
    ev = f.evidence
    assert ev["zero_prediction_loss"] < 0.5 * ev["mean_prediction_loss"]
    assert 0.8 <= ev["loss"] / ev["zero_prediction_loss"] <= 1.25
    assert "predicting 0" in f.message and "|y|" in f.message
    constant = [g for g in report.problems if g.code == "CONSTANT_OUTPUT"]
    assert all("TRIVIAL_SOLUTION" in g.caused_by for g in constant)  # the constant output is that answer


def _teacher(seed, n=512, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.tanh(X @ rng.standard_normal((d, 8))) @ rng.standard_normal((8, 1))
    return X, (y - y.mean()) / y.std()


def _hand_loop(net, X, y, loss_fn, opt, steps, batch, scheduler=None, seed=0):
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            rows = rng.choice(len(X), batch, replace=False)
            opt.zero_grad()
            loss_fn(net(X[rows]), y[rows])
            net.backward(loss_fn.backward())
            opt.step()
            if scheduler is not None:
                scheduler.step()


@pytest.mark.parametrize("gamma", [0.1, 0.5])
def test_a_schedule_that_cut_the_rate_to_nothing_is_lr_too_small(gamma):
    """StepLR stepped every batch (epochs meant): the rate vanishes long before the network fits.
    The same schedule with a mild gamma keeps learning and must not be flagged."""
    X, y = _teacher(5)
    net = ns.MLP([4, 32, 32, 1], rng=5)
    opt = SGD(net.parameters(), lr=0.01, momentum=0.9)
    step_lr = ns.schedulers.StepLR(opt, step_size=10 if gamma < 0.5 else 200, gamma=gamma)
    doctor = Doctor(net, ns.MSELoss(), opt)
    _hand_loop(net, X, y, doctor.loss_fn, opt, 400, 32, step_lr)
    report = doctor.report()
    assert report.trace.first_lr == 0.01
    if gamma < 0.5:
        finding = next(f for f in report.findings if f.code == "LR_TOO_SMALL")
        assert finding.evidence["rate_over_start"] < 1e-20 and "learning rate was" in finding.message, str(report)
    else:
        assert "LR_TOO_SMALL" not in report.codes, str(report)


def _randn_softplus(seed):
    X, y = _teacher(seed, 256, 5)
    net = ns.MLP([5, 100, 100, 100, 100, 1], rng=seed, activation="softplus", init=ns.init.normal(1.0))
    return X, y, net, SGD(net.parameters(), lr=1e-4)


def test_a_run_that_diverges_before_the_first_probe_is_measured_on_its_starting_weights():
    X, y, net, opt = _randn_softplus(0)
    start = [p.data.copy() for p in net.parameters()]
    doctor = Doctor(net, ns.MSELoss(), opt)
    _hand_loop(net, X, y, doctor.loss_fn, opt, 20, 32)
    report = doctor.report()
    assert {"EXPLODING_SIGNAL", "NON_FINITE"} <= set(report.codes), str(report)
    first = report.trace.snapshots[0]
    assert first.step == -1 and np.isfinite(first.loss) and first.lr == 1e-4
    assert "the run then diverged" in next(f for f in report.findings if f.code == "EXPLODING_SIGNAL").message
    # The doctor measured the starting weights and put the diverged ones back: training is as without it.
    X, y, plain, opt = _randn_softplus(0)
    _hand_loop(plain, X, y, ns.MSELoss(), opt, 20, 32)
    for p, q, s in zip(net.parameters(), plain.parameters(), start):
        np.testing.assert_array_equal(p.data, q.data)
        assert not np.array_equal(p.data, s, equal_nan=True)


def test_fit_guard_stops_before_the_first_probe_and_the_report_still_measures_the_start():
    X, y, net, opt = _randn_softplus(1)
    doctor = Doctor(net, ns.MSELoss(), opt)
    with pytest.raises(NonFiniteError), np.errstate(all="ignore"):
        ns.fit(net, X, y, doctor.loss_fn, opt, epochs=2, batch_size=32, rng=1, progress=False)
    report = doctor.report()
    assert {"EXPLODING_SIGNAL", "NON_FINITE"} <= set(report.codes), str(report)
    assert report.trace.snapshots[0].step == -1


def test_an_optimizer_built_for_another_model_is_refused_or_reported():
    """Built by hand, the doctor refuses it (a clear error); attached by a loop's callback, which must not
    raise, it watches the run and names the mistake as the root cause."""
    X, y = _teacher(7, 256)
    stale = ns.MLP([4, 16, 1], rng=7)
    net, opt = ns.MLP([4, 16, 1], rng=8), Adam(stale.parameters(), 1e-2)
    with pytest.raises(ConfigError, match="none of the model's parameters"):
        Doctor(net, ns.MSELoss(), opt)
    doctor = Doctor(every=5)
    _loop(net, X, y, ns.MSELoss(), opt, 40, [doctor], batch=32)
    report = doctor.report()
    assert report.root_cause == "OPTIMIZER_MISMATCH", str(report)
    assert "PLATEAU" in report.codes and "LR_TOO_SMALL" not in report.codes
    assert report.findings[0].evidence == {"step": 0, "model_parameters": 4, "optimizer_parameters": 4}


class _BothOptimizers:
    """A loop's own wrapper that steps two optimizers (a body and a head): no nnscratch hooks."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    @property
    def param_groups(self):
        return self.first.param_groups + self.second.param_groups

    def zero_grad(self):
        self.first.zero_grad()  # the head's optimizer is never zeroed: the mistake under test

    def step(self):
        self.first.step()
        self.second.step()


class _OwnMSE:
    """A loss written without nnscratch.Loss: called and differentiated, but with no hooks to attach to."""

    reduction = "mean"

    def __call__(self, pred, target):
        self.diff = pred - target
        return float((self.diff**2).mean())

    def backward(self):
        return 2 * self.diff / self.diff.size


def test_a_loop_whose_optimizer_or_loss_has_no_hooks_is_followed_through_its_callbacks():
    """Built by hand such objects are refused; as a loop's callback the doctor follows on_step_end instead."""
    X, y = _teacher(9, 256)
    body = ns.Sequential(ns.Linear(4, 16, rng=9), ns.ReLU())
    head = ns.Linear(16, 1, rng=10)
    net = ns.Sequential(body, head)
    both = _BothOptimizers(SGD(body.parameters(), lr=0.01), SGD(head.parameters(), lr=0.01))
    with pytest.raises(ConfigError, match="optimizer must be an nnscratch optimizer"):
        Doctor(net, ns.MSELoss(), both)
    doctor = Doctor(every=10)
    _loop(net, X, y, ns.MSELoss(), both, 60, [doctor], batch=32)
    report = doctor.report()
    assert report.trace.steps == 60 and report.trace.first_lr == 0.01
    accumulation = next(f for f in report.findings if f.code == "GRAD_ACCUMULATION")
    assert accumulation.step == 1, str(report)

    net = ns.MLP([4, 8, 1], rng=11)
    doctor = Doctor(every=10)
    _loop(net, X, y, _OwnMSE(), SGD(net.parameters(), lr=0.05), 30, [doctor], batch=32)
    report = doctor.report()  # the probe needs an nnscratch loss: the report says so, nothing raises
    assert report.trace.steps == 30 and len(report.trace.losses) == 30
    assert all(np.isfinite(report.trace.losses)) and not doctor.problems
    assert report.codes == ["NOT_MEASURED"] and "is not an nnscratch Loss" in str(report)
