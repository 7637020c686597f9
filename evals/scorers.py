"""Scorers: small pure functions from (labelled facts, briefing sentences) to numbers and lists.

Quality metrics (recall, conflicts) only count what a reader gets within the word budget, so a
system cannot win by writing more. Safety metrics (grounding, attribution, boilerplate) look at
every sentence, because a reader who goes on still must not meet an invented name or an
unattributed allegation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from evals.facts import FACT_KINDS, Assertion, Conflict, Fact, fold
from pipeline.grounding import has_attribution, normalize, unsupported
from pipeline.schema import ClaimGraph, RunReport

DEFAULT_WORD_BUDGET = 250
_WORD = re.compile(r"\S+")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def within_budget(sentences: Sequence[str], budget: int = DEFAULT_WORD_BUDGET) -> list[str]:
    """Leading sentences, in order, whose words fit the budget; stops at the first that doesn't.

    Stopping (not skipping) keeps this the prefix a reader with limited time actually reads.
    """
    kept: list[str] = []
    used = 0
    for sentence in sentences:
        n = word_count(sentence)
        if used + n > budget:
            break
        kept.append(sentence)
        used += n
    return kept


@dataclass(frozen=True)
class FactHit:
    fact_id: str
    kind: str
    sentence_index: int | None
    sentence: str | None

    @property
    def covered(self) -> bool:
        return self.sentence_index is not None


@dataclass(frozen=True)
class Recall:
    value: float
    covered: int
    total: int
    by_kind: dict[str, tuple[int, int]]
    hits: list[FactHit]

    def covered_ids(self) -> set[str]:
        return {h.fact_id for h in self.hits if h.covered}


def fact_recall(facts: Sequence[Fact], sentences: Sequence[str]) -> Recall:
    """Share of facts stated by some sentence, with the first sentence that states each one."""
    hits: list[FactHit] = []
    for fact in facts:
        index = next((i for i, s in enumerate(sentences) if fact.match.matches(s)), None)
        hits.append(FactHit(fact.id, fact.kind, index, None if index is None else sentences[index]))
    by_kind: dict[str, tuple[int, int]] = {}
    for kind in FACT_KINDS:
        of_kind = [h for h in hits if h.kind == kind]
        if of_kind:
            by_kind[kind] = (sum(h.covered for h in of_kind), len(of_kind))
    covered = sum(h.covered for h in hits)
    value = covered / len(hits) if hits else 0.0
    return Recall(value, covered, len(hits), by_kind, hits)


@dataclass(frozen=True)
class GroundingFailure:
    sentence_index: int
    sentence: str
    missing: list[str]


@dataclass(frozen=True)
class Grounding:
    """`value` is 1.0 for an empty briefing: nothing was invented (recall catches emptiness)."""

    value: float
    supported: int
    total: int
    failures: list[GroundingFailure] = field(default_factory=list)


def sentence_support(
    graph: ClaimGraph, group_ids: Iterable[str], article_ids: Iterable[int] = ()
) -> list[str]:
    """Text a sentence may rest on: the text and quote of every claim in its cited groups, and
    the names of the articles it cites (so "according to The Independent" / "article [4]",
    attribution to the reporting source, is supported by the source's own metadata)."""
    claims = {c.id: c for c in graph.claims}
    groups = {g.id: g for g in graph.groups}
    articles = {a.id: a for a in graph.articles}
    support: list[str] = [
        f"{articles[a].outlet or ''} article [{a}]" for a in article_ids if a in articles
    ]
    for gid in group_ids:
        group = groups.get(gid)
        if group is None:
            continue
        for cid in group.claim_ids:
            claim = claims.get(cid)
            if claim is not None:
                support += [claim.text, claim.quote]
    return support


def grounding_precision(graph: ClaimGraph) -> Grounding:
    """Share of briefing sentences whose names and numbers all occur in the claims they cite."""
    failures: list[GroundingFailure] = []
    sentences = graph.briefing.sentences
    for i, sentence in enumerate(sentences):
        support = sentence_support(graph, sentence.group_ids, sentence.article_ids)
        missing = unsupported(sentence.text, support)
        if missing:
            failures.append(GroundingFailure(i, sentence.text, [str(m) for m in missing]))
    total = len(sentences)
    value = (total - len(failures)) / total if total else 1.0
    return Grounding(value, total - len(failures), total, failures)


@dataclass(frozen=True)
class ConflictResult:
    """`value` is None when the story has no labelled conflicts (nothing to preserve)."""

    value: float | None
    preserved: list[str]
    missed: list[str]


def conflict_window(conflict: Conflict, sentences: Sequence[str]) -> int | None:
    """First index where one sentence, or it and the next, report every value (and the context)."""
    for i in range(len(sentences)):
        for window in (sentences[i : i + 1], sentences[i : i + 2]):
            text = " ".join(window)
            if conflict.context is not None and not conflict.context.matches(text):
                continue
            if all(conflict.match[v].matches(text) for v in conflict.distinct_values()):
                return i
    return None


def conflict_preservation(
    conflicts: Sequence[Conflict], sentences: Sequence[str]
) -> ConflictResult:
    """Share of labelled conflicts whose every value the briefing reports side by side."""
    preserved = [c.id for c in conflicts if conflict_window(c, sentences) is not None]
    missed = [c.id for c in conflicts if c.id not in preserved]
    value = len(preserved) / len(conflicts) if conflicts else None
    return ConflictResult(value, preserved, missed)


@dataclass(frozen=True)
class Violation:
    """A contested assertion stated without saying who makes it."""

    assertion_id: str
    sentence_index: int
    sentence: str


def attribution_violations(
    assertions: Sequence[Assertion], sentences: Sequence[str]
) -> list[Violation]:
    """Sentences that state a needs_attribution assertion with no reporting verb or source."""
    found: list[Violation] = []
    for i, sentence in enumerate(sentences):
        if has_attribution(sentence):
            continue
        for assertion in assertions:
            if assertion.match.matches(sentence):
                found.append(Violation(assertion.id, i, sentence))
    return found


@dataclass(frozen=True)
class Leak:
    phrase: str
    where: str  # "title" or "sentence N" (0-based)
    text: str


def boilerplate_leaks(
    phrases: Sequence[str], sentences: Sequence[str], title: str = ""
) -> list[Leak]:
    """Forbidden phrases (donation appeals, captions, nav) found in the title or any sentence."""
    places = [("title", title)] if title else []
    places += [(f"sentence {i}", s) for i, s in enumerate(sentences)]
    leaks: list[Leak] = []
    for where, text in places:
        folded = fold(text)
        for phrase in phrases:
            if fold(phrase) in folded:
                leaks.append(Leak(phrase, where, text))
    return leaks


@dataclass(frozen=True)
class Cost:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


def cost(report: RunReport) -> Cost:
    """Model work a run took, summed over stages; wall time is the run's own when it has one."""
    stages = report.stages
    return Cost(
        calls=sum(s.calls for s in stages),
        cache_hits=sum(s.cache_hits for s in stages),
        prompt_tokens=sum(s.prompt_tokens for s in stages),
        completion_tokens=sum(s.completion_tokens for s in stages),
        seconds=round(report.seconds or sum(s.seconds for s in stages), 3),
    )


def briefing_texts(graph: ClaimGraph) -> list[str]:
    """The briefing's sentences as plain text, normalised the way grounding sees them."""
    return [normalize(s.text) for s in graph.briefing.sentences]
