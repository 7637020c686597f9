"""Wires the stages: load → extract → merge → brief, timing each and filling the RunReport.

Stages never call each other; this module is the only place that knows their order. Every
model answer is cached as soon as it arrives, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from pipeline.config import DEFAULT_LOCAL_MODEL, Settings
from pipeline.errors import EndpointError
from pipeline.llm import registry
from pipeline.llm.base import Backend, Usage
from pipeline.llm.limits import EndpointGate, GatedBackend
from pipeline.prompts import check_prompt_set, load_prompt_set
from pipeline.salience import salience_order
from pipeline.schema import Article, Claim, ClaimGraph, GroundingReport, RunReport, StageReport
from pipeline.similarity import Encode
from pipeline.sources import load_articles
from pipeline.stages.brief import write_briefing
from pipeline.stages.common import StageContext, StructuredClient
from pipeline.stages.extract import ExtractResult, extract_claims
from pipeline.stages.merge import merge_claims

Progress = Callable[[str], None]
_LOADING = threading.Lock()
"""One story loads at a time per process: the loader's sentence splitter (one shared pysbd
Segmenter, pipeline/boilerplate.py) keeps each call's state on the instance, so two threads
splitting at once get each other's sentences. Loading is CPU-bound, so little is lost."""
SENTENCES_PER_ARTICLE = 9


def model_name(settings: Settings) -> str:
    """The model to ask for; a remote endpoint needs one named explicitly."""
    if settings.embedded:
        if settings.model_path is not None:
            return settings.model_path.stem
        return registry.canonical_name(settings.model or DEFAULT_LOCAL_MODEL)
    if not settings.model:
        raise EndpointError("a --base-url needs a model: pass --model or set PIPELINE_MODEL")
    return settings.model


def request_model(settings: Settings, model: str) -> str:
    """The model name the calls carry. It is part of the cache key, so a registry model renamed
    since keeps its old name here and users' cached answers stay valid."""
    if settings.embedded and settings.model_path is None and model in registry.MODELS:
        return registry.MODELS[model].cache_name or model
    return model


def make_backend(settings: Settings, gate: EndpointGate | None = None) -> Backend:
    """The endpoint of these settings; the embedded server starts only on a cache miss.

    `gate` (a batch's) bounds the calls in flight and shares 429 pauses across its workers.
    """
    if gate is not None and (settings.embedded or str(settings.base_url).startswith("mock://")):
        return GatedBackend(make_backend(settings), gate)
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
        gate=gate,
    )


def make_client(settings: Settings, backend: Backend) -> StructuredClient:
    from pipeline.llm.cache import ResponseCache
    from pipeline.llm.client import LLMClient

    cache = ResponseCache(settings.cache_dir) if settings.use_cache else None
    return LLMClient(
        backend,
        cache,
        refresh=settings.refresh,
        seed=settings.seed,
        temperature=settings.temperature,
    )


def _encoder(settings: Settings) -> Encode | None:
    """The sentence encoder for `--grouping meaning` (pulled on first use), else None."""
    if settings.grouping != "meaning":
        return None
    from pipeline.embeddings import ENCODER_MODEL, TOKENIZER_MODEL, load_encoder, remembering
    from pipeline.vector_cache import VectorCache, stored

    progress = not settings.quiet
    for name in (ENCODER_MODEL, TOKENIZER_MODEL):  # a missing encoder fails before any call
        registry.ensure(name, settings.models_dir, progress=progress)

    def load() -> Encode:
        return load_encoder(settings.models_dir, progress=progress).encode

    if not settings.use_cache:
        return remembering(load())
    identity = "/".join(registry.get_model(n).sha256 for n in (ENCODER_MODEL, TOKENIZER_MODEL))
    vectors = VectorCache(settings.cache_dir / "vectors")
    return remembering(stored(load, vectors, identity))


def note_answer_sources(report: RunReport, producers: Mapping[str, int] | None) -> None:
    """Record which builds wrote the answers; warn when there is more than one, since answers
    from another build (say, a cache shared with a machine on another CPU) can differ."""
    if not producers:
        return
    report.answer_sources = dict(sorted(producers.items()))
    if len(producers) > 1:
        listed = "; ".join(f"{n} from {who}" for who, n in sorted(producers.items()))
        report.warnings.append(f"answers come from {len(producers)} builds: {listed}")


def _display_url(settings: Settings) -> str:
    return settings.base_url or "embedded"


def _extract_concurrently(
    articles: list[Article],
    ctx: StageContext,
    salient: Mapping[int, list[int]],
    concurrency: int,
    done: Callable[[int], None],
) -> list[ExtractResult]:
    """Each article's extraction on its own thread, results in article order (so the output
    is the same as one after another). Each call gets its own usage, summed into `ctx` at the
    end, since `StageContext.usage` is not meant to be shared between threads."""
    contexts = [replace(ctx, usage=Usage()) for _ in articles]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="extract") as pool:
        futures = [
            pool.submit(extract_claims, article, own, salient[article.id])
            for article, own in zip(articles, contexts, strict=True)
        ]
        try:
            for finished, _ in enumerate(as_completed(futures), start=1):
                done(finished)
            results = [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            for own in contexts:
                ctx.usage.add(own.usage)
    return results


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
    concurrency: int = 1,
) -> ClaimGraph:
    """The whole claim graph for the articles in `folder`.

    `client` replaces the configured endpoint (tests pass a fake, a batch its shared client);
    otherwise the backend of `settings` is built here and always closed here, also on error
    and Ctrl-C. `concurrency` > 1 runs up to that many extraction calls at once (the client
    must then be thread-safe); the result is the same as with 1.
    """
    started = time.monotonic()
    say = progress or (lambda _msg: None)

    def tell(message: str) -> None:
        say(f"[{time.monotonic() - started:6.1f}s] {message}")

    prompts = load_prompt_set(settings.prompts_dir)
    # Render every prompt with sample inputs now: a template with an undefined variable or a
    # sandbox escape fails before extraction spends any calls, not at the brief stage.
    check_prompt_set(prompts)
    with _LOADING:
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
        asked = request_model(settings, model)
        ctx = StageContext(prompts["extract_claims"], client, asked)
        claims: list[Claim] = []
        salient = salience_order(articles, SENTENCES_PER_ARTICLE)
        with _stage(report, "extract", ctx):
            workers = min(concurrency, len(articles))
            ready: list[ExtractResult] = []
            if workers > 1:

                def done(n: int) -> None:
                    tell(f"extract: {n}/{len(articles)} articles")

                ready = _extract_concurrently(articles, ctx, salient, workers, done)
            for n, article in enumerate(articles, start=1):
                if ready:
                    result = ready[n - 1]
                else:
                    result = extract_claims(article, ctx, salient[article.id])
                claims.extend(result.claims)
                grounding.claims_extracted += result.extracted
                grounding.claim_reasks += result.reasks
                grounding.claims_from_salience += result.salient
                for reason, count in result.dropped.items():
                    grounding.claims_dropped[reason] = (
                        grounding.claims_dropped.get(reason, 0) + count
                    )
                tell(
                    f"extract: {n}/{len(articles)} articles, {len(claims)} claims "
                    f"({ctx.usage.calls} calls, {ctx.usage.cache_hits} cached)"
                )
        grounding.claims_kept = len(claims)

        ctx = StageContext(prompts["merge_claims"], client, asked)
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

        ctx = StageContext(prompts["write_briefing"], client, asked)
        with _stage(report, "brief", ctx):
            brief = write_briefing(merged.groups, claims, articles, ctx, encode=encode)
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
    note_answer_sources(report, getattr(client, "producers", None))
    return ClaimGraph(
        articles=articles,
        claims=claims,
        groups=merged.groups,
        briefing=brief.briefing,
        report=report,
    )
