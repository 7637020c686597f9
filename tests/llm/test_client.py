"""LLMClient: validation, re-asks, caching of valid answers only, usage; with FakeBackend and
with the real SDK against the fault server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fault_server import BADSCHEMA_CONTENT, NOTJSON_CONTENT, TRUNCATED_CONTENT, FaultServer
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import EndpointError, ModelOutputError
from pipeline.llm.base import ChatRequest, ChatResponse, Usage
from pipeline.llm.cache import ResponseCache
from pipeline.llm.client import TRUNCATED, UNRECORDED, LLMClient, strip_fences
from pipeline.llm.fake import FakeBackend
from pipeline.llm.openai_backend import OpenAIBackend


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2)
    n: int


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    items: list[Item] = Field(default_factory=list, max_length=3)


GOOD = '{"title": "Flood", "items": [{"name": "river", "n": 3}]}'
MESSAGES = [
    {"role": "system", "content": "Return JSON."},
    {"role": "user", "content": "Summarise article 2."},
]


def ask(client: LLMClient, messages: list[dict[str, str]] | None = None) -> tuple[Answer, Usage]:
    return client.structured(
        messages or MESSAGES,
        Answer,
        model="m",
        temperature=0.0,
        max_tokens=64,
        what="extract: article 2 (The Independent)",
    )


@pytest.fixture
def cache(tmp_path: Path) -> ResponseCache:
    return ResponseCache(tmp_path / "cache")


def test_valid_answer(cache: ResponseCache) -> None:
    fake = FakeBackend([GOOD])
    answer, usage = LLMClient(fake, cache).structured(
        MESSAGES, Answer, model="m", temperature=0.3, max_tokens=99, what="x"
    )
    assert answer.items[0].n == 3
    assert (usage.calls, usage.cache_hits, usage.reasks) == (1, 0, 0)
    assert usage.completion_tokens == len(GOOD) // 4 and usage.prompt_tokens > 0
    [request] = fake.requests
    assert request.schema_name == "Answer"
    assert request.response_schema == Answer.model_json_schema()
    assert (request.model, request.temperature, request.max_tokens) == ("m", 0.3, 99)
    assert request.messages == MESSAGES


@pytest.mark.parametrize(
    "wrapped", [f"```json\n{GOOD}\n```", f"```\n{GOOD}```", f"  {GOOD}\n", f"```JSON {GOOD} ```"]
)
def test_fences_are_stripped(wrapped: str) -> None:
    assert strip_fences(wrapped) == GOOD
    answer, _ = ask(LLMClient(FakeBackend([wrapped]), None))
    assert answer.title == "Flood"


def test_reask_carries_bad_output_and_validation_error() -> None:
    bad = '{"title": "Flood", "items": [{"name": "r", "n": "three"}], "extra": 1}'
    fake = FakeBackend([bad, GOOD])
    answer, usage = ask(LLMClient(fake, None))
    assert answer.title == "Flood"
    assert (usage.calls, usage.reasks) == (2, 1)
    second = fake.requests[1].messages
    assert second[:2] == MESSAGES
    assert second[2] == {"role": "assistant", "content": bad}
    feedback = second[3]["content"]
    assert second[3]["role"] == "user"
    assert "items.0.name" in feedback and "at least 2 characters" in feedback
    assert "items.0.n" in feedback and "extra" in feedback
    assert "Answer" in feedback and "\n" not in feedback


def test_reask_reports_only_first_three_errors() -> None:
    bad = json.dumps({"title": 1, "items": [{"name": 1, "n": "x"}, {"name": 2, "n": "y"}]})
    fake = FakeBackend([bad, GOOD])
    ask(LLMClient(fake, None))
    feedback = fake.requests[1].messages[3]["content"]
    assert feedback.count(": ") >= 3 and "and 2 more" in feedback


def test_truncated_answer_is_reasked_shorter() -> None:
    fake = FakeBackend([ChatResponse(content=GOOD[:20], finish_reason="length"), GOOD])
    _, usage = ask(LLMClient(fake, None))
    assert usage.reasks == 1
    assert fake.requests[1].messages[-1] == {"role": "user", "content": TRUNCATED}


def test_length_but_valid_is_accepted() -> None:
    fake = FakeBackend([ChatResponse(content=GOOD, finish_reason="length")])
    answer, usage = ask(LLMClient(fake, None))
    assert answer.title == "Flood" and usage.calls == 1


def test_gives_up_with_one_line_error_and_caches_nothing(cache: ResponseCache) -> None:
    fake = FakeBackend(["not json", '{"title": 5}', '{"items": []}'])
    client = LLMClient(fake, cache, max_reasks=2)
    with pytest.raises(ModelOutputError) as caught:
        ask(client)
    error = caught.value
    assert str(error).startswith(
        "extract: article 2 (The Independent): model output did not fit Answer after 3 attempts: "
    )
    assert "title" in str(error) and "\n" not in str(error)
    assert error.attempts == 3 and error.last_output == '{"items": []}'
    assert cache.stats()["entries"] == 0
    assert (client.total.calls, client.total.reasks) == (3, 2)


def test_max_reasks_zero_means_one_attempt() -> None:
    with pytest.raises(ModelOutputError, match="after 1 attempts: empty answer"):
        ask(LLMClient(FakeBackend([""]), None, max_reasks=0))


def test_valid_answer_is_cached_under_original_key(cache: ResponseCache) -> None:
    first = FakeBackend(["nope", GOOD], name="a")
    _, usage = ask(LLMClient(first, cache))
    assert usage.calls == 2

    second = FakeBackend([], name="a")
    answer, usage = ask(LLMClient(second, cache))
    assert answer.title == "Flood"
    assert second.requests == []
    assert (usage.calls, usage.cache_hits, usage.prompt_tokens, usage.completion_tokens) == (
        0,
        1,
        0,
        0,
    )
    assert usage.seconds == 0


def test_other_identity_does_not_share_answers(cache: ResponseCache) -> None:
    ask(LLMClient(FakeBackend([GOOD], name="a"), cache))
    other = FakeBackend([GOOD], name="b")
    _, usage = ask(LLMClient(other, cache))
    assert usage.calls == 1


def test_refresh_calls_again_and_overwrites(cache: ResponseCache) -> None:
    ask(LLMClient(FakeBackend([GOOD]), cache))
    newer = '{"title": "Newer"}'
    fake = FakeBackend([newer])
    answer, usage = ask(LLMClient(fake, cache, refresh=True))
    assert answer.title == "Newer" and usage.calls == 1
    answer, usage = ask(LLMClient(FakeBackend([]), cache))
    assert answer.title == "Newer" and usage.cache_hits == 1


def test_cached_entry_that_no_longer_validates_is_replaced(cache: ResponseCache) -> None:
    request = ChatRequest(
        model="m",
        messages=MESSAGES,
        schema_name="Answer",
        response_schema=Answer.model_json_schema(),
        temperature=0.0,
        max_tokens=64,
    )
    key = cache.key(request, "fake:fake")
    cache.set(key, ChatResponse(content='{"title": 1}'))
    fake = FakeBackend([GOOD])
    _, usage = ask(LLMClient(fake, cache))
    assert usage.calls == 1 and usage.cache_hits == 0
    stored = cache.get(key)
    assert stored is not None and stored.content == GOOD


def test_endpoint_error_propagates_and_nothing_is_cached(cache: ResponseCache) -> None:
    fake = FakeBackend([EndpointError("cannot reach model endpoint fake: down (after 4 attempts)")])
    with pytest.raises(EndpointError, match="after 4 attempts"):
        ask(LLMClient(fake, cache))
    assert cache.stats()["entries"] == 0


def test_responder_and_exhausted_script() -> None:
    fake = FakeBackend(responder=lambda request: json.dumps({"title": request.model}))
    answer, _ = ask(LLMClient(fake, None))
    assert answer.title == "m"
    with pytest.raises(EndpointError, match="no scripted answer left"):
        ask(LLMClient(FakeBackend(), None))


def test_close_closes_backend_and_cache(cache: ResponseCache) -> None:
    fake = FakeBackend()
    LLMClient(fake, cache).close()
    assert fake.closed


def test_total_accumulates_over_calls() -> None:
    client = LLMClient(FakeBackend([GOOD, "bad", GOOD]), None)
    ask(client, [{"role": "user", "content": "one"}])
    ask(client, [{"role": "user", "content": "two"}])
    assert (client.total.calls, client.total.reasks) == (3, 1)


# ---- through the real SDK and a real socket ---------------------------------------------------


def real_client(server: FaultServer, cache: ResponseCache | None) -> LLMClient:
    backend = OpenAIBackend(
        server.url,
        None,
        timeout=0.5,
        structured="json_object",
        max_attempts=3,
        backoff_base=0.01,
        backoff_max=0.02,
    )
    return LLMClient(backend, cache)


@pytest.mark.parametrize(
    ("fault", "bad_content"),
    [
        ("notjson", NOTJSON_CONTENT),
        ("badschema", BADSCHEMA_CONTENT),
        ("length", TRUNCATED_CONTENT),
    ],
)
def test_model_faults_are_reasked_over_http(
    fault_server: FaultServer, cache: ResponseCache, fault: str, bad_content: str
) -> None:
    fault_server.script(fault, f"ok:{GOOD}")
    answer, usage = ask(real_client(fault_server, cache))
    assert answer.title == "Flood"
    assert (usage.calls, usage.reasks) == (2, 1)
    assert fault_server.count == 2
    second = fault_server.chat_requests[1].body
    assert second is not None
    assert second["messages"][2] == {"role": "assistant", "content": bad_content}
    if fault == "length":
        assert second["messages"][3]["content"] == TRUNCATED
    else:
        assert "did not fit" in second["messages"][3]["content"]


@pytest.mark.parametrize("fault", ["500", "503", "429", "drop", "hang:2"])
def test_transport_faults_are_retried_not_reasked(
    fault_server: FaultServer, cache: ResponseCache, fault: str
) -> None:
    fault_server.script(fault, f"ok:{GOOD}")
    _, usage = ask(real_client(fault_server, cache))
    assert (usage.calls, usage.reasks) == (1, 0)
    assert fault_server.count == 2


def test_model_keeps_failing_over_http(fault_server: FaultServer, cache: ResponseCache) -> None:
    fault_server.script("notjson", "badschema", "length")
    with pytest.raises(ModelOutputError) as caught:
        ask(real_client(fault_server, cache))
    assert "after 3 attempts: answer cut off at the token limit" in str(caught.value)
    assert caught.value.last_output == TRUNCATED_CONTENT
    assert cache.stats()["entries"] == 0


def test_second_run_makes_only_the_missing_calls(
    fault_server: FaultServer, cache: ResponseCache
) -> None:
    """Run 1: two articles succeed (one after a re-ask), the third dies on a dead endpoint.
    Run 2, healthy: only the third article reaches the server."""
    articles = [[{"role": "user", "content": f"article {i}"}] for i in (1, 2, 3)]
    fault_server.script(f"ok:{GOOD}", "badschema", f"ok:{GOOD}", "503", "503", "503")
    client = real_client(fault_server, cache)
    ask(client, articles[0])
    ask(client, articles[1])
    with pytest.raises(EndpointError, match=r"server error 503.*\(after 3 attempts\)"):
        ask(client, articles[2])
    assert fault_server.count == 6
    assert cache.stats()["entries"] == 2

    fault_server.default = f"ok:{GOOD}"
    again = real_client(fault_server, cache)
    for messages in articles:
        ask(again, messages)
    assert fault_server.count == 7
    assert (again.total.calls, again.total.cache_hits) == (1, 2)

    third = real_client(fault_server, cache)
    for messages in articles:
        ask(third, messages)
    assert fault_server.count == 7
    assert (third.total.calls, third.total.cache_hits) == (0, 3)


def test_truncated_answer_keeps_its_complete_items_without_a_reask() -> None:
    from pipeline.llm.base import ChatResponse
    from pipeline.llm.client import LLMClient
    from pipeline.llm.fake import FakeBackend
    from pipeline.schema import BriefOutput

    cut = (
        '{"title": "Flood", "sentences": [{"groups": ["g1"], "text": "The river rose."}, '
        '{"groups": ["g2"], "text": "Two bridges were'
    )
    backend = FakeBackend([ChatResponse(content=cut, finish_reason="length")])
    client = LLMClient(backend, None)
    out, usage = client.structured(
        [{"role": "user", "content": "x"}], BriefOutput,
        model="m", temperature=0, max_tokens=10, what="brief",
    )  # fmt: skip
    assert [s.text for s in out.sentences] == ["The river rose."]
    assert usage.calls == 1 and usage.reasks == 0


def test_answers_count_the_build_that_wrote_them_also_from_the_cache(
    cache: ResponseCache,
) -> None:
    class Labelled(FakeBackend):
        def complete(self, request: ChatRequest) -> ChatResponse:
            return super().complete(request).model_copy(update={"produced_by": "build A"})

    first = LLMClient(Labelled([GOOD]), cache)
    ask(first)
    assert dict(first.producers) == {"build A": 1}
    # Served from the cache by a client whose backend would say something else.
    second = LLMClient(FakeBackend([]), cache)
    ask(second)
    assert dict(second.producers) == {"build A": 1}


def test_answer_without_a_recorded_build_is_counted_as_such() -> None:
    client = LLMClient(FakeBackend([GOOD]), None)
    ask(client)
    assert list(client.producers) == [UNRECORDED]
