"""Timing that is fair on a shared, noisy machine: contenders alternate, medians decide.

Each contender is a zero-argument callable doing one training step. They are timed
in rounds; inside a round every contender runs one block of ``number`` steps, in an
order that changes from round to round, so slow phases of the machine (another job
starting, the CPU clocking down) hit every contender alike. A contender's time is the
median over rounds of its per-step time; a ratio is the median over rounds of the
per-round ratio, which cancels the drift that both sides of a round share.

What is measured is a step in a training loop, which runs after the same step: so each
block begins with a few untimed steps, because the steps of the contender before it have
evicted this one's code and data from the caches, and the orders are balanced (each
contender runs right after each other equally often), so that no contender always pays
for following the one with the largest footprint.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..progress import Progress


@dataclass
class Timing:
    """Per-step seconds of one contender, one entry per round."""

    name: str
    per_round: list[float] = field(default_factory=list)
    faults_per_step: float | None = None  # minor page faults, see page_faults()

    @property
    def median(self) -> float:
        return statistics.median(self.per_round)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median: how noisy the rounds were."""
        if len(self.per_round) < 4:
            return float("nan")
        q1, _, q3 = statistics.quantiles(self.per_round, n=4)
        return (q3 - q1) / self.median


Sync = Callable[[], object]


def _block(step: Callable[[], object], number: int, sync: Sync | None) -> float:
    for _ in range(max(1, number // 10)):  # untimed: they refill the caches (see the module's docstring)
        step()
    if sync is not None:
        sync()
    start = time.perf_counter()
    for _ in range(number):
        step()
    if sync is not None:
        sync()  # a GPU runs asynchronously: the block ends when its queued work has finished
    return (time.perf_counter() - start) / number


def _order(names: list[str], r: int) -> list[str]:
    """Round ``r``'s order: the rotations of ``names``, each followed by its mirror image, so that every
    contender follows every other equally often and no one always runs right after the slowest."""
    shift = (r // 2) % len(names)
    order = names[shift:] + names[:shift]
    return order[::-1] if r % 2 else order


def compare(
    steps: Mapping[str, Callable[[], object]],
    rounds: int = 15,
    block_seconds: float = 0.02,
    warmup_seconds: float = 0.1,
    syncs: Mapping[str, Sync] | None = None,
    label: str = "timing",
) -> dict[str, Timing]:
    """Time each contender in ``steps`` in alternation; returns name -> :class:`Timing`.

    Warm-up runs every contender first (caches, lazily created optimizer state,
    the allocator's free lists). The block length is then set so that the slowest
    contender's block lasts about ``block_seconds``, and ``rounds`` rounds follow.
    ``syncs`` maps a contender to a function that waits for its device. ``label`` names the
    progress display (a tqdm bar on a terminal, a flushed line every few seconds elsewhere).
    """
    names, syncs = list(steps), syncs or {}
    for step in steps.values():
        deadline = time.perf_counter() + warmup_seconds
        step()
        while time.perf_counter() < deadline:
            step()
    slowest = max(_block(steps[name], 3, syncs.get(name)) for name in names)
    number = max(1, int(block_seconds / max(slowest, 1e-9)))
    timings = {name: Timing(name) for name in names}
    bar = Progress(rounds, label, enabled=True, unit="round")
    for r in range(rounds):
        for name in _order(names, r):
            timings[name].per_round.append(_block(steps[name], number, syncs.get(name)))
        bar.update()
    bar.close()
    return timings


def ratio(timings: dict[str, Timing], name: str, reference: str) -> float:
    """Median over rounds of time(name) / time(reference) in the same round."""
    pairs = zip(timings[name].per_round, timings[reference].per_round)
    return statistics.median(a / b for a, b in pairs)


def page_faults(step: Callable[[], object], steps: int = 20) -> float | None:
    """Minor page faults per call of ``step`` (None where ``resource`` is missing, as on Windows).

    A fault is the kernel handing a fresh page to memory touched for the first time; the allocator
    gives the top of its heap back after a step that freed several large arrays, and the next step
    faults it in again, which costs time in every step. Counted after the timing,
    in steady state.
    """
    try:
        import resource
    except ImportError:
        return None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps
