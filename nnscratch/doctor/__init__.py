"""The training doctor: name the cause of a failing run in plain words, with the evidence.

``Doctor`` is a callback that watches training; ``diagnose`` checks a set-up before it.
Both return a :class:`Report` of :class:`Finding` objects, root causes first.
"""

from .doctor import Doctor, checkup, diagnose
from .report import Finding, Report
from .rules import CODES, Thresholds

__all__ = ["CODES", "Doctor", "Finding", "Report", "Thresholds", "checkup", "diagnose"]
