"""A scripted model: real package code, so tests and `--base-url fake://...` share one backend.

It answers from a list (consumed in order) or from a function of the request, records every
request, and estimates tokens as characters // 4 so reports show plausible figures.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from pipeline.errors import EndpointError
from pipeline.llm.base import ChatRequest, ChatResponse

Scripted = str | ChatResponse | BaseException
Responder = Callable[[ChatRequest], str | ChatResponse]


def estimate_tokens(text: str) -> int:
    return len(text) // 4


class FakeBackend:
    """`Backend` that replays `script` (str, ChatResponse, or an exception to raise), then falls
    back to `responder` if given; running out of both is an `EndpointError`."""

    def __init__(
        self,
        script: Iterable[Scripted] = (),
        *,
        responder: Responder | None = None,
        name: str = "fake",
    ) -> None:
        self._script: deque[Scripted] = deque(script)
        self._responder = responder
        self._name = name
        self.requests: list[ChatRequest] = []
        self.closed = False

    @property
    def identity(self) -> str:
        return f"fake:{self._name}"

    @property
    def remaining(self) -> int:
        """Scripted answers not yet consumed."""
        return len(self._script)

    def add(self, *answers: Scripted) -> None:
        """Queue more scripted answers."""
        self._script.extend(answers)

    def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request.model_copy(deep=True))
        if self._script:
            answer: Scripted | str | ChatResponse = self._script.popleft()
        elif self._responder is not None:
            answer = self._responder(request)
        else:
            raise EndpointError(
                f"fake model {self._name!r} has no scripted answer left "
                f"(request {len(self.requests)})"
            )
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, ChatResponse):
            return answer
        prompt = "".join(m.get("content", "") for m in request.messages)
        return ChatResponse(
            content=answer,
            finish_reason="stop",
            prompt_tokens=estimate_tokens(prompt),
            completion_tokens=estimate_tokens(answer),
        )

    def close(self) -> None:
        self.closed = True
