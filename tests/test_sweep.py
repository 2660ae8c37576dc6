"""Seed sweeps: the same metrics as ``repro.run`` bit for bit, whatever runs them; summaries, figures, the CLI."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import repro
from nnscratch.cli import main
from nnscratch.repro.sweep import (
    ClusterUnavailableError,
    SeedRun,
    Sweep,
    claims,
    format_seeds,
    key_metric,
    one_blas_thread,
    parse_seeds,
)

# The cheapest run there is (Adam, 2500 small steps, float32) and a few seeds: enough to catch a
# result that depends on the worker, at a second or so per run.
NAME, VARIANT, SEEDS = "sum-of-squares", "answer", [0, 3]


def same_bits(a: dict, b: dict) -> bool:
    """Same keys, same types, same bytes (NaN equals NaN, 0.0 differs from -0.0)."""
    if list(a) != list(b):
        return False
    return all(type(a[k]) is type(b[k]) and np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes() for k in a)


@pytest.fixture(scope="module")
def serial() -> Sweep:
    return repro.sweep(NAME, SEEDS, variants=[VARIANT], quick=True, jobs=1, progress=False)


def test_sweep_metrics_are_those_of_repro_run(serial):
    for seed in SEEDS:
        result = repro.run(NAME, VARIANT, seed=seed, quick=True)
        assert same_bits(serial.metrics(VARIANT, seed), result.metrics)
        assert serial.verdict(VARIANT, seed) == result.verdict
    # Two seeds are two different draws, or the test above could pass with the seed ignored.
    assert serial.metrics(VARIANT, 0)["relative_mse"] != serial.metrics(VARIANT, 3)["relative_mse"]


def test_two_processes_give_the_same_bits_with_one_blas_thread_each(serial):
    parallel = repro.sweep(NAME, SEEDS, variants=[VARIANT], quick=True, jobs=2, progress=False)
    for seed in SEEDS:
        assert same_bits(parallel.metrics(VARIANT, seed), serial.metrics(VARIANT, seed))
    assert all(r.blas_threads == 1 for r in [*parallel.runs.values(), *serial.runs.values()])


def test_a_dask_local_cluster_gives_the_same_bits(serial):
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        by_client = repro.sweep(NAME, SEEDS, variants=[VARIANT], quick=True, scheduler=client, progress=False)
        by_address = repro.sweep(
            NAME, SEEDS[:1], variants=[VARIANT], quick=True, scheduler=cluster.scheduler_address, progress=False
        )
        assert client.status == "running"  # a client passed in stays open for its owner
    for seed in SEEDS:
        assert same_bits(by_client.metrics(VARIANT, seed), serial.metrics(VARIANT, seed))
    assert same_bits(by_address.metrics(VARIANT, 0), serial.metrics(VARIANT, 0))
    assert all(r.blas_threads == 1 for r in by_client.runs.values())


def test_a_scheduler_without_dask_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask now fails, as when it is not installed
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ClusterUnavailableError, match=r"pip install 'nnscratch\[cluster\]'"):
        repro.sweep(NAME, 1, variants=[VARIANT], quick=True, scheduler="tcp://127.0.0.1:8786")
    assert issubclass(ClusterUnavailableError, ns.NNScratchError)


def test_one_blas_thread_inside_and_the_old_limit_back_after():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    if not blas:
        pytest.skip("NumPy's BLAS is not one threadpoolctl can see")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = max(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
        with one_blas_thread() as threads, one_blas_thread() as nested:
            assert threads == nested == 1
            assert all(p["num_threads"] == 1 for p in threadpoolctl.threadpool_info())
        after = max(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
    assert after == before


def _fake_sqrt_sweep() -> Sweep:
    """Five made-up sqrt failure runs whose straight-line claim holds in seeds 0 and 4 only."""
    rows = [  # kinks, R² of a line, final loss, relative_mse
        (0, 1.0, 1.0, 0.5),
        (0, 1.0, math.nan, 0.9),  # diverged: not a straight line fit
        (2, 0.99, 1.0, 0.2),  # kinks inside the data
        (0, 1 - 1e-6, 1.0, 0.4),  # bent, however slightly
        (0, 1.0, 2.0, 0.7),
    ]
    runs = [
        SeedRun(
            "failure",
            seed,
            {"kinks_in_data": k, "linearity_r2": r2, "final_loss": loss, "relative_mse": rel},
            "",
            10,
            None,
            0.1,
            1,
        )
        for seed, (k, r2, loss, rel) in enumerate(rows)
    ]
    return Sweep("sqrt", range(5), ["failure"], True, runs)


def test_summary_counts_the_seeds_where_the_claim_holds_and_the_spread():
    sweep = _fake_sqrt_sweep()
    assert sweep.held_in("failure") == [0, 4]
    stats = sweep.stats()["failure"]
    assert (stats["holds"], stats["seeds"], stats["not_held_in"]) == (2, 5, [1, 2, 3])
    rel = stats["metrics"]["relative_mse"]
    assert (rel["median"], rel["min"], rel["max"], rel["non_finite"]) == (0.5, 0.2, 0.9, 0)
    assert stats["metrics"]["final_loss"]["non_finite"] == 1 and stats["metrics"]["final_loss"]["max"] == 2.0
    text = sweep.summary()
    assert "failure: the fit is a straight line in 2/5 seeds (not in seeds 1-3)" in text
    assert "final_loss (1 non-finite)" in text


def test_json_round_trip_keeps_every_bit_and_the_summary(serial, tmp_path):
    path = tmp_path / "sweep.json"
    text = serial.to_json(path)
    assert path.read_text(encoding="utf-8") == text
    back = Sweep.from_dict(json.loads(text))
    for seed in SEEDS:
        assert same_bits(back.metrics(VARIANT, seed), serial.metrics(VARIANT, seed))
    assert back.summary() == serial.summary()
    data = json.loads(text)
    assert data["summary"][VARIANT]["holds"] == len(serial.held_in(VARIANT))
    assert data["claims"][VARIANT] == claims(NAME)[VARIANT].text


def test_figure_is_written(serial, tmp_path):
    path = serial.plot(tmp_path)
    assert path == tmp_path / "sum_of_squares_sweep.png" and path.stat().st_size > 10_000
    # A sweep read back from JSON has no loss curves, and still plots its metric.
    assert Sweep.from_dict(serial.to_dict()).plot(tmp_path / "back").stat().st_size > 10_000


@pytest.mark.parametrize("name", repro.names())
def test_every_scenario_states_a_claim_for_every_variant(name):
    assert set(claims(name)) == set(repro.variants(name))
    assert all(c.text and callable(c.holds) for c in claims(name).values())
    assert isinstance(key_metric(name), str)


def test_the_answer_claim_agrees_with_its_verdict(serial):
    for seed in SEEDS:
        assert serial.holds(VARIANT, seed) == serial.verdict(VARIANT, seed).startswith("Fits")
    assert key_metric(NAME) in serial.metrics(VARIANT, 0)


@pytest.mark.slow
@pytest.mark.parametrize("name", repro.names())
def test_every_claim_holds_at_seed_0_in_quick_form(name):
    # The claims restate the verdicts the scenarios document for seed 0.
    sweep = repro.sweep(name, [0], quick=True, jobs=2, progress=False)
    for variant in sweep.variants:
        assert key_metric(name) in sweep.metrics(variant, 0)
        assert sweep.holds(variant, 0), f"{name}/{variant}: {sweep.verdict(variant, 0)}"


def test_bad_arguments_name_what_was_expected(serial):
    with pytest.raises(ns.ConfigError, match="jobs must be a positive integer"):
        repro.sweep(NAME, 1, jobs=0)
    with pytest.raises(ns.ConfigError, match="jobs"):
        repro.sweep(NAME, 1, jobs=True)
    with pytest.raises(ns.ConfigError, match="at least one seed"):
        repro.sweep(NAME, [])
    with pytest.raises(ns.ConfigError, match="non-negative"):
        repro.sweep(NAME, [-1])
    with pytest.raises(ns.ConfigError, match="must not repeat"):
        repro.sweep(NAME, [2, 2])
    with pytest.raises(ns.ConfigError, match="variants of sum-of-squares.*nope"):
        repro.sweep(NAME, 1, variants=["nope"])
    with pytest.raises(ns.ConfigError, match="unknown reproduction"):
        repro.sweep("nope", 1)
    with pytest.raises(ns.ConfigError, match="jobs=2 and a scheduler exclude each other"):
        repro.sweep(NAME, 1, jobs=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ns.ConfigError, match="no run of variant 'answer' with seed 1.*seeds 0,3"):
        serial.metrics(VARIANT, 1)
    pytest.importorskip("dask.distributed")
    with pytest.raises(ns.ConfigError, match="scheduler must be an address"):
        repro.sweep(NAME, 1, scheduler=8786)


@pytest.mark.parametrize(
    ("text", "seeds"),
    [
        ("20", list(range(20))),
        ("1", [0]),
        ("0-3", [0, 1, 2, 3]),
        ("7-7", [7]),
        ("1,5,9", [1, 5, 9]),
        ("0-2,9", [0, 1, 2, 9]),
    ],
)
def test_seeds_are_parsed(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["5-2", "x", "", "1,,2", "-3", "0", "1.5", "1,1", "0-3,2", "3-"])
def test_bad_seeds_are_refused(text):
    with pytest.raises(ns.ConfigError, match="seeds"):
        parse_seeds(text)


@given(st.lists(st.integers(0, 200), min_size=1, max_size=30, unique=True))
def test_formatted_seeds_parse_back(seeds):
    seeds = sorted(seeds)
    text = format_seeds(seeds)
    # A lone number means a count, so a single seed above 0 reads as a one-element list only with a comma.
    assert parse_seeds(text if "," in text or "-" in text else text + "-" + text) == seeds


def test_cli_sweep_json_text_and_figure(serial, tmp_path, capsys):
    args = ["repro", NAME, "--variant", VARIANT, "--seeds", "0,3", "--quick", "--no-progress"]
    assert main([*args, "--json", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    for run in data["runs"]:
        assert same_bits(run["metrics"], serial.metrics(VARIANT, run["seed"]))
    assert (tmp_path / "sum_of_squares_sweep.png").stat().st_size > 10_000
    assert main([*args, "--jobs", "2", "--out", "none"]) == 0
    out = capsys.readouterr().out
    held = len(serial.held_in(VARIANT))
    assert f"{VARIANT}: {claims(NAME)[VARIANT].text} in {held}/2 seeds" in out
    assert "relative_mse *" in out and "on 2 processes" in out


def test_cli_jobs_without_seeds_runs_the_variants_in_workers(tmp_path, capsys):
    args = ["repro", NAME, "--variant", VARIANT, "--seed", "3", "--quick", "--json", "--out", "none"]
    assert main(args) == 0
    serial = json.loads(capsys.readouterr().out)
    assert main([*args, "--jobs", "2"]) == 0
    parallel = json.loads(capsys.readouterr().out)
    assert [r["metrics"] for r in parallel] == [r["metrics"] for r in serial]
    assert [r["verdict"] for r in parallel] == [r["verdict"] for r in serial]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["sqrt", "--seeds", "5-2"], "--seeds"),
        (["sqrt", "--seeds", "x"], "--seeds"),
        (["all", "--seeds", "x"], "--seeds"),
        (["sqrt", "--jobs", "0"], "--jobs"),
        (["sqrt", "--jobs", "two"], "--jobs"),
        (["sqrt", "--seeds", "3", "--seed", "1"], "--seed and --seeds"),
        (["sqrt", "--seeds", "3", "--doctor"], "--doctor"),
        (["sqrt", "--variant", "failure,nope", "--seeds", "3"], "unknown variant 'nope' of sqrt"),
        (["sqrt", "--variant", "nope", "--jobs", "2"], "unknown variant 'nope' of sqrt"),
    ],
)
def test_cli_bad_values_exit_2_with_one_line(args, says, capsys):
    assert main(["repro", *args, "--out", "none"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("nnscratch: error:")


def test_benchmark_compares_one_process_with_two(capsys):
    from nnscratch.bench.sweep import compare

    result = compare("answer", {NAME: [VARIANT]}, 1, jobs=2, repeats=1)
    assert result["runs"] == 1 and len(result["ratios"]) == 1
    assert math.isfinite(result["median_ratio"]) and result["median_ratio"] > 0
    assert "ratio" in capsys.readouterr().out
