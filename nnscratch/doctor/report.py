"""What the doctor hands back: :class:`Finding`, :class:`Report` and its evidence plot."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .stats import Snapshot, Trace

SEVERITIES = ("error", "warning", "info")


@dataclass
class Finding:
    """One diagnosis: what (``code``), how bad, where and when, the numbers, and what to do.

    ``evidence`` maps names to measured numbers and the thresholds they crossed;
    ``caused_by`` lists the codes of other findings that most likely explain this one
    (empty for a root cause); ``role`` is ``"root cause"``, ``"symptom"`` or
    ``"symptom, cause unclear"``.
    """

    code: str
    severity: str
    message: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)
    layer: str | None = None
    step: int | None = None
    caused_by: list[str] = field(default_factory=list)
    role: str = "root cause"

    def __str__(self) -> str:
        where = "".join(
            [
                f" layer {self.layer}" if self.layer else "",
                f" from step {self.step}" if self.step is not None and self.step >= 0 else "",
            ]
        )
        lines = [f"[{self.severity}] {self.code}{where} ({self.role})", f"  {self.message}"]
        if self.evidence:
            lines.append("  evidence: " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.evidence.items()))
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)) and v and isinstance(v[0], float):
        return "[" + ", ".join(f"{x:.3g}" for x in v) + "]"
    return str(v)


@dataclass
class Report:
    """The doctor's verdict: findings ordered root causes first, and the measurements behind them."""

    findings: list[Finding]
    trace: Trace = field(default_factory=Trace)
    thresholds: Any = None

    @property
    def healthy(self) -> bool:
        """True when nothing of severity "warning" or "error" was found."""
        return not self.problems

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in ("error", "warning")]

    @property
    def codes(self) -> list[str]:
        """The codes of the problems (warnings and errors), most likely root cause first."""
        return [f.code for f in self.problems]

    @property
    def root_cause(self) -> str:
        """The most likely root cause's code, ``"unclear"`` when only symptoms were found, ``""`` if healthy."""
        roots = [f.code for f in self.problems if f.role == "root cause"]
        return roots[0] if roots else ("unclear" if self.problems else "")

    def summary(self) -> str:
        steps, probes, rows = self.trace.steps, len(self.trace.snapshots), self.trace.probe_rows
        seen = f"after {steps} optimizer step{'s' * (steps != 1)}" if steps else "before training (0 optimizer steps)"
        if probes:
            seen += f", {probes} probe{'s' * (probes != 1)} of {rows} rows"
        if self.codes == ["NOT_MEASURED"]:
            return f"Not measured ({seen}): {self.findings[0].fix}."
        if self.healthy:
            return f"Healthy: no problem found ({seen})."
        return f"{len(self.problems)} problem(s) found ({seen}); most likely root cause: {self.root_cause}."

    @property
    def fixes(self) -> list[str]:
        """One ordered list of what to do, root causes first, without repeats or contradictions.

        A symptom's advice that contradicts a root cause's (``lower the learning rate`` for dead
        units in a run whose steps are too small) is left out.
        """
        codes = set(self.codes)
        drop = []
        if "LR_TOO_SMALL" in codes:
            drop.append("lower the learning rate")
        if codes & {"LR_TOO_LARGE", "NON_FINITE"}:
            drop += ["raise the learning rate", "try a larger learning rate"]
        out: list[str] = []
        for f in self.problems:
            clauses = [c for c in re.split(r",\s*(?:or\s+)?", f.fix) if not any(c.startswith(d) for d in drop)]
            text = ", ".join(clauses)
            if text and text not in out:
                out.append(text)
        return out

    def __str__(self) -> str:
        todo = [f"  {i}. {fix}" for i, fix in enumerate(self.fixes, 1)]
        return "\n".join(
            [self.summary(), *(str(f) for f in self.findings), *(["What to do, in order:", *todo] if todo else [])]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "root_cause": self.root_cause,
            "summary": self.summary(),
            "findings": [asdict(f) for f in self.findings],
        }

    def plot(self, path: str | Path) -> Path:
        """Draw the per-layer statistics over training, thresholds dashed; write a PNG to ``path``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        snaps, th = self.trace.snapshots, self.thresholds
        layer_panels = [
            ("dead", "fraction of dead units", "units on for < 1% of probe rows", [(th.dead, "DEAD_RELU")], False),
            (
                "act",
                "activation spread / first hidden layer's",
                "signal through depth",
                [(th.vanishing, "VANISHING_SIGNAL"), (th.exploding, "EXPLODING_SIGNAL")],
                True,
            ),
            (
                "grad",
                "gradient RMS / last hidden layer's",
                "gradient through depth",
                [(th.vanishing, "VANISHING_SIGNAL"), (th.exploding, "EXPLODING_SIGNAL")],
                True,
            ),
            (
                "update",
                "update-to-weight ratio ||dW|| / ||W||",
                "step size",
                [(th.lr_small, "LR_TOO_SMALL"), (th.lr_large, "LR_TOO_LARGE")],
                True,
            ),
        ]
        # Only the panels this model has data for: a model without ReLUs has no dead-unit panel.
        measured = [p for p in layer_panels if _layer_series(snaps, p[0], keep_zeros=True)]
        count = 2 + len(measured)
        cols = min(3, count)
        rows = math.ceil(count / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
        flat = list(axes.ravel())
        fig.suptitle(self.summary(), fontsize=10)
        _panel_loss(flat[0], snaps, th)
        for ax, (kind, ylabel, title, lines, log) in zip(flat[1:], measured):
            _panel_layers(ax, snaps, kind, title, lines, log=log, ylabel=ylabel)
        ax = flat[len(measured) + 1]
        ax.plot([s.step for s in snaps], [s.tail_share for s in snaps], "o-", ms=3, label="worst 1% of rows")
        ax.axhline(th.tail_share, color="C3", ls="--", label="HEAVY_TAILED_LOSS")
        ax.set(
            xlabel="step",
            ylabel="share of the probe loss",
            ylim=(0, 1.05),
            title="loss share of the worst 1% of probe rows",
        )
        ax.legend(fontsize=8)
        for extra in flat[count:]:
            extra.set_visible(False)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


def _panel_loss(ax: Any, snaps: list[Snapshot], th: Any) -> None:
    ax.semilogy([s.step for s in snaps], [s.relative_loss for s in snaps], "o-", ms=3, label="probe loss")
    ax.axhline(1.0, color="grey", ls=":", label="predicting the mean")
    ax.axhline(th.plateau_level, color="C3", ls="--", label="PLATEAU level")
    ax.set(xlabel="step", ylabel="loss / loss of predicting the mean", title="probe loss")
    ax.legend(fontsize=8)


def _layer_series(snaps: list[Snapshot], kind: str, keep_zeros: bool = False) -> dict[str, list[tuple[int, float]]]:
    """Per layer, the (step, value) pairs of one statistic, normalised as the panel title says
    (``keep_zeros``: also the zero values, which a log axis must mark rather than drop)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for s in snaps:
        lin = s.linears()
        if kind == "dead":
            values = {f"{r.name} ({r.kind})": r.dead for r in s.relus()}
        elif kind == "act" and len(lin) >= 3 and lin[1].in_spread:
            values = {f"input of {r.name}": r.in_spread / lin[1].in_spread for r in lin[1:]}
        elif kind == "grad" and len(lin) >= 3 and lin[-2].grad_rms:
            values = {f"at {r.name}": (r.grad_rms or 0.0) / lin[-2].grad_rms for r in lin[:-1]}
        elif kind == "update":
            values = dict(s.update_ratio)
        else:
            values = {}
        for name, v in values.items():
            if v is not None and math.isfinite(v) and (v > 0 or kind == "dead" or keep_zeros):
                series.setdefault(name, []).append((s.step, v))
    return series


def _panel_layers(
    ax: Any,
    snaps: list[Snapshot],
    kind: str,
    title: str,
    lines: list[tuple[float, str]],
    log: bool = True,
    ylabel: str = "",
) -> None:
    import matplotlib.pyplot as plt

    series = _layer_series(snaps, kind, keep_zeros=True)
    positive = [v for points in series.values() for _, v in points if v > 0]
    floor = min(positive) / 10 if positive else 1e-12
    cmap = plt.get_cmap("viridis")
    colors = [cmap(i / max(1, len(series) - 1) * 0.9) for i in range(len(series))]
    clipped = False
    for (name, points), color in zip(series.items(), colors):
        steps = [p[0] for p in points]
        values = [max(v, floor) if log else v for _, v in points]
        ax.plot(steps, values, "o-", ms=3, label=name, color=color)
        zeros = [(st, floor) for st, v in points if log and v <= 0]
        if zeros:  # a log axis cannot show 0: drawn at the floor, marked, and said
            ax.plot(*zip(*zeros), "v", ms=6, color=color)
            clipped = True
    for value, label in lines:
        ax.axhline(value, color="C3", ls="--", lw=1)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), color="C3", fontsize=7, va="bottom")
    if log:
        ax.set_yscale("log")
    if clipped:
        ax.annotate(f"v: 0, drawn at {floor:.1g}", (0.99, 0.02), xycoords="axes fraction", ha="right", fontsize=7)
    if snaps:  # the whole run on every panel, even where a statistic was measured only a few times
        pad = max(1, (snaps[-1].step - snaps[0].step) // 40)
        ax.set_xlim(snaps[0].step - pad, snaps[-1].step + pad)
    ax.set(xlabel="step", ylabel=ylabel, title=title)
    if len(series) <= 8:
        ax.legend(fontsize=7, ncol=2)
    else:  # too many layers for a legend: a colour bar for depth
        mappable = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, len(series) - 1))
        ax.figure.colorbar(mappable, ax=ax, label="layer (first to last)")
