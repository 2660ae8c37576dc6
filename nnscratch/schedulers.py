"""Learning-rate schedulers with torch's semantics: StepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau.

A scheduler changes ``group["lr"]`` in its optimizer's ``param_groups``. Call
``optimizer.step()`` for every batch and ``scheduler.step()`` once per epoch, after the
epoch's optimizer steps (``ReduceLROnPlateau.step(metric)`` takes the epoch's validation
loss). Importable from :mod:`nnscratch.optim` as well, and as
``nnscratch.optim.lr_scheduler.StepLR``, like torch.

Each formula is torch's *recursive* one (the new rate computed from the current rate),
so the sequence of rates equals torch's number for number, and a rate changed by hand
between epochs is carried along as torch carries it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._typing import HasParamGroups
from .errors import ConfigError, NNScratchError
from .validation import check_choice, check_number


def _check_optimizer(optimizer: Any) -> None:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        raise ConfigError(
            f"a scheduler needs an optimizer with param_groups (nnscratch.optim.SGD, Adam...), "
            f"got {type(optimizer).__name__}."
        )
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or "lr" not in group:
            raise ConfigError(f"optimizer.param_groups[{i}] must be a dict with an 'lr', got {group!r:.80}.")


def _check_rates(value: Any, name: str, n_groups: int, low_open: bool) -> list[float]:
    """A list of one rate per parameter group: finite numbers, > 0 (``low_open``) or >= 0."""
    if not isinstance(value, (list, tuple)) or len(value) != n_groups:
        raise ConfigError(f"{name} must be a list of {n_groups} rate(s), one per param group, got {value!r:.80}.")
    return [check_number(v, f"{name}[{i}]", low=0, low_open=low_open) for i, v in enumerate(value)]


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets each group's rate to ``get_lr()``.

    Building a scheduler records each group's starting rate as ``"initial_lr"`` (``base_lrs``)
    and makes the initial step (``last_epoch`` = 0) that leaves the rates as they are.
    ``load_state_dict`` checks what it restores as the constructor checks its arguments.
    """

    _last_lr: list[float]

    def __init__(self, optimizer: HasParamGroups) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            check_number(group["lr"], f"optimizer.param_groups[{i}]['lr']", low=0, low_open=True)
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def _check_hyper(self, prefix: str = "") -> None:
        """Check (and normalise) the hyper-parameters, as the constructor does; subclasses write it."""

    def _check_state(self, prefix: str) -> None:
        """Check everything a state_dict restores: the hyper-parameters and the progress so far."""
        self._check_hyper(prefix)
        n_groups = len(self.optimizer.param_groups)
        self.base_lrs = _check_rates(self.base_lrs, f"{prefix}base_lrs", n_groups, low_open=True)
        self._last_lr = _check_rates(self._last_lr, f"{prefix}_last_lr", n_groups, low_open=False)
        self.last_epoch = check_number(self.last_epoch, f"{prefix}last_epoch", low=0, integer=True)

    def get_lr(self) -> list[float]:
        """The rates for epoch ``last_epoch``, computed from the current ones."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def step(self, *args: Any) -> None:
        """Move to the next epoch and set the optimizer's rates for it."""
        if args:
            raise ConfigError(
                f"{type(self).__name__}.step() takes no argument, got {args[0]!r:.80}; only "
                "ReduceLROnPlateau.step(metrics) takes the epoch's metric."
            )
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (which has its own ``state_dict``)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (only attributes this scheduler has).

        The values are checked as the constructor checks its arguments (a ``step_size`` of 0,
        a negative rate are refused); when one is refused, nothing is changed.
        """
        if not isinstance(state_dict, dict):
            raise ConfigError(f"state_dict must be a dict, got {type(state_dict).__name__}.")
        unknown = set(state_dict) - (set(self.__dict__) - {"optimizer"})
        if unknown:
            raise ConfigError(
                f"state_dict has entries {sorted(map(str, unknown))} that a {type(self).__name__} "
                "does not have; load it into the scheduler type that saved it."
            )
        before = dict(self.__dict__)
        self.__dict__.update(state_dict)
        try:
            self._check_state("state_dict: ")
        except NNScratchError:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: lr_e = lr_0 · gamma^⌊e / step_size⌋."""

    def __init__(self, optimizer: HasParamGroups, step_size: int, gamma: float = 0.1) -> None:
        self.step_size, self.gamma = step_size, gamma
        self._check_hyper()
        super().__init__(optimizer)

    def _check_hyper(self, prefix: str = "") -> None:
        self.step_size = check_number(self.step_size, f"{prefix}step_size", low=1, integer=True)
        self.gamma = check_number(self.gamma, f"{prefix}gamma", low=0, low_open=True)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: lr_e = lr_0 · gamma^e."""

    def __init__(self, optimizer: HasParamGroups, gamma: float) -> None:
        self.gamma = gamma
        self._check_hyper()
        super().__init__(optimizer)

    def _check_hyper(self, prefix: str = "") -> None:
        self.gamma = check_number(self.gamma, f"{prefix}gamma", low=0, low_open=True)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial rate down to ``eta_min`` over ``T_max`` epochs (then back up).

    lr_e = eta_min + ½ (lr_0 - eta_min)(1 + cos(π e / T_max)), computed recursively as torch does.
    """

    def __init__(self, optimizer: HasParamGroups, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max, self.eta_min = T_max, eta_min
        self._check_hyper()
        super().__init__(optimizer)

    def _check_hyper(self, prefix: str = "") -> None:
        self.T_max = check_number(self.T_max, f"{prefix}T_max", low=1, integer=True)
        self.eta_min = check_number(self.eta_min, f"{prefix}eta_min", low=0)

    def get_lr(self) -> list[float]:
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if e == 0:
            return self._current()
        if (e - 1 - T) % (2 * T) == 0:  # the bottom of the cosine, where the ratio below is 0/0
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for lr, base in zip(self._current(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current()]


def _metric(value: Any) -> float:
    """The number a metric stands for: a Python or NumPy real scalar, or a one-element real array."""
    if not isinstance(value, (bool, np.bool_)):
        if isinstance(value, (int, float, np.integer, np.floating)):
            return float(value)
        if hasattr(value, "dtype") and getattr(value, "size", 0) == 1 and value.dtype.kind in "fiu":
            return float(value.reshape(()))  # a 0-d or one-element NumPy/CuPy array
    raise ConfigError(
        f"metrics must be a real number (the epoch's validation loss, say), got {value!r:.80} ({type(value).__name__})."
    )


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    ``step(metric)`` once per epoch. A value is an improvement when it beats the best so
    far by the threshold: ``a < best (1 - threshold)`` ("min", "rel"), ``a < best - threshold``
    ("min", "abs"), and mirrored for "max". After more than ``patience`` epochs without
    one, each rate becomes ``max(lr · factor, min_lr)`` (unless that changes it by less than
    ``eps``), and ``cooldown`` epochs follow during which bad epochs are not counted. A NaN
    metric is never an improvement, as in torch.
    """

    def __init__(
        self,
        optimizer: HasParamGroups,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        _check_optimizer(optimizer)
        n_groups = len(optimizer.param_groups)
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor, self.patience, self.cooldown = factor, patience, cooldown
        self.threshold, self.eps = threshold, eps
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n_groups
        if len(self.min_lrs) != n_groups:
            raise ConfigError(f"min_lr has {len(self.min_lrs)} values but the optimizer has {n_groups} param groups.")
        self._check_hyper("", "min_lr")
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _check_hyper(self, prefix: str, min_lr_name: str) -> None:
        self.mode = check_choice(self.mode, f"{prefix}mode", ("min", "max"))
        self.threshold_mode = check_choice(self.threshold_mode, f"{prefix}threshold_mode", ("rel", "abs"))
        self.factor = check_number(self.factor, f"{prefix}factor", low=0, high=1, low_open=True, high_open=True)
        self.patience = check_number(self.patience, f"{prefix}patience", low=0, integer=True)
        self.cooldown = check_number(self.cooldown, f"{prefix}cooldown", low=0, integer=True)
        self.threshold = check_number(self.threshold, f"{prefix}threshold", low=0)
        self.eps = check_number(self.eps, f"{prefix}eps", low=0)
        self.min_lrs = _check_rates(self.min_lrs, min_lr_name, len(self.optimizer.param_groups), low_open=False)

    def _check_state(self, prefix: str) -> None:
        self._check_hyper(prefix, f"{prefix}min_lrs")
        self.last_epoch = check_number(self.last_epoch, f"{prefix}last_epoch", low=0, integer=True)
        self.num_bad_epochs = check_number(self.num_bad_epochs, f"{prefix}num_bad_epochs", low=0, integer=True)
        self.cooldown_counter = check_number(self.cooldown_counter, f"{prefix}cooldown_counter", low=0, integer=True)
        infinite = self.best in (math.inf, -math.inf) and not isinstance(self.best, bool)
        if not infinite:  # the best so far is +-inf before the first metric, a finite number after it
            self.best = check_number(self.best, f"{prefix}best")
        self._last_lr = _check_rates(self._last_lr, f"{prefix}_last_lr", len(self.optimizer.param_groups), False)

    def is_better(self, a: float, best: float) -> bool:
        """Does ``a`` improve on ``best`` by more than the threshold?"""
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def step(self, metrics: float | np.integer | np.floating | NDArray[np.integer | np.floating]) -> None:
        """Record this epoch's metric (e.g. the validation loss) and reduce the rate if it has stalled."""
        current = _metric(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return self._last_lr

    state_dict = LRScheduler.state_dict
    load_state_dict = LRScheduler.load_state_dict
