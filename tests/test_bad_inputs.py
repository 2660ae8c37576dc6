"""Every public entry point fed the wrong thing: each call must raise a documented nnscratch error
whose message names the argument, what was expected and what was given."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import data, optim
from nnscratch.interop import from_torch_state_dict

X, Y = np.ones((8, 2)), np.ones((8, 1))


class OtherBackend(np.ndarray):
    """Looks like a CuPy array to nnscratch's backend detection, so mixing is testable without a GPU."""


OtherBackend.__module__ = "cupy"


def net():
    return ns.MLP([2, 3, 1], rng=0)


def sgd(lr=0.1):
    return optim.SGD(net().parameters(), lr=lr)


def fit(X=X, y=Y, model=None, loss=None, epochs=1, batch_size=4, **kwargs):
    model = model or net()
    opt = kwargs.pop("optimizer", None) or optim.SGD(model.parameters(), lr=0.1)
    return ns.fit(
        model, X, y, loss or ns.MSELoss(), opt, epochs=epochs, batch_size=batch_size, progress=False, **kwargs
    )


def backward_after_forward(grad):
    layer = ns.Linear(2, 3, rng=0)
    layer(np.ones((4, 2)))
    return layer.backward(grad)


def with_nan(a, index):
    a = a.copy()
    a[index] = np.nan
    return a


BAD_CALLS = [
    # layers and activations: construction
    ("linear_zero_width", lambda: ns.Linear(0, 3), ns.ConfigError, "in_features.*positive integer.*0"),
    ("linear_float_width", lambda: ns.Linear(2.5, 3), ns.ConfigError, "in_features.*positive integer.*2.5"),
    ("linear_float16", lambda: ns.Linear(2, 3, dtype="float16"), ns.ConfigError, "float32 or float64.*float16"),
    ("linear_unknown_init", lambda: ns.Linear(2, 3, init="glorot_magic"), ns.ConfigError, "init.*glorot_magic"),
    ("mlp_one_size", lambda: ns.MLP([3]), ns.ConfigError, "at least an input and an output.*\\[3\\]"),
    (
        "mlp_unknown_activation",
        lambda: ns.MLP([2, 3, 1], activation="relux"),
        ns.ConfigError,
        "activation must be one of.*'relu'.*got 'relux'",
    ),
    (
        "mlp_unknown_final",
        lambda: ns.MLP([2, 3, 1], final_activation="soft"),
        ns.ConfigError,
        "final_activation.*got 'soft'",
    ),
    ("unknown_activation", lambda: ns.activations.make_activation("gelu"), ns.ConfigError, "activation.*'gelu'"),
    (
        "sequential_non_module",
        lambda: ns.Sequential(ns.Linear(2, 3), "relu"),
        ns.ConfigError,
        "layer 1 must be a Module.*str",
    ),
    ("leaky_slope_string", lambda: ns.LeakyReLU("a"), ns.ConfigError, "negative_slope.*number.*'a'"),
    # layers: forward and backward
    ("rank1_input", lambda: ns.Linear(1, 3)(np.ones(5)), ns.ShapeError, "\\(N, 1\\).*rank 1.*reshape\\(-1, 1\\)"),
    ("rank3_input", lambda: ns.Linear(2, 3)(np.ones((2, 2, 2))), ns.ShapeError, "\\(N, 2\\).*rank 3"),
    ("wrong_width_input", lambda: net()(np.ones((4, 3))), ns.ShapeError, "\\(N, 2\\).*3 features instead of 2"),
    ("empty_batch", lambda: net()(np.ones((0, 2))), ns.ShapeError, "empty batch.*\\(0, 2\\)"),
    ("complex_input", lambda: net()(np.ones((4, 2), complex)), ns.DTypeError, "real numbers.*complex128.*\\.real"),
    ("object_input", lambda: net()(np.array([[1, None]], dtype=object)), ns.DTypeError, "x must hold real.*object"),
    ("string_input", lambda: net()(np.array([["a", "b"]])), ns.DTypeError, "x must hold real.*<U1"),
    ("ragged_input", lambda: net()([[1.0], [1.0, 2.0]]), ns.DTypeError, "x must be an array of numbers"),
    (
        "mixed_backends_layer",
        lambda: net()(np.ones((4, 2)).view(OtherBackend)),
        ns.BackendError,
        "parameters on numpy but x is a cupy array.*to_backend",
    ),
    (
        "backward_before_forward",
        lambda: ns.Linear(2, 3).backward(np.ones((4, 3))),
        ns.CallOrderError,
        "backward\\(\\) called before forward",
    ),
    (
        "backward_of_loss_value",
        lambda: backward_after_forward(0.5),
        ns.ShapeError,
        "grad_out of shape \\(4, 3\\).*got float.*loss_fn.backward\\(\\)",
    ),
    (
        "backward_wrong_shape",
        lambda: backward_after_forward(np.ones((4, 2))),
        ns.ShapeError,
        "grad_out of shape \\(4, 3\\).*got \\(4, 2\\)",
    ),
    ("log_of_negative", lambda: ns.Log()(np.array([[-1.0, 2.0]])), ns.DomainError, "non-positive.*x > 0"),
    # losses
    ("unknown_reduction", lambda: ns.MSELoss(reduction="avg"), ns.ConfigError, "reduction must be one of.*'avg'"),
    ("huber_delta_zero", lambda: ns.HuberLoss(delta=0), ns.ConfigError, "delta must be positive.*0"),
    (
        "column_vs_flat_target",
        lambda: ns.MSELoss()(np.ones((4, 1)), np.ones(4)),
        ns.ShapeError,
        "\\(4, 1\\).*\\(4,\\).*broadcast.*target.reshape\\(-1, 1\\)",
    ),
    (
        "model_loss_width_mismatch",
        lambda: ns.L1Loss()(net()(np.ones((4, 2))), np.ones((4, 3))),
        ns.ShapeError,
        "pred has shape \\(4, 1\\) but target has shape \\(4, 3\\)",
    ),
    (
        "incompatible_shapes",
        lambda: ns.MSELoss()(np.ones((4, 2)), np.ones((4, 3))),
        ns.ShapeError,
        "\\(4, 2\\).*\\(4, 3\\).*must be equal",
    ),
    ("empty_loss", lambda: ns.MSELoss()(np.ones((0, 1)), np.ones((0, 1))), ns.ShapeError, "empty batch"),
    (
        "complex_target",
        lambda: ns.MSELoss()(np.ones((2, 1)), np.ones((2, 1), complex)),
        ns.DTypeError,
        "target must hold real.*complex",
    ),
    (
        "mixed_backends_loss",
        lambda: ns.MSELoss()(np.ones((4, 1)), np.ones((4, 1)).view(OtherBackend)),
        ns.BackendError,
        "two backends.*to_numpy",
    ),
    ("loss_backward_first", lambda: ns.MSELoss().backward(), ns.CallOrderError, "before the loss was computed"),
    # optimizers and schedulers
    ("lr_zero", lambda: sgd(0), ns.ConfigError, "lr must be a positive.*got 0.*leave them out"),
    ("lr_negative", lambda: sgd(-0.1), ns.ConfigError, "lr must be a positive.*-0.1"),
    ("lr_nan", lambda: optim.Adam(net().parameters(), lr=float("nan")), ns.ConfigError, "lr must be.*nan"),
    ("lr_setter_negative", lambda: setattr(sgd(), "lr", -1.0), ns.ConfigError, "lr must be a positive.*-1.0"),
    ("lr_string", lambda: sgd("0.1"), ns.ConfigError, "lr must be a positive.*'0.1'"),
    (
        "adam_beta_one",
        lambda: optim.Adam(net().parameters(), betas=(1.0, 0.9)),
        ns.ConfigError,
        "betas\\[0\\].*\\[0.0, 1.0\\).*1.0",
    ),
    (
        "adam_unknown_semantics",
        lambda: optim.Adam(net().parameters(), semantics="tf"),
        ns.ConfigError,
        "semantics must be one of.*'tf'",
    ),
    ("no_parameters", lambda: optim.SGD([], lr=0.1), ns.ConfigError, "no parameters"),
    (
        "params_not_parameters",
        lambda: optim.SGD([np.ones(3)], lr=0.1),
        ns.ConfigError,
        "params\\[0\\] must be a Parameter.*ndarray",
    ),
    (
        "optimizer_state_junk",
        lambda: sgd().load_state_dict({"foo": 1}),
        ns.ConfigError,
        "'state'.*'param_groups'.*\\{'foo': 1\\}",
    ),
    (
        "optimizer_state_index",
        lambda: (lambda o: o.load_state_dict({"state": {99: {}}, "param_groups": o.state_dict()["param_groups"]}))(
            sgd()
        ),
        ns.ConfigError,
        "parameter 99.*0..3",
    ),
    ("scheduler_step_size_zero", lambda: optim.StepLR(sgd(), step_size=0), ns.ConfigError, "step_size.*positive.*0"),
    ("scheduler_without_optimizer", lambda: optim.ExponentialLR("opt", gamma=0.9), ns.ConfigError, "param_groups.*str"),
    (
        "scheduler_state_junk",
        lambda: optim.StepLR(sgd(), 1).load_state_dict({"optimizer": 1}),
        ns.ConfigError,
        "entries \\['optimizer'\\].*StepLR",
    ),
    # fit
    ("fit_batch_size_zero", lambda: fit(batch_size=0), ns.ConfigError, "batch_size must be a positive integer.*0"),
    ("fit_batch_size_float", lambda: fit(batch_size=2.5), ns.ConfigError, "batch_size must be a positive integer"),
    ("fit_epochs_negative", lambda: fit(epochs=-1), ns.ConfigError, "epochs must be a positive integer.*-1"),
    ("fit_empty", lambda: fit(X[:0], Y[:0]), ns.ShapeError, "X and y are empty.*\\(0, 2\\)"),
    ("fit_scalar_X", lambda: fit(X=3.0), ns.ShapeError, "X must be an array with samples on the first axis.*\\(\\)"),
    (
        "fit_length_mismatch",
        lambda: fit(y=Y[:5]),
        ns.ShapeError,
        "same number of samples: X has 8 \\(shape \\(8, 2\\)\\), y has 5",
    ),
    ("fit_nan_in_X", lambda: fit(X=with_nan(X, (3, 1))), ns.NonFiniteError, "X holds 1 non-finite.*index \\(3, 1\\)"),
    (
        "fit_inf_in_y",
        lambda: fit(y=Y * np.array([[1.0]] * 5 + [[np.inf]] * 3)),
        ns.NonFiniteError,
        "y holds 3 non-finite.*inf at index \\(5, 0\\)",
    ),
    (
        "fit_validation_mismatch",
        lambda: fit(validation_data=(X, Y[:3])),
        ns.ShapeError,
        "validation_data\\[0\\] and validation_data\\[1\\] must have the same number",
    ),
    (
        "fit_nan_in_validation",
        lambda: fit(validation_data=(with_nan(X, (0, 0)), Y)),
        ns.NonFiniteError,
        "validation_data\\[0\\] holds.*index \\(0, 0\\)",
    ),
    ("fit_flat_target", lambda: fit(y=Y[:, 0]), ns.ShapeError, "target has shape \\(4,\\).*reshape\\(-1, 1\\)"),
    ("fit_complex_X", lambda: fit(X=X.astype(complex)), ns.DTypeError, "X must hold real numbers.*complex"),
    ("fit_object_y", lambda: fit(y=Y.astype(object)), ns.DTypeError, "y must hold real numbers.*object"),
    ("fit_mixed_backends", lambda: fit(y=Y.view(OtherBackend)), ns.BackendError, "two backends"),
    ("fit_wrong_width_model", lambda: fit(X=np.ones((8, 5))), ns.ShapeError, "\\(N, 2\\).*5 features"),
    ("fit_reduction_none", lambda: fit(loss=ns.MSELoss(reduction="none")), ns.ConfigError, "reduction='none'"),
    ("fit_loss_string", lambda: fit(loss="mse"), ns.ConfigError, "loss must have.*MSELoss.*str"),
    (
        "fit_model_string",
        lambda: ns.fit("net", X, Y, ns.MSELoss(), sgd(), 1, 4),
        ns.ConfigError,
        "model must have.*str",
    ),
    ("fit_optimizer_none", lambda: fit(optimizer="sgd"), ns.ConfigError, "optimizer must have a step"),
    ("fit_scheduler_float", lambda: fit(scheduler=0.5), ns.ConfigError, "scheduler must have step.*float"),
    ("fit_callback_function", lambda: fit(callbacks=[print]), ns.ConfigError, "callbacks\\[0\\].*Callback"),
    (
        "fit_validation_triple",
        lambda: fit(validation_data=(X, Y, Y)),
        ns.ConfigError,
        "validation_data must be a pair.*length 3",
    ),
    ("fit_rng_string", lambda: fit(rng="seed"), ns.ConfigError, "rng must be.*str"),
    # data
    (
        "standardizer_nan",
        lambda: data.Standardizer().fit(with_nan(X, (6, 1))),
        ns.NonFiniteError,
        "x holds 1 non-finite.*index \\(6, 1\\)",
    ),
    (
        "standardizer_rank3",
        lambda: data.Standardizer().fit(np.ones((2, 2, 2))),
        ns.ShapeError,
        "\\(N,\\) or \\(N, D\\).*\\(2, 2, 2\\)",
    ),
    ("standardizer_before_fit", lambda: data.Standardizer().transform(X), ns.CallOrderError, "before fit"),
    (
        "standardizer_width",
        lambda: data.Standardizer().fit(X).transform(np.ones((3, 3))),
        ns.ShapeError,
        "fitted on samples of shape \\(2,\\).*\\(3, 3\\)",
    ),
    ("minibatches_negative", lambda: list(data.minibatches(X, Y, -2)), ns.ConfigError, "batch_size.*-2"),
    ("split_zero_test", lambda: data.train_test_split(X, Y, test_size=0), ns.ConfigError, "leaves 0 test"),
    (
        "split_fraction_above_one",
        lambda: data.train_test_split(X, Y, test_size=1.5),
        ns.ConfigError,
        "fraction in \\(0, 1\\).*1.5",
    ),
    # backends, seeds, persistence, interop
    ("unknown_backend", lambda: ns.set_backend("tpu"), ns.ConfigError, "backend must be one of.*'tpu'"),
    ("seed_string", lambda: ns.manual_seed("a"), ns.ConfigError, "seed must be a non-negative integer.*'a'"),
    ("save_not_a_model", lambda: ns.save("unused.npz", "model"), ns.ConfigError, "model must be an nnscratch Module"),
    (
        "interop_transposed_weight",
        lambda: from_torch_state_dict(ns.Linear(2, 3, rng=0), {"weight": np.zeros((2, 3)), "bias": np.zeros(3)}),
        ns.ShapeError,
        "'weight'.*\\(2, 3\\), expected \\(3, 2\\)",
    ),
    (
        "interop_missing_name",
        lambda: from_torch_state_dict(ns.Linear(2, 3, rng=0), {"weight": np.zeros((3, 2))}),
        ns.ConfigError,
        "missing \\['bias'\\]",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "words"), [case[1:] for case in BAD_CALLS], ids=[case[0] for case in BAD_CALLS]
)
def test_bad_call_raises_documented_error(call, error, words):
    with pytest.raises(error, match=words) as info:
        call()
    assert isinstance(info.value, ns.NNScratchError)
    # The documented built-in base classes hold, so plain `except ValueError/TypeError` still works.
    expected_base = {ns.DTypeError: TypeError, ns.BackendError: RuntimeError, ns.CallOrderError: RuntimeError}
    assert isinstance(info.value, expected_base.get(error, ValueError))


def test_table_is_large_and_unique():
    assert len(BAD_CALLS) >= 40
    assert len({case[0] for case in BAD_CALLS}) == len(BAD_CALLS)


def test_integer_and_boolean_data_are_converted_not_refused():
    model = net()
    out = model(np.arange(8).reshape(4, 2))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(model(np.array([[True, False]])), model(np.array([[1.0, 0.0]])))
    history = fit(X=np.arange(16).reshape(8, 2) % 3, y=(np.arange(8) % 2 == 0).reshape(8, 1))
    assert len(history.loss) == 1 and np.isfinite(history.loss[0])


@pytest.mark.gpu
def test_real_cupy_and_numpy_mixed_are_refused():
    model = ns.MLP([2, 3, 1], rng=0, backend="cupy")
    with pytest.raises(ns.BackendError, match="parameters on cupy but x is a numpy array"):
        model(np.ones((4, 2)))
