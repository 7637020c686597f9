"""The command line end to end, through the mock model or a real loopback HTTP endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import diskcache
import pytest

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.llm.base import ChatResponse
from pipeline.llm.cache import ResponseCache
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
    cleared = capsys.readouterr().out
    if (Settings.from_env().cache_dir / "vectors").is_dir():  # the encoder ran: vectors went too
        assert "sentence-vector sets" in cleared
    assert main(["cache", "stats"]) == 0
    assert "entries: 0" in capsys.readouterr().out


def _worker_cache(directory: Path, answers: dict[str, str]) -> Path:
    with ResponseCache(directory) as cache:
        for key, content in answers.items():
            cache.set(key, ChatResponse(content=content))
    return directory


def test_cache_merge_copies_other_caches_into_the_current_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    one = _worker_cache(tmp_path / "node1", {"a": "{}", "b": "{}"})
    two = _worker_cache(tmp_path / "node2", {"b": "{}", "c": "{}"})
    with diskcache.Cache(str(two)) as raw:
        raw.set("d", "not json {")
    assert main(["cache", "merge", str(one), str(two)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line == (
        f"merged 2 cache(s) into {tmp_path / 'cache'}: 3 copied, 1 already present, "
        "1 unreadable; 0 fetched pages"
    )
    assert main(["cache", "stats"]) == 0
    assert "entries: 3" in capsys.readouterr().out


def test_cache_merge_of_a_folder_that_is_not_a_cache_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    good = _worker_cache(tmp_path / "node1", {"a": "{}"})
    (tmp_path / "stories").mkdir()
    assert main(["cache", "merge", str(good), str(tmp_path / "stories")]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'stories'} is not a readable response cache" in _one_error_line(err)
    assert not (tmp_path / "cache").exists()  # nothing copied, the destination not even made


def test_models_list_names_both_models(capsys: pytest.CaptureFixture[str]):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "qwen2.5-coder-1.5b" in out and "smollm2-135m" in out and "not pulled" in out


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


# ---- issue 15: arguments are checked before any work -------------------------------------------


def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the run gets as far as loading articles."""
    import pipeline.run

    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("the run started")

    monkeypatch.setattr(pipeline.run, "run_brief", forbidden)


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "-inf"])
def test_timeout_must_be_a_finite_number_above_zero(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    _no_work(monkeypatch)
    code = main(["brief", str(SEED), "--base-url", "mock://", "--model", "m", f"--timeout={value}"])
    assert code == 1
    assert "--timeout must be a number of seconds above 0" in _one_error_line(
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "url", ["ftp://example.org/v1", "file:///tmp/x", "not a url", "http://", "localhost:8000/v1"]
)
def test_base_url_must_be_http_https_or_mock(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    _no_work(monkeypatch)
    assert main(["brief", str(SEED), "--base-url", url, "--model", "m"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "--base-url must be an http:// or https:// URL" in line and repr(url) in line


def test_base_url_from_the_environment_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    _no_work(monkeypatch)
    monkeypatch.setenv("PIPELINE_BASE_URL", "ftp://x")
    assert main(["brief", str(SEED), "--model", "m"]) == 1
    assert "--base-url must be" in _one_error_line(capsys.readouterr().err)


def _story_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "story"
    folder.mkdir()
    for path in SEED.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


@pytest.mark.parametrize("target", ["000_d9e044b44ba01bda.txt", "briefing.md", "sub/out.json"])
def test_output_inside_the_input_folder_is_refused(
    tmp_path: Path,
    target: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    """Issue 15: `-o DIR/001_x.txt` overwrote an article; `-o DIR/briefing.md` made the next
    run cite its own briefing as an article."""
    folder = _story_copy(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    _no_work(monkeypatch)
    out = folder / target
    code = main(["brief", str(folder), "--base-url", "mock://", "--model", "m", "-o", str(out)])
    assert code == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "is inside the input folder" in line
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_output_next_to_the_input_folder_is_fine(tmp_path: Path):
    folder = _story_copy(tmp_path)
    out = tmp_path / "story-briefing.md"  # a sibling whose name starts like the folder's
    assert (
        main(["brief", str(folder), "--base-url", "mock://", "--model", "m", "-q", "-o", str(out)])
        == 0
    )
    assert out.read_text(encoding="utf-8").startswith("# ")


def test_cache_stats_into_a_closed_pipe_exits_quietly(tmp_path: Path):
    """`pipeline cache stats | head -1`: the reader is gone before we write."""
    env = {**os.environ, "PIPELINE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "cache", "stats"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


def test_prompts_check_fails_with_one_line_on_an_undefined_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = tmp_path / "p"
    folder.mkdir()
    for path in (ROOT / "prompts").iterdir():
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    merge = folder / "merge_claims.md"
    merge.write_text(merge.read_text().replace("{{ claim.text }}", "{{ claim.txt }}"))
    assert main(["prompts", "check", "--prompts", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "merge_claims.md" in _one_error_line(captured.err)
    assert "ok" not in captured.out


def test_a_broken_pipe_that_is_not_stdout_is_still_an_error(tmp_path: Path):
    """Only a reader that went away is quiet; a broken socket elsewhere still fails loudly."""
    code = (
        "import sys, pipeline.cli as c\n"
        "def boom(args): raise BrokenPipeError(32, 'Broken pipe (socket)')\n"
        "c.COMMANDS['cache'] = boom\n"
        "sys.exit(c.main(['cache', 'stats']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 1
    assert "internal error: BrokenPipeError" in _one_error_line(proc.stderr)
