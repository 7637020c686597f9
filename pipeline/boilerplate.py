"""Split an article's text into kept sentences, dropped boilerplate and headings.

Scraped news text carries a lot that is not reporting: donation and subscription appeals,
photo captions, navigation labels ("More News", "Read more"), language menus, outlet/date
footers. If those reach the claim extractor they become "claims" ("The Independent is trusted by
Americans across the entire political spectrum"), so they are cut here, before any model sees
the text. Text that addresses an AI model ("ignore all previous instructions") is treated the
same way: it is data about the article, never an instruction, and is dropped and counted.

Everything is a named, documented rule in one of five tables, applied in this order:

1. `TAIL_BLOCKS`  - an appeal opener at the start of a line ("A Message from X:") removes
   everything from there to a closer ("Remind me later.") or to the end of the article, but
   only if the block really is an appeal (it mentions support/donate/subscribe...).
2. `LINE_RULES` and `is_dateline` - a whole line that is only a navigation label, a language
   menu, a byline, a copyright notice, or an outlet/date footer.
3. `APPEAL_PHRASES`/`APPEAL_HINTS` - a paragraph with two different appeal phrases (one of them
   unambiguous) goes entirely; `PARAGRAPH_TAIL_OPENERS` - a strong appeal opener ("Your support
   helps us") removes from the opener to the end of its paragraph.
4. `INLINE_RULES` - a span inside a paragraph: photo captions up to their credit
   ("open image in gallery ... ( AP )", "Photo: ... (Getty Images)"), a stray "date 2025-11-07";
   if none matched, `CAPTION_LINE` drops a short line ending in a credit ("... ( AP )").
5. `SENTENCE_RULES`, `INJECTION_PATTERNS` and `injection_rules` - after sentence splitting,
   single sentences that are appeals or instruction-like text: known phrases, and general shapes
   of an instruction to the model built from the word lists in `data/injection_cues.yaml`. An
   instruction-like sentence also takes the rest of its paragraph with it (what follows an
   injection opener is its payload).

Sentence splitting (pysbd) is quadratic in the length of what it is given, so a long region is
first cut into pieces of at most `SEGMENT_CHARS`, at a sentence end or else at a space.

Headings are not claims: a region that is one short line (at most `HEADING_MAX_WORDS` words)
without sentence-ending punctuation, a Markdown `#` line, or a line equal to the title is left
out of `sentences`, but it is not boilerplate either, so it is not listed in `removed`.
All spans are (start, end) into the text given, trimmed of whitespace, sorted, non-overlapping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipeline.text import word_list

Span = tuple[int, int]

HEADING_MAX_WORDS = 16
"""Headlines run 6-16 words; a longer unpunctuated line is more likely a sentence missing its
full stop than a heading, so it is kept."""

_TERMINAL = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_HAS_WORD = re.compile(r"\w")

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
DATE = (
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"
    rf"|\d{{1,2}}\s+{_MONTHS},?\s+\d{{4}}"
    rf"|{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4})"
)
_DATE_RE = re.compile(DATE, re.I)

# Photo credits that end a caption: agencies, or anything naming images/photos/a pool.
CREDIT = (
    r"\(\s*(?:AP|AFP|Reuters|Getty(?:\s+Images)?|EPA(?:-EFE)?|PA(?:\s+Wire)?|Shutterstock|"
    r"Alamy|Bloomberg|Sputnik|TASS|Xinhua|Anadolu|"
    r"[^()\n]{0,40}(?:Images?|Photos?|Pool|/)[^()\n]{0,40})\s*\)"
)


@dataclass(frozen=True)
class Rule:
    """A named pattern and why it exists; `pattern` is matched as documented per table."""

    name: str
    pattern: re.Pattern[str]
    why: str


@dataclass(frozen=True)
class BlockRule:
    """From `opener` (at a line start) through `closer` or the end of the text, if `confirm`."""

    name: str
    opener: re.Pattern[str]
    closer: re.Pattern[str] | None
    confirm: re.Pattern[str]
    why: str


def _r(pattern: str, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(pattern, flags)


APPEAL_WORDS = _r(r"\b(?:support|donat\w*|contribut\w*|subscri\w*|membership|paywall)")

TAIL_BLOCKS: tuple[BlockRule, ...] = (
    BlockRule(
        "message-from-outlet",
        _r(r"^[ \t]*A message from [^:\n]{1,80}:", re.I | re.M),
        _r(r"\b(?:Remind me later|Maybe later|Not now|No,? thanks)\b\.?"),
        APPEAL_WORDS,
        "The Moscow Times style end-of-article donation box with a dismiss button.",
    ),
    BlockRule(
        "dear-readers",
        _r(r"^[ \t]*Dear (?:readers?|friends|subscribers?),?[ \t]*$", re.I | re.M),
        _r(r"\b(?:Remind me later|Maybe later|Not now|No,? thanks)\b\.?"),
        APPEAL_WORDS,
        "An appeal addressed to the readers, running to the end of the article.",
    ),
)

_LANG_CODES = [
    "en",
    "ru",
    "ua",
    "uk",
    "de",
    "fr",
    "es",
    "it",
    "pl",
    "pt",
    "nl",
    "tr",
    "ar",
    "zh",
    "ja",
    "ko",
    "be",
    "kk",
    "ka",
    "ro",
    "hu",
    "cs",
    "sk",
    "bg",
    "sr",
    "hr",
    "sl",
    "lt",
    "lv",
    "et",
    "fi",
    "sv",
    "no",
    "da",
    "el",
    "he",
    "fa",
    "hi",
    "az",
    "hy",
]
_LANG_NAMES = [
    "english",
    "русский",
    "українська",
    "deutsch",
    "français",
    "español",
    "italiano",
    "polski",
    "português",
    "türkçe",
    "беларуская",
    "қазақша",
]
_LANG_TOKEN = "(?:" + "|".join(_LANG_CODES + _LANG_NAMES) + ")"

NAV_LABELS = (
    "more",
    "more news",
    "more stories",
    "read more",
    "read next",
    "read also",
    "see also",
    "related",
    "related (?:articles|stories|news|content|topics)",
    "advertisement",
    "sponsored(?: content)?",
    "share",
    "share (?:this|the) (?:article|story)",
    "support now",
    "subscribe(?: now)?",
    "sign up",
    "log ?in",
    "comments?",
    "show comments",
    "skip to (?:main )?content",
    "top stories",
    "most (?:read|popular|viewed)",
    "latest(?: news)?",
    "back to top",
    "print",
    "email",
    "remind me later",
    "listen to (?:this )?article",
    "follow us(?: on [\\w ,&]{1,40})?",
    "you (?:may|might) also like",
    "recommended(?: for you)?",
    "trending(?: now)?",
    "tags?\\s*:.{0,80}",
)

LINE_RULES: tuple[Rule, ...] = (
    Rule(
        "nav-label",
        _r(r"(?:" + "|".join(NAV_LABELS) + r")[\s.:!>»›→…]*"),
        "A line that is only a site navigation label or button.",
    ),
    Rule(
        "language-menu",
        _r(rf"{_LANG_TOKEN}(?:(?:\s+|\s*[|/•·,]\s*){_LANG_TOKEN})+"),
        'A language switcher such as "ua en ru".',
    ),
    Rule(
        "byline",
        _r(
            r"(?i:by|words by|written by)\s+[A-Z][\w.'’-]+(?:\s+(?i:and\s+)?[A-Z][\w.'’-]+){0,5}",
            0,
        ),
        'A bare "By Jane Doe" line; the author is metadata, not a claim.',
    ),
    Rule(
        "copyright",
        _r(r"(?:©|\(c\)|copyright\b).{0,160}|all rights reserved\.?"),
        "Copyright notices.",
    ),
)

CAPTION_LINE = Rule(
    "credit-line",
    _r(rf"(?:\S+\s+){{0,40}}?\S*\s*{CREDIT}"),
    'A short line ending in a photo credit such as "( AP )" is a caption. Checked after the'
    " inline caption rules, so a headline followed by its caption keeps the headline.",
)

# Capitalised words, the date and separators only: "The Kyiv Independent — 2025-11-07".
_FOOTER_FILLER = re.compile(
    r"(?:\b[A-Z][\w.'’&-]*|\b(?:the|of|on|at|by|and|updated|published|posted)\b|[—–|·•,:-])",
)


def is_dateline(line: str) -> bool:
    """An outlet/date footer or header: short, unpunctuated, and only names plus a date."""
    words = line.split()
    if len(words) > 12 or (_TERMINAL.search(line) and not line.endswith(":")):
        return False
    match = _DATE_RE.search(line)
    if not match:
        return False
    rest = (line[: match.start()] + " " + line[match.end() :]).strip()
    return not _FOOTER_FILLER.sub(" ", rest).strip()


PARAGRAPH_TAIL_OPENERS: tuple[Rule, ...] = (
    Rule(
        "support-helps-us",
        _r(r"\bYour support helps us\b"),
        "The Independent's donation box; it runs to the end of its paragraph.",
    ),
    Rule(
        "support-now-button",
        _r(r"\bSupport Now\b", 0),
        'A "Support Now" button label (case-sensitive: "support now" can be prose).',
    ),
    Rule(
        "support-journalism",
        _r(r"\b(?:please )?support (?:independent|quality|our) journalism\b"),
        "Generic journalism appeal.",
    ),
    Rule(
        "newsletter",
        _r(r"\b(?:sign up|subscribe) (?:for|to) (?:our|the) (?:[\w-]+ ){0,3}newsletters?\b"),
        "Newsletter sign-up boxes.",
    ),
    Rule(
        "already-subscriber",
        _r(r"\balready an? (?:subscriber|member)\?"),
        "Paywall prompts.",
    ),
    Rule(
        "become-subscriber",
        _r(r"\bbecome an? (?:paying )?(?:subscriber|patron)\b"),
        "Subscription prompts.",
    ),
)

APPEAL_PHRASES: tuple[Rule, ...] = (
    Rule("your-support", _r(r"\byour support (?:helps|makes|means|matters|allows|keeps)\b"), ""),
    Rule(
        "your-donation",
        _r(r"\byour (?:donation|contribution|subscription)s? (?:allows|helps|keeps|makes|mean)"),
        "",
    ),
    Rule("support-us-monthly", _r(r"\bsupport us (?:monthly|today|now|with a)\b"), ""),
    Rule(
        "make-donation",
        _r(r"\bmak(?:e|ing) an? (?:one-off |one-time |monthly |small )?(?:donation|contribution)"),
        "",
    ),
    Rule("every-contribution", _r(r"\bevery (?:contribution|donation)\b"), ""),
    Rule("thank-you", _r(r"\bthank you for standing with us\b"), ""),
    Rule(
        "journalism-for-all",
        _r(r"\bjournalism should be (?:available|free|open) to everyone"),
        "",
    ),
    Rule("paid-for-by", _r(r"\bpaid for by (?:those|readers|people) who\b"), ""),
    Rule("paywalls", _r(r"\bout of our (?:reporting|journalism)\b.{0,40}\bpaywalls?\b"), ""),
    Rule("from-just", _r(r"\bstarting (?:from|at) just [$€£]\d"), ""),
)
"""Reader-appeal phrases no news sentence uses. One hit removes the sentence; two different
appeal phrases or hints in one paragraph (at least one from here) remove the whole paragraph,
because appeal boxes come as a block."""

APPEAL_HINTS: tuple[Rule, ...] = (
    Rule("please-support-us", _r(r"\bplease support us\b"), ""),
    Rule("need-your-help", _r(r"\bwe need your (?:help|support)\b"), ""),
    Rule("thank-you-support", _r(r"\bthank you for (?:your support|supporting us|reading)\b"), ""),
    Rule("your-donation-any", _r(r"\byour (?:donation|contribution)\b"), ""),
    Rule("independent-journalism", _r(r"\bindependent journalism\b"), ""),
)
"""Phrases a quoted official might also say ("we need your help"): they never remove a
sentence alone, only add to a paragraph's appeal count."""

APPEAL_PARAGRAPH_HITS = 2

SENTENCE_RULES: tuple[Rule, ...] = (
    Rule(
        "nav-sentence",
        _r(r"(?:read more|support now|remind me later|more news|click here.{0,60})[\s.!]*"),
        "A sentence that is only a button label (full match).",
    ),
)

INJECTION_PATTERNS: tuple[Rule, ...] = (
    Rule(
        "ignore-instructions",
        _r(
            r"\b(?:ignore|disregard|forget|override|skip)\b.{0,40}?"
            r"\b(?:previous|prior|above|earlier|preceding|all|any|your|the)\b.{0,30}?"
            r"\b(?:instructions?|prompts?|rules|directions|directives|guidelines|context)\b"
        ),
        'Classic "ignore all previous instructions".',
    ),
    Rule(
        "disregard-above", _r(r"\bdisregard (?:the|all|any(?:thing)?) (?:above|previous|prior)"), ""
    ),
    Rule("you-are-now", _r(r"\byou are now\b"), "Role reassignment."),
    Rule("system-prompt", _r(r"\bsystem prompt\b"), ""),
    Rule(
        "as-an-ai",
        _r(
            r"\bas an? (?:ai|a\.i\.|artificial intelligence|llm|large language model|"
            r"language model)\b"
        ),
        "",
    ),
    Rule("new-instructions", _r(r"\bnew instructions?\s*:"), ""),
    Rule(
        "address-model",
        _r(
            r"\b(?:note|message|instructions?) (?:to|for) (?:the |any )?"
            r"(?:ai|llm|model|assistant|summari[sz]er|chatbot|language model)s?\b"
        ),
        "Text that addresses the model reading it.",
    ),
    Rule(
        "hey-model",
        _r(
            r"^\W*(?:dear |hey )?(?:ai|llm|assistant|chatgpt|chatbot|language model)s?\s*[,:]\s*"
            r"(?:please\s+)?(?:ignore|write|output|respond|reply|say|print|summari[sz]e|state|"
            r"report|include|do not|don't)\b"
        ),
        "A sentence opened by addressing an AI.",
    ),
    Rule(
        "chat-tokens",
        _r(
            r"<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?INST\]|^#{2,}\s*(?:system|instruction)"
        ),
        "Chat-template control tokens.",
    ),
    Rule("mode-switch", _r(r"\b(?:developer|DAN|jailbreak) mode\b"), ""),
)

_MD_HEADING = re.compile(r"^#{1,6}\s")
_MARKER = re.compile(r"^(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d{1,3}[.)]\s+)+")


@dataclass
class Cleaned:
    """Result of `clean`: spans into the text, plus counts for warnings."""

    sentences: list[Span] = field(default_factory=list)
    removed: list[Span] = field(default_factory=list)
    headings: list[Span] = field(default_factory=list)
    injections: int = 0
    first_heading: Span | None = None
    rule_hits: dict[str, int] = field(default_factory=dict)

    def hit(self, name: str) -> None:
        self.rule_hits[name] = self.rule_hits.get(name, 0) + 1


def is_instruction_like(sentence: str) -> bool:
    """True for text that addresses an AI model (prompt injection): a known phrase from
    `INJECTION_PATTERNS`, or one of the general shapes of `injection_rules`."""
    return any(rule.pattern.search(sentence) for rule in INJECTION_PATTERNS) or any(
        rule.pattern.search(sentence) for rule in injection_rules()
    )


DATA_DIR = Path(__file__).resolve().parent / "data"


def _alternation(words: list[str]) -> str:
    """A regex alternation of phrases, longest first, spaces matching any whitespace."""
    ordered = sorted({w.lower() for w in words}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered) + ")"


@lru_cache(maxsize=1)
def injection_rules() -> tuple[Rule, ...]:
    """General shapes of an instruction to the model reading the article, built from the word
    lists in `data/injection_cues.yaml` (sources noted there). Each needs two signals (who is
    addressed, or an order, plus what it is about), so news that merely mentions AI, or quotes
    an order to people, is kept."""
    cues = yaml.safe_load(DATA_DIR.joinpath("injection_cues.yaml").read_text("utf-8"))
    addr = _alternation(cues["addressees"]) + "s?"
    out = _alternation(cues["output_nouns"])
    reply = _alternation(cues["output_nouns"] + cues["reply_nouns"])
    order = _alternation(cues["directives"])
    work = _alternation(cues["processing"])
    role = _alternation(cues["role_markers"])
    lead = r"^\W*(?:(?:please|kindly|now|also|and|then|finally|instead)\b[\s,]*)*"
    then = r"\s*[,:;!\u2014\u2013-]+\s*(?:(?:please|kindly|now|also|from now on)\b[\s,]*)*"
    you_order = r"you\s+(?:must|should|shall|will|need to|have to|are to|are going to|may)\b"
    override = _alternation(cues["override_verbs"])
    overridden = _alternation(cues["override_objects"])
    persona = _alternation(cues["persona_verbs"])
    documents = rf"(?:{reply}|article|story|page|passage|document)"
    material = rf"(?:this|these|the\s+following|(?:the|this|your)\s+{documents})"
    return (
        Rule(
            "note-to-model",
            _r(
                rf"^\W*(?:(?:note|message|memo|instructions?|a\s+word|reminder)\s+(?:to|for)|"
                rf"attention|to)\s*[,:]?\s+(?:the\s+|any\s+|all\s+|every\s+)?{addr}"
                rf"\s*[:,;!\u2014\u2013-]"
            ),
            'A sentence headed to a model ("Attention AI:", "Note to any summarization '
            'system:"); "Attention, AI investors" or "to AI companies" is news.',
        ),
        Rule(
            "override-own-rules",
            _r(
                rf"{lead}{override}\b.{{0,40}}?\b(?:what\s+you\s+(?:were|have\s+been)\s+"
                rf"(?:told|given|asked|instructed)|(?:your\s+(?:\w+\s+)?|the\s+)?{overridden}|"
                rf"(?:everything|anything|all)\s+(?:that\s+)?you(?:'ve|\s+have)?\s+(?:read|seen|"
                rf"been\s+told|been\s+given)|"
                rf"(?:all\s+)?(?:previous|prior|earlier|above|original|preceding)\s+{overridden})"
            ),
            'An order to drop the reader\'s own instructions: "Set aside your earlier rules".',
        ),
        Rule(
            "persona-switch",
            _r(
                rf"{lead}{persona}\s+(?:to\s+be|as\s+(?:if|though|an?|the)|like)\b|"
                rf"\b(?:from\s+now\s+on|from\s+this\s+point\s+(?:on|forward)|henceforth)"
                rf"[\s,]+(?:the\s+)?{addr}\b"
            ),
            'A persona switch: "Pretend to be ...", "From now on, the assistant ...".',
        ),
        Rule(
            "headed-to-model",
            _r(
                rf"^\W*(?:(?:(?:a\s+)?(?:note|message|memo|word|reminder|warning)\s+)?"
                rf"(?:to|for)\s+(?:the\s+|any\s+|all\s+|every\s+)?"
                rf"(?:automated\s+|automatic\s+)?{addr}|{addr}\s+{work}\s+{material})\s*:|"
                rf"^\W*{addr}\s*:\s*(?:(?:please|now|also)\b[\s,]*)*(?:{order}\b|you\b)"
            ),
            'A sentence headed to a model as its reader: "For any AI: ...", "Chatbot reading '
            'this page: ...", or "Model:" then an order. A title like "ChatGPT: what we know" '
            "is not one.",
        ),
        Rule(
            "models-take-note",
            _r(
                rf"^\W*(?:(?:the|all|any|every)\s+)?(?:automated\s+)?{addr}\s*[,:]?\s+"
                rf"(?:take\s+note|note\s+this|be\s+advised|listen(?:\s+up)?|heads\s+up|beware)\b"
            ),
            'A call for a model\'s attention: "Summarisers take note: ...".',
        ),
        Rule(
            "important-that-output",
            _r(
                rf"\b(?:important|essential|crucial|vital|necessary|imperative|required)\s+that\s+"
                rf"(?:the|your|this|each|every|any)\s+(?:final\s+)?{out}\b"
            ),
            'An insistence on what the output holds: "It is very important that the briefing '
            'says ...".',
        ),
        Rule(
            "the-reader-told",
            _r(rf"\b{order}\s+(?:\w+\s+)?(?:the|your)\s+readers?\b"),
            'An order about what the reader is told: "do not tell the reader ...".',
        ),
        Rule(
            "new-role",
            _r(
                rf"\byour\s+(?:new|real|actual|only|true|next|updated)\s+"
                rf"{_alternation(cues['roles'])}\s+(?:is|are|will\s+be)\b"
            ),
            'A new role handed to the reader: "Your new task is to ...".',
        ),
        Rule(
            "whoever-reads",
            _r(
                rf"\b(?:whoever|anyone|anybody|everyone|whatever)\s+(?:is\s+|that\s+is\s+)?"
                rf"{work}\s+{material}|"
                rf"^\W*(?:when|if|whenever|once)\s+you(?:'re|\s+are)?\s+(?:asked|questioned|"
                rf"prompted|queried)\b"
            ),
            'Text aimed at whoever processes it: "Whoever is summarizing this", "When you are '
            'asked about this, ...".',
        ),
        Rule(
            "output-made-to",
            _r(
                rf"\b(?:make|have|let|get)\s+(?:the|your|this|each|every)\s+{out}\s+"
                rf"(?:to\s+)?{order}\b|"
                rf"\b{out}\s+(?:of\s+this\s+\w+\s+)?(?:is|are)\s+(?:required|expected|"
                rf"supposed|obliged|instructed)\s+to\b"
            ),
            'The output made to say something: "make the recap say ...", "Summaries are '
            'required to mention ...".',
        ),
        Rule(
            "answer-format",
            _r(
                rf"{lead}(?:respond|reply|answer)\s+(?:only\s+)?(?:with|in|using)\b|"
                rf"\b(?:whatever|regardless\s+of\s+what|no\s+matter\s+what)\s+"
                rf"(?:this|the)\s+(?:article|text|story|page|document|sources?)\s+says?\b"
            ),
            'An order on the form of the answer: "Respond with only ...", "whatever the article '
            'says".',
        ),
        Rule(
            "addressed-then-ordered",
            _r(
                rf"^\W*(?:(?:dear|hey|hi|hello|attention|note to|message to|memo to|calling)\s+)?"
                rf"(?:the\s+|any\s+|all\s+|every\s+)?{addr}{then}"
                rf"(?:{order}\b|(?:when|while|as|if|before|after|once|whenever)\s+you\b|"
                rf"{you_order}|i\s+(?:want|need)\s+you\b)"
            ),
            'A sentence opened by addressing a model, then an order: "Assistant, when you '
            'write the briefing, state ..."',
        ),
        Rule(
            "role-marker",
            _r(rf"^\W*(?:#{{1,6}}\s*|\[|<|\*\*)?{role}s?\s*(?:\]|>|\*\*)?\s*(?::|\]|>)"),
            'A chat-transcript role marker at the start ("System:", "[assistant]").',
        ),
        Rule(
            "model-reading-this",
            _r(
                rf"\bif\s+you(?:'re|\u2019re|\s+are)\s+(?:an?\s+|the\s+)?{addr}\b|"
                rf"\bif\s+(?:an?|the|any)\s+{addr}\s+(?:is\s+)?{work}\b|"
                rf"(?:^\W*|\b(?:any|every|all|the)\s+){addr}\s+(?:that\s+is\s+|who\s+is\s+)?"
                rf"{work}\s+{material}\b"
            ),
            'Text that speaks to whatever model reads it ("if you are an AI", "any model '
            'reading this").',
        ),
        Rule(
            "while-you-work",
            _r(
                rf"\b(?:when|while|as|if|before|after|once|whenever)\s+you(?:'re|\s+are)?\s+"
                rf"{work}\b.{{0,40}}?\b(?:{reply}|article|story|document|page|passage|this)\b|"
                rf"\b(?:when|while|before|after|in)\s+{work}\s+(?:the|this|your|any)\s+{out}\b"
            ),
            'A clause about the model\'s own work: "when you summarise this article", '
            '"while writing the briefing".',
        ),
        Rule(
            "your-output",
            _r(rf"\byour\s+(?:final\s+|next\s+)?{out}\b"),
            'The reader\'s own output: "in your summary", "your briefing".',
        ),
        Rule(
            "order-about-output",
            _r(
                rf"{lead}{order}\b.{{0,150}}?\b(?:the|this|each|every|any)\s+"
                rf"(?:final\s+|following\s+)?{out}\b"
            ),
            'An imperative sentence about the output: "Include in the summary that ...".',
        ),
        Rule(
            "output-must",
            _r(
                rf"\b(?:the|this|each|every|any)\s+{out}\s+(?:(?:that\s+)?you\s+{work}\s+)?"
                rf"(?:must|should|shall|needs?\s+to|"
                rf"has\s+to|is\s+to)\s+(?:not\s+|also\s+|only\s+|always\s+|never\s+)*"
                rf"{order}\b"
            ),
            'An order to the output itself: "The briefing must state that ...".',
        ),
        Rule(
            "you-must-output",
            _r(rf"\b{you_order}\s+(?:\w+\s+){{0,3}}?{order}\b.{{0,100}}?\b{reply}\b"),
            'A second-person order about the output: "You must add to the response ...".',
        ),
        Rule(
            "state-as-fact",
            _r(
                rf"{lead}{order}\b.{{0,120}}?\bas\s+(?:an?\s+)?(?:confirmed|established|"
                rf"verified|undisputed|proven|certain|official)\s+(?:fact|truth|news)"
            ),
            'An order to present a claim as fact: "State as confirmed fact that ...".',
        ),
    )


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _merge(text: str, spans: list[Span]) -> list[Span]:
    """Union of spans; spans separated only by whitespace are joined."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and (start <= out[-1][1] or not text[out[-1][1] : start].strip()):
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return [t for s, e in out if (t := _trim(text, s, e))]


_WRAP_END = re.compile(r"[\w,;\-–—]$")


def split_paragraphs(text: str) -> list[Span]:
    """One paragraph per line, unless the file is hard-wrapped.

    A file is treated as hard-wrapped when most lines that are followed by another non-blank
    line end mid-sentence and no line is longer than 120 characters; then blank lines separate
    paragraphs. Otherwise (scraped text, one paragraph per line) every line is a paragraph.
    """
    lines: list[Span] = []
    pos = 0
    for raw in text.split("\n"):
        lines.append((pos, pos + len(raw)))
        pos += len(raw) + 1
    stripped = [text[s:e].strip() for s, e in lines]
    followed = [
        i
        for i in range(len(lines) - 1)
        if stripped[i] and stripped[i + 1] and not _MD_HEADING.match(stripped[i])
    ]
    wrapped = (
        len(followed) >= 3
        and max(len(s) for s in stripped) <= 120
        and sum(bool(_WRAP_END.search(stripped[i])) for i in followed) >= 0.6 * len(followed)
    )
    paragraphs: list[Span] = []
    if not wrapped:
        for (s, e), line in zip(lines, stripped, strict=True):
            if line and (t := _trim(text, s, e)):
                paragraphs.append(t)
        return paragraphs
    start: int | None = None
    end = 0
    for (s, e), line in zip(lines, stripped, strict=True):
        if not line or _MD_HEADING.match(line):
            if start is not None and (t := _trim(text, start, end)):
                paragraphs.append(t)
            start = None
            if line and (t := _trim(text, s, e)):
                paragraphs.append(t)
            continue
        if start is None:
            start = s
        end = e
    if start is not None and (t := _trim(text, start, end)):
        paragraphs.append(t)
    return paragraphs


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd  # cheap, but only needed once text is cleaned

    return pysbd.Segmenter(language="en", clean=False)


SEGMENT_CHARS = 3000
"""pysbd's abbreviation regexes are quadratic in the length of what it is given (a 199 KB run
without punctuation took ~40 s). A region longer than this is cut into pieces first, at a
sentence end where there is one, else at a space. News paragraphs are shorter than this, so
normal text is segmented exactly as before."""

# A sentence end after a lower-case word (not "U.S." or "Mr."), before a capital: a safe cut.
_SAFE_CUT = re.compile(r"(?<=[a-z]{2})[.!?][\"'”’)\]]*\s+(?=[\"“‘(]?[A-Z])")


def _pieces(region: str) -> list[Span]:
    """(start, end) pieces of `region`, each at most SEGMENT_CHARS long."""
    pieces: list[Span] = []
    start = 0
    while len(region) - start > SEGMENT_CHARS:
        limit = start + SEGMENT_CHARS
        cut = 0
        for match in _SAFE_CUT.finditer(region, start + SEGMENT_CHARS // 2, limit):
            cut = match.end()
        if not cut:
            space = region.rfind(" ", start + 1, limit)
            cut = space + 1 if space > start else limit
        pieces.append((start, cut))
        start = cut
    pieces.append((start, len(region)))
    return pieces


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans inside text[start:end], located in the text so they index into it."""
    # pysbd treats a newline as a sentence end; a hard-wrapped paragraph has newlines inside
    # sentences, so segment a same-length copy with spaces and map the spans back 1:1.
    region = text[start:end].replace("\n", " ")
    spans: list[Span] = []
    for lo, hi in _pieces(region):
        spans.extend(_segment(text, region[lo:hi], start + lo))
    return _join_possessives(text, _join_quoted_speech(text, _join_clock_times(text, spans)))


def _segment(text: str, piece: str, offset: int) -> list[Span]:
    """pysbd's sentences of `piece`, which starts at `offset` in `text`."""
    spans: list[Span] = []
    cursor = 0
    for found in _segmenter().segment(piece):
        sentence = str(found).strip()
        if not sentence:
            continue
        at = piece.find(sentence, cursor)
        if at < 0:  # pysbd altered the text; keep the rest as one sentence
            break
        spans.append((offset + at, offset + at + len(sentence)))
        cursor = at + len(sentence)
    if piece[cursor:].strip() and (t := _trim(text, offset + cursor, offset + len(piece))):
        spans.append(t)
    return spans


# "around 12 p.m. CDT near New Hope": pysbd ends a sentence after "p.m." when a capitalised
# word follows; a time-zone abbreviation right after a clock time continues the sentence.
_CLOCK_END = re.compile(r"\b\d{1,2}(?::\d{2})?\s*[ap]\.m\.$", re.IGNORECASE)
_TIME_ZONE = re.compile(r"^(?:[A-Z]{2,4}T|UTC|GMT|ET|PT|CT|MT)\b")


def _join_clock_times(text: str, spans: list[Span]) -> list[Span]:
    joined: list[Span] = []
    for span in spans:
        if (
            joined
            and _CLOCK_END.search(text[slice(*joined[-1])])
            and _TIME_ZONE.match(text[slice(*span)])
        ):
            joined[-1] = (joined[-1][0], span[1])
        else:
            joined.append(span)
    return joined


# '"Have you gone today?" Roe asked her followers.': pysbd ends a sentence after a quoted
# question or outcry when a capital follows; the speaker and verb after it continue it.
_QUOTED_OUTCRY_END = re.compile(r"[?!][\"'\u201d\u2019]$")
_SPEAKER_WORDS = 4  # "Sen. Jane Roe asked": a name before the verb


def _join_quoted_speech(text: str, spans: list[Span]) -> list[Span]:
    verbs = word_list("speech_verbs") | word_list("question_verbs")
    joined: list[Span] = []
    for span in spans:
        words = re.findall(r"[A-Za-z][\w.'\u2019-]*", text[span[0] : span[1]])[: _SPEAKER_WORDS + 1]
        at = next((i for i, w in enumerate(words) if w.lower().rstrip(".,;:") in verbs), -1)
        credits = at == 0 or (at > 0 and all(w[:1].isupper() for w in words[:at]))
        if joined and credits and _QUOTED_OUTCRY_END.search(text[slice(*joined[-1])]):
            joined[-1] = (joined[-1][0], span[1])
        else:
            joined.append(span)
    return joined


# "… block President-elect Joseph R. Biden Jr.’s victory.": pysbd ends a sentence after
# "Jr." when a curly apostrophe follows; a piece that opens with a possessive "'s" belongs to
# the word before it.
_POSSESSIVE_START = re.compile(r"^['\u2019]s\b")


def _join_possessives(text: str, spans: list[Span]) -> list[Span]:
    joined: list[Span] = []
    for span in spans:
        if joined and _POSSESSIVE_START.match(text[span[0] : span[1]]):
            joined[-1] = (joined[-1][0], span[1])
        else:
            joined.append(span)
    return joined


def is_heading(line: str, title: str | None = None) -> bool:
    """Short standalone line without sentence-ending punctuation, a `#` line, or the title."""
    if _MD_HEADING.match(line):
        return True
    if title and " ".join(line.split()) == " ".join(title.split()):
        return True
    return len(line.split()) <= HEADING_MAX_WORDS and not _TERMINAL.search(line)


def _tail_blocks(text: str, result: Cleaned) -> list[Span]:
    spans: list[Span] = []
    for rule in TAIL_BLOCKS:
        for match in rule.opener.finditer(text):
            end = len(text)
            if rule.closer and (close := rule.closer.search(text, match.end())):
                end = close.end()
            if rule.confirm.search(text, match.start(), end):
                spans.append((match.start(), end))
                result.hit(rule.name)
                break
    return spans


def _paragraph_rules(text: str, para: Span, result: Cleaned) -> list[Span]:
    start, end = para
    line = text[start:end]
    for rule in LINE_RULES:
        if rule.pattern.fullmatch(line):
            result.hit(rule.name)
            return [para]
    if is_dateline(line):
        result.hit("dateline")
        return [para]
    strong = {rule.name for rule in APPEAL_PHRASES if rule.pattern.search(line)}
    hints = {rule.name for rule in APPEAL_HINTS if rule.pattern.search(line)}
    if strong and len(strong | hints) >= APPEAL_PARAGRAPH_HITS:
        result.hit("appeal-paragraph")
        return [para]
    spans: list[Span] = []
    for rule in PARAGRAPH_TAIL_OPENERS:
        if match := rule.pattern.search(line):
            spans.append((start + match.start(), end))
            result.hit(rule.name)
            break
    for rule in INLINE_RULES:
        for match in rule.pattern.finditer(line):
            if match.end() > match.start():
                spans.append((start + match.start(), start + match.end()))
                result.hit(rule.name)
    if not spans and CAPTION_LINE.pattern.fullmatch(line):
        result.hit(CAPTION_LINE.name)
        return [para]
    return spans


INLINE_RULES: tuple[Rule, ...] = (
    Rule(
        "gallery-caption",
        _r(rf"open image in gallery\b.{{0,400}}?(?:{CREDIT}|$)"),
        "The Independent's photo captions: from the label to the credit or paragraph end.",
    ),
    Rule(
        "photo-caption",
        _r(rf"\b(?:photo(?:graph)?|image|picture|pictured|credit)s?\s*:.{{0,300}}?(?:{CREDIT}|$)"),
        '"Photo: The minister arrives for talks (Getty Images)".',
    ),
    Rule(
        "date-prefix",
        _r(rf"^\s*(?:date|published|updated|posted)\s*:?\s*{DATE}"),
        'A stray "date 2025-11-07" at the start of a paragraph.',
    ),
    Rule(
        "glued-dateline",
        re.compile(
            r"^\s*[A-Z][a-z]{2,}(?:\s[A-Z][a-z]+)?"
            r"(?=(?:This|The|A|An|On|In|At|It|Police|Officials|Authorities)\s)"
        ),
        'A place-name dateline fused to the first word by HTML extraction: "BarcelonaThis".',
    ),
)


def _subtract(para: Span, removed: list[Span]) -> list[Span]:
    start, end = para
    regions: list[Span] = []
    for r_start, r_end in removed:
        if r_end <= start or r_start >= end:
            continue
        if r_start > start:
            regions.append((start, r_start))
        start = max(start, r_end)
    if start < end:
        regions.append((start, end))
    return regions


def clean(text: str, *, title: str | None = None) -> Cleaned:
    """Classify every part of `text` as kept sentence, removed boilerplate, or heading."""
    result = Cleaned()
    removed = _tail_blocks(text, result)
    blocks = _merge(text, removed)
    paragraphs = split_paragraphs(text)
    for para in paragraphs:
        if not _subtract(para, blocks):
            continue
        removed.extend(_paragraph_rules(text, para, result))
    removed = _merge(text, removed)

    for para in paragraphs:
        payload = False  # set after an injection: the rest of the paragraph goes too
        for r_start, r_end in _subtract(para, removed):
            region = _trim(text, r_start, r_end)
            if region is None:
                continue
            marker = _MARKER.match(text[region[0] : region[1]])
            if marker and not _MD_HEADING.match(text[region[0] : region[1]]):
                region = _trim(text, region[0] + marker.end(), region[1])
            if region is None or not _HAS_WORD.search(text[region[0] : region[1]]):
                continue
            pieces = split_sentences(text, *region)
            standalone = len(pieces) == 1
            for piece in pieces:
                sentence = text[piece[0] : piece[1]]
                if payload or is_instruction_like(sentence):
                    payload = True
                    result.injections += 1
                    result.hit("instruction-like")
                    removed.append(piece)
                elif standalone and is_heading(text[region[0] : region[1]], title):
                    result.headings.append(region)
                    if result.first_heading is None and not result.sentences:
                        result.first_heading = region
                elif any(rule.pattern.fullmatch(sentence) for rule in SENTENCE_RULES) or any(
                    rule.pattern.search(sentence) for rule in APPEAL_PHRASES
                ):
                    result.hit("appeal-sentence")
                    removed.append(piece)
                elif _HAS_WORD.search(sentence):
                    result.sentences.append(piece)
    result.removed = _merge(text, removed)
    return result
