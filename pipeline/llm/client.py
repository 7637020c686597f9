"""Structured calls: schema in, validated pydantic object out, with cache and bounded re-asks.

Network retries live in the backend; here a *model* mistake (invalid JSON, schema violation, a
truncated answer) is answered by showing the model its own output and the validation error.
Only answers that validate are cached, under the original request's key, so an identical run
replays them without a single call.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.errors import EndpointError, ModelOutputError
from pipeline.llm.base import Backend, ChatRequest, ChatResponse, Usage
from pipeline.llm.cache import ResponseCache

T = TypeVar("T", bound=BaseModel)

TRUNCATED = "Your answer was cut off; answer again, shorter, with fewer items."
CUT_OFF = "answer cut off at the token limit"
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def strip_fences(text: str) -> str:
    """Small models like to wrap JSON in ```json fences despite being told not to."""
    match = _FENCE.match(text)
    return (match.group(1) if match else text).strip()


def describe_errors(error: ValidationError, limit: int = 3) -> str:
    """The first few pydantic errors as one short line a model (and a human) can act on."""
    parts: list[str] = []
    for item in error.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return " ".join("; ".join(parts).split())


UNRECORDED = "not recorded (cached before answers named their build)"


class _Flights:
    """Requests being asked right now, by cache key, shared by a client and its forks: a thread
    asking what another is already asking waits for that answer (then in the cache) instead of
    sending the same request twice; e.g. one wire article in two stories of a batch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asking: dict[str, threading.Event] = {}

    @contextmanager
    def claim(self, key: str) -> Iterator[bool]:
        """True: this thread asks. False: another was asking, and has finished."""
        with self._lock:
            other = self._asking.get(key)
            if other is None:
                mine = self._asking[key] = threading.Event()
        if other is not None:
            other.wait()
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                del self._asking[key]
            mine.set()


class LLMClient:
    """The only way stages talk to a model. `total` sums usage over every call it made."""

    def __init__(
        self,
        backend: Backend,
        cache: ResponseCache | None,
        *,
        refresh: bool = False,
        max_reasks: int = 2,
        seed: int = 0,
        temperature: float | None = None,
    ) -> None:
        # `seed`/`temperature` (None = the prompt's) let evals repeat a run with other sampling.
        self.seed = seed
        self.temperature = temperature
        self.backend = backend
        self.cache = cache
        self.refresh = refresh
        self.max_reasks = max(0, max_reasks)
        self.total = Usage()
        # How many of the answers this client used came from each build/endpoint (cached or not).
        self.producers: Counter[str] = Counter()
        # `total` and `producers` are updated from several threads when calls run concurrently.
        self._lock = threading.Lock()
        self._owns_backend = True
        self._flights = _Flights()

    def fork(self) -> LLMClient:
        """A client on the same backend and cache with its own `total` and `producers`, so each
        story of a batch reports its own figures; closing it leaves the shared parts open."""
        child = LLMClient(
            self.backend,
            self.cache,
            refresh=self.refresh,
            max_reasks=self.max_reasks,
            seed=self.seed,
            temperature=self.temperature,
        )
        child._owns_backend = False
        child._flights = self._flights
        return child

    def _produced(self, by: str | None) -> None:
        with self._lock:
            self.producers[by or UNRECORDED] += 1

    def structured(
        self,
        messages: list[dict[str, str]],
        output_type: type[T],
        *,
        model: str,
        temperature: float,
        max_tokens: int,
        what: str,
    ) -> tuple[T, Usage]:
        """One validated `output_type`, from the cache or the model (re-asked if needed)."""
        request = ChatRequest(
            model=model,
            messages=[dict(m) for m in messages],
            schema_name=output_type.__name__,
            response_schema=output_type.model_json_schema(),
            temperature=temperature if self.temperature is None else self.temperature,
            max_tokens=max_tokens,
            seed=self.seed,
        )
        usage = Usage()
        try:
            return self._structured(request, output_type, usage, what), usage
        finally:
            with self._lock:
                self.total.add(usage)

    def _cached(self, key: str, output_type: type[T], usage: Usage) -> T | None:
        """The stored answer for `key` if it still validates (else it is replaced later)."""
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is None:
            return None
        parsed, _ = _parse(hit, output_type)
        if parsed is not None:
            usage.cache_hits += 1
            self._produced(hit.produced_by)
        return parsed

    def _structured(self, request: ChatRequest, output_type: type[T], usage: Usage, what: str) -> T:
        if self.cache is None:
            return self._ask(request, output_type, usage, what, "")
        key = self.cache.key(request, self.backend.identity)
        hit = None if self.refresh else self._cached(key, output_type, usage)
        if hit is not None:
            return hit
        with self._flights.claim(key) as first:
            if not first:  # the same request was just asked on another thread: its answer
                hit = self._cached(key, output_type, usage)
                if hit is not None:
                    return hit
            return self._ask(request, output_type, usage, what, key)

    def _ask(
        self, request: ChatRequest, output_type: type[T], usage: Usage, what: str, key: str
    ) -> T:
        """The model's validated answer, re-asked on mistakes; cached under `key`."""
        attempts = 1 + self.max_reasks
        current = request
        error = ""
        last_output = ""
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                usage.reasks += 1
            try:
                response = self.backend.complete(current)
            except EndpointError as exc:
                # The backend knows the endpoint, not the task: say which stage and article.
                raise EndpointError(f"{what}: {exc}") from exc
            usage.calls += 1
            usage.prompt_tokens += response.prompt_tokens
            usage.completion_tokens += response.completion_tokens
            usage.seconds += response.seconds
            parsed, error = _parse(response, output_type)
            if parsed is not None:
                if self.cache is not None:
                    self.cache.set(key, response)
                self._produced(response.produced_by)
                return parsed
            last_output = response.content
            current = current.model_copy(
                update={
                    "messages": [
                        *current.messages,
                        {"role": "assistant", "content": response.content},
                        {"role": "user", "content": _reask(error, request.schema_name)},
                    ]
                }
            )
        raise ModelOutputError(
            f"{what}: model output did not fit {request.schema_name} after {attempts} attempts: "
            f"{error}",
            attempts=attempts,
            last_output=last_output,
        )

    def close(self) -> None:
        """Release the backend and the cache; the client is not usable afterwards. A fork
        leaves them to the client it came from."""
        if not self._owns_backend:
            return
        try:
            self.backend.close()
        finally:
            if self.cache is not None:
                self.cache.close()


def _closers(text: str) -> str | None:
    """The brackets that would close `text`, or None if it ends inside a string."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append("]" if ch == "[" else "}")
        elif ch in "]}":
            if not stack:
                return None
            stack.pop()
    return None if in_string else "".join(reversed(stack))


def salvage_truncated(text: str, output_type: type[T], tries: int = 40) -> T | None:
    """A cut-off answer's complete part: drop the unfinished list item, close the brackets.

    Deterministic, so a cached truncated answer parses the same way on every run. Costs no
    call, where a re-ask would cost a whole generation and likely be cut off again.
    """
    end = len(text)
    for _ in range(tries):
        end = text.rfind("}", 0, end)
        if end < 0:
            return None
        head = text[: end + 1]
        closers = _closers(head)
        if closers:
            try:
                return output_type.model_validate_json(head + closers)
            except ValidationError:
                pass
    return None


def _parse(response: ChatResponse, output_type: type[T]) -> tuple[T | None, str]:
    """(object, "") when the answer validates, else (None, a one-line reason).

    A truncated answer (`finish_reason == "length"`) that still validates is accepted: it is
    complete by the schema's own standard.
    """
    text = strip_fences(response.content)
    try:
        return output_type.model_validate_json(text), ""
    except ValidationError as exc:
        if response.finish_reason == "length":
            salvaged = salvage_truncated(text, output_type)
            if salvaged is not None:
                return salvaged, ""
            return None, CUT_OFF
        if not text:
            return None, "empty answer"
        return None, describe_errors(exc)


def _reask(error: str, schema_name: str) -> str:
    if error == CUT_OFF:
        return TRUNCATED
    return (
        f"Your answer did not fit the required {schema_name} JSON schema: {error}. "
        "Answer again with only the corrected JSON object."
    )
