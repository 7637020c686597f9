"""Model-free baselines every table shows: LexRank (sumy) and lead-3, under one word budget.

sumy's LexRank has no damping: where sentences form closed clusters their scores tie, and
ties keep document order (so LexRank then reads like a lead baseline).

Both read the articles' text with the evals' own pysbd sentence split, so sumy never needs
NLTK's punkt data: sumy's `Sentence` only asks its tokenizer for `to_words`, and the callable
`sentences_count` of sumy's summarizers receives the sentences ranked best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.utils import get_stop_words

from evals import text as tx

LANGUAGE = "english"


class PysbdTokenizer:
    """The two methods sumy calls on a tokenizer, backed by pysbd and the evals' word regex."""

    language = LANGUAGE

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(tx.sentences(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(w for w in tx.words(sentence) if any(c.isalnum() for c in w))


def article_sentences(texts: Sequence[str]) -> list[list[str]]:
    return [tx.sentences(t) for t in texts]


def lead_n(per_article: Sequence[Sequence[str]], n: int = 3) -> list[str]:
    """Round-robin over each article's first `n` sentences, so every outlet is read first."""
    out: list[str] = []
    for i in range(n):
        out += [s[i] for s in per_article if i < len(s)]
    return out


def lexrank(per_article: Sequence[Sequence[str]], word_budget: int) -> list[str]:
    """LexRank over all articles' sentences as one document; the best-ranked sentences, in rank
    order, until the budget is reached (the sentence that crosses it is kept, so the budget is
    filled; scorers cut at the budget for every system alike)."""
    tokenizer = PysbdTokenizer()
    paragraphs = [
        Paragraph([Sentence(s, tokenizer) for s in sents]) for sents in per_article if sents
    ]
    if not paragraphs:
        return []
    document = ObjectDocumentModel(paragraphs)
    summarizer = LexRankSummarizer(Stemmer(LANGUAGE))
    summarizer.stop_words = get_stop_words(LANGUAGE)
    ranked: list[str] = []

    def take(infos: list[Any]) -> list[Any]:
        """sumy passes SentenceInfo(sentence, order, rating), best rated first."""
        used = 0
        kept: list[Any] = []
        seen: set[str] = set()
        for info in infos:
            text = str(info.sentence)
            if text in seen:  # the same sentence in two articles counts once
                continue
            seen.add(text)
            kept.append(info)
            ranked.append(text)
            used += tx.word_count(text)
            if used >= word_budget:
                break
        return kept

    summarizer(document, take)
    return ranked
