"""`python -m evals` end to end on hand-built graphs: exit codes, reports, gate, comparisons."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from evals_fixtures import lavrov_bad_graph, lavrov_good_graph

from evals import harness
from evals.cli import main
from pipeline.config import Settings
from pipeline.schema import ClaimGraph

SEED = Path(__file__).resolve().parents[2] / "seeds" / "lavrov-2025-11"
STRICT = """\
defaults:
  min_grounding_precision: 0.9
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


def test_good_graph_passes_and_writes_reports(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files, "--graph", str(files["good"]), "--thresholds", str(files["thresholds"])) == 0
    shown = capsys.readouterr().out
    assert "pipeline" in shown and "lead-3" in shown and "grounding_precision" in shown
    report = json.loads((files["out"] / "report.json").read_text())
    story = report["stories"][0]
    pipe = story["systems"]["pipeline"]
    assert pipe["grounding_precision"] == 1.0
    assert pipe["conflict_preservation"] == 1.0
    assert pipe["facts"]["oreshkin-leads-g20"]["covered"] is True
    assert "Oreshkin" in pipe["facts"]["oreshkin-leads-g20"]["sentence"]
    assert pipe["cost"]["calls"] == 6 and pipe["cost"]["cache_hits"] == 1
    assert story["systems"]["lead-3"]["grounding_by_construction"] is True
    md = (files["out"] / "report.md").read_text()
    assert "## lavrov-2025-11" in md and "## Gate" in md and "- pass" in md


def test_bad_graph_fails_thresholds(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(files, "--graph", str(files["bad"]), "--thresholds", str(files["thresholds"]))
    assert code == 1
    out = capsys.readouterr().out
    assert "grounding_precision 0.6667 < 0.9" in out
    assert "attribution_violations 1 > 0" in out
    assert "boilerplate_leaks 1 > 0" in out
    assert "conflict_preservation 0 < 0.5" in out
    report = json.loads((files["out"] / "report.json").read_text())
    pipe = report["stories"][0]["systems"]["pipeline"]
    assert pipe["attribution_details"][0]["assertion_id"] == "fell-out-of-favour"
    assert pipe["grounding_failures"][0]["missing"] == ["name 'geneva'", "number '3'"]


def test_recall_below_lead3_fails(files: dict[str, Path], tmp_path: Path) -> None:
    t = tmp_path / "t.yaml"
    t.write_text("defaults: {min_recall_vs_lead3: 0.0}\n")
    assert run(files, "--graph", str(files["bad"]), "--thresholds", str(t)) == 1
    assert run(files, "--graph", str(files["bad"]), "--no-thresholds") == 0


def test_a_kind_of_fact_below_its_floor_fails(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = ["--graph", str(files["good"])]
    t = tmp_path / "t.yaml"
    t.write_text("defaults: {min_recall_by_kind: {single_source: 1.0}}\n")
    assert run(files, *graph, "--thresholds", str(t)) == 1
    assert "recall[single_source]" in capsys.readouterr().out
    t.write_text("defaults: {min_recall_by_kind: {single_source: 0.0, no_such_kind: 1.0}}\n")
    assert run(files, *graph, "--thresholds", str(t)) == 0


def test_committed_thresholds_file_is_valid() -> None:
    t = harness.load_thresholds(Path(harness.__file__).parent / "thresholds.yaml")
    seed = t.for_story("lavrov-2025-11")
    assert seed.min_conflict_preservation == 0.5
    assert seed.min_grounding_precision == t.defaults.min_grounding_precision


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
    report = json.loads((files["out"] / "report.json").read_text())
    assert "oreshkin-leads-g20" in report["gate"]["lost"]["lavrov-2025-11"]["pipeline"]

    bad_report = tmp_path / "bad-report.json"
    (files["out"] / "report.json").rename(bad_report)
    code = run(
        files, "--graph", str(files["good"]), "--no-thresholds", "--baseline", str(bad_report)
    )
    assert code == 0
    assert "gained lavrov-2025-11 [pipeline]:" in capsys.readouterr().out


def test_compare_graph_side_by_side(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        files, "--graph", str(files["good"]), "--compare-graph", str(files["bad"]),
        "--thresholds", str(files["thresholds"]),
    )  # fmt: skip
    assert code == 1  # the gate applies to both pipeline systems
    out = capsys.readouterr().out
    assert "pipeline-b" in out and "FAIL lavrov-2025-11 [pipeline-b]" in out
    assert "FAIL lavrov-2025-11 [pipeline]" not in out


def test_compare_prompts_runs_the_pipeline_twice(files: dict[str, Path], tmp_path: Path) -> None:
    seen: list[Settings] = []

    def fake_run(folder: Path, settings: Settings) -> ClaimGraph:
        seen.append(settings)
        bad = settings.prompts_dir == tmp_path / "p2"
        return lavrov_bad_graph() if bad else lavrov_good_graph()

    code = main(
        [str(SEED), "--out", str(files["out"]), "--quiet", "--no-thresholds",
         "--compare-prompts", str(tmp_path / "p2"), "--model", "m1", "--base-url", "http://x/v1"],
        runner=fake_run,
    )  # fmt: skip
    assert code == 0
    assert [s.prompts_dir for s in seen][1] == tmp_path / "p2"
    assert all(s.model == "m1" and s.base_url == "http://x/v1" for s in seen)
    report = json.loads((files["out"] / "report.json").read_text())
    systems = report["stories"][0]["systems"]
    assert systems["pipeline"]["recall"] > systems["pipeline-b"]["recall"]


def test_compare_model(files: dict[str, Path]) -> None:
    models: list[str | None] = []

    def fake_run(folder: Path, settings: Settings) -> ClaimGraph:
        models.append(settings.model)
        return lavrov_good_graph()

    argv = [str(SEED), "--out", str(files["out"]), "--quiet", "--no-thresholds"]
    assert main([*argv, "--model", "a", "--compare-model", "b"], runner=fake_run) == 0
    assert models == ["a", "b"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["/no/such/story"], "not a story folder"),
        (["--graph", "/no/such.json"], "cannot read graph"),
        (["--graph", "GOOD", "--graph", "GOOD"], "--graph given 2 time(s) for 1 story"),
        (["--graph", "GOOD", "--thresholds", "/no/t.yaml"], "cannot read thresholds"),
        (["--graph", "GOOD", "--baseline", "/no/r.json"], "cannot read baseline report"),
        (["--graph", "GOOD", "--word-budget", "0"], "--word-budget must be positive"),
        (["--graph", "GOOD", "--compare-model", "x"], "--graph cannot be combined"),
    ],
)
def test_input_errors_exit_2_with_one_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [str(files["good"]) if a == "GOOD" else a for a in argv]
    if argv[0].startswith("/no/such/story"):
        code = main([*argv, "--out", str(files["out"])])
    else:
        code = run(files, *argv)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


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
        "facts: [{id: a, text: t, articles: [2], kind: consensus, match: {any: [x]}}]\n"
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


def test_compare_to_baseline_ignores_relabelled_facts() -> None:
    def story(covered: dict[str, bool]) -> harness.StoryReport:
        facts = {k: harness.FactResult(kind="consensus", covered=v) for k, v in covered.items()}
        score = harness.SystemScore(
            label="pipeline", recall=0, covered=0, total=len(facts), recall_by_kind={},
            facts=facts, grounding_precision=1, conflict_preservation=None,
            attribution_violations=0, boilerplate_leaks=0, words_scored=0,
            sentences_scored=0, sentences_total=0,
        )  # fmt: skip
        return harness.StoryReport(story="s", folder="f", facts=len(facts), conflicts=0,
                                   systems={"pipeline": score})  # fmt: skip

    old = harness.EvalReport(word_budget=250, stories=[story({"a": True, "gone": True})])
    new = harness.EvalReport(word_budget=250, stories=[story({"a": False, "b": True})])
    gate = harness.compare_to_baseline(new, old)
    assert gate.lost == {"s": {"pipeline": ["a"]}}
    assert gate.gained == {"s": {"pipeline": ["b"]}}
    assert len(gate.failures) == 1
