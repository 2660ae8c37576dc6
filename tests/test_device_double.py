"""The CuPy double itself (nnscratch.devicedouble) and the backend's test hook that lets it play CuPy.

The double is only worth something if it fails where CuPy fails: these tests pin each
behaviour the engine tests (tests/test_on_device.py) rely on.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import backend, devicedouble
from nnscratch.devicedouble import CUPY_FUNCTIONS

pytestmark = pytest.mark.device_double


def test_implicit_conversion_to_numpy_is_refused_with_cupys_message(cp):
    a = cp.asarray([1.0, 2.0])
    for convert in (np.asarray, np.array, lambda v: np.float64(1.0) + np.ones(2) * v):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed|Unsupported type"):
            convert(a)


def test_numpy_functions_cupy_implements_run_on_the_device_and_return_device_arrays(cp):
    a = cp.asarray([[-1.0, 2.0], [3.0, -4.0]])
    for result in (np.maximum(a, 0), np.tanh(a), np.where(a > 0, a, 0.0), np.sign(a), np.zeros_like(a), abs(a)):
        assert type(result) is cp.ndarray
    np.testing.assert_array_equal(np.maximum(a, 0).get(), [[0.0, 2.0], [3.0, 0.0]])
    out = cp.zeros_like(a)
    assert np.maximum(a, 1.0, out=out) is out  # an out= array comes back as itself, as in CuPy
    assert type(np.linalg.norm(a)) is cp.ndarray  # numpy.linalg dispatches to cupy.linalg


def test_numpy_functions_cupy_lacks_are_refused(cp):
    a = cp.asarray([[1.0, 2.0], [3.0, 4.0]])
    lacking = ["block", "trapezoid", "histogram_bin_edges", "apply_over_axes"]
    assert not set(lacking) & CUPY_FUNCTIONS
    with pytest.raises(TypeError, match="no implementation found|not allowed"):
        np.block([[a, a]])
    with pytest.raises(TypeError, match="no implementation found|not allowed"):
        np.histogram_bin_edges(a)
    with pytest.raises(AttributeError, match="CuPy does not implement"):
        cp.trapezoid  # noqa: B018


def test_the_function_list_is_cupys_table_not_numpys_namespace():
    # A few rows of CuPy's comparison table, both ways: implemented, and "-" (not provided).
    assert {"maximum", "where", "tanh", "log1p", "argwhere", "frexp", "ldexp", "flatnonzero", "concatenate"} <= (
        CUPY_FUNCTIONS
    )
    assert not {"block", "busday_count", "fromregex", "histogram_bin_edges", "apply_over_axes"} & CUPY_FUNCTIONS
    numpy_functions = {n for n in dir(np) if callable(getattr(np, n))}
    assert CUPY_FUNCTIONS.issubset(numpy_functions)


def test_mixing_host_and_device_arrays_is_a_type_error_as_in_cupy(cp):
    a = cp.asarray([1.0, 2.0])
    host = np.ones(2)
    for mix in (lambda: a + host, lambda: host + a, lambda: a * host, lambda: np.where(a > 0, host, 0.0)):
        with pytest.raises(TypeError):
            mix()
    with pytest.raises(TypeError):
        cp.concatenate([a, host])
    assert float((a + 1.0).sum()) == 5.0  # Python and NumPy scalars mix freely
    assert float((a * np.float64(2.0)).sum()) == 6.0


def test_reductions_and_scalar_indexing_stay_on_the_device(cp):
    a = cp.asarray([[1.0, 2.0], [3.0, 4.0]])
    devicedouble.transfers.reset()
    total, element, mean = a.sum(), a[1, 0], a.mean(axis=0)
    assert (type(total), type(element), type(mean)) == (cp.ndarray, cp.ndarray, cp.ndarray)
    assert total.shape == () and element.shape == () and mean.shape == (2,)
    assert devicedouble.transfers.total == 0


def test_every_explicit_conversion_counts_one_transfer(cp):
    a = cp.asarray(np.arange(6.0).reshape(2, 3))
    assert devicedouble.transfers.to_device == 1
    devicedouble.transfers.reset()
    assert float(a.sum()) == 15.0 and int(a[0, 1]) == 1 and bool(a[1, 2] > 4) and a[0, 2].item() == 2.0
    assert a.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    np.testing.assert_array_equal(a.get(), np.arange(6.0).reshape(2, 3))
    assert devicedouble.transfers.to_host == 6 and devicedouble.transfers.to_device == 0
    where = {r.where.split(":")[0] for r in devicedouble.transfers.records}
    assert where == {"test_device_double.py"}, devicedouble.transfers  # each transfer names the caller's line


def test_counting_blocks_nest_and_the_global_log_keeps_everything(cp):
    a = cp.asarray([1.0])
    devicedouble.transfers.reset()
    with devicedouble.counting() as outer:
        float(a)
        with devicedouble.counting() as inner:
            float(a)
    assert (outer.to_host, inner.to_host, devicedouble.transfers.to_host) == (2, 1, 2)


def test_host_index_arrays_and_boolean_masks_are_counted(cp):
    a = cp.asarray(np.arange(10.0))
    devicedouble.transfers.reset()
    a[np.array([1, 2])]  # CuPy uploads the host index silently
    a[[3, 4]]
    assert devicedouble.transfers.to_device == 2
    a[a > 5]  # a boolean mask: CuPy reads the number of True elements back to size the result
    cp.flatnonzero(a > 5)
    assert devicedouble.transfers.to_host == 2
    a[cp.asarray(np.array([1, 2]))]  # a device index: nothing crosses
    assert devicedouble.transfers.total == 5  # the asarray upload on the line above
    devicedouble.transfers.reset()
    a[np.arange(10) > 5]  # a host mask: uploaded, then its count read back
    assert (devicedouble.transfers.to_device, devicedouble.transfers.to_host) == (1, 1)


def test_in_place_operators_keep_the_array_and_assignments_upload_host_values(cp):
    a = cp.zeros((2, 2))
    same = a
    a += 1.0
    a *= cp.asarray(np.full((2, 2), 3.0))
    a -= 1.0
    assert a is same
    devicedouble.transfers.reset()
    a[...] = np.ones((2, 2))  # a host value assigned: one upload
    a[0] = 5.0  # a Python scalar: nothing crosses
    assert devicedouble.transfers.to_device == 1 and devicedouble.transfers.to_host == 0
    np.testing.assert_array_equal(a.get(), [[5.0, 5.0], [1.0, 1.0]])


def test_array_attributes_and_methods(cp):
    a = cp.asarray(np.arange(6.0).reshape(2, 3))
    assert (a.shape, a.ndim, a.size, a.dtype, a.strides, a.itemsize, a.nbytes) == (
        (2, 3),
        2,
        6,
        np.float64,
        (24, 8),
        8,
        48,
    )
    assert a.flags.c_contiguous and a.flags["C_CONTIGUOUS"] and not a.T.flags.c_contiguous
    with pytest.raises(AttributeError):
        a.flags.writeable  # noqa: B018 - CuPy's flags have only the contiguity and owndata
    assert a.T.shape == (3, 2) and a.reshape(3, 2).shape == (3, 2) and a.ravel().shape == (6,)
    assert a.astype(np.float32).dtype == np.float32 and a.astype(np.float64, copy=False) is a
    b = a.copy()
    b.fill(0.0)
    assert float(a.sum()) == 15.0 and float(b.sum()) == 0.0
    assert len(a) == 2 and [type(row) for row in a] == [cp.ndarray, cp.ndarray]
    with pytest.raises(AttributeError, match="has no attribute 'tofile_of_mine'"):
        a.tofile_of_mine  # noqa: B018


def test_scalar_conversion_of_a_larger_array_is_refused(cp):
    a = cp.asarray([1.0, 2.0])
    with pytest.raises(TypeError):
        float(a)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(a)


def test_copies_and_pickles(cp):
    a = cp.asarray([1.0, 2.0])
    assert type(copy.deepcopy(a)) is cp.ndarray and copy.copy(a) is not a
    devicedouble.transfers.reset()
    b = pickle.loads(pickle.dumps(a))  # through the host, as CuPy pickles
    assert type(b) is cp.ndarray and devicedouble.transfers.to_host == 1 and devicedouble.transfers.to_device == 1


def test_module_object(cp):
    assert cp.get_array_module(cp.zeros(2)) is cp and cp.get_array_module(np.zeros(2)) is np
    assert cp.float32 is np.float32 and cp.finfo is np.finfo
    assert cp.cuda.runtime.getDeviceCount() == 1
    cp.cuda.Device().synchronize()
    r = cp.random.default_rng(0).standard_normal((3, 2))
    assert type(r) is cp.ndarray and r.shape == (3, 2)
    assert type(cp.random.randn(2)) is cp.ndarray
    np.testing.assert_array_equal(cp.asnumpy(cp.arange(3)), [0, 1, 2])
    z = cp.asarray(np.zeros(3))
    assert cp.asarray(z) is z  # already on the device: no copy, no transfer


# --- the backend's test hook --------------------------------------------------------------------------


def test_the_hook_makes_cupy_mean_the_double_and_undoes_it():
    if backend._substitute is not None:
        pytest.skip("this session runs on the double from start to end (--cupy-double)")
    assert not isinstance(backend.xp_for("numpy"), type(devicedouble.cupy))
    before = ns.available_backends()
    with devicedouble.activate() as cp:
        assert backend.xp_for("cupy") is cp
        assert ns.available_backends() == ["numpy", "cupy"]  # the double plays CuPy: no third backend
        a = ns.to_backend(np.ones(3), "cupy")
        assert type(a) is cp.ndarray and backend.backend_of(a) == "cupy" and ns.get_array_module(a) is cp
        assert ns.get_array_module(a, 2.0, None) is cp
        with pytest.raises(ns.BackendError, match=r"argument\(s\) \[1\] are numpy.ndarray"):
            ns.get_array_module(a, np.ones(3))
        back = ns.to_backend(a, "numpy")
        assert type(back) is np.ndarray and ns.to_numpy(a).tolist() == [1.0, 1.0, 1.0]
        ns.set_backend("cupy")
        assert ns.get_backend() == "cupy"
    assert ns.get_backend() == "numpy"  # the default backend set inside the block is undone
    assert ns.available_backends() == before
    assert backend.backend_of(a) == "numpy"  # outside the block the double's arrays are nobody's


def test_the_hook_refuses_nesting_and_a_module_without_an_array_type():
    with pytest.raises(ns.ConfigError, match="ndarray type"):
        backend.substitute_cupy(np.linalg)
    with devicedouble.activate(), pytest.raises(ns.ConfigError, match="do not nest"):
        backend.substitute_cupy(devicedouble.cupy).__enter__()


def test_nnscratch_info_reports_the_double_as_the_gpu(cp, capsys):
    from nnscratch.cli import main

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "GPU: nnscratch device double" in out and "backends  numpy, cupy" in out, out
