"""ResponseCache: stable keys, JSON on disk, zero-token hits, survival of damage and sharing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import diskcache
import pytest
from pydantic import SecretStr

from pipeline.errors import InputError
from pipeline.llm.base import ChatRequest, ChatResponse
from pipeline.llm.cache import CacheSource, ResponseCache, request_key
from pipeline.llm.openai_backend import OpenAIBackend

ROOT = Path(__file__).resolve().parents[2]

SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
    "required": ["title"],
    "title": "Answer",
}


def make_request(**overrides: object) -> ChatRequest:
    fields: dict[str, object] = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Réponds en JSON."},
            {"role": "user", "content": "Title?"},
        ],
        "schema_name": "Answer",
        "response_schema": SCHEMA,
        "temperature": 0.0,
        "max_tokens": 128,
        "seed": 0,
    }
    fields.update(overrides)
    return ChatRequest.model_validate(fields)


def test_key_is_stable_across_dict_order_and_int_float() -> None:
    a = make_request()
    reordered = make_request(
        messages=[{"content": m["content"], "role": m["role"]} for m in a.messages],
        response_schema=dict(reversed(list(SCHEMA.items()))),
        temperature=0,
    )
    assert request_key(a, "http://x/v1") == request_key(reordered, "http://x/v1")
    assert len(request_key(a, "http://x/v1")) == 64


def test_key_is_stable_across_processes() -> None:
    code = (
        "import sys\n"
        "from pipeline.llm.base import ChatRequest\n"
        "from pipeline.llm.cache import request_key\n"
        "print(request_key(ChatRequest.model_validate_json(sys.argv[1]), 'http://x/v1'))\n"
    )
    request = make_request()
    out = subprocess.run(
        [sys.executable, "-c", code, request.model_dump_json()],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == request_key(request, "http://x/v1")


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"messages": [{"role": "user", "content": "Title!"}]},
        {"response_schema": {**SCHEMA, "required": ["title", "n"]}},
        {"schema_name": "Other"},
        {"temperature": 0.7},
        {"max_tokens": 129},
        {"seed": 1},
        {"seed": None},
    ],
)
def test_key_changes_with_anything_that_decides_the_answer(change: dict[str, object]) -> None:
    assert request_key(make_request(**change), "id") != request_key(make_request(), "id")


def test_key_changes_with_identity() -> None:
    assert request_key(make_request(), "embedded:a:1") != request_key(
        make_request(), "embedded:b:1"
    )


def test_key_ignores_api_key_and_timeouts() -> None:
    url = "http://127.0.0.1:9/v1"
    one = OpenAIBackend(url, SecretStr("sk-one"), timeout=5, structured="json_schema")
    two = OpenAIBackend(
        url, None, timeout=600, structured="json_object", max_attempts=9, backoff_base=0.5
    )
    assert one.identity == two.identity
    assert ResponseCache.key(make_request(), one.identity) == ResponseCache.key(
        make_request(), two.identity
    )


def test_hit_reports_zero_tokens_and_is_stored_as_json(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    key = request_key(make_request(), "id")
    assert cache.get(key) is None
    cache.set(
        key,
        ChatResponse(content='{"title": "t"}', prompt_tokens=90, completion_tokens=12, seconds=3.5),
    )
    hit = cache.get(key)
    assert hit is not None
    assert hit.content == '{"title": "t"}'
    assert (hit.cache_hit, hit.prompt_tokens, hit.completion_tokens, hit.seconds) == (
        True,
        0,
        0,
        0.0,
    )
    cache.close()
    with diskcache.Cache(str(tmp_path / "c")) as raw:
        value = raw.get(key)
    assert isinstance(value, str)
    assert json.loads(value)["prompt_tokens"] == 90


def test_stats_and_clear(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    for i in range(3):
        cache.set(request_key(make_request(seed=i), "id"), ChatResponse(content="{}"))
    stats = cache.stats()
    assert stats["entries"] == 3 and stats["size_bytes"] > 0
    assert stats["directory"] == str(tmp_path / "c")
    assert cache.clear() == 3
    assert cache.stats()["entries"] == 0


@pytest.mark.parametrize(
    "value", ["not json {", '{"content": 5, "finish_reason": []}', b"\x80\x04"]
)
def test_corrupt_entry_is_a_miss_and_deleted(tmp_path: Path, value: object) -> None:
    key = request_key(make_request(), "id")
    with diskcache.Cache(str(tmp_path / "c")) as raw:
        raw.set(key, value)
    cache = ResponseCache(tmp_path / "c")
    assert cache.get(key) is None
    assert cache.stats()["entries"] == 0
    assert len(cache.warnings) == 1 and "unreadable entry" in cache.warnings[0]


def test_garbage_database_is_moved_aside(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    cache = ResponseCache(directory)
    cache.set("k", ChatResponse(content="{}"))
    cache.close()
    (directory / "cache.db").write_bytes(b"\x00garbage\xff" * 500)

    fresh = ResponseCache(directory)
    assert fresh.get("k") is None
    fresh.set("k2", ChatResponse(content="{}"))
    assert fresh.get("k2") is not None
    [warning] = fresh.warnings
    assert "unreadable" in warning and "started a fresh cache" in warning
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("c.corrupt-")]
    assert len(moved) == 1 and (moved[0] / "cache.db").exists()


def test_database_damaged_while_open_recovers(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    cache = ResponseCache(directory)
    cache.set("k", ChatResponse(content="{}"))
    cache.close()  # diskcache reconnects lazily on the next operation
    (directory / "cache.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    assert cache.get("k") is None
    cache.set("k", ChatResponse(content="{}"))
    assert cache.get("k") is not None
    assert any("started a fresh cache" in w for w in cache.warnings)


WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipeline.llm.base import ChatResponse
    from pipeline.llm.cache import ResponseCache

    directory, me, other, n = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    cache = ResponseCache(directory)
    for i in range(n):
        cache.set(f"{me}-{i}", ChatResponse(content=f'{{"who": "{me}", "i": {i}}}'))
        cache.get(f"{other}-{i}")
    cache.close()
    print("done", len(cache.warnings))
    """
)


def test_two_processes_share_one_directory(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    n = 60
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(directory), me, other, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "done 0"
    cache = ResponseCache(directory)
    assert cache.stats()["entries"] == 2 * n
    for who in "ab":
        for i in range(n):
            hit = cache.get(f"{who}-{i}")
            assert hit is not None and json.loads(hit.content) == {"who": who, "i": i}
    assert cache.warnings == []


# ---- an unusable cache: run without it, warn once (issue 15) -----------------------------------


def _unusable_dir(tmp_path: Path, how: str) -> Path:
    if how == "cache.db is a folder":
        directory = tmp_path / "c"
        (directory / "cache.db").mkdir(parents=True)
        return directory
    if how == "the cache path is a file":
        (tmp_path / "c").write_text("not a folder")
        return tmp_path / "c"
    (tmp_path / "file").write_text("not a folder")
    return tmp_path / "file" / "c"  # a folder that cannot be created


@pytest.mark.parametrize(
    "how", ["cache.db is a folder", "the cache path is a file", "under a file"]
)
def test_unusable_cache_runs_without_it_and_warns_once(tmp_path: Path, how: str) -> None:
    directory = _unusable_dir(tmp_path, how)
    cache = ResponseCache(directory)
    key = request_key(make_request(), "id")
    for _ in range(3):
        cache.set(key, ChatResponse(content="{}"))
        assert cache.get(key) is None
    assert cache.stats()["entries"] == 0
    assert cache.clear() == 0
    cache.close()
    [warning] = cache.warnings
    assert f"response cache at {directory} cannot be used" in warning
    assert "running without it" in warning
    assert directory.exists() or how == "under a file"  # nothing was moved or deleted


def test_read_only_disk_at_open_runs_without_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import pipeline.llm.cache as cache_module

    def read_only(directory: str) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(cache_module.diskcache, "Cache", read_only)
    cache = ResponseCache(tmp_path / "c")
    assert cache.get("k") is None
    cache.set("k", ChatResponse(content="{}"))
    assert cache.warnings == [
        f"response cache at {tmp_path / 'c'} cannot be used (attempt to write a readonly "
        "database); running without it"
    ]


def test_read_only_disk_on_every_write_warns_once(tmp_path: Path) -> None:
    import sqlite3

    cache = ResponseCache(tmp_path / "c")
    real = cache._cache

    class ReadOnly:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def set(self, key: str, value: str) -> bool:
            raise sqlite3.OperationalError("attempt to write a readonly database")

    cache._cache = ReadOnly()
    for i in range(5):
        cache.set(f"k{i}", ChatResponse(content="{}"))
    assert len(cache.warnings) == 1 and "readonly" in cache.warnings[0]
    real.close()


# ---- merging caches (issue 13: one cache per Ray worker node) ----------------------------------


def _source(directory: Path, answers: dict[str, str]) -> Path:
    """A cache as a worker leaves it: written by ResponseCache, then closed."""
    with ResponseCache(directory) as cache:
        for key, content in answers.items():
            cache.set(key, ChatResponse(content=content, prompt_tokens=7))
    return directory


def _fingerprint(directory: Path) -> dict[str, bytes]:
    """The files of a cache, less SQLite's WAL index (-shm, -wal), which any reader of a
    WAL database may create: the database and the answer files must not change."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and not p.name.endswith(("-shm", "-wal"))
    }


def test_merge_copies_what_is_missing_and_keeps_what_is_there(tmp_path: Path) -> None:
    long_answer = json.dumps({"title": "x" * 40_000})  # past diskcache's inline size: a file
    src = _source(tmp_path / "src", {"k0": '{"title": "theirs"}', "k1": "{}", "k2": long_answer})
    before = _fingerprint(src)
    dest = ResponseCache(tmp_path / "dest")
    dest.set("k0", ChatResponse(content='{"title": "ours"}'))

    source = CacheSource(src)
    counts = dest.merge(source)
    assert (counts.copied, counts.present, counts.unreadable) == (2, 1, 0)
    hits = [dest.get(k) for k in ("k0", "k1", "k2")]
    assert [h.content if h else None for h in hits] == ['{"title": "ours"}', "{}", long_answer]
    again = dest.merge(source)
    assert (again.copied, again.present, again.unreadable) == (0, 3, 0)
    source.close()
    assert _fingerprint(src) == before  # the source is only read
    assert dest.warnings == []


def test_merge_skips_and_counts_entries_it_cannot_read(tmp_path: Path) -> None:
    src = _source(tmp_path / "src", {"good": "{}", "long": json.dumps({"t": "y" * 40_000})})
    with diskcache.Cache(str(src)) as raw:
        raw.set("not json", "not json {")
        raw.set("wrong shape", '{"content": 5}')
        raw.set("bytes", b"\x80\x04")
        raw.set("pickled value", {"content": "{}"})
        raw.set(("pickled", "key"), "{}")
        long_file = raw._sql("SELECT filename FROM Cache WHERE key = 'long'").fetchone()[0]
    (src / long_file).unlink()  # a long answer whose file did not come along
    dest = ResponseCache(tmp_path / "dest")
    counts = dest.merge(CacheSource(src))
    assert (counts.copied, counts.present, counts.unreadable) == (1, 0, 6)
    assert dest.stats()["entries"] == 1 and dest.get("good") is not None


def _not_a_cache(tmp_path: Path, how: str) -> Path:
    directory = tmp_path / "src"
    if how == "no such folder":
        return directory
    directory.mkdir()
    if how == "garbage cache.db":
        (directory / "cache.db").write_bytes(b"\x00garbage\xff" * 500)
    elif how == "another SQLite database":
        with sqlite3.connect(directory / "cache.db") as db:
            db.execute("CREATE TABLE notes (text TEXT)")
        db.close()
    return directory


@pytest.mark.parametrize(
    "how", ["no such folder", "empty folder", "garbage cache.db", "another SQLite database"]
)
def test_a_folder_that_is_not_a_cache_is_refused_untouched(tmp_path: Path, how: str) -> None:
    directory = _not_a_cache(tmp_path, how)
    before = _fingerprint(directory) if directory.exists() else None
    with pytest.raises(InputError, match=f"{directory} is not a readable response cache"):
        CacheSource(directory)
    assert (_fingerprint(directory) if directory.exists() else None) == before


def test_merge_into_an_unusable_cache_is_an_error(tmp_path: Path) -> None:
    src = _source(tmp_path / "src", {"k": "{}"})
    (tmp_path / "dest").write_text("a file, not a folder")
    with pytest.raises(InputError, match="cannot be used"):
        ResponseCache(tmp_path / "dest").merge(CacheSource(src))
