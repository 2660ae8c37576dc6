"""The sum-of-squares reproduction: a forgotten zero_grad and a broadcasting target, alone and together."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import repro
from nnscratch.repro.sum_of_squares import CLAIMED_LOSS, EPOCHS, QUICK_EPOCHS

from .helpers import assert_doctor_names_the_cause

NAME = "sum-of-squares"


@pytest.fixture(scope="module")
def quick() -> dict[tuple[str, int], repro.Result]:
    runs = [(v, 0) for v in repro.variants(NAME)] + [("failure", 1), ("only-accumulation", 1), ("answer", 1)]
    return {(v, s): repro.run(NAME, v, seed=s, quick=True, doctor=True) for v, s in runs}


@pytest.mark.parametrize("seed", [0, 1])
def test_posted_code_predicts_one_value_that_swings_around_the_mean(quick, seed):
    r = quick["failure", seed]
    m = r.metrics
    assert r.history.steps == QUICK_EPOCHS and r.history.stopped is None
    assert m["spread_ratio"] < 0.01
    assert m["relative_mse"] > 0.9
    # Σᵢ Σⱼ (predᵢ − zⱼ)² ≥ N Σⱼ (zⱼ − z̄)²: the broadcast loss has a floor far above the answer's 6.5 ...
    assert min(r.history.loss) >= m["broadcast_floor"] * (1 - 1e-5)
    assert m["broadcast_floor"] > 1e4 * CLAIMED_LOSS
    # ... and without zero_grad it does not even settle on that floor.
    assert m["loss_swing"] > 0.3
    assert m["backward_passes_in_grad"] == QUICK_EPOCHS


@pytest.mark.parametrize("seed", [0, 1])
def test_accumulation_alone_swings_and_kills_the_network(quick, seed):
    m = quick["only-accumulation", seed].metrics
    assert m["backward_passes_in_grad"] == EPOCHS
    assert m["grad_growth"] > 10  # the step follows a sum of many gradients, not this one
    assert m["loss_swing"] > 0.05
    assert m["relative_mse"] > 0.9 and m["val_relative_mse"] > 0.9
    assert m["spread_ratio"] < 0.05


def test_the_answers_single_change_still_broadcasts_to_a_constant(quick):
    m = quick["only-broadcast", 0].metrics
    assert m["reported_loss"] < 1.001 * m["broadcast_floor"]  # settled on the floor: the mean for every input
    assert m["loss_swing"] < 1e-3
    assert m["spread_ratio"] < 0.01
    assert 0.98 < m["relative_mse"] < 1.05
    assert m["grad_growth"] == pytest.approx(1.0)
    assert m["reported_loss"] > 1e4 * CLAIMED_LOSS
    assert "can never come near" in quick["only-broadcast", 0].verdict


def test_both_bugs_fixed_learns_but_the_posted_step_is_too_small(quick):
    slow, fast = quick["both-fixed", 0].metrics, quick["larger-step", 0].metrics
    assert slow["backward_passes_in_grad"] == 1 and slow["grad_growth"] == pytest.approx(1.0)
    assert 0.05 < slow["relative_mse"] < 0.6  # learned something, far from a fit
    assert slow["spread_ratio"] > 0.3
    # The answer's "about 6.5" is the order of this variant's summed loss, not of any broadcasting one.
    assert slow["train_summed_sq_error"] < 10 * CLAIMED_LOSS
    assert slow["train_summed_sq_error"] == pytest.approx(slow["reported_loss"], rel=0.01)
    assert "slowly" in quick["both-fixed", 0].verdict
    # A 10x larger step, nothing else changed, fits the curve within the same 20 000 epochs.
    assert fast["relative_mse"] < 0.02 and fast["val_relative_mse"] < 0.03
    assert fast["relative_mse"] < 0.5 * fast["best_plane_relative_mse"]
    assert slow["relative_mse"] > 5 * fast["relative_mse"]


@pytest.mark.parametrize("seed", [0, 1])
def test_the_answers_code_fits(quick, seed):
    r = quick["answer", seed]
    m = r.metrics
    assert r.history.steps == 2500
    assert m["relative_mse"] < 0.01 and m["val_relative_mse"] < 0.01
    assert 0.9 < m["spread_ratio"] < 1.1
    assert np.allclose(r.predict(np.array([[0.5, 0.5], [0.9, 0.1]])).ravel(), [0.5, 0.82], atol=0.05)


def test_gradient_trace_recovers_each_steps_own_gradient(quick):
    acc, fixed = quick["only-accumulation", 0].extras, quick["both-fixed", 0].extras
    # Without zero_grad the first step's gradient is the only one in the sum; then the sum outgrows it.
    assert acc["grad_followed"][0] == pytest.approx(acc["grad_own"][0])
    assert acc["grad_followed"][50] > 5 * acc["grad_own"][50]
    assert np.array_equal(fixed["grad_followed"], fixed["grad_own"])


def test_same_seed_same_run_with_or_without_the_doctor(quick):
    again = repro.run(NAME, "answer", seed=0, quick=True)
    assert again.history.loss == quick["answer", 0].history.loss
    assert again.metrics == quick["answer", 0].metrics
    other = repro.run(NAME, "answer", seed=1, quick=True)
    assert other.history.loss != again.history.loss


@pytest.mark.parametrize("variant", repro.variants(NAME))
def test_doctor_names_the_cause_of_each_variant(quick, variant):
    assert_doctor_names_the_cause(quick[variant, 0])


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["failure", "only-broadcast"])
def test_faithful_broadcasting_runs_never_leave_the_floor(variant):
    m = repro.run(NAME, variant, seed=0).metrics
    assert m["backward_passes_in_grad"] == (EPOCHS if variant == "failure" else 1)
    assert m["spread_ratio"] < 0.01 and m["relative_mse"] > 0.9
    assert m["reported_loss"] >= m["broadcast_floor"] * (1 - 1e-5)
