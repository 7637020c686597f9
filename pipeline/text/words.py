"""Words, stop words and stems, shared by every stage that compares texts.

A term is a word's Snowball stem cut to six letters: the stem joins inflections
("agreed"/"agrees"), the cut joins a name with its adjective ("Russia"/"Russian"), which
Snowball leaves apart. Word lists are data files in `data/`, each with a note on its source.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

import snowballstemmer

DATA = Path(__file__).resolve().parent / "data"
TERM_LENGTH = 6
_TOKEN = re.compile(r"[\w'\u2019]+")
_STEMMER = snowballstemmer.stemmer("english")


@cache
def word_list(name: str) -> frozenset[str]:
    """The words of `data/<name>.txt`: whitespace-separated, `#` starts a comment."""
    words: set[str] = set()
    for line in (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        words.update(line.split("#", 1)[0].split())
    return frozenset(words)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, apostrophes straightened and possessives kept on the word."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return _TOKEN.findall(text)


@cache
def stem(word: str) -> str:
    """Comparison form of one lower-case word: possessive off, Snowball stem, six letters."""
    if word.endswith("'s"):
        word = word[:-2]
    return str(_STEMMER.stemWord(word))[:TERM_LENGTH]


def content_terms(text: str) -> Counter[str]:
    """Stems of the content words of `text`, with counts (for TF-IDF)."""
    stop = word_list("stopwords")
    return Counter(stem(w) for w in tokens(text) if w not in stop and len(w) > 1)


def term_set(text: str) -> set[str]:
    """The distinct content-word stems of `text` (for overlap and repeat tests)."""
    return set(content_terms(text))


def overlap(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    """Jaccard overlap of two term sets: how far two texts say the same thing in words."""
    return len(a & b) / max(1, len(a | b))
