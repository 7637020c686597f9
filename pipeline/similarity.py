"""TF-IDF cosine similarity over bags of words: what salience ranking and claim grouping share.

Rare words (names, topics) weigh most, so two sentences about the same event score high even
when worded differently; words every text shares count for little.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

K = TypeVar("K", bound=Hashable)

# A sentence encoder: one unit vector per text (rows), so cosine similarity is a dot product.
Encode = Callable[[Sequence[str]], NDArray[np.float64]]


class TfidfVectors(Generic[K]):
    """Unit-length TF-IDF vectors for keyed term counts; `sim` is their cosine."""

    def __init__(self, terms: Mapping[K, Counter[str]]) -> None:
        df: Counter[str] = Counter()
        for counts in terms.values():
            df.update(counts.keys())
        n = len(terms)
        self.vectors: dict[K, dict[str, float]] = {}
        for key, counts in terms.items():
            vec = {t: (1 + math.log(k)) * math.log(1 + n / df[t]) for t, k in counts.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self.vectors[key] = {t: v / norm for t, v in vec.items()}

    def sim(self, a: K, b: K) -> float:
        va, vb = self.vectors[a], self.vectors[b]
        if len(va) > len(vb):
            va, vb = vb, va
        return sum(v * vb.get(t, 0.0) for t, v in va.items())
