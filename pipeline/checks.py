"""The checks a briefing sentence must pass before a reader sees it.

One module, used by the brief stage on every sentence it states (the evals keep their own):
- nothing an article addresses to a model ("ignore previous instructions") is repeated;
- every name, number, date and time is in a cited quote, in the same form ("15.30 pm" fails
  when the quote says "15.30 hours (3.30 pm)");
- no fragment, cut ending, dangling quotation mark or headline glued to the sentence;
- no pronoun without its referent ("He added that ...");
- no first person outside quotation marks;
- an attribution names a person, body or outlet, never "article and article";
- the party credited with a claim ("X said", "according to X") is one the quotes credit, or a
  cited outlet;
- no loaded wording in the briefing's own voice (an outlet's words go inside quotation marks,
  credited to it).

Plain rules over the text, with word lists from `pipeline.text`, so the same sentence gets the
same verdict on every run and machine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import takewhile

from pipeline.boilerplate import is_instruction_like
from pipeline.grounding import is_boilerplate, names_in, normalize, unsupported
from pipeline.text import term_set, times_in, word_list

MIN_WORDS = 4
MIN_ON_TOPIC = 0.5  # share of a sentence's content words found in its cited quotes
MIN_TERMS_ON_TOPIC = 3
MAX_WORDS = 45  # plain-language guides call sentences past 40 words hard to read
HEADLINE_RUN = 7  # capitalised words in a row ("of" between them): a title, not a sentence
CREDIT_WINDOW = 5  # words before a reporting verb that may name who speaks
_TERMINAL = re.compile(r"[.!?][\"'\u201d\u2019\u00bb)]*$")
# Quotations: double, guillemets, and single marks ('...' or \u2018...\u2019) that open before a
# word and close after one; an apostrophe inside a word ("I've") does not close them.
_QUOTED = re.compile(
    r"\u201c[^\u201d]*\u201d|\"[^\"]*\"|\u00ab[^\u00bb]*\u00bb"
    r"|(?<!\w)['\u2018](?=\w)(?:[^'\u2018\u2019]|(?<=\w)['\u2019](?=\w))+['\u2019](?!\w)"
)
_ACCORDING = re.compile(r"\baccording to ([^,.;:]+)", re.IGNORECASE)
# ", according to X." at the end, X a name or a quoted headline (which may hold commas).
TRAILING_ATTRIBUTION = re.compile(r",\s+according to (?:(?!according to).)+$", re.IGNORECASE)
_LEAD_ATTRIBUTION = re.compile(r"^according to [^,]+,\s*", re.IGNORECASE)
_CUT_INITIAL = re.compile(r"(?<![A-Za-z.])([A-Z])\.\s+(?=[a-z])")
_CITATION_MARK = re.compile(r"\[\d+\]|\barticle \[?\d+\]?", re.IGNORECASE)
_WORD = re.compile(r"[\w'\u2019.-]+")
_DEMONSTRATIVES = {"this", "that", "these", "those"}
# "It is/was/seems ... that/whether/to ...": the empty "it" of English grammar.
_EMPTY_IT_VERBS = {"is", "was", "s", "seems", "seemed", "appears", "appeared", "remains"}
_COMPLEMENTIZERS = {"that", "whether", "if", "to", "how", "when", "why", "what", "who"}
_BE_ADVERBS = {"also", "still", "now", "just", "really", "not", "already", "only"}
ARTICLES = frozenset({"a", "an", "the"})
# Words before a noun that say which one is meant: a noun after one may be what "it" stands for.
DETERMINERS = ARTICLES | {"this", "that", "his", "her", "their", "its", "our", "each"}
# "All three indexes are down", "The two men were charged", "Both countries said": a set the
# article counted just before ("Both Roe and Doe" names its members).
_COUNTED_SET = re.compile(
    r"(?:(?:all|the) (?:two|three|four|five|six|seven|eight|nine|ten)|both)"
    r"\s+(?:[a-z]+s|men|women|people|children)\b"
    r"(?!\s+(?:of|who|whom|which|that|in|on|at|from|with)\b)",
    re.IGNORECASE,
)
# "One, Jane Roe of Houston, was charged": one of a set the article named just before.
_ONE_OF_A_SET = re.compile(r"(?:one|the other|another|the latter|the former)\s*,", re.IGNORECASE)
# "One of the most significant warnings was ...": one of a set named before; "One of the
# largest banks in the country ..." says which set.
_ONE_OF_THE = re.compile(
    r"one of the (?:(?:most|least) [a-z]+ |[a-z]+est )?[a-z]+s\s+(?!(?:in|of|on|at|for|from|to|"
    r"with|about|who|whom|which|that|under|behind|across)\b)[a-z]",
    re.IGNORECASE,
)
_DOUBLED = re.compile(r"[,;:]\s*[,;:.]")
# "… led by Jamie Roe (D-Md.)": the full stop belongs to the abbreviation, the sentence goes on
_ABBREVIATION_IN_PARENTHESES_END = re.compile(r"\([\w.-]{1,12}\.\)[\"'\u201d\u2019]?$")
_DASH_END = re.compile(r"\s[-\u2013\u2014]+\s*[.!?]")  # "… endorsed by Ms. Roe -." was cut


@dataclass(frozen=True)
class Problem:
    """Why a sentence cannot be shown as it is."""

    kind: (
        str  # unsupported|fragment|overlong|pronoun|first_person|attribution|misattribution|loaded
    )
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def _words(text: str) -> list[str]:
    return [w.strip(".'\u2019-") for w in _WORD.findall(text) if w.strip(".'\u2019-")]


def own_voice(text: str) -> list[tuple[int, int]]:
    """(start, end) of each stretch of `text` outside its quotations: the words the briefing
    may change, since they are its own."""
    spans, at = [], 0
    for match in _QUOTED.finditer(text):
        spans.append((at, match.start()))
        at = match.end()
    return [*spans, (at, len(text))]


def unquoted(text: str) -> str:
    """The sentence without its quotations: what the briefing says in its own voice."""
    return _QUOTED.sub(" ", normalize(text))


def _uncredited(text: str) -> str:
    """The sentence without a leading "According to X," or a trailing ", according to X." and
    without its final stop: what it says, apart from whom it credits."""
    return TRAILING_ATTRIBUTION.sub("", _LEAD_ATTRIBUTION.sub("", normalize(text))).rstrip(" .")


# Single quotation marks: opening before a word, closing after one (an apostrophe sits inside
# a word). A sentence ending .' with more closing marks than opening ones has a stray mark.
_OPEN_SINGLE = re.compile(r"(?<![\w.,!?])['\u2018](?=\w)")
_CLOSE_SINGLE = re.compile(r"(?<=[\w.,!?])['\u2019](?!\w)")
_STRAY_SINGLE_END = re.compile(r"[.!?]['\u2019]$")
_BE = {"is", "are", "was", "were", "be", "been", "being"}
_BE_MAY_END_AFTER = {"what", "where", "who", "whoever", "how", "when", "wherever", "as", "than"}


def _ends_after_wh(words: Sequence[str]) -> bool:
    """ "... where it was." is a whole sentence: a form of "be" may end one after a wh-word,
    "as" or "than"; otherwise it was cut ("... reported that a meeting was.")."""
    return any(w.lower() in _BE_MAY_END_AFTER for w in words[-6:-1])


def fragment(text: str) -> Problem | None:
    """A cut, unfinished or glued sentence."""
    text = normalize(text)
    words = _words(text)
    if len(words) < MIN_WORDS:
        return Problem("fragment", "too short to be a sentence")
    if len(text.split()) > MAX_WORDS:
        return Problem("overlong", f"{len(text.split())} words (at most {MAX_WORDS})")
    first = text.lstrip("\"'\u201c\u00ab(")[:1]
    if not (first.isupper() or first.isdigit()):
        return Problem("fragment", "starts in the middle of a sentence")
    if not _TERMINAL.search(text):
        return Problem("fragment", "no closing punctuation")
    if re.search(r"[:;,]\W*$", text[:-1]):
        return Problem("fragment", "stops where the sentence goes on")
    # An attribution added after a cut sentence hides the cut: "... a story titled, according to X."
    said = _words(TRAILING_ATTRIBUTION.sub("", text.rstrip(" .")))
    for ending in {tuple(words), tuple(said)}:
        last = ending[-1].lower() if ending else ""
        if last in word_list("dangling_endings") or (last in _BE and not _ends_after_wh(ending)):
            return Problem("fragment", f'ends on "{ending[-1]}"')
    if text.count('"') % 2 or text.count("\u201c") != text.count("\u201d"):
        return Problem("fragment", "a quotation mark is not closed")
    if _STRAY_SINGLE_END.search(text) and len(_OPEN_SINGLE.findall(text)) < len(
        _CLOSE_SINGLE.findall(text)
    ):
        return Problem("fragment", "a closing quotation mark that nothing opened")
    if text.count("(") != text.count(")"):
        return Problem("fragment", "a parenthesis is not closed (the sentence was cut)")
    if _ABBREVIATION_IN_PARENTHESES_END.search(text):
        return Problem("fragment", "the last full stop is an abbreviation's (\u201c(D-Md.)\u201d)")
    if _DASH_END.search(text):
        return Problem("fragment", "a dash opens an aside that the sentence never closes")
    if _DOUBLED.search(unquoted(text)):
        return Problem("fragment", "doubled punctuation (\u201c,,\u201d or \u201c, .\u201d)")
    if _CUT_INITIAL.search(text):
        return Problem("fragment", "an initialism is cut (\u201cU. and\u201d)")
    told = _uncredited(text) + "."  # what it says, ending in its own stop
    cut = _CUT_AT_ABBREVIATION.search(told)
    if cut and cut.group(1).lower() in word_list("state_abbreviations"):
        return Problem("fragment", "cut at an abbreviation (\u201c… with Wash.\u201d)")
    if _QUESTION_END.search(told):
        return Problem("fragment", "a question, which reports nothing")
    if _LINK_TEXT.search(text):
        return Problem("fragment", "link text left from the web page (\u201chere ,\u201d)")
    return _headline(unquoted(text)) or _only_a_state(text) or _only_a_speaker(text)


# "… even as lawmakers move to clarify the law, with Wash.": the splitter took the full stop of
# a place's abbreviation after a preposition ("with Wash. Gov. Jay Roe …") for a sentence end.
_CUT_AT_ABBREVIATION = re.compile(r"\b(?:with|of|in|from|by|for|to|and)\s+([A-Z][a-z]{1,4})\.$")
# "Has any question taken more airtime than this one?": a question the outlet asks its readers
# (the credit after it is set apart first; a quoted speaker's question ends inside the quote).
_QUESTION_END = re.compile(r"\?[\"'\u201d\u2019\u00bb]*\.$")
# "Examples appear on Facebook here , Instagram here": a page's link words, the links gone.
_LINK_TEXT = re.compile(r"\bhere\s+[,.;)]|\(see here\)|\bclick here\b", re.IGNORECASE)


# Asides a speaker's credit may carry: ", now a congressman,", "(R-Ky.)", ", citing …" at the end.
_CREDIT_ASIDES = re.compile(r"\([^()]*\)|,[^,]*,|,\s+[a-z]+ing\b[^,]*$")


def _only_a_speaker(text: str) -> Problem | None:
    """ "Mr. Roe, now a state senator, said." or "The Record reported, citing interviews with
    22 aides.": who spoke, and nothing of what they said (the sentence splitter cut it from
    its quotation). Only a name and a speech verb are left once asides are set apart."""
    if _QUOTED.search(normalize(text)):
        return None
    rest = _words(_CREDIT_ASIDES.sub(" ", _uncredited(text)))
    if len(rest) < 2 or rest[-1].lower() not in word_list("speech_verbs"):
        return None
    if not all(w[:1].isupper() for w in rest[:-1]):
        return None  # "The plan will fail, Roe said." says what was said
    return Problem("fragment", f'only who spoke ("{" ".join(rest)}"), not what was said')


# "Justice Roe was unconvinced.": who, and a one-word state; by what, the sentence before said.
MAX_STATE_WORDS = 7


def _only_a_state(text: str) -> Problem | None:
    """A sentence that is only a name and "was <one word>" ("Justice Roe was unconvinced."): a
    past reaction or state whose cause the reader has not seen."""
    rest = _words(_uncredited(text))
    if len(rest) > MAX_STATE_WORDS or len(rest) < 3 or rest[-2].lower() not in {"was", "were"}:
        return None  # "Kim is alive." and "Roe was not sidelined." state a fact
    if not rest[-1].islower() or not all(w[:1].isupper() for w in rest[:-2]):
        return None  # "Roe said the statement was false." says what was false
    return Problem("fragment", f'only "{rest[-2]} {rest[-1]}": says nothing on its own')


def _headline(text: str) -> Problem | None:
    """A title run into the sentence: "Air India Plane Crash: Recovery Efforts BJP leader ..."."""
    head = text.split(":", 1)[0]
    if ":" in text and len(head.split()) <= 8 and all(w[:1].isupper() for w in _words(head)):
        return Problem("fragment", "a headline is glued to the sentence")
    run = 0
    for word in _words(text):
        run = run + 1 if word[:1].isupper() or (run and word == "of") else 0
        if run >= HEADLINE_RUN:
            return Problem("fragment", "a headline is glued to the sentence")
    return None


_SHELL_CONTENT = {"that", "to", "of", "by", "between", "against"}
_EPITHET_MODIFIERS = {"former", "new", "veteran", "embattled", "longtime", "retiring"}
# Role words that are as often adjectives before another noun ("Republican lawmakers").
_ROLE_ADJECTIVES = {"republican", "conservative", "liberal", "moderate", "centrist", "socialist"}
# "The latest criticism ...", "The earlier statement ...": still the shell noun of a sentence
# the reader has not seen.
_SHELL_MODIFIERS = {"latest", "recent", "new", "same", "earlier", "previous", "initial"}
# "Until then, ...", "After that, ...", "In those cases ...": a time or case named before.
_BACK_PREPOSITIONS = {
    "until", "since", "by", "before", "after", "from", "at", "in", "during", "amid", "despite",
}  # fmt: skip
_PREPOSITIONS = {"in", "at", "on", "by", "from", "near", "with", "during", "after", "under"}
_BEFORE_THAT_NOUN = _PREPOSITIONS | {"of", "for", "about", "against", "over", "into", "despite"}
# "those who ...", "those in the room": "these"/"those" as a pronoun with its content after it.
_DEMONSTRATIVE_CONTENT = {
    "who", "whom", "whose", "which", "that", "of", "in", "at", "on", "with", "from", "for",
    "among", "near", "under", "outside", "inside",
}  # fmt: skip


def dangling_reference(text: str) -> Problem | None:
    """An opening that points to a sentence the reader has not seen: "This/That/These/Those"
    (not "This week"), or "The/Such" before a shell noun ("The statement follows ...", "The
    move comes after ...")."""
    own = _LEAD_ATTRIBUTION.sub("", normalize(text)).lstrip("\"'\u201c\u00ab(")
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", own)[:5]]
    if not words:
        return None
    told = words[3:5]  # after "The question is": "now whether ..."
    words = words[:4]
    if words[0] == "others" or words[:2] == ["the", "others"]:
        return Problem("pronoun", 'opens with "others", set against someone named before')
    if words[0] == "another":  # "Another source agreed ...": one more than one named before
        return Problem("pronoun", 'opens with "another", one more of something named before')
    if _COUNTED_SET.match(own):  # "All three indexes are down ...", "Both men were ..."
        return Problem("pronoun", "opens with a set counted in an earlier sentence")
    if words[0] in _BACK_PREPOSITIONS and _points_back(words[1:]):
        opening = " ".join(words[:2])
        return Problem("pronoun", f'opens with "{opening}", a time or case named before')
    if words[0] == "such" and words[1:2] in (["a"], ["an"]):  # "Such a move is ..."
        words = [words[0], *words[2:]]
    if words[0] == "the" and words[1:2] and words[1] in _SHELL_MODIFIERS:
        words = [words[0], *words[2:]]
    following = words[1] if len(words) > 1 else ""
    third = words[2] if len(words) > 2 else ""
    if words[0] in {"these", "those"} and not _demonstrative_noun([*words[1:3], ".", "."]):
        pass  # "Those who voted ...", "Those killed in ..."
    elif words[0] in _DEMONSTRATIVES and not (
        words[0] == "this" and following in word_list("time_nouns")
    ):
        return Problem("pronoun", f'opens with "{words[0]}", pointing to an earlier sentence')
    # A shell noun with its content right after it ("The claim that ...", "The decision to
    # ...", "The report by ...") says what it is about (Schmid's N-that / N-to pattern).
    # So does one with "is" and its content after it ("The question is whether ...").
    # Not a noun of result: "The upshot is that ..." is the upshot of something told before.
    stated = (
        third in {"is", "was"}
        and bool({*told} & _COMPLEMENTIZERS - {"to"})
        and following not in word_list("result_nouns")
    )
    if (
        words[0] in {"the", "such"}
        and following in word_list("shell_nouns") | word_list("result_nouns")
        and third not in _SHELL_CONTENT
        and not stated
    ):
        return Problem("pronoun", f'opens with "{words[0]} {following}", which names nothing')
    if words[0] == "the" and _epithet(own):
        return Problem("pronoun", f'opens with "the {following}", naming no one')
    roles = list(takewhile(lambda w: w in word_list("epithet_nouns"), words[:2]))
    # "Moderate Democrats …" is everyone; "Republican lawmakers …" has its noun after the role
    bare = bool(roles) and not roles[-1].endswith("s") and roles[-1] not in _ROLE_ADJECTIVES
    if bare and _epithet("The " + own):  # "Centrist Democrat announces run.": a headline's
        return Problem("pronoun", f'opens with "{words[0]}" without an article or name')
    if _ONE_OF_A_SET.match(own) or _ONE_OF_THE.match(own):
        return Problem("pronoun", "opens with one of a set named in an earlier sentence")
    if words[0] in {"it", "its"} and not _empty_it(own):
        return Problem("pronoun", 'opens with "it", pointing to an earlier sentence')
    return None


def _points_back(words: Sequence[str]) -> bool:
    """ "then", or "that"/"those"/"these" and a noun, after an opening preposition ("Until then",
    "At that point", "In those cases"); "this week" dates the sentence and points nowhere."""
    if not words:
        return False
    if words[0] == "then":
        return True
    return words[0] in _DEMONSTRATIVES - {"this"} and len(words) > 1


_ENDS = {".", "!", "?"}


def _loose_demonstrative(text: str) -> str | None:
    """ "… doesn't back those doomsday warnings.": "these"/"those" before a noun, outside
    quotations, for things named in a sentence the reader has not seen; "this"/"that" (and
    "that" with a noun) ending the sentence ("… zero evidence for this."). "those who …",
    "those killed in …" and "these days" carry their content with them."""
    words: list[str] = [*re.findall(r"[A-Za-z]+|[,.;:!?]", text), "."]
    plain = word_list("time_nouns") | word_list("stopwords")
    for at, word in enumerate(words[:-2]):
        if word.lower() in {"these", "those"} and _demonstrative_noun(words[at + 1 : at + 3]):
            return f"{word} {words[at + 1]}"
        # "... questions about this process": "this" and a noun inside the sentence; "that" and
        # a noun after a preposition ("agreed with that characterization"), where "that" cannot
        # start a clause
        pointing = word.lower() == "this" or (
            word.lower() == "that" and at and words[at - 1].lower() in _BEFORE_THAT_NOUN
        )
        noun = words[at + 1] not in plain and _demonstrative_noun(words[at + 1 : at + 3])
        if at and pointing and noun:
            return f"{word} {words[at + 1]}"
        if at and word.lower() in {"this", "that"} and words[at + 1] in _ENDS:
            return word  # "There is zero evidence for this."
        after = words[at + 1 : at + 3]
        ending = after[0].islower() and after[1] in _ENDS and after[0] not in plain
        if at and word.lower() == "that" and ending:
            return f"{word} {after[0]}"  # "Trump ended up winning that war."
    return None


def _demonstrative_noun(after: Sequence[str]) -> bool:
    """Whether "these"/"those" stands before a noun it points back with ("those warnings"),
    rather than before what it means ("those who", "those killed in", "these days")."""
    word, then = after[0], after[1]
    if not word.islower() or word in _DEMONSTRATIVE_CONTENT or word in word_list("time_nouns"):
        return False
    if word in word_list("stopwords"):
        return False  # "similar tactics to those she used": a relative clause follows
    # "those killed in ...", "those living near ...": people picked out by what follows
    return not (word.endswith(("ed", "ing")) and (not then.isalpha() or then in _PREPOSITIONS))


def _epithet(text: str) -> bool:
    """ "The Democrat announced ...", "The former senator said ...": a role for a person named
    elsewhere. A name right after the noun ("The Democrat Joe Biden"), or "of" and a name
    ("The governor of Texas"), says who is meant."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", text)[1:6]
    if tokens and tokens[0].lower() in _EPITHET_MODIFIERS:
        tokens = tokens[1:]
    if not tokens or tokens[0].lower() not in word_list("epithet_nouns"):
        return False
    if len(tokens) > 1 and tokens[1].lower() in word_list("epithet_nouns"):
        tokens = tokens[1:]  # "The centrist Democrat made the announcement"
    after = tokens[1:3]
    if after and after[0][:1].isupper():
        return False
    return not (len(after) == 2 and after[0] == "of" and after[1][:1].isupper())


def _empty_it(text: str) -> bool:
    """ "It is unclear whether ...", "It was not immediately clear if ...": "it" as the empty
    subject of a clause, which points to nothing."""
    head = [w.lower() for w in re.findall(r"[A-Za-z]+", text)[:8]]
    be = len(head) > 1 and head[1] in _EMPTY_IT_VERBS
    noun_after = [w for w in head[2:4] if w not in _BE_ADVERBS][:1]
    if noun_after and noun_after[0] in ARTICLES:
        return False  # "It's (also) a result that will force ...": "it" is the result
    # "It's destructive to the fabric ...": "to" before a noun is a preposition, not the
    # infinitive of "It is important to ..."
    after = [*head[3:], ""]  # the word after each; "" after the last
    clauses = [
        w for w, then in zip(head[2:], after, strict=False)
        if w in _COMPLEMENTIZERS and not (w == "to" and then in DETERMINERS)
    ]  # fmt: skip
    return be and bool(clauses)


_CONNECTIVE_OPENING = re.compile(r"^(?:But|And|So|Yet)\s+")


def dangling_pronoun(text: str) -> Problem | None:
    """A third-person pronoun, outside quotations, before anyone is named in the sentence
    ("He added that ...", "..., he said in the statement"); a leading "According to X," names
    an outlet, not the person meant. An opening that points back counts too."""
    back = points_back(text)
    if back:
        return back
    own = unquoted(_LEAD_ATTRIBUTION.sub("", normalize(text)))
    pronouns = word_list("pronouns")
    for match in re.finditer(r"[A-Za-z]+", own):
        word = match.group().lower()
        if word in _PLURAL_PRONOUNS:  # "Republicans promise to do all they can"
            if not _could_be_they(own[: match.start()]):
                detail = f'"{match.group()}" has no plural referent in the sentence'
                return Problem("pronoun", detail)
        elif word in pronouns and not _names_someone(own[: match.start()], person=True):
            return Problem("pronoun", f'"{match.group()}" has no referent in the sentence')
    return _object_of_its_subject(own) or _loose_it(own) or _quotation_points_back(text)


# A clause that is only a name and its verb before an object pronoun: "Speaker Ann Roe
# rejected it even before …", "Roe praised him". A non-reflexive object pronoun never stands
# for the subject of its own clause, so it stands for something in an earlier sentence.
# "her" is left out: it is also the possessive that the subject may own ("Roe left her post").
_SUBJECT_VERB_OBJECT = re.compile(
    r"^\s*(?:[A-Z][\w.'\u2019-]*\s+){1,5}(?:also\s+|quickly\s+|later\s+)?[a-z]+ed\s+"
    r"(it|him|them)\b(?!\s+(?:\w+\s+)?(?:that|to)\b)"
)


def _object_of_its_subject(own: str) -> Problem | None:
    """An object pronoun right after a subject that is only a name and its past-tense verb."""
    match = _SUBJECT_VERB_OBJECT.match(_CONNECTIVE_OPENING.sub("", own))
    if match is None:
        return None
    return Problem("pronoun", f'"{match.group(1)}" cannot stand for the subject before it')


def points_back(text: str) -> Problem | None:
    """Words that point to a sentence the reader has not seen, other than a personal pronoun:
    an opening "This"/"The move"/"Another", "those warnings", "about this process", "do so",
    "not the only". No rewording of the sentence alone can say what they mean (a speaker's
    "he" may still be named from the claim's credit)."""
    reference = dangling_reference(text)
    if reference:
        return reference
    own = unquoted(_LEAD_ATTRIBUTION.sub("", normalize(text)))
    loose = _loose_demonstrative(TRAILING_ATTRIBUTION.sub(".", own))
    if loose:
        return Problem("pronoun", f'"{loose}" points to things named in an earlier sentence')
    if _NOT_THE_ONLY.search(own):
        return Problem("pronoun", '"not the only" sets it against others named before')
    if further := _FURTHER.search(own):
        return Problem("pronoun", f'"{further.group()}" than something told before')
    if linking := _linking_adverb(normalize(text)):
        return Problem("pronoun", f'"{linking}" sets it against something told before')
    if done := _DO_SO.search(own):
        return Problem("pronoun", f'"{done.group()}" repeats an act named before')
    if _THAT_AS_SUBJECT.search(own):
        return Problem("pronoun", '"that" stands for something said before ("said that that is")')
    if same := _THE_SAME.search(own):
        return Problem("pronoun", f'"{same.group()}" as one named before')
    if _THEN_EARLY.match(own):
        return Problem("pronoun", '"then": after something told in an earlier sentence')
    if such := _SUCH.search(own):
        return Problem("pronoun", f'"{such.group()}" like ones named before')
    if pair := _THE_SET_DID.search(own):
        return Problem("pronoun", f'"{pair.group()}": a set counted in an earlier sentence')
    for owned_inside in _OWNED_SHELL_INSIDE.finditer(own):
        if owned_inside.group(3) in _SPOKEN_SHELLS:
            detail = f'"{owned_inside.group(1)}" points to words not shown'
            return Problem("pronoun", detail)
    owned = _OWNED_SHELL.match(own)
    if owned and owned.group(2) in word_list("shell_nouns") - {"former", "latter", "same"}:
        return Problem("pronoun", f'opens with "{owned.group(1)}", which names nothing')
    return None


# A credit before a quotation: a few words and a speech verb ("Roe said:", "Roe told CNN,").
_CREDIT_BEFORE = re.compile(
    rf"^(?:[\w.'\u2019-]+\s+){{1,{CREDIT_WINDOW}}}[a-z]+(?:\s+[A-Z][\w.]*){{0,3}}\s*[,:]?$"
)


def _quotation_points_back(text: str) -> Problem | None:
    """ "'It's finally over,' Roe is expected to say.": a quotation that opens the sentence (or
    follows only its credit) with "it", "this" or a shell noun for something the speaker
    named just before; the reader sees the words but not what they are about. A quoted
    personal pronoun is not judged here: the credit may name whom it means ("'She hates the
    party,' Roe said of Doe")."""
    own = _LEAD_ATTRIBUTION.sub("", normalize(text))
    for match in _QUOTED.finditer(own):
        before = own[: match.start()].strip()
        if before and not _credit_only(before):
            return None
        inside = match.group()[1:-1].strip()
        if not inside[:1].isupper():
            return None  # a quoted phrase inside the briefing's own sentence
        reference = dangling_reference(inside)
        if reference:
            return Problem("pronoun", f"the quotation {reference.detail}")
        return None
    return None


def _linking_adverb(text: str) -> str | None:
    """The first linking adverb ("however", "too") set off by commas that has nothing in its
    own sentence to link to. Quotations count: a speaker's "however" answers words not shown."""
    for match in _LINKING.finditer(text):
        if match.group(1) in word_list("linking_adverbs"):
            if _CONTRASTED_BEFORE.search(text[: match.start()]):
                return None
            return match.group(1)
    like = _LIKE_BEFORE.search(text)
    before = text[: like.start()] if like else ""
    after_be = bool(before.split()) and before.split()[-1].lower() in _BE  # "similarly worded"
    if like and not after_be and not _JOINED_BEFORE.search(before):
        return like.group(1)
    return None


def _credit_only(before: str) -> bool:
    """Whether the words before a quotation only say who speaks ("Roe said:", "Roe told CNN,")."""
    words = _words(before)
    verbs = word_list("speech_verbs")
    return bool(_CREDIT_BEFORE.match(before)) and any(w.lower() in verbs for w in words)


# "Roe said that that is a racist attack": after a clause's "that" (or a speech verb), "that"
# before a verb is a pronoun for what was said before.
_THAT_AS_SUBJECT = re.compile(
    r"\b(?:that|said|says|say)\s+that\s+(?:is|was|has|had|will|would|could|can|may|might)\b",
    re.IGNORECASE,
)
# "… flooding in the same region", "wrote on Twitter the same day": the same as one named
# before ("the same as …", "the same one that …" say which).
_THE_SAME = re.compile(
    r"\bthe same (?!(?:as|that|who|which|of|way|time)\b)[a-z]+\b(?!\s+(?:as|that|who|which|of)\b)",
    re.IGNORECASE,
)
# "The Trump campaign then circulated …": "then" in the first clause, before anything in the
# sentence it could follow ("then-Governor Roe" is a title; "If …, then …" is a condition).
_THEN_EARLY = re.compile(r"^[^,;:]{0,60}?\b(?<!\band )then\b(?!-)", re.IGNORECASE)
# "… criticized such attacks on character": like ones the reader was told of before.
_SUCH = re.compile(r"\bsuch (?!as\b|a\b|an\b)[a-z]+s\b", re.IGNORECASE)
# "… the two played together in a charity event": "the two" as the subject of a verb.
_THE_SET_DID = re.compile(
    r"\bthe (?:two|three|four) (?:[a-z]+ed|are|were|have|had|will|would|met|spoke|said)\b",
    re.IGNORECASE,
)
# "Rep. Roe backed Doe's comments in a press conference": remarks owned by someone, unquoted
# ("Roe's performance" or "Roe's decision" inside a sentence is a thing the sentence tells).
_SPOKEN_SHELLS = {
    "comment", "comments", "remark", "remarks", "statement", "statements", "claim", "claims",
    "allegation", "allegations", "accusation", "accusations", "suggestion", "words",
}  # fmt: skip
_OWNED_SHELL_INSIDE = re.compile(
    r"(?<=\s)(([A-Z][\w.]+)['\u2019]s? ([a-z]+))\b(?!\s+(?:that|to|of|by|on|about)\b)"
)
# "The president's comments come after …": a shell noun owned by someone, still unnamed.
_OWNED_SHELL = re.compile(
    r"^((?:the )?[\w.]+['\u2019]s? ([a-z]+))\b(?!\s+(?:that|to|of|by|on|about)\b)", re.IGNORECASE
)
# "A judge in Texas went much further in a December ruling": further than a step the reader
# was told of in an earlier sentence ("went further than the House bill" says which).
_FURTHER = re.compile(
    r"\b(?:go|goes|going|gone|went)\s+(?:(?:much|even|far|still|a step|one step|a bit)\s+)?"
    r"further\b(?!\s+than\b)",
    re.IGNORECASE,
)
# "The third quarter, however, was one for the record books.": a linking adverb set off by
# commas, with no clause of the same sentence before it to be set against ("Sales rose;
# profits, however, fell" holds both).
_LINKING = re.compile(r",\s+([a-z]+)\s*(?:,|[.!?][\"'\u201d\u2019]*$)")
_CONTRASTED_BEFORE = re.compile(r"[;:]|\b(?:but|while|whereas|although)\b", re.IGNORECASE)
# "MoveOn.org similarly panned the agreement": like someone named in a sentence not shown.
_LIKE_BEFORE = re.compile(r"(?<=[\w,] )(similarly|likewise) [a-z]+(?:ed|s)\b")
_JOINED_BEFORE = re.compile(r"[;:]|\b(?:and|but|while|whereas|as)\b", re.IGNORECASE)
# "Broward seems unable to do so": the act was named in a sentence the reader has not seen.
_DO_SO = re.compile(r"\b(?:do|does|did|doing|done)\s+so\b", re.IGNORECASE)
# "Conservatives weren't the only ones taking sides.": others, named in a sentence not shown.
_NOT_THE_ONLY = re.compile(r"(?:\bnot|n['\u2019]t|\bnever)\s+the\s+only\b", re.IGNORECASE)
# Words before "it" that may be its referent: a noun after a determiner ("the law ... it").
_DETERMINED_NOUN = re.compile(rf"\b(?:{'|'.join(sorted(DETERMINERS))})\s+[a-z]")


_PLURAL_PRONOUNS = {"they", "them", "their", "theirs", "themselves"}
_NOT_PLURAL_ENDINGS = ("ss", "us", "is", "ws")  # "press", "status", "crisis", "news"


def _could_be_they(before: str) -> bool:
    """Whether the words before "they"/"them" hold what it may stand for: two names, or a
    word that may be a plural noun ("officials", "Democrats"). "China matched them dollar for
    dollar" names one country, and "them" is something the reader was told before."""
    if len(names_in(before)) > 1:
        return True
    return any(
        len(w) > 3 and w.lower().endswith("s") and not w.lower().endswith(_NOT_PLURAL_ENDINGS)
        for w in re.findall(r"[A-Za-z]+", before)
    )


def _loose_it(own: str) -> Problem | None:
    """ "Billions of dollars are at stake if it is allowed to go forward.": "it" in the middle
    of a sentence with nothing before it that it could stand for (no name, no noun after a
    determiner); the thing was named in a sentence the reader has not seen."""
    for match in re.finditer(r"\b[Ii]ts?\b", own):
        if match.start() == 0:
            continue  # an opening "it" is judged by dangling_reference
        before = own[: match.start()]
        if _names_someone(before) or _DETERMINED_NOUN.search(before.lower()):
            return None
        if _empty_it(own[match.start() :]) and not _raised_it(own[match.start() :]):
            continue  # "..., and it is unclear whether ..."
        return Problem("pronoun", f'"{match.group()}" stands for nothing named before it')
    return None


def _names_someone(before: str, person: bool = False) -> bool:
    """Whether a name before a pronoun may be what it stands for. An opening capitalised plural
    ("Billions of dollars ...", "Votes counted so far show the paths both he ...") is a common
    noun, and never an "it" or a "he". For a `person` ("he", "her"), an acronym is a body
    ("heads of the CIA say what he's saying"), never the one meant."""
    found = names_in(before)
    first = re.match(r"[A-Z][a-z]+s\b", before.lstrip("\"'\u201c("))
    if first and not first.group().endswith("ss"):
        found -= names_in(first.group())
    if person:
        found -= {n for a in _ACRONYM.findall(before) for n in names_in(a)}
    return bool(found)


_ACRONYM = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z]{2,}\b")


def _raised_it(text: str) -> bool:
    """ "it is allowed to go forward": a participle and "to" after "it is" make "it" the thing
    allowed, not the empty subject of "it is important to"."""
    head = [w.lower() for w in re.findall(r"[A-Za-z]+", text)[:6]]
    rest = [w for w in head[2:] if w != "not"]
    return len(rest) > 1 and rest[0].endswith("ed") and rest[1] == "to"


def first_person(text: str) -> Problem | None:
    """First person outside quotation marks reads as the briefing speaking."""
    listed = word_list("first_person")
    for raw in re.findall(r"[A-Za-z]+", unquoted(text)):
        word = raw.lower()
        if word not in listed:
            continue
        if word == "us" and raw != "us":
            continue  # "US" is the country
        if word == "i" and raw != "I":
            continue
        return Problem("first_person", f'"{raw}" outside quotation marks')
    for raw in re.findall(r"[A-Za-z]+", unquoted(text)):
        if raw.lower() in word_list("second_person"):
            return Problem("first_person", f'"{raw}" outside quotation marks addresses the reader')
    return _unnamed_speaker(text)


def _unnamed_speaker(text: str) -> Problem | None:
    """A quotation in the first or second person needs its speaker named with a reporting
    verb: an outlet ("according to X") did not say "I", nor address "you"."""
    listed = (word_list("first_person") - {"us"}) | word_list("second_person")
    # an article cited by its headline ("according to “While you weren't looking …”") is
    # a name, not a quotation
    inside = " ".join(m.group() for m in _QUOTED.finditer(_uncredited(text)))
    if not any(w in listed for w in re.findall(r"[a-z]+", inside.lower())):
        return None
    verbs = word_list("reporting_verbs") - {"according"}
    outside = [w.lower() for w in re.findall(r"[A-Za-z]+", unquoted(text))]
    if any(w in verbs for w in outside):
        return None
    return Problem("first_person", "a first-person quotation with no speaker named")


def empty_attribution(text: str) -> Problem | None:
    """ "according to article and article", "according to multiple sources": names no one;
    nor does a sentence that is only a quotation."""
    if _CITATION_MARK.search(text) or "unknown outlet" in text.lower():
        return Problem("attribution", "cites an article number instead of a name")
    if not re.search(r"[A-Za-z0-9]", unquoted(text)):
        return Problem("attribution", "a quotation with no one named as its speaker")
    generic = word_list("generic_sources")
    titled = _QUOTED.sub(" Title ", normalize(text))  # an article cited by its quoted title
    for match in _ACCORDING.finditer(titled):
        words = [w.lower() for w in _words(match.group(1))]
        if words and all(w in generic or w.isdigit() for w in words):
            return Problem("attribution", f'"according to {match.group(1).strip()}" names no one')
    return None


# A quotation's closing words and the verb after them ('…go well," said'; '…go well," Rep.').
_AFTER_QUOTATION = re.compile(r"[,!?][\"\u201d\u2019]\s*(?:[a-z]+\s+)?$")


def speaker_only(text: str, quotes: Sequence[str]) -> Problem | None:
    """The credit of a quotation without the quotation: '"It went badly," Rep. Jane Roe told
    a colleague, Sen. John Doe.' shortened to "Rep. Jane Roe told a colleague, Sen. John Doe."
    (NeuS dev neus-088). It says who spoke, not what they said."""
    body = _uncredited(text)
    if len(body.split()) < 2:
        return None
    for quote in quotes:
        quote = normalize(quote)
        at = quote.find(body)
        if at > 0 and _AFTER_QUOTATION.search(quote[:at]):
            return Problem("fragment", "names who spoke a quotation but not what they said")
    return None


def credited(text: str) -> str:
    """The words that say who speaks: "according to X" and the words just before a
    reporting verb ("X said", "with X confirming")."""
    text = _QUOTED.sub(" quotation, ", normalize(text))
    parts = [m.group(1) for m in _ACCORDING.finditer(text)]
    words = text.split()
    verbs = word_list("speech_verbs")
    for i, word in enumerate(words):
        if word.lower().strip(",.;:") in verbs:
            parts.append(" ".join(words[max(0, i - CREDIT_WINDOW) : i]))
            after = words[i + 1 : i + 3]  # '..., said Roe.' (inverted after a quotation)
            inverted = i > 0 and words[i - 1].endswith((",", '"', "\u201d"))
            if inverted and after and after[0][:1].isupper():
                parts.append(" ".join(after))
    return " ".join(parts)


def misattribution(text: str, quotes: Sequence[str], sources: Sequence[str]) -> Problem | None:
    """The sentence credits a party that neither the quotes credit nor is a cited source."""
    speaking = credited(text)
    if not speaking.strip():
        return None
    allowed = [*sources, *(credited(q) for q in quotes)]
    wrong = [m for m in unsupported(speaking, allowed) if m.kind == "name"]
    if wrong:
        return Problem("misattribution", f"credits {wrong[0].value}, whom no quote credits")
    return None


def loaded_words(text: str) -> list[str]:
    """Words of `loaded_words` the sentence says in its own voice (outside quotation marks)."""
    listed = word_list("loaded_words")
    own = re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", unquoted(text))
    return list(dict.fromkeys(w for w in own if w.lower() in listed))


def loaded(text: str) -> Problem | None:
    """Loaded wording in the briefing's own voice: a judgment, not a fact."""
    found = loaded_words(text)
    return Problem("loaded", ", ".join(f'"{w}"' for w in found)) if found else None


def without_sources(text: str, sources: Sequence[str]) -> str:
    """The sentence with every mention of a cited source's name taken out (longest first)."""
    text = normalize(text)
    for source in sorted({normalize(s) for s in sources if s.strip()}, key=len, reverse=True):
        text = text.replace(source, " ")
    return text


def _foreign_letters(text: str) -> set[str]:
    """Letters outside the Latin script (Latin with accents, as in names, is allowed)."""
    return {c for c in text if c.isalpha() and ord(c) > 0x24F}


def grounding_problem(text: str, quotes: Sequence[str], sources: Sequence[str]) -> Problem | None:
    """A name, number, date or time that is in no cited quote (in the same form). A source's
    name supports only itself: a headline cited as the source lends its words to nothing
    else in the sentence."""
    missing = unsupported(without_sources(text, sources), list(quotes))
    if missing:
        return Problem("unsupported", ", ".join(str(m) for m in missing) + " in no cited quote")
    foreign = _foreign_letters(text) - set().union(*(_foreign_letters(q) for q in quotes))
    if foreign:  # a small model drifts into another language mid-sentence ("whistleblower投诉")
        return Problem("unsupported", f'"{"".join(sorted(foreign))[:8]}" in no cited quote')
    quoted_times = set().union(*(times_in(normalize(q)) for q in quotes)) if quotes else set()
    for value in sorted(times_in(normalize(text)) - quoted_times):
        return Problem("unsupported", f'time "{value}" is not written so in a cited quote')
    if is_boilerplate(text):
        return Problem("unsupported", "copies advertising or donation text")
    if is_instruction_like(text):
        return Problem("unsupported", "reads as an instruction to a model (text from an article)")
    return off_topic(text, quotes, sources)


def off_topic(text: str, quotes: Sequence[str], sources: Sequence[str] = ()) -> Problem | None:
    """A sentence most of whose content words are in no cited quote says something else
    (a small model writing one group's point under another group's id)."""
    own = term_set(without_sources(text, sources))
    if len(own) < MIN_TERMS_ON_TOPIC:
        return None
    quoted = term_set(" ".join(quotes))
    share = len(own & quoted) / len(own)
    if share < MIN_ON_TOPIC:
        return Problem("unsupported", f"only {share:.0%} of its words are in the cited quotes")
    return None


def sentence_problems(
    text: str, quotes: Sequence[str], sources: Sequence[str] = ()
) -> list[Problem]:
    """Every problem of one briefing sentence resting on `quotes`; `sources` are the names it
    may credit besides them (the cited outlets, the speakers the claims name)."""
    found = [
        grounding_problem(text, quotes, sources),
        fragment(text) or speaker_only(text, quotes),
        dangling_pronoun(text),
        first_person(text),
        empty_attribution(text),
        misattribution(text, quotes, sources),
        loaded(text),
    ]
    return [p for p in found if p is not None]


def stands_alone(text: str) -> bool:
    """A source sentence fit to be quoted on its own: whole, no leading pronoun, no first
    person outside quotes."""
    return not (fragment(text) or dangling_pronoun(text) or first_person(text))


def inside_quotation(article_text: str, start: int) -> bool:
    """Whether a position of an article lies inside a quotation: its paragraph opens a
    quotation mark before it and has not closed it (a quotation that runs on into the next
    paragraph opens again there, as news style has it)."""
    paragraph = article_text[article_text.rfind("\n", 0, start) + 1 : start]
    curly = paragraph.count("\u201c") - paragraph.count("\u201d")
    return curly > 0 or paragraph.count('"') % 2 == 1


# a quotation's opening mark, before a word, an editor's bracket ("[T]he …") or an ellipsis
_OPENING_MARK = re.compile(r"^[\"\u201c\u2018'](?:\[|\.\.\.\s?|\u2026\s?)?\w")


def speech_without_speaker(quote: str, article_text: str, start: int) -> bool:
    """A source sentence that is someone's words with the speaker left in another sentence
    ('"…," he said. "America is not a clown show."'): quoted whole, it would read as the
    outlet's own report, so it is no outlet's claim to state. Speech that names its credit
    ('"…," Roe said.') is judged by the other checks."""
    opened = inside_quotation(article_text, start)
    if not opened and not _OPENING_MARK.match(quote.lstrip()):
        return False
    text = normalize(('"' if opened else "") + quote)
    if _QUOTED.search(text) is None:
        return True  # a mark never closed: all of it is the quotation
    own = {w.lower() for w in re.findall(r"[A-Za-z]+", unquoted(text))}
    return not own & credit_verbs()


def credit_verbs() -> frozenset[str]:
    """Verbs that credit words to someone: speech ("said", "told") and reporting ("reported",
    "according")."""
    return word_list("speech_verbs") | word_list("reporting_verbs")
