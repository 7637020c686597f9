"""Support and attribution of output sentences, judged against the verbatim quotes they cite.

- support: every name, number and date of a sentence occurs in a quote it cites (or in the
  names of the outlets it cites, which an attribution may use);
- misattribution: the sentence credits a claim to a party, the cited quotes credit it to
  someone, and the two share no name.
Both use `evals.text`, never the pipeline's grounding code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from evals import text as tx
from evals.defects import Judged, word_lists

_SPAN = 6  # words before a reporting verb that may name who speaks


@dataclass(frozen=True)
class Unsupported:
    sentence_index: int
    sentence: str
    missing: list[str]


def missing_tokens(sentence: Judged) -> list[str]:
    """Names, numbers and dates of the sentence found in none of its quotes or outlets."""
    found = tx.token_set([*sentence.quotes, *sentence.outlets])
    out: list[str] = []
    for token in tx.names(sentence.text) + tx.numbers(sentence.text) + tx.dates(sentence.text):
        f = tx.fold(token)
        if f in found or f.rstrip(".") in found or tx.number_value(f) in found:
            continue
        parts = [p for p in re.split(r"[-']", f) if len(p) > 1]
        if re.search(r"[-']", f) and parts and all(p in found for p in parts):
            continue  # Lavrov's, 75-year-old: each part is in the quotes
        if token not in out:
            out.append(token)
    return out


def unsupported(sentences: Sequence[Judged]) -> list[Unsupported]:
    """Sentences with at least one name, number or date their quotes do not carry."""
    out: list[Unsupported] = []
    for i, s in enumerate(sentences):
        if not s.quotes:
            out.append(Unsupported(i, s.text, ["(cites no quote)"]))
            continue
        missing = missing_tokens(s)
        if missing:
            out.append(Unsupported(i, s.text, missing))
    return out


def credited(text: str) -> list[set[str]]:
    """Parties a text credits with a statement: `according to X`, `X said`, `said X`.

    Each party is the set of folded names in the words that name it."""
    verbs = word_lists()["reporting_verbs"]
    clean = tx.strip_citations(tx.normalize(text))
    parties: list[set[str]] = []
    for m in re.finditer(r"according to ([^,.;:\"]+)", clean, re.IGNORECASE):
        parties.append(_name_set(m.group(1)))
    clauses = re.split(r"[,;:\"()]", clean)
    for n, clause in enumerate(clauses):
        toks = clause.split()
        for i, tok in enumerate(toks):
            if tok.lower().strip(".") not in verbs:
                continue
            before = _name_set(" ".join(toks[max(0, i - _SPAN) : i]))
            after = _name_set(" ".join(toks[i + 1 : i + 4])) if i <= 1 else set()
            # "CNN, citing a White House official, reported …": the speaker is the short
            # clause that opens the sentence, before the aside.
            opener = clauses[0].split() if n > 0 and i == 0 else []
            if before:
                parties.append(before)
            elif 0 < len(opener) <= _SPAN and _name_set(clauses[0]):
                parties.append(_name_set(clauses[0]))
            elif after:
                parties.append(after)
    return [p for p in parties if p]


def _name_set(phrase: str) -> set[str]:
    found: set[str] = set()
    for name in tx.names(phrase):
        found.update(p for p in re.split(r"[-'.]", tx.fold(name)) if len(p) > 1)
    return found


def _overlap(party: set[str], names: set[str]) -> bool:
    """Shared name, allowing one to extend the other (India / Indian, Kremlin / Kremlin's)."""
    return any(
        a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))
        for a in party
        for b in names
    )


@dataclass(frozen=True)
class Misattribution:
    sentence_index: int
    sentence: str
    credited: list[str]
    quote_credits: list[str]


_MIN_SPOKEN_WORDS = 5  # words of a speaker's quotation that identify it in a sentence


def speech_elsewhere_credited(quote: str, article_text: str, start: int) -> bool:
    """Whether an article sentence is someone's words whose credit stands in another sentence
    ('"…," he said. "America is an idea."'): it opens inside a quotation of its paragraph (or
    with a quotation mark) and names no one speaking outside the quotation."""
    paragraph = tx.normalize(article_text[article_text.rfind("\n", 0, start) + 1 : start])
    opened = paragraph.count('"') % 2 == 1
    text = tx.normalize(quote)
    # the opening mark may come before an editor's bracket ("[T]he") or an ellipsis
    if not opened and not re.match(r"[\"'](?:\[|\.\.\.\s?|\u2026\s?)?[A-Za-z]", text):
        return False
    own = tx.outside_quotes(('"' if opened else "") + text)
    verbs = word_lists()["reporting_verbs"]
    return not any(w.lower() in verbs for w in re.findall(r"[A-Za-z]+", own))


def _states_spoken(sentence: Judged) -> bool:
    """The sentence repeats a speaker's words from a cited quote whose speaker is elsewhere."""
    said = " ".join(w.lower() for w in tx.words(sentence.text))
    for quote in sentence.spoken:
        words = [w.lower() for w in tx.words(quote.strip("\"' "))]
        if len(words) >= _MIN_SPOKEN_WORDS and " ".join(words[:_MIN_SPOKEN_WORDS]) in said:
            return True
    return False


_OUTLET_CREDITS = {"reported", "reports", "according"}


def _only_an_outlet_credited(text: str) -> bool:
    """The sentence's own words credit a report ("X reported: …", "according to X"), no one
    speaking ("Roe said")."""
    own = {w.lower() for w in re.findall(r"[A-Za-z]+", tx.outside_quotes(text))}
    return not own & (word_lists()["reporting_verbs"] - _OUTLET_CREDITS)


def misattributions(sentences: Sequence[Judged]) -> list[Misattribution]:
    """Sentences that credit a party the cited quotes do not: only judged when both the
    sentence and its quotes name who speaks, and the credited party is not a cited outlet.
    A speaker's words credited to an outlet (the speaker named in another sentence of the
    article: "X reported: “America is an idea.”") count too."""
    out: list[Misattribution] = []
    for i, s in enumerate(sentences):
        if _states_spoken(s) and _only_an_outlet_credited(s.text):
            out.append(Misattribution(i, s.text, ["an outlet"], ["a speaker in another sentence"]))
            continue
        mine = credited(s.text)
        if not mine or not s.quotes:
            continue
        theirs = [p for q in s.quotes for p in credited(q)]
        if not theirs:
            continue
        outlets = _name_set(" ".join(s.outlets))
        quoted_names = set().union(*theirs)
        wrong = [p for p in mine if not _overlap(p, quoted_names) and not _overlap(p, outlets)]
        if wrong:
            out.append(
                Misattribution(
                    i,
                    s.text,
                    [" ".join(sorted(p)) for p in wrong],
                    [" ".join(sorted(p)) for p in theirs],
                )
            )
    return out
