"""The seed story's briefing page in a real headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium): a focused, clicked or hovered citation shows its quote,
the conflict table and coverage strip are there, nothing overflows at phone width, the dark
theme follows the system, and an article's `<script>` stays text.

Skips, saying why, when the browser, its driver or Selenium is missing. No network: the page is
a local file with no external asset, and the pipeline runs on the rule-based mock model.
PIPELINE_SCREENSHOT_DIR=DIR saves screenshots there (docs/ holds ones of a default-model briefing).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import PHONE, chrome, emulate, open_page, overflows, screenshot

from pipeline.cli import main
from pipeline.html_page import to_html_page
from pipeline.schema import ClaimGraph

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "lavrov-2025-11"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chrome(tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser


@pytest.fixture(scope="module")
def seed_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ClaimGraph]:
    """The seed story's page and graph, from the mock model (no model weights needed)."""
    out = tmp_path_factory.mktemp("page")
    common = ["--base-url", "mock://", "--model", "mock", "--grouping", "words", "-q"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PIPELINE_CACHE_DIR", str(out / "cache"))
        for fmt in ("html", "json"):
            code = main(["brief", str(SEED), "--format", fmt, "-o", str(out / f"b.{fmt}"), *common])
            assert code == 0
    graph = ClaimGraph.model_validate_json((out / "b.json").read_text(encoding="utf-8"))
    return out / "b.html", graph


def _pop_for(driver: Any, ref: Any) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, ref.get_attribute("href").split("#", 1)[1])


def _cited_quotes(graph: ClaimGraph, article_id: int) -> set[str]:
    return {c.quote for c in graph.claims if c.article_id == article_id}


def test_focused_citation_shows_its_verbatim_quote(
    driver: Any, seed_page: tuple[Path, ClaimGraph]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page, graph = seed_page
    open_page(driver, page)
    refs = driver.find_elements(By.CSS_SELECTOR, "a.ref")
    assert len(refs) == sum(len(s.article_ids) for s in graph.briefing.sentences)
    first, pop = refs[0], _pop_for(driver, refs[0])
    assert not pop.is_displayed()
    # Keyboard: Tab moves focus from the page start to the first citation (the only links
    # before it are none: the header and coverage strip hold no link).
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element == first
    assert pop.is_displayed()
    article_id = int(first.text.strip("[]"))
    shown = [q.text for q in pop.find_elements(By.CSS_SELECTOR, "q.quote")]
    assert shown and all(q in _cited_quotes(graph, article_id) for q in shown)
    meta = pop.find_element(By.CLASS_NAME, "meta").text
    article = next(a for a in graph.articles if a.id == article_id)
    assert (article.outlet or article.title or "") in meta and "open article" in meta
    box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", pop)
    assert box["width"] > 100 and box["height"] > 20
    screenshot(driver, "briefing-desktop.png")


def test_clicked_and_hovered_citationsopen_page(
    driver: Any, seed_page: tuple[Path, ClaimGraph]
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    page, _ = seed_page
    open_page(driver, page)
    refs = driver.find_elements(By.CSS_SELECTOR, "a.ref")
    clicked, hovered = refs[-1], refs[1]
    clicked.click()
    assert _pop_for(driver, clicked).is_displayed()
    ActionChains(driver).move_to_element(hovered).perform()
    assert _pop_for(driver, hovered).is_displayed()


def test_conflict_table_and_coverage_strip_are_shown(
    driver: Any, seed_page: tuple[Path, ClaimGraph]
) -> None:
    from selenium.webdriver.common.by import By

    page, graph = seed_page
    open_page(driver, page)
    values = [v for g in graph.groups for c in g.conflicts for v in c.values]
    assert values, "the seed story's mock run finds conflicts"
    rows = driver.find_elements(By.CSS_SELECTOR, ".conflicts tbody tr")
    assert len(rows) == len(values) and all(r.is_displayed() for r in rows)
    assert {r.find_element(By.CSS_SELECTOR, "td.value").text for r in rows} == {
        v.value for v in values
    }
    strip = driver.find_elements(By.CSS_SELECTOR, ".coverage li")
    assert len(strip) == len(graph.articles) and all(li.is_displayed() for li in strip)
    assert "claims used" in strip[0].text


def test_phone_width_has_no_horizontal_overflow(
    driver: Any, seed_page: tuple[Path, ClaimGraph]
) -> None:
    from selenium.webdriver.common.by import By

    page, _ = seed_page
    open_page(driver, page, phone=True)
    try:
        width = driver.execute_script("return window.innerWidth")
        assert width == PHONE["width"]
        assert not overflows(driver, PHONE["width"])
        ref = driver.find_elements(By.CSS_SELECTOR, "a.ref")[2]
        ref.click()
        pop = _pop_for(driver, ref)
        assert pop.is_displayed()
        box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", pop)
        assert box["left"] >= 0 and box["right"] <= width
        assert not overflows(driver, PHONE["width"])
        screenshot(driver, "briefing-phone.png", whole_page=False)
    finally:
        emulate(driver)


def test_dark_theme_follows_the_system(driver: Any, seed_page: tuple[Path, ClaimGraph]) -> None:
    page, _ = seed_page
    background = "return getComputedStyle(document.body).backgroundColor"
    open_page(driver, page, dark=True)
    try:
        dark = driver.execute_script(background)
        screenshot(driver, "briefing-dark.png")
    finally:
        emulate(driver)
    driver.get(page.as_uri())
    light = driver.execute_script(background)
    assert _luminance(dark) < 0.2 < 0.8 < _luminance(light)


def _luminance(css_rgb: str) -> float:
    """0 (black) to 1 (white) from a computed `rgb(r, g, b)` colour."""
    r, g, b = (int(x) for x in css_rgb[css_rgb.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_article_markup_stays_text_in_the_browser(
    driver: Any, seed_page: tuple[Path, ClaimGraph], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    _, graph = seed_page
    evil = graph.model_copy(deep=True)
    evil.articles[0].outlet = "<img src=x onerror=\"document.title='owned'\">"
    evil.briefing.title = "<script>document.title='owned'</script>Briefing"
    page = tmp_path / "evil.html"
    page.write_text(to_html_page(evil), encoding="utf-8")
    open_page(driver, page)
    assert driver.title == "<script>document.title='owned'</script>Briefing"
    assert driver.find_elements(By.TAG_NAME, "script") == []
    assert driver.find_elements(By.TAG_NAME, "img") == []
    assert evil.articles[0].outlet in driver.find_element(By.CLASS_NAME, "coverage").text
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == [], json.dumps(errors)


def test_print_shows_every_quote_under_its_sentence(
    driver: Any, seed_page: tuple[Path, ClaimGraph]
) -> None:
    from selenium.webdriver.common.by import By

    page, _ = seed_page
    open_page(driver, page)
    try:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        pops = driver.find_elements(By.CSS_SELECTOR, ".pop")
        assert pops and all(p.is_displayed() for p in pops)
    finally:
        emulate(driver)
    assert not any(p.is_displayed() for p in driver.find_elements(By.CSS_SELECTOR, ".pop"))


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_quote_opens_inside_the_window(
    driver: Any, seed_page: tuple[Path, ClaimGraph], phone: bool
) -> None:
    from selenium.webdriver.common.by import By

    page, _ = seed_page
    open_page(driver, page, phone=phone)
    try:
        width = driver.execute_script("return window.innerWidth")
        for ref in driver.find_elements(By.CSS_SELECTOR, "a.ref"):
            driver.execute_script("arguments[0].focus()", ref)
            pop = _pop_for(driver, ref)
            assert pop.is_displayed()
            box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", pop)
            assert box["left"] >= 0 and box["right"] <= width, ref.get_attribute("href")
            assert not overflows(driver, width)
    finally:
        emulate(driver)


def test_skip_reason_names_the_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import browser

    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert browser.find_browser() == (
        "no Chromium found (apt-get install -y chromium chromium-driver)"
    )
