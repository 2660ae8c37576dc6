"""Seed sweeps: is a reproduced failure the rule, or a bad draw?

Every reproduction is a function of (scenario, variant, seed, quick). A sweep runs it over many
seeds and says, per variant, how its numbers spread and in how many seeds its verdict holds::

    >>> from nnscratch import repro
    >>> s = repro.sweep("sqrt", seeds=range(20), variants=["failure", "standardised"], quick=True, jobs=2)
    ...                                                                   # doctest: +SKIP
    >>> print(s.summary())                                                # doctest: +SKIP
    failure: the fit is a straight line in 20/20 seeds
    ...

The runs are spread over processes by joblib (its ``loky`` backend) on one machine, or over a
Dask cluster (``scheduler="tcp://host:8786"`` or a ``dask.distributed.Client``; needs
``pip install 'nnscratch[cluster]'``). Each run limits its BLAS to one thread, so that workers do
not oversubscribe the cores, and every random number comes from the run's seed, so a run's
metrics are bit for bit those of ``repro.run(name, variant, seed=seed, quick=quick)``, whatever the
number of workers, the machine that ran it or the order the runs finished in.

What a variant's verdict claims is declared next to the scenario: each scenario module defines
``KEY_METRIC`` (the number its figure shows over the seeds) and ``CLAIMS``, one :class:`Claim`
per variant, a sentence and a test of the run's metrics that says whether the sentence holds.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, NNScratchError
from .base import Result, get, names, run

# Loss curves sent back for the figure: log-spaced steps, a few hundred points whatever the run's length.
CURVE_POINTS = 200


@dataclass(frozen=True)
class Claim:
    """What a variant's verdict says, as a sentence and as a test of the run's metrics.

    ``text`` reads after the variant's name: ``"failure: " + text + " in 18/20 seeds"``.
    ``holds(metrics)`` is True when the run shows it; it sees only the metrics, so a claim can be
    checked again from a sweep's JSON.
    """

    text: str
    holds: Callable[[dict[str, Any]], bool]


class ClusterUnavailableError(NNScratchError, ImportError):
    """A Dask scheduler was asked for, but Dask distributed is not installed."""


@dataclass
class SeedRun:
    """One (variant, seed) of a sweep: what a worker sends back, plain numbers and a short loss curve."""

    variant: str
    seed: int
    metrics: dict[str, Any]
    verdict: str
    steps: int
    stopped: str | None
    seconds: float
    blas_threads: int
    curve_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    curve: np.ndarray = field(default_factory=lambda: np.zeros(0))  # loss over the mean-prediction loss

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "seed": self.seed,
            "metrics": {k: _plain(v) for k, v in self.metrics.items()},
            "verdict": self.verdict,
            "steps": self.steps,
            "stopped": self.stopped,
            "seconds": self.seconds,
            "blas_threads": self.blas_threads,
        }


def _plain(value: Any) -> Any:
    """A metric as a JSON-able Python scalar (NumPy scalars become float or int, exactly)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


# ---------------------------------------------------------------- one BLAS thread per run

_limit_lock = threading.Lock()
_limit_users = 0
_limiter: Any = None


@contextmanager
def one_blas_thread() -> Iterator[int]:
    """Limit this process's BLAS (and OpenMP) pools to one thread; yield the threads they then use.

    Counted, so that runs sharing a process in threads (a Dask worker with several threads) keep
    the limit until the last of them ends, and the original limits come back after it.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    global _limit_users, _limiter
    with _limit_lock:
        if _limit_users == 0:
            _limiter = threadpool_limits(limits=1)
        _limit_users += 1
    try:
        yield max((int(pool.get("num_threads", 1)) for pool in threadpool_info()), default=1)
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                _limiter.restore_original_limits()
                _limiter = None


def _curve(result: Result) -> tuple[np.ndarray, np.ndarray]:
    loss = np.asarray(result.history.loss, dtype=np.float64)
    if loss.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    steps = np.unique(np.geomspace(1, loss.size, CURVE_POINTS).astype(np.int64)) - 1
    base = result.history.baseline
    scale = base if np.isfinite(base) and base > 0 else 1.0
    return steps + 1, loss[steps] / scale


def run_seed(name: str, variant: str, seed: int, quick: bool) -> SeedRun:
    """Run one (variant, seed) with one BLAS thread and keep what a sweep needs (a worker's task)."""
    with one_blas_thread() as threads:
        result = run(name, variant, seed=seed, quick=quick, progress=False)
    steps, curve = _curve(result)
    return SeedRun(
        variant,
        seed,
        dict(result.metrics),
        result.verdict,
        result.history.steps,
        result.history.stopped,
        result.history.seconds,
        threads,
        steps,
        curve,
    )


def run_result(name: str, variant: str, seed: int, quick: bool, doctor: bool) -> Result:
    """Run one variant with one BLAS thread and return its whole :class:`Result` (``repro --jobs``, one seed)."""
    with one_blas_thread():
        return run(name, variant, seed=seed, quick=quick, doctor=doctor, progress=False)


# ---------------------------------------------------------------- arguments


def parse_seeds(text: str) -> list[int]:
    """``"20"``: seeds 0 to 19; ``"0-19"``: an inclusive range; ``"1,5,9"``: these seeds (ranges may mix in)."""
    text = str(text).strip()
    expected = "expected a count such as 20, a range such as 0-19, or a list such as 1,5,9"
    if not text:
        raise ConfigError(f"--seeds: {expected}; got an empty value.")
    if text.isdigit():
        count = int(text)
        if count < 1:
            raise ConfigError(f"--seeds: a count of seeds must be at least 1, got {text!r}.")
        return list(range(count))
    seeds: list[int] = []
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            raise ConfigError(f"--seeds: {expected}; got {text!r}.")
        if dash and int(hi) < int(lo):
            raise ConfigError(f"--seeds: the range {part.strip()!r} ends before it starts; write it as {hi}-{lo}.")
        seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    return _check_seeds(seeds)


def _check_seeds(seeds: Iterable[Any]) -> list[int]:
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ConfigError(f"seeds must be non-negative integers, got {s!r}.")
        out.append(int(s))
    if not out:
        raise ConfigError("seeds must name at least one seed, got none.")
    repeated = sorted({s for s in out if out.count(s) > 1})
    if repeated:
        raise ConfigError(f"seeds must not repeat, got {', '.join(map(str, repeated))} more than once.")
    return out


def _seed_list(seeds: Any) -> list[int]:
    if isinstance(seeds, str):
        return parse_seeds(seeds)
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"seeds as a count must be at least 1, got {seeds!r}.")
        return list(range(int(seeds)))
    try:
        return _check_seeds(list(seeds))
    except TypeError:
        raise ConfigError(
            f"seeds must be a count, an iterable of non-negative integers or text such as '0-19', got {seeds!r}."
        ) from None


def _check_jobs(jobs: Any) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ConfigError(f"jobs must be a positive integer (the number of worker processes), got {jobs!r}.")
    return int(jobs)


def format_seeds(seeds: Sequence[int]) -> str:
    """``[0, 1, 2, 3, 7]`` -> ``"0-3,7"``."""
    parts, start = [], None
    for i, s in enumerate(seeds):
        start = s if start is None else start
        if i + 1 == len(seeds) or seeds[i + 1] != s + 1:
            parts.append(str(s) if s == start else f"{start}-{s}")
            start = None
    return ",".join(parts)


# ---------------------------------------------------------------- running the tasks


def _dask_client(scheduler: Any) -> tuple[Any, bool]:
    """The Dask client for ``scheduler`` (an address or a Client) and whether this call opened it."""
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ClusterUnavailableError(
            f"a Dask scheduler ({scheduler!r}) needs Dask distributed, which is not installed ({exc}); "
            "install it with: pip install 'nnscratch[cluster]'"
        ) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler:
        raise ConfigError(
            f"scheduler must be an address such as 'tcp://host:8786' or a dask.distributed.Client, got {scheduler!r}."
        )
    try:
        return Client(scheduler, timeout="20s"), True
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None


def _progress_bar(total: int, progress: bool | None, label: str) -> Any:
    enabled = sys.stderr.isatty() if progress is None else bool(progress)
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # a progress bar is a convenience: without tqdm the runs go on silently
        return None
    return tqdm(total=total, desc=label, unit="run", file=sys.stderr)


def execute(
    function: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    jobs: int = 1,
    scheduler: Any = None,
    progress: bool | None = None,
    label: str = "runs",
) -> list[Any]:
    """``[function(*t) for t in tasks]``, spread over ``jobs`` loky processes or a Dask cluster, in task order.

    ``function`` must be importable by name (the workers import it). With ``jobs=1`` and no
    scheduler the tasks run here, one after the other. A scheduler and ``jobs > 1`` exclude each
    other. Dask workers need nnscratch installed; one thread per worker process
    (``dask worker --nthreads 1``) suits runs that each hold a core.
    """
    jobs = _check_jobs(jobs)
    if scheduler is not None and jobs != 1:
        raise ConfigError(
            f"jobs={jobs} and a scheduler exclude each other: a Dask cluster runs as many tasks at once as it has "
            "worker threads; leave jobs at 1."
        )
    bar = _progress_bar(len(tasks), progress, label)
    out: dict[int, Any] = {}
    try:
        if scheduler is not None:
            client, opened = _dask_client(scheduler)
            try:
                from dask.distributed import as_completed

                # pure=False: the same task asked for twice (two sweeps) runs again rather than sharing a key.
                futures = {client.submit(function, *t, pure=False): i for i, t in enumerate(tasks)}
                for future in as_completed(list(futures)):
                    out[futures[future]] = future.result()
                    if bar is not None:
                        bar.update(1)
            finally:
                if opened:
                    client.close()
        else:
            from joblib import Parallel, delayed

            # One task per batch: runs differ in length by 100x, and a batch of several long ones
            # would leave the other workers idle at the end.
            parallel = Parallel(n_jobs=jobs, backend="loky", batch_size=1, return_as="generator_unordered")
            for i, value in parallel(delayed(_indexed)(function, i, *t) for i, t in enumerate(tasks)):
                out[i] = value
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return [out[i] for i in range(len(tasks))]


def _indexed(function: Callable[..., Any], i: int, *args: Any) -> tuple[int, Any]:
    return i, function(*args)


# ---------------------------------------------------------------- the sweep


def _scenario_module(name: str) -> Any:
    return importlib.import_module(get(name).runner.__module__)


def claims(name: str) -> dict[str, Claim]:
    """Scenario ``name``'s :class:`Claim` per variant."""
    return dict(_scenario_module(name).CLAIMS)


def key_metric(name: str) -> str:
    """The metric a sweep's figure shows for scenario ``name``."""
    return str(_scenario_module(name).KEY_METRIC)


def _stats(values: list[Any]) -> dict[str, Any]:
    numbers = [float(v) for v in values if isinstance(v, (int, float, np.integer, np.floating))]
    finite = [v for v in numbers if math.isfinite(v)]
    return {
        "median": float(np.median(finite)) if finite else math.nan,
        "min": min(finite) if finite else math.nan,
        "max": max(finite) if finite else math.nan,
        "non_finite": len(numbers) - len(finite),
    }


class Sweep:
    """The runs of one scenario over several seeds: their metrics, a summary, a figure and JSON.

    Built by :func:`sweep` (or :meth:`from_dict` from its JSON). ``runs`` maps (variant, seed) to
    its :class:`SeedRun`.
    """

    def __init__(
        self,
        scenario: str,
        seeds: Sequence[int],
        variants: Sequence[str],
        quick: bool,
        runs: list[SeedRun],
        wall_seconds: float | None = None,
    ) -> None:
        self.scenario, self.seeds, self.variants, self.quick = scenario, list(seeds), list(variants), bool(quick)
        self.wall_seconds = wall_seconds  # of the pool that ran it (shared with the other scenarios of ``sweeps``)
        self.runs = {(r.variant, r.seed): r for r in runs}
        self.claims = claims(scenario)
        self.key_metric = key_metric(scenario)

    def _run(self, variant: str, seed: int) -> SeedRun:
        if (variant, seed) not in self.runs:
            raise ConfigError(
                f"this sweep of {self.scenario} has no run of variant {variant!r} with seed {seed!r}; "
                f"it ran variants {', '.join(self.variants)} with seeds {format_seeds(self.seeds)}."
            )
        return self.runs[(variant, seed)]

    def metrics(self, variant: str, seed: int) -> dict[str, Any]:
        """The metrics of ``variant`` at ``seed``: those ``repro.run(name, variant, seed=seed, quick=quick)`` gives."""
        return dict(self._run(variant, seed).metrics)

    def verdict(self, variant: str, seed: int) -> str:
        return self._run(variant, seed).verdict

    def holds(self, variant: str, seed: int) -> bool:
        """Whether ``variant``'s claim holds in the run with ``seed``."""
        return bool(self.claims[variant].holds(self._run(variant, seed).metrics))

    def held_in(self, variant: str) -> list[int]:
        """The seeds in which ``variant``'s claim holds."""
        return [s for s in self.seeds if self.holds(variant, s)]

    def stats(self) -> dict[str, Any]:
        """Per variant: the claim, in how many seeds it holds, and per metric the median, min and max."""
        out: dict[str, Any] = {}
        for v in self.variants:
            runs = [self._run(v, s) for s in self.seeds]
            keys: list[str] = []
            for r in runs:
                keys += [k for k in r.metrics if k not in keys]
            out[v] = {
                "claim": self.claims[v].text,
                "holds": len(self.held_in(v)),
                "seeds": len(self.seeds),
                "not_held_in": [s for s in self.seeds if not self.holds(v, s)],
                "metrics": {k: _stats([r.metrics[k] for r in runs if k in r.metrics]) for k in keys},
                "seconds": _stats([r.seconds for r in runs]),
            }
        return out

    def summary(self) -> str:
        """A text summary: per variant its claim's count, then each metric's median and range over the seeds."""
        from .command import _cell

        stats = self.stats()
        form = "quick form" if self.quick else "full length"
        lines = [f"== {self.scenario}: {len(self.seeds)} seeds ({format_seeds(self.seeds)}), {form} =="]
        for v, st in stats.items():
            line = f"{v}: {st['claim']} in {st['holds']}/{st['seeds']} seeds"
            if st["not_held_in"] and st["holds"]:
                line += f" (not in seed{'s' if len(st['not_held_in']) > 1 else ''} {format_seeds(st['not_held_in'])})"
            rows = [["metric", "median", "min", "max"]]
            for k, m in st["metrics"].items():
                rows.append(
                    [k + (" *" if k == self.key_metric else ""), _cell(m["median"]), _cell(m["min"]), _cell(m["max"])]
                )
                if m["non_finite"]:
                    rows[-1][0] += f" ({m['non_finite']} non-finite)"
            sec = st["seconds"]
            rows.append(["seconds per run", _cell(sec["median"]), _cell(sec["min"]), _cell(sec["max"])])
            widths = [max(len(r[i]) for r in rows) for i in range(4)]
            lines += ["", line] + [
                "    " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                for r in rows
            ]
        lines += ["", f"(* the key metric, {self.key_metric}, is the one the sweep figure shows)"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The sweep as JSON-able data: settings, every run's metrics and verdict, and :meth:`stats`."""
        return {
            "scenario": self.scenario,
            "quick": self.quick,
            "seeds": self.seeds,
            "variants": self.variants,
            "key_metric": self.key_metric,
            "claims": {v: self.claims[v].text for v in self.variants},
            "summary": self.stats(),
            "runs": [self._run(v, s).to_dict() for v in self.variants for s in self.seeds],
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """The JSON text of :meth:`to_dict`; with ``path``, also written there (atomically)."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sweep:
        """A sweep back from :meth:`to_dict` (without the loss curves, which the JSON leaves out)."""
        runs = [
            SeedRun(
                r["variant"],
                int(r["seed"]),
                dict(r["metrics"]),
                r["verdict"],
                int(r["steps"]),
                r["stopped"],
                float(r["seconds"]),
                int(r["blas_threads"]),
            )
            for r in data["runs"]
        ]
        return cls(data["scenario"], data["seeds"], data["variants"], data["quick"], runs)

    def plot(self, out: str | Path) -> Path:
        """Write ``NAME_sweep.png`` into folder ``out``: the key metric per seed and variant, and the loss curves."""
        from .figures import pyplot, save_figure

        plt = pyplot()
        wide = max(7.0, 1.25 * len(self.variants))  # room for every variant's two-line label
        fig, (ax, curves) = plt.subplots(1, 2, figsize=(wide + 6, 5), gridspec_kw={"width_ratios": [wide, 6]})
        values: list[float] = []
        ticks: list[str] = []
        for i, v in enumerate(self.variants):
            ys = np.array([float(self._run(v, s).metrics.get(self.key_metric, math.nan)) for s in self.seeds])
            held = np.array([self.holds(v, s) for s in self.seeds])
            # Seeds side by side within the variant's slot, so a seed reads at the same place in every variant.
            xs = i + np.linspace(-0.3, 0.3, len(self.seeds)) if len(self.seeds) > 1 else np.full(1, float(i))
            ax.scatter(xs[held], ys[held], color=f"C{i}", s=22)
            ax.scatter(xs[~held], ys[~held], facecolor="none", edgecolor=f"C{i}", s=22)
            ticks.append(f"{v}\nholds in {held.sum()}/{held.size}")
            finite = ys[np.isfinite(ys)]
            if finite.size:
                ax.hlines(np.median(finite), i - 0.38, i + 0.38, color="k", lw=1)
            values += list(finite)
        positive = [y for y in values if y > 0]
        if positive and len(positive) == len(values) and max(positive) > 20 * min(positive):
            ax.set_yscale("log")
        ax.set_xticks(range(len(self.variants)), ticks, fontsize=8)
        ax.set(ylabel=self.key_metric, title=f"{self.key_metric}, one dot per seed")
        ax.grid(alpha=0.3, axis="y", which="both")
        ax.scatter([], [], color="0.3", s=22, label="the variant's claim holds")
        ax.scatter([], [], facecolor="none", edgecolor="0.3", s=22, label="it does not")
        ax.plot([], [], color="k", lw=1, label="median")
        ax.legend(fontsize=7, loc="best")
        for i, v in enumerate(self.variants):
            for j, s in enumerate(self.seeds):
                r = self._run(v, s)
                if r.curve.size:
                    curves.plot(r.curve_steps, r.curve, color=f"C{i}", lw=0.8, alpha=0.5, label=v if j == 0 else None)
        if curves.lines:
            curves.axhline(1.0, color="k", ls="--", lw=0.8)
            curves.set(xscale="log", yscale="log", xlabel="optimizer step", ylabel="loss / loss of predicting the mean")
            curves.legend(fontsize=7)
        else:
            curves.text(0.5, 0.5, "no loss curves (a sweep read from JSON)", ha="center", transform=curves.transAxes)
        curves.set_title("training loss of every seed")
        curves.grid(alpha=0.3, which="both")
        form = "quick form" if self.quick else "full length"
        fig.suptitle(f"{self.scenario}: {len(self.seeds)} seeds ({format_seeds(self.seeds)}), {form}")
        return save_figure(fig, Path(out) / f"{self.scenario.replace('-', '_')}_sweep.png")


def _same_bits(a: Any, b: Any) -> bool:
    return type(a) is type(b) and np.asarray(a).tobytes() == np.asarray(b).tobytes()


def same_metrics(a: Sweep, b: Sweep) -> bool:
    """Whether two sweeps ran the same runs and got the same metrics, bit for bit (NaN matches NaN)."""
    if (a.scenario, a.seeds, a.variants, a.quick) != (b.scenario, b.seeds, b.variants, b.quick):
        return False
    for key, run_a in a.runs.items():
        ma, mb = run_a.metrics, b.runs[key].metrics
        if list(ma) != list(mb) or not all(_same_bits(ma[k], mb[k]) for k in ma):
            return False
    return True


def _plan(name: str, variants: Sequence[str] | None) -> list[str]:
    scenario = get(name)
    if variants is None:
        chosen = list(scenario.variants)
    else:
        chosen = [variants] if isinstance(variants, str) else list(variants)
    unknown = [v for v in chosen if v not in scenario.variants]
    if unknown or not chosen:
        raise ConfigError(
            f"variants of {name} must be among {', '.join(scenario.variants)}; got {', '.join(unknown) or 'none'}."
        )
    return chosen


def sweeps(
    plan: dict[str, Sequence[str] | None],
    seeds: Iterable[int] | int | str,
    quick: bool = False,
    jobs: int = 1,
    scheduler: Any = None,
    progress: bool | None = None,
) -> list[Sweep]:
    """Several scenarios' sweeps (``{name: variants or None}``) in one pool of workers, so none waits for another."""
    seed_list = _seed_list(seeds)
    chosen = {name: _plan(name, variants) for name, variants in plan.items()}
    tasks = [(name, v, s, bool(quick)) for name, vs in chosen.items() for v in vs for s in seed_list]
    started = time.perf_counter()
    done = execute(run_seed, tasks, jobs, scheduler, progress, label="sweep")
    elapsed = time.perf_counter() - started
    out = []
    for name, vs in chosen.items():
        out.append(Sweep(name, seed_list, vs, quick, [r for (n, *_), r in zip(tasks, done) if n == name], elapsed))
    return out


def sweep(
    name: str,
    seeds: Iterable[int] | int | str,
    variants: Sequence[str] | None = None,
    quick: bool = False,
    jobs: int = 1,
    scheduler: Any = None,
    progress: bool | None = None,
) -> Sweep:
    """Run scenario ``name``'s ``variants`` (default: all) with every seed in ``seeds``; return the :class:`Sweep`.

    ``seeds``: an iterable of non-negative integers, a count (``20``: seeds 0 to 19) or the
    command line's text (``"0-19"``, ``"1,5,9"``). ``jobs``: worker processes on this machine
    (joblib's loky backend). ``scheduler``: a Dask scheduler's address or a
    ``dask.distributed.Client`` to run on instead. ``progress``: a bar on stderr (``None``: only on
    a terminal).
    """
    if name not in names():
        get(name)  # raises the error that lists the scenarios
    return sweeps({name: variants}, seeds, quick, jobs, scheduler, progress)[0]
