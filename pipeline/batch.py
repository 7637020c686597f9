"""`pipeline batch`: brief many stories, concurrently, skipping those whose output is current.

A story is a folder of articles. Each is briefed by `run.run_brief` and written as
`OUT_DIR/<story>.{md,json[,html]}`, each file atomically (a temp file renamed into place), then
a stamp `OUT_DIR/.pipeline-batch/<story>.json` records the hash of what decided the output:
the article files, the prompt set, the model and endpoint, and the settings that change answers.
A story whose stamp matches and whose files exist is skipped. A failed story is one line in the
summary and never stops the others. Model answers are cached as they arrive, so after Ctrl-C a
re-run makes only the calls that are missing.

All stories of a process share one backend, one response cache and one `EndpointGate`, which
bounds the calls in flight across the batch (`--concurrency`), caps the request rate (`--rpm`)
and spreads a 429's `Retry-After` to every worker. `--executor ray` runs stories as Ray tasks
instead (pipeline/batch_ray.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipeline import __version__
from pipeline.config import Settings
from pipeline.errors import InputError, PipelineError
from pipeline.llm.limits import EndpointGate
from pipeline.stages.common import StructuredClient

STAMPS = ".pipeline-batch"
ALWAYS: tuple[str, ...] = ("md", "json")
Status = Literal["done", "skipped", "failed"]
INTERRUPT_GRACE = 3.0
"""Seconds that calls in flight at Ctrl-C get to finish (and be cached) before the client
closes."""


@dataclass(frozen=True)
class Story:
    name: str
    folder: Path


@dataclass
class StoryResult:
    """One story's outcome and cost, as the summary table adds them up."""

    name: str
    status: Status
    error: str = ""
    calls: int = 0
    cache_hits: int = 0
    tokens: int = 0
    seconds: float = 0.0


@dataclass
class BriefedStory:
    """What a worker hands back: the rendered files (by format) and the result. Plain data, so
    a Ray worker on another machine can return it; the driver does all the writing."""

    story: Story
    texts: dict[str, str]
    result: StoryResult


# ---- which stories ---------------------------------------------------------------------------


def _visible(name: str) -> bool:
    return not name.startswith(".")


def discover_stories(source: Path, *, exclude: Path | None = None) -> list[Story]:
    """The stories of a folder (each non-hidden subfolder) or of a list file (one folder a
    line, relative to the file; `#` starts a comment). Names must be unique: they name the
    output files."""
    if source.is_dir():
        skip = exclude.resolve() if exclude is not None else None
        folders = sorted(
            p for p in source.iterdir() if p.is_dir() and _visible(p.name) and p.resolve() != skip
        )
        if not folders:
            raise InputError(f"{source} holds no story folders (one subfolder per story)")
    elif source.is_file():
        folders = _listed_folders(source)
    else:
        raise InputError(f"{source} is neither a folder of stories nor a file listing folders")
    stories: dict[str, Story] = {}
    for folder in folders:
        name = folder.name
        if name in stories:
            raise InputError(
                f"two stories are named {name!r} ({stories[name].folder} and {folder}); "
                "the output files are named after the folder"
            )
        stories[name] = Story(name, folder)
    return list(stories.values())


def _listed_folders(listing: Path) -> list[Path]:
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the story list {listing}: {exc}") from None
    folders: list[Path] = []
    for number, line in enumerate(lines, start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        folder = Path(entry).expanduser()
        if not folder.is_absolute():
            folder = listing.parent / folder
        if not folder.is_dir():
            raise InputError(f"{listing} line {number}: {entry} is not a folder")
        folders.append(folder)
    if not folders:
        raise InputError(f"{listing} lists no story folders")
    return folders


# ---- is the output current? ------------------------------------------------------------------


def articles_digest(folder: Path) -> str:
    """sha256 over the names and bytes of every visible file under `folder`."""
    digest = hashlib.sha256()
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and all(_visible(part) for part in p.relative_to(folder).parts)
    )
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode("utf-8", "replace") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def run_identity(settings: Settings) -> dict[str, object]:
    """Everything besides the articles that decides a story's output. Fails (one line) on
    settings that cannot run, e.g. a --base-url without a --model, before any story starts."""
    from pipeline.llm.openai_backend import display_url
    from pipeline.prompts import load_prompt_set
    from pipeline.run import model_name, request_model

    model = model_name(settings)
    prompts = load_prompt_set(settings.prompts_dir)
    model_file = ""
    if settings.model_path is not None:
        stat = settings.model_path.stat() if settings.model_path.exists() else None
        model_file = f"{settings.model_path.resolve()}:{stat.st_size if stat else 0}"
    return {
        "pipeline": __version__,
        "model": request_model(settings, model),
        "model_file": model_file,
        "endpoint": display_url(settings.base_url) if settings.base_url else "embedded",
        "structured": settings.structured,
        "grouping": settings.grouping,
        "seed": settings.seed,
        "temperature": settings.temperature,
        "prompts": {name: p.sha256 for name, p in sorted(prompts.items())},
    }


def story_key(story: Story, identity: dict[str, object]) -> str:
    fields = {"articles": articles_digest(story.folder), **identity}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class OutputDir:
    """OUT_DIR: the stories' files, written atomically, and the stamps that say they are
    current."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            (root / STAMPS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the output folder {root}: {exc.strerror}") from None

    def path(self, name: str, fmt: str) -> Path:
        return self.root / f"{name}.{fmt}"

    def _stamp(self, name: str) -> Path:
        return self.root / STAMPS / f"{name}.json"

    def current(self, name: str, key: str, formats: Iterable[str]) -> bool:
        try:
            stamp = json.loads(self._stamp(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(stamp, dict) or stamp.get("key") != key:
            return False
        return all(self.path(name, fmt).is_file() for fmt in formats)

    def write(self, name: str, texts: dict[str, str], key: str) -> None:
        """The files first, the stamp last: a crash in between leaves the story not current."""
        for fmt, text in texts.items():
            atomic_write(self.path(name, fmt), text)
        stamp = {"key": key, "files": sorted(f"{name}.{fmt}" for fmt in texts)}
        atomic_write(self._stamp(name), json.dumps(stamp, indent=2) + "\n")


def atomic_write(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never a half-written one."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide briefings from the rest of the team
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# ---- one story -------------------------------------------------------------------------------


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def brief_story(
    story: Story,
    settings: Settings,
    client: StructuredClient,
    formats: Sequence[str],
    *,
    concurrency: int = 1,
) -> BriefedStory:
    """Brief one story with `client`; any error becomes a failed result, never an exception
    (Ctrl-C excepted)."""
    from pipeline.render import RENDERERS
    from pipeline.run import run_brief

    started = time.monotonic()
    try:
        graph = run_brief(story.folder, settings, client=client, concurrency=concurrency)
        texts = {fmt: RENDERERS[fmt](graph) for fmt in formats}
    except PipelineError as exc:
        failed = StoryResult(story.name, "failed", error=one_line(exc))
        failed.seconds = round(time.monotonic() - started, 3)
        return BriefedStory(story, {}, failed)
    except Exception as exc:  # noqa: BLE001 - one story's bug must not stop the batch
        error = f"internal error: {type(exc).__name__}: {one_line(exc)}"
        failed = StoryResult(story.name, "failed", error=error)
        failed.seconds = round(time.monotonic() - started, 3)
        return BriefedStory(story, {}, failed)
    report = graph.report
    result = StoryResult(
        story.name,
        "done",
        calls=report.model_calls,
        cache_hits=report.cache_hits,
        tokens=sum(s.prompt_tokens + s.completion_tokens for s in report.stages),
        seconds=report.seconds,
    )
    return BriefedStory(story, texts, result)


# ---- many stories ----------------------------------------------------------------------------


@dataclass
class BatchSummary:
    results: list[StoryResult] = field(default_factory=list)
    seconds: float = 0.0
    peak_in_flight: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failures(self) -> list[StoryResult]:
        return [r for r in self.results if r.status == "failed"]

    def table(self) -> str:
        """The closing summary: one header line, one line of figures."""
        rows = [
            ("stories", len(self.results)),
            ("done", self.count("done")),
            ("skipped", self.count("skipped")),
            ("failed", self.count("failed")),
            ("calls", sum(r.calls for r in self.results)),
            ("cache hits", sum(r.cache_hits for r in self.results)),
            ("tokens", sum(r.tokens for r in self.results)),
            ("seconds", f"{self.seconds:.1f}"),
        ]
        widths = [max(len(name), len(str(value))) for name, value in rows]
        head = "  ".join(name.rjust(w) for (name, _), w in zip(rows, widths, strict=True))
        line = "  ".join(str(value).rjust(w) for (_, value), w in zip(rows, widths, strict=True))
        return f"{head}\n{line}\n"


def preload(settings: Settings) -> None:
    """What every story needs and must load once, before the workers start: the sentence
    encoder (two threads must not pull or load it at the same time)."""
    if settings.grouping == "meaning":
        from pipeline.embeddings import load_encoder

        load_encoder(settings.models_dir, progress=not settings.quiet)


def run_threads(
    stories: Sequence[Story],
    settings: Settings,
    formats: Sequence[str],
    *,
    concurrency: int,
    rpm: float | None,
    gate: EndpointGate | None = None,
) -> Iterator[BriefedStory]:
    """Stories on `concurrency` threads sharing one client; yields each as it finishes."""
    from pipeline.llm.client import LLMClient
    from pipeline.run import make_backend, make_client

    gate = gate or EndpointGate(concurrency, rpm)
    client = make_client(settings, make_backend(settings, gate))
    assert isinstance(client, LLMClient)
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="story")
    futures: list[Future[BriefedStory]] = []
    try:
        futures = [
            pool.submit(
                brief_story, story, settings, client.fork(), formats, concurrency=concurrency
            )
            for story in stories
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # Normally all are done. On Ctrl-C: no new call starts and queued stories never start;
        # calls in flight get a moment to land in the cache, then closing the client (which
        # stops an embedded server) ends the rest.
        gate.cancel()
        for future in futures:
            future.cancel()
        wait(futures, timeout=INTERRUPT_GRACE)
        try:
            client.close()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def run_batch(
    stories: Sequence[Story],
    out_dir: Path,
    settings: Settings,
    *,
    concurrency: int = 4,
    rpm: float | None = None,
    formats: Sequence[str] = ALWAYS,
    executor: Literal["threads", "ray"] = "threads",
    ray_address: str | None = None,
    progress: bool = True,
    force: bool = False,
) -> BatchSummary:
    """Brief every story not current in `out_dir`; never raises for one story's failure."""
    started = time.monotonic()
    formats = list(dict.fromkeys([*ALWAYS, *formats]))
    identity = run_identity(settings)
    output = OutputDir(out_dir)
    keys = {story.name: story_key(story, identity) for story in stories}
    summary = BatchSummary()
    todo: list[Story] = []
    for story in stories:
        if not force and output.current(story.name, keys[story.name], formats):
            summary.results.append(StoryResult(story.name, "skipped"))
        else:
            todo.append(story)
    from tqdm import tqdm

    bar = tqdm(
        total=len(stories),
        initial=len(stories) - len(todo),
        unit="story",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    gate = EndpointGate(concurrency, rpm)
    try:
        if todo:
            outcomes: Iterator[BriefedStory]
            if executor == "ray":
                from pipeline.batch_ray import run_ray

                outcomes = run_ray(
                    todo, settings, formats, concurrency=concurrency, rpm=rpm, address=ray_address
                )
            else:
                preload(settings)
                outcomes = run_threads(
                    todo, settings, formats, concurrency=concurrency, rpm=rpm, gate=gate
                )
            try:
                for briefed in outcomes:
                    summary.results.append(_keep(briefed, output, keys))
                    bar.update(1)
                    bar.set_postfix(failed=summary.count("failed"), refresh=False)
            finally:
                close = getattr(outcomes, "close", None)
                if close is not None:
                    close()  # Ctrl-C while writing: the executor still stops its workers
    finally:
        bar.close()
    order = {story.name: n for n, story in enumerate(stories)}
    summary.results.sort(key=lambda r: order[r.name])
    summary.seconds = round(time.monotonic() - started, 3)
    summary.peak_in_flight = gate.peak
    return summary


def _keep(briefed: BriefedStory, output: OutputDir, keys: dict[str, str]) -> StoryResult:
    """Write a finished story's files; a write error fails that story only."""
    result = briefed.result
    if result.status != "done":
        return result
    try:
        output.write(briefed.story.name, briefed.texts, keys[briefed.story.name])
    except OSError as exc:
        result.status = "failed"
        result.error = f"cannot write {output.root}: {exc.strerror or one_line(exc)}"
    return result
