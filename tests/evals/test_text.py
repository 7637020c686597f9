"""The evals' own tokenizer: names, numbers, dates, times, quotes."""

from __future__ import annotations

from evals import text as tx


def test_names_skip_function_words_months_and_citations() -> None:
    sentence = "According to article [1], top U.S. and Russian diplomats met in Moscow on Tuesday."
    assert tx.names(sentence) == ["U.S.", "Russian", "Moscow"]
    assert tx.names("The U. and Russian diplomats") == ["U", "Russian"]


def test_numbers_dates_and_times() -> None:
    assert tx.numbers("He is 75 [2], got 2,000 votes at 15.30 and 10%.") == [
        "75", "2,000", "15.30", "10%",
    ]  # fmt: skip
    assert tx.dates("On Tuesday, 5 November") == ["Tuesday", "November"]
    assert tx.times("at 15.30 hours (3.30 p.m.), not 9am") == ["15.30 hours", "3.30 pm", "9 am"]


def test_number_words_support_digits() -> None:
    found = tx.token_set(["Four more boys were freed; 2,000 people watched."])
    assert {"4", "2000", "boys"} <= found
    assert tx.number_value("2,000") == "2000" and tx.number_value("Eight") == "8"


def test_outside_quotes_blanks_quoted_text_and_unclosed_quotes() -> None:
    assert "visited" not in tx.outside_quotes('He said: "I visited the site." Then left.')
    assert tx.outside_quotes("He said: \u201cI visited") == "He said: "


def test_sentences_use_pysbd_and_keep_abbreviations() -> None:
    assert tx.sentences("Mr. Lavrov met the U.S. envoy. He left.\n\nNext day.") == [
        "Mr. Lavrov met the U.S. envoy.",
        "He left.",
        "Next day.",
    ]
