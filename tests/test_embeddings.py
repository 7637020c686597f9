"""The numpy sentence encoder: exact maths where it can be checked without the model, and the
published similarity figure where the pulled model is available."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipeline.embeddings import SentenceEncoder, _erf, load_encoder
from pipeline.errors import ModelFileError


def test_erf_matches_the_standard_library_closely() -> None:
    xs = np.linspace(-4, 4, 801, dtype=np.float32)
    got = _erf(xs)
    want = np.array([math.erf(float(x)) for x in xs])
    assert np.max(np.abs(got - want)) < 2e-6


def test_reproduces_the_similarity_published_for_all_minilm_l6_v2(
    encoder_models_dir: Path,
) -> None:
    # sentence-transformers' documentation gives 0.7553 for this pair with all-MiniLM-L6-v2.
    encoder = load_encoder(encoder_models_dir, progress=False)
    food, bread = encoder.encode(["A man is eating food.", "A man is eating a piece of bread."])
    assert float(food @ bread) == pytest.approx(0.7553, abs=0.001)


def test_outlets_wording_one_fact_differently_score_above_different_facts(
    encoder_models_dir: Path,
) -> None:
    encoder = load_encoder(encoder_models_dir, progress=False)
    v = encoder.encode(
        [
            "The thieves escaped on motorbikes.",
            "The suspected thieves reportedly fled on a motor-scooter through Paris.",
            "The museum remained closed on Monday.",
        ]
    )
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > 0.6 > float(v[0] @ v[2]) + 0.3


def test_order_and_batching_do_not_change_a_vector(encoder_models_dir: Path) -> None:
    encoder = load_encoder(encoder_models_dir, progress=False)
    texts = ["Short.", "A much longer sentence about the Louvre heist and its aftermath."]
    together = encoder.encode(texts)
    alone = encoder.encode(texts[1:])
    assert np.allclose(together[1], alone[0], atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_a_corrupt_weights_file_is_a_one_line_error(tmp_path: Path) -> None:
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"not safetensors at all")
    tokenizer = tmp_path / "t.json"
    tokenizer.write_text("{}")
    with pytest.raises(ModelFileError, match="cannot load the sentence encoder"):
        SentenceEncoder(weights, tokenizer)


def test_remembering_encodes_each_text_once_and_passes_a_new_batch_unchanged():
    import numpy as np

    from pipeline.embeddings import remembering

    calls: list[list[str]] = []

    def encode(texts):
        calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts])

    remembered = remembering(encode)
    first = remembered(["a", "bb", "a"])  # all new: passed on as it is, duplicates and all
    again = remembered(["bb", "ccc", "a"])
    assert calls == [["a", "bb", "a"], ["ccc"]]
    assert first.tolist() == [[1.0, 1.0], [2.0, 1.0], [1.0, 1.0]]
    assert again.tolist() == [[2.0, 1.0], [3.0, 1.0], [1.0, 1.0]]
