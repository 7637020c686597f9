"""Command line: `pipeline brief | models | cache | prompts`.

Only the output goes to stdout; progress and errors go to stderr. Every error a user can cause
ends in one line and a non-zero exit; set PIPELINE_DEBUG=1 to see a traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from pipeline import __version__
from pipeline.config import Settings
from pipeline.errors import InputError, PipelineError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _add_endpoint_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="model name (env PIPELINE_MODEL); local: qwen2.5-1.5b")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (env PIPELINE_BASE_URL)")
    p.add_argument("--model-path", type=Path, help="run this local .gguf file instead")
    p.add_argument("--prompts", type=Path, help="folder holding a whole prompt set")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--refresh", action="store_true", help="ignore cached answers, store new ones")
    p.add_argument("--timeout", type=float, help="seconds per model call (default 600)")
    p.add_argument(
        "--structured",
        choices=["auto", "json_schema", "json_object"],
        help="structured-output dialect of the endpoint (default: auto)",
    )
    p.add_argument(
        "--grouping",
        choices=["meaning", "words"],
        help="pair claims across outlets by meaning (sentence encoder, default) or by shared "
        "words only (env PIPELINE_GROUPING)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline", description="Neutral, sourced briefings from several news articles."
    )
    parser.add_argument("--version", action="version", version=f"pipeline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    brief = sub.add_parser("brief", help="write a briefing for a folder of articles")
    brief.add_argument("folder", type=Path)
    brief.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    brief.add_argument("--format", choices=["md", "json", "html"], default="md")
    _add_endpoint_flags(brief)

    models = sub.add_parser("models", help="local models: list or pull")
    msub = models.add_subparsers(dest="action", required=True)
    msub.add_parser("list", help="known local models and whether they are present")
    pull = msub.add_parser("pull", help="fetch and verify a local model")
    pull.add_argument("name")
    pull.add_argument("-q", "--quiet", action="store_true")

    cache = sub.add_parser("cache", help="the response cache: stats or clear")
    cache.add_argument("action", choices=["stats", "clear"])

    prompts = sub.add_parser("prompts", help="prompt sets: list or check")
    prompts.add_argument("action", choices=["list", "check"])
    prompts.add_argument("--prompts", type=Path, help="prompt set folder (default: built-in)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {
        "model": getattr(args, "model", None),
        "base_url": getattr(args, "base_url", None),
        "model_path": getattr(args, "model_path", None),
        "prompts_dir": getattr(args, "prompts", None),
        "timeout": getattr(args, "timeout", None),
        "structured": getattr(args, "structured", None),
        "grouping": getattr(args, "grouping", None),
    }
    if getattr(args, "no_cache", False):
        overrides["use_cache"] = False
    if getattr(args, "refresh", False):
        overrides["refresh"] = True
    if getattr(args, "quiet", False):
        overrides["quiet"] = True
    settings = Settings.from_env(**overrides)
    if settings.model_path is not None and settings.base_url is not None:
        raise InputError("--model-path runs a local model; it cannot be combined with --base-url")
    return settings


def cmd_brief(args: argparse.Namespace) -> int:
    from pipeline.render import RENDERERS
    from pipeline.run import run_brief

    settings = _settings(args)
    progress = None if settings.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    graph = run_brief(args.folder, settings, progress=progress)
    text = RENDERERS[args.format](graph)
    if args.output:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    if not settings.quiet:
        r = graph.report
        g = r.grounding
        cached = " (all from cache)" if r.model_calls == 0 and r.cache_hits else ""
        print(
            f"done in {r.seconds:.1f}s: {r.model_calls} model calls, {r.cache_hits} cache hits"
            f"{cached}; {g.claims_kept}/{g.claims_extracted} claims kept, "
            f"{len(graph.groups)} groups, {g.conflicts_found} conflicts, "
            f"{len(graph.briefing.sentences)} sentences ({g.sentences_dropped} dropped)",
            file=sys.stderr,
        )
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from pipeline.llm import registry

    settings = Settings.from_env()
    if args.action == "list":
        for st in registry.list_models(settings.models_dir):
            model = registry.get_model(st.name)
            state = "verified" if st.verified else ("present" if st.present else "not pulled")
            print(f"{st.name:22} {model.size / 1e6:8.1f} MB  {state:10}  sha256 {model.sha256}")
        print(f"models dir: {settings.models_dir}")
        return 0
    started = time.monotonic()
    path = registry.ensure(args.name, settings.models_dir, progress=not args.quiet)
    print(f"{args.name}: {path} (verified, {time.monotonic() - started:.1f}s)")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from pipeline.llm.cache import ResponseCache

    settings = Settings.from_env()
    cache = ResponseCache(settings.cache_dir)
    try:
        if args.action == "stats":
            stats = cache.stats()
            for key, value in stats.items():
                print(f"{key}: {value}")
        else:
            print(f"removed {cache.clear()} cached responses from {settings.cache_dir}")
    finally:
        cache.close()
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    from pipeline.prompts import load_prompt_set

    settings = Settings.from_env(prompts_dir=args.prompts)
    prompts = load_prompt_set(settings.prompts_dir)
    for name, p in prompts.items():
        print(
            f"{name:15} v{p.meta.version}  {p.meta.schema_name:14} "
            f"max_tokens={p.meta.max_tokens:<5} sha256 {p.short_hash}  {p.path}"
        )
    if args.action == "check":
        print(f"prompt set {settings.prompts_dir}: ok")
    return 0


COMMANDS = {"brief": cmd_brief, "models": cmd_models, "cache": cmd_cache, "prompts": cmd_prompts}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]


class _WarningLines(logging.Handler):
    """Log warnings (retries, model pulls) as `warning: …` lines on the current stderr; looked up
    at each line, so a swapped stderr (tests, redirection) gets them."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"warning: {record.getMessage()}", file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never break a run
            self.handleError(record)


def _show_warnings(quiet: bool) -> None:
    """`-q` silences warnings as it silences progress; errors always print."""
    logger = logging.getLogger("pipeline")
    handler = next((h for h in logger.handlers if isinstance(h, _WarningLines)), None)
    if handler is None:
        handler = _WarningLines()
        logger.addHandler(handler)
    handler.setLevel(logging.ERROR if quiet else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_warnings(bool(getattr(args, "quiet", False)))
    debug = os.environ.get("PIPELINE_DEBUG") == "1"
    try:
        return COMMANDS[args.command](args)
    except PipelineError as exc:
        if debug:
            raise
        print(f"pipeline: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "pipeline: interrupted; finished model answers are cached, re-run to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        if debug:
            raise
        print(
            f"pipeline: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(set PIPELINE_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_ERROR
