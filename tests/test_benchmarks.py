"""The benchmark suite runs, writes its outputs and compares like with like (no timing assertions)."""

import json
import math
from collections import Counter
from itertools import permutations

import numpy as np
import pytest

from nnscratch.backend import cupy_available
from nnscratch.bench import problems
from nnscratch.bench.cases import Settings
from nnscratch.bench.contenders import UnavailableError, handwritten_step, nnscratch_step, torch_step
from nnscratch.bench.gpu import gpu_cases
from nnscratch.bench.runner import main
from nnscratch.bench.timing import compare, page_faults, ratio


def test_quick_run_writes_report_plot_and_finite_ratios(tmp_path, capsys):
    out = tmp_path / "new" / "folder"  # created, parents too
    assert main(["--quick", "--threads", "1", "--out", str(out)]) == 0
    text = (out / "results.md").read_text(encoding="utf-8")
    assert "sqrt 1-10-1" in text and "numpy" in text and "Peak memory" in text
    assert (out / "results.png").stat().st_size > 10_000
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
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
    # A smoke run says so, and judges no goal: its numbers are not measurements.
    assert "smoke run" in text.splitlines()[0].lower() and "SMOKE RUN" in text
    assert "MISSED" not in text and "met)" not in text and "goal ≤" not in text
    assert data["smoke_run"] is True and all(case["goals"] == {} for case in data["timing"])
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "results.md", "results.png"]  # no temp files


def test_report_judges_goals_only_in_a_full_run():
    from nnscratch.bench.cases import CaseResult
    from nnscratch.bench.memory import MemoryResult
    from nnscratch.bench.report import memory_table, timing_table
    from nnscratch.bench.timing import Timing

    case = CaseResult("c", {"nnscratch": Timing("nnscratch", [2.0] * 4), "x": Timing("x", [1.0] * 4)}, goals={"x": 1.5})
    mem = [MemoryResult("c", "nnscratch", peak=200, required=100, growth=0, steps=3)]
    full = "\n".join(timing_table([case]) + memory_table(mem))
    smoke = "\n".join(timing_table([case], smoke=True) + memory_table(mem, smoke=True))
    assert full.count("MISSED") == 2 and "2.000x" in full
    assert "MISSED" not in smoke and "goal" not in smoke and "2.000x" in smoke


def test_default_output_is_a_new_folder_in_the_current_directory(tmp_path, monkeypatch):
    from nnscratch.bench.runner import default_out

    monkeypatch.chdir(tmp_path)
    first = default_out()
    assert first.parent == tmp_path and first.name.startswith("nnscratch-bench-") and not first.exists()
    first.mkdir()
    second = default_out()
    assert second != first and not second.exists()


def test_unwritable_out_is_a_usage_error_before_anything_runs(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["--quick", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr()
    assert err.err.startswith("nnscratch: error: --out") and len(err.err.strip().splitlines()) == 1
    assert "sqrt 1-10-1" not in err.out  # nothing was timed


def test_python_dash_m_names_itself():
    import subprocess
    import sys

    for module in ("nnscratch.bench", "nnscratch.bench.doctor", "nnscratch.bench.bench_gradcheck"):
        out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"usage: python -m {module} "), out.stdout[:200]


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
    # Each block is one untimed step (the caches) and one timed one; the order turns from round to round.
    assert calls[-16:] == [*"aabbbbaabbaaaabb"]
    timings["a"].per_round, timings["b"].per_round = [2.0, 4.0, 9.0, 1.0], [1.0, 1.0, 3.0, 1.0]
    assert ratio(timings, "a", "b") == 2.5  # median of 2, 4, 3, 1


def test_compare_balances_who_runs_after_whom():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    compare(steps, rounds=6, block_seconds=0.0, warmup_seconds=0.0)
    blocks = calls[-36:][::2]  # six rounds of three blocks, each of two calls
    rounds = [blocks[i : i + 3] for i in range(0, 18, 3)]
    follows = Counter(pair for order in rounds for pair in zip(order, order[1:]))
    # A rotation alone (abc, bca, cab) would run b after a three times and a after b never.
    assert follows == dict.fromkeys(permutations("abc", 2), 2)


def test_nnscratch_bench_delegates_to_the_suite(monkeypatch, tmp_path):
    import nnscratch.bench.runner as runner
    from nnscratch.cli import main as cli_main

    seen = []
    monkeypatch.setattr(runner, "run", lambda quick, out, notes: seen.append((quick, out)) or ("report", []))
    assert cli_main(["bench", "--quick", "--threads", "1", "--out", str(tmp_path / "b")]) == 0
    assert seen == [(True, tmp_path / "b")]


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

    from nnscratch.bench.runner import gradcheck_section

    fake = types.ModuleType("nnscratch.bench.bench_gradcheck")
    fake.run = lambda quick=False: [{"mode": "full", "quick": quick}]
    monkeypatch.setitem(sys.modules, "nnscratch.bench.bench_gradcheck", fake)
    assert gradcheck_section(True) == ["| mode | quick |", "|---|---|", "| full | True |"]


def test_page_faults_counts_fresh_memory():
    pytest.importorskip("resource")
    assert page_faults(lambda: None, steps=3) < 50  # a step that touches nothing new
    # 64 MiB is above glibc's largest mmap threshold: every call maps fresh memory and touches all of it,
    # 16 384 pages of 4 KiB, or 32 of 2 MiB where NumPy's huge-page advice is taken
    assert page_faults(lambda: np.ones(8 * 2**20), steps=2) >= 30


def test_the_sqrt_pair_times_both_contenders_and_prints_their_ratios(capsys):
    from nnscratch.bench import pair

    engine, hand, median_ratio, fastest = pair.pair(rounds=3, block_seconds=0.001)
    assert engine > 0 and hand > 0 and math.isfinite(median_ratio) and math.isfinite(fastest)
    assert pair.main(["--rounds", "3"]) == 0
    out = capsys.readouterr().out
    assert "median of per-round ratios" in out and "fastest rounds" in out


def test_instruction_counts_come_from_callgrind_and_repeat():
    """The count per step is callgrind's count with steps minus the count without, and it repeats."""
    import shutil

    from nnscratch.bench import instructions

    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    first = instructions.per_unit("hand-written NumPy", 3)
    # a 1-10-1 step on 500 rows: tens of NumPy calls, each thousands of instructions
    assert 50_000 < first < 5_000_000
    assert instructions.per_unit("hand-written NumPy", 3) == pytest.approx(first, rel=0.01)


def test_instruction_counter_runs_every_unit_and_explains_what_it_needs(monkeypatch, capsys):
    from nnscratch.bench import instructions

    for name in instructions.UNITS:
        instructions._child(name, 1)  # the work a child process does under callgrind, here without it
    with pytest.raises(ValueError, match="name must be one of"):
        instructions.per_unit("torch", 3)
    with pytest.raises(ValueError, match="units must be at least 1"):
        instructions.per_unit("fit", 0)
    with pytest.raises(SystemExit):
        instructions.main(["--steps", "0"])
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    assert instructions.main([]) == 1
    assert "valgrind is not installed" in capsys.readouterr().err
