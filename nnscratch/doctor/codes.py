"""The doctor's codes: their thresholds, severities and fixes, the causal map, and the ordering.

:data:`CODES` lists every code with its severity and suggested fix, most likely root cause
first. :data:`CAUSES` is the doctor's causal map: a finding is explained by another when that
code is listed as a possible cause and was seen no later. :func:`order` puts root causes before
the symptoms they explain; a symptom that nothing explains is reported as "cause unclear".
"""

from __future__ import annotations

from dataclasses import dataclass

from .report import Finding


@dataclass(frozen=True)
class Thresholds:
    """Where each code fires (see the README's table for why these values)."""

    input_scale: float = 10.0  # UNSCALED_INPUT: a feature's RMS above this...
    input_scale_low: float = 1e-3  # ...or a non-zero feature's RMS below this
    target_scale: float = 10.0  # UNSCALED_TARGET: max(|mean|, std) of a target column above this...
    target_scale_low: float = 1e-3  # ...or its std below this
    dead: float = 0.5  # DEAD_RELU: more than this fraction of a layer's units off on every probe row
    switching: float = 0.1  # LINEAR_REGIME: fewer than this fraction of ReLU units bend inside the data
    vanishing: float = 1e-2  # VANISHING_SIGNAL: spread shrinks by more than this through the hidden layers
    exploding: float = 1e2  # EXPLODING_SIGNAL: spread grows by more than this through the hidden layers
    constant: float = 0.1  # CONSTANT_OUTPUT: prediction spread below this fraction of the targets'
    lr_small: float = 1e-5  # LR_TOO_SMALL: early update-to-weight ratio below this...
    stuck_level: float = 0.5  # ...while the loss is above this fraction of predicting the mean,
    lr_slow: float = 1e-4  # ...or below this while the loss is still falling fast when the run ends
    # ...or a schedule cut the rate below this fraction of its starting value (median over the second half)
    # while the loss, not fitted, stalled
    lr_cut: float = 1e-3
    still_falling: float = 0.6  # "falling fast": the last fifth of the run cut the loss to below this fraction
    lr_large: float = 1e-1  # LR_TOO_LARGE: early update-to-weight ratio above this, with an unstable loss
    unstable: float = 3.0  # LR_TOO_LARGE: probe loss rose to this multiple of its best so far...
    rise_floor: float = 1e-2  # ...a best counted as at least this fraction of the mean's loss (tiny bests are noise)
    plateau_gain: float = 0.01  # PLATEAU: relative improvement over the second half below this...
    # ...while the loss is above this fraction of predicting the mean: a run that stalls lower has learned most of
    # what it can (strong label noise leaves a healthy run at the noise's share of the variance).
    plateau_level: float = 0.7
    near_mean: float = 0.9  # PLATEAU also when the final loss is still above this fraction of the mean's...
    near_mean_gain: float = 0.05  # ...and improved by less than this over the second half
    fit_ok: float = 0.1  # a run whose final loss is below this fraction of the mean's has fitted
    zero_better: float = 0.5  # TRIVIAL_SOLUTION: predicting 0 costs less than this fraction of the mean's...
    near_zero: tuple[float, float] = (0.8, 1.25)  # ...and the final loss is within this range of 0's
    tail_share: float = 0.5  # HEAVY_TAILED_LOSS: worst 1% of rows carry more than this share of the loss
    init_loss: float = 10.0  # INIT_LOSS_HIGH (diagnose): initial loss above this multiple of the mean's


# code -> (severity, fix). Order of this dict = priority: most likely root cause first.
CODES: dict[str, tuple[str, str]] = {
    "SHAPE_BROADCAST": ("error", "make the target the prediction's shape, e.g. y.reshape(-1, 1)"),
    "GRAD_ACCUMULATION": ("error", "call zero_grad() (model or optimizer) once per optimizer step, before backward"),
    "OPTIMIZER_MISMATCH": (
        "error",
        "build the optimizer from this model's parameters, e.g. optim.Adam(model.parameters(), lr=...), "
        "after the model is (re)built",
    ),
    "TRIVIAL_SOLUTION": (
        "warning",
        "measure the error against a scale that cannot be near zero (a typical |y|, "
        "or the size of the terms that make up y), or use an absolute loss on "
        "standardised targets",
    ),
    "UNSCALED_INPUT": ("warning", "standardise the inputs: (X - X.mean(0)) / X.std(0) (nnscratch.data.Standardizer)"),
    "UNSCALED_TARGET": ("warning", "standardise the targets and undo it on the predictions"),
    "HEAVY_TAILED_LOSS": (
        "warning",
        "find the rows that dominate (outliers, tiny denominators); use a robust loss "
        "(HuberLoss, L1Loss), clip, or change what is predicted (e.g. its log)",
    ),
    "LR_TOO_LARGE": ("warning", "lower the learning rate (try 10x smaller), or clip gradients"),
    "LR_TOO_SMALL": ("warning", "raise the learning rate (try 10x larger) or use Adam"),
    "EXPLODING_SIGNAL": (
        "warning",
        "use a smaller initialisation (e.g. He/Kaiming: std sqrt(2/fan_in)) and bounded "
        "activations; check layers such as exp that amplify",
    ),
    "VANISHING_SIGNAL": (
        "warning",
        "initialise for depth (He/Kaiming for ReLU: std sqrt(2/fan_in)), use fewer layers, or normalise between layers",
    ),
    "DEAD_RELU": (
        "warning",
        "lower the learning rate, standardise the inputs, use He initialisation or a small positive bias, or LeakyReLU",
    ),
    "LINEAR_REGIME": ("warning", "standardise the inputs so the ReLU kinks (at -b/w) can fall inside the data"),
    "NON_FINITE": (
        "error",
        "lower the learning rate, standardise inputs and targets, or clip gradients; check the first tensor named",
    ),
    "INIT_LOSS_HIGH": (
        "warning",
        "scale the targets or the output layer so the untrained network predicts about their mean",
    ),
    "CONSTANT_OUTPUT": ("warning", "fix the cause listed above; if none, check that the inputs carry the signal"),
    "PLATEAU": ("warning", "fix the cause listed above; if none, try a larger learning rate or a schedule"),
    "NOT_MEASURED": (
        "warning",
        "attach the doctor before training as Doctor(model, loss_fn, optimizer), or pass probe=(X, y)",
    ),
}

# effect -> codes that can cause it (the doctor's causal map).
CAUSES: dict[str, tuple[str, ...]] = {
    "NON_FINITE": (
        "LR_TOO_LARGE",
        "EXPLODING_SIGNAL",
        "GRAD_ACCUMULATION",
        "UNSCALED_INPUT",
        "UNSCALED_TARGET",
        "HEAVY_TAILED_LOSS",
    ),
    "LR_TOO_LARGE": ("GRAD_ACCUMULATION", "UNSCALED_INPUT", "UNSCALED_TARGET", "EXPLODING_SIGNAL"),
    "LR_TOO_SMALL": ("UNSCALED_INPUT", "OPTIMIZER_MISMATCH"),
    "EXPLODING_SIGNAL": ("UNSCALED_INPUT", "GRAD_ACCUMULATION"),
    "VANISHING_SIGNAL": ("DEAD_RELU", "SHAPE_BROADCAST", "GRAD_ACCUMULATION", "LR_TOO_LARGE", "TRIVIAL_SOLUTION"),
    "DEAD_RELU": (
        "UNSCALED_INPUT",
        "LR_TOO_LARGE",
        "GRAD_ACCUMULATION",
        "VANISHING_SIGNAL",
        "UNSCALED_TARGET",
        "SHAPE_BROADCAST",
        "TRIVIAL_SOLUTION",
    ),
    "LINEAR_REGIME": ("UNSCALED_INPUT",),
    "INIT_LOSS_HIGH": ("UNSCALED_TARGET", "UNSCALED_INPUT", "EXPLODING_SIGNAL"),
    "CONSTANT_OUTPUT": (
        "OPTIMIZER_MISMATCH",
        "SHAPE_BROADCAST",
        "DEAD_RELU",
        "VANISHING_SIGNAL",
        "UNSCALED_INPUT",
        "UNSCALED_TARGET",
        "LR_TOO_LARGE",
        "LR_TOO_SMALL",
        "GRAD_ACCUMULATION",
        "HEAVY_TAILED_LOSS",
        "TRIVIAL_SOLUTION",
    ),
    "PLATEAU": (
        "OPTIMIZER_MISMATCH",
        "SHAPE_BROADCAST",
        "GRAD_ACCUMULATION",
        "TRIVIAL_SOLUTION",
        "UNSCALED_INPUT",
        "UNSCALED_TARGET",
        "HEAVY_TAILED_LOSS",
        "LR_TOO_SMALL",
        "LR_TOO_LARGE",
        "VANISHING_SIGNAL",
        "DEAD_RELU",
        "LINEAR_REGIME",
        "CONSTANT_OUTPUT",
        "EXPLODING_SIGNAL",
    ),
}


def finding(code: str, message: str, evidence: dict, layer: str | None = None, step: int | None = None) -> Finding:
    severity, fix = CODES[code]
    return Finding(code, severity, message, fix, evidence, layer, step)


# --- ordering --------------------------------------------------------------------------------------------


def order(findings: list[Finding]) -> list[Finding]:
    """Root causes first (by priority), then each symptom after what explains it."""
    priority = {code: i for i, code in enumerate(CODES)}
    present = {f.code: f for f in findings if f.severity != "info"}

    def explains(a: Finding, b: Finding) -> bool:
        if a.code not in CAUSES.get(b.code, ()):
            return False
        if (a.code, b.code) == ("TRIVIAL_SOLUTION", "CONSTANT_OUTPUT"):
            return True  # the same constant output, with its reason: a network can be constant from step 0
        sa, sb = a.step or 0, b.step or 0
        return sa < sb or (sa == sb and priority[a.code] < priority[b.code])

    for f in findings:
        f.caused_by = [c.code for c in present.values() if c is not f and explains(c, f)]
        if f.caused_by:
            f.role = "symptom"
            f.message += f" Most likely caused by {', '.join(f.caused_by)} (listed above)."
        elif f.code in ("CONSTANT_OUTPUT", "PLATEAU", "NON_FINITE", "INIT_LOSS_HIGH"):
            f.role = "symptom, cause unclear"
            f.message += " The cause is unclear: none of the doctor's checks for its usual causes fired."

    depth: dict[int, int] = {}

    def level(f: Finding, seen: frozenset = frozenset()) -> int:
        if id(f) not in depth:
            causes = [present[c] for c in f.caused_by if c not in seen]
            depth[id(f)] = 1 + max((level(c, seen | {f.code}) for c in causes), default=-1)
        return depth[id(f)]

    severity = {"error": 0, "warning": 1, "info": 2}
    return sorted(
        findings, key=lambda f: (f.severity == "info", level(f), priority[f.code], severity[f.severity], f.step or 0)
    )
