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

Atomicity. :func:`save` writes a temporary file beside the target, flushes and fsyncs it,
then renames it over the target (``os.replace`` is atomic), and fsyncs the folder; a
crash at any point leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .architecture import WeightBudget, build, describe
from .backend import get_backend, to_backend, to_numpy
from .errors import ConfigError, SerializationError
from .module import Module

FORMAT = "nnscratch"
VERSION = 1
_META = "meta.json"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same checkpoint gives the same bytes
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
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


def _pack(value: Any, prefix: str, arrays: dict[str, np.ndarray], where: str) -> Any:
    """Return a JSON-able copy of ``value`` with each array moved into ``arrays``.

    Dicts become ``{"__dict__": [[key, value], ...]}`` so that integer keys (torch's optimizer
    state is keyed by parameter index) survive; tuples become ``{"__tuple__": [...]}``.
    """
    if isinstance(value, np.generic) or (hasattr(value, "dtype") and hasattr(value, "shape")):  # NumPy or CuPy
        array = np.asarray(to_numpy(value))
        if array.dtype.hasobject:
            raise SerializationError(f"{where} is an array of Python objects, which cannot be saved without pickle.")
        name = f"{prefix}/{len(arrays)}"
        arrays[name] = array
        return {"__scalar__" if isinstance(value, np.generic) else "__array__": name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_pack(v, prefix, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise SerializationError(
                    f"{where} has a key {key!r} of type {type(key).__name__}; only str and int keys can be saved."
                )
        return {"__dict__": [[k, _pack(v, prefix, arrays, f"{where}[{k!r}]")] for k, v in value.items()]}
    raise SerializationError(
        f"{where} holds a {type(value).__name__}, which cannot be saved safely: use numbers, strings, "
        "None, lists, tuples, dicts and arrays."
    )


def _unpack(value: Any, arrays: dict[str, np.ndarray], backend: str) -> Any:
    """Invert :func:`_pack`; arrays go to ``backend``."""
    if isinstance(value, list):
        return [_unpack(v, arrays, backend) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise SerializationError(f"unexpected object {value!r:.120} in the file's values.")
    ((tag, inner),) = value.items()
    if tag == "__dict__":
        if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int)) for p in inner):
            raise SerializationError(f"malformed dict entry {inner!r:.120} in the file's values.")
        return {k: _unpack(v, arrays, backend) for k, v in inner}
    if tag == "__tuple__" and isinstance(inner, list):
        return tuple(_unpack(v, arrays, backend) for v in inner)
    if tag in ("__array__", "__scalar__") and isinstance(inner, str) and inner in arrays:
        return arrays[inner][()] if tag == "__scalar__" else to_backend(arrays[inner], backend)
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

        The optimizer must be built on ``checkpoint.model.parameters()`` in the same order.
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
            obj.load_state_dict(state)
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


def _atomic_write(path: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_archive(f, meta, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes the file private (0600); a saved model is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


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
    if not isinstance(model, Module):
        raise ConfigError(f"model must be an nnscratch Module, got {type(model).__name__}.")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0):
        raise ConfigError(f"epoch must be a non-negative integer or None, got {epoch!r}.")
    from . import __version__  # here, not at the top: the package imports this module while it starts

    spec = describe(model)
    arrays: dict[str, np.ndarray] = {f"model/{name}": to_numpy(p.data) for name, p in model.named_parameters()}
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
    meta["arrays"] = {name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in arrays.items()}
    _atomic_write(os.fspath(path), meta, arrays)


# --- load --------------------------------------------------------------------------------------------


def _read_meta(zf: zipfile.ZipFile, file_size: int) -> dict[str, Any]:
    infos = zf.infolist()
    if any(i.compress_type != zipfile.ZIP_STORED or i.flag_bits & 0x1 for i in infos):
        raise SerializationError("it holds compressed or encrypted members, which nnscratch never writes.")
    if sum(i.file_size for i in infos) > file_size:
        raise SerializationError("its members claim more bytes than the file holds (truncated or forged).")
    meta = json.loads(zf.read(_META).decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SerializationError("it is not an nnscratch file (meta.json lacks format 'nnscratch').")
    version = meta.get("version")
    if version != VERSION:
        newer = isinstance(version, int) and version > VERSION
        raise SerializationError(
            f"it has format version {version!r:.40} but this nnscratch reads version {VERSION}"
            + ("; upgrade nnscratch to read it." if newer else ".")
        )
    table = meta.get("arrays")
    if not isinstance(table, dict) or not isinstance(meta.get("extra"), dict):
        raise SerializationError("its meta.json lacks the array table or the extra values.")
    names = {i.filename for i in infos}
    if names != {_META} | {f"{name}.npy" for name in table}:
        raise SerializationError("its members do not match the array table in meta.json.")
    return meta


def _read_array(zf: zipfile.ZipFile, name: str, entry: Any) -> np.ndarray:
    """Read one ``.npy`` member after checking its header against the table (no pickle, ever)."""
    info = zf.getinfo(name + ".npy")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise SerializationError(f"array {name!r} has .npy format version {version}; expected 1.0 or 2.0.")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        if dtype.hasobject:
            raise SerializationError(f"array {name!r} holds Python objects, which would need pickle to load; refused.")
        if not isinstance(entry, dict) or entry.get("dtype") != dtype.str or entry.get("shape") != list(shape):
            raise SerializationError(f"array {name!r} does not match its entry {entry!r:.80} in the array table.")
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes > info.file_size:
            raise SerializationError(f"array {name!r} claims more bytes than its member holds.")
        data = f.read(nbytes + 1)  # reading to the end makes zipfile verify the member's CRC-32
    if len(data) != nbytes:
        raise SerializationError(f"array {name!r} has {len(data)} bytes of data, expected {nbytes}.")
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


def load(path: str | os.PathLike, *, backend: str | None = None) -> Checkpoint:
    """Read a file written by :func:`save`; the model is rebuilt on ``backend`` (default: the default one).

    Raises :class:`~nnscratch.errors.SerializationError` for any file that is not an intact
    nnscratch file of a version this code reads (``FileNotFoundError`` if there is no file).
    """
    backend = backend or get_backend()
    with open(os.fspath(path), "rb") as f:
        try:
            size = os.fstat(f.fileno()).st_size
            with zipfile.ZipFile(f) as zf:
                meta = _read_meta(zf, size)
                arrays = {name: _read_array(zf, name, entry) for name, entry in meta["arrays"].items()}
            ckpt = Checkpoint(
                model=_rebuild(meta.get("architecture"), arrays, backend),
                optimizer_state=_unpack(meta.get("optimizer"), arrays, backend),
                optimizer_type=meta.get("optimizer_type"),
                scheduler_state=_unpack(meta.get("scheduler"), arrays, backend),
                scheduler_type=meta.get("scheduler_type"),
                epoch=meta.get("epoch"),
                rng=_restore_rng(_unpack(meta.get("rng"), arrays, "numpy")),
                extra=_unpack(meta["extra"], arrays, backend),
            )
            _check_fields(ckpt)
        except SerializationError as exc:
            raise SerializationError(f"cannot load {os.fspath(path)!r}: {exc}") from None
        except _DAMAGE as exc:
            raise SerializationError(
                f"cannot load {os.fspath(path)!r}: the file is damaged or not an nnscratch file "
                f"({type(exc).__name__}: {exc})."
            ) from exc
    return ckpt
