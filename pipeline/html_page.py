"""The briefing as one self-contained web page: `pipeline brief --format html`.

A reader should be able to check every sentence without leaving the page, so each citation opens
the verbatim quote(s) it rests on, with the outlet, date and a link. The page carries no script
and no external asset: it works offline, can be mailed, and its Content-Security-Policy forbids
scripts outright, so even a failure to escape could not run code. Citations open on hover,
keyboard focus or click (CSS `:hover`, `:focus-within`, `:target`), so no script is needed.

Every text that comes from an article or a model is escaped with `html.escape`; links are only
`http(s)` URLs or the article's local file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.render import SECTION_TITLES
from pipeline.schema import Article, BriefingSentence, Claim, ClaimGraph, ClaimGroup

QUOTES_PER_CITATION = 3

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


def article_name(article: Article) -> str:
    """The outlet, else the title, else the file name: never an anonymous "unknown outlet"."""
    if article.outlet:
        return article.outlet
    if article.title:
        return article.title
    if article.path:
        return Path(article.path).name
    return f"article {article.id}"


def article_href(article: Article) -> str | None:
    """A link to the article: its web address if it is http(s), else its local file."""
    if article.url and urlsplit(article.url).scheme in ("http", "https"):
        return article.url
    if article.path:
        return Path(article.path).resolve().as_uri()
    return None


@dataclass(frozen=True)
class Coverage:
    article: Article
    used: int
    total: int


def claims_behind(group: ClaimGroup) -> set[str]:
    """The group's members and the claims its conflicting values come from."""
    ids = set(group.claim_ids)
    for conflict in group.conflicts:
        ids.update(v.claim_id for v in conflict.values)
    return ids


def coverage(graph: ClaimGraph) -> list[Coverage]:
    """For each article, how many of its claims the briefing states with a citation to it.

    A claim counts as used when a briefing sentence cites both the claim's group and its article
    (the brief stage prunes citations, so a group alone does not mean every member was used).
    """
    group_claims = {g.id: claims_behind(g) for g in graph.groups}
    used: set[str] = set()
    for s in graph.briefing.sentences:
        cited = set(s.article_ids)
        for gid in s.group_ids:
            for claim in graph.claims:
                if claim.id in group_claims.get(gid, ()) and claim.article_id in cited:
                    used.add(claim.id)
    return [
        Coverage(
            article=a,
            used=sum(1 for c in graph.claims if c.article_id == a.id and c.id in used),
            total=sum(1 for c in graph.claims if c.article_id == a.id),
        )
        for a in graph.articles
    ]


def quotes_for(graph: ClaimGraph, sentence: BriefingSentence, article_id: int) -> list[Claim]:
    """The claims of `article_id` behind `sentence`: its groups' members and conflict values."""
    wanted: set[str] = set()
    for group in graph.groups:
        if group.id in sentence.group_ids:
            wanted |= claims_behind(group)
    out: list[Claim] = []
    seen: set[str] = set()
    for claim in graph.claims:
        if claim.article_id == article_id and claim.id in wanted and claim.quote not in seen:
            seen.add(claim.quote)
            out.append(claim)
    return out[:QUOTES_PER_CITATION]


def _source_meta(article: Article) -> str:
    """Outlet, date and link of an article, as escaped HTML."""
    parts = [f"<b>{escape(article_name(article))}</b>"]
    if article.outlet and article.title:
        parts.append(f"<i>{escape(article.title)}</i>")
    if article.date:
        parts.append(f"<time>{escape(article.date)}</time>")
    href = article_href(article)
    if href:
        parts.append(f'<a href="{escape(href)}" rel="noreferrer noopener">open article</a>')
    return " · ".join(parts)


def _citation(graph: ClaimGraph, sentence: BriefingSentence, n: int, article: Article) -> str:
    pop_id = f"q{n}-{article.id}"
    quotes = quotes_for(graph, sentence, article.id)
    if quotes:
        body = "".join(f'<q class="quote">{escape(c.quote)}</q>' for c in quotes)
    else:
        body = '<span class="none">No quote recorded for this citation.</span>'
    return (
        f'<span class="cite"><a class="ref" href="#{pop_id}" aria-describedby="{pop_id}" '
        f'aria-label="source {article.id}: {escape(article_name(article))}">[{article.id}]</a>'
        f'<span class="pop" id="{pop_id}" role="tooltip">{body}'
        f'<span class="meta">[{article.id}] {_source_meta(article)}</span></span></span>'
    )


def _sentence(graph: ClaimGraph, sentence: BriefingSentence, n: int) -> str:
    by_id = {a.id: a for a in graph.articles}
    cites = "".join(
        _citation(graph, sentence, n, by_id[a]) for a in sentence.article_ids if a in by_id
    )
    return f'<li id="s{n}">{escape(sentence.text)} <span class="cites">{cites}</span></li>'


def _sections(graph: ClaimGraph) -> list[str]:
    out: list[str] = []
    numbered = list(enumerate(graph.briefing.sentences, start=1))
    for section, title in SECTION_TITLES.items():
        members = [(n, s) for n, s in numbered if s.section == section]
        if not members:
            continue
        items = "\n".join(_sentence(graph, s, n) for n, s in members)
        out.append(f'<section class="part {section}"><h2>{escape(title)}</h2><ul>\n{items}\n</ul>')
        out.append("</section>")
    return out


def _conflicts(graph: ClaimGraph) -> str:
    by_id = {a.id: a for a in graph.articles}
    rows: list[str] = []
    for group in graph.groups:
        for conflict in group.conflicts:
            values = [v for v in conflict.values if v.article_id in by_id]
            for i, v in enumerate(values):
                what = (
                    f'<th scope="row" rowspan="{len(values)}">{escape(conflict.what)}</th>'
                    if i == 0
                    else ""
                )
                name = escape(article_name(by_id[v.article_id]))
                rows.append(
                    f"<tr>{what}<td class=value>{escape(v.value)}</td>"
                    f"<td>{name} [{v.article_id}]</td></tr>"
                )
    if not rows:
        return ""
    return (
        '<section class="conflicts"><h2>Where the sources disagree</h2><div class="scroll">'
        '<table><thead><tr><th scope="col">What</th><th scope="col">Value</th>'
        '<th scope="col">Outlet</th></tr></thead><tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div></section>"
    )


def _coverage(graph: ClaimGraph) -> str:
    items: list[str] = []
    for cov in coverage(graph):
        share = round(100 * cov.used / cov.total) if cov.total else 0
        unused = " unused" if cov.used == 0 else ""
        items.append(
            f'<li class="outlet{unused}"><span class="name">[{cov.article.id}] '
            f"{escape(article_name(cov.article))}</span>"
            f'<span class="bar" aria-hidden="true"><span style="width:{share}%"></span></span>'
            f'<span class="count">{cov.used} of {cov.total} claims used</span></li>'
        )
    return (
        '<section class="coverage" aria-label="Coverage by source">'
        "<h2>Whose reporting the briefing uses</h2>"
        f'<ul class="strip">{"".join(items)}</ul></section>'
    )


def _sources(graph: ClaimGraph) -> str:
    items = "\n".join(
        f'<li id="src{a.id}" value="{a.id}">{_source_meta(a)}</li>' for a in graph.articles
    )
    return f'<section class="sources"><h2>Sources</h2><ol>\n{items}\n</ol></section>'


def _footer(graph: ClaimGraph, today: dt.date) -> str:
    r = graph.report
    prompts = Path(r.prompts_dir).name or r.prompts_dir
    hashes = ", ".join(f"{k} {v}" for k, v in sorted(r.prompt_hashes.items()))
    parts = urlsplit(r.base_url)
    endpoint = parts.hostname or parts.scheme or r.base_url  # never the path or credentials
    facts = [
        f"model <b>{escape(r.model)}</b> ({escape(endpoint)})",
        f"prompt set <b>{escape(prompts)}</b>" + (f" ({escape(hashes)})" if hashes else ""),
        f"generated <time>{today.isoformat()}</time>",
        f"{len(graph.claims)} claims in {len(graph.groups)} groups from "
        f"{len(graph.articles)} articles",
    ]
    return "<footer><p>" + " · ".join(facts) + "</p></footer>"


def _lines(parts: Iterable[str]) -> str:
    return "\n".join(p for p in parts if p)


def to_html_page(graph: ClaimGraph, *, today: dt.date | None = None) -> str:
    """The whole page. `today` (UTC date by default) is the footer's date; a day, not a time,
    so re-running a cached briefing the same day gives the same file."""
    today = today or dt.datetime.now(dt.UTC).date()
    title = escape(graph.briefing.title)
    n = len(graph.articles)
    intro = [
        f'<p class="lede">Neutral briefing from {n} source{"s" if n != 1 else ""}. '
        "Each bracketed number cites a source: hover, tap or focus it to read the quote.</p>"
    ]
    if graph.briefing.single_source:
        intro.append(
            '<p class="warn">This briefing rests on a single source; nothing in it is '
            "corroborated.</p>"
        )
    if not graph.briefing.sentences:
        intro.append('<p class="warn">No claim in these articles survived the checks.</p>')
    body = _lines(
        [
            f"<header><h1>{title}</h1>{''.join(intro)}</header>",
            _coverage(graph),
            "<main>",
            *_sections(graph),
            _conflicts(graph),
            _sources(graph),
            "</main>",
            _footer(graph, today),
        ]
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


STYLE = """
:root{--bg:#fdfcf9;--fg:#1d1d1f;--muted:#5f6368;--line:#d9d6cf;--card:#fff;--accent:#1a5fb4;
--accent-bg:#e8f0fb;--warn:#8a4b00;--warn-bg:#fff4e0;--bar:#1a5fb4;--bar-bg:#e6e3dc;
--quote:#3d3d40;font-size:100%}
@media (prefers-color-scheme:dark){:root{--bg:#16171a;--fg:#e8e6e3;--muted:#a2a5ab;
--line:#34363b;--card:#202226;--accent:#8ab4f8;--accent-bg:#23324a;--warn:#f5c77e;
--warn-bg:#3a2c14;--bar:#8ab4f8;--bar-bg:#2e3035;--quote:#d4d2ce}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:46rem;padding:1.5rem 1.25rem 3rem;background:var(--bg);
color:var(--fg);font:1.05rem/1.6 Georgia,"Iowan Old Style","Times New Roman",serif;
overflow-wrap:break-word}
h1{font-size:1.7rem;line-height:1.25;margin:.5rem 0 .5rem}
h2{font:600 .8rem/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;letter-spacing:.08em;
text-transform:uppercase;color:var(--muted);margin:2rem 0 .6rem;border-bottom:1px solid
var(--line);padding-bottom:.3rem}
.lede{color:var(--muted);font-size:.95rem;margin:.25rem 0}
.warn{background:var(--warn-bg);color:var(--warn);padding:.5rem .75rem;border-radius:.4rem}
main ul{padding-left:1.1rem;margin:0}
main li{margin:.55rem 0;position:relative}
a{color:var(--accent)}
.cites{white-space:nowrap}
.cite{display:inline-block}
.ref{font:600 .8rem system-ui,sans-serif;text-decoration:none;padding:.05rem .2rem;
border-radius:.25rem;color:var(--accent);vertical-align:.15em}
.ref:hover,.ref:focus{background:var(--accent-bg);outline:2px solid var(--accent);
outline-offset:0}
.pop{display:none;position:absolute;z-index:10;left:0;right:0;top:calc(100% - .2rem);
white-space:normal;background:var(--card);color:var(--fg);border:1px solid var(--line);
border-radius:.5rem;box-shadow:0 .5rem 1.5rem rgba(0,0,0,.18);padding:.6rem .8rem;
font-size:.92rem;line-height:1.45}
.cite:hover .pop,.cite:focus-within .pop,.pop:target{display:block}
.quote{display:block;margin:0 0 .5rem;padding-left:.6rem;border-left:3px solid var(--accent);
color:var(--quote);font-style:normal}
.meta{display:block;font:.8rem/1.4 system-ui,sans-serif;color:var(--muted)}
.none{display:block;margin:0 0 .4rem;color:var(--muted);font-style:italic}
.coverage .strip{list-style:none;padding:0;margin:0;display:grid;gap:.35rem}
.outlet{display:grid;grid-template-columns:minmax(0,14rem) minmax(3rem,1fr) auto;gap:.6rem;
align-items:center;font:.85rem/1.3 system-ui,sans-serif}
.outlet .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar{height:.55rem;background:var(--bar-bg);border-radius:.3rem;overflow:hidden}
.bar span{display:block;height:100%;background:var(--bar)}
.count{color:var(--muted);white-space:nowrap}
.outlet.unused .name,.outlet.unused .count{color:var(--warn)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font:.9rem/1.4 system-ui,sans-serif}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);
vertical-align:top}
thead th{color:var(--muted);font-weight:600}
td.value{font-weight:600;white-space:nowrap}
.sources ol{padding-left:1.6rem;font-size:.92rem}
footer{margin-top:2.5rem;border-top:1px solid var(--line);padding-top:.6rem;
font:.78rem/1.5 system-ui,sans-serif;color:var(--muted)}
@media (max-width:40rem){body{padding:1rem .9rem 2rem;font-size:1rem}h1{font-size:1.4rem}
.pop{position:fixed;left:.5rem;right:.5rem;bottom:.5rem;top:auto;width:auto;max-height:60vh;
overflow:auto}
.coverage .strip{gap:.75rem}
.outlet{grid-template-columns:minmax(0,1fr) auto;row-gap:.25rem}
.outlet .bar{grid-column:1/-1;grid-row:2}}
@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--card:#fff;--accent:#000}
body{max-width:none;font-size:10.5pt;padding:0}
.pop{display:block;position:static;width:auto;box-shadow:none;border:0;padding:0 0 0 1rem;
font-size:8.5pt;white-space:normal}
.cites{white-space:normal}.cite{display:inline}
a{color:inherit;text-decoration:none}
section,li{break-inside:avoid}
.meta{font-size:7.5pt}
.bar,.bar span{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""
