"""A checkpoint written by nnscratch 0.1.0 (optimizer buffers then kept on the parameters) still
loads, and training resumed from it continues bit for bit as that version continued it."""

from pathlib import Path

import numpy as np

import nnscratch as ns

DATA = Path(__file__).parent / "data"


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    return X, np.sin(X[:, :1]) + X[:, 1:2]


def test_a_file_saved_by_0_1_0_resumes_bit_for_bit():
    # Written by 0.1.0: MLP [3, 8, 1], Adam lr 1e-2, StepLR(3, 0.5), 10 full-batch steps; the .npy holds
    # that version's weights after 5 more steps.
    checkpoint = ns.load(DATA / "checkpoint_0.1.0.npz")
    net = checkpoint.model
    opt = ns.optim.Adam(net.parameters(), lr=1e-2)
    sched = ns.optim.StepLR(opt, step_size=3, gamma=0.5)
    checkpoint.restore(opt, sched)
    assert checkpoint.epoch == 10
    assert all(opt.state[p]["step"] == 10 for p in net.parameters())
    X, y = _data()
    loss_fn = ns.MSELoss()
    for _ in range(5):
        net.zero_grad()
        loss_fn(net(X), y)
        net.backward(loss_fn.backward())
        opt.step()
        sched.step()
    weights = np.concatenate([p.data.ravel() for p in net.parameters()])
    np.testing.assert_array_equal(weights, np.load(DATA / "checkpoint_0.1.0_after5.npy"))
