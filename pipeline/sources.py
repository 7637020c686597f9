"""Load a folder of news articles into `Article`s: text, metadata, kept sentences, warnings.

This is the only stage that touches the user's files, so it is defensive: a bad file becomes a
one-line warning and is skipped, and only a folder with nothing usable is an `InputError`.

- Files: `.txt`, `.md`, `.html`/`.htm`, `.json` directly in the folder, sorted by file name;
  ids 1, 2, 3... follow that order over the articles kept (ids are citation numbers).
  Ignored: hidden files, `README*`, `facts.yaml`, other YAML files, sidecars `*.meta.yaml`/
  `*.meta.json`, sub-folders. Other file types are skipped with a warning.
- Metadata (outlet, title, date, url), later sources filling only what earlier ones left empty:
  1. sidecar `<stem>.meta.yaml` (or `.meta.yml`, `.meta.json`) next to the file;
  2. YAML front matter at the top of `.md`/`.txt` (removed from the text), fields of a `.json`
     object, or `<title>`/meta tags of HTML (via trafilatura);
  3. for the title only: the first line of the text if it is a heading (short, no final
     punctuation, see `boilerplate.is_heading`) and comes before any kept sentence.
  Metadata that reads like an instruction to a model is dropped with a warning.
- Text: HTML goes through trafilatura (no network), falling back to a crude tag strip. Text
  longer than `max_chars` is cut at a sentence boundary. Boilerplate, headings and
  instruction-like sentences are classified by `pipeline.boilerplate.clean`.
- Duplicates (same cleaned text, or >= 90 % of the sentences already in one earlier article)
  are skipped; the language is detected and non-English articles are kept with a warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html as html_lib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from pipeline.boilerplate import Cleaned, clean, is_instruction_like
from pipeline.errors import InputError
from pipeline.schema import Article

ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json")
HTML_SUFFIXES = (".html", ".htm")
SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml", ".meta.json")
IGNORED_NAMES = ("facts.yaml", "facts.yml")
META_FIELDS = ("outlet", "title", "date", "url")
META_ALIASES = {
    "source": "outlet",
    "publisher": "outlet",
    "site": "outlet",
    "site_name": "outlet",
    "sitename": "outlet",
    "headline": "title",
    "published": "date",
    "published_at": "date",
    "pubdate": "date",
    "link": "url",
}
TEXT_FIELDS = ("text", "content", "body")
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Files above this are skipped before reading; `max_chars` truncates what is read."""
MAX_CHARS = 200_000
"""Default `max_chars`: an article's text is cut (at a sentence end) to at most this, with a
warning. Longer than any news article; keeps one runaway file from swamping the model."""
DUPLICATE_SHARE = 0.9
BINARY_SHARE = 0.05
"""A decoded file with more than this share of control characters is binary, not text."""

LANGUAGE_NAMES = {
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "ru": "Russian",
    "uk": "Ukrainian",
    "tr": "Turkish",
    "ar": "Arabic",
    "zh-cn": "Chinese",
    "zh-tw": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
}

_ENGLISH_WORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "was",
        "for",
        "on",
        "with",
        "as",
        "by",
        "he",
        "it",
        "at",
        "from",
        "his",
        "her",
        "said",
        "has",
        "have",
        "had",
        "be",
        "been",
        "are",
        "were",
        "an",
        "not",
        "but",
        "they",
        "this",
        "which",
        "who",
        "will",
        "would",
        "their",
        "its",
        "after",
    ]
)


class LoadResult(BaseModel):
    """Articles kept, in id order, and one-line human warnings about everything else."""

    articles: list[Article]
    warnings: list[str] = Field(default_factory=list)


class _Skip(Exception):
    """A per-file problem: the file is left out and the message becomes a warning."""


@dataclass
class _Candidate:
    path: Path
    text: str
    meta: dict[str, str]
    cleaned: Cleaned
    sha256: str
    notes: list[str] = field(default_factory=list)
    norm_sentences: list[str] = field(default_factory=list)


def load_articles(folder: Path, *, max_chars: int = MAX_CHARS) -> LoadResult:
    """Read every article file in `folder`; raise `InputError` only if none is usable."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"no such folder: {folder}")
    if not folder.is_dir():
        raise InputError(f"not a folder: {folder}")
    warnings: list[str] = []
    files = _article_files(folder, warnings)
    if not files:
        raise InputError(f"no articles in {folder} (looked for .txt, .md, .html, .json)")

    kept: list[tuple[Article, _Candidate]] = []
    skipped: list[str] = []
    for path in files:
        try:
            cand = _read_article(path, max_chars)
        except _Skip as exc:
            warnings.append(f"{path.name}: skipped, {exc}")
            skipped.append(f"{path.name}: {exc}")
            continue
        dup = _duplicate_of(cand, kept)
        if dup is not None:
            warnings.append(
                f"{path.name}: duplicate of article {dup.id} ({Path(dup.path).name}) — skipped"
            )
            skipped.append(f"{path.name}: duplicate")
            continue
        article = Article(
            id=len(kept) + 1,
            path=str(path),
            text=cand.text,
            sentences=cand.cleaned.sentences,
            removed=cand.cleaned.removed,
            sha256=cand.sha256,
            language=detect_language(_kept_text(cand)),
            **cand.meta,
        )
        kept.append((article, cand))
        where = f"article {article.id} ({path.name})"
        warnings.extend(f"{where}: {note}" for note in cand.notes)
        if article.language and article.language != "en":
            name = LANGUAGE_NAMES.get(article.language, article.language)
            warnings.append(f"{where} looks like {name}, not English; claims may be poor")
    if not kept:
        raise InputError(f"no usable articles in {folder}: " + "; ".join(skipped))
    return LoadResult(articles=[a for a, _ in kept], warnings=warnings)


def _article_files(folder: Path, warnings: list[str]) -> list[Path]:
    files: list[Path] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        name = path.name.lower()
        if (
            name.startswith(".")
            or name.startswith("readme")
            or name in IGNORED_NAMES
            or name.endswith(SIDECAR_SUFFIXES)
            or name.endswith((".yaml", ".yml"))
            or not path.is_file()
        ):
            continue
        if name.endswith(ARTICLE_SUFFIXES):
            files.append(path)
        else:
            warnings.append(f"{path.name}: skipped, not an article file (.txt, .md, .html, .json)")
    return files


def _read_article(path: Path, max_chars: int) -> _Candidate:
    """Everything about one file that does not depend on the other files."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Skip(f"file too large ({size // (1024 * 1024)} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise _Skip(f"unreadable ({exc.strerror or exc})") from exc
    if not data.strip():
        raise _Skip("empty file")
    raw, encoding_note = _decode(data)
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    notes = [encoding_note] if encoding_note else []

    meta, sidecar_notes = _read_sidecar(path)
    notes.extend(sidecar_notes)
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        text = html_to_text(raw)
        _fill(meta, html_metadata(raw))
    elif suffix == ".json":
        text, fields = _from_json(raw)
        _fill(meta, fields)
    else:
        text, fields = split_front_matter(raw)
        _fill(meta, fields)

    if not text.strip():
        raise _Skip("no text")
    if len(text) > max_chars:
        text = truncate(text, max_chars)
        notes.append(f"truncated to {len(text)} characters")
    for key in ("title", "outlet"):
        if key in meta and is_instruction_like(meta[key]):
            del meta[key]
            notes.append(f"dropped instruction-like {key}")

    cleaned = clean(text, title=meta.get("title"))
    if not cleaned.sentences:
        raise _Skip("no article text left after removing boilerplate")
    if "title" not in meta and cleaned.first_heading:
        start, end = cleaned.first_heading
        meta["title"] = " ".join(text[start:end].lstrip("#").split())
    if cleaned.injections:
        plural = "" if cleaned.injections == 1 else "s"
        notes.append(f"dropped {cleaned.injections} instruction-like sentence{plural}")
    return _Candidate(
        path=path,
        text=text,
        meta=meta,
        cleaned=cleaned,
        sha256=hashlib.sha256(data).hexdigest(),
        notes=notes,
        norm_sentences=[_normalise(text[s:e]) for s, e in cleaned.sentences],
    )


def _decode(data: bytes) -> tuple[str, str | None]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, then cp1252/latin-1 with a note."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _check_text(data.decode("utf-16")), None
        except UnicodeDecodeError as exc:
            raise _Skip("binary file") from exc
    if b"\x00" in data[:8192]:
        raise _Skip("binary file")
    for encoding in ("utf-8", "utf-8-sig"):
        try:
            return _check_text(data.decode(encoding).lstrip("\ufeff")), None
        except UnicodeDecodeError:
            pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = _check_text(data.decode(encoding))
        except UnicodeDecodeError:
            continue
        return text, f"not valid UTF-8; read as {encoding}"
    raise _Skip("binary file")  # unreachable: latin-1 decodes any bytes


def _check_text(text: str) -> str:
    bad = sum(
        1
        for ch in text
        if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    )
    if bad > BINARY_SHARE * max(len(text), 1):
        raise _Skip("binary file")
    return text


def _meta_value(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text or None


def _meta_fields(mapping: dict[Any, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in mapping.items():
        name = str(key).strip().lower()
        name = META_ALIASES.get(name, name)
        if name in META_FIELDS and name not in out and (text := _meta_value(value)):
            out[name] = text
    return out


def _fill(meta: dict[str, str], more: dict[str, str]) -> None:
    """Add fields from a lower-priority source without overwriting."""
    for key, value in more.items():
        meta.setdefault(key, value)


def _read_sidecar(path: Path) -> tuple[dict[str, str], list[str]]:
    for suffix in SIDECAR_SUFFIXES:
        sidecar = path.with_name(path.stem + suffix)
        if not sidecar.is_file():
            continue
        try:
            loaded = yaml.safe_load(sidecar.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return {}, [f"metadata file {sidecar.name} unreadable; ignored"]
        if not isinstance(loaded, dict):
            return {}, [f"metadata file {sidecar.name} is not a mapping; ignored"]
        return _meta_fields(loaded), []
    return {}, []


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(raw: str) -> tuple[str, dict[str, str]]:
    """Text after a leading `---` YAML block, and its metadata; unchanged if there is none."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return raw, {}
    try:
        loaded = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        return raw, {}
    if not isinstance(loaded, dict):
        return raw, {}
    return raw[match.end() :], _meta_fields(loaded)


_HTML_HINT = re.compile(r"<(?:p|div|br|article|span|h[1-6])\b[^>]*>", re.I)


def _from_json(raw: str) -> tuple[str, dict[str, str]]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _Skip(f"invalid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise _Skip("JSON is not an object with a text, content or body field")
    for key in TEXT_FIELDS:
        value = data.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n\n".join(value)
        if isinstance(value, str) and value.strip():
            text = html_to_text(value) if _HTML_HINT.search(value) else value
            return text, _meta_fields(data)
    raise _Skip("JSON has no text, content or body field")


def html_to_text(html: str) -> str:
    """Main text of an HTML page via trafilatura, else a crude tag strip. No network."""
    text: str | None = None
    try:
        import trafilatura  # slow import: only when there is HTML

        text = trafilatura.extract(
            html,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            deduplicate=False,
        )
    except Exception:  # a parser failure must not lose the article: fall back below
        text = None
    return text if text and text.strip() else strip_tags(html)


_DROP_ELEMENTS = re.compile(
    r"<(script|style|noscript|template|svg|head|nav|footer|form)\b.*?</\1\s*>|<!--.*?-->",
    re.I | re.S,
)
_BLOCK_TAGS = re.compile(
    r"<br\s*/?>|</?(?:p|div|h[1-6]|li|tr|article|section|blockquote|header|ul|ol|table|figure|"
    r"figcaption|main)\b[^>]*>",
    re.I,
)


def strip_tags(html: str) -> str:
    """Crude HTML to text: drop scripts/styles/nav, one line per block element."""
    text = _DROP_ELEMENTS.sub(" ", html)
    text = _BLOCK_TAGS.sub("\n", text)
    text = re.sub(r"<[^>]*>", " ", text)
    text = html_lib.unescape(text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def html_metadata(html: str) -> dict[str, str]:
    """Title, site name, date and canonical URL from the page's own tags."""
    found: dict[str, str] = {}
    try:
        import trafilatura

        doc = trafilatura.extract_metadata(html)
    except Exception:  # metadata is optional; the text still loads
        doc = None
    if doc is not None:
        for name, attr in (("title", "title"), ("outlet", "sitename"), ("date", "date")):
            if value := _meta_value(getattr(doc, attr, None)):
                found[name] = value
        url = _meta_value(getattr(doc, "url", None))
        if url and url.startswith(("http://", "https://")):
            found["url"] = url
    if "title" not in found and (match := _TITLE_TAG.search(html)):
        title = " ".join(html_lib.unescape(match.group(1)).split())
        if title:
            found["title"] = title
    return found


_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)|\n")


def truncate(text: str, max_chars: int) -> str:
    """The first `max_chars` characters, cut back to the last sentence end if there is one
    in the second half; otherwise at the last space."""
    head = text[: max_chars + 1]
    cut = 0
    for match in _SENTENCE_END.finditer(head):
        if match.end() <= max_chars:
            cut = match.end()
    if cut < max_chars // 2:
        space = head.rfind(" ", 0, max_chars)
        cut = space if space > 0 else max_chars
    return text[:cut].rstrip()


def _kept_text(cand: _Candidate) -> str:
    return " ".join(cand.text[s:e] for s, e in cand.cleaned.sentences)


def _normalise(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.lower()))


def _duplicate_of(cand: _Candidate, kept: list[tuple[Article, _Candidate]]) -> Article | None:
    """The earlier article this one repeats: same text, or >= 90 % of its sentences."""
    mine = cand.norm_sentences
    joined = " ".join(mine)
    for article, other in kept:
        if joined == " ".join(other.norm_sentences):
            return article
        theirs = set(other.norm_sentences)
        if mine and sum(s in theirs for s in mine) >= DUPLICATE_SHARE * len(mine):
            return article
    return None


def detect_language(text: str) -> str | None:
    """ISO code of the text's language, or None when it is too short to tell.

    Plain English (mostly ASCII letters, many English function words) is recognised without
    langdetect, whose profiles take ~0.5 s to load; everything else goes to langdetect with a
    fixed seed so the answer is the same on every run.
    """
    words = re.findall(r"[^\W\d_]+", text.lower())[:3000]
    letters = sum(len(w) for w in words)
    if letters < 20:
        return None
    ascii_letters = sum(len(w) for w in words if w.isascii())
    english = sum(w in _ENGLISH_WORDS for w in words)
    if ascii_letters >= 0.95 * letters and english >= 0.15 * len(words):
        return "en"
    try:
        from langdetect import DetectorFactory, detect
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:
        return None
    DetectorFactory.seed = 0
    try:
        return str(detect(text[:5000]))
    except LangDetectException:
        return None
