"""``python -m benchmarks [--quick] [--out DIR]`` (also ``nnscratch bench``): run everything, write the report."""

from __future__ import annotations

import argparse
import contextlib
import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from . import machine, memory, problems, report
from .cases import ENGINE, Settings, cpu_cases
from .contenders import UnavailableError, handwritten_step, nnscratch_step
from .gpu import gpu_cases

DEFAULT_OUT = Path(__file__).parent / "results"


@contextlib.contextmanager
def _threads(threads: int | None) -> Iterator[list[str]]:
    """Give NumPy's BLAS ``threads`` threads (default: leave it) and torch as many; restore both after."""
    notes, before = [], machine.blas_threads()
    if threads is not None:
        ok = machine.set_blas_threads(threads)
        notes.append(f"--threads {threads}: NumPy's BLAS " + ("set to it." if ok else "not settable (not OpenBLAS)."))
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        torch = None
        notes.append("torch is not installed: the torch columns are skipped.")
    torch_before = torch.get_num_threads() if torch else 0
    if torch:
        torch.set_num_threads(machine.blas_threads())
        notes.append(f"torch.set_num_threads({machine.blas_threads()}) to match NumPy's BLAS threads.")
    try:
        yield notes
    finally:
        if threads is not None:
            machine.set_blas_threads(before)
        if torch:
            torch.set_num_threads(torch_before)


def memory_results(quick: bool) -> tuple[list[memory.MemoryResult], list[str]]:
    """Peak step memory of nnscratch and of the hand-written step, for the MLPs and the deep narrow net."""
    if quick:
        cases = [problems.mlp_problem(np.float32, "sgd", batch=128)]
    else:
        cases = [problems.mlp_problem(dtype, opt) for dtype in (np.float64, np.float32) for opt in ("sgd", "adam")]
        cases.append(problems.deep_narrow_problem())
    results, notes = [], []
    for problem in cases:
        for name, build in ((ENGINE, nnscratch_step), ("hand-written NumPy", handwritten_step)):
            try:
                results.append(memory.step_memory(problem, name, build, steps=3 if quick else 30))
            except UnavailableError as exc:
                notes.append(f"memory of {problem.label}, {name} skipped: {exc}")
    return results, notes


def gradcheck_section(quick: bool) -> list[str]:
    """Full and fast gradient checking against torch.autograd.gradcheck (benchmarks/bench_gradcheck.py)."""
    bench = importlib.import_module("benchmarks.bench_gradcheck")  # imported late: the test swaps it
    return report.as_markdown_lines(bench.run(quick=quick))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (a few rounds; numbers mean little)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads for NumPy (and so torch); default: NumPy's own. On a busy shared machine "
        "use 1: a multi-threaded BLAS call waits for its slowest thread.",
    )
    args = parser.parse_args(argv)
    with _threads(args.threads) as notes:
        text, paths = run(args.quick, args.out, notes)
    print(text)
    print("written: " + ", ".join(map(str, paths)))
    return 0


def run(quick: bool, out: Path, notes: list[str]) -> tuple[str, list[Path]]:
    """Every part of the suite; returns the Markdown report and the paths written."""
    settings = Settings.quick() if quick else Settings()
    if quick:
        notes.append("--quick: a smoke run with small batches and few, short rounds; do not quote these numbers.")
    info = machine.describe()
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    cases = cpu_cases(settings, quick=quick)
    gpu, gpu_note = gpu_cases(settings, quick=quick)
    notes.append(gpu_note)
    mem, mem_notes = memory_results(quick)
    notes += mem_notes
    extra = {"Gradient checking": gradcheck_section(quick)}
    text = report.markdown(info, cases + gpu, mem, extra, notes)
    return text, report.write(out, text, report.as_json(info, cases + gpu, mem), cases + gpu, mem)
