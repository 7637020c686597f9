"""Load a folder of news articles into `Article`s: text, metadata, kept sentences, warnings.

This is the only stage that touches the user's files, so it is defensive: a bad file becomes a
one-line warning and is skipped, and only a folder with nothing usable is an `InputError`.

- Files: `.txt`, `.md`, `.html`/`.htm`, `.json` directly in the folder, sorted by file name;
  ids 1, 2, 3... follow that order over the articles kept (ids are citation numbers).
  Ignored: hidden files, `README*`, `facts.yaml`, other YAML files, sidecars `*.meta.yaml`/
  `*.meta.json`, sub-folders. Other file types are skipped with a warning.
- Symlinks: one that leads out of the folder is skipped with a warning (a file outside the
  folder must not reach the model); so are dangling links and link loops.
- Metadata (outlet, title, date, url), later sources filling only what earlier ones left empty:
  1. sidecar `<stem>.meta.yaml` (or `.meta.yml`, `.meta.json`) next to the file;
  2. YAML front matter at the top of `.md`/`.txt` (removed from the text, and dropped with a
     warning when it is not valid YAML), fields of a `.json` object, or `<title>`/meta tags of
     HTML (via trafilatura, whose site name comes from `og:site_name` and the like);
  3. for the title only: the first line of the text if it is a heading (short, no final
     punctuation, see `boilerplate.is_heading`) and comes before any kept sentence;
  4. for the outlet only: the host of the article's URL, else a slug of the file name
     (`02_india-west.txt` -> "India West"; not for numbers, hashes or generic names such as
     `article.txt`). Without any of these the outlet stays empty and the article is cited by
     its title.
  Metadata that reads like an instruction to a model is dropped with a warning.
- Bytes that are not UTF-8 are read one by one as cp1252, with a warning that counts them, so
  one bad byte does not turn a whole UTF-8 article into mojibake.
- File names that are not valid UTF-8 are shown (in `Article.path` and warnings) with U+FFFD in
  place of the bad bytes, so the output can always be written.
- A file nested too deeply to parse (JSON, YAML) is skipped, and any unexpected failure on one
  file skips that file, with a warning: one bad file never stops the run.
- Text: HTML goes through trafilatura (no network), falling back to a crude tag strip. Text
  longer than `max_chars` is cut at a sentence boundary. Boilerplate, headings and
  instruction-like sentences are classified by `pipeline.boilerplate.clean`.
- Duplicates (same cleaned text, or >= 90 % of the sentences already in one earlier article)
  are skipped; the language is detected and non-English articles are kept with a warning.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import html as html_lib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
DATA_DIR = Path(__file__).resolve().parent / "data"
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
        shown = shown_name(path.name)
        try:
            cand = _read_article(path, max_chars)
        except _Skip as exc:
            warnings.append(f"{shown}: skipped, {exc}")
            skipped.append(f"{shown}: {exc}")
            continue
        except RecursionError:
            warnings.append(f"{shown}: skipped, nested too deeply to read")
            skipped.append(f"{shown}: nested too deeply")
            continue
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the run
            problem = f"could not be read ({type(exc).__name__}: {' '.join(str(exc).split())})"
            warnings.append(f"{shown}: skipped, {problem[:300]}")
            skipped.append(f"{shown}: {problem[:300]}")
            continue
        dup = _duplicate_of(cand, kept)
        if dup is not None:
            warnings.append(
                f"{shown}: duplicate of article {dup.id} ({Path(dup.path).name}) — skipped"
            )
            skipped.append(f"{shown}: duplicate")
            continue
        article = Article(
            id=len(kept) + 1,
            path=shown_name(str(path)),
            text=cand.text,
            sentences=cand.cleaned.sentences,
            removed=cand.cleaned.removed,
            sha256=cand.sha256,
            language=detect_language(_kept_text(cand)),
            **cand.meta,
        )
        kept.append((article, cand))
        where = f"article {article.id} ({shown})"
        warnings.extend(f"{where}: {note}" for note in cand.notes)
        if article.language and article.language != "en":
            name = LANGUAGE_NAMES.get(article.language, article.language)
            warnings.append(f"{where} looks like {name}, not English; claims may be poor")
    if not kept:
        raise InputError(f"no usable articles in {folder}: " + "; ".join(skipped))
    return LoadResult(articles=[a for a, _ in kept], warnings=warnings)


def shown_name(name: str) -> str:
    """A file name or path as text that can always be printed and written: bytes that were not
    UTF-8 (held as surrogates by Python) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _article_files(folder: Path, warnings: list[str]) -> list[Path]:
    files: list[Path] = []
    root = folder.resolve()
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        name = path.name.lower()
        if (
            name.startswith(".")
            or name.startswith("readme")
            or name in IGNORED_NAMES
            or name.endswith(SIDECAR_SUFFIXES)
            or name.endswith((".yaml", ".yml"))
        ):
            continue
        if path.is_symlink() and (problem := link_problem(path, root)):
            warnings.append(f"{shown_name(path.name)}: skipped, {problem}")
            continue
        if not path.is_file():
            continue
        if name.endswith(ARTICLE_SUFFIXES):
            files.append(path)
        else:
            warnings.append(
                f"{shown_name(path.name)}: skipped, not an article file (.txt, .md, .html, .json)"
            )
    return files


def link_problem(path: Path, root: Path) -> str | None:
    """Why a symlink is not followed, or None when it leads to a file inside `root`."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        return "symlink loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.ENOENT:
            return "dangling symlink (its target does not exist)"
        return f"unreadable symlink ({exc.strerror or exc})"
    if root not in target.parents:
        return "symlink to a file outside the folder"
    return None


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
        text, fields, front_note = split_front_matter(raw)
        _fill(meta, fields)
        if front_note:
            notes.append(front_note)
    if "outlet" not in meta and (outlet := outlet_from_url(meta.get("url"))):
        meta["outlet"] = outlet

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
    if "outlet" not in meta and (outlet := outlet_from_file_name(path.name, meta.get("title"))):
        meta["outlet"] = outlet
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


_STRAY_BYTES = re.compile("[\udc80-\udcff]+")


def _decode(data: bytes) -> tuple[str, str | None]:
    """UTF-8 (with or without BOM) or UTF-16 with BOM. Bytes that are not UTF-8 are read one by
    one as cp1252, so a cp1252 file reads right and a UTF-8 file with one bad byte keeps its
    UTF-8 characters (decoding it all as cp1252 would turn "’" into "â€™")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _check_text(data.decode("utf-16")), None
        except UnicodeDecodeError as exc:
            raise _Skip("binary file") from exc
    if b"\x00" in data[:8192]:
        raise _Skip("binary file")
    text = data.decode("utf-8", "surrogateescape").lstrip("\ufeff")
    bad = 0

    def as_cp1252(match: re.Match[str]) -> str:
        nonlocal bad
        raw = match.group().encode("utf-8", "surrogateescape")
        bad += len(raw)
        return raw.decode("cp1252", "replace")

    text = _STRAY_BYTES.sub(as_cp1252, text)
    text = _check_text(text)
    if not bad:
        return text, None
    plural = "" if bad == 1 else "s"
    return text, f"not valid UTF-8; read {bad} byte{plural} as cp1252"


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
        shown = shown_name(sidecar.name)
        if sidecar.is_symlink() and (problem := link_problem(sidecar, path.parent.resolve())):
            return {}, [f"metadata file {shown} ignored: {problem}"]
        if not sidecar.is_file():
            continue
        try:
            loaded = yaml.safe_load(sidecar.read_text(encoding="utf-8-sig"))
        except RecursionError:
            return {}, [f"metadata file {shown} nested too deeply; ignored"]
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return {}, [f"metadata file {shown} unreadable; ignored"]
        if not isinstance(loaded, dict):
            return {}, [f"metadata file {shown} is not a mapping; ignored"]
        return _meta_fields(loaded), []
    return {}, []


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(raw: str) -> tuple[str, dict[str, str], str | None]:
    """Text after a leading `---` YAML block, its metadata, and a warning if the block is bad.

    A block that is not valid YAML (or is a list, or nested too deeply) is still front matter:
    it is dropped with a warning rather than read as the article's first lines and title. A
    block that parses as plain prose (a YAML string) is text between two rules, and is kept.
    """
    match = _FRONT_MATTER.match(raw)
    if not match:
        return raw, {}, None
    try:
        loaded = yaml.safe_load(match.group(1) or "")
    except (yaml.YAMLError, RecursionError):
        return raw[match.end() :], {}, "front matter is not valid YAML; ignored"
    if isinstance(loaded, str | int | float):
        return raw, {}, None
    if loaded is not None and not isinstance(loaded, dict):
        return raw[match.end() :], {}, "front matter is not a mapping; ignored"
    return raw[match.end() :], _meta_fields(loaded or {}), None


_HTML_HINT = re.compile(r"<(?:p|div|br|article|span|h[1-6])\b[^>]*>", re.I)


def _from_json(raw: str) -> tuple[str, dict[str, str]]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _Skip(f"invalid JSON (line {exc.lineno}: {exc.msg})") from exc
    except RecursionError as exc:
        raise _Skip("JSON nested too deeply to read") from exc
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


_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.")


def outlet_from_url(url: str | None) -> str | None:
    """The URL's host as the outlet ("www.reuters.com" -> "reuters.com"), if it has one."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
            break
    return host


@lru_cache(maxsize=1)
def _generic_names() -> frozenset[str]:
    loaded = yaml.safe_load(DATA_DIR.joinpath("generic_file_names.yaml").read_text("utf-8"))
    return frozenset(str(w).lower() for w in loaded["words"])


SLUG_MAX_WORDS = 4
"""Outlet names run 1-4 words ("The New York Times"); a longer slug is a headline."""


def outlet_from_file_name(name: str, title: str | None = None) -> str | None:
    """An outlet from a file name that spells one ("02_india-west.txt" -> "India West").

    Leading numbers or a single letter are the usual ordering prefix and are dropped. A name
    with any other digit (a hash, a date, an id), of more than SLUG_MAX_WORDS words (a headline)
    or only of generic words ("article", "story") names no outlet; nor does a slug of the
    article's own title (`003_brexit-deal-agreed.txt` for "Brexit deal agreed").
    """
    stem = name.split(".", 1)[0]
    stem = re.sub(r"^[\d\W_]+", "", shown_name(stem))
    words = [w for w in re.split(r"[\W_]+", stem) if w]
    if len(words) > 1 and len(words[0]) == 1:  # "a_courier", "b-herald": an ordering letter
        words = words[1:]
    if not words or len(words) > SLUG_MAX_WORDS:
        return None
    if any(not w.isalpha() for w in words) or len(words[0]) < 2:
        return None
    generic = _generic_names()
    if all(w.lower() in generic for w in words):
        return None
    if title:
        slug = " ".join(w.lower() for w in words)
        if slug in " ".join(re.findall(r"[^\W\d_]+", title.lower())):
            return None
    return " ".join(w if w.isupper() and len(w) > 1 else w.capitalize() for w in words)


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
    # A page saved by a browser names its address in a comment; with no site name in the page,
    # the outlet is that host, as for a page fetched by URL (pipeline/fetch.py).
    if (saved := _SAVED_FROM.search(html[:4096])) is not None:
        found.setdefault("url", saved.group(1))
        if host := (urlsplit(saved.group(1)).hostname or "").removeprefix("www."):
            found.setdefault("outlet", host)
    return found


_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)(https?://[^\s<>]+?)\s*-->", re.I)


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
