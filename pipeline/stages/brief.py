"""Stage 3: the briefing, every sentence resting on the claim groups it cites.

The model writes sentences and names the groups behind each; code then does what a small model
cannot be trusted to do: a sentence with a name or number absent from its groups' claims is
regenerated once, then dropped; a contested or single-source sentence without attribution gets
one; conflicts between sources are stated with every value and its source; a denial is placed
next to what it denies; article citations come from the groups, never from the model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import Field, create_model

from pipeline.grounding import has_attribution, is_boilerplate, unsupported
from pipeline.schema import (
    Article,
    Briefing,
    BriefingSentence,
    BriefOutput,
    Claim,
    ClaimGroup,
    ClaimKind,
    Section,
    WrittenSentence,
)
from pipeline.similarity import TfidfVectors
from pipeline.stages.common import StageContext, defang
from pipeline.stages.written import (
    TERMINAL,
    TEXT_LIMIT,
    clean,
    drop_repeats,
    repeats,
    terms,
    whole_sentences,
)

MAX_GROUPS_SHOWN = 12
MIN_SENTENCES = 6
_LOWER_FIRST = {"the", "a", "an", "this", "that", "these", "those", "there", "it", "his", "her"}
_ATTRIBUTED = {ClaimKind.STATEMENT, ClaimKind.ALLEGATION, ClaimKind.OPINION, ClaimKind.DENIAL}
_CONTESTED = {ClaimKind.ALLEGATION, ClaimKind.OPINION, ClaimKind.DENIAL}


@dataclass
class BriefResult:
    briefing: Briefing
    written: int = 0
    regenerated: int = 0
    dropped: int = 0
    attributed: int = 0
    verbatim: int = 0


def _source_name(article: Article) -> str:
    return article.outlet or f"article [{article.id}]"


def _label(group: ClaimGroup, articles: dict[int, Article]) -> str:
    """What the model must know about a group to attribute it correctly."""
    who = ", ".join(group.attributed_to) or ", ".join(
        _source_name(articles[a]) for a in group.article_ids
    )
    parts: list[str] = []
    if group.kind == ClaimKind.STATEMENT:
        parts.append(f"said by {who}")
    elif group.kind == ClaimKind.ALLEGATION:
        parts.append(f"alleged, per {who}")
    elif group.kind == ClaimKind.OPINION:
        parts.append(f"opinion of {who}")
    elif group.kind == ClaimKind.DENIAL:
        parts.append(f"denial by {who}")
    if len(group.article_ids) > 1:
        parts.append(f"{len(group.article_ids)} sources")
    else:
        parts.append(f"single source: {_source_name(articles[group.article_ids[0]])}")
    for conflict in group.conflicts:
        values = "; ".join(
            f"{v.value} per {_source_name(articles[v.article_id])}" for v in conflict.values
        )
        parts.append(f"sources disagree on {conflict.what}: {values}")
    if group.related:
        parts.append("disputed by " + ", ".join(group.related))
    return "; ".join(parts)


def _centrality(groups: list[ClaimGroup], claims: dict[str, Claim]) -> dict[str, float]:
    """How much a group shares with the rest of the story (TF-IDF, summed over the other
    groups): a story's main facts recur across every outlet's claims; colour (an eyewitness
    quote, a background aside) does not."""
    texts = {
        g.id: Counter(
            terms(" ".join([g.statement, *(claims[c].text for c in g.claim_ids if c in claims)]))
        )
        for g in groups
    }
    vectors = TfidfVectors(texts)
    return {g: sum(vectors.sim(g, o) for o in texts if o != g) for g in texts}


Rank = Callable[[ClaimGroup], tuple[int, int, float, int]]


def _ranking(groups: list[ClaimGroup], claims: dict[str, Claim]) -> Rank:
    """Sort key: most sources first, then disputes, then the most central, then article order."""
    central = _centrality(groups, claims)

    def key(group: ClaimGroup) -> tuple[int, int, float, int]:
        disputed = 0 if group.conflicts or group.related else 1
        return (-len(group.article_ids), disputed, -round(central[group.id], 6), int(group.id[1:]))

    return key


def _support(
    group_ids: list[str],
    groups: dict[str, ClaimGroup],
    claims: dict[str, Claim],
    articles: dict[int, Article] | None = None,
) -> list[str]:
    """What a sentence may rest on: its groups' claims (text and verbatim quote) and the names
    of the articles that report them. Not the model's guess of a speaker: the evals check
    against the same support, independently."""
    texts: list[str] = []
    for gid in group_ids:
        group = groups[gid]
        texts.append(group.statement)
        for cid in group.claim_ids:
            texts += [claims[cid].text, claims[cid].quote]
        for conflict in group.conflicts:
            texts += [v.value for v in conflict.values]
        if articles is not None:
            texts += [_source_name(articles[a]) for a in group.article_ids]
    return texts


def _needs_attribution(
    group_ids: list[str], groups: dict[str, ClaimGroup], claims: dict[str, Claim]
) -> bool:
    """Anything but an uncontested, multi-source reported fact says who claims it."""
    for gid in group_ids:
        group = groups[gid]
        if group.kind in _ATTRIBUTED or group.status != "consensus":
            return True
        if any(claims[c].kind in _CONTESTED for c in group.claim_ids if c in claims):
            return True
    return False


def _backing_articles(
    text: str,
    group_ids: list[str],
    groups: dict[str, ClaimGroup],
    claims: dict[str, Claim],
    articles: dict[int, Article],
) -> list[int]:
    """The articles of the cited groups that carry every number of the sentence.

    A group holds claims from several outlets about one matter, but a detail ("around
    12 p.m.") may come from only one of them: citing all five would say all five report it.
    Numbers only: outlets name people differently ("Oreshkin" / "Maxim Oreshkin") for one fact.
    When no single article carries everything (a sentence joining two outlets' details), the
    sentence cites every article of its groups, as each detail is in one of them.
    """
    everyone = sorted({a for g in group_ids for a in groups[g].article_ids})
    backing = []
    for article_id in everyone:
        support = [_source_name(articles[article_id])]
        for gid in group_ids:
            for cid in groups[gid].claim_ids:
                claim = claims.get(cid)
                if claim is not None and claim.article_id == article_id:
                    support += [claim.text, claim.quote]
        if not any(m.kind == "number" for m in unsupported(text, support)):
            backing.append(article_id)
    return backing or everyone


def _names(article_ids: list[int], articles: dict[int, Article]) -> str:
    """The outlets that report it: always true, unlike a speaker guessed by a small model."""
    names = list(dict.fromkeys(_source_name(articles[a]) for a in article_ids))
    if len(names) > 2:
        return f"{names[0]} and {len(names) - 1} other sources"
    return " and ".join(names)


_CONNECTOR = re.compile(
    r"^(furthermore|however|meanwhile|moreover|additionally|notably|also|still|yet|"
    r"at the same time|in addition|separately|instead),?\s+",
    re.IGNORECASE,
)


def proper_nouns(texts: list[str]) -> set[str]:
    """Words written capitalised somewhere other than at the start of a sentence."""
    found: set[str] = set()
    for text in texts:
        for match in re.finditer(r"(?<=[\w,;:\u2019'\")] )([A-Z][\w\u2019'-]*)", text):
            found.add(match.group(1))
    return found


def _attribute(text: str, who: str, proper: set[str]) -> str:
    """Prefix "According to X," keeping the sentence readable ("Once" -> "once", not "Lavrov")."""
    text = _CONNECTOR.sub("", text)
    first, _, rest = text.partition(" ")
    # "The" is never a name here, even when a quote has "The Parisian" mid-sentence.
    titlecase = first[1:] == first[1:].lower()  # never "CDT" -> "cdt"
    if first.isalpha() and titlecase and (first not in proper or first.lower() in _LOWER_FIRST):
        first = first.lower()
    return f"According to {who}, {first} {rest}".rstrip()


def _section(group_ids: list[str], groups: dict[str, ClaimGroup]) -> Section:
    cited = [groups[g] for g in group_ids]
    if any(g.status == "disputed" for g in cited):
        return "disputed"
    if all(g.status == "consensus" and g.kind not in _ATTRIBUTED for g in cited):
        return "confirmed"
    return "attributed"


MIN_CITATION_OVERLAP = 0.2


def _prune_citations(
    text: str, cited: list[str], groups: dict[str, ClaimGroup], claims: dict[str, Claim]
) -> list[str]:
    """Keep the groups the sentence actually draws on; small models list extra ones."""
    words = terms(text)
    if len(cited) < 2 or not words:
        return cited
    overlap = {}
    for gid in cited:
        support = " ".join(_support([gid], groups, claims))
        overlap[gid] = len(words & terms(support)) / len(words)
    best = max(overlap.values())
    kept = [g for g in cited if overlap[g] >= max(MIN_CITATION_OVERLAP, best / 2)]
    return kept or [max(cited, key=overlap.__getitem__)]


def _check(
    sentence: WrittenSentence,
    groups: dict[str, ClaimGroup],
    claims: dict[str, Claim],
    articles: dict[int, Article] | None = None,
) -> tuple[list[str], str | None]:
    """(known cited group ids, problem) for one written sentence."""
    cited = [g for g in dict.fromkeys(sentence.groups) if g in groups]
    text = clean(sentence.text)
    if not cited:
        return cited, "cites no known group"
    cited = _prune_citations(text, cited, groups, claims)
    if is_boilerplate(text):
        return cited, "copies advertising or donation text"
    missing = unsupported(text, _support(cited, groups, claims, articles))
    if missing:
        return cited, ", ".join(str(m) for m in missing) + " not in the cited groups"
    return cited, None


def _short(group: ClaimGroup, words: int = 12) -> str:
    """The start of a group's statement, enough to say what a conflict is about."""
    parts = _CONNECTOR.sub("", group.statement).rstrip(".").split()
    return " ".join(parts[:words]) + ("\u2026" if len(parts) > words else "")


def conflict_sentences(
    groups: list[ClaimGroup], articles: dict[int, Article]
) -> list[BriefingSentence]:
    """One sentence per conflict, with every value and its source: code, not model."""
    out: list[BriefingSentence] = []
    for group in groups:
        for conflict in group.conflicts:
            by_value: dict[str, list[str]] = {}
            for v in conflict.values:
                by_value.setdefault(v.value, []).append(_source_name(articles[v.article_id]))
            values = "; ".join(
                f"{value} according to {' and '.join(names)}" for value, names in by_value.items()
            )
            if conflict.what.startswith("age of"):
                text = f"Sources differ on the {conflict.what}: {values}."
            else:
                subject = _short(group)
                text = f"Sources differ on the {conflict.what} of \u201c{subject}\u201d: {values}."
            out.append(
                BriefingSentence(
                    text=text,
                    group_ids=[group.id],
                    article_ids=sorted({v.article_id for v in conflict.values}),
                    section="disputed",
                )
            )
    return out


def _place_denials(sentences: list[BriefingSentence], groups: dict[str, ClaimGroup]) -> None:
    """Move each sentence citing a denial right after the last sentence citing what it denies."""
    for sentence in list(sentences):
        denied = {
            r
            for g in sentence.group_ids
            if groups[g].kind == ClaimKind.DENIAL
            for r in groups[g].related
        }
        if not denied or denied & set(sentence.group_ids):
            continue
        targets = [i for i, s in enumerate(sentences) if denied & set(s.group_ids)]
        if not targets:
            continue
        sentences.remove(sentence)
        last = max(i for i, s in enumerate(sentences) if denied & set(s.group_ids))
        sentences.insert(last + 1, sentence)


def _output_type(groups_shown: int) -> type[BriefOutput]:
    """BriefOutput asking for at least a few sentences: small models otherwise stop after two.

    The minimum is only in the JSON schema sent (a grammar-constrained server enforces it);
    validation stays lenient, so an endpoint that writes fewer sentences is not failed for it.
    """
    minimum = min(MIN_SENTENCES, groups_shown)
    return create_model(
        "BriefOutput",
        __base__=BriefOutput,
        sentences=(
            list[WrittenSentence],
            Field(max_length=12, json_schema_extra={"minItems": minimum}),
        ),
    )


SECTION_ORDER: list[Section] = ["confirmed", "disputed", "attributed", "timeline"]
WORD_BUDGET = 230
MAX_SENTENCES = 14


def _fallback_sentences(
    groups: list[ClaimGroup],
    claims: dict[str, Claim],
    covered: list[list[str]],
    written: list[str],
    rank: Rank,
) -> list[tuple[WrittenSentence, list[str]]]:
    """Groups the model skipped, as their shortest verbatim claim, until the briefing is full.

    Small models stop after a few sentences. Every multi-source group is worth a line, then
    single-source ones in turn across articles (one per article, then the next): a verbatim
    source sentence is grounded by construction and gets attribution like any other.
    """
    done = {g for cited in covered for g in cited}
    words = sum(len(t.split()) for t in written)
    count = len(written)
    candidates = [g for g in groups if g.id not in done and not g.conflicts]
    multi = sorted((g for g in candidates if len(g.article_ids) > 1), key=rank)
    single: dict[int, list[ClaimGroup]] = {}
    for g in candidates:
        if len(g.article_ids) == 1:
            single.setdefault(g.article_ids[0], []).append(g)
    rounds = max((len(v) for v in single.values()), default=0)
    ordered = multi + [
        lst[i] for i in range(rounds) for _, lst in sorted(single.items()) if i < len(lst)
    ]
    out: list[tuple[WrittenSentence, list[str]]] = []
    said = [terms(t) for t in written]
    for group in ordered:
        members = [claims[c] for c in group.claim_ids if c in claims]
        if not members:
            continue
        text = _CONNECTOR.sub("", min((c.text for c in members), key=len))
        text = text[:1].upper() + text[1:]
        size = len(text.split())
        if count >= MAX_SENTENCES or words + size > WORD_BUDGET:
            break
        if is_boilerplate(text) or len(text) > TEXT_LIMIT:
            continue
        candidate = terms(text)
        if any(repeats(candidate, earlier) for earlier in said):
            continue  # the model already wrote it, citing another group
        said.append(candidate)
        out.append((WrittenSentence(groups=[group.id], text=text), [group.id]))
        words += size
        count += 1
    return out


def _fallback_title(articles: list[Article]) -> str:
    return f"Briefing from {len(articles)} article{'s' if len(articles) != 1 else ''}"


def write_briefing(
    groups: list[ClaimGroup], claims: list[Claim], articles: list[Article], ctx: StageContext
) -> BriefResult:
    """Briefing sentences that cite groups; each checked, attributed and placed by code."""
    by_article = {a.id: a for a in articles}
    by_group = {g.id: g for g in groups}
    by_claim = {c.id: c for c in claims}
    rank = _ranking(groups, by_claim)
    shown = sorted(groups, key=rank)[:MAX_GROUPS_SHOWN]
    variables = {
        "groups": [
            {
                "id": g.id,
                "label": _label(g, by_article),
                "statement": defang(_CONNECTOR.sub("", g.statement)),
            }
            for g in shown
        ],
        "articles": [{"id": a.id, "outlet": a.outlet, "title": a.title} for a in articles],
    }
    result = BriefResult(briefing=Briefing(title="", sentences=[]))
    if not groups:
        result.briefing.title = _fallback_title(articles)
        return result
    output = ctx.ask(_output_type(len(shown)), "brief: write", feedback=[], **variables)
    result.written = len(output.sentences)
    output.sentences = whole_sentences(output.sentences, by_group, by_claim)
    checked = [(s, *_check(s, by_group, by_claim, by_article)) for s in output.sentences]
    failed = [(s, problem) for s, _, problem in checked if problem]
    kept = [(s, cited) for s, cited, problem in checked if not problem]
    kept = drop_repeats(kept)
    if failed:
        feedback = [f'"{clean(s.text)[:160]}" ({", ".join(s.groups)}): {p}' for s, p in failed]
        retry = ctx.ask(BriefOutput, "brief: rewrite", feedback=feedback, **variables)
        result.regenerated = len(failed)
        already = {clean(s.text) for s, _ in kept}
        recovered = 0
        for sentence in retry.sentences[: len(failed)]:
            cited, problem = _check(sentence, by_group, by_claim, by_article)
            if problem is None and clean(sentence.text) not in already:
                kept.append((sentence, cited))
                recovered += 1
        result.dropped = len(failed) - recovered
    sentences: list[BriefingSentence] = []
    proper = proper_nouns([c.quote for c in claims])
    conflicts = conflict_sentences(groups, by_article)
    fallback = _fallback_sentences(
        groups,
        by_claim,
        [c for _, c in kept],
        [s.text for s, _ in kept] + [c.text for c in conflicts],
        rank,
    )
    result.verbatim = len(fallback)
    for written, cited in [*kept, *fallback]:
        text = clean(written.text)
        if not text.endswith(TERMINAL):
            text += "."
        backing = _backing_articles(text, cited, by_group, by_claim, by_article)
        one_source = len(backing) == 1
        if (_needs_attribution(cited, by_group, by_claim) or one_source) and not has_attribution(
            text, [s for g in cited for s in by_group[g].attributed_to]
        ):
            text = _attribute(text, _names(backing, by_article), proper)
            result.attributed += 1
        section = _section(cited, by_group)
        sentences.append(
            BriefingSentence(
                text=text,
                group_ids=cited,
                article_ids=backing,
                section="attributed" if one_source and section == "confirmed" else section,
            )
        )
    sentences.extend(conflicts)
    sentences.sort(key=lambda s: SECTION_ORDER.index(s.section))
    _place_denials(sentences, by_group)
    all_support = [t for c in claims for t in (c.text, c.quote)]
    title = clean(output.title)
    if unsupported(title, all_support) or is_boilerplate(title):
        title = _fallback_title(articles)
    result.briefing = Briefing(title=title, sentences=sentences, single_source=len(articles) == 1)
    return result
