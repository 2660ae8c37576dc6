"""ns.explain writes one step of backprop out with the engine's formulas, shapes and norms."""

import numpy as np

import nnscratch as ns


def _sqrt_data():
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((500, 1)))
    return x, np.sqrt(x)


def test_explain_shows_each_module_the_loss_and_the_backward_chain(capsys):
    x, y = _sqrt_data()
    net, loss_fn = ns.MLP([1, 10, 1], rng=0), ns.MSELoss()
    text = ns.explain(net, loss_fn, x, y)
    assert capsys.readouterr().out.strip() == text.strip()
    lines = text.splitlines()
    assert lines[0] == "forward:"
    assert "y = x @ W + b" in lines[1] and "x (500, 1), W (1, 10), b (10,) -> (500, 10)" in lines[1]
    assert "y = max(x, 0)" in lines[2] and "-> (500, 10)" in lines[2]
    assert "x (500, 10), W (10, 1), b (1,) -> (500, 1)" in lines[3]
    back = text[text.index("backward") :].splitlines()[1:]
    assert [line.split("]")[0].strip() for line in back if line.strip().startswith("[")] == ["[2", "[1", "[0"]
    # The norms it prints are those of a real step's gradients.
    loss_fn(net(x), y)
    net.zero_grad()
    net.backward(loss_fn.backward())
    W0 = net.parameters()[0]
    assert f"W.grad += |{float(np.linalg.norm(W0.grad)):.4g}|" in text


def test_explain_leaves_training_state_alone_and_a_custom_layer_explains_itself():
    class Scale(ns.Module):
        formula = "y = a * x"
        grad_formula = "da += (g * x).sum(axis=0);  dx = g * a"

        def __init__(self):
            self.a = ns.Parameter(np.full(1, 2.0))

        def forward(self, x):
            self.x = x
            return self.a.data * x

        def backward(self, grad_out):
            self.a.grad += (grad_out * self.x).sum(axis=0)
            return grad_out * self.a.data

    x, y = _sqrt_data()
    net = ns.Sequential(ns.Linear(1, 1, rng=0), Scale())
    net.parameters()[0].grad[...] = 7.0
    net.parameters()[0].accumulated = 3
    before = [p.data.copy() for p in net.parameters()]
    text = ns.explain(net, ns.L1Loss(), x, y, show=False)
    assert "y = a * x" in text and "da += (g * x).sum(axis=0)" in text and "sign(pred - y)" in text
    assert np.all(net.parameters()[0].grad == 7.0) and net.parameters()[0].accumulated == 3
    assert all(np.array_equal(b, p.data) for b, p in zip(before, net.parameters()))
