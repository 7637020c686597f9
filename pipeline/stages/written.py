"""Repairs of what a small model writes before a sentence is checked: citation marks and
spaced initialisms removed, sentences cut at the length limit or by an unescaped quotation mark
trimmed or replaced by the claim they copied, fragments and repeats left out.

Plain text rules with no model call, so a cached answer is repaired the same way every run.
"""

from __future__ import annotations

import re

from pipeline.grounding import normalize
from pipeline.schema import Claim, ClaimGroup, WrittenSentence

_CITATION = re.compile(r"\s*(\[(\d+|g\d+)\])+")
_SPACED_INITIALS = re.compile(r"\b([A-Z])\. (?=[A-Z]\.)")


def clean(text: str) -> str:
    """No citation marks, and initialisms closed up: small models write "U. S." for "U.S."."""
    text = _CITATION.sub("", text).strip()
    return _SPACED_INITIALS.sub(r"\1.", text)


_WORD = re.compile(r"[\w'\u2019]+")
_FUNCTION_WORDS = set(
    """a an the of to in on at by for from with and or but as is are was were be been has have
    had that this these those it its he she his her they their there which who what when
    according said says""".split()
)


def terms(text: str) -> set[str]:
    """Content words cut to six letters: enough to tell two sentences say the same thing."""
    words = _WORD.findall(text.lower())
    return {w[:6] for w in words if w not in _FUNCTION_WORDS and len(w) > 1}


REPEAT_OVERLAP = 0.6
REPEAT_CONTAINED = 0.7
MIN_TERMS_TO_COMPARE = 5


def repeats(words: set[str], earlier: set[str]) -> bool:
    """Mostly the same words, or (for a sentence of some length) nearly all of them already said."""
    if len(words & earlier) / max(1, len(words | earlier)) >= REPEAT_OVERLAP:
        return True
    small = min(len(words), len(earlier))
    return small >= MIN_TERMS_TO_COMPARE and len(words & earlier) / small >= REPEAT_CONTAINED


def drop_repeats(
    kept: list[tuple[WrittenSentence, list[str]]],
) -> list[tuple[WrittenSentence, list[str]]]:
    """Small models sometimes write the same sentence twice, lightly reworded: keep the first."""
    out: list[tuple[WrittenSentence, list[str]]] = []
    seen: list[set[str]] = []
    for sentence, cited in kept:
        words = terms(clean(sentence.text))
        if any(repeats(words, s) for s in seen):
            continue
        seen.append(words)
        out.append((sentence, cited))
    return out


TERMINAL = (".", "!", "?", "\u201d", '"', "\u00bb", "'", "\u2019")
_SENTENCE_END = re.compile(r"[.!?][\u201d\"\u00bb'\u2019)]*\s+(?=[A-Z\u201c\"])")
TEXT_LIMIT = 300  # WrittenSentence.text max_length: a grammar-constrained server cuts there


def complete(text: str) -> str | None:
    """The written text without a part cut off at the length limit; None for a fragment.

    A constrained server stops a sentence at the schema's length limit and small models then
    carry on in the next item ("... trapped in their homes due." / "to dangerous conditions.").
    """
    text = text.strip()
    if not text or text[0].islower():
        return None
    if len(text) < TEXT_LIMIT - 10 or text.endswith(TERMINAL):
        return text
    ends = [m.start() + 1 for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].rstrip() if ends else None


_DANGLING = _FUNCTION_WORDS | {"not", "than", "into", "about", "over", "under", "if", "so"}


def _copied_claim(
    text: str, group_ids: list[str], groups: dict[str, ClaimGroup], claims: dict[str, Claim]
) -> str | None:
    """The cited claim a cut-off sentence was copying, in full."""
    start = normalize(text).lower()
    for gid in group_ids:
        for cid in groups[gid].claim_ids if gid in groups else []:
            claim = claims.get(cid)
            if claim is not None and start in normalize(claim.text).lower():
                return claim.text if len(claim.text) <= TEXT_LIMIT else None
    return None


def whole_sentences(
    written: list[WrittenSentence], groups: dict[str, ClaimGroup], claims: dict[str, Claim]
) -> list[WrittenSentence]:
    """Each written sentence trimmed to what was finished; fragments left out.

    A sentence that stops on "an" or "to" was cut by a quotation mark the model did not escape
    (it closes the JSON string): when it was copying a cited claim, that claim replaces it,
    otherwise it is left out.
    """
    out: list[WrittenSentence] = []
    for sentence in written:
        text = complete(clean(sentence.text))
        if text is None or len(text) < 3:
            continue
        last = text.split()[-1].lower()
        if not text.endswith(TERMINAL) and last in _DANGLING:
            text = _copied_claim(text, sentence.groups, groups, claims)
            if text is None:
                continue
        out.append(sentence.model_copy(update={"text": text}))
    return out
