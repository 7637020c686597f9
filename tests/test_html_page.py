"""The briefing page (pipeline/html_page.py) without a browser: escaping, citations, conflicts,
coverage and footer, read back with the standard HTML parser."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

from pipeline.html_page import article_href, article_name, coverage, quotes_for, to_html_page
from pipeline.render import to_html
from pipeline.schema import (
    Article,
    Briefing,
    BriefingSentence,
    Claim,
    ClaimGraph,
    ClaimGroup,
    ClaimKind,
    Conflict,
    ConflictValue,
    RunReport,
)

EVIL_TEXT = 'Officials said <script>alert("x")</script> the toll rose to 12.'
EVIL_OUTLET = '<img src=x onerror="alert(1)">'
TODAY = dt.date(2026, 11, 24)


class _Page(HTMLParser):
    """Tags, attributes and text of a page, to assert on what a browser would build."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def _claim(cid: str, article: Article, start: int, end: int, kind: ClaimKind) -> Claim:
    quote = article.text[start:end]
    return Claim(
        id=cid, article_id=article.id, text=quote, kind=kind, quote=quote, span=(start, end)
    )


def _graph() -> ClaimGraph:
    one = Article(
        id=1,
        path="story/one.html",
        outlet=EVIL_OUTLET,
        title="Toll <b>rises</b>",
        date="2025-10-30",
        url="javascript:alert(2)",
        text=EVIL_TEXT + " The storm hit on Tuesday.",
    )
    two = Article(
        id=2,
        path="story/two.txt",
        outlet="Wire",
        date="2025-10-31",
        url="https://example.org/storm?a=1&b=2",
        text="The toll rose to 14, officials said. Rescue teams arrived.",
    )
    three = Article(id=3, path="story/three.txt", title="Local paper", text="Schools closed.")
    claims = [
        _claim("1.1", one, 0, len(EVIL_TEXT), ClaimKind.STATEMENT),
        _claim("1.2", one, len(EVIL_TEXT) + 1, len(one.text), ClaimKind.FACT),
        _claim("2.1", two, 0, 36, ClaimKind.STATEMENT),
        _claim("2.2", two, 37, len(two.text), ClaimKind.FACT),
        _claim("3.1", three, 0, len(three.text), ClaimKind.FACT),
    ]
    groups = [
        ClaimGroup(
            id="g1",
            statement="The toll rose.",
            claim_ids=["1.1", "2.1"],
            article_ids=[1, 2],
            status="disputed",
            conflicts=[
                Conflict(
                    what="count <of dead>",
                    values=[
                        ConflictValue(article_id=1, value="12", claim_id="1.1"),
                        ConflictValue(article_id=2, value="14", claim_id="2.1"),
                    ],
                )
            ],
        ),
        ClaimGroup(
            id="g2",
            statement="Storm on Tuesday",
            claim_ids=["1.2"],
            article_ids=[1],
            status="single_source",
        ),
        ClaimGroup(
            id="g3", statement="Teams", claim_ids=["2.2"], article_ids=[2], status="single_source"
        ),
        ClaimGroup(
            id="g4", statement="Schools", claim_ids=["3.1"], article_ids=[3], status="single_source"
        ),
    ]
    sentences = [
        BriefingSentence(
            text="Sources differ on the toll: 12 <i>or</i> 14.",
            group_ids=["g1"],
            article_ids=[1, 2],
            section="disputed",
        ),
        BriefingSentence(
            text="The storm hit on Tuesday.",
            group_ids=["g2"],
            article_ids=[1],
            section="attributed",
        ),
    ]
    return ClaimGraph(
        articles=[one, two, three],
        claims=claims,
        groups=groups,
        briefing=Briefing(title="Storm <script>x</script>", sentences=sentences),
        report=RunReport(
            model="qwen2.5-coder-1.5b",
            base_url="embedded",
            prompts_dir="/somewhere/prompts",
            prompt_hashes={"extract_claims": "abc123"},
        ),
    )


def test_article_text_renders_as_text_never_as_markup() -> None:
    page = to_html_page(_graph(), today=TODAY)
    parsed = _parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "b" not in tags[:3]
    assert not [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]
    text = "".join(parsed.text)
    assert EVIL_TEXT in text  # the quote, shown as the reader would see it
    assert EVIL_OUTLET in text
    assert "Storm <script>x</script>" in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # A javascript: URL is never a link; the article's file is linked instead.
    hrefs = [attrs.get("href") or "" for tag, attrs in parsed.tags if tag == "a"]
    assert not [h for h in hrefs if h.lower().startswith("javascript")]
    assert "https://example.org/storm?a=1&b=2" in hrefs
    assert 'href="https://example.org/storm?a=1&amp;b=2"' in page


def test_page_is_self_contained_and_forbids_scripts() -> None:
    page = to_html_page(_graph(), today=TODAY)
    parsed = _parse(page)
    metas = {
        attrs.get("http-equiv"): attrs.get("content") for t, attrs in parsed.tags if t == "meta"
    }
    assert "script-src" not in (metas["Content-Security-Policy"] or "")
    assert (metas["Content-Security-Policy"] or "").startswith("default-src 'none'")
    assert not [t for t, a in parsed.tags if t in ("script", "link", "img", "iframe")]
    assert "prefers-color-scheme:dark" in page and "@media print" in page


def test_each_citation_carries_the_quotes_of_its_article() -> None:
    graph = _graph()
    page = to_html_page(graph, today=TODAY)
    parsed = _parse(page)
    pops = [attrs.get("id") for t, attrs in parsed.tags if t == "span" and attrs.get("role")]
    assert pops == ["q1-1", "q1-2", "q2-1"]  # sentence 1 cites [1][2], sentence 2 cites [1]
    refs = [a.get("href") for t, a in parsed.tags if t == "a" and a.get("class") == "ref"]
    assert refs == ["#q1-1", "#q1-2", "#q2-1"]
    first = graph.briefing.sentences[0]
    assert [c.id for c in quotes_for(graph, first, 1)] == ["1.1"]
    assert [c.id for c in quotes_for(graph, first, 2)] == ["2.1"]
    assert quotes_for(graph, first, 3) == []
    assert "The toll rose to 14, officials said.</q>" in page


def test_conflict_table_lists_what_value_and_outlet() -> None:
    page = to_html_page(_graph(), today=TODAY)
    assert '<th scope="row" rowspan="2">count &lt;of dead&gt;</th>' in page
    assert "<td class=value>12</td><td>&lt;img src=x onerror=&quot;alert(1)&quot;&gt; [1]</td>" in (
        page
    )
    assert "<td class=value>14</td><td>Wire [2]</td>" in page


def test_coverage_counts_the_claims_each_article_gave_the_briefing() -> None:
    graph = _graph()
    counts = {c.article.id: (c.used, c.total) for c in coverage(graph)}
    assert counts == {1: (2, 2), 2: (1, 2), 3: (0, 1)}
    page = to_html_page(graph, today=TODAY)
    assert page.count('class="outlet"') == 2 and page.count('class="outlet unused"') == 1
    assert "0 of 1 claims used" in page and "[3] Local paper" in page


def test_names_fall_back_to_title_then_file() -> None:
    graph = _graph()
    assert article_name(graph.articles[2]) == "Local paper"
    bare = Article(id=4, path="x/four.txt", text="t")
    assert article_name(bare) == "four.txt"
    assert article_name(Article(id=5, text="t")) == "article 5"
    href = article_href(graph.articles[0])
    assert href is not None and href.startswith("file:///") and href.endswith("story/one.html")
    assert article_href(Article(id=5, text="t")) is None


def test_footer_states_model_prompt_set_and_date() -> None:
    page = to_html_page(_graph(), today=TODAY)
    footer = page[page.index("<footer>") :]
    assert "model <b>qwen2.5-coder-1.5b</b> (embedded)" in footer
    assert "prompt set <b>prompts</b> (extract_claims abc123)" in footer
    assert "<time>2026-11-24</time>" in footer


def test_single_source_and_empty_briefings_say_so() -> None:
    graph = _graph()
    graph.briefing.single_source = True
    graph.briefing.sentences = []
    page = to_html(graph)
    assert "rests on a single source" in page and "No claim in these articles" in page


def test_a_claim_behind_a_conflict_value_counts_and_is_quoted() -> None:
    """Rule claims (the code's scan for conflicting values) belong to a group only through its
    conflict; a sentence citing that group still rests on them."""
    graph = _graph()
    two = graph.articles[1]
    graph.claims.append(_claim("2.r1", two, 37, len(two.text), ClaimKind.FACT))
    graph.groups[0].conflicts[0].values[1].claim_id = "2.r1"
    first = graph.briefing.sentences[0]
    assert [c.id for c in quotes_for(graph, first, 2)] == ["2.1", "2.r1"]
    assert {c.article.id: c.used for c in coverage(graph)}[2] == 2
