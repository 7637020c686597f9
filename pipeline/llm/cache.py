"""On-disk response cache, so a second identical run makes zero model calls.

diskcache gives us a process-safe store (SQLite + files); we only ever store JSON text, never
pickles, and treat damage as a miss rather than a crash: a bad entry is deleted, a bad database
is moved aside and replaced by a fresh one.

Caches merge by copying entries (`merge`): a key is a hash of everything that decides the
answer, so the same key always holds an equivalent answer and a union loses nothing. Another
cache is read through SQLite read-only (`CacheSource`): nothing is written there, nothing is
unpickled, and a folder that is not a cache is refused before anything is copied.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import diskcache
from diskcache.core import MODE_RAW, MODE_TEXT
from pydantic import ValidationError

from pipeline.errors import InputError
from pipeline.llm.base import ChatRequest, ChatResponse

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Everything in a request that decides the answer. Not the API key, timeouts or retry settings.
KEY_FIELDS = (
    "model",
    "messages",
    "schema_name",
    "response_schema",
    "temperature",
    "max_tokens",
    "seed",
)


def request_key(request: ChatRequest, identity: str) -> str:
    """sha256 of the canonical JSON of the answer-deciding fields plus the endpoint identity."""
    fields = request.model_dump(mode="json", include=set(KEY_FIELDS))
    fields["identity"] = identity
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Valid model responses keyed by `request_key`; safe for concurrent runs sharing a dir."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.warnings: list[str] = []
        self._cache = self._open()

    # ---- public API ---------------------------------------------------------------------------

    @staticmethod
    def key(request: ChatRequest, identity: str) -> str:
        return request_key(request, identity)

    def get(self, key: str) -> ChatResponse | None:
        """A stored response as a hit (zero tokens, zero seconds), or None."""
        raw = self._guard(lambda: self._cache.get(key), None)
        if raw is None:
            return None
        try:
            if not isinstance(raw, str):
                raise ValueError(f"unexpected {type(raw).__name__} value")
            stored = ChatResponse.model_validate_json(raw)
        except (ValidationError, ValueError) as exc:
            self._warn(
                f"response cache: dropped an unreadable entry {key[:12]} ({exc.__class__.__name__})"
            )
            self._guard(lambda: self._cache.delete(key), False)
            return None
        return stored.model_copy(
            update={"cache_hit": True, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0.0}
        )

    def set(self, key: str, response: ChatResponse) -> None:
        """Store `response` as JSON text; only the client decides it is valid enough to keep."""
        stored = response.model_copy(update={"cache_hit": False})
        value = stored.model_dump_json()
        self._guard(lambda: self._cache.set(key, value), False)

    def stats(self) -> dict[str, Any]:
        entries = self._guard(lambda: len(self._cache), 0)
        size = self._guard(lambda: int(self._cache.volume()), 0)
        return {"entries": entries, "size_bytes": size, "directory": str(self.directory)}

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        return int(self._guard(lambda: self._cache.clear(), 0))

    def merge(self, source: CacheSource) -> MergeCounts:
        """Copy the entries of `source` this cache lacks; an entry already here is kept (the
        same key holds an equivalent answer), an unreadable one is skipped and counted."""
        if isinstance(self._cache, _NoCache):
            raise InputError(self.warnings[-1])
        counts = MergeCounts()
        for entry in source.entries():
            if entry is None:
                counts.unreadable += 1
            elif self._add(*entry):
                counts.copied += 1
            else:
                counts.present += 1
        return counts

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _add(self, key: str, response: ChatResponse) -> bool:
        """Store `response` unless `key` is already here (atomic against concurrent writers)."""
        value = response.model_copy(update={"cache_hit": False}).model_dump_json()
        added = self._guard(lambda: self._cache.add(key, value), None)
        if added is None:
            raise InputError(f"cannot write to the response cache at {self.directory}")
        return bool(added)

    # ---- damage control -----------------------------------------------------------------------

    def _open(self) -> diskcache.Cache:
        try:
            cache = diskcache.Cache(str(self.directory))
            len(cache)  # reads the Settings table: fails fast on a garbage database
            return cache
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                return self._without_cache(exc)
            return self._recover(exc)
        except OSError as exc:  # the path is a file, a read-only or full disk, no permission
            return self._without_cache(exc)

    def _without_cache(self, exc: BaseException) -> _NoCache:
        """A cache that cannot be opened (cache.db is a folder, the path is a file, a read-only
        disk) is not damage to repair: the run goes on without it, with one warning."""
        self._warn(
            f"response cache at {self.directory} cannot be used ({_one_line(exc)}); "
            "running without it"
        )
        return _NoCache()

    def _recover(self, exc: BaseException) -> diskcache.Cache:
        """Move the damaged directory aside and start afresh: a cache is never worth a crash."""
        old = getattr(self, "_cache", None)
        if old is not None:
            with contextlib.suppress(Exception):  # the database is already broken
                old.close()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.directory.with_name(f"{self.directory.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.directory.with_name(f"{self.directory.name}.corrupt-{stamp}-{n}")
        try:
            shutil.move(str(self.directory), str(target))
            where = f"moved it to {target}"
        except OSError:
            shutil.rmtree(self.directory, ignore_errors=True)
            where = "removed it"
        self._warn(
            f"response cache at {self.directory} was unreadable ({_one_line(exc)}); "
            f"{where} and started a fresh cache"
        )
        try:
            return diskcache.Cache(str(self.directory))
        except (sqlite3.DatabaseError, OSError) as again:
            return self._without_cache(again)

    def _guard(self, action: Callable[[], _T], fallback: _T) -> _T:
        """Run a cache operation; on a damaged database recover once and retry, else fall back.

        A locked or failing disk (OperationalError) is not damage: that operation is skipped.
        """
        try:
            return action()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                self._warn(f"response cache skipped an operation ({_one_line(exc)})")
                return fallback
            self._cache = self._recover(exc)
        try:
            return action()
        except sqlite3.DatabaseError as exc:
            self._warn(f"response cache unusable ({_one_line(exc)}); continuing without it")
            return fallback

    def _warn(self, message: str) -> None:
        if message in self.warnings:  # a read-only disk fails every write the same way
            return
        self.warnings.append(message)
        log.warning("%s", message)


@dataclass
class MergeCounts:
    """What a merge did with the source entries."""

    copied: int = 0
    present: int = 0
    unreadable: int = 0

    def add(self, other: MergeCounts) -> None:
        self.copied += other.copied
        self.present += other.present
        self.unreadable += other.unreadable


class CacheSource:
    """Another response cache (say, one fetched from a Ray worker node), opened read-only.

    Its entries are read from diskcache's SQLite table directly rather than through diskcache,
    which would create tables in a folder that is not a cache and unpickle whatever it finds.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._db = self._connect()
        try:
            self._rowids = [r[0] for r in self._db.execute("SELECT rowid FROM Cache")]
            self._db.execute("SELECT key, raw, mode, filename, value FROM Cache LIMIT 0")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise self._refused(_one_line(exc)) from None

    def entries(self) -> Iterator[tuple[str, ChatResponse] | None]:
        """Each entry as (key, response), or None for one that cannot be read."""
        for rowid in self._rowids:
            yield self._entry(rowid)

    def close(self) -> None:
        self._db.close()

    def _connect(self) -> sqlite3.Connection:
        database = self.directory / "cache.db"
        if not self.directory.is_dir():
            raise self._refused("no such folder")
        if not database.is_file():
            raise self._refused("no cache.db in it")
        try:
            return sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise self._refused(_one_line(exc)) from None

    def _refused(self, why: str) -> InputError:
        return InputError(f"{self.directory} is not a readable response cache ({why})")

    def _entry(self, rowid: int) -> tuple[str, ChatResponse] | None:
        try:
            row = self._db.execute(
                "SELECT key, raw, mode, filename, value FROM Cache WHERE rowid = ?", (rowid,)
            ).fetchone()
            if row is None or not isinstance(row[0], str) or not row[1]:
                return None  # gone since listed, or a pickled key: never ours
            text = self._text(row[2], row[3], row[4])
            return None if text is None else (row[0], ChatResponse.model_validate_json(text))
        except (sqlite3.Error, OSError, ValueError):  # ValueError: bad UTF-8, bad JSON
            return None

    def _text(self, mode: object, filename: object, value: object) -> str | None:
        """The stored JSON text: inline, or in a file of the cache (a long answer); any other
        kind of value (bytes, a pickle) was not written by `ResponseCache`."""
        if mode == MODE_RAW and isinstance(value, str):
            return value
        if mode == MODE_TEXT and isinstance(filename, str):
            path = (self.directory / filename).resolve()
            if self.directory.resolve() in path.parents:
                return path.read_text(encoding="utf-8")
        return None


class _NoCache:
    """Stands in for `diskcache.Cache` when none can be opened: every lookup misses, every
    store is dropped. Extra diskcache arguments (expire, tag, retry...) are accepted."""

    def get(self, key: str, default: object = None, *_: object, **__: object) -> object:
        return default

    def set(self, key: str, value: object, *_: object, **__: object) -> bool:
        return False

    def delete(self, key: str, *_: object, **__: object) -> bool:
        return False

    def iterkeys(self, *_: object, **__: object) -> list[str]:
        return []

    def clear(self) -> int:
        return 0

    def volume(self) -> int:
        return 0

    def __len__(self) -> int:
        return 0

    def close(self) -> None:
        return None


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Damage, as opposed to contention or I/O trouble (OperationalError) that may pass."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "no such table" in text:
        return True
    return not isinstance(exc, sqlite3.OperationalError)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
