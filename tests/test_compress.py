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
