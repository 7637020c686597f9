"""Times as written, number words as digits."""

from pipeline.text import number_words_to_digits, times_in


def test_times_keep_their_unit_and_ignore_spelling():
    assert times_in("at 15.30 hours (3.30 pm)") == {"15.30 hours", "3.30 pm"}
    assert times_in("around 12 p.m. and 09:45") == {"12 pm", "9.45"}
    assert times_in("15.30 pm") == {"15.30 pm"}


def test_number_words_become_digits_but_vague_plurals_stay():
    assert number_words_to_digits("twenty-five people") == "25 people"
    assert number_words_to_digits("Thousands of people") == "Thousands of people"
