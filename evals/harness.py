"""Scores systems (pipeline runs, lead-3) on stories and decides whether CI should fail.

Everything here works on data already in memory (facts, graphs, sentences, reports), so the
gate and the comparisons are testable without a model; `evals.cli` does the I/O and runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals import scorers
from evals.facts import FactsError, StoryFacts
from pipeline.schema import ClaimGraph

LEAD3 = "lead-3"
ARTICLE_SUFFIXES = {".txt", ".md", ".html", ".htm", ".json"}
REPORT_VERSION = 1


class EvalError(Exception):
    """Bad input to the harness (paths, thresholds, reports); printed as one line, exit 2."""


# ---- report shapes ---------------------------------------------------------------------------


class FactResult(BaseModel):
    kind: str
    covered: bool
    sentence_index: int | None = None
    sentence: str | None = None


class GroundingIssue(BaseModel):
    sentence_index: int
    sentence: str
    missing: list[str]


class ViolationOut(BaseModel):
    assertion_id: str
    sentence_index: int
    sentence: str


class LeakOut(BaseModel):
    phrase: str
    where: str
    text: str


class SystemScore(BaseModel):
    """One system's scores on one story; the unit the report, tables and gate work on."""

    label: str
    setup: str = ""
    recall: float
    covered: int
    total: int
    recall_by_kind: dict[str, tuple[int, int]]
    facts: dict[str, FactResult]
    grounding_precision: float
    grounding_by_construction: bool = False
    grounding_failures: list[GroundingIssue] = Field(default_factory=list)
    conflict_preservation: float | None
    conflicts_preserved: list[str] = Field(default_factory=list)
    conflicts_missed: list[str] = Field(default_factory=list)
    attribution_violations: int
    attribution_details: list[ViolationOut] = Field(default_factory=list)
    boilerplate_leaks: int
    leak_details: list[LeakOut] = Field(default_factory=list)
    words_scored: int
    sentences_scored: int
    sentences_total: int
    cost: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def covered_ids(self) -> set[str]:
        return {fid for fid, r in self.facts.items() if r.covered}


class StoryReport(BaseModel):
    story: str
    folder: str
    facts: int
    conflicts: int
    systems: dict[str, SystemScore]


class Gate(BaseModel):
    failures: list[str] = Field(default_factory=list)
    gained: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    lost: dict[str, dict[str, list[str]]] = Field(default_factory=dict)


class EvalReport(BaseModel):
    version: int = REPORT_VERSION
    word_budget: int
    stories: list[StoryReport]
    gate: Gate = Field(default_factory=Gate)


# ---- scoring ---------------------------------------------------------------------------------


def _facts_table(recall: scorers.Recall) -> dict[str, FactResult]:
    return {
        h.fact_id: FactResult(
            kind=h.kind, covered=h.covered, sentence_index=h.sentence_index, sentence=h.sentence
        )
        for h in recall.hits
    }


def score_sentences(
    label: str,
    facts: StoryFacts,
    sentences: Sequence[str],
    *,
    word_budget: int,
    title: str = "",
    grounding: scorers.Grounding | None = None,
    cost: scorers.Cost | None = None,
    setup: str = "",
    warnings: Sequence[str] = (),
) -> SystemScore:
    """Score any list of sentences; `grounding=None` means verbatim text (precision 1.0)."""
    scored = scorers.within_budget(sentences, word_budget)
    recall = scorers.fact_recall(facts.facts, scored)
    conflicts = scorers.conflict_preservation(facts.conflicts, scored)
    violations = scorers.attribution_violations(facts.needs_attribution, sentences)
    leaks = scorers.boilerplate_leaks(facts.forbidden, sentences, title)
    by_construction = grounding is None
    if grounding is None:
        grounding = scorers.Grounding(1.0, len(sentences), len(sentences))
    return SystemScore(
        label=label,
        setup=setup,
        recall=round(recall.value, 4),
        covered=recall.covered,
        total=recall.total,
        recall_by_kind=recall.by_kind,
        facts=_facts_table(recall),
        grounding_precision=round(grounding.value, 4),
        grounding_by_construction=by_construction,
        grounding_failures=[GroundingIssue.model_validate(asdict(f)) for f in grounding.failures],
        conflict_preservation=(None if conflicts.value is None else round(conflicts.value, 4)),
        conflicts_preserved=conflicts.preserved,
        conflicts_missed=conflicts.missed,
        attribution_violations=len(violations),
        attribution_details=[ViolationOut.model_validate(asdict(v)) for v in violations],
        boilerplate_leaks=len(leaks),
        leak_details=[LeakOut.model_validate(asdict(leak)) for leak in leaks],
        words_scored=sum(scorers.word_count(s) for s in scored),
        sentences_scored=len(scored),
        sentences_total=len(sentences),
        cost={k: v for k, v in asdict(cost or scorers.Cost()).items()},
        warnings=list(warnings),
    )


def score_graph(
    label: str, facts: StoryFacts, graph: ClaimGraph, *, word_budget: int, setup: str = ""
) -> SystemScore:
    """Score a pipeline run (its ClaimGraph) against the story's facts."""
    report = graph.report
    if not setup:
        setup = f"model={report.model or '?'} prompts={report.prompts_dir or '?'}"
    return score_sentences(
        label,
        facts,
        scorers.briefing_texts(graph),
        word_budget=word_budget,
        title=graph.briefing.title,
        grounding=scorers.grounding_precision(graph),
        cost=scorers.cost(report),
        setup=setup,
        warnings=report.warnings,
    )


def score_lead3(
    facts: StoryFacts, sentences: Sequence[str], *, word_budget: int, warnings: Sequence[str] = ()
) -> SystemScore:
    return score_sentences(
        LEAD3,
        facts,
        sentences,
        word_budget=word_budget,
        setup="first 3 kept sentences per article, round-robin",
        warnings=warnings,
    )


def count_articles(folder: Path) -> int:
    """Article files as the loader sees them (sidecars `*.meta.*` and hidden files excluded)."""
    return sum(
        1
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in ARTICLE_SUFFIXES
        and not p.name.startswith(".")
        and ".meta." not in p.name
    )


def check_article_numbers(facts: StoryFacts, n_articles: int, where: str) -> None:
    """A citation number past the last article means the labels and the folder disagree."""
    bad = sorted(n for n in facts.article_numbers() if not 1 <= n <= n_articles)
    if bad:
        raise FactsError(f"{where}: article number(s) {bad} outside 1..{n_articles}")


# ---- thresholds and regressions ---------------------------------------------------------------


class Thresholds(BaseModel):
    """Bounds a pipeline system must meet; None = not checked."""

    model_config = ConfigDict(extra="forbid")

    min_recall: float | None = None
    min_recall_vs_lead3: float | None = Field(
        default=None, description="pipeline recall minus lead-3 recall must be at least this"
    )
    min_grounding_precision: float | None = None
    min_conflict_preservation: float | None = None
    max_attribution_violations: int | None = None
    max_boilerplate_leaks: int | None = None
    min_recall_by_kind: dict[str, float] | None = Field(
        default=None,
        description="recall floor per fact kind, e.g. {disputed: 0.5}: what a briefing on a "
        "contested story must not lose even when overall recall holds",
    )

    def merged(self, override: Thresholds | None) -> Thresholds:
        if override is None:
            return self
        values = self.model_dump()
        values.update(override.model_dump(exclude_none=True))
        return Thresholds.model_validate(values)


class ThresholdFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: Thresholds = Field(default_factory=Thresholds)
    stories: dict[str, Thresholds] = Field(default_factory=dict)

    def for_story(self, story: str) -> Thresholds:
        return self.defaults.merged(self.stories.get(story))


def load_thresholds(path: Path) -> ThresholdFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ThresholdFile.model_validate(raw)
    except OSError as exc:
        raise EvalError(f"cannot read thresholds {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise EvalError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EvalError(f"{path}: {where}: {first['msg']}") from None


def threshold_failures(story: StoryReport, thresholds: Thresholds) -> list[str]:
    """Human-readable reasons every pipeline system in the story misses a bound."""
    failures: list[str] = []
    lead = story.systems.get(LEAD3)
    for label, s in story.systems.items():
        if label == LEAD3:
            continue

        def fail(metric: str, value: float, op: str, bound: float, label: str = label) -> None:
            failures.append(f"{story.story} [{label}] {metric} {value:g} {op} {bound:g}")

        t = thresholds
        if t.min_recall is not None and s.recall < t.min_recall:
            fail("recall", s.recall, "<", t.min_recall)
        if t.min_recall_vs_lead3 is not None and lead is not None:
            margin = round(s.recall - lead.recall, 4)
            if margin < t.min_recall_vs_lead3:
                failures.append(
                    f"{story.story} [{label}] recall {s.recall:g} vs lead-3 {lead.recall:g}: "
                    f"margin {margin:g} < {t.min_recall_vs_lead3:g}"
                )
        if t.min_grounding_precision is not None and (
            s.grounding_precision < t.min_grounding_precision
        ):
            fail("grounding_precision", s.grounding_precision, "<", t.min_grounding_precision)
        if (
            t.min_conflict_preservation is not None
            and s.conflict_preservation is not None
            and s.conflict_preservation < t.min_conflict_preservation
        ):
            fail("conflict_preservation", s.conflict_preservation, "<", t.min_conflict_preservation)
        if (
            t.max_attribution_violations is not None
            and s.attribution_violations > t.max_attribution_violations
        ):
            fail(
                "attribution_violations", s.attribution_violations, ">",
                t.max_attribution_violations,
            )  # fmt: skip
        if t.max_boilerplate_leaks is not None and s.boilerplate_leaks > t.max_boilerplate_leaks:
            fail("boilerplate_leaks", s.boilerplate_leaks, ">", t.max_boilerplate_leaks)
        for kind, floor in (t.min_recall_by_kind or {}).items():
            hit, total = s.recall_by_kind.get(kind, (0, 0))
            if total and hit / total < floor:
                fail(f"recall[{kind}]", round(hit / total, 3), "<", floor)
    return failures


def load_report(path: Path) -> EvalReport:
    try:
        return EvalReport.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalError(f"cannot read baseline report {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        raise EvalError(f"{path}: not an evals report.json ({exc.error_count()} errors)") from None


def compare_to_baseline(current: EvalReport, baseline: EvalReport) -> Gate:
    """Facts gained and lost per story and pipeline system; a lost fact is a regression.

    A system is compared with the baseline system of the same label, else with the baseline's
    `pipeline`, so a plain run can be checked against an A/B report and vice versa. Facts that no
    longer exist in facts.yaml are ignored (relabelling is not a regression).
    """
    gate = Gate()
    old_stories = {s.story: s for s in baseline.stories}
    for story in current.stories:
        old = old_stories.get(story.story)
        if old is None:
            continue
        for label, system in story.systems.items():
            if label == LEAD3:
                continue
            before = old.systems.get(label) or old.systems.get("pipeline")
            if before is None:
                continue
            known = set(system.facts)
            lost = sorted((before.covered_ids() & known) - system.covered_ids())
            gained = sorted(system.covered_ids() - before.covered_ids())
            if gained:
                gate.gained.setdefault(story.story, {})[label] = gained
            if lost:
                gate.lost.setdefault(story.story, {})[label] = lost
                gate.failures.append(
                    f"{story.story} [{label}] lost {len(lost)} fact(s) covered in the baseline: "
                    + ", ".join(lost)
                )
    return gate


# ---- rendering -------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _rows(story: StoryReport) -> list[tuple[str, list[str]]]:
    systems = list(story.systems.values())
    rows: list[tuple[str, list[str]]] = [
        ("recall", [f"{_fmt(s.recall)} ({s.covered}/{s.total})" for s in systems])
    ]
    kinds = sorted({k for s in systems for k in s.recall_by_kind})
    for kind in kinds:
        rows.append(
            (
                f"  {kind}",
                [
                    "{}/{}".format(*s.recall_by_kind[kind]) if kind in s.recall_by_kind else "-"
                    for s in systems
                ],
            )
        )

    def each(cell: Callable[[SystemScore], str]) -> list[str]:
        return [cell(s) for s in systems]

    def costs(a: str, b: str) -> Callable[[SystemScore], str]:
        return lambda s: f"{s.cost.get(a, 0):g} / {s.cost.get(b, 0):g}"

    rows += [
        (
            "grounding_precision",
            each(
                lambda s: _fmt(s.grounding_precision) + ("*" if s.grounding_by_construction else "")
            ),
        ),
        ("conflict_preservation", each(lambda s: _fmt(s.conflict_preservation))),
        ("attribution_violations", each(lambda s: str(s.attribution_violations))),
        ("boilerplate_leaks", each(lambda s: str(s.boilerplate_leaks))),
        (
            "words (sentences) scored",
            each(lambda s: f"{s.words_scored} ({s.sentences_scored}/{s.sentences_total})"),
        ),
        ("model calls / cache hits", each(costs("calls", "cache_hits"))),
        ("tokens prompt / completion", each(costs("prompt_tokens", "completion_tokens"))),
        ("seconds", each(lambda s: f"{s.cost.get('seconds', 0):g}")),
    ]
    return rows


def render_table(story: StoryReport, word_budget: int) -> str:
    """Plain-text per-story table for the terminal."""
    labels = list(story.systems)
    rows = _rows(story)
    first = max(len(r[0]) for r in rows)
    widths = [max(len(lbl), *(len(r[1][i]) for r in rows)) for i, lbl in enumerate(labels)]
    head = (
        f"{story.story}: {story.facts} facts, {story.conflicts} conflicts, "
        f"budget {word_budget} words"
    )
    lines = [
        head,
        "  ".join(
            ["metric".ljust(first)] + [lbl.rjust(w) for lbl, w in zip(labels, widths, strict=True)]
        ),
    ]
    for name, cells in rows:
        lines.append(
            "  ".join(
                [name.ljust(first)] + [c.rjust(w) for c, w in zip(cells, widths, strict=True)]
            )
        )
    if any(s.grounding_by_construction for s in story.systems.values()):
        lines.append("* verbatim source sentences: grounded by construction")
    return "\n".join(lines)  # fmt: skip


def _md_cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: EvalReport) -> str:
    """report.md: the tables, each fact with the sentence that stated it, and the gate."""
    out = [f"# Eval report\n\nWord budget: {report.word_budget} words per briefing.\n"]
    for story in report.stories:
        labels = list(story.systems)
        out.append(f"## {story.story}\n")
        out.append(f"`{story.folder}` · {story.facts} facts · {story.conflicts} conflicts\n")
        out.append("| metric | " + " | ".join(labels) + " |")
        out.append("|---|" + "---|" * len(labels))
        for name, cells in _rows(story):
            out.append(f"| {name.strip()} | " + " | ".join(cells) + " |")
        for s in story.systems.values():
            if s.setup:
                out.append(f"\n- **{s.label}**: {_md_cell(s.setup)}")
        out.append("\n### Facts\n")
        out.append("| fact | kind | " + " | ".join(labels) + " |")
        out.append("|---|---|" + "---|" * len(labels))
        first = next(iter(story.systems.values()))
        for fid, fact in first.facts.items():
            cells = []
            for s in story.systems.values():
                r = s.facts.get(fid)
                cells.append(f"✓ {_md_cell(r.sentence)[:160]}" if r and r.covered else "✗")
            out.append(f"| {fid} | {fact.kind} | " + " | ".join(cells) + " |")
        for s in story.systems.values():
            problems = [
                f"- grounding: sentence {g.sentence_index}: missing {', '.join(g.missing)}"
                for g in s.grounding_failures
            ]
            problems += [
                f"- unattributed `{v.assertion_id}`: {_md_cell(v.sentence)}"
                for v in s.attribution_details
            ]
            problems += [f'- boilerplate "{lk.phrase}" in {lk.where}' for lk in s.leak_details]
            problems += [f"- conflict not reported: {c}" for c in s.conflicts_missed]
            problems += [f"- warning: {_md_cell(w)}" for w in s.warnings]
            if problems:
                out.append(f"\n### Problems: {s.label}\n")
                out += problems
        out.append("")
    gate = report.gate
    out.append("## Gate\n")
    out += [f"- FAIL {_md_cell(f)}" for f in gate.failures] or ["- pass"]
    for title, table in (("Gained", gate.gained), ("Lost", gate.lost)):
        for story_name, by_label in table.items():
            for label, ids in by_label.items():
                out.append(f"- {title} in {story_name} [{label}]: {', '.join(ids)}")
    return "\n".join(out) + "\n"  # fmt: skip


def write_report(report: EvalReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    md_path = out_dir / "report.md"
    json_path.write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n", "utf-8")
    md_path.write_text(render_markdown(report), "utf-8")
    return json_path, md_path
