"""Smoke test: the whole brief through the real embedded llama.cpp server with the tiny model.

Asserts structure (a valid claim graph, citations, grounded quotes, a cached re-run with zero
calls, no server left behind), never wording: the 135M model writes poorly by design.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.schema import ClaimGraph

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "lavrov-2025-11"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # two real runs of a model on 2 cores; slower on a busy machine
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed"
    ),
]


def _brief(cache: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIPELINE_CACHE_DIR": str(cache)}
    for var in ("PIPELINE_BASE_URL", "PIPELINE_MODEL", "OPENAI_API_KEY"):
        env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "brief", str(SEED), "--model", "smollm2-135m",
         "--format", "json", "-o", str(out)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200, check=False,
    )  # fmt: skip


def _llama_servers() -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "pipeline.llm.serve" in line and "SmolLM2" in line]


def test_tiny_model_brief_is_a_grounded_cited_claim_graph(tmp_path: Path) -> None:
    before = _llama_servers()
    cold = _brief(tmp_path / "cache", tmp_path / "cold.json")
    assert cold.returncode == 0, cold.stderr[-2000:]
    graph = ClaimGraph.model_validate_json((tmp_path / "cold.json").read_text())

    texts = {a.id: a.text for a in graph.articles}
    assert len(graph.articles) == 5
    assert graph.report.model_calls >= 5  # one extraction per article at least
    for claim in graph.claims:
        assert texts[claim.article_id][claim.span[0] : claim.span[1]] == claim.quote
    assert graph.briefing.sentences, "the briefing is empty"
    for sentence in graph.briefing.sentences:
        assert sentence.article_ids and sentence.group_ids
        assert set(sentence.article_ids) <= set(texts)
    assert graph.report.grounding.conflicts_found >= 1  # code finds the date conflict

    warm = _brief(tmp_path / "cache", tmp_path / "warm.json")
    assert warm.returncode == 0, warm.stderr[-2000:]
    again = ClaimGraph.model_validate_json((tmp_path / "warm.json").read_text())
    assert again.report.model_calls == 0 and again.report.cache_hits > 0
    assert again.briefing == graph.briefing
    assert _llama_servers() == before  # no server left behind
