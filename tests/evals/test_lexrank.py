"""LexRank and lead-3 baselines: budget, order, and no NLTK data needed."""

from __future__ import annotations

import pytest

from evals import lexrank

ARTICLES = [
    [
        "The council approved the new transit plan on Monday.",
        "The transit plan adds three bus lines.",
        "Weather was mild.",
    ],
    [
        "On Monday the city council approved a transit plan.",
        "Critics said the transit plan costs too much.",
        "A parade is planned.",
    ],
    ["The transit plan was approved by the council.", "Bus lines open in May."],
]


def test_lead_n_is_round_robin_over_articles() -> None:
    assert lexrank.lead_n(ARTICLES, 2) == [
        ARTICLES[0][0], ARTICLES[1][0], ARTICLES[2][0],
        ARTICLES[0][1], ARTICLES[1][1], ARTICLES[2][1],
    ]  # fmt: skip
    assert lexrank.lead_n([], 3) == []


def test_lexrank_ranks_the_central_sentence_first_and_fills_the_budget() -> None:
    # One sentence shares words with four others that share none with each other: the hub.
    hub = "The council approved the transit plan for buses on Monday."
    articles = [
        ["Weather was mild on the coast.", hub],
        ["A parade is planned for June.", "The council met for hours."],
        ["Schools close early in summer.", "Buses run late."],
        ["The transit agency is broke.", "Monday was busy."],
    ]
    assert lexrank.lexrank(articles, 10) == [hub]
    ranked = lexrank.lexrank(articles, 20)
    assert ranked[0] == hub
    words = sum(len(s.split()) for s in ranked)
    assert words >= 20 and words - len(ranked[-1].split()) < 20
    assert lexrank.lexrank([], 50) == [] and lexrank.lexrank([[]], 50) == []


def test_lexrank_counts_a_repeated_sentence_once() -> None:
    same = "The council approved the transit plan."
    ranked = lexrank.lexrank([[same, "Bus lines open."], [same]], 100)
    assert ranked.count(same) == 1


def test_no_nltk_data_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """sumy's own Tokenizer would load NLTK punkt; ours never calls it."""
    import nltk

    def refuse(*args: object, **kwargs: object) -> None:
        raise LookupError("no NLTK data on this machine")

    monkeypatch.setattr(nltk, "sent_tokenize", refuse)
    monkeypatch.setattr(nltk, "word_tokenize", refuse)
    monkeypatch.setattr(nltk.data, "load", refuse)
    assert lexrank.lexrank(ARTICLES, 10)


def test_pysbd_tokenizer_keeps_abbreviations() -> None:
    tok = lexrank.PysbdTokenizer()
    assert tok.to_sentences("Mr. Lavrov met the U.S. envoy. He left.") == (
        "Mr. Lavrov met the U.S. envoy.",
        "He left.",
    )
    assert tok.to_words("The U.S. envoy, 75, left.") == ("The", "U.S.", "envoy", "75", "left")
