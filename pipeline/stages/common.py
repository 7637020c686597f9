"""What every stage needs: the client protocol, a call helper and a result type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pydantic import BaseModel

from pipeline.llm.base import Usage
from pipeline.prompts import Prompt

T = TypeVar("T", bound=BaseModel)


class StructuredClient(Protocol):
    """The slice of `LLMClient` that stages use; lets tests pass any fake."""

    def structured(
        self,
        messages: list[dict[str, str]],
        output_type: type[T],
        *,
        model: str,
        temperature: float,
        max_tokens: int,
        what: str,
    ) -> tuple[T, Usage]: ...


@dataclass
class StageContext:
    """A stage's fixed inputs: the prompt, the client and the model name."""

    prompt: Prompt
    client: StructuredClient
    model: str
    usage: Usage = field(default_factory=Usage)

    def ask(self, output_type: type[T], what: str, **variables: object) -> T:
        """Render the prompt, call the model, add the cost to this stage's usage."""
        messages = self.prompt.render(**variables)
        result, usage = self.client.structured(
            messages,
            output_type,
            model=self.model,
            temperature=self.prompt.meta.temperature,
            max_tokens=self.prompt.meta.max_tokens,
            what=what,
        )
        self.usage.add(usage)
        return result


def defang(text: str) -> str:
    """Article text must not be able to close the delimiters we wrap it in."""
    return text.replace("<", "\u2039").replace(">", "\u203a")
