from pipeline.compress import compressed

LONG = (
    "At the meeting with the permanent members of the Security Council, Putin instructed "
    "officials to work on proposals to resume nuclear tests, which Russia last conducted in 1990."
)


def test_a_trailing_clause_is_dropped_from_a_long_sentence():
    assert compressed(LONG) == (
        "At the meeting with the permanent members of the Security Council, Putin instructed "
        "officials to work on proposals to resume nuclear tests."
    )


def test_short_sentences_and_clauses_inside_quotations_stay():
    assert compressed("Lavrov spoke to Rubio on Monday, which Peskov confirmed.") is None
    quoted = (
        'Peskov said: "Lavrov was absent from the meeting of the council on Tuesday, which '
        'was agreed with the president in advance of the session," adding nothing else.'
    )
    assert compressed(quoted) is None


def test_a_relative_clause_in_the_middle_gives_way_to_an_ellipsis():
    long = (
        "State media reported that the 70-year-old minister, who has headed the ministry for "
        "more than 20 years, did not appear at a key meeting of the council held on Tuesday."
    )
    assert compressed(long) == (
        "State media reported that the 70-year-old minister \u2026 did not appear at a key "
        "meeting of the council held on Tuesday."
    )
    # "and" after the closing comma: the clause is part of a list, not an aside
    listed = (
        "The council, which met on Tuesday in the old town hall, and the mayor agreed to meet "
        "again next week to settle the budget for the coming year."
    )
    assert compressed(listed) is None


def test_a_scene_setting_opening_of_a_very_long_sentence_is_dropped():
    # NeuS dev 220: 41 words, over the length limit once its credit is added
    long = (
        "With the vice president casting the deciding vote, the Senate voted late Tuesday night "
        "to undo a rule issued by the consumer bureau that would bar financial firms from "
        "contracts that rule out class-action lawsuits related to their products."
    )
    assert compressed(long) == long[long.index("the Senate") :].replace("the", "The", 1)
    # a shorter sentence keeps its opening, and a pronoun is never left in front
    short = "With the vice president casting the deciding vote, the Senate voted late on Tuesday."
    assert compressed(short) is None
    bare = long.replace("the Senate voted", "they voted")
    assert not (compressed(bare) or "").startswith("They")
