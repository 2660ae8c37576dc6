"""Finite differences: the numeric side of a gradient check, with its own error bars.

Everything here looks at a scalar function along a line, φ(t) = f(x + t·d), where d is
either one coordinate (an element of a tensor) or a random direction (fast mode).

**Central differences.** D(h) = (φ(h) - φ(-h)) / 2h = φ'(0) + φ'''(0) h²/6 + O(h⁴). Two
sources of error pull the step h in opposite directions: truncation (∝ h²) and rounding,
since each value of f carries an absolute error δ ≈ ε·|f| (ε the machine epsilon) and the
difference divides it by h. The sum is smallest near h = ε^(1/3) times the scale of x,
which is the step used here, per element: ``h = ε^(1/3) · max(|x|, 1)``. One fixed eps
for every element and dtype (torch's 1e-6) is too small for float32 and too large for
x = 1e4.

**Error estimate.** The stencil is evaluated at two steps, h and h/2. Since the error of
D(h) is c·h², D(h) - D(h/2) = ¾·c·h², so |D(h) - D(h/2)| / 3 estimates the truncation
error of D(h/2); the rounding error adds 2δ/h. With ``richardson=True`` a third step h/4
is added and the h² term is cancelled: R = (4·D(h/2) - D(h)) / 3 has error O(h⁴).

**Kinks.** Where f is not differentiable (ReLU at 0, |x|), a stencil that straddles the
kink averages two different slopes. The engine's modules report which side of their
kinks the last forward was on (``kink_state()``); when that state changes between x and
x ± h, the stencil crossed a kink. The analytic gradient is then the slope of the piece x
is on: if one side of the stencil saw no change, that side's one-sided slope is the one
to match; if both sides changed (x exactly on the kink), any value between the two
one-sided slopes is a valid subgradient. For functions that report nothing, a kink
betrays itself through the asymmetry a(h) = s₊(h) - s₋(h) of the one-sided slopes: a
smooth function has a(h) ≈ φ''·h, so a(h) ≈ 2·a(h/2); a jump J in the slope gives
a(h) ≈ a(h/2) ≈ J instead (see :func:`FiniteDifference.suspect`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, SupportsFloat

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ..backend import get_array_module, to_numpy
from ..errors import ConfigError, DTypeError
from ..module import Module
from ..validation import check_number

# Each value of f is trusted to ROUNDING·ε·scale: a forward pass makes many roundings that
# mostly cancel; 8 is generous for the networks here and keeps 1e-4 mistakes visible.
ROUNDING = 8.0


class KinkWatch:
    """Tells which kink-state elements of ``sources`` (modules, losses) changed since :meth:`mark`.

    A source's ``kink_state()`` is an array (a ReLU's mask, an L1 loss's signs), a tuple or
    list of arrays, or None for a smooth source.
    """

    def __init__(self, sources: Iterable[Module]) -> None:
        self.sources = list(sources)
        self.base: list[tuple[Any, list[Any]]] = []

    def mark(self) -> None:
        """Remember the current states (call right after evaluating f at the base point)."""
        self.base = [
            (source, [s.copy() for s in _as_list(source.kink_state())])
            for source in self.sources
            if source.kink_state() is not None
        ]

    def changed(self) -> tuple[tuple[int, int, int], ...]:
        """The changed elements as (source, array, flat index) triples; empty when nothing changed."""
        changes: list[tuple[int, int, int]] = []
        for k, (source, arrays) in enumerate(self.base):
            for j, (now, then) in enumerate(zip(_as_list(source.kink_state()), arrays)):
                if now.shape != then.shape:
                    changes.append((k, j, -1))
                    continue
                changes.extend((k, j, int(i)) for i in to_numpy(get_array_module(now).flatnonzero(now != then)))
        return tuple(changes)


def _as_list(state: Any) -> list[Any]:
    return list(state) if isinstance(state, (tuple, list)) else [state]


def machine_epsilon(dtype: DTypeLike) -> float:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ConfigError(
            f"dtype must be float32 or float64 (the numeric side's precision), got {dtype!r:.60}."
        ) from None
    if dtype not in (np.float32, np.float64):
        raise ConfigError(f"the numeric side runs in float32 or float64, got dtype {dtype}.")
    return float(np.finfo(dtype).eps)


def default_steps(x: ArrayLike, dtype: DTypeLike = np.float64, richardson: bool = False) -> NDArray[np.float64]:
    """Per-element step ``ε^(1/3) · max(|x|, 1)`` (ε^(1/5) with Richardson, whose error is O(h⁴))."""
    power = 1 / 5 if richardson else 1 / 3
    magnitude = np.maximum(np.abs(np.asarray(to_numpy(x), dtype=np.float64)), 1.0)
    return machine_epsilon(dtype) ** power * magnitude


@dataclass
class FiniteDifference:
    """What the stencils found, one entry per line (element or direction); NumPy arrays.

    grad
        the derivative estimate (central difference, or Richardson's).
    error
        its estimated absolute error (truncation + rounding).
    step
        the base step h.
    lo, hi, interval_error
        the interval the true (sub)gradient must lie in, and its error. ``lo == hi == grad``
        where no kink was crossed; at a kink, the one-sided slope of the undisturbed side,
        or the range between the one-sided slopes.
    kink
        the engine reported a kink inside the stencil.
    verified
        False where kinks were crossed on both sides and not all at one element, so the
        one-sided slopes say nothing about the analytic value (lo = -inf, hi = inf).
    suspect
        the stencil has a kink's signature (for layers that report no kinks).
    hull_lo, hull_hi, hull_error
        the range of all one-sided slopes, used when a suspected kink has to be checked
        as a subgradient.
    evaluations
        calls of f made.
    """

    grad: np.ndarray
    error: np.ndarray
    step: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    interval_error: np.ndarray
    kink: np.ndarray
    verified: np.ndarray
    suspect: np.ndarray
    hull_lo: np.ndarray
    hull_hi: np.ndarray
    hull_error: np.ndarray
    evaluations: int

    def reshape(self, shape: tuple[int, ...]) -> FiniteDifference:
        fields: dict[str, Any] = {
            k: (v.reshape(shape) if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()
        }
        return FiniteDifference(**fields)


def sample_lines(
    f: Callable[[], float],
    move: Callable[[int, float | None], float],
    steps: np.ndarray,
    *,
    richardson: bool = False,
    kinks: KinkWatch | None = None,
    dtype: DTypeLike = np.float64,
    scale: float = 0.0,
    f0: float | None = None,
) -> FiniteDifference:
    """Evaluate f on a central stencil along each of ``len(steps)`` lines and analyse it.

    ``move(i, t)`` puts the point at signed distance t along line i and returns the
    distance actually taken (after rounding); ``move(i, None)`` puts it back. ``kinks``
    tells which evaluations crossed a kink. ``scale`` is a magnitude for f's rounding error when |f| itself
    understates it (a sum with cancellations). ``f0``: f at the base point when the caller
    already has it (and has marked ``kinks`` there), saving one call.
    """
    levels = (1.0, 0.5, 0.25) if richardson else (1.0, 0.5)
    offsets = [sign * level for level in levels for sign in (1.0, -1.0)]
    calls = 0 if f0 is not None else 1
    if f0 is None:
        f0 = f()
        if kinks is not None:
            kinks.mark()
    n = len(steps)
    values = np.empty((n, len(offsets)))
    dist = np.empty((n, len(offsets)))
    flips = np.zeros((n, len(offsets)), dtype=np.int64)
    one_kink = np.zeros(n, dtype=bool)
    for i in range(n):
        seen = set()
        for j, c in enumerate(offsets):
            dist[i, j] = move(i, c * float(steps[i]))
            values[i, j] = f()
            if kinks is not None:
                changes = kinks.changed()
                flips[i, j] = len(changes)
                seen.update([changes] if changes else [])
        move(i, None)
        one_kink[i] = len(seen) == 1 and flips[i].max() == 1  # the same single element flipped every time
    result = analyse(f0, values, dist, flips, one_kink, dtype=dtype, scale=scale, richardson=richardson)
    result.step = np.asarray(steps, dtype=np.float64).copy()
    result.evaluations = calls + n * len(offsets)
    return result


def analyse(
    f0: float,
    values: np.ndarray,
    dist: np.ndarray,
    flips: np.ndarray,
    one_kink: np.ndarray,
    *,
    dtype: DTypeLike = np.float64,
    scale: float = 0.0,
    richardson: bool = False,
) -> FiniteDifference:
    """Turn stencil values into estimates.

    values, dist: (n, 2L) values of f and distances, columns +h, -h, +h/2, -h/2[, +h/4, -h/4].
    flips: (n, 2L) kink-state elements changed at each point; one_kink: (n,) True where every
    change was the same single element (x sits on that one kink).
    """
    n_levels = values.shape[1] // 2
    plus, minus = values[:, 0::2], values[:, 1::2]
    d_plus, d_minus = dist[:, 0::2], dist[:, 1::2]
    h = d_plus[:, 0]
    central = (plus - minus) / (d_plus - d_minus)  # (n, L): D(h), D(h/2)[, D(h/4)]
    # f's absolute rounding error; f cannot resolve anything below the smallest subnormal either.
    magnitude = np.maximum.reduce(
        [np.full(len(h), max(scale, abs(f0))), np.abs(plus).max(axis=1), np.abs(minus).max(axis=1)]
    )
    delta = ROUNDING * machine_epsilon(dtype) * magnitude + float(np.finfo(dtype).smallest_subnormal)
    if richardson:
        extrapolated = (4 * central[:, 1:] - central[:, :-1]) / 3
        grad = extrapolated[:, -1]
        error = np.abs(extrapolated[:, -1] - extrapolated[:, -2]) / 15 + 6 * delta / h
    else:
        grad = central[:, -1]
        error = np.abs(central[:, -1] - central[:, -2]) / 3 + 2 * delta / h

    # One-sided slopes and their first-order extrapolation 2·s(h_fine) - s(h_coarse) = s(0) + O(h²).
    s_plus, s_minus = (plus - f0) / d_plus, (minus - f0) / d_minus
    e_plus, e_minus = 2 * s_plus[:, -1] - s_plus[:, -2], 2 * s_minus[:, -1] - s_minus[:, -2]
    fine = h * 2.0 ** -(n_levels - 1)
    one_sided_round = 6 * delta / fine
    err_plus = np.abs(s_plus[:, -1] - s_plus[:, -2]) + one_sided_round
    err_minus = np.abs(s_minus[:, -1] - s_minus[:, -2]) + one_sided_round
    everything = np.concatenate([s_plus, s_minus, e_plus[:, None], e_minus[:, None]], axis=1)
    hull_lo, hull_hi = everything.min(axis=1), everything.max(axis=1)
    hull_error = np.maximum(err_plus, err_minus)

    plus_clean, minus_clean = (flips[:, 0::2] == 0).all(axis=1), (flips[:, 1::2] == 0).all(axis=1)
    kink = ~(plus_clean & minus_clean)
    lo, hi, interval_error = grad.copy(), grad.copy(), error.copy()
    use_minus = kink & minus_clean  # the kink lies on the + side: x's own piece is on the - side
    use_plus = kink & plus_clean & ~minus_clean
    lo[use_minus] = hi[use_minus] = e_minus[use_minus]
    interval_error[use_minus] = err_minus[use_minus]
    lo[use_plus] = hi[use_plus] = e_plus[use_plus]
    interval_error[use_plus] = err_plus[use_plus]
    on_kink = kink & ~plus_clean & ~minus_clean
    single = on_kink & one_kink  # x sits on one kink: any slope in between is a subgradient
    lo[single], hi[single], interval_error[single] = hull_lo[single], hull_hi[single], hull_error[single]
    verified = ~(on_kink & ~single)
    lo[~verified], hi[~verified], interval_error[~verified] = -np.inf, np.inf, 0.0

    # Kink signature: a smooth φ has a(h) = 2·a(h/2) + O(h³); noise in a(h) - 2a(h/2) is below 20δ/h.
    asym = s_plus - s_minus
    surplus = np.abs(asym[:, -2] - 2 * asym[:, -1])
    suspect = surplus > 4 * (20 * delta / fine) + 1e-8 * (np.abs(s_plus).max(axis=1) + np.abs(s_minus).max(axis=1))
    return FiniteDifference(
        grad=grad,
        error=error,
        step=h,
        lo=lo,
        hi=hi,
        interval_error=interval_error,
        kink=kink,
        verified=verified,
        suspect=suspect & ~kink,
        hull_lo=hull_lo,
        hull_hi=hull_hi,
        hull_error=hull_error,
        evaluations=0,
    )


def numerical_gradient(
    f: Callable[[NDArray[np.floating]], SupportsFloat],
    x: ArrayLike,
    *,
    step: ArrayLike | None = None,
    richardson: bool = False,
    dtype: DTypeLike = np.float64,
    kinks: KinkWatch | None = None,
    scale: float = 0.0,
) -> FiniteDifference:
    """Central-difference gradient of the scalar function ``f`` at ``x``, with error estimates.

    x: array of any shape (NumPy or CuPy). ``f(x)`` must return a float; it is called on a
    working copy of x in ``dtype`` (float64 unless asked otherwise) that is perturbed in place
    one element at a time, 4 calls per element (6 with ``richardson``) plus one.
    step: None for the per-element default (:func:`default_steps`), a float for a step
    relative to max(|x|, 1), or an array of absolute steps (x's shape).
    kinks: an optional :class:`KinkWatch` over the modules and losses f runs, to tell a
    stencil that crossed a kink from a wrong gradient (see :class:`FiniteDifference`).
    Returns a :class:`FiniteDifference` whose arrays have x's shape (``.grad`` the gradient).

    >>> fd = numerical_gradient(lambda v: float((v ** 3).sum()), np.array([1.0, 2.0]))
    >>> np.allclose(fd.grad, [3.0, 12.0])
    True
    """
    machine_epsilon(dtype)  # float32 or float64, or a ConfigError
    if not callable(f):
        raise ConfigError(f"numerical_gradient: f must be a function of x returning a float, got {type(f).__name__}.")
    if not hasattr(x, "dtype"):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise DTypeError(f"numerical_gradient: x must be an array of numbers, got {type(x).__name__}.") from exc
    if x.dtype.kind not in "fiub":
        raise DTypeError(f"numerical_gradient: x must hold real numbers, got dtype {x.dtype}.")
    work = get_array_module(x).array(x, dtype=dtype, copy=True, order="C")
    steps = resolve_steps(step, work, dtype, richardson)

    def value() -> float:
        out = f(work)
        if getattr(out, "size", 1) != 1:
            raise ConfigError(
                f"numerical_gradient: f must return a scalar, got an array of shape {getattr(out, 'shape', None)}; "
                "reduce it first (a sum, or a projection on a random array)."
            )
        return float(out)

    fd = sample_lines(value, element_mover(work), steps, richardson=richardson, kinks=kinks, dtype=dtype, scale=scale)
    return fd.reshape(tuple(work.shape))


def element_mover(array: Any) -> Callable[[int, float | None], float]:
    """``move`` for :func:`sample_lines` along the coordinates of a C-contiguous array, in place."""
    flat = array.reshape(-1)
    if not array.flags.c_contiguous:  # reshape would copy, and the perturbation would be lost
        raise ConfigError("element_mover needs a C-contiguous array; pass xp.ascontiguousarray(array).")
    base = np.array(to_numpy(flat), dtype=np.float64)  # exact copies of the original values

    def move(i: int, t: float | None) -> float:
        if t is None:
            flat[i] = base[i]
            return 0.0
        flat[i] = base[i] + t
        return float(flat[i]) - base[i]  # the step x + t actually represented in the array's dtype

    return move


def direction_mover(array: Any, directions: Any) -> Callable[[int, float | None], float]:
    """``move`` for :func:`sample_lines` along ``directions[i]`` (each of the array's shape), in place."""
    base = array.copy()

    def move(i: int, t: float | None) -> float:
        array[...] = base if t is None else base + t * directions[i]
        return 0.0 if t is None else t

    return move


def resolve_steps(step: ArrayLike | None, x: Any, dtype: DTypeLike, richardson: bool) -> NDArray[np.float64]:
    """The flat array of absolute steps for x, from ``step`` as documented in numerical_gradient."""
    if step is None:
        steps = default_steps(x, dtype, richardson)
    elif np.isscalar(step):
        relative = check_number(step, "step", low=0, low_open=True)
        steps = relative * np.maximum(np.abs(np.asarray(to_numpy(x), dtype=np.float64)), 1.0)
    else:
        try:
            steps = np.asarray(to_numpy(step), dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(
                f"step must be a positive float or an array of positive steps, got {step!r:.60}."
            ) from None
        if steps.shape != tuple(x.shape) or not (np.isfinite(steps) & (steps > 0)).all():
            raise ConfigError(
                f"step must be a positive float or an array of shape {tuple(x.shape)} of positive "
                f"steps; got shape {steps.shape}."
            )
    return np.ascontiguousarray(steps).reshape(-1)
