"""Unit tests for pipeline.conflicts: typed values (dates, ages, counts) for comparing claims."""

from __future__ import annotations

import pytest

from pipeline.conflicts import (
    aged_people,
    ages_in,
    amounts_in,
    counts_in,
    dates_in,
    display_date,
    typed_values,
)

# ---- dates_in ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The meeting on October 21 was cancelled.",
        "The meeting on 21 October was cancelled.",
        "The meeting on Oct. 21 was cancelled.",
        "The meeting on Oct 21 was cancelled.",
        "The meeting on the 21st of October was cancelled.",
        "The meeting on October 21st, 2025, was cancelled.",
        "The meeting on 21\u00a0October 2025 was cancelled.",
    ],
)
def test_dates_in_forms_of_one_date(text: str):
    assert dates_in(text) == {"10-21"}


def test_dates_in_ordinal_of_form():
    assert dates_in("on the 20th of October") == {"10-20"}


def test_dates_in_several_and_abbreviations():
    assert dates_in("From Sept. 3 to 5 November and on Dec 1") == {"9-3", "11-5", "12-1"}


def test_dates_in_invalid_day_is_ignored():
    assert dates_in("October 45") == set()
    assert dates_in("45 October") == set()
    assert dates_in("October 0") == set()
    assert dates_in("October 31") == {"10-31"}


def test_dates_in_month_and_year_is_not_a_date():
    assert dates_in("In October 2025 the talks stalled.") == set()
    assert dates_in("in May 2022") == set()


def test_dates_in_lower_case_may_is_not_a_month():
    assert dates_in("he may 5 times refuse") == set()


def test_dates_in_words_starting_with_a_month_are_not_months():
    # "Mar"-ines, "May"-ors, "Jun"-ior: the month needs a word boundary
    assert dates_in("5 Marines were killed.") == set()
    assert dates_in("12 Mayors met in Kyiv.") == set()
    assert dates_in("3 Junior ministers resigned.") == set()


# ---- ages_in ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ages"),
    [
        ("Mr Lavrov, 75, was absent.", {"75"}),
        ("the 76-year-old Lavrov", {"76"}),
        ("Lavrov, aged 75, left.", {"75"}),
        ("he retired at the age of 70", {"70"}),
        ("At 75, Lavrov is the longest-serving minister.", {"75"}),
        ("at 75, he still travels.", {"75"}),
        ("Lavrov, 75, and Peskov, 58, spoke.", {"75", "58"}),
    ],
)
def test_ages_in(text: str, ages: set[str]):
    assert ages_in(text) == ages


def test_ages_in_out_of_range_or_not_an_age():
    assert ages_in("the 5-year-old plan") == set()  # one digit: not matched at all
    assert ages_in("a 12-year-old boy") == set()  # below 15
    assert ages_in("a 150-year-old tree") == set()  # above 110
    assert ages_in("Lavrov met 75 officials.") == set()
    assert ages_in("In 2025, Lavrov travelled.") == set()


# ---- aged_people ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Mr Lavrov, 75, was absent.",
        "Sergei Lavrov, 75, was absent.",
        "the 75-year-old Lavrov was absent.",
        "the 75-year-old Mr Lavrov was absent.",
        "At 75, Lavrov is the longest-serving minister.",
        "At 75, the veteran diplomat Lavrov keeps travelling.",
        "aged 75 Lavrov",
    ],
)
def test_aged_people_forms(text: str):
    assert aged_people(text) == {"lavrov": "75"}


def test_aged_people_full_name_after_age_is_keyed_by_surname():
    # "Lavrov, 75," keys by surname, so "76-year-old ... Sergei Lavrov" must too, or an age
    # conflict between two articles goes unnoticed.
    text = "the 76-year-old foreign minister Sergei Lavrov said"
    assert aged_people(text) == {"lavrov": "76"}


def test_aged_people_several_people():
    text = "Lavrov, 75, and Peskov, 58, spoke; the 73-year-old Putin listened."
    assert aged_people(text) == {"lavrov": "75", "peskov": "58", "putin": "73"}


def test_aged_people_age_without_a_name_or_out_of_range():
    assert aged_people("the 76-year-old minister said") == {}
    assert aged_people("Moscow, 12, was cold") == {}  # 12 is below the age range
    assert aged_people("Lavrov met 75 officials.") == {}


# ---- counts_in --------------------------------------------------------------------------------


def test_counts_in_people_killed():
    assert counts_in("At least 12 people were killed and 30 soldiers wounded.") == {
        "people": "12",
        "soldiers": "30",
    }


def test_counts_in_commas_and_number_words():
    assert counts_in("1,200 people fled") == {"people": "1200"}
    assert counts_in("three children died") == {"children": "3"}


def test_counts_in_capitalised_number_word_at_sentence_start():
    assert counts_in("Twelve people were killed.") == {"people": "12"}


def test_counts_in_multiplied_numbers():
    assert counts_in("2 million people fled.") == {"people": "2000000"}
    assert counts_in("2.5 million people fled.") == {"people": "2500000"}
    assert counts_in("two hundred soldiers") == {"soldiers": "200"}
    assert counts_in("a million people") == {"people": "1000000"}


def test_counts_in_years_are_not_counts():
    assert counts_in("In 2022 officials said nothing.") == {}
    assert counts_in("By 1999 soldiers had left.") == {}


def test_counts_in_day_after_a_month_is_not_a_count():
    assert counts_in("On October 21 protesters gathered.") == {}
    assert counts_in("On Oct. 21 protesters gathered.") == {}


def test_counts_in_durations_are_not_counts():
    assert counts_in("He served 20 years and 3 months, then 48 hours of talks.") == {}
    assert counts_in("for two decades") == {}


def test_counts_in_one_word_between_number_and_noun():
    assert counts_in("over 240,000 electricity customers") == {"customers": "240000"}
    assert counts_in("2 million people fled.") == {"people": "2000000"}
    assert counts_in("5 years children") == {}


def test_counts_in_singular_and_ss_words_are_not_counts():
    assert counts_in("1 soldier") == {}
    assert counts_in("in 2 congress.") == {}  # "-ss" is not a plural
    assert counts_in("in 2 congress sessions") == {"sessions": "2"}
    assert counts_in("2 bosses") == {"bosses": "2"}


def test_counts_in_later_value_wins_for_same_noun():
    assert counts_in("5 people, later 7 people") == {"people": "7"}


# ---- typed_values / display_date --------------------------------------------------------------


def test_typed_values_collects_all_kinds():
    text = "On 21 October, Lavrov, 75, said 12 people were killed."
    assert typed_values(text) == {
        "date": {"10-21"},
        "age": {"75"},
        "number of people": {"12"},
    }


def test_typed_values_empty_for_plain_text():
    assert typed_values("Lavrov fell out of favour with Putin.") == {}


def test_typed_values_only_present_kinds():
    assert typed_values("The summit on November 5 was off.") == {"date": {"11-5"}}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("10-21", "October 21"),
        ("5-1", "May 1"),
        ("9-3", "September 3"),
        ("6-07", "June 7"),
        ("1-31", "January 31"),
        ("12-25", "December 25"),
    ],
)
def test_display_date(value: str, shown: str):
    assert display_date(value) == shown


def test_display_date_round_trips_dates_in():
    for value in dates_in("March 3, 21 October, Sept. 9"):
        assert dates_in(display_date(value)) == {value}


def test_amounts_in_reads_every_multiplied_number_with_or_without_a_noun():
    text = (
        "The city will send 2.5 million doses to Ayton and 1.5 million to Bree, two hundred vans."
    )
    assert amounts_in(text) == {"2500000", "1500000", "200"}
    assert counts_in(text) == {"doses": "2500000", "vans": "200"}  # one value per noun
