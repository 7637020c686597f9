"""Content selection: what most outlets carry leads; sections in reader order; the budget."""

from stage_helpers import article, claim

from pipeline.schema import ClaimKind
from pipeline.stages.merge import build_groups
from pipeline.stages.select import rank, section_of, select_groups

LEAD = "Peskov denied that Lavrov had fallen out of favour with Putin on Friday."
ARTICLES = [
    article(1, [LEAD, "A reporter watched the motorcade pass the square on Friday."], "A"),
    article(2, [LEAD, "Lavrov met Rubio in Budapest on October 21 to plan a summit."], "B"),
    article(3, [LEAD, "Lavrov met Rubio in Budapest on October 20 to plan a summit."], "C"),
    article(4, ["Markets in Moscow were calm after the statement on Friday.", LEAD], "D"),
]


def _claim(cid, text, index, kind=ClaimKind.FACT):
    art = ARTICLES[int(cid.split(".")[0]) - 1]
    made = claim(cid, text, kind=kind)
    return made.model_copy(update={"span": art.sentences[index]})


CLAIMS = [
    _claim("1.1", LEAD, 0, ClaimKind.DENIAL),
    _claim("1.2", "A reporter watched the motorcade pass the square on Friday.", 1),
    _claim("2.1", LEAD, 0, ClaimKind.DENIAL),
    _claim("2.2", "Lavrov met Rubio in Budapest on October 21 to plan a summit.", 1),
    _claim("3.1", LEAD, 0, ClaimKind.DENIAL),
    _claim("3.2", "Lavrov met Rubio in Budapest on October 20 to plan a summit.", 1),
    _claim("4.1", "Markets in Moscow were calm after the statement on Friday.", 0),
    _claim("4.2", LEAD, 1, ClaimKind.DENIAL),
]
GROUPS = build_groups(CLAIMS, [["1.1", "2.1", "3.1", "4.2"], ["1.2"], ["2.2", "3.2"], ["4.1"]])


def test_majority_group_first_then_conflict_then_single_sources_alternating_outlets():
    order = [(tier, g.id) for tier, _, g in rank(GROUPS, CLAIMS, ARTICLES)]
    assert order[0] == (0, "g1")
    assert order[1] == (1, "g3")
    assert {gid for _, gid in order[2:]} == {"g2", "g4"}


def test_sections_confirmed_disputed_attributed():
    assert [section_of(g) for g in GROUPS] == ["confirmed", "attributed", "disputed", "attributed"]


def test_a_small_budget_keeps_the_majority_group_and_drops_single_sources():
    picks = select_groups(GROUPS, CLAIMS, ARTICLES, budget=12)
    assert [p.group.id for p in picks] == ["g1"]
    everything = select_groups(GROUPS, CLAIMS, ARTICLES, budget=500)
    assert [p.group.id for p in everything][:2] == ["g1", "g3"]
    assert len(everything) == 4


def test_selection_is_deterministic():
    first = [p.group.id for p in select_groups(GROUPS, CLAIMS, ARTICLES)]
    assert first == [p.group.id for p in select_groups(list(GROUPS), list(CLAIMS), ARTICLES)]


def test_a_group_repeating_a_taken_one_is_passed_over():
    twin = _claim("4.1", LEAD.replace("Friday", "Friday morning"), 0)
    claims = [*CLAIMS[:6], twin, CLAIMS[7]]
    groups = build_groups(claims, [["1.1", "2.1", "3.1", "4.2"], ["1.2"], ["2.2", "3.2"], ["4.1"]])
    picked = [p.group.id for p in select_groups(groups, claims, ARTICLES, budget=500)]
    assert "g4" not in picked


def test_a_reply_several_outlets_carry_moves_right_after_what_it_denies():
    from pipeline.stages.select import _with_replies

    a, b, c, d = (g.model_copy() for g in GROUPS)
    a.related, d.related = ["g4"], ["g1"]
    ordered = [(0, 3.0, a), (2, 2.0, c), (2, 1.0, d), (3, 0.5, b)]
    assert [g.id for _, _, g in _with_replies(ordered)] == ["g1", "g4", "g3", "g2"]
    single = [(0, 3.0, a), (2, 2.0, c), (3, 1.0, d)]  # a single-source reply keeps its turn
    assert [g.id for _, _, g in _with_replies(single)] == ["g1", "g3", "g4"]


def test_a_larger_budget_returns_the_same_picks_first():
    small = [p.group.id for p in select_groups(GROUPS, CLAIMS, ARTICLES, budget=30)]
    large = [p.group.id for p in select_groups(GROUPS, CLAIMS, ARTICLES, budget=500)]
    assert large[: len(small)] == small and len(large) > len(small)


def test_a_group_saying_what_a_taken_one_says_waits_behind_a_new_development():
    import numpy as np

    lead = "Peskov denied that Lavrov had fallen out of favour with Putin."
    again = "The Kremlin firmly rejected reports about Lavrov and Putin as false."
    new = "Oreshkin will lead the delegation to the summit in Johannesburg."
    lines = {1: [lead, again], 2: [lead, again], 3: [lead, new], 4: [new, "Weather."], 5: ["x."]}
    arts = [article(i, lines[i], str(i)) for i in lines]
    made = [
        claim(f"{a}.{i}", t).model_copy(update={"span": arts[a - 1].sentences[i]})
        for a in (1, 2, 3, 4)
        for i, t in enumerate(lines[a])
        if t in (lead, again, new)
    ]
    groups = build_groups(made, [["1.0", "2.0", "3.0"], ["1.1", "2.1"], ["3.1", "4.0"]])

    def encode(texts):  # the two denials mean the same; the delegation is news
        return np.array([[0.0, 1.0] if "Oreshkin" in t else [1.0, 0.0] for t in texts])

    by_words = [g.id for _, _, g in rank(groups, made, arts)]
    by_meaning = [g.id for _, _, g in rank(groups, made, arts, encode)]
    assert by_words[0] == by_meaning[0] == "g1"
    assert by_words[1] == "g2"  # earlier in its articles, so it scores higher alone
    assert by_meaning[1] == "g3"


def test_the_picks_of_a_budget_are_the_prefix_of_a_larger_selection():
    from pipeline.stages.select import first_picks

    everything = select_groups(GROUPS, CLAIMS, ARTICLES, budget=500, max_picks=30)
    for budget in (12, 30, 60, 500):
        alone = [p.group.id for p in select_groups(GROUPS, CLAIMS, ARTICLES, budget=budget)]
        assert [p.group.id for p in first_picks(everything, budget)] == alone
