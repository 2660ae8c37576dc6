"""Structural types for duck-typed arguments.

The training loop and the schedulers accept any object with the right methods or
attributes, not only the classes of nnscratch, so their annotations name what they use
rather than a base class.
"""

from __future__ import annotations

from typing import Any, Protocol


class LossFunction(Protocol):
    """What the training loop needs of a loss: ``loss_fn(pred, target, *args)`` returns the batch's
    loss and ``loss_fn.backward()`` then returns d loss / d pred (an :class:`~nnscratch.losses.Loss`)."""

    def __call__(self, pred: Any, target: Any, /, *args: Any) -> float: ...

    def backward(self) -> Any: ...


class HasParamGroups(Protocol):
    """What a learning-rate scheduler needs of an optimizer: torch's ``param_groups``, a list of dicts
    each with an ``"lr"`` (an :class:`~nnscratch.optim.Optimizer`)."""

    param_groups: list[dict[str, Any]]
