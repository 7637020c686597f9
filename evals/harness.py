"""Scores systems (pipeline runs, LexRank, lead-3) on stories and decides whether CI should fail.

Everything here works on data already in memory (stories, graphs, sentences), so the gate and
the comparisons are testable without a model; `evals.cli` does the I/O and the runs.

Repeats: a system run N times keeps every run's metrics (`runs`); tables show the mean and the
spread (min-max); a threshold fails only when every run misses it, and a fact counts as lost
against a baseline only when every baseline run covered it and every new run missed it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals import defects as df
from evals import scorers, support
from evals.datasets import Story
from pipeline.schema import ClaimGraph

LEAD3 = "lead-3"
LEXRANK = "lexrank"
BASELINES = (LEXRANK, LEAD3)
REPORT_VERSION = 2

# Metric name -> (higher is better, shown in the averages table).
METRICS: dict[str, bool] = {
    "rouge1": True,
    "rouge2": True,
    "rougeL": True,
    "recall": True,
    "core_recall": True,
    "conflict_preservation": True,
    "support": True,
    "defect_rate": False,
    "misattributions": False,
    "loaded_wording": False,
    "attribution_violations": False,
    "boilerplate_leaks": False,
}


class EvalError(Exception):
    """Bad input to the harness (paths, thresholds, reports); printed as one line, exit 2."""


# ---- report shapes ---------------------------------------------------------------------------


class FactResult(BaseModel):
    kind: str
    importance: str = "detail"
    covered: bool
    covered_runs: int = 0
    sentence_index: int | None = None
    sentence: str | None = None


class Problem(BaseModel):
    """One flagged sentence: a defect kind, unsupported tokens, a misattribution, a leak."""

    kind: str
    sentence_index: int
    sentence: str
    detail: str = ""


Metrics = dict[str, float | None]


class SystemScore(BaseModel):
    """One system's scores on one story (over `len(runs)` runs; details are from run 1)."""

    label: str
    setup: str = ""
    runs: list[Metrics]
    facts: dict[str, FactResult] = Field(default_factory=dict)
    recall_by_kind: dict[str, tuple[int, int]] = Field(default_factory=dict)
    covered: int = 0
    total: int = 0
    core: tuple[int, int] = (0, 0)
    conflicts_missed: list[str] = Field(default_factory=list)
    defects_by_kind: dict[str, int] = Field(default_factory=dict)
    problems: list[Problem] = Field(default_factory=list)
    sentences: list[str] = Field(default_factory=list)
    words_scored: int = 0
    sentences_scored: int = 0
    cost: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def mean(self, metric: str) -> float | None:
        values = [r[metric] for r in self.runs if r.get(metric) is not None]
        return round(statistics.fmean(v for v in values if v is not None), 4) if values else None

    def spread(self, metric: str) -> tuple[float, float] | None:
        values = [v for r in self.runs if (v := r.get(metric)) is not None]
        return (min(values), max(values)) if values else None

    def covered_in_every_run(self) -> set[str]:
        return {f for f, r in self.facts.items() if r.covered_runs == len(self.runs)}

    def missed_in_every_run(self) -> set[str]:
        return {f for f, r in self.facts.items() if r.covered_runs == 0}


class StoryReport(BaseModel):
    story: str
    dataset: str
    folder: str = ""
    facts: int = 0
    conflicts: int = 0
    systems: dict[str, SystemScore]


class Gate(BaseModel):
    failures: list[str] = Field(default_factory=list)
    gained: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    lost: dict[str, dict[str, list[str]]] = Field(default_factory=dict)


class EvalReport(BaseModel):
    version: int = REPORT_VERSION
    split: str = ""
    limit: int | None = None
    skip: int = 0
    command: str = ""
    date: str = ""
    word_budget: int
    rouge_budget: int
    repeat: int = 1
    stories: list[StoryReport]
    gate: Gate = Field(default_factory=Gate)

    def averages(self) -> dict[str, dict[str, tuple[float | None, int]]]:
        """Per system and metric: the mean over stories (of each story's mean) and how many
        stories have the metric."""
        out: dict[str, dict[str, tuple[float | None, int]]] = {}
        for label in system_labels(self):
            row: dict[str, tuple[float | None, int]] = {}
            for metric in METRICS:
                values = [
                    m
                    for s in self.stories
                    if label in s.systems and (m := s.systems[label].mean(metric)) is not None
                ]
                row[metric] = (round(statistics.fmean(values), 4) if values else None, len(values))
            out[label] = row
        return out

    def run_averages(self, label: str, metric: str) -> list[float]:
        """The split average of `metric` for each run index (runs beyond a story's count are
        skipped), so the gate can see the spread of the average too."""
        n = max((len(s.systems[label].runs) for s in self.stories if label in s.systems), default=0)
        out: list[float] = []
        for k in range(n):
            values = [
                v
                for s in self.stories
                if label in s.systems
                and k < len(s.systems[label].runs)
                and (v := s.systems[label].runs[k].get(metric)) is not None
            ]
            if values:
                out.append(round(statistics.fmean(values), 4))
        return out


def system_labels(report: EvalReport) -> list[str]:
    labels: list[str] = []
    for s in report.stories:
        for label in s.systems:
            if label not in labels:
                labels.append(label)
    return [lbl for lbl in labels if lbl not in BASELINES] + [
        lbl for lbl in BASELINES if lbl in labels
    ]


# ---- scoring ---------------------------------------------------------------------------------


def score_output(
    label: str,
    story: Story,
    judged: Sequence[df.Judged],
    *,
    word_budget: int,
    rouge_budget: int,
    title: str = "",
    cost: scorers.Cost | None = None,
    setup: str = "",
    warnings: Sequence[str] = (),
) -> SystemScore:
    """Score one run's sentences (with what each cites) on one story."""
    texts = [j.text for j in judged]
    scored = scorers.within_budget(texts, word_budget)
    metrics: Metrics = dict.fromkeys(METRICS)
    score = SystemScore(
        label=label,
        setup=setup,
        runs=[],
        sentences=texts,
        words_scored=sum(scorers.word_count(s) for s in scored),
        sentences_scored=len(scored),
        cost={k: float(v) for k, v in asdict(cost or scorers.Cost()).items()},
        warnings=list(warnings),
    )
    problems: list[Problem] = []
    if story.reference:
        metrics.update(scorers.rouge(texts, story.reference, rouge_budget))
    facts = story.facts
    if facts is not None:
        recall = scorers.fact_recall(facts.facts, scored)
        importance = {f.id: f.importance for f in facts.facts}
        score.facts = {
            h.fact_id: FactResult(
                kind=h.kind, importance=importance[h.fact_id], covered=h.covered,
                covered_runs=int(h.covered), sentence_index=h.sentence_index, sentence=h.sentence,
            )
            for h in recall.hits
        }  # fmt: skip
        score.recall_by_kind = recall.by_kind
        score.covered, score.total, score.core = recall.covered, recall.total, recall.core
        metrics["recall"] = round(recall.value, 4)
        metrics["core_recall"] = (
            round(recall.core[0] / recall.core[1], 4) if recall.core[1] else None
        )
        conflicts = scorers.conflict_preservation(facts.conflicts, scored)
        metrics["conflict_preservation"] = (
            None if conflicts.value is None else round(conflicts.value, 4)
        )
        score.conflicts_missed = conflicts.missed
        violations = scorers.attribution_violations(facts.needs_attribution, texts)
        metrics["attribution_violations"] = float(len(violations))
        problems += [
            Problem(kind="unattributed", sentence_index=v.sentence_index, sentence=v.sentence,
                    detail=v.assertion_id)
            for v in violations
        ]  # fmt: skip
        leaks = scorers.boilerplate_leaks(facts.forbidden, texts, title)
        metrics["boilerplate_leaks"] = float(len(leaks))
        problems += [
            Problem(kind="boilerplate", sentence_index=-1, sentence=lk.text, detail=lk.phrase)
            for lk in leaks
        ]
    titles = [a.title for a in story.articles if a.title]
    defects = df.judge(judged, titles)
    metrics["defect_rate"] = round(defects.rate, 4)
    score.defects_by_kind = defects.by_kind()
    problems += [
        Problem(kind=d.kind, sentence_index=d.sentence_index, sentence=d.sentence, detail=d.detail)
        for d in defects.defects
    ]
    unsupported = support.unsupported(judged)
    metrics["support"] = round(1 - len(unsupported) / len(judged), 4) if judged else 1.0
    problems += [
        Problem(kind="unsupported", sentence_index=u.sentence_index, sentence=u.sentence,
                detail=", ".join(u.missing))
        for u in unsupported
    ]  # fmt: skip
    wrong = support.misattributions(judged)
    metrics["misattributions"] = float(len(wrong))
    problems += [
        Problem(kind="misattribution", sentence_index=m.sentence_index, sentence=m.sentence,
                detail=f"credits {m.credited}; quotes credit {m.quote_credits}")
        for m in wrong
    ]  # fmt: skip
    if story.lex_spans:
        leaks_lex = scorers.loaded_wording(story.lex_spans, texts)
        metrics["loaded_wording"] = float(len(leaks_lex))
        problems += [
            Problem(kind="loaded_wording", sentence_index=lk.sentence_index,
                    sentence=texts[lk.sentence_index], detail=lk.span)
            for lk in leaks_lex
        ]  # fmt: skip
    score.problems = problems
    score.runs = [metrics]
    return score


def score_graph(
    label: str,
    story: Story,
    graph: ClaimGraph,
    *,
    word_budget: int,
    rouge_budget: int,
    setup: str = "",
) -> SystemScore:
    """Score a pipeline run (its ClaimGraph)."""
    report = graph.report
    if not setup:
        setup = f"model={report.model or '?'} prompts={report.prompts_dir or '?'}"
    return score_output(
        label,
        story,
        scorers.judged_from_graph(graph),
        word_budget=word_budget,
        rouge_budget=rouge_budget,
        title=graph.briefing.title,
        cost=scorers.cost(report),
        setup=setup,
        warnings=report.warnings,
    )


def score_extractive(
    label: str, story: Story, sentences: Sequence[str], *, word_budget: int, rouge_budget: int,
    setup: str,
) -> SystemScore:  # fmt: skip
    return score_output(
        label, story, scorers.verbatim(sentences), word_budget=word_budget,
        rouge_budget=rouge_budget, setup=setup,
    )  # fmt: skip


# Datasets whose licence allows evaluation but not redistribution: reports keep their scores
# and problem kinds but not their text (BASIL: "use it for evaluation only").
NO_REDISTRIBUTION = frozenset({"basil"})
WITHHELD = "(text withheld: the dataset may not be redistributed)"


def withhold_text(story: StoryReport) -> None:
    """Drop dataset text (output sentences, quoted spans) from a story's report in place."""
    if story.dataset not in NO_REDISTRIBUTION:
        return
    for system in story.systems.values():
        system.sentences = [f"({len(t.split())} words)" for t in system.sentences]
        for problem in system.problems:
            problem.sentence = ""
            if problem.kind not in {"overlong", "near_duplicate"}:  # their details hold no text
                problem.detail = WITHHELD


def combine(runs: Sequence[SystemScore]) -> SystemScore:
    """One score from N runs of the same system: every run's metrics, details of run 1, and for
    each fact the number of runs that covered it."""
    first = runs[0].model_copy(deep=True)
    first.runs = [m for r in runs for m in r.runs]
    for fid, fact in first.facts.items():
        fact.covered_runs = sum(1 for r in runs if fid in r.facts and r.facts[fid].covered)
        fact.covered = fact.covered_runs > 0
    seconds = [r.cost.get("seconds", 0.0) for r in runs]
    first.cost["seconds"] = round(sum(seconds), 3)
    return first


# ---- thresholds and regressions ---------------------------------------------------------------


class Thresholds(BaseModel):
    """Bounds a pipeline system must meet; None = not checked. `*_vs_lexrank`/`_vs_lead3` are
    margins over the baseline on the same story (or the same split average)."""

    model_config = ConfigDict(extra="forbid")

    min_recall: float | None = None
    min_core_recall: float | None = None
    min_recall_vs_lead3: float | None = None
    min_conflict_preservation: float | None = None
    min_support: float | None = None
    max_defect_rate: float | None = None
    max_misattributions: float | None = None
    max_loaded_wording: float | None = None
    max_attribution_violations: float | None = None
    max_boilerplate_leaks: float | None = None
    min_rouge1: float | None = None
    min_rouge2: float | None = None
    min_rouge1_vs_lexrank: float | None = None
    min_rouge2_vs_lexrank: float | None = None
    min_recall_by_kind: dict[str, float] | None = Field(
        default=None, description="recall floor per fact kind, e.g. {disputed: 0.5}"
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
    averages: Thresholds = Field(
        default_factory=Thresholds, description="bounds on the split averages of each system"
    )

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


def _bounds(t: Thresholds) -> list[tuple[str, str, float]]:
    """(metric, op, bound) for every plain bound set."""
    out: list[tuple[str, str, float]] = []
    for name, value in t.model_dump(exclude_none=True).items():
        if name == "min_recall_by_kind" or name.endswith(("_vs_lexrank", "_vs_lead3")):
            continue
        op, metric = name.split("_", 1)
        out.append((metric, "<" if op == "min" else ">", float(value)))
    return out


def _margins(t: Thresholds) -> list[tuple[str, str, float]]:
    out: list[tuple[str, str, float]] = []
    for name, value in t.model_dump(exclude_none=True).items():
        if name.endswith(("_vs_lexrank", "_vs_lead3")):
            metric, base = name[len("min_") :].rsplit("_vs_", 1)
            out.append((metric, LEXRANK if base == "lexrank" else LEAD3, float(value)))
    return out


def _misses(values: Sequence[float], op: str, bound: float) -> bool:
    """True when every run misses the bound (the spread is noise, not a regression)."""
    if not values:
        return False
    return min(values) > bound if op == ">" else max(values) < bound


def _fmt_values(values: Sequence[float]) -> str:
    if len(set(values)) == 1:
        return f"{values[0]:g}"
    return f"{min(values):g}..{max(values):g} over {len(values)} runs"


def threshold_failures(story: StoryReport, t: Thresholds) -> list[str]:
    """Reasons a pipeline system in the story misses a bound in every run."""
    failures: list[str] = []
    for label, s in story.systems.items():
        if label in BASELINES:
            continue
        where = f"{story.story} [{label}]"
        for metric, op, bound in _bounds(t):
            values = [v for r in s.runs if (v := r.get(metric)) is not None]
            if _misses(values, op, bound):
                failures.append(f"{where} {metric} {_fmt_values(values)} {op} {bound:g}")
        for metric, base, margin in _margins(t):
            other = story.systems.get(base)
            ref = other.mean(metric) if other else None
            values = [v for r in s.runs if (v := r.get(metric)) is not None]
            failures.extend(_margin_failure(where, metric, values, base, ref, margin))
        for kind, floor in (t.min_recall_by_kind or {}).items():
            hit, total = s.recall_by_kind.get(kind, (0, 0))
            if total and len(s.runs) == 1 and hit / total < floor:
                failures.append(f"{where} recall[{kind}] {round(hit / total, 3):g} < {floor:g}")
    return failures


def _margin_failure(
    where: str, metric: str, values: list[float], base: str, ref: float | None, margin: float
) -> list[str]:
    """The failure line when every run's margin over the baseline `base` falls short."""
    if ref is None or not values:
        return []
    diffs = [round(v - ref, 4) for v in values]
    if not _misses(diffs, "<", margin):
        return []
    return [
        f"{where} {metric} {_fmt_values(values)} vs {base} {ref:g}: "
        f"margin {_fmt_values(diffs)} < {margin:g}"
    ]


def average_failures(report: EvalReport, t: Thresholds) -> list[str]:
    """Bounds on the split averages; each run index gives one average, all must miss."""
    failures: list[str] = []
    averages = report.averages()
    for label in system_labels(report):
        if label in BASELINES:
            continue
        for metric, op, bound in _bounds(t):
            values = report.run_averages(label, metric)
            if _misses(values, op, bound):
                failures.append(f"average [{label}] {metric} {_fmt_values(values)} {op} {bound:g}")
        for metric, base, margin in _margins(t):
            ref = averages.get(base, {}).get(metric, (None, 0))[0]
            values = report.run_averages(label, metric)
            where = f"average [{label}]"
            failures.extend(_margin_failure(where, metric, values, base, ref, margin))
    return failures


def load_report(path: Path) -> EvalReport:
    try:
        return EvalReport.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalError(f"cannot read baseline report {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        raise EvalError(f"{path}: not an evals report.json ({exc.error_count()} errors)") from None


def compare_to_baseline(current: EvalReport, baseline: EvalReport) -> Gate:
    """Facts gained and lost per story and pipeline system.

    Lost = covered in every baseline run and missed in every new run (a fact that comes and
    goes between runs is noise). Gained = missed in every baseline run, covered in some new run.
    A system is compared with the baseline system of the same label, else the baseline's
    `pipeline`. Facts no longer in facts.yaml are ignored.
    """
    gate = Gate()
    old_stories = {s.story: s for s in baseline.stories}
    for story in current.stories:
        old = old_stories.get(story.story)
        if old is None:
            continue
        for label, system in story.systems.items():
            if label in BASELINES:
                continue
            before = old.systems.get(label) or old.systems.get("pipeline")
            if before is None:
                continue
            lost = sorted(before.covered_in_every_run() & system.missed_in_every_run())
            now_covered = set(system.facts) - system.missed_in_every_run()
            gained = sorted(before.missed_in_every_run() & now_covered)
            if gained:
                gate.gained.setdefault(story.story, {})[label] = gained
            if lost:
                gate.lost.setdefault(story.story, {})[label] = lost
                gate.failures.append(
                    f"{story.story} [{label}] lost {len(lost)} fact(s) covered in every baseline "
                    "run: " + ", ".join(lost)
                )
    return gate
