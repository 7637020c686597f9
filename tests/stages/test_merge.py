from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from stage_helpers import article, claim, context

from pipeline.schema import ClaimKind
from pipeline.stages.merge import (
    MEANING_GROUP_THRESHOLD,
    build_groups,
    candidate_groups,
    merge_claims,
)

CALL_1 = claim(
    "1.1",
    "Lavrov and Rubio held a phone call on October 21.",
    "Lavrov and Rubio held a phone discussion on October 21 concerning the summit.",
)
CALL_2 = claim(
    "2.1",
    "Lavrov and Rubio spoke by phone on 20 October.",
    "Lavrov spoke by phone to Marco Rubio on 20 October to discuss the summit.",
)
G20_1 = claim("1.2", "Oreshkin will lead the Russian delegation to the G20 summit.")
G20_3 = claim("3.1", "Maxim Oreshkin will head Russia's G20 delegation instead of Lavrov.")
AGE_2 = claim(
    "2.2",
    "Lavrov was absent from a key Kremlin meeting.",
    "Mr Lavrov, 75, has been absent from a significant Kremlin meeting.",
)
AGE_3 = claim(
    "3.2",
    "Putin tasked officials with preparing nuclear test proposals.",
    "At 75, Lavrov has held the position of foreign minister since 2004.",
)
AGE_4 = claim(
    "4.1",
    "Lavrov did not attend the Security Council meeting.",
    "Russian media reported that the 76-year-old Lavrov did not appear at the meeting.",
)


def test_similar_claims_from_different_articles_group_together():
    clusters = candidate_groups([CALL_1, G20_1, CALL_2, G20_3])
    assert ["1.1", "2.1"] in clusters
    assert ["1.2", "3.1"] in clusters


def test_a_group_never_holds_two_claims_of_one_article():
    a = claim("1.1", "Oreshkin will lead the G20 delegation.")
    b = claim("1.2", "Oreshkin will lead the G20 delegation, the Kremlin said.")
    c = claim("2.1", "Oreshkin will lead the G20 delegation.")
    for members in candidate_groups([a, b, c]):
        assert len({m.split(".")[0] for m in members}) == len(members)


def test_different_dates_in_one_group_are_a_conflict_with_each_value():
    [group] = build_groups([CALL_1, CALL_2], [["1.1", "2.1"]])
    assert group.status == "disputed"
    [conflict] = group.conflicts
    assert conflict.what == "date"
    assert conflict.values_by_article() == {1: "October 21", 2: "October 20"}


def test_agreeing_sources_make_consensus_and_one_source_single_source():
    groups = build_groups([G20_1, G20_3, CALL_1], [["1.2", "3.1"], ["1.1"]])
    assert [g.status for g in groups] == ["consensus", "single_source"]
    assert groups[0].article_ids == [1, 3]


def test_different_ages_across_groups_become_a_conflict_group():
    groups = build_groups([AGE_2, AGE_3, AGE_4], [["2.2", "4.1"], ["3.2"]])
    age = [c for g in groups for c in g.conflicts if "age" in c.what]
    assert age, groups
    values = {v.article_id: v.value for c in age for v in c.values}
    assert values[4] == "76" and values[2] == "75"


def test_denial_is_linked_to_what_it_denies():
    alleged = claim(
        "3.1",
        "Lavrov has fallen out of favour with Putin.",
        kind=ClaimKind.ALLEGATION,
        by="The Moscow Times",
    )
    denied = claim(
        "1.1",
        "Peskov denied that Lavrov has fallen out of favour with Putin.",
        kind=ClaimKind.DENIAL,
        by="Dmitry Peskov",
    )
    other = claim("2.1", "Washington imposed sanctions on Rosneft and Lukoil.")
    groups = build_groups([denied, other, alleged], [["1.1"], ["2.1"], ["3.1"]])
    by_kind = {g.kind: g for g in groups}
    assert by_kind[ClaimKind.DENIAL].related == [by_kind[ClaimKind.ALLEGATION].id]
    assert by_kind[ClaimKind.ALLEGATION].status == "disputed"
    assert by_kind[ClaimKind.FACT].status == "single_source"


def test_model_outliers_are_split_off_and_unknown_ids_ignored():
    ctx, backend = context(
        "merge_claims",
        {"verdicts": [{"group": "g1", "outliers": ["2.1", "9.9"]}, {"group": "g7"}]},
    )
    arts = [article(i, ["x"]) for i in (1, 2, 3)]
    result = merge_claims([CALL_1, G20_1, CALL_2, G20_3], arts, ctx)
    assert len(backend.requests) == 1
    ids = [g.claim_ids for g in result.groups]
    assert ["1.1"] in ids and ["2.1"] in ids and ["1.2", "3.1"] in ids
    assert result.outliers == 1


def test_no_candidate_groups_means_no_model_call():
    ctx, backend = context("merge_claims")
    result = merge_claims([CALL_1, G20_3], [article(1, ["x"]), article(3, ["y"])], ctx)
    assert backend.requests == [] and len(result.groups) == 2


def test_sentences_the_model_skipped_are_still_scanned_for_date_conflicts():
    arts = [
        article(
            1,
            [
                "Lavrov and Rubio held a phone discussion on October 21 about the summit.",
                "On October 16, Trump and Putin announced a meeting after a phone call.",
            ],
        ),
        article(
            2,
            [
                "Lavrov spoke by phone to Marco Rubio on 20 October to discuss the summit, "
                "days after it was announced by Trump following a phone call with Putin."
            ],
        ),
    ]
    from pipeline.stages.merge import sentence_date_conflicts

    rule_claims, groups = sentence_date_conflicts(arts, [], [])
    assert len(groups) == 1  # the Trump-Putin call on October 16 is another event
    [conflict] = groups[0].conflicts
    assert conflict.values_by_article() == {1: "October 21", 2: "October 20"}
    assert {c.origin for c in rule_claims} == {"rule"}
    assert all(arts[c.article_id - 1].text[c.span[0] : c.span[1]] == c.quote for c in rule_claims)


def test_a_model_claim_on_the_same_sentence_is_reused_not_duplicated():
    arts = [
        article(1, ["Lavrov and Rubio held a phone discussion on October 21."]),
        article(2, ["Lavrov and Rubio had a phone discussion on 20 October."]),
    ]
    model_claim = claim("1.1", "Lavrov and Rubio held a phone discussion on October 21.")
    from pipeline.stages.merge import sentence_date_conflicts

    rule_claims, groups = sentence_date_conflicts(arts, [model_claim], [])
    assert "1.1" in groups[0].claim_ids
    assert [c.article_id for c in rule_claims] == [2]


def test_ages_are_compared_across_every_kept_sentence():
    from pipeline.stages.merge import sentence_age_conflicts

    arts = [
        article(2, ["Mr Lavrov, 75, was absent from the meeting."]),
        article(3, ["At 75, Lavrov has held the post since 2004."]),
        article(4, ["Russian media reported that the 76-year-old Lavrov did not appear."]),
    ]
    rule_claims, [group] = sentence_age_conflicts(arts, [], [])
    assert group.conflicts[0].values_by_article() == {2: "75", 3: "75", 4: "76"}
    assert group.status == "disputed" and len(rule_claims) == 3
    assert sentence_age_conflicts(arts[:2], [], []) == ([], [])  # same age: no conflict


def test_meaning_groups_claims_that_share_no_words() -> None:
    bikes = claim("1.1", "The thieves escaped on motorbikes.")
    scooter = claim("2.1", "Suspects fled aboard a motor-scooter.")
    closed = claim("3.1", "The museum stayed shut on Monday.")
    claims = [bikes, scooter, closed]
    assert ["1.1", "2.1"] not in candidate_groups(claims)
    # Unit vectors as an encoder would give them: the first two point the same way.
    meaning = np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0]], dtype=np.float32)
    clusters = candidate_groups(claims, MEANING_GROUP_THRESHOLD, meaning)
    assert ["1.1", "2.1"] in clusters and ["3.1"] in clusters


def test_merge_uses_the_encoder_it_is_given() -> None:
    bikes = claim("1.1", "The thieves escaped on motorbikes.")
    scooter = claim("2.1", "Suspects fled aboard a motor-scooter.")
    seen: list[list[str]] = []

    def encode(texts: Sequence[str]) -> NDArray[np.float32]:
        seen.append(list(texts))
        return np.array([[1.0, 0.0], [1.0, 0.0]], dtype=np.float32)

    ctx, _ = context("merge_claims", {"verdicts": []})
    result = merge_claims([bikes, scooter], [article(1, ["x"]), article(2, ["y"])], ctx, encode)
    assert seen == [[bikes.text, scooter.text]]
    assert [g.claim_ids for g in result.groups] == [["1.1", "2.1"]]


def test_count_conflict_values_are_shown_with_thousands_separators() -> None:
    a = claim("1.1", "Over 240,000 electricity customers are without power.")
    b = claim("2.1", "Some 540,000 customers are without power.")
    (group,) = build_groups([a, b], [["1.1", "2.1"]])
    (conflict,) = group.conflicts
    assert conflict.what == "number of customers"
    assert [v.value for v in conflict.values] == ["240,000", "540,000"]
