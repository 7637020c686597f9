"""Stage 2: group claims across articles; mark consensus, single source and disputes.

Grouping is done by word overlap first, so cost stays linear in the number of claims; the model
only adjudicates the candidate groups (it names claims that are about a different matter) and
never rewrites text. Conflicts (different dates, ages, counts for one matter) are found with
plain rules over the verbatim quotes, and denials are linked to what they deny.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from pipeline.conflicts import aged_people, amounts_in, dates_in, display_date, typed_values
from pipeline.grounding import find_quote, names_in, normalize, number_set
from pipeline.schema import (
    Article,
    Claim,
    ClaimGroup,
    ClaimKind,
    Conflict,
    ConflictValue,
    GroupStatus,
    MergeOutput,
)
from pipeline.similarity import Encode, TfidfVectors
from pipeline.stages.common import StageContext, defang
from pipeline.text import content_terms, overlap, stem, word_list

GROUP_THRESHOLD = 0.28
# With a sentence encoder: half meaning, half shared rare words (numbers and names keep two
# claims about different parts of one story apart, since all of them are "about" the story).
MEANING_WEIGHT = 0.5
MEANING_GROUP_THRESHOLD = 0.40
SENTENCE_CONFLICT_THRESHOLD = 0.15
SENTENCE_CONFLICT_CONTEXT = 0.12
_MONTH_WORDS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
DENIAL_LINK_THRESHOLD = 0.12
MAX_GROUPS_PER_CALL = 40
# A merge call is also filled by size: its rendered prompt, estimated at 4 characters a token
# (as bench/batch.py does), stays under MERGE_PROMPT_TOKENS, so with the prompt's answer
# budget (max_tokens 300) it fits the embedded model's 8192-token context with room to spare.
MERGE_PROMPT_TOKENS = 6000
CHARS_PER_TOKEN = 4
# A group with more claims (one event told by many outlets) is checked in slices of at most
# this many claims, each led by the group's first claim: a bounded prompt and a verdict list
# that fits the answer budget (at most 23 outlier ids per slice).
MAX_CLAIMS_PER_CHECK = 24
_CAUTION = [ClaimKind.ALLEGATION, ClaimKind.OPINION, ClaimKind.DENIAL, ClaimKind.STATEMENT]


@dataclass
class MergeResult:
    groups: list[ClaimGroup]
    rule_claims: list[Claim] = field(default_factory=list)
    candidate_groups: int = 0
    outliers: int = 0
    conflicts: int = 0
    notes: list[str] = field(default_factory=list)


def _terms(claim: Claim) -> Counter[str]:
    return content_terms(claim.text)


class _Vectors(TfidfVectors[str]):
    """TF-IDF vectors of the claims' own words, keyed by claim id."""

    def __init__(self, claims: list[Claim]) -> None:
        super().__init__({c.id: _terms(c) for c in claims})

    def cluster_sim(self, a: list[str], b: list[str]) -> float:
        return sum(self.sim(x, y) for x in a for y in b) / (len(a) * len(b))


class _Blend(_Vectors):
    """Claim similarity from a sentence encoder blended with TF-IDF word overlap."""

    def __init__(self, claims: list[Claim], meaning: NDArray[np.float64]) -> None:
        super().__init__(claims)
        self.row = {c.id: i for i, c in enumerate(claims)}
        self.dots = meaning @ meaning.T

    def sim(self, a: str, b: str) -> float:
        semantic = float(self.dots[self.row[a], self.row[b]])
        return MEANING_WEIGHT * semantic + (1 - MEANING_WEIGHT) * super().sim(a, b)


def candidate_groups(
    claims: list[Claim],
    threshold: float = GROUP_THRESHOLD,
    meaning: NDArray[np.float64] | None = None,
) -> list[list[str]]:
    """Greedy average-linkage clustering; a group never holds two claims of one article.

    `meaning` (one unit vector per claim, in order) switches to the blended similarity; the
    caller passes the threshold that goes with it.
    """
    vectors = _Vectors(claims) if meaning is None else _Blend(claims, meaning)
    by_id = {c.id: c for c in claims}
    clusters: dict[str, list[str]] = {c.id: [c.id] for c in claims}
    owner = {c.id: c.id for c in claims}
    pairs = [
        (vectors.sim(a.id, b.id), a.id, b.id)
        for i, a in enumerate(claims)
        for b in claims[i + 1 :]
        if a.article_id != b.article_id
    ]
    for score, a, b in sorted(pairs, reverse=True):
        if score < threshold:
            break
        ka, kb = owner[a], owner[b]
        if ka == kb:
            continue
        ca, cb = clusters[ka], clusters[kb]
        if {by_id[x].article_id for x in ca} & {by_id[y].article_id for y in cb}:
            continue
        if vectors.cluster_sim(ca, cb) < threshold * 0.8:
            continue
        ca.extend(cb)
        for member in cb:
            owner[member] = ka
        del clusters[kb]
    order = {c.id: i for i, c in enumerate(claims)}
    return sorted(
        (sorted(members, key=order.__getitem__) for members in clusters.values()),
        key=lambda m: order[m[0]],
    )


def _conflicts(members: list[Claim]) -> list[Conflict]:
    """Different typed values for one matter across articles."""
    by_type: dict[str, dict[int, tuple[set[str], str]]] = {}
    for claim in members:
        for what, values in typed_values(claim.quote).items():
            by_type.setdefault(what, {}).setdefault(claim.article_id, (values, claim.id))
    conflicts: list[Conflict] = []
    for what, per_article in by_type.items():
        if len(per_article) < 2:
            continue
        value_sets = [v for v, _ in per_article.values()]
        if any(a & b for i, a in enumerate(value_sets) for b in value_sets[i + 1 :]):
            continue  # some articles agree; only fully disjoint values are a clear conflict
        conflicts.append(
            Conflict(
                what=what,
                values=[
                    ConflictValue(article_id=aid, value=_show(what, values), claim_id=cid)
                    for aid, (values, cid) in sorted(per_article.items())
                ],
            )
        )
    return conflicts


def _show(what: str, values: set[str]) -> str:
    if what == "date":
        return " / ".join(display_date(v) for v in sorted(values))
    if what.startswith("number of"):  # counts are kept as bare digits: "240000" -> "240,000"
        return " / ".join(f"{int(v):,}" if v.isdigit() else v for v in sorted(values, key=len))
    return " / ".join(sorted(values))


def _kind(members: list[Claim]) -> ClaimKind:
    counts = Counter(c.kind for c in members)
    top = max(counts.values())
    tied = [k for k, n in counts.items() if n == top]
    return next((k for k in _CAUTION if k in tied), tied[0])


def _statement(members: list[Claim], vectors: _Vectors) -> str:
    if len(members) == 1:
        return members[0].text
    ids = [c.id for c in members]
    best = max(members, key=lambda c: sum(vectors.sim(c.id, o) for o in ids if o != c.id))
    return best.text


def _status(article_ids: list[int], conflicts: list[Conflict]) -> GroupStatus:
    if conflicts:
        return "disputed"
    return "consensus" if len(article_ids) > 1 else "single_source"


def build_groups(claims: list[Claim], clusters: list[list[str]]) -> list[ClaimGroup]:
    """Groups from clusters, with conflicts, kinds, status and denial links."""
    by_id = {c.id: c for c in claims}
    vectors = _Vectors(claims) if claims else None
    groups: list[ClaimGroup] = []
    for n, members_ids in enumerate(clusters, start=1):
        members = [by_id[i] for i in members_ids]
        article_ids = sorted({c.article_id for c in members})
        conflicts = _conflicts(members)
        assert vectors is not None
        groups.append(
            ClaimGroup(
                id=f"g{n}",
                statement=_statement(members, vectors),
                claim_ids=members_ids,
                article_ids=article_ids,
                status=_status(article_ids, conflicts),
                kind=_kind(members),
                attributed_to=sorted({c.attributed_to for c in members if c.attributed_to}),
                conflicts=conflicts,
            )
        )
    if vectors is not None:
        _link_denials(groups, vectors)
    groups.extend(_age_conflicts(claims, groups))
    return groups


def _link_denials(groups: list[ClaimGroup], vectors: _Vectors) -> None:
    """A denial disputes the most similar non-denial group: both become 'disputed'."""
    for denial in (g for g in groups if g.kind == ClaimKind.DENIAL):
        best, best_score = None, DENIAL_LINK_THRESHOLD
        for other in groups:
            if other.kind == ClaimKind.DENIAL or other is denial:
                continue
            score = vectors.cluster_sim(denial.claim_ids, other.claim_ids)
            if score > best_score:
                best, best_score = other, score
        if best is not None:
            denial.related.append(best.id)
            best.related.append(denial.id)
            denial.status = best.status = "disputed"


def _age_group(person: str, per_article: dict[int, tuple[str, Claim]], gid: str) -> ClaimGroup:
    """A disputed group stating each article's age for one person."""
    return ClaimGroup(
        id=gid,
        statement=f"The sources give different ages for {person.capitalize()}.",
        claim_ids=[c.id for _, c in per_article.values()],
        article_ids=sorted(per_article),
        status="disputed",
        kind=ClaimKind.FACT,
        conflicts=[
            Conflict(
                what=f"age of {person.capitalize()}",
                values=[
                    ConflictValue(article_id=aid, value=age, claim_id=c.id)
                    for aid, (age, c) in sorted(per_article.items())
                ],
            )
        ],
    )


def _age_conflicts(claims: list[Claim], groups: list[ClaimGroup]) -> list[ClaimGroup]:
    """Ages of one person that differ between articles, wherever the claims were grouped."""
    already = {(v.claim_id, c.what) for g in groups for c in g.conflicts for v in c.values}
    ages: dict[str, dict[int, tuple[str, Claim]]] = {}
    for claim in claims:
        for person, age in aged_people(claim.quote).items():
            ages.setdefault(person, {}).setdefault(claim.article_id, (age, claim))
    extra: list[ClaimGroup] = []
    for person, per_article in ages.items():
        if len({a for a, _ in per_article.values()}) < 2:
            continue
        if all((c.id, "age") in already for _, c in per_article.values()):
            continue
        extra.append(_age_group(person, per_article, f"g{len(groups) + len(extra) + 1}"))
    return extra


def _rule_claim(article: Article, index: int, number: int) -> Claim:
    quote = article.sentence_text(index)
    start, end = article.sentences[index]
    return Claim(
        id=f"{article.id}.r{number}",
        article_id=article.id,
        text=quote,
        kind=ClaimKind.FACT,
        quote=quote,
        span=find_quote(quote, article.text) or (start, end),
        entities=sorted(names_in(quote)),
        origin="rule",
    )


DATE_WINDOW = 7


def _date_context(text: str) -> tuple[set[str], set[str]]:
    """(content words, names) within a few words of each date: what the date is *of*."""
    words = re.findall(r"[\w'\u2019]+", normalize(text))
    near: set[int] = set()
    for i, word in enumerate(words):
        if dates_in(" ".join(words[max(0, i - 1) : i + 2])) and (
            word.isdigit() or word.lower().rstrip(".") in _MONTH_WORDS
        ):
            near.update(range(max(0, i - DATE_WINDOW), min(len(words), i + DATE_WINDOW + 1)))
    context = [words[i] for i in sorted(near)]
    stop = word_list("stopwords")
    terms = {stem(w.lower()) for w in context if w.lower() not in stop and not w.isdigit()}
    terms -= _MONTH_WORDS
    return terms, names_in(" ".join(context))


def _same_event(a: Claim, b: Claim) -> bool:
    """Both dates are of the same thing: shared people near the dates, and shared words."""
    terms_a, names_a = _date_context(a.quote)
    terms_b, names_b = _date_context(b.quote)
    if not names_a & names_b:
        return False
    return overlap(terms_a, terms_b) >= SENTENCE_CONFLICT_CONTEXT


def sentence_date_conflicts(
    articles: list[Article], claims: list[Claim], groups: list[ClaimGroup]
) -> tuple[list[Claim], list[ClaimGroup]]:
    """Every kept sentence, not only the ones the model picked, is scanned for one event
    dated differently by two articles (similar words, the same people, disjoint dates)."""
    by_quote = {(c.article_id, c.quote): c for c in claims}
    dated: list[Claim] = []
    for article in articles:
        for index in range(len(article.sentences)):
            if dates_in(article.sentence_text(index)):
                dated.append(_rule_claim(article, index, len(dated) + 1))
    if len(dated) < 2:
        return [], []
    vectors = _Vectors(dated)
    covered = {
        frozenset(v.claim_id for v in c.values)
        for g in groups
        for c in g.conflicts
        if c.what == "date"
    }
    new_claims: list[Claim] = []
    new_groups: list[ClaimGroup] = []
    used: set[str] = set()
    for i, a in enumerate(dated):
        for b in dated[i + 1 :]:
            if a.article_id == b.article_id or a.id in used or b.id in used:
                continue
            if dates_in(a.quote) & dates_in(b.quote):
                continue
            if vectors.sim(a.id, b.id) < SENTENCE_CONFLICT_THRESHOLD:
                continue
            if not _same_event(a, b):
                continue
            members = [by_quote.get((c.article_id, c.quote), c) for c in (a, b)]
            if frozenset(c.id for c in members) in covered:
                continue
            used.update((a.id, b.id))
            for c in members:
                if c.origin == "rule" and c not in new_claims:
                    new_claims.append(c)
            conflicts = _conflicts(members)
            if not conflicts:
                continue
            new_groups.append(
                ClaimGroup(
                    id=f"g{len(groups) + len(new_groups) + 1}",
                    statement=members[0].text,
                    claim_ids=[c.id for c in members],
                    article_ids=sorted({c.article_id for c in members}),
                    status="disputed",
                    kind=ClaimKind.FACT,
                    conflicts=conflicts,
                )
            )
    return new_claims, new_groups


def sentence_age_conflicts(
    articles: list[Article], claims: list[Claim], groups: list[ClaimGroup]
) -> tuple[list[Claim], list[ClaimGroup]]:
    """Ages of one person that differ between articles, found in every kept sentence."""
    already = {c.what for g in groups for c in g.conflicts if c.what.startswith("age of")}
    by_quote = {(c.article_id, c.quote): c for c in claims}
    found: dict[str, dict[int, tuple[str, Claim]]] = {}
    number = 0
    for article in articles:
        for index in range(len(article.sentences)):
            people = aged_people(article.sentence_text(index))
            if not people:
                continue
            number += 1
            sentence = _rule_claim(article, index, 1000 + number)
            claim = by_quote.get((article.id, sentence.quote), sentence)
            for person, age in people.items():
                found.setdefault(person, {}).setdefault(article.id, (age, claim))
    new_claims: list[Claim] = []
    new_groups: list[ClaimGroup] = []
    for person, per_article in found.items():
        what = f"age of {person.capitalize()}"
        if len({age for age, _ in per_article.values()}) < 2 or what in already:
            continue
        members = [c for _, c in per_article.values()]
        new_claims += [c for c in members if c.origin == "rule" and c not in new_claims]
        new_groups.append(_age_group(person, per_article, f"g{len(groups) + len(new_groups) + 1}"))
    return new_claims, new_groups


@dataclass
class _Check:
    """One group, or one slice of a large group, as shown to the model in a merge call."""

    id: str
    members: list[str]
    index: int  # the group's position among the candidate groups, for progress labels
    sliced: bool = False  # members[0] is the group's anchor, repeated in every slice

    def shown(self, by_id: dict[str, Claim]) -> dict[str, object]:
        claims = [{"id": m, "text": defang(by_id[m].text)} for m in self.members]
        return {"id": self.id, "claims": claims}

    def outliers(self, named: list[str]) -> list[str]:
        """The named claims to remove; the anchor of a slice stays (it is what the slice is
        judged against), and "all are outliers" means the group splits apart."""
        remove = [o for o in named if o in self.members]
        if self.sliced:
            remove = [o for o in remove if o != self.members[0]]
        if len(remove) >= len(self.members):
            remove = remove[1:]
        return remove


def _checks(index: int, gid: str, members: list[str]) -> list[_Check]:
    """A group as the model sees it: whole, or in near-equal slices that each repeat its
    first claim, so the model can still judge every claim against the same matter."""
    if len(members) <= MAX_CLAIMS_PER_CHECK:
        return [_Check(gid, members, index)]
    anchor, rest = members[0], members[1:]
    count = -(-len(rest) // (MAX_CLAIMS_PER_CHECK - 1))
    size, extra = divmod(len(rest), count)
    checks, at = [], 0
    for n in range(count):
        step = size + (n < extra)
        checks.append(_Check(f"{gid}-{n + 1}", [anchor, *rest[at : at + step]], index, True))
        at += step
    return checks


def _chars(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"]) for m in messages)


def _calls(checks: list[_Check], by_id: dict[str, Claim], ctx: StageContext) -> list[list[_Check]]:
    """Checks packed into calls in order: at most MAX_GROUPS_PER_CALL checks and an estimated
    MERGE_PROMPT_TOKENS each (a single check over the budget still gets its own call)."""
    budget = MERGE_PROMPT_TOKENS * CHARS_PER_TOKEN
    base = _chars(ctx.prompt.render(groups=[]))
    calls: list[list[_Check]] = []
    current: list[_Check] = []
    size = base
    for check in checks:
        cost = _chars(ctx.prompt.render(groups=[check.shown(by_id)])) - base
        if current and (len(current) >= MAX_GROUPS_PER_CALL or size + cost > budget):
            calls.append(current)
            current, size = [], base
        current.append(check)
        size += cost
    if current:
        calls.append(current)
    return calls


def _ask_outliers(
    multi: list[tuple[str, list[str]]], by_id: dict[str, Claim], ctx: StageContext
) -> set[str]:
    """The claims the model says are about a different matter than the rest of their group."""
    checks = [c for i, (gid, m) in enumerate(multi, 1) for c in _checks(i, gid, m)]
    outliers: set[str] = set()
    for call in _calls(checks, by_id, ctx):
        what = f"merge: groups {call[0].index}-{call[-1].index}"
        output = ctx.ask(MergeOutput, what, groups=[c.shown(by_id) for c in call])
        valid = {c.id: c for c in call}
        for verdict in output.verdicts:
            check = valid.get(verdict.group)
            if check is not None:
                outliers.update(check.outliers(verdict.outliers))
    return outliers


def merge_claims(
    claims: list[Claim], articles: list[Article], ctx: StageContext, encode: Encode | None = None
) -> MergeResult:
    """Claim groups for the story; the model only removes claims that do not belong.

    `encode` (a sentence encoder) pairs claims by meaning as well as by words; without it,
    grouping rests on shared words alone.
    """
    if not claims:
        return MergeResult(groups=[])
    if encode is None:
        clusters = candidate_groups(claims)
    else:
        meaning = encode([c.text for c in claims])
        clusters = candidate_groups(claims, MEANING_GROUP_THRESHOLD, meaning)
    multi = [(f"g{i}", members) for i, members in enumerate(clusters, 1) if len(members) > 1]
    result = MergeResult(groups=[], candidate_groups=len(multi))
    outliers = _ask_outliers(multi, {c.id: c for c in claims}, ctx)
    result.outliers = len(outliers)
    final: list[list[str]] = []
    for members in clusters:
        kept = [m for m in members if m not in outliers]
        if kept:
            final.append(kept)
        final.extend([m] for m in members if m in outliers)
    order = {c.id: i for i, c in enumerate(claims)}
    final.sort(key=lambda m: order[m[0]])
    result.groups = build_groups(claims, final)
    result.rule_claims, extra = sentence_date_conflicts(articles, claims, result.groups)
    result.groups.extend(extra)
    known = claims + result.rule_claims
    age_claims, age_groups = sentence_age_conflicts(articles, known, result.groups)
    result.rule_claims += age_claims
    result.groups.extend(age_groups)
    result.groups = [_without_counts_apart(g, articles) for g in result.groups]
    result.conflicts = sum(len(g.conflicts) for g in result.groups)
    return result


def _amounts(text: str) -> set[str]:
    """Every number the text gives, "2.5 million" also as 2500000 (how a count's value is kept)."""
    return set(number_set(text)) | amounts_in(text)


def _without_counts_apart(group: ClaimGroup, articles: list[Article]) -> ClaimGroup:
    """The group without count conflicts that one of its articles resolves: an outlet that
    gives two of the values itself ("four more boys were freed, bringing the total of rescued
    boys to eight"; "156 of the 338 seats") counts two things, and the outlets do not
    disagree."""
    texts = {a.id: a.text for a in articles}

    def resolved(conflict: Conflict) -> bool:
        values = {v.value.replace(",", "") for v in conflict.values}
        return conflict.what.startswith("number of ") and any(
            len(_amounts(texts.get(v.article_id, "")) & values) > 1 for v in conflict.values
        )

    kept = [c for c in group.conflicts if not resolved(c)]
    if len(kept) == len(group.conflicts):
        return group
    return group.model_copy(update={"conflicts": kept, "status": _status(group.article_ids, kept)})
