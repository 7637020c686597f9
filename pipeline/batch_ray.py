"""`pipeline batch --executor ray`: each story is a Ray task, so a batch spreads over a cluster.

Ray is an optional extra (`pip install 'pipeline[ray]'`) and is imported only here, only when
asked for. The driver keeps at most `--concurrency` stories in flight; each task makes its calls
one after another, so no more than `--concurrency` calls reach the endpoint at once, and each
worker process paces itself to its share of `--rpm`. A task returns the rendered files as
text and the driver writes them, so workers need no shared output disk. Story folders are read
by the workers at the path the driver gives: on a cluster they must be on a shared (read-only is
enough) filesystem.

Each worker process keeps one client, hence one response cache at `Settings.cache_dir` on its
own node. Workers on one machine share that directory safely (diskcache is process-safe on a
local disk); it must never be a network filesystem (SQLite locking is not reliable there).
`pipeline cache merge` brings the nodes' caches together afterwards (pipeline/llm/cache.py).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import socket
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from pipeline.batch import BriefedStory, Story, brief_story
from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.llm.client import LLMClient
from pipeline.llm.limits import EndpointGate

TASK_CPUS = 0.25
"""A story task mostly waits for the endpoint: a quarter CPU lets four run per core."""

CONNECT_SECONDS = 5.0
"""How long to wait for a Ray head to accept a connection before calling it unreachable."""

_clients: dict[str, LLMClient] = {}


def _ray() -> Any:
    """The `ray` module, or a one-line error naming the extra to install."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise InputError(
            "--executor ray needs Ray: pip install 'pipeline[ray]' (or pip install ray)"
        ) from None


def check_reachable(address: str | None) -> None:
    """A Ray head that is not listening makes `ray.init` retry for minutes with a page of log
    lines; a plain TCP connect to the address tells in seconds, as one line."""
    if not address or address in ("auto", "local"):
        return
    try:
        parts = urlsplit(address if "://" in address else f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise InputError(f"--ray-address {address}: {exc}") from None
    if host is None or port is None:
        return  # a form Ray resolves itself
    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        raise InputError(f"cannot join Ray at {address}: {exc.strerror or exc}") from None


def worker_client(settings: Settings, rpm: float | None) -> LLMClient:
    """This worker process's client, made on its first task and kept for the next ones (its
    connection pool and cache stay open)."""
    from pipeline.run import make_backend, make_client

    key = settings.model_dump_json() + f"|{rpm}"
    client = _clients.get(key)
    if client is None:
        made = make_client(settings, make_backend(settings, EndpointGate(1, rpm)))
        assert isinstance(made, LLMClient)
        client = _clients[key] = made
    return client


def brief_task(
    story: Story, settings: Settings, formats: Sequence[str], rpm: float | None
) -> BriefedStory:
    """One story on a Ray worker (a plain function, so Ray ships it by reference)."""
    return brief_story(story, settings, worker_client(settings, rpm).fork(), formats)


def run_ray(
    stories: Sequence[Story],
    settings: Settings,
    formats: Sequence[str],
    *,
    concurrency: int,
    rpm: float | None,
    address: str | None,
) -> Iterator[BriefedStory]:
    """Stories as Ray tasks, at most `concurrency` at once; yields each as it finishes."""
    if settings.embedded:
        raise InputError(
            "--executor ray needs a served model (--base-url): the embedded model would start "
            "one llama.cpp server in every worker process"
        )
    ray = _ray()
    started_here = not ray.is_initialized()
    if started_here:
        check_reachable(address)
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; one line for all
            raise InputError(f"cannot start or join Ray at {address or 'local'}: {exc}") from None
    task = ray.remote(num_cpus=TASK_CPUS, max_retries=1)(brief_task)
    share = rpm / concurrency if rpm else None
    waiting = list(stories)
    waiting.reverse()
    pending: list[Any] = []
    try:
        while waiting or pending:
            while waiting and len(pending) < concurrency:
                pending.append(task.remote(waiting.pop(), settings, list(formats), share))
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
