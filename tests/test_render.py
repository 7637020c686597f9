"""Unit tests for pipeline.render: markdown, JSON and HTML output of a ClaimGraph."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.render import RENDERERS, SECTION_TITLES, md_text, to_html, to_json, to_markdown
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
        "- [2] two.txt\n"
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


# ---- HTML: the page has its own tests, tests/test_html_page.py --------------------------------


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
        ({"title": "T", "date": "2025"}, "- [1] \u201cT\u201d, 2025, a/one.html"),
        ({"date": "2025"}, "- [1] one.html, 2025"),
        ({"path": ""}, "- [1] untitled article"),
    ],
)
def test_markdown_source_line_forms(fields: dict[str, str], line: str):
    graph = _graph()
    graph.articles[0] = Article(id=1, path="a/one.html", text="x").model_copy(update=fields)
    assert line in to_markdown(graph).splitlines()


def test_markdown_never_names_an_unknown_outlet():
    """Issue 12: an article without an outlet is named by its title, else its file name."""
    text = to_markdown(_graph())
    assert "unknown outlet" not in text and "article [" not in text


HOSTILE = 'Evil"><img src=x onerror=alert(1)>'


def test_markdown_neutralises_html_and_links_from_metadata_and_sentences():
    """Issue 15: markdown is rendered by other tools that pass raw HTML through, so nothing
    from an article or the model may stay a tag, a link, an image or code."""
    graph = _graph(
        sentences=[
            BriefingSentence(
                text=f"According to {HOSTILE}, the <script>alert(2)</script> ran.",
                group_ids=["g1"],
                article_ids=[1],
                section="confirmed",
            ),
            BriefingSentence(
                text="See [here](javascript:alert(3)) and ![x](http://t/p.png) or `rm -rf`.",
                group_ids=["g2"],
                article_ids=[2],
                section="disputed",
            ),
        ]
    )
    graph.articles[0] = graph.articles[0].model_copy(
        update={"outlet": HOSTILE, "title": "<script>alert(4)</script>\n# Injected heading"}
    )
    graph.briefing.title = "<b>Bold</b> [t](javascript:x)"
    text = to_markdown(graph)
    # No raw tag, link, image or code span survives: each special character is escaped.
    assert re.search(r"(?<!\\)<", text) is None
    assert re.search(r"(?<!\\)\[(?!\d\])", text) is None  # only our citations [n]
    assert re.search(r"(?<!\\)`", text) is None
    assert "\n# Injected heading" not in text  # a newline in metadata cannot open a block
    assert "\\<img src=x onerror=alert(1)\\>" in text
    assert "\\<script\\>alert(2)\\</script\\>" in text
    # The words themselves are kept for the reader.
    assert "According to Evil" in text and "onerror=alert(1)" in text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
        ("- not a list", "\\- not a list"),
        ("> not a quote", "\\> not a quote"),
        ("a\\b", "a\\\\b"),
        ("U.S. officials, 5 km away - AT&T", "U.S. officials, 5 km away - AT&T"),
    ],
)
def test_md_text_escapes_block_markers_and_leaves_plain_text(raw: str, escaped: str):
    assert md_text(raw) == escaped
