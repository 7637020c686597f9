"""Benchmark: `pipeline batch` against a served model, and how a story's cost grows with articles.

Prints figures; asserts nothing.

    python bench/batch.py [--stories 100] [--delay 0.3] [--levels 1,8,32] [--sizes 5,20,50,200]
                          [--grouping words|meaning] [--skip-throughput] [--skip-large]

Throughput: a loopback OpenAI-compatible server (a separate process, so its threads do not
share our interpreter lock) answers every call as the rule-based mock model does
(`pipeline.llm.mock_model.respond`) after a fixed delay, standing in for a served model whose
calls take that long. The same stories are briefed at each concurrency level with an empty
cache, and stories per minute, the speedup over concurrency 1 and this process's CPU time per
story (everything but the model) are printed.

Large stories: one story of N articles, briefed with the in-process mock model (no delay), so
the time is all non-model time. It prints the calls and seconds per stage, and the largest
prompt each stage sent, in estimated tokens (characters / 4, the usual rule of thumb for
English with a BPE tokenizer), plus that stage's answer budget (max_tokens), against the
embedded model's 8192-token context, the seconds spent on candidate grouping (the pairwise
similarity, the one part of merge that grows faster than the claims), and the most claims one
merge call showed as a single group (large groups are checked in slices).

Stories are built from ../shared/datasets/neus/val.source (dev split: even line indices): each
line holds three short articles about one story, `TITLE=> … ARTICLE=> …`, joined by ` [SEP] `.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.batch import discover_stories, run_batch  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.llm.base import ChatRequest, ChatResponse  # noqa: E402
from pipeline.llm.client import LLMClient  # noqa: E402
from pipeline.llm.mock_model import mock_backend, respond  # noqa: E402
from pipeline.run import run_brief  # noqa: E402
from pipeline.stages import merge  # noqa: E402

NEUS = ROOT.parent / "shared" / "datasets" / "neus" / "val.source"
CONTEXT = 8192


# ---- stories from NeuS ---------------------------------------------------------------------


def neus_articles(limit_lines: int | None = None) -> list[list[tuple[str, str]]]:
    """Dev-split lines (even indices) as lists of (title, text)."""
    lines = NEUS.read_text(encoding="utf-8").splitlines()
    stories: list[list[tuple[str, str]]] = []
    for index, line in enumerate(lines):
        if index % 2:
            continue
        articles = []
        for part in line.split(" [SEP] "):
            head, _, body = part.partition("ARTICLE=>")
            title = head.replace("TITLE=>", "").strip()
            if body.strip():
                articles.append((title, body.strip()))
        stories.append(articles)
        if limit_lines is not None and len(stories) >= limit_lines:
            break
    return stories


def write_story(folder: Path, articles: list[tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, (title, text) in enumerate(articles):
        record = {"title": title, "outlet": f"Outlet {n + 1}", "text": text}
        (folder / f"{n:03d}.json").write_text(json.dumps(record), encoding="utf-8")


def one_event(count: int) -> list[tuple[str, str]]:
    """`count` outlets reporting the same (synthetic) event with slightly different figures: the
    shape of an election night, where every fact is told by many outlets. NeuS lines are three
    outlets each, so this is the only way to get large groups; the texts are made up here."""
    articles = []
    for n in range(count):
        text = (
            f"Officials in Belford said on Monday that the river rose by {n % 9 + 2} metres "
            f"overnight. Residents of {10 + n} streets were moved to the school gym by "
            "volunteers and police. The mayor of Belford said the bridge would stay closed "
            "until engineers had checked it. Forecasters expect more heavy rain across the "
            "valley during the coming week, the regional weather office said."
        )
        articles.append(("Flood in Belford", text))
    return articles


def build_stories(root: Path, count: int) -> Path:
    """`count` stories of three articles each, one folder per NeuS dev line."""
    lines = neus_articles()
    if count > len(lines):
        raise SystemExit(f"only {len(lines)} NeuS dev stories; ask for fewer")
    for n, articles in enumerate(lines[:count]):
        write_story(root / f"neus-{n:03d}", articles)
    return root


# ---- the loopback model server ---------------------------------------------------------------


def answer_body(body: dict[str, Any]) -> str:
    """The mock model's answer to a raw /chat/completions body."""
    fmt = body.get("response_format") or {}
    named = fmt.get("json_schema") or {}
    schema = named.get("schema") or fmt.get("schema") or {}
    request = ChatRequest(
        model=str(body.get("model", "m")),
        messages=body["messages"],
        schema_name=str(named.get("name") or schema.get("title") or ""),
        response_schema=schema,
    )
    return respond(request)


def serve(delay: float) -> None:
    """Run the delayed mock endpoint until stdin closes; prints its port first."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            time.sleep(delay)
            content = answer_body(body)
            payload = {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": str(body.get("model", "mock")),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            raw = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 256
    print(httpd.server_address[1], flush=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    sys.stdin.read()  # the parent closes our stdin to stop us


class Endpoint:
    """The delayed mock endpoint in a child process."""

    def __init__(self, delay: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--delay", str(delay)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}/v1"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


# ---- throughput ------------------------------------------------------------------------------


def throughput(args: argparse.Namespace, work: Path) -> None:
    stories_dir = build_stories(work / "stories", args.stories)
    stories = discover_stories(stories_dir)
    endpoint = Endpoint(args.delay)
    print(
        f"\n{len(stories)} stories (NeuS dev, 3 articles each), endpoint answers after "
        f"{args.delay * 1000:.0f} ms, grouping={args.grouping}, empty cache each run"
    )
    print(
        f"{'concurrency':>11}  {'seconds':>8}  {'stories/min':>11}  {'speedup':>7}  "
        f"{'calls':>5}  {'peak in flight':>14}  {'CPU ms/story':>12}  failed"
    )
    base = None
    try:
        for level in args.levels:
            settings = Settings(
                base_url=endpoint.url,
                model="mock",
                cache_dir=work / f"cache-{level}",
                quiet=True,
                grouping=args.grouping,
                timeout=60,
            )
            cpu = time.process_time()
            summary = run_batch(
                stories, work / f"out-{level}", settings, concurrency=level, progress=False
            )
            cpu = time.process_time() - cpu
            per_minute = len(stories) / summary.seconds * 60
            base = base or per_minute
            calls = sum(r.calls for r in summary.results)
            print(
                f"{level:>11}  {summary.seconds:>8.1f}  {per_minute:>11.1f}  "
                f"{per_minute / base:>6.1f}x  {calls:>5}  {summary.peak_in_flight:>14}  "
                f"{cpu / len(stories) * 1000:>12.0f}  {summary.count('failed')}"
            )
    finally:
        endpoint.close()


# ---- large stories ---------------------------------------------------------------------------


class Recording:
    """The mock model, noting each request's stage and size."""

    def __init__(self) -> None:
        self.inner = mock_backend()
        self.sizes: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.shown_group = 0  # the most claims one merge request showed in one group

    @property
    def identity(self) -> str:
        return self.inner.identity

    def complete(self, request: ChatRequest) -> ChatResponse:
        chars = sum(len(m["content"]) for m in request.messages)
        self.sizes[request.schema_name].append((chars, request.max_tokens))
        if request.schema_name == STAGES["merge"]:
            self.shown_group = max(self.shown_group, shown_group(request.messages[-1]["content"]))
        return self.inner.complete(request)

    def close(self) -> None:
        self.inner.close()


STAGES = {"extract": "ExtractOutput", "merge": "MergeOutput", "brief": "BriefOutput"}


def largest(backend: Recording, stage: str) -> str:
    """The stage's largest prompt as `estimated tokens+answer budget`, `!` when over context."""
    sizes = backend.sizes.get(STAGES[stage], [])
    if not sizes:
        return "no call"
    chars, budget = max(sizes)
    flag = " !" if chars // 4 + budget > CONTEXT else ""
    return f"{chars // 4}+{budget}{flag}"


def shown_group(user: str) -> int:
    """The most claim lines (`  [id] text`) under one group header in a merge prompt."""
    most = count = 0
    for line in user.splitlines():
        count = count + 1 if line.startswith("  [") else 0
        most = max(most, count)
    return most


class GroupingTimer:
    """Times `merge.candidate_groups` while installed (the stage calls it by module name)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.inner = merge.candidate_groups

    def __call__(self, *args: Any, **kwargs: Any) -> list[list[str]]:
        started = time.monotonic()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds += time.monotonic() - started

    def __enter__(self) -> GroupingTimer:
        merge.candidate_groups = self
        return self

    def __exit__(self, *_: object) -> None:
        merge.candidate_groups = self.inner


def large_stories(args: argparse.Namespace, work: Path, kind: str) -> None:
    pool = [article for line in neus_articles() for article in line]
    what = "NeuS dev articles, many stories pooled" if kind == "neus" else "one synthetic event"
    print(
        f"\nlarge stories, {what} (mock model in process, grouping={args.grouping}): seconds are "
        "non-model time; prompt = largest prompt of the stage in estimated tokens (chars/4) "
        f"+ its max_tokens, against a {CONTEXT}-token context"
    )
    print(
        f"{'articles':>8}  {'claims':>6}  {'groups':>6}  {'calls e/m/b':>11}  "
        f"{'extract s':>9}  {'merge s':>7}  {'grouping s':>10}  {'brief s':>7}  {'total s':>7}  "
        f"{'merge prompt':>14}  {'brief prompt':>14}  {'largest group':>13}  {'shown':>5}"
    )
    for size in args.sizes:
        folder = work / f"large-{kind}-{size}"
        write_story(folder, pool[:size] if kind == "neus" else one_event(size))
        backend = Recording()
        client = LLMClient(backend, None)
        settings = Settings(base_url="mock://", model="mock", quiet=True, grouping=args.grouping)
        started = time.monotonic()
        with GroupingTimer() as grouping:
            graph = run_brief(folder, settings, client=client)
        total = time.monotonic() - started
        stages = {s.name: s for s in graph.report.stages}

        calls = "/".join(str(stages[s].calls) for s in STAGES)
        print(
            f"{len(graph.articles):>8}  {len(graph.claims):>6}  {len(graph.groups):>6}  "
            f"{calls:>11}  "
            f"{stages['extract'].seconds:>9.2f}  {stages['merge'].seconds:>7.2f}  "
            f"{grouping.seconds:>10.2f}  {stages['brief'].seconds:>7.2f}  {total:>7.2f}  "
            f"{largest(backend, 'merge'):>14}  {largest(backend, 'brief'):>14}  "
            f"{max(len(g.claim_ids) for g in graph.groups):>13}  {backend.shown_group:>5}"
        )
    print(
        "(! = prompt plus answer budget exceeds the context; shown = most claims of one group "
        f"in one merge request: a merge call holds up to {merge.MAX_GROUPS_PER_CALL} groups and "
        f"about {merge.MERGE_PROMPT_TOKENS} estimated tokens, and a group of more than "
        f"{merge.MAX_CLAIMS_PER_CHECK} claims is checked in slices that repeat its first claim)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.3, help="seconds per model call")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels")
    parser.add_argument("--sizes", default="5,20,50,200", help="articles per large story")
    parser.add_argument("--grouping", choices=["words", "meaning"], default="words")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.delay)
        return
    args.levels = [int(x) for x in args.levels.split(",")]
    args.sizes = [int(x) for x in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        if not args.skip_large:
            large_stories(args, work, "neus")
            large_stories(args, work, "event")
        if not args.skip_throughput:
            throughput(args, work)


if __name__ == "__main__":
    main()
