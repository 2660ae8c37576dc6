"""The poly32 reproduction: a broadcast loss trains the network to a constant on either sampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import repro
from nnscratch.errors import BroadcastWarning
from nnscratch.repro.poly32 import DIM, evaluate, make_polynomial, sample

from .helpers import assert_doctor_names_the_cause


@pytest.fixture(scope="module")
def quick() -> dict[tuple[str, int], repro.Result]:
    runs = [
        ("failure", 0),
        ("failure", 1),
        ("random-sampling", 0),
        ("random-sampling", 1),
        ("shape-fixed", 0),
        ("standardised", 0),
        ("standardised", 1),
        ("random-fixed", 0),
    ]
    return {(v, s): repro.run("poly32", v, seed=s, quick=True, doctor=True) for v, s in runs}


def test_the_sparse_rows_are_mostly_minus_one():
    X = sample("random", np.random.default_rng(0), 1000)
    assert X.shape == (1000, DIM)
    # Exactly a quarter of the entries are drawn (as scipy.sparse.random does); 2u - 1 sends the rest to -1.
    assert int((X != -1).sum()) == 1000 * DIM // 4
    assert X.min() == -1 and X.max() < 1


def test_the_polynomial_is_written_in_u():
    intercept, _, coefs = poly = make_polynomial(np.random.default_rng(3))
    ones = np.ones((1, DIM))
    assert evaluate(poly, -ones)[0] == pytest.approx(intercept)  # u = 0: every monomial vanishes
    assert evaluate(poly, ones)[0] == pytest.approx(intercept + sum(c.sum() for c in coefs))  # u = 1: all are 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_special_targets_spread_far_wider_than_random_ones(seed):
    poly = make_polynomial(np.random.default_rng(seed))
    gen = np.random.default_rng(seed + 1)
    special, random = evaluate(poly, sample("special", gen)), evaluate(poly, sample("random", gen))
    assert special.std() > 4 * random.std()


def test_the_broadcast_loss_is_the_variance_plus_the_distance_to_the_batch_mean():
    gen = np.random.default_rng(0)
    pred, y = gen.standard_normal((32, 1)), gen.standard_normal(32)
    with pytest.raises(ns.ShapeError, match="reshape"):
        ns.MSELoss()(pred, y)
    with pytest.warns(BroadcastWarning):
        loss = ns.MSELoss(broadcast=True)(pred, y)
    assert loss == pytest.approx(y.var() + ((pred - y.mean()) ** 2).mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_posted_failure_predicts_one_value(quick, seed):
    m = quick["failure", seed].metrics
    assert m["relative_mse"] > 0.9
    assert m["spread_ratio"] < 0.1
    assert 0.95 < m["final_loss_over_baseline"] < 1.1  # at the floor of the broadcast loss: the variance
    assert "Learned nothing" in quick["failure", seed].verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_random_rows_with_the_broadcast_learn_nothing_either_though_the_loss_is_small(quick, seed):
    m, failed = quick["random-sampling", seed].metrics, quick["failure", seed].metrics
    assert m["relative_mse"] > 0.9
    assert m["spread_ratio"] < 0.1
    assert m["inputs_at_minus_one"] == pytest.approx(0.75)
    assert m["final_loss"] < failed["final_loss"] / 20  # what looked like learning is a smaller variance
    assert "no sign of learning" in quick["random-sampling", seed].verdict


def test_fixing_the_shape_alone_fits_the_raw_special_targets(quick):
    m = quick["shape-fixed", 0].metrics
    assert max(abs(m["target_mean"]), m["target_std"]) > 10  # the targets are unscaled
    assert m["relative_mse"] < 0.1
    assert m["fresh_relative_mse"] < 0.15
    assert 0.8 < m["spread_ratio"] < 1.2


@pytest.mark.parametrize("seed", [0, 1])
def test_standardised_targets_fit_and_predict_in_raw_units(quick, seed):
    r = quick["standardised", seed]
    assert r.metrics["relative_mse"] < 0.1
    assert r.metrics["fresh_relative_mse"] < 0.15
    pred = r.predict(r.X[:500]).ravel()
    assert abs(pred.mean() - r.y[:500].mean()) < 0.2 * r.y.std()  # predictions come back in raw units


def test_the_random_rows_are_learnable_once_the_shape_is_fixed(quick):
    m = quick["random-fixed", 0].metrics
    assert m["relative_mse"] < 0.1
    assert m["fresh_relative_mse"] < 0.15
    assert m["relative_mse"] < 0.1 * quick["random-sampling", 0].metrics["relative_mse"]


def test_same_seed_same_run_and_the_broadcast_warning_stays_inside(quick):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = repro.run("poly32", "failure", seed=0, quick=True)
    assert not [w for w in caught if issubclass(w.category, BroadcastWarning)]
    assert again.history.loss == quick["failure", 0].history.loss
    assert again.metrics == quick["failure", 0].metrics


@pytest.mark.parametrize("variant", repro.variants("poly32"))
def test_doctor_names_the_cause_of_each_variant(quick, variant):
    assert_doctor_names_the_cause(quick[variant, 0])


def test_raw_targets_of_a_run_that_fits_are_information_not_a_problem(quick):
    report = quick["shape-fixed", 0].doctor
    assert report.healthy
    assert [f.severity for f in report.findings if f.code == "UNSCALED_TARGET"] == ["info"]


@pytest.mark.slow
def test_faithful_500_epochs_failure_stays_constant_and_the_reshape_fits():
    failure, fixed = (repro.run("poly32", v, seed=0).metrics for v in ("failure", "shape-fixed"))
    assert failure["relative_mse"] > 0.9 and failure["spread_ratio"] < 0.1
    assert fixed["relative_mse"] < 0.03 and fixed["fresh_relative_mse"] < 0.1
