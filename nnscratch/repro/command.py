"""Reproduce documented training failures and their fixes: run the variants, print their metrics
side by side, say what happened and why, and write the figures.

examples:
  nnscratch repro list                             # the scenarios and their variants
  nnscratch repro sqrt                             # every variant, figures in figures/
  nnscratch repro sqrt --variant failure --doctor  # one variant, watched by the training doctor
  nnscratch repro all --quick --json               # shorter runs, results as JSON
"""

from __future__ import annotations

import argparse
import json
import math
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


def run_scenario(name: str, args: argparse.Namespace) -> list[Result]:
    """Run the variants ``args`` asks for, print everything, write the figures; return the results."""
    from .figures import write_figures

    scenario = get(name)
    chosen = [args.variant] if args.variant else list(scenario.variants)
    results = [
        run(name, v, seed=args.seed, quick=args.quick, doctor=args.doctor, progress=args.progress) for v in chosen
    ]
    paths = write_figures(results, args.out) if args.out != "none" else []
    if args.json:
        return results
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
    return results


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
    everything = [r for name in todo for r in run_scenario(name, args)]
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
    group.add_argument("--variant", help="run only this variant (default: all of them)")
    group.add_argument("--all-variants", action="store_true", help="run every variant (the default)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the weights (default: 0)")
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
