import json
import re
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from stage_helpers import PROMPTS, article, claim, context

from pipeline.llm.base import ChatRequest
from pipeline.llm.client import LLMClient
from pipeline.llm.fake import FakeBackend
from pipeline.schema import Article, Claim, ClaimKind
from pipeline.stages.common import StageContext
from pipeline.stages.merge import (
    CHARS_PER_TOKEN,
    MAX_CLAIMS_PER_CHECK,
    MAX_GROUPS_PER_CALL,
    MEANING_GROUP_THRESHOLD,
    MERGE_PROMPT_TOKENS,
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


def test_a_count_an_outlet_gives_both_values_of_is_no_conflict() -> None:
    remaining = "Divers resumed the cave rescue to bring out the remaining eight boys."
    freed = "Divers resumed the cave rescue and brought out four more boys."
    total = "That brought the total number of rescued boys to eight."
    a, b = claim("1.1", remaining), claim("2.1", freed)
    articles = [article(1, [remaining]), article(2, [freed, total])]
    ctx, _ = context("merge_claims", {"verdicts": []})
    (group,) = merge_claims([a, b], articles, ctx).groups
    assert group.conflicts == [] and group.status == "consensus"
    apart = [article(1, [remaining]), article(2, [freed])]  # each outlet gives one value
    ctx, _ = context("merge_claims", {"verdicts": []})
    (group,) = merge_claims([a, b], apart, ctx).groups
    assert [c.what for c in group.conflicts] == ["number of boys"]


def test_a_count_an_outlet_gives_both_values_of_in_millions_is_no_conflict() -> None:
    # The outlet that writes "2.5 million doses" also writes "1.5 million" (with no noun):
    # it counts two shipments, the outlets do not disagree.
    both = "The city will send 2.5 million doses to Ayton and 1.5 million to Bree."
    one = "The city will send 1.5 million doses to Bree, officials said."
    a, b = claim("1.1", both), claim("2.1", one)
    ctx, _ = context("merge_claims", {"verdicts": []})
    (group,) = merge_claims([a, b], [article(1, [both]), article(2, [one])], ctx).groups
    assert group.conflicts == []
    apart = "The city will send 2.5 million doses to Ayton."
    ctx, _ = context("merge_claims", {"verdicts": []})
    a = claim("1.1", apart)
    (group,) = merge_claims([a, b], [article(1, [apart]), article(2, [one])], ctx).groups
    assert [c.what for c in group.conflicts] == ["number of doses"]


def _scripted(answer: Callable[[ChatRequest], str]) -> tuple[StageContext, FakeBackend]:
    """A merge context whose model answers every request with `answer(request)`."""
    backend = FakeBackend(responder=answer)
    return StageContext(PROMPTS["merge_claims"], LLMClient(backend, None), "fake-model"), backend


def _no_outliers(_: ChatRequest) -> str:
    return json.dumps({"verdicts": []})


def _shown(request: ChatRequest) -> dict[str, list[str]]:
    """Group id -> claim ids, as the merge prompt lists them (`gN:` then `  [id] text`)."""
    groups: dict[str, list[str]] = {}
    current: list[str] = []
    for line in request.messages[-1]["content"].splitlines():
        if re.fullmatch(r"g[\w-]+:", line):
            current = groups.setdefault(line[:-1], [])
        elif line.startswith("  ["):
            current.append(line[3 : line.index("]")])
    return groups


def _one_event(outlets: int) -> tuple[list[Claim], list[Article]]:
    """Every outlet tells the same two facts, with its own figures: groups as large as the
    number of outlets."""
    claims, arts = [], []
    for n in range(1, outlets + 1):
        texts = [
            f"Officials in Belford said the river rose by {n % 9 + 2} metres overnight.",
            f"Residents of {n % 5 + 10} streets were moved to the school gym by volunteers.",
        ]
        claims += [claim(f"{n}.{i}", t) for i, t in enumerate(texts, 1)]
        arts.append(article(n, texts))
    return claims, arts


def test_one_event_from_200_outlets_keeps_every_merge_call_within_budget() -> None:
    claims, arts = _one_event(200)
    ctx, backend = _scripted(_no_outliers)
    merge_claims(claims, arts, ctx)
    assert len(backend.requests) > 1
    shown: set[str] = set()
    for request in backend.requests:
        tokens = sum(len(m["content"]) for m in request.messages) // CHARS_PER_TOKEN
        assert tokens <= MERGE_PROMPT_TOKENS
        assert tokens + request.max_tokens < 8192  # the embedded model's context
        groups = _shown(request)
        assert max(len(ids) for ids in groups.values()) <= MAX_CLAIMS_PER_CHECK
        shown.update(i for ids in groups.values() for i in ids)
    assert shown == {c.id for c in claims}


def test_an_outlier_found_in_one_slice_leaves_the_whole_group() -> None:
    claims, arts = _one_event(60)
    flagged: list[str] = []  # [anchor, outlier]

    def answer(request: ChatRequest) -> str:
        verdicts = []
        for gid, ids in _shown(request).items():
            if gid.endswith("-2") and not flagged:  # the anchor is named too: it must stay
                flagged.extend(ids[:2])
                verdicts.append({"group": gid, "outliers": ids[:2]})
        return json.dumps({"verdicts": verdicts})

    ctx, _ = _scripted(answer)
    result = merge_claims(claims, arts, ctx)
    anchor, outlier = flagged
    assert result.outliers == 1
    groups = [g.claim_ids for g in result.groups]
    assert [outlier] in groups
    [home] = [g for g in groups if anchor in g]
    assert outlier not in home and len(home) == 59


def test_small_stories_send_the_same_merge_requests_as_before() -> None:
    claims = [CALL_1, G20_1, CALL_2, G20_3]
    ctx, backend = _scripted(_no_outliers)
    merge_claims(claims, [article(i, ["x"]) for i in (1, 2, 3)], ctx)
    groups = [
        {"id": f"g{n}", "claims": [{"id": m, "text": by_text[m]} for m in members]}
        for n, members in enumerate(candidate_groups(claims), 1)
        for by_text in [{c.id: c.text for c in claims}]
        if len(members) > 1
    ]
    assert [r.messages for r in backend.requests] == [PROMPTS["merge_claims"].render(groups=groups)]


def test_many_small_groups_are_still_split_by_count() -> None:
    count = MAX_GROUPS_PER_CALL + 5
    words = [f"zq{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(count)]
    claims = [claim(f"{a}.{i + 1}", f"{w} rose.") for i, w in enumerate(words) for a in (1, 2)]
    ctx, backend = _scripted(_no_outliers)
    merge_claims(claims, [article(1, ["x"]), article(2, ["y"])], ctx)
    assert [len(_shown(r)) for r in backend.requests] == [MAX_GROUPS_PER_CALL, 5]
