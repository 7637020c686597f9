"""`python -m evals` end to end on hand-built graphs and fake runners: exit codes, reports,
the gate with repeats, splits of the shared datasets."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from evals_fixtures import lavrov_bad_graph, lavrov_good_graph, make_graph, write_datasets

from evals import harness
from evals.cli import main
from pipeline.config import Settings
from pipeline.schema import ClaimGraph

EVALS = Path(harness.__file__).resolve().parent
SEED = EVALS.parent / "seeds" / "lavrov-2025-11"
STRICT = """\
defaults:
  min_support: 0.9
  max_boilerplate_leaks: 0
  max_attribution_violations: 0
stories:
  lavrov-2025-11:
    min_conflict_preservation: 0.5
"""


def write(path: Path, graph: ClaimGraph) -> Path:
    path.write_text(graph.model_dump_json(), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text(STRICT)
    return {
        "good": write(tmp_path / "good.json", lavrov_good_graph()),
        "bad": write(tmp_path / "bad.json", lavrov_bad_graph()),
        "thresholds": thresholds,
        "out": tmp_path / "out",
    }


def run(files: dict[str, Path], *extra: str) -> int:
    return main([str(SEED), "--out", str(files["out"]), "--quiet", *extra])


def report_json(files: dict[str, Path]) -> dict[str, object]:
    data: dict[str, object] = json.loads((files["out"] / "report.json").read_text())
    return data


def test_good_graph_passes_and_writes_reports(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files, "--graph", str(files["good"]), "--thresholds", str(files["thresholds"])) == 0
    shown = capsys.readouterr().out
    assert "pipeline" in shown and "lexrank" in shown and "lead-3" in shown
    assert "core_recall" in shown and "defect_rate" in shown and "average over 1 stories" in shown
    story = json.loads((files["out"] / "report.json").read_text())["stories"][0]
    pipe = story["systems"]["pipeline"]
    run1 = pipe["runs"][0]
    assert run1["support"] == 1.0 and run1["conflict_preservation"] == 1.0
    assert pipe["facts"]["oreshkin-leads-g20"]["covered"] is True
    assert pipe["facts"]["oreshkin-leads-g20"]["importance"] == "core"
    assert pipe["cost"]["calls"] == 6 and pipe["cost"]["cache_hits"] == 1
    assert story["systems"]["lexrank"]["runs"][0]["support"] == 1.0
    md = (files["out"] / "report.md").read_text()
    assert "## lavrov-2025-11" in md and "## Averages" in md and "- pass" in md


def test_bad_graph_fails_thresholds(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(files, "--graph", str(files["bad"]), "--thresholds", str(files["thresholds"]))
    assert code == 1
    out = capsys.readouterr().out
    assert "support 0.3333 < 0.9" in out
    assert "attribution_violations 1 > 0" in out
    assert "boilerplate_leaks 1 > 0" in out
    assert "conflict_preservation 0 < 0.5" in out
    pipe = report_json(files)["stories"][0]["systems"]["pipeline"]  # type: ignore[index]
    problems = [(p["kind"], p["detail"]) for p in pipe["problems"]]
    assert ("unattributed", "fell-out-of-favour") in problems
    assert ("unsupported", "Geneva, 3") in problems
    assert ("unsupported", "(cites no quote)") in problems
    assert ("boilerplate", "Your support helps") in problems


def test_margin_over_a_baseline_and_kind_floor(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = tmp_path / "t.yaml"
    t.write_text("defaults: {min_recall_vs_lead3: 0.0}\n")
    assert run(files, "--graph", str(files["bad"]), "--thresholds", str(t)) == 1
    assert "vs lead-3" in capsys.readouterr().out
    assert run(files, "--graph", str(files["bad"]), "--no-thresholds") == 0
    t.write_text("defaults: {min_recall_by_kind: {single_source: 1.0}}\n")
    assert run(files, "--graph", str(files["good"]), "--thresholds", str(t)) == 1
    assert "recall[single_source]" in capsys.readouterr().out


def test_committed_thresholds_file_is_valid() -> None:
    t = harness.load_thresholds(EVALS / "thresholds.yaml")
    assert t.defaults.max_misattributions is not None
    assert t.averages.max_defect_rate is not None


def test_no_check_of_the_pipeline_is_imported_by_the_evals() -> None:
    """Scorers that shared the checks they judge would agree with them by construction."""
    pattern = re.compile(r"pipeline\.(grounding|stages|checks|text)\b")
    offenders = [p.name for p in EVALS.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_baseline_reports_gained_and_lost(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files, "--graph", str(files["good"]), "--no-thresholds") == 0
    good_report = tmp_path / "good-report.json"
    (files["out"] / "report.json").rename(good_report)
    capsys.readouterr()
    code = run(
        files, "--graph", str(files["bad"]), "--no-thresholds", "--baseline", str(good_report)
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "lost   lavrov-2025-11 [pipeline]:" in out and "oreshkin-leads-g20" in out
    bad_report = tmp_path / "bad-report.json"
    (files["out"] / "report.json").rename(bad_report)
    code = run(
        files, "--graph", str(files["good"]), "--no-thresholds", "--baseline", str(bad_report)
    )
    assert code == 0
    assert "gained lavrov-2025-11 [pipeline]:" in capsys.readouterr().out


def test_repeat_varies_seed_and_temperature_and_reports_spread(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Settings] = []

    def fake_run(folder: Path, settings: Settings) -> ClaimGraph:
        seen.append(settings)
        return lavrov_good_graph() if settings.seed % 2 == 0 else lavrov_bad_graph()

    argv = [str(SEED), "--out", str(files["out"]), "--quiet", "--model", "m", "--base-url",
            "mock://", "--repeat", "3", "--repeat-temperature", "0.5",
            "--thresholds", str(files["thresholds"])]  # fmt: skip
    # Run 2 misses the support floor, runs 1 and 3 do not: not every run fails, so it passes.
    assert main(argv, runner=fake_run) == 0
    assert [(s.seed, s.temperature) for s in seen] == [(0, None), (1, 0.5), (2, 0.5)]
    out = capsys.readouterr().out
    assert "support" in out and "(0.33-1.00)" in out
    pipe = report_json(files)["stories"][0]["systems"]["pipeline"]  # type: ignore[index]
    assert len(pipe["runs"]) == 3
    assert pipe["facts"]["oreshkin-leads-g20"]["covered_runs"] == 2


def test_a_bound_every_run_misses_fails(files: dict[str, Path]) -> None:
    argv = [str(SEED), "--out", str(files["out"]), "--quiet", "--model", "m", "--base-url",
            "mock://", "--repeat", "2", "--thresholds", str(files["thresholds"])]  # fmt: skip
    assert main(argv, runner=lambda f, s: lavrov_bad_graph()) == 1


def test_lost_only_when_covered_in_every_baseline_run_and_missed_in_every_new_one() -> None:
    def story(*runs: dict[str, bool]) -> harness.StoryReport:
        facts = {
            fid: harness.FactResult(
                kind="consensus", covered=any(r[fid] for r in runs),
                covered_runs=sum(r[fid] for r in runs),
            )
            for fid in runs[0]
        }  # fmt: skip
        score = harness.SystemScore(label="pipeline", runs=[{} for _ in runs], facts=facts)
        return harness.StoryReport(story="s", dataset="seed", systems={"pipeline": score})

    def report(s: harness.StoryReport) -> harness.EvalReport:
        return harness.EvalReport(word_budget=250, rouge_budget=70, stories=[s])

    old = report(story({"a": True, "b": True, "c": False}, {"a": True, "b": False, "c": False}))
    new = report(story({"a": False, "b": False, "c": True}, {"a": False, "b": False, "c": False}))
    gate = harness.compare_to_baseline(new, old)
    assert gate.lost == {"s": {"pipeline": ["a"]}}  # b was covered in only one baseline run
    assert gate.gained == {"s": {"pipeline": ["c"]}}


def test_split_runs_every_dataset_story_with_its_metrics(
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EVALS_DATASETS", str(write_datasets(tmp_path / "data")))
    folders: list[list[str]] = []

    def fake_run(folder: Path, settings: Settings) -> ClaimGraph:
        folders.append(sorted(p.name for p in folder.iterdir()))
        text = "Officials slammed the plan on Monday."
        return make_graph([(text, ["g1"])], {"g1": [text]})

    argv = ["--split", "test", "--datasets", "neus,basil", "--limit", "1", "--out",
            str(files["out"]), "--quiet", "--model", "m", "--base-url", "mock://",
            "--no-thresholds"]  # fmt: skip
    assert main(argv, runner=fake_run) == 0
    assert folders[1] == [
        "000_the-new-york-times.meta.yaml", "000_the-new-york-times.txt",
        "001_fox-news.meta.yaml", "001_fox-news.txt",
    ]  # fmt: skip
    data = report_json(files)
    stories = data["stories"]  # type: ignore[index]
    assert [s["story"] for s in stories] == ["neus-001", "basil-evt-b"]
    assert stories[0]["systems"]["pipeline"]["runs"][0]["rouge1"] is not None
    assert stories[1]["systems"]["pipeline"]["runs"][0]["loaded_wording"] == 1.0
    assert data["split"] == "test" and data["limit"] == 1
    assert "average over 2 stories (split test)" in capsys.readouterr().out


def test_skip_leaves_out_the_first_stories_of_each_dataset(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALS_DATASETS", str(write_datasets(tmp_path / "data")))
    seen: list[str] = []

    def fake_run(folder: Path, settings: Settings) -> ClaimGraph:
        seen.append(folder.name)
        text = "Officials slammed the plan on Monday."
        return make_graph([(text, ["g1"])], {"g1": [text]})

    argv = ["--split", "dev", "--datasets", "neus,basil", "--skip", "1", "--limit", "1",
            "--out", str(files["out"]), "--quiet", "--model", "m", "--base-url", "mock://",
            "--no-thresholds"]  # fmt: skip
    assert main(argv, runner=fake_run) == 0
    # dev NeuS is lines 0 and 2: the first is skipped; BASIL dev has one event, skipped too
    data = report_json(files)
    assert [s["story"] for s in data["stories"]] == ["neus-002"]  # type: ignore[index]
    assert "(stories 2-2 of each dataset)" in (files["out"] / "report.md").read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["/no/such/story"], "not a story folder"),
        (["--graph", "/no/such.json"], "cannot read graph"),
        (["--graph", "GOOD", "--graph", "GOOD"], "--graph given 2 time(s) for 1 stories"),
        (["--graph", "GOOD", "--thresholds", "/no/t.yaml"], "cannot read thresholds"),
        (["--graph", "GOOD", "--baseline", "/no/r.json"], "cannot read baseline report"),
        (["--graph", "GOOD", "--word-budget", "0"], "--word-budget must be positive"),
        (["--graph", "GOOD", "--repeat", "0"], "--repeat must be positive"),
        (["--graph", "GOOD", "--compare-model", "x"], "--graph cannot be combined"),
        (["--split", "dev", "--limit", "0"], "--limit must be positive"),
        (["--split", "dev", "--skip", "-1"], "--skip must not be negative"),
        (["--skip", "2"], "--skip needs --split"),
        (["--split", "dev", "--datasets", "nope"], "--datasets: unknown"),
    ],
)
def test_input_errors_exit_2_with_one_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [str(files["good"]) if a == "GOOD" else a for a in argv]
    if argv[0].startswith(("/no/such/story", "--split", "--skip")):
        code = main([*argv, "--out", str(files["out"])])
    else:
        code = run(files, *argv)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_datasets_exit_2(
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EVALS_DATASETS", str(tmp_path / "none"))
    assert main(["--split", "test", "--out", str(files["out"])]) == 2
    assert "cannot read NeuS" in capsys.readouterr().err


def test_not_a_graph_and_bad_thresholds(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"articles": []}')
    assert run(files, "--graph", str(junk)) == 2
    t = tmp_path / "t.yaml"
    t.write_text("defaults: {min_recal: 0.5}\n")
    assert run(files, "--graph", str(files["good"]), "--thresholds", str(t)) == 2
    err = capsys.readouterr().err
    assert "not a pipeline claim graph" in err and "min_recal" in err


def test_mislabelled_story_exits_2(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = tmp_path / "story"
    story.mkdir()
    (story / "000_a.txt").write_text("Only one article.")
    (story / "facts.yaml").write_text(
        "facts: [{id: a, text: t, articles: [2], kind: consensus, importance: core,"
        " match: {any: [x]}}]\n"
    )
    assert main([str(story), "--graph", str(files["good"]), "--out", str(files["out"])]) == 2
    assert "outside 1..1" in capsys.readouterr().err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--no-such-flag"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_missing_pipeline_run_is_an_input_error(
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "pipeline.run", None)
    assert run(files, "--no-thresholds") == 2
    assert "use --graph" in capsys.readouterr().err


def test_basil_text_is_withheld_unless_asked_for(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BASIL may be used for evaluation but not redistributed: reports keep scores, not text."""
    monkeypatch.setenv("EVALS_DATASETS", str(write_datasets(tmp_path / "data")))
    text = "Officials slammed the plan on Monday."
    argv = ["--split", "test", "--datasets", "basil", "--out", str(files["out"]), "--quiet",
            "--model", "m", "--base-url", "mock://", "--no-thresholds"]  # fmt: skip
    fake = lambda f, s: make_graph([(text, ["g1"])], {"g1": [text]})  # noqa: E731
    assert main(argv, runner=fake) == 0
    saved = (files["out"] / "report.json").read_text() + (files["out"] / "report.md").read_text()
    assert "slammed" not in saved and "Officials" not in saved
    story = report_json(files)["stories"][0]  # type: ignore[index]
    assert story["systems"]["pipeline"]["runs"][0]["loaded_wording"] == 1.0
    assert main([*argv, "--full-text"], runner=fake) == 0
    assert "Officials slammed" in (files["out"] / "report.md").read_text()


def test_summary_table_has_a_row_per_system(files: dict[str, Path]) -> None:
    from evals import render

    assert run(files, "--graph", str(files["good"]), "--no-thresholds") == 0
    table = render.summary_table(harness.load_report(files["out"] / "report.json"))
    lines = table.splitlines()
    assert lines[0].startswith("| system | core recall | recall | defect rate | support |")
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| pipeline", "| lexrank", "| lead-3"]
    assert "ROUGE" not in lines[0]  # no NeuS story in this report


def test_ctrl_c_is_one_line_and_exit_130(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(folder: Path, settings: Settings) -> ClaimGraph:
        raise KeyboardInterrupt

    argv = [str(SEED), "--out", str(files["out"]), "--quiet", "--model", "m", "--base-url",
            "mock://"]  # fmt: skip
    assert main(argv, runner=interrupted) == 130
    err = capsys.readouterr().err
    assert err.startswith("evals: interrupted") and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_reader_that_goes_away_is_exit_141_without_a_message(files: dict[str, Path]) -> None:
    import subprocess

    argv = [sys.executable, "-m", "evals", str(SEED), "--graph", str(files["good"]),
            "--no-thresholds", "--out", str(files["out"])]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SEED.parents[1]
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head -0`: nobody reads the tables
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "Broken pipe" not in err
