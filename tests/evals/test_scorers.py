"""Each scorer on small synthetic input, including the edge cases CI will meet."""

from __future__ import annotations

import pytest
from evals_fixtures import make_graph

from evals import scorers, support
from evals.facts import Assertion, Conflict, Fact, Matcher
from pipeline.schema import RunReport, StageReport


def fact(fid: str, kind: str, *groups: list[str], importance: str = "detail") -> Fact:
    return Fact.model_validate(
        {"id": fid, "text": fid, "articles": [1], "kind": kind, "importance": importance,
         "match": {"all": list(groups)}}
    )  # fmt: skip


# ---- matcher --------------------------------------------------------------------------------


def test_matcher_whole_words_prefixes_and_paraphrase() -> None:
    m = Matcher.model_validate({"all": [["lavrov"], ["g20", "g-20"], ["oreshkin"]]})
    assert m.matches("Maxim Oreshkin, not Lavrov, leads the G-20 delegation.")
    assert not m.matches("Oreshkin leads the delegation; Lavrov stays home.")
    deny = Matcher.model_validate({"any": ["deni*"]})
    assert deny.matches("The Kremlin denied it") and deny.matches("Peskov denies")
    assert not Matcher.model_validate({"any": ["75"]}).matches("in 1975")
    assert Matcher.model_validate({"any": ["75"]}).matches("the 75-year-old minister")


def test_matcher_folds_accents_quotes_and_numbers_as_strings() -> None:
    assert Matcher.model_validate({"any": ["eugenie"]}).matches("Empress Eugénie’s crown")
    assert Matcher.model_validate({"any": ["nunez"]}).matches("Laurent Nuñez said")
    m = Matcher.model_validate({"all": [[21]]})  # YAML ints become strings
    assert m.all == [["21"]] and m.matches("on Oct. 21")
    assert Matcher.model_validate({"any": ["st. elizabeth"]}).matches("St.  Elizabeth parish")


def test_matcher_rejects_empty_groups() -> None:
    with pytest.raises(ValueError):
        Matcher.model_validate({"all": [[]]})
    with pytest.raises(ValueError):
        Matcher.model_validate({"all": [["*"]]})


# ---- budget ---------------------------------------------------------------------------------


def test_within_budget_takes_a_prefix_in_order() -> None:
    sents = ["one two three", "four five", "six seven eight nine", "ten"]
    assert scorers.within_budget(sents, 5) == ["one two three", "four five"]
    # stops at the first sentence that does not fit, even if a later one would
    assert scorers.within_budget(sents, 8) == ["one two three", "four five"]
    assert scorers.within_budget(sents, 2) == []
    assert scorers.within_budget([], 250) == []


# ---- recall ---------------------------------------------------------------------------------


def test_fact_recall_overall_per_kind_and_matching_sentence() -> None:
    facts = [
        fact("a", "consensus", ["oreshkin"], importance="core"),
        fact("b", "consensus", ["alaska"], importance="core"),
        fact("c", "attributed", ["peskov"], ["deni*"]),
    ]
    sents = ["Peskov denied the reports.", "Oreshkin leads the delegation.", "Peskov spoke."]
    r = scorers.fact_recall(facts, sents)
    assert r.value == pytest.approx(2 / 3)
    assert (r.covered, r.total) == (2, 3)
    assert r.by_kind == {"consensus": (1, 2), "attributed": (1, 1)}
    hits = {h.fact_id: h for h in r.hits}
    assert hits["a"].sentence_index == 1 and hits["a"].sentence == sents[1]
    assert hits["c"].sentence_index == 0
    assert not hits["b"].covered and hits["b"].sentence is None
    assert r.covered_ids() == {"a", "c"}
    assert r.core == (1, 2)


def test_fact_recall_empty_briefing_and_no_facts() -> None:
    assert scorers.fact_recall([fact("a", "consensus", ["x"])], []).value == 0.0
    assert scorers.fact_recall([], ["anything"]).value == 0.0


# ---- support (evals' own tokenizer) ---------------------------------------------------------


def test_support_uses_the_quotes_of_cited_groups_only() -> None:
    groups = {"g1": ["Peskov spoke on November 7."], "g2": ["Oreshkin will lead it."]}
    graph = make_graph(
        [
            ("Peskov spoke on November 7.", ["g1"]),  # supported
            ("Oreshkin spoke on November 7.", ["g1"]),  # Oreshkin is only in g2: unsupported
            ("Peskov spoke on November 8.", ["g1", "g2"]),  # wrong number
            ("It rained.", ["g1"]),  # no names or numbers: fine
            ("Rubio called.", ["g9"]),  # unknown group: cites no quote
        ],
        groups,
    )
    judged = scorers.judged_from_graph(graph)
    bad = support.unsupported(judged)
    assert [u.sentence_index for u in bad] == [1, 2, 4]
    assert bad[0].missing == ["Oreshkin"] and bad[1].missing == ["8"]
    assert bad[2].missing == ["(cites no quote)"]


def test_extractive_sentences_support_themselves() -> None:
    judged = scorers.verbatim(["Lavrov, 75, met Rubio on 20 October in Geneva."])
    assert support.unsupported(judged) == []


# ---- conflicts ------------------------------------------------------------------------------


def age_conflict(context: bool = True) -> Conflict:
    data: dict[str, object] = {
        "id": "age",
        "what": "age",
        "values": {2: "75", 3: "75", 4: "76"},
        "match": {"75": {"any": ["75"]}, "76": {"any": ["76"]}},
    }
    if context:
        data["context"] = {"any": ["lavrov"]}
    return Conflict.model_validate(data)


def test_conflict_preserved_in_one_or_adjacent_sentences() -> None:
    c = age_conflict()
    assert scorers.conflict_preservation([c], ["Lavrov is 75 or 76."]).value == 1.0
    assert scorers.conflict_preservation([c], ["Lavrov is 75.", "Others say 76."]).value == 1.0
    far = ["Lavrov is 75.", "Filler.", "Others say 76."]
    r = scorers.conflict_preservation([c], far)
    assert r.value == 0.0 and r.missed == ["age"]
    assert scorers.conflict_preservation([c], ["Lavrov is 75."]).value == 0.0
    # context is required in the window
    assert scorers.conflict_preservation([c], ["He is 75 or 76."]).value == 0.0
    assert scorers.conflict_preservation([age_conflict(False)], ["He is 75 or 76."]).value == 1.0


def test_conflict_preservation_none_when_nothing_labelled() -> None:
    r = scorers.conflict_preservation([], ["x"])
    assert r.value is None and r.preserved == [] and r.missed == []


def test_conflict_needs_two_distinct_values_and_matchers() -> None:
    with pytest.raises(ValueError):
        Conflict.model_validate(
            {"id": "x", "what": "x", "values": {1: "a", 2: "a"}, "match": {"a": {"any": ["a"]}}}
        )
    with pytest.raises(ValueError):
        Conflict.model_validate(
            {"id": "x", "what": "x", "values": {1: "a", 2: "b"}, "match": {"a": {"any": ["a"]}}}
        )


# ---- attribution and boilerplate ------------------------------------------------------------


def test_attribution_violations_only_without_attribution() -> None:
    favour = Assertion.model_validate({"id": "favour", "match": {"any": ["out of favo*"]}})
    sents = [
        "Lavrov has fallen out of favour with Putin.",
        "Nezygar's sources claimed Lavrov fell out of favor.",
        "According to The Moscow Times, Lavrov is out of favour.",
        "Lavrov attended nothing.",
    ]
    v = scorers.attribution_violations([favour], sents)
    assert [(x.assertion_id, x.sentence_index) for x in v] == [("favour", 0)]
    assert scorers.attribution_violations([], sents) == []


def test_boilerplate_leaks_in_title_and_sentences_case_insensitive() -> None:
    leaks = scorers.boilerplate_leaks(
        ["Your support helps", "Getty Images"],
        ["Fine sentence.", "your  SUPPORT helps us."],
        title="Photo (Getty Images)",
    )
    assert [(lk.phrase, lk.where) for lk in leaks] == [
        ("Getty Images", "title"),
        ("Your support helps", "sentence 1"),
    ]
    assert scorers.boilerplate_leaks([], ["x"]) == []


# ---- cost -----------------------------------------------------------------------------------


def test_cost_sums_stages_and_prefers_run_seconds() -> None:
    report = RunReport(
        model="m",
        base_url="",
        prompts_dir="p",
        stages=[
            StageReport(name="a", calls=2, cache_hits=1, prompt_tokens=10, completion_tokens=3,
                        seconds=1.0),
            StageReport(name="b", calls=1, prompt_tokens=5, completion_tokens=2, seconds=2.0),
        ],
    )  # fmt: skip
    c = scorers.cost(report)
    assert (c.calls, c.cache_hits, c.prompt_tokens, c.completion_tokens) == (3, 1, 15, 5)
    assert c.seconds == 3.0
    assert scorers.cost(report.model_copy(update={"seconds": 4.5})).seconds == 4.5
    assert scorers.cost(RunReport(model="m", base_url="", prompts_dir="p")) == scorers.Cost()


# ---- ROUGE and loaded wording ---------------------------------------------------------------


def test_rouge_cuts_every_system_at_the_same_budget() -> None:
    reference = "Moderate Democrats voice concern over the Sanders surge."
    same = scorers.rouge([reference], reference, 70)
    assert same["rouge1"] == 1.0 and same["rouge2"] == 1.0 and same["rougeL"] == 1.0
    # The matching words come after the budget: they do not count.
    late = scorers.rouge(["Filler words here.", reference], reference, 3)
    assert late["rouge1"] == 0.0
    assert scorers.budget_text(["One two [1].", "three four"], 3) == "One two. three"
    assert scorers.rouge([], reference, 70)["rouge1"] == 0.0


def test_loaded_wording_counts_spans_outside_quotes_once() -> None:
    spans = ["conspiracy theories", "slammed", "conspiracy theories", "birther"]
    sents = [
        "Trump is investing more in the conspiracy theories, the paper says.",
        'Critics called it "birther" talk and later slammed the plan.',
        "The birthers met.",  # whole words only
    ]
    leaks = scorers.loaded_wording(spans, sents)
    assert [(lk.span, lk.sentence_index) for lk in leaks] == [
        ("conspiracy theories", 0),
        ("slammed", 1),
    ]
