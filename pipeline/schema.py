"""Every shape the pipeline passes around, in one place.

Two families live here:
- domain shapes (Article, Claim, ClaimGroup, Briefing, RunReport, ClaimGraph) that stages return
  and renderers read;
- model-output shapes (ExtractOutput, MergeOutput, BriefOutput) whose JSON schema is sent to the
  model. They are kept small and use ids instead of repeated text, because on a CPU every output
  token costs ~0.15 s.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Span = tuple[int, int]


class Article(BaseModel):
    """One source article. `text` is the full extracted text; spans index into it."""

    id: int = Field(description="1-based citation number, in load order")
    path: str = ""
    outlet: str | None = None
    title: str | None = None
    date: str | None = None
    url: str | None = None
    language: str | None = None
    text: str
    sentences: list[Span] = Field(
        default_factory=list, description="spans of kept (non-boilerplate) sentences"
    )
    removed: list[Span] = Field(
        default_factory=list, description="spans dropped as boilerplate or instruction-like text"
    )
    sha256: str = ""

    def sentence_text(self, index: int) -> str:
        start, end = self.sentences[index]
        return self.text[start:end]

    @property
    def label(self) -> str:
        """Human name for the article in reports and errors."""
        return self.outlet or self.title or self.path or f"article {self.id}"


class ClaimKind(StrEnum):
    """How the article presents a claim; drives attribution in the briefing."""

    FACT = "reported_fact"
    STATEMENT = "statement"
    ALLEGATION = "allegation"
    DENIAL = "denial"
    OPINION = "opinion"


class Claim(BaseModel):
    id: str = Field(description='"<article_id>.<n>", e.g. "2.3"')
    article_id: int
    text: str
    kind: ClaimKind
    attributed_to: str | None = None
    quote: str = Field(description="verbatim text of the article the claim rests on")
    span: Span = Field(description="character span of `quote` in the article text")
    entities: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)
    origin: Literal["model", "rule", "salience"] = Field(
        default="model",
        description="'rule': found by the code's scan for conflicting values; 'salience': "
        "one of the article's most salient sentences, added when the model picked too few",
    )


GroupStatus = Literal["consensus", "single_source", "disputed"]


class ConflictValue(BaseModel):
    article_id: int
    value: str
    claim_id: str


class Conflict(BaseModel):
    what: str = Field(description='what differs, e.g. "date", "age", "count"')
    values: list[ConflictValue]

    def values_by_article(self) -> dict[int, str]:
        return {v.article_id: v.value for v in self.values}


class ClaimGroup(BaseModel):
    id: str = Field(description='"g1", "g2", ...')
    statement: str
    claim_ids: list[str]
    article_ids: list[int]
    status: GroupStatus
    kind: ClaimKind = ClaimKind.FACT
    attributed_to: list[str] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    related: list[str] = Field(
        default_factory=list, description="groups this one disputes or is disputed by"
    )


Section = Literal["confirmed", "attributed", "disputed", "timeline"]


class BriefingSentence(BaseModel):
    text: str
    group_ids: list[str]
    article_ids: list[int]
    section: Section = "confirmed"


class Briefing(BaseModel):
    title: str
    sentences: list[BriefingSentence]
    single_source: bool = False


class StageReport(BaseModel):
    name: str
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasks: int = 0
    seconds: float = 0.0
    prompt_hash: str = ""


class GroundingReport(BaseModel):
    claims_extracted: int = 0
    claims_kept: int = 0
    claims_dropped: dict[str, int] = Field(default_factory=dict)
    claim_reasks: int = 0
    claims_from_salience: int = Field(
        default=0, description="claims code added where the model picked too few sentences"
    )
    sentences_written: int = 0
    sentences_regenerated: int = 0
    sentences_dropped: int = 0
    sentences_attributed: int = 0
    sentences_verbatim: int = Field(
        default=0, description="groups the model skipped, stated by their verbatim claim"
    )
    conflicts_found: int = 0

    def drop_claim(self, reason: str) -> None:
        self.claims_dropped[reason] = self.claims_dropped.get(reason, 0) + 1


class RunReport(BaseModel):
    model: str
    base_url: str
    prompts_dir: str
    prompt_hashes: dict[str, str] = Field(default_factory=dict)
    stages: list[StageReport] = Field(default_factory=list)
    grounding: GroundingReport = Field(default_factory=GroundingReport)
    warnings: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    # Answers used by this run, counted by the build (embedded) or endpoint that wrote them.
    answer_sources: dict[str, int] = Field(default_factory=dict)

    @property
    def model_calls(self) -> int:
        return sum(s.calls for s in self.stages)

    @property
    def cache_hits(self) -> int:
        return sum(s.cache_hits for s in self.stages)


class ClaimGraph(BaseModel):
    """The whole result of a run: what `--format json` writes."""

    articles: list[Article]
    claims: list[Claim]
    groups: list[ClaimGroup]
    briefing: Briefing
    report: RunReport


# ---- shapes the model returns ------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExtractedClaim(_Strict):
    sentence: int = Field(ge=1, description="number of the article sentence the claim rests on")
    kind: ClaimKind
    source: str | None = Field(
        default=None, max_length=80, description="person or body the claim is attributed to"
    )
    claim: str | None = Field(
        default=None,
        max_length=300,
        description="optional short restatement; without it the sentence itself is the claim",
    )


class ExtractOutput(_Strict):
    claims: list[ExtractedClaim] = Field(max_length=8)


class GroupVerdict(_Strict):
    group: str = Field(description='candidate group id, e.g. "g4"')
    outliers: list[str] = Field(
        default_factory=list, max_length=10, description="claim ids that do not belong"
    )


class MergeOutput(_Strict):
    verdicts: list[GroupVerdict] = Field(max_length=60)


class WrittenSentence(_Strict):
    # `groups` comes first so the model commits to what it cites before it writes.
    groups: list[str] = Field(min_length=1, max_length=4)
    text: str = Field(min_length=3, max_length=300)


class BriefOutput(_Strict):
    title: str = Field(min_length=3, max_length=160)
    sentences: list[WrittenSentence] = Field(max_length=12)


OUTPUT_SCHEMAS: dict[str, type[BaseModel]] = {
    "ExtractOutput": ExtractOutput,
    "MergeOutput": MergeOutput,
    "BriefOutput": BriefOutput,
}
