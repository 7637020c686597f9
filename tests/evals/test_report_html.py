"""`python -m evals --html`: the report page, and with --compare-prompts the facts the second
prompt set gained and lost, marked row by row (hand-built graphs, no model); also opened in
headless Chromium when there is one."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from evals_fixtures import lavrov_bad_graph, lavrov_good_graph

from evals import harness
from evals.cli import main
from evals.report_html import fact_changes, render_html
from pipeline.config import Settings
from pipeline.schema import ClaimGraph

SEED = Path(harness.__file__).resolve().parent.parent / "seeds" / "lavrov-2025-11"


class _Rows(HTMLParser):
    """The class of every table row and the tags on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.row_classes: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.row_classes.append(dict(attrs).get("class") or "")


@pytest.fixture
def compared(tmp_path: Path) -> tuple[Path, harness.EvalReport]:
    other = tmp_path / "other-prompts"
    other.mkdir()

    def fake_run(folder: Path, settings: Settings) -> ClaimGraph:
        # The second prompt set writes the weaker briefing.
        return lavrov_bad_graph() if settings.prompts_dir == other else lavrov_good_graph()

    out = tmp_path / "out"
    argv = [str(SEED), "--out", str(out), "--quiet", "--no-thresholds", "--html",
            "--model", "m", "--base-url", "mock://", "--compare-prompts", str(other)]  # fmt: skip
    assert main(argv, runner=fake_run) == 0
    return out, harness.load_report(out / "report.json")


def test_compare_page_marks_the_facts_gained_and_lost(
    compared: tuple[Path, harness.EvalReport],
) -> None:
    out, report = compared
    page = (out / "report.html").read_text(encoding="utf-8")
    [story] = report.stories
    gained, lost = fact_changes(story)
    good, bad = story.systems["pipeline"], story.systems["pipeline-b"]
    assert lost == [f for f, r in good.facts.items() if r.covered and not bad.facts[f].covered]
    assert lost, "the weaker briefing loses facts"
    parsed = _Rows()
    parsed.feed(page)
    assert parsed.row_classes.count("lost") == len(lost)
    assert parsed.row_classes.count("gained") == len(gained)
    assert f"▼ {len(lost)} lost</span> {', '.join(lost)}" in page
    for fid in lost:
        assert f'<tr class="lost"><th scope="row">{fid}<span class="mark"> ▼ lost</span>' in page
    assert '<th scope="col">pipeline-b</th>' in page and "lexrank" in page
    assert "script" not in parsed.tags


def test_report_text_is_escaped(compared: tuple[Path, harness.EvalReport]) -> None:
    _, report = compared
    system = report.stories[0].systems["pipeline"]
    system.sentences[0] = "<script>alert(1)</script>"
    fact = next(r for r in system.facts.values() if r.covered)
    fact.sentence = '<img src=x onerror="alert(2)">'
    page = render_html(report)
    parsed = _Rows()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page


def test_without_a_comparison_nothing_is_marked(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(lavrov_good_graph().model_dump_json(), encoding="utf-8")
    out = tmp_path / "out"
    argv = [str(SEED), "--out", str(out), "--quiet", "--no-thresholds", "--html",
            "--graph", str(good)]  # fmt: skip
    assert main(argv) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="gained"' not in page and '<tr class="lost"' not in page
    assert "✓" in page and "✗" in page and "<h2>Gate</h2>" in page


def test_compare_page_in_a_browser(
    compared: tuple[Path, harness.EvalReport], tmp_path: Path
) -> None:
    """Headless Chromium (tests/browser.py; skips without one): lost facts stand out in colour,
    and at phone width the page never scrolls sideways (wide tables scroll in their own box)."""
    from browser import PHONE, chrome, open_page, overflows, screenshot

    out, _ = compared
    with chrome(tmp_path / "profile") as driver:
        from selenium.webdriver.common.by import By

        open_page(driver, out / "report.html")
        lost = driver.find_elements(By.CSS_SELECTOR, "tr.lost")
        plain = driver.find_elements(By.CSS_SELECTOR, "table.facts tbody tr:not(.lost)")
        assert lost and plain and lost[0].is_displayed() and "lost" in lost[0].text
        colour = lost[0].value_of_css_property("background-color")
        assert colour != plain[0].value_of_css_property("background-color")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", lost[0])
        screenshot(driver, "eval-compare-desktop.png", whole_page=False)
        open_page(driver, out / "report.html", phone=True)
        assert not overflows(driver, PHONE["width"])
        assert driver.find_element(By.CSS_SELECTOR, "tr.lost").is_displayed()
