"""Command line: `pipeline brief | models | cache | prompts`.

Only the output goes to stdout; progress and errors go to stderr. Every error a user can cause
ends in one line and a non-zero exit; set PIPELINE_DEBUG=1 to see a traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import select
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import __version__
from pipeline.config import Settings
from pipeline.errors import InputError, PipelineError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _add_endpoint_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="model name (env PIPELINE_MODEL); local: qwen2.5-coder-1.5b")
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

    brief = sub.add_parser("brief", help="write a briefing for a folder of articles or web pages")
    brief.add_argument(
        "folder", nargs="*", metavar="FOLDER|URL", help="a folder of articles, or page URLs"
    )
    brief.add_argument(
        "--urls", type=Path, metavar="FILE", help="a file of page URLs, one per line"
    )
    brief.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    brief.add_argument("--format", choices=["md", "json", "html"], default="md")
    _add_endpoint_flags(brief)

    batch = sub.add_parser("batch", help="brief many stories: one subfolder per story")
    batch.add_argument(
        "stories",
        type=Path,
        metavar="STORIES",
        help="a folder of story folders, or a file listing story folders (one a line)",
    )
    batch.add_argument("-o", "--output", type=Path, required=True, metavar="OUT_DIR")
    batch.add_argument(
        "--format",
        action="append",
        choices=["md", "json", "html"],
        default=[],
        help="also write this format (md and json are always written)",
    )
    batch.add_argument(
        "--concurrency",
        type=int,
        help="model calls in flight across the batch (default 4; 1 for the embedded model, "
        "whose server answers one request at a time)",
    )
    batch.add_argument("--rpm", type=float, help="at most this many requests per minute")
    batch.add_argument("--executor", choices=["threads", "ray"], default="threads")
    batch.add_argument("--ray-address", help="join this Ray cluster (default: start a local one)")
    batch.add_argument("--force", action="store_true", help="brief stories already current")
    _add_endpoint_flags(batch)

    models = sub.add_parser("models", help="local models: list or pull")
    msub = models.add_subparsers(dest="action", required=True)
    msub.add_parser("list", help="known local models and whether they are present")
    pull = msub.add_parser("pull", help="fetch and verify a local model")
    pull.add_argument("name")
    pull.add_argument("-q", "--quiet", action="store_true")

    cache = sub.add_parser("cache", help="the response cache: stats, clear or merge")
    csub = cache.add_subparsers(dest="action", required=True)
    csub.add_parser("stats", help="entries, size and folder of the cache")
    csub.add_parser("clear", help="remove every cached response")
    merge = csub.add_parser("merge", help="copy in the entries of other caches (Ray workers')")
    merge.add_argument("sources", nargs="+", type=Path, metavar="SRC_DIR")

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
    _check_timeout(settings.timeout)
    if settings.base_url is not None:
        _check_base_url(settings.base_url)
    return settings


def _check_timeout(timeout: float) -> None:
    """A bad timeout would otherwise surface only at the first call, or be retried 4 times."""
    if not math.isfinite(timeout) or timeout <= 0:
        raise InputError(f"--timeout must be a number of seconds above 0, not {timeout:g}")


def _check_base_url(url: str) -> None:
    """Only an http(s) endpoint with a host, or mock://; anything else cannot work, so it is
    refused before any work instead of being retried as 'cannot reach'."""
    if url.startswith("mock://"):
        return
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise InputError(
            f"--base-url must be an http:// or https:// URL with a host (or mock://), not {url!r}"
        )


def _check_output(output: Path, folder: Path) -> None:
    """Refuse an output that would overwrite an article or land in the folder being briefed
    (the next run would read the briefing as an article)."""
    try:
        target = output.resolve()
        source = folder.resolve()
    except (OSError, RuntimeError):
        return  # the folder check and the write report these themselves
    if target == source or source in target.parents:
        raise InputError(
            f"-o {output} is inside the input folder {folder}; write the briefing elsewhere"
        )


def _input_folder(args: argparse.Namespace, settings: Settings) -> tuple[Path, list[str]]:
    """The folder to brief: the one named, or one holding the pages of the URLs given, each
    fetched once and cached (pipeline/fetch.py); and a line for each page left out."""
    from pipeline.fetch import fetch_articles, is_url, read_url_list

    items = [str(item) for item in args.folder]
    urls = [item for item in items if is_url(item)]
    if args.urls is None and not urls:
        if len(items) != 1:
            raise InputError("give one folder of articles, or page URLs (or --urls FILE)")
        return Path(items[0]), []
    if len(urls) != len(items):
        raise InputError("give either one folder or page URLs, not both")
    if args.urls is not None:
        urls += read_url_list(args.urls)
    say = None if settings.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    fetched = fetch_articles(
        urls,
        settings.cache_dir,
        progress=say,
        use_cache=settings.use_cache,
        refresh=settings.refresh,
    )
    return fetched.folder, fetched.warnings


def cmd_brief(args: argparse.Namespace) -> int:
    from pipeline.render import RENDERERS
    from pipeline.run import run_brief

    settings = _settings(args)
    args.folder, skipped_pages = _input_folder(args, settings)
    if args.output:
        _check_output(args.output, args.folder)
    progress = None if settings.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    graph = run_brief(args.folder, settings, progress=progress)
    graph.report.warnings[:0] = skipped_pages
    text = RENDERERS[args.format](graph)
    if args.output:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            # "replace": a stray surrogate (an undecodable file name) must not lose the run.
            args.output.write_text(text, encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        _write_stdout(text)
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


def cmd_batch(args: argparse.Namespace) -> int:
    from pipeline.batch import discover_stories, run_batch

    settings = _settings(args)
    if args.concurrency is None:
        args.concurrency = 1 if settings.embedded else 4
    if args.concurrency < 1:
        raise InputError(f"--concurrency must be 1 or more, not {args.concurrency}")
    if args.rpm is not None and not (math.isfinite(args.rpm) and args.rpm > 0):
        raise InputError(f"--rpm must be a number above 0, not {args.rpm:g}")
    stories = discover_stories(args.stories, exclude=args.output)
    for story in stories:
        _check_output(args.output, story.folder)
    summary = run_batch(
        stories,
        args.output,
        settings,
        concurrency=args.concurrency,
        rpm=args.rpm,
        formats=args.format,
        executor=args.executor,
        ray_address=args.ray_address,
        progress=not settings.quiet,
        force=args.force or settings.refresh,
    )
    sys.stdout.write(summary.table())
    for failed in summary.failures:
        print(f"failed: {failed.name}: {failed.error}", file=sys.stderr)
    return EXIT_ERROR if summary.failures else 0


def cmd_models(args: argparse.Namespace) -> int:
    from pipeline.llm import registry

    settings = Settings.from_env()
    if args.action == "list":
        for st in registry.list_models(settings.models_dir):
            model = registry.get_model(st.name)
            state = "verified" if st.verified else ("present" if st.present else "not pulled")
            print(f"{st.name:22} {model.size / 1e6:8.1f} MB  {state:10}  sha256 {model.sha256}")
        print(f"models dir: {settings.models_dir}")
        from pipeline.llm.build import llama_build, machine

        print(f"llama.cpp build: {llama_build()}")
        print(f"machine: {machine()}")
        return 0
    started = time.monotonic()
    path = registry.ensure(args.name, settings.models_dir, progress=not args.quiet)
    print(f"{args.name}: {path} (verified, {time.monotonic() - started:.1f}s)")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from pipeline.llm.cache import ResponseCache

    settings = Settings.from_env()
    if args.action == "merge":
        return _merge_caches(settings.cache_dir, args.sources)
    cache = ResponseCache(settings.cache_dir)
    try:
        if args.action == "stats":
            stats = cache.stats()
            for key, value in stats.items():
                print(f"{key}: {value}")
        else:
            print(f"removed {cache.clear()} cached responses from {settings.cache_dir}")
            _clear_vectors(settings.cache_dir)
    finally:
        cache.close()
    return 0


def _clear_vectors(cache_dir: Path) -> None:
    """The stored sentence vectors go with the responses: `cache clear` means a cold run."""
    from pipeline.vector_cache import VectorCache

    if not (cache_dir / "vectors").is_dir():
        return
    vectors = VectorCache(cache_dir / "vectors")
    try:
        print(f"removed {vectors.clear()} stored sentence-vector sets")
    finally:
        vectors.close()


def _merge_caches(cache_dir: Path, sources: list[Path]) -> int:
    """Every source is opened (a folder that is not a cache refused) before anything is copied
    or the destination is even created."""
    from pipeline.fetch import merge_pages
    from pipeline.llm.cache import CacheSource, MergeCounts, ResponseCache

    opened: list[CacheSource] = []
    try:
        for directory in sources:
            opened.append(CacheSource(directory))
        total = MergeCounts()
        with ResponseCache(cache_dir) as cache:
            for source in opened:
                total.add(cache.merge(source))
    finally:
        for source in opened:
            source.close()
    pages = sum(merge_pages(directory, cache_dir) for directory in sources)
    print(
        f"merged {len(opened)} cache(s) into {cache_dir}: {total.copied} copied, "
        f"{total.present} already present, {total.unreadable} unreadable; {pages} fetched pages"
    )
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    from pipeline.prompts import check_prompt_set, load_prompt_set

    settings = Settings.from_env(prompts_dir=args.prompts)
    prompts = load_prompt_set(settings.prompts_dir)
    if args.action == "check":
        check_prompt_set(prompts)
    for name, p in prompts.items():
        print(
            f"{name:15} v{p.meta.version}  {p.meta.schema_name:14} "
            f"max_tokens={p.meta.max_tokens:<5} sha256 {p.short_hash}  {p.path}"
        )
    if args.action == "check":
        print(f"prompt set {settings.prompts_dir}: ok")
    return 0


def _write_stdout(text: str) -> None:
    """A stray surrogate (an undecodable file name) becomes U+FFFD instead of losing the run."""
    sys.stdout.write(text.encode("utf-8", "replace").decode("utf-8"))


COMMANDS = {
    "brief": cmd_brief,
    "batch": cmd_batch,
    "models": cmd_models,
    "cache": cmd_cache,
    "prompts": cmd_prompts,
}


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
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return code
    except PipelineError as exc:
        if debug:
            raise
        print(f"pipeline: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError as exc:
        if not _stdout_closed():  # a broken pipe elsewhere is a real failure
            return _internal_error(exc, debug)
        # `pipeline cache stats | head -1`: the reader has gone, which is not an error. Point
        # stdout at devnull so the interpreter's final flush does not complain again.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(
            "pipeline: interrupted; finished model answers are cached, re-run to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        return _internal_error(exc, debug)


def _internal_error(exc: Exception, debug: bool) -> int:
    if debug:
        raise exc
    print(
        f"pipeline: internal error: {type(exc).__name__}: {_one_line(exc)} "
        "(set PIPELINE_DEBUG=1 for details)",
        file=sys.stderr,
    )
    return EXIT_ERROR


def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLERR)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no real file descriptor: cannot tell
        return True
