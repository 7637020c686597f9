"""Settings from the environment: grouping mode."""

from __future__ import annotations

import pytest

from pipeline.config import Settings


@pytest.mark.parametrize(("env", "want"), [(None, "meaning"), ("words", "words"), ("x", "meaning")])
def test_grouping_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: str | None, want: str
) -> None:
    if env is None:
        monkeypatch.delenv("PIPELINE_GROUPING", raising=False)
    else:
        monkeypatch.setenv("PIPELINE_GROUPING", env)
    assert Settings.from_env().grouping == want
    assert Settings.from_env(grouping="words").grouping == "words"
