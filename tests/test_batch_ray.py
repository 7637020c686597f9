"""`pipeline batch --executor ray` on a local Ray instance with the mock model.

Skipped when Ray is not installed (`pip install 'pipeline[ray]'`). The tests that let the run
start (and stop) its own Ray come first: the module's shared instance starts with the first
test that asks for it and stops after the last test of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_batch import make_stories, mock_settings

from pipeline.batch import discover_stories, run_batch
from pipeline.batch_ray import check_reachable
from pipeline.cli import main
from pipeline.errors import InputError

ray: Any = pytest.importorskip("ray", reason="Ray is not installed (pip install 'pipeline[ray]')")


@pytest.fixture
def no_ray_yet() -> None:
    assert not ray.is_initialized(), "this test must run before the shared local Ray starts"


@pytest.mark.timeout(120)
def test_cli_starts_a_local_ray_and_stops_it(
    tmp_path: Path, no_ray_yet: None, isolated_env: None
) -> None:
    root = make_stories(tmp_path / "stories", 2)
    out = tmp_path / "out"
    args = ["batch", str(root), "-o", str(out), "--executor", "ray", "-q"]
    assert main([*args, "--base-url", "mock://", "--model", "mock"]) == 0
    assert sorted(p.name for p in out.glob("*.md")) == [
        "story-000.md",
        "story-001.md",
    ]
    assert not ray.is_initialized()  # the run shut down the Ray it started


def test_unreachable_ray_address_is_one_line_at_once(
    tmp_path: Path, no_ray_yet: None, dead_url: str
) -> None:
    address = dead_url.removeprefix("http://").removesuffix("/v1")
    root = make_stories(tmp_path / "stories", 1)
    settings = mock_settings(tmp_path)
    with pytest.raises(InputError, match=f"cannot join Ray at {address}"):
        run_batch(
            discover_stories(root), tmp_path / "o", settings, executor="ray", ray_address=address
        )
    with pytest.raises(InputError, match="cannot join Ray at ray://"):
        check_reachable(f"ray://{address}")
    check_reachable(None)  # a local Ray: nothing to check


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.timeout(240)
def test_ray_briefs_the_same_stories_as_threads(tmp_path: Path, local_ray: None) -> None:
    root = make_stories(tmp_path / "stories", 6, articles=3)
    (root / "broken").mkdir()
    (root / "broken" / "a.txt").write_text("")
    stories = discover_stories(root)
    threads = run_batch(
        stories, tmp_path / "threads", mock_settings(tmp_path, cache_dir=tmp_path / "c1")
    )
    settings = mock_settings(tmp_path, cache_dir=tmp_path / "c2")
    on_ray = run_batch(
        stories, tmp_path / "ray", settings, executor="ray", concurrency=3, progress=False
    )
    assert [(r.name, r.status) for r in on_ray.results] == [
        (r.name, r.status) for r in threads.results
    ]
    assert on_ray.count("done") == 6 and on_ray.count("failed") == 1
    assert on_ray.failures[0].name == "broken"
    for story in stories[1:]:
        ours = (tmp_path / "ray" / f"{story.name}.md").read_text()
        assert ours == (tmp_path / "threads" / f"{story.name}.md").read_text()
    # The workers wrote their answers to their (here: one shared local) cache: a re-run skips,
    # and a forced one is answered from the cache.
    again = run_batch(stories, tmp_path / "ray", settings, executor="ray", force=True)
    assert sum(r.calls for r in again.results) == 0
    assert sum(r.cache_hits for r in again.results) > 0


def test_ray_refuses_the_embedded_model(tmp_path: Path) -> None:
    root = make_stories(tmp_path / "stories", 1)
    settings = mock_settings(tmp_path, base_url=None, model=None)
    with pytest.raises(InputError, match="needs a served model"):
        run_batch(discover_stories(root), tmp_path / "o", settings, executor="ray")
