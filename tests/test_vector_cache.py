"""The on-disk vector store: a hit is the same matrix without loading the encoder; damage is
a miss, never a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.vector_cache import VectorCache, call_key, pack, stored, unpack


def _counting_encoder(calls: list[int]):
    def load():
        calls.append(0)  # the encoder was made

        def encode(texts):
            return np.array([[len(t), t.count("a"), 0.5] for t in texts], dtype=np.float64)

        return encode

    return load


def test_a_second_run_reads_the_vectors_without_making_the_encoder(tmp_path: Path) -> None:
    texts = ["Lavrov met Rubio.", "A summit in Budapest was cancelled."]
    first_loads: list[int] = []
    first = stored(_counting_encoder(first_loads), VectorCache(tmp_path), "enc-1")(texts)
    again_loads: list[int] = []
    again = stored(_counting_encoder(again_loads), VectorCache(tmp_path), "enc-1")(texts)
    assert first_loads == [0] and again_loads == []
    assert np.array_equal(first, again) and again.dtype == np.float64


def test_the_key_holds_the_encoder_and_the_texts_in_order() -> None:
    assert call_key("enc-1", ["a", "b"]) != call_key("enc-1", ["b", "a"])
    assert call_key("enc-1", ["a", "b"]) != call_key("enc-2", ["a", "b"])
    assert call_key("enc-1", ["ab"]) != call_key("enc-1", ["a", "b"])


def test_a_damaged_value_is_a_miss(tmp_path: Path) -> None:
    matrix = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert np.array_equal(unpack(pack(matrix), 2), matrix)
    assert unpack(pack(matrix), 3) is None
    assert unpack(pack(matrix)[:-1], 2) is None
    assert unpack("text", 2) is None
    cache = VectorCache(tmp_path)
    key = call_key("enc-1", ["x", "y"])
    cache._cache.set(key, b"garbage")  # type: ignore[union-attr]
    loads: list[int] = []
    vectors = stored(_counting_encoder(loads), cache, "enc-1")(["x", "y"])
    assert loads == [0] and vectors.shape == (2, 3)


def test_a_garbage_database_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "cache.db").write_bytes(b"this is not sqlite" * 100)
    cache = VectorCache(tmp_path)
    loads: list[int] = []
    stored(_counting_encoder(loads), cache, "enc-1")(["x"])
    assert loads == [0]
    assert cache.get(call_key("enc-1", ["x"]), 1) is not None


def test_an_unusable_directory_means_encoding_without_the_store(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    loads: list[int] = []
    vectors = stored(_counting_encoder(loads), VectorCache(blocker / "vectors"), "enc-1")(["x"])
    assert loads == [0] and vectors.shape == (1, 3)
