"""Held-out runs that moved into the tuning set after a rule or threshold changed.

A held-out set is labelled before the doctor sees it and never used to tune it (see
:mod:`..heldout`). When a rule or threshold changes after a held-out set has been seen, that set
moves here, into the tuning set, and a new held-out set is written: :mod:`.first`,
:mod:`.second`, :mod:`.third` and :mod:`.fourth` are the first four held-out sets.
"""

from __future__ import annotations

from ..cases import Reported, named
from . import first, fourth, second, third

RETIRED: list[Reported] = first.RETIRED + second.RETIRED + third.RETIRED + fourth.RETIRED
REJECTED: list[tuple[Reported, str]] = first.REJECTED + second.REJECTED + third.REJECTED + fourth.REJECTED
# Runs that moved before the rest of their set, for a rule change (see each module).
MOVED: tuple[str, ...] = first.MOVED


def get(name: str) -> Reported:
    """The retired run called ``name``."""
    return named(RETIRED, name)  # type: ignore[no-any-return]
