"""The MLP benchmark on a GPU: nnscratch on CuPy against hand-written CuPy and torch CUDA.

Batches of 4096 to 65536, where a GPU pays for its launch overhead. Without CuPy and a
usable GPU the whole part is skipped with the reason, and the rest of the suite runs.
Goal: nnscratch at least 0.8x torch CUDA's throughput, i.e. a time ratio of at most 1.25.
Memory is not measured here: ``tracemalloc`` sees host allocations only.

No fused kernels (``cupy.ElementwiseKernel`` for bias + ReLU or the Adam update) are
used: they would need a GPU to profile and to test, and none was available when this
was written; the engine runs the same element-wise NumPy-style code on CuPy.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any

import numpy as np

from nnscratch.backend import _import_cupy
from nnscratch.errors import BackendError

from . import problems
from .cases import ENGINE, CaseResult, Settings, run_case
from .contenders import handwritten_step, nnscratch_step, torch_step

GPU_BATCHES = (4096, 16384, 65536)


def _torch_sync() -> Any:
    import torch  # optional: the torch CUDA contender only

    return torch.cuda.synchronize


def gpu_cases(settings: Settings, quick: bool = False) -> tuple[list[CaseResult], str]:
    """Run the GPU cases, or return none and the reason they were skipped."""
    try:
        cupy = _import_cupy()
    except BackendError as exc:
        return [], f"GPU benchmarks skipped: {exc}"
    syncs = {ENGINE: cupy.cuda.Device().synchronize, "hand-written CuPy": cupy.cuda.Device().synchronize}
    with contextlib.suppress(ImportError):
        syncs["torch CUDA"] = _torch_sync()
    results = []
    for batch in GPU_BATCHES[:1] if quick else GPU_BATCHES:
        for optimizer in ("sgd", "adam"):
            problem = problems.mlp_problem(np.float32, optimizer, batch=batch)
            builders = {
                ENGINE: partial(nnscratch_step, problem, backend="cupy"),
                "hand-written CuPy": partial(handwritten_step, problem, backend="cupy"),
                "torch CUDA": partial(torch_step, problem, device="cuda"),
            }
            result = run_case(problem, builders, settings, {"torch CUDA": 1 / 0.8}, syncs)
            result.label += " (GPU)"
            results.append(result)
    return results, f"GPU: {cupy.cuda.runtime.getDeviceProperties(0)['name']!r}"
