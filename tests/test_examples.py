"""The examples run and show what they say they show (short versions of their runs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sqrt_walkthrough_raw_data_gives_a_line_and_standardised_data_bend(capsys):
    walk = _load("sqrt_walkthrough")
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((500, 1)) * 1000)
    y = np.sqrt(x) + 0.5 * rng.standard_normal((500, 1))
    assert walk.kinks_inside(walk.train(x, y, lr=1e-6, steps=2000), x) == 0
    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    fixed = walk.train(xs, ys, lr=1e-2, steps=4000)
    assert walk.kinks_inside(fixed, xs) >= 1
    assert float(((fixed(xs) - ys) ** 2).mean()) < 0.05


@pytest.mark.parametrize("backend", ns.available_backends())
def test_gpu_example_trains_on_every_available_backend(backend):
    loss, per_step = _load("gpu_training").train(backend, [4, 16, 1], 256, steps=30)
    assert np.isfinite(loss) and loss < 1.5 and per_step > 0


def test_custom_loss_example_runs_and_its_gradient_checks_pass(capsys):
    _load("custom_loss")  # asserts report.assert_ok() for every reduction while it runs
    out = capsys.readouterr().out
    assert out.count(": passed") == 3
