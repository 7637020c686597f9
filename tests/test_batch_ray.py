"""`pipeline batch --executor ray` on a local Ray instance with the mock model.

Skipped when Ray is not installed (`pip install 'pipeline[ray]'`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_batch import make_stories, mock_settings

from pipeline.batch import discover_stories, run_batch
from pipeline.errors import InputError

ray: Any = pytest.importorskip("ray", reason="Ray is not installed (pip install 'pipeline[ray]')")


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
