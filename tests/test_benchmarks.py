"""The benchmark suite runs, writes its outputs and compares like with like (no timing assertions)."""

import json
import math

import numpy as np
import pytest

from benchmarks import problems
from benchmarks.cases import Settings
from benchmarks.contenders import UnavailableError, handwritten_step, nnscratch_step, torch_step
from benchmarks.gpu import gpu_cases
from benchmarks.runner import main
from benchmarks.timing import compare, page_faults, ratio
from nnscratch.backend import cupy_available


def test_quick_run_writes_report_plot_and_finite_ratios(tmp_path, capsys):
    assert main(["--quick", "--threads", "1", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "sqrt 1-10-1" in text and "numpy" in text and "Peak memory" in text
    assert (tmp_path / "results.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    ratios = [r for case in data["timing"] for r in case["ratios"].values() if r is not None]
    assert ratios and all(math.isfinite(r) and r > 0 for r in ratios)
    assert all(math.isfinite(m["ratio"]) and m["peak"] > 0 for m in data["memory"])
    assert "sqrt 1-10-1" in capsys.readouterr().out
    assert "page faults per step" in text
    mlp = next(case for case in data["timing"] if case["case"].startswith("MLP"))
    assert mlp["median_seconds"]["matrix products only, NumPy"] > 0
    if "torch CPU" in mlp["ratios"]:  # the BLAS floor under nnscratch / torch is reported beside it
        assert mlp["median_seconds"]["matrix products only, torch"] > 0
        assert any("matrix products alone" in note for note in mlp["notes"])


@pytest.mark.parametrize(
    "make",
    [
        problems.sqrt_problem,
        lambda: problems.mlp_problem(np.float64, "sgd", batch=32),
        lambda: problems.mlp_problem(np.float64, "adam", batch=32),
        lambda: problems.deep_narrow_problem(batch=20),
    ],
)
def test_contenders_do_the_same_math(make):
    problem = make()
    losses = {}
    for name, build in (("nnscratch", nnscratch_step), ("numpy", handwritten_step), ("torch", torch_step)):
        try:
            step = build(problem)
        except UnavailableError:
            continue
        losses[name] = [step() for _ in range(5)]
    assert "numpy" in losses and len(losses) >= 2
    for name, values in losses.items():
        np.testing.assert_allclose(values, losses["numpy"], rtol=1e-10, err_msg=name)
    assert losses["numpy"][-1] < losses["numpy"][0]  # the step does train


def test_compare_alternates_and_ratio_is_per_round():
    calls = []
    timings = compare(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        rounds=4,
        block_seconds=0.0,
        warmup_seconds=0.0,
    )
    assert len(timings["a"].per_round) == len(timings["b"].per_round) == 4
    assert calls[-8:] == ["a", "b", "b", "a", "a", "b", "b", "a"]  # the order rotates from round to round
    timings["a"].per_round, timings["b"].per_round = [2.0, 4.0, 9.0, 1.0], [1.0, 1.0, 3.0, 1.0]
    assert ratio(timings, "a", "b") == 2.5  # median of 2, 4, 3, 1


def test_nnscratch_bench_delegates_to_the_suite(monkeypatch):
    import benchmarks.runner as runner
    from nnscratch.cli import main as cli_main

    seen = []
    monkeypatch.setattr(runner, "main", lambda argv: seen.append(argv) or 0)
    assert cli_main(["bench", "--quick", "--threads", "1", "--out", "somewhere"]) == 0
    assert seen == [["--out", "somewhere", "--threads", "1", "--quick"]]


def test_gpu_part_skips_cleanly_without_a_gpu():
    if cupy_available():
        pytest.skip("a GPU is usable here: test_gpu_part_runs covers it")
    results, note = gpu_cases(Settings.quick(), quick=True)
    assert results == [] and "GPU benchmarks skipped" in note


@pytest.mark.gpu
def test_gpu_part_runs():
    results, note = gpu_cases(Settings.quick(), quick=True)
    assert results and note.startswith("GPU:")
    for case in results:
        assert "nnscratch" in case.timings and "hand-written CuPy" in case.timings
        assert all(math.isfinite(case.ratio(n)) for n in case.timings if n != "nnscratch")


def test_gradcheck_part_reports_what_issue_4s_run_returns(monkeypatch):
    import sys
    import types

    from benchmarks.runner import gradcheck_section

    fake = types.ModuleType("benchmarks.bench_gradcheck")
    fake.run = lambda quick=False: [{"mode": "full", "quick": quick}]
    monkeypatch.setitem(sys.modules, "benchmarks.bench_gradcheck", fake)
    assert gradcheck_section(True) == ["| mode | quick |", "|---|---|", "| full | True |"]


def test_page_faults_counts_fresh_memory():
    pytest.importorskip("resource")
    assert page_faults(lambda: None, steps=3) < 50  # a step that touches nothing new
    # 64 MiB is above glibc's largest mmap threshold: every call maps fresh memory and touches all of it,
    # 16 384 pages of 4 KiB, or 32 of 2 MiB where NumPy's huge-page advice is taken
    assert page_faults(lambda: np.ones(8 * 2**20), steps=2) >= 30
