"""The exceptions nnscratch raises, so callers can catch them by kind.

Every error subclasses :class:`NNScratchError` and also the built-in exception
that fits (``ValueError`` for a wrong value or shape, ``TypeError`` for a wrong
type or dtype), so ``except ValueError`` keeps working for people who do not
know our names.
"""

from __future__ import annotations

from typing import Any


class NNScratchError(Exception):
    """Base class of every error nnscratch raises on purpose."""


class ShapeError(NNScratchError, ValueError):
    """An array has the wrong shape, rank or size (including empty batches)."""


class DTypeError(NNScratchError, TypeError):
    """An array has a dtype nnscratch cannot train with (complex, object, strings...)."""


class BackendError(NNScratchError, RuntimeError):
    """A backend was asked for that cannot be used, or arrays of two backends were mixed."""


class ConfigError(NNScratchError, ValueError):
    """An argument is outside its allowed values (unknown name, non-positive rate...)."""


class NonFiniteError(NNScratchError, ValueError):
    """A loss, parameter, gradient or input is NaN or infinite.

    Raised by the training guard, it also says where: ``step``, ``tensor`` (``"loss"`` or a
    parameter name such as ``"2.W"``), ``kind`` (``"loss"``, ``"gradient"``, ``"parameter"``)
    and ``history`` (what ``fit`` recorded until then); elsewhere these stay ``None``.
    """

    step: int | None = None
    tensor: str | None = None
    kind: str | None = None
    history: Any = None


class DomainError(NNScratchError, ValueError):
    """An input lies outside the domain of a function (log of a non-positive number)."""


class SerializationError(NNScratchError, ValueError):
    """A saved file is truncated, corrupted, of an unknown version or unsafe to load."""


class MissingFileError(SerializationError, FileNotFoundError):
    """The file to load does not exist (also a ``FileNotFoundError``, so ``except FileNotFoundError`` works)."""


class CallOrderError(NNScratchError, RuntimeError):
    """A method was called before the one it relies on (backward before forward, transform before fit)."""


class GradientError(NNScratchError, AssertionError):
    """A hand-written backward disagrees with finite differences (raised by ``report.assert_ok()``)."""


class PrecisionWarning(UserWarning):
    """A computation runs in a precision too low for its result to be trusted tightly (float32 gradcheck)."""


class BroadcastWarning(UserWarning):
    """A loss compared arrays of different shapes by broadcasting, as torch does silently."""
