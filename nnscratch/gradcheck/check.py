"""Check a module's, a loss's or a whole model's hand-written backward against finite differences.

Each check turns its subject into one scalar function f of named tensors (the input and
every parameter) whose analytic gradient the subject's backward provides:

- a module: f(x, θ) = Σ r ⊙ module(x) with r a random *signed* Gaussian array, so every
  row and column of the Jacobian takes part (the backward is called with grad_out = r);
- a loss: f(pred) = loss(pred, target) (projected on r when ``reduction="none"``);
- a model: f(x, θ) = loss(model(x), y).

The subject is deep-copied and, by default, cast to float64, so a float32 model is
checked through a float64 copy and the caller's gradients are left alone.

**Full mode** perturbs every element (4 evaluations of f each). **Fast mode** takes
``probes`` random signed Gaussian directions v per tensor and compares the directional
derivative ⟨∇f, v⟩ with a finite difference along v: 4·probes evaluations per tensor
instead of 4 per element. Gaussian (not non-negative) directions let opposite errors
show instead of cancelling. A tensor whose probes disagree, or cross kinks on both sides
of the base point (which makes them inconclusive), is re-checked element by element, so
the report still names the worst element.

**Unverified elements.** An element whose stencil crosses several kinks at once, on both
sides, gives one-sided slopes that say nothing about the analytic value. It is re-checked
with steps 10, 100, ... 10⁴ times smaller, which resolves kinks that lie near the point;
kinks exactly at it (a bias-free ReLU layer fed a row of zeros) stay unresolved. Such an
element fails the check, and the report says why, unless ``allow_unverified=True``.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..backend import backend_of, get_array_module, to_numpy
from ..errors import ConfigError, DTypeError, NonFiniteError, PrecisionWarning, ShapeError
from ..losses import Loss
from ..module import Module
from ..rng import SeedLike, as_generator
from ..validation import check_flag, check_number
from .numeric import (
    FiniteDifference,
    KinkWatch,
    direction_mover,
    element_mover,
    machine_epsilon,
    resolve_steps,
    sample_lines,
)
from .report import GradcheckReport, TensorCheck, compare

# Unverified elements are re-checked with steps REFINE_FACTOR, REFINE_FACTOR², ... times smaller.
REFINE_ROUNDS = 4
REFINE_FACTOR = 10.0


class _LineOptions(TypedDict):
    """The keyword arguments every :func:`sample_lines` call of one check shares."""

    richardson: bool
    kinks: KinkWatch
    dtype: np.dtype
    scale: float
    f0: float


class _CompareOptions(TypedDict):
    """The keyword arguments every :func:`compare` call of one check shares."""

    rtol: float
    atol: float | None
    safety: float
    allow_unverified: bool


@dataclass
class _Problem:
    """A scalar function f() of the arrays in ``tensors`` (perturbed in place), and its analytic gradient."""

    subject: str
    tensors: dict[str, Any]
    evaluate: Callable[[], float]
    analytic: dict[str, Any]
    kinks: KinkWatch
    scale: float  # the magnitude of f's rounding error divided by ε (see _analytic_pass)
    model_dtype: str
    problems: list[str]


def _numeric_dtype(dtype: Any) -> np.dtype:
    machine_epsilon(np.float64 if dtype is None else dtype)  # float32 or float64, or a ConfigError
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype == np.float32:
        warnings.warn(
            "gradcheck in float32: finite differences lose about half of float32's 7 digits, so the "
            "tolerance is widened accordingly; leave dtype=None to check through a float64 copy.",
            PrecisionWarning,
            stacklevel=3,
        )
    return dtype


def _copy_as(subject: Any, dtype: np.dtype) -> Any:
    """A deep copy of a module or loss whose parameters (and ``dtype`` attributes) are in ``dtype``."""
    subject = copy.deepcopy(subject)
    if isinstance(subject, Module):
        for _, m in subject.named_modules():
            current = getattr(m, "dtype", None)
            if isinstance(current, np.dtype) and current.kind == "f":
                m.dtype = dtype  # type: ignore[attr-defined]  # only modules that have a dtype (Linear) get here
        for p in subject.parameters():
            xp = get_array_module(p.data)
            p.data = xp.ascontiguousarray(p.data.astype(dtype))
            p.grad = xp.zeros_like(p.data)
    return subject


def _model_dtype(module: Module, x: Any) -> str:
    params = module.parameters()
    return str(params[0].dtype if params else getattr(x, "dtype", np.dtype(np.float64)))


def _as_work(x: Any, dtype: np.dtype, name: str) -> Any:
    if not hasattr(x, "dtype"):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise DTypeError(f"gradcheck: {name} must be an array of numbers, got {type(x).__name__}: {exc}") from exc
    if x.dtype.kind not in "fiub":
        raise DTypeError(
            f"gradcheck: {name} must hold real numbers, got dtype {x.dtype}; pass {name}.real or abs({name})."
        )
    work = get_array_module(x).array(x, dtype=dtype, copy=True, order="C")
    bad = ~get_array_module(work).isfinite(work)
    if bool(bad.any()):  # f would be NaN everywhere: nothing could be compared
        raise NonFiniteError(
            f"gradcheck: {name} holds {int(bad.sum())} non-finite value(s) (NaN or inf); check at a finite point."
        )
    return work


def _check_subject(subject: Any, name: str, where: str) -> None:
    if not isinstance(subject, Module):
        raise ConfigError(
            f"{where} expects an nnscratch Module as {name} (a layer or a model with forward and backward), "
            f"got {type(subject).__name__}: {subject!r:.60}."
        )


def _check_options(**options: Any) -> None:
    """The keyword options every check shares."""
    for name in ("fast", "richardson", "allow_unverified"):
        check_flag(options[name], name)
    check_number(options["probes"], "probes", low=1, integer=True)
    for name in ("rtol", "atol"):
        if options[name] is not None:
            check_number(options[name], name, low=0)
    if options["safety"] is not None:
        check_number(options["safety"], "safety", low=0, low_open=True)


def _analytic_pass(
    net: Module, x: Any, head: Callable[[Any], Any], problems: list[str]
) -> tuple[dict[str, Any], float]:
    """Forward x, ``grad_out = head(output)``, backward; return the gradients and f's rounding scale.

    The scale: a relative rounding error ε in a layer's output moves f by about
    ε·Σ|∂f/∂out ⊙ out|, so that sum over every layer (hooks see each output and its
    gradient) is the scale of f's rounding error; |f| alone understates it when the terms
    of f cancel. Also notes it when the backward edits the gradient it was given, which
    breaks an engine contract (an earlier layer may still hold that array).
    """
    outputs: dict[int, Any] = {}
    terms: list[float] = []

    def keep(m: Module, _: Any, out: Any) -> None:
        outputs[id(m)] = out

    def add(m: Module, grad: Any, _: Any) -> None:
        if id(m) in outputs and getattr(grad, "shape", None) == outputs[id(m)].shape:
            terms.append(float(abs(grad * outputs[id(m)]).sum()))

    removers = [
        r for _, m in net.named_modules() for r in (m.register_forward_hook(keep), m.register_backward_hook(add))
    ]
    try:
        net.zero_grad()
        grad_out = head(net(x))
        sent = grad_out.copy()
        grad_in = net.backward(sent)
    finally:
        for remove in removers:
            remove()
    if not bool((sent == grad_out).all()):
        problems.append(
            f"{type(net).__name__}.backward (or a layer inside it) modified its incoming gradient in "
            "place; an earlier layer or a skip connection may still hold that array. Return a new "
            "array instead."
        )
    analytic = {"input": grad_in, **{name: p.grad.copy() for name, p in net.named_parameters()}}
    shapes = {"input": tuple(x.shape), **{name: p.shape for name, p in net.named_parameters()}}
    for name, g in analytic.items():
        if getattr(g, "shape", None) != shapes[name]:
            problems.append(f"gradient of {name} has shape {tuple(getattr(g, 'shape', ()))}, expected {shapes[name]}.")
    return analytic, sum(terms)


def _module_problem(module: Module, x: Any, dtype: np.dtype, gen: np.random.Generator) -> _Problem:
    model_dtype = _model_dtype(module, x)
    net = _copy_as(module, dtype)
    x = _as_work(x, dtype, "x")
    problems: list[str] = []
    r: list[Any] = []

    def head(out: Any) -> Any:  # f = Σ r ⊙ out, with r a signed Gaussian: df/dout = r
        r.append(get_array_module(out).asarray(gen.standard_normal(out.shape), dtype=dtype))
        return r[0]

    analytic, scale = _analytic_pass(net, x, head, problems)
    tensors = {"input": x, **{name: p.data for name, p in net.named_parameters()}}
    return _Problem(
        type(module).__name__,
        tensors,
        lambda: float((r[0] * net(x)).sum()),
        analytic,
        KinkWatch(m for _, m in net.named_modules()),
        scale,
        model_dtype,
        problems,
    )


def _loss_value(loss: Loss, pred: Any, target: Any, r: Any) -> float:
    value = loss(pred, target)
    return float((r * value).sum()) if loss.reduction == "none" else float(value)


def _loss_head(loss: Loss, target: Any, gen: np.random.Generator) -> tuple[Callable[[Any], Any], list[float]]:
    """``head(pred) -> d f / d pred`` for f = loss(pred, target) (projected on a random r for "none").

    The second value receives f's rounding scale: |f| + Σ |∂f/∂pred| (|pred| + |target|),
    the rounding of pred - target carried into f.
    """
    state: list[Any] = []

    def head(pred: Any) -> Any:
        xp = get_array_module(pred)
        r = xp.asarray(gen.standard_normal(pred.shape), dtype=pred.dtype) if loss.reduction == "none" else 1.0
        f0 = _loss_value(loss, pred, target, r)
        grad = loss.backward(r) if loss.reduction == "none" else loss.backward()
        state[:] = [r, abs(f0) + float((abs(grad) * (abs(pred) + abs(target))).sum())]
        return grad

    return head, state


def _loss_problem(loss: Loss, pred: Any, target: Any, dtype: np.dtype, gen: np.random.Generator) -> _Problem:
    model_dtype = str(getattr(pred, "dtype", np.dtype(np.float64)))
    fn = _copy_as(loss, dtype)
    pred, target = _as_work(pred, dtype, "pred"), _as_work(target, dtype, "target")
    head, state = _loss_head(fn, target, gen)
    grad = head(pred)
    r, scale = state
    problems = (
        []
        if grad.shape == pred.shape
        else [f"gradient of pred has shape {tuple(grad.shape)}, expected {tuple(pred.shape)}."]
    )
    return _Problem(
        repr(loss),
        {"pred": pred},
        lambda: _loss_value(fn, pred, target, r),
        {"pred": grad},
        KinkWatch([fn]),
        scale,
        model_dtype,
        problems,
    )


def _model_problem(model: Module, loss: Loss, x: Any, y: Any, dtype: np.dtype, gen: np.random.Generator) -> _Problem:
    model_dtype = _model_dtype(model, x)
    net, fn = _copy_as(model, dtype), _copy_as(loss, dtype)
    x, y = _as_work(x, dtype, "x"), _as_work(y, dtype, "y")
    head, state = _loss_head(fn, y, gen)
    problems: list[str] = []
    analytic, scale = _analytic_pass(net, x, head, problems)
    r, loss_scale = state
    tensors = {"input": x, **{name: p.data for name, p in net.named_parameters()}}
    sources = [m for _, m in net.named_modules()] + [fn]
    return _Problem(
        f"{type(model).__name__} + {loss!r}",
        tensors,
        lambda: _loss_value(fn, net(x), y, r),
        analytic,
        KinkWatch(sources),
        scale + loss_scale,
        model_dtype,
        problems,
    )


def _run(
    problem: _Problem,
    *,
    fast: bool,
    probes: int,
    gen: np.random.Generator,
    richardson: bool,
    dtype: np.dtype,
    rtol: float | None,
    atol: float | None,
    safety: float | None,
    allow_unverified: bool = False,
) -> GradcheckReport:
    eps = machine_epsilon(dtype)
    rtol = 10 * np.sqrt(eps) if rtol is None else float(rtol)
    safety = (2.0 if dtype == np.float64 else 8.0) if safety is None else float(safety)
    options: _CompareOptions = {"rtol": rtol, "atol": atol, "safety": safety, "allow_unverified": allow_unverified}
    f0 = problem.evaluate()  # the base point, shared by every tensor's stencils
    problem.kinks.mark()
    lines: _LineOptions = {
        "richardson": richardson,
        "kinks": problem.kinks,
        "dtype": dtype,
        "scale": problem.scale,
        "f0": f0,
    }
    checks: list[TensorCheck] = []
    for name, tensor in problem.tensors.items():
        grad = problem.analytic[name]
        if getattr(grad, "shape", None) != tuple(tensor.shape):
            continue  # already reported as a problem
        grad = to_numpy(grad).astype(np.float64)
        check, spent = _fast(problem, name, tensor, grad, probes, gen, lines, options) if fast else (None, 0)
        if check is None or not check.passed:
            fd = sample_lines(
                problem.evaluate, element_mover(tensor), resolve_steps(None, tensor, dtype, richardson), **lines
            )
            fd = _refine(problem, tensor, fd, lines)
            check = compare(
                name, grad, fd.reshape(tuple(tensor.shape)), mode="fast→full" if fast else "full", **options
            )
        check.evaluations += spent
        checks.append(check)
    backend = backend_of(next(iter(problem.tensors.values())))
    mode = f"fast ({probes} probes per tensor)" if fast else "full"
    return GradcheckReport(
        problem.subject,
        checks,
        dtype=str(dtype),
        model_dtype=problem.model_dtype,
        backend=backend,
        mode=mode,
        evaluations=1 + sum(c.evaluations for c in checks),
        problems=problem.problems,
    )


def _refine(problem: _Problem, tensor: Any, fd: FiniteDifference, lines: _LineOptions) -> FiniteDifference:
    """Re-check the unverified elements of ``fd`` (flat, one per element) with ever smaller steps.

    A kink near the point moves out of a small enough stencil; the elements that resolve take
    the smaller stencil's results. Those still unverified after REFINE_ROUNDS keep theirs.
    """
    todo = np.flatnonzero(~fd.verified)
    steps = fd.step.copy()
    move = element_mover(tensor)
    for _ in range(REFINE_ROUNDS):
        if not todo.size:
            break
        steps[todo] /= REFINE_FACTOR
        index = todo  # bound now: the mover below must see this round's elements

        def sub_move(i: int, t: float | None, index: np.ndarray = index) -> float:
            return move(int(index[i]), t)

        sub = sample_lines(problem.evaluate, sub_move, steps[todo], **lines)
        fd.evaluations += sub.evaluations
        done = sub.verified
        for key, value in vars(sub).items():
            if isinstance(value, np.ndarray):
                getattr(fd, key)[todo[done]] = value[done]
        todo = todo[~done]
    return fd


def _fast(
    problem: _Problem,
    name: str,
    tensor: Any,
    grad: np.ndarray,
    probes: int,
    gen: np.random.Generator,
    lines: _LineOptions,
    options: _CompareOptions,
) -> tuple[TensorCheck | None, int]:
    """Directional derivatives along signed Gaussian probes, and the evaluations of f they took.

    The check is None when the probes crossed kinks on both sides (inconclusive), and then
    the tensor is checked element by element, as when a probe fails.
    """
    xp = get_array_module(tensor)
    directions = gen.standard_normal((probes, *tensor.shape)).astype(tensor.dtype)
    size = float(np.sqrt(np.mean(to_numpy(tensor).astype(np.float64) ** 2))) if tensor.size else 0.0
    steps = np.full(probes, machine_epsilon(tensor.dtype) ** (1 / 5 if lines["richardson"] else 1 / 3) * max(size, 1))
    fd = sample_lines(problem.evaluate, direction_mover(tensor, xp.asarray(directions)), steps, **lines)
    if not fd.verified.all():
        return None, fd.evaluations
    analytic = directions.reshape(probes, -1).astype(np.float64) @ grad.reshape(-1)
    check = compare(name, analytic, fd, mode="fast", **options)
    check.worst_index, check.shape, check.evaluations = None, tuple(tensor.shape), 0
    return check, fd.evaluations


def check_module(
    module: Module,
    x: ArrayLike,
    *,
    fast: bool = False,
    probes: int = 2,
    rng: SeedLike = None,
    richardson: bool = False,
    dtype: DTypeLike | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    safety: float | None = None,
    allow_unverified: bool = False,
) -> GradcheckReport:
    """Check ``module.backward`` for the input and every parameter at input ``x``.

    x: a valid input (N, D) for the module. fast: directional checks with ``probes``
    Gaussian probes per tensor (element-wise re-check of a failing tensor). rng: seed or
    Generator for the output projection and the probes. richardson: O(h⁴) differences.
    dtype: the numeric dtype (float64; float32 warns and widens the tolerance).
    rtol, atol, safety: tolerance floor and error-estimate multiplier (see
    :mod:`nnscratch.gradcheck.report`); defaults depend on the dtype.
    allow_unverified: accept elements whose finite differences cross several kinks at once
    even at the smallest step (see the module's docstring); by default they fail the check.
    Returns a :class:`GradcheckReport`; ``check_module(...).assert_ok()`` raises on failure.
    """
    _check_subject(module, "module", "check_module")
    _check_options(
        fast=fast,
        probes=probes,
        richardson=richardson,
        rtol=rtol,
        atol=atol,
        safety=safety,
        allow_unverified=allow_unverified,
    )
    dtype = _numeric_dtype(dtype)
    gen = as_generator(rng)
    return _run(
        _module_problem(module, x, dtype, gen),
        fast=fast,
        probes=probes,
        gen=gen,
        richardson=richardson,
        dtype=dtype,
        rtol=rtol,
        atol=atol,
        safety=safety,
        allow_unverified=allow_unverified,
    )


def check_loss(
    loss: Loss,
    pred: ArrayLike,
    target: ArrayLike,
    *,
    fast: bool = False,
    probes: int = 2,
    rng: SeedLike = None,
    richardson: bool = False,
    dtype: DTypeLike | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    safety: float | None = None,
    allow_unverified: bool = False,
) -> GradcheckReport:
    """Check ``loss.backward`` (d loss / d pred) at ``(pred, target)``; options as :func:`check_module`.

    With ``reduction="none"`` the per-element losses are projected on a random signed array.
    """
    if not isinstance(loss, Loss):
        raise ConfigError(f"check_loss expects an nnscratch Loss, got {type(loss).__name__}.")
    _check_options(
        fast=fast,
        probes=probes,
        richardson=richardson,
        rtol=rtol,
        atol=atol,
        safety=safety,
        allow_unverified=allow_unverified,
    )
    dtype = _numeric_dtype(dtype)
    gen = as_generator(rng)
    return _run(
        _loss_problem(loss, pred, target, dtype, gen),
        fast=fast,
        probes=probes,
        gen=gen,
        richardson=richardson,
        dtype=dtype,
        rtol=rtol,
        atol=atol,
        safety=safety,
        allow_unverified=allow_unverified,
    )


def check_model(
    model: Module,
    loss: Loss,
    x: ArrayLike,
    y: ArrayLike,
    *,
    fast: bool = False,
    probes: int = 2,
    rng: SeedLike = None,
    richardson: bool = False,
    dtype: DTypeLike | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    safety: float | None = None,
    allow_unverified: bool = False,
) -> GradcheckReport:
    """Check the gradient of ``loss(model(x), y)`` for the input and every parameter.

    x, y: a batch and its targets; the other options are those of :func:`check_module`.
    """
    _check_subject(model, "model", "check_model")
    if not isinstance(loss, Loss):
        raise ConfigError(f"check_model expects an nnscratch Loss as loss, got {type(loss).__name__}.")
    _check_options(
        fast=fast,
        probes=probes,
        richardson=richardson,
        rtol=rtol,
        atol=atol,
        safety=safety,
        allow_unverified=allow_unverified,
    )
    x_rows, y_rows = (getattr(a, "shape", (None,))[:1] for a in (x, y))
    if x_rows and y_rows and None not in (x_rows[0], y_rows[0]) and x_rows != y_rows:
        raise ShapeError(f"check_model: x has {x_rows[0]} rows but y has {y_rows[0]}; they must be the same batch.")
    dtype = _numeric_dtype(dtype)
    gen = as_generator(rng)
    return _run(
        _model_problem(model, loss, x, y, dtype, gen),
        fast=fast,
        probes=probes,
        gen=gen,
        richardson=richardson,
        dtype=dtype,
        rtol=rtol,
        atol=atol,
        safety=safety,
        allow_unverified=allow_unverified,
    )
