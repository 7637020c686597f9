"""Eval reports for people: terminal tables, report.md, and report.json on disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from evals.harness import METRICS, EvalReport, StoryReport, SystemScore, system_labels

COUNTS = {"misattributions", "loaded_wording", "attribution_violations", "boilerplate_leaks"}


def _num(value: float | None, metric: str = "") -> str:
    """Shares with two decimals; whole counts as integers."""
    if value is None:
        return "-"
    if metric in COUNTS and value == int(value):
        return str(int(value))
    return f"{value:.2f}"


def cell(s: SystemScore, metric: str) -> str:
    """Mean, with the min-max spread when runs differ."""
    mean = s.mean(metric)
    spread = s.spread(metric)
    return _num(mean, metric) + _range(spread, metric)


def _range(spread: tuple[float, float] | None, metric: str) -> str:
    """` (low-high)` when the runs differ at the precision shown, else nothing."""
    if not spread:
        return ""
    low, high = _num(spread[0], metric), _num(spread[1], metric)
    return "" if low == high else f" ({low}-{high})"


def _rows(story: StoryReport) -> list[tuple[str, list[str]]]:
    systems = list(story.systems.values())

    def each(fn: Callable[[SystemScore], str]) -> list[str]:
        return [fn(s) for s in systems]

    rows: list[tuple[str, list[str]]] = []
    for metric in METRICS:
        if any(s.mean(metric) is not None for s in systems):
            rows.append((metric, [cell(s, metric) for s in systems]))
    if story.facts:
        rows.append(("facts covered", each(lambda s: f"{s.covered}/{s.total}")))
        rows.append(("core facts covered", each(lambda s: "{}/{}".format(*s.core))))
    rows += [
        ("words (sentences) scored",
         each(lambda s: f"{s.words_scored} ({s.sentences_scored}/{len(s.sentences)})")),
        ("runs", each(lambda s: str(len(s.runs)))),
        ("model calls / cache hits",
         each(lambda s: f"{s.cost.get('calls', 0):g} / {s.cost.get('cache_hits', 0):g}")),
        ("seconds", each(lambda s: f"{s.cost.get('seconds', 0):g}")),
    ]  # fmt: skip
    return rows


def _columns(title: str, labels: list[str], rows: list[tuple[str, list[str]]]) -> str:
    """A title line, then metric rows under one right-aligned column per system."""
    first = max(len(r[0]) for r in rows)
    widths = [max(len(lbl), *(len(r[1][i]) for r in rows)) for i, lbl in enumerate(labels)]
    lines = [title]
    for name, cells in [("metric", labels), *rows]:
        lines.append(
            "  ".join(
                [name.ljust(first)] + [c.rjust(w) for c, w in zip(cells, widths, strict=True)]
            )
        )
    return "\n".join(lines)


def render_table(story: StoryReport) -> str:
    """Plain-text per-story table for the terminal."""
    return _columns(f"{story.story} ({story.dataset})", list(story.systems), _rows(story))


def averages_rows(report: EvalReport) -> tuple[list[str], list[tuple[str, list[str]]]]:
    labels = system_labels(report)
    averages = report.averages()
    rows: list[tuple[str, list[str]]] = []
    for metric in METRICS:
        cells = []
        for label in labels:
            mean, n = averages[label][metric]
            per_run = report.run_averages(label, metric)
            text = _num(mean, metric)
            if len(per_run) > 1:
                text += _range((min(per_run), max(per_run)), metric)
            cells.append(f"{text} [n={n}]" if mean is not None else "-")
        if any(c != "-" for c in cells):
            rows.append((metric, cells))
    return labels, rows


def render_averages(report: EvalReport) -> str:
    labels, rows = averages_rows(report)
    if not rows:
        return ""
    title = f"average over {len(report.stories)} stories (split {report.split or 'given'})"
    return _columns(title, labels, rows)


def _md(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _slice(report: EvalReport) -> str:
    """Which stories of each dataset the split run took, in split order."""
    if report.skip and report.limit:
        return f" (stories {report.skip + 1}-{report.skip + report.limit} of each dataset)"
    if report.skip:
        return f" (each dataset from story {report.skip + 1})"
    return f" (first {report.limit} stories of each dataset)" if report.limit else ""


def render_markdown(report: EvalReport) -> str:
    """report.md: averages, then per story the table, facts, output and every problem."""
    out = ["# Eval report\n"]
    out.append(
        f"Split: {report.split or 'given folders'}"
        + _slice(report)
        + f" · {len(report.stories)} stories · recall budget {report.word_budget} words · "
        f"ROUGE budget {report.rouge_budget} words · runs per story {report.repeat}"
    )
    if report.date or report.command:
        out.append(f"\n{report.date} · `{report.command}`")
    out.append(
        "\nMetrics are means over runs (min-max in brackets when runs differ); `[n=…]` = stories "
        "that have the metric. Details below are from run 1.\n"
    )
    labels, rows = averages_rows(report)
    if rows:
        out.append("## Averages\n")
        out.append("| metric | " + " | ".join(labels) + " |")
        out.append("|---|" + "---|" * len(labels))
        out += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
        out.append("")
    for story in report.stories:
        labels = list(story.systems)
        out.append(f"## {story.story}\n")
        out.append(f"{story.dataset}" + (f" · `{story.folder}`" if story.folder else "") + "\n")
        out.append("| metric | " + " | ".join(labels) + " |")
        out.append("|---|" + "---|" * len(labels))
        out += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in _rows(story)]
        for s in story.systems.values():
            if s.setup:
                out.append(f"\n- **{s.label}**: {_md(s.setup)}")
        if story.facts:
            out.append("\n### Facts\n")
            out.append("| fact | kind | " + " | ".join(labels) + " |")
            out.append("|---|---|" + "---|" * len(labels))
            first = next(iter(story.systems.values()))
            for fid, fact in first.facts.items():
                cells = []
                for s in story.systems.values():
                    r = s.facts.get(fid)
                    if r is None or not r.covered:
                        cells.append("✗")
                        continue
                    runs = f" ({r.covered_runs}/{len(s.runs)} runs)" if len(s.runs) > 1 else ""
                    cells.append(f"✓{runs} {_md(r.sentence)[:140]}")
                out.append(
                    f"| {fid} | {fact.kind}, {fact.importance} | " + " | ".join(cells) + " |"
                )
        for s in story.systems.values():
            out.append(f"\n### {s.label}: output and problems\n")
            out += [f"{i}. {_md(t)}" for i, t in enumerate(s.sentences)] or ["(empty)"]
            if s.problems:
                out.append("")
                out += [
                    f"- **{p.kind}** (sentence {p.sentence_index}): {_md(p.detail)}"
                    for p in s.problems
                ]
            out += [f"- conflict not reported: {c}" for c in s.conflicts_missed]
            out += [f"- warning: {_md(w)}" for w in s.warnings]
        out.append("")
    gate = report.gate
    out.append("## Gate\n")
    out += [f"- FAIL {_md(f)}" for f in gate.failures] or ["- pass"]
    for title, table in (("Gained", gate.gained), ("Lost", gate.lost)):
        for story_name, by_label in table.items():
            for label, ids in by_label.items():
                out.append(f"- {title} in {story_name} [{label}]: {', '.join(ids)}")
    return "\n".join(out) + "\n"


def write_report(report: EvalReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    md_path = out_dir / "report.md"
    json_path.write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n", "utf-8")
    md_path.write_text(render_markdown(report), "utf-8")
    return json_path, md_path


SUMMARY = (
    ("ROUGE-1", "rouge1"),
    ("ROUGE-2", "rouge2"),
    ("ROUGE-L", "rougeL"),
    ("core recall", "core_recall"),
    ("recall", "recall"),
    ("defect rate", "defect_rate"),
    ("support", "support"),
    ("loaded wording", "loaded_wording"),
    ("misattributions", "misattributions"),
    ("conflicts kept", "conflict_preservation"),
)


def summary_table(report: EvalReport) -> str:
    """One Markdown row per system with the split averages the README shows."""
    averages = report.averages()
    used = [
        (name, m) for name, m in SUMMARY if any(averages[s][m][0] is not None for s in averages)
    ]
    lines = [
        "| system | " + " | ".join(name for name, _ in used) + " |",
        "|---|" + "---|" * len(used),
    ]
    for label in system_labels(report):
        cells = []
        for _, metric in used:
            mean, n = averages[label][metric]
            per_run = report.run_averages(label, metric)
            spread = _range((min(per_run), max(per_run)), metric) if len(per_run) > 1 else ""
            cells.append("-" if mean is None else _num(mean, metric) + spread)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
