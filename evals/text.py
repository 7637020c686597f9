"""The evals' own text toolkit: normalising, sentences, words, names, numbers, dates and times.

Deliberately written apart from the pipeline's `text`/`grounding` code: a scorer that shared the
tokenizer of the check it judges would agree with it by construction.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pysbd
import yaml

NUMBER_WORDS = Path(__file__).resolve().parent / "data" / "number_words.yaml"

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)

MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()

# Capitalised words that start sentences or clauses without naming anyone (function words,
# pronouns, reporting glue); a name is a capitalised token not in this list.
_NOT_NAMES = frozenset(
    """a an the and or but if in on at to of for from by with as after before during since
    while when where what who which that this these those there here it its he she they we i
    you his her their our my your him them us me according however meanwhile also still yet
    so then thus both either neither each every some many most more other another all no not
    mr mrs ms dr sir sources reports officials""".split()
)

_CITATION = re.compile(r"\s*\[\d+\]")
_WORD = re.compile(r"[^\W_]+(?:['.\-][^\W_]+)*\.?", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,:]\d+)*(?:%|st|nd|rd|th)?(?![\w])")
_TIME = re.compile(
    r"(?<![\w.])\d{1,2}(?:[.:]\d{2})?\s*(?:a\.?m\.?|p\.?m\.?|hours|hrs|o'clock)(?![\w])",
    re.IGNORECASE,
)
# Double-quoted passages, and single-quoted ones that open before a word and close after one
# ('I've got news ...': an apostrophe inside a word does not close them).
_QUOTED = re.compile(r"\"[^\"]*\"|(?<!\w)'(?=\w)(?:[^']|(?<=\w)'(?=\w))+'(?!\w)")


def normalize(text: str) -> str:
    """NFKC, straight quotes and hyphens, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip()


def fold(text: str) -> str:
    """Comparison form: normalised, lower case, accents dropped."""
    text = unicodedata.normalize("NFKD", normalize(text).lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def strip_citations(text: str) -> str:
    """`... Moscow [1][3].` -> `... Moscow.`: markers are layout, not words."""
    return re.sub(r"\s+([.,;:!?])", r"\1", _CITATION.sub("", text)).strip()


def outside_quotes(text: str) -> str:
    """The text with every quoted passage blanked (an unclosed double quote runs to the end)."""
    text = normalize(text)
    text = _QUOTED.sub(" ", text)
    if text.count('"') % 2 == 1:
        text = text[: text.index('"')]
    return text


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def sentences(text: str) -> list[str]:
    """Sentences of a paragraph or article, via pysbd (rule-based, no data download)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n", text):
        if block.strip():
            out += [s.strip() for s in _segmenter().segment(block) if s.strip()]
    return out


def words(text: str) -> list[str]:
    """Word tokens in their written form (`U.S.`, `75-year-old`, `15.30`)."""
    return [w.rstrip(".") if w.count(".") == 1 else w for w in _WORD.findall(normalize(text))]


def word_count(text: str) -> int:
    return len(text.split())


def content_words(text: str) -> set[str]:
    """Lower-cased words minus function words: what near-duplicate checks compare."""
    return {w.lower() for w in words(text) if w.lower() not in _NOT_NAMES and len(w) > 2}


def names(text: str) -> list[str]:
    """Capitalised tokens that are not function words, months or weekdays (sentence-initial
    words included: `Lavrov said` names Lavrov)."""
    out: list[str] = []
    for w in words(strip_citations(text)):
        bare = w.rstrip(".")
        low = bare.lower()
        if not bare[:1].isupper() or low in _NOT_NAMES or low in MONTHS or low in WEEKDAYS:
            continue
        if bare.isdigit():
            continue
        out.append(w)
    return out


def numbers(text: str) -> list[str]:
    """Digit groups as written (`15.30`, `2,000`, `75`, `3rd`); citation markers excluded."""
    return [m.group().rstrip(".,") for m in _NUMBER.finditer(strip_citations(normalize(text)))]


def dates(text: str) -> list[str]:
    """Month and weekday words (the numbers beside them are checked as numbers)."""
    return [w for w in words(text) if w.lower().rstrip(".") in MONTHS + WEEKDAYS and w[0].isupper()]


def times(text: str) -> list[str]:
    """Clock times with their unit, canonicalised (`3.30 p.m.` -> `3.30 pm`)."""
    out = []
    for m in _TIME.finditer(normalize(text)):
        t = re.sub(r"([ap])\.?m\.?$", r"\1m", m.group().lower())
        out.append(re.sub(r"(\d)\s*([a-z'])", r"\1 \2", t))
    return out


@lru_cache(maxsize=1)
def number_words() -> dict[str, str]:
    """`four` -> `4` (evals/data/number_words.yaml)."""
    raw = yaml.safe_load(NUMBER_WORDS.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in raw.items()}


def number_value(token: str) -> str:
    """A number's comparable form: `2,000` -> `2000`, `four` -> `4`."""
    low = token.lower()
    return number_words().get(low, low.replace(",", ""))


def token_set(texts: list[str]) -> set[str]:
    """Every word of the texts, folded, plus each word's parts split at hyphens and
    apostrophes, and every number's value (`2,000` and `two` give `2000` and `2`)."""
    found: set[str] = set()
    for text in texts:
        for w in words(text):
            f = fold(w)
            found.update((f, f.rstrip("."), number_value(f)))
            found.update(p for p in re.split(r"[-']", f) if p)
        found.update(number_value(fold(n)) for n in numbers(text))
    return found
