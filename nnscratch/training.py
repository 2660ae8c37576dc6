"""``fit``: the standard minibatch training loop, and the :class:`History` it returns.

One step of ``fit`` is the loop every learner writes by hand::

    model.zero_grad()                    # gradients add up (+=) until reset
    loss_value = loss(model(xb), yb)     # forward
    model.backward(loss.backward())      # backward: fills every p.grad
    optimizer.step()                     # update

``fit`` adds shuffling, an optional per-epoch scheduler and validation loss, callbacks
(see :mod:`nnscratch.callbacks`), a progress bar, and by default a
:class:`~nnscratch.stopping.NonFiniteGuard` that stops at the first NaN. Hand-written
loops stay first-class: the documented failures (a forgotten ``zero_grad``) need them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._typing import LossFunction
from .callbacks import Callback, TrainingContext
from .data import check_pair, minibatches, num_batches
from .errors import ConfigError, NonFiniteError
from .module import Module
from .progress import Progress
from .rng import SeedLike, as_generator
from .schedulers import ReduceLROnPlateau
from .stopping import NonFiniteGuard
from .validation import as_float_array, check_finite, check_flag, check_positive, check_same_backend


@dataclass
class History:
    """What ``fit`` recorded, in the order it happened.

    ``step_loss``: the loss of each step's batch. ``loss``: per epoch, the batch losses
    averaged with the batch sizes as weights (for ``reduction="mean"``, the mean loss over
    the epoch's samples, as Keras reports it). ``val_loss``: per epoch, the loss on the whole
    ``validation_data`` after the epoch (empty without it). ``lr``: the learning rate each
    epoch trained with. ``stopped_early``: a callback ended training before ``epochs``.
    """

    step_loss: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        """Number of epochs run (a stopped epoch counts)."""
        return len(self.loss)

    def as_dict(self) -> dict[str, list[float]]:
        """Keras-style ``{"loss": [...], "val_loss": [...], "lr": [...], "step_loss": [...]}``."""
        return {"loss": self.loss, "val_loss": self.val_loss, "lr": self.lr, "step_loss": self.step_loss}


def train_step(
    model: Module,
    loss_fn: LossFunction,
    optimizer: Any,
    xb: ArrayLike,
    yb: ArrayLike,
    *loss_args: Any,
    zero_grad: bool = True,
) -> float:
    """One optimizer step on one batch; returns the batch's loss. ``fit`` and the reproductions both run it.

    ``zero_grad=False`` leaves the old gradients in ``.grad`` (the classic bug: they add up).
    ``loss_args`` go to the loss after the target, for losses that take more (sample weights).
    """
    if zero_grad:
        model.zero_grad()  # gradients add up (+=) until reset
    loss = loss_fn(model(xb), yb, *loss_args)  # forward
    model.backward(loss_fn.backward())  # backward: fills every p.grad
    optimizer.step()  # update
    return loss


def optimizer_holds(optimizer: Any, model: Any) -> bool:
    """Whether ``optimizer`` holds any of ``model``'s parameters (True when it cannot tell: duck types)."""
    held = getattr(optimizer, "parameters", None)
    if not callable(held) or not callable(getattr(model, "parameters", None)):
        return True  # a duck-typed optimizer or model: nothing to compare
    mine = {id(p) for p in model.parameters()}
    return not mine or any(id(p) in mine for p in held())


def check_optimizer_holds(optimizer: Any, model: Any) -> None:
    """Refuse an optimizer that holds none of ``model``'s parameters: it would train nothing."""
    if not optimizer_holds(optimizer, model):
        raise ConfigError(
            "the optimizer holds none of the model's parameters (was it built for another model?): "
            "build it from this model, e.g. optim.SGD(model.parameters(), lr=...)."
        )


_Pair = tuple[NDArray[np.floating], NDArray[np.floating]]


def _check_data(X: Any, y: Any, names: tuple[str, str]) -> _Pair:
    """Real float arrays on one backend, samples on the first axis, equally many, at least one, all finite."""
    X, y = as_float_array(X, names[0]), as_float_array(y, names[1])
    check_pair(X, y, names)
    check_same_backend(X, y)
    return check_finite(X, names[0]), check_finite(y, names[1])


def _check_fit_args(
    model: Any,
    X: Any,
    y: Any,
    loss: Any,
    optimizer: Any,
    epochs: int,
    batch_size: int,
    scheduler: Any,
    validation_data: Any,
    callbacks: list[Any],
) -> tuple[NDArray[np.floating], NDArray[np.floating], _Pair | None]:
    """Refuse bad arguments before any training; return X, y and validation_data as checked arrays."""
    check_positive(epochs, "epochs", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    for name, obj, methods, example in (
        ("model", model, ("backward", "zero_grad", "parameters"), "nnscratch.MLP"),
        ("loss", loss, ("__call__", "backward"), "nnscratch.MSELoss()"),
        ("scheduler", scheduler, ("step",), "nnscratch.optim.StepLR"),
    ):
        if (obj is not None or name != "scheduler") and not all(callable(getattr(obj, m, None)) for m in methods):
            raise ConfigError(
                f"{name} must have {', '.join(m + '()' for m in methods)} (e.g. {example}), got {type(obj).__name__}."
            )
    for i, cb in enumerate(callbacks):
        if not all(
            callable(getattr(cb, hook, None))
            for hook in ("on_train_begin", "on_step_end", "on_epoch_end", "on_train_end")
        ):
            raise ConfigError(
                f"callbacks[{i}] must be an nnscratch.Callback (subclass it and override the hooks "
                f"you need), got {type(cb).__name__}."
            )
    if getattr(loss, "reduction", "mean") == "none":
        raise ConfigError(
            "fit needs a loss that returns one number per batch; got reduction='none'. Use reduction='mean' (or 'sum')."
        )
    for name in ("step", "zero_grad"):
        if not callable(getattr(optimizer, name, None)):
            raise ConfigError(
                f"optimizer must have a {name}() method (e.g. nnscratch.optim.SGD), got {type(optimizer).__name__}."
            )
    check_optimizer_holds(optimizer, model)
    if validation_data is not None and (not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2):
        raise ConfigError(
            "validation_data must be a pair (X_val, y_val), got "
            f"{type(validation_data).__name__}"
            + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
        )
    if validation_data is not None:
        validation_data = _check_data(
            validation_data[0], validation_data[1], ("validation_data[0]", "validation_data[1]")
        )
    return (*_check_data(X, y, ("X", "y")), validation_data)


def fit(
    model: Any,
    X: ArrayLike,
    y: ArrayLike,
    loss: LossFunction,
    optimizer: Any,
    epochs: int,
    batch_size: int,
    shuffle: bool = True,
    scheduler: Any = None,
    validation_data: tuple[ArrayLike, ArrayLike] | None = None,
    callbacks: Iterable[Callback] = (),
    progress: bool | None = None,
    rng: SeedLike = None,
    guard: bool = True,
    drop_last: bool = False,
) -> History:
    """Train ``model`` on ``(X, y)`` for ``epochs`` passes of minibatches; return the :class:`History`.

    X: (N, D) and y: (N, K), as the model and ``loss`` expect them (integer and boolean data
    are converted to float; NaN or infinity in them raises a NonFiniteError naming the first
    bad index, before any step). Each step zeroes the
    model's gradients, runs forward, ``loss``, backward and ``optimizer.step()``.
    ``shuffle`` draws a new order each epoch from ``rng`` (a seed or Generator; ``None`` is
    nnscratch's global generator), so the same seed gives a bit-identical history.
    ``scheduler`` steps once per epoch, after the epoch's last step; a ``ReduceLROnPlateau``
    is given the validation loss, or the training loss without ``validation_data``.
    ``callbacks`` get a :class:`~nnscratch.callbacks.TrainingContext` at each step and epoch
    end; one that sets ``ctx.stop`` ends training. ``progress``: a progress bar on stderr
    (``None``: only when stderr is a terminal). ``guard=True`` (the default) stops at the
    first non-finite loss, gradient or parameter with a :class:`~nnscratch.errors.NonFiniteError`
    (its ``history`` attribute holds what was recorded), the model left at its last finite
    weights; ``guard=False`` lets a diverging run go on, NaNs and all.
    """
    if isinstance(callbacks, Callback) or not isinstance(callbacks, Iterable) or isinstance(callbacks, (str, dict)):
        raise ConfigError(
            f"callbacks must be a list of nnscratch.Callback objects (e.g. [EarlyStopping()]), got {callbacks!r:.80}."
        )
    callbacks = list(callbacks)
    shuffle, guard, drop_last = (
        check_flag(shuffle, "shuffle"),
        check_flag(guard, "guard"),
        check_flag(drop_last, "drop_last"),
    )
    if progress is not None:
        check_flag(progress, "progress")
    X, y, validation_data = _check_fit_args(
        model, X, y, loss, optimizer, epochs, batch_size, scheduler, validation_data, callbacks
    )
    n_batches = num_batches(len(X), batch_size, drop_last)
    if n_batches == 0:
        raise ConfigError(
            f"batch_size={batch_size} with drop_last=True leaves no batch from {len(X)} samples; "
            "use a smaller batch_size or drop_last=False."
        )
    gen = as_generator(rng)
    callbacks = [NonFiniteGuard(), *callbacks] if guard else callbacks
    history = History()
    ctx = TrainingContext(
        model=model, loss_fn=loss, optimizer=optimizer, history=history, extra={"total_steps": epochs * n_batches}
    )
    bar = Progress(epochs * n_batches, f"epoch 1/{epochs}", progress)
    for cb in callbacks:
        cb.on_train_begin(ctx)
    # With the guard on, a diverging step is caught and named by the guard, so NumPy's overflow
    # warnings on the way to it would only say the same thing earlier and less clearly.
    quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore") if guard else contextlib.nullcontext()
    try:
        quiet.__enter__()
        for epoch in range(epochs):
            ctx.epoch = epoch
            history.lr.append(getattr(optimizer, "lr", float("nan")))
            total, seen = 0.0, 0
            batches = minibatches(X, y, batch_size, shuffle, gen, drop_last)
            for batch, (xb, yb) in enumerate(batches):  # noqa: B007 (read after the loop)
                value = train_step(model, loss, optimizer, xb, yb)
                ctx.step, ctx.loss, ctx.x_batch, ctx.y_batch = ctx.step + 1, value, xb, yb
                history.step_loss.append(value)
                total, seen = total + value * len(xb), seen + len(xb)
                for cb in callbacks:
                    cb.on_step_end(ctx)
                bar.update(value)
                if ctx.stop:
                    break
            history.loss.append(total / seen)
            if validation_data is not None:
                history.val_loss.append(float(loss(model(validation_data[0]), validation_data[1])))
            bar.update(history.loss[-1], steps=0, desc=f"epoch {min(epoch + 2, epochs)}/{epochs}")
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(history.val_loss[-1] if history.val_loss else history.loss[-1])
            elif scheduler is not None:
                scheduler.step()
            for cb in callbacks:
                cb.on_epoch_end(ctx)
            if ctx.stop:
                history.stopped_early = epoch < epochs - 1 or batch < n_batches - 1
                break
    except NonFiniteError as err:
        err.history = history
        raise
    finally:
        quiet.__exit__(None, None, None)
        bar.close(history.loss[-1] if history.loss else None)
    for cb in callbacks:
        cb.on_train_end(ctx)
    return history
