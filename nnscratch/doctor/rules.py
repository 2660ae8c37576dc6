"""The rules that turn the doctor's measurements into findings.

Each rule reads the :class:`~nnscratch.doctor.stats.Trace` (probe snapshots, training
losses and per-step events) and returns findings; the codes, their thresholds and the
causal map that orders the findings live in :mod:`nnscratch.doctor.codes`.
"""

from __future__ import annotations

import math
from statistics import median
from typing import Any

import numpy as np

from .codes import Thresholds, finding
from .report import Finding
from .stats import Snapshot, Trace


def _since(snaps: list[Snapshot], bad: list[bool]) -> int:
    """The step of the first snapshot where ``bad`` held (0 for the one taken before training)."""
    return max(next(s.step for s, b in zip(snaps, bad) if b), 0)


# --- rules on the per-step events ----------------------------------------------------------------------------


def event_findings(trace: Trace, last: Any) -> list:
    """Findings from the events: OPTIMIZER_MISMATCH, NON_FINITE, SHAPE_BROADCAST, GRAD_ACCUMULATION."""
    out, ev = [], trace.events
    if "OPTIMIZER_MISMATCH" in ev:
        e = ev["OPTIMIZER_MISMATCH"]
        out.append(
            finding(
                "OPTIMIZER_MISMATCH",
                (
                    f"The optimizer holds none of the model's {e['model_parameters']} parameters (it holds "
                    f"{e['optimizer_parameters']} others: was it built for an earlier model, before this one was "
                    "rebuilt?), so its steps change other arrays and this model never learns."
                ),
                dict(e),
                step=0,
            )
        )
    if "NON_FINITE" in ev:
        e = ev["NON_FINITE"]
        out.append(
            finding(
                "NON_FINITE",
                (
                    f"The loss became NaN or infinite at step {e['step']}; the first non-finite tensor in that step is "
                    f"{e['tensor']}. The last finite loss was {e['last_finite_loss']:.3g}."
                ),
                dict(e),
                step=e["step"],
            )
        )
    if "SHAPE_BROADCAST" in ev:
        shapes = {"pred_shape": last.pred_shape, "target_shape": last.target_shape} if last else {}
        out.append(
            finding(
                "SHAPE_BROADCAST",
                (
                    f"The loss broadcast predictions {shapes.get('pred_shape', '')} against targets "
                    f"{shapes.get('target_shape', '')}: every prediction is compared with every target, so the best "
                    "the network can do is predict their mean for every input."
                ),
                {**ev["SHAPE_BROADCAST"], **shapes},
                step=ev["SHAPE_BROADCAST"]["step"],
            )
        )
    if "GRAD_ACCUMULATION" in ev:
        e = ev["GRAD_ACCUMULATION"]
        out.append(
            finding(
                "GRAD_ACCUMULATION",
                (
                    f"Gradients are being summed across optimizer steps: at step {e['step']} the gradients held "
                    f"{e['backward_passes_in_grad']} backward passes, one more than at the step before, so zero_grad() "
                    "was not called in between. Each step then follows the sum of all past gradients."
                ),
                dict(e),
                step=e["step"],
            )
        )
    return out


# --- rules on the data the network sees (first snapshot) ---------------------------------------------------


def data_rules(s: Snapshot, y_scale: tuple[float, float], th: Thresholds) -> list[Finding]:
    """UNSCALED_INPUT and UNSCALED_TARGET from the first Linear's input and the targets' (|mean|, std)."""
    out = []
    scales = [v for v in s.input_scale if v > 0]
    if scales and (max(scales) > th.input_scale or min(scales) < th.input_scale_low):
        big, small = max(scales), min(scales)
        out.append(
            finding(
                "UNSCALED_INPUT",
                (
                    f"The first layer's inputs are far from unit scale (feature RMS from {small:.3g} to {big:.3g}). "
                    "With weights of order 1/sqrt(fan_in), each unit's pre-activation is dominated by the largest "
                    "features, and the bias cannot move a ReLU's kink into the data in any reasonable number of steps."
                ),
                {
                    "max_feature_rms": big,
                    "min_feature_rms": small,
                    "threshold_high": th.input_scale,
                    "threshold_low": th.input_scale_low,
                },
                step=0,
            )
        )
    mean, std = y_scale
    if max(mean, std) > th.target_scale or 0 < std < th.target_scale_low:
        out.append(
            finding(
                "UNSCALED_TARGET",
                (
                    f"The targets are far from unit scale (|mean| {mean:.3g}, std {std:.3g}). An untrained network "
                    "predicts values of order 1, so the first steps are spent moving the output, and the learning rate "
                    "that suits the hidden layers does not suit the output."
                ),
                {
                    "target_abs_mean": mean,
                    "target_std": std,
                    "threshold_high": th.target_scale,
                    "threshold_low": th.target_scale_low,
                    "initial_loss_over_mean_predictor": s.relative_loss,
                },
                step=0,
            )
        )
    return out


def spare_fitted_run(findings: list[Finding], last: Snapshot, th: Thresholds) -> list[Finding]:
    """Turn scale warnings into information when the run fitted its data anyway.

    Raw targets of size 100, or an ``Exp`` layer that spreads its output over decades, slow
    many runs down; in a run whose final loss is below ``th.fit_ok`` of the mean's they did no
    harm, and calling them a problem would be a false alarm. Not when the network settled on
    predicting 0 (``TRIVIAL_SOLUTION``): a loss that prefers 0 makes the mean the wrong yardstick.
    """
    if last.relative_loss < th.fit_ok and not any(f.code == "TRIVIAL_SOLUTION" for f in findings):
        for f in findings:
            if f.code in ("UNSCALED_TARGET", "EXPLODING_SIGNAL") and f.severity == "warning":
                f.severity = "info"
                f.message += " The network still fits its data, so this did no harm here."
    return findings


# --- rules on the probe snapshots --------------------------------------------------------------------------


def dead_relu(snaps: list[Snapshot], th: Thresholds) -> list[Finding]:
    """Per ReLU layer. A warning when the run did not fit; information when the network fits
    anyway (even with 90% of a layer dead: what is left suffices) or, below 90% dead, when its loss
    is still falling fast at the end: then the dead units only waste capacity."""
    out = []
    first, last = snaps[0], snaps[-1]
    fitted = last.relative_loss < th.fit_ok
    learning = late_fall(snaps) < th.still_falling  # a run cut short: the live units are still learning
    for i, layer in enumerate(last.relus()):
        series = [s.relus()[i].dead for s in snaps]
        if layer.dead > th.dead:
            step = _since(snaps, [d > th.dead for d in series])
            f = finding(
                "DEAD_RELU",
                (
                    f"{layer.dead:.0%} of the {layer.units} units of {layer.kind} layer {layer.name} are off "
                    f"for every probe input or nearly (at the start: {series[0]:.0%}), so they pass no gradient "
                    f"and never recover. They crossed {th.dead:.0%} at step {step}."
                ),
                {
                    "dead_fraction": layer.dead,
                    "dead_at_start": first.relus()[i].dead,
                    "threshold": th.dead,
                    "units": layer.units,
                    "loss_over_mean_predictor": last.relative_loss,
                },
                layer=layer.name,
                step=step,
            )
            if fitted or (learning and layer.dead < 0.9):
                f.severity = "info"
                f.message += (
                    " The network still fits its data" if fitted else " The loss is still falling fast at the end"
                ) + ", so this only wastes capacity."
            out.append(f)
    return out


def linear_regime(snaps: list[Snapshot], th: Thresholds) -> list[Finding]:
    relus = snaps[-1].relus()
    units = sum(r.units for r in relus)
    if not units or not any(r.always_on for r in relus):
        return []
    bending = [max(0.0, sum(r.units * (1 - r.dead - r.always_on) for r in s.relus()) / units) for s in snaps]
    if bending[-1] >= th.switching:
        return []
    step = _since(snaps, [b < th.switching for b in bending])
    return [
        finding(
            "LINEAR_REGIME",
            (
                f"Only {bending[-1]:.0%} of the ReLU units switch on and off within the data; every other unit is "
                "either always on or always off, so over the whole data range the network computes one straight "
                "(affine) function of its input, however long it trains."
            ),
            {"bending_fraction": bending[-1], "threshold": th.switching, "relu_units": units},
            step=step,
        )
    ]


def signal_ratios(s: Snapshot) -> tuple[float, float]:
    """(activation ratio, gradient ratio) through the hidden layers; NaN for fewer than two of them.

    Activation: spread of the last Linear's input over the second Linear's input.
    Gradient: RMS of d loss / d pre-activation at the first Linear over that at the last hidden Linear.
    A spread of exactly zero means a layer of dead units, not a shrinking signal: that is
    DEAD_RELU's finding, so the ratio is then NaN (not measured).
    """
    lin = s.linears()
    if len(lin) < 3:
        return math.nan, math.nan
    acts = [r.in_spread for r in lin[1:]]
    grads = [r.grad_rms for r in lin[:-1]]
    act = acts[-1] / acts[0] if all(acts) else math.nan
    grad = grads[0] / grads[-1] if all(grads) else math.nan
    return act, grad


def signal(snaps: list[Snapshot], th: Thresholds) -> list[Finding]:
    """From the last probe, or from the first one when the run then failed to fit."""
    out = []
    ratios = [signal_ratios(s) for s in snaps]
    when = -1
    # (not "> fit_ok": a run that ended in NaN did not fit either)
    if not snaps[-1].relative_loss < th.fit_ok and not any(r < th.vanishing or r > th.exploding for r in ratios[-1]):
        when = 0  # recovered by the end, but the run did not fit: report the signal at the start
    act, grad = ratios[when]
    later = (
        "at the start (the run then diverged)"
        if not math.isfinite(snaps[-1].relative_loss)
        else "at the start (it later recovered, but the run did not fit)"
    )
    n_hidden = len(snaps[-1].linears()) - 1
    for code, bad, word in (
        ("VANISHING_SIGNAL", lambda r: r < th.vanishing, "shrink"),
        ("EXPLODING_SIGNAL", lambda r: r > th.exploding, "grow"),
    ):
        which = [name for name, r in (("activations", act), ("gradients", grad)) if bad(r)]
        if not which:
            continue
        step = _since(snaps, [bad(a) or bad(g) for a, g in ratios])
        out.append(
            finding(
                code,
                (
                    f"The {' and the '.join(which)} {word} by a factor of "
                    f"{act if which[0] == 'activations' else grad:.3g} across the {n_hidden} hidden layers "
                    f"{'at the end' if when == -1 else later} "
                    f"(at the start: activations {ratios[0][0]:.3g}, gradients {ratios[0][1]:.3g}), so the deep layers "
                    "receive almost no information about the input, or the early layers almost no gradient."
                ),
                {
                    "activation_ratio": act,
                    "gradient_ratio": grad,
                    "threshold": th.vanishing if code == "VANISHING_SIGNAL" else th.exploding,
                    "hidden_layers": n_hidden,
                },
                step=step,
            )
        )
    return out


def constant_output(snaps: list[Snapshot], th: Thresholds) -> list[Finding]:
    """Predictions nearly constant at the end, and not spreading out (a slow run's predictions grow)."""
    rel = [s.pred_spread / s.target_spread if s.target_spread > 0 else math.nan for s in snaps]
    mid = rel[len(rel) // 2]
    growing = rel[-1] > 1.1 * mid and rel[-1] > 1e-3  # still spreading out: a slow run, not a stuck one
    if not (rel[-1] < th.constant and not growing):
        return []
    step = _since(snaps, [r < th.constant for r in rel])
    return [
        finding(
            "CONSTANT_OUTPUT",
            (
                f"The network predicts about the same value for every input: the predictions' spread is "
                f"{rel[-1]:.2%} of the targets' (loss {snaps[-1].relative_loss:.3g} x that of predicting the mean)."
            ),
            {
                "prediction_spread_over_target_spread": rel[-1],
                "threshold": th.constant,
                "loss_over_mean_predictor": snaps[-1].relative_loss,
            },
            step=step,
        )
    ]


def second_half_gain(snaps: list[Snapshot]) -> float:
    """How much the best probe loss improved over the second half of the probes, relative (NaN: too few)."""
    if len(snaps) < 2:
        return math.nan
    half = len(snaps) // 2
    early = min(s.loss for s in snaps[: half + 1])
    late = min(s.loss for s in snaps[half:])
    return (early - late) / early if early > 0 else 0.0


def plateau(snaps: list[Snapshot], th: Thresholds) -> list[Finding]:
    if len(snaps) < 4:
        return []
    half = len(snaps) // 2
    gain = second_half_gain(snaps)
    level = snaps[-1].relative_loss
    stalled = gain < th.plateau_gain and level > th.plateau_level
    if not (stalled or (level > th.near_mean and gain < th.near_mean_gain)):
        return []
    what = (
        f"The loss has not improved by more than {th.plateau_gain:.0%} since step {snaps[half].step} and "
        f"stays at {level:.3g} x the loss of predicting the mean: training has stalled."
        if stalled
        else f"After {snaps[-1].step + 1} steps the loss is still {level:.3g} x that of predicting the mean (it "
        f"improved by {gain:.1%} over the second half): the network has learned almost nothing about how "
        "the targets depend on the inputs."
    )
    return [
        finding(
            "PLATEAU",
            what,
            {
                "gain_over_second_half": gain,
                "threshold_gain": th.plateau_gain,
                "loss_over_mean_predictor": level,
                "threshold_level": th.plateau_level,
                "threshold_near_mean": th.near_mean,
                "threshold_near_mean_gain": th.near_mean_gain,
            },
            step=snaps[half].step,
        )
    ]


def learning_rate(trace: Trace, th: Thresholds) -> list[Finding]:
    """LR_TOO_LARGE / LR_TOO_SMALL from the update-to-weight ratio over the first half of the run.

    A large ratio alone is not a fault (Adam's first steps move small weights a lot), so
    LR_TOO_LARGE also needs an unstable loss: non-finite, or a rise to ``th.unstable`` times
    its best so far on the probe batch (10x that on the noisier per-step training loss),
    unless one step changed the weights by more than their own size.
    """
    snaps = trace.snapshots
    measured = [
        [v for v in r.values() if not math.isnan(v)]
        for r in [trace.first_update] + [s.update_ratio for s in snaps[: max(1, len(snaps) // 2)]]
    ]
    early = [max(r) for r in measured if r]
    if not early:
        return []
    peak, typical = max(early), median(early)
    floor = th.rise_floor * snaps[0].baseline if snaps and math.isfinite(snaps[0].baseline) else 0.0
    rise = max(_rise([s.loss for s in snaps], floor), _rise(trace.losses, floor) / 10)
    # A step larger than the weights themselves (ratio > 10 x th.lr_large) overshoots whatever the loss did.
    unstable = "NON_FINITE" in trace.events or not math.isfinite(rise) or rise > th.unstable or peak > 10 * th.lr_large
    if peak > th.lr_large and unstable:
        return [
            finding(
                "LR_TOO_LARGE",
                (
                    f"Steps changed the weights by up to {peak:.2g} of their size (healthy runs: about 1e-3) "
                    f"and the loss is unstable: it rose to {rise:.3g} x its best value so far. The steps overshoot."
                ),
                {
                    "peak_update_ratio": peak,
                    "threshold": th.lr_large,
                    "loss_rise_over_best": rise,
                    "threshold_rise": th.unstable,
                },
                step=0,
            )
        ]
    # A fully dead layer, or an optimizer that steps none of the model's parameters, also stops the
    # updates, but that is no learning-rate problem.
    dead_layer = any(r.dead >= 0.99 for s in snaps for r in s.relus()) or "OPTIMIZER_MISMATCH" in trace.events
    level, fall = snaps[-1].relative_loss, late_fall(snaps)
    stuck = typical < th.lr_small and level > th.stuck_level
    cut_short = typical < th.lr_slow and level > th.fit_ok and fall < th.still_falling
    cut = rate_cut(trace)
    # A schedule that cut the rate to almost nothing while the loss, unfitted, stalls (a scheduler stepped
    # every batch where every epoch was meant): the early updates were healthy, the late ones are not.
    stopped = cut < th.lr_cut and level > th.fit_ok and second_half_gain(snaps) < th.plateau_gain
    if dead_layer or not (stuck or cut_short or stopped):
        return []
    if stuck or cut_short:
        what = f"Each step changes the weights by only {typical:.2g} of their size (healthy runs: about 1e-3), " + (
            f"and the loss is still {level:.3g} x that of predicting the mean"
            + (
                "."
                if stuck
                else f", though falling fast: the last fifth of the run cut it to {fall:.2g} of what "
                "it was. The run ends long before it converges."
            )
        )
    else:
        what = (
            f"Over the second half of the run the learning rate was {cut:.2g} of its starting value, and the loss "
            f"stalled at {level:.3g} x that of predicting the mean: the updates have all but stopped long before "
            "the network fitted. A schedule that cuts the rate this far (a scheduler stepped every batch where "
            "every epoch was meant?) ends the training early."
        )
    return [
        finding(
            "LR_TOO_SMALL",
            what,
            {
                "update_ratio": typical,
                "threshold": th.lr_small if stuck else th.lr_slow,
                "loss_over_mean_predictor": level,
                "late_fall": fall,
                "threshold_late_fall": th.still_falling,
                "rate_over_start": cut,
                "threshold_rate_cut": th.lr_cut,
            },
            step=0,
        )
    ]


def rate_cut(trace: Trace) -> float:
    """The optimizer's median learning rate at the probes of the second half over its rate at the start
    (NaN when not known)."""
    snaps = trace.snapshots
    late = [s.lr for s in snaps[len(snaps) // 2 :] if math.isfinite(s.lr)]
    return median(late) / trace.first_lr if late and trace.first_lr > 0 else math.nan


def late_fall(snaps: list[Snapshot]) -> float:
    """Final probe loss over the probe loss four fifths into the run (1: flat; NaN: too few probes)."""
    if len(snaps) < 5:
        return math.nan
    before = snaps[(4 * (len(snaps) - 1)) // 5].loss
    return snaps[-1].loss / before if before > 0 else math.nan


def _rise(losses: list[float], floor: float = 0.0) -> float:
    """The largest ratio of a loss to the smallest loss before it (inf once a loss is not finite).

    A best below ``floor`` counts as ``floor``: a run that reached a tiny fraction of the mean
    predictor's loss and then wobbles is not overshooting.
    """
    a = np.asarray(losses, dtype=np.float64)
    if not np.isfinite(a).all():
        return math.inf
    best = np.maximum(np.minimum.accumulate(a)[:-1], floor)  # the best before each later loss
    with np.errstate(over="ignore"):  # a ratio beyond the float range is inf, as in plain Python
        ratios = a[1:][best > 0] / best[best > 0]
    return max(1.0, float(ratios.max())) if ratios.size else 1.0


def heavy_tail(snaps: list[Snapshot], th: Thresholds) -> list[Finding]:
    """Only for runs that did not fit: near a perfect fit the last few residuals always dominate."""
    shares = [s.tail_share for s in snaps]
    share = median(shares)
    if share <= th.tail_share or not snaps[-1].relative_loss > th.fit_ok:
        return []
    step = _since(snaps, [v > th.tail_share for v in shares])
    return [
        finding(
            "HEAVY_TAILED_LOSS",
            (
                f"The worst 1% of the probe rows carry {share:.0%} of the loss (typically, over training), so the "
                "gradient follows a handful of samples and the average loss says little about the rest."
            ),
            {"worst_1pct_share": share, "threshold": th.tail_share},
            step=step,
        )
    ]


def trivial_solution(snaps: list[Snapshot], th: Thresholds) -> list[Finding]:
    """The network does little better than predicting 0, which this loss scores far better than the mean.

    A relative error |pred - y| / |y| costs exactly 1 per row at pred = 0 and grows without
    bound wherever y is near 0, so a network can lower it by giving up. The mean is then the
    wrong yardstick: "loss 0.07 x the mean's" looks like a fit.
    """

    def settled(s: Snapshot) -> bool:
        return s.zero_loss < th.zero_better * s.baseline and th.near_zero[0] <= s.loss / s.zero_loss <= th.near_zero[1]

    if not settled(snaps[-1]):
        return []
    last = snaps[-1]
    return [
        finding(
            "TRIVIAL_SOLUTION",
            (
                f"The network does little better than predicting 0 for every input, and this loss rewards that: "
                f"predicting 0 costs {last.zero_loss:.3g}, predicting the targets' mean {last.baseline:.3g}, "
                f"and the network's loss is {last.loss:.3g} (its predictions' spread is "
                f"{last.pred_spread / last.target_spread:.2g} of the targets'). "
                "A loss that divides the error by something that can be near zero (such as |y|) is ruled by those rows "
                "unless the output is 0, so training settles on that trivial answer."
            ),
            {
                "loss": last.loss,
                "zero_prediction_loss": last.zero_loss,
                "mean_prediction_loss": last.baseline,
                "threshold_zero_over_mean": th.zero_better,
                "threshold_loss_over_zero": th.near_zero,
            },
            step=_since(snaps, [settled(s) for s in snaps]),
        )
    ]


def snapshot_rules(trace: Trace, th: Thresholds) -> list[Finding]:
    snaps = trace.snapshots
    return [
        *dead_relu(snaps, th),
        *linear_regime(snaps, th),
        *signal(snaps, th),
        *constant_output(snaps, th),
        *plateau(snaps, th),
        *learning_rate(trace, th),
        *heavy_tail(snaps, th),
        *trivial_solution(snaps, th),
    ]
