"""The eval report as one self-contained web page (`python -m evals --html`): per story the
pipeline against the baselines, each fact with the sentence that covered it (or ✗), and the
problems found; with `--compare-prompts`/`--compare-model`, the two pipeline runs side by side
with the facts gained and lost marked, so nobody diffs two tables by eye.

Reads only the report model (`evals.harness.EvalReport`), so it renders a saved report.json too.
No script, no external asset; every text is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from evals.harness import METRICS, EvalReport, StoryReport, SystemScore
from evals.render import averages_rows, cell

FIRST, SECOND = "pipeline", "pipeline-b"
SENTENCE_CHARS = 220
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"


def fact_changes(story: StoryReport) -> tuple[list[str], list[str]]:
    """Facts the second pipeline run covers and the first misses (gained), and the reverse
    (lost); both empty without a comparison."""
    a, b = story.systems.get(FIRST), story.systems.get(SECOND)
    if a is None or b is None:
        return [], []
    gained = [f for f, r in b.facts.items() if r.covered and not _covered(a, f)]
    lost = [f for f, r in a.facts.items() if r.covered and not _covered(b, f)]
    return gained, lost


def _covered(system: SystemScore, fact_id: str) -> bool:
    result = system.facts.get(fact_id)
    return result is not None and result.covered


def _table(head: list[str], rows: list[str], cls: str = "") -> str:
    ths = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<div class="scroll"><table{klass}><thead><tr>{ths}</tr></thead><tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def _metric_rows(story: StoryReport) -> list[str]:
    systems = list(story.systems.values())
    rows: list[str] = []
    for metric in METRICS:
        if any(s.mean(metric) is not None for s in systems):
            cells = "".join(f"<td>{escape(cell(s, metric))}</td>" for s in systems)
            rows.append(f'<tr><th scope="row">{escape(metric)}</th>{cells}</tr>')
    if story.facts:
        cells = "".join(f"<td>{s.covered}/{s.total}</td>" for s in systems)
        rows.append(f'<tr><th scope="row">facts covered</th>{cells}</tr>')
    return rows


def _fact_cell(system: SystemScore, fact_id: str) -> str:
    result = system.facts.get(fact_id)
    if result is None or not result.covered:
        return '<td class="miss">✗</td>'
    runs = f" ({result.covered_runs}/{len(system.runs)} runs)" if len(system.runs) > 1 else ""
    sentence = (result.sentence or "")[:SENTENCE_CHARS]
    return f'<td class="hit">✓{escape(runs)} {escape(sentence)}</td>'


def _facts(story: StoryReport) -> str:
    systems = list(story.systems.values())
    if not systems or not systems[0].facts:
        return ""
    gained, lost = fact_changes(story)
    rows: list[str] = []
    for fid, fact in systems[0].facts.items():
        change = "gained" if fid in gained else "lost" if fid in lost else ""
        mark = {"gained": " ▲ gained", "lost": " ▼ lost", "": ""}[change]
        klass = f' class="{change}"' if change else ""
        cells = "".join(_fact_cell(s, fid) for s in systems)
        rows.append(
            f'<tr{klass}><th scope="row">{escape(fid)}<span class="mark">{mark}</span></th>'
            f"<td>{escape(fact.kind)}, {escape(fact.importance)}</td>{cells}</tr>"
        )
    head = ["fact", "kind", *(s.label for s in systems)]
    return "<h3>Facts</h3>" + _table(head, rows, "facts")


def _changes(story: StoryReport) -> str:
    gained, lost = fact_changes(story)
    if SECOND not in story.systems:
        return ""
    return (
        f'<p class="changes"><span class="gained">▲ {len(gained)} gained</span> '
        f"{escape(', '.join(gained))} · "
        f'<span class="lost">▼ {len(lost)} lost</span> {escape(", ".join(lost))} '
        f"({escape(SECOND)} against {escape(FIRST)})</p>"
    )


def _problems(system: SystemScore) -> str:
    items = [
        f"<li><b>{escape(p.kind)}</b> (sentence {p.sentence_index}): {escape(p.detail)}</li>"
        for p in system.problems
    ]
    items += [f"<li>conflict not reported: {escape(c)}</li>" for c in system.conflicts_missed]
    items += [f"<li>warning: {escape(w)}</li>" for w in system.warnings]
    output = "".join(f"<li>{escape(t)}</li>" for t in system.sentences) or "<li>(empty)</li>"
    setup = f'<p class="setup">{escape(system.setup)}</p>' if system.setup else ""
    listed = f"<ul>{''.join(items)}</ul>" if items else "<p>No problems found.</p>"
    return (
        f"<details><summary>{escape(system.label)}: output and "
        f"{len(system.problems)} problem{'s' if len(system.problems) != 1 else ''}</summary>"
        f"{setup}<ol start=0>{output}</ol>{listed}</details>"
    )


def _story(story: StoryReport) -> str:
    labels = list(story.systems)
    where = f" · <code>{escape(story.folder)}</code>" if story.folder else ""
    return (
        f'<section id="{escape(story.story)}"><h2>{escape(story.story)}</h2>'
        f'<p class="sub">{escape(story.dataset)}{where} · {story.facts} facts</p>'
        + _changes(story)
        + _table(["metric", *labels], _metric_rows(story))
        + _facts(story)
        + "<h3>Output and problems</h3>"
        + "".join(_problems(s) for s in story.systems.values())
        + "</section>"
    )


def _gate(report: EvalReport) -> str:
    gate = report.gate
    items = [f'<li class="lost">FAIL {escape(f)}</li>' for f in gate.failures] or ["<li>pass</li>"]
    for title, table in (("gained", gate.gained), ("lost", gate.lost)):
        for story, by_label in table.items():
            for label, ids in by_label.items():
                items.append(
                    f'<li class="{title}">{title} against the baseline in {escape(story)} '
                    f"[{escape(label)}]: {escape(', '.join(ids))}</li>"
                )
    return f"<section><h2>Gate</h2><ul>{''.join(items)}</ul></section>"


def render_html(report: EvalReport) -> str:
    labels, rows = averages_rows(report)
    averages = ""
    if rows:
        body = [
            f'<tr><th scope="row">{escape(name)}</th>'
            + "".join(f"<td>{escape(c)}</td>" for c in cells)
            + "</tr>"
            for name, cells in rows
        ]
        averages = "<section><h2>Averages</h2>" + _table(["metric", *labels], body) + "</section>"
    split = report.split or "given folders"
    facts = (
        f"split {escape(split)} · {len(report.stories)} stories · recall budget "
        f"{report.word_budget} words · ROUGE budget {report.rouge_budget} words · "
        f"runs per story {report.repeat}"
    )
    run = f"<p class=sub>{escape(report.date)} · <code>{escape(report.command)}</code></p>"
    toc = " · ".join(f'<a href="#{escape(s.story)}">{escape(s.story)}</a>' for s in report.stories)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>Eval report</title><style>{STYLE}</style></head><body>\n"
        f"<header><h1>Eval report</h1><p class=sub>{facts}</p>{run}<nav>{toc}</nav></header>\n"
        + averages
        + "\n".join(_story(s) for s in report.stories)
        + _gate(report)
        + "\n</body></html>\n"
    )


def write_html(report: EvalReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


STYLE = """
:root{--bg:#fdfcf9;--fg:#1d1d1f;--muted:#5f6368;--line:#d9d6cf;--gain:#1e7b34;
--gain-bg:#e3f4e6;--loss:#b3261e;--loss-bg:#fbe7e5;--accent:#1a5fb4}
@media (prefers-color-scheme:dark){:root{--bg:#16171a;--fg:#e8e6e3;--muted:#a2a5ab;
--line:#34363b;--gain:#7fd48f;--gain-bg:#1d3322;--loss:#f2948c;--loss-bg:#3d1f1c;
--accent:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1.5rem 1.25rem 3rem;background:var(--bg);
color:var(--fg);font:.95rem/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
.sub,code{overflow-wrap:anywhere}
h1{margin:.3rem 0}h2{margin:2rem 0 .4rem;border-bottom:1px solid var(--line)}
h3{margin:1.2rem 0 .4rem;font-size:1rem}
a{color:var(--accent)}.sub{color:var(--muted);margin:.2rem 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid var(--line)}
thead th{color:var(--muted);white-space:nowrap}
.facts th[scope=row]{min-width:10rem}
.facts td{min-width:9rem}.facts td.miss{color:var(--muted);min-width:2rem}
tr.gained{background:var(--gain-bg)}tr.lost{background:var(--loss-bg)}
tr.gained .mark,.changes .gained,li.gained{color:var(--gain);font-weight:600}
tr.lost .mark,.changes .lost,li.lost{color:var(--loss);font-weight:600}
details{margin:.3rem 0}summary{cursor:pointer;font-weight:600}
.setup{color:var(--muted);font-size:.85rem}
@media print{details{display:block}body{max-width:none}}
"""
