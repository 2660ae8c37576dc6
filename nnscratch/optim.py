"""Optimizers that update parameters from their ``.grad``: SGD, Adam (AMSGrad, Keras), AdamW, RMSprop.

Each ``step()`` follows torch's documented algorithm line by line (``torch.optim``'s
pseudo-code and its single-tensor implementation), so from the same weights and data a
float64 run matches torch to rounding. Names and defaults are torch's::

    opt = nnscratch.optim.Adam(net.parameters(), lr=1e-3)
    for xb, yb in batches:
        loss = loss_fn(net(xb), yb)
        opt.zero_grad()
        net.backward(loss_fn.backward())
        opt.step()

``param_groups`` is a list of dicts, each with its ``"params"`` and its hyper-parameters,
as in torch; ``opt.lr`` reads the first group's rate and sets every group's.

Buffers (momentum, Adam's moments, the step count) belong to the optimizer, as in torch:
``opt.state[p]`` is a dict under torch's names (``"momentum_buffer"``, ``"exp_avg"``,
``"exp_avg_sq"``, ``"max_exp_avg_sq"``, ``"square_avg"``, ``"grad_avg"``, ``"step"``),
created at the first step. Two optimizers over the same parameters never share or
clear each other's buffers. Each parameter remembers (weakly) the optimizers that hold
it, so ``model.to("cupy")`` moves their buffers along with the weights.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import wraps
from types import MethodType
from typing import Any

import numpy as np

from . import schedulers as lr_scheduler  # so that optim.lr_scheduler.StepLR works as in torch
from .backend import backend_of, get_array_module, to_backend
from .errors import ConfigError, ShapeError
from .module import Module, Parameter
from .schedulers import CosineAnnealingLR, ExponentialLR, LRScheduler, ReduceLROnPlateau, StepLR
from .validation import check_choice, check_flag


def _is_number(value: Any) -> bool:
    """A real Python or NumPy number (not a bool)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _check_lr(value: Any, zero_ok: bool = False) -> float:
    """A learning rate is a positive finite number (a zero rate trains nothing, a negative one ascends).

    ``zero_ok``: a restored rate may be 0, where a schedule annealed it to its end.
    """
    if not _is_number(value) or not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
        raise ConfigError(
            f"lr must be a positive finite number, got {value!r}"
            + ("; to freeze parameters, leave them out of the optimizer." if value == 0 else ".")
        )
    return float(value)


def _xp(a: Any) -> Any:
    """``get_array_module`` with a shortcut for NumPy: ``step()`` asks it once per parameter."""
    return np if type(a) is np.ndarray else get_array_module(a)


def _check_hyper(name: str, value: Any, low: float = 0.0, high: float = math.inf, open_high: bool = False) -> float:
    """``low <= value <= high`` (``< high`` with ``open_high``), else a ConfigError naming it."""
    ok = _is_number(value) and math.isfinite(value)
    if ok:
        ok = low <= value < high if open_high else low <= value <= high
    if not ok:
        bound = f"[{low}, {high})" if open_high else f"[{low}, {high}]"
        raise ConfigError(f"{name} must be a finite number in {bound}, got {value!r}.")
    return float(value)


def _param_groups(params: Any, owner: str) -> list[dict[str, Any]]:
    """``params`` (a Module, Parameters, or dicts with a ``"params"`` key) as a list of group dicts."""
    if isinstance(params, Module):
        params = params.parameters()
    if callable(params) and getattr(params, "__name__", "") == "parameters":
        raise ConfigError(
            f"{owner} params got the method {params.__qualname__}, not its result: call it, net.parameters()."
        )
    if isinstance(params, Parameter):
        raise ConfigError("params must be an iterable of Parameters (e.g. net.parameters()), got one Parameter.")
    if not isinstance(params, Iterable) or isinstance(params, (str, bytes, dict)):
        raise ConfigError(f"params must be an iterable of Parameters, got {type(params).__name__}.")
    items = list(params)
    if not items:
        raise ConfigError(f"{owner} got no parameters to optimize (an empty list).")
    if not isinstance(items[0], dict):
        return [{"params": items}]
    for i, group in enumerate(items):
        if not isinstance(group, dict) or "params" not in group:
            raise ConfigError(f"param group {i} must be a dict with a 'params' key, got {str(group)[:80]}.")
        if isinstance(group["params"], Parameter):
            group = {**group, "params": [group["params"]]}
            items[i] = group
        if not isinstance(group["params"], Iterable):
            raise ConfigError(f"param group {i}'s 'params' must be a list of Parameters, got {group['params']!r:.80}.")
    return items


def _with_post_hooks(step: Callable[[Any], None]) -> Callable[[Any], None]:
    """``step`` followed by the hooks of :meth:`Optimizer.register_step_post_hook`."""

    @wraps(step)
    def run(self: Optimizer) -> None:
        step(self)
        for hook in self._step_post_hooks:
            hook(self)

    return run


class Optimizer:
    """Base class: holds ``param_groups`` and walks them in ``step()``.

    ``params`` is a Module, an iterable of Parameters, or an iterable of dicts
    ``{"params": [...], "lr": ...}`` (per-group hyper-parameters, as in torch).
    Subclasses write ``_update(p, group)``, which changes ``p.data`` in place from ``p.grad``,
    or their own ``step()``; either way the step's post-hooks run after it.
    """

    _step_post_hooks: tuple[Callable[[Any], None], ...] = ()
    _error_hooks: tuple[Callable[[BaseException], None], ...] = ()

    def register_step_post_hook(self, hook: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``hook(optimizer)`` after every ``step()`` (torch's name); returns a remover.

        The first hook wraps this optimizer's ``step`` in one that runs the hooks after the update;
        until then ``step()`` is the update alone.
        """
        if "step" not in vars(self):
            self.step = MethodType(_with_post_hooks(type(self).step), self)  # type: ignore[method-assign]
        self._step_post_hooks = (*self._step_post_hooks, hook)
        return lambda: setattr(self, "_step_post_hooks", tuple(h for h in self._step_post_hooks if h is not hook))

    def register_error_hook(self, hook: Callable[[BaseException], None]) -> Callable[[], None]:
        """Call ``hook(error)`` when a training loop stops on an error in a step of this optimizer
        (``fit``'s :class:`~nnscratch.NonFiniteGuard` reports here before raising); returns a remover."""
        self._error_hooks = (*self._error_hooks, hook)
        return lambda: setattr(self, "_error_hooks", tuple(h for h in self._error_hooks if h is not hook))

    def notify_error(self, error: BaseException) -> None:
        """Hand ``error`` to the error hooks (what a training loop calls when a step fails)."""
        for hook in self._error_hooks:
            hook(error)

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        seen: set[int] = set()
        for g, group in enumerate(_param_groups(params, type(self).__name__)):
            unknown = sorted(set(group) - set(defaults) - {"params", "initial_lr"})
            if unknown:
                raise ConfigError(
                    f"param group {g} has unknown key(s) {unknown}; {type(self).__name__} knows {sorted(defaults)}."
                )
            group = {**defaults, **group, "params": list(group["params"])}
            for i, p in enumerate(group["params"]):
                if not isinstance(p, Parameter):
                    where = f"params[{i}]" if g == 0 else f"param_groups[{g}]['params'][{i}]"
                    raise ConfigError(f"{where} must be a Parameter, got {type(p).__name__}.")
                if id(p) in seen:
                    raise ConfigError(f"params[{i}] appears in more than one place; give each Parameter once.")
                seen.add(id(p))
                p._optimizers.add(self)
            self._check_group(group)
            self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate one group's hyper-parameters (subclasses extend it)."""
        _check_lr(group["lr"])
        _check_hyper("weight_decay", group.get("weight_decay", 0.0))

    @property
    def lr(self) -> float:
        """The learning rate of the first group; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        value = _check_lr(value)
        for group in self.param_groups:
            group["lr"] = value

    def parameters(self) -> list[Parameter]:
        return [p for group in self.param_groups for p in group["params"]]

    def move_state(self, p: Parameter, backend: str) -> None:
        """Move the buffers of ``p`` to ``backend`` (``Parameter.to`` calls this)."""
        if p in self.state:
            self.state[p] = {k: to_backend(v, backend) if hasattr(v, "dtype") else v for k, v in self.state[p].items()}

    def zero_grad(self) -> None:
        """Reset every parameter's ``.grad`` to zero (gradients add up until you do)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad()

    def step(self) -> None:
        """Update every parameter once from its current ``.grad``."""
        for group in self.param_groups:
            for p in group["params"]:
                self._update(p, group)

    def _update(self, p: Parameter, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update(p, group)")

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: buffers}, "param_groups": [...]}`` with copies, as torch's.

        Parameters are numbered in group order; groups list their indices under ``"params"``.
        """
        state, groups, index = {}, [], 0
        for group in self.param_groups:
            indices = []
            for p in group["params"]:
                if self.state.get(p):
                    state[index] = {k: v.copy() if hasattr(v, "copy") else v for k, v in self.state[p].items()}
                indices.append(index)
                index += 1
            groups.append({**group, "params": indices})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and buffers saved by :meth:`state_dict` (copied onto each
        parameter's backend and dtype)."""
        if not (
            isinstance(state_dict, dict)
            and isinstance(state_dict.get("state"), dict)
            and isinstance(state_dict.get("param_groups"), list)
        ):
            raise ConfigError(
                "state_dict must be a dict with 'state' (dict) and 'param_groups' (list), as "
                f"state_dict() returns; got {type(state_dict).__name__} {str(state_dict)[:80]}."
            )
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ConfigError(
                f"state_dict has {len(groups)} param groups, this optimizer has "
                f"{len(self.param_groups)}; load it into an optimizer built the same way."
            )
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ConfigError(
                    f"a saved param group has {len(saved['params'])} parameters, this one has "
                    f"{len(group['params'])}; load it into an optimizer built the same way."
                )
        params = self.parameters()
        for index, buffers in state_dict["state"].items():
            position = int(index) if str(index).isdigit() else -1  # torch's int keys, or their str form
            if not (0 <= position < len(params) and isinstance(buffers, dict)):
                raise ConfigError(
                    f"state_dict has state for parameter {index!r}, but this optimizer has parameters "
                    f"0..{len(params) - 1}; load it into an optimizer built the same way."
                )
            p = params[position]
            for key, value in buffers.items():
                if hasattr(value, "shape") and tuple(value.shape) != p.shape:
                    raise ShapeError(
                        f"state_dict buffer {key!r} of parameter {index} has shape "
                        f"{tuple(value.shape)}, the parameter has shape {p.shape}."
                    )
        for saved, group in zip(groups, self.param_groups):
            restored = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            _check_lr(restored.get("lr"), zero_ok=True)
            self._check_group({**restored, "lr": restored["lr"] or 1.0})  # the rate is checked on the line above
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = defaultdict(dict)
        for i, p in enumerate(params):
            buffers = state_dict["state"].get(i, state_dict["state"].get(str(i), {}))
            if buffers:
                self.state[p] = {
                    k: to_backend(v, backend_of(p.data)).astype(p.dtype, copy=True) if hasattr(v, "shape") else v
                    for k, v in buffers.items()
                }

    def __repr__(self) -> str:
        groups = ", ".join(
            "{" + ", ".join(f"{k}={v!r}" for k, v in g.items() if k != "params") + "}" for g in self.param_groups
        )
        return f"{type(self).__name__}({groups})"


class SGD(Optimizer):
    """Stochastic gradient descent, with torch's momentum, dampening, Nesterov and L2 weight decay.

    With g the gradient, μ the momentum, τ the dampening and λ the weight decay::

        g = g + λ p
        b = g                       (first step)        b = μ b + (1 - τ) g   (later steps)
        g = g + μ b  (nesterov)     g = b  (otherwise, when μ ≠ 0)
        p = p - lr g
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                nesterov=check_flag(nesterov, "nesterov"),
                weight_decay=weight_decay,
            ),
        )

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_hyper("momentum", group["momentum"])
        _check_hyper("dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ConfigError(
                "nesterov=True needs momentum > 0 and dampening = 0 (as in torch), got "
                f"momentum={group['momentum']}, dampening={group['dampening']}."
            )

    def step(self) -> None:
        """Plain SGD (no momentum, no weight decay) is the textbook line ``p = p - lr g``, written once
        per group: on a 1-10-1 network the per-parameter call and lookups cost 3% of a step."""
        for group in self.param_groups:
            if group["momentum"] or group["weight_decay"]:
                for p in group["params"]:
                    self._update(p, group)
                continue
            for p in group["params"]:
                p.data -= group["lr"] * p.grad

    def _update(self, p: Parameter, group: dict[str, Any]) -> None:
        g, lr, momentum, wd = p.grad, group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p.data  # a new array: the stored .grad is left as backward wrote it
        if momentum != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()  # b = g on the first step
            else:
                b = state["momentum_buffer"]
                b *= momentum
                b += (1 - group["dampening"]) * g  # b = μ b + (1 - τ) g
            g = g + momentum * state["momentum_buffer"] if group["nesterov"] else state["momentum_buffer"]
        p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), with AMSGrad, L2 weight decay, and a Keras mode.

    torch semantics (default, eps = 1e-8), step t, gradient g::

        g = g + λ p                                      (weight_decay λ, added to the gradient)
        m = β1 m + (1 - β1) g          v = β2 v + (1 - β2) g²
        v̂ = max(v̂, v)  (amsgrad; v̂ replaces v below)
        p = p - lr/(1 - β1^t) · m / (sqrt(v)/sqrt(1 - β2^t) + eps)

    Keras semantics (``semantics="keras"``, eps = 1e-7; tf.keras 2's ``Adam`` and Keras 3's
    share this update) put eps *outside* the bias correction of v::

        p = p - lr·sqrt(1 - β2^t)/(1 - β1^t) · m / (sqrt(v) + eps)

    The two agree except where sqrt(v) is as small as eps, that is, for tiny gradients,
    where Keras's effective eps is 1/sqrt(1 - β2^t) times larger early on. The Keras form
    is what a tf.keras 2.x script gets from ``Adam(epsilon=None, amsgrad=True)`` (``None``
    meaning 1e-7), the set-up of one of the training failures this project reproduces.
    Keras's Adam has no L2 weight decay, so ``semantics="keras"`` refuses one.
    """

    _decoupled = False

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float | None = None,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        semantics: str = "torch",
    ) -> None:
        check_choice(semantics, "semantics", ("torch", "keras"))
        if eps is None:
            eps = 1e-7 if semantics == "keras" else 1e-8
        if semantics == "keras" and weight_decay != 0:
            raise ConfigError(
                f"semantics='keras' has no weight decay (got weight_decay={weight_decay}); "
                "use AdamW for decoupled weight decay."
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=check_flag(amsgrad, "amsgrad"),
                semantics=semantics,
            ),
        )

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if not isinstance(group["betas"], (tuple, list)) or len(group["betas"]) != 2:
            raise ConfigError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {group['betas']!r}.")
        group["betas"] = tuple(group["betas"])
        _check_hyper("betas[0]", group["betas"][0], 0.0, 1.0, open_high=True)
        _check_hyper("betas[1]", group["betas"][1], 0.0, 1.0, open_high=True)
        _check_hyper("eps", group["eps"])

    def _update(self, p: Parameter, group: dict[str, Any]) -> None:
        state, g = self.state[p], p.grad
        (beta1, beta2), lr, wd, eps = group["betas"], group["lr"], group["weight_decay"], group["eps"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        if group["semantics"] == "keras":
            self._keras_update(p, g, state, group)
            return
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if wd != 0 and self._decoupled:
            p.data *= 1 - lr * wd  # AdamW: p = p (1 - lr λ)
        elif wd != 0:
            g = g + wd * p.data  # g = g + λ p
        m += (1 - beta1) * (g - m)  # m = β1 m + (1 - β1) g, written as torch's lerp
        v *= beta2
        v += (1 - beta2) * (g * g)  # v = β2 v + (1 - β2) g²
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # v̂ = max(v̂, v)
        p.data -= lr / (1 - beta1**t) * (m / (np.sqrt(v) / math.sqrt(1 - beta2**t) + eps))

    @staticmethod
    def _keras_update(p: Parameter, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """tf.keras 2's Adam, computed in the parameter's dtype as Keras computes it::

        lr_t = lr · sqrt(1 - β2^t) / (1 - β1^t)
        m = β1 m + (1 - β1) g        v = β2 v + (1 - β2) g²        v̂ = max(v̂, v)  (amsgrad)
        p = p - lr_t · m / (sqrt(v̂) + eps)
        """
        d = p.data.dtype.type  # Keras casts every coefficient to the variable's dtype
        one, b1, b2, t = d(1), d(group["betas"][0]), d(group["betas"][1]), d(state["step"])
        lr_t = d(group["lr"]) * (np.sqrt(one - b2**t) / (one - b1**t))
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += g * (one - b1)
        v *= b2
        v += (g * g) * (one - b2)
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        p.data -= lr_t * m / (np.sqrt(v) + d(group["eps"]))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p = p (1 - lr λ)`` before the
    Adam step, instead of adding λ p to the gradient. torch's default λ is 0.01."""

    _decoupled = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


class RMSprop(Optimizer):
    """RMSprop as in torch (α the smoothing constant, μ the momentum, λ the weight decay)::

    g = g + λ p
    s = α s + (1 - α) g²
    a = sqrt(s - ḡ²) + eps,  ḡ = α ḡ + (1 - α) g     (centered)     a = sqrt(s) + eps  (otherwise)
    b = μ b + g / a;  p = p - lr b                    (μ > 0)         p = p - lr g / a   (otherwise)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=check_flag(centered, "centered"),
            ),
        )

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_hyper("alpha", group["alpha"], 0.0, 1.0)
        _check_hyper("eps", group["eps"])
        _check_hyper("momentum", group["momentum"])

    def _update(self, p: Parameter, group: dict[str, Any]) -> None:
        state, alpha, momentum, wd = self.state[p], group["alpha"], group["momentum"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        g = p.grad if wd == 0 else p.grad + wd * p.data  # g = g + λ p
        s = state["square_avg"]
        s *= alpha
        s += (1 - alpha) * (g * g)  # s = α s + (1 - α) g²
        if group["centered"]:
            gbar = state["grad_avg"]
            gbar += (1 - alpha) * (g - gbar)  # ḡ = α ḡ + (1 - α) g
            a = np.sqrt(s - gbar * gbar) + group["eps"]
        else:
            a = np.sqrt(s) + group["eps"]
        if momentum > 0:
            b = state["momentum_buffer"]
            b *= momentum
            b += g / a  # b = μ b + g / a
            p.data -= group["lr"] * b
        else:
            p.data -= group["lr"] * (g / a)


__all__ = [
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "SGD",
    "StepLR",
    "lr_scheduler",
]
