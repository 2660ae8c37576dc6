"""Checkpoints resume training bit for bit; the same seed gives the same run."""

import os
import tempfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import optim

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05),
    "sgd_nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adam_amsgrad_keras": lambda p: optim.Adam(p, lr=0.01, amsgrad=True, semantics="keras"),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "rmsprop_centered": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
}
SCHEDULERS = {
    "none": lambda o: None,
    "step": lambda o: optim.StepLR(o, step_size=2, gamma=0.5),
    "exponential": lambda o: optim.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: optim.CosineAnnealingLR(o, T_max=3),
    "plateau": lambda o: optim.ReduceLROnPlateau(o, patience=0, factor=0.5),
}


def _data(seed, dtype):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((13, 2)).astype(dtype)
    return X, np.sin(X @ np.array([[1.0], [-2.0]], dtype=dtype))


def _fit(model, X, y, opt, sched, epochs, gen):
    return ns.fit(model, X, y, ns.MSELoss(), opt, epochs=epochs, batch_size=4, scheduler=sched, rng=gen, progress=False)


def _weights(model):
    return [p.data.tobytes() for p in model.parameters()]


@given(
    st.sampled_from(sorted(OPTIMIZERS)),
    st.sampled_from(sorted(SCHEDULERS)),
    st.integers(1, 3),
    st.sampled_from(["float32", "float64"]),
    st.integers(0, 100),
)
def test_resume_from_checkpoint_equals_uninterrupted_run(opt_name, sched_name, split, dtype, seed):
    total = 4
    X, y = _data(seed, dtype)

    model = ns.MLP([2, 5, 1], activation="tanh", rng=seed, dtype=dtype)
    opt = OPTIMIZERS[opt_name](model.parameters())
    full = _fit(model, X, y, opt, SCHEDULERS[sched_name](opt), total, np.random.default_rng(seed))

    first = ns.MLP([2, 5, 1], activation="tanh", rng=seed, dtype=dtype)
    opt = OPTIMIZERS[opt_name](first.parameters())
    sched, gen = SCHEDULERS[sched_name](opt), np.random.default_rng(seed)
    head = _fit(first, X, y, opt, sched, split, gen)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ckpt.npz")
        ns.save(path, first, opt, sched, epoch=split, rng=gen)
        del first, opt, sched, gen  # resume from the file alone
        ckpt = ns.load(path)
    model2 = ckpt.model
    opt2 = OPTIMIZERS[opt_name](model2.parameters())
    sched2 = SCHEDULERS[sched_name](opt2)
    ckpt.restore(opt2, sched2)
    tail = _fit(model2, X, y, opt2, sched2, total - ckpt.epoch, ckpt.rng)

    assert _weights(model2) == _weights(model)
    assert head.step_loss + tail.step_loss == full.step_loss
    assert head.loss + tail.loss == full.loss
    assert head.lr + tail.lr == full.lr


def test_restore_checks_what_it_restores_into(tmp_path):
    model = ns.MLP([2, 3, 1], rng=0)
    opt = optim.Adam(model.parameters())
    ns.save(tmp_path / "c.npz", model, opt)
    ckpt = ns.load(tmp_path / "c.npz")
    with pytest.raises(ns.ConfigError, match="holds Adam state but optimizer is a SGD"):
        ckpt.restore(optim.SGD(ckpt.model.parameters(), lr=0.1))
    with pytest.raises(ns.ConfigError, match="no scheduler state"):
        ckpt.restore(scheduler=optim.StepLR(opt, step_size=1))
    with pytest.raises(ns.ConfigError, match="no RNG state"):
        ckpt.restore(rng=np.random.default_rng(0))
    ns.save(tmp_path / "c.npz", model, rng=np.random.default_rng(0))
    with pytest.raises(ns.ConfigError, match="holds PCG64 state but rng uses MT19937"):
        ns.load(tmp_path / "c.npz").restore(rng=np.random.Generator(np.random.MT19937(0)))


@pytest.mark.parametrize("shuffle", [True, False])
def test_same_seed_gives_bit_identical_training(shuffle):
    def run(seed):
        ns.manual_seed(123)  # the global generator too: unseeded calls must not make runs differ
        X, y = _data(0, "float64")
        model = ns.MLP([2, 8, 1], rng=seed)
        opt = optim.Adam(model.parameters(), lr=0.01)
        history = ns.fit(
            model, X, y, ns.MSELoss(), opt, epochs=3, batch_size=5, shuffle=shuffle, rng=seed, progress=False
        )
        return _weights(model), history.as_dict()

    assert run(7) == run(7)
    assert run(7) != run(8)
