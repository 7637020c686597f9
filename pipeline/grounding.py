"""Checks that tie model output back to the articles. Shared by the stages and the evals.

Small models invent names, dates and numbers. Instead of trusting them we check, with plain
string rules, that every name and number a claim or briefing sentence states also occurs in the
text it rests on. The rules are deliberately lenient about form ("U.S." = "US", "21 October" =
"October 21", "Russia" ~ "Russian") and strict about substance (a different number or a new
name fails).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from pipeline.schema import Span
from pipeline.text import number_words_to_digits, word_list

_QUOTE_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
    "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100",
    "thousand": "1000", "million": "1000000", "billion": "1000000000", "dozen": "12",
}  # fmt: skip


_WORD = re.compile(r"[A-Za-z\u00c0-\u024f\u0400-\u04ff][\w'\u2019.\-]*")
_CAPITALISED = re.compile(r"(?<![\w'\u2019])[A-Z\u00c0-\u00de\u0400-\u042f][\w'\u2019.\-]*")
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")
_VERB_MONTHS = {"may", "march"}
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")


def normalize(text: str) -> str:
    """Unicode-normalise, straighten quotes and dashes, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_MAP)
    return re.sub(r"\s+", " ", text).strip()


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """Normalised text plus, for each of its characters, the index in the original."""
    out: list[str] = []
    index: list[int] = []
    prev_space = True
    for i, ch in enumerate(text):
        ch = unicodedata.normalize("NFKC", ch).translate(_QUOTE_MAP)
        for c in ch:
            if c.isspace():
                if prev_space:
                    continue
                c = " "
                prev_space = True
            else:
                prev_space = False
            out.append(c)
            index.append(i)
    while out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def find_quote(quote: str, text: str) -> Span | None:
    """Span of `quote` in `text`, exact first, then modulo whitespace and quote marks."""
    quote = quote.strip()
    if not quote:
        return None
    pos = text.find(quote)
    if pos >= 0:
        return (pos, pos + len(quote))
    norm_text, index = _normalized_with_map(text)
    norm_quote = normalize(quote)
    pos = norm_text.find(norm_quote)
    if pos < 0:
        return None
    end = pos + len(norm_quote) - 1
    return (index[pos], index[end] + 1)


def _strip_possessive(word: str) -> str:
    word = word.rstrip(".-'\u2019")
    for suffix in ("'s", "\u2019s"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _key(word: str) -> str:
    """Comparison form of a word: lower case, no dots or apostrophes ("U.S." -> "us")."""
    return re.sub(r"[.'\u2019]", "", _strip_possessive(word)).lower()


def names_in(text: str) -> set[str]:
    """Capitalised words that look like names (people, places, bodies), in comparison form."""
    names: set[str] = set()
    for match in _CAPITALISED.finditer(normalize(text)):
        for part in re.split(r"[-\u2013\u2014]", match.group()):
            key = _key(part)
            # An acronym ("US", "U.S.") is a name even when its letters spell a function word.
            acronym = sum(c.isupper() for c in part) >= 2 and not any(c.islower() for c in part)
            if len(key) < 2 or (key in word_list("not_names") and not acronym):
                continue
            if key in MONTHS or key in WEEKDAYS:
                continue
            if key in NUMBER_WORDS:
                continue
            names.add(key)
    return names


@lru_cache(maxsize=512)
def number_set(text: str) -> frozenset[str]:
    """`numbers_in`, read once per text: stages compare the numbers of the same quotes and
    articles many times over."""
    return frozenset(numbers_in(text))


def numbers_in(text: str) -> set[str]:
    """Numbers, number words, months and weekdays, in comparison form ("21", "october").

    Written-out numbers are read by text2num first ("twenty-five" -> 25, "three hundred" ->
    300), so "300" and "three hundred" compare equal; small ones ("two") by the table.
    """
    text = number_words_to_digits(normalize(text))
    text = _CLOCK.sub(r"\1.\2", text)  # "3:30" and "3.30" are one time
    found: set[str] = set()
    for match in _DIGITS.finditer(text):
        raw = match.group().rstrip(".,")
        value = raw.replace(",", "")
        if value.endswith(".0"):
            value = value[:-2]
        found.add(value)
    for word in _WORD.findall(text):
        key = _key(word)
        if key in NUMBER_WORDS:
            found.add(NUMBER_WORDS[key])
        elif key in MONTHS and (word[0].isupper() or (len(key) > 3 and key not in _VERB_MONTHS)):
            # "may" and "march" are also verbs: only the capitalised word is the month.
            found.add(f"month:{MONTHS[key]}")
        elif key in WEEKDAYS:
            found.add(key)
    return found


def _words(texts: Iterable[str]) -> set[str]:
    words: set[str] = set()
    for text in texts:
        for word in _WORD.findall(normalize(text)):
            for part in re.split(r"[-\u2013\u2014]", word):
                key = _key(part)
                if key:
                    words.add(key)
    return words


def _name_supported(name: str, words: set[str]) -> bool:
    """Exact word, or the same word with a short inflection ("Russia"/"Russian")."""
    if name in words:
        return True
    if len(name) < 5:
        return False
    return any(
        abs(len(w) - len(name)) <= 2 and (w.startswith(name) or name.startswith(w))
        for w in words
        if len(w) >= 5
    )


@dataclass(frozen=True)
class Unsupported:
    """A name or number stated in a text but absent from what it rests on."""

    kind: str  # "name" | "number"
    value: str

    def __str__(self) -> str:
        return f"{self.kind} '{self.value.removeprefix('month:')}'"


def unsupported(text: str, support: Iterable[str]) -> list[Unsupported]:
    """Names and numbers in `text` that occur in none of the `support` texts."""
    support = list(support)
    words = _words(support)
    numbers: set[str] = set()
    for s in support:
        numbers |= numbers_in(s)
    missing = [
        Unsupported("name", n) for n in sorted(names_in(text)) if not _name_supported(n, words)
    ]
    missing += [Unsupported("number", n) for n in sorted(numbers_in(text)) if n not in numbers]
    return missing


_ATTRIBUTION = re.compile(
    # Reporting verbs and phrases, not bare nouns: "nothing true in these reports" names no one.
    r"\b(according to|said|says|say|told|tells|reported|reportedly|reporting|claimed|"
    r"claims that|alleged|allegedly|alleges|denied|denies|deny|rejected|rejects|dismissed|"
    r"dismisses|stated|states\s+that|cited|citing|cites|suggest|suggested|suggests|"
    r"suggesting|insisted|insists|described|describes|(?:called|calls)(?! off| for)|argued|"
    r"argues|believes|"
    r"wrote|writes|announced|announces|confirmed|confirms|quoted|speculated|asserted|asserts|"
    r"accused|accuses|acknowledged|acknowledges|dismissing|denying|calling|saying|claiming|"
    r"(?:sources?|insiders?|officials?|reports?|rumou?rs?) (?:say|said|close|familiar|indicate|"
    r"indicated|suggest|claim|claimed|cited|quoted))\b",
    re.IGNORECASE,
)


def attributions(text: str) -> Iterator[re.Match[str]]:
    """Each reporting verb or phrase of the text ("said", "according to", "sources say"), where
    it stands; "called off" and "calls for" are not among them."""
    return _ATTRIBUTION.finditer(text)


def has_attribution(text: str, sources: Iterable[str] = ()) -> bool:
    """Whether a sentence says who claims what (a reporting verb or a named source)."""
    if _ATTRIBUTION.search(text):
        return True
    lowered = normalize(text).lower()
    # Whole words only: a source called "RT" must not match "started" or "report".
    return any(
        s.strip() and re.search(rf"(?<!\w){re.escape(normalize(s).lower())}(?!\w)", lowered)
        for s in sources
    )


# "support US sanctions" and "support now stands at" are news, not appeals; "(AP)" is matched
# outside the word boundaries, which never hold around a bracket.
_BOILERPLATE = re.compile(
    r"\b(your (support|donation|contribution)|support (?-i:[Uu]s)|support now(?!\s+[a-z])|"
    r"support our journalism|donat(e|ion)s?\b|"
    r"subscribe|subscription|sign up|newsletter|paywall|read more|more news|"
    r"open image in gallery|getty images|dear readers?|remind me later|"
    r"advertisement|sponsored (content|posts?|links?|stories)|cookie|all rights reserved|"
    r"follow us on|share this article|click here|a message from)\b|\(\s*ap\s*\)|"
    # the page pointing at itself: "Below are some of the photos ...", "(video)"
    r"^(?:below|above|here) (?:is|are)\b|\b(?:video|photos?) (?:below|above)\b|\(video\)",
    re.IGNORECASE,
)


def is_boilerplate(text: str) -> bool:
    """Whether model output repeats outlet boilerplate (appeals, captions, navigation).

    The loader removes boilerplate from articles; this is the second net, applied to what the
    model writes, so a claim or briefing sentence that copies an appeal is dropped.
    """
    return bool(_BOILERPLATE.search(normalize(text)))
