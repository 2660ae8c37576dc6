"""The sqrt reproduction: a straight-line fit from raw inputs, and what really fixes it."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import repro
from nnscratch.repro.sqrt import kinks

from .helpers import assert_doctor_names_the_cause


@pytest.fixture(scope="module")
def quick() -> dict[tuple[str, int], repro.Result]:
    runs = [
        ("failure", 0),
        ("failure", 1),
        ("answer-literal", 0),
        ("standardised", 0),
        ("standardised", 1),
        ("larger-step", 0),
    ]
    return {(v, s): repro.run("sqrt", v, seed=s, quick=True, doctor=True) for v, s in runs}


@pytest.mark.parametrize("seed", [0, 1])
def test_posted_fit_is_exactly_a_straight_line(quick, seed):
    m = quick["failure", seed].metrics
    assert m["kinks_in_data"] == 0
    assert m["linearity_r2"] > 1 - 1e-12
    assert m["relative_mse"] > 0.3
    # No better than the best straight line can be, since it is one.
    assert m["relative_mse"] >= m["best_line_relative_mse"] - 1e-9


@pytest.mark.parametrize("seed", [0, 1])
def test_kinks_of_the_posted_network_lie_left_of_the_data(quick, seed):
    r = quick["failure", seed]
    k = r.extras["kinks"]
    assert np.all((k <= r.X.min()) | (k >= r.X.max()) | ~np.isfinite(k))


def test_answer_literal_standardising_alone_does_not_learn_at_the_posted_step(quick):
    m = quick["answer-literal", 0].metrics
    assert m["relative_mse"] > 0.95
    assert m["spread_ratio"] < 0.01
    assert "does not suffice" in quick["answer-literal", 0].verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_standardising_with_a_fitting_step_fits_the_curve(quick, seed):
    r = quick["standardised", seed]
    m = r.metrics
    assert m["relative_mse"] < 0.02
    assert m["fresh_relative_mse"] < 0.03
    assert m["relative_mse"] < 0.5 * m["best_line_relative_mse"]  # better than any straight line
    assert m["kinks_in_data"] >= 1
    assert m["linearity_r2"] < 0.999
    # predict() answers in raw units: it undoes both standardisations.
    x = np.array([[100.0], [2500.0]])
    assert np.allclose(r.predict(x).ravel(), np.sqrt(x.ravel()), rtol=0.15)
    assert np.allclose(r.model_inputs, (r.X - r.X.mean()) / r.X.std())


def test_a_larger_step_alone_is_no_fix(quick):
    m = quick["larger-step", 0].metrics
    assert m["kinks_in_data"] == 0 or quick["larger-step", 0].history.stopped
    assert m["relative_mse"] > 0.2


def test_kinks_are_where_the_pre_activation_is_zero(quick):
    r = quick["standardised", 0]
    k = kinks(r.model, float(r.X.mean()), float(r.X.std()))
    z = ((k[:, None] - r.X.mean()) / r.X.std()) * r.model[0].W.data + r.model[0].b.data
    assert np.allclose(np.diag(z), 0.0, atol=1e-9)


def test_same_seed_same_run_with_or_without_the_doctor(quick):
    again = repro.run("sqrt", "failure", seed=0, quick=True)
    assert again.history.loss == quick["failure", 0].history.loss
    assert again.metrics == quick["failure", 0].metrics


@pytest.mark.parametrize("variant", repro.variants("sqrt"))
def test_doctor_names_the_cause_of_each_variant(quick, variant):
    assert_doctor_names_the_cause(quick[variant, 0])
