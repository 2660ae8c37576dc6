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


def assert_doctor_names_the_cause(result, root_first=True):
    """The doctor's report on a reproduction names the codes its scenario expects, or is healthy for a fix.

    ``root_first``: the first expected code must also be the report's root cause.
    """
    from nnscratch import repro

    report, expected = result.doctor, repro.get(result.scenario).expected[result.variant]
    if not expected:
        assert report.healthy, str(report)
        return
    assert set(expected) <= set(report.codes), str(report)
    if root_first:
        assert report.root_cause == expected[0], str(report)
