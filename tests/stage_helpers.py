"""Builders for hand-made stage inputs."""

from __future__ import annotations

import json

from pipeline.config import PACKAGE_PROMPTS
from pipeline.llm.client import LLMClient
from pipeline.llm.fake import FakeBackend
from pipeline.prompts import load_prompt_set
from pipeline.schema import Article, Claim, ClaimKind
from pipeline.stages.common import StageContext

PROMPTS = load_prompt_set(PACKAGE_PROMPTS)


def article(article_id: int, sentences: list[str], outlet: str | None = None) -> Article:
    """An article whose text is the sentences joined by spaces, with exact spans."""
    text = ""
    spans = []
    for s in sentences:
        if text:
            text += " "
        spans.append((len(text), len(text) + len(s)))
        text += s
    return Article(id=article_id, outlet=outlet, text=text, sentences=spans)


def claim(
    cid: str,
    text: str,
    quote: str | None = None,
    kind: ClaimKind = ClaimKind.FACT,
    by: str | None = None,
) -> Claim:
    article_id = int(cid.split(".")[0])
    quote = quote or text
    return Claim(
        id=cid,
        article_id=article_id,
        text=text,
        kind=kind,
        attributed_to=by,
        quote=quote,
        span=(0, len(quote)),
    )


def context(stage: str, *answers: object) -> tuple[StageContext, FakeBackend]:
    """A stage context whose model replays `answers` (dicts are sent as JSON)."""
    script = [json.dumps(a) if isinstance(a, dict) else a for a in answers]
    backend = FakeBackend(script)  # type: ignore[arg-type]
    client = LLMClient(backend, None, max_reasks=0)
    return StageContext(PROMPTS[stage], client, "fake-model"), backend
