"""Stories the evals run on: the seed story, NeuS (AllSides) and BASIL, with a fixed split.

The shared datasets are read at run time from `../shared/datasets` (relative to the repository
root; `EVALS_DATASETS` overrides) and never copied into the project. A story is materialised
into a temporary folder of `NNN_<slug>.txt` + `.meta.yaml` files, so the real pipeline loads it
exactly as a user's folder.

Split (also in evals/FORMAT.md): NeuS line index (0-based) even = dev, odd = test; BASIL events
sorted by id, even position = dev, odd = test; the seed story is dev. `limit` = the first N
stories of each dataset in that order.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from evals.facts import StoryFacts, load_facts

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATASETS_ENV = "EVALS_DATASETS"
Split = Literal["dev", "test"]
DATASETS = ("seed", "neus", "basil")
OUTLETS = {"nyt": "The New York Times", "fox": "Fox News", "hpo": "HuffPost"}


class DatasetError(Exception):
    """A dataset is missing or unreadable; printed as one line."""


@dataclass(frozen=True)
class SourceArticle:
    text: str
    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""


@dataclass
class Story:
    """One multi-outlet story, whatever dataset it comes from."""

    id: str
    dataset: str
    articles: list[SourceArticle]
    reference: str = ""  # NeuS: the editors' neutral roundup (body only)
    lex_spans: list[str] = field(default_factory=list)  # BASIL: loaded wording, all articles
    facts: StoryFacts | None = None
    folder: Path | None = None  # a folder that already holds the articles (the seed story)


def datasets_root() -> Path:
    env = os.environ.get(DATASETS_ENV)
    return Path(env) if env else (ROOT.parent / "shared" / "datasets").resolve()


def in_split(index: int, split: Split) -> bool:
    return index % 2 == (0 if split == "dev" else 1)


# ---- NeuS --------------------------------------------------------------------------------------

_NEUS = re.compile(r"^\s*TITLE=>\s*(.*?)\s*ARTICLE=>\s*(.*)$", re.DOTALL)


def parse_neus_article(chunk: str) -> SourceArticle:
    """`TITLE=> … ARTICLE=> …`; a chunk without the markers is all body."""
    m = _NEUS.match(chunk)
    if not m:
        return SourceArticle(text=chunk.strip())
    return SourceArticle(text=m.group(2).strip(), title=m.group(1).strip())


def load_neus(root: Path, split: Split, limit: int | None = None) -> list[Story]:
    """NeuS val stories of one split: three outlets (unnamed in the data) and the roundup."""
    src, tgt = root / "neus" / "val.source", root / "neus" / "val.target"
    try:
        sources = src.read_text(encoding="utf-8").splitlines()
        targets = tgt.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read NeuS at {root / 'neus'}: {exc.strerror or exc}") from None
    if len(sources) != len(targets):
        raise DatasetError(f"NeuS: {len(sources)} source lines but {len(targets)} targets")
    stories: list[Story] = []
    for i, (line, target) in enumerate(zip(sources, targets, strict=True)):
        if not in_split(i, split):
            continue
        articles = [parse_neus_article(c) for c in line.split(" [SEP] ") if c.strip()]
        stories.append(
            Story(id=f"neus-{i:03d}", dataset="neus", articles=articles,
                  reference=parse_neus_article(target).text)
        )  # fmt: skip
        if limit is not None and len(stories) >= limit:
            break
    return stories


# ---- BASIL -------------------------------------------------------------------------------------


def _paragraphs(raw: Any) -> list[str]:
    """`body-paragraphs`: a list of paragraphs (each a list of sentences or a string), or the
    same list stored as a Python-literal string."""
    if isinstance(raw, str):
        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return [raw]
    out: list[str] = []
    for para in raw if isinstance(raw, list) else []:
        if isinstance(para, list):
            text = " ".join(str(s).strip() for s in para if str(s).strip())
        else:
            text = str(para).strip()
        if text:
            out.append(text)
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"BASIL: cannot read {path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"BASIL: {path.name} is not a JSON object")
    return data


def load_basil_event(folder: Path) -> Story:
    """One event: its articles in file order and every `lex` span of their annotations."""
    articles: list[SourceArticle] = []
    lex: list[str] = []
    files = sorted(
        (p for p in folder.glob("*.json") if not p.name.endswith("_ann.json")),
        key=lambda p: int(m.group(1)) if (m := re.search(r"_(\d+)\.json$", p.name)) else 0,
    )
    for path in files:
        data = _read_json(path)
        source = str(data.get("source", "")).lower()
        articles.append(
            SourceArticle(
                text="\n\n".join(_paragraphs(data.get("body-paragraphs", []))),
                title=str(data.get("title", "")).strip(),
                outlet=OUTLETS.get(source, source),
                date=str(data.get("date", "") or ""),
                url=str(data.get("url", "") or ""),
            )
        )
        ann = path.with_name(path.stem + "_ann.json")
        if ann.exists():
            for span in _read_json(ann).get("phrase-level-annotations", []):
                if span.get("bias") == "lex" and str(span.get("txt", "")).strip():
                    lex.append(str(span["txt"]).strip())
    return Story(id=f"basil-{folder.name[:8]}", dataset="basil", articles=articles, lex_spans=lex)


def load_basil(root: Path, split: Split, limit: int | None = None) -> list[Story]:
    base = root / "basil"
    if not base.is_dir():
        raise DatasetError(f"cannot read BASIL: no folder {base}")
    events = sorted(p for p in base.iterdir() if p.is_dir())
    stories: list[Story] = []
    for i, folder in enumerate(events):
        if not in_split(i, split):
            continue
        stories.append(load_basil_event(folder))
        if limit is not None and len(stories) >= limit:
            break
    return stories


# ---- seed ------------------------------------------------------------------------------------


def load_seed_folder(folder: Path) -> Story:
    """A folder of articles with a hand-labelled facts.yaml (the seed story, or a user's)."""
    facts = load_facts(folder)
    articles: list[SourceArticle] = []
    for path in sorted(folder.glob("*.txt")):
        meta_path = path.with_name(path.stem + ".meta.yaml")
        meta: dict[str, Any] = {}
        if meta_path.exists():
            loaded = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
            meta = loaded if isinstance(loaded, dict) else {}
        articles.append(
            SourceArticle(
                text=path.read_text(encoding="utf-8"),
                **{k: str(meta.get(k) or "") for k in ("title", "outlet", "date", "url")},
            )
        )
    return Story(
        id=facts.story or folder.name, dataset="seed", articles=articles, facts=facts,
        folder=folder,
    )  # fmt: skip


def load_seed(split: Split) -> list[Story]:
    """Hand-labelled seed stories; all of them are dev (rules were written against them)."""
    if split != "dev":
        return []
    return [load_seed_folder(p.parent) for p in sorted(SEEDS.glob("*/facts.yaml"))]


def load_split(
    split: Split, limit: int | None = None, datasets: tuple[str, ...] = DATASETS
) -> list[Story]:
    """Every story of a split: seed (dev only), then NeuS, then BASIL, each cut at `limit`."""
    root = datasets_root()
    stories: list[Story] = []
    if "seed" in datasets:
        stories += load_seed(split)[:limit]
    if "neus" in datasets:
        stories += load_neus(root, split, limit)
    if "basil" in datasets:
        stories += load_basil(root, split, limit)
    return stories


# ---- materialise -----------------------------------------------------------------------------


def slug(text: str, fallback: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return s or fallback


def materialise(story: Story, folder: Path) -> Path:
    """Write the story as a pipeline input folder: `NNN_<slug>.txt` + `NNN_<slug>.meta.yaml`."""
    if story.folder is not None:
        return story.folder
    folder.mkdir(parents=True, exist_ok=True)
    for n, article in enumerate(story.articles):
        stem = f"{n:03d}_{slug(article.outlet or article.title, f'article-{n + 1}')}"
        (folder / f"{stem}.txt").write_text(article.text + "\n", encoding="utf-8")
        meta = {
            k: v
            for k, v in (
                ("outlet", article.outlet),
                ("title", article.title),
                ("date", article.date),
                ("url", article.url),
            )
            if v
        }
        if meta:
            (folder / f"{stem}.meta.yaml").write_text(
                yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
    return folder
