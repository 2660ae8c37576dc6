import os

# Each pytest-xdist worker is a process of its own: with a multi-threaded BLAS in every one of them,
# two workers on two cores run four BLAS threads that wait on each other, and the small matrix
# products of the reproductions slow down five-fold (the poly32 tests: 155 s -> 28 s). OpenBLAS
# reads this when NumPy loads it, which is why it comes before the first import of NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from nnscratch.backend import cupy_available

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BACKENDS = ["numpy", pytest.param("cupy", marks=pytest.mark.gpu)]


def pytest_addoption(parser):
    parser.addoption(
        "--cupy-double",
        action="store_true",
        help="run the gpu-marked tests on nnscratch.devicedouble, a CPU double of CuPy (`import cupy` gets it): "
        "pytest -m gpu --cupy-double",
    )


def pytest_configure(config):
    if config.getoption("--cupy-double"):
        import sys

        from nnscratch import backend, devicedouble

        sys.modules["cupy"] = devicedouble.cupy
        backend.substitute_cupy(devicedouble.cupy).__enter__()  # for the whole session


def pytest_collection_modifyitems(config, items):
    if cupy_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a usable GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def xp(backend):
    if backend == "cupy":
        import cupy

        return cupy
    return np


@pytest.fixture
def cp():
    """The CuPy double (nnscratch.devicedouble) playing backend "cupy", its transfer count started from zero."""
    from nnscratch import devicedouble

    with devicedouble.activate() as module:
        devicedouble.transfers.reset()
        yield module
