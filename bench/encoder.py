"""Benchmark: the sentence encoder on a large story, alone and beside a busy model server.

Prints figures; asserts nothing.

    python bench/encoder.py [--articles 300] [--limit 600] [--before REV]

The texts are the first sentences of NeuS dev articles (../shared/datasets/neus, even lines),
about 7 per article, as many claims as a story of that many articles yields. "Busy" means the
embedded llama.cpp server is generating the whole time (2 threads, as in a run). "before" is
the encoder as it was at git revision REV (float32, OpenBLAS's default thread count); "after"
is the current one (float64, one BLAS thread). Each case runs in its own process, stopped
after --limit seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEUS = ROOT.parent / "shared" / "datasets" / "neus" / "val.source"
SENTENCES_PER_ARTICLE = 7
BEFORE = "c04f18d"  # the last commit before the encoder ran in float64 on one BLAS thread

CASE = """
import sys, time, importlib.util
from pathlib import Path
from pipeline.config import default_models_dir
from pipeline.llm import registry
spec = importlib.util.spec_from_file_location("enc", sys.argv[1])
enc = importlib.util.module_from_spec(spec); spec.loader.exec_module(enc)
texts = Path(sys.argv[2]).read_text().splitlines()
m = default_models_dir()
e = enc.SentenceEncoder(registry.ensure("minilm-l6-v2", m, progress=False),
                        registry.ensure("minilm-l6-v2-tokenizer", m, progress=False))
t = time.monotonic(); e.encode(texts); print(f"{time.monotonic() - t:.1f}")
"""


def texts_for(articles: int) -> list[str]:
    """Up to SENTENCES_PER_ARTICLE sentences from each of `articles` dev-split articles."""
    out: list[str] = []
    lines = NEUS.read_text(encoding="utf-8").splitlines()[::2]  # even lines: the dev split
    for line in lines:
        for article in line.split(" [SEP] "):
            body = article.split("ARTICLE=>", 1)[-1]
            sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s) > 20]
            out.extend(sentences[:SENTENCES_PER_ARTICLE])
            articles -= 1
            if articles == 0:
                return out
    return out


@contextlib.contextmanager
def busy_server() -> Iterator[None]:
    """The embedded model server, generating without pause until the block ends."""
    import openai

    from pipeline.config import DEFAULT_LOCAL_MODEL, default_models_dir
    from pipeline.llm import registry
    from pipeline.llm.local import LocalServer

    path = registry.ensure(DEFAULT_LOCAL_MODEL, default_models_dir(), progress=False)
    stop = threading.Event()
    with LocalServer(path, quiet=True) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none", timeout=600)

        def generate() -> None:
            while not stop.is_set():
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "Count to 500."}],
                    max_tokens=64, temperature=0,
                )  # fmt: skip

        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        time.sleep(3)  # generation under way
        try:
            yield
        finally:
            stop.set()
            worker.join(timeout=60)


def run_case(module: Path, texts_file: Path, limit: float) -> str:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CASE, str(module), str(texts_file)],
            capture_output=True, text=True, timeout=limit, cwd=ROOT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"> {limit:.0f} s (stopped)"
    if proc.returncode != 0:
        return f"failed: {proc.stderr.strip().splitlines()[-1:]}"
    return f"{proc.stdout.strip()} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--limit", type=float, default=600.0, help="seconds per case")
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' encoder")
    args = parser.parse_args()

    texts = texts_for(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.txt"
        texts_file.write_text("\n".join(texts), encoding="utf-8")
        before = Path(tmp) / "embeddings_before.py"
        old = subprocess.run(
            ["git", "show", f"{args.before}:pipeline/embeddings.py"],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        before.write_text(old.stdout)
        after = ROOT / "pipeline" / "embeddings.py"
        print(f"encoder on {len(texts)} texts from {args.articles} articles")
        for label, module in (("before", before), ("after", after)):
            print(f"  {label:6} alone:              {run_case(module, texts_file, args.limit)}")
        with busy_server():
            for label, module in (("before", before), ("after", after)):
                busy = run_case(module, texts_file, args.limit)
                print(f"  {label:6} beside busy server: {busy}")


if __name__ == "__main__":
    main()
