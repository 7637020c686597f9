"""Numbers and times in the form a sentence states them, for "same form" checks.

Number words are read by `text2num` (a maintained parser of English number words: "twenty-five"
-> 25, "three hundred" -> 300) rather than another hand table. Times are compared by what the
text writes, normalised only in spelling ("p.m." = "pm", "15:30" = "15.30"): "15.30 pm" is
not the same statement as "15.30 hours (3.30 pm)", though both contain 15.30.
"""

from __future__ import annotations

import re

from text_to_num import alpha2digit

_TIME = re.compile(
    r"\b(\d{1,2})(?:[.:](\d{2}))?\s*"
    r"(a\.?\s?m\.?|p\.?\s?m\.?|hours|hrs|h\b|gmt|utc|ist|pst|est|cet|msk)(?![\w])",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b(\d{1,2})[:](\d{2})\b")


def _unit(raw: str) -> str:
    unit = re.sub(r"[.\s]", "", raw.lower())
    return {"hrs": "hours", "h": "hours"}.get(unit, unit)


def times_in(text: str) -> set[str]:
    """Clock times with their unit, in one spelling: {"15.30 hours", "3.30 pm", "12 pm"}."""
    found: set[str] = set()
    covered: list[tuple[int, int]] = []
    for match in _TIME.finditer(text):
        hour, minute, unit = match.group(1), match.group(2), _unit(match.group(3))
        found.add(f"{int(hour)}.{minute} {unit}" if minute else f"{int(hour)} {unit}")
        covered.append(match.span())
    for match in _CLOCK.finditer(text):
        if not any(start <= match.start() < end for start, end in covered):
            found.add(f"{int(match.group(1))}.{match.group(2)}")
    return found


_VAGUE = re.compile(r"\b((?:hundreds|thousands|millions|billions|dozens|tens)\b(?: of)?)", re.I)


def number_words_to_digits(text: str) -> str:
    """`text` with written-out numbers as digits ("three hundred people" -> "300 people").

    Vague plurals ("thousands of") are no number and stay as written.
    """
    parts = _VAGUE.split(text)
    return "".join(p if i % 2 else str(alpha2digit(p, "en")) for i, p in enumerate(parts))
