"""Weights to and from torch's layout; parity with torch itself when it is installed."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.interop import from_torch_state_dict, to_torch_state_dict


def _net(seed, dtype="float64"):
    return ns.Sequential(
        ns.Linear(3, 5, rng=seed, dtype=dtype),
        ns.Tanh(),
        ns.Sequential(ns.Linear(5, 4, rng=seed + 1, dtype=dtype), ns.ReLU()),
        ns.Linear(4, 2, bias=False, rng=seed + 2, dtype=dtype),
    )


def test_layout_and_names():
    net = _net(0)
    sd = to_torch_state_dict(net)
    assert list(sd) == ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "3.weight"]
    np.testing.assert_array_equal(sd["0.weight"], net[0].W.data.T)
    assert sd["0.weight"].shape == (5, 3) and sd["0.weight"].flags.c_contiguous
    sd["0.bias"][0] = 99.0  # a copy: editing it leaves the model alone
    assert net[0].b.data[0] != 99.0
    assert list(to_torch_state_dict(ns.Linear(2, 3, rng=0))) == ["weight", "bias"]


def test_numpy_round_trip_is_exact_and_in_place():
    src, dst = _net(0), _net(10)
    W = dst[0].W.data
    from_torch_state_dict(dst, to_torch_state_dict(src))
    assert dst[0].W.data is W  # copied into the existing arrays, as torch's load_state_dict does
    for (_, a), (_, b) in zip(src.named_parameters(), dst.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize(
    ("edit", "error", "words"),
    [
        (lambda sd: sd.pop("2.0.bias"), ns.ConfigError, r"missing \['2.0.bias'\]"),
        (lambda sd: sd.update({"9.weight": np.zeros((1, 1))}), ns.ConfigError, r"unexpected \['9.weight'\]"),
        (
            lambda sd: sd.update({"0.weight": np.zeros((3, 5))}),
            ns.ShapeError,
            r"\(3, 5\), expected \(5, 3\).*out_features",
        ),
        (lambda sd: sd.update({"0.bias": np.zeros((5, 1))}), ns.ShapeError, r"'0.bias'.*\(5, 1\)"),
        (lambda sd: sd.update({"0.bias": np.zeros(5, dtype=complex)}), ns.DTypeError, "complex"),
    ],
)
def test_mismatches_are_refused_and_change_nothing(edit, error, words):
    dst = _net(10)
    before = [p.data.copy() for p in dst.parameters()]
    sd = to_torch_state_dict(_net(0))
    edit(sd)
    with pytest.raises(error, match=words):
        from_torch_state_dict(dst, sd)
    for old, p in zip(before, dst.parameters()):
        np.testing.assert_array_equal(old, p.data)


def test_modules_with_unmapped_parameters_are_refused():
    class Scale(ns.Module):
        def __init__(self):
            self.s = ns.Parameter(np.ones(2))

    with pytest.raises(ns.ConfigError, match="Scale.*only Linear"):
        to_torch_state_dict(ns.Sequential(ns.Linear(2, 2, rng=0), Scale()))
    with pytest.raises(ns.ConfigError, match="mapping"):
        from_torch_state_dict(ns.Linear(2, 2, rng=0), [("weight", np.zeros((2, 2)))])


def _torch_net(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(3, 5), nn.Tanh(), nn.Sequential(nn.Linear(5, 4), nn.ReLU()), nn.Linear(4, 2, bias=False)
    ).double()


def test_nnscratch_to_torch_gives_torch_the_same_outputs():
    torch = pytest.importorskip("torch")
    net, tnet = _net(0), _torch_net(torch)
    tnet.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state_dict(net).items()})
    x = np.random.default_rng(1).standard_normal((16, 3))
    np.testing.assert_allclose(tnet(torch.from_numpy(x)).detach().numpy(), net(x), rtol=0, atol=1e-12)


def test_torch_to_nnscratch_gives_the_same_outputs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tnet, net = _torch_net(torch), _net(0)
    from_torch_state_dict(net, tnet.state_dict())  # tensors, not arrays
    x = np.random.default_rng(2).standard_normal((16, 3))
    np.testing.assert_allclose(net(x), tnet(torch.from_numpy(x)).detach().numpy(), rtol=0, atol=1e-12)


def test_float32_torch_tensors_load_into_float32_models():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 2))
    net = from_torch_state_dict(ns.Sequential(ns.Linear(3, 2, rng=0, dtype="float32")), tnet.state_dict())
    assert net[0].W.dtype == np.float32
    np.testing.assert_array_equal(net[0].W.data, tnet[0].weight.detach().numpy().T)
