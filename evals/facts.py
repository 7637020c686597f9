"""Hand-labelled truth for one story (`seeds/<story>/facts.yaml`) and how text is matched to it.

Matching is deliberately dumb and explicit: a fact is "stated" by a sentence when every group of
alternatives in its matcher has one alternative in the sentence. Key entities and numbers, not
wording, so a paraphrase still counts and a sentence with the wrong number does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evals.text import fold

FactKind = Literal["consensus", "single_source", "disputed", "attributed"]
FACT_KINDS: tuple[FactKind, ...] = ("consensus", "single_source", "disputed", "attributed")
Importance = Literal["core", "detail"]


class FactsError(Exception):
    """facts.yaml is missing or malformed; the CLI prints it as one line."""


@lru_cache(maxsize=4096)
def _pattern(alternative: str) -> re.Pattern[str]:
    """Whole words/phrases; a trailing `*` allows any word ending ("deni*" = denied, denies)."""
    alt = fold(alternative)
    prefix = alt.endswith("*")
    body = re.escape(alt.rstrip("*").strip()).replace(r"\ ", r"\s+")
    tail = r"\w*" if prefix else r"(?!\w)"
    return re.compile(rf"(?<!\w){body}{tail}")


class Matcher(BaseModel):
    """`all: [[a, b], [c]]`: every inner list needs one alternative present."""

    model_config = ConfigDict(extra="forbid")

    all: list[list[str]] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """Accept `any: [a, b]` as `all: [[a, b]]`, which reads better for single groups."""
        if isinstance(data, dict) and "any" in data:
            data = dict(data)
            extra = [[str(a) for a in data.pop("any")]]
            data["all"] = list(data.get("all", [])) + extra
        return data

    @field_validator("all", mode="before")
    @classmethod
    def _coerce(cls, value: Any) -> Any:
        """YAML turns `[75]` into ints; alternatives are always strings."""
        if isinstance(value, list):
            return [
                [str(a) for a in group] if isinstance(group, list) else [str(group)]
                for group in value
            ]
        return value

    @field_validator("all")
    @classmethod
    def _non_empty(cls, value: list[list[str]]) -> list[list[str]]:
        for group in value:
            if not group or any(not a.strip().rstrip("*") for a in group):
                raise ValueError("every group needs at least one non-empty alternative")
        return value

    def matches(self, text: str) -> bool:
        folded = fold(text)
        return all(any(_pattern(a).search(folded) for a in group) for group in self.all)


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    articles: list[int] = Field(min_length=1)
    kind: FactKind
    importance: Importance = Field(
        description="core: what a reader must get from any briefing of the story; detail: the rest"
    )
    match: Matcher
    note: str = ""


class Conflict(BaseModel):
    """Sources disagree on one attribute; a good briefing reports every distinct value."""

    model_config = ConfigDict(extra="forbid")

    id: str
    what: str
    values: dict[int, str] = Field(min_length=2, description="article number -> value it gives")
    match: dict[str, Matcher] = Field(description="value -> matcher for that value")
    context: Matcher | None = Field(
        default=None, description="what else the sentence(s) must mention, e.g. the subject"
    )

    @model_validator(mode="after")
    def _every_value_has_a_matcher(self) -> Conflict:
        distinct = set(self.values.values())
        if len(distinct) < 2:
            raise ValueError(f"conflict {self.id!r} needs at least two distinct values")
        missing = distinct - set(self.match)
        if missing:
            raise ValueError(f"conflict {self.id!r}: no matcher for value(s) {sorted(missing)}")
        return self

    def distinct_values(self) -> list[str]:
        return sorted(set(self.values.values()))


class Assertion(BaseModel):
    """A contested claim that must never be stated without saying who claims it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = ""
    match: Matcher


class StoryFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    story: str = ""
    facts: list[Fact] = Field(min_length=1)
    conflicts: list[Conflict] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    needs_attribution: list[Assertion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> StoryFacts:
        for label, ids in (
            ("fact", [f.id for f in self.facts]),
            ("conflict", [c.id for c in self.conflicts]),
            ("needs_attribution", [a.id for a in self.needs_attribution]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {label} id(s): {', '.join(dupes)}")
        return self

    def article_numbers(self) -> set[int]:
        """Every citation number the file refers to (to check against the story's articles)."""
        numbers = {n for f in self.facts for n in f.articles}
        for c in self.conflicts:
            numbers |= set(c.values)
        return numbers


def load_facts(path: Path) -> StoryFacts:
    """Read and validate a facts.yaml (or the facts.yaml inside a story folder)."""
    if path.is_dir():
        path = path / "facts.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FactsError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise FactsError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise FactsError(f"{path}: expected a mapping at the top level")
    raw.setdefault("story", path.parent.name)
    try:
        return StoryFacts.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FactsError(f"{path}: {where}: {first['msg']}") from None


def first_match(matcher: Matcher, sentences: Iterable[str]) -> int | None:
    """Index of the first sentence the matcher accepts."""
    for i, sentence in enumerate(sentences):
        if matcher.matches(sentence):
            return i
    return None
