"""Articles from links: fetch each web page once, keep it on disk, and lay the pages out as a
folder the loader reads (`pipeline brief URL [URL ...]`, `--urls FILE`).

Each page is fetched once and cached under `<cache dir>/pages/`, so a re-run (offline too) reads
the disk. A page that cannot be used is one warning line and is left out; the others go on:
timeout, HTTP errors (404 ...), not HTML, redirect loop, over 5 MB, or too little text (a
paywall or consent stub). Only pages that pass are cached, so a failed page is tried again on
the next run.

The pages are then written, in the order given, into a folder with a `.meta.json` sidecar per
page holding the outlet (the page's `og:site_name`, else its host), title, date and address, and
`sources.load_articles` reads that folder like any other: one loader, one set of checks.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from pipeline.errors import InputError
from pipeline.sources import html_metadata, html_to_text

log = logging.getLogger(__name__)

TIMEOUT = 20.0
"""Seconds for the whole fetch of one page (connect, wait, read)."""
MAX_BYTES = 5 * 1024 * 1024
MIN_WORDS = 80
"""Fewer words of article text than this is a paywall, consent or teaser stub, not an article:
the shortest wire briefs run to about 100 words."""
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = "Mozilla/5.0 (compatible; pipeline-briefing/0.1; reads news articles)"
CHUNK = 64 * 1024

Progress = Callable[[str], None]


class PageError(Exception):
    """Why one page cannot be used; its message is the rest of the warning line."""


@dataclass
class Page:
    url: str
    final_url: str
    html: str


@dataclass
class FetchResult:
    """The folder holding the usable pages, and one line per page left out."""

    folder: Path
    pages: int
    from_cache: int
    warnings: list[str] = field(default_factory=list)


def is_url(text: str) -> bool:
    return urlsplit(text.strip()).scheme in ("http", "https")


def read_url_list(path: Path) -> list[str]:
    """URLs from a text file: one per line; blank lines and `#` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    urls: list[str] = []
    for n, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not is_url(text):
            raise InputError(f"{path}, line {n}: not an http(s) URL: {text[:80]}")
        urls.append(text)
    return urls


def pages_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "pages"


def fetch_articles(
    urls: Iterable[str],
    cache_dir: Path,
    *,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    min_words: int = MIN_WORDS,
    progress: Progress | None = None,
    use_cache: bool = True,
    refresh: bool = False,
) -> FetchResult:
    """Fetch (or read from the cache) every page and write the usable ones into one folder.

    `use_cache=False` (`--no-cache`) neither reads nor keeps pages: they go to a temporary
    folder removed at exit. `refresh` fetches again and replaces the cached copy.
    Raises `InputError` only when no page is usable; each other failure is a warning line.
    """
    wanted = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
    if not wanted:
        raise InputError("no URLs given")
    store = pages_dir(cache_dir) if use_cache else _scratch_store()
    pages: list[Page] = []
    warnings: list[str] = []
    cached = 0
    for url in wanted:
        try:
            page = None if refresh else _cached(store, url)
            hit = page is not None
            if page is None:
                page = fetch_page(url, timeout=timeout, max_bytes=max_bytes)
                _check_text(page, min_words)
                _store(store, page)
        except PageError as exc:
            warnings.append(f"{url}: {exc} — skipped")
            log.warning("%s: %s — skipped", url, exc)
            continue
        cached += hit
        pages.append(page)
        if progress is not None:
            progress(f"page {len(pages)}: {url}" + (" (cached)" if hit else ""))
    if not pages:
        reasons = "; ".join(w.removesuffix(" — skipped") for w in warnings)
        raise InputError(f"no usable pages: {reasons}")
    folder = _write_folder(store, wanted, pages)
    return FetchResult(folder=folder, pages=len(pages), from_cache=cached, warnings=warnings)


def _scratch_store() -> Path:
    """A pages folder for one run that keeps nothing: removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="pipeline-pages-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def fetch_page(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Page:
    """One page over HTTP(S), as text; `PageError` says in a few words why it cannot be used."""
    if not is_url(url):
        raise PageError("not an http(s) URL")
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml"}
    )
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            final_url = response.geturl()
            headers: Message = response.headers
            kind = headers.get_content_type() if headers.get("Content-Type") else ""
            if kind and kind not in HTML_TYPES:
                raise PageError(f"not an HTML page ({kind})")
            length = headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise PageError(f"page larger than {max_bytes // (1024 * 1024)} MB")
            body = _read(response, max_bytes, deadline, timeout)
            charset = headers.get_content_charset()
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise PageError("redirect loop (or more than 10 redirects)") from None
        raise PageError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise PageError(f"no answer within {timeout:g} s") from None
        raise PageError(f"cannot connect ({_reason(exc.reason)})") from None
    except TimeoutError:
        raise PageError(f"no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:  # reset connections, malformed answers
        raise PageError(f"cannot fetch ({_reason(exc)})") from None
    if not kind and not re.search(rb"<html|<!doctype html", body[:2048], re.I):
        raise PageError("not an HTML page (no content type, no <html>)")
    return Page(url=url, final_url=final_url, html=_decode(body, charset))


class _Readable(Protocol):
    def read(self, amt: int, /) -> bytes: ...


def _read(response: _Readable, max_bytes: int, deadline: float, timeout: float) -> bytes:
    """The body in chunks, stopping as soon as it passes `max_bytes` or the deadline."""
    parts: list[bytes] = []
    size = 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PageError(f"page larger than {max_bytes // (1024 * 1024)} MB")
        if time.monotonic() > deadline:
            raise PageError(f"no answer within {timeout:g} s")
        parts.append(chunk)
    return b"".join(parts)


def _reason(reason: object) -> str:
    text = getattr(reason, "strerror", None) or str(reason)
    return " ".join(str(text).split())[:120] or type(reason).__name__


_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)


def _decode(body: bytes, charset: str | None) -> str:
    """The header's charset, else the page's `<meta charset>`, else UTF-8 (bad bytes replaced)."""
    if charset is None and (match := _META_CHARSET.search(body[:4096])):
        charset = match.group(1).decode("ascii")
    for encoding in (charset, "utf-8"):
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def _check_text(page: Page, min_words: int) -> None:
    words = len(html_to_text(page.html).split())
    if words < min_words:
        raise PageError(f"only {words} words of text (paywall or stub page?)")


def page_metadata(html: str, url: str) -> dict[str, str]:
    """Outlet (`og:site_name`, else the host), title, date and address of a fetched page."""
    meta = html_metadata(html)
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if not meta.get("outlet") and host:
        meta["outlet"] = host
    meta["url"] = url
    return meta


# ---- the on-disk cache and the folder the loader reads ----------------------------------------


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def _cached(store: Path, url: str) -> Page | None:
    base = store / _key(url)
    try:
        info = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
        html = base.with_suffix(".html").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("url") != url:
        return None
    return Page(url=url, final_url=str(info.get("final_url") or url), html=html)


def merge_pages(source_cache: Path, cache_dir: Path) -> int:
    """Copy the fetched pages of another cache folder (a Ray worker's) that this one lacks;
    a page without a valid record, or filed under another URL's key, is left out. Returns
    the number of pages copied."""
    source = pages_dir(source_cache)
    copied = 0
    for record in sorted(source.glob("*.json")) if source.is_dir() else []:
        try:
            url = json.loads(record.read_text(encoding="utf-8")).get("url")
        except (OSError, ValueError, AttributeError):
            continue
        if not isinstance(url, str) or record.stem != _key(url):
            continue
        page = _cached(source, url)
        if page is not None and _cached(pages_dir(cache_dir), url) is None:
            _store(pages_dir(cache_dir), page)
            copied += 1
    return copied


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _store(store: Path, page: Page) -> None:
    """Page first, then its record: a record always has its page."""
    try:
        store.mkdir(parents=True, exist_ok=True)
        base = store / _key(page.url)
        _atomic_write(base.with_suffix(".html"), page.html)
        info = {"url": page.url, "final_url": page.final_url, "fetched": time.time()}
        _atomic_write(base.with_suffix(".json"), json.dumps(info))
    except OSError as exc:  # the run can go on without the cache
        log.warning("cannot cache %s in %s: %s", page.url, store, exc.strerror or exc)


def _slug(url: str) -> str:
    host = (urlsplit(url).hostname or "page").removeprefix("www.")
    return re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")[:40] or "page"


def _write_folder(store: Path, urls: list[str], pages: list[Page]) -> Path:
    """`<store>/sets/<hash of the URL list>/NNN_<host>.html` + `.meta.json`, in the given order,
    so article ids follow the order of the URLs."""
    folder = store / "sets" / hashlib.sha256("\n".join(urls).encode("utf-8")).hexdigest()[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
        for n, page in enumerate(pages):
            stem = f"{n:03d}_{_slug(page.final_url)}"
            _atomic_write(folder / f"{stem}.html", page.html)
            meta = page_metadata(page.html, page.final_url)
            _atomic_write(folder / f"{stem}.meta.json", json.dumps(meta, ensure_ascii=False))
    except OSError as exc:
        raise InputError(f"cannot write fetched pages to {folder}: {exc.strerror or exc}") from None
    return folder
