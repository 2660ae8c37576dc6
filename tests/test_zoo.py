"""Every deliberately wrong layer or loss in nnscratch.zoo fails the check, on the right tensor."""

import pytest

from nnscratch import zoo


def test_zoo_has_at_least_eight_documented_mistakes():
    assert len(zoo.names()) >= 8
    for name in zoo.names():
        doc = zoo.SPECIMENS[name].doc
        assert "Mistake:" in doc and "Fix:" in doc, name


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("name", zoo.names())
def test_checker_fails_the_specimen_and_names_the_wrong_tensor(name, fast):
    report = zoo.check_specimen(name, fast=fast, rng=0)
    assert not report.passed
    assert [t.name.split(".")[-1] if t.name != "input" else t.name for t in report.failed] == [
        zoo.SPECIMENS[name].wrong_tensor
    ], str(report)
    assert report.failed[0].worst_index is not None


@pytest.mark.parametrize("name", zoo.names())
def test_the_correct_engine_class_passes(name):
    for seed in range(3):
        report = zoo.check_specimen(name, correct=True, rng=seed)
        assert report.passed, str(report)


def test_in_place_edit_is_also_reported_as_a_problem():
    report = zoo.check_specimen("in_place_relu")
    assert any("in place" in p for p in report.problems)


def test_unknown_specimen():
    with pytest.raises(ValueError, match="bias_not_summed"):
        zoo.check_specimen("nope")
