"""`python -m evals`: score the pipeline against hand-labelled facts, side by side with lead-3.

Exit codes: 0 ok · 1 a threshold is missed or a fact covered in --baseline is lost ·
2 usage or input error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from evals import harness
from evals.baseline import lead3
from evals.facts import FactsError, StoryFacts, load_facts
from evals.scorers import DEFAULT_WORD_BUDGET
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.schema import ClaimGraph

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"
DEFAULT_OUT = Path(__file__).resolve().parent / "out"

Runner = Callable[[Path, Settings], ClaimGraph]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line instead of argparse's usage block."""
        self.exit(2, f"evals: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m evals",
        description="Score pipeline briefings against hand-labelled facts (seeds/*/facts.yaml).",
    )
    p.add_argument(
        "stories",
        nargs="*",
        type=Path,
        metavar="STORY_DIR",
        help="story folders with articles + facts.yaml (default: every seeds/*/)",
    )
    p.add_argument("--model", help="model for the pipeline run (default: settings/env)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (default: embedded local model)")
    p.add_argument("--prompts", type=Path, help="prompt set directory for the run")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--compare-prompts",
        type=Path,
        metavar="DIR2",
        help="also run with this prompt set and show it side by side",
    )
    g.add_argument("--compare-model", metavar="M2", help="also run with this model, side by side")
    g.add_argument(
        "--compare-graph",
        type=Path,
        action="append",
        metavar="FILE.json",
        help="score this existing graph as the second system (one per story)",
    )
    p.add_argument(
        "--graph",
        type=Path,
        action="append",
        metavar="FILE.json",
        help="score an existing `pipeline brief --format json` output instead of "
        "running the model (one per story, in order)",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="REPORT.json",
        help="earlier report.json; a fact it covered and this run lost fails the gate",
    )
    p.add_argument(
        "--thresholds",
        type=Path,
        default=None,
        help=f"threshold file (default: {DEFAULT_THRESHOLDS.relative_to(ROOT)} if present)",
    )
    p.add_argument("--no-thresholds", action="store_true", help="report only; no threshold gate")
    p.add_argument(
        "--word-budget",
        type=int,
        default=DEFAULT_WORD_BUDGET,
        help=f"words of each briefing that count for recall (default {DEFAULT_WORD_BUDGET})",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where report.json/.md go")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p  # fmt: skip


def default_stories() -> list[Path]:
    return sorted(p.parent for p in SEEDS.glob("*/facts.yaml"))


def _load_graph(path: Path) -> ClaimGraph:
    try:
        return ClaimGraph.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise harness.EvalError(f"cannot read graph {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise harness.EvalError(
            f"{path}: not a pipeline claim graph ({exc.error_count()} error(s); {where}: "
            f"{first['msg']})"
        ) from None


def _pipeline_runner(progress: Callable[[str], None] | None) -> Runner:
    """`pipeline.run.run_brief`, imported only when a run is needed (tests pass graphs)."""
    try:
        from pipeline.run import run_brief
    except ImportError as exc:
        raise harness.EvalError(f"cannot run the pipeline ({exc}); use --graph FILE.json") from None

    def run(folder: Path, settings: Settings) -> ClaimGraph:
        return run_brief(folder, settings, progress=progress)

    return run


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr)


def _paired(files: list[Path] | None, stories: Sequence[Path], flag: str) -> list[Path] | None:
    if files is None:
        return None
    if len(files) != len(stories):
        raise harness.EvalError(f"{flag} given {len(files)} time(s) for {len(stories)} story(ies)")
    return files


def _story_facts(folder: Path) -> StoryFacts:
    if not folder.is_dir():
        raise harness.EvalError(f"not a story folder: {folder}")
    facts = load_facts(folder)
    harness.check_article_numbers(facts, harness.count_articles(folder), str(folder / "facts.yaml"))
    return facts


def evaluate(
    args: argparse.Namespace, *, runner: Runner | None = None, echo: Callable[[str], None] = print
) -> harness.EvalReport:
    """Run (or load), score and gate every story; raises EvalError/FactsError on bad input."""
    stories: list[Path] = list(args.stories) or default_stories()
    if not stories:
        raise harness.EvalError(f"no stories given and none under {SEEDS}")
    graphs = _paired(args.graph, stories, "--graph")
    compare_graphs = _paired(args.compare_graph, stories, "--compare-graph")
    if graphs is not None and (args.compare_prompts or args.compare_model):
        raise harness.EvalError("--graph cannot be combined with --compare-prompts/--compare-model")
    if args.word_budget <= 0:
        raise harness.EvalError("--word-budget must be positive")
    thresholds_path = args.thresholds or (
        DEFAULT_THRESHOLDS if DEFAULT_THRESHOLDS.exists() else None
    )
    thresholds = (
        None
        if args.no_thresholds or thresholds_path is None
        else harness.load_thresholds(thresholds_path)
    )
    baseline = harness.load_report(args.baseline) if args.baseline else None
    all_facts = [_story_facts(folder) for folder in stories]  # validate everything before running

    settings_a = settings_b = None
    need_run = graphs is None
    if need_run or args.compare_prompts or args.compare_model:
        settings_a = Settings.from_env(
            model=args.model, base_url=args.base_url, prompts_dir=args.prompts, quiet=args.quiet
        )
        if args.compare_prompts:
            settings_b = settings_a.model_copy(update={"prompts_dir": args.compare_prompts})
        elif args.compare_model:
            settings_b = settings_a.model_copy(update={"model": args.compare_model})
        if runner is None:
            runner = _pipeline_runner(None if args.quiet else _progress)

    story_reports: list[harness.StoryReport] = []
    for i, (folder, facts) in enumerate(zip(stories, all_facts, strict=True)):
        name = facts.story or folder.name
        systems: dict[str, harness.SystemScore] = {}
        budget = args.word_budget

        for label, given, settings in (
            ("pipeline", graphs, settings_a),
            ("pipeline-b", compare_graphs, settings_b),
        ):
            if label == "pipeline-b" and given is None and settings is None:
                continue
            if given is not None:
                graph, setup = _load_graph(given[i]), f"graph {given[i]}"
            else:
                assert runner is not None and settings is not None
                if not args.quiet:
                    print(f"[{name}] running {label} ...", file=sys.stderr)
                graph, setup = runner(folder, settings), ""
            systems[label] = harness.score_graph(
                label, facts, graph, word_budget=budget, setup=setup
            )
        lead_sentences, warnings = lead3(folder)
        systems[harness.LEAD3] = harness.score_lead3(
            facts, lead_sentences, word_budget=budget, warnings=warnings
        )
        story_reports.append(
            harness.StoryReport(
                story=name, folder=str(folder), facts=len(facts.facts),
                conflicts=len(facts.conflicts), systems=systems,
            )
        )  # fmt: skip

    report = harness.EvalReport(word_budget=args.word_budget, stories=story_reports)
    gate = harness.compare_to_baseline(report, baseline) if baseline else harness.Gate()
    if thresholds is not None:
        for story in story_reports:
            gate.failures += harness.threshold_failures(story, thresholds.for_story(story.story))
    report.gate = gate
    for story in story_reports:
        echo(harness.render_table(story, args.word_budget))
        echo("")
    return report


def main(argv: Sequence[str] | None = None, *, runner: Runner | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = evaluate(args, runner=runner)
        json_path, md_path = harness.write_report(report, args.out)
    except (harness.EvalError, FactsError, PipelineError) as exc:
        print(f"evals: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"evals: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2
    gate = report.gate
    for story, by_label in gate.gained.items():
        for label, ids in by_label.items():
            print(f"gained {story} [{label}]: {', '.join(ids)}")
    for story, by_label in gate.lost.items():
        for label, ids in by_label.items():
            print(f"lost   {story} [{label}]: {', '.join(ids)}")
    for failure in gate.failures:
        print(f"FAIL {failure}")
    print(f"report: {json_path} · {md_path}")
    return 1 if gate.failures else 0
