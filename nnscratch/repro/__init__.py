"""Reproductions of five documented training failures, each with its fix and the numbers that say why.

>>> from nnscratch import repro
>>> repro.names()
['sqrt', 'sum-of-squares', 'random-targets', 'wide-range', 'poly32']
>>> result = repro.run("sqrt", "failure", quick=True)     # doctest: +SKIP
>>> print(result.verdict)                                  # doctest: +SKIP

Each scenario lives in its own module (``sqrt.py``, ``sum_of_squares.py``, ...), whose
docstring lists the question's settings and every place where the reproduction had to
choose. :mod:`.base` holds the training loop they share, :mod:`.metrics` the numbers,
:mod:`.figures` the plots; ``nnscratch repro`` is the command line over all of it.
"""

from __future__ import annotations

from .base import Result, Run, Scenario, get, names, run, variants

__all__ = ["Result", "Run", "Scenario", "get", "names", "run", "variants"]
