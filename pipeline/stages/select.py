"""Content selection by code: which claim groups the briefing states, and in what order.

A 1.5B model asked to choose leads with whatever it read last; code can count. Groups are
ranked by how much of the story they carry: how many outlets state them, how early those
outlets state them (what most outlets lead with is the main development), how central they are
to the rest of the story, and how many of the story's core names and numbers they hold. They
are taken in tiers, so a group that at least half the outlets carry always comes before a
conflict between sources, which comes before anything a single outlet reports; single-source
items then alternate between outlets. Taking stops at the word budget. Same groups in, same
picks out, on every machine.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.checks import loaded_words, stands_alone
from pipeline.grounding import names_in, numbers_in
from pipeline.schema import Article, Claim, ClaimGroup, ClaimKind, Section
from pipeline.similarity import Encode, TfidfVectors
from pipeline.text import content_terms, overlap, term_set

WORD_BUDGET = 250
OVERSELECT = 1.1  # ask for a little more than fits, trim after writing
# The model shortens each group to at most 20 words, and about half its sentences pass the
# checks (the rest fall back to the verbatim claim, ~35 words): plan for ~26 a group, so the
# model is asked for every group that may fit, not only for those that fit uncompressed.
EXPECTED_WORDS = 26
MAX_QUOTE_WORDS = 32  # a quote longer than this, attributed, reads as a paragraph
MAX_PICKS = 10  # each costs ~40 generated tokens, ~5 s on 2 cores
LEAD_WEIGHT = 1.0
OUTLET_WEIGHT = 1.0
HEADLINE_WEIGHT = 0.5
HEADLINE_SHARED = 2
QUOTED_PENALTY = 0.5
_QUOTE_MARKS = ('"', "\u201c", "\u00ab", "'", "\u2018")
CORE_NAME_WEIGHT = 0.1
NUMBER_WEIGHT = 0.05
RELEVANCE_SHARE = 0.5  # MMR's lambda: score and novelty weigh the same
REPEAT_OVERLAP = 0.6
REPEAT_CONTAINED = 0.7
MIN_TERMS_TO_COMPARE = 5
SECTION_ORDER: list[Section] = ["confirmed", "disputed", "attributed", "timeline"]
ATTRIBUTED_KINDS = {ClaimKind.STATEMENT, ClaimKind.ALLEGATION, ClaimKind.OPINION, ClaimKind.DENIAL}


@dataclass(frozen=True)
class Pick:
    """One group the briefing will state, with what it may be stated from."""

    group: ClaimGroup
    section: Section
    claims: list[Claim]  # the group's claims, the best one to quote first
    tier: int
    score: float
    words: int  # the estimated length of its sentence


def repeats(words: set[str], earlier: set[str]) -> bool:
    """Mostly the same words, or (for a sentence of some length) nearly all already said."""
    if overlap(words, earlier) >= REPEAT_OVERLAP:
        return True
    small = min(len(words), len(earlier))
    return small >= MIN_TERMS_TO_COMPARE and len(words & earlier) / small >= REPEAT_CONTAINED


def section_of(group: ClaimGroup) -> Section:
    """Several outlets: confirmed; outlets giving different values: disputed; else attributed."""
    if group.conflicts:
        return "disputed"
    return "confirmed" if len(group.article_ids) > 1 else "attributed"


def needs_attribution(group: ClaimGroup, claims: list[Claim]) -> bool:
    """Anything but a fact several outlets report says who claims it."""
    if len(group.article_ids) < 2 or group.kind in ATTRIBUTED_KINDS:
        return True
    return any(c.kind in ATTRIBUTED_KINDS for c in claims)


def claim_position(claim: Claim, article: Article) -> int:
    """Index of the article sentence the claim rests on (0 = the lead)."""
    starts = [start for start, _ in article.sentences]
    return max(0, bisect_right(starts, claim.span[0]) - 1)


def _lead(members: list[Claim], articles: dict[int, Article]) -> float:
    """How early the outlets state it, summed over outlets: a lead in three outlets is the news."""
    earliest: dict[int, int] = {}
    for claim in members:
        if claim.article_id in articles:
            pos = claim_position(claim, articles[claim.article_id])
            earliest[claim.article_id] = min(pos, earliest.get(claim.article_id, pos))
    return sum(1 / (1 + pos / 2) for pos in earliest.values())


def states_values_only(group: ClaimGroup) -> bool:
    """A conflict that names what it is about ("age of Roe"): the briefing states only the
    values and who gives them, not the sentences they were found in. A date or a count needs
    the event it belongs to, so those groups are stated whole."""
    return bool(group.conflicts) and all(c.what.startswith("age of") for c in group.conflicts)


def _stated_text(group: ClaimGroup, members: list[Claim]) -> str:
    """What the briefing will say of the group: its claims, or only its statement when the
    sentence states nothing but conflicting values."""
    if states_values_only(group):
        return group.statement
    return " ".join([group.statement, *(c.text for c in members)])


def _vectors(groups: list[ClaimGroup], members: dict[str, list[Claim]]) -> TfidfVectors[str]:
    return TfidfVectors({g.id: content_terms(_stated_text(g, members[g.id])) for g in groups})


def _centrality(vectors: TfidfVectors[str]) -> dict[str, float]:
    """How much a group shares with the rest of the story (TF-IDF, summed over the other
    groups), scaled to 0..1: main facts recur across every outlet's claims, colour does not."""
    keys = list(vectors.vectors)
    raw = {g: sum(vectors.sim(g, o) for o in keys if o != g) for g in keys}
    top = max(raw.values(), default=0.0) or 1.0
    return {g: v / top for g, v in raw.items()}


def _similarity(
    groups: list[ClaimGroup],
    members: dict[str, list[Claim]],
    vectors: TfidfVectors[str],
    encode: Encode | None,
) -> Callable[[str, str], float]:
    """How alike two groups are in what they would state: sentence embeddings of each group's
    best claim (its text, which the merge stage has already encoded) when an encoder is
    loaded (outlets word one development differently), else the TF-IDF cosine of words."""
    if encode is None:
        return vectors.sim
    texts = {
        g.id: g.statement if states_values_only(g) else best_claims(members[g.id], g.kind)[0].text
        for g in groups
    }
    index = {gid: i for i, gid in enumerate(texts)}
    matrix = encode(list(texts.values()))
    sims = matrix @ matrix.T
    return lambda a, b: float(sims[index[a], index[b]])


def _by_marginal_value(
    tiered: list[tuple[int, float, ClaimGroup]], similar: Callable[[str, str], float]
) -> list[tuple[int, float, ClaimGroup]]:
    """Within each tier, the next group is the one that adds most: its score (scaled to 0..1)
    less its similarity to what is already taken, half and half (maximal marginal relevance,
    Carbonell and Goldstein 1998). Centrality rewards a group for repeating the rest of the
    story; without this a second telling of the denial outranks a development only two
    outlets carry."""
    top = max((score for _, score, _ in tiered), default=0.0) or 1.0
    out: list[tuple[int, float, ClaimGroup]] = []
    # similarity to the closest group taken so far (none taken: 0)
    seen: dict[str, float | None] = {item[2].id: None for item in tiered}
    for tier in sorted({t for t, _, _ in tiered}):
        left = [item for item in tiered if item[0] == tier]
        while left:

            def value(item: tuple[int, float, ClaimGroup]) -> tuple[float, int]:
                closest = seen[item[2].id] or 0.0
                gain = RELEVANCE_SHARE * item[1] / top - (1 - RELEVANCE_SHARE) * closest
                return (round(gain, 6), -int(item[2].id[1:]))

            best = max(left, key=value)
            out.append(best)
            left.remove(best)
            for gid, was in seen.items():
                now = similar(gid, best[2].id)
                seen[gid] = now if was is None else max(was, now)
    return out


def core_names(articles: list[Article]) -> set[str]:
    """Names at least half the outlets use: the story's core people, places and bodies."""
    counts: dict[str, int] = {}
    for article in articles:
        for name in names_in(article.text):
            counts[name] = counts.get(name, 0) + 1
    need = max(2, math.ceil(len(articles) / 2))
    return {n for n, k in counts.items() if k >= need}


def _quotation_share(members: list[Claim]) -> float:
    """Share of the claims that open with a quotation: a speaker's colour, rarely the news."""
    return sum(c.quote.lstrip().startswith(_QUOTE_MARKS) for c in members) / max(1, len(members))


def _words(text: str) -> int:
    return len(text.split())


def best_claims(members: list[Claim], kind: ClaimKind | None = None) -> list[Claim]:
    """Claims to state the group from, best first: a whole sentence that stands alone, of the
    group's kind (a denial group is stated by the denial, not by what it denies), in neutral
    words (no loaded wording outside quotation marks), short
    enough to read, then the one sharing most words with the other outlets' (the group's
    common core), so a verbatim fallback reads well out of context."""
    terms = {c.id: term_set(c.quote) for c in members}

    def shared(claim: Claim) -> float:
        mine = terms[claim.id]
        return sum(overlap(mine, terms[o.id]) for o in members if o.id != claim.id)

    def key(claim: Claim) -> tuple[int, int, int, int, float, str]:
        alone = stands_alone(claim.quote)
        return (
            0 if alone else 1,
            1 if loaded_words(claim.quote) else 0,
            0 if kind is None or claim.kind == kind else 1,
            0 if _words(claim.quote) <= MAX_QUOTE_WORDS else 1,
            -round(shared(claim), 6),
            claim.id,
        )

    return sorted(members, key=key)


def _with_replies(
    ordered: list[tuple[int, float, ClaimGroup]],
) -> list[tuple[int, float, ClaimGroup]]:
    """A denial travels with what it denies: each group linked to an earlier one (merge's
    `related`) is moved right after it, so neither is stated without the other."""
    out: list[tuple[int, float, ClaimGroup]] = []
    placed: set[str] = set()
    by_id = {item[2].id: item for item in ordered}
    for item in ordered:
        if item[2].id in placed:
            continue
        out.append(item)
        placed.add(item[2].id)
        for other in item[2].related:
            # single-source replies keep their turn: they never displace a group many carry
            if other in by_id and other not in placed and by_id[other][0] < 3:
                out.append(by_id[other])
                placed.add(other)
    return out


def _headlines(group_terms: set[str], titles: list[set[str]]) -> float:
    """Share of the outlets whose headline shares at least two content words with the group:
    headlines say what each outlet thinks the news is."""
    if not titles:
        return 0.0
    return sum(len(group_terms & t) >= HEADLINE_SHARED for t in titles) / len(titles)


def rank(
    groups: list[ClaimGroup],
    claims: list[Claim],
    articles: list[Article],
    encode: Encode | None = None,
) -> list[tuple[int, float, ClaimGroup]]:
    """(tier, score, group) for every group that has claims, in the order to take them."""
    by_claim = {c.id: c for c in claims}
    by_article = {a.id: a for a in articles}
    members = {g.id: [by_claim[c] for c in g.claim_ids if c in by_claim] for g in groups}
    groups = [g for g in groups if members[g.id]]
    if not groups:
        return []
    vectors = _vectors(groups, members)
    central = _centrality(vectors)
    core = core_names(articles)
    titles = [term_set(a.title) for a in articles if a.title]
    majority = max(2, math.ceil(len(articles) / 2))
    n = max(1, len(articles))
    scored: list[tuple[int, float, ClaimGroup]] = []
    for g in groups:
        values_only = states_values_only(g)
        text = g.statement if values_only else " ".join(c.quote for c in members[g.id])
        lead = 0.0 if values_only else _lead(members[g.id], by_article)
        score = (
            OUTLET_WEIGHT * len(g.article_ids) / n
            + LEAD_WEIGHT * lead / n
            + central[g.id]
            + HEADLINE_WEIGHT * _headlines(term_set(text), titles)
            + CORE_NAME_WEIGHT * min(4, len(names_in(text) & core))
            + NUMBER_WEIGHT * min(3, len(numbers_in(text)))
            - QUOTED_PENALTY * _quotation_share(members[g.id])
        )
        outlets = len(g.article_ids)
        if outlets >= majority and not g.conflicts:
            tier = 0
        elif g.conflicts and not values_only:
            tier = 1
        elif outlets > 1:
            tier = 2
        else:
            tier = 3
        scored.append((tier, round(score, 6), g))
    similar = _similarity(groups, members, vectors, encode)
    top = _by_marginal_value([s for s in scored if s[0] < 3], similar)
    return _with_replies(top + _alternate([s for s in scored if s[0] == 3]))


def _alternate(
    singles: list[tuple[int, float, ClaimGroup]],
) -> list[tuple[int, float, ClaimGroup]]:
    """Single-source groups, best first within each outlet, taking one outlet after another."""
    by_article: dict[int, list[tuple[int, float, ClaimGroup]]] = {}
    for item in sorted(singles, key=lambda s: (-s[1], int(s[2].id[1:]))):
        by_article.setdefault(item[2].article_ids[0], []).append(item)
    lists = [by_article[a] for a in sorted(by_article, key=lambda a: -by_article[a][0][1])]
    rounds = max((len(v) for v in lists), default=0)
    return [lst[i] for i in range(rounds) for lst in lists if i < len(lst)]


def select_groups(
    groups: list[ClaimGroup],
    claims: list[Claim],
    articles: list[Article],
    budget: int = WORD_BUDGET,
    max_picks: int = MAX_PICKS,
    encode: Encode | None = None,
) -> list[Pick]:
    """The groups to state, in the order taken (the best first), until the word budget.

    A group that repeats what a taken group already says is passed over. The budget is
    overshot a little (`OVERSELECT`): the brief stage trims to the budget once sentences are
    written, in this same order. A call with a larger budget returns the same picks first,
    then the next ones (the brief stage's reserve).
    """
    by_claim = {c.id: c for c in claims}
    picks: list[Pick] = []
    said: list[set[str]] = []
    words = 0
    for tier, score, group in rank(groups, claims, articles, encode):
        members = best_claims([by_claim[c] for c in group.claim_ids if c in by_claim], group.kind)
        candidate = term_set(members[0].quote)
        if any(repeats(candidate, earlier) for earlier in said):
            continue
        size = min(_words(members[0].quote), EXPECTED_WORDS)
        size += 4 if needs_attribution(group, members) else 0
        if group.conflicts:
            size += 12  # the sentence listing each outlet's value
        if picks and (words + size > budget * OVERSELECT or len(picks) >= max_picks):
            break
        said.append(candidate)
        words += size
        picks.append(Pick(group, section_of(group), members, tier, score, size))
    return picks


def first_picks(
    taken: list[Pick], budget: int = WORD_BUDGET, max_picks: int = MAX_PICKS
) -> list[Pick]:
    """The picks `select_groups` makes with `budget`, from a selection made with a larger one:
    they are its prefix, so the brief stage ranks once for its batch and its reserve."""
    words = 0
    for i, pick in enumerate(taken):
        if i and (words + pick.words > budget * OVERSELECT or i >= max_picks):
            return taken[:i]
        words += pick.words
    return list(taken)
