"""The one seam every backend implements: `complete(request) -> response`.

Backends know nothing about schemas' meaning, caching or re-asking; the client does that.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    """Everything that decides a model's answer; its canonical JSON is the cache key."""

    model: str
    messages: list[dict[str, str]]
    schema_name: str
    response_schema: dict[str, Any]
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0


class ChatResponse(BaseModel):
    content: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hit: bool = False
    seconds: float = 0.0
    # Which build and machine (embedded) or endpoint (served) wrote this answer; it is stored
    # with the cached answer, so a run can tell when its answers come from several builds.
    produced_by: str | None = None


class Usage(BaseModel):
    """What a structured call cost, summed over re-asks."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasks: int = 0
    seconds: float = Field(default=0.0)

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.cache_hits += other.cache_hits
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.reasks += other.reasks
        self.seconds += other.seconds


class Backend(Protocol):
    """A model endpoint. `identity` goes into the cache key instead of a volatile address."""

    @property
    def identity(self) -> str: ...

    def complete(self, request: ChatRequest) -> ChatResponse: ...

    def close(self) -> None: ...
