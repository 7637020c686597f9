"""Sentence defects a reader notices: each detector looks at one sentence (and what it cites).

Detectors are independent of the pipeline's own sentence checks (its `grounding`/`stages`
code): they use `evals.text` and the word lists in `evals/data/defect_words.yaml`. A sentence
may have several defects; the per-story rate counts sentences with at least one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import takewhile
from pathlib import Path

import yaml

from evals import text as tx

WORDS_FILE = Path(__file__).resolve().parent / "data" / "defect_words.yaml"
OVERLONG_WORDS = 45  # plain-language guides treat 40+ word sentences as hard to read
NEAR_DUPLICATE = 0.6  # Jaccard overlap of content-word stems with an earlier sentence
MIN_CONTENT_WORDS = 2  # what is left after the attribution must still say something

DEFECT_KINDS = (
    "fragment",
    "dangling_pronoun",
    "first_person",
    "unnamed_attribution",
    "glued_headline",
    "mismatch",
    "near_duplicate",
    "overlong",
)


@lru_cache(maxsize=1)
def word_lists() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    return {k: frozenset(str(w) for w in v) for k, v in raw.items()}


@dataclass(frozen=True)
class Judged:
    """One output sentence and what it rests on: the verbatim quotes it cites and the outlet
    names of the articles it cites. Extractive baselines cite themselves."""

    text: str
    quotes: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    spoken: tuple[str, ...] = ()  # quotes that are a speaker's words, the speaker elsewhere


@dataclass(frozen=True)
class Defect:
    kind: str
    sentence_index: int
    sentence: str
    detail: str = ""


@dataclass
class DefectReport:
    sentences: int
    defects: list[Defect] = field(default_factory=list)

    @property
    def flagged(self) -> int:
        return len({d.sentence_index for d in self.defects})

    @property
    def rate(self) -> float:
        return self.flagged / self.sentences if self.sentences else 0.0

    def by_kind(self) -> dict[str, int]:
        return {k: sum(d.kind == k for d in self.defects) for k in DEFECT_KINDS}


_ACCORDING = re.compile(r"^according to ([^,]+),\s*", re.IGNORECASE)
_ACCORDING_ANY = re.compile(r"according to ([^,.;:]+)", re.IGNORECASE)


def body(sentence: str) -> str:
    """The sentence without citation markers and without a leading `According to X,`."""
    return _ACCORDING.sub("", tx.strip_citations(tx.normalize(sentence)), count=1).strip()


def fragment(sentence: str) -> str:
    """Cut endings (last word a function word, no closing punctuation) and near-empty bodies
    ("According to article [1] and 5 other sources, U.S. [1][2]")."""
    clean = tx.strip_citations(tx.normalize(sentence))
    rest = body(sentence)
    if len(tx.content_words(rest)) < MIN_CONTENT_WORDS:
        return f"only {rest!r} after the attribution"
    words = [w.lower() for w in tx.words(clean)]
    last = words[-1] if words else ""
    if last in word_lists()["cut_endings"]:
        return f"ends on {last!r}"
    lists = word_lists()
    if last in lists["be_endings"] and not set(words[-6:-1]) & set(lists["be_may_end_after"]):
        return f"ends on {last!r}"
    if not re.search(r"[.!?]['\")\]]*$", clean):
        return "no closing punctuation"
    if re.search(r"[,;:]\s*[,;:.]", tx.outside_quotes(clean)):
        return "doubled punctuation"
    if re.search(r"\s-+\s*[.!?]", clean):  # "... endorsed by Ms. Roe -." (quoted or not)
        return "a dash aside that never closes"
    # "Justice Roe was unconvinced.": a name and a one-word past state, by what not said
    bare = [w for w in tx.words(re.sub(r"\([^()]*\)|,[^,]*,", " ", rest)) if w.strip(".")]
    state = 3 <= len(bare) <= 7 and bare[-2].lower() in {"was", "were"} and bare[-1].islower()
    if state and all(w[:1].isupper() for w in bare[:-2]):
        return "only a name and a one-word state"
    # "Mr. Roe, now a senator, said." / "X reported, citing 22 aides.": who spoke, not what
    if not re.search(r"[\"\u201c\u201d]", rest):
        spoke = tx.words(re.sub(r"\([^()]*\)|,[^,]*,|,\s+[a-z]+ing\b[^,]*$", " ", rest))
        spoke = [w for w in spoke if w.strip(".")]
        verbs = word_lists()["reporting_verbs"]
        named = len(spoke) >= 2 and all(w[:1].isupper() for w in spoke[:-1])
        if named and spoke[-1].lower().strip(".") in verbs:
            return "only who spoke, not what was said"
    if clean.count("(") != clean.count(")"):
        return "a parenthesis that never closes"
    # "… led by Jamie Roe (D-Md.)" or, quoted, "(D-Md.)”": the stop is the abbreviation's
    if re.search(r"\([\w.-]{1,12}\.\)['\"\u201d\u2019]?$", clean):
        return "ends on an abbreviation in parentheses"
    return ""


def speaker_only(sentence: str, quotes: Sequence[str]) -> str:
    """The speaker credit of a quotation without the quotation ('"…," said X, a lawyer.' cut to
    "X, a lawyer, according to Y."): the sentence is a noun phrase, it says nothing."""
    rest = re.sub(r",\s*according to [^,]+$", "", body(sentence).rstrip(" ."), flags=re.I)
    if len(rest.split()) < 2:
        return ""
    for quote in quotes:
        quote = tx.normalize(quote)
        start = quote.find(rest)
        before = quote[:start].rstrip()
        if start > 0 and re.search(r"[,!?][\"\u201d']\s*(?:[a-z]+)?$", before):
            return "a quotation's speaker without the quotation"
    return ""


def dangling_pronoun(sentence: str) -> str:
    """A third-person pronoun before any name in the sentence ("he added that ..."), or an
    opening that points back ("This comes as ...", "The statement follows ...")."""
    rest = body(sentence)
    raw = tx.words(rest)[:4]
    opening = [w.lower() for w in raw[:4]] + ["", "", ""]
    lists = word_lists()
    if opening[0] == "others":
        return "opens with 'others', set against someone named before"
    if opening[0] in lists["back_prepositions"] and (
        opening[1] == "then" or (opening[1] in {"that", "those", "these"} and opening[2])
    ):
        return f"opens with {' '.join(opening[:2])!r}, a time or case named before"
    if opening[0] == "such" and opening[1] in {"a", "an"}:
        opening = [opening[0], *opening[2:]]
    if opening[0] == "the" and opening[1] in lists["shell_modifiers"]:
        opening = [opening[0], *opening[2:]]
    if (
        opening[0] in lists["demonstratives"]
        and opening[1] not in lists["time_words"]
        and (opening[0] not in {"these", "those"} or _points_back(opening[1], opening[2]))
    ):
        return f"opens with {opening[0]!r}, pointing to an earlier sentence"
    if (
        opening[0] in {"the", "such"}
        and opening[1] in lists["shell_nouns"]
        and opening[2] not in lists["shell_content"]
    ):
        return f"opens with {' '.join(opening[:2])!r}, naming nothing"
    if opening[0] == "the" and opening[1] in lists["epithets"] and opening[2] in lists["epithets"]:
        raw, opening = [raw[0], *raw[2:]], [opening[0], *opening[2:]]  # "the centrist Democrat"
    named_after = len(raw) > 2 and (raw[2][:1].isupper() or opening[2] == "of")
    if opening[0] == "the" and opening[1] in lists["epithets"] and not named_after:
        return f"opens with {' '.join(opening[:2])!r}, naming no one"
    bare = list(takewhile(lambda w: w.lower() in lists["epithets"], raw[:2]))
    # "Moderate Democrats …" is everyone; "Republican lawmakers …" has its noun after the role
    if bare and not bare[-1].endswith("s") and bare[-1].lower() not in lists["role_adjectives"]:
        after = raw[len(bare)] if len(raw) > len(bare) else ""
        if not after[:1].isupper():  # "Centrist Democrat announces run." (a headline's role)
            return f"opens with {raw[0]!r} without an article or a name"
    if _referring_it(tx.words(rest)):
        return "opens with 'it', pointing to an earlier sentence"
    # mid-sentence only (the opening is judged above), and never inside a quotation
    own = tx.outside_quotes(rest)
    for loose in re.finditer(r"\b(these|those) ([a-z]+)( [a-z]+)?", own):
        if loose.start() and _points_back(loose.group(2), (loose.group(3) or "").strip()):
            return f"{loose.group(1)} {loose.group(2)!r} points to things named before"
    # "There is zero evidence for this.", "Trump ended up winning that war."
    said = re.sub(r",\s+according to [^,]+$", ".", own, flags=re.IGNORECASE)
    end = re.search(r"(?<=\w )(this|that)(?: ([a-z]+))?\s*[.!?]\W*$", said)
    pointer = end and (not end.group(2) or end.group(2) not in lists["time_words"])
    if end and pointer and (end.group(1) == "that" or not end.group(2)):
        return f"{end.group(0).strip(' .!?')!r} points to something named before"
    if _NOT_THE_ONLY.search(own):
        return "'not the only' sets it against others named before"
    linking = _unanswered_link(rest)
    if linking:
        return f"{linking!r} sets it against something told before"
    if _SET_NAMED_BEFORE.match(rest):
        return "opens with one of a set named before"
    loose_it = _it_without_referent(own)
    if loose_it:
        return loose_it
    pronouns = lists["pronouns"]
    for i, w in enumerate(tx.words(own)):
        if w.lower() in pronouns:
            return f"{w!r} with no one named before it"
        if i == 0 and w.lower() in lists["openers"]:
            continue
        if tx.names(w) and w.lower() not in pronouns:
            return ""
    return ""


_NOT_THE_ONLY = re.compile(r"(?:\bnot|n['\u2019]t|\bnever) the only\b", re.IGNORECASE)
# "One of the most significant warnings was ...": which warnings? ("One of the largest banks
# in the state" says.)
_SET_NAMED_BEFORE = re.compile(
    r"one of the (?:most \w+ |least \w+ |\w+est )?\w+s (?!(?:in|of|on|at|for|from|to|with|"
    r"about|who|whom|which|that|under|behind|across)\b)\w",
    re.IGNORECASE,
)
_DETERMINER_BEFORE = re.compile(r"\b(?:the|a|an|this|that|his|her|their|its|our|each) [a-z]")


_SET_OFF = re.compile(r",\s+([a-z]+)\s*(?:,|[.!?][\"'\u201d\u2019]*$)")
_ANSWERED = re.compile(r"[;:]|\b(?:but|while|whereas|although)\b", re.IGNORECASE)


def _unanswered_link(text: str) -> str:
    """A linking adverb between commas ("X, however, ...") with no clause before it in the
    sentence to link to; a quoted speaker's "however" answers words the reader has not seen."""
    for match in _SET_OFF.finditer(text):
        if match.group(1) in word_lists()["linking_adverbs"]:
            return "" if _ANSWERED.search(text[: match.start()]) else match.group(1)
    # "MoveOn.org similarly panned the deal": like someone in a sentence not shown ("is
    # similarly worded" is a manner; "Roe and Doe similarly argued" holds both)
    like = re.search(r"(?<=[\w,] )(similarly|likewise) [a-z]+(?:ed|s)\b", text)
    if like:
        before = text[: like.start()].split()
        joined = re.search(r"[;:]|\b(?:and|but|while|whereas|as)\b", " ".join(before))
        if before and before[-1].lower() not in word_lists()["be_forms"] | {"are", "were"}:
            return "" if joined else like.group(1)
    return ""


def _it_without_referent(own: str) -> str:
    """ "Billions of dollars are at stake if it is allowed ...": a mid-sentence "it" with no
    singular name or determined noun before it. An opening capitalised plural ("Billions",
    "Voters") is a common noun, never an "it"; "it is unclear whether" is the empty "it"."""
    found = tx.words(own)
    for i, w in enumerate(found):
        if w.lower() not in {"it", "its"} or i == 0:
            continue
        before = found[:i]
        if before[0].endswith("s") and not before[0].endswith("ss"):
            before = before[1:]
        if tx.names(" ".join(before)) or _DETERMINER_BEFORE.search(" ".join(found[:i]).lower()):
            return ""
        after = [x.lower() for x in found[i + 1 : i + 7] if x.lower() != "not"]
        empty = w.lower() == "it" and after[:1] and after[0] in word_lists()["be_forms"] | {"are"}
        participle_to = len(after) > 2 and after[1].endswith("ed") and after[2] == "to"
        if empty and not participle_to and set(after[1:]) & word_lists()["complementizers"]:
            continue
        return f"{w!r} stands for nothing named before it"
    return ""


def _points_back(noun: str, then: str) -> bool:
    """ "those warnings" points back; "those who", "those in the room", "these days" and "those
    killed in ..." carry what they mean."""
    lists = word_lists()
    content = lists["demonstrative_content"]
    if noun in content or noun in lists["time_words"]:
        return False
    return not (noun.endswith(("ed", "ing")) and (not then or then in content))


def _referring_it(words: Sequence[str]) -> bool:
    """ "It said ...", "It's the same reason ...": an opening "it" that is not the empty
    subject of "it is/was ... that/whether/to ..."."""
    if not words or words[0].lower() not in {"it", "it's", "its"}:
        return False
    lists = word_lists()
    head = [w.lower() for w in words[:8]]
    be = head[0] == "it's" or (len(head) > 1 and head[1] in lists["be_forms"])
    noun_at = 1 if head[0] == "it's" else 2
    if be and len(head) > noun_at and head[noun_at] in {"a", "an", "the"}:
        return True  # "It's a result that will force ...": "it" is the result
    return not (be and any(w in lists["complementizers"] for w in head[1:]))


def first_person(sentence: str) -> str:
    """I/we/my/our outside quotation marks: someone's words presented as the briefing's."""
    forms = word_lists()["first_person"]
    # Tokens keep dots and hyphens, so "F.B.I." and "(I-Vt.)" are not the pronoun I.
    for w in re.findall(r"[A-Za-z]+(?:['.\-][A-Za-z]+)*", tx.outside_quotes(sentence)):
        if w in forms:
            return f"{w!r} outside quotes"
    return ""


def unnamed_attribution(sentence: str) -> str:
    """`according to article and article`, `according to article [2]`, `multiple sources`:
    an attribution that names no person, body or outlet."""
    unnamed = word_lists()["unnamed_sources"]
    for m in _ACCORDING_ANY.finditer(tx.normalize(sentence)):
        who = re.sub(r"\[\d+\]|\d+|\b(and|the|other|more|an?)\b", " ", m.group(1).lower())
        who_words = who.split()
        if not who_words or all(w in unnamed for w in who_words) or " ".join(who_words) in unnamed:
            return f"according to {m.group(1).strip()!r}"
    if not re.search(
        r"[a-z0-9]", tx.fold(tx.outside_quotes(tx.strip_citations(tx.normalize(sentence))))
    ):
        return "a quotation with no speaker named"
    return _speech_without_speaker(sentence)


_CITED_TITLE = re.compile(r"(?:\bThe article |\baccording to )\"[^\"]*\"", re.IGNORECASE)


def _speech_without_speaker(sentence: str) -> str:
    """A quotation in which someone says "I" or addresses "you", with no reporting verb to say
    who: an outlet credited with "according to X" did not speak it."""
    # An article cited by its headline ('The article "I decided to …" reported', 'according
    # to "What we know …"') is a name, not someone's speech.
    clean = _CITED_TITLE.sub(" ", tx.normalize(sentence))
    # Straight marks once normalised; less anyone quoted inside the quotation.
    inside = " ".join(tx.outside_quotes(q[1:-1]) for q in re.findall(r"\"[^\"]*\"", clean))
    lists = word_lists()
    persons = {w.lower() for w in lists["first_person"]} - {"us"} | lists["second_person"]
    if not any(w.lower() in persons for w in tx.words(inside)):
        return ""
    outside = {w.lower() for w in tx.words(tx.outside_quotes(clean))}
    if outside & (lists["reporting_verbs"] - {"reports", "reported", "reporting"}):
        return ""
    return "a quotation in the first or second person with no speaker named"


def glued_headline(sentence: str, titles: Sequence[str] = ()) -> str:
    """A headline run into a sentence: an article title (not in quotes) followed by more text,
    or a Title Case run with a colon ("Air India Plane Crash: Recovery and DNA Testing Efforts
    BJP leader ...")."""
    clean = tx.strip_citations(tx.normalize(sentence))
    folded = tx.fold(tx.outside_quotes(clean))  # a title in quotes is a citation, not glued
    for title in titles:
        t = tx.fold(title).rstrip(".!? ")
        cited = folded.replace(f"according to {t}", "")  # so is "according to <title>"
        if len(t.split()) >= 4 and t in cited and len(folded) > len(t) + 10:
            return f"title {title!r} inside the sentence"
    toks = clean.split()
    for i, tok in enumerate(toks):
        if not tok.endswith(":"):
            continue
        before = toks[max(0, i - 3) : i + 1]
        after = toks[i + 1 : i + 6]
        if after and after[0][:1] in ('"', "'"):
            continue  # 'X reported: "Senate Majority Leader …"' introduces a quotation
        if (
            len(before) >= 3
            and all(w[:1].isupper() for w in before)
            and len(after) >= 4
            and sum(w[:1].isupper() for w in after) >= 4
        ):
            return f"headline-like run {' '.join(before + after)!r}"
    return ""


def _same_digits(token: str, found: set[str]) -> bool:
    """A quote number with the same digits in another form (`15:30` / `15.30`, `3.30` / `330`)."""
    digits = re.sub(r"\D", "", token)
    return bool(digits) and any(
        re.sub(r"\D", "", f) == digits and f != token for f in found if any(c.isdigit() for c in f)
    )


def _cut_initialism(token: str, found: set[str]) -> bool:
    """A short token that is the start of a dotted initialism in the quotes (`U` / `U.S.`)."""
    t = token.rstrip(".").replace(".", "")
    return 0 < len(t) <= 3 and any(
        "." in f.rstrip(".") and f.replace(".", "").startswith(t) and f.replace(".", "") != t
        for f in found
    )


def mismatch(sentence: str, quotes: Sequence[str], outlets: Sequence[str] = ()) -> str:
    """A time, number or name written differently from every cited quote ("15.30 pm" when the
    quote says "15.30 hours (3.30 pm)"; "U." when it says "U.S."). A value absent from the
    quotes altogether is a support failure (evals/support.py), not this defect."""
    if not quotes:
        return ""
    quote_times = {t for q in quotes for t in tx.times(q)}
    for t in tx.times(sentence):
        if t not in quote_times:
            return f"time {t!r}; quotes give {sorted(quote_times) or 'none'}"
    found = tx.token_set([*quotes, *outlets])
    for token in tx.numbers(sentence):
        f = tx.number_value(tx.fold(token))
        if f not in found and _same_digits(f, found):
            return f"{token!r} differs from the quotes"
    for token in tx.names(sentence):
        f = tx.fold(token)
        if f not in found and f.rstrip(".") not in found and _cut_initialism(f, found):
            return f"{token!r} differs from the quotes"
    script = {c for c in sentence if c.isalpha() and ord(c) > 0x24F}  # beyond Latin letters
    if script - {c for q in quotes for c in q}:
        return "words in a script the quotes do not use"
    return ""


def _stems(sentence: str) -> set[str]:
    """Content words cut to 4 letters: favor/favour, dismiss/dismissed, Sergey/Sergei agree."""
    return {w[:4] for w in tx.content_words(body(sentence))}


def near_duplicate(sentence: str, earlier: Sequence[str]) -> str:
    """Most of the sentence's content words already said by an earlier sentence."""
    mine = _stems(sentence)
    if len(mine) < 4:
        return ""
    for j, other in enumerate(earlier):
        theirs = _stems(other)
        if theirs and len(mine & theirs) / len(mine | theirs) >= NEAR_DUPLICATE:
            return f"repeats sentence {j}"
    return ""


def overlong(sentence: str) -> str:
    n = tx.word_count(tx.strip_citations(sentence))
    return f"{n} words" if n > OVERLONG_WORDS else ""


_QUOTED_COPY = re.compile(r' reported(?:, as did [^:"]+)?: "([^"]+)"$')


def quoted_copy(sentence: str) -> str:
    """The outlet's sentence inside 'X reported: "…"': the reader still reads it as a
    sentence of the briefing, so it must stand alone too ("" when there is none)."""
    match = _QUOTED_COPY.search(tx.normalize(sentence))
    return match.group(1) if match else ""


def judge(sentences: Sequence[Judged], titles: Sequence[str] = ()) -> DefectReport:
    """Every defect of every sentence, in order."""
    report = DefectReport(len(sentences))
    for i, s in enumerate(sentences):
        copied = quoted_copy(s.text)
        checks = {
            "fragment": fragment(s.text)
            or speaker_only(s.text, s.quotes)
            or (fragment(copied) if copied else ""),
            "dangling_pronoun": dangling_pronoun(s.text)
            or (dangling_pronoun(copied) if copied else ""),
            "first_person": first_person(s.text),
            "unnamed_attribution": unnamed_attribution(s.text),
            "glued_headline": glued_headline(s.text, titles),
            "mismatch": mismatch(s.text, s.quotes, s.outlets),
            "near_duplicate": near_duplicate(s.text, [x.text for x in sentences[:i]]),
            "overlong": overlong(s.text),
        }
        report.defects += [Defect(k, i, s.text, d) for k, d in checks.items() if d]
    return report
