"""Reproductions of five documented training failures, each with its fix and the numbers that say why.

>>> from nnscratch import repro
>>> repro.names()
['sqrt', 'sum-of-squares', 'random-targets', 'wide-range', 'poly32']
>>> result = repro.run("sqrt", "failure", quick=True)     # doctest: +SKIP
>>> print(result.verdict)                                  # doctest: +SKIP
>>> print(repro.sweep("sqrt", seeds=20, quick=True, jobs=2).summary())   # doctest: +SKIP

Each scenario lives in its own module (``sqrt.py``, ``sum_of_squares.py``, ...), whose
docstring lists the question's settings and every place where the reproduction had to
choose. :mod:`.base` holds the training loop they share, :mod:`.metrics` the numbers,
:mod:`.figures` the plots, :mod:`.sweep` the runs over many seeds; ``nnscratch repro`` is the
command line over all of it.
"""

from __future__ import annotations

from .base import Result, Run, Scenario, get, names, run, variants
from .sweep import Claim, Sweep, sweep

__all__ = ["Claim", "Result", "Run", "Scenario", "Sweep", "get", "names", "run", "sweep", "variants"]
