"""The reproduction framework: registry, training loop, metrics and the ``nnscratch repro`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import optim, repro
from nnscratch.cli import main
from nnscratch.doctor.codes import CODES
from nnscratch.repro.base import baseline_loss, repeat, train_loop
from nnscratch.repro.metrics import linearity, relative_mse, spread_ratio


def test_names_are_the_five_documents():
    assert repro.names() == ["sqrt", "sum-of-squares", "random-targets", "wide-range", "poly32"]


@pytest.mark.parametrize("name", repro.names())
def test_every_scenario_documents_its_settings_and_expectations(name):
    scenario = repro.get(name)
    assert repro.variants(name)[0] == "failure"
    assert set(scenario.expected) == set(scenario.variants)
    doc = __import__(f"nnscratch.repro.{name.replace('-', '_')}", fromlist=["x"]).__doc__
    assert "Faithful settings" in doc and "Choices" in doc
    for variant in scenario.variants:
        assert variant in doc, f"{name}'s docstring does not describe variant {variant}"
    assert scenario.expected["failure"], "the failure as posted must name a cause"
    for codes in scenario.expected.values():
        assert set(codes) <= set(CODES)


def test_unknown_names_are_refused_with_the_choices():
    with pytest.raises(ns.ConfigError, match="unknown reproduction 'nope'.*sqrt"):
        repro.run("nope")
    with pytest.raises(ns.ConfigError, match="unknown variant 'nope' of sqrt.*standardised"):
        repro.run("sqrt", "nope")
    with pytest.raises(ns.ConfigError, match="seed"):
        repro.run("sqrt", seed=-1)


def _tiny(lr: float = 0.05):
    net = ns.MLP([1, 4, 1], rng=0)
    x = np.linspace(-1, 1, 16)[:, None]
    return net, x, x**2, optim.SGD(net.parameters(), lr=lr)


def test_loop_without_zero_grad_accumulates_like_torch():
    net, x, y, opt = _tiny()
    train_loop(net, ns.MSELoss(), opt, repeat(x, y), 5, zero_grad=False)
    assert all(p.accumulated == 5 for p in net.parameters())
    net, x, y, opt = _tiny()
    train_loop(net, ns.MSELoss(), opt, repeat(x, y), 5)
    assert all(p.accumulated == 1 for p in net.parameters())


def test_loop_stops_at_the_first_non_finite_loss_and_says_so():
    net, x, y, opt = _tiny(lr=1e6)
    run = train_loop(net, ns.MSELoss(), opt, repeat(x * 1e3, y), 500)
    assert run.stopped and "step" in run.stopped
    assert run.steps < 500 and not np.isfinite(run.loss[-1])


def test_loop_records_probe_statistics_and_steps_a_plateau_scheduler_every_step():
    net, x, y, opt = _tiny()
    sched = optim.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    loss = ns.MSELoss()
    run = train_loop(
        net,
        loss,
        opt,
        repeat(x, y),
        40,
        scheduler=sched,
        probe=(x, y),
        record_every=10,
        baseline=baseline_loss(loss, y),
    )
    assert [s.step for s in run.snapshots] == [-1, 9, 19, 29, 39]
    assert sched.last_epoch == 40
    assert run.baseline == pytest.approx(float(((y - y.mean()) ** 2).mean()))


def test_metrics():
    t = np.linspace(0, 1, 50)[:, None]
    assert relative_mse(t, t) == 0.0
    assert relative_mse(np.full_like(t, t.mean()), t) == pytest.approx(1.0)
    assert spread_ratio(np.full_like(t, 3.0), t) == 0.0
    assert linearity(lambda g: 2 * g + 1, 0, 1) == pytest.approx(1.0, abs=1e-12)
    assert linearity(np.sqrt, 0, 1) < 0.99
    with pytest.raises(ValueError, match="one shape"):
        relative_mse(t, t.ravel())


def test_cli_list_names_every_scenario_and_variant(capsys):
    assert main(["repro", "list"]) == 0
    out = capsys.readouterr().out
    for name in repro.names():
        assert name in out
        for variant in repro.variants(name):
            assert variant in out


@pytest.mark.parametrize("name", repro.names())
def test_every_scenario_cites_its_question_not_a_file(name, capsys):
    scenario = repro.get(name)
    assert scenario.question and scenario.site
    assert scenario.url == "" or scenario.url.startswith("https://")
    assert main(["repro", "list"]) == 0
    out = capsys.readouterr().out
    assert f'"{scenario.question}", {scenario.site}' in out
    if scenario.url:
        assert scenario.url in out
    assert ".txt" not in out and "document" not in out and "shared" not in out


def test_the_two_questions_with_known_addresses_link_to_them():
    assert repro.get("poly32").url == "https://stats.stackexchange.com/questions/544195"
    assert repro.get("wide-range").url == "https://datascience.stackexchange.com/questions/124637"


def test_cli_runs_a_variant_prints_json_and_writes_figures(tmp_path, capsys):
    assert main(["repro", "sqrt", "--variant", "standardised", "--quick", "--json", "--out", str(tmp_path)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["variant"] == "standardised" and result["metrics"]["relative_mse"] < 0.02
    assert {p.name for p in tmp_path.iterdir()} >= {"sqrt_loss.png", "sqrt_fit.png", "sqrt_dead.png"}


def test_cli_table_verdict_and_doctor(tmp_path, capsys):
    assert main(["repro", "sqrt", "--variant", "failure", "--quick", "--doctor", "--out", "none"]) == 0
    out = capsys.readouterr().out
    assert "== sqrt: " in out and 'question: "Neural network for univariate regression' in out
    assert ".txt" not in out and "(document" not in out
    assert "relative_mse" in out and "[failure]" in out and "straight line" in out
    assert "Doctor on failure" in out and "UNSCALED_INPUT" in out
