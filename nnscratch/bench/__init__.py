"""nnscratch's benchmark suite: speed and memory against hand-written NumPy and torch.

``nnscratch bench`` or ``python -m nnscratch.bench`` (``--quick`` for a smoke run, ``--out DIR``
for the output folder, by default a new ``nnscratch-bench-YYYYmmdd-HHMMSS`` folder in the
current directory). ``python -m nnscratch.bench.doctor`` scores the training doctor on its
labelled runs. torch is optional: without it the torch columns are skipped. See
:mod:`nnscratch.bench.runner`.
"""
