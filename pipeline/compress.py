"""Shorter verbatim sentences: drop a trailing clause the sentence can stand without.

When the model's shortened sentence fails the checks, the briefing states a group by its
verbatim claim, which runs 30-50 words in news prose; four of those fill a briefing. Deleting
a trailing non-restrictive clause ("..., which ...", "..., amid ...", "..., signaling ...")
is the classic move of extractive sentence compression: every word left is the source's, in
its order, so the checks still hold it to the quote.
"""

from __future__ import annotations

import re

from pipeline.text import word_list

LONG = 25  # words: shorter sentences are left whole
MIN_HEAD = 10  # words the kept part must have
_QUOTES = ('"', "\u201c", "\u201d", "\u00ab", "\u00bb")


ELLIPSIS = "\u2026"
MAX_ASIDE = 20  # words of a relative clause taken out of the middle
# ", who has headed the ministry for 20 years, did not appear": a relative clause between
# commas, with no comma or quotation mark inside, before a verb phrase (not "and"/"or").
_ASIDE = re.compile(r",\s+(?:who|which)\s+[^,\"\u201c\u201d\u00ab\u00bb]+?,\s+(?=([a-z]+)\b)")
# The clause must be followed by the sentence's verb: an auxiliary ("did not appear") or a
# past or present tense ("faced", "says"); anything else ("…, as opposed to …") means the
# commas were not the clause's.
_AUXILIARIES = {
    "is", "was", "are", "were", "has", "have", "had", "will", "would", "could", "can", "may",
    "might", "should", "must", "did", "does", "do",
}  # fmt: skip


def _verb_like(word: str) -> bool:
    return word in _AUXILIARIES or (len(word) > 3 and word.endswith(("ed", "es")))


def compressed(sentence: str) -> str | None:
    """The sentence without a relative clause in its middle (marked by an ellipsis: what is
    left is still the source's words, in its order) and cut before its first trailing clause,
    with a full stop; None when it is short, has neither, or a cut would leave a quotation
    open."""
    if len(sentence.split()) <= LONG:
        return None
    opened = _without_opening(sentence)
    shorter = _without_aside(opened or sentence)
    cut = _cut_trailing(shorter or opened or sentence)
    return cut or shorter or opened


OPENING_CUT_FROM = 35  # words: only a sentence this long, which its credit would make overlong
MAX_OPENING = 20
# "With the vice president casting the deciding vote, the Senate voted ...", "Expressing
# concerns about the trial, the speaker would not ...", "As the anniversary nears, lawmakers
# are ...": a scene-setting opening before the subject, which the sentence stands without.
_OPENING = re.compile(r"^(?:With|As|[A-Z][a-z]+ing)\b[^,\"\u201c\u201d\u00ab\u00bb]+,\s+(?=(\w+))")


def _without_opening(sentence: str) -> str | None:
    match = _OPENING.match(sentence)
    if len(sentence.split()) < OPENING_CUT_FROM or not match:
        return None
    rest = sentence[match.end() :]
    subject = match.group(1)
    if len(match.group(0).split()) > MAX_OPENING or len(rest.split()) < MIN_HEAD:
        return None
    if not (subject[:1].isupper() or subject.lower() in {"the", "a", "an"}):
        return None  # "As expected, they ..." leaves a pronoun or a verb in front
    return rest[:1].upper() + rest[1:]


def _without_aside(sentence: str) -> str | None:
    for match in _ASIDE.finditer(sentence):
        head = sentence[: match.start()]
        aside = match.group(0)
        if not _verb_like(match.group(1)) or len(aside.split()) > MAX_ASIDE + 1:
            continue
        if len(head.split()) < 3 or sum(head.count(q) for q in _QUOTES) % 2:
            continue
        return f"{head} {ELLIPSIS} {sentence[match.end() :]}"
    return None


def _cut_trailing(sentence: str) -> str | None:
    words = sentence.split()
    if len(words) <= LONG:
        return None
    openers = word_list("clause_openers")
    for match in re.finditer(r",\s+([A-Za-z]+)", sentence):
        head = sentence[: match.start()].rstrip()
        if match.group(1).lower() not in openers or len(head.split()) < MIN_HEAD:
            continue
        if sum(head.count(q) for q in _QUOTES) % 2:
            continue  # inside a quotation
        return head.rstrip(" ;:-\u2014\u2013") + "."
    return None
