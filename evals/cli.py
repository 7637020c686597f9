"""`python -m evals`: run the pipeline and the LexRank and lead-3 baselines on stories, score
them with the evals' own scorers, report, and gate.

Stories: `--split dev|test` (seed story + NeuS + BASIL, fixed rule in evals/FORMAT.md,
`--limit N` = the first N of each dataset), or STORY_DIR folders with a facts.yaml, or by
default the seed stories. Exit codes: 0 ok · 1 a threshold is missed or a fact covered in every
--baseline run is lost in every run · 2 usage or input error (one line, never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from evals import harness, lexrank, render
from evals.datasets import (
    DATASETS,
    SEEDS,
    DatasetError,
    Story,
    load_seed,
    load_seed_folder,
    load_split,
    materialise,
)
from evals.facts import FactsError
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.schema import ClaimGraph

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
DEFAULT_WORD_BUDGET = 250
DEFAULT_ROUGE_BUDGET = 70  # about the mean length of a NeuS roundup (66 words)
DEFAULT_REPEAT_TEMPERATURE = 0.3

Runner = Callable[[Path, Settings], ClaimGraph]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line instead of argparse's usage block."""
        self.exit(2, f"evals: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m evals",
        description="Score pipeline briefings, LexRank and lead-3 on the dev or test split.",
    )
    p.add_argument(
        "stories",
        nargs="*",
        type=Path,
        metavar="STORY_DIR",
        help="story folders with articles + facts.yaml (default: seeds/*/)",
    )
    p.add_argument(
        "--split",
        choices=["dev", "test"],
        help="seed story (dev only) + NeuS + BASIL stories of this split",
    )
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="first N stories of each dataset in split order (evals/FORMAT.md)",
    )
    p.add_argument(
        "--skip",
        type=int,
        default=0,
        metavar="K",
        help="leave out the first K stories of each dataset first (a fresh slice: --skip 140 "
        "--limit 14 = stories 141-154)",
    )
    p.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"with --split: which of {','.join(DATASETS)} (default all)",
    )
    p.add_argument("--model", help="model for the pipeline run (default: settings/env)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (default: embedded local model)")
    p.add_argument("--prompts", type=Path, help="prompt set directory for the run")
    p.add_argument(
        "--refresh",
        action="store_true",
        help="ignore cached answers (use with --repeat on remote endpoints)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run the pipeline N times per story; report mean and spread",
    )
    p.add_argument(
        "--repeat-temperature",
        type=float,
        default=DEFAULT_REPEAT_TEMPERATURE,
        metavar="T",
        help="sampling temperature of runs 2..N, each with its own seed (default "
        f"{DEFAULT_REPEAT_TEMPERATURE}; at temperature 0 a seed changes nothing)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--compare-prompts",
        type=Path,
        metavar="DIR2",
        help="also run with this prompt set and show it side by side",
    )
    g.add_argument("--compare-model", metavar="M2", help="also run with this model, side by side")
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
        help="earlier report.json; a fact every baseline run covered and every new "
        "run missed fails the gate",
    )
    p.add_argument(
        "--thresholds",
        type=Path,
        default=None,
        help=f"threshold file (default: {DEFAULT_THRESHOLDS.relative_to(ROOT)})",
    )
    p.add_argument("--no-thresholds", action="store_true", help="report only; no threshold gate")
    p.add_argument(
        "--word-budget",
        type=int,
        default=DEFAULT_WORD_BUDGET,
        help=f"words that count for fact recall (default {DEFAULT_WORD_BUDGET})",
    )
    p.add_argument(
        "--rouge-budget",
        type=int,
        default=DEFAULT_ROUGE_BUDGET,
        help=f"words every system is cut to for ROUGE (default {DEFAULT_ROUGE_BUDGET})",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where report.json/.md go")
    p.add_argument(
        "--full-text",
        action="store_true",
        help="keep BASIL output text in the reports (local use only: the dataset "
        "may not be redistributed, so committed reports withhold it)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--html", action="store_true", help="also write report.html (evals/report_html.py)"
    )
    return p  # fmt: skip


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


def skip_first(stories: list[Story], skip: int) -> list[Story]:
    """Drops the first `skip` stories of each dataset, keeping split order: slices of a split
    that earlier runs never read stay reachable without re-running the ones before."""
    seen: dict[str, int] = {}
    kept: list[Story] = []
    for story in stories:
        seen[story.dataset] = seen.get(story.dataset, 0) + 1
        if seen[story.dataset] > skip:
            kept.append(story)
    return kept


def select_stories(args: argparse.Namespace) -> list[Story]:
    if args.limit is not None and args.limit <= 0:
        raise harness.EvalError("--limit must be positive")
    if args.skip < 0:
        raise harness.EvalError("--skip must not be negative")
    if args.skip and not args.split:
        raise harness.EvalError("--skip needs --split")
    if args.split and args.stories:
        raise harness.EvalError("give STORY_DIR folders or --split, not both")
    if args.split:
        wanted = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
        unknown = sorted(set(wanted) - set(DATASETS))
        if unknown or not wanted:
            raise harness.EvalError(f"--datasets: unknown {unknown}; choose from {DATASETS}")
        stories = skip_first(
            load_split(args.split, None if args.limit is None else args.skip + args.limit, wanted),
            args.skip,
        )
    elif args.stories:
        for folder in args.stories:
            if not folder.is_dir():
                raise harness.EvalError(f"not a story folder: {folder}")
        stories = [load_seed_folder(folder) for folder in args.stories]
    else:
        stories = load_seed("dev")
    if not stories:
        raise harness.EvalError(f"no stories (none with facts.yaml under {SEEDS})")
    return stories


def baseline_input(folder: Path) -> tuple[list[str], list[str]]:
    """Each article's text as the pipeline's loader keeps it (boilerplate removed), so the
    baselines read what the pipeline reads; and the loader's warnings."""
    from pipeline.sources import load_articles

    result = load_articles(folder)
    texts = [
        " ".join(a.sentence_text(i).strip() for i in range(len(a.sentences)))
        for a in result.articles
    ]
    return texts, [str(w) for w in result.warnings]


def _check_budgets(args: argparse.Namespace) -> None:
    for flag, value in (
        ("--word-budget", args.word_budget),
        ("--rouge-budget", args.rouge_budget),
        ("--repeat", args.repeat),
    ):
        if value <= 0:
            raise harness.EvalError(f"{flag} must be positive")
    if args.repeat_temperature < 0:
        raise harness.EvalError("--repeat-temperature must not be negative")


def evaluate(
    args: argparse.Namespace, *, runner: Runner | None = None, echo: Callable[[str], None] = print
) -> harness.EvalReport:
    """Run (or load), score and gate every story; raises EvalError & co on bad input."""
    _check_budgets(args)
    stories = select_stories(args)
    graphs: list[Path] | None = args.graph
    if graphs is not None and len(graphs) != len(stories):
        raise harness.EvalError(f"--graph given {len(graphs)} time(s) for {len(stories)} stories")
    if graphs is not None and (args.compare_prompts or args.compare_model):
        raise harness.EvalError("--graph cannot be combined with --compare-prompts/--compare-model")
    thresholds_path = args.thresholds or (
        DEFAULT_THRESHOLDS if DEFAULT_THRESHOLDS.exists() else None
    )
    thresholds = (
        None
        if args.no_thresholds or thresholds_path is None
        else harness.load_thresholds(thresholds_path)
    )
    baseline = harness.load_report(args.baseline) if args.baseline else None
    for story in stories:
        if story.facts is not None and story.folder is not None:
            check_article_numbers(story)

    systems: list[tuple[str, Settings | None]] = []
    if graphs is None or args.compare_prompts or args.compare_model:
        base = Settings.from_env(
            model=args.model, base_url=args.base_url, prompts_dir=args.prompts,
            quiet=args.quiet, refresh=args.refresh or None,
        )  # fmt: skip
        systems.append(("pipeline", None if graphs is not None else base))
        if args.compare_prompts:
            systems.append(
                ("pipeline-b", base.model_copy(update={"prompts_dir": args.compare_prompts}))
            )
        elif args.compare_model:
            systems.append(("pipeline-b", base.model_copy(update={"model": args.compare_model})))
        if runner is None and any(s is not None for _, s in systems):
            runner = _pipeline_runner(None if args.quiet else _progress)
    else:
        systems.append(("pipeline", None))

    budgets = {"word_budget": args.word_budget, "rouge_budget": args.rouge_budget}
    reports: list[harness.StoryReport] = []
    for i, story in enumerate(stories):
        with tempfile.TemporaryDirectory(prefix="evals-") as tmp:
            folder = materialise(story, Path(tmp) / story.id)
            scores: dict[str, harness.SystemScore] = {}
            for label, settings in systems:
                if settings is None:
                    assert graphs is not None
                    graph = _load_graph(graphs[i])
                    scores[label] = harness.score_graph(
                        label, story, graph, setup=f"graph {graphs[i]}", **budgets
                    )
                    continue
                assert runner is not None
                runs = []
                for k in range(args.repeat):
                    run_settings = settings if k == 0 else settings.model_copy(
                        update={"seed": k, "temperature": args.repeat_temperature}
                    )  # fmt: skip
                    if not args.quiet:
                        print(
                            f"[{story.id}] {label} run {k + 1}/{args.repeat} ...", file=sys.stderr
                        )
                    graph = runner(folder, run_settings)
                    runs.append(harness.score_graph(label, story, graph, **budgets))
                scores[label] = harness.combine(runs)
            texts, warnings = baseline_input(folder)
            per_article = lexrank.article_sentences(texts)
            scores[harness.LEXRANK] = harness.score_extractive(
                harness.LEXRANK, story, lexrank.lexrank(per_article, args.word_budget),
                setup="sumy LexRank (pysbd sentences), best-ranked first", **budgets,
            )  # fmt: skip
            scores[harness.LEAD3] = harness.score_extractive(
                harness.LEAD3, story, lexrank.lead_n(per_article, 3),
                setup="first 3 sentences per article, round-robin", **budgets,
            )  # fmt: skip
            scores[harness.LEAD3].warnings = warnings
        facts = story.facts
        reports.append(
            harness.StoryReport(
                story=story.id, dataset=story.dataset,
                folder=_shown(story.folder),
                facts=len(facts.facts) if facts else 0,
                conflicts=len(facts.conflicts) if facts else 0, systems=scores,
            )
        )  # fmt: skip
        echo(render.render_table(reports[-1]))
        echo("")

    report = harness.EvalReport(
        split=args.split or "", limit=args.limit, skip=args.skip, word_budget=args.word_budget,
        rouge_budget=args.rouge_budget, repeat=args.repeat, stories=reports,
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )  # fmt: skip
    gate = harness.compare_to_baseline(report, baseline) if baseline else harness.Gate()
    if thresholds is not None:
        for story_report in reports:
            gate.failures += harness.threshold_failures(
                story_report, thresholds.for_story(story_report.story)
            )
        gate.failures += harness.average_failures(report, thresholds.averages)
    report.gate = gate
    averages = render.render_averages(report)
    if averages:
        echo(averages)
        echo("")
    return report


def _shown(folder: Path | None) -> str:
    """A story folder as the report shows it: relative to the repository when inside it."""
    if folder is None:
        return ""
    try:
        return str(folder.resolve().relative_to(ROOT))
    except ValueError:
        return str(folder)


def count_articles(folder: Path) -> int:
    """Article files as the loader sees them (sidecars `*.meta.*` and hidden files excluded)."""
    suffixes = {".txt", ".md", ".html", ".htm", ".json"}
    return sum(
        1
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in suffixes
        and not p.name.startswith(".")
        and ".meta." not in p.name
    )


def check_article_numbers(story: Story) -> None:
    """A citation number past the last article means the labels and the folder disagree."""
    assert story.facts is not None and story.folder is not None
    n = count_articles(story.folder)
    bad = sorted(a for a in story.facts.article_numbers() if not 1 <= a <= n)
    if bad:
        raise FactsError(f"{story.folder / 'facts.yaml'}: article number(s) {bad} outside 1..{n}")


EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE


def main(argv: Sequence[str] | None = None, *, runner: Runner | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = evaluate(args, runner=runner)
        report.command = "python -m evals " + shlex.join(
            list(sys.argv[1:] if argv is None else argv)
        )
        if not args.full_text:
            for story_report in report.stories:
                harness.withhold_text(story_report)
        json_path, md_path = render.write_report(report, args.out)
        html_path = None
        if args.html:
            from evals.report_html import write_html

            html_path = write_html(report, args.out)
    except (harness.EvalError, FactsError, DatasetError, PipelineError) as exc:
        print(f"evals: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `python -m evals | head`: the reader has gone. Exit as a Unix tool cut off by
        # SIGPIPE does (141, no message), never 0: the gate was not decided.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except OSError as exc:
        print(
            f"evals: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        # As `pipeline brief`: one line, no traceback; the answers so far are in the cache.
        print(
            "evals: interrupted; finished model answers are cached, re-run to resume",
            file=sys.stderr,
        )
        return 130
    gate = report.gate
    for story, by_label in gate.gained.items():
        for label, ids in by_label.items():
            print(f"gained {story} [{label}]: {', '.join(ids)}")
    for story, by_label in gate.lost.items():
        for label, ids in by_label.items():
            print(f"lost   {story} [{label}]: {', '.join(ids)}")
    for failure in gate.failures:
        print(f"FAIL {failure}")
    print(f"report: {json_path} · {md_path}" + (f" · {html_path}" if html_path else ""))
    return 1 if gate.failures else 0
