"""The bad-input table: every public entry point fed what a careless user or an attacker would feed it.

One row per case. A ``bad`` row is a call, the NNScratchError subclass it must raise, and words
its message must contain (the argument's name and the value given, at least). A ``good`` row is
a reasonable call that must work: NumPy scalars where a number is expected, any integer type for
a size, read-only and non-contiguous arrays. To add a case, add a row.

The Hypothesis tests at the end draw the bad (and the good) values instead of listing them.
"""

from __future__ import annotations

import atexit
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import architecture, data, init, interop, optim
from nnscratch.activations import ACTIVATIONS

TMP = Path(tempfile.mkdtemp(prefix="nnscratch-bad-input-"))
atexit.register(shutil.rmtree, TMP, True)
X, Y = np.ones((8, 2)), np.ones((8, 1))


@dataclass(frozen=True)
class Row:
    id: str
    call: Callable[[], Any]
    error: type[Exception] | None  # None: a good call, which must work
    words: tuple[str, ...] = ()
    mark: Any = None


BAD: list[Row] = []
GOOD: list[Row] = []


def bad(id: str, call: Callable[[], Any], error: type[Exception], *words: str, mark: Any = None) -> None:
    BAD.append(Row(id, call, error, words, mark))


def good(id: str, call: Callable[[], Any], mark: Any = None) -> None:
    GOOD.append(Row(id, call, None, (), mark))


# --- helpers the rows use --------------------------------------------------------------------------------


def net(sizes=(2, 3, 1), **kwargs):
    return ns.MLP(list(sizes), rng=0, **kwargs)


def sgd(model=None, **kwargs):
    kwargs.setdefault("lr", 0.1)
    return optim.SGD((model or net()).parameters(), **kwargs)


def fit(X=X, y=Y, model=None, optimizer=None, **kwargs):
    model = model or net()
    opt = optimizer or optim.SGD(model.parameters(), lr=0.1)
    kwargs.setdefault("epochs", 1)
    kwargs.setdefault("batch_size", 4)
    kwargs.setdefault("progress", False)
    return ns.fit(model, X, y, kwargs.pop("loss", ns.MSELoss()), opt, **kwargs)


def read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def strided(a):
    """A non-contiguous view of the same values: every other column of a twice-as-wide array."""
    a = np.asarray(a)
    wide = np.repeat(a, 2, axis=-1)
    view = wide[..., ::2]
    assert view.size <= 1 or not view.flags.c_contiguous
    return view


def forward_then(module, x, then):
    module(x)
    return then(module)


def a_file(name, content=b""):
    path = TMP / name
    path.write_bytes(content)
    return path


def self_list():
    a = [1]
    a.append(a)
    return a


def deep(n):
    v: Any = 0
    for _ in range(n):
        v = [v]
    return v


def returns(W, b):
    """An initializer returning fixed values (whatever the sizes)."""

    def bad_init(in_features, out_features, rng=None):
        return W, b

    return bad_init


class WithParameter(ns.Module):
    def __init__(self):
        self.a = ns.Parameter(np.ones(2))

    def forward(self, x):
        return x * self.a.data

    def backward(self, grad_out):
        return grad_out * self.a.data


SCALAR_INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
SCALAR_FLOATS = (np.float16, np.float32, np.float64)
ACTIVATION_CLASSES = sorted({cls for cls in ACTIVATIONS.values()}, key=lambda c: c.__name__)
WITH_STATE = [c for c in ACTIVATION_CLASSES if c is not ns.Identity]  # Identity keeps nothing for backward


# === serialization =====================================================================================

M = ns.Linear(1, 1, rng=0)
bad("load_directory", lambda: ns.load(TMP), ns.SerializationError, str(TMP), "is a directory")
bad("load_missing", lambda: ns.load(TMP / "missing.npz"), ns.MissingFileError, "missing.npz", "no such file")
bad("load_int_path", lambda: ns.load(3), ns.ConfigError, "path must be", "3 (int)")
bad("load_none_path", lambda: ns.load(None), ns.ConfigError, "path must be", "None (NoneType)")
bad("load_empty_file", lambda: ns.load(a_file("empty.npz")), ns.SerializationError, "empty.npz", "damaged")
bad("load_text_file", lambda: ns.load(a_file("t.npz", b"hello")), ns.SerializationError, "t.npz", "damaged")
bad("load_unknown_backend", lambda: ns.load(TMP / "x.npz", backend="tpu"), ns.ConfigError, "backend", "'tpu'")
bad("save_int_path", lambda: ns.save(3, M), ns.ConfigError, "path must be", "3 (int)")
bad("save_empty_path", lambda: ns.save("", M), ns.ConfigError, "path", "''")
bad("save_directory", lambda: ns.save(TMP, M), ns.ConfigError, str(TMP), "is a directory")
bad("save_missing_folder", lambda: ns.save(TMP / "no" / "m.npz", M), ns.MissingFileError, "no", "does not exist")
bad("save_model_str", lambda: ns.save(TMP / "m.npz", "net"), ns.ConfigError, "model", "str")
bad("save_epoch_negative", lambda: ns.save(TMP / "m.npz", M, epoch=-1), ns.ConfigError, "epoch", "-1")
bad("save_epoch_float", lambda: ns.save(TMP / "m.npz", M, epoch=1.5), ns.ConfigError, "epoch", "1.5")
bad("save_epoch_bool", lambda: ns.save(TMP / "m.npz", M, epoch=True), ns.ConfigError, "epoch", "True")
bad("save_epoch_str", lambda: ns.save(TMP / "m.npz", M, epoch="3"), ns.ConfigError, "epoch", "'3'")
bad("save_optimizer_int", lambda: ns.save(TMP / "m.npz", M, 3), ns.ConfigError, "optimizer", "int")
bad("save_scheduler_str", lambda: ns.save(TMP / "m.npz", M, None, "s"), ns.ConfigError, "scheduler", "str")
bad("save_rng_int", lambda: ns.save(TMP / "m.npz", M, rng=3), ns.ConfigError, "rng", "int")
bad("save_extra_object", lambda: ns.save(TMP / "m.npz", M, x=object()), ns.SerializationError, "extra['x']", "object")
bad("save_extra_set", lambda: ns.save(TMP / "m.npz", M, x={1, 2}), ns.SerializationError, "extra['x']", "set")
bad("save_extra_bytes", lambda: ns.save(TMP / "m.npz", M, x=b"ab"), ns.SerializationError, "extra['x']", "bytes")
bad("save_extra_function", lambda: ns.save(TMP / "m.npz", M, f=print), ns.SerializationError, "extra['f']")
bad("save_tuple_key", lambda: ns.save(TMP / "m.npz", M, d={(1, 2): 3}), ns.SerializationError, "(1, 2)", "tuple")
bad("save_object_array", lambda: ns.save(TMP / "m.npz", M, a=np.array([None])), ns.SerializationError, "pickle")
bad(
    "save_self_list", lambda: ns.save(TMP / "m.npz", M, a=self_list()), ns.SerializationError, "extra['a'][1]", "itself"
)
bad("save_too_deep", lambda: ns.save(TMP / "m.npz", M, a=deep(200)), ns.SerializationError, "extra['a']", "100 levels")
bad(
    "save_unregistered_module",
    lambda: ns.save(TMP / "m.npz", ns.Sequential(WithParameter())),
    ns.SerializationError,
    "WithParameter",
    "register_module",
)
good("save_numpy_epoch", lambda: ns.save(TMP / "g.npz", M, epoch=np.int64(3)))
good(
    "save_numpy_scalars_extra", lambda: ns.save(TMP / "g.npz", M, h=np.float16(0.5), u=np.uint8(3), c=np.complex64(1j))
)
good("save_read_only_extra", lambda: ns.save(TMP / "g.npz", M, a=read_only(np.eye(2)), b=strided(np.eye(2))))
good("save_path_object_and_bytes", lambda: (ns.save(TMP / "g.npz", M), ns.load(str(TMP / "g.npz").encode())))


def _restore_into_adam():
    model = net()
    ns.save(TMP / "c.npz", model, optim.SGD(model.parameters(), lr=0.1))
    ckpt = ns.load(TMP / "c.npz")
    ckpt.restore(optim.Adam(ckpt.model.parameters()))


bad("restore_wrong_optimizer_type", _restore_into_adam, ns.ConfigError, "holds SGD state", "Adam")


# === rng ===============================================================================================

bad("manual_seed_negative", lambda: ns.manual_seed(-1), ns.ConfigError, "seed", "-1")
bad("manual_seed_str", lambda: ns.manual_seed("a"), ns.ConfigError, "seed", "'a'")
bad("manual_seed_float", lambda: ns.manual_seed(1.5), ns.ConfigError, "seed", "1.5")
bad("manual_seed_bool", lambda: ns.manual_seed(True), ns.ConfigError, "seed", "True")
bad("linear_rng_negative", lambda: ns.Linear(3, 2, rng=-1), ns.ConfigError, "rng", "-1")
bad("linear_rng_str", lambda: ns.Linear(3, 2, rng="a"), ns.ConfigError, "rng", "'a'")
bad("linear_rng_float", lambda: ns.Linear(3, 2, rng=1.5), ns.ConfigError, "rng", "1.5")
bad("minibatches_rng_negative", lambda: list(data.minibatches(X, Y, 4, rng=-3)), ns.ConfigError, "rng", "-3")
for t in SCALAR_INTS:
    good(f"manual_seed_{t.__name__}", lambda t=t: ns.manual_seed(t(3)))
    good(f"linear_rng_{t.__name__}", lambda t=t: ns.Linear(3, 2, rng=t(5)))


# === init ==============================================================================================

bad("uniform_infinite", lambda: init.uniform(-math.inf, math.inf), ns.ConfigError, "uniform(low)", "-inf")
bad("uniform_nan", lambda: init.uniform(math.nan, 1), ns.ConfigError, "uniform(low)", "nan")
bad("uniform_high_inf", lambda: init.uniform(0, math.inf), ns.ConfigError, "uniform(high)", "inf")
bad("uniform_overflowing_range", lambda: init.uniform(-1e308, 1e308), ns.ConfigError, "high - low", "1e+308")
bad("uniform_reversed", lambda: init.uniform(1, 0), ns.ConfigError, "low < high", "low=1", "high=0")
bad("uniform_str", lambda: init.uniform("a", 1), ns.ConfigError, "uniform(low)", "'a'")
bad("uniform_complex", lambda: init.uniform(0, 1j), ns.ConfigError, "uniform(high)", "1j")
bad("normal_zero_std", lambda: init.normal(0), ns.ConfigError, "normal(std)", "0")
bad("normal_negative_std", lambda: init.normal(-1.0), ns.ConfigError, "normal(std)", "-1.0")
bad("normal_nan_std", lambda: init.normal(math.nan), ns.ConfigError, "normal(std)", "nan")
bad("normal_inf_std", lambda: init.normal(math.inf), ns.ConfigError, "normal(std)", "inf")
bad("normal_str_std", lambda: init.normal("0.1"), ns.ConfigError, "normal(std)", "'0.1'")
bad("normal_inf_mean", lambda: init.normal(0.1, math.inf), ns.ConfigError, "normal(mean)", "inf")
bad("normal_overflowing", lambda: init.normal(1e308), ns.ConfigError, "std=1e+308")
bad("constant_nan", lambda: init.constant(math.nan), ns.ConfigError, "constant(value)", "nan")
bad("constant_str", lambda: init.constant("a"), ns.ConfigError, "constant(value)", "'a'")
bad("constant_bias_inf", lambda: init.constant(0, -math.inf), ns.ConfigError, "constant(bias)", "-inf")
bad("constant_list", lambda: init.constant([1, 2]), ns.ConfigError, "constant(value)", "[1, 2]")
for name in sorted(init._READY):
    fn = getattr(init, name)
    bad(f"{name}_zero_in", lambda fn=fn: fn(0, 3), ns.ConfigError, "in_features", "0")
    bad(f"{name}_float_out", lambda fn=fn: fn(3, 2.5), ns.ConfigError, "out_features", "2.5")
    good(f"{name}_numpy_sizes", lambda fn=fn: fn(np.uint16(3), np.int8(2), 0))
bad("init_get_int", lambda: init.get(3), ns.ConfigError, "init must be", "3")
bad("init_get_unknown", lambda: init.get("kaiming"), ns.ConfigError, "init must be", "'kaiming'")
bad("init_get_factory", lambda: init.get(init.uniform), ns.ConfigError, "init=uniform is a factory")
bad("init_get_array", lambda: init.get(np.ones(3)), ns.ConfigError, "init must be", "array")
bad(
    "initializer_transposed_W",
    lambda: ns.Linear(3, 2, init=returns(np.zeros((2, 3)), np.zeros(2))),
    ns.ShapeError,
    "returned W of shape (2, 3)",
    "(3, 2)",
)
bad(
    "initializer_wrong_bias",
    lambda: ns.Linear(3, 2, init=returns(np.zeros((3, 2)), np.zeros(3))),
    ns.ShapeError,
    "returned b of shape (3,)",
    "(2,)",
)
bad(
    "initializer_flat_W",
    lambda: ns.Linear(3, 2, init=returns(np.zeros(6), np.zeros(2))),
    ns.ShapeError,
    "returned W of shape (6,)",
)
bad(
    "initializer_not_pair",
    lambda: ns.Linear(3, 2, init=lambda i, o, r: np.zeros((i, o))),
    ns.ConfigError,
    "must return a pair (W, b)",
    "shape (3, 2)",
)
bad(
    "initializer_returns_none",
    lambda: ns.Linear(3, 2, init=lambda i, o, r: None),
    ns.ConfigError,
    "must return a pair",
    "None",
)
bad(
    "initializer_complex",
    lambda: ns.Linear(3, 2, init=returns(np.zeros((3, 2), complex), np.zeros(2))),
    ns.DTypeError,
    "W returned by init",
    "complex128",
)
bad(
    "initializer_strings",
    lambda: ns.Linear(3, 2, init=returns(np.full((3, 2), "a"), np.zeros(2))),
    ns.DTypeError,
    "W returned by init",
    "<U1",
)
bad(
    "initializer_nan",
    lambda: ns.Linear(3, 2, init=returns(np.zeros((3, 2)), np.full(2, np.nan))),
    ns.NonFiniteError,
    "returned b with 2 non-finite",
)
bad(
    "mlp_initializer_wrong_shape",
    lambda: ns.MLP([2, 3, 1], init=lambda i, o, r: (np.zeros((o, i)), np.zeros(o))),
    ns.ShapeError,
    "returned W of shape (3, 2)",
    "(2, 3)",
)
good("initializer_float32_and_lists", lambda: ns.Linear(2, 2, init=returns(np.eye(2, dtype=np.float32), [0, 1])))
good("initializer_read_only", lambda: ns.Linear(2, 2, init=returns(read_only(np.eye(2)), read_only(np.zeros(2)))))
good("initializer_strided", lambda: ns.Linear(2, 2, init=returns(strided(np.eye(2)), np.zeros(2))))
for t in SCALAR_FLOATS:
    good(f"normal_{t.__name__}", lambda t=t: init.normal(t(0.1), t(0.0)))
    good(f"uniform_{t.__name__}", lambda t=t: init.uniform(t(-0.5), t(0.5)))
    good(f"constant_{t.__name__}", lambda t=t: init.constant(t(0.5), t(1.0)))


# === data ==============================================================================================

S = data.Standardizer
bad("standardizer_complex", lambda: S().fit(np.ones((3, 2), complex)), ns.DTypeError, "x must hold real", "complex128")
bad("standardizer_object", lambda: S().fit(np.ones((3, 2), object)), ns.DTypeError, "x must hold real", "object")
bad("standardizer_str", lambda: S().fit(np.full((3, 2), "a")), ns.DTypeError, "x must hold real", "<U1")
bad("standardizer_ragged", lambda: S().fit([[1.0], [1.0, 2.0]]), ns.DTypeError, "x must be an array", "list")
bad("standardizer_0d", lambda: S().fit(np.float64(1.0)), ns.ShapeError, "x of shape (N,) or (N, D)", "got ()")
bad("standardizer_3d", lambda: S().fit(np.ones((2, 2, 2))), ns.ShapeError, "(N,) or (N, D)", "(2, 2, 2)")
bad("standardizer_empty", lambda: S().fit(np.ones((0, 2))), ns.ShapeError, "N >= 1", "(0, 2)")
bad("standardizer_nan", lambda: S().fit(np.array([[1.0], [np.nan]])), ns.NonFiniteError, "x holds 1", "index (1, 0)")
bad("standardizer_inf", lambda: S().fit(np.array([1.0, -np.inf])), ns.NonFiniteError, "x holds 1", "-inf")
bad(
    "standardizer_spread_overflows",
    lambda: S().fit(np.array([[0.0, 1e308], [1.0, -1e308]])),
    ns.NonFiniteError,
    "spread of column 1 of x",
    "1e+308 - (-1e+308)",
)
bad("standardizer_transform_first", lambda: S().transform(X), ns.CallOrderError, "transform", "before fit")
bad(
    "standardizer_transform_width",
    lambda: S().fit(X).transform(np.ones((2, 3))),
    ns.ShapeError,
    "fitted on samples of shape (2,)",
    "(2, 3)",
)
bad(
    "standardizer_inverse_complex",
    lambda: S().fit(X).inverse_transform(np.ones((2, 2), complex)),
    ns.DTypeError,
    "x must hold real",
    "complex128",
)
good("standardizer_near_float64_max", lambda: S().fit(np.array([[1e308], [1.5e308], [1.7e308]])).transform([[1e308]]))
good("standardizer_huge_spread_finite", lambda: S().fit(np.array([1e200, -1e200])))
for dtype in (np.float16, np.float32, np.int8, np.uint64, bool):
    good(f"standardizer_{np.dtype(dtype).name}", lambda dtype=dtype: S().fit(np.arange(6).reshape(3, 2).astype(dtype)))
good("standardizer_read_only", lambda: S().fit(read_only(np.arange(6.0).reshape(3, 2))))
good("standardizer_strided", lambda: S().fit(strided(np.arange(6.0).reshape(3, 2))))

MB = data.minibatches
for value, shown in ((0, "0"), (-2, "-2"), (2.5, "2.5"), ("4", "'4'"), (True, "True"), (None, "None")):
    bad(f"minibatches_batch_size_{shown}", lambda v=value: list(MB(X, Y, v)), ns.ConfigError, "batch_size", shown)
bad("minibatches_float_batch", lambda: list(MB(X, Y, np.float64(4.0))), ns.ConfigError, "batch_size", "4.0")
bad("minibatches_shuffle_str", lambda: list(MB(X, Y, 4, shuffle="no")), ns.ConfigError, "shuffle", "'no'")
bad("minibatches_drop_last_int", lambda: list(MB(X, Y, 4, drop_last=2)), ns.ConfigError, "drop_last", "2")
bad("minibatches_length", lambda: list(MB(X, Y[:3], 4)), ns.ShapeError, "X has 8", "y has 3")
bad("minibatches_scalar", lambda: list(MB(np.float64(1), Y, 4)), ns.ShapeError, "X must be an array", "()")
bad("minibatches_empty", lambda: list(MB(X[:0], Y[:0], 4)), ns.ShapeError, "empty", "(0, 2)")
bad("minibatches_str", lambda: list(MB("abc", Y, 4)), ns.ShapeError, "X must be an array", "str")
for t in SCALAR_INTS:
    good(f"minibatches_{t.__name__}", lambda t=t: list(MB(X, Y, t(3))))
good("minibatches_numpy_bools", lambda: list(MB(X, Y, 3, shuffle=np.bool_(False), drop_last=np.bool_(True))))
good("minibatches_read_only", lambda: list(MB(read_only(X), read_only(Y), 3)))

TTS = data.train_test_split
for value, shown in ((0, "0"), (8, "8"), (1.0, "1.0"), (-0.1, "-0.1"), ("a", "'a'"), (math.nan, "nan"), (True, "True")):
    bad(f"split_test_size_{shown}", lambda v=value: TTS(X, Y, test_size=v), ns.ConfigError, "test_size", shown)
bad("split_shuffle_str", lambda: TTS(X, Y, shuffle="x"), ns.ConfigError, "shuffle", "'x'")
bad("split_rng_list", lambda: TTS(X, Y, rng=[1]), ns.ConfigError, "rng", "[1]")
good("split_numpy_int", lambda: TTS(X, Y, test_size=np.int16(2)))
good("split_numpy_float", lambda: TTS(X, Y, test_size=np.float32(0.25)))
bad("num_batches_zero", lambda: data.num_batches(8, 0), ns.ConfigError, "batch_size", "0")
bad("num_batches_str", lambda: data.num_batches("8", 3), ns.ConfigError, "n must be", "'8'")
good("num_batches_numpy", lambda: data.num_batches(np.int64(8), np.uint8(3), np.bool_(True)))


# === schedulers ========================================================================================

for value, shown in ((0, "0"), (-1, "-1"), (2.5, "2.5"), ("2", "'2'"), (True, "True"), (None, "None")):
    bad(f"steplr_step_size_{shown}", lambda v=value: optim.StepLR(sgd(), v), ns.ConfigError, "step_size", shown)
for value, shown in ((0, "0"), (-0.5, "-0.5"), (math.nan, "nan"), (math.inf, "inf"), ("a", "'a'")):
    bad(f"steplr_gamma_{shown}", lambda v=value: optim.StepLR(sgd(), 2, v), ns.ConfigError, "gamma", shown)
    bad(f"exponential_gamma_{shown}", lambda v=value: optim.ExponentialLR(sgd(), v), ns.ConfigError, "gamma", shown)
bad("cosine_t_max_zero", lambda: optim.CosineAnnealingLR(sgd(), 0), ns.ConfigError, "T_max", "0")
bad("cosine_t_max_float", lambda: optim.CosineAnnealingLR(sgd(), 3.0), ns.ConfigError, "T_max", "3.0")
bad("cosine_eta_min_negative", lambda: optim.CosineAnnealingLR(sgd(), 3, -1e-3), ns.ConfigError, "eta_min", "-0.001")
bad("cosine_eta_min_nan", lambda: optim.CosineAnnealingLR(sgd(), 3, math.nan), ns.ConfigError, "eta_min", "nan")
bad("scheduler_without_optimizer", lambda: optim.StepLR(None, 2), ns.ConfigError, "param_groups", "NoneType")
bad("scheduler_step_with_metric", lambda: optim.StepLR(sgd(), 2).step(0.5), ns.ConfigError, "step() takes no", "0.5")

RP = optim.ReduceLROnPlateau
for kwargs, words in (
    ({"threshold": "x"}, ("threshold", "'x'")),
    ({"threshold": -1e-4}, ("threshold", "-0.0001")),
    ({"threshold": math.inf}, ("threshold", "inf")),
    ({"min_lr": -1}, ("min_lr[0]", "-1")),
    ({"min_lr": [0.1, 0.2]}, ("min_lr has 2 values", "1 param groups")),
    ({"min_lr": math.nan}, ("min_lr[0]", "nan")),
    ({"eps": -1}, ("eps", "-1")),
    ({"eps": "tiny"}, ("eps", "'tiny'")),
    ({"factor": 1.0}, ("factor", "1.0")),
    ({"factor": 0}, ("factor", "0")),
    ({"factor": math.nan}, ("factor", "nan")),
    ({"patience": -1}, ("patience", "-1")),
    ({"patience": 1.5}, ("patience", "1.5")),
    ({"cooldown": True}, ("cooldown", "True")),
    ({"mode": "avg"}, ("mode", "'avg'")),
    ({"mode": None}, ("mode", "None")),
    ({"threshold_mode": "relative"}, ("threshold_mode", "'relative'")),
):
    bad(
        f"plateau_{'_'.join(f'{k}={v}' for k, v in kwargs.items())}",
        lambda k=kwargs: RP(sgd(), **k),
        ns.ConfigError,
        *words,
    )
for value, shown in (("abc", "'abc'"), (None, "None"), ([1, 2], "[1, 2]"), (1 + 2j, "(1+2j)"), (True, "True")):
    bad(f"plateau_step_{shown}", lambda v=value: RP(sgd()).step(v), ns.ConfigError, "metrics", shown)
bad("plateau_step_array", lambda: RP(sgd()).step(np.array([1.0, 2.0])), ns.ConfigError, "metrics", "array([1., 2.])")
for t in SCALAR_FLOATS:
    good(f"plateau_step_{t.__name__}", lambda t=t: RP(sgd()).step(t(0.5)))
    good(f"plateau_factor_{t.__name__}", lambda t=t: RP(sgd(), factor=t(0.5), threshold=t(1e-3), eps=t(0), min_lr=t(0)))
    good(f"steplr_gamma_{t.__name__}", lambda t=t: optim.StepLR(sgd(), 2, t(0.5)))
    good(f"cosine_eta_min_{t.__name__}", lambda t=t: optim.CosineAnnealingLR(sgd(), 3, t(0.001)))
for t in SCALAR_INTS:
    good(f"steplr_step_size_{t.__name__}", lambda t=t: optim.StepLR(sgd(), t(3)))
    good(f"plateau_patience_{t.__name__}", lambda t=t: RP(sgd(), patience=t(2), cooldown=t(1)))
good("plateau_step_0d_and_1_element", lambda: [RP(sgd()).step(v) for v in (np.array(0.5), np.array([0.5]), 3)])


def _load_sched(make, **state):
    s = make(sgd())
    s.load_state_dict({**s.state_dict(), **state})


bad(
    "steplr_load_step_size_0",
    lambda: _load_sched(lambda o: optim.StepLR(o, 2), step_size=0),
    ns.ConfigError,
    "step_size",
    "0",
)
bad("steplr_load_unknown_key", lambda: _load_sched(lambda o: optim.StepLR(o, 2), size=2), ns.ConfigError, "'size'")
bad("steplr_load_not_dict", lambda: optim.StepLR(sgd(), 2).load_state_dict([1]), ns.ConfigError, "state_dict", "list")
bad("plateau_load_factor", lambda: _load_sched(RP, factor=2.0), ns.ConfigError, "factor", "2.0")
bad("plateau_load_best_str", lambda: _load_sched(RP, best="low"), ns.ConfigError, "best", "'low'")
bad(
    "exponential_load_lrs",
    lambda: _load_sched(lambda o: optim.ExponentialLR(o, 0.9), base_lrs=[-1.0]),
    ns.ConfigError,
    "base_lrs[0]",
    "-1.0",
)
bad(
    "cosine_load_last_epoch",
    lambda: _load_sched(lambda o: optim.CosineAnnealingLR(o, 3), last_epoch=-5),
    ns.ConfigError,
    "last_epoch",
    "-5",
)


# === stopping ==========================================================================================

ES = ns.EarlyStopping
for kwargs, words in (
    ({"min_delta": math.inf}, ("min_delta", "inf")),
    ({"min_delta": math.nan}, ("min_delta", "nan")),
    ({"min_delta": -0.1}, ("min_delta", "-0.1")),
    ({"min_delta": "0"}, ("min_delta", "'0'")),
    ({"patience": -1}, ("patience", "-1")),
    ({"patience": 2.5}, ("patience", "2.5")),
    ({"patience": True}, ("patience", "True")),
    ({"patience": "3"}, ("patience", "'3'")),
    ({"monitor": "acc"}, ("monitor", "'acc'")),
    ({"monitor": np.array(["loss"])}, ("monitor", "array(['loss']")),
    ({"restore_best_weights": "yes"}, ("restore_best_weights", "'yes'")),
    ({"restore_best_weights": 1}, ("restore_best_weights", "1 (int)")),
):
    bad(
        f"early_stopping_{'_'.join(f'{k}={v}' for k, v in kwargs.items())}",
        lambda k=kwargs: ES(**k),
        ns.ConfigError,
        *words,
    )
bad("nonfinite_guard_restore_str", lambda: ns.NonFiniteGuard("no"), ns.ConfigError, "restore", "'no'")
for t in SCALAR_INTS:
    good(f"early_stopping_patience_{t.__name__}", lambda t=t: ES(patience=t(3)))
for t in SCALAR_FLOATS:
    good(f"early_stopping_min_delta_{t.__name__}", lambda t=t: ES(min_delta=t(0.01)))
good("early_stopping_numpy_bool", lambda: (ES(restore_best_weights=np.bool_(True)), ns.NonFiniteGuard(np.bool_(False))))


# === gradcheck =========================================================================================

L = ns.Linear(2, 1, rng=0)
bad("check_module_lambda", lambda: ns.check_module(lambda x: x, X), ns.ConfigError, "module", "function")
bad("check_module_str_module", lambda: ns.check_module("Linear", X), ns.ConfigError, "module", "'Linear'")
bad("check_module_str_x", lambda: ns.check_module(L, "x"), ns.DTypeError, "x must hold real", "<U1")
bad(
    "check_module_complex_x",
    lambda: ns.check_module(L, X.astype(complex)),
    ns.DTypeError,
    "x must hold real",
    "complex128",
)
bad("check_module_object_x", lambda: ns.check_module(L, X.astype(object)), ns.DTypeError, "x must hold real", "object")
bad("check_module_ragged_x", lambda: ns.check_module(L, [[1.0], [1.0, 2.0]]), ns.DTypeError, "x must be an array")
bad(
    "check_module_nan_x", lambda: ns.check_module(L, np.full((2, 2), np.nan)), ns.NonFiniteError, "x holds 4 non-finite"
)
bad(
    "check_module_inf_x",
    lambda: ns.check_module(L, np.array([[1.0, np.inf]])),
    ns.NonFiniteError,
    "x holds 1 non-finite",
)
bad(
    "check_module_3d_x", lambda: ns.check_module(L, np.ones((2, 2, 2))), ns.ShapeError, "x of shape (N, 2)", "(2, 2, 2)"
)
bad("check_module_empty_x", lambda: ns.check_module(L, np.ones((0, 2))), ns.ShapeError, "empty batch", "(0, 2)")
bad("check_module_0d_x", lambda: ns.check_module(L, np.float64(1.0)), ns.ShapeError, "x of shape (N, 2)", "()")
for kwargs, words in (
    ({"probes": 0}, ("probes", "0")),
    ({"probes": 2.5}, ("probes", "2.5")),
    ({"probes": True}, ("probes", "True")),
    ({"rtol": -1}, ("rtol", "-1")),
    ({"atol": math.nan}, ("atol", "nan")),
    ({"safety": 0}, ("safety", "0")),
    ({"fast": "yes"}, ("fast", "'yes'")),
    ({"richardson": 1}, ("richardson", "1 (int)")),
    ({"allow_unverified": "no"}, ("allow_unverified", "'no'")),
    ({"dtype": "banana"}, ("dtype", "'banana'")),
    ({"dtype": np.float16}, ("float32 or float64", "float16")),
    ({"dtype": complex}, ("float32 or float64", "complex128")),
    ({"rng": "seed"}, ("rng", "'seed'")),
):
    bad(
        f"check_module_{'_'.join(f'{k}={v}' for k, v in kwargs.items())}",
        lambda k=kwargs: ns.check_module(L, X, **k),
        ns.ConfigError,
        *words,
    )
bad("check_loss_not_loss", lambda: ns.check_loss(lambda p, t: 0.0, X, X), ns.ConfigError, "Loss", "function")
bad(
    "check_loss_complex_pred",
    lambda: ns.check_loss(ns.MSELoss(), X.astype(complex), X),
    ns.DTypeError,
    "pred",
    "complex128",
)
bad(
    "check_loss_str_target",
    lambda: ns.check_loss(ns.MSELoss(), X, np.full((8, 2), "a")),
    ns.DTypeError,
    "target",
    "<U1",
)
bad("check_loss_shapes", lambda: ns.check_loss(ns.MSELoss(), X, Y), ns.ShapeError, "pred has shape (8, 2)", "(8, 1)")
bad("check_model_str_model", lambda: ns.check_model("net", ns.MSELoss(), X, Y), ns.ConfigError, "model", "'net'")
bad("check_model_str_loss", lambda: ns.check_model(net(), "mse", X, Y), ns.ConfigError, "loss", "str")
bad("check_model_rows", lambda: ns.check_model(net(), ns.MSELoss(), X, Y[:3]), ns.ShapeError, "x has 8 rows", "y has 3")
bad("check_model_nan_y", lambda: ns.check_model(net(), ns.MSELoss(), X, Y * np.nan), ns.NonFiniteError, "y holds 8")
bad("numerical_gradient_not_function", lambda: ns.numerical_gradient(3, X), ns.ConfigError, "f must be", "int")
bad("numerical_gradient_step_negative", lambda: ns.numerical_gradient(np.sum, X, step=-1), ns.ConfigError, "step", "-1")
bad("numerical_gradient_step_str", lambda: ns.numerical_gradient(np.sum, X, step="a"), ns.ConfigError, "step", "'a'")
bad(
    "numerical_gradient_step_shape",
    lambda: ns.numerical_gradient(np.sum, X, step=np.ones(3)),
    ns.ConfigError,
    "step",
    "(3,)",
)
bad(
    "numerical_gradient_complex_x",
    lambda: ns.numerical_gradient(np.sum, X.astype(complex)),
    ns.DTypeError,
    "x",
    "complex128",
)
bad(
    "numerical_gradient_vector_f",
    lambda: ns.numerical_gradient(lambda v: v, X),
    ns.ConfigError,
    "f must return a scalar",
    "(8, 2)",
)
bad("numerical_gradient_dtype", lambda: ns.numerical_gradient(np.sum, X, dtype="float16"), ns.ConfigError, "float16")
good(
    "check_module_numpy_options",
    lambda: ns.check_module(L, X, probes=np.int64(2), rtol=np.float32(1e-5), fast=np.bool_(True)),
)
good("check_module_read_only_x", lambda: ns.check_module(L, read_only(X)))
good("check_module_strided_x", lambda: ns.check_module(L, strided(X)))
good("check_module_int_x", lambda: ns.check_module(L, np.arange(6).reshape(3, 2)))
good("check_loss_float16", lambda: ns.check_loss(ns.MSELoss(), X.astype(np.float16), Y.repeat(2, axis=1)))


# === architecture ======================================================================================

A = architecture
bad("describe_function", lambda: A.describe(lambda x: x), ns.SerializationError, "function", "register_module")
bad(
    "describe_unregistered",
    lambda: A.describe(WithParameter()),
    ns.SerializationError,
    "WithParameter",
    "register_module",
)
bad("build_empty", lambda: A.build({}, init.zeros), ns.SerializationError, "architecture entry", "{}")
bad("build_int", lambda: A.build(3, init.zeros), ns.SerializationError, "architecture entry", "3")
bad(
    "build_unknown_type",
    lambda: A.build({"type": "os.system", "config": {}}, init.zeros),
    ns.SerializationError,
    "'os.system'",
)
bad(
    "build_bad_config",
    lambda: A.build({"type": "Linear", "config": {"in_features": -1, "out_features": 2}}, init.zeros),
    ns.SerializationError,
    "in_features",
    "-1",
)
bad(
    "build_children_int",
    lambda: A.build({"type": "Sequential", "config": {}, "children": 3}, init.zeros),
    ns.SerializationError,
    "'children': 3",
)
bad(
    "build_too_large",
    lambda: A.build(
        {"type": "Linear", "config": {"in_features": 10**6, "out_features": 10**6, "bias": True, "dtype": "float64"}},
        A.WeightBudget(10),
    ),
    ns.SerializationError,
    "more weights",
)


def _self_containing():
    seq = ns.Sequential(ns.Linear(2, 2))
    seq.layers.append(seq)
    return seq


bad(
    "describe_self_containing",
    lambda: A.describe(_self_containing()),
    ns.SerializationError,
    "Sequential contains itself",
)
bad(
    "save_self_containing", lambda: ns.save(TMP / "m.npz", _self_containing()), ns.SerializationError, "contains itself"
)
bad("register_int", lambda: A.register_module(3), ns.SerializationError, "Module subclass", "3")
bad("register_builtin_type", lambda: A.register_module(int), ns.SerializationError, "Module subclass", "int")
bad(
    "register_bad_get_config",
    lambda: A.register_module(WithParameter, 3),
    ns.SerializationError,
    "get_config",
    "3 (int)",
)


# === interop ===========================================================================================

FT = interop.from_torch_state_dict
LIN = ns.Linear(2, 3, rng=0)


def sd(weight=None, bias=None, **more):
    return {
        "weight": np.ones((3, 2)) if weight is None else weight,
        "bias": np.ones(3) if bias is None else bias,
        **more,
    }


bad("from_torch_not_mapping", lambda: FT(LIN, 3), ns.ConfigError, "state_dict must be a mapping", "int")
bad("from_torch_model_int", lambda: FT(3, {}), ns.ConfigError, "model", "3 (int)")
bad("to_torch_model_str", lambda: interop.to_torch_state_dict("net"), ns.ConfigError, "model", "'net'")
bad(
    "to_torch_custom_parameter",
    lambda: interop.to_torch_state_dict(ns.Sequential(WithParameter())),
    ns.ConfigError,
    "'0'",
    "WithParameter",
)
bad("from_torch_missing", lambda: FT(LIN, {"weight": np.ones((3, 2))}), ns.ConfigError, "missing ['bias']")
bad("from_torch_unexpected", lambda: FT(LIN, sd(extra=np.ones(1))), ns.ConfigError, "unexpected ['extra']")
bad("from_torch_transposed", lambda: FT(LIN, sd(weight=np.ones((2, 3)))), ns.ShapeError, "'weight'", "(2, 3)", "(3, 2)")
bad("from_torch_0d", lambda: FT(LIN, sd(bias=np.float64(1.0))), ns.ShapeError, "'bias'", "shape ()")
bad("from_torch_complex", lambda: FT(LIN, sd(weight=np.ones((3, 2), complex))), ns.DTypeError, "'weight'", "complex128")
bad("from_torch_object", lambda: FT(LIN, sd(bias=np.ones(3, object))), ns.DTypeError, "'bias'", "object")
bad("from_torch_str", lambda: FT(LIN, sd(bias=np.full(3, "a"))), ns.DTypeError, "'bias'", "<U1")
bad(
    "from_torch_nan", lambda: FT(LIN, sd(weight=np.full((3, 2), np.nan))), ns.NonFiniteError, "'weight'", "6 non-finite"
)
bad("from_torch_inf", lambda: FT(LIN, sd(bias=np.array([0, np.inf, 0]))), ns.NonFiniteError, "'bias'", "1 non-finite")
good("from_torch_lists", lambda: FT(ns.Linear(2, 3), sd(weight=[[1, 2]] * 3, bias=[0, 1, 2])))
good("from_torch_float16", lambda: FT(ns.Linear(2, 3), sd(weight=np.ones((3, 2), np.float16))))
good("from_torch_read_only", lambda: FT(ns.Linear(2, 3), sd(weight=read_only(np.ones((3, 2))))))
good("from_torch_strided", lambda: FT(ns.Linear(2, 3), sd(weight=strided(np.ones((3, 2))))))


# === core: layers ======================================================================================

for value, shown in ((0, "0"), (-1, "-1"), (2.5, "2.5"), ("3", "'3'"), (True, "True"), (None, "None"), ([3], "[3]")):
    bad(f"linear_in_features_{shown}", lambda v=value: ns.Linear(v, 2), ns.ConfigError, "in_features", shown)
    bad(f"linear_out_features_{shown}", lambda v=value: ns.Linear(2, v), ns.ConfigError, "out_features", shown)
bad("linear_float64_size", lambda: ns.Linear(np.float64(3.0), 2), ns.ConfigError, "in_features", "3.0")
bad("linear_dtype_banana", lambda: ns.Linear(3, 2, dtype="banana"), ns.ConfigError, "dtype", "banana")
bad("linear_dtype_float16", lambda: ns.Linear(3, 2, dtype="float16"), ns.ConfigError, "dtype", "float16")
bad("linear_dtype_complex", lambda: ns.Linear(3, 2, dtype=complex), ns.ConfigError, "dtype", "complex128")
bad("linear_dtype_int", lambda: ns.Linear(3, 2, dtype=int), ns.ConfigError, "dtype", "int64")
bad("linear_backend_tpu", lambda: ns.Linear(3, 2, backend="tpu"), ns.ConfigError, "backend", "'tpu'")
bad("linear_bias_str", lambda: ns.Linear(3, 2, bias="yes"), ns.ConfigError, "bias", "'yes'")
bad(
    "linear_input_grad_str",
    lambda: ns.Linear(3, 2, input_grad="no"),
    ns.ConfigError,
    "input_grad",
    "'no'",
)
for t in SCALAR_INTS:
    good(f"linear_sizes_{t.__name__}", lambda t=t: ns.Linear(t(3), t(2)))
    good(f"mlp_sizes_{t.__name__}", lambda t=t: ns.MLP([t(2), t(3), t(1)]))
good(
    "linear_dtype_spellings", lambda: [ns.Linear(2, 2, dtype=d) for d in ("float32", np.float64, "f8", np.dtype("f4"))]
)
good("mlp_sizes_array_and_tuple", lambda: (ns.MLP(np.array([2, 3, 1])), ns.MLP((2, 3, 1))))

layer = ns.Linear(2, 3, rng=0)
for x, error, words in (
    (np.ones((2, 2), complex), ns.DTypeError, ("x must hold real", "complex128")),
    (np.full((1, 2), "a"), ns.DTypeError, ("x must hold real", "<U1")),
    (np.ones((2, 2), object), ns.DTypeError, ("x must hold real", "object")),
    (np.ones(2), ns.ShapeError, ("(N, 2)", "(2,)")),
    (np.ones((2, 2, 2)), ns.ShapeError, ("(N, 2)", "(2, 2, 2)")),
    (np.ones((0, 2)), ns.ShapeError, ("empty batch", "(0, 2)")),
    (np.float64(1.0), ns.ShapeError, ("(N, 2)", "shape ()")),
    (np.ones((2, 3)), ns.ShapeError, ("(N, 2)", "(2, 3)")),
    ("x", ns.DTypeError, ("x must hold real", "<U1")),
):
    kind = getattr(x, "dtype", type(x).__name__)
    bad(f"linear_forward_{kind}_{np.shape(x)}", lambda x=x: layer(x), error, *words)
for name, x in (
    ("float16", np.ones((2, 2), np.float16)),
    ("float32", np.ones((2, 2), np.float32)),
    ("int8", np.ones((2, 2), np.int8)),
    ("uint64", np.ones((2, 2), np.uint64)),
    ("bool", np.ones((2, 2), bool)),
    ("list", [[1.0, 2.0]]),
    ("read_only", read_only(np.ones((2, 2)))),
    ("strided", strided(np.ones((2, 2)))),
):
    good(f"linear_forward_{name}", lambda x=x: ns.Linear(2, 3, rng=0)(x))
bad("linear_backward_first", lambda: ns.Linear(2, 3).backward(np.ones((4, 3))), ns.CallOrderError, "before forward")
bad(
    "linear_backward_complex",
    lambda: forward_then(ns.Linear(2, 3), X[:4], lambda m: m.backward(np.ones((4, 3), complex))),
    ns.DTypeError,
    "grad_out",
    "complex128",
)
bad(
    "linear_backward_shape",
    lambda: forward_then(ns.Linear(2, 3), X[:4], lambda m: m.backward(np.ones((4, 2)))),
    ns.ShapeError,
    "grad_out of shape (4, 3)",
    "(4, 2)",
)

bad("mlp_int", lambda: ns.MLP(5), ns.ConfigError, "sizes", "5")
bad("mlp_none", lambda: ns.MLP(None), ns.ConfigError, "sizes", "None")
bad("mlp_set", lambda: ns.MLP({3, 4}), ns.ConfigError, "sizes", "set")
bad("mlp_empty", lambda: ns.MLP([]), ns.ConfigError, "sizes", "[]")
bad("mlp_one", lambda: ns.MLP([3]), ns.ConfigError, "sizes", "[3]")
bad("mlp_zero_width", lambda: ns.MLP([2, 0, 1]), ns.ConfigError, "out_features", "0")
bad("mlp_str_width", lambda: ns.MLP([2, "a", 1]), ns.ConfigError, "out_features", "'a'")
bad("mlp_float_size", lambda: ns.MLP([2.5, 1]), ns.ConfigError, "in_features", "2.5")
bad("mlp_activation_int", lambda: ns.MLP([2, 3, 1], activation=3), ns.ConfigError, "activation", "3")
bad(
    "mlp_final_activation",
    lambda: ns.MLP([2, 3, 1], final_activation="soft"),
    ns.ConfigError,
    "final_activation",
    "'soft'",
)
bad("sequential_int", lambda: ns.Sequential(3), ns.ConfigError, "layer 0", "int")
bad("sequential_class", lambda: ns.Sequential(ns.ReLU), ns.ConfigError, "layer 0", "type")
bad("make_activation_unknown", lambda: ns.activations.make_activation("gelu"), ns.ConfigError, "activation", "'gelu'")


# === core: activations =================================================================================

for cls in WITH_STATE:
    bad(
        f"{cls.__name__}_backward_first",
        lambda c=cls: c().backward(np.ones((2, 2))),
        ns.CallOrderError,
        "before",
    )
for cls in ACTIVATION_CLASSES:
    n = cls.__name__
    bad(f"{n}_str_input", lambda c=cls: c()(np.array([["a", "b"]])), ns.DTypeError, "x", "<U1")
    bad(f"{n}_complex_input", lambda c=cls: c()(np.array([[0.5 + 2j]])), ns.DTypeError, "x", "complex128")
    bad(f"{n}_object_input", lambda c=cls: c()(np.ones((2, 2), object)), ns.DTypeError, "x", "object")
    bad(
        f"{n}_backward_wrong_shape",
        lambda c=cls: forward_then(c(), np.ones((2, 2)), lambda m: m.backward(np.ones((3, 3)))),
        ns.ShapeError,
        "grad_out",
        "(3, 3)",
    )
    for name, x in (
        ("float32", np.ones((2, 2), np.float32)),
        ("read_only", read_only(np.ones((2, 2)))),
        ("strided", strided(np.ones((2, 2)))),
    ):
        good(f"{n}_{name}_input", lambda c=cls, x=x: c()(x))
    good(f"{n}_bool_input", lambda c=cls: c()(np.ones((2, 2), bool)))
bad("leaky_relu_nan", lambda: ns.LeakyReLU(math.nan), ns.ConfigError, "negative_slope", "nan")
bad("leaky_relu_inf", lambda: ns.LeakyReLU(math.inf), ns.ConfigError, "negative_slope", "inf")
bad("leaky_relu_str", lambda: ns.LeakyReLU("a"), ns.ConfigError, "negative_slope", "'a'")
bad("leaky_relu_bool", lambda: ns.LeakyReLU(True), ns.ConfigError, "negative_slope", "True")
good("leaky_relu_float32", lambda: ns.LeakyReLU(np.float32(0.1)))
good("leaky_relu_float64", lambda: ns.LeakyReLU(np.float64(0.1)))
bad("log_of_negative", lambda: ns.Log()(np.array([[-1.0, 2.0]])), ns.DomainError, "non-positive", "-1.0")


# === core: losses ======================================================================================

bad("huber_delta_str", lambda: ns.HuberLoss(delta="1"), ns.ConfigError, "delta", "'1'")
bad("huber_delta_none", lambda: ns.HuberLoss(delta=None), ns.ConfigError, "delta", "None")
bad("huber_delta_inf", lambda: ns.HuberLoss(delta=math.inf), ns.ConfigError, "delta", "inf")
bad("huber_delta_bool", lambda: ns.HuberLoss(delta=True), ns.ConfigError, "delta", "True")
bad("huber_delta_nan", lambda: ns.HuberLoss(delta=math.nan), ns.ConfigError, "delta", "nan")
bad("huber_delta_zero", lambda: ns.HuberLoss(delta=0), ns.ConfigError, "delta", "0")
bad("loss_reduction_int", lambda: ns.MSELoss(reduction=3), ns.ConfigError, "reduction", "3")
bad("loss_broadcast_str", lambda: ns.MSELoss(broadcast="no"), ns.ConfigError, "broadcast", "'no'")
for loss_cls in (ns.MSELoss, ns.L1Loss, ns.HuberLoss):
    n = loss_cls.__name__
    bad(
        f"{n}_complex_pred",
        lambda c=loss_cls: c()(np.ones((2, 1), complex), np.ones((2, 1))),
        ns.DTypeError,
        "pred",
        "complex128",
    )
    bad(
        f"{n}_object_target",
        lambda c=loss_cls: c()(np.ones((2, 1)), np.ones((2, 1), object)),
        ns.DTypeError,
        "target",
        "object",
    )
    bad(f"{n}_str_pred", lambda c=loss_cls: c()("a", "b"), ns.DTypeError, "pred", "<U1")
    bad(f"{n}_flat_target", lambda c=loss_cls: c()(np.ones((4, 1)), np.ones(4)), ns.ShapeError, "(4, 1)", "(4,)")
    bad(f"{n}_empty", lambda c=loss_cls: c()(np.ones((0, 1)), np.ones((0, 1))), ns.ShapeError, "empty batch", "(0, 1)")
    bad(f"{n}_backward_first", lambda c=loss_cls: c().backward(), ns.CallOrderError, n, "before the loss")
    good(f"{n}_float16_and_bool", lambda c=loss_cls: c()(np.ones((2, 1), np.float16), np.ones((2, 1), bool)))
    good(f"{n}_read_only_strided", lambda c=loss_cls: c()(read_only(np.ones((2, 2))), strided(np.ones((2, 2)))))
    good(f"{n}_numpy_scalars", lambda c=loss_cls: c()(np.float32(1.0), np.float64(2.0)))
good("huber_delta_numpy", lambda: (ns.HuberLoss(delta=np.float32(0.5)), ns.HuberLoss(delta=np.int64(2))))


def _loss_then(then):
    loss = ns.MSELoss(reduction="none")
    loss(np.ones((2, 1)), np.zeros((2, 1)))
    return then(loss)


bad(
    "loss_backward_str",
    lambda: _loss_then(lambda l: l.backward("a")),
    ns.DTypeError,
    "grad_output",
    "'a'",
)
bad(
    "loss_backward_complex",
    lambda: _loss_then(lambda l: l.backward(1 + 2j)),
    ns.DTypeError,
    "grad_output",
    "(1+2j)",
)
bad(
    "loss_backward_shape",
    lambda: _loss_then(lambda l: l.backward(np.ones((3, 3)))),
    ns.ShapeError,
    "grad_output",
    "(3, 3)",
)


# === core: optimizers ==================================================================================

for value, shown in (
    (0, "0"),
    (-0.1, "-0.1"),
    (math.nan, "nan"),
    (math.inf, "inf"),
    ("0.1", "'0.1'"),
    (None, "None"),
    (True, "True"),
):
    bad(f"sgd_lr_{shown}", lambda v=value: sgd(lr=v), ns.ConfigError, "lr", shown)
    bad(f"adam_lr_{shown}", lambda v=value: optim.Adam(net().parameters(), lr=v), ns.ConfigError, "lr", shown)
bad("lr_setter_negative", lambda: setattr(sgd(), "lr", -1.0), ns.ConfigError, "lr", "-1.0")
bad("sgd_momentum_negative", lambda: sgd(momentum=-1), ns.ConfigError, "momentum", "-1")
bad("sgd_momentum_str", lambda: sgd(momentum="a"), ns.ConfigError, "momentum", "'a'")
bad("sgd_weight_decay_negative", lambda: sgd(weight_decay=-1), ns.ConfigError, "weight_decay", "-1")
bad("sgd_nesterov_without_momentum", lambda: sgd(nesterov=True), ns.ConfigError, "nesterov", "momentum=0.0")
bad("sgd_nesterov_str", lambda: sgd(nesterov="yes", momentum=0.9), ns.ConfigError, "nesterov", "'yes'")
bad("adam_betas_float", lambda: optim.Adam(net().parameters(), betas=0.9), ns.ConfigError, "betas", "0.9")
bad("adam_betas_single", lambda: optim.Adam(net().parameters(), betas=(0.9,)), ns.ConfigError, "betas", "(0.9,)")
bad("adam_beta2_one", lambda: optim.Adam(net().parameters(), betas=(0.9, 1.0)), ns.ConfigError, "betas[1]", "1.0")
bad("adam_eps_negative", lambda: optim.Adam(net().parameters(), eps=-1), ns.ConfigError, "eps", "-1")
bad("adam_semantics", lambda: optim.Adam(net().parameters(), semantics="tf"), ns.ConfigError, "semantics", "'tf'")
bad(
    "adam_amsgrad_str",
    lambda: optim.Adam(net().parameters(), amsgrad="x"),
    ns.ConfigError,
    "amsgrad",
    "'x'",
)
bad("rmsprop_alpha", lambda: optim.RMSprop(net().parameters(), alpha=2), ns.ConfigError, "alpha", "2")
bad(
    "rmsprop_centered_str",
    lambda: optim.RMSprop(net().parameters(), centered="x"),
    ns.ConfigError,
    "centered",
    "'x'",
)
bad("optimizer_no_params", lambda: optim.SGD([], lr=0.1), ns.ConfigError, "no parameters")
bad("optimizer_arrays", lambda: optim.SGD([np.ones(3)], lr=0.1), ns.ConfigError, "params[0]", "ndarray")
bad("optimizer_one_parameter", lambda: optim.SGD(net().parameters()[0], lr=0.1), ns.ConfigError, "one Parameter")
bad(
    "optimizer_method_not_called",
    lambda: optim.Adam(net().parameters),
    ns.ConfigError,
    "params",
    "net.parameters()",
)
bad("optimizer_group_without_params", lambda: optim.SGD([{"lr": 0.1}], lr=0.1), ns.ConfigError, "params")
bad(
    "optimizer_group_params_int",
    lambda: optim.SGD([{"params": 3}], lr=0.1),
    ns.ConfigError,
    "params",
    "3",
)
bad(
    "optimizer_group_unknown_key",
    lambda: optim.SGD([{"params": net().parameters(), "lrr": 0.1}], lr=0.1),
    ns.ConfigError,
    "'lrr'",
)
bad("optimizer_state_junk", lambda: sgd().load_state_dict(3), ns.ConfigError, "state_dict", "int")
for t in SCALAR_FLOATS:
    good(f"sgd_lr_{t.__name__}", lambda t=t: sgd(lr=t(0.01), momentum=t(0.9)))
    good(
        f"adam_betas_{t.__name__}",
        lambda t=t: optim.Adam(net().parameters(), lr=t(0.01), betas=(t(0.5), t(0.75))),
    )
good("sgd_lr_numpy_int", lambda: sgd(lr=np.int64(1)))
good("lr_setter_float32", lambda: setattr(sgd(), "lr", np.float32(0.1)))
good("optimizer_from_module", lambda: optim.Adam(net()))


# === core: fit =========================================================================================

bad("fit_callbacks_none", lambda: fit(callbacks=None), ns.ConfigError, "callbacks", "None")
bad(
    "fit_callbacks_not_list",
    lambda: fit(callbacks=ns.EarlyStopping()),
    ns.ConfigError,
    "callbacks",
    "EarlyStopping",
)
bad(
    "fit_optimizer_of_another_model",
    lambda: fit(optimizer=sgd(net())),
    ns.ConfigError,
    "optimizer",
    "none of the model's parameters",
)
bad("fit_guard_str", lambda: fit(guard="no"), ns.ConfigError, "guard", "'no'")
bad("fit_progress_str", lambda: fit(progress="x"), ns.ConfigError, "progress", "'x'")
bad("fit_shuffle_str", lambda: fit(shuffle="no"), ns.ConfigError, "shuffle", "'no'")
bad("fit_drop_last_str", lambda: fit(drop_last="x"), ns.ConfigError, "drop_last", "'x'")
for value, shown in ((0, "0"), (-1, "-1"), (2.0, "2.0"), (True, "True"), ("2", "'2'")):
    bad(f"fit_epochs_{shown}", lambda v=value: fit(epochs=v), ns.ConfigError, "epochs", shown)
    bad(f"fit_batch_size_{shown}", lambda v=value: fit(batch_size=v), ns.ConfigError, "batch_size", shown)
for name, x, error, words in (
    ("complex", X.astype(complex), ns.DTypeError, ("X must hold real", "complex128")),
    ("object", X.astype(object), ns.DTypeError, ("X must hold real", "object")),
    ("str", np.full((8, 2), "a"), ns.DTypeError, ("X must hold real", "<U1")),
    ("nan", np.where(np.eye(8, 2) > 0, np.nan, 1.0), ns.NonFiniteError, ("X holds 2 non-finite", "index (0, 0)")),
    ("inf", np.full((8, 2), np.inf), ns.NonFiniteError, ("X holds 16", "inf")),
    ("0d", np.float64(1.0), ns.ShapeError, ("X must be an array", "()")),
    ("3d", np.ones((8, 2, 1)), ns.ShapeError, ("(N, 2)", "(4, 2, 1)")),
    ("rows", np.ones((5, 2)), ns.ShapeError, ("X has 5", "y has 8")),
):
    bad(f"fit_X_{name}", lambda x=x: fit(X=x), error, *words)
bad("fit_X_and_y_empty", lambda: fit(X=X[:0], y=Y[:0]), ns.ShapeError, "empty", "(0, 2)")
bad("fit_y_complex", lambda: fit(y=Y.astype(complex)), ns.DTypeError, "y must hold real", "complex128")
bad("fit_validation_triple", lambda: fit(validation_data=(X, Y, Y)), ns.ConfigError, "validation_data", "length 3")
bad(
    "fit_validation_none_pair", lambda: fit(validation_data=(None, None)), ns.DTypeError, "validation_data[0]", "object"
)
bad("fit_model_str", lambda: ns.fit("net", X, Y, ns.MSELoss(), sgd(), 1, 4), ns.ConfigError, "model", "str")
bad("fit_loss_str", lambda: fit(loss="mse"), ns.ConfigError, "loss", "str")
bad("fit_rng_negative", lambda: fit(rng=-1), ns.ConfigError, "rng", "-1")
for t in SCALAR_INTS:
    good(f"fit_sizes_{t.__name__}", lambda t=t: fit(epochs=t(1), batch_size=t(3)))
for dtype in (np.float16, np.float32, np.int16, bool):
    good(f"fit_X_{np.dtype(dtype).name}", lambda dtype=dtype: fit(X=X.astype(dtype), y=Y.astype(dtype)))
good("fit_read_only_strided", lambda: fit(X=read_only(X), y=strided(Y)))
good("fit_lists", lambda: fit(X=X.tolist(), y=Y.tolist()))
good(
    "fit_callbacks_tuple_and_numpy_flags",
    lambda: fit(callbacks=(ns.EarlyStopping(patience=np.int8(1)),), shuffle=np.bool_(False)),
)


# === the tests ===========================================================================================


def _params(rows):
    return [pytest.param(row, id=row.id, marks=() if row.mark is None else row.mark) for row in rows]


@pytest.mark.parametrize("row", _params(BAD))
def test_bad_call_is_a_clear_error(row):
    with pytest.raises(ns.NNScratchError) as info:
        row.call()
    message = str(info.value)
    assert isinstance(info.value, row.error), f"{type(info.value).__name__}: {message}"
    missing = [w for w in row.words if w not in message]
    assert not missing, f"message lacks {missing}: {message}"


@pytest.mark.parametrize("row", _params(GOOD))
def test_reasonable_call_works(row):
    row.call()


def test_table_size_and_unique_ids():
    ids = [row.id for row in BAD + GOOD]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert len(BAD) + len(GOOD) >= 300
    assert all(row.words for row in BAD)  # every bad row says what its message must contain


# === Hypothesis: drawn bad values and drawn NumPy scalars ================================================


def _number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


# What the constructors accept; everything else must be refused.
DOMAINS: dict[str, Callable[[Any], bool]] = {
    "positive_int": lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1,
    "count": lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0,
    "positive": lambda v: _number(v) and math.isfinite(v) and v > 0,
    "non_negative": lambda v: _number(v) and math.isfinite(v) and v >= 0,
    "unit": lambda v: _number(v) and 0 < v < 1,
    "finite": lambda v: _number(v) and math.isfinite(v),
    "std": lambda v: _number(v) and v > 0 and math.isfinite(10 * float(v)),  # draws within float64's range
}

# (name the message must contain, build(value), domain, the range good values are drawn from)
NUMERIC_PARAMETERS: list[tuple[str, Callable[[Any], Any], str, tuple[float, float]]] = [
    ("step_size", lambda v: optim.StepLR(sgd(), v), "positive_int", (1, 100)),
    ("gamma", lambda v: optim.StepLR(sgd(), 2, v), "positive", (1e-3, 10)),
    ("gamma", lambda v: optim.ExponentialLR(sgd(), v), "positive", (1e-3, 10)),
    ("T_max", lambda v: optim.CosineAnnealingLR(sgd(), v), "positive_int", (1, 100)),
    ("eta_min", lambda v: optim.CosineAnnealingLR(sgd(), 3, v), "non_negative", (0, 1)),
    ("factor", lambda v: RP(sgd(), factor=v), "unit", (0.01, 0.99)),
    ("patience", lambda v: RP(sgd(), patience=v), "count", (0, 100)),
    ("threshold", lambda v: RP(sgd(), threshold=v), "non_negative", (0, 1)),
    ("cooldown", lambda v: RP(sgd(), cooldown=v), "count", (0, 100)),
    ("eps", lambda v: RP(sgd(), eps=v), "non_negative", (0, 1)),
    ("patience", lambda v: ES(patience=v), "count", (0, 100)),
    ("min_delta", lambda v: ES(min_delta=v), "non_negative", (0, 10)),
    ("normal(std)", lambda v: init.normal(v), "std", (1e-6, 10)),
    ("normal(mean)", lambda v: init.normal(0.1, v), "finite", (-10, 10)),
    ("constant(value)", lambda v: init.constant(v), "finite", (-10, 10)),
    ("batch_size", lambda v: list(MB(X, Y, v)), "positive_int", (1, 20)),
    ("probes", lambda v: ns.check_module(L, X[:2], probes=v, fast=True), "positive_int", (1, 3)),
    ("in_features", lambda v: ns.Linear(v, 2), "positive_int", (1, 50)),
    ("epochs", lambda v: fit(epochs=v), "positive_int", (1, 2)),
]


def bad_values(domain):
    numbers = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**6), 0),
        st.sampled_from([math.nan, math.inf, -math.inf, -1, 0, 1, 0.5, 1e307, 2**70]),
    )
    others = st.one_of(
        st.text(max_size=3),
        st.none(),
        st.booleans(),
        st.complex_numbers(allow_nan=False, max_magnitude=10).filter(lambda c: c.imag != 0),
        st.lists(st.integers(0, 3), max_size=2),
        st.sampled_from([np.array([1.0, 2.0]), np.complex64(1j), object()]),
    )
    return st.one_of(numbers, others).filter(lambda v: not DOMAINS[domain](v))


@given(index=st.integers(0, len(NUMERIC_PARAMETERS) - 1), data=st.data())
def test_drawn_bad_numbers_are_refused_naming_the_argument(index, data):
    name, build, domain, _ = NUMERIC_PARAMETERS[index]
    value = data.draw(bad_values(domain))
    with pytest.raises(ns.NNScratchError) as info:
        build(value)
    assert name in str(info.value), str(info.value)


@given(index=st.integers(0, len(NUMERIC_PARAMETERS) - 1), data=st.data())
def test_drawn_numpy_scalars_are_accepted(index, data):
    _, build, domain, (low, high) = NUMERIC_PARAMETERS[index]
    if domain in ("positive_int", "count"):
        kind = data.draw(st.sampled_from(SCALAR_INTS))
        info = np.iinfo(kind)
        value = kind(data.draw(st.integers(max(int(low), int(info.min)), min(int(high), int(info.max)))))
    else:
        kind = data.draw(st.sampled_from(SCALAR_FLOATS))
        value = kind(data.draw(st.floats(low, high, allow_nan=False)))
        if not DOMAINS[domain](value):
            return  # rounding to float16 pushed it out of the domain (a tiny std became 0)
    build(value)


BAD_DTYPES = st.sampled_from([np.complex64, np.complex128, object, np.str_, np.bytes_, "datetime64[s]"])
ARRAY_TAKERS: list[tuple[str, Callable[[Any], Any]]] = [
    ("x", lambda a: S().fit(a)),
    ("x", lambda a: ns.Linear(a.shape[1], 2, rng=0)(a)),
    ("pred", lambda a: ns.MSELoss()(a, np.ones(a.shape))),
    ("target", lambda a: ns.L1Loss()(np.ones(a.shape), a)),
    ("X", lambda a: fit(X=a, y=np.ones((len(a), 1)), model=net((a.shape[1], 2, 1)))),
    ("x", lambda a: ns.check_module(ns.Linear(a.shape[1], 1, rng=0), a)),
    (
        "state_dict['weight']",
        lambda a: FT(ns.Linear(a.shape[0], a.shape[1]), {"weight": a.T, "bias": np.ones(a.shape[1])}),
    ),
]


@given(
    taker=st.integers(0, len(ARRAY_TAKERS) - 1),
    dtype=BAD_DTYPES,
    shape=st.tuples(st.integers(1, 5), st.integers(1, 4)),
)
def test_drawn_arrays_of_bad_dtypes_are_refused(taker, dtype, shape):
    name, take = ARRAY_TAKERS[taker]
    a = np.zeros(shape).astype(dtype)
    with pytest.raises(ns.DTypeError) as info:
        take(a)
    assert name in str(info.value) and str(a.dtype) in str(info.value), str(info.value)


@given(
    taker=st.integers(0, len(ARRAY_TAKERS) - 1),
    dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int32, np.uint16, np.uint64, bool]),
    shape=st.tuples(st.integers(1, 5), st.integers(1, 4)),
    layout=st.sampled_from(["plain", "read_only", "strided"]),
    data=st.data(),
)
def test_drawn_real_arrays_of_any_layout_are_accepted(taker, dtype, shape, layout, data):
    values = data.draw(st.lists(st.integers(0, 3), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    a = np.array(values).reshape(shape).astype(dtype)
    a = {"plain": lambda v: v, "read_only": read_only, "strided": strided}[layout](a)
    ARRAY_TAKERS[taker][1](a)
