"""The first held-out set, retired into the tuning set after a threshold changed.

These 30 runs were the doctor's first held-out set: labelled from the codes' definitions before
the doctor was run on them, and at first never used to tune it. After they had been seen, the
PLATEAU level (``Thresholds.plateau_level``) was raised from 0.5 to 0.7 of the mean predictor's
loss (a healthy run on noisy targets stalls lower), with ``stuck_level`` keeping 0.5 for
LR_TOO_SMALL. As the held-out protocol asks (see :mod:`.heldout`), a threshold changed after
seeing held-out runs moves them into the tuning set: the benchmark now scores them with
:data:`.cases.CASES` as tuning runs, and a new held-out set was written. One of them had already
moved for the same reason (a rule change, see ``MOVED`` below).

Each run is modelled on a kind of failure (or healthy set-up) that users report in public
places, such as Stack Overflow questions, the PyTorch and Keras forums, Kaggle notebooks and
course notes. ``expect`` lists the codes that the codes' definitions (:mod:`nnscratch.doctor.codes`)
say a correct diagnosis must contain; ``()`` marks a healthy run. ``source`` says which kind of
public report the run is modelled on, and ``why`` why the label follows from the codes' definitions.
The labels were set as the held-out protocol describes, on seeds 0, 1 and 2.
"""

from __future__ import annotations

import numpy as np

import nnscratch as ns
from nnscratch.optim import SGD, Adam, AdamW, RMSprop

from ..cases import RelativeError, Reported, _mlp, _std, run

# --- data -----------------------------------------------------------------------------------------------


def friedman1(rng: np.random.Generator, n: int = 512, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Friedman's first benchmark (as scikit-learn's make_friedman1): 10 inputs uniform on [0, 1], five of
    them used; y standardised, shape (n, 1)."""
    X = rng.random((n, 10))
    y = 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3] + 5 * X[:, 4]
    return X, _std((y + noise * rng.standard_normal(n))[:, None])


def product(rng: np.random.Generator, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """4 standard-normal inputs; y = x1·x2 + sin(2 x3) + |x4| (standardised): no single input explains it."""
    X = rng.standard_normal((n, 4))
    return X, _std(X[:, :1] * X[:, 1:2] + np.sin(2 * X[:, 2:3]) + np.abs(X[:, 3:4]))


def radial(rng: np.random.Generator, n: int = 512, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """d standard-normal inputs; y = exp(-|x|²/(2d)) + 0.3 x1 (standardised)."""
    X = rng.standard_normal((n, d))
    return X, _std(np.exp(-(X**2).sum(1, keepdims=True) / (2 * d)) + 0.3 * X[:, :1])


def houses(rng: np.random.Generator, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """House prices in raw units: floor area (sq ft), year built, rooms, distance to the centre (km) -> price ($)."""
    area = np.clip(rng.normal(1800, 600, n), 400, None)
    year = rng.integers(1950, 2021, n).astype(float)
    rooms = rng.integers(1, 7, n).astype(float)
    dist = rng.uniform(1, 40, n)
    price = 120 * area + 900 * (year - 1950) + 8000 * rooms - 25000 * np.log(dist) + rng.normal(0, 15000, n)
    return np.column_stack([area, year, rooms, dist]), (price + 100000)[:, None]


def wine(rng: np.random.Generator, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Standardised inputs; an integer quality score from 3 to 8 (mean about 5.6), as in the wine-quality data."""
    X, y = product(rng, n)
    return X, np.clip(np.round(5.6 + 0.85 * y), 3, 8)


def pixels(rng: np.random.Generator, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """8x8 grey images as raw bytes (0 to 255) -> a standardised brightness contrast between halves."""
    base = rng.uniform(40, 215, (n, 1)) + rng.normal(0, 25, (n, 64))
    tilt = rng.normal(0, 30, (n, 1)) * np.repeat([-1.0, 1.0], 32)[None, :]
    X = np.clip(np.round(base + tilt), 0, 255)
    return X, _std(X[:, 32:].mean(1, keepdims=True) - X[:, :32].mean(1, keepdims=True))


# --- the runs -------------------------------------------------------------------------------------------


def _broken() -> list[Reported]:
    def sigmoid_scores(s):
        X, y = wine(np.random.default_rng(s))
        m = _mlp([4, 32, 32, 1], s, final_activation="sigmoid")
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def zero_init(s):
        X, y = friedman1(np.random.default_rng(s))
        m = _mlp([10, 64, 64, 1], s, init="zeros")
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def adam_large(s):
        X, y = product(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 0.3), 300, 32)

    def misaligned(s):
        rng = np.random.default_rng(s)
        X, y = friedman1(rng, 2048)
        m = _mlp([10, 64, 64, 1], s)
        return run(m, X[rng.permutation(len(X))], y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 64)

    def deep_tanh(s, std, opt):
        X, y = friedman1(np.random.default_rng(s))
        m = _mlp([10] + [32] * 10 + [1], s, activation="tanh", init=ns.init.normal(std))
        return run(m, X, y, ns.MSELoss(), opt(m.parameters()), 200, 32)

    def l1_lognormal(s):
        rng = np.random.default_rng(s)
        X = rng.standard_normal((512, 3))
        y = np.exp(2.5 * X[:, :1] + 0.5 * X[:, 1:2])
        m = _mlp([3, 32, 32, 1], s)
        return run(m, X, y, ns.L1Loss(), Adam(m.parameters(), 1e-3), 400, 32)

    def head_left_out(s):
        X, y = product(np.random.default_rng(s))
        body = _mlp([4, 64, 64], s, final_activation="relu")
        m = ns.Sequential(*body.layers, ns.Linear(64, 1, init="zeros"))
        return run(m, X, y, ns.MSELoss(), Adam(body.parameters(), 1e-3), 400, 32)

    def raw_houses(s):
        X, y = houses(np.random.default_rng(s))
        m = _mlp([4, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def salary_dollars(s):
        rng = np.random.default_rng(s)
        X, y = radial(rng, d=5)
        m = _mlp([5, 32, 1], s)
        return run(m, X, 60000 + 15000 * y, ns.MSELoss(), SGD(m.parameters(), lr=1e-2), 300, 32)

    def epoch_zero_grad(s):
        X, y = radial(np.random.default_rng(s))
        m = _mlp([6, 32, 32, 1], s)
        cfg = run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=1e-3, momentum=0.9), 320, 32)
        return {**cfg, "zero_grad_every": len(X) // 32}

    def nan_inputs(s):
        rng = np.random.default_rng(s)
        X, y = product(rng)
        X[rng.choice(len(X), 3, replace=False), rng.integers(0, 4, 3)] = np.nan
        m = _mlp([4, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 300, 32)

    def huber_broadcast(s):
        X, y = radial(np.random.default_rng(s))
        m = _mlp([6, 32, 32, 1], s)
        return run(m, X, y[:, 0], ns.HuberLoss(broadcast=True), Adam(m.parameters(), 1e-3), 400, 32)

    def rmsprop_small(s):
        X, y = product(np.random.default_rng(s))
        m = _mlp([4, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), RMSprop(m.parameters(), lr=1e-6), 400, 32)

    def raw_pixels(s):
        X, y = pixels(np.random.default_rng(s))
        m = _mlp([64, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=1e-2), 300, 32)

    def unit_errors(s):
        rng = np.random.default_rng(s)
        X, y = radial(rng, 1024)
        y[rng.choice(len(y), len(y) // 100, replace=False)] *= 30.0
        m = _mlp([6, 32, 32, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def positive_init(s):
        X, y = friedman1(np.random.default_rng(s))
        m = _mlp([10, 32, 32, 32, 1], s, init=ns.init.uniform(0.0, 1.0))
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 300, 32)

    def ph_inputs(s):
        rng = np.random.default_rng(s)
        X = rng.uniform(5.0, 9.0, (512, 1))
        m = _mlp([1, 32, 1], s)
        return run(m, X, _std(np.sin(2.5 * X) + 0.3 * X), ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32)

    def sgd_large(s):
        X, y = radial(np.random.default_rng(s))
        m = _mlp([6, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=0.2, momentum=0.9), 300, 32)

    def sgd_small(s):
        X, y = friedman1(np.random.default_rng(s))
        m = _mlp([10, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=2e-6), 400, 32)

    H = Reported
    return [
        H(
            "sigmoid-output-scores-3-to-8",
            ("CONSTANT_OUTPUT", "PLATEAU"),
            sigmoid_scores,
            "a common Stack Overflow question: a sigmoid output layer on regression targets (wine quality scores)",
            "no code names an output range that cannot reach the targets; the sigmoid saturates at 1, so the "
            "predictions' spread falls below 0.1 of the targets' (CONSTANT_OUTPUT) and the loss stays far above "
            "the mean's without improving (PLATEAU)",
        ),
        H(
            "all-zero-init",
            ("DEAD_RELU",),
            zero_init,
            "a common beginner question: every weight initialised to zero, the network predicts one value",
            "every ReLU unit outputs 0 on every row, so all units are on for fewer than 1% of the rows (DEAD_RELU, "
            "whose fix names He initialisation); nothing but the last bias ever gets a gradient",
        ),
        H(
            "adam-lr-0.3",
            ("DEAD_RELU",),
            adam_large,
            "Keras and PyTorch forum reports: Adam given an SGD-sized learning rate, the loss stalls",
            "the first updates are 4x the weights' size and leave over 90% of the second layer's units dead in "
            "a run that has not fitted (DEAD_RELU, whose fix starts with a lower rate); LR_TOO_LARGE also needs the "
            "loss to rise to 3x its best, which happens in some seeds only, so it is welcome but not required",
        ),
        H(
            "inputs-shuffled-targets-not",
            ("PLATEAU",),
            misaligned,
            "Stack Overflow reports of inputs shuffled without their targets (or features and labels misaligned)",
            "no code names misaligned data; nothing links X to y, so the loss stays above 0.9 of the mean's "
            "and improves by less than 5% over the second half (PLATEAU)",
        ),
        H(
            "deep-tanh-weights-n01",
            ("EXPLODING_SIGNAL",),
            lambda s: deep_tanh(s, 1.0, lambda p: SGD(p, lr=1e-3)),
            "exploding gradients in deep tanh networks with unit-variance weights (textbook and forum reports)",
            "with weights N(0, 1) in ten tanh layers the gradients' RMS grows by more than 200x from the last "
            "hidden layer back to the first (EXPLODING_SIGNAL)",
        ),
        H(
            "deep-tanh-weights-0.01",
            ("VANISHING_SIGNAL",),
            lambda s: deep_tanh(s, 0.01, lambda p: Adam(p, 1e-3)),
            "course notes' classic experiment: a deep tanh net with 0.01 * randn weights, activations collapse",
            "the activations' spread shrinks by about 0.05x per layer, over 1e10x through the hidden layers "
            "(VANISHING_SIGNAL)",
        ),
        H(
            "l1-loss-lognormal-target",
            ("HEAVY_TAILED_LOSS",),
            l1_lognormal,
            "forum questions on skewed, heavy-tailed targets (prices, incomes) fitted without a log transform",
            "the run does not fit (L1 loss about half the mean predictor's) and the worst 1% of rows carry "
            "66-77% of the loss (HEAVY_TAILED_LOSS, whose fix names predicting the log)",
        ),
        H(
            "zero-head-left-out-of-optimizer",
            ("CONSTANT_OUTPUT", "PLATEAU"),
            head_left_out,
            "PyTorch forum reports: a newly added output layer left out of the optimizer never trains",
            "no code names a parameter the optimizer does not hold; the zero output layer keeps every prediction "
            "at 0 (CONSTANT_OUTPUT) and the loss at the mean's (PLATEAU)",
        ),
        H(
            "house-prices-raw-units",
            ("UNSCALED_INPUT", "UNSCALED_TARGET"),
            raw_houses,
            "Kaggle house-price beginners: raw square feet and years as inputs, prices in dollars as targets",
            "features with RMS in the thousands (UNSCALED_INPUT) and targets with mean about 3e5 (UNSCALED_TARGET)",
        ),
        H(
            "salary-in-dollars-sgd",
            ("UNSCALED_TARGET", "NON_FINITE"),
            salary_dollars,
            "a common Stack Overflow question: regression on salaries in dollars with SGD, the loss becomes nan",
            "targets with mean 6e4 (UNSCALED_TARGET); the loss is NaN by step 5 in every seed (NON_FINITE)",
        ),
        H(
            "zero-grad-once-per-epoch",
            ("GRAD_ACCUMULATION",),
            epoch_zero_grad,
            "PyTorch forum reports: optimizer.zero_grad() placed in the epoch loop instead of the batch loop",
            "within an epoch each step's gradients hold one backward pass more than the step before "
            "(GRAD_ACCUMULATION)",
        ),
        H(
            "nan-in-inputs",
            ("NON_FINITE",),
            nan_inputs,
            "a very common Stack Overflow question: the loss is nan because a few input values are missing (NaN)",
            "three NaN inputs make the loss NaN at the first batch holding one (NON_FINITE, naming the input)",
        ),
        H(
            "huber-target-shape-broadcast",
            ("SHAPE_BROADCAST",),
            huber_broadcast,
            'PyTorch forum reports of the warning "Using a target size that is different to the input size"',
            "predictions (N, 1) against targets (N,) broadcast in the loss (SHAPE_BROADCAST)",
        ),
        H(
            "rmsprop-lr-1e-6",
            ("PLATEAU",),
            rmsprop_small,
            "forum reports: a fine-tuning-sized learning rate used to train from scratch, the loss does not move",
            "the loss stays at the mean's with under 1% improvement (PLATEAU, whose fix names a larger rate); "
            "LR_TOO_SMALL's threshold (1e-5) is not met, as RMSprop's early updates are about 1e-4 of the weights, "
            "so it is welcome but not required",
        ),
        H(
            "raw-pixels-0-255-sgd",
            ("UNSCALED_INPUT",),
            raw_pixels,
            "a very common question: image pixels fed as 0-255 bytes, forgetting to divide by 255",
            "64 features with RMS about 150 (UNSCALED_INPUT); the loss grows to 1e50 in two seeds but stays finite",
        ),
        H(
            "unit-errors-in-1pct-of-targets",
            ("HEAVY_TAILED_LOSS",),
            unit_errors,
            "data-cleaning reports: a few targets recorded in another unit (x30) dominate an MSE fit",
            "the run does not fit (0.77-0.80 of the mean's loss) and the worst 1% of rows carry over 95% of it "
            "(HEAVY_TAILED_LOSS)",
        ),
        H(
            "uniform-0-1-weights",
            ("EXPLODING_SIGNAL",),
            positive_init,
            "a common NumPy-from-scratch mistake: weights from np.random.rand (all positive) instead of randn",
            "all-positive weights multiply the activations' spread by 10-15x per layer, about 200x across the "
            "three hidden layers (EXPLODING_SIGNAL)",
        ),
        H(
            "ph-inputs-5-to-9",
            ("LINEAR_REGIME",),
            ph_inputs,
            'Stack Overflow questions "my network only fits a straight line" on inputs far from 0 (here 5 to 9)',
            "no ReLU unit switches on and off inside the data (LINEAR_REGIME); the inputs' RMS of about 7 is "
            "below UNSCALED_INPUT's threshold, so only LINEAR_REGIME names the cause",
        ),
        H(
            "sgd-momentum-lr-0.2",
            ("LR_TOO_LARGE",),
            sgd_large,
            "forum reports: SGD with momentum 0.9 and a large rate, the loss drops then jumps back up",
            "early updates are 0.2-0.4 of the weights and the loss rises to 6x or more of its best, or to NaN "
            "(LR_TOO_LARGE)",
        ),
        H(
            "sgd-lr-2e-6",
            ("LR_TOO_SMALL",),
            sgd_small,
            "forum reports: plain SGD with a tiny learning rate, the loss never moves",
            "early updates are under 3e-6 of the weights while the loss stays at the mean's (LR_TOO_SMALL)",
        ),
    ]


def _healthy() -> list[Reported]:
    def friedman_adam(s):
        X, y = friedman1(np.random.default_rng(s))
        m = _mlp([10, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 600, 32)

    def sine_tanh(s):
        rng = np.random.default_rng(s)
        X = rng.uniform(-np.pi, np.pi, (256, 1))
        m = _mlp([1, 32, 32, 1], s, activation="tanh")
        return run(m, X, np.sin(X), ns.MSELoss(), SGD(m.parameters(), lr=0.05, momentum=0.9), 500)

    def rmsprop_three(s):
        rng = np.random.default_rng(s)
        X = rng.standard_normal((512, 5))
        Y = _std(np.column_stack([np.tanh(X[:, 0] + X[:, 1]), X[:, 2] * X[:, 3], np.cos(X[:, 4]) + 0.5 * X[:, 0]]))
        m = _mlp([5, 64, 3], s)
        return run(m, X, Y, ns.MSELoss(), RMSprop(m.parameters(), lr=1e-3), 500, 64)

    def adamw_silu(s):
        X, y = radial(np.random.default_rng(s))
        m = _mlp([6, 64, 64, 1], s, activation="silu")
        return run(m, X, y, ns.MSELoss(), AdamW(m.parameters(), 1e-3, weight_decay=1e-2), 500, 32)

    def label_noise(s):
        X, y = friedman1(np.random.default_rng(s), noise=7.0)
        m = _mlp([10, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 1e-3), 600, 32)

    def frozen_features(s):
        X, y = radial(np.random.default_rng(s), d=4)
        m = _mlp([4, 128, 1], s, init="he_normal")
        return run(m, X, y, ns.MSELoss(), Adam(m.layers[-1].parameters(), 1e-2), 500, 32)

    def small_full_batch(s):
        rng = np.random.default_rng(s)
        X = rng.uniform(-2, 2, (64, 1))
        m = _mlp([1, 64, 64, 1], s)
        return run(m, X, _std(np.sin(2 * X) + 0.5 * X), ns.MSELoss(), Adam(m.parameters(), 3e-3), 800)

    def l1_student_t(s):
        rng = np.random.default_rng(s)
        X, y = product(rng)
        m = _mlp([4, 64, 64, 1], s)
        noisy = y + 0.3 * rng.standard_t(2, y.shape)
        return run(m, X, noisy, ns.L1Loss(), Adam(m.parameters(), 3e-3), 600, 32)

    def deep_leaky(s):
        X, y = radial(np.random.default_rng(s))
        m = _mlp([6] + [48] * 6 + [1], s, activation="leaky_relu", init="he_normal")
        return run(m, X, y, ns.MSELoss(), SGD(m.parameters(), lr=1e-2, momentum=0.9, nesterov=True), 400, 32)

    def softplus_huber(s):
        X, y = friedman1(np.random.default_rng(s))
        m = _mlp([10, 64, 64, 1], s, activation="softplus")
        return run(m, X, y, ns.HuberLoss(), Adam(m.parameters(), 1e-2), 1000, 32)

    H = Reported
    healthy = "standardised targets, a standard optimizer at a standard rate: the loss falls steadily"
    return [
        H(
            "friedman1-adam",
            (),
            friedman_adam,
            "a standard benchmark (Friedman #1, as scikit-learn's make_friedman1) with a default Adam set-up",
            healthy + " (to 0.1 of the mean's)",
        ),
        H(
            "sine-tanh-full-batch-momentum",
            (),
            sine_tanh,
            "the classic tutorial fit of sin(x) with a small tanh network, full batch, SGD with momentum",
            healthy + " (to 4e-4 of the mean's)",
        ),
        H(
            "rmsprop-three-outputs",
            (),
            rmsprop_three,
            "a textbook multi-output regression trained with RMSprop",
            healthy + " (to 0.04 of the mean's)",
        ),
        H(
            "adamw-silu-radial",
            (),
            adamw_silu,
            "a modern default: SiLU activations, AdamW with weight decay 0.01",
            healthy + " (to 3e-3 of the mean's)",
        ),
        H(
            "strong-label-noise",
            (),
            label_noise,
            "questions about a loss that stays high on noisy labels: the noise sets a floor, nothing is broken",
            "the noise carries about two thirds of the target variance; the loss falls to about 0.6 of the "
            "mean's, the floor, and is still improving by about 10% over the second half: nothing to fix",
        ),
        H(
            "frozen-random-features-head-only",
            (),
            frozen_features,
            "transfer learning as the forums describe it: freeze the body (leave it out of the optimizer), train "
            "the head",
            "leaving parameters out of the optimizer is how nnscratch freezes them; the head fits to 0.01 of the "
            "mean's. The frozen layer's unused gradients add up between steps, but no step uses them, so this is "
            "not the forgotten zero_grad() that GRAD_ACCUMULATION describes",
        ),
        H(
            "64-rows-full-batch-adam",
            (),
            small_full_batch,
            "a small data set fitted full batch with Adam until the loss is tiny (the healthy run in this issue)",
            healthy + " (to 1e-5 of the mean's)",
        ),
        H(
            "l1-loss-student-t-noise",
            (),
            l1_student_t,
            "the textbook remedy for heavy-tailed noise: an L1 loss, which fits the conditional median",
            "the loss falls to the noise floor (0.40-0.48 of the mean predictor's L1 loss); the worst 1% of rows "
            "carry about 10% of it: nothing to fix",
        ),
        H(
            "deep-leaky-relu-nesterov",
            (),
            deep_leaky,
            "a deep LeakyReLU network with He initialisation and Nesterov momentum, as deep-learning courses teach",
            healthy + " (to under 0.01 of the mean's); the signal keeps its size through six layers",
        ),
        H(
            "softplus-huber",
            (),
            softplus_huber,
            "a smooth (softplus) network trained with the Huber loss, a common robust-regression set-up",
            healthy + " (to about 0.23 of the mean's Huber loss after 1000 steps, still falling)",
        ),
    ]


RETIRED: list[Reported] = _broken() + _healthy()
# The first to move: a rule changed after this run was seen (gradient accumulation is now judged on the
# parameters the optimizer steps, not on a frozen layer's), before the PLATEAU level moved the others.
MOVED = ("frozen-random-features-head-only",)


def _rejected() -> list[tuple[Reported, str]]:
    """Runs written for this set and dropped before the doctor was run on them, with the reason.

    Each was run without the doctor (the loss over the full data, the predictions' spread, the dead units'
    share, the update-to-weight ratio) to check that it fails as designed; these did not, or not in a way
    that any code's definition describes in every seed. They are kept so that the claim can be checked.
    """

    def sorted_batches(s):
        X, y = friedman1(np.random.default_rng(s))
        order = np.argsort(y[:, 0])
        m = _mlp([10, 64, 64, 1], s)
        return {**run(m, X[order], y[order], ns.MSELoss(), Adam(m.parameters(), 1e-3), 400, 32), "order": "sequential"}

    def last_layer_only(s):
        X, y = product(np.random.default_rng(s))
        m = _mlp([4, 8, 8, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.layers[-1].parameters(), 3e-2), 1200, 32)

    def mape_celsius(s):
        rng = np.random.default_rng(s)
        X, y = product(rng)
        celsius = 8.0 + 6.0 * _std(y + rng.standard_normal(y.shape))
        m = _mlp([4, 32, 32, 1], s)
        return run(m, X, celsius, RelativeError(), Adam(m.parameters(), 1e-3), 400, 32)

    def adam_friedman(s):
        X, y = friedman1(np.random.default_rng(s))
        m = _mlp([10, 64, 64, 1], s)
        return run(m, X, y, ns.MSELoss(), Adam(m.parameters(), 0.1), 300, 32)

    H = Reported
    return [
        (
            H("sorted-by-target-no-shuffle", ("PLATEAU",), sorted_batches, "a loader without shuffle, data sorted"),
            "with Adam at 1e-3 (and at 3e-3, 1e-2, or SGD) the loss ends at 0.2-0.3 of the mean's and is still "
            "falling: worse than shuffled, but no code's definition describes it (no plateau, no instability)",
        ),
        (
            H("only-last-layer-in-optimizer", ("PLATEAU",), last_layer_only, "only model.fc given to the optimizer"),
            "the loss stalls at 0.72-0.93 of the mean's, but PLATEAU's definition held in two seeds of three; "
            "replaced by zero-head-left-out-of-optimizer",
        ),
        (
            H("mape-on-celsius-crossing-zero", ("TRIVIAL_SOLUTION",), mape_celsius, "MAPE on targets near 0"),
            "TRIVIAL_SOLUTION's definition (a loss within 0.8-1.25 of predicting 0) held in two seeds of three "
            "(0.78 in the third); no held-out run has TRIVIAL_SOLUTION",
        ),
        (
            H("adam-lr-0.1-friedman1", ("LR_TOO_LARGE",), adam_friedman, "Adam with an SGD-sized rate"),
            "the loss ends at 0.24-0.41 of the mean's with rises under 3x its best: no code's definition held; "
            "replaced by adam-lr-0.3",
        ),
    ]


REJECTED: list[tuple[Reported, str]] = _rejected()
