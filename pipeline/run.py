"""Wires the stages: load → extract → merge → brief, timing each and filling the RunReport.

Stages never call each other; this module is the only place that knows their order. Every
model answer is cached as soon as it arrives, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.config import DEFAULT_LOCAL_MODEL, Settings
from pipeline.errors import EndpointError
from pipeline.llm.base import Backend, Usage
from pipeline.prompts import load_prompt_set
from pipeline.salience import rank_sentences
from pipeline.schema import Claim, ClaimGraph, GroundingReport, RunReport, StageReport
from pipeline.sources import load_articles
from pipeline.stages.brief import write_briefing
from pipeline.stages.common import StageContext, StructuredClient
from pipeline.stages.extract import extract_claims
from pipeline.stages.merge import Encode, merge_claims

Progress = Callable[[str], None]
SENTENCES_PER_ARTICLE = 9


def model_name(settings: Settings) -> str:
    """The model to ask for; a remote endpoint needs one named explicitly."""
    if settings.embedded:
        if settings.model_path is not None:
            return settings.model_path.stem
        return settings.model or DEFAULT_LOCAL_MODEL
    if not settings.model:
        raise EndpointError("a --base-url needs a model: pass --model or set PIPELINE_MODEL")
    return settings.model


def make_backend(settings: Settings) -> Backend:
    """The endpoint of these settings; the embedded server starts only on a cache miss."""
    if settings.embedded:
        from pipeline.llm.local import EmbeddedBackend

        return EmbeddedBackend(
            settings.model,
            models_dir=settings.models_dir,
            model_path=settings.model_path,
            timeout=settings.timeout,
            quiet=settings.quiet,
        )
    assert settings.base_url is not None
    if settings.base_url.startswith("mock://"):
        from pipeline.llm.mock_model import mock_backend

        return mock_backend()
    from pipeline.llm.openai_backend import OpenAIBackend

    structured = "json_schema" if settings.structured == "auto" else settings.structured
    return OpenAIBackend(
        settings.base_url,
        settings.api_key,
        timeout=settings.timeout,
        structured=structured,
        max_attempts=settings.max_retries,
    )


def make_client(settings: Settings, backend: Backend) -> StructuredClient:
    from pipeline.llm.cache import ResponseCache
    from pipeline.llm.client import LLMClient

    cache = ResponseCache(settings.cache_dir) if settings.use_cache else None
    return LLMClient(backend, cache, refresh=settings.refresh)


def _encoder(settings: Settings) -> Encode | None:
    """The sentence encoder for `--grouping meaning` (pulled on first use), else None."""
    if settings.grouping != "meaning":
        return None
    from pipeline.embeddings import load_encoder

    return load_encoder(settings.models_dir, progress=not settings.quiet).encode


def _display_url(settings: Settings) -> str:
    return settings.base_url or "embedded"


@contextmanager
def _stage(report: RunReport, name: str, ctx: StageContext) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        usage: Usage = ctx.usage
        report.stages.append(
            StageReport(
                name=name,
                calls=usage.calls,
                cache_hits=usage.cache_hits,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                reasks=usage.reasks,
                seconds=round(time.monotonic() - started, 3),
                prompt_hash=ctx.prompt.short_hash,
            )
        )


def run_brief(
    folder: Path,
    settings: Settings,
    *,
    progress: Progress | None = None,
    client: StructuredClient | None = None,
) -> ClaimGraph:
    """The whole claim graph for the articles in `folder`.

    `client` replaces the configured endpoint (tests pass a fake); otherwise the backend of
    `settings` is built here and always closed here, also on error and Ctrl-C.
    """
    started = time.monotonic()
    say = progress or (lambda _msg: None)

    def tell(message: str) -> None:
        say(f"[{time.monotonic() - started:6.1f}s] {message}")

    prompts = load_prompt_set(settings.prompts_dir)
    loaded = load_articles(folder)
    articles = loaded.articles
    for warning in loaded.warnings:
        tell(f"warning: {warning}")
    model = model_name(settings)
    report = RunReport(
        model=model,
        base_url=_display_url(settings),
        prompts_dir=str(settings.prompts_dir),
        prompt_hashes={name: p.short_hash for name, p in prompts.items()},
        warnings=list(loaded.warnings),
    )
    if len(articles) == 1:
        report.warnings.append("only one article: the briefing rests on a single source")
    tell(f"loaded {len(articles)} articles from {folder}")

    owned = client is None
    backend = make_backend(settings) if client is None else None
    if client is None:
        assert backend is not None
        client = make_client(settings, backend)
    grounding = GroundingReport()
    try:
        encode = _encoder(settings)  # before any model call: a missing encoder fails first
        ctx = StageContext(prompts["extract_claims"], client, model)
        claims: list[Claim] = []
        salient = rank_sentences(articles, SENTENCES_PER_ARTICLE)
        with _stage(report, "extract", ctx):
            for n, article in enumerate(articles, start=1):
                result = extract_claims(article, ctx, salient[article.id])
                claims.extend(result.claims)
                grounding.claims_extracted += result.extracted
                grounding.claim_reasks += result.reasks
                for reason, count in result.dropped.items():
                    grounding.claims_dropped[reason] = (
                        grounding.claims_dropped.get(reason, 0) + count
                    )
                tell(
                    f"extract: {n}/{len(articles)} articles, {len(claims)} claims "
                    f"({ctx.usage.calls} calls, {ctx.usage.cache_hits} cached)"
                )
        grounding.claims_kept = len(claims)

        ctx = StageContext(prompts["merge_claims"], client, model)
        with _stage(report, "merge", ctx):
            merged = merge_claims(claims, articles, ctx, encode)
        claims = sorted(
            [*claims, *merged.rule_claims],
            key=lambda c: (c.article_id, c.origin != "model", c.span[0]),
        )
        grounding.conflicts_found = merged.conflicts
        tell(
            f"merge: {len(merged.groups)} groups from {len(claims)} claims, "
            f"{merged.conflicts} conflicts ({ctx.usage.calls} calls, {ctx.usage.cache_hits} cached)"
        )

        ctx = StageContext(prompts["write_briefing"], client, model)
        with _stage(report, "brief", ctx):
            brief = write_briefing(merged.groups, claims, articles, ctx)
        grounding.sentences_written = brief.written
        grounding.sentences_regenerated = brief.regenerated
        grounding.sentences_dropped = brief.dropped
        grounding.sentences_attributed = brief.attributed
        grounding.sentences_verbatim = brief.verbatim
        tell(
            f"brief: {len(brief.briefing.sentences)} sentences "
            f"({ctx.usage.calls} calls, {ctx.usage.cache_hits} cached)"
        )
    finally:
        if owned:
            close = getattr(client, "close", None)
            if close is not None:
                close()
    report.grounding = grounding
    report.seconds = round(time.monotonic() - started, 3)
    cache_warnings = getattr(getattr(client, "cache", None), "warnings", [])
    report.warnings.extend(cache_warnings)
    return ClaimGraph(
        articles=articles,
        claims=claims,
        groups=merged.groups,
        briefing=brief.briefing,
        report=report,
    )
