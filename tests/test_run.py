"""run.py's model naming: the report shows the honest name, the cache key keeps the old one."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.run import model_name, request_model


def test_default_model_is_named_for_what_it_is(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path)
    assert model_name(settings) == "qwen2.5-coder-1.5b"
    assert model_name(Settings(cache_dir=tmp_path, model="qwen2.5-1.5b")) == "qwen2.5-coder-1.5b"


def test_renamed_model_keeps_its_cached_answers(tmp_path: Path) -> None:
    """The request name is part of the cache key: answers cached before the rename still hit."""
    settings = Settings(cache_dir=tmp_path)
    assert request_model(settings, "qwen2.5-coder-1.5b") == "qwen2.5-1.5b"
    assert request_model(settings, "smollm2-135m") == "smollm2-135m"
    remote = Settings(cache_dir=tmp_path, base_url="http://x/v1", model="qwen2.5-coder-1.5b")
    assert request_model(remote, "qwen2.5-coder-1.5b") == "qwen2.5-coder-1.5b"


def test_answers_from_several_builds_are_reported_and_warned() -> None:
    from pipeline.run import note_answer_sources
    from pipeline.schema import RunReport

    one = RunReport(model="m", base_url="embedded", prompts_dir="p")
    note_answer_sources(one, {"llama-cpp-python 0.3.36 portable [AVX2] on A": 7})
    assert one.answer_sources == {"llama-cpp-python 0.3.36 portable [AVX2] on A": 7}
    assert one.warnings == []

    mixed = RunReport(model="m", base_url="embedded", prompts_dir="p")
    note_answer_sources(mixed, {"build A": 5, "build B": 2})
    assert mixed.answer_sources == {"build A": 5, "build B": 2}
    assert mixed.warnings == ["answers come from 2 builds: 5 from build A; 2 from build B"]
