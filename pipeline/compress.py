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


def compressed(sentence: str) -> str | None:
    """The sentence cut before its first trailing clause, with a full stop; None when it is
    short, has no such clause, or the cut would leave a quotation open."""
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
