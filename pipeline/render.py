"""Turn a ClaimGraph into what a reader gets: markdown, the JSON claim graph, or HTML.

Markdown holds no run figures (time, cache hits), so a cached re-run prints the same briefing.
Every piece of text that comes from an article or a model (titles, outlets, sentences, URLs) is
escaped for markdown, because markdown is often rendered by other tools, which pass raw HTML
through: an outlet named `<img src=x onerror=...>` must show as text, not run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePath

from pipeline.schema import Article, BriefingSentence, ClaimGraph, Section

SECTION_TITLES: dict[Section, str] = {
    "confirmed": "Confirmed by several sources",
    "disputed": "Disputed, denied or reported differently",
    "attributed": "Attributed claims and single-source reports",
    "timeline": "Timeline",
}


def _cite(sentence: BriefingSentence) -> str:
    return "".join(f"[{a}]" for a in sentence.article_ids)


_MD_SPECIAL = re.compile(r"([\\`*\[\]<>])")
_MD_LINE_START = re.compile(r"^([#>+\-=|])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")


def md_text(text: str) -> str:
    """`text` as inert markdown: one line, no raw HTML, link, image, code or emphasis.

    A backslash before `\\ ` * [ ] < >` makes CommonMark show the character itself, so
    `<script>` prints as text; a block marker at the start (`#`, `>`, `-`, `1.`) is escaped the
    same way. Other characters are left alone, so the raw markdown stays readable.
    """
    flat = " ".join(text.split())
    flat = _MD_SPECIAL.sub(r"\\\1", flat)
    return _MD_ORDERED.sub(r"\1\\\2", _MD_LINE_START.sub(r"\\\1", flat))


def _source_line(article: Article) -> str:
    """Outlet, title, date, URL. Without an outlet the article is named by its title, else by
    its file name: never an anonymous "unknown outlet"."""
    parts: list[str] = []
    if article.outlet:
        parts.append(article.outlet)
    if article.title:
        parts.append(f"\u201c{article.title}\u201d")
    if not parts:
        parts.append(PurePath(article.path).name if article.path else "untitled article")
    if article.date:
        parts.append(article.date)
    if article.url:
        parts.append(article.url)
    elif article.path and (article.outlet or article.title):
        parts.append(article.path)
    return ", ".join(parts)


def _sections(graph: ClaimGraph) -> list[tuple[Section, list[BriefingSentence]]]:
    out: list[tuple[Section, list[BriefingSentence]]] = []
    for section in SECTION_TITLES:
        members = [s for s in graph.briefing.sentences if s.section == section]
        if members:
            out.append((section, members))
    return out


def to_markdown(graph: ClaimGraph) -> str:
    lines = [f"# {md_text(graph.briefing.title)}", ""]
    n = len(graph.articles)
    lines.append(
        f"_Neutral briefing from {n} source{'s' if n != 1 else ''}; "
        "bracketed numbers cite the sources listed at the end._"
    )
    if graph.briefing.single_source:
        lines += ["", "**This briefing rests on a single source; nothing in it is corroborated.**"]
    if not graph.briefing.sentences:
        lines += ["", "_No claim in these articles survived the grounding checks._"]
    for section, members in _sections(graph):
        lines += ["", f"## {SECTION_TITLES[section]}", ""]
        lines += [f"- {md_text(s.text)} {_cite(s)}".rstrip() for s in members]
    lines += ["", "## Sources", ""]
    # List items: bare consecutive lines would run together into one markdown paragraph.
    lines += [f"- [{a.id}] {md_text(_source_line(a))}" for a in graph.articles]
    return "\n".join(lines) + "\n"


def to_json(graph: ClaimGraph) -> str:
    return graph.model_dump_json(indent=2) + "\n"


def to_html(graph: ClaimGraph) -> str:
    """The self-contained briefing page (pipeline/html_page.py)."""
    from pipeline.html_page import to_html_page  # imports this module: a late import

    return to_html_page(graph)


RENDERERS: dict[str, Callable[[ClaimGraph], str]] = {
    "md": to_markdown,
    "json": to_json,
    "html": to_html,
}
