"""One text toolkit for every stage: words, stop words, stems, numbers, dates and times.

Stages compare texts (salience, grouping, repeats, selection) and check them (grounding, the
sentence checks); doing both with the same tokenizer and word lists keeps "the same word" and
"the same number" meaning one thing across the pipeline. Sentence splitting lives in
`pipeline.sources`.
"""

from pipeline.text.numbers import number_words_to_digits, times_in
from pipeline.text.words import content_terms, overlap, stem, term_set, tokens, word_list

__all__ = [
    "content_terms",
    "number_words_to_digits",
    "overlap",
    "stem",
    "term_set",
    "times_in",
    "tokens",
    "word_list",
]
