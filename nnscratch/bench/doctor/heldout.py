"""The doctor's held-out runs: labelled before the doctor ever saw them, never used to tune it.

Each run is modelled on a kind of failure (or healthy set-up) that users report in public
places, such as Stack Overflow questions, the PyTorch and Keras forums, Kaggle notebooks and
course notes, and none is one of the five documents' set-ups, a copy of a tuning run
(:mod:`.cases`) or of a retired held-out run (:mod:`.retired`). ``expect`` lists the codes that
the codes' definitions (:mod:`nnscratch.doctor.codes`) say a correct diagnosis must contain;
``()`` marks a healthy run, on which any problem is a false alarm. ``source`` says which kind of
public report the run is modelled on, and ``why`` why the label follows from the codes' definitions.

How the labels were set: each run was first trained without the doctor and measured directly
(the loss over all rows against the mean predictor's, the predictions' spread, the share of dead
units, the signal's size per layer, the early update-to-weight ratio, the learning rate over the
run), on seeds 0, 1 and 2. ``expect`` holds the code that names the cause where its definition
held in every seed; where no code names the cause, or its definition did not hold in every seed,
the codes whose definitions did hold and that point at the fix (PLATEAU, CONSTANT_OUTPUT, or e.g.
DEAD_RELU, whose fix names He initialisation and a lower rate); and NON_FINITE where the loss
became NaN or infinite in every seed. Codes the doctor adds beyond ``expect`` are not counted
against it on a broken run. The measurements come from ``python -m nnscratch.bench.doctor.measure``
(:mod:`.measure`), which trains a run with no doctor attached; runs that did not fail as designed
in all three seeds are in :data:`REJECTED`, with the reason, and were dropped before the doctor
was run on any run of this set.

The thresholds and rules must not change because of these runs: a rule or threshold changed
after seeing them moves them into the tuning set (:mod:`.retired`), and new held-out runs have
to be written. This is the fifth held-out set; the first four are in :mod:`.retired`.
"""

from __future__ import annotations

from .cases import Reported, named

HELDOUT: list[Reported] = []

REJECTED: list[tuple[Reported, str]] = []


def get(name: str) -> Reported:
    """The held-out case called ``name``."""
    return named(HELDOUT, name)  # type: ignore[no-any-return]
