"""Files that lie, files that break, saves that are killed: load refuses or loads exactly what was saved."""

import io
import json
import os
import re
import signal
import stat
import time
import warnings
import zipfile

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import optim, serialization


def _checkpoint_parts(seed=0):
    """A small model trained one step (so the optimizer has buffers), with every kind of saved value."""
    model = ns.MLP([2, 3, 1], activation="relu", rng=seed, dtype="float32")
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    loss = ns.MSELoss()
    X = np.random.default_rng(seed).standard_normal((4, 2)).astype(np.float32)
    loss(model(X), X[:, :1])
    model.backward(loss.backward())
    opt.step()
    sched.step()
    gen = np.random.default_rng(seed)
    gen.random(3)
    extra = {"note": "x", "table": np.eye(2), "f32": np.float32(0.5), "nested": {1: (2.5, [True, None])}}
    return model, opt, sched, gen, extra


def _save_bytes(tmp_path, seed=0, name="c.npz"):
    model, opt, sched, gen, extra = _checkpoint_parts(seed)
    path = tmp_path / name
    ns.save(path, model, opt, sched, epoch=3, rng=gen, **extra)
    return path.read_bytes()


def _canon(value):
    """A comparable form of a loaded value in which arrays compare by dtype, shape and bytes."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, dict):
        return ("dict", [(_canon(k), _canon(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_canon(v) for v in value])
    return (type(value).__name__, repr(value))


def content(ckpt):
    params = [(n, p.data.dtype.str, p.shape, p.data.tobytes()) for n, p in ckpt.model.named_parameters()]
    return _canon(
        {
            "architecture": ns.architecture.describe(ckpt.model),
            "params": params,
            "optimizer": (ckpt.optimizer_type, ckpt.optimizer_state),
            "scheduler": (ckpt.scheduler_type, ckpt.scheduler_state),
            "epoch": ckpt.epoch,
            "rng": None if ckpt.rng is None else ckpt.rng.bit_generator.state,
            "extra": ckpt.extra,
            "version": ckpt.version,
        }
    )


def _load_bytes(tmp_path, data, name="x.npz"):
    path = tmp_path / name
    path.write_bytes(data)
    return ns.load(path)


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _zip(members):
    """A zip of (name, bytes) pairs, in order, stored as nnscratch stores them (duplicates allowed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose here
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, data)
    return buffer.getvalue()


def _edit_meta(members, change):
    out = []
    for name, data in members:
        if name == "meta.json":
            meta = json.loads(data)
            change(meta)
            data = json.dumps(meta).encode()
        out.append((name, data))
    return out


@pytest.fixture
def saved(tmp_path):
    return _save_bytes(tmp_path)


# --- member names ---------------------------------------------------------------------------------


def test_a_second_meta_json_is_refused_not_last_copy_wins(tmp_path, saved):
    members = _members(saved)
    meta = json.loads(dict(members)["meta.json"])
    meta["architecture"]["config"]["activation"] = "tanh"  # the "last copy wins" attack: ReLU becomes Tanh
    forged = _zip([*members, ("meta.json", json.dumps(meta).encode())])
    with pytest.raises(ns.SerializationError, match=r"\['meta.json'\] more than once"):
        _load_bytes(tmp_path, forged)


def test_a_duplicate_array_member_is_refused(tmp_path, saved):
    members = _members(saved)
    name, data = members[1]
    with pytest.raises(ns.SerializationError, match=rf"\['{name}'\] more than once"):
        _load_bytes(tmp_path, _zip([*members, (name, data)]))


def test_an_unlisted_member_is_refused(tmp_path, saved):
    members = [*_members(saved), ("extra/99.npy", dict(_members(saved))["model/0.W.npy"])]
    with pytest.raises(ns.SerializationError, match=r"member\(s\) \['extra/99.npy'\] are not listed"):
        _load_bytes(tmp_path, _zip(members))


def test_a_listed_array_no_value_refers_to_is_refused(tmp_path, saved):
    members = _members(saved)
    table = json.loads(dict(members)["meta.json"])["arrays"]
    members = _edit_meta(members, lambda m: m["arrays"].update({"extra/99": table["model/0.W"]}))
    members.append(("extra/99.npy", dict(members)["model/0.W.npy"]))
    with pytest.raises(ns.SerializationError, match=r"\['extra/99'\] are listed but no value refers to them"):
        _load_bytes(tmp_path, _zip(members))


def test_an_array_referenced_twice_is_refused(tmp_path, saved):
    def twice(meta):
        meta["extra"]["__dict__"].append(["again", meta["extra"]["__dict__"][1][1]])

    with pytest.raises(ns.SerializationError, match="referenced more than once"):
        _load_bytes(tmp_path, _zip(_edit_meta(_members(saved), twice)))


@pytest.mark.parametrize(
    "name", ["../evil.npy", "/etc/evil.npy", "model\\0.W.npy", "model/../../x.npy", "C:evil.npy", "a/\x01.npy"]
)
def test_path_like_member_names_are_refused(tmp_path, saved, name):
    with pytest.raises(ns.SerializationError, match="path-like name"):
        _load_bytes(tmp_path, _zip([*_members(saved), (name, b"x")]))


@pytest.mark.parametrize("name", ["../evil", "model/../0.W", "extra/a/b", "/abs", "other/0", "extra/"])
def test_path_like_table_names_are_refused(tmp_path, saved, name):
    members = _edit_meta(_members(saved), lambda m: m["arrays"].update({name: {"dtype": "<f8", "shape": []}}))
    with pytest.raises(ns.SerializationError, match="not one nnscratch writes"):
        _load_bytes(tmp_path, _zip(members))


def test_swapped_members_of_equal_shape_are_told_apart(tmp_path, saved):
    members = _members(saved)
    names = [n for n, _ in members]
    # Adam's two moment buffers of the first weight: same dtype and shape, each with a valid CRC.
    table = json.loads(dict(members)["meta.json"])["arrays"]
    same = [n for n in table if n.startswith("optimizer/") and table[n]["shape"] == [2, 3]]
    assert len(same) >= 2
    i, j = names.index(same[0] + ".npy"), names.index(same[1] + ".npy")
    swapped = list(members)
    swapped[i], swapped[j] = (names[i], members[j][1]), (names[j], members[i][1])
    assert members[i][1] != members[j][1]
    with pytest.raises(ns.SerializationError, match="does not hold the data meta.json records"):
        _load_bytes(tmp_path, _zip(swapped))


# --- format version and forged headers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "shown"), [(1.0, "1.0 (float)"), (True, "True (bool)"), ("1", "'1' (str)"), (None, "None (NoneType)")]
)
def test_format_version_must_be_the_integer_1(tmp_path, saved, version, shown):
    members = _edit_meta(_members(saved), lambda m: m.update(version=version))
    with pytest.raises(
        ns.SerializationError, match=rf"format version {re.escape(shown)} but this nnscratch reads format version 1"
    ):
        _load_bytes(tmp_path, _zip(members))


def _forge_array(members, name, shape, payload=None, dtype="<f4", table_shape=None):
    """Replace array ``name`` by a member whose header declares ``shape`` (and the table ``table_shape``)."""
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    data = buffer.getvalue() + (payload if payload is not None else b"\0" * 24)
    table = list(shape if table_shape is None else table_shape)
    out = _edit_meta(members, lambda m: m["arrays"][name].update(shape=table, dtype=dtype))
    return [(n, data if n == name + ".npy" else d) for n, d in out]


def test_negative_shape_in_table_is_refused(tmp_path, saved):
    with pytest.raises(ns.SerializationError, match=r"entry for 'model/0.W' is .*-2.*integers >= 0"):
        _load_bytes(tmp_path, _zip(_forge_array(_members(saved), "model/0.W", (-2, 3))))


def test_negative_shape_in_header_is_refused(tmp_path, saved):
    forged = _forge_array(_members(saved), "model/0.W", (-2, -3), table_shape=(2, 3))
    with pytest.raises(ns.SerializationError, match=r"'model/0.W.npy' declares the shape \(-2, -3\)"):
        _load_bytes(tmp_path, _zip(forged))


def test_overflowing_shape_names_member_expected_and_actual_bytes(tmp_path, saved):
    shape = (2**40, 2**40)
    forged = _forge_array(_members(saved), "model/0.W", shape)
    need = 4 * 2**80
    with pytest.raises(
        ns.SerializationError, match=rf"'model/0.W.npy' declares .* needs {need} bytes .* holds 24 bytes"
    ):
        _load_bytes(tmp_path, _zip(forged))


def test_shape_and_bytes_mismatch_names_member_expected_and_actual(tmp_path, saved):
    forged = _forge_array(_members(saved), "model/0.W", (2, 3), payload=b"\0" * 20)
    with pytest.raises(
        ns.SerializationError, match=r"'model/0.W.npy' .* shape \(2, 3\), which needs 24 bytes .* holds 20"
    ):
        _load_bytes(tmp_path, _zip(forged))


def test_header_disagreeing_with_table_names_both(tmp_path, saved):
    forged = _forge_array(_members(saved), "model/0.W", (3, 2), table_shape=(2, 3))
    with pytest.raises(ns.SerializationError, match=r"holds dtype <f4 of shape \(3, 2\), but .* says .* \(2, 3\)"):
        _load_bytes(tmp_path, _zip(forged))


# --- values that cannot be saved --------------------------------------------------------------------


def _self_list():
    a = [1, 2]
    a.append(a)
    return a


def _self_dict():
    d = {"a": 1}
    d["me"] = {"inner": [d]}
    return d


def _deep(n):
    v = 0
    for _ in range(n):
        v = [v]
    return v


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (_self_list(), r"extra\['v'\]\[2\] contains itself"),
        (_self_dict(), r"extra\['v'\]\['me'\]\['inner'\]\[0\] contains itself"),
        (_deep(500), r"nested more than 100 levels deep"),
    ],
)
def test_self_reference_and_deep_nesting_are_clear_errors(tmp_path, value, words):
    with pytest.raises(ns.SerializationError, match=words):
        ns.save(tmp_path / "m.npz", ns.Linear(1, 1, rng=0), v=value)
    assert not list(tmp_path.iterdir())


def test_nesting_within_the_limit_round_trips(tmp_path):
    ns.save(tmp_path / "m.npz", ns.Linear(1, 1, rng=0), v=_deep(90))
    assert ns.load(tmp_path / "m.npz").extra["v"] == _deep(90)


# --- paths ------------------------------------------------------------------------------------------


def test_load_of_a_directory_is_a_serialization_error(tmp_path):
    with pytest.raises(ns.SerializationError, match="is a directory"):
        ns.load(tmp_path)


def test_load_of_a_missing_file_is_both_file_not_found_and_nnscratch_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz.*no such file") as info:
        ns.load(tmp_path / "nope.npz")
    assert isinstance(info.value, ns.SerializationError) and isinstance(info.value, ns.NNScratchError)


@pytest.mark.parametrize(("path", "error", "words"), [(3, ns.ConfigError, "path must be a str.*3 \\(int\\)")])
def test_bad_path_types(path, error, words):
    with pytest.raises(error, match=words):
        ns.load(path)
    with pytest.raises(error, match=words):
        ns.save(path, ns.Linear(1, 1))


def test_save_into_a_directory_or_a_missing_folder(tmp_path):
    with pytest.raises(ns.ConfigError, match="is a directory"):
        ns.save(tmp_path, ns.Linear(1, 1))
    with pytest.raises(FileNotFoundError, match="folder .*missing.* does not exist"):
        ns.save(tmp_path / "missing" / "m.npz", ns.Linear(1, 1))


# --- permissions and temporary files ------------------------------------------------------------------

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and signals")


@posix
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_new_file_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        ns.save(tmp_path / "m.npz", ns.Linear(1, 1, rng=0))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == 0o666 & ~umask


@posix
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_overwrite_keeps_the_old_files_mode(tmp_path, mode):
    path = tmp_path / "m.npz"
    ns.save(path, ns.Linear(1, 1, rng=0))
    path.chmod(mode)
    ns.save(path, ns.Linear(1, 1, rng=1))
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def _dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


@posix
def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    tmp = serialization._TMP_MARK
    dead, live = _dead_pid(), os.getppid()
    names = {
        f".m.npz{tmp}{dead}-0123456789abcdef": "removed",  # its process is gone
        f".m.npz{tmp}{os.getpid()}-00000000000000ff": "removed",  # this pid, but no save of ours is writing it
        f".m.npz{tmp}{live}-1111111111111111": "kept",  # a live process may still be writing it
        f".m.npz{tmp}{live}-2222222222222222": "removed",  # ... unless it has not been touched for a day
        f".other.npz{tmp}{dead}-0123456789abcdef": "kept",  # another target's
        f".m.npz{tmp}{dead}-xyz": "kept",  # not a name nnscratch makes
        "m.npz.tmp": "kept",
    }
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    old = time.time() - serialization.STALE_AFTER_S - 60
    os.utime(tmp_path / f".m.npz{tmp}{live}-2222222222222222", (old, old))
    ns.save(tmp_path / "m.npz", ns.Linear(1, 1, rng=0))
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"m.npz"} | {n for n, fate in names.items() if fate == "kept"}


def _saver(path, models, period):
    """The child: save the two models in turn, for ever (until killed)."""
    try:
        i = 0
        while True:
            ns.save(path, models[i % 2], epoch=i % 2)
            i += 1
            if period:
                time.sleep(period)
    finally:
        os._exit(1)


def kill_during_save(tmp_path, kills, seed=0):
    """Kill a process that saves again and again at random moments; return what each kill left.

    After each kill the file must load and be one of the two models; the next save (here) must
    leave no temporary file. Returns how many kills left a temporary file behind.
    """
    rng = np.random.default_rng(seed)
    path = tmp_path / "m.npz"
    models = [ns.MLP([32, 256, 256, 1], rng=s) for s in (1, 2)]
    expected = [content(_roundtrip(tmp_path, m, e)) for e, m in enumerate(models)]
    ns.save(path, models[0], epoch=0)
    orphans = 0
    for _ in range(kills):
        pid = os.fork()
        if pid == 0:
            _saver(path, models, 0.0)
        time.sleep(rng.uniform(0.0, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        leftovers = [p for p in tmp_path.iterdir() if p.name != "m.npz" and not p.name.startswith("ref")]
        orphans += bool(leftovers)
        assert content(ns.load(path)) in expected  # the old or the new file, whole
        ns.save(path, models[0], epoch=0)  # the next save cleans up after the killed one
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("ref")) == ["m.npz"]
    return orphans


def _roundtrip(tmp_path, model, epoch):
    ref = tmp_path / f"ref{epoch}.npz"
    ns.save(ref, model, epoch=epoch)
    return ns.load(ref)


@posix
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kills_during_save_leave_old_or_new_file_and_no_stale_temporary(tmp_path):
    orphans = kill_during_save(tmp_path, kills=20)
    assert orphans >= 1  # some kills did land in the middle of a write


@posix
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_hundred_kills_during_save(tmp_path):
    orphans = kill_during_save(tmp_path, kills=100, seed=1)
    assert orphans >= 10


# --- random corruption --------------------------------------------------------------------------------


def corrupt(data, rng):
    """One random corruption: bit flips, truncation, inserted or deleted bytes, or swapped/reordered members."""
    kind = ("flip", "truncate", "insert", "delete", "swap", "reorder")[rng.integers(6)]
    data = bytearray(data)
    if kind == "flip":
        for _ in range(rng.integers(1, 5)):
            data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
    elif kind == "truncate":
        del data[rng.integers(len(data)) :]
    elif kind == "insert":
        at = rng.integers(len(data) + 1)
        data[at:at] = rng.integers(0, 256, rng.integers(1, 17)).astype(np.uint8).tobytes()
    elif kind == "delete":
        at = rng.integers(len(data))
        del data[at : at + rng.integers(1, 17)]
    else:
        members = _members(bytes(data))
        i, j = rng.choice(len(members), 2, replace=False)
        if kind == "swap":  # each name gets the other's bytes (both with valid CRCs)
            members[i], members[j] = (members[i][0], members[j][1]), (members[j][0], members[i][1])
        else:
            members[i], members[j] = members[j], members[i]
        data = bytearray(_zip(members))
    return kind, bytes(data)


def corruption_outcomes(tmp_path, n, seed=0):
    original = _save_bytes(tmp_path, name="orig.npz")
    expected = content(_load_bytes(tmp_path, original))
    rng = np.random.default_rng(seed)
    outcomes = {"refused": 0, "identical": 0, "different": 0}
    for _ in range(n):
        _, data = corrupt(original, rng)
        try:
            ckpt = _load_bytes(tmp_path, data)
        except ns.SerializationError:
            outcomes["refused"] += 1
            continue
        outcomes["identical" if content(ckpt) == expected else "different"] += 1
    return outcomes


def test_random_corruptions_never_load_different_content(tmp_path):
    outcomes = corruption_outcomes(tmp_path, 300)
    assert outcomes["different"] == 0, outcomes
    assert outcomes["refused"] > 200  # most corruptions are caught, the rest are harmless (a reordering, a timestamp)


@pytest.mark.slow
def test_thousand_random_corruptions_never_load_different_content(tmp_path):
    outcomes = corruption_outcomes(tmp_path, 1000, seed=1)
    assert outcomes["different"] == 0, outcomes


# --- restoring validates as the constructors do --------------------------------------------------------


def _saved_with(tmp_path, edit_opt=None, edit_sched=None, sched="step"):
    model = ns.MLP([2, 3, 1], rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    scheduler = {
        "step": lambda: optim.StepLR(opt, step_size=2),
        "plateau": lambda: optim.ReduceLROnPlateau(opt),
        "cosine": lambda: optim.CosineAnnealingLR(opt, T_max=3),
        "exponential": lambda: optim.ExponentialLR(opt, gamma=0.9),
    }[sched]()
    if edit_opt:
        edit_opt(opt)
    if edit_sched:
        edit_sched(scheduler)
    ns.save(tmp_path / "c.npz", model, opt, scheduler)
    ckpt = ns.load(tmp_path / "c.npz")
    fresh_opt = optim.SGD(ckpt.model.parameters(), lr=0.1)
    fresh = {
        "step": lambda: optim.StepLR(fresh_opt, step_size=2),
        "plateau": lambda: optim.ReduceLROnPlateau(fresh_opt),
        "cosine": lambda: optim.CosineAnnealingLR(fresh_opt, T_max=3),
        "exponential": lambda: optim.ExponentialLR(fresh_opt, gamma=0.9),
    }[sched]()
    return ckpt, fresh_opt, fresh


@pytest.mark.parametrize(
    ("sched", "attr", "value", "words"),
    [
        ("step", "step_size", 0, "step_size must be a positive integer, got 0"),
        ("step", "step_size", 2.5, "step_size must be a positive integer, got 2.5"),
        ("step", "gamma", -0.5, "gamma must be a positive finite number, got -0.5"),
        ("exponential", "gamma", float("inf"), "gamma must be a positive finite number, got inf"),
        ("cosine", "T_max", 0, "T_max must be a positive integer, got 0"),
        ("cosine", "eta_min", -1.0, "eta_min must be a finite number >= 0, got -1.0"),
        ("step", "base_lrs", [-0.1], r"base_lrs\[0\] must be a positive finite number, got -0.1"),
        ("step", "last_epoch", "3", "last_epoch must be an integer >= 0, got '3'"),
        ("plateau", "factor", 1.5, "factor must be a finite number > 0 and < 1, got 1.5"),
        ("plateau", "patience", -1, "patience must be an integer >= 0, got -1"),
        ("plateau", "min_lrs", [-1.0], r"min_lrs\[0\] must be a finite number >= 0, got -1.0"),
        ("plateau", "eps", float("nan"), "eps must be a finite number >= 0, got nan"),
        ("plateau", "mode", "avg", "mode must be one of 'min', 'max'; got 'avg'"),
        ("plateau", "best", float("nan"), "best must be a finite number, got nan"),
        ("plateau", "num_bad_epochs", -3, "num_bad_epochs must be an integer >= 0, got -3"),
    ],
)
def test_restored_scheduler_state_is_checked_like_the_constructor(tmp_path, sched, attr, value, words):
    ckpt, _, fresh = _saved_with(tmp_path, edit_sched=lambda s: setattr(s, attr, value), sched=sched)
    before = dict(vars(fresh))
    with pytest.raises(ns.ConfigError, match=f"scheduler state cannot be restored: state_dict: {words}"):
        ckpt.restore(scheduler=fresh)
    assert vars(fresh) == before  # nothing half-restored


def test_step_lr_restored_with_step_size_zero_fails_at_restore_not_later(tmp_path):
    ckpt, _, fresh = _saved_with(tmp_path, edit_sched=lambda s: setattr(s, "step_size", 0))
    with pytest.raises(ns.ConfigError, match="step_size"):
        ckpt.restore(scheduler=fresh)
    fresh.step()  # still the scheduler it was: no ZeroDivisionError


def test_valid_scheduler_state_restores(tmp_path):
    for sched in ("step", "plateau", "cosine", "exponential"):
        ckpt, _, fresh = _saved_with(tmp_path, sched=sched)
        ckpt.restore(scheduler=fresh)
        assert fresh.state_dict() == ckpt.scheduler_state


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("lr", -0.1, "lr must be a positive finite number"),
        ("momentum", -1.0, "momentum"),
        ("weight_decay", float("nan"), "weight_decay"),
    ],
)
def test_restored_optimizer_hyper_parameters_are_checked(tmp_path, key, value, words):
    ckpt, opt, _ = _saved_with(tmp_path, edit_opt=lambda o: o.param_groups[0].update({key: value}))
    with pytest.raises(ns.ConfigError, match=words):
        ckpt.restore(optimizer=opt)
    assert opt.param_groups[0][key] != value  # refused before anything was changed
