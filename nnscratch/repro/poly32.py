"""``poly32``: a 32-48x4-1 ReLU network that predicts one value for a degree-4 polynomial (Cross Validated).

The question: a fixed 4th-degree polynomial of 32 inputs in [-1, 1], sampled two ways. On
"random" inputs a 32-48-48-48-48-1 ReLU network's loss drops close to 0; on inputs from the
poster's "special" sampling the loss stays flat and every prediction is the same value.

Faithful settings (all variants unless they say otherwise)
    network     Linear(32, 48), ReLU, three times Linear(48, 48), ReLU, then Linear(48, 1);
                torch's default initialisation (W and b uniform in ±1/sqrt(fan_in))
    loss        ``MSELoss(reduction="mean")`` called on predictions of shape (32, 1) and targets
                of shape (32,): torch broadcasts the two to 32 x 32 (``MSELoss(broadcast=True)``)
    optimizer   Adam (torch semantics), lr 5e-3, batches of 32 reshuffled every epoch
    epochs      500 over 10 000 rows (156 500 steps), float64
    random rows the post's sparse sampling: exactly 25% of the 320 000 entries, chosen without
                replacement, get u ~ U(0, 1), the rest u = 0; then x = 2u - 1. The mapping sends
                every zero to x = -1, so three quarters of the "sparse" inputs are exactly -1.

Choices the question left open
    - The polynomial's coefficients and the special rows are not available. The stand-in is a
      random sparse polynomial in u = (x + 1)/2, the coordinate the post samples in: an
      intercept and 16, 64, 128 and 256 monomials of degree 1 to 4 (variables drawn with
      replacement, so powers such as u3²·u7 occur, as in the full basis), every coefficient
      N(0, 1). As a function of x it is a degree-4 polynomial too. The counts grow with the
      degree as in the full 58 905-term basis, whose quartics are 89% of it. The same
      monomials written in x would not do: on the sparse rows, where most |x| are 1, their
      targets already spread more than half as wide as at random corners of the cube (measured,
      seeds 0-2: std 12 to 15 against 21 to 22; uniform rows: 4 to 5), which leaves a sampling
      of the cube little room to make them look "very different", as the post's histograms do.
      In u, a monomial is 0 on a sparse row unless all its variables are among the 25% nonzero
      entries, so those rows' targets stay small.
    - The "special" sampling is a design of our own: every coordinate is a bound of the
      domain, +1 with probability 0.75 and -1 otherwise (the post's rows mirrored and pushed
      to the corners). Most monomials are then 1 on some rows and 0 on others, so the targets
      spread 6 to 9 times wider than on the random rows (seeds 0-2) and are centred elsewhere
      (seed 0: mean -11.5, std 11.1 against -0.5 and 1.3).
    - The polynomial, the rows, the initial weights, the probe rows and the shuffling all come
      from ``numpy.random.default_rng(seed)``, in that order, so variants with the same sampling
      train on the same rows from the same initial weights. Fresh rows for the test error come
      from ``default_rng(seed + 10_000)``.
    - The last batch of an epoch has 16 rows (10 000 = 312·32 + 16), as torch's DataLoader gives.
    - If the post's regression had been fitted to a column of targets, ``coef_`` would be 2-D,
      ``predict`` would return (N, 1) and nothing would broadcast. The reproduction follows the
      code as posted, where ``coef_`` is loaded as a flat list and y has shape (N,).

Why it fails
    The broadcast loss compares each prediction with every target of the batch; it is
    smallest when every prediction equals the batch's mean target, whatever the input. The
    network is trained to be a constant, and gets there by switching off most of its units
    (88% of them after 500 epochs, seed 0). That holds for both samplings: on the random rows
    the network learns nothing either, and its loss only looks close to 0 because those
    targets vary little, so the floor of that loss (their variance) is small. The special
    targets' variance is 36 to 78 times larger (seeds 0-2), so the same failure shows there as
    a flat, high loss. The unscaled targets are not the cause: Adam's steps do not grow with
    the gradient, and with the shape fixed the raw special targets are fitted as well as
    standardised ones (seed 0, 500 epochs: 0.0086 of the variance against 0.0122 on the
    training rows, 0.051 against 0.052 on fresh rows; targets 100 times larger are fitted too,
    measured over 20 epochs). The one fix that matters is the target's shape.

Variants
    failure          special rows, targets of shape (N,) broadcast against (N, 1), as posted
    random-sampling  the post's "works" case: random rows, the same broadcast
    shape-fixed      special rows, targets reshaped to (N, 1), raw targets
    standardised     special rows, shape fixed and targets standardised (undone for predictions)
    random-fixed     random rows with the shape fixed: what learning the random rows looks like

``quick=True`` trains 20 epochs (6 260 steps) instead of 500 for every variant: by then the
broadcast variants predict a constant and the fixed ones fit to a few percent of the variance.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from ..backend import to_backend, to_numpy
from ..errors import BroadcastWarning
from ..layers import MLP
from ..losses import MSELoss
from .base import Result, Scenario, baseline_loss, epochs_of, train_loop
from .metrics import dead_fractions, relative_mse, spread_ratio
from .sweep import Claim

N, DIM, BATCH, LR, EPOCHS, QUICK_EPOCHS = 10_000, 32, 32, 5e-3, 500, 20
SIZES = [DIM, 48, 48, 48, 48, 1]
TERMS_PER_DEGREE = (16, 64, 128, 256)
DENSITY, CORNER_PLUS = 0.25, 0.75
N_FRESH, N_PROBE = 2000, 512
SAMPLING = {
    "failure": "special",
    "random-sampling": "random",
    "shape-fixed": "special",
    "standardised": "special",
    "random-fixed": "random",
}
BROADCAST = {
    "failure": True,
    "random-sampling": True,
    "shape-fixed": False,
    "standardised": False,
    "random-fixed": False,
}
STANDARDISE = {
    "failure": False,
    "random-sampling": False,
    "shape-fixed": False,
    "standardised": True,
    "random-fixed": False,
}

Polynomial = tuple[float, list[np.ndarray], list[np.ndarray]]  # intercept, per degree: variables, coefficients


def make_polynomial(gen: np.random.Generator) -> Polynomial:
    """The stand-in: per degree d, ``TERMS_PER_DEGREE[d-1]`` monomials of u = (x+1)/2, N(0, 1) coefficients."""
    variables = [np.sort(gen.integers(0, DIM, size=(k, d)), axis=1) for d, k in enumerate(TERMS_PER_DEGREE, 1)]
    coefs = [gen.standard_normal(len(v)) for v in variables]
    return float(gen.standard_normal()), variables, coefs


def evaluate(poly: Polynomial, X: np.ndarray) -> np.ndarray:
    """The polynomial at the rows of X (inputs in [-1, 1]), shape (N,) as ``reg.predict`` returns."""
    intercept, variables, coefs = poly
    u = (np.asarray(X, dtype=np.float64) + 1) / 2
    y = np.full(len(u), intercept)
    for v, c in zip(variables, coefs):
        y += np.prod(u[:, v], axis=2) @ c  # (N, terms, degree) -> one value per monomial, then the sum
    return y


def sample(kind: str, gen: np.random.Generator, n: int = N) -> np.ndarray:
    """``random``: the post's sparse rows mapped by 2u - 1; ``special``: our corner design (see above)."""
    if kind == "random":
        u = np.zeros(n * DIM)
        nonzero = gen.choice(n * DIM, size=round(DENSITY * n * DIM), replace=False)
        u[nonzero] = gen.random(nonzero.size)
        return 2 * u.reshape(n, DIM) - 1
    return np.where(gen.random((n, DIM)) < CORNER_PLUS, 1.0, -1.0)


def _run(variant: str, seed: int, quick: bool, callbacks: list, progress: bool | None) -> Result:
    gen = np.random.default_rng(seed)
    poly = make_polynomial(gen)
    kind = SAMPLING[variant]
    X = sample(kind, gen)
    y = evaluate(poly, X)
    y_mean, y_std = (float(y.mean()), float(y.std())) if STANDARDISE[variant] else (0.0, 1.0)
    ys = (y - y_mean) / y_std
    # The posted bug: y stays (N,) while the network predicts (N, 1); the fix is one reshape.
    target = ys if BROADCAST[variant] else ys[:, None]
    net = MLP(SIZES, rng=gen)
    backend = net.parameters()[0].backend  # the default backend: the data go where the network was built
    loss_fn = MSELoss(reduction="mean", broadcast=BROADCAST[variant])
    probe = np.sort(gen.choice(N, N_PROBE, replace=False))
    epochs = QUICK_EPOCHS if quick else EPOCHS
    per_epoch = -(-N // BATCH)
    steps = epochs * per_epoch
    with warnings.catch_warnings():
        # The broadcast is what this variant demonstrates; its warning would repeat every step.
        warnings.simplefilter("ignore", BroadcastWarning)
        history = train_loop(
            net,
            loss_fn,
            optim.Adam(net.parameters(), lr=LR),
            epochs_of(to_backend(X, backend), to_backend(target, backend), BATCH, gen),
            steps,
            callbacks=callbacks,
            probe=(to_backend(X[probe], backend), to_backend(target[probe], backend)),
            baseline=baseline_loss(loss_fn, to_backend(target, backend)),
            progress=progress,
            label=f"poly32/{variant}",
        )

    def predict(x_raw: np.ndarray) -> np.ndarray:
        """Predictions on the host, in raw y units."""
        x = to_backend(np.asarray(x_raw, dtype=np.float64).reshape(-1, DIM), backend)
        return to_numpy(net(x)) * y_std + y_mean

    X_fresh = sample(kind, np.random.default_rng(seed + 10_000), N_FRESH)
    fit = predict(X)
    dead = dead_fractions(history.snapshots[-1])
    final = float(np.mean(history.loss[-per_epoch:]))
    metrics: dict[str, Any] = {
        "relative_mse": relative_mse(fit, y[:, None]),
        "fresh_relative_mse": relative_mse(predict(X_fresh), evaluate(poly, X_fresh)[:, None]),
        "spread_ratio": spread_ratio(fit, y),
        "target_mean": float(y.mean()),
        "target_std": float(y.std()),
        "inputs_at_minus_one": float((X == -1).mean()),
        "final_loss": final,  # mean training loss over the last epoch, in the loss's own units
        "final_loss_over_baseline": final / history.baseline,
        "dead_units": float(np.mean(list(dead.values()))),
    }
    return Result(
        "poly32",
        variant,
        seed,
        quick,
        net,
        X,
        y,
        X,
        predict,
        history,
        metrics,
        _verdict(variant, metrics, history.stopped, epochs),
        settings={
            "sampling": kind,
            "broadcast": BROADCAST[variant],
            "standardise": STANDARDISE[variant],
            "target_shape": list(target.shape),
            "epochs": epochs,
            "steps": steps,
            "lr": LR,
            "batch_size": BATCH,
            "optimizer": "Adam (torch)",
            "init": "torch default",
            "loss": "MSE (mean)",
            "dtype": "float64",
        },
        extras={"dead_per_layer": dead},
    )


def _verdict(variant: str, m: dict[str, Any], stopped: str | None, epochs: int) -> str:
    rel, spread, fresh = m["relative_mse"], m["spread_ratio"], m["fresh_relative_mse"]
    rows = f"{SAMPLING[variant]} rows (targets: mean {m['target_mean']:.3g}, std {m['target_std']:.3g})"
    if stopped:
        return f"Stopped early on the {rows}: {stopped}."
    if BROADCAST[variant]:
        if rel > 0.9 and spread < 0.1:
            head = (
                f"Learned nothing on the {rows}: after {epochs} epochs the network predicts about one value "
                f"for every row (the predictions' spread is {spread:.2%} of the targets') and its error is "
                f"{rel:.3f} of the targets' variance, as bad as predicting their mean."
            )
        else:
            head = (
                f"On the {rows} the error is {rel:.3f} of the targets' variance after {epochs} epochs, with "
                f"predictions spread {spread:.2f} times as wide as the targets."
            )
        why = (
            " The loss receives predictions of shape (32, 1) and targets of shape (32,), broadcasts them to "
            "32 x 32 and compares every prediction with every target in the batch; whatever the input, that "
            "loss is smallest when each prediction is the batch's mean target."
        )
        floor = (
            f" The training loss ends at {m['final_loss']:.3g}, {m['final_loss_over_baseline']:.3f} x the "
            f"targets' variance ({m['target_std'] ** 2:.3g}), about as low as that loss can go; "
            f"{m['dead_units']:.0%} of the hidden units are dead."
        )
        if SAMPLING[variant] == "random":
            floor += (
                " So a low loss here is no sign of learning, only of targets that vary little: "
                f"{m['inputs_at_minus_one']:.0%} of the inputs are exactly -1 (the zeros of the sparse "
                "sampling, mapped by 2u - 1), where the monomials vanish."
            )
        return head + why + floor + " Fix: reshape the targets to (N, 1)."
    scaling = "standardised targets (mapped back for the predictions)" if STANDARDISE[variant] else "raw targets"
    if rel < 0.1:
        text = (
            f"Fits the {rows} once the targets have shape (N, 1), with {scaling}: the error is {rel:.4f} of "
            f"the targets' variance on the training rows and {fresh:.4f} on {N_FRESH} fresh rows, with "
            f"predictions spread {spread:.2f} times as wide as the targets."
        )
        if not STANDARDISE[variant] and max(abs(m["target_mean"]), m["target_std"]) > 10:
            text += (
                " The targets are far from unit scale, yet Adam's steps do not grow with the gradient, so "
                "their scale does not stall it once each prediction is compared with its own target."
            )
        return text
    return (
        f"Does not fit the {rows} well, with {scaling}: the error is {rel:.3f} of the targets' variance "
        f"({fresh:.3f} on fresh rows) after {epochs} epochs, with predictions spread {spread:.2f} times as "
        "wide as the targets."
    )


def plot_targets_and_fits(results: list[Result], path: Path) -> Path:
    """Target histograms of each sampling, then per variant the predictions against the targets."""
    from .figures import panels, save_figure, variant_title

    fig, axes = panels(len(results) + 1, width=4.2, height=3.4)
    seen: dict[str, np.ndarray] = {}
    for r in results:
        seen.setdefault(r.settings["sampling"], r.y.ravel())
    everything = np.concatenate(list(seen.values()))
    bins = np.linspace(everything.min(), everything.max(), 80)
    for i, (kind, y) in enumerate(sorted(seen.items())):
        axes[0].hist(y, bins=bins, density=True, alpha=0.6, color=f"C{i}", label=f"{kind} rows (std {y.std():.3g})")
    axes[0].set(xlabel="target y", ylabel="density", title="targets of the two samplings")
    axes[0].legend(fontsize=7, loc="upper left")
    for ax, r in zip(axes[1:], results):
        rows = np.random.default_rng(0).choice(len(r.y), min(1000, len(r.y)), replace=False)
        y, pred = r.y.ravel()[rows], np.asarray(r.predict(r.X[rows])).ravel()
        lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.scatter(y, pred, s=4, alpha=0.4, color="C3" if r.settings["broadcast"] else "C2")
        ax.set(xlabel="target y", ylabel="prediction")
        variant_title(ax, r, f"{r.settings['sampling']} rows, rel. MSE {r.metrics['relative_mse']:.3g}")
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    fig.suptitle(
        "poly32: the targets' distributions, and predictions against targets "
        "(red points: broadcast loss; dashed: prediction = target)"
    )
    return save_figure(fig, path)


def _figures(results: list[Result], out: Any) -> list[Path]:
    return [plot_targets_and_fits(results, Path(out) / "poly32_targets.png")]


# The public question this scenario reproduces (what `nnscratch repro` prints as its source).
QUESTION = "Neural network fails to learn regression task when inputs are generated from a simple analytical function"
SITE = "Cross Validated"
URL = "https://stats.stackexchange.com/questions/544195"
CITATION = f'"{QUESTION}", {SITE}' + (f", {URL}" if URL else "")

# What each variant's verdict claims, checked per seed by ``repro.sweep``; the thresholds are the verdict's.
KEY_METRIC = "relative_mse"
_CONSTANT = Claim(
    "it predicts about one value for every row (error above 0.9 of the variance, spread below 0.1)",
    lambda m: m["relative_mse"] > 0.9 and m["spread_ratio"] < 0.1,
)
_FITS = Claim("it fits (error below 0.1 of the variance)", lambda m: m["relative_mse"] < 0.1)
CLAIMS = {
    "failure": _CONSTANT,
    "random-sampling": _CONSTANT,
    "shape-fixed": _FITS,
    "standardised": _FITS,
    "random-fixed": _FITS,
}


SCENARIO = Scenario(
    name="poly32",
    title="a 32-48x4-1 ReLU network predicts one value for a degree-4 polynomial: its loss broadcasts (32, 1) "
    "against (32,)",
    document=CITATION,
    variants={
        "failure": "as posted: special rows, targets (N,) broadcast against predictions (N, 1), Adam 5e-3, 500 epochs",
        "random-sampling": "the post's 'works' case: the sparse random rows, with the same broadcast",
        "shape-fixed": "special rows with the targets reshaped to (N, 1), raw targets",
        "standardised": "special rows, shape fixed and targets standardised",
        "random-fixed": "the sparse random rows with the shape fixed",
    },
    runner=_run,
    expected={
        "failure": ("SHAPE_BROADCAST", "CONSTANT_OUTPUT"),
        "random-sampling": ("SHAPE_BROADCAST", "CONSTANT_OUTPUT"),
        "shape-fixed": (),
        "standardised": (),
        "random-fixed": (),
    },
    figures=_figures,
    question=QUESTION,
    site=SITE,
    url=URL,
)
