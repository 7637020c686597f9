"""The one real backend: any OpenAI-compatible endpoint, through the `openai` SDK.

The SDK's own retries are off (`max_retries=0`) so that tenacity alone decides what is retried,
how long we back off and when we give up; the caller then sees one `EndpointError` line that
never contains the API key or request headers.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionAssistantMessageParam,
    ChatCompletionDeveloperMessageParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.chat.completion_create_params import ResponseFormat
from openai.types.shared_params.response_format_json_schema import (
    JSONSchema,
    ResponseFormatJSONSchema,
)
from pydantic import SecretStr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)

from pipeline.errors import EndpointError
from pipeline.llm.base import ChatRequest, ChatResponse
from pipeline.llm.limits import EndpointGate

log = logging.getLogger(__name__)

BACKOFF_BASE = 1.0
"""Seconds of the first retry wait (doubling, with as much jitter), unless passed explicitly."""
BACKOFF_MAX = 20.0
"""Longest single wait between retries, unless passed explicitly."""

StructuredFormat = Literal["json_schema", "json_object"]

_TOKEN_PATTERNS = (
    re.compile(r"Bearer\s+\S+", re.IGNORECASE),
    re.compile(r"\bsk-[A-Za-z0-9_\-*.]{4,}"),
)


def display_url(url: str) -> str:
    """The endpoint as shown to users: any `user:password@` part is dropped."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url.rstrip("/")
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)).rstrip("/")


def _is_transient(exc: BaseException) -> bool:
    """Timeouts, refused/broken connections, 408, 429 and 5xx may pass; other 4xx will not."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 429) or exc.status_code >= 500
    return False


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`Retry-After` / `retry-after-ms`), if it said so."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _to_message(message: dict[str, str]) -> ChatCompletionMessageParam:
    """Typed SDK message params from our plain dicts; unknown roles are a programming error."""
    role, content = message["role"], message["content"]
    if role == "system":
        return ChatCompletionSystemMessageParam(role="system", content=content)
    if role == "user":
        return ChatCompletionUserMessageParam(role="user", content=content)
    if role == "assistant":
        return ChatCompletionAssistantMessageParam(role="assistant", content=content)
    if role == "developer":
        return ChatCompletionDeveloperMessageParam(role="developer", content=content)
    raise ValueError(f"unsupported chat message role {role!r}")


class OpenAIBackend:
    """`Backend` for OpenAI, vLLM, Ollama, llama.cpp's server and anything else that speaks
    `/v1/chat/completions`.

    `max_attempts` is the total number of tries for a transient failure (wire
    `Settings.max_retries` here); `max_elapsed` bounds the whole retry loop, including waits.
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None,
        *,
        timeout: float,
        structured: StructuredFormat,
        identity: str | None = None,
        max_attempts: int = 4,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        retry_after_cap: float = 30.0,
        max_elapsed: float | None = None,
        gate: EndpointGate | None = None,
    ) -> None:
        # `gate` is shared by every worker of a batch on this endpoint: it bounds the calls in
        # flight and spreads one worker's 429 Retry-After pause to all (pipeline/llm/limits.py).
        self._gate = gate
        self._base_url = base_url
        self._shown_url = display_url(base_url)
        self._secret = api_key.get_secret_value() if api_key is not None else ""
        self._timeout = timeout
        self._structured: StructuredFormat = structured
        self._identity = identity or base_url.rstrip("/")
        self._max_attempts = max(1, max_attempts)
        # Module defaults are read here, not at import, so tests can shorten every wait.
        backoff_base = BACKOFF_BASE if backoff_base is None else backoff_base
        backoff_max = BACKOFF_MAX if backoff_max is None else backoff_max
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._retry_after_cap = retry_after_cap
        self._max_elapsed = max_elapsed if max_elapsed is not None else 2 * timeout + 60.0
        # Exponential backoff plus uniform jitter, from the two strategies every tenacity since
        # 8.3 has with the same keywords (`wait_exponential_jitter` renamed its first one).
        self._jitter = wait_exponential(
            multiplier=backoff_base, max=backoff_max, exp_base=2
        ) + wait_random(0, backoff_base)
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=self._secret or "not-needed",
            timeout=timeout,
            max_retries=0,
        )

    @property
    def identity(self) -> str:
        return self._identity

    def close(self) -> None:
        self._client.close()

    def complete(self, request: ChatRequest) -> ChatResponse:
        """One answer for `request`, retrying transient failures; seconds include retries."""
        started = time.perf_counter()
        attempts = 0

        def once() -> ChatCompletion:
            nonlocal attempts
            attempts += 1
            if self._gate is None:
                return self._create(request)
            with self._gate.slot():
                try:
                    return self._create(request)
                except openai.APIStatusError as exc:
                    asked = _retry_after(exc) if exc.status_code == 429 else None
                    if asked is not None:
                        self._gate.pause(min(asked, self._retry_after_cap))
                    raise

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self._max_attempts) | stop_before_delay(self._max_elapsed),
            wait=self._wait,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            completion = retrying(once)
        except openai.APIStatusError as exc:
            if _is_transient(exc):
                raise EndpointError(self._unreachable(exc, attempts)) from None
            raise EndpointError(self._rejected(exc, request)) from None
        except openai.APIConnectionError as exc:
            raise EndpointError(self._unreachable(exc, attempts)) from None
        return self._to_response(completion, time.perf_counter() - started)

    # ---- one HTTP call ----------------------------------------------------------------------

    def _create(self, request: ChatRequest) -> ChatCompletion:
        response_format: ResponseFormat | openai.Omit = openai.omit
        extra_body: dict[str, object] | None = None
        if self._structured == "json_schema":
            response_format = ResponseFormatJSONSchema(
                type="json_schema",
                json_schema=JSONSchema(
                    name=request.schema_name, schema=request.response_schema, strict=False
                ),
            )
        else:
            # llama-cpp-python's grammar-constrained form. The SDK's types have no `schema` key
            # here, so it travels in extra_body, which the SDK merges over typed parameters.
            extra_body = {
                "response_format": {"type": "json_object", "schema": request.response_schema}
            }
        return self._client.chat.completions.create(
            model=request.model,
            messages=[_to_message(m) for m in request.messages],
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            seed=request.seed if request.seed is not None else openai.omit,
            response_format=response_format,
            extra_body=extra_body,
        )

    def _to_response(self, completion: object, seconds: float) -> ChatResponse:
        """Map the SDK object; a body that is not a chat completion is a configuration error."""
        choices = getattr(completion, "choices", None)
        if not isinstance(completion, ChatCompletion) or not choices:
            raise EndpointError(
                f"endpoint {self._shown_url} did not return a chat completion "
                f"(got {self._short(str(completion), 80)!r}); is it an OpenAI-compatible /v1 URL?"
            )
        choice = choices[0]
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None) or ""
        usage = getattr(completion, "usage", None)
        return ChatResponse(
            content=content,
            finish_reason=getattr(choice, "finish_reason", None) or "stop",
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            seconds=seconds,
            produced_by=self._producer(completion),
        )

    def _producer(self, completion: ChatCompletion) -> str:
        """The served model and host (never the path or credentials), plus the server's own
        build fingerprint when it sends one."""
        host = urlsplit(self._base_url).hostname or "endpoint"
        fingerprint = getattr(completion, "system_fingerprint", None)
        label = f"{completion.model or '?'} at {host}"
        return f"{label} ({fingerprint})" if fingerprint else label

    # ---- retry policy -----------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, unless the server said how long (capped)."""
        exc = state.outcome.exception() if state.outcome is not None else None
        asked = _retry_after(exc)
        if asked is not None:
            return min(asked, self._retry_after_cap)
        return float(self._jitter(state))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "model endpoint %s: %s; retrying in %.1f s (attempt %d of %d)",
            self._shown_url,
            self._reason(exc),
            wait,
            state.attempt_number + 1,
            self._max_attempts,
        )

    # ---- one-line, secret-free messages -------------------------------------------------------

    def _redact(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, "***")
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub("***", text)
        return text

    def _short(self, text: str, limit: int = 200) -> str:
        text = " ".join(self._redact(text).split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def _detail(self, exc: openai.APIStatusError) -> str:
        """The server's own error message, not the SDK's dump of the whole body."""
        body = exc.body
        if isinstance(body, dict):
            message = body.get("message") or body.get("detail") or body.get("error")
            if isinstance(message, dict):
                message = message.get("message")
            if message:
                return self._short(str(message))
        if isinstance(body, str) and body.strip():
            return self._short(body)
        return exc.response.reason_phrase or ""

    def _reason(self, exc: BaseException | None) -> str:
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {self._timeout:g} s"
        if isinstance(exc, openai.APIConnectionError):
            cause: BaseException | None = exc
            while cause is not None:
                if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
                    return "connection refused"
                cause = cause.__cause__ or cause.__context__
            root = exc.__cause__
            return "connection error" + (f" ({self._short(str(root), 120)})" if root else "")
        if isinstance(exc, openai.APIStatusError):
            kind = {408: "request timeout", 429: "rate limited"}.get(
                exc.status_code, "server error"
            )
            detail = self._detail(exc)
            return f"{kind} {exc.status_code}" + (f": {detail}" if detail else "")
        return type(exc).__name__ if exc is not None else "unknown error"

    def _unreachable(self, exc: BaseException, attempts: int) -> str:
        plural = "attempt" if attempts == 1 else "attempts"
        return (
            f"cannot reach model endpoint {self._shown_url}: {self._reason(exc)} "
            f"(after {attempts} {plural})"
        )

    def _rejected(self, exc: openai.APIStatusError, request: ChatRequest) -> str:
        detail = self._detail(exc)
        hint = ""
        if exc.status_code in (401, 403):
            hint = " (check OPENAI_API_KEY)"
        elif exc.status_code == 404:
            hint = f" (check --model {request.model!r} and --base-url {self._shown_url})"
        line = f"endpoint rejected the request: {exc.status_code}"
        return line + (f" {detail}" if detail else "") + hint
