"""Reproduce documented training failures and their fixes: run the variants, print their metrics
side by side, say what happened and why, and write the figures.

examples:
  nnscratch repro list                             # the scenarios and their variants
  nnscratch repro sqrt                             # every variant, figures in figures/
  nnscratch repro sqrt --variant failure --doctor  # one variant, watched by the training doctor
  nnscratch repro all --quick --json               # shorter runs, results as JSON
  nnscratch repro sqrt --seeds 0-19 --jobs 2       # every variant over 20 seeds: in how many does each verdict hold?
  nnscratch repro all --quick --jobs 2             # the variants run two at a time
  nnscratch repro sqrt --seeds 20 --scheduler tcp://host:8786   # on a Dask cluster (nnscratch[cluster])
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

from ..errors import ConfigError
from .base import Result, Scenario, get, names, run


def citation(scenario: Scenario) -> str:
    """The question a scenario reproduces, as one line: its title in quotes, the site, and the link if known."""
    if not scenario.question:
        return ""
    return f'"{scenario.question}", {scenario.site}' + (f", {scenario.url}" if scenario.url else "")


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}" if value == 0 or 1e-3 <= abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


def metrics_table(results: list[Result]) -> str:
    """The metrics of several variants as a text table: one row per metric, one column per variant."""
    keys: list[str] = []
    for r in results:
        keys += [k for k in r.metrics if k not in keys]
    header = ["metric", *[r.variant for r in results]]
    rows = [header] + [[k, *[_cell(r.metrics.get(k, "")) for r in results]] for k in keys]
    rows.append(["steps", *[str(r.history.steps) for r in results]])
    rows.append(["seconds", *[f"{r.history.seconds:.1f}" for r in results]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _doctor_text(result: Result) -> str:
    expected = get(result.scenario).expected.get(result.variant)
    want = ("healthy" if not expected else ", ".join(expected)) if expected is not None else "not stated"
    return f"Doctor on {result.variant} (the cause this variant shows: {want}):\n{result.doctor}"


def _variants(name: str, args: argparse.Namespace) -> list[str]:
    """``--variant failure,fixed`` -> those two; no ``--variant``: every variant of ``name``."""
    known = list(get(name).variants)
    chosen = [v.strip() for v in args.variant.split(",")] if args.variant else known
    for v in chosen:
        if v not in known:
            raise ConfigError(f"unknown variant {v!r} of {name}; expected one of {', '.join(known)}.")
    return chosen


def run_scenario(name: str, args: argparse.Namespace) -> list[Result]:
    """Run the variants ``args`` asks for, print everything, write the figures; return the results."""
    chosen = _variants(name, args)
    seed = 0 if args.seed is None else args.seed
    results = [run(name, v, seed=seed, quick=args.quick, doctor=args.doctor, progress=args.progress) for v in chosen]
    report_scenario(name, results, args)
    return results


def report_scenario(name: str, results: list[Result], args: argparse.Namespace) -> None:
    """Print the variants' metrics, verdicts and doctor reports (unless ``--json``) and write the figures."""
    from .figures import write_figures

    scenario = get(name)
    paths = write_figures(results, args.out) if args.out != "none" else []
    if args.json:
        return
    print(f"\n== {name}: {scenario.title} ==")
    if scenario.question:
        print(f"   question: {citation(scenario)}")
    for r in results:
        print(f"  {r.variant:16s} {scenario.variants[r.variant]}")
    print("\n" + metrics_table(results) + "\n")
    for r in results:
        print(f"[{r.variant}] {r.verdict}\n")
    if args.doctor:
        for r in results:
            print(_doctor_text(r) + "\n")
    for p in paths:
        print(f"figure written to {p}")


def _parallel_runs(todo: list[str], args: argparse.Namespace, jobs: int) -> list[Result]:
    """One seed, every chosen variant of every scenario at once, ``jobs`` processes or a Dask cluster."""
    from .sweep import execute, run_result

    seed = 0 if args.seed is None else args.seed
    tasks = [(name, v, seed, args.quick, args.doctor) for name in todo for v in _variants(name, args)]
    results = execute(run_result, tasks, jobs, args.scheduler, args.progress, label="variants")
    for name in todo:
        report_scenario(name, [r for r in results if r.scenario == name], args)
    return results


def _sweeps(todo: list[str], args: argparse.Namespace, seeds: list[int], jobs: int) -> int:
    from .sweep import sweeps

    started = time.perf_counter()
    done = sweeps(
        {name: _variants(name, args) for name in todo},
        seeds,
        quick=args.quick,
        jobs=jobs,
        scheduler=args.scheduler,
        progress=args.progress,
    )
    elapsed = time.perf_counter() - started
    paths = [sw.plot(args.out) for sw in done] if args.out != "none" else []
    if args.json:
        data = [sw.to_dict() for sw in done]
        print(json.dumps(data[0] if len(data) == 1 else data, indent=2))
        return 0
    for sw in done:
        print("\n" + sw.summary())
    where = f"the Dask scheduler {args.scheduler}" if args.scheduler else f"{jobs} process{'es' if jobs > 1 else ''}"
    runs = sum(len(sw.runs) for sw in done)
    print(f"\n{runs} runs in {elapsed:.1f} s on {where}.")
    for p in paths:
        print(f"figure written to {p}")
    return 0


def _positive_int(text: str, option: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{option} must be a positive integer, got {text!r}.")
    return value


def main(args: argparse.Namespace) -> int:
    """The ``repro`` subcommand (``args`` from :func:`add_parser`)."""
    if args.name == "list":
        for name in names():
            scenario = get(name)
            print(f"{name:16s} {scenario.title}")
            if scenario.question:
                print(f"    question: {citation(scenario)}")
            for variant, text in scenario.variants.items():
                print(f"    {variant:18s} {text}")
        return 0
    todo = names() if args.name == "all" else [args.name]
    if args.variant and len(todo) > 1:
        raise ConfigError("--variant needs one scenario name, not 'all'.")
    if args.seeds is None and args.jobs == "1" and args.scheduler is None:
        everything = [r for name in todo for r in run_scenario(name, args)]
    else:
        jobs = _positive_int(args.jobs, "--jobs")
        if args.seeds is not None:
            from .sweep import parse_seeds

            seeds = parse_seeds(args.seeds)
            if args.seed is not None:
                raise ConfigError("--seed and --seeds exclude each other: --seeds 3,7 runs seeds 3 and 7.")
            if args.doctor:
                raise ConfigError("--doctor watches one run: use it with --seed, not with --seeds.")
            return _sweeps(todo, args, seeds, jobs)
        everything = _parallel_runs(todo, args, jobs)
    if args.json:
        print(json.dumps([r.to_dict() for r in everything], indent=2, default=str))
    return 0


def add_parser(sub: Any) -> None:
    """Add ``repro`` to the ``nnscratch`` command's subparsers."""
    p = sub.add_parser(
        "repro",
        help="reproduce a documented training failure and its fix, with figures",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=["list", "all", *names()], help="a scenario, 'all', or 'list'")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--variant", help="run only this variant, or these (failure,fixed); default: all of them")
    group.add_argument("--all-variants", action="store_true", help="run every variant (the default)")
    p.add_argument("--seed", type=int, default=None, help="seed of the data and the weights (default: 0)")
    p.add_argument(
        "--seeds",
        metavar="SEEDS",
        help="run every variant with each of these seeds and summarise: a count (20: seeds 0-19), "
        "a range (0-19) or a list (1,5,9)",
    )
    p.add_argument(
        "--jobs",
        default="1",
        metavar="N",
        help="worker processes on this machine, each with one BLAS thread (default: 1, no workers)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://host:8786 (needs pip install 'nnscratch[cluster]')",
    )
    p.add_argument(
        "--out", default="figures", metavar="DIR", help="folder for the PNG figures, or 'none' (default: figures)"
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    p.add_argument("--quick", action="store_true", help="shorter runs, only where the symptom is already plain")
    p.add_argument("--doctor", action="store_true", help="watch each variant with the training doctor")
    p.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        default=None,
        help="no progress bar (it shows only on a terminal anyway)",
    )
    p.set_defaults(func=main)
