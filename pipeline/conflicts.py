"""Typed values (dates, ages, counts) in a text, so merged claims can be compared.

Two articles describing one event with different dates, ages or counts is exactly what a
briefing reader must see. Comparing typed values with plain rules is cheaper and more
dependable than asking a small model to spot the difference.
"""

from __future__ import annotations

import re

from pipeline.grounding import MONTHS, NUMBER_WORDS, normalize

_MONTH = (
    r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?"
)  # not "5 Marines"
_DATE_MD = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
_DATE_DM = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}")
_AGE_PATTERNS = [
    re.compile(r"\b(\d{2,3})-year-old\b"),
    re.compile(r"\baged\s+(\d{2,3})\b"),
    re.compile(r"\bage of\s+(\d{2,3})\b"),
    re.compile(r"\b[Aa]t\s+(\d{2,3}),"),
    re.compile(r"[A-Z][\w\u2019'-]+,\s+(\d{2,3}),"),
]
_NOT_COUNT_NOUNS = {
    "years",
    "year",
    "days",
    "day",
    "weeks",
    "week",
    "months",
    "month",
    "and",
    "of",
    "the",
    "to",
    "in",
    "on",
    "at",
    "percent",
    "per",
    "hours",
    "minutes",
    "seconds",
    "decades",
    "centuries",
}
_MULTIPLIERS = {"hundred", "thousand", "million", "billion", "dozen"}
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")
# One plain word may sit between number and noun ("240,000 electricity customers"), but not a
# multiplier or a duration: "2 million people" is read from "million".
_NOT_BETWEEN = sorted(_NOT_COUNT_NOUNS | _MULTIPLIERS | set(NUMBER_WORDS))
_COUNT = re.compile(
    r"\b(\d(?:[\d,]*\d)?|(?i:" + "|".join(NUMBER_WORDS) + r"))\s+"
    r"(?:(?!(?:" + "|".join(_NOT_BETWEEN) + r")\b)([a-z]{2,})\s+)?"
    r"([a-z]{2,}[^s\W]s|people|children|men|women)\b"
)


def _month_number(token: str) -> int:
    return MONTHS[token.lower().rstrip(".")]


def dates_in(text: str) -> set[str]:
    """Calendar dates without year, as "10-21" (month-day)."""
    text = normalize(text)
    found = {f"{_month_number(m)}-{int(d)}" for m, d in _DATE_MD.findall(text)}
    found |= {f"{_month_number(m)}-{int(d)}" for d, m in _DATE_DM.findall(text)}
    return {d for d in found if 1 <= int(d.split("-")[1]) <= 31}


def ages_in(text: str) -> set[str]:
    """Ages of people as stated ("Ms Roe, 75," / "the 76-year-old")."""
    text = normalize(text)
    found: set[str] = set()
    for pattern in _AGE_PATTERNS:
        for value in pattern.findall(text):
            if 15 <= int(value) <= 110:
                found.add(value)
    return found


def _factor(token: str) -> float | None:
    """The number a token states ("2.5", "1,200", "two"), or None."""
    token = token.lower()
    if token in NUMBER_WORDS:
        return float(NUMBER_WORDS[token])
    if _NUMBER_TOKEN.fullmatch(token):
        return float(token.replace(",", ""))
    return None


def counts_in(text: str) -> dict[str, str]:
    """Counted things: {"people": "12"}; years, durations and days of a month are left out."""
    text = normalize(text)
    found: dict[str, str] = {}
    for match in _COUNT.finditer(text):
        number, _between, noun = match.groups()
        previous = text[: match.start()].split()[-1:] or [""]
        if previous[0].lower().rstrip(".") in MONTHS or noun in _NOT_COUNT_NOUNS:
            continue
        value = NUMBER_WORDS.get(number.lower(), number.replace(",", ""))
        factor = _factor(previous[0])
        if number.lower() in _MULTIPLIERS and factor is not None:
            # "2 million people" / "two hundred people": the count is the product.
            value = str(round(factor * int(value)))
        if len(value) == 4 and value.startswith(("19", "20")):
            continue
        found[noun] = value
    return found


_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)*|[A-Za-z]+)\s+(" + "|".join(sorted(_MULTIPLIERS)) + r")\b")


def amounts_in(text: str) -> set[str]:
    """Every amount the text states with a multiplier, as digits, whether or not a counted
    noun follows: "2.5 million doses … and 1.5 million with Canada" gives both 2500000 and
    1500000, where `counts_in` keeps one value per noun."""
    found = set()
    for match in _AMOUNT.finditer(normalize(text)):
        factor, unit = _factor(match.group(1)), _factor(match.group(2))
        if factor is not None and unit is not None:
            found.add(str(round(factor * unit)))
    return found


def typed_values(text: str) -> dict[str, set[str]]:
    """All comparable values of a text, keyed by what they measure."""
    values: dict[str, set[str]] = {}
    dates = dates_in(text)
    if dates:
        values["date"] = dates
    ages = ages_in(text)
    if ages:
        values["age"] = ages
    for noun, value in counts_in(text).items():
        values.setdefault(f"number of {noun}", set()).add(value)
    return values


def display_date(value: str) -> str:
    """ "10-21" -> "October 21"."""
    month, day = value.split("-")
    name = next(k for k, v in MONTHS.items() if v == int(month) and (len(k) > 3 or k == "may"))
    return f"{name.capitalize()} {int(day)}"


_AGED_BEFORE = re.compile(r"([A-Z][\w\u2019'-]+),\s+(\d{2,3}),")
_AGED_AFTER = re.compile(
    r"(?:(\d{2,3})-year-old|\b[Aa]t\s+(\d{2,3}),|\baged\s+(\d{2,3}))\s+(?:[a-z]+\s+){0,3}?"
    r"(?:Mr\.?\s+|Ms\.?\s+|Mrs\.?\s+)?([A-Z][\w\u2019'-]+(?:\s+[A-Z][\w\u2019'-]+)*)"
)


def aged_people(text: str) -> dict[str, str]:
    """Person -> age where the age sits right next to a name ("Roe, 75," / "76-year-old
    Roe" / "At 75, Roe")."""
    text = normalize(text)
    found: dict[str, str] = {}
    for name, age in _AGED_BEFORE.findall(text):
        found[name.lower()] = age
    for m in _AGED_AFTER.finditer(text):
        age = next(g for g in m.groups()[:3] if g)
        # "76-year-old Jane Roe" -> "roe", the word "Roe, 75," is keyed by.
        found[m.group(4).split()[-1].lower()] = age
    return {n: a for n, a in found.items() if n not in {"the", "mr", "ms"} and 15 <= int(a) <= 110}
