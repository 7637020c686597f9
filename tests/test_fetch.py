"""Briefs from links (pipeline/fetch.py and `pipeline brief URL ...`), against a loopback server
of saved pages (tests/page_server.py): metadata, the page cache, and one line per fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from page_server import PAGES, PageServer

from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.fetch import fetch_articles, page_metadata, pages_dir, read_url_list
from pipeline.sources import html_metadata, load_articles

MOCK = ["--base-url", "mock://", "--model", "mock", "-q"]


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer(slow_seconds=2.0)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_pages_become_articles_with_outlet_title_date_and_address(
    pages: PageServer, cache: Path
) -> None:
    urls = [f"{pages.url}/{name}.html" for name in ("planet", "gazette", "bare")]
    result = fetch_articles(urls, cache)
    assert (result.pages, result.from_cache, result.warnings) == (3, 0, [])
    articles = load_articles(result.folder).articles
    got = [(a.id, a.outlet, a.title, a.date, a.url) for a in articles]
    assert got == [
        (1, "Harbour Planet", "Port Alder bridge shut after crack found", "2026-03-04", urls[0]),
        # No og:site_name: the host of its canonical link.
        (
            2,
            "alder-gazette.example",
            "Crack closes Harbour Bridge; repairs may take a month",
            "2026-03-04",
            urls[1],
        ),
        # No site name and no canonical link: the host it was fetched from.
        (3, "127.0.0.1", "Bridge closure: what commuters need to know", None, urls[2]),
    ]
    assert "should never reach" not in articles[0].text and "Subscribe" not in " ".join(
        articles[0].sentence_text(i) for i in range(len(articles[0].sentences))
    )


def test_each_page_is_fetched_once_and_reruns_work_offline(pages: PageServer, cache: Path) -> None:
    urls = [f"{pages.url}/planet.html", f"{pages.url}/gazette.html"]
    first = fetch_articles(urls, cache)
    pages.close()  # offline from here on
    again = fetch_articles(urls, cache)
    assert (again.pages, again.from_cache, again.warnings) == (2, 2, [])
    assert again.folder == first.folder
    assert pages.hits["/planet.html"] == 1 and pages.hits["/gazette.html"] == 1
    assert [a.outlet for a in load_articles(again.folder).articles] == [
        "Harbour Planet",
        "alder-gazette.example",
    ]


def test_no_cache_keeps_no_page_and_refresh_fetches_again(pages: PageServer, cache: Path) -> None:
    url = f"{pages.url}/planet.html"
    fresh = fetch_articles([url], cache, use_cache=False)
    assert fresh.from_cache == 0 and not pages_dir(cache).exists()
    fetch_articles([url], cache)
    again = fetch_articles([url], cache, refresh=True)
    assert again.from_cache == 0 and pages.hits["/planet.html"] == 3


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.html", "HTTP 404 Not Found"),
        ("/report.pdf", "not an HTML page (application/pdf)"),
        ("/loop", "redirect loop (or more than 10 redirects)"),
        ("/big.html", "page larger than 5 MB"),
        ("/big-stream.html", "page larger than 5 MB"),
        ("/stub.html", "only 27 words of text (paywall or stub page?)"),
        ("/slow.html", "no answer within 0.5 s"),
    ],
)
def test_a_bad_page_is_one_line_and_the_others_go_on(
    pages: PageServer, cache: Path, path: str, reason: str
) -> None:
    good = f"{pages.url}/planet.html"
    result = fetch_articles([f"{pages.url}{path}", good], cache, timeout=0.5)
    assert result.warnings == [f"{pages.url}{path}: {reason} — skipped"]
    assert [a.url for a in load_articles(result.folder).articles] == [good]
    # Failures are not cached: the next run asks again.
    before = pages.hits[path]
    fetch_articles([f"{pages.url}{path}", good], cache, timeout=0.5)
    assert pages.hits[path] > before


def test_a_refused_connection_is_one_line(cache: Path) -> None:
    closed = PageServer()
    url = f"{closed.url}/planet.html"
    closed.close()
    with pytest.raises(InputError) as info:
        fetch_articles([url], cache)
    assert str(info.value).startswith(f"no usable pages: {url}: cannot connect (")


def test_redirects_are_followed_and_the_page_keeps_its_final_address(
    pages: PageServer, cache: Path
) -> None:
    result = fetch_articles([f"{pages.url}/moved"], cache)
    [article] = load_articles(result.folder).articles
    assert article.url == f"{pages.url}/planet.html" and article.outlet == "Harbour Planet"


def test_a_saved_page_in_a_folder_gets_the_same_metadata(tmp_path: Path) -> None:
    for name in ("planet", "gazette"):
        (tmp_path / f"{name}.html").write_bytes((PAGES / f"{name}.html").read_bytes())
    got = [(a.outlet, a.date) for a in load_articles(tmp_path).articles]
    assert got == [("alder-gazette.example", "2026-03-04"), ("Harbour Planet", "2026-03-04")]
    html = (PAGES / "bare.html").read_text(encoding="utf-8")
    assert page_metadata(html, "https://www.example.org/x")["outlet"] == "example.org"


def test_a_page_saved_by_a_browser_takes_its_host_from_the_saved_from_comment(
    tmp_path: Path,
) -> None:
    page = (PAGES / "bare.html").read_text(encoding="utf-8")
    comment = "<!-- saved from url=(0041)https://www.harbour-news.example/a/bridge -->\n"
    (tmp_path / "saved.html").write_text(comment + page, encoding="utf-8")
    [saved] = load_articles(tmp_path).articles
    assert (saved.outlet, saved.url) == (
        "harbour-news.example",
        "https://www.harbour-news.example/a/bridge",
    )
    assert "outlet" not in html_metadata(page)  # without the comment: no outlet, only a title


def test_url_list_file(tmp_path: Path) -> None:
    links = tmp_path / "links.txt"
    links.write_text("# today's links\nhttps://a.example/1\n\n  http://b.example/2  \n")
    assert read_url_list(links) == ["https://a.example/1", "http://b.example/2"]
    links.write_text("https://a.example/1\nftp://b.example/2\n")
    with pytest.raises(InputError, match=r"line 2: not an http\(s\) URL: ftp://b.example/2"):
        read_url_list(links)
    with pytest.raises(InputError, match="no such file"):
        read_url_list(tmp_path / "nope.txt")


def test_cli_briefs_urls_and_names_the_outlets(
    pages: PageServer, cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    links = tmp_path / "links.txt"
    links.write_text(f"{pages.url}/bare.html\n{pages.url}/missing.html\n")
    out = tmp_path / "g.json"
    argv = ["brief", f"{pages.url}/planet.html", f"{pages.url}/gazette.html", "--urls", str(links)]
    code = main([*argv, "--format", "json", "-o", str(out), *MOCK[:-1]])
    assert code == 0
    graph = json.loads(out.read_text())
    assert [a["outlet"] for a in graph["articles"]] == [
        "Harbour Planet",
        "alder-gazette.example",
        "127.0.0.1",
    ]
    assert graph["briefing"]["sentences"]
    assert graph["report"]["warnings"][0] == (
        f"{pages.url}/missing.html: HTTP 404 Not Found — skipped"
    )
    err = capsys.readouterr().err
    assert f"warning: {pages.url}/missing.html: HTTP 404 Not Found — skipped\n" in err
    assert err.count("missing.html") == 1


def test_cli_one_line_errors(
    pages: PageServer, cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["brief", f"{pages.url}/missing.html", f"{pages.url}/stub.html", *MOCK]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"pipeline: error: no usable pages: {pages.url}/missing.html: HTTP 404 Not Found; "
        f"{pages.url}/stub.html: only 27 words of text (paywall or stub page?)\n"
    )
    assert main(["brief", str(tmp_path), f"{pages.url}/planet.html", *MOCK]) == 1
    assert capsys.readouterr().err == (
        "pipeline: error: give either one folder or page URLs, not both\n"
    )
    assert main(["brief", *MOCK]) == 1
    assert "give one folder of articles, or page URLs" in capsys.readouterr().err


def test_cache_merge_copies_the_fetched_pages_a_cache_lacks(
    pages: PageServer, tmp_path: Path
) -> None:
    from pipeline.fetch import merge_pages

    worker, here = tmp_path / "worker", tmp_path / "here"
    url = f"{pages.url}/planet.html"
    fetch_articles([url], worker)
    (pages_dir(worker) / "stray.json").write_text('{"url": "http://elsewhere/"}')
    assert merge_pages(worker, here) == 1
    assert merge_pages(worker, here) == 0  # already there
    pages.close()
    assert fetch_articles([url], here).from_cache == 1  # offline, from the merged copy
