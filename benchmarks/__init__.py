"""nnscratch's benchmark suite: speed and memory against hand-written NumPy and torch.

Run ``python -m benchmarks`` from the repository root (``--quick`` for a smoke run,
``--out DIR`` for the output folder). See :mod:`benchmarks.runner`.
"""
