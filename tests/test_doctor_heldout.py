"""The doctor's held-out and retired runs, the measurements they were labelled from, and the scoring.

These check that the held-out set is well formed and apart from the tuning set (which holds the
retired held-out runs), that the loops do what they say, that measuring a run without the doctor
leaves it as it trains alone, and that the scoring counts correctly; whether the doctor names the
expected codes is what the benchmark (``python -m nnscratch.bench.doctor --set heldout``)
reports, not a test. No test here runs the doctor on a held-out run.
"""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.bench.doctor import __main__ as bench
from nnscratch.bench.doctor import heldout, retired
from nnscratch.bench.doctor.cases import CASES, Case, run, train
from nnscratch.bench.doctor.measure import measure
from nnscratch.callbacks import Callback
from nnscratch.doctor.codes import CODES
from nnscratch.optim import SGD

REJECTED = [c for c, _ in heldout.REJECTED + retired.REJECTED]


def check_labelled(cases, rejected):
    for case in cases:
        assert all(code in CODES for code in case.expect), case.name
        assert case.source and case.why, case.name
        assert "NOT_MEASURED" not in case.expect, case.name
    for case, reason in rejected:
        assert reason and case.source, case.name


def test_heldout_set_is_labelled_and_apart_from_the_tuning_and_retired_runs():
    names = [c.name for c in heldout.HELDOUT]
    assert len(names) == len(set(names)) >= 24
    assert sum(1 for c in heldout.HELDOUT if not c.expect) >= 8
    assert not set(names) & {c.name for c in CASES}
    assert not set(names) & {c.name for c in retired.RETIRED}
    assert not set(names) & {c.name for c in REJECTED}
    check_labelled(heldout.HELDOUT, heldout.REJECTED)


def test_retired_runs_are_labelled_and_all_in_the_tuning_set():
    names = [c.name for c in retired.RETIRED]
    assert len(names) == len(set(names)) == 125
    assert set(retired.MOVED) <= set(names)
    assert not set(names) & {c.name for c in CASES}
    check_labelled(retired.RETIRED, retired.REJECTED)
    tuning, run, _ = bench.SETS["tuning"]
    assert [c.name for c in tuning] == [c.name for c in CASES] + names and run is train
    assert bench.SETS["heldout"][0] == heldout.HELDOUT


@pytest.mark.parametrize("case", heldout.HELDOUT + retired.RETIRED + REJECTED, ids=lambda c: c.name)
def test_each_case_builds_the_same_run_from_the_same_seed(case):
    a, b = case.build(3), case.build(3)
    np.testing.assert_array_equal(a["X"], b["X"])
    np.testing.assert_array_equal(a["y"], b["y"])
    for p, q in zip(a["model"].parameters(), b["model"].parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert not np.array_equal(a["y"], case.build(4)["y"])  # the seed matters


class Record(Callback):
    """Per step: the batch the loop trained on, the most backward passes any gradient held, the rate."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []
        self.accumulated: list[int] = []
        self.lr: list[float] = []

    def on_step_end(self, ctx) -> None:
        self.batches.append(ctx.x_batch.copy())
        self.accumulated.append(max(p.accumulated for p in ctx.model.parameters()))
        self.lr.append(ctx.optimizer.param_groups[0]["lr"])


def test_zero_grad_once_per_epoch_accumulates_within_each_epoch():
    rec = Record()
    cfg = train(retired.get("zero-grad-once-per-epoch"), 0, [rec])
    per_epoch = len(cfg["X"]) // cfg["batch"]
    assert rec.accumulated[: 2 * per_epoch] == list(range(1, per_epoch + 1)) * 2


def test_sequential_order_walks_the_data_in_its_stored_order():
    case = next(c for c, _ in retired.REJECTED if c.name == "sorted-by-target-no-shuffle")
    rec = Record()
    cfg = train(case, 0, [rec])
    n, batch = len(cfg["X"]), cfg["batch"]
    for step in (0, 1, n // batch, n // batch + 1):
        start = (step * batch) % n
        np.testing.assert_array_equal(rec.batches[step], cfg["X"][start : start + batch])
    assert np.all(np.diff(cfg["y"][:, 0]) >= 0)  # sorted by target, as the reports describe


def test_zero_grad_of_a_submodule_leaves_the_rest_accumulating():
    case = retired.get("zero-grad-on-the-encoder-only")
    head = []

    class Head(Callback):
        def on_step_end(self, ctx) -> None:
            head.append([p.accumulated for p in ctx.model.layers[-1].parameters()])
            assert all(p.accumulated == 1 for p in ctx.model.layers[0].parameters())

    cfg = train(case, 0, [Head()])
    assert head == [[k, k] for k in range(1, cfg["steps"] + 1)]


def test_zero_grad_before_step_leaves_the_weights_as_they_were():
    case = retired.get("zero-grad-between-backward-and-step")
    before = [p.data.copy() for p in case.build(0)["model"].parameters()]
    rec = Record()
    cfg = train(case, 0, [rec])
    assert rec.accumulated == [0] * cfg["steps"]
    for p, q in zip(cfg["model"].parameters(), before):
        np.testing.assert_array_equal(p.data, q)


def test_a_scheduler_in_the_set_up_steps_after_every_optimizer_step():
    rec = Record()
    cfg = train(retired.get("step-lr-stepped-every-batch"), 0, [rec])
    lr0 = cfg["scheduler"].base_lrs[0]
    assert rec.lr[:25] == pytest.approx([lr0] * 9 + [lr0 * 0.1] * 10 + [lr0 * 0.01] * 6)


def test_the_other_cases_run_through_the_usual_loop():
    rec = Record()
    cfg = train(retired.get("friedman1-adam"), 0, [rec])
    assert len(rec.batches) == cfg["steps"] and rec.batches[0].shape == (cfg["batch"], cfg["X"].shape[1])
    assert max(rec.accumulated) == 1  # zero_grad every step


def test_measuring_a_run_leaves_it_as_it_trains_alone():
    case = retired.get("zero-grad-on-the-encoder-only")  # gradients that add up: the probes must restore them
    built: dict = {}

    def build(seed):
        built.update(case.build(seed))
        return built

    m = measure(Case(case.name, case.expect, build), 0, probes=5)
    alone = train(case, 0)
    assert len(m.probes) == 6 and m.accumulated[-1] == alone["steps"]
    untrained = case.build(0)["model"].parameters()
    for p, q, r in zip(built["model"].parameters(), alone["model"].parameters(), untrained):
        np.testing.assert_array_equal(p.data, q.data)
        assert not np.array_equal(q.data, r.data)  # it did train


def test_measure_reads_the_codes_definitions_from_the_numbers():
    assert "NON_FINITE" in measure(retired.get("nan-in-inputs"), 0).holds()
    assert "GRAD_ACCUMULATION" in measure(retired.get("zero-grad-once-per-epoch"), 0).holds()
    assert measure(retired.get("friedman1-adam"), 0).holds() == []


def outcome(expect, codes, healthy=None, name="x", seed=0):
    return bench.Outcome(name, seed, tuple(expect), list(codes), (not codes) if healthy is None else healthy)


def test_tally_counts_recall_over_expected_codes_and_false_alarms_over_healthy_runs():
    score = bench.tally(
        [
            outcome(["PLATEAU", "LR_TOO_SMALL"], ["LR_TOO_SMALL", "CONSTANT_OUTPUT"]),  # 1 of 2, an extra code
            outcome(["PLATEAU"], ["PLATEAU"]),
            outcome(["NON_FINITE"], []),  # missed entirely
            outcome([], []),  # healthy, quiet
            outcome([], ["PLATEAU"]),  # healthy, flagged
            outcome([], [], healthy=False),  # a report that is not healthy counts even without codes
        ]
    )
    assert score.per_code == {"LR_TOO_SMALL": (1, 1), "NON_FINITE": (0, 1), "PLATEAU": (1, 2)}
    assert score.recall == (2, 4)
    assert score.false_alarms == (2, 3)
    assert [o.ok for o in score.outcomes] == [False, True, False, True, False, False]
    assert bench._ratio((0, 0)) == "0/0" and bench._ratio((2, 4)) == "2/4 = 50%"


def test_evaluate_scores_real_labelled_runs():
    cases = [retired.get("nan-in-inputs"), retired.get("zero-grad-once-per-epoch"), retired.get("friedman1-adam")]
    score = bench.evaluate(cases, train, [0])
    assert [(o.name, o.seed, o.expect) for o in score.outcomes] == [(c.name, 0, c.expect) for c in cases]
    for o in score.outcomes:
        assert all(code in CODES for code in o.codes)
        assert o.healthy == (not o.codes)
    assert score.recall[1] == 2 and score.false_alarms[1] == 1


def test_main_reports_each_set_separately(monkeypatch, capsys):
    monkeypatch.setitem(bench.SETS, "tuning", ([CASES[0]], bench.train, "tuning set"))
    monkeypatch.setitem(bench.SETS, "heldout", ([retired.get("nan-in-inputs")], train, "held-out set"))
    assert bench.main(["--set", "both", "--seeds", "0", "--no-overhead"]) == 0
    out = capsys.readouterr().out
    assert "== tuning set" in out and "== held-out set" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["set", "recall", "false"])
    assert lines[header + 1].startswith("tuning") and lines[header + 2].startswith("heldout")
    assert "1/1 = 100%" in lines[header + 2] or "0/1 = 0%" in lines[header + 2]  # nan-in-inputs: one code
    assert "overhead" not in out


def test_a_run_that_stops_counts_as_every_expected_code_missed(capsys):
    """A loop that raises (here: inputs with a column fewer than the model takes) leaves no report to score."""

    def build(seed):
        model = ns.MLP([3, 4, 1], rng=seed)
        X = np.random.default_rng(seed).standard_normal((64, 2))
        return run(model, X, X[:, :1], ns.MSELoss(), SGD(model.parameters(), lr=0.1), 5)

    score = bench.evaluate([Case("wrong-width", ("PLATEAU",), build)], train, [0])
    (outcome,) = score.outcomes
    assert outcome.codes == ["raised ShapeError"] and not outcome.ok and score.recall == (0, 1)
    assert "BAD wrong-width" in capsys.readouterr().out
