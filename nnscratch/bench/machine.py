"""What the numbers were measured on: CPU, cores, BLAS and its threads, library versions."""

from __future__ import annotations

import ctypes
import importlib
import os
import platform
import re
import subprocess
from pathlib import Path

import numpy as np

import nnscratch as ns


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _openblas_call(suffix: str, *args: int) -> int | None:
    """Call ``openblas_<suffix>`` in the OpenBLAS that NumPy loaded (Linux; None where not found)."""
    try:
        libs = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if "openblas" in line}
    except OSError:
        return None
    for path in sorted(libs):
        lib = ctypes.CDLL(path)
        for symbol in (f"scipy_openblas_{suffix}64_", f"openblas_{suffix}64_", f"openblas_{suffix}"):
            if hasattr(lib, symbol):
                return getattr(lib, symbol)(*args)
    return None


def blas_threads() -> int:
    """Threads NumPy's BLAS uses: asked from OpenBLAS itself where possible, else the usual defaults."""
    found = _openblas_call("get_num_threads")
    if found is not None:
        return int(found)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return _cores()


def set_blas_threads(n: int) -> bool:
    """Make NumPy's OpenBLAS use ``n`` threads; False where that BLAS cannot be reached."""
    return _openblas_call("set_num_threads", int(n)) is not None or _openblas_call("get_num_threads") == n


def _blas_name() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config differs across NumPy versions
        return "unknown"


def _torch_blas() -> str:
    """The BLAS torch was built with (``BLAS_INFO`` of ``torch.__config__.show()``: mkl, openblas...)."""
    try:
        config = importlib.import_module("torch").__config__.show()
    except ImportError:
        return "unknown"
    found = re.search(r"BLAS_INFO=([\w-]+)", config)
    return found.group(1) if found else "unknown"


def _version(module: str) -> str | None:
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None


def _commit() -> str:
    """The commit of the source checkout this code runs from, or ``"installed"`` outside one.

    Asking git only whether this very file is tracked keeps an installed copy (say, in a virtual
    environment inside some other repository) from reporting that repository's commit.
    """
    here = Path(__file__)
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "--error-unmatch", here.name],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=here.parent,
        )
        if tracked.returncode != 0:
            return "installed"
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, cwd=here.parent
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "installed"


def _source() -> str:
    commit = _commit()
    return "installed package" if commit == "installed" else f"commit {commit}"


def describe() -> dict[str, str]:
    """Machine and library versions, as name -> text (the header of the report)."""
    info = {
        "machine": f"{_cpu_name()}, {_cores()} cores available, {platform.system()} {platform.release()}",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a",
        "python": platform.python_version(),
        "nnscratch": f"{ns.__version__} ({_source()})",
        "numpy": f"{np.__version__}, BLAS {_blas_name()}, {blas_threads()} BLAS threads",
    }
    torch_version = _version("torch")
    info["torch"] = f"{torch_version}, BLAS {_torch_blas()}" if torch_version else "not installed"
    cupy_version = _version("cupy")
    info["cupy"] = cupy_version or "not installed"
    return info
