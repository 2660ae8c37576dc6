"""A deliberately plain finite-difference checker for the core tests (independent of nnscratch.gradcheck)."""

import numpy as np


def fd_grad(f, x, eps=1e-6):
    """Central differences of the scalar function f at x (float64), element by element."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad
