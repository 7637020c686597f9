"""Many writers on one response cache: threads and processes at once, one entry per request,
no answer lost (what `pipeline batch` relies on)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from pipeline.llm.base import ChatRequest, ChatResponse
from pipeline.llm.cache import ResponseCache

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipeline.llm.base import ChatRequest, ChatResponse
    from pipeline.llm.cache import ResponseCache

    directory, who, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    cache = ResponseCache(directory)
    for n in range(count):
        for name in (f"{who}-{n}", f"shared-{n}"):
            request = ChatRequest(model="m", messages=[{"role": "user", "content": name}],
                                  schema_name="X", response_schema={})
            cache.set(cache.key(request, "test"), ChatResponse(content=name))
    cache.close()
    assert not cache.warnings, cache.warnings
    """
)


def _request(name: str) -> ChatRequest:
    return ChatRequest(
        model="m", messages=[{"role": "user", "content": name}], schema_name="X", response_schema={}
    )


def test_threads_and_processes_write_one_cache(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    per_writer = 60
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(directory), f"p{i}", str(per_writer)])
        for i in range(3)
    ]
    cache = ResponseCache(directory)

    def write(who: str) -> None:
        for n in range(per_writer):
            for name in (f"{who}-{n}", f"shared-{n}"):
                cache.set(cache.key(_request(name), "test"), ChatResponse(content=name))

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for process in processes:
        assert process.wait(timeout=60) == 0
    writers = [f"p{i}" for i in range(3)] + [f"t{i}" for i in range(4)]
    names = [f"{w}-{n}" for w in writers for n in range(per_writer)]
    names += [f"shared-{n}" for n in range(per_writer)]
    # One entry per distinct request (the shared ones were written 7 times), none lost.
    assert cache.stats()["entries"] == len(names)
    for name in names:
        hit = cache.get(cache.key(_request(name), "test"))
        assert hit is not None and hit.content == name
    assert not cache.warnings
    cache.close()
