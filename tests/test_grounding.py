"""Unit tests for pipeline.grounding: plain string rules that tie model output to the articles."""

from __future__ import annotations

import pytest

from pipeline.grounding import (
    Unsupported,
    find_quote,
    has_attribution,
    is_boilerplate,
    names_in,
    normalize,
    numbers_in,
    unsupported,
)

# ---- normalize / find_quote -------------------------------------------------------------------


def test_normalize_straightens_quotes_dashes_and_collapses_whitespace():
    assert normalize("  \u201cHe\u2019s  here\u201d \u2013\n\tnow\u00a0 ") == '"He\'s here" - now'
    assert normalize("\u00abNyet\u00bb") == '"Nyet"'


def _check_span(quote: str, text: str) -> tuple[int, int]:
    span = find_quote(quote, text)
    assert span is not None
    start, end = span
    assert 0 <= start < end <= len(text)
    assert normalize(text[start:end]) == normalize(quote)
    return span


def test_find_quote_exact_returns_exact_span():
    text = "Intro. Lavrov said the talks were over. Outro."
    quote = "Lavrov said the talks were over."
    assert find_quote(quote, text) == (7, 7 + len(quote))


def test_find_quote_strips_surrounding_whitespace_of_the_quote():
    text = "Intro. Lavrov said no. Outro."
    assert find_quote("  Lavrov said no.\n", text) == (7, 22)


def test_find_quote_modulo_whitespace_maps_back_to_original():
    text = "Start.  Lavrov   said\n\nthe talks\twere over.  End."
    span = _check_span("Lavrov said the talks were over.", text)
    assert span == (8, text.index("over.") + len("over."))
    assert text[span[0] : span[1]].startswith("Lavrov")
    assert text[span[0] : span[1]].endswith("over.")


def test_find_quote_modulo_curly_quotes_both_directions():
    text = "He called it \u201ca lie\u201d and said he\u2019d stay."
    span = _check_span('He called it "a lie" and said he\'d stay.', text)
    assert span == (0, len(text))
    # model quotes curly, article straight
    text2 = 'Peskov: "nothing true" in it.'
    span2 = _check_span("\u201cnothing true\u201d", text2)
    assert text2[span2[0] : span2[1]] == '"nothing true"'


def test_find_quote_modulo_guillemets():
    text = "Zakharova wrote \u00abthis is fake news\u00bb on Telegram."
    span = _check_span('"this is fake news"', text)
    assert text[span[0] : span[1]] == "\u00abthis is fake news\u00bb"


def test_find_quote_with_shifted_offsets_after_collapsed_whitespace():
    # Whitespace collapsed *before* the quote must not shift the returned span.
    text = "A  \n  B   C.   Putin \u2013 Trump summit was called off."
    span = _check_span("Putin - Trump summit was called off.", text)
    assert text[span[0] : span[1]] == "Putin \u2013 Trump summit was called off."


@pytest.mark.parametrize("quote", ["", "   ", "\n\t"])
def test_find_quote_empty_is_none(quote: str):
    assert find_quote(quote, "Some article text.") is None


def test_find_quote_absent_is_none():
    assert find_quote("Medvedev resigned.", "Lavrov said the talks were over.") is None
    assert find_quote("talks were never over", "Lavrov said the talks were over.") is None


# ---- names_in ---------------------------------------------------------------------------------


def test_names_in_people_places_bodies():
    text = "Sergei Lavrov met officials of the Security Council in Moscow and the Kremlin."
    names = names_in(text)
    assert {"sergei", "lavrov", "moscow", "kremlin"} <= names
    assert "security" not in names and "council" not in names  # generic nouns


def test_names_in_skips_function_words_titles_months_weekdays():
    text = (
        "The minister said. According to reports, President Putin spoke on Monday. "
        "However, in October Mr Lavrov and Dr Smith left. Meanwhile Foreign Minister Wang came."
    )
    assert names_in(text) == {"putin", "lavrov", "smith", "wang"}


def test_names_in_skips_number_words_and_single_letters():
    assert names_in("Two officials and One man. I left. A car.") == set()


def test_names_in_us_handling():
    assert names_in("U.S. officials met Lavrov.") == {"us", "lavrov"}
    assert names_in("The US said so.") == {"us"}
    assert names_in("U.S.-Russia talks") == {"us", "russia"}
    # the pronoun at the start of a sentence is not a name
    assert names_in("Us too, he said.") == set()


def test_names_in_possessives():
    assert names_in("Putin's envoy and Lavrov\u2019s deputy met in Kyiv's centre.") == {
        "putin",
        "lavrov",
        "kyiv",
    }


def test_names_in_hyphenated_and_dashed_names():
    assert names_in("The Putin\u2013Trump summit") == {"putin", "trump"}
    assert names_in("The Putin-Trump summit") == {"putin", "trump"}
    assert names_in("The Putin \u2014 Trump call") == {"putin", "trump"}


def test_names_in_trailing_period_is_stripped():
    assert names_in("Lavrov fell out of favour with Putin.") == {"lavrov", "putin"}


# ---- numbers_in -------------------------------------------------------------------------------


def test_numbers_in_digits_with_commas_and_decimals():
    assert numbers_in("1,200 people and 3.5 tonnes, then 7.") == {"1200", "3.5", "7"}
    assert numbers_in("It cost 2.0 million") == {"2", "1000000"}


def test_numbers_in_number_words():
    assert numbers_in("Twelve soldiers and two tanks; a dozen") == {"12", "2"}
    # compound number words are read whole (text2num), so they equal their digits
    assert numbers_in("three hundred") == {"300"}
    assert numbers_in("twenty-five people") == {"25"}
    assert not unsupported("Three hundred people left.", ["300 people left"])


def test_numbers_in_months_and_weekdays():
    assert numbers_in("On Monday, 21 October") == {"monday", "21", "month:10"}
    assert numbers_in("Oct. 21") == {"month:10", "21"}
    assert numbers_in("in september") == {"month:9"}


def test_numbers_in_age_with_year_old():
    assert numbers_in("the 76-year-old Lavrov") == {"76"}


def test_numbers_in_may_month_vs_verb():
    assert numbers_in("He may resign.") == set()
    assert numbers_in("He resigned in May.") == {"month:5"}
    assert numbers_in("May 5") == {"month:5", "5"}


def test_numbers_in_march_month_vs_verb():
    assert numbers_in("Thousands march in Moscow.") == set()
    assert numbers_in("in March") == {"month:3"}


def test_numbers_in_short_lower_case_month_abbreviation_is_not_a_month():
    # "dec"/"jan" lower-case are not months; capitalised abbreviations are
    assert numbers_in("a dec of cards") == set()
    assert numbers_in("Jan 3") == {"month:1", "3"}


# ---- unsupported ------------------------------------------------------------------------------

SUPPORT = [
    "Mr Lavrov, 75, was absent from a Russian Security Council meeting on 21 October.",
    "Kremlin spokesman Dmitry Peskov said U.S. reports were false.",
]


def test_unsupported_invented_name_is_flagged():
    missing = unsupported("Lavrov was replaced by Medvedev.", SUPPORT)
    assert missing == [Unsupported("name", "medvedev")]
    assert str(missing[0]) == "name 'medvedev'"


def test_unsupported_wrong_number_is_flagged():
    missing = unsupported("Lavrov, 76, was absent.", SUPPORT)
    assert missing == [Unsupported("number", "76")]


def test_unsupported_wrong_month_is_flagged_and_displayed_without_prefix():
    missing = unsupported("Lavrov was absent on 21 November.", SUPPORT)
    assert missing == [Unsupported("number", "month:11")]
    assert str(missing[0]) == "number '11'"


def test_unsupported_reordered_date_is_not_flagged():
    assert unsupported("Lavrov was absent on October 21.", SUPPORT) == []


def test_unsupported_inflection_russia_russian_is_not_flagged():
    assert unsupported("Russia's Security Council met without Lavrov.", SUPPORT) == []
    assert unsupported("The Russian council met.", ["Russia's council met."]) == []


def test_unsupported_short_names_need_exact_match():
    # names under 5 letters get no inflection leeway
    assert unsupported("Oslo hosted it.", ["Osloo hosted it."]) == [Unsupported("name", "oslo")]


def test_unsupported_us_forms_are_equal():
    assert unsupported("Peskov said US reports were false.", SUPPORT) == []
    assert unsupported("The U.S. said no.", ["The US said no."]) == []


def test_unsupported_invented_us_is_flagged():
    assert unsupported("The U.S. condemned the strike.", ["Russia condemned the strike."]) == [
        Unsupported("name", "us")
    ]


def test_unsupported_mixed_output_is_sorted_names_then_numbers():
    missing = unsupported("Medvedev and Abramov, 80, met on 3 May.", SUPPORT)
    assert missing == [
        Unsupported("name", "abramov"),
        Unsupported("name", "medvedev"),
        Unsupported("number", "3"),
        Unsupported("number", "80"),
        Unsupported("number", "month:5"),
    ]


def test_unsupported_accepts_a_generator_as_support():
    assert unsupported("Peskov spoke.", (s for s in SUPPORT)) == []


def test_unsupported_with_empty_support_flags_everything():
    assert unsupported("Lavrov, 75.", []) == [
        Unsupported("name", "lavrov"),
        Unsupported("number", "75"),
    ]


# ---- has_attribution --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "According to The Moscow Times, Lavrov fell out of favour.",
        "Peskov said there was nothing true in the reports.",
        "The Kremlin denied the reports.",
        "Lavrov allegedly angered Putin.",
        "Officials told Reuters the meeting was cancelled.",
        "Sources close to the ministry suggest a rift.",
        "The report states that Lavrov left.",
        "Zakharova, dismissing the rumours, called it fake.",
    ],
)
def test_has_attribution_positive(text: str):
    assert has_attribution(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "Lavrov fell out of favour with Putin.",
        "The summit in Budapest was cancelled.",
        "Putin did not attend the meeting on 21 October.",
        # "states" in "United States" / "member states" is not a reporting verb
        "The United States imposed new sanctions.",
        "EU member states agreed on a package.",
        # a bare noun names no one who claims anything
        "There is nothing true in these reports. Lavrov continues to work as minister.",
        "Speculation grew about his role.",
    ],
)
def test_has_attribution_negative(text: str):
    assert has_attribution(text) is False


def test_has_attribution_named_source():
    text = "In the Kommersant interview, Lavrov looked tired."
    assert has_attribution(text) is False
    assert has_attribution(text, ["Kommersant"]) is True
    assert has_attribution(text, ["kommersant"]) is True  # case-insensitive
    assert has_attribution(text, ["", "Kommersant"]) is True
    assert has_attribution(text, ["TASS"]) is False


def test_has_attribution_named_source_matches_whole_words_only():
    # a short outlet name must not match inside another word ("RT" in "started")
    text = "The talks started late in the part of town."
    assert has_attribution(text, ["RT"]) is False
    assert has_attribution("Lavrov was sidelined, RT noted.", ["RT"]) is True


def test_has_attribution_empty_source_is_ignored():
    assert has_attribution("Lavrov fell out of favour with Putin.", ["", "  "]) is False


# ---- is_boilerplate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Your support helps us to tell the story.",
        "Please consider a donation to keep our reporting free.",
        "Donate now",
        "Support us today.",
        "Support our journalism.",
        "Support now",
        "Subscribe to our newsletter for daily updates.",
        "Sign up for free.",
        "open image in gallery",
        "Open image in gallery Lavrov in Moscow (Getty Images)",
        "Lavrov at the UN in New York. ( AP )",
        "Sergei Lavrov (AP)",
        "Read more: Lavrov and Putin",
        "Remind me later",
        "Dear reader, we need you.",
        "Sponsored content",
        "Click here to read the full story.",
        "\u00a9 2025 All rights reserved.",
        "Below are some of the photos shared on Twitter.",
        "Watch the full interview with the mayor (video)",
    ],
)
def test_is_boilerplate_positive(text: str):
    assert is_boilerplate(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "Putin did not support the ceasefire.",
        "Moscow does not support US sanctions on Iran.",
        "Public support now stands at 40 percent.",
        "Support for the war has fallen, the poll suggests.",
        "Lavrov was absent from a Security Council meeting on November 5.",
        "Western diplomats said state-sponsored hackers were involved.",
        "The resolution was sponsored by France.",
        "Japan's Prime Minister met Apple executives.",  # "ap" inside words, no brackets
        "He said the apartment was searched.",
        "Below-zero temperatures closed the schools.",
        "The video shows the officer above the crowd.",
    ],
)
def test_is_boilerplate_negative(text: str):
    assert is_boilerplate(text) is False
