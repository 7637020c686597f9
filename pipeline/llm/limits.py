"""How many calls go to one endpoint at once, and how fast: shared by every worker of a batch.

One `EndpointGate` stands for one endpoint. Every attempt of every call passes through
`gate.slot()`, which (1) bounds the calls in flight across the whole batch (`--concurrency`),
(2) waits while the endpoint asked us to back off (a 429 with `Retry-After` received by any
worker pauses them all, since the limit is the endpoint's, not the worker's), and (3) spaces the
starts of calls so that no more than `--rpm` begin in any minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.errors import PipelineError
from pipeline.llm.base import Backend, ChatRequest, ChatResponse

_POLL = 0.25
"""Longest single wait, so a cancelled batch notices within a fraction of a second."""


class Cancelled(PipelineError):
    """The batch was stopped (Ctrl-C): no further call may start."""


class EndpointGate:
    """Concurrency bound, shared pause and request-rate cap for one endpoint; thread-safe.

    `concurrency` None or 0 means unbounded, `rpm` None or 0 means no rate cap.
    """

    def __init__(self, concurrency: int | None = None, rpm: float | None = None) -> None:
        self.concurrency = concurrency if concurrency and concurrency > 0 else None
        self.rpm = rpm if rpm and rpm > 0 else None
        self._cond = threading.Condition()
        self._in_flight = 0
        self._paused_until = 0.0
        self._next_start = 0.0
        self._cancelled = False
        # For reports and tests: how often the endpoint paused everyone, the most calls seen in
        # flight at once, and how many calls started.
        self.pauses = 0
        self.peak = 0
        self.started = 0

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    def pause(self, seconds: float) -> None:
        """Hold every new call for `seconds` from now (never shortens a longer pause)."""
        if seconds <= 0:
            return
        with self._cond:
            until = time.monotonic() + seconds
            if until > self._paused_until:
                self._paused_until = until
                self.pauses += 1

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when none)."""
        with self._cond:
            return max(0.0, self._paused_until - time.monotonic())

    def cancel(self) -> None:
        """Make every waiting and future `slot()` raise `Cancelled`."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a free slot, the end of any pause and the next rate-limited start."""
        with self._cond:
            while True:
                if self._cancelled:
                    raise Cancelled("batch cancelled")
                if self.concurrency is None or self._in_flight < self.concurrency:
                    break
                self._cond.wait(_POLL)
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        try:
            self._wait_turn()
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify()

    def _wait_turn(self) -> None:
        """Sleep through any pause, then reserve the next start time the rate cap allows."""
        with self._cond:
            while True:
                if self._cancelled:
                    raise Cancelled("batch cancelled")
                now = time.monotonic()
                pause_left = self._paused_until - now
                if pause_left > 0:
                    self._cond.wait(min(pause_left, _POLL))
                    continue
                start = now
                if self.rpm is not None:
                    start = max(now, self._next_start)
                    self._next_start = start + 60.0 / self.rpm
                self.started += 1
                break
        self._sleep_until(start)

    def _sleep_until(self, deadline: float) -> None:
        while True:
            with self._cond:
                if self._cancelled:
                    raise Cancelled("batch cancelled")
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(min(left, _POLL))


class GatedBackend:
    """Any backend with each `complete()` passed through a gate (for backends that do not take
    a gate themselves: the mock model, the embedded model)."""

    def __init__(self, inner: Backend, gate: EndpointGate) -> None:
        self.inner = inner
        self.gate = gate

    @property
    def identity(self) -> str:
        return self.inner.identity

    def complete(self, request: ChatRequest) -> ChatResponse:
        with self.gate.slot():
            return self.inner.complete(request)

    def close(self) -> None:
        self.inner.close()
