"""Lead-3 baseline: sentence split, round-robin order, and its scores on the seed story."""

from __future__ import annotations

from pathlib import Path

from evals.baseline import lead3, lead_n, split_sentences
from evals.facts import load_facts
from evals.harness import score_lead3

SEED = Path(__file__).resolve().parents[2] / "seeds" / "lavrov-2025-11"


def test_split_sentences_keeps_abbreviations_and_quotes() -> None:
    text = 'Mr. Lavrov met the U.S. envoy. "It is done," he said.\nSt. Elizabeth flooded! Next?'
    assert split_sentences(text) == [
        "Mr. Lavrov met the U.S. envoy.",
        '"It is done," he said.',
        "St. Elizabeth flooded!",
        "Next?",
    ]
    assert split_sentences("") == []


def test_lead_n_is_round_robin_over_articles() -> None:
    arts = [["a1", "a2", "a3", "a4"], ["b1"], ["c1", "c2"]]
    assert lead_n(arts, 3) == ["a1", "b1", "c1", "a2", "c2", "a3"]
    assert lead_n([], 3) == []


def test_lead3_on_the_seed_story() -> None:
    sentences, _warnings = lead3(SEED)
    assert 5 <= len(sentences) <= 15
    facts = load_facts(SEED)
    score = score_lead3(facts, sentences, word_budget=250)
    assert score.grounding_by_construction and score.grounding_precision == 1.0
    assert score.words_scored <= 250
    assert 0 < score.recall < 1
    assert score.cost["calls"] == 0
