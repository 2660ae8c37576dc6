"""Structural types for the duck-typed arguments of the training loop.

``fit`` and ``train_step`` accept any object with the right methods, not only the classes
of nnscratch, so their annotations name what they call rather than a base class.
"""

from __future__ import annotations

from typing import Any, Protocol


class LossFunction(Protocol):
    """What the training loop needs of a loss: ``loss_fn(pred, target, *args)`` returns the batch's
    loss and ``loss_fn.backward()`` then returns d loss / d pred (an :class:`~nnscratch.losses.Loss`)."""

    def __call__(self, pred: Any, target: Any, /, *args: Any) -> float: ...

    def backward(self) -> Any: ...
