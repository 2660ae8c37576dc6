"""save/load: bit-exact round trips, damaged and hostile files, atomic writes."""

import io
import json
import os
import pickle
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import serialization
from nnscratch.activations import ACTIVATIONS

ACTIVATION_NAMES = sorted(set(ACTIVATIONS) - {"log", "exp"})  # log/exp need special inputs


@st.composite
def models(draw):
    """Random Sequential/MLP networks: depth, widths, activations, bias and dtype all drawn."""
    dtype = draw(st.sampled_from(["float32", "float64"]))
    widths = draw(st.lists(st.integers(1, 6), min_size=2, max_size=5))
    seed = draw(st.integers(0, 2**32 - 1))
    if draw(st.booleans()):
        final = draw(st.sampled_from([None, *ACTIVATION_NAMES]))
        return ns.MLP(
            widths, activation=draw(st.sampled_from(ACTIVATION_NAMES)), final_activation=final, rng=seed, dtype=dtype
        )
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(ns.Linear(n_in, n_out, bias=draw(st.booleans()), rng=seed + i, dtype=dtype))
        name = draw(st.sampled_from([None, *ACTIVATION_NAMES]))
        if name == "leaky_relu":
            layers.append(ns.LeakyReLU(draw(st.floats(0.0, 1.0))))
        elif name is not None:
            layers.append(ns.activations.make_activation(name))
    if draw(st.booleans()) and len(layers) > 1:  # nest part of it
        layers = [layers[0], ns.Sequential(*layers[1:])]
    return ns.Sequential(*layers)


def assert_same_model(a, b):
    assert ns.architecture.describe(a) == ns.architecture.describe(b)
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    assert list(pa) == list(pb)
    for name in pa:
        assert pa[name].dtype == pb[name].dtype
        assert pa[name].data.tobytes() == pb[name].data.tobytes(), name  # bit for bit, NaN payloads included


@given(models(), st.integers(0, 1000))
def test_round_trip_is_bit_exact(model, seed):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "net.npz")
        ns.save(path, model)
        loaded = ns.load(path).model
    assert_same_model(model, loaded)
    width = next(iter(model.parameters())).shape[0]
    x = np.random.default_rng(seed).standard_normal((3, width))
    np.testing.assert_array_equal(model(x), loaded(x))


def test_checkpoint_values_round_trip(tmp_path):
    gen = np.random.default_rng(3)
    gen.random(5)
    extra = {
        "note": "é",
        "f32": np.float32(0.1),
        "ints": np.arange(4),
        "nested": {1: (2.5, None, [True])},
        "nan": float("nan"),
        "big": 2**80,
    }
    ns.save(tmp_path / "c.npz", ns.MLP([2, 3, 1], rng=0), epoch=7, rng=gen, **extra)
    ckpt = ns.load(tmp_path / "c.npz")
    assert ckpt.epoch == 7 and ckpt.version == serialization.VERSION
    assert ckpt.rng.bit_generator.state == gen.bit_generator.state
    assert ckpt.rng.random() == gen.random()
    got = ckpt.extra
    assert got["note"] == "é" and got["big"] == 2**80 and np.isnan(got["nan"])
    assert type(got["f32"]) is np.float32 and got["f32"] == np.float32(0.1)
    np.testing.assert_array_equal(got["ints"], np.arange(4))
    assert got["ints"].dtype == np.arange(4).dtype
    assert got["nested"] == {1: (2.5, None, [True])}


def test_restore_rng_in_place(tmp_path):
    gen = np.random.default_rng(11)
    ns.save(tmp_path / "c.npz", ns.Linear(1, 1, rng=0), rng=gen)
    expected = gen.random(3)
    other = np.random.default_rng(0)
    ns.load(tmp_path / "c.npz").restore(rng=other)
    np.testing.assert_array_equal(other.random(3), expected)


def test_same_model_gives_same_bytes(tmp_path):
    model = ns.MLP([3, 4, 2], rng=1)
    ns.save(tmp_path / "a.npz", model, epoch=1)
    ns.save(tmp_path / "b.npz", model, epoch=1)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_loads_on_requested_backend_and_numpy_can_read_it(tmp_path):
    model = ns.MLP([2, 3, 1], rng=0)
    ns.save(tmp_path / "m.npz", model)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:  # an ordinary .npz for other tools
        np.testing.assert_array_equal(z["model/0.W"], model[0].W.data)
    assert all(p.backend == "numpy" for p in ns.load(tmp_path / "m.npz", backend="numpy").model.parameters())


@pytest.mark.gpu
def test_round_trip_through_cupy(tmp_path):
    model = ns.MLP([2, 3, 1], rng=0, backend="cupy")
    ns.save(tmp_path / "m.npz", model)
    loaded = ns.load(tmp_path / "m.npz", backend="cupy").model
    assert all(p.backend == "cupy" for p in loaded.parameters())
    assert_same_model(model.to("numpy"), loaded.to("numpy"))


# --- damaged files --------------------------------------------------------------------------------


def _saved_bytes():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "c.npz")
        ns.save(
            path,
            ns.MLP([2, 3, 1], activation="tanh", rng=0, dtype="float32"),
            epoch=2,
            rng=np.random.default_rng(0),
            note="x",
            table=np.eye(2),
        )
        with open(path, "rb") as f:
            return f.read()


SAVED = _saved_bytes()


def _load_bytes(data):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "c.npz")
        with open(path, "wb") as f:
            f.write(data)
        return ns.load(path)


@given(st.lists(st.tuples(st.integers(0, len(SAVED) - 1), st.integers(1, 255)), min_size=1, max_size=4))
def test_corruption_is_detected_or_harmless(flips):
    data = bytearray(SAVED)
    for pos, xor in flips:
        data[pos] ^= xor
    try:
        ckpt = _load_bytes(bytes(data))
    except ns.SerializationError as exc:
        assert "cannot load" in str(exc)
        return
    # A flip in a field nothing reads (a zip timestamp, say) is harmless: then the content must be intact.
    original = _load_bytes(SAVED)
    assert_same_model(original.model, ckpt.model)
    assert (ckpt.epoch, ckpt.extra["note"]) == (2, "x")
    np.testing.assert_array_equal(ckpt.extra["table"], np.eye(2))


@given(st.integers(0, len(SAVED) - 1))
def test_truncation_is_detected(length):
    with pytest.raises(ns.SerializationError, match="cannot load"):
        _load_bytes(SAVED[:length])


def _rewrite(members):
    """A zip with the given {name: bytes} members (stored, as nnscratch writes them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _members():
    with zipfile.ZipFile(io.BytesIO(SAVED)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _with_meta(change):
    members = _members()
    meta = json.loads(members["meta.json"])
    change(meta)
    members["meta.json"] = json.dumps(meta).encode()
    return members


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: m.update(version=2), "version 2.*upgrade"),
        (lambda m: m.update(version="1"), "version '1'"),
        (lambda m: m.update(format="other"), "not an nnscratch file"),
        (lambda m: m["architecture"].update(type="os.system"), "unknown module type 'os.system'"),
        (lambda m: m["architecture"]["config"].update(sizes=[2, 10**9, 1]), "more weights than the file holds"),
        (lambda m: m["architecture"]["config"].update(activation="evil"), "cannot rebuild MLP"),
        (lambda m: m["architecture"]["config"].update(sizes=[2, 4, 1]), "does not match the module"),
        (lambda m: m["architecture"]["children"][0].update(children=[]), "does not match the module"),
        (
            lambda m: m.update(architecture={"type": "Sequential", "config": {}, "children": [m["architecture"]] * 2}),
            "stored as .* but the architecture needs|more weights",
        ),
        (lambda m: m.update(epoch=-1), "epoch"),
        (lambda m: m.update(extra=[1]), "extra"),
        (
            lambda m: m["arrays"]["model/0.W"].update(shape=[3, 2]),
            r"'model/0.W.npy' holds dtype <f4 of shape \(2, 3\), but the array table .* shape \(3, 2\)",
        ),
        (lambda m: m["arrays"].pop("model/0.W"), "do not match the array table"),
    ],
)
def test_forged_meta_is_refused(change, words):
    with pytest.raises(ns.SerializationError, match=words):
        _load_bytes(_rewrite(_with_meta(change)))


def test_pickled_object_array_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:  # unpickling this would create the marker file
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = np.empty(1, dtype=object)
    evil[0] = Payload()
    npy = io.BytesIO()
    np.save(npy, evil, allow_pickle=True)
    members = _with_meta(lambda m: m["arrays"].update({"extra/9": {"dtype": "|O", "shape": [1]}}))
    members["extra/9.npy"] = npy.getvalue()
    with pytest.raises(ns.SerializationError, match="pickle"):
        _load_bytes(_rewrite(members))
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ns.SerializationError, match="not an nnscratch file"):
        ns.load(plain)
    assert not marker.exists()


def test_compressed_members_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in _members().items():
            zf.writestr(name, data)
    with pytest.raises(ns.SerializationError, match="compressed"):
        _load_bytes(buffer.getvalue())


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        ns.load(tmp_path / "nope.npz")


# --- what cannot be saved, and atomicity ----------------------------------------------------------


class Custom(ns.Module):
    def __init__(self, scale=2.0):
        self.scale = scale

    def forward(self, x):
        return self.scale * x

    def backward(self, grad_out):
        return self.scale * grad_out


def test_unregistered_module_is_refused_until_registered(tmp_path):
    model = ns.Sequential(ns.Linear(2, 2, rng=0), Custom(3.0))
    with pytest.raises(ns.SerializationError, match="Custom.*register_module"):
        ns.save(tmp_path / "m.npz", model)
    ns.architecture.register_module(Custom, lambda m: {"scale": m.scale})
    try:
        ns.save(tmp_path / "m.npz", model)
        assert ns.load(tmp_path / "m.npz").model[1].scale == 3.0
    finally:
        ns.architecture._REGISTRY.pop("Custom")


def test_mlp_with_replaced_layer_is_refused(tmp_path):
    model = ns.MLP([2, 3, 1], rng=0)
    model.layers[1] = ns.Tanh()
    with pytest.raises(ns.SerializationError, match="does not match"):
        ns.save(tmp_path / "m.npz", model)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"thing": object()}, ns.SerializationError, "extra.*object"),
        ({"d": {(1, 2): 3}}, ns.SerializationError, "key"),
        ({"a": np.array([None])}, ns.SerializationError, "pickle"),
        ({"epoch": -1}, ns.ConfigError, "epoch"),
        ({"rng": 3}, ns.ConfigError, "Generator"),
    ],
)
def test_unsavable_values_are_refused(tmp_path, kwargs, error, words):
    with pytest.raises(error, match=words):
        ns.save(tmp_path / "m.npz", ns.Linear(1, 1, rng=0), **kwargs)
    assert not list(tmp_path.iterdir())


def test_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = ns.MLP([2, 3, 1], rng=0)
    ns.save(path, old)
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def crash_on_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", crash_on_third)
    with pytest.raises(OSError, match="disk full"):
        ns.save(path, ns.MLP([2, 3, 1], rng=1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # the temporary file was removed
    assert_same_model(old, ns.load(path).model)


def test_parameter_replaced_with_wrong_shape_is_refused_at_save(tmp_path):
    model = ns.MLP([2, 3, 1], rng=0)
    model[0].W = ns.Parameter(np.zeros((5, 3)))
    with pytest.raises(ns.SerializationError, match=r"'0.W' is stored as float64 \(5, 3\).*\(2, 3\)"):
        ns.save(tmp_path / "m.npz", model)
    assert not list(tmp_path.iterdir())
