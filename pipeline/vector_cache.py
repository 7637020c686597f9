"""Sentence vectors on disk, so a warm re-run neither loads nor runs the encoder.

On 2 cores the encoder costs about 2 s of a 3 s cached brief (0.6 s to load its weights, 1.5 s
to encode the claims), against a 2 s budget for a warm re-run. A call's vectors are stored
under a hash of the encoder's weights and the call's texts in order, so a hit returns exactly
what the same call computed before (the same batches, the same floats): grouping and
selection do not change with the cache. Values are raw little-endian float64 bytes behind a
(rows, columns) header, never pickles. The store is derived data: damage is a miss, and a
database that cannot be read is deleted and started afresh.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import diskcache
import numpy as np
from numpy.typing import NDArray

from pipeline.similarity import Encode

Matrix = NDArray[np.float64]

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<II")  # rows, columns
_ERRORS = (sqlite3.Error, OSError, diskcache.Timeout)


def call_key(identity: str, texts: Sequence[str]) -> str:
    """sha256 of the encoder identity and the texts in call order (a NUL never occurs in text)."""
    digest = hashlib.sha256(identity.encode("utf-8"))
    for text in texts:
        digest.update(b"\0" + text.encode("utf-8"))
    return digest.hexdigest()


def pack(vectors: Matrix) -> bytes:
    matrix = np.ascontiguousarray(vectors, dtype="<f8")
    return _HEADER.pack(*matrix.shape) + matrix.tobytes()


def unpack(raw: object, rows: int) -> Matrix | None:
    """The stored matrix, or None when the bytes are not one of `rows` rows."""
    if not isinstance(raw, bytes) or len(raw) < _HEADER.size:
        return None
    stored_rows, columns = _HEADER.unpack_from(raw)
    if stored_rows != rows or len(raw) != _HEADER.size + 8 * rows * columns:
        return None
    return np.frombuffer(raw, dtype="<f8", offset=_HEADER.size).reshape(rows, columns).copy()


class VectorCache:
    """Encoder outputs keyed by `call_key`; a store that fails is dropped for the run."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._cache: diskcache.Cache | None = self._open()

    def _open(self) -> diskcache.Cache | None:
        for attempt in range(2):
            try:
                cache = diskcache.Cache(str(self.directory))
                len(cache)  # reads the database: fails fast when it is garbage
                return cache
            except sqlite3.DatabaseError as exc:
                if attempt == 0 and self.directory.is_dir():
                    log.warning("vector cache at %s is damaged (%s); afresh", self.directory, exc)
                    shutil.rmtree(self.directory, ignore_errors=True)
                    continue
                break
            except _ERRORS:
                break
        log.warning("vector cache at %s cannot be used; encoding without it", self.directory)
        return None

    def get(self, key: str, rows: int) -> Matrix | None:
        if self._cache is None:
            return None
        try:
            found = unpack(self._cache.get(key), rows)
        except _ERRORS:
            self._cache = None
            return None
        return found

    def set(self, key: str, vectors: Matrix) -> None:
        if self._cache is None:
            return
        try:
            self._cache.set(key, pack(vectors))
        except _ERRORS:
            self._cache = None

    def clear(self) -> int:
        if self._cache is None:
            return 0
        try:
            return int(self._cache.clear())
        except _ERRORS:
            return 0

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()


def stored(load: Callable[[], Encode], cache: VectorCache, identity: str) -> Encode:
    """`encode` through the cache; `load` makes the encoder on the first miss only."""
    encoder: list[Encode] = []

    def run(texts: Sequence[str]) -> Matrix:
        key = call_key(identity, texts)
        hit = cache.get(key, len(texts))
        if hit is not None:
            return hit
        if not encoder:
            encoder.append(load())
        vectors = encoder[0](texts)
        cache.set(key, vectors)
        return vectors

    return run
