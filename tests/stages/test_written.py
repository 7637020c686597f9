"""Text repairs of model-written sentences, one rule at a time (whole-stage behaviour is in
test_brief.py)."""

from __future__ import annotations

from pipeline.stages.written import clean, complete, repeats, terms

CUT = ("Power is out across the island. " + "Officials said that the damage was severe and " * 8)[
    :300
]


def test_clean_drops_citations_and_closes_up_initialisms() -> None:
    assert clean("The U. S. and the U. K. agreed [2][g4].") == "The U.S. and the U.K. agreed."


def test_repeats_by_overlap_or_containment() -> None:
    first = terms("The storm made landfall near New Hope with winds of 185 mph.")
    assert repeats(terms("The storm made landfall near New Hope, winds 185 mph."), first)
    assert not repeats(terms("Seven people died across the Caribbean."), first)
    # short sentences are compared by overlap only: two shared words are not a repeat
    assert not repeats(terms("The storm hit."), terms("The storm weakened over Cuba."))


def test_a_cut_sentence_keeps_its_finished_part() -> None:
    assert complete(CUT) == "Power is out across the island."
    assert complete("to dangerous conditions.") is None
    assert complete("A short sentence without a stop") == "A short sentence without a stop"
