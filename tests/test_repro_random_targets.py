"""The random-targets reproduction: a deep narrow net predicts the mean of pure noise; memorising is not learning."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import repro
from nnscratch.repro.metrics import layer_spreads
from nnscratch.repro.random_targets import SETUPS


@pytest.fixture(scope="module")
def quick() -> dict[tuple[str, int], repro.Result]:
    runs = [("failure", 0), ("failure", 1), ("he-init", 0), ("memorise", 0)]
    return {(v, s): repro.run("random-targets", v, seed=s, quick=True, doctor=True) for v, s in runs}


@pytest.mark.parametrize("seed", [0, 1])
def test_posted_network_predicts_the_mean(quick, seed):
    r = quick["failure", seed]
    m = r.metrics
    assert m["relative_mse"] > 0.98
    assert m["spread_ratio"] < 0.02
    assert m["fresh_relative_mse"] > 0.98
    assert np.ptp(r.predict(r.X)) < 0.05 * np.ptp(r.y)  # one value for every input, up to a few percent
    assert "Predicts about the mean" in r.verdict and "shrank" in r.verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_signal_fades_layer_by_layer_at_initialisation(quick, seed):
    r = quick["failure", seed]
    spreads = np.array(list(layer_spreads(r.history.snapshots[0]).values()))
    assert r.history.snapshots[0].step == -1
    assert np.all(np.diff(spreads) < 0)  # every layer passes on less than it got
    assert r.metrics["init_depth_ratio"] < 1e-3
    assert r.metrics["init_output_spread_ratio"] < 1e-2


def test_posted_init_is_the_he_init_scaled_down(quick):
    """Zero biases make a ReLU net positively homogeneous: the posted layers are He's, each scaled by
    0.25 / sqrt(6 / fan_in), so the spreads at init differ by the running product of those factors."""
    posted = list(layer_spreads(quick["failure", 0].history.snapshots[0]).values())
    he = list(layer_spreads(quick["he-init", 0].history.snapshots[0]).values())
    fan_in = SETUPS["failure"].sizes[:-1]
    factor = np.cumprod([0.25 / np.sqrt(6.0 / n) for n in fan_in])
    assert np.allclose(np.array(posted) / np.array(he), factor, rtol=1e-3)
    assert quick["he-init", 0].metrics["init_depth_ratio"] > 0.05


def test_he_init_keeps_the_signal_but_still_predicts_about_the_mean(quick):
    r = quick["he-init", 0]
    m = r.metrics
    assert m["init_depth_ratio"] > 100 * quick["failure", 0].metrics["init_depth_ratio"]
    assert m["relative_mse"] > 0.9
    assert m["fresh_relative_mse"] > 0.98
    assert m["parameters"] < m["samples"]  # too few to store one value per sample
    assert "not the obstacle" in r.verdict


def test_memorising_fits_the_training_points_and_nothing_else(quick):
    r = quick["memorise", 0]
    m = r.metrics
    assert m["samples"] == 500 and len(r.y) == 500
    assert m["relative_mse"] < 0.4
    assert m["spread_ratio"] > 0.6
    # Fresh points with fresh random targets: worse than predicting the mean.
    assert m["fresh_relative_mse"] > 1.3
    fresh_y = r.extras["fresh_y"]
    assert fresh_y.min() == 0.0 and fresh_y.max() == 1.0 and len(fresh_y) == 10_000
    assert "Memorised" in r.verdict and "worse than" in r.verdict


def test_same_seed_same_run_with_or_without_the_doctor(quick):
    again = repro.run("random-targets", "failure", seed=0, quick=True)
    assert again.history.loss == quick["failure", 0].history.loss
    assert again.metrics == quick["failure", 0].metrics
    assert again.history.loss != quick["failure", 1].history.loss


def test_doctor_names_the_init_for_the_posted_network(quick):
    for seed in (0, 1):
        report = quick["failure", seed].doctor
        expected = repro.get("random-targets").expected["failure"]
        assert report.root_cause == expected[0]
        assert set(expected) <= set(report.codes)


def test_doctor_finds_no_cause_for_noise_that_cannot_be_learned(quick):
    report = quick["he-init", 0].doctor
    assert set(repro.get("random-targets").expected["he-init"]) <= set(report.codes)
    assert report.root_cause == "unclear"  # the cause, targets independent of the inputs, is beyond its checks
    assert "VANISHING_SIGNAL" not in report.codes


def test_doctor_does_not_call_a_memorising_run_stuck(quick):
    # Half-way through memorising (quick) the doctor may still warn about dead units; not about a stall.
    codes = set(quick["memorise", 0].doctor.codes)
    assert not {"VANISHING_SIGNAL", "CONSTANT_OUTPUT", "PLATEAU"} & codes


def test_prediction_figure_is_written(quick, tmp_path):
    results = [quick[v, 0] for v in repro.variants("random-targets")]
    paths = repro.get("random-targets").figures(results, tmp_path)
    assert [p.name for p in paths] == ["random_targets_pred.png"] and paths[0].stat().st_size > 10_000


@pytest.mark.slow
def test_faithful_runs():
    failure = repro.run("random-targets", "failure", doctor=True)
    assert failure.history.steps == 10_000
    assert failure.metrics["relative_mse"] > 0.95 and failure.metrics["spread_ratio"] < 0.2
    assert set(repro.get("random-targets").expected["failure"]) <= set(failure.doctor.codes)
    he = repro.run("random-targets", "he-init", doctor=True)  # still ~0.97 of the mean's loss after 10 000 steps
    assert he.doctor.root_cause == "unclear" and "PLATEAU" in he.doctor.codes, str(he.doctor)
    memorise = repro.run("random-targets", "memorise", doctor=True)
    assert memorise.metrics["relative_mse"] < 0.05
    assert memorise.metrics["fresh_relative_mse"] > 1.5
    assert memorise.doctor.healthy, str(memorise.doctor)  # judged on its training fit, as it should be
