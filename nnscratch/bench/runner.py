"""Time and measure nnscratch against hand-written NumPy and torch; write the report.

The report (results.md), its figure (results.png) and every number (results.json) go to
a new folder, nnscratch-bench-YYYYmmdd-HHMMSS in the current directory, unless --out names
one. --quick is a smoke run: it shows that every part runs, but its rounds are too few and
too short to compare with the goals, so it judges none. torch is optional; without it the
torch columns are skipped. Same as: python -m nnscratch.bench.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from . import machine, memory, problems, report
from .cases import ENGINE, HAND, Settings, cpu_cases
from .contenders import UnavailableError, handwritten_step, nnscratch_step
from .gpu import gpu_cases


def default_out() -> Path:
    """A folder that does not exist yet: ``./nnscratch-bench-YYYYmmdd-HHMMSS`` (``-2``, ``-3``... if taken)."""
    base = Path.cwd() / f"nnscratch-bench-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


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
        notes.append("torch is not installed: the torch columns are skipped (optional: `pip install torch`).")
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
        for name, build in ((ENGINE, nnscratch_step), (HAND, handwritten_step)):
            try:
                results.append(memory.step_memory(problem, name, build, steps=3 if quick else 30))
            except UnavailableError as exc:
                notes.append(f"memory of {problem.label}, {name} skipped: {exc}")
    return results, notes


def gradcheck_section(quick: bool) -> list[str]:
    """Full and fast gradient checking against torch.autograd.gradcheck (:mod:`.bench_gradcheck`)."""
    bench = importlib.import_module("nnscratch.bench.bench_gradcheck")  # imported late: the test swaps it
    return report.as_markdown_lines(bench.run(quick=quick))


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The suite's options, shared by ``nnscratch bench`` and ``python -m nnscratch.bench``."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: small batches, a few short rounds; checks that everything runs, states no goal verdicts",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder, created if needed (default: a new nnscratch-bench-YYYYmmdd-HHMMSS in the current folder)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="BLAS threads for NumPy (and so torch); default: NumPy's own. On a busy shared machine "
        "use 1: a multi-threaded BLAS call waits for its slowest thread.",
    )
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the suite as ``args`` (from :func:`add_arguments`) asks; the output folder is checked first."""
    from ..cli import writable_folder

    out = writable_folder(args.out if args.out is not None else default_out(), "--out")
    with _threads(args.threads) as notes:
        text, paths = run(args.quick, out, notes)
    print(text, flush=True)
    print("written: " + ", ".join(map(str, paths)), flush=True)
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "python -m nnscratch.bench") -> int:
    """Command-line entry point; usage errors exit 2, as argparse's do."""
    from ..cli import finish_parser, make_parser, run_command

    parser = make_parser(prog=prog, description=__doc__)
    add_arguments(parser)
    finish_parser(parser, top=True)
    return run_command(parser, run_from_args, argv)


def run(quick: bool, out: Path, notes: list[str]) -> tuple[str, list[Path]]:
    """Every part of the suite; returns the Markdown report and the paths written."""
    settings = Settings.quick() if quick else Settings()
    if quick:
        notes.append(
            "--quick: a smoke run with small batches and few, short rounds; it checks that every part runs. "
            "Do not quote these numbers; no goal is judged."
        )
    info = machine.describe()
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    started = time.perf_counter()

    def log(part: str) -> None:
        print(f"[bench {time.perf_counter() - started:6.1f} s] {part}", flush=True)

    log("CPU step times" + (" (smoke run)" if quick else ""))
    cases = cpu_cases(settings, quick=quick, log=log)
    log("GPU step times")
    gpu, gpu_note = gpu_cases(settings, quick=quick)
    notes.append(gpu_note)
    log("peak memory of a step")
    mem, mem_notes = memory_results(quick)
    notes += mem_notes
    log("gradient checking")
    extra = {"Gradient checking": gradcheck_section(quick)}
    log("done")
    text = report.markdown(info, cases + gpu, mem, extra, notes, smoke=quick)
    data = report.as_json(info, cases + gpu, mem, smoke=quick)
    return text, report.write(out, text, data, cases + gpu, mem, smoke=quick)
