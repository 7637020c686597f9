"""Unit tests for pipeline.render: markdown, JSON and HTML output of a ClaimGraph."""

from __future__ import annotations

import json

import pytest

from pipeline.render import RENDERERS, SECTION_TITLES, to_html, to_json, to_markdown
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
    StageReport,
)


def _graph(
    *, single_source: bool = False, sentences: list[BriefingSentence] | None = None
) -> ClaimGraph:
    text1 = "Mr Lavrov, 75, was absent from a Security Council meeting on November 5."
    text2 = "Kremlin spokesman Dmitry Peskov said there was nothing true in the reports."
    articles = [
        Article(
            id=1,
            path="a/one.html",
            outlet="The Moscow Times",
            title="Lavrov absent",
            date="2025-11-06",
            url="https://example.org/lavrov",
            text=text1,
            sentences=[(0, len(text1))],
        ),
        Article(id=2, path="b/two.txt", outlet=None, title=None, text=text2),
    ]
    claims = [
        Claim(
            id="1.1",
            article_id=1,
            text="Lavrov was absent from a Security Council meeting on November 5.",
            kind=ClaimKind.FACT,
            quote=text1,
            span=(0, len(text1)),
            entities=["lavrov"],
            numbers=["5", "75", "month:11"],
        ),
        Claim(
            id="2.1",
            article_id=2,
            text="Peskov said there was nothing true in the reports.",
            kind=ClaimKind.DENIAL,
            attributed_to="Dmitry Peskov",
            quote=text2,
            span=(0, len(text2)),
        ),
    ]
    groups = [
        ClaimGroup(
            id="g1",
            statement="Lavrov was absent from a meeting.",
            claim_ids=["1.1"],
            article_ids=[1],
            status="single_source",
            conflicts=[
                Conflict(
                    what="date",
                    values=[ConflictValue(article_id=1, value="November 5", claim_id="1.1")],
                )
            ],
        ),
        ClaimGroup(
            id="g2",
            statement="Peskov denied the reports.",
            claim_ids=["2.1"],
            article_ids=[2],
            status="disputed",
            kind=ClaimKind.DENIAL,
            attributed_to=["Dmitry Peskov"],
            related=["g1"],
        ),
    ]
    if sentences is None:
        sentences = [
            BriefingSentence(
                text="Lavrov missed a Security Council meeting on November 5.",
                group_ids=["g1"],
                article_ids=[1, 2],
                section="confirmed",
            ),
            BriefingSentence(
                text="Peskov said there was nothing true in the reports.",
                group_ids=["g2"],
                article_ids=[2],
                section="disputed",
            ),
            BriefingSentence(
                text="According to The Moscow Times, Lavrov is 75.",
                group_ids=["g1"],
                article_ids=[1],
                section="confirmed",
            ),
        ]
    report = RunReport(
        model="test-model",
        base_url="http://127.0.0.1:1/v1",
        prompts_dir="prompts",
        prompt_hashes={"extract_claims": "abc123"},
        stages=[StageReport(name="extract", calls=2, cache_hits=1, seconds=12.75)],
        warnings=["one warning"],
        seconds=98.25,
    )
    return ClaimGraph(
        articles=articles,
        claims=claims,
        groups=groups,
        briefing=Briefing(
            title="Lavrov's absence", sentences=sentences, single_source=single_source
        ),
        report=report,
    )


# ---- markdown ---------------------------------------------------------------------------------


def test_markdown_exact_output():
    assert to_markdown(_graph()) == (
        "# Lavrov's absence\n"
        "\n"
        "_Neutral briefing from 2 sources; bracketed numbers cite the sources listed at the end._\n"
        "\n"
        "## Confirmed by several sources\n"
        "\n"
        "- Lavrov missed a Security Council meeting on November 5. [1][2]\n"
        "- According to The Moscow Times, Lavrov is 75. [1]\n"
        "\n"
        "## Disputed, denied or reported differently\n"
        "\n"
        "- Peskov said there was nothing true in the reports. [2]\n"
        "\n"
        "## Sources\n"
        "\n"
        "- [1] The Moscow Times, \u201cLavrov absent\u201d, 2025-11-06, https://example.org/lavrov\n"
        "- [2] unknown outlet, b/two.txt\n"
    )


def test_markdown_only_non_empty_sections_have_headings_in_fixed_order():
    sentences = [
        BriefingSentence(
            text="Later event.", group_ids=["g1"], article_ids=[1], section="timeline"
        ),
        BriefingSentence(text="A claim.", group_ids=["g2"], article_ids=[2], section="attributed"),
    ]
    md = to_markdown(_graph(sentences=sentences))
    assert SECTION_TITLES["confirmed"] not in md
    assert SECTION_TITLES["disputed"] not in md
    attributed = md.index(f"## {SECTION_TITLES['attributed']}")
    timeline = md.index(f"## {SECTION_TITLES['timeline']}")
    assert attributed < timeline < md.index("## Sources")
    assert md.count("\n## ") == 3


def test_markdown_every_sentence_ends_with_its_citations():
    md = to_markdown(_graph())
    bullets = [line for line in md.splitlines() if line.startswith("- ") and "[" in line]
    sentence_lines = [b for b in bullets if not b.startswith("- [")]
    assert sentence_lines == [
        "- Lavrov missed a Security Council meeting on November 5. [1][2]",
        "- According to The Moscow Times, Lavrov is 75. [1]",
        "- Peskov said there was nothing true in the reports. [2]",
    ]


def test_markdown_sentence_without_citations_has_no_trailing_space():
    sentences = [BriefingSentence(text="Uncited.", group_ids=["g1"], article_ids=[])]
    md = to_markdown(_graph(sentences=sentences))
    assert "- Uncited.\n" in md


def test_markdown_single_source_banner():
    banner = "**This briefing rests on a single source; nothing in it is corroborated.**"
    assert banner in to_markdown(_graph(single_source=True))
    assert banner not in to_markdown(_graph(single_source=False))


def test_markdown_one_source_is_singular():
    graph = _graph()
    graph.articles = graph.articles[:1]
    md = to_markdown(graph)
    assert "_Neutral briefing from 1 source;" in md
    assert "[2]" not in md.split("## Sources")[1]


def test_markdown_no_sentences_says_so_and_has_no_section_headings():
    md = to_markdown(_graph(sentences=[]))
    assert "_No claim in these articles survived the grounding checks._" in md
    assert all(title not in md for title in SECTION_TITLES.values())
    assert "## Sources" in md


def test_markdown_holds_no_run_figures():
    graph = _graph()
    md = to_markdown(graph)
    for figure in ("98.25", "12.75", "seconds", "cache", "test-model", "abc123", "one warning"):
        assert figure not in md


def test_markdown_is_identical_for_a_cached_rerun():
    first = _graph()
    rerun = _graph()
    rerun.report.seconds = 0.5
    rerun.report.stages = [StageReport(name="extract", calls=0, cache_hits=2, seconds=0.01)]
    assert to_markdown(first) == to_markdown(rerun)


# ---- JSON -------------------------------------------------------------------------------------


def test_json_round_trips():
    graph = _graph(single_source=True)
    text = to_json(graph)
    assert text.endswith("}\n")
    back = ClaimGraph.model_validate_json(text)
    assert back == graph
    assert back.claims[0].span == (0, len(graph.articles[0].text))
    assert back.claims[1].kind is ClaimKind.DENIAL
    assert back.report.stages[0].cache_hits == 1


def test_json_is_indented_and_holds_the_run_report():
    text = to_json(_graph())
    data = json.loads(text)
    assert data["briefing"]["title"] == "Lavrov's absence"
    assert data["report"]["seconds"] == 98.25
    assert data["groups"][1]["related"] == ["g1"]
    assert "\n  " in text


# ---- HTML -------------------------------------------------------------------------------------


def test_html_escapes_sentence_title_and_sources():
    graph = _graph(
        sentences=[
            BriefingSentence(
                text="Lavrov <script>alert(1)</script> & co.",
                group_ids=["g1"],
                article_ids=[1],
            )
        ]
    )
    graph.briefing.title = "A <b>bold</b> title"
    graph.articles[0].outlet = "<img src=x onerror=alert(1)>"
    page = to_html(graph)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co." in page
    assert "<b>" not in page
    assert "<h1>A &lt;b&gt;bold&lt;/b&gt; title</h1>" in page
    assert "<title>A &lt;b&gt;bold&lt;/b&gt; title</title>" in page
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_html_structure_citations_and_sources():
    page = to_html(_graph(single_source=True))
    assert page.startswith("<!doctype html>\n")
    assert page.endswith("</body></html>\n")
    assert "<strong>This briefing rests on a single source.</strong>" in page
    assert (
        "<li>Lavrov missed a Security Council meeting on November 5. "
        '<a href="#src1">[1]</a><a href="#src2">[2]</a></li>'
    ) in page
    assert '<li id="src1">The Moscow Times, \u201cLavrov absent\u201d' in page
    assert '<li id="src2">unknown outlet, b/two.txt</li>' in page
    assert page.count("<h2>") == 3  # confirmed, disputed, Sources
    assert "single source" not in to_html(_graph(single_source=False))


def test_renderers_registry():
    graph = _graph()
    assert set(RENDERERS) == {"md", "json", "html"}
    assert RENDERERS["md"](graph) == to_markdown(graph)
    assert RENDERERS["json"](graph) == to_json(graph)
    assert RENDERERS["html"](graph) == to_html(graph)


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"outlet": "TASS"}, "- [1] TASS, a/one.html"),
        ({"outlet": "TASS", "url": "https://t"}, "- [1] TASS, https://t"),
        ({"title": "T", "date": "2025"}, "- [1] unknown outlet, \u201cT\u201d, 2025, a/one.html"),
        ({"path": ""}, "- [1] unknown outlet"),
    ],
)
def test_markdown_source_line_forms(fields: dict[str, str], line: str):
    graph = _graph()
    graph.articles[0] = Article(id=1, path="a/one.html", text="x").model_copy(update=fields)
    assert line in to_markdown(graph).splitlines()
