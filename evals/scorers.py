"""Scorers: small pure functions from (labels, references, output sentences) to numbers.

Quality metrics (ROUGE, recall, conflicts) only count what a reader gets within the word budget,
so a system cannot win by writing more. Safety metrics (defects, support, attribution, loaded
wording, boilerplate) look at every sentence, because a reader who goes on still must not meet
an invented name or an unattributed allegation. Nothing here imports the pipeline's checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from evals import support
from evals import text as tx
from evals.defects import Judged, word_lists
from evals.facts import FACT_KINDS, Assertion, Conflict, Fact
from evals.text import fold
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
    core: tuple[int, int] = (0, 0)

    def covered_ids(self) -> set[str]:
        return {h.fact_id for h in self.hits if h.covered}


def fact_recall(facts: Sequence[Fact], sentences: Sequence[str]) -> Recall:
    """Share of facts stated by some sentence, with the first sentence that states each one."""
    hits: list[FactHit] = []
    for fact in facts:
        index = next((i for i, s in enumerate(sentences) if fact.match.matches(s)), None)
        hits.append(FactHit(fact.id, fact.kind, index, None if index is None else sentences[index]))
    core_ids = {f.id for f in facts if f.importance == "core"}
    core_hits = [h for h in hits if h.fact_id in core_ids]
    by_kind: dict[str, tuple[int, int]] = {}
    for kind in FACT_KINDS:
        of_kind = [h for h in hits if h.kind == kind]
        if of_kind:
            by_kind[kind] = (sum(h.covered for h in of_kind), len(of_kind))
    covered = sum(h.covered for h in hits)
    value = covered / len(hits) if hits else 0.0
    core = (sum(h.covered for h in core_hits), len(core_hits))
    return Recall(value, covered, len(hits), by_kind, hits, core)


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


def has_attribution(sentence: str, outlets: Sequence[str] = ()) -> bool:
    """The evals' own test: a reporting verb, `according to`, or a cited outlet's name."""
    folded = fold(sentence)
    if "according to" in folded:
        return True
    verbs = word_lists()["reporting_verbs"]
    if any(w.lower() in verbs for w in tx.words(sentence)):
        return True
    return any(o.strip() and fold(o) in folded for o in outlets)


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
    """The briefing's sentences as plain text, normalised (straight quotes, single spaces)."""
    return [tx.normalize(s.text) for s in graph.briefing.sentences]


def judged_from_graph(graph: ClaimGraph) -> list[Judged]:
    """Each briefing sentence with the verbatim quotes of the claims in the groups it cites and
    the outlet names and titles of the articles it cites (what it may rest on)."""
    claims = {c.id: c for c in graph.claims}
    groups = {g.id: g for g in graph.groups}
    # An attribution may name the outlet or, when the data has none, cite the title.
    outlets = {a.id: " ".join(x for x in (a.outlet, a.title) if x) for a in graph.articles}
    texts = {a.id: a.text for a in graph.articles}
    out: list[Judged] = []
    for sentence in graph.briefing.sentences:
        quotes: list[str] = []
        spoken: list[str] = []
        for gid in sentence.group_ids:
            group = groups.get(gid)
            for cid in group.claim_ids if group else []:
                claim = claims.get(cid)
                if claim is not None and claim.quote not in quotes:
                    quotes.append(claim.quote)
                    text = texts.get(claim.article_id, "")
                    if support.speech_elsewhere_credited(claim.quote, text, claim.span[0]):
                        spoken.append(claim.quote)
        names = tuple(outlets[a] for a in sentence.article_ids if outlets.get(a))
        out.append(Judged(tx.normalize(sentence.text), tuple(quotes), names, tuple(spoken)))
    return out


def verbatim(sentences: Sequence[str]) -> list[Judged]:
    """Extractive output: each sentence is its own quote."""
    return [Judged(tx.normalize(s), (tx.normalize(s),)) for s in sentences]


def budget_text(sentences: Sequence[str], budget: int) -> str:
    """The first `budget` words of the output, cut mid-sentence if need be (ROUGE's view)."""
    return " ".join(" ".join(tx.strip_citations(s) for s in sentences).split()[:budget])


ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def rouge(sentences: Sequence[str], reference: str, budget: int) -> dict[str, float]:
    """ROUGE-1/2/L F1 (rouge-score, Porter stemming) of the budget-cut output vs the reference."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    scores = scorer.score(reference, budget_text(sentences, budget))
    return {k: round(scores[k].fmeasure, 4) for k in ROUGE_TYPES}


@dataclass(frozen=True)
class LoadedLeak:
    span: str
    sentence_index: int


def loaded_wording(spans: Sequence[str], sentences: Sequence[str]) -> list[LoadedLeak]:
    """BASIL `lex` spans (loaded wording) that occur in an output sentence outside quotation
    marks, whole words, case-insensitive; each distinct span counts once."""
    leaks: list[LoadedLeak] = []
    seen: set[str] = set()
    outside = [fold(tx.outside_quotes(s)) for s in sentences]
    for span in spans:
        key = fold(span).strip(" .,;:")
        if not key or key in seen:
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)")
        for i, text in enumerate(outside):
            if pattern.search(text):
                leaks.append(LoadedLeak(span, i))
                seen.add(key)
                break
    return leaks
