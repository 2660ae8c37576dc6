"""Saving and loading models and training checkpoints, safely.

A saved file is a zip archive (an ``.npz``, which ``numpy.load`` can open too) holding

- ``meta.json``: the format name and version, the architecture spec (see
  :mod:`nnscratch.architecture`), a table of the arrays with their dtypes and shapes,
  and the checkpoint's optimizer, scheduler, epoch, RNG and extra values as JSON in which
  every array is replaced by a reference ``{"__array__": "optimizer/0"}``;
- one ``.npy`` member per array: ``model/0.W.npy``, ``optimizer/0.npy``...

Safety. Nothing is unpickled: arrays are read with ``allow_pickle=False`` after their
header was checked against the table, and the model is rebuilt from registered types
only. Before reading any array the loader checks that the arrays fit in the file, so a
forged header cannot make it allocate more memory than the file's size. Any damage
(truncation, flipped bytes: the zip's CRC-32 catches them) raises
:class:`~nnscratch.errors.SerializationError`.

Each array's table entry also holds the SHA-256 of its data, so two members swapped (both
intact, each with a valid CRC) are told apart. The loader refuses members the table does
not list, members listed twice and path-like names (absolute, ``..``, backslashes), and
each array is referenced by exactly one value.

Atomicity. :func:`save` writes a temporary file beside the target,
``.<name>.nnscratch-tmp-<pid>-<random>``, flushes and fsyncs it, then renames it over the
target (``os.replace`` is atomic), and fsyncs the folder; a crash at any point leaves either
the old file or the new one, never half of one. The new file gets the permissions an
ordinary new file gets (the umask applies), or keeps those of the file it replaces. A
temporary file left by a save that was killed is removed by the next save to the same
target, once its process is gone (or it is a day old).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
import struct
import time
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .architecture import WeightBudget, build, describe
from .backend import get_backend, resolve_backend, to_backend, to_numpy
from .errors import ConfigError, MissingFileError, NNScratchError, SerializationError
from .module import Module

FORMAT = "nnscratch"
VERSION = 1
_META = "meta.json"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same checkpoint gives the same bytes
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
MAX_NESTING = 100  # lists, tuples and dicts nested deeper than this are refused (a value that holds itself)
# An array's name: a known prefix, then dot-separated identifiers; nothing a path could be made of.
_ARRAY_NAME = re.compile(r"(model|optimizer|scheduler|rng|extra)/\w+(\.\w+)*\Z")
_TMP_MARK = ".nnscratch-tmp-"
# A temporary file whose writer is still alive is left alone unless it has not been written to for this long.
STALE_AFTER_S = 24 * 3600.0
# What a damaged zip or npy member can raise while being parsed; all become SerializationError.
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    KeyError,
    EOFError,
    OSError,
    struct.error,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    UnicodeDecodeError,
    OverflowError,
    MemoryError,
    RecursionError,
    TypeError,
)


# --- nested values (state dicts, RNG state, extras) <-> JSON + arrays -------------------------------


def _c_order(array: np.ndarray) -> np.ndarray:
    """Arrays are stored in C order, the order their digest is taken in."""
    return array if array.flags.c_contiguous else array.copy(order="C")


def _short(where: str) -> str:
    return where if len(where) <= 120 else where[:60] + "..." + where[-50:]


def _pack(value: Any, prefix: str, arrays: dict[str, np.ndarray], where: str, _within: tuple[int, ...] = ()) -> Any:
    """Return a JSON-able copy of ``value`` with each array moved into ``arrays``.

    Dicts become ``{"__dict__": [[key, value], ...]}`` so that integer keys (torch's optimizer
    state is keyed by parameter index) survive; tuples become ``{"__tuple__": [...]}``.
    ``_within``: the ids of the containers ``value`` sits in, to refuse one that holds itself.
    """
    if isinstance(value, (list, tuple, dict)):
        if id(value) in _within:
            raise SerializationError(
                f"{_short(where)} contains itself (a {type(value).__name__} that holds a reference to itself, "
                "directly or through other containers); such a value cannot be saved."
            )
        if len(_within) >= MAX_NESTING:
            raise SerializationError(
                f"{_short(where)} is nested more than {MAX_NESTING} levels deep; flatten the value to save it."
            )
        _within = (*_within, id(value))
    if isinstance(value, np.generic) or (hasattr(value, "dtype") and hasattr(value, "shape")):  # NumPy or CuPy
        array = np.asarray(to_numpy(value))
        if array.dtype.hasobject:
            raise SerializationError(
                f"{_short(where)} is an array of Python objects, which cannot be saved without pickle."
            )
        array = _c_order(array)
        name = f"{prefix}/{len(arrays)}"
        arrays[name] = array
        return {"__scalar__" if isinstance(value, np.generic) else "__array__": name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_pack(v, prefix, arrays, f"{where}[{i}]", _within) for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise SerializationError(
                    f"{_short(where)} has a key {key!r:.80} of type {type(key).__name__}; only str and int keys "
                    "can be saved."
                )
        return {"__dict__": [[k, _pack(v, prefix, arrays, f"{where}[{k!r}]", _within)] for k, v in value.items()]}
    raise SerializationError(
        f"{_short(where)} holds a {type(value).__name__}, which cannot be saved safely: use numbers, strings, "
        "None, lists, tuples, dicts and arrays."
    )


def _unpack(value: Any, arrays: dict[str, np.ndarray], backend: str, used: set[str], depth: int = 0) -> Any:
    """Invert :func:`_pack`; arrays go to ``backend``. ``used`` collects the arrays referenced (each once)."""
    if depth > MAX_NESTING + 1:
        raise SerializationError(f"the file's values are nested more than {MAX_NESTING} levels deep.")
    if isinstance(value, list):
        return [_unpack(v, arrays, backend, used, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise SerializationError(f"unexpected object {value!r:.120} in the file's values.")
    ((tag, inner),) = value.items()
    if tag == "__dict__" and isinstance(inner, list):
        if not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int)) and not isinstance(p[0], bool)
            for p in inner
        ):
            raise SerializationError(f"malformed dict entry {inner!r:.120} in the file's values.")
        if len({k for k, _ in inner}) != len(inner):
            raise SerializationError(f"a dict in the file's values lists a key twice: {inner!r:.120}.")
        return {k: _unpack(v, arrays, backend, used, depth + 1) for k, v in inner}
    if tag == "__tuple__" and isinstance(inner, list):
        return tuple(_unpack(v, arrays, backend, used, depth + 1) for v in inner)
    if tag in ("__array__", "__scalar__") and isinstance(inner, str) and inner in arrays:
        if inner in used or inner.startswith("model/"):
            raise SerializationError(f"array {inner!r:.80} is referenced more than once in the file's values.")
        used.add(inner)
        if tag == "__scalar__":
            if arrays[inner].ndim != 0:
                raise SerializationError(f"scalar {inner!r:.80} is stored as an array of shape {arrays[inner].shape}.")
            return arrays[inner][()]
        return to_backend(arrays[inner], backend)
    raise SerializationError(f"unexpected object {value!r:.120} in the file's values.")


# --- the checkpoint object ---------------------------------------------------------------------------


@dataclass
class Checkpoint:
    """What :func:`load` returns: the rebuilt model and the saved training state.

    ``optimizer_state``/``scheduler_state`` are the ``state_dict()`` s that were saved (or
    ``None``); ``rng`` is a fresh Generator in the saved state; ``extra`` the keyword
    arguments given to :func:`save`. :meth:`restore` puts the state into fresh objects.
    """

    model: Module
    optimizer_state: dict[str, Any] | None = None
    optimizer_type: str | None = None
    scheduler_state: dict[str, Any] | None = None
    scheduler_type: str | None = None
    epoch: int | None = None
    rng: np.random.Generator | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = VERSION

    def restore(self, optimizer: Any = None, scheduler: Any = None, rng: np.random.Generator | None = None) -> None:
        """Load the saved state into a freshly built ``optimizer`` / ``scheduler`` / ``rng`` (in place).

        The optimizer must be built on ``checkpoint.model.parameters()`` in the same order. The
        saved hyper-parameters are checked as the constructors check theirs: a file whose
        learning rate was edited to -0.1 is refused, not trained with.
        """
        for obj, state, kind, label in (
            (optimizer, self.optimizer_state, self.optimizer_type, "optimizer"),
            (scheduler, self.scheduler_state, self.scheduler_type, "scheduler"),
        ):
            if obj is None:
                continue
            if state is None:
                raise ConfigError(f"the checkpoint holds no {label} state; save it with save(..., {label}=...).")
            if type(obj).__name__ != kind:
                raise ConfigError(
                    f"the checkpoint holds {kind} state but {label} is a {type(obj).__name__}; "
                    f"build a {kind} to restore it into."
                )
            try:
                obj.load_state_dict(state)  # which checks the values as the constructors do
            except NNScratchError as exc:
                raise type(exc)(f"the checkpoint's {label} state cannot be restored: {exc}") from exc
        if rng is not None:
            if self.rng is None:
                raise ConfigError("the checkpoint holds no RNG state; save it with save(..., rng=generator).")
            saved, given = type(self.rng.bit_generator).__name__, type(rng.bit_generator).__name__
            if saved != given:
                raise ConfigError(
                    f"the checkpoint holds {saved} state but rng uses {given}; pass a Generator "
                    f"built on {saved}, or use checkpoint.rng itself."
                )
            rng.bit_generator.state = self.rng.bit_generator.state


# --- save --------------------------------------------------------------------------------------------


def _rng_state(rng: Any) -> dict[str, Any]:
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}.")
    return dict(rng.bit_generator.state)


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_STORED  # stored, not deflated: nothing to decompress, no zip bombs
    return info


def _write_archive(fileobj: Any, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(fileobj, "w") as zf:
        zf.writestr(_zip_info(_META), json.dumps(meta, indent=1).encode("utf-8"))
        for name, array in arrays.items():
            with zf.open(_zip_info(name + ".npy"), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX; folders cannot be opened this way on Windows)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# The temporary files this process is writing now: a file named with this process's id that is not
# among them was left by an earlier process that had the same id (a restarted container, say).
_writing: set[str] = set()


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there; leave it to the age rule
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # EPERM: a live process of another user
        return True
    return True


def _remove_stale_temporaries(directory: str, base: str) -> None:
    """Remove the temporary files earlier saves to ``base`` left behind (killed mid-write)."""
    pattern = re.compile(re.escape(f".{base}{_TMP_MARK}") + r"(\d+)-[0-9a-f]{16}\Z")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.match(name)
        full = os.path.join(directory, name)
        if match is None or full in _writing:
            continue
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):  # only plain files, never what a link points to
            continue
        pid = int(match.group(1))
        stale = pid == os.getpid() or not _pid_alive(pid) or time.time() - info.st_mtime > STALE_AFTER_S
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(full)


def _atomic_write(path: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_stale_temporaries(directory, base)
    try:
        keep_mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        keep_mode = None
    tmp = os.path.join(directory, f".{base}{_TMP_MARK}{os.getpid()}-{secrets.token_hex(8)}")
    _writing.add(tmp)  # before the file exists: a concurrent save must never take it for a stale one
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o666)  # as for any new file, the umask decides the permissions
        try:
            with os.fdopen(fd, "wb") as f:
                if keep_mode is not None:  # replacing a file: keep its permissions
                    if hasattr(os, "fchmod"):
                        os.fchmod(f.fileno(), keep_mode)
                    else:
                        os.chmod(tmp, keep_mode)
                _write_archive(f, meta, arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    finally:
        _writing.discard(tmp)
    _fsync_dir(directory)


def _digest(array: np.ndarray) -> str:
    """SHA-256 of a C-contiguous array's bytes, as they are stored in its ``.npy`` member."""
    try:
        view = array.reshape(-1).view(np.uint8)
    except (ValueError, TypeError):  # a dtype without a byte view
        return hashlib.sha256(array.tobytes()).hexdigest()
    return hashlib.sha256(view.data).hexdigest()


def _check_save_path(path: Any) -> str:
    try:
        path = os.fsdecode(os.fspath(path))
    except TypeError:
        raise ConfigError(f"path must be a str or os.PathLike, got {path!r:.80} ({type(path).__name__}).") from None
    if not path:
        raise ConfigError("path must name a file, got an empty string ''.")
    if os.path.isdir(path):
        raise ConfigError(f"path {path!r} is a directory; give a file name inside it, such as 'model.npz'.")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise MissingFileError(f"cannot save to {path!r}: the folder {directory!r} does not exist; create it first.")
    return path


def save(
    path: str | os.PathLike,
    model: Module,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    epoch: int | None = None,
    rng: np.random.Generator | None = None,
    **extra: Any,
) -> None:
    """Write ``model`` (and optionally a training checkpoint) to ``path``, atomically.

    ``optimizer``/``scheduler``: objects with ``state_dict()``; ``epoch``: the number of epochs
    done; ``rng``: the Generator that shuffles the data (its exact state is saved, so resuming
    draws the same batches); ``extra``: more values (numbers, strings, lists, dicts, arrays).
    The file is written exactly at ``path`` (no suffix is added).
    """
    path = _check_save_path(path)
    if not isinstance(model, Module):
        raise ConfigError(f"model must be an nnscratch Module, got {type(model).__name__}.")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0):
        raise ConfigError(f"epoch must be a non-negative integer or None, got {epoch!r}.")
    for label, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and not callable(getattr(obj, "state_dict", None)):
            raise ConfigError(
                f"{label} must have a state_dict() method (an nnscratch optimizer or scheduler), "
                f"got {type(obj).__name__}."
            )
    from . import __version__  # here, not at the top: the package imports this module while it starts

    spec = describe(model)
    arrays: dict[str, np.ndarray] = {
        f"model/{name}": _c_order(np.asarray(to_numpy(p.data))) for name, p in model.named_parameters()
    }
    # What we write we must be able to read: rebuilding catches e.g. an MLP whose layers were replaced.
    _rebuild(spec, arrays, "numpy")
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "nnscratch_version": __version__,
        "architecture": spec,
        "optimizer_type": None if optimizer is None else type(optimizer).__name__,
        "optimizer": None if optimizer is None else _pack(optimizer.state_dict(), "optimizer", arrays, "optimizer"),
        "scheduler_type": None if scheduler is None else type(scheduler).__name__,
        "scheduler": None if scheduler is None else _pack(scheduler.state_dict(), "scheduler", arrays, "scheduler"),
        "epoch": None if epoch is None else int(epoch),
        "rng": None if rng is None else _pack(_rng_state(rng), "rng", arrays, "rng"),
        "extra": _pack(extra, "extra", arrays, "extra"),
    }
    meta["arrays"] = {
        name: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _digest(a)} for name, a in arrays.items()
    }
    _atomic_write(path, meta, arrays)


# --- load --------------------------------------------------------------------------------------------


def _path_like(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (
        name.startswith(("/", "\\"))
        or "\\" in name
        or ".." in parts
        or re.match(r"[A-Za-z]:", name) is not None
        or any(ord(c) < 32 for c in name)
    )


def _check_members(infos: list[zipfile.ZipInfo], file_size: int) -> None:
    """The members themselves, before anything is read: names, sizes, no compression or encryption."""
    for info in infos:
        if _path_like(info.filename):
            raise SerializationError(
                f"it holds a member with the path-like name {info.filename!r:.120} (absolute, '..', a backslash "
                "or a control character); nnscratch never writes such names."
            )
    twice = sorted(name for name, count in Counter(i.filename for i in infos).items() if count > 1)
    if twice:
        raise SerializationError(
            f"it holds the member(s) {twice!r:.200} more than once; a file nnscratch writes names each member once, "
            "so which copy is meant cannot be told."
        )
    if any(i.compress_type != zipfile.ZIP_STORED or i.flag_bits & 0x1 for i in infos):
        raise SerializationError("it holds compressed or encrypted members, which nnscratch never writes.")
    if sum(i.file_size for i in infos) > file_size:
        raise SerializationError("its members claim more bytes than the file holds (truncated or forged).")


def _check_table(table: Any) -> dict[str, dict[str, Any]]:
    """``table`` itself once it is a valid array table, or a SerializationError."""
    if not isinstance(table, dict):
        raise SerializationError("its meta.json lacks the array table.")
    for name, entry in table.items():
        if not _ARRAY_NAME.match(name):
            raise SerializationError(
                f"its array table lists the name {name!r:.120}, which is not one nnscratch writes "
                "('model/...', 'optimizer/...', 'scheduler/...', 'rng/...' or 'extra/...' followed by "
                "dot-separated identifiers)."
            )
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("dtype"), str)
            and isinstance(shape, list)
            and all(type(n) is int and n >= 0 for n in shape)
            and isinstance(entry.get("sha256", ""), str)
        ):
            raise SerializationError(
                f"its array table entry for {name!r} is {entry!r:.120}; expected "
                "{'dtype': str, 'shape': [integers >= 0], 'sha256': str}."
            )
    return table


def _read_meta(zf: zipfile.ZipFile, file_size: int) -> dict[str, Any]:
    infos = zf.infolist()
    _check_members(infos, file_size)
    meta = json.loads(zf.read(_META).decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SerializationError("it is not an nnscratch file (meta.json lacks format 'nnscratch').")
    version = meta.get("version")
    if type(version) is not int or version != VERSION:
        newer = type(version) is int and version > VERSION
        raise SerializationError(
            f"it has format version {version!r:.40} ({type(version).__name__}) but this nnscratch reads format "
            f"version {VERSION} (the integer {VERSION})" + ("; upgrade nnscratch to read it." if newer else ".")
        )
    table = _check_table(meta.get("arrays"))
    if not isinstance(meta.get("extra"), dict):
        raise SerializationError("its meta.json lacks the extra values.")
    names = {i.filename for i in infos} - {_META}
    listed = {f"{name}.npy" for name in table}
    if names != listed:
        unlisted, missing = sorted(names - listed), sorted(listed - names)
        raise SerializationError(
            "its members do not match the array table in meta.json: "
            + "; ".join(
                part
                for part in (
                    f"member(s) {unlisted!r:.200} are not listed in it" if unlisted else "",
                    f"it lists {missing!r:.200} but the file has no such member(s)" if missing else "",
                )
                if part
            )
            + "."
        )
    return meta


def _read_array(zf: zipfile.ZipFile, name: str, entry: dict[str, Any]) -> np.ndarray:
    """Read one ``.npy`` member after checking its header against the table (no pickle, ever)."""
    member = name + ".npy"
    info = zf.getinfo(member)
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise SerializationError(f"member {member!r} has .npy format version {version}; expected 1.0 or 2.0.")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        if dtype.hasobject:
            raise SerializationError(
                f"member {member!r} holds Python objects, which would need pickle to load; refused."
            )
        if any(n < 0 for n in shape):
            raise SerializationError(f"member {member!r} declares the shape {shape}, with a negative dimension.")
        if entry["dtype"] != dtype.str or entry["shape"] != list(shape):
            raise SerializationError(
                f"member {member!r} holds dtype {dtype.str} of shape {tuple(shape)}, but the array table in "
                f"meta.json says dtype {entry['dtype']!r:.40} of shape {tuple(entry['shape'])}."
            )
        nbytes = dtype.itemsize
        for n in shape:  # Python integers: a forged shape cannot overflow
            nbytes *= n
        held = info.file_size - f.tell()
        if nbytes != held:
            raise SerializationError(
                f"member {member!r} declares dtype {dtype.str} of shape {tuple(shape)}, which needs {nbytes} bytes "
                f"of data, but it holds {held} bytes (truncated or forged)."
            )
        data = f.read(nbytes + 1)  # reading to the end makes zipfile verify the member's CRC-32
    if len(data) != nbytes:
        raise SerializationError(f"member {member!r} has {len(data)} bytes of data, expected {nbytes}.")
    if "sha256" in entry and hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise SerializationError(
            f"member {member!r} does not hold the data meta.json records for it (SHA-256 "
            f"{hashlib.sha256(data).hexdigest()[:16]}..., expected {entry['sha256'][:16]:.16}...): "
            "members swapped or altered."
        )
    return np.frombuffer(bytearray(data), dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _rebuild(spec: Any, arrays: dict[str, np.ndarray], backend: str) -> Module:
    """The model ``spec`` describes, holding the ``model/...`` arrays, which must fit it exactly."""
    stored = {name[len("model/") :]: a for name, a in arrays.items() if name.startswith("model/")}
    model = build(spec, WeightBudget(sum(a.size for a in stored.values())), backend)
    params = dict(model.named_parameters())
    if set(params) != set(stored):
        raise SerializationError(
            f"the stored parameters {sorted(stored)} do not match the architecture's {sorted(params)}."
        )
    for name, p in params.items():
        if stored[name].shape != p.shape or stored[name].dtype != p.dtype:
            raise SerializationError(
                f"parameter {name!r} is stored as {stored[name].dtype} {stored[name].shape} "
                f"but the architecture needs {p.dtype} {p.shape}."
            )
        p.data = to_backend(stored[name], backend)
    return model


def _restore_rng(state: Any) -> np.random.Generator | None:
    if state is None:
        return None
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise SerializationError(f"unknown bit generator {name!r:.40} in the RNG state.")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _check_fields(ckpt: Checkpoint) -> None:
    """The loaded values must have the types :func:`save` writes (a forged file may differ)."""
    epoch = ckpt.epoch
    if not (epoch is None or (type(epoch) is int and epoch >= 0)):
        raise SerializationError(f"epoch {epoch!r:.40} is not a count of epochs.")
    for state, kind in ((ckpt.optimizer_state, ckpt.optimizer_type), (ckpt.scheduler_state, ckpt.scheduler_type)):
        if not ((state is None and kind is None) or (isinstance(state, dict) and isinstance(kind, str))):
            raise SerializationError("an optimizer or scheduler entry is malformed.")
    if not isinstance(ckpt.extra, dict):
        raise SerializationError("the extra values are malformed.")


def _open_for_load(path: Any) -> tuple[str, Any]:
    """``(path as str, open binary file)``, or an error that says what is wrong with the path."""
    try:
        name = os.fsdecode(os.fspath(path))
    except TypeError:
        raise ConfigError(f"path must be a str or os.PathLike, got {path!r:.80} ({type(path).__name__}).") from None
    try:
        return name, open(name, "rb")
    except FileNotFoundError:
        raise MissingFileError(f"cannot load {name!r}: there is no such file.") from None
    except IsADirectoryError:
        raise SerializationError(
            f"cannot load {name!r}: it is a directory, not a file saved by nnscratch.save."
        ) from None
    except OSError as exc:
        if os.path.isdir(name):  # Windows reports a folder as "permission denied"
            raise SerializationError(f"cannot load {name!r}: it is a directory, not a file.") from None
        raise SerializationError(f"cannot load {name!r}: {exc.strerror or exc}.") from exc


def load(path: str | os.PathLike, *, backend: str | None = None) -> Checkpoint:
    """Read a file written by :func:`save`; the model is rebuilt on ``backend`` (default: the default one).

    Raises :class:`~nnscratch.errors.SerializationError` for any file that is not an intact
    nnscratch file of a version this code reads, or that cannot be opened;
    :class:`~nnscratch.errors.MissingFileError` (a SerializationError and a ``FileNotFoundError``)
    if there is no file.
    """
    backend = get_backend() if backend is None else resolve_backend(backend)
    name, f = _open_for_load(path)
    with f:
        try:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise SerializationError("it is not a regular file.")
            size = os.fstat(f.fileno()).st_size
            with zipfile.ZipFile(f) as zf:
                meta = _read_meta(zf, size)
                arrays = {key: _read_array(zf, key, entry) for key, entry in meta["arrays"].items()}
            used: set[str] = set()
            ckpt = Checkpoint(
                model=_rebuild(meta.get("architecture"), arrays, backend),
                optimizer_state=_unpack(meta.get("optimizer"), arrays, backend, used),
                optimizer_type=meta.get("optimizer_type"),
                scheduler_state=_unpack(meta.get("scheduler"), arrays, backend, used),
                scheduler_type=meta.get("scheduler_type"),
                epoch=meta.get("epoch"),
                rng=_restore_rng(_unpack(meta.get("rng"), arrays, "numpy", used)),
                extra=_unpack(meta["extra"], arrays, backend, used),
            )
            unused = sorted(key for key in arrays if not key.startswith("model/") and key not in used)
            if unused:
                raise SerializationError(f"its array(s) {unused!r:.200} are listed but no value refers to them.")
            _check_fields(ckpt)
        except SerializationError as exc:
            raise SerializationError(f"cannot load {name!r}: {exc}") from None
        except _DAMAGE as exc:
            raise SerializationError(
                f"cannot load {name!r}: the file is damaged or not an nnscratch file ({type(exc).__name__}: {exc})."
            ) from exc
    return ckpt
