"""The benchmark cases: which problems, which contenders, which goals.

A case times the contenders of one :class:`~nnscratch.bench.problems.Problem` in
alternation (:func:`~nnscratch.bench.timing.compare`) and keeps the ratios of nnscratch's
time to each other contender's. A ratio below 1 means nnscratch is faster.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from . import problems
from .contenders import Step, UnavailableError, handwritten_step, nnscratch_step, products_step, torch_step
from .timing import Sync, Timing, compare, page_faults, ratio

ENGINE = "nnscratch"
HAND = "hand-written NumPy"
NUMPY_PRODUCTS, TORCH_PRODUCTS = "matrix products only, NumPy", "matrix products only, torch"


@dataclass
class Settings:
    """How long to measure: ``quick`` is a smoke run whose numbers mean little."""

    rounds: int = 31
    block_seconds: float = 0.03
    warmup_seconds: float = 0.2
    fault_steps: int = 20  # steps over which page faults are counted

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3, block_seconds=0.002, warmup_seconds=0.0, fault_steps=2)


@dataclass
class CaseResult:
    label: str
    timings: dict[str, Timing]
    goals: dict[str, float] = field(default_factory=dict)  # contender -> the largest nnscratch/contender ratio
    notes: list[str] = field(default_factory=list)

    def ratio(self, contender: str) -> float | None:
        """Median per-round ratio nnscratch time / ``contender`` time (None if either did not run)."""
        if ENGINE not in self.timings or contender not in self.timings:
            return None
        return ratio(self.timings, ENGINE, contender)

    def met(self, contender: str) -> bool | None:
        r = self.ratio(contender)
        return None if r is None or contender not in self.goals else r <= self.goals[contender]


def run_case(
    problem: problems.Problem,
    builders: Mapping[str, Callable[[], Step]],
    settings: Settings,
    goals: dict[str, float] | None = None,
    syncs: Mapping[str, Sync] | None = None,
) -> CaseResult:
    """Build every contender (noting those that cannot run) and time them in alternation."""
    steps: dict[str, Step] = {}
    notes: list[str] = []
    for name, build in builders.items():
        try:
            steps[name] = build()
        except UnavailableError as exc:
            notes.append(f"{name} skipped: {exc}")
    timings = (
        compare(steps, settings.rounds, settings.block_seconds, settings.warmup_seconds, syncs, label=problem.name)
        if steps
        else {}
    )
    for name, step in steps.items():
        timings[name].faults_per_step = page_faults(step, settings.fault_steps)
    return CaseResult(problem.label, timings, goals or {}, notes)


def blas_note(case: CaseResult) -> CaseResult:
    """Add the BLAS ratio (NumPy's matrix products over torch's) that bounds nnscratch / torch."""
    if NUMPY_PRODUCTS in case.timings and TORCH_PRODUCTS in case.timings:
        blas = ratio(case.timings, NUMPY_PRODUCTS, TORCH_PRODUCTS)
        case.notes.append(f"the step's matrix products alone: NumPy's BLAS takes {blas:.3f}x torch's")
    return case


def cpu_cases(settings: Settings, quick: bool = False, log: Callable[[str], None] = lambda _: None) -> list[CaseResult]:
    """Square-root network, the 64-256-256-1 MLP (float32/64, SGD/Adam), the deep narrow network.

    ``quick`` shrinks the batches (MLP 128, deep narrow 100) so that a smoke run takes seconds.
    ``log`` gets a line as each case starts.
    """

    def contenders(problem: problems.Problem) -> dict[str, Callable[[], Step]]:
        return {
            ENGINE: lambda: nnscratch_step(problem),
            HAND: lambda: handwritten_step(problem),
            "torch CPU": lambda: torch_step(problem),
        }

    sqrt = problems.sqrt_problem()
    log(f"  {sqrt.label}")
    results = [run_case(sqrt, contenders(sqrt), settings, {HAND: 1.0, "torch CPU": 0.30})]
    for dtype in (np.float64, np.float32):
        for optimizer in ("sgd", "adam"):
            mlp = problems.mlp_problem(dtype, optimizer, batch=128 if quick else 1024)
            log(f"  {mlp.label}")
            torch_goal = 1.0 if dtype == np.float64 else 1.15
            builders: dict[str, Callable[[], Step]] = {
                **contenders(mlp),
                NUMPY_PRODUCTS: functools.partial(products_step, mlp, "numpy"),
                TORCH_PRODUCTS: functools.partial(products_step, mlp, "torch"),
            }
            results.append(blas_note(run_case(mlp, builders, settings, {HAND: 1.03, "torch CPU": torch_goal})))
    deep = problems.deep_narrow_problem(batch=100 if quick else 1000)
    log(f"  {deep.label}")
    results.append(run_case(deep, contenders(deep), settings))
    return results
