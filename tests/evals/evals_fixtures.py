"""Hand-built ClaimGraphs: test input for the harness, so no model is needed.

A plain module (not conftest) so tests can import `make_graph` directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.schema import (
    Article,
    Briefing,
    BriefingSentence,
    Claim,
    ClaimGraph,
    ClaimGroup,
    ClaimKind,
    RunReport,
    StageReport,
)


def make_graph(
    sentences: Sequence[tuple[str, Sequence[str]]],
    groups: Mapping[str, Sequence[str]],
    *,
    title: str = "Briefing",
    report: RunReport | None = None,
) -> ClaimGraph:
    """`groups`: group id -> quotes (each becomes a claim whose text is the quote)."""
    quotes = [q for qs in groups.values() for q in qs]
    text = " ".join(quotes) or "empty"
    claims: list[Claim] = []
    built: list[ClaimGroup] = []
    for gid, qs in groups.items():
        ids = []
        for q in qs:
            cid = f"1.{len(claims) + 1}"
            start = text.find(q)
            claims.append(
                Claim(id=cid, article_id=1, text=q, kind=ClaimKind.FACT, quote=q,
                      span=(start, start + len(q)))
            )  # fmt: skip
            ids.append(cid)
        built.append(
            ClaimGroup(id=gid, statement=qs[0] if qs else "", claim_ids=ids, article_ids=[1],
                       status="single_source")
        )  # fmt: skip
    return ClaimGraph(
        articles=[Article(id=1, text=text, sentences=[(0, len(text))])],
        claims=claims,
        groups=built,
        briefing=Briefing(
            title=title,
            sentences=[
                BriefingSentence(text=t, group_ids=list(g), article_ids=[1]) for t, g in sentences
            ],
        ),
        report=report or RunReport(model="fake", base_url="", prompts_dir="prompts"),
    )


LAVROV_GROUPS = {
    "g1": [
        "Kremlin spokesperson Dmitry Peskov dismissed speculation that Russian Foreign Minister "
        "Sergey Lavrov had fallen out of favor with President Vladimir Putin.",
        "Lavrov continues to work as the foreign minister.",
    ],
    "g2": [
        "Lavrov did not attend a key meeting chaired by Putin on November 5.",
        "Putin instructed officials to work on proposals to resume nuclear tests",
    ],
    "g3": [
        "The delegation will instead be led by Maxim Oreshkin, the deputy head of the "
        "presidential administration.",
        "the upcoming G20 summit in South Africa",
    ],
    "g4": [
        "Lavrov and Rubio held a phone discussion on October 21",
        "Lavrov spoke by phone to US Secretary of State Marco Rubio on 20 October",
    ],
    "g5": ["Mr Lavrov, 75, a seasoned Soviet-era diplomat", "the 76-year-old Lavrov"],
}

LAVROV_GOOD = [
    (
        "Kremlin spokesman Dmitry Peskov dismissed speculation that Sergey Lavrov had fallen out "
        "of favor with Vladimir Putin, saying Lavrov continues to work as foreign minister.",
        ["g1"],
    ),
    (
        "Lavrov did not attend a meeting Putin chaired on November 5, at which officials were "
        "told to work on proposals to resume nuclear tests.",
        ["g2"],
    ),
    ("Maxim Oreshkin will lead the delegation to the G20 summit in South Africa.", ["g3"]),
    (
        "Reports give different dates for Lavrov's phone call with Marco Rubio: October 21 "
        "or 20 October.",
        ["g4"],
    ),
    ("Lavrov's age is reported as 75 in some reports and as 76 elsewhere.", ["g5"]),
]


def lavrov_good_graph() -> ClaimGraph:
    report = RunReport(
        model="fake",
        base_url="",
        prompts_dir="prompts",
        stages=[
            StageReport(name="extract", calls=5, cache_hits=1, prompt_tokens=1000,
                        completion_tokens=200, seconds=10.0),
            StageReport(name="brief", calls=1, prompt_tokens=500, completion_tokens=100,
                        seconds=5.0),
        ],
        seconds=16.5,
    )  # fmt: skip
    return make_graph(LAVROV_GOOD, LAVROV_GROUPS, title="Kremlin denies Lavrov rift", report=report)


def lavrov_bad_graph() -> ClaimGraph:
    """Unattributed allegation, invented number, boilerplate, one fact only."""
    sentences = [
        ("Lavrov has fallen out of favour with Putin.", ["g1"]),
        ("Lavrov met Rubio 3 times in Geneva.", ["g4"]),
        ("Your support helps us to tell the story.", []),
    ]
    return make_graph(sentences, LAVROV_GROUPS)


def write_datasets(root: Path) -> Path:
    """A miniature of ../shared/datasets in its published formats (text written for the tests):
    NeuS lines 0-2 and BASIL events evt-a, evt-b (evt-b's first body is a Python literal)."""
    neus = root / "neus"
    neus.mkdir(parents=True)
    sources, targets = [], []
    for i in range(3):
        arts = [
            f"TITLE=> Council votes on plan {i}. ARTICLE=> The council voted {i + 5} to 2 on "
            f"Monday to approve the plan. Mayor Ann Lee said the plan would start in May."
            for _ in range(3)
        ]
        sources.append(" [SEP] ".join(arts))
        targets.append(f"TITLE=> Plan approved. ARTICLE=> The council approved plan {i} on Monday.")
    (neus / "val.source").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (neus / "val.target").write_text("\n".join(targets) + "\n", encoding="utf-8")
    for event in ("evt-a", "evt-b"):
        folder = root / "basil" / event
        folder.mkdir(parents=True)
        for n, source in ((1, "nyt"), (2, "FOX")):
            paragraphs: object = [["Officials slammed the plan on Monday."], [f"Vote {n}."]]
            if n == 1:
                paragraphs = repr(paragraphs)
            article = {
                "source": source, "title": f"Plan passes {n}", "date": "2011-04-07",
                "url": f"http://example.com/{event}/{n}", "body-paragraphs": paragraphs,
            }  # fmt: skip
            (folder / f"{event}_{n}.json").write_text(json.dumps(article), encoding="utf-8")
            ann = {"phrase-level-annotations": [
                {"txt": "slammed", "bias": "lex", "quote": "no"},
                {"txt": "It passed", "bias": "inf", "quote": "no"},
            ]}  # fmt: skip
            (folder / f"{event}_{n}_ann.json").write_text(json.dumps(ann), encoding="utf-8")
    return root
