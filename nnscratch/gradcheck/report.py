"""The result of a gradient check: one :class:`TensorCheck` per tensor, gathered in a :class:`GradcheckReport`.

A tensor passes when every element's analytic value lies within its tolerance of what
the finite differences support: the numeric estimate where f is smooth, the one-sided
slope or the range between the one-sided slopes at a kink. The tolerance of element i is

    tol_i = safety · fd_error_i + rtol · max(|analytic_i|, |numeric_i|) + atol,

so it comes from the estimated error of that element's finite difference, plus a small
floor (rtol, and atol, by default 1e-3·rtol times the tensor's largest gradient) for the
rounding of the analytic side. It never grows with the number of elements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GradientError
from .numeric import FiniteDifference


@dataclass
class TensorCheck:
    """How one tensor's analytic gradient compares with finite differences.

    max_abs_error / max_rel_error: over all elements (|a - n| / max(|a|, |n|), 0 where
    both are 0); at a kink the distance from the analytic value to the supported range.
    worst_index: the element furthest outside its tolerance (relative to the tolerance),
    with ``analytic``, ``numeric`` (``numeric_range`` at a kink), ``step``, ``fd_error``
    and ``tolerance`` there; ``used`` is the fraction of its tolerance that element's error
    takes (above 1: a failure). In fast mode, when the probes passed, ``worst_index`` is
    None and the values are those of the worst directional derivative.
    kinks: elements whose stencil crossed a kink the engine reports; ``unverified_kinks``
    of them crossed several at once on both sides even at the smallest step tried, so the
    finite differences say nothing about their analytic value. They fail the tensor unless
    the check was asked to ``allow_unverified`` (``unverified_allowed``); ``failures``
    counts only the elements outside their tolerance.
    suspected_kinks: elements that failed the smooth comparison but show a kink's
    signature (layers that report no kinks) and were checked as subgradients.
    """

    name: str
    shape: tuple[int, ...]
    passed: bool
    failures: int
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    analytic: float
    numeric: float
    numeric_range: tuple[float, float] | None
    step: float
    fd_error: float
    tolerance: float
    used: float
    kinks: int = 0
    unverified_kinks: int = 0
    suspected_kinks: int = 0
    mode: str = "full"
    evaluations: int = 0
    unverified_allowed: bool = False

    def row(self) -> list[str]:
        where = "-" if self.worst_index is None else str(self.worst_index)
        numeric = _range(self.numeric_range) if self.numeric_range else f"{self.numeric:.6g}"
        kinks = str(self.kinks) + (f" ({self.unverified_kinks} unverified)" if self.unverified_kinks else "")
        if self.suspected_kinks:
            kinks += f" +{self.suspected_kinks}?"
        return [
            self.name,
            str(self.shape),
            f"{self.max_abs_error:.2e}",
            f"{self.max_rel_error:.2e}",
            where,
            f"{self.analytic:.6g}",
            numeric,
            f"{self.step:.1e}",
            f"{self.fd_error:.1e}",
            f"{self.used:.2g}",
            kinks,
            self.mode,
            "ok" if self.passed else "FAIL",
        ]


def _range(r: tuple[float, float]) -> str:
    return f"{r[0]:.6g}" if r[0] == r[1] else f"[{r[0]:.4g}, {r[1]:.4g}]"


@dataclass
class GradcheckReport:
    """Everything a gradient check found; ``passed``, ``str(report)``, ``assert_ok()``.

    subject: what was checked (a repr). dtype: the dtype the numeric side ran in;
    model_dtype: the dtype of the model itself (a float32 model is checked through a
    float64 copy). problems: failures that belong to no tensor (a backward that edits
    its incoming gradient in place, a wrong gradient shape).
    """

    subject: str
    tensors: list[TensorCheck]
    dtype: str
    model_dtype: str
    backend: str
    mode: str
    evaluations: int
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(t.passed for t in self.tensors)

    @property
    def failed(self) -> list[TensorCheck]:
        return [t for t in self.tensors if not t.passed]

    def __getitem__(self, name: str) -> TensorCheck:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(f"no tensor {name!r} in this report; tensors: {[t.name for t in self.tensors]}")

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        status = "passed" if self.passed else f"FAILED ({len(self.failed)} of {len(self.tensors)} tensors)"
        precision = self.dtype
        if self.dtype != self.model_dtype:
            precision = f"{self.model_dtype} model checked in {self.dtype}"
        lines = [
            f"gradcheck {self.subject}: {status}",
            f"  {precision}, {self.backend}, {self.mode} mode, {self.evaluations} evaluations of f",
        ]
        header = [
            "tensor",
            "shape",
            "max|a-n|",
            "max rel",
            "worst at",
            "analytic",
            "numeric",
            "step",
            "fd error",
            "tol used",
            "kinks",
            "mode",
            "",
        ]
        rows = [header] + [t.row() for t in self.tensors]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        for t in self.failed:
            if not t.failures:
                continue
            numeric = _range(t.numeric_range) if t.numeric_range else f"{t.numeric:.10g}"
            lines.append(
                f"  {t.name}: {t.failures} element(s) outside tolerance; worst {t.worst_index}: analytic "
                f"{t.analytic:.10g}, numeric {numeric}, tolerance {t.tolerance:.3g}"
            )
        for t in self.tensors:
            if t.unverified_kinks:
                verdict = (
                    "accepted (allow_unverified=True)"
                    if t.unverified_allowed
                    else "not verified, so the check fails; pass allow_unverified=True to accept them"
                )
                lines.append(
                    f"  {t.name}: {t.unverified_kinks} element(s) unverified, their finite differences cross several "
                    f"kinks on both sides even with steps 10^4 times smaller (kinks exactly at the point, such as "
                    f"a bias-free ReLU layer fed a row of zeros); {verdict}."
                )
        lines += [f"  problem: {p}" for p in self.problems]
        return "\n".join(lines)

    def assert_ok(self) -> GradcheckReport:
        """Raise :class:`~nnscratch.errors.GradientError` carrying this report if the check failed."""
        if not self.passed:
            raise GradientError(str(self))
        return self


def compare(
    name: str,
    analytic: np.ndarray,
    fd: FiniteDifference,
    *,
    rtol: float,
    atol: float | None,
    safety: float,
    mode: str = "full",
    allow_unverified: bool = False,
) -> TensorCheck:
    """Compare an analytic gradient with a :class:`FiniteDifference` of the same shape (NumPy arrays).

    Unverified elements (``fd.verified`` False) fail unless ``allow_unverified``.
    """
    a = np.asarray(analytic, dtype=np.float64)
    # Smooth elements first; a failing one with a kink's signature is re-judged as a subgradient.
    lo, hi, err = fd.lo.copy(), fd.hi.copy(), fd.interval_error.copy()
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(fd.grad[np.isfinite(fd.grad)]).max(initial=0.0)))
    floor = 1e-3 * rtol * scale if atol is None else atol
    tol, outside = _tolerance(a, lo, hi, err, rtol, floor, safety)
    rescue = outside & fd.suspect
    if rescue.any():
        lo[rescue], hi[rescue], err[rescue] = fd.hull_lo[rescue], fd.hull_hi[rescue], fd.hull_error[rescue]
        tol, outside = _tolerance(a, lo, hi, err, rtol, floor, safety)
    gap = np.maximum(np.maximum(lo - a, a - hi), 0.0)
    supported = np.clip(a, lo, hi)  # the numeric value closest to the analytic one
    denominator = np.maximum(np.abs(a), np.abs(supported))
    rel = np.divide(gap, denominator, out=np.zeros_like(gap), where=denominator > 0)
    ratio = np.divide(gap, tol, out=np.where(gap > 0, np.inf, 0.0), where=tol > 0)
    unverified = ~fd.verified
    if not outside.any() and unverified.any() and not allow_unverified:  # show the element that fails
        ratio = np.where(unverified, np.inf, ratio)
    w = np.unravel_index(int(np.argmax(ratio)), a.shape) if a.size else ()
    interval = (float(lo[w]), float(hi[w])) if fd.kink[w] or rescue[w] else None
    return TensorCheck(
        name=name,
        shape=tuple(a.shape),
        passed=not outside.any() and (allow_unverified or not unverified.any()),
        failures=int(outside.sum()),
        max_abs_error=float(gap.max(initial=0.0)),
        max_rel_error=float(rel.max(initial=0.0)),
        worst_index=tuple(int(i) for i in w),
        analytic=float(a[w]),
        numeric=float(fd.grad[w]),
        numeric_range=interval,
        step=float(fd.step[w]),
        fd_error=float(err[w]),
        tolerance=float(tol[w]),
        used=float(ratio[w]),
        kinks=int(fd.kink.sum()),
        unverified_kinks=int(unverified.sum()),
        suspected_kinks=int(rescue.sum()),
        mode=mode,
        evaluations=fd.evaluations,
        unverified_allowed=bool(allow_unverified),
    )


def _tolerance(
    a: np.ndarray, lo: np.ndarray, hi: np.ndarray, err: np.ndarray, rtol: float, floor: float, safety: float
) -> tuple[np.ndarray, np.ndarray]:
    finite = np.isfinite(lo) & np.isfinite(hi)
    magnitude = np.maximum(np.abs(a), np.where(finite, np.maximum(np.abs(lo), np.abs(hi)), 0.0))
    tol = safety * err + rtol * magnitude + floor
    outside = (a < lo - tol) | (a > hi + tol) | ~np.isfinite(a) | np.isnan(lo) | np.isnan(hi)
    return tol, outside
