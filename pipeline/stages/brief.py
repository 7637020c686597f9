"""Stage 3: the briefing. Code chooses what is said (`stages.select`); the model only says it.

Each selected group becomes one sentence. The model's sentence for a group is used when it
passes every check of `pipeline.checks` against the group's verbatim quotes; otherwise the
group is stated by its best verbatim claim sentence, attributed by speaker or outlet name, if
that passes. A bad generation costs fluency, never a fact or the truth. Article citations come
from the groups, never from the model; conflicts between sources are stated by code with every
value and its source. One model call per briefing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field, create_model

from pipeline.checks import (
    ARTICLES,
    DETERMINERS,
    TRAILING_ATTRIBUTION,
    Problem,
    credit_verbs,
    credited,
    loaded_words,
    own_voice,
    points_back,
    sentence_problems,
    speech_without_speaker,
    unquoted,
)
from pipeline.compress import ELLIPSIS, compressed
from pipeline.grounding import (
    attributions,
    is_boilerplate,
    names_in,
    normalize,
    number_set,
    numbers_in,
    unsupported,
)
from pipeline.schema import (
    Article,
    Briefing,
    BriefingSentence,
    BriefOutput,
    Claim,
    ClaimGroup,
    ClaimKind,
    WrittenSentence,
)
from pipeline.similarity import Encode
from pipeline.stages.common import StageContext, defang
from pipeline.stages.select import (
    SECTION_ORDER,
    WORD_BUDGET,
    Pick,
    claim_position,
    core_names,
    first_picks,
    needs_attribution,
    repeats,
    select_groups,
    states_values_only,
)
from pipeline.text import overlap, term_set, word_list

MAX_NAMED = 3
# A count of cited outlets is spelled out: a digit there would read as one of the story's figures.
_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NEGATIONS = {"not", "never", "no", "nor", "neither", "cannot"}
_NEGATION_REACH = 6  # "said he was not", "declared in December that he would not"
MAX_NAMED_WORDS = 8  # words of source names in one attribution
# Content words a model draft may hold that no quote of its group holds: one, for a neutral
# word in place of a loaded one. "Schumer's support has turned, and Democrats are now in a
# tough position" (BASIL dev 1ed4f378; the source says only "Schumer's support had turned")
# adds a claim of the model's own.
MAX_NEW_TERMS = 1
MAX_VERBATIM_TRIES = 8  # best claims tried as the fallback: a 200-outlet group is not tried whole
MIN_NAME_STEM = 4  # "Iran" is said by "Iranian"; "US" is not said by "USA Today"
MAX_TITLE_WORDS = 5  # an article cited by its headline: enough words to know it by
MIN_TITLE_WORDS = 3
MAX_SPEAKER_WORDS = 5
MAX_QUOTES_SHOWN = 1  # two per group doubled the call: 111 s on the seed, 643 tokens written
RESERVE_FACTOR = 3
MAX_RESERVE = 30
_CITATION = re.compile(r"\s*(\[(\d+|g\d+)\])+")
_SPACES = re.compile(r"\s+")
_CONNECTIVE = re.compile(
    r"^(?:(?:but|and|however|meanwhile|moreover|furthermore|additionally|nonetheless|"
    r"nevertheless|similarly|likewise)\b,?|(?:still|yet|so|also|now|instead|thus|separately|"
    r"in addition|at the same time|soon after),|now(?=\s+(?-i:[A-Z])))\s+",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^((?:[\w'\u2019]+ ){0,3}[\w'\u2019]+):\s+(?=[A-Z\u201c\"])")
MIN_REST = 6
_DETERMINERS = DETERMINERS | {"these", "those", "every"}
_ENDED = re.compile(r"[.!?][\"'\u201d\u2019\u00bb)]*$|[\"\u201d\u00bb]$")
_QUOTED_ANY = re.compile(r"[\"\u201c\u201d\u00ab\u00bb]|(?<!\w)['\u2018]\w")
_QUOTE_END = re.compile(r"[\"'\u201d\u2019\u00bb][.!?]?$")  # ends in a quotation
_SPACED_INITIALS = re.compile(r"\b([A-Z])\. (?=[A-Z]\.)")
_ABBREVIATION_END = re.compile(r"\b(?:[A-Za-z]\.){2,}$")
# A leading dateline ("WASHINGTON --", "KYIV (Reuters) -") belongs to the page, not the claim.
_DATELINE = re.compile(
    r"^[A-Z][A-Z .,'()]{2,40}(?:\s*(?:--|\u2014|\u2013|\u2015|-)\s+|[\u2014\u2015](?=[A-Z][a-z]))"
    r"|^\([A-Z][A-Za-z.&' ]{0,24}\)(?=[A-Z])"  # "(CNN)The US ..."
)


@dataclass
class BriefResult:
    briefing: Briefing
    written: int = 0
    regenerated: int = 0
    dropped: int = 0
    attributed: int = 0
    verbatim: int = 0


def source_name(article: Article) -> str:
    """How a reader knows the article: its outlet, else its title (its first words when long:
    a twelve-word headline in every attribution buries the claim), else its file name; never
    a bare number, which tells a reader nothing."""
    if article.outlet:
        return article.outlet
    if article.title:
        words = article.title.strip().rstrip(".").split()
        if len(words) > MAX_TITLE_WORDS:  # the sources list gives it whole
            words = words[:MAX_TITLE_WORDS]
            # "… Democrats' panic that…" would read as a cut sentence: end on a content word
            while len(words) > MIN_TITLE_WORDS and _bare(words[-1]) in word_list(
                "dangling_endings"
            ):
                words.pop()
            words[-1] = words[-1].rstrip(",;:-") + "\u2026"
        return "\u201c" + " ".join(words) + "\u201d"
    return Path(article.path).stem if article.path else "an unnamed source"


def _bare(word: str) -> str:
    return word.strip(".,;:!?'\"\u2018\u2019\u201c\u201d").lower()


def names(article_ids: list[int], articles: dict[int, Article]) -> str:
    """ "A", "A and B", "A, B and C", "A, B and 2 other outlets": outlets named before
    headlines, and no more names than fit in `MAX_NAMED_WORDS` (a list of headlines would
    outweigh the claim)."""
    ids = sorted(dict.fromkeys(article_ids), key=lambda a: not articles[a].outlet)
    listed = list(dict.fromkeys(source_name(articles[a]) for a in ids))
    shown = 1
    while shown < min(len(listed), MAX_NAMED) and (
        sum(len(n.split()) for n in listed[: shown + 1]) <= MAX_NAMED_WORDS
    ):
        shown += 1
    if shown < len(listed):
        others = len(listed) - shown
        count = _COUNT_WORDS[others] if others < len(_COUNT_WORDS) else str(others)
        return f"{', '.join(listed[:shown])} and {count} other outlet{'s' if others > 1 else ''}"
    if len(listed) > 1:
        return f"{', '.join(listed[:-1])} and {listed[-1]}"
    return listed[0] if listed else "the sources"


def clean(text: str) -> str:
    """One line, initialisms closed up ("U. S." -> "U.S."), without what only made sense in
    its article: citation marks ("[2]"), a
    dateline ("WASHINGTON --"), enclosing parentheses, a connective to the sentence before
    ("But", "However,"), a page's label ("Why it matters:")."""
    text = _SPACES.sub(" ", _CITATION.sub("", text)).strip()
    text = _SPACED_INITIALS.sub(r"\1.", _DATELINE.sub("", text))
    if text.startswith("(") and text.rstrip(".").endswith(")") and text.count("(") == 1:
        text = text.rstrip(".")[1:-1].strip()
    label = _LABEL.match(text)
    if label and not names_in(label.group(1)) and len(text[label.end() :].split()) >= MIN_REST:
        text = text[label.end() :]
    for _ in range(2):  # "But now Moore has decided ..."
        match = _CONNECTIVE.match(text)
        if match and len(text) > match.end():
            rest = text[match.end() :]
            text = rest[:1].upper() + rest[1:]
    return text


def _speakers(pick: Pick) -> list[str]:
    """People or bodies the group's claims are credited to: a short name that the claim's own
    quote credits ("Roe said", "according to the ministry"). A small model's speaker field
    often holds a phrase or the wrong person: a letter's addressee, a programme, a name the
    quote only mentions."""
    found = []
    for claim in pick.claims:
        who = (claim.attributed_to or "").strip()
        if not who or len(who.split()) > MAX_SPEAKER_WORDS or not names_in(who):
            continue
        speaking = names_in(credited(claim.quote))
        if not names_in(who) & speaking:
            continue
        if who in claim.quote:
            found.append(who)
        else:  # "Roe" for "Jane Roe": only the name as the cited quote writes it
            words = [w for w in who.split() if names_in(w) & speaking]
            found.append(" ".join(words))
    return list(dict.fromkeys(found))


def attribute(text: str, who: str) -> str:
    """Name the source: "…, according to X." at the end, where it changes no capital letter;
    before a sentence that ends in a quotation, "According to X, “…”" (its first word
    lower-cased unless it is a name: "the", "asked", never "Roe")."""
    if _ABBREVIATION_END.search(text):  # "at 5 p.m." keeps its full stop
        return f"{text}, according to {who}."
    if text.endswith((".", "!", "?")) and not _QUOTE_END.search(text):
        return f"{text[:-1]}, according to {who}{text[-1]}"
    first, _, rest = text.partition(" ")
    word = first.replace("'", "").replace("\u2019", "")
    if (
        word.isalpha()
        and (len(word) == 1 or word[1:].islower())
        and first != "I"
        and not names_in(first)
    ):
        first = first.lower()
    return f"According to {who}, {first} {rest}".rstrip()


def _backing(text: str, pick: Pick, articles: dict[int, Article]) -> list[int]:
    """The articles of the group that carry every number of the sentence (a detail may come
    from one outlet only): in the group's claims, or in one sentence of the article (an outlet
    that leads with the development often gives its weekday a sentence later). Never from
    elsewhere in the article when outlets disagree on a value: that is the conflict. All of
    the group's articles when none carries them all; an outlet reported as saying the
    opposite never."""
    everyone = sorted(pick.group.article_ids)
    wanted = numbers_in(text)
    negated = _negated(text)
    backing = []
    for aid in everyone:
        own = [c for c in pick.claims if c.article_id == aid]
        if own and all(_negated(c.quote) != negated for c in own):
            continue  # "was not planning to waive" does not back "is considering lifting"
        missing = wanted - {n for c in own for n in number_set(c.quote)}
        if missing and (pick.group.conflicts or not _in_one_sentence(missing, articles.get(aid))):
            continue
        backing.append(aid)
    return backing or everyone


def _in_one_sentence(numbers: set[str], article: Article | None) -> bool:
    """Whether one sentence of the article gives all these numbers."""
    if article is None:
        return False
    return any(
        numbers <= found for found in _sentence_numbers(article.text, tuple(article.sentences))
    )


def _negated(text: str) -> bool:
    """Whether someone is reported as saying "not": a negation within a few words after a
    speech verb, outside quotations ("Roe said he was not planning to …"). Only the reported
    statement itself counts: a "not" elsewhere ("who did not seek approval", "not just the
    State Department") is detail an outlet may word either way."""
    words = re.findall(r"[a-z]+(?:['\u2019]t)?", unquoted(text).lower())
    verbs = credit_verbs()
    for at, word in enumerate(words):
        if word in verbs:
            after = words[at + 1 : at + 1 + _NEGATION_REACH]
            if any(w in _NEGATIONS or w.endswith(("n't", "n\u2019t")) for w in after):
                return True
    return False


@lru_cache(maxsize=256)
def _sentence_numbers(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[frozenset[str], ...]:
    """The numbers of each sentence of an article, read once per article (a cache entry per
    sentence would be evicted on a story of many long articles)."""
    return tuple(frozenset(numbers_in(text[start:end])) for start, end in spans)


def _attributed(
    text: str, pick: Pick, backing: list[int], articles: dict[int, Article], outlets: list[str]
) -> tuple[str, bool]:
    """The sentence with a named source when it needs one and has none: anything but a fact
    several of the cited outlets report."""
    speakers = _speakers(pick)
    needed = needs_attribution(pick.group, pick.claims) or len(backing) < 2
    if not needed or _credits_someone(text, [*speakers, *outlets]):
        return text, False
    if len(speakers) == 1 and speakers[0] not in outlets and text.startswith(("\u201c", '"')):
        return f"{speakers[0]} said: {text}", True
    return attribute(text, names(backing, articles)), True


def _credits_someone(text: str, sources: list[str]) -> bool:
    """Whether the sentence already says who claims it: a reporting verb, or a speaker named
    with a speech verb ("Roe added: ..."). A source merely mentioned ("the council chief")
    credits no one."""
    if _credits_main_clause(text):
        return True
    named = names_in(text)
    speaks = {t.strip(",.:;").lower() for t in text.split()} & word_list("speech_verbs")
    return bool(speaks) and any(names_in(s) & named for s in sources)


def _credits_main_clause(text: str) -> bool:
    """Whether a reporting verb, outside quotations, says who claims the sentence: not one in
    a clause opened by "when", "after", "who" … ("Roe erred when he said …" is the outlet's
    judgment of Roe; Roe said only what follows "said")."""
    own = unquoted(text)
    for verb in attributions(own):
        before = {w.lower() for w in re.findall(r"[A-Za-z]+", own[: verb.start()])[-3:]}
        if verb.group().lower() == "according to" or not before & word_list("subordinators"):
            return True
    return False


def _finished(text: str) -> str:
    text = clean(text)
    return text if _ENDED.search(text) else text + "."


@dataclass
class _Stated:
    text: str
    problems: list[Problem]
    attributed: bool
    backing: list[int]
    verbatim: bool = False


# The credit a stated sentence carries before it: 'X reported: “…”' (after it: checks'
# TRAILING_ATTRIBUTION, ", according to X.").
_REPORTED_LEAD = re.compile(r"^.{0,240}? reported(?:, as did .{0,160}?)?: (?=[\u201c\"])")


# The surname as the subject ("Nichols did not rule") or the speaker, before any speech verb
# ("..., Snipes said", '"…," Thomas wrote.').
_SURNAME_SPEAKS = re.compile(
    r"^([A-Z][a-z]{2,}) (?=[a-z])|(?<=\s)([A-Z][a-z]{2,}) "
    rf"(?=(?:{'|'.join(sorted(word_list('speech_verbs')))})\b)"
)


def _in_full(surname: str, text: str) -> bool:
    """Whether `text` gives the surname with a given name or title before it ("Carl Nichols",
    "Judge Nichols"); "On Facebook" and "The Senate" are no such thing, nor is a capitalised
    word opening a sentence ("One Facebook group …")."""
    for match in re.finditer(rf"(?<![\w.])([A-Z][a-z]+) {surname}\b", text):
        opens = (
            not text[: match.start()].strip() or text[: match.start()].rstrip()[-1] in '.!?"\u201d'
        )
        if match.group(1).lower() not in word_list("stopwords") and not opens:
            return True
    return False


def _unintroduced(text: str, said: list[str], articles: dict[int, Article]) -> str | None:
    """A person called by surname alone, as the subject or before a speech verb ("Nichols did
    not rule on ...", "..., Snipes said"), whom the articles name in full ("U.S. District
    Judge Carl Nichols") and no sentence of the briefing does: the reader cannot tell who it
    is. A name most outlets use is the story's own and needs no introduction."""
    told = " ".join([*said, text])
    for match in _SURNAME_SPEAKS.finditer(_said_text(text)):
        surname = match.group(1) or match.group(2)
        if surname.lower() in word_list("stopwords") or _in_full(surname, told):
            continue
        # the headline counts: "… Justice Clarence Thomas Dissents …" over "…," Thomas wrote.
        if not any(_in_full(surname, f"{a.title or ''}. {a.text}") for a in articles.values()):
            continue
        if surname.lower() not in core_names(list(articles.values())):
            return surname
    return None


def _said_text(text: str) -> str:
    """A stated sentence without the credit it carries: what it tells."""
    return _REPORTED_LEAD.sub("", TRAILING_ATTRIBUTION.sub("", text.strip().rstrip(".")))


def _said_terms(text: str) -> set[str]:
    """The content words of a stated sentence, without the names of the outlets it credits:
    two outlets' tellings of one development repeat each other however they are credited,
    and a long headline in the credit would hide the repeat."""
    return term_set(_said_text(text))


SHARED_FIGURE_OVERLAP = 0.3  # with a figure in common, this much of the words makes a repeat
# A figure: digits not glued to a word ("COVID-19", "F-35", "G20" are names, not figures).
_FIGURE = re.compile(r"(?<![A-Za-z])(?<![A-Za-z]-)\d[\d,.]*\d")


def _figures(text: str) -> set[str]:
    """The figures of two or more digits a sentence states in its own words (not its credit's
    headline), years aside ("371-18", "18-year"): two sentences giving one such figure are
    most likely telling one fact."""
    figures = {m.group().replace(",", "").rstrip(".") for m in _FIGURE.finditer(_said_text(text))}
    return {f for f in figures if not (len(f) == 4 and f[:2] in {"19", "20"})}


def _retells(text: str, said: list[str]) -> bool:
    """Whether `text` tells again what one of the `said` sentences told: mostly the same words
    (`repeats`), or the same figure with a good share of them ("The House voted 371-18 ..."
    and "The resolution passed 371-18 ...")."""
    words, figures = _said_terms(text), _figures(text)
    for earlier in said:
        before = _said_terms(earlier)
        if repeats(words, before):
            return True
        small = min(len(words), len(before)) or 1
        if figures & _figures(earlier) and len(words & before) / small >= SHARED_FIGURE_OVERLAP:
            return True
    return False


def _try(text: str, pick: Pick, articles: dict[int, Article]) -> _Stated:
    """One way of stating the group: attributed where needed, then checked."""
    outlets = [source_name(articles[a]) for a in pick.group.article_ids]
    text = _finished(text)
    backing = _backing(text, pick, articles)
    text, added = _attributed(text, pick, backing, articles, outlets)
    quotes = [c.quote for c in pick.claims]
    credited = names(backing, articles)  # may say "and 2 other outlets"
    sources = [*outlets, *_speakers(pick), credited]
    return _Stated(text, sentence_problems(text, quotes, sources), added, backing)


def conflict_sentence(group: ClaimGroup, articles: dict[int, Article]) -> list[BriefingSentence]:
    """One sentence per conflict, every value with the outlets that give it: code, not model."""
    out = []
    for conflict in group.conflicts:
        by_value: dict[str, list[int]] = {}
        for v in conflict.values:
            by_value.setdefault(v.value, []).append(v.article_id)
        values = "; ".join(
            f"{value} according to {names(ids, articles)}" for value, ids in by_value.items()
        )
        out.append(
            BriefingSentence(
                text=f"Sources differ on the {conflict.what}: {values}.",
                group_ids=[group.id],
                article_ids=sorted({v.article_id for v in conflict.values}),
                section="disputed",
            )
        )
    return out


def _output_type(picks: int) -> type[BriefOutput]:
    """BriefOutput asking for one sentence per pick: small models otherwise stop after two.

    The minimum is only in the JSON schema sent (a grammar-constrained server enforces it);
    validation stays lenient, so an endpoint that writes fewer is not failed for it.
    """
    return create_model(
        "BriefOutput",
        __base__=BriefOutput,
        sentences=(
            list[WrittenSentence],
            Field(max_length=12, json_schema_extra={"minItems": min(12, picks)}),
        ),
    )


def _label(pick: Pick, articles: dict[int, Article]) -> str:
    """What the model must know to attribute the group: who says it, how many outlets."""
    group = pick.group
    who = ", ".join(_speakers(pick)) or names(group.article_ids, articles)
    parts = {
        ClaimKind.STATEMENT: f"said by {who}",
        ClaimKind.ALLEGATION: f"alleged, per {who}",
        ClaimKind.OPINION: f"opinion of {who}",
        ClaimKind.DENIAL: f"denial by {who}",
    }
    label = [parts[group.kind]] if group.kind in parts else []
    count = len(group.article_ids)
    label.append(f"{count} outlets" if count > 1 else f"single source: {who}")
    return "; ".join(label)


def _shown_quotes(pick: Pick) -> str:
    """The group's quotes the model condenses: the best one, and a second outlet's wording
    when the group has one (outlets state different parts of one development)."""
    quotes = [normalize(clean(pick.claims[0].quote))]
    for claim in pick.claims[1:MAX_QUOTES_SHOWN]:
        if claim.article_id != pick.claims[0].article_id:
            quotes.append(normalize(clean(claim.quote)))
    return defang(" | ".join(dict.fromkeys(quotes)))


def _state(
    pick: Pick,
    drafts: list[str],
    said: list[str],
    articles: dict[int, Article],
    needed: frozenset[str] = frozenset(),
    unplanned: frozenset[str] | None = None,
) -> tuple[_Stated | None, int]:
    """(how the group is stated, model drafts rejected): the first draft that passes every
    check and says something new, else the first verbatim claim (or its restatement) that
    passes; None when nothing does. A wording that leaves out a `needed` name its source
    sentence holds (a name most outlets use that the briefing has not said yet: "…, which
    led to the cancellation of the summit in Geneva") is passed over while another keeps it.
    `unplanned`: the needed names that no other group to be stated names either (a subset
    of `needed`; all of them by default)."""
    unplanned = needed if unplanned is None else unplanned
    if unplanned:
        # Another outlet's sentence of the group that names more of the story ("... canceled
        # the planned meeting with the mayor in Springfield") is stated rather than the
        # model's condensing of the best one, which can only say what that one says.
        # Names in a clause that compression may drop ("…, amid talks in Geneva") count
        # for nothing: they would make the sentence long to keep.
        best = pick.claims[0].quote
        first = len(_names_kept(best) & unplanned)
        richer = [
            c
            for c in pick.claims[1:]
            if len(_names_kept(c.quote) & unplanned) > first
            # a denial is stated by a denial, never by what it denies
            and (c.kind == ClaimKind.DENIAL) == (pick.claims[0].kind == ClaimKind.DENIAL)
            and _negated(c.quote) == _negated(best)
        ]
        if richer:
            wider = _state_keeping(pick, [], said, articles, needed, richer)
            # only a wording as many outlets back: a confirmed development stays confirmed
            confirmed = min(2, len(pick.group.article_ids))
            if wider[0] is not None and len(wider[0].backing) >= confirmed:
                return wider
    if needed:
        kept = _state_keeping(pick, drafts, said, articles, needed)
        if kept[0] is not None:
            return kept
    return _state_keeping(pick, drafts, said, articles, frozenset())


def _headlinese(draft: str, source: str) -> bool:
    """A draft written like a headline ("Two explosions reported, black smoke reported.",
    "Agency conducts record number of checks last month."): no determiner at all (no article,
    possessive or demonstrative) where the source sentence has an article. Headline grammar
    drops them, and the tense with them; "Roe will lead Russia's delegation." keeps one."""
    words = re.findall(r"[A-Za-z]+(?:['\u2019]s\b)?", unquoted(draft))
    if words and _bare_opening(words[0], source):
        return True
    if any(w.endswith(("'s", "\u2019s")) or w.lower() in _DETERMINERS for w in words):
        return False
    return any(w.lower() in ARTICLES for w in re.findall(r"[A-Za-z]+", source))


_OPENING_REACH = 3  # "The Florida Senate race": the article a few words before its noun


def _bare_opening(first: str, source: str) -> bool:
    """ "Race is becoming a clown show." from "The Florida Senate race is ...", "Shooting
    resulted in protests" from "That shooting resulted in ...": a draft opening with a
    singular common noun that the source writes in lower case after a determiner. The
    determiner is gone, and with it what the noun referred to. So is "the" of a name that
    takes it ("Senate votes ..." from "The Senate voted ...")."""
    noun = first.lower()
    if noun in word_list("stopwords") or noun.endswith("s") or not first[:1].isupper():
        return False
    words = re.findall(r"[A-Za-z]+", source)
    for at, word in enumerate(words):
        if at and word == noun:
            before = {w.lower() for w in words[max(0, at - _OPENING_REACH) : at]}
            return bool(before & _DETERMINERS)
        if at and word == first:  # "Senate votes ..." from "The Senate voted ..."
            return bool(words[at - 1].lower() == "the")
    return False


def _names_kept(quote: str) -> set[str]:
    """The names a claim's sentence keeps when compressed: what it will likely say."""
    return names_in(compressed(quote) or quote)


def _said_names(names: set[str], said: set[str]) -> set[str]:
    """The names a sentence says, counting a name said when a longer form of it is ("Russia"
    by "Russian", "Iran" by "Iranian"): the reader has the place."""
    return {
        n
        for n in names
        if n in said or any(s.startswith(n) for s in said if len(n) >= MIN_NAME_STEM)
    }


def _drops(candidate: str, source: str, needed: frozenset[str]) -> bool:
    """Whether the wording leaves out a needed name that its source sentence holds."""
    return bool(needed and (names_in(source) & needed) - names_in(candidate))


def _quoted_terms(pick: Pick, articles: dict[int, Article]) -> set[str]:
    """The content words a model draft of the group may use: those of its quotes, its
    outlets' names and the speech verbs."""
    quoted = set().union(*(term_set(c.quote) for c in pick.claims))
    outlets = " ".join(source_name(articles[a]) for a in pick.group.article_ids if a in articles)
    return quoted | term_set(outlets) | term_set(" ".join(credit_verbs()))


def _adds_words(draft: str, allowed: set[str]) -> bool:
    """Whether a model draft says more than its group's quotes: more than `MAX_NEW_TERMS`
    content words outside `allowed` (`_quoted_terms`). The model shortens and neutralises;
    what it adds is its own claim."""
    return len(term_set(draft) - allowed) > MAX_NEW_TERMS


def _state_keeping(
    pick: Pick,
    drafts: list[str],
    said: list[str],
    articles: dict[int, Article],
    needed: frozenset[str],
    claims: list[Claim] | None = None,
) -> tuple[_Stated | None, int]:
    """`_state` with every wording that drops a needed name passed over; the verbatim
    fallback tries `claims` (default: the group's best claims)."""
    rejected = 0
    source = pick.claims[0].quote
    allowed = _quoted_terms(pick, articles)
    if drafts and (points_back(source) or _unspoken_for(pick.claims[0], articles)):
        # "That shooting resulted in ..." drafted as "Shooting resulted in ...": a rewording
        # hides the reference to an earlier sentence but cannot say what it refers to; and
        # a speaker's words drafted from a sentence without the speaker get the wrong credit
        rejected, drafts = len(drafts), []
    for draft in drafts:
        for candidate in [c for c in (compressed(clean(draft)), draft) if c]:
            if _drops(candidate, source, needed) or _headlinese(candidate, source):
                continue
            if _adds_words(candidate, allowed):
                continue
            attempt = _try(candidate, pick, articles)
            new = not _retells(attempt.text, said)
            if not attempt.problems and new and not _unintroduced(attempt.text, said, articles):
                copied = _as_copied(candidate, attempt, pick, articles)
                if copied is not None:
                    return copied, rejected
        rejected += 1
    loaded: list[tuple[Claim, str]] = []
    for claim in (pick.claims if claims is None else claims)[:MAX_VERBATIM_TRIES]:
        if not _ENDED.search(claim.quote.strip()):
            continue  # the source sentence is cut ("... a report that contradicts its own")
        if _unspoken_for(claim, articles):
            continue  # someone's words, their speaker named in another sentence
        shorter = [c for c in (compressed(claim.quote),) if c]
        for candidate in dict.fromkeys([*shorter, claim.quote, claim.text]):
            if _drops(candidate, claim.quote, needed):
                continue
            if candidate == claim.text != claim.quote and _adds_words(candidate, allowed):
                continue  # the extract stage's restatement is the model's words too
            attempt = _try(candidate, pick, articles)
            if _retells(attempt.text, said) or _unintroduced(attempt.text, said, articles):
                continue
            if not attempt.problems:
                attempt.verbatim = True
                copied = _as_copied(candidate, attempt, pick, articles)
                if copied is not None:
                    return copied, rejected
            if [p.kind for p in attempt.problems] == ["loaded"]:
                loaded.append((claim, candidate))
    for claim, candidate in loaded:  # an outlet's loaded words, as its own quoted words
        attempt = _try(quoted(candidate, articles[claim.article_id]), pick, articles)
        if not attempt.problems:
            attempt.verbatim = True
            return attempt, rejected
    return None, rejected


def _unspoken_for(claim: Claim, articles: dict[int, Article]) -> bool:
    """Whether the claim's sentence is a quotation whose speaker its article names only in
    another sentence: "X reported: “…”" would credit the outlet with the speaker's words."""
    article = articles.get(claim.article_id)
    return article is not None and speech_without_speaker(claim.quote, article.text, claim.span[0])


def _copied_from(text: str, pick: Pick) -> Claim | None:
    """The group's claim whose sentence holds the text word for word, save what an ellipsis
    marks as left out (a quotation must be exact: a model's close paraphrase in quotation
    marks would misquote the outlet)."""
    parts = [_plain_words(part) for part in clean(text).split(ELLIPSIS)]
    if not all(parts):
        return None
    for claim in pick.claims[:MAX_VERBATIM_TRIES]:
        if _in_order(parts, f" {_plain_words(clean(claim.quote))} "):
            return claim
    return None


def _in_order(parts: list[str], words: str) -> bool:
    """Whether each run of words occurs in `words`, one after another (an ellipsis between
    them stands for what was left out)."""
    at = 0
    for part in parts:
        found = words.find(f" {part} ", at)
        if found < 0:
            return False
        at = found + len(part) + 1
    return True


def _plain_words(text: str) -> str:
    """Lower-case words with their inner punctuation ("u.s", "5.5%"), nothing between them."""
    text = normalize(text).lower().replace("\u2019", "'")
    tokens = (t.strip(".,;:'-") for t in re.findall(r"[\w'.,;:%$&/-]+", text))
    return " ".join(t for t in tokens if t)


# 'A Big Tech-backed "fact" "checking" outfit claimed …': one or two words in quotation marks
# are the writer's scare quotes, a judgment of the outlet's, not a speaker's words.
MAX_SCARE_WORDS = 2
_QUOTATION = re.compile(r"\u201c([^\u201d]*)\u201d|\"([^\"]*)\"")


def _scare_quoted(text: str) -> bool:
    """Whether the sentence's quotation marks are the writer's own: one or two words quoted
    side by side ('a "fact" "checking" outfit') or with no one said to have spoken them
    ('lawmakers required "crisis pregnancy" centers to …'). A speaker's words quoted in part
    ('Roe called the case "very unfair"') keep the verb that credits them."""
    quotations = list(_QUOTATION.finditer(text))
    short = [
        m for m in quotations if len((m.group(1) or m.group(2) or "").split()) <= MAX_SCARE_WORDS
    ]
    if not short:
        return False
    side_by_side = any(b.start() - a.end() <= 1 for a, b in zip(short, short[1:], strict=False))
    outside = {w.lower() for w in re.findall(r"[A-Za-z]+", _QUOTATION.sub(" ", text))}
    return side_by_side or not outside & credit_verbs()


def _as_copied(
    candidate: str, attempt: _Stated, pick: Pick, articles: dict[int, Article]
) -> _Stated | None:
    """An outlet's sentence, copied, as that outlet's quoted words ("X reported: “…”"): its
    wording is its own choice (a "firestorm", a "humiliating retreat"), and a neutral
    briefing repeats an outlet's choice of words only as the outlet's. A sentence that holds
    a quotation already stays as it is (quotes in quotes are hard to read). None when the
    copy cannot be quoted (too long with its credit): it is not said in the briefing's own
    voice instead, unless it is the group's best claim (the wording closest to every
    outlet's) of a fact several outlets report."""
    scare = _scare_quoted(candidate)
    if (_QUOTED_ANY.search(candidate) and not scare) or candidate.lower().startswith(
        "according to"
    ):
        return attempt
    claim = _copied_from(candidate, pick)
    if claim is None or claim.article_id not in articles:
        return attempt
    others = [articles[a] for a in attempt.backing if a != claim.article_id and a in articles]
    source = articles[claim.article_id]
    # "as did …" names the other outlets only where the section does not already say that
    # several report it: under "Confirmed by several sources" it is words the reader has in
    # the heading and the citations. It is left out, too, when the sentence would run too
    # long with it.
    also = "" if pick.section == "confirmed" else _also(others)
    for text in dict.fromkeys([quoted(candidate, source, also), quoted(candidate, source)]):
        restated = _try(text, pick, articles)
        if not restated.problems:
            restated.verbatim = attempt.verbatim
            restated.backing = sorted({*attempt.backing, claim.article_id})
            return restated
    if claim is pick.claims[0] and len(attempt.backing) > 1:
        return attempt  # the wording the outlets share most, of a fact several report
    return None


def _also(others: list[Article]) -> str:
    """The other outlets that report it, in words without a count: a number in the sentence
    must be one the quotes give ("The Kyiv Independent and other outlets")."""
    named = list(dict.fromkeys(a.outlet for a in others if a.outlet))
    rest = len(others) - len(named[: MAX_NAMED - 1])
    parts = named[: MAX_NAMED - 1]
    if rest > 0:
        parts.append("other outlets" if rest > 1 else "another outlet")
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


# "Roe added: …" where the briefing has not quoted Roe before: "added" tells the reader they
# have heard her already. Only the speech verb ("added that", "added:", '…," X added.'),
# never "the economy added 213,000 jobs".
_CONTINUED = re.compile(r"\b(added|adds)\b(?=\s*[:,.;]|\s+that\b)")
_FIRST_TELLING = {"added": "said", "adds": "says"}


def _first_tellings(sentences: list[BriefingSentence]) -> list[BriefingSentence]:
    """The briefing in reading order, each speaker's first credit made a first telling: "X
    added" becomes "X said" unless an earlier sentence credits X. Words inside quotation
    marks are the source's and stay as they are."""
    heard: set[str] = set()
    out = []
    for sentence in sentences:
        text = sentence.text
        for start, end in reversed(own_voice(text)):
            for match in reversed(list(_CONTINUED.finditer(text, start, end))):
                near = text[max(start, match.start() - 60) : min(end, match.end() + 30)]
                if names_in(credited(near)) & heard:
                    continue  # said again: "added" is right
                verb = _FIRST_TELLING[match.group(1)]
                text = text[: match.start()] + verb + text[match.end() :]
        heard |= names_in(credited(text))
        out.append(sentence.model_copy(update={"text": text}))
    return out


def _in_source_sequence(
    stated: list[tuple[Pick, BriefingSentence]], articles: dict[int, Article]
) -> list[tuple[Pick, BriefingSentence]]:
    """Selection order, except that a group an outlet states in the sentence right after
    another stated group's follows it here too ("X lost the post." then "It will be led by
    Y."): the second often leans on the first. A sentence only ever moves down and what
    most outlets carry never moves, so the lead stays first and nothing rises above its
    rank."""
    units: list[list[tuple[Pick, BriefingSentence]]] = []
    for item in stated:  # a group's sentence and its conflict sentences move together
        if units and units[-1][0][0].group.id == item[0].group.id:
            units[-1].append(item)
        else:
            units.append([item])

    def places(unit: list[tuple[Pick, BriefingSentence]]) -> set[tuple[int, int]]:
        return {
            (c.article_id, claim_position(c, articles[c.article_id]))
            for c in unit[0][0].claims
            if c.article_id in articles
        }

    for unit in list(units[1:]):
        if unit[0][0].tier == 0:
            continue  # what most outlets carry is stated first, in rank order
        after = places(unit)
        start = units.index(unit)
        for other in units[start + 1 :]:  # only ever later: nothing rises above its rank
            if other[0][1].section != unit[0][1].section:
                continue
            if any((a, p + 1) in after for a, p in places(other)):
                units.remove(unit)
                units.insert(units.index(other) + 1, unit)
                break
    return [item for unit in units for item in unit]


def _in_outlet_order(
    stated: list[tuple[Pick, BriefingSentence]], articles: dict[int, Article]
) -> list[tuple[Pick, BriefingSentence]]:
    """One outlet's single-source sentences in the order that outlet wrote them, in the places
    they hold: an article names someone in full or introduces "a video" before it says
    "Harris had won" or "the video", and its later sentence read first leaves the reader
    without the introduction. What several outlets carry never moves."""
    slots: dict[int, list[int]] = {}
    for i, (_, sentence) in enumerate(stated):
        if sentence.section == "attributed" and len(sentence.article_ids) == 1:
            slots.setdefault(sentence.article_ids[0], []).append(i)
    out = list(stated)
    for article_id, places in slots.items():
        article = articles.get(article_id)
        if article is None or len(places) < 2:
            continue

        def written_at(i: int, article: Article = article) -> int:
            own = [c for c in stated[i][0].claims if c.article_id == article.id]
            return min((claim_position(c, article) for c in own), default=0)

        for place, i in zip(places, sorted(places, key=written_at), strict=True):
            out[place] = stated[i]
    return out


def quoted(text: str, article: Article, also: str = "") -> str:
    """An outlet's sentence as its own words: "X reported: “…”" ("X reported, as did Y: “…”"
    when `also` names other outlets that report it), inner quotation marks turned into single
    ones. Used for every copied sentence: the briefing may repeat an outlet's wording, and
    the judgment its words carry, only as the outlet's, never in its own voice."""
    inner = _finished(text)
    inner = inner.replace("\u201c", "\u2018").replace("\u201d", "\u2019")
    inner = re.sub(r'"([^"]*)"', "\u2018\\1\u2019", inner)
    who = source_name(article)
    if not article.outlet and article.title:
        who = f"The article {who}"  # a headline is not a speaker
    as_did = f", as did {also}" if also else ""
    return f"{who} reported{as_did}: \u201c{inner}\u201d"


def _title(title: str, claims: list[Claim], articles: list[Article]) -> str:
    """The model's headline when every name and number in it is in the articles and it says
    nothing in loaded words; else the headline the outlets share most words with."""
    title = clean(title).rstrip(".")
    support = [c.quote for c in claims] + [a.title or "" for a in articles]
    if len(title) >= 3 and not unsupported(title, support) and not _unfit_title(title):
        return title
    return _shared_headline(articles) or (
        f"Briefing from {len(articles)} article{'s' if len(articles) != 1 else ''}"
    )


def _unfit_title(title: str) -> bool:
    return is_boilerplate(title) or bool(loaded_words(title)) or len(title.split()) > 16


def _shared_headline(articles: list[Article]) -> str | None:
    """The article headline closest to the other outlets' headlines (the story as most
    outlets tell it), if one is fit to stand as the briefing's title."""
    titles = [clean(a.title).rstrip(".") for a in articles if a.title]
    terms = [term_set(t) for t in titles]

    def shared(i: int) -> float:
        return sum(overlap(terms[i], terms[j]) for j in range(len(titles)) if j != i)

    fit = [i for i, t in enumerate(titles) if len(t) >= 3 and not _unfit_title(t)]
    if len(titles) < 2 or not fit:
        return None
    return titles[max(fit, key=lambda i: (round(shared(i), 6), -len(titles[i])))]


def write_briefing(
    groups: list[ClaimGroup],
    claims: list[Claim],
    articles: list[Article],
    ctx: StageContext,
    budget: int = WORD_BUDGET,
    encode: Encode | None = None,
) -> BriefResult:
    """The briefing: the selected groups, each in one checked sentence, within `budget` words.
    `encode` (a sentence encoder) lets selection see that two groups say the same thing."""
    by_article = {a.id: a for a in articles}
    # Groups past the model's batch are stated verbatim if budget is left when drafts fail.
    reserve = select_groups(
        groups, claims, articles, RESERVE_FACTOR * budget, MAX_RESERVE, encode=encode
    )
    picks = first_picks(reserve, budget)
    result = BriefResult(briefing=Briefing(title="", sentences=[]))
    if not picks:
        result.briefing.title = _title("", claims, articles)
        return result
    shown = [
        {
            "id": p.group.id,
            "label": _label(p, by_article),
            "statement": _shown_quotes(p),
        }
        for p in picks
    ]
    output = ctx.ask(_output_type(len(picks)), "brief: write", feedback=[], groups=shown)
    result.written = len(output.sentences)
    drafts: dict[str, list[str]] = {}
    for sentence in output.sentences:
        for gid in sentence.groups[:1]:
            drafts.setdefault(gid, []).append(sentence.text)

    stated: list[tuple[Pick, BriefingSentence]] = []
    said: list[str] = []
    words = 0
    full = False  # a group several outlets carry did not fit: only such groups may follow
    unsaid = core_names(articles)  # names most outlets use that no stated sentence says yet
    planned = {p.group.id: _names_kept(p.claims[0].quote) for p in picks}
    for pick in [*picks, *reserve[len(picks) :]]:
        planned.pop(pick.group.id, None)
        elsewhere = set().union(*planned.values())  # what the groups still to come will say
        extra = conflict_sentence(pick.group, by_article)
        if extra and states_values_only(pick.group):
            chosen, rejected = None, 0  # "Sources differ on the age of X: …" says it all
        else:
            chosen, rejected = _state(
                pick,
                drafts.get(pick.group.id, []),
                said,
                by_article,
                frozenset(unsaid),
                frozenset(unsaid - _said_names(unsaid, elsewhere)),
            )
            if chosen is None:
                result.dropped += rejected
                continue
        result.dropped += rejected
        size = sum(len(s.text.split()) for s in extra) + (len(chosen.text.split()) if chosen else 0)
        if stated and words + size > budget and chosen is not None and unsaid:
            # too long with every core name kept: a shorter wording may still fit
            shorter, _ = _state(pick, drafts.get(pick.group.id, []), said, by_article)
            if shorter is not None and len(shorter.text.split()) < len(chosen.text.split()):
                size -= len(chosen.text.split()) - len(shorter.text.split())
                chosen = shorter
        if stated and words + size > budget:
            full = full or pick.tier < 3
            continue
        if full and pick.tier >= 3:
            continue  # nothing single-source takes the place of a group several outlets carry
        words += size
        start = len(stated)
        if chosen is not None:
            said.append(chosen.text)
            result.verbatim += chosen.verbatim
            result.attributed += chosen.attributed
            one_source = len(chosen.backing) < 2 and not pick.group.conflicts
            briefed = BriefingSentence(
                text=chosen.text,
                group_ids=[pick.group.id],
                article_ids=chosen.backing,
                section="attributed" if one_source else pick.section,
            )
            stated.append((pick, briefed))
        stated += [(pick, s) for s in extra]
        for _, told in stated[start:]:
            unsaid -= _said_names(unsaid, names_in(told.text))
    stated = _in_outlet_order(_in_source_sequence(stated, by_article), by_article)
    ordered = sorted(stated, key=lambda ps: SECTION_ORDER.index(ps[1].section))
    result.briefing = Briefing(
        title=_title(output.title, claims, articles),
        sentences=_first_tellings([s for _, s in ordered]),
        single_source=len(articles) == 1,
    )
    return result
