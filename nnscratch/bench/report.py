"""The benchmark's outputs: a Markdown report, a PNG figure and a JSON file with every number.

A smoke run (``smoke=True``, from ``--quick``) is labelled as such in all three and judges
no goal: its rounds are too few and too short for a ratio to be compared with one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .cases import ENGINE, CaseResult
from .memory import MemoryResult


def _fmt_time(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


SMOKE_BANNER = (
    "**SMOKE RUN (--quick)**: small batches, a few short rounds. It shows that every part runs; "
    "its numbers are not measurements, and no goal is judged."
)


def _fmt_ratio(value: float | None, goal: float | None, smoke: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:.3f}x"
    if goal is not None and not smoke:
        text += f" (goal ≤ {goal:.2f}: {'met' if value <= goal else 'MISSED'})"
    return text


def timing_table(cases: list[CaseResult], smoke: bool = False) -> list[str]:
    lines = [
        "| case | contender | median per step | noise (IQR/median) | page faults per step | nnscratch / contender |",
        "|---|---|---|---|---|---|",
    ]
    for case in cases:
        for name, timing in case.timings.items():
            ratio = None if name == ENGINE else case.ratio(name)
            faults = "—" if timing.faults_per_step is None else f"{timing.faults_per_step:.0f}"
            lines.append(
                f"| {case.label} | {name} | {_fmt_time(timing.median)} | {timing.spread:.1%} | {faults} | "
                f"{_fmt_ratio(ratio, case.goals.get(name), smoke) if name != ENGINE else ''} |"
            )
        for note in case.notes:
            lines.append(f"| {case.label} | *{note}* | | | | |")
    return lines


def memory_table(results: list[MemoryResult], smoke: bool = False) -> list[str]:
    lines = [
        "| case | contender | peak of one step | bytes that must exist | peak / required | growth over steps |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        judged = r.contender == ENGINE and not smoke
        goal = f" (goal ≤ 1.30: {'met' if r.ratio <= 1.3 else 'MISSED'})" if judged else ""
        lines.append(
            f"| {r.label} | {r.contender} | {r.peak / 2**20:.2f} MiB | {r.required / 2**20:.2f} MiB | "
            f"{r.ratio:.3f}x{goal} | {r.growth:+d} B over {r.steps} steps |"
        )
    return lines


def as_markdown_lines(result: Any) -> list[str]:
    """Another part's result as Markdown: a list of dicts becomes a table, a dict a list, anything else text."""
    if isinstance(result, list) and result and all(isinstance(row, dict) for row in result):
        keys = list(dict.fromkeys(k for row in result for k in row))

        def cell(value: Any) -> str:
            return f"{value:.4g}" if isinstance(value, float) else "" if value is None else str(value)

        return [
            "| " + " | ".join(keys) + " |",
            "|" + "---|" * len(keys),
            *("| " + " | ".join(cell(row.get(k)) for k in keys) + " |" for row in result),
        ]
    if isinstance(result, dict):
        return [f"- **{key}**: {value}" for key, value in result.items()]
    return str(result).splitlines()


def markdown(
    machine: dict[str, str],
    cases: list[CaseResult],
    memory: list[MemoryResult],
    extra: dict[str, list[str]],
    notes: list[str],
    smoke: bool = False,
) -> str:
    """The whole report; ``extra`` holds further sections (title -> Markdown lines)."""
    out = ["# nnscratch benchmarks" + (": smoke run" if smoke else ""), ""]
    out += [SMOKE_BANNER, ""] if smoke else []
    out += [f"- **{key}**: {value}" for key, value in machine.items()]
    out += [
        "",
        "Contenders alternate in rounds; times are medians over rounds and each ratio is the median of",
        "the per-round ratios (below 1: nnscratch is faster).",
        "",
        "## Training step time",
        "",
    ]
    out += timing_table(cases, smoke)
    out += ["", "## Peak memory of one training step (tracemalloc)", ""]
    out += memory_table(memory, smoke)
    for title, lines in extra.items():
        out += ["", f"## {title}", "", *lines]
    if notes:
        out += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    return "\n".join(out) + "\n"


def plot(cases: list[CaseResult], memory: list[MemoryResult], path: Path, smoke: bool = False) -> None:
    """Bar chart of nnscratch's time ratio to each contender per case, and of peak/required memory.

    ``smoke``: grey bars, no goal marks, and a title that says it is a smoke run.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        (f"{case.label}\nvs {name}", value, case.goals.get(name))
        for case in cases
        for name in case.timings
        if name != ENGINE and (value := case.ratio(name)) is not None
    ]
    fig, (ax_t, ax_m) = plt.subplots(
        1, 2, figsize=(14, max(4, 0.42 * len(rows) + 1.5)), gridspec_kw={"width_ratios": [3, 2]}
    )
    ys = range(len(rows))
    colors = ["0.6" if goal is None or smoke else "C2" if value <= goal else "C3" for _, value, goal in rows]
    ax_t.barh(ys, [r[1] for r in rows], color=colors)
    for y, (_, _, goal) in zip(ys, rows):
        if goal is not None and not smoke:
            ax_t.plot([goal, goal], [y - 0.4, y + 0.4], color="k", lw=2)
    ax_t.axvline(1.0, color="0.5", ls="--", lw=1)
    values = [r[1] for r in rows if r[1] > 0]
    if values and max(values) / min(values) > 10:  # a noisy smoke run: one outlier would flatten every other bar
        ax_t.set_xscale("log")
    ax_t.set_yticks(list(ys), [r[0] for r in rows], fontsize=7)
    ax_t.invert_yaxis()
    if smoke:
        ax_t.set(
            xlabel="nnscratch time / contender time (below 1: nnscratch faster)",
            title="SMOKE RUN (--quick): step-time ratios, not measurements; no goal judged",
        )
    else:
        ax_t.set(
            xlabel="nnscratch time / contender time (black tick: goal, below 1: nnscratch faster)",
            title="Training-step time ratios (green: goal met, red: missed, grey: no goal)",
        )
    labels = [f"{m.label}\n{m.contender}" for m in memory]
    colors = ["C0" if m.contender == ENGINE else "0.6" for m in memory]
    ax_m.barh(range(len(memory)), [m.ratio for m in memory], color=colors)
    if not smoke:
        ax_m.axvline(1.3, color="k", lw=2, label="goal 1.3x (nnscratch)")
        ax_m.legend(fontsize=8)
    ax_m.set_yticks(list(range(len(memory))), labels, fontsize=7)
    ax_m.invert_yaxis()
    ax_m.set(
        xlabel="peak bytes of one step / bytes that must exist",
        title="Peak step memory" + (" (smoke run)" if smoke else ""),
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def as_json(
    machine: dict[str, str], cases: list[CaseResult], memory: list[MemoryResult], smoke: bool = False
) -> dict[str, Any]:
    """Every number; a smoke run says so (``"smoke_run": true``) and carries no goals."""

    def clean(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else x

    return {
        "smoke_run": smoke,
        "machine": machine,
        "timing": [
            {
                "case": c.label,
                "median_seconds": {n: t.median for n, t in c.timings.items()},
                "page_faults_per_step": {n: t.faults_per_step for n, t in c.timings.items()},
                "ratios": {n: clean(c.ratio(n)) for n in c.timings if n != ENGINE},
                "goals": {} if smoke else c.goals,
                "notes": c.notes,
            }
            for c in cases
        ],
        "memory": [
            {
                "case": m.label,
                "contender": m.contender,
                "peak": m.peak,
                "required": m.required,
                "ratio": m.ratio,
                "growth": m.growth,
                "steps": m.steps,
            }
            for m in memory
        ],
    }


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename it, so a reader never sees half a report."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write(
    out: Path,
    markdown_text: str,
    data: dict[str, Any],
    cases: list[CaseResult],
    memory: list[MemoryResult],
    smoke: bool = False,
) -> list[Path]:
    """``results.md``, ``results.png`` and ``results.json`` in ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.md", out / "results.png", out / "results.json"]
    _write_text(paths[0], markdown_text)
    tmp_png = out / "results.tmp.png"
    plot(cases, memory, tmp_png, smoke)
    tmp_png.replace(paths[1])
    _write_text(paths[2], json.dumps(data, indent=1))
    return paths
