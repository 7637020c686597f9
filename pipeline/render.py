"""Turn a ClaimGraph into what a reader gets: markdown, the JSON claim graph, or HTML.

Markdown holds no run figures (time, cache hits), so a cached re-run prints the same briefing.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from pipeline.schema import Article, BriefingSentence, ClaimGraph, Section

SECTION_TITLES: dict[Section, str] = {
    "confirmed": "Confirmed by several sources",
    "disputed": "Disputed, denied or reported differently",
    "attributed": "Attributed claims and single-source reports",
    "timeline": "Timeline",
}


def _cite(sentence: BriefingSentence) -> str:
    return "".join(f"[{a}]" for a in sentence.article_ids)


def _source_line(article: Article) -> str:
    parts = [article.outlet or "unknown outlet"]
    if article.title:
        parts.append(f"\u201c{article.title}\u201d")
    if article.date:
        parts.append(article.date)
    if article.url:
        parts.append(article.url)
    elif article.path:
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
    lines = [f"# {graph.briefing.title}", ""]
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
        lines += [f"- {s.text} {_cite(s)}".rstrip() for s in members]
    lines += ["", "## Sources", ""]
    # List items: bare consecutive lines would run together into one markdown paragraph.
    lines += [f"- [{a.id}] {_source_line(a)}" for a in graph.articles]
    return "\n".join(lines) + "\n"


def to_json(graph: ClaimGraph) -> str:
    return graph.model_dump_json(indent=2) + "\n"


def to_html(graph: ClaimGraph) -> str:
    esc = html.escape
    body = [f"<h1>{esc(graph.briefing.title)}</h1>"]
    if graph.briefing.single_source:
        body.append("<p><strong>This briefing rests on a single source.</strong></p>")
    for section, members in _sections(graph):
        body.append(f"<h2>{esc(SECTION_TITLES[section])}</h2><ul>")
        for s in members:
            cites = "".join(f'<a href="#src{a}">[{a}]</a>' for a in s.article_ids)
            body.append(f"<li>{esc(s.text)} {cites}</li>")
        body.append("</ul>")
    body.append("<h2>Sources</h2><ol>")
    body += [f'<li id="src{a.id}">{esc(_source_line(a))}</li>' for a in graph.articles]
    body.append("</ol>")
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{esc(graph.briefing.title)}</title></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


RENDERERS: dict[str, Callable[[ClaimGraph], str]] = {
    "md": to_markdown,
    "json": to_json,
    "html": to_html,
}
