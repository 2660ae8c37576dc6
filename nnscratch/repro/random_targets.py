"""``random-targets``: a deep, narrow ReLU network asked to fit pure noise, from a Stack Overflow question.

The question: a Keras network with eleven hidden ReLU layers of 25 units is trained on
targets drawn at random, independently of its two random inputs, and predicts about one
value for everything. The answer: nothing can be *learned*, since the targets do not
depend on the inputs (on new points the best guess is the mean); a large enough network
trained long enough without regularisation can only *memorise* the training pairs.

Faithful settings (the failure; the other variants say what they change)
    data        10 000 samples; inputs: two N(0, 1) features; targets: N(0, 1), independent of
                the inputs, then min-max scaled to [0, 1] (so their std is about 0.13)
    network     Linear(2, 25) and ten more Linear(25, 25), each followed by ReLU, then
                Linear(25, 1): eleven hidden layers, 6 601 parameters
    init        every weight uniform in [-0.25, 0.25] (``init.uniform(-0.25, 0.25)``), biases zero
    loss        Keras ``"mse"``: the mean squared error (``MSELoss(reduction="mean")``)
    optimizer   Keras Adam with AMSGrad, lr 0.01, betas (0.9, 0.999), eps 1e-7
                (``optim.Adam(..., amsgrad=True, semantics="keras")``)
    batches     1000 samples, in the same order every epoch (``shuffle=False``)
    epochs      1000, that is 10 000 optimizer steps
    dtype       float32

Choices the question left open
    - dtype: the script hands Keras float64 tensors, but a functional model casts its inputs
      to the Input layer's dtype (float32) and the "mse" loss casts the targets to the
      predictions' dtype, so the arithmetic is float32, as here.
    - The random numbers come from ``numpy.random.default_rng(seed)`` in the question's order
      (inputs, targets, then the layers' weights in order), not from NumPy's global generator
      and TensorFlow's initialiser seeds.
    - The per-layer statistics (``history.snapshots``) are measured on the first 2000 training
      rows, not all 10 000: the spreads are the same to a few percent, at a fifth of the cost.
    - The posted script has no validation data; ``fresh_relative_mse`` measures what the
      answer talks about: 10 000 new inputs with new random targets, scaled the same way,
      drawn from ``default_rng(seed + 10_000)``.

Why it fails
    With zero biases a ReLU network is positively homogeneous, so the posted network is the
    He-initialised one with every layer scaled down: each hidden layer of uniform(±0.25)
    weights passes on about half of its input's spread (He keeps about 0.9 of it), and
    after twelve layers the output's spread is about 1e-4 of the first layer's. The
    untrained network predicts a constant; Adam normalises the tiny gradients into steps of
    about lr, which knock many of the deep units dead in the first hundred steps (with He
    weights a third of them die as well, so the dead units do not set the failure apart). The
    deeper reason the loss stays at the mean's is the data: the targets carry no information
    about the inputs, and 6 601 parameters cannot store 10 000 independent values, so even a
    signal-preserving init only moves the error a few percent below the mean's.

Variants
    failure    the posted set-up
    he-init    the same 2-25x11-1 network with He-uniform weights (zero biases), all else as
               posted: the signal now reaches the output, yet it still predicts about the mean,
               which separates "the init kills the signal" from "there is nothing to learn and
               too little capacity to memorise"
    memorise   what memorising takes: the first 500 of the 10 000 samples, a wider network
               (2-128x4-1, 50 049 parameters, 100 per sample), PyTorch's default init (weights
               and biases uniform in ±1/sqrt(fan_in)), Keras Adam with AMSGrad at lr 0.003,
               shuffled batches of 100, 20 000 steps (4000 epochs), no regularisation of any
               kind. It fits its training pairs, and is worse than the mean on fresh points.

    Why not all 10 000 points: memorising random values in two dimensions gets much harder
    with the number of points (the function has to bend between ever closer neighbours).
    Our trials on CPU: this network memorises 500 points to about 2% of the variance in
    20 000 steps, but 1000 points only to about 18%; all 10 000 are out of reach here. Why
    not He: with zero biases every first-layer kink passes through the origin, and He-uniform
    weights memorised several times slower in our trials (seed 0: 15% of the variance left
    after 20 000 steps instead of 2%); random biases place the kinks among the data points.
    The posted lr 0.01 was too noisy for it, and AMSGrad is kept as posted.

``quick=True`` runs 1000 steps of ``failure`` and ``he-init`` instead of 10 000 (both
predict about the mean from the first hundred steps on, and the signal at initialisation
does not depend on the run's length), and 5000 steps of ``memorise`` instead of 20 000 (its
training error is already well below the mean's, its fresh error above it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import init, optim
from ..backend import to_backend, to_numpy
from ..layers import MLP
from ..losses import MSELoss
from .base import Result, Scenario, baseline_loss, epochs_of, train_loop
from .metrics import dead_fractions, layer_spreads, relative_mse, spread_ratio
from .sweep import Claim

N, FEATURES, FRESH_SEED_OFFSET, PROBE_ROWS = 10_000, 2, 10_000, 2000
POSTED_SIZES = [FEATURES] + [25] * 11 + [1]


@dataclass(frozen=True)
class _Setup:
    sizes: list[int]
    init: Any
    init_name: str
    samples: int
    lr: float
    batch: int
    shuffle: bool
    steps: int
    quick_steps: int


SETUPS = {
    "failure": _Setup(
        POSTED_SIZES, init.uniform(-0.25, 0.25), "uniform(-0.25, 0.25), zero bias", N, 0.01, 1000, False, 10_000, 1000
    ),
    "he-init": _Setup(POSTED_SIZES, init.he_uniform, "he_uniform, zero bias", N, 0.01, 1000, False, 10_000, 1000),
    "memorise": _Setup(
        [FEATURES] + [128] * 4 + [1],
        init.torch_default,
        "torch_default (weights and biases)",
        500,
        3e-3,
        100,
        True,
        20_000,
        5000,
    ),
}


def make_data(gen: np.random.Generator, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Inputs N(0, 1) of shape (n, 2); targets N(0, 1), independent of them, min-max scaled to [0, 1]."""
    X = gen.standard_normal((n, FEATURES))
    y = gen.standard_normal((n, 1))
    return X, (y - y.min()) / (y.max() - y.min())


def _run(variant: str, seed: int, quick: bool, callbacks: list, progress: bool | None) -> Result:
    s = SETUPS[variant]
    gen = np.random.default_rng(seed)
    X_all, y_all = make_data(gen)
    X, y = X_all[: s.samples], y_all[: s.samples]
    net = MLP(s.sizes, init=s.init, rng=gen, dtype=np.float32, input_grad=False)
    backend = net.parameters()[0].backend  # the default backend: the data go where the network was built
    xs, ys = X.astype(np.float32), y.astype(np.float32)
    xd, yd = to_backend(xs, backend), to_backend(ys, backend)
    loss_fn = MSELoss(reduction="mean")
    opt = optim.Adam(net.parameters(), lr=s.lr, amsgrad=True, semantics="keras")
    steps = s.quick_steps if quick else s.steps
    history = train_loop(
        net,
        loss_fn,
        opt,
        epochs_of(xd, yd, s.batch, gen, shuffle=s.shuffle),
        steps,
        callbacks=callbacks,
        probe=(xd[:PROBE_ROWS], yd[:PROBE_ROWS]),
        baseline=baseline_loss(loss_fn, yd),
        progress=progress,
        label=f"random-targets/{variant}",
    )

    def predict(x_raw: np.ndarray) -> np.ndarray:
        """Predictions on the host, in float64."""
        x = to_backend(np.asarray(x_raw, dtype=np.float32).reshape(-1, FEATURES), backend)
        return to_numpy(net(x)).astype(np.float64)

    X_fresh, y_fresh = make_data(np.random.default_rng(seed + FRESH_SEED_OFFSET))
    fit, fresh = predict(X), predict(X_fresh)
    start, end = history.snapshots[0], history.snapshots[-1]
    spreads = list(layer_spreads(start).values())
    dead = list(dead_fractions(end).values())
    n_params = sum(p.data.size for p in net.parameters())
    metrics: dict[str, Any] = {
        "relative_mse": relative_mse(fit, y),
        "spread_ratio": spread_ratio(fit, y),
        "fresh_relative_mse": relative_mse(fresh, y_fresh),
        "fresh_spread_ratio": spread_ratio(fresh, y_fresh),
        # Spread of the last Linear's output over the first's, before training: the signal through depth.
        "init_depth_ratio": spreads[-1] / spreads[0],
        "init_output_spread_ratio": start.pred_spread / start.target_spread,
        "dead_units_mean": float(np.mean(dead)),
        "dead_units_max": float(np.max(dead)),
        "parameters": int(n_params),
        "samples": int(s.samples),
        "final_loss": history.loss[-1],
    }
    return Result(
        "random-targets",
        variant,
        seed,
        quick,
        net,
        X,
        y,
        xs,
        predict,
        history,
        metrics,
        _verdict(metrics, history.stopped, steps, len(s.sizes) - 2),
        settings={
            "samples": s.samples,
            "sizes": s.sizes,
            "init": s.init_name,
            "lr": s.lr,
            "optimizer": "Adam (Keras semantics, AMSGrad, eps 1e-7)",
            "batch_size": s.batch,
            "shuffle": s.shuffle,
            "steps": steps,
            "loss": "MSE (mean)",
            "dtype": "float32",
        },
        extras={"train_pred": fit, "fresh_X": X_fresh, "fresh_y": y_fresh, "fresh_pred": fresh},
    )


def _verdict(m: dict[str, Any], stopped: str | None, steps: int, hidden: int) -> str:
    rel, fresh, ratio = m["relative_mse"], m["fresh_relative_mse"], m["init_depth_ratio"]
    params, n = m["parameters"], m["samples"]
    per_layer = ratio ** (1 / hidden)
    if stopped:
        return f"Diverged: {stopped}."
    compared = "worse than" if fresh > 1.05 else "no better than" if fresh > 0.95 else "better than"
    unseen = (
        f"On 10 000 fresh inputs with fresh random targets the error is {fresh:.3f} of their variance, "
        f"{compared} predicting the mean: there is nothing in the inputs to generalise from."
    )
    if rel > 0.9:
        if ratio < 1e-2:
            why = (
                f"Before training, the signal's spread shrank by a factor of {ratio:.2g} from the first layer's "
                f"output to the last ({per_layer:.2f} per layer on average): these weights are too small for "
                f"{hidden} ReLU layers, so the untrained network gave every input the same output "
                f"(spread {m['init_output_spread_ratio']:.2g} of the targets'). By the end "
                f"{m['dead_units_mean']:.0%} of the hidden units are dead on average. But even a signal that "
                "got through would have nothing to carry: the targets do not depend on the inputs."
            )
        else:
            why = (
                f"The init is not the obstacle here: before training the signal kept {ratio:.2g} of its spread "
                f"through the {hidden} layers ({per_layer:.2f} per layer). The targets do not depend on the "
                f"inputs, so the only thing to fit is each sample's own value, and {params} parameters for "
                f"{n} independent values is too little capacity to memorise them."
            )
        return (
            f"Predicts about the mean: after {steps} steps the error is {rel:.3f} of the targets' variance "
            f"(predicting the mean scores 1) and the predictions' spread is {m['spread_ratio']:.2g} of the "
            f"targets'. {why} {unseen}"
        )
    return (
        f"Memorised {'most' if rel < 0.1 else 'part'} of the noise: on its {n} training points the error is "
        f"{rel:.3f} of the targets' variance ({params} parameters, {params / n:.0f} per point, {steps} steps, "
        f"no regularisation), the predictions spreading {m['spread_ratio']:.2f} as widely as the targets. "
        f"{unseen} What it stored is a lookup table of the training pairs, not a function of the input."
    )


def _figures(results: list[Result], out: Any) -> list[Path]:
    """Prediction against target per variant, on the training points and on fresh ones."""
    from matplotlib.lines import Line2D

    from .figures import panels, save_figure, variant_title

    fig, axes = panels(len(results), width=4.2, height=4.2)
    for ax, r in zip(axes, results):
        # At most 1000 points of each kind, picked by position: the plot must not touch the run's generator.
        take = np.linspace(0, len(r.y) - 1, min(1000, len(r.y))).astype(int)
        fresh = np.linspace(0, len(r.extras["fresh_y"]) - 1, 1000).astype(int)
        ax.scatter(r.extras["fresh_y"][fresh], r.extras["fresh_pred"][fresh], s=4, alpha=0.4, color="C1")
        ax.scatter(r.y[take], r.extras["train_pred"][take], s=4, alpha=0.4, color="C0")
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.axhline(float(r.y.mean()), color="0.4", ls=":", lw=0.8)
        ax.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), xlabel="target", ylabel="prediction")
        variant_title(
            ax,
            r,
            f"{r.metrics['samples']} training points\nrel. MSE: training {r.metrics['relative_mse']:.2f}, "
            f"fresh {r.metrics['fresh_relative_mse']:.2f}",
        )
        ax.grid(alpha=0.3)
    handles = [
        Line2D([], [], color="C1", marker="o", ls="none", ms=4, label="fresh points"),
        Line2D([], [], color="C0", marker="o", ls="none", ms=4, label="training points"),
        Line2D([], [], color="k", ls="--", lw=0.8, label="prediction = target"),
        Line2D([], [], color="0.4", ls=":", lw=0.8, label="targets' mean"),
    ]
    fig.suptitle("random-targets: predictions against random targets (on the diagonal: memorised)")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.9), fontsize=8)
    return [save_figure(fig, Path(out) / "random_targets_pred.png", layout=False)]


# The public question this scenario reproduces (what `nnscratch repro` prints as its source).
QUESTION = "Can neural network converge to completely random function"
SITE = "Stack Overflow"
URL = ""
CITATION = f'"{QUESTION}", {SITE}' + (f", {URL}" if URL else "")

# What each variant's verdict claims, checked per seed by ``repro.sweep``; the thresholds are the verdict's.
KEY_METRIC = "relative_mse"
CLAIMS = {
    "failure": Claim(
        "it predicts about the mean (error above 0.9 of the variance) and the signal fades with depth "
        "(spread through the layers below 1/100 at init)",
        lambda m: m["relative_mse"] > 0.9 and m["init_depth_ratio"] < 1e-2,
    ),
    "he-init": Claim(
        "it predicts about the mean although the signal gets through (spread through the layers at least 1/100)",
        lambda m: m["relative_mse"] > 0.9 and m["init_depth_ratio"] >= 1e-2,
    ),
    "memorise": Claim(
        "it memorises (training error below half the variance) and is worse than the mean on fresh points",
        lambda m: m["relative_mse"] < 0.5 and m["fresh_relative_mse"] > 1.0,
    ),
}


SCENARIO = Scenario(
    name="random-targets",
    title="a 2-25x11-1 ReLU network on random targets predicts their mean",
    document=CITATION,
    variants={
        "failure": "as posted: 10 000 random targets, 2-25x11-1, uniform(±0.25) weights, Adam lr 0.01, 10 000 steps",
        "he-init": "the same network with He-uniform weights: the signal survives, the fit still does not",
        "memorise": "500 of the points, 2-128x4-1, random biases, 20 000 small-batch steps: memorised, "
        "worse than the mean on fresh points",
    },
    runner=_run,
    expected={"failure": ("VANISHING_SIGNAL", "DEAD_RELU"), "he-init": ("PLATEAU",), "memorise": ()},
    figures=_figures,
    question=QUESTION,
    site=SITE,
    url=URL,
)
