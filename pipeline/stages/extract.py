"""Stage 1: the claims one article makes, each tied to a verbatim sentence of it.

The model names a sentence number instead of copying a quote: it costs a few tokens instead of
dozens, and the quote is verbatim by construction. What the model writes itself (the short
claim) is checked for names and numbers the article does not contain; a failing claim is
re-asked once with the reason, then dropped and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pipeline.grounding import (
    find_quote,
    has_attribution,
    is_boilerplate,
    names_in,
    numbers_in,
    unsupported,
)
from pipeline.schema import Article, Claim, ClaimKind, ExtractedClaim, ExtractOutput
from pipeline.stages.common import StageContext, defang

_DENIAL_CUES = re.compile(
    r"\b(den(y|ies|ied|ial)|dismiss(ed|es)?|reject(ed|s)?|refut(e|ed|es)|rebuff(ed)?|"
    r"nothing true|completely false|utter nonsense|not true|untrue|baseless)\b",
    re.IGNORECASE,
)
ATTRIBUTED_KINDS = {ClaimKind.STATEMENT, ClaimKind.ALLEGATION, ClaimKind.DENIAL, ClaimKind.OPINION}


MIN_CLAIMS = 4  # fewer from the model: topped up with the article's most salient sentences


@dataclass
class ExtractResult:
    claims: list[Claim]
    extracted: int = 0
    reasks: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    salient: int = 0  # claims added by code from the most salient sentences


def _claim_text(item: ExtractedClaim, article: Article) -> str:
    """The model's restatement if it gave one, else the verbatim sentence."""
    text = (item.claim or "").strip()
    if len(text) >= 3 or not 1 <= item.sentence <= len(article.sentences):
        return text  # a sentence number out of range has no text to fall back on
    return article.sentence_text(item.sentence - 1)


def _problem(item: ExtractedClaim, article: Article, shown: set[int]) -> tuple[str, str] | None:
    """(reason, message) if the claim cannot be kept as it is, else None."""
    if item.sentence > len(article.sentences) or item.sentence not in shown:
        return "bad_sentence", f"sentence {item.sentence} is not one of the numbered sentences"
    quote = article.sentence_text(item.sentence - 1)
    text = _claim_text(item, article)
    if is_boilerplate(text):
        return "boilerplate", "it copies advertising or donation text"
    missing = unsupported(text, [quote, article.text])
    if missing:
        listed = ", ".join(str(m) for m in missing)
        return "ungrounded", f"{listed} not in the article"
    return None


def _checked_source(item: ExtractedClaim, article: Article) -> str | None:
    """The model's source, if the sentence (or the one before, for "He said") names it.

    Small models attach the most prominent speaker to everything; an unnamed source is better
    than a wrong one.
    """
    source = (item.source or "").strip()
    if not source:
        return None
    index = item.sentence - 1
    nearby = article.sentence_text(index)
    if index > 0:
        nearby += " " + article.sentence_text(index - 1)
    names = names_in(source)
    if names & names_in(nearby):
        return source
    if not names and source.lower() in nearby.lower():
        return source
    return None


def _to_claim(item: ExtractedClaim, article: Article, number: int) -> Claim:
    quote = article.sentence_text(item.sentence - 1)
    text = _claim_text(item, article)
    start, end = article.sentences[item.sentence - 1]
    # A swapped prompt set could return quotes that are not whole sentences; the span check
    # is the same either way.
    span = find_quote(quote, article.text) or (start, end)
    source = _checked_source(item, article)
    kind = item.kind
    if kind in (ClaimKind.STATEMENT, ClaimKind.FACT) and _DENIAL_CUES.search(quote):
        kind = ClaimKind.DENIAL  # small models call most quotes "statement"
    if kind in ATTRIBUTED_KINDS and source is None:
        source = article.outlet
    return Claim(
        id=f"{article.id}.{number}",
        article_id=article.id,
        text=text,
        kind=kind,
        attributed_to=source,
        quote=quote,
        span=span,
        entities=sorted(names_in(text)),
        numbers=sorted(numbers_in(text)),
    )


def extract_claims(
    article: Article, ctx: StageContext, selected: list[int] | None = None
) -> ExtractResult:
    """Claims of one article; ungrounded ones are re-asked once, then dropped.

    `selected` limits the sentences shown to the model (0-based indices, the salient ones
    best first); they are shown in text order and keep their numbers in the article, so
    answers map back unambiguously. When the model keeps fewer than `MIN_CLAIMS`, the most
    salient sentences it passed over are added by code: a small model that names two
    sentences of a nine-sentence story leaves the briefing with nothing to say.
    """
    ranked = list(range(len(article.sentences))) if selected is None else list(selected)
    indices = sorted(ranked)
    sentences = [{"n": i + 1, "text": defang(article.sentence_text(i))} for i in indices]
    what = f"extract: article {article.id} ({article.label})"
    variables = {
        "article_id": article.id,
        "outlet": article.outlet,
        "date": article.date,
        "sentences": sentences,
    }
    shown = {i + 1 for i in indices}
    output = ctx.ask(ExtractOutput, what, feedback=[], **variables)
    result = ExtractResult(claims=[], extracted=len(output.claims))
    problems = {
        i: p for i, item in enumerate(output.claims) if (p := _problem(item, article, shown))
    }
    items = list(output.claims)
    # Only invented names or numbers are worth a second call; a bad sentence number or a
    # copied appeal is simply dropped.
    if any(reason == "ungrounded" for reason, _ in problems.values()):
        feedback = [
            f'claim {i + 1} ("{_claim_text(items[i], article)[:80]}"): {message}'
            for i, (_, message) in problems.items()
        ]
        retry = ctx.ask(ExtractOutput, what, feedback=feedback, **variables)
        result.reasks += 1
        items = list(retry.claims)
        problems = {i: p for i, item in enumerate(items) if (p := _problem(item, article, shown))}
    seen: set[tuple[int, str]] = set()
    for i, item in enumerate(items):
        if i in problems:
            result.dropped[problems[i][0]] += 1
            continue
        key = (item.sentence, _claim_text(item, article).lower())
        if key in seen:
            result.dropped["duplicate"] += 1
            continue
        seen.add(key)
        result.claims.append(_to_claim(item, article, len(result.claims) + 1))
    if selected is not None:  # a salience ranking to top up from
        _add_salient(result, article, ranked)
    return result


def _add_salient(result: ExtractResult, article: Article, ranked: list[int]) -> None:
    """Top up to `MIN_CLAIMS` with the most salient sentences not yet a claim. Code cannot
    tell who makes such a claim, so a sentence with a reporting verb is a statement (the
    briefing will say who), a denial cue makes it a denial, and the rest is what the article
    states."""
    used = {c.span for c in result.claims}
    for index in ranked:
        if len(result.claims) >= MIN_CLAIMS:
            return
        quote = article.sentence_text(index)
        if article.sentences[index] in used or is_boilerplate(quote):
            continue
        kind = ClaimKind.STATEMENT if has_attribution(quote) else ClaimKind.FACT
        item = ExtractedClaim(sentence=index + 1, kind=kind, source=None)
        claim = _to_claim(item, article, len(result.claims) + 1)
        if claim.span in used:
            continue
        used.add(claim.span)
        result.claims.append(claim.model_copy(update={"origin": "salience"}))
        result.salient += 1
