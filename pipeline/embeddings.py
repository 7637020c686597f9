"""Sentence embeddings with all-MiniLM-L6-v2, run in numpy: claims worded differently by
different outlets ("escaped on motorbikes" / "fled on a motor-scooter") land close together,
which word overlap cannot see.

Why numpy and not sentence-transformers: that needs torch (gigabytes) for a 6-layer encoder
that is a few matrix products per layer. The weights are the official safetensors file
(sha256-checked by the model registry) and the tokenizer is Hugging Face's `tokenizers`.

Same vectors on every machine: OpenBLAS picks its kernels by CPU, and in float32 an AVX-512
kernel moved similarities by up to 5e-7 against the Haswell one, enough to flip a claim pair
that sits at the grouping threshold. In float64 the difference is ~1e-15, so the grouping is the
same everywhere; the cost is about twice the (sub-second) encoder time. BLAS runs on one thread:
with more, OpenBLAS's spinning threads made the encoder 20-40x slower while another process
(the model server, a second run) held the cores, and the answers no longer depend on the count.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from pipeline.errors import ModelFileError
from pipeline.similarity import Encode

log = logging.getLogger(__name__)

Matrix = NDArray[np.float64]

ENCODER_MODEL = "minilm-l6-v2"
TOKENIZER_MODEL = "minilm-l6-v2-tokenizer"
LAYERS = 6
HEADS = 12
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
LAYER_NORM_EPS = 1e-12
BATCH = 32
BLAS_THREADS = 1


def _erf(x: Matrix) -> Matrix:
    """Abramowitz & Stegun 7.1.26 (error < 1.5e-7): numpy has no erf, and BERT's GELU is exact."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    result: Matrix = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float64)
    return result


def _gelu(x: Matrix) -> Matrix:
    return (0.5 * x * (1.0 + _erf(x / np.float64(np.sqrt(2.0))))).astype(np.float64)


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    result: Matrix = ((x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias).astype(np.float64)
    return result


class SentenceEncoder:
    """all-MiniLM-L6-v2: BERT encoder, mean pooling over real tokens, unit-length vectors."""

    def __init__(self, weights_path: Path, tokenizer_path: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        try:
            self.weights: dict[str, Matrix] = {
                k: v.astype(np.float64, copy=False) for k, v in load_file(str(weights_path)).items()
            }
            self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as e:  # safetensors/tokenizers raise their own types on bad files
            raise ModelFileError(f"cannot load the sentence encoder: {e}") from None
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        # For the whole process, not per call: a batch encodes from several threads, and a
        # per-call limit restored by one thread would change the count under another.
        threadpool_limits(limits=BLAS_THREADS, user_api="blas")

    def _w(self, name: str) -> Matrix:
        return self.weights[name]

    def _linear(self, x: Matrix, name: str) -> Matrix:
        return (x @ self._w(f"{name}.weight").T + self._w(f"{name}.bias")).astype(np.float64)

    def _layer(self, x: Matrix, mask: Matrix, n: int) -> Matrix:
        p = f"encoder.layer.{n}"
        batch, seq, hidden = x.shape
        head = hidden // HEADS

        def split(t: Matrix) -> Matrix:
            return t.reshape(batch, seq, HEADS, head).transpose(0, 2, 1, 3)

        q = split(self._linear(x, f"{p}.attention.self.query"))
        k = split(self._linear(x, f"{p}.attention.self.key"))
        v = split(self._linear(x, f"{p}.attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float64(np.sqrt(head))
        scores = scores + (1.0 - mask[:, None, None, :]) * np.float64(-1e9)
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        attended = self._linear(context, f"{p}.attention.output.dense")
        x = _layer_norm(
            attended + x,
            self._w(f"{p}.attention.output.LayerNorm.weight"),
            self._w(f"{p}.attention.output.LayerNorm.bias"),
        )
        inner = _gelu(self._linear(x, f"{p}.intermediate.dense"))
        out = self._linear(inner, f"{p}.output.dense")
        return _layer_norm(
            out + x, self._w(f"{p}.output.LayerNorm.weight"), self._w(f"{p}.output.LayerNorm.bias")
        )

    def _batch(self, texts: Sequence[str]) -> Matrix:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float64)
        seq = ids.shape[1]
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[:seq][None, :, :]
            + self._w("embeddings.token_type_embeddings.weight")[0][None, None, :]
        )
        x = _layer_norm(
            x.astype(np.float64),
            self._w("embeddings.LayerNorm.weight"),
            self._w("embeddings.LayerNorm.bias"),
        )
        for n in range(LAYERS):
            x = self._layer(x, mask, n)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float64)
        return result

    def encode(self, texts: Sequence[str]) -> Matrix:
        """One unit vector per text (rows); cosine similarity is a dot product."""
        if not texts:
            return np.zeros((0, self._w("embeddings.LayerNorm.weight").shape[0]), np.float64)
        # Similar lengths per batch keep padding (wasted work) small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self._w("embeddings.LayerNorm.weight").shape[0]), np.float64)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._batch([texts[i] for i in chunk])
        return out


def remembering(encode: Encode) -> Encode:
    """`encode` that keeps each text's vector for the run: selection compares the claims the
    merge stage already encoded (the encoder costs ~35 ms a sentence on 2 cores, and a
    warm re-run must stay under 2 s). A call with only new texts is passed on unchanged, so
    the first caller's batches, and its vectors, are exactly what they were without this."""
    seen: dict[str, Matrix] = {}

    def run(texts: Sequence[str]) -> Matrix:
        if not any(t in seen for t in texts):  # nothing known: the call as it was
            vectors = encode(texts)
            seen.update(zip(texts, vectors, strict=True))
            return vectors
        fresh = [t for t in dict.fromkeys(texts) if t not in seen]
        if fresh:
            seen.update(zip(fresh, encode(fresh), strict=True))
        return np.stack([seen[t] for t in texts])

    return run


_loaded: dict[Path, SentenceEncoder] = {}


def load_encoder(models_dir: Path, *, progress: bool) -> SentenceEncoder:
    """The verified encoder from the models dir, pulled on first use; loaded once per process
    (the evals brief several stories in one process)."""
    from pipeline.llm import registry

    key = Path(models_dir).resolve()
    if key not in _loaded:
        weights = registry.ensure(ENCODER_MODEL, models_dir, progress=progress)
        tokenizer = registry.ensure(TOKENIZER_MODEL, models_dir, progress=progress)
        _loaded[key] = SentenceEncoder(weights, tokenizer)
    return _loaded[key]
