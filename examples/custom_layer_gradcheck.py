"""
Property-test a layer you wrote yourself
========================================

PReLU is a ReLU whose negative slope ``a`` is learned, one per feature::

    y = x            where x > 0
    y = a * x        elsewhere              x: (N, D), a: (D,)

Its backward has two gradients to get right: dL/dx = grad_out * (1 or a), and
dL/da = sum over the rows where x <= 0 of grad_out * x (``a`` is shared by every row, so
its gradient is summed over the batch). ``kink_state`` tells the checker which side of
the kink at 0 each input was on, so inputs exactly at 0 are checked as subgradients
instead of failing.

Three lines test it on every batch shape and every finite input Hypothesis can think of.
Run it with ``python examples/custom_layer_gradcheck.py`` (or collect it with pytest).
"""

import numpy as np
from hypothesis import given

import nnscratch as ns
from nnscratch.testing import assert_gradients_match, finite_arrays, shapes


class PReLU(ns.Module):
    def __init__(self, features: int, init: float = 0.25) -> None:
        self.a = ns.Parameter(np.full(features, init))

    def forward(self, x):
        self.x, self.mask = x, x > 0
        return np.where(self.mask, x, self.a.data * x)

    def backward(self, grad_out):
        self.a.grad += (grad_out * self.x * ~self.mask).sum(axis=0)
        return grad_out * np.where(self.mask, 1.0, self.a.data)

    def kink_state(self):
        return self.mask


# The three lines: every batch shape with 3 features, every finite input (zeros included).
@given(x=finite_arrays(shapes(features=3)))
def test_prelu_gradients(x):
    assert_gradients_match(lambda: PReLU(3), x)


if __name__ == "__main__":
    test_prelu_gradients()  # Hypothesis tries a hundred inputs; silence means they all passed
    x = np.array([[0.0, -1.5, 2.0], [0.3, 0.0, -0.7]])
    print(ns.check_module(PReLU(3), x, rng=0))
