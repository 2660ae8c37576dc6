import subprocess
import sys

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.backend import cupy_available


def test_import_does_not_touch_cupy_or_torch():
    code = (
        "import sys; sys.modules['cupy'] = None; sys.modules['torch'] = None; import nnscratch; "
        "assert 'cupy' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]; print('ok')"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"


def test_get_array_module_numpy():
    assert ns.get_array_module(np.ones(2), 3.0, None) is np


def test_unknown_backend_name():
    with pytest.raises(ns.ConfigError, match="backend must be one of"):
        ns.set_backend("tpu")


@pytest.mark.skipif(cupy_available(), reason="checks the error when no GPU backend exists")
def test_cupy_unavailable_says_why(monkeypatch):
    with pytest.raises(ns.BackendError, match="CuPy|GPU"):
        ns.set_backend("cupy")
    assert ns.set_backend("auto").__enter__() == "numpy"
    ns.set_backend("numpy")


def test_set_backend_context_manager_restores():
    ns.set_backend("numpy")
    with ns.set_backend("auto") as name:
        assert ns.get_backend() == name
    assert ns.get_backend() == "numpy"


def test_environment_variable_sets_default():
    code = "import nnscratch; print(nnscratch.get_backend())"
    env = {"NNSCRATCH_BACKEND": "numpy", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "numpy"
    env["NNSCRATCH_BACKEND"] = "bogus"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "backend must be one of" in out.stderr


def test_to_numpy_passthrough():
    a = np.arange(3.0)
    assert ns.to_numpy(a) is a
    np.testing.assert_array_equal(ns.to_numpy([1, 2]), [1, 2])


@pytest.mark.gpu
def test_module_to_moves_parameters_grads_and_state():
    import cupy

    net = ns.MLP([2, 4, 1], rng=0)
    opt = ns.optim.Adam(net.parameters())
    opt.state[net.parameters()[0]]["exp_avg"] = np.ones((2, 4))
    before = [p.data.copy() for p in net.parameters()]
    net.to("cupy")
    for p, b in zip(net.parameters(), before):
        assert isinstance(p.data, cupy.ndarray) and isinstance(p.grad, cupy.ndarray)
        np.testing.assert_array_equal(p.data.get(), b)
    assert isinstance(opt.state[net.parameters()[0]]["exp_avg"], cupy.ndarray)
    y = net(cupy.ones((3, 2)))
    assert isinstance(y, cupy.ndarray)
    with pytest.raises(ns.BackendError, match="numpy.ndarray.*cupy.ndarray"):
        ns.get_array_module(np.ones(2), cupy.ones(2))
    net.to("numpy")
    assert isinstance(net.parameters()[0].data, np.ndarray)
