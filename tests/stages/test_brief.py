from stage_helpers import article, claim, context

from pipeline.schema import ClaimKind
from pipeline.stages.brief import write_briefing
from pipeline.stages.merge import build_groups

ARTICLES = [
    article(1, ["x"], outlet="Kyiv Independent"),
    article(2, ["y"], outlet="The Independent"),
    article(3, ["z"], outlet="RBC-Ukraine"),
]
G20_1 = claim("1.1", "Maxim Oreshkin will lead the Russian delegation to the G20 summit.")
G20_2 = claim("2.1", "Oreshkin will head Russia's G20 delegation.")
FAVOUR = claim(
    "3.1",
    "Lavrov has fallen out of favour with Putin.",
    kind=ClaimKind.ALLEGATION,
    by="The Moscow Times",
)
DENIAL = claim(
    "1.2",
    "Peskov said there is nothing true in reports that Lavrov fell out of favour.",
    kind=ClaimKind.DENIAL,
    by="Dmitry Peskov",
)
CALL_1 = claim(
    "1.3",
    "Lavrov and Rubio spoke by phone on October 21.",
    "Lavrov and Rubio held a phone discussion on October 21.",
)
CALL_2 = claim(
    "2.2",
    "Lavrov and Rubio spoke by phone on 20 October.",
    "Lavrov spoke by phone to Rubio on 20 October.",
)
CLAIMS = [G20_1, DENIAL, CALL_1, G20_2, CALL_2, FAVOUR]
GROUPS = build_groups(CLAIMS, [["1.1", "2.1"], ["1.2"], ["1.3", "2.2"], ["3.1"]])
GID = {g.claim_ids[0]: g.id for g in GROUPS}


def _sentence(text, *claim_ids):
    return {"text": text, "groups": [GID[c] for c in claim_ids]}


def test_citations_come_from_the_groups_not_from_the_model():
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Lavrov and the G20",
            "sentences": [
                _sentence("Maxim Oreshkin will lead Russia's G20 delegation [3].", "1.1")
            ],
        },
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    first = result.briefing.sentences[0]
    assert first.text == "Maxim Oreshkin will lead Russia's G20 delegation."
    assert first.article_ids == [1, 2] and first.section == "confirmed"
    assert result.briefing.title == "Lavrov and the G20"


def test_sentence_with_invented_name_and_number_is_regenerated_once_then_dropped():
    bad = {
        "title": "Briefing",
        "sentences": [
            _sentence("Oreshkin, 44, and Medvedev will lead the G20 delegation.", "1.1"),
            _sentence("Maxim Oreshkin will lead the Russian delegation.", "1.1"),
        ],
    }
    still_bad = {
        "title": "Briefing",
        "sentences": [_sentence("Medvedev will lead the G20 delegation.", "1.1")],
    }
    ctx, backend = context("write_briefing", bad, still_bad)
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    assert len(backend.requests) == 2
    feedback = backend.requests[1].messages[-1]["content"]
    assert "medvedev" in feedback and "44" in feedback
    texts = [s.text for s in result.briefing.sentences]
    assert not any("Medvedev" in t or "44" in t for t in texts)
    assert result.regenerated == 1 and result.dropped == 1


def test_regenerated_sentence_that_passes_is_kept():
    bad = {
        "title": "Briefing",
        "sentences": [_sentence("Oreshkin, 44, leads the delegation.", "1.1")],
    }
    fixed = {
        "title": "Briefing",
        "sentences": [_sentence("Oreshkin leads the G20 delegation.", "1.1")],
    }
    ctx, _ = context("write_briefing", bad, fixed)
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    assert result.briefing.sentences[0].text == "Oreshkin leads the G20 delegation."
    assert result.dropped == 0


def test_allegation_stated_as_fact_gets_attribution_and_denial_follows_it():
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [
                _sentence("Peskov said there is nothing true in the reports.", "1.2"),
                _sentence("Maxim Oreshkin will lead the G20 delegation.", "1.1"),
                _sentence("Lavrov has fallen out of favour with Putin.", "3.1"),
            ],
        },
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    texts = [s.text for s in result.briefing.sentences]
    allegation = texts.index(
        "According to RBC-Ukraine, Lavrov has fallen out of favour with Putin."
    )
    denial = texts.index("Peskov said there is nothing true in the reports.")
    assert denial == allegation + 1
    assert result.attributed == 1
    assert result.briefing.sentences[allegation].section == "disputed"


def test_conflicting_dates_are_stated_with_each_value_and_source():
    ctx, _ = context(
        "write_briefing",
        {"title": "Briefing", "sentences": [_sentence("Lavrov and Rubio spoke by phone.", "1.3")]},
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    conflict = [s for s in result.briefing.sentences if s.text.startswith("Sources differ")]
    assert len(conflict) == 1
    assert "October 21 according to Kyiv Independent" in conflict[0].text
    assert "October 20 according to The Independent" in conflict[0].text
    assert conflict[0].article_ids == [1, 2]


def test_unknown_groups_and_invented_title_are_handled():
    answer = {
        "title": "Medvedev takes over",
        "sentences": [{"text": "Something happened.", "groups": ["g99"]}],
    }
    ctx, _ = context("write_briefing", answer, answer)
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    assert result.briefing.title == "Briefing from 3 articles"
    assert all(s.group_ids for s in result.briefing.sentences)
    assert "Something happened." not in [s.text for s in result.briefing.sentences]


def test_donation_appeal_never_reaches_the_briefing():
    appeal = {
        "title": "Briefing",
        "sentences": [
            _sentence("Your support helps us to tell the story of the G20 delegation.", "1.1")
        ],
    }
    ctx, _ = context("write_briefing", appeal, appeal)
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    assert not any("support" in s.text.lower() for s in result.briefing.sentences)


def test_groups_the_sentence_does_not_draw_on_are_not_cited():
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [
                {
                    "text": "Maxim Oreshkin will lead the Russian delegation to the G20 summit.",
                    "groups": [GID["1.1"], GID["1.3"]],
                }
            ],
        },
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    first = result.briefing.sentences[0]
    assert first.group_ids == [GID["1.1"]]
    assert first.article_ids == [1, 2]


def test_groups_the_model_skipped_are_stated_by_their_shortest_verbatim_claim():
    ctx, _ = context(
        "write_briefing",
        {"title": "Briefing", "sentences": [_sentence("Peskov denied the reports.", "1.2")]},
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    texts = [s.text for s in result.briefing.sentences]
    assert "Oreshkin will head Russia's G20 delegation." in texts  # shorter of the two claims
    assert result.verbatim >= 1
    sections = [s.section for s in result.briefing.sentences]
    order = ["confirmed", "disputed", "attributed", "timeline"]
    assert sections == sorted(sections, key=order.index)


def test_a_value_given_by_several_sources_is_stated_once_with_all_of_them():
    from pipeline.schema import ClaimGroup, Conflict, ConflictValue
    from pipeline.stages.brief import conflict_sentences

    group = ClaimGroup(
        id="g9", statement="Ages differ.", claim_ids=["1.1", "2.1", "3.1"],
        article_ids=[1, 2, 3], status="disputed",
        conflicts=[Conflict(what="age of Lavrov", values=[
            ConflictValue(article_id=1, value="75", claim_id="1.1"),
            ConflictValue(article_id=2, value="75", claim_id="2.1"),
            ConflictValue(article_id=3, value="76", claim_id="3.1"),
        ])],
    )  # fmt: skip
    [sentence] = conflict_sentences([group], {a.id: a for a in ARTICLES})
    assert sentence.text == (
        "Sources differ on the age of Lavrov: 75 according to Kyiv Independent and "
        "The Independent; 76 according to RBC-Ukraine."
    )


def test_a_sentence_the_model_wrote_twice_appears_once():
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [
                _sentence("Maxim Oreshkin will lead the Russian delegation to the G20.", "1.1"),
                _sentence("Maxim Oreshkin will lead the Russian G20 delegation.", "1.1"),
                _sentence("Lavrov and Rubio spoke by phone.", "1.3"),
            ],
        },
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    texts = [s.text for s in result.briefing.sentences]
    assert sum("Oreshkin" in t for t in texts) == 1
    assert any(t.endswith("Lavrov and Rubio spoke by phone.") for t in texts)


def test_added_attribution_lowercases_an_article_even_when_a_quote_uses_it_in_a_name():
    quoted = claim(
        "3.1",
        "The thieves escaped, The Parisian reported.",
        "The thieves escaped, The Parisian reported.",
        kind=ClaimKind.STATEMENT,
    )
    groups = build_groups([quoted], [["3.1"]])
    ctx, _ = context(
        "write_briefing",
        {"title": "Briefing", "sentences": [{"text": "The thieves escaped.", "groups": ["g1"]}]},
    )
    result = write_briefing(groups, [quoted], ARTICLES, ctx)
    assert result.briefing.sentences[0].text == "According to RBC-Ukraine, the thieves escaped."


def test_a_sentence_cut_at_the_length_limit_keeps_its_finished_part_and_fragments_go():
    first = "Maxim Oreshkin will lead the Russian delegation to the G20 summit."
    cut = first + " " + "Lavrov and Rubio spoke by phone about the summit and " * 6
    cut = cut[:300].rstrip()
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [
                {"text": cut, "groups": [GID["1.1"]]},
                {"text": "to discuss the summit.", "groups": [GID["1.3"]]},
            ],
        },
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    texts = [s.text for s in result.briefing.sentences]
    assert first in texts
    assert not any("to discuss the summit" in t for t in texts)


def test_a_sentence_whose_words_were_all_said_already_is_left_out():
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [
                _sentence(
                    "Maxim Oreshkin will lead the Russian delegation to the G20 summit, "
                    "and Lavrov and Rubio spoke by phone.",
                    "1.1",
                    "1.3",
                ),
                _sentence("Oreshkin will lead the Russian G20 delegation.", "1.1"),
            ],
        },
    )
    result = write_briefing(GROUPS, CLAIMS, ARTICLES, ctx)
    texts = [s.text for s in result.briefing.sentences]
    assert not any(t.startswith("Oreshkin will lead") for t in texts)


def test_initialisms_the_model_spaced_out_are_closed_up():
    us = claim("1.1", "The U.S. imposed sanctions on Rosneft.")
    groups = build_groups([us], [["1.1"]])
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [{"text": "The U. S. imposed sanctions on Rosneft.", "groups": ["g1"]}],
        },
    )
    result = write_briefing(groups, [us], ARTICLES, ctx)
    assert result.briefing.sentences[0].text.endswith("the U.S. imposed sanctions on Rosneft.")


def test_a_detail_only_one_outlet_gives_cites_that_outlet_alone_and_says_so():
    landfall_1 = claim("1.1", "The storm made landfall in Jamaica, flooding the south coast.")
    landfall_2 = claim("2.1", "The storm made landfall around 12 p.m.")
    claims = [landfall_1, landfall_2]
    groups = build_groups(claims, [["1.1", "2.1"]])
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [
                {"text": "The storm made landfall around 12 p.m.", "groups": ["g1"]},
                {"text": "Jamaica's south coast was flooded.", "groups": ["g1"]},
            ],
        },
    )
    result = write_briefing(groups, claims, ARTICLES, ctx)
    by_text = {s.text: s for s in result.briefing.sentences}
    detail = by_text["According to The Independent, the storm made landfall around 12 p.m."]
    assert detail.article_ids == [2] and detail.section == "attributed"
    shared = by_text["Jamaica's south coast was flooded."]
    assert shared.article_ids == [1, 2] and shared.section == "confirmed"


def test_added_attribution_keeps_an_all_capitals_word():
    cdt = claim("3.1", "CDT is when the storm struck, officials said.", kind=ClaimKind.STATEMENT)
    groups = build_groups([cdt], [["3.1"]])
    ctx, _ = context(
        "write_briefing",
        {"title": "Briefing", "sentences": [{"text": "CDT is when it struck.", "groups": ["g1"]}]},
    )
    result = write_briefing(groups, [cdt], ARTICLES, ctx)
    assert result.briefing.sentences[0].text == "According to RBC-Ukraine, CDT is when it struck."


def test_a_sentence_cut_by_an_unescaped_quote_becomes_the_claim_it_was_copying():
    nhc = claim(
        "1.1",
        'The NHC called it one of the most powerful landfalls, posing an "extremely dangerous '
        'situation."',
    )
    other = claim("2.1", "Residents were told to stay indoors.")
    groups = build_groups([nhc, other], [["1.1"], ["2.1"]])
    ctx, _ = context(
        "write_briefing",
        {
            "title": "Briefing",
            "sentences": [
                {
                    "text": "The NHC called it one of the most powerful landfalls, posing an",
                    "groups": ["g1"],
                },
                {"text": "Officials warned residents not to", "groups": ["g2"]},
            ],
        },
    )
    result = write_briefing(groups, [nhc, other], ARTICLES, ctx)
    texts = [s.text for s in result.briefing.sentences]
    assert any(t.endswith('posing an "extremely dangerous situation."') for t in texts)
    assert not any(t.endswith("not to.") for t in texts)
