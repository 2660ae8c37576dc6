"""``sum-of-squares``: a 2-10-5-1 ReLU network that never learns z = x² + y² (Data Science Stack Exchange).

The question: a PyTorch regression of z = x² + y² on random (x, y) does not converge. The
answer points at the training loop, which never resets the gradients, and reports that this
one change brings the summed loss to about 6.5 after 20 000 epochs; it then switches to Adam,
minibatches and a wider network.

Faithful settings (all variants unless they say otherwise)
    data        1000 samples, x and y uniform in [0, 1), z = x² + y²; 15% held out (850 train, 150 validation)
    network     Linear(2, 10), ReLU, Linear(10, 5), ReLU, Linear(5, 1); torch's Linear initialisation
    loss        squared error summed over the batch (``MSELoss(reduction="sum")``)
    optimizer   full-batch SGD, no momentum, step 1e-6, 20 000 epochs (one step each)
    dtype       float32 (the posted code builds float32 tensors)
    bugs        ``zero_grad`` never called (``train_loop(..., zero_grad=False)``), and targets of shape
                (N,) against predictions (N, 1), which torch broadcasts to an (N, N) comparison
                (reproduced by ``MSELoss(reduction="sum", broadcast=True)``)

Choices the question left open
    - Random numbers come from ``numpy.random.default_rng(seed)`` in the question's order (x, y,
      the split's permutation, the weights); the question's split seed (42) cannot be carried
      over, since its permutation is scikit-learn's, so the split is drawn from the same generator.
    - The posted loop stops when the loss falls below 0.001; no variant gets there, so that test is left out.
    - The answer's minibatch indices (drawn with replacement, 64 per step) come from
      ``default_rng(seed + 10_000)``; its network is built with the same torch initialisation.

Why it fails
    Two bugs, each enough on its own. (1) With targets of shape (N,) the summed loss is
    Σᵢ Σⱼ (predᵢ − zⱼ)²: every prediction is compared with every target. Its minimum,
    N·Σⱼ (zⱼ − z̄)², is reached by predicting z̄ for every input, so the best the network can
    do is a constant, and the loss can never drop below about N²·var(z) ≈ 1.3·10⁵.
    (2) Without ``zero_grad`` each backward pass adds onto the last, so step t follows the sum
    of all t gradients so far: the step is a momentum of 1 with nothing to damp it, and the
    parameters swing around a minimum instead of settling in it.

Variants
    failure            the posted code: both bugs
    only-accumulation  zero_grad still missing, targets shaped (N, 1)
    only-broadcast     the answer's single change: zero_grad restored, targets still (N,)
    both-fixed         both bugs fixed, everything else as posted (SGD, step 1e-6)
    larger-step        both bugs fixed and a 10x larger step (1e-5), the doctor's advice for a slow run
    answer             the answer's code: Adam (lr 1e-3), 64 samples per step drawn with
                       replacement, 2-25-10-1, 2500 steps, summed loss on (N, 1) targets

``quick=True`` runs 2000 steps instead of 20 000 for the two variants that broadcast (each of
their steps costs an 850 x 850 comparison): their prediction is constant within the first
hundred steps. The other variants are cheap and always run their full length.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from ..backend import get_array_module, to_backend, to_numpy
from ..callbacks import Callback, TrainingContext
from ..data import train_test_split
from ..errors import BroadcastWarning
from ..layers import MLP
from ..losses import MSELoss
from .base import Result, Scenario, baseline_loss, repeat, train_loop
from .figures import log_floor, note_floor, panels, plot_log, save_figure, variant_title
from .metrics import dead_fractions, relative_mse, spread_ratio
from .sweep import Claim

N, VAL_FRACTION, EPOCHS, QUICK_EPOCHS = 1000, 0.15, 20_000, 2_000
ANSWER_SIZES, ANSWER_STEPS, ANSWER_BATCH, ANSWER_LR = [2, 25, 10, 1], 2_500, 64, 1e-3
CLAIMED_LOSS = 6.5  # the answer's figure for "zero_grad fixed", after 20 000 epochs
ZERO_GRAD = {
    "failure": False,
    "only-accumulation": False,
    "only-broadcast": True,
    "both-fixed": True,
    "larger-step": True,
    "answer": True,
}
BROADCAST = {
    "failure": True,
    "only-accumulation": False,
    "only-broadcast": True,
    "both-fixed": False,
    "larger-step": False,
    "answer": False,
}
SGD_STEP = {"failure": 1e-6, "only-accumulation": 1e-6, "only-broadcast": 1e-6, "both-fixed": 1e-6, "larger-step": 1e-5}


def make_data(gen: np.random.Generator, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) uniform in [0, 1)² as an (n, 2) float32 array, and z = x² + y² of shape (n,)."""
    x, y = gen.random(n), gen.random(n)
    return np.column_stack([x, y]).astype(np.float32), (x**2 + y**2).astype(np.float32)


class GradientTrace(Callback):
    """Per step: the norm of the gradient the optimizer followed and of that step's own gradient.

    Without ``zero_grad`` the stored gradient is a running sum; the difference from the previous
    step's is what this step's backward pass added.
    """

    def __init__(self, accumulating: bool) -> None:
        self.accumulating = accumulating
        self.followed: list[float] = []  # filled at the end of training
        self.own: list[float] = []
        self._previous: np.ndarray | None = None
        # The norms stay where the gradients are until training ends, then reach the host in one copy:
        # on a GPU a float() per step would wait for the device at every step.
        self._norms: list[Any] = []

    def on_step_end(self, ctx: TrainingContext) -> None:
        g = np.concatenate([p.grad.ravel() for p in ctx.model.parameters()]).astype(np.float64)
        own = g - self._previous if self.accumulating and self._previous is not None else g
        self._norms.append(np.stack([np.linalg.norm(g), np.linalg.norm(own)]))
        self._previous = g

    def on_train_end(self, ctx: TrainingContext) -> None:
        if self._norms:
            norms = to_numpy(get_array_module(self._norms[0]).stack(self._norms))
            self.followed, self.own = norms[:, 0].tolist(), norms[:, 1].tolist()


def _answer_batches(X: np.ndarray, z: np.ndarray, gen: np.random.Generator) -> Any:
    """64 rows drawn with replacement at every step, as ``torch.randint`` indexing does.

    The rows are drawn on the host (the same on every backend) and sent where X lives, once for both arrays.
    """
    xp = get_array_module(X)
    while True:
        rows = xp.asarray(gen.integers(0, len(X), ANSWER_BATCH))
        yield X[rows], z[rows]


def _run(variant: str, seed: int, quick: bool, callbacks: list, progress: bool | None) -> Result:
    gen = np.random.default_rng(seed)
    X, z = make_data(gen)
    X_train, X_val, z_train, z_val = train_test_split(X, z, test_size=VAL_FRACTION, rng=gen)
    answer = variant == "answer"
    net = MLP(ANSWER_SIZES if answer else [2, 10, 5, 1], init="torch_default", rng=gen, dtype=np.float32)
    backend = net.parameters()[0].backend  # the default backend: the data go where the network was built
    loss_fn = MSELoss(reduction="sum", broadcast=BROADCAST[variant])
    X_d = to_backend(X_train, backend)
    target = to_backend(z_train if BROADCAST[variant] else z_train[:, None], backend)
    if answer:
        steps = ANSWER_STEPS
        opt: Any = optim.Adam(net.parameters(), lr=ANSWER_LR)
        batches = _answer_batches(X_d, target, np.random.default_rng(seed + 10_000))
    else:
        steps = QUICK_EPOCHS if quick and BROADCAST[variant] else EPOCHS
        opt, batches = optim.SGD(net.parameters(), lr=SGD_STEP[variant]), repeat(X_d, target)
    grads = GradientTrace(accumulating=not ZERO_GRAD[variant])
    with warnings.catch_warnings():
        # The broadcast is the bug this variant shows; its warning would say so 20 000 times.
        warnings.simplefilter("ignore", BroadcastWarning)
        # Under a broadcasting loss the mean predictor is an (N, 1) column, not the targets' shape.
        mean = to_backend(np.full((len(z_train), 1), z_train.mean(), dtype=np.float32), backend)
        baseline = float(loss_fn(mean, target)) if BROADCAST[variant] else baseline_loss(loss_fn, target)
        if answer:  # a summed loss scales with the rows it sums: the answer's steps see 64 of them
            baseline *= ANSWER_BATCH / len(target)
        history = train_loop(
            net,
            loss_fn,
            opt,
            batches,
            steps,
            zero_grad=ZERO_GRAD[variant],
            callbacks=[grads, *callbacks],
            probe=(X_d, target),
            baseline=baseline,
            progress=progress,
            label=f"sum-of-squares/{variant}",
        )

    def predict(x_raw: np.ndarray) -> np.ndarray:
        """Predictions on the host."""
        return to_numpy(net(to_backend(np.asarray(x_raw, dtype=np.float32).reshape(-1, 2), backend)))

    fit, fit_val = predict(X_train), predict(X_val)
    design = np.column_stack([X_train, np.ones(len(X_train))]).astype(np.float64)
    plane = design @ np.linalg.lstsq(design, z_train.astype(np.float64), rcond=None)[0]
    followed, own = np.asarray(grads.followed), np.asarray(grads.own)
    tail = slice(int(0.9 * len(followed)), None)
    last_losses = np.asarray(history.loss[tail], dtype=np.float64)
    dead = dead_fractions(history.snapshots[-1])
    metrics: dict[str, Any] = {
        "relative_mse": relative_mse(fit, z_train[:, None]),
        "val_relative_mse": relative_mse(fit_val, z_val[:, None]),
        "best_plane_relative_mse": relative_mse(plane, z_train),
        "spread_ratio": spread_ratio(fit, z_train),
        "reported_loss": history.loss[-1],
        "train_summed_sq_error": float(((fit.astype(np.float64) - z_train[:, None]) ** 2).sum()),
        "broadcast_floor": float(len(z_train) * ((z_train.astype(np.float64) - z_train.mean()) ** 2).sum()),
        "loss_swing": float((last_losses.max() - last_losses.min()) / last_losses.mean()),
        "grad_growth": float(np.median(followed[tail] / np.maximum(own[tail], 1e-30))),
        "backward_passes_in_grad": max(p.accumulated for p in net.parameters()),
        "dead_units_layer1": dead.get("1", float("nan")),
        "dead_units_layer2": dead.get("3", float("nan")),
    }
    if not answer:  # SGD's step is lr x the followed gradient; Adam's is not
        metrics["effective_step"] = float(SGD_STEP[variant] * np.median(followed[tail]))
    return Result(
        "sum-of-squares",
        variant,
        seed,
        quick,
        net,
        X_train,
        z_train[:, None],
        X_train,
        predict,
        history,
        metrics,
        _verdict(variant, metrics, history.stopped, steps),
        settings={
            "zero_grad": ZERO_GRAD[variant],
            "target_shape": "(N,)" if BROADCAST[variant] else "(N, 1)",
            "optimizer": f"Adam lr {ANSWER_LR:g}" if answer else f"SGD lr {SGD_STEP[variant]:g}",
            "batch": f"{ANSWER_BATCH} drawn with replacement" if answer else "full (850)",
            "sizes": ANSWER_SIZES if answer else [2, 10, 5, 1],
            "steps": steps,
            "init": "torch_default",
            "loss": "MSE (sum)",
            "dtype": "float32",
        },
        extras={"grad_followed": followed, "grad_own": own, "X_val": X_val, "z_val": z_val},
    )


def _verdict(variant: str, m: dict[str, Any], stopped: str | None, steps: int) -> str:
    rel, val, plane, sse = (
        m["relative_mse"],
        m["val_relative_mse"],
        m["best_plane_relative_mse"],
        m["train_summed_sq_error"],
    )
    if stopped:
        return f"Diverged: {stopped}."
    parts = []
    if BROADCAST[variant]:
        flat = "one value for every input" if m["spread_ratio"] < 0.01 else "almost flat"
        parts.append(
            f"The loss compares each of the 850 predictions with each of the 850 targets, so its lowest possible "
            f"value is {m['broadcast_floor']:.4g}, reached by predicting the mean of z for every input; it reports "
            f"{m['reported_loss']:.4g} after {steps} steps ({m['reported_loss'] / m['broadcast_floor']:.3f} x that "
            f"floor) and can never come near the answer's {CLAIMED_LOSS:g}. The output's spread is "
            f"{m['spread_ratio']:.2g} of the targets' ({flat}), error {rel:.2f} of the variance."
        )
    if not ZERO_GRAD[variant]:
        parts.append(
            f"zero_grad is never called, so the gradient the last step followed held {m['backward_passes_in_grad']} "
            f"backward passes; over the last 10% of steps the followed gradient was typically {m['grad_growth']:.3g} x "
            "as large as each step's own. The step is a momentum of 1 that nothing damps: the loss still swings by "
            f"{m['loss_swing']:.0%} of its mean over those steps instead of settling."
        )
        if not BROADCAST[variant]:
            dead = m["dead_units_layer2"]
            state = (
                f"ends up predicting one value for every input ({dead:.0%} of the second hidden layer's units "
                "are dead by the end)"
                if m["spread_ratio"] < 0.01
                else f"still varies with its input (spread {m['spread_ratio']:.2g} of the targets') but never settles"
            )
            parts.append(
                f"The network {state}: error {rel:.2f} of the variance, "
                f"{'worse' if rel > plane else 'better'} than the best plane's {plane:.3f}."
            )
    if parts:
        return " ".join(parts)
    if variant == "answer":
        return (
            f"Fits: error {rel:.4f} of the variance on the training set and {val:.4f} on the held-out 15% "
            f"(best plane: {plane:.3f}); summed squared error {sse:.3g} on the training set, and the loss as "
            f"printed, on 64 samples, ends at {m['reported_loss']:.3g}. Adam's step size does not depend on the "
            "loss's scale, and 2500 steps suffice."
        )
    lr = SGD_STEP[variant]
    fit = (
        f"after {steps} full-batch steps at {lr:g} the error is {rel:.3f} of the variance ({val:.3f} on the "
        f"held-out 15%), against {plane:.3f} for the best plane through the data. Its summed squared error is "
        f"{sse:.3g}; the answer's 'about {CLAIMED_LOSS:g}' is a loss only correctly shaped targets can reach."
    )
    if rel < 0.5 * plane:
        return f"Fits: {fit} The fit is curved, better than any plane."
    shape = "about as good as a plane" if rel < 2 * plane else "still far from a fit"
    return (
        f"Learns, slowly ({shape}): {fit} Both bugs are gone; what remains is the step: at {lr:g} on this loss "
        f"{steps} steps are not enough to bend the fit."
    )


def _plot_gradients(results: list[Result], out: Path) -> Path:
    from matplotlib.lines import Line2D

    fig, axes = panels(len(results))
    curves = []
    for r in results:
        followed, own = r.extras["grad_followed"], r.extras["grad_own"]
        steps = np.unique(np.geomspace(1, len(followed), 3000).astype(int)) - 1
        curves.append((r, steps, followed[steps], own[steps]))
    floor = log_floor([c[2] for c in curves] + [c[3] for c in curves])
    for ax, (r, steps, followed, own) in zip(axes, curves):
        drawn = {"floored": 0}
        if ZERO_GRAD[r.variant]:
            drawn = plot_log(ax, steps + 1, followed, floor, log_x=True, color="C0", lw=1.0)
        else:
            plot_log(ax, steps + 1, followed, floor, log_x=True, color="C3", lw=1.0)
            drawn = plot_log(ax, steps + 1, own, floor, log_x=True, color="C0", lw=1.0)
        if drawn["floored"]:
            note_floor(ax, floor, "a gradient of 0")
        ax.set(xscale="log", yscale="log", xlabel="optimizer step", ylabel="gradient norm (all parameters)")
        variant_title(ax, r, "no zero_grad" if not ZERO_GRAD[r.variant] else "")
        ax.grid(alpha=0.3, which="both")
    handles = [
        Line2D([], [], color="C3", label="gradient followed: the running sum (no zero_grad)"),
        Line2D([], [], color="C0", label="this step's own gradient (followed, with zero_grad)"),
    ]
    fig.suptitle("sum-of-squares: without zero_grad the step follows the sum of all past gradients")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), fontsize=8)
    return save_figure(fig, out / "sum_of_squares_gradients.png", layout=False)


def _plot_predictions(results: list[Result], out: Path) -> Path:
    fig, axes = panels(len(results))
    for ax, r in zip(axes, results):
        z_val = r.extras["z_val"]
        ax.scatter(z_val, np.asarray(r.predict(r.extras["X_val"])).ravel(), s=6, alpha=0.6, color="C0")
        ax.plot([0, 2], [0, 2], "k--", lw=0.8)
        ax.set(
            xlabel="target z = x² + y² (validation)",
            ylabel="prediction",
            xlim=(0, 2),
            ylim=(-0.2, 2.2),
        )
        variant_title(ax, r, f"rel. MSE {r.metrics['val_relative_mse']:.3f}")
        ax.grid(alpha=0.3)
    fig.suptitle("sum-of-squares: predictions on the held-out 15% (dashed: prediction = target)")
    return save_figure(fig, out / "sum_of_squares_predictions.png")


def figures(results: list[Result], out: Any) -> list[Path]:
    """The gradients each variant's steps followed, and its predictions on the validation split."""
    out = Path(out)
    return [_plot_gradients(results, out), _plot_predictions(results, out)]


# The public question this scenario reproduces (what `nnscratch repro` prints as its source).
QUESTION = "Pytorch Neural Network that tries to approximate z_i = x_i^2 + y_i^2 not converging to solution"
SITE = "Data Science Stack Exchange"
URL = "https://datascience.stackexchange.com/questions/115368"
CITATION = f'"{QUESTION}", {SITE}' + (f", {URL}" if URL else "")

# What each variant's verdict claims, checked per seed by ``repro.sweep``. "Fits" is the verdict's
# test: an error below half the best plane's, which only a curved fit reaches.
KEY_METRIC = "relative_mse"
_FLAT = "it predicts one value for every input (output spread below 1% of the targets')"
CLAIMS = {
    "failure": Claim(_FLAT, lambda m: m["spread_ratio"] < 0.01),
    "only-accumulation": Claim(
        "it never settles: error above the best plane's", lambda m: m["relative_mse"] > m["best_plane_relative_mse"]
    ),
    "only-broadcast": Claim(_FLAT, lambda m: m["spread_ratio"] < 0.01),
    "both-fixed": Claim(
        "it learns, too slowly to fit (error above half the best plane's)",
        lambda m: m["relative_mse"] >= 0.5 * m["best_plane_relative_mse"],
    ),
    "larger-step": Claim(
        "it fits (error below half the best plane's)",
        lambda m: m["relative_mse"] < 0.5 * m["best_plane_relative_mse"],
    ),
    "answer": Claim(
        "it fits, on the held-out 15% too (errors below half the best plane's)",
        lambda m: max(m["relative_mse"], m["val_relative_mse"]) < 0.5 * m["best_plane_relative_mse"],
    ),
}


SCENARIO = Scenario(
    name="sum-of-squares",
    title="a 2-10-5-1 ReLU network never learns x² + y²: a forgotten zero_grad and a broadcasting target",
    document=CITATION,
    variants={
        "failure": "as posted: no zero_grad, (N,) targets broadcast against (N, 1) predictions, SGD 1e-6",
        "only-accumulation": "zero_grad still missing, targets shaped (N, 1)",
        "only-broadcast": "the answer's single change: zero_grad restored, targets still (N,)",
        "both-fixed": "both bugs fixed, SGD at the posted step 1e-6 for 20 000 epochs",
        "larger-step": "both bugs fixed, SGD at a 10x larger step (1e-5)",
        "answer": "the answer's code: Adam 1e-3, 64 samples per step, 2-25-10-1, 2500 steps",
    },
    runner=_run,
    expected={
        "failure": ("SHAPE_BROADCAST", "GRAD_ACCUMULATION"),
        "only-accumulation": ("GRAD_ACCUMULATION",),
        "only-broadcast": ("SHAPE_BROADCAST",),
        "both-fixed": ("LR_TOO_SMALL",),
        "larger-step": (),
        "answer": (),
    },
    figures=figures,
    question=QUESTION,
    site=SITE,
    url=URL,
)
