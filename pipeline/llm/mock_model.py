"""A rule-based stand-in model that answers the default prompts with valid, grounded JSON.

Used by tests and by `--base-url mock://` to run the whole pipeline with no model: it reads the
numbered sentences or group lines that the default prompts render and echoes them back in the
stage's output shape. It is a plumbing check, not a summariser.
"""

from __future__ import annotations

import json
import re

from pipeline.grounding import has_attribution
from pipeline.llm.base import ChatRequest
from pipeline.llm.fake import FakeBackend

_SENTENCE_LINE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)
_GROUP_LINE = re.compile(r"^(g\d+) \[[^\]]*\] (.+)$", re.MULTILINE)
MAX_CLAIMS = 4
MAX_SENTENCES = 8


def _last_user(request: ChatRequest) -> str:
    return next(m["content"] for m in reversed(request.messages) if m["role"] == "user")


def _extract(text: str) -> dict[str, object]:
    claims = []
    for number, sentence in _SENTENCE_LINE.findall(text):
        if len(sentence.split()) < 6:
            continue
        kind = "statement" if has_attribution(sentence) else "reported_fact"
        claims.append(
            {"sentence": int(number), "kind": kind, "source": None, "claim": sentence[:290]}
        )
        if len(claims) == MAX_CLAIMS:
            break
    return {"claims": claims}


def _brief(text: str) -> dict[str, object]:
    groups = _GROUP_LINE.findall(text)[:MAX_SENTENCES]
    sentences = [{"text": statement, "groups": [gid]} for gid, statement in groups]
    return {"title": "Briefing", "sentences": sentences}


def respond(request: ChatRequest) -> str:
    """The mock model's answer to one request, chosen by the requested schema."""
    text = _last_user(request)
    if request.schema_name == "ExtractOutput":
        return json.dumps(_extract(text))
    if request.schema_name == "MergeOutput":
        return json.dumps({"verdicts": []})
    if request.schema_name == "BriefOutput":
        return json.dumps(_brief(text))
    return "{}"


def mock_backend() -> FakeBackend:
    return FakeBackend(responder=respond, name="mock")
