"""The command line end to end, through the mock model or a real loopback HTTP endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.schema import ClaimGraph

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "lavrov-2025-11"


pytestmark = pytest.mark.usefixtures("isolated_env")


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "expected an error line"
    assert "Traceback" not in err
    return lines[-1]


def test_brief_json_is_a_grounded_claim_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "out.json"
    code = main(
        [
            "brief",
            str(SEED),
            "--base-url",
            "mock://",
            "--model",
            "mock",
            "--format",
            "json",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    graph = ClaimGraph.model_validate_json(out.read_text())
    texts = {a.id: a.text for a in graph.articles}
    assert graph.claims and graph.briefing.sentences
    for c in graph.claims:
        assert texts[c.article_id][c.span[0] : c.span[1]] == c.quote
    for s in graph.briefing.sentences:
        assert s.article_ids and s.group_ids
    assert graph.report.model_calls > 0
    assert capsys.readouterr().out == ""  # nothing but the output, which went to the file


def test_second_run_makes_no_model_call_and_prints_the_same(capsys: pytest.CaptureFixture[str]):
    args = ["brief", str(SEED), "--base-url", "mock://", "--model", "mock"]
    assert main(args) == 0
    first = capsys.readouterr()
    assert main(args) == 0
    second = capsys.readouterr()
    assert second.out == first.out
    assert "0 model calls" in second.err and "all from cache" in second.err


def test_no_cache_makes_calls_every_time(capsys: pytest.CaptureFixture[str]):
    args = ["brief", str(SEED), "--base-url", "mock://", "--model", "mock", "--no-cache"]
    assert main(args) == 0
    assert main(args) == 0
    assert "0 model calls" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no articles in"),
        (
            lambda p: (
                ((p / "bin").mkdir(), (p / "bin" / "x.txt").write_bytes(b"\x00\x01" * 500))
                and p / "bin"
            ),
            "no usable articles",
        ),
    ],
)
def test_bad_input_is_one_line_and_non_zero(tmp_path, capsys, make, expected):
    folder = make(tmp_path)
    code = main(["brief", str(folder), "--base-url", "mock://", "--model", "mock"])
    assert code != 0
    assert expected in _one_error_line(capsys.readouterr().err)


def test_unreachable_endpoint_is_one_line_and_non_zero(capsys: pytest.CaptureFixture[str]):
    code = main(
        [
            "brief",
            str(SEED),
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--timeout",
            "2",
        ]
    )
    assert code != 0
    line = _one_error_line(capsys.readouterr().err)
    assert "127.0.0.1:9" in line and "extract" not in line.lower() or "cannot reach" in line


def test_base_url_without_model_is_a_clear_error(capsys: pytest.CaptureFixture[str]):
    assert main(["brief", str(SEED), "--base-url", "http://127.0.0.1:9/v1"]) != 0
    assert "--model" in _one_error_line(capsys.readouterr().err)


def test_bad_prompt_set_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "p").mkdir()
    code = main(
        [
            "brief",
            str(SEED),
            "--base-url",
            "mock://",
            "--model",
            "m",
            "--prompts",
            str(tmp_path / "p"),
        ]
    )
    assert code != 0
    assert "extract_claims.md" in _one_error_line(capsys.readouterr().err)


def test_prompts_check_lists_the_default_set(capsys: pytest.CaptureFixture[str]):
    assert main(["prompts", "check"]) == 0
    out = capsys.readouterr().out
    for name in ("extract_claims", "merge_claims", "write_briefing"):
        assert name in out


def test_cache_stats_and_clear(capsys: pytest.CaptureFixture[str]):
    assert main(["brief", str(SEED), "--base-url", "mock://", "--model", "m", "-q"]) == 0
    capsys.readouterr()
    assert main(["cache", "stats"]) == 0
    assert "entries: 0" not in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert main(["cache", "stats"]) == 0
    assert "entries: 0" in capsys.readouterr().out


def test_models_list_names_both_models(capsys: pytest.CaptureFixture[str]):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "qwen2.5-1.5b" in out and "smollm2-135m" in out and "not pulled" in out


def test_python_dash_m_and_quiet_keep_stdout_clean(tmp_path: Path):
    env = {**os.environ, "PIPELINE_CACHE_DIR": str(tmp_path / "c")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "brief",
            str(SEED),
            "--base-url",
            "mock://",
            "--model",
            "m",
            "--quiet",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    json.loads(proc.stdout)


def test_an_encoder_that_cannot_be_pulled_fails_before_any_model_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from pipeline.errors import ModelFileError
    from pipeline.llm import registry

    def offline(name: str, models_dir: Path, **_: object) -> Path:
        raise ModelFileError(f"could not fetch {name}: no network")

    monkeypatch.setattr(registry, "ensure", offline)
    args = ["brief", str(SEED), "--base-url", "mock://", "--model", "mock", "--grouping", "meaning"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert _one_error_line(err).endswith("could not fetch minilm-l6-v2: no network")
    assert "extract:" not in err  # no article was sent to the model
    assert main([*args[:-2], "--grouping", "words"]) == 0  # the escape hatch needs no encoder
