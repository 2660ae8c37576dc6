import numpy as np
import pytest

import nnscratch as ns
from nnscratch import optim


def _regression(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 1))
    return X, np.sin(2 * X) + 0.05 * rng.standard_normal((n, 1))


def _fit(seed=0, epochs=5, **kwargs):
    X, y = _regression()
    net = ns.MLP([1, 16, 1], activation="tanh", rng=1)
    opt = kwargs.pop("opt", None) or optim.Adam(net.parameters(), lr=1e-2)
    return net, ns.fit(net, X, y, ns.MSELoss(), opt, epochs=epochs, batch_size=32, rng=seed, **kwargs)


class Recorder(ns.Callback):
    def __init__(self):
        self.events, self.steps, self.weights = [], [], None

    def on_train_begin(self, ctx):
        self.events.append("begin")

    def on_step_end(self, ctx):
        self.steps.append(
            (ctx.step, ctx.epoch, len(ctx.x_batch), ctx.loss, [p.accumulated for p in ctx.model.parameters()])
        )
        self.weights = [p.data.copy() for p in ctx.model.parameters()]

    def on_epoch_end(self, ctx):
        self.events.append(f"epoch {ctx.epoch}")

    def on_train_end(self, ctx):
        self.events.append("end")


def test_fit_learns_a_small_regression():
    X, y = _regression()
    net, history = _fit(epochs=80)
    assert history.loss[-1] < 0.05 * y.var()
    assert ns.MSELoss()(net(X), y) < 0.05 * y.var()
    assert history.loss[-1] < history.loss[0] / 10


def test_history_and_callbacks_see_every_step():
    rec = Recorder()
    _, history = _fit(epochs=3, callbacks=[rec])
    per_epoch = 7  # ceil(200 / 32)
    assert len(history.step_loss) == 3 * per_epoch and history.epochs == 3 and history.val_loss == []
    assert [s[0] for s in rec.steps] == list(range(3 * per_epoch))
    assert [s[1] for s in rec.steps] == [e for e in range(3) for _ in range(per_epoch)]
    assert [s[2] for s in rec.steps[:per_epoch]] == [32] * 6 + [8]
    assert [s[3] for s in rec.steps] == history.step_loss
    assert all(a == [1, 1, 1, 1] for *_, a in rec.steps)  # zero_grad every step: one backward per gradient
    assert rec.events == ["begin", "epoch 0", "epoch 1", "epoch 2", "end"]
    first = history.step_loss[:per_epoch]
    assert history.loss[0] == pytest.approx((sum(first[:6]) * 32 + first[6] * 8) / 200, rel=1e-12)
    assert history.as_dict()["loss"] is history.loss and not history.stopped_early


def test_same_seed_gives_a_bit_identical_history():
    net_a, a = _fit(seed=3)
    net_b, b = _fit(seed=3)
    assert a.step_loss == b.step_loss and a.loss == b.loss
    for p, q in zip(net_a.parameters(), net_b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    _, c = _fit(seed=4)
    assert c.step_loss != a.step_loss  # the seed drives the shuffling


def test_validation_and_schedulers():
    X, y = _regression()
    net = ns.MLP([1, 16, 1], activation="tanh", rng=1)
    opt = optim.SGD(net.parameters(), lr=0.1)
    h = ns.fit(
        net,
        X,
        y,
        ns.MSELoss(),
        opt,
        epochs=5,
        batch_size=50,
        rng=0,
        validation_data=(X[:20], y[:20]),
        scheduler=optim.StepLR(opt, step_size=2, gamma=0.5),
    )
    assert h.lr == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert len(h.val_loss) == 5 and h.val_loss[-1] == pytest.approx(ns.MSELoss()(net(X[:20]), y[:20]), rel=1e-12)


def test_reduce_on_plateau_gets_the_validation_loss():
    X, y = _regression()
    net = ns.MLP([1, 4, 1], rng=1)
    opt = optim.SGD(net.parameters(), lr=1e-6)  # the loss barely moves: every epoch is a plateau
    sched = optim.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    h = ns.fit(
        net, X, y, ns.MSELoss(), opt, epochs=6, batch_size=200, shuffle=False, scheduler=sched, validation_data=(X, y)
    )
    assert h.lr == [1e-6, 1e-6, 1e-6, 5e-7, 5e-7, 2.5e-7]
    assert sched.best == h.val_loss[0]


def test_guard_stops_at_first_non_finite_loss_and_restores_weights():
    X, y = _regression()
    net = ns.MLP([1, 16, 1], activation="tanh", rng=1)
    rec = Recorder()
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ns.NonFiniteError) as info:
        ns.fit(
            net,
            X * 1e3,
            y,
            ns.MSELoss(),
            optim.SGD(net.parameters(), lr=10.0),
            epochs=20,
            batch_size=32,
            rng=0,
            callbacks=[rec],
        )
    err = info.value
    assert f"step {err.step}" in str(err) and err.kind == "loss" and err.tensor == "loss"
    assert not np.isfinite(err.history.step_loss[-1]) and np.all(np.isfinite(err.history.step_loss[:-1]))
    assert len(err.history.step_loss) == err.step + 1 and rec.steps[-1][0] == err.step - 1
    for p, last in zip(net.parameters(), rec.weights):  # weights after the last finite step
        np.testing.assert_array_equal(p.data, last)


def test_guard_off_lets_the_run_diverge():
    X, y = _regression()
    net = ns.MLP([1, 16, 1], activation="tanh", rng=1)
    with np.errstate(over="ignore", invalid="ignore"):
        h = ns.fit(
            net,
            X * 1e3,
            y,
            ns.MSELoss(),
            optim.SGD(net.parameters(), lr=10.0),
            epochs=20,
            batch_size=32,
            rng=0,
            guard=False,
        )
    assert len(h.step_loss) == 20 * 7 and not np.isfinite(h.step_loss[-1])


@pytest.mark.parametrize("kind", ["gradient", "parameter"])
def test_guard_names_the_tensor_in_a_hand_written_loop(kind):
    net = ns.MLP([2, 3, 1], rng=0)
    guard = ns.NonFiniteGuard()
    ctx = ns.TrainingContext(model=net, step=0, loss=1.0)
    guard.on_train_begin(ctx)
    before = [p.data.copy() for p in net.parameters()]
    p = dict(net.named_parameters())["2.W"]
    if kind == "gradient":
        p.grad[0, 0] = np.nan
    else:
        p.data[1, 0] = np.inf
    ctx.step = 7
    with pytest.raises(ns.NonFiniteError, match=rf"step 7 .*{kind} of 2\.W") as info:
        guard.on_step_end(ctx)
    assert (info.value.kind, info.value.tensor, info.value.step) == (kind, "2.W", 7) and ctx.stop
    for q, b in zip(net.parameters(), before):
        np.testing.assert_array_equal(q.data, b)


def test_early_stopping_after_patience():
    X, y = _regression()
    net = ns.MLP([1, 4, 1], rng=1)
    stopper = ns.EarlyStopping(monitor="loss", patience=3, min_delta=1e9)  # no epoch after the first improves
    h = ns.fit(
        net,
        X,
        y,
        ns.MSELoss(),
        optim.SGD(net.parameters(), lr=0.1),
        epochs=50,
        batch_size=64,
        rng=0,
        callbacks=[stopper],
    )
    assert h.epochs == 4 and h.stopped_early and stopper.stopped_epoch == 3 and stopper.best_epoch == 0


def test_early_stopping_restores_best_weights():
    net = ns.MLP([1, 2, 1], rng=0)
    history = ns.History()
    ctx = ns.TrainingContext(model=net, history=history)
    stopper = ns.EarlyStopping(patience=2, restore_best_weights=True)
    stopper.on_train_begin(ctx)
    for epoch, value in enumerate([3.0, 1.0, 2.0, 2.5]):
        for p in net.parameters():
            p.data[...] = epoch
        history.loss.append(value)
        ctx.epoch = epoch
        stopper.on_epoch_end(ctx)
    assert ctx.stop and stopper.best_epoch == 1
    stopper.on_train_end(ctx)
    assert all(np.all(p.data == 1) for p in net.parameters())


def test_early_stopping_monitor_needs_a_recorded_value():
    with pytest.raises(ns.ConfigError, match="validation_data"):
        _fit(epochs=2, callbacks=[ns.EarlyStopping(monitor="val_loss")])


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    _fit(epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss" in err
    _fit(epochs=2)  # captured stderr is not a terminal
    _fit(epochs=2, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(epochs=0), ns.ConfigError, "epochs"),
        (dict(batch_size=0), ns.ConfigError, "batch_size"),
        (dict(batch_size=500, drop_last=True), ns.ConfigError, "no batch"),
        (dict(validation_data=(np.ones((2, 1)),)), ns.ConfigError, "pair"),
        (dict(loss=ns.MSELoss(reduction="none")), ns.ConfigError, "reduction"),
        (dict(y=np.ones((3, 1))), ns.ShapeError, "same number"),
        (dict(optimizer=object()), ns.ConfigError, "step"),
    ],
)
def test_fit_bad_arguments(kwargs, error, match):
    X, y = _regression()
    net = ns.MLP([1, 4, 1], rng=1)
    args = dict(
        model=net, X=X, y=y, loss=ns.MSELoss(), optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=2, batch_size=32
    )
    with pytest.raises(error, match=match):
        ns.fit(**{**args, **kwargs})


def test_a_diverging_fit_is_stopped_by_the_guard_even_when_runtime_warnings_are_errors():
    # The suite turns nnscratch's RuntimeWarnings into errors; an overflow on the way to a NaN must not
    # surface as a raw warning from a layer before the guard names the step.
    import warnings

    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((64, 2)) * 1e3, rng.standard_normal((64, 1))
    net = ns.MLP([2, 16, 1], rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ns.NonFiniteError, match="step"):
            ns.fit(net, X, y, ns.MSELoss(), ns.optim.SGD(net.parameters(), lr=10.0), 50, 64, progress=False)
