"""Which sentences of each article matter most, by cheap text statistics.

A small model asked for "the most important claims" lists the first sentences in order. Code
does better and costs nothing: a sentence that other articles also make (corroboration), that
comes early (news leads), or that carries names and numbers, is worth showing to the model.
Showing fewer sentences also cuts prompt tokens, the largest cost on a CPU.
"""

from __future__ import annotations

from pipeline.grounding import names_in, numbers_in
from pipeline.schema import Article
from pipeline.similarity import TfidfVectors
from pipeline.text import content_terms

MIN_WORDS = 6


def rank_sentences(articles: list[Article], keep: int) -> dict[int, list[int]]:
    """For each article id, the indices of its `keep` most salient sentences, in text order."""
    return {aid: sorted(order) for aid, order in salience_order(articles, keep).items()}


def salience_order(articles: list[Article], keep: int) -> dict[int, list[int]]:
    """For each article id, the indices of its `keep` most salient sentences, best first."""
    items = [(a.id, i, a.sentence_text(i)) for a in articles for i in range(len(a.sentences))]
    if not items:
        return {a.id: [] for a in articles}
    vectors = TfidfVectors({pos: content_terms(text) for pos, (_, _, text) in enumerate(items)})
    sim = vectors.sim

    by_article: dict[int, list[int]] = {}
    for pos, (aid, _, _) in enumerate(items):
        by_article.setdefault(aid, []).append(pos)
    result: dict[int, list[int]] = {}
    for aid, positions in by_article.items():
        others = [ps for other, ps in by_article.items() if other != aid]
        scored: list[tuple[float, int]] = []
        for rank, pos in enumerate(positions):
            text = items[pos][2]
            if len(text.split()) < MIN_WORDS:
                continue
            corroboration = sum(max(sim(pos, q) for q in ps) for ps in others)
            lead = 0.6 / (1 + rank / 3)
            concrete = 0.1 * min(3, len(numbers_in(text))) + 0.05 * min(4, len(names_in(text)))
            scored.append((corroboration + lead + concrete, items[pos][1]))
        best = sorted(scored, key=lambda item: (-item[0], item[1]))[:keep]
        result[aid] = [index for _, index in best]
    for article in articles:
        result.setdefault(article.id, [])
    return result
