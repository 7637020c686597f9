"""Dataset loaders, the fixed split and materialised folders, on miniature copies of the
published formats (tests/evals/evals_fixtures.py); the shared data itself is not needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from evals_fixtures import write_datasets

from evals import datasets as ds
from pipeline.sources import load_articles


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_datasets(tmp_path / "data")
    monkeypatch.setenv(ds.DATASETS_ENV, str(root))
    return root


def test_neus_split_by_line_parity_with_titles_and_reference(data: Path) -> None:
    dev = ds.load_neus(data, "dev")
    test = ds.load_neus(data, "test")
    assert [s.id for s in dev] == ["neus-000", "neus-002"]
    assert [s.id for s in test] == ["neus-001"]
    story = test[0]
    assert len(story.articles) == 3
    assert story.articles[0].title == "Council votes on plan 1."
    assert story.articles[0].text.startswith("The council voted 6 to 2")
    assert story.reference == "The council approved plan 1 on Monday."
    assert ds.load_neus(data, "dev", limit=1)[0].id == "neus-000"


def test_neus_chunk_without_markers_is_all_body() -> None:
    assert ds.parse_neus_article(" plain text ") == ds.SourceArticle(text="plain text")


def test_basil_events_sorted_and_split_with_metadata_and_lex_spans(data: Path) -> None:
    assert [s.id for s in ds.load_basil(data, "dev")] == ["basil-evt-a"]
    story = ds.load_basil(data, "test")[0]
    assert story.id == "basil-evt-b"
    first, second = story.articles
    assert (first.outlet, second.outlet) == ("The New York Times", "Fox News")
    # the first body was stored as a Python-literal string
    assert first.text == "Officials slammed the plan on Monday.\n\nVote 1."
    assert first.url == "http://example.com/evt-b/1" and first.date == "2011-04-07"
    assert story.lex_spans == ["slammed", "slammed"]  # inf spans are not loaded wording


def test_load_split_seed_is_dev_only(data: Path) -> None:
    dev = ds.load_split("dev", limit=1)
    assert [s.dataset for s in dev] == ["seed", "neus", "basil"]
    assert dev[0].facts is not None and dev[0].folder is not None
    assert [s.dataset for s in ds.load_split("test")] == ["neus", "basil"]
    assert ds.load_split("dev", datasets=("basil",))[0].id == "basil-evt-a"


def test_materialised_folder_loads_with_its_metadata(data: Path, tmp_path: Path) -> None:
    story = ds.load_basil(data, "test")[0]
    folder = ds.materialise(story, tmp_path / "story")
    loaded = load_articles(folder).articles
    assert [a.outlet for a in loaded] == ["The New York Times", "Fox News"]
    assert loaded[0].title == "Plan passes 1" and loaded[0].url == "http://example.com/evt-b/1"
    neus = ds.materialise(ds.load_neus(data, "test")[0], tmp_path / "neus")
    assert sorted(p.name for p in neus.iterdir())[0] == "000_council-votes-on-plan-1.meta.yaml"


def test_unreadable_data_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ds.DatasetError, match="cannot read NeuS"):
        ds.load_neus(tmp_path, "dev")
    with pytest.raises(ds.DatasetError, match="cannot read BASIL"):
        ds.load_basil(tmp_path, "dev")
    bad = tmp_path / "basil" / "evt"
    bad.mkdir(parents=True)
    (bad / "evt_1.json").write_text("{not json")
    with pytest.raises(ds.DatasetError, match="evt_1.json"):
        ds.load_basil(tmp_path, "dev")


def test_default_root_is_the_shared_datasets_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ds.DATASETS_ENV, raising=False)
    assert ds.datasets_root() == (ds.ROOT.parent / "shared" / "datasets").resolve()
