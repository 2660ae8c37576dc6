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

from .errors import ConfigError
from .validation import check_choice, check_positive


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(getattr(optimizer, "param_groups", None), list):
        raise ConfigError(
            f"a scheduler needs an optimizer with param_groups (nnscratch.optim.SGD, Adam...), "
            f"got {type(optimizer).__name__}."
        )


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets each group's rate to ``get_lr()``.

    Building a scheduler records each group's starting rate as ``"initial_lr"`` (``base_lrs``)
    and makes the initial step (``last_epoch`` = 0) that leaves the rates as they are.
    """

    def __init__(self, optimizer: Any) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def get_lr(self) -> list[float]:
        """The rates for epoch ``last_epoch``, computed from the current ones."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def step(self) -> None:
        """Move to the next epoch and set the optimizer's rates for it."""
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
        """Restore what :meth:`state_dict` returned (only attributes this scheduler has)."""
        if not isinstance(state_dict, dict):
            raise ConfigError(f"state_dict must be a dict, got {type(state_dict).__name__}.")
        unknown = set(state_dict) - (set(self.__dict__) - {"optimizer"})
        if unknown:
            raise ConfigError(
                f"state_dict has entries {sorted(map(str, unknown))} that a {type(self).__name__} "
                "does not have; load it into the scheduler type that saved it."
            )
        self.__dict__.update(state_dict)

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: lr_e = lr_0 · gamma^⌊e / step_size⌋."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_positive(step_size, "step_size", integer=True)
        self.gamma = check_positive(gamma, "gamma")
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: lr_e = lr_0 · gamma^e."""

    def __init__(self, optimizer: Any, gamma: float) -> None:
        self.gamma = check_positive(gamma, "gamma")
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial rate down to ``eta_min`` over ``T_max`` epochs (then back up).

    lr_e = eta_min + ½ (lr_0 - eta_min)(1 + cos(π e / T_max)), computed recursively as torch does.
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = check_positive(T_max, "T_max", integer=True)
        if not (isinstance(eta_min, (int, float)) and math.isfinite(eta_min) and eta_min >= 0):
            raise ConfigError(f"eta_min must be a finite number >= 0, got {eta_min!r}.")
        self.eta_min = eta_min
        super().__init__(optimizer)

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


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    ``step(metric)`` once per epoch. A value is an improvement when it beats the best so
    far by the threshold: ``a < best (1 - threshold)`` ("min", "rel"), ``a < best - threshold``
    ("min", "abs"), and mirrored for "max". After more than ``patience`` epochs without
    one, each rate becomes ``max(lr · factor, min_lr)`` (unless that changes it by less than
    ``eps``), and ``cooldown`` epochs follow during which bad epochs are not counted.
    """

    def __init__(
        self,
        optimizer: Any,
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
        if not (isinstance(factor, (int, float)) and 0 < factor < 1):
            raise ConfigError(f"factor must be a number in (0, 1), got {factor!r}.")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {value!r}.")
        n_groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n_groups
        if len(min_lrs) != n_groups:
            raise ConfigError(f"min_lr has {len(min_lrs)} values but the optimizer has {n_groups} param groups.")
        self.optimizer = optimizer
        self.mode = check_choice(mode, "mode", ("min", "max"))
        self.threshold_mode = check_choice(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.factor, self.patience, self.cooldown = factor, patience, cooldown
        self.threshold, self.min_lrs, self.eps = threshold, min_lrs, eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, a: float, best: float) -> bool:
        """Does ``a`` improve on ``best`` by more than the threshold?"""
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def step(self, metrics: float) -> None:
        """Record this epoch's metric (e.g. the validation loss) and reduce the rate if it has stalled."""
        current = float(metrics)
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
