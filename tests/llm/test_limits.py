"""The endpoint gate: a concurrency bound, a pause shared by every worker, a request-rate cap,
and the client's figures staying right when many threads call at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_server import FaultServer

from pipeline.llm.base import ChatRequest, Usage
from pipeline.llm.cache import ResponseCache
from pipeline.llm.client import LLMClient
from pipeline.llm.fake import FakeBackend
from pipeline.llm.limits import Cancelled, EndpointGate, GatedBackend
from pipeline.llm.openai_backend import OpenAIBackend
from pipeline.schema import ExtractOutput


def _run_threads(count: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def test_slots_bound_the_calls_in_flight() -> None:
    gate = EndpointGate(concurrency=3)
    lock = threading.Lock()
    live = {"now": 0, "peak": 0}

    def call(_: int) -> None:
        with gate.slot():
            with lock:
                live["now"] += 1
                live["peak"] = max(live["peak"], live["now"])
            time.sleep(0.03)
            with lock:
                live["now"] -= 1

    _run_threads(12, call)
    assert live["peak"] == 3
    assert gate.peak == 3
    assert gate.in_flight == 0
    assert gate.started == 12


def test_a_pause_holds_every_worker() -> None:
    gate = EndpointGate(concurrency=8)
    gate.pause(0.4)
    starts: list[float] = []
    began = time.monotonic()

    def call(_: int) -> None:
        with gate.slot():
            starts.append(time.monotonic() - began)

    _run_threads(4, call)
    assert len(starts) == 4
    assert min(starts) >= 0.35
    assert gate.pauses == 1


def test_a_shorter_pause_does_not_cut_a_longer_one() -> None:
    gate = EndpointGate()
    gate.pause(0.5)
    gate.pause(0.1)
    assert gate.paused_for() > 0.3


def test_rpm_spaces_the_starts() -> None:
    gate = EndpointGate(concurrency=10, rpm=600)  # one start every 0.1 s
    starts: list[float] = []
    lock = threading.Lock()

    def call(_: int) -> None:
        with gate.slot(), lock:
            starts.append(time.monotonic())

    _run_threads(5, call)
    starts.sort()
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == 5
    assert all(gap >= 0.08 for gap in gaps), gaps


def test_cancel_releases_waiting_workers() -> None:
    gate = EndpointGate(concurrency=1)
    errors: list[BaseException] = []
    holding = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with gate.slot():
            holding.set()
            release.wait(5)

    def waiter() -> None:
        try:
            with gate.slot():
                pass
        except Cancelled as exc:
            errors.append(exc)

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(5)
    second = threading.Thread(target=waiter)
    second.start()
    time.sleep(0.1)
    gate.cancel()
    second.join(timeout=2)
    release.set()
    first.join(timeout=2)
    assert not second.is_alive()
    assert len(errors) == 1


def test_gated_backend_bounds_any_backend() -> None:
    lock = threading.Lock()
    live = {"now": 0, "peak": 0}

    def slow(request: ChatRequest) -> str:
        with lock:
            live["now"] += 1
            live["peak"] = max(live["peak"], live["now"])
        time.sleep(0.02)
        with lock:
            live["now"] -= 1
        return '{"claims": []}'

    backend = GatedBackend(FakeBackend(responder=slow), EndpointGate(concurrency=2))
    request = ChatRequest(model="m", messages=[], schema_name="X", response_schema={})
    _run_threads(8, lambda _: None if backend.complete(request) else None)
    assert live["peak"] == 2


def test_a_429_with_retry_after_pauses_the_other_workers(fault_server: FaultServer) -> None:
    """Worker A gets `429 Retry-After: 1`; worker B, starting just after, must wait it out too
    although its own request would have been answered at once."""
    fault_server.default = "ok:{}"
    fault_server.script("429:1")
    gate = EndpointGate(concurrency=4)
    backend = OpenAIBackend(
        fault_server.url, None, timeout=5, structured="json_object", gate=gate, backoff_base=0.01
    )
    request = ChatRequest(
        model="m", messages=[{"role": "user", "content": "hi"}], schema_name="X", response_schema={}
    )
    took: dict[str, float] = {}

    def worker(name: str) -> None:
        began = time.monotonic()
        backend.complete(request)
        took[name] = time.monotonic() - began

    try:
        a = threading.Thread(target=worker, args=("a",))
        a.start()
        deadline = time.monotonic() + 5
        while gate.paused_for() <= 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until A has its 429
        left = gate.paused_for()
        assert left > 0.5
        b = threading.Thread(target=worker, args=("b",))
        b.start()
        a.join(timeout=10)
        b.join(timeout=10)
    finally:
        backend.close()
    assert gate.pauses == 1
    assert took["a"] >= 0.9
    assert took["b"] >= left - 0.1, took  # held by A's pause, not answered at once
    assert fault_server.count == 3


def test_client_figures_add_up_across_threads() -> None:
    backend = FakeBackend(responder=lambda r: '{"claims": []}')
    client = LLMClient(backend, None)
    per_thread = 40

    def calls(n: int) -> None:
        for i in range(per_thread):
            client.structured(
                [{"role": "user", "content": f"{n}-{i}"}],
                ExtractOutput,
                model="m",
                temperature=0,
                max_tokens=10,
                what="test",
            )

    _run_threads(16, calls)
    assert client.total.calls == 16 * per_thread
    assert sum(client.producers.values()) == 16 * per_thread


def test_a_fork_reports_its_own_figures_and_leaves_the_backend_open() -> None:
    backend = FakeBackend(responder=lambda r: '{"claims": []}')
    parent = LLMClient(backend, None)
    child = parent.fork()
    child.structured([], ExtractOutput, model="m", temperature=0, max_tokens=10, what="t")
    child.close()
    assert child.total.calls == 1
    assert parent.total.calls == 0
    assert not backend.closed
    parent.close()
    assert backend.closed


@pytest.mark.parametrize("concurrency", [0, None])
def test_no_bound_means_unbounded(concurrency: int | None) -> None:
    gate = EndpointGate(concurrency=concurrency)
    assert gate.concurrency is None
    with gate.slot(), gate.slot():
        assert gate.in_flight == 2


def test_one_request_asked_on_two_threads_is_sent_once(tmp_path: Path) -> None:
    """Two stories holding the same article ask the same request at the same moment: the
    second waits for the first's answer rather than sending it again."""
    started = threading.Event()

    def slow(request: ChatRequest) -> str:
        started.set()
        time.sleep(0.3)
        return '{"claims": []}'

    backend = FakeBackend(responder=slow)
    parent = LLMClient(backend, ResponseCache(tmp_path / "cache"))
    forks = [parent.fork(), parent.fork()]
    usages: list[Usage] = []

    def ask(n: int) -> None:
        if n:
            started.wait(5)
        _, usage = forks[n].structured(
            [{"role": "user", "content": "same"}],
            ExtractOutput,
            model="m",
            temperature=0,
            max_tokens=10,
            what="t",
        )
        usages.append(usage)

    _run_threads(2, ask)
    parent.close()
    assert len(backend.requests) == 1
    assert sorted((u.calls, u.cache_hits) for u in usages) == [(0, 1), (1, 0)]
