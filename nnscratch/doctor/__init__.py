"""The training doctor: name the cause of a failing run in plain words, with the evidence.

``Doctor`` is a callback that watches training; ``diagnose`` checks a set-up before it.
Both return a :class:`Report` of :class:`Finding` objects, root causes first.
"""

from .checkup import checkup, diagnose
from .codes import CODES, Thresholds
from .doctor import Doctor
from .report import Finding, Report

__all__ = ["CODES", "Doctor", "Finding", "Report", "Thresholds", "checkup", "diagnose"]
