"""Benchmark: loading a 199 KB article with no punctuation and no newlines.

Prints figures; asserts nothing (speed targets live here, not in timed tests).

    python bench/load.py [--kb 199] [--skip-before] [--before-tree DIR]

"after" is `pipeline.sources.load_articles` on a folder holding that one article, as a run
loads it. "before" is the step the loader took until issue 15: pysbd segmenting the whole
unbroken run in one call (its abbreviation regex is quadratic in the run's length). With
`--before-tree DIR` (e.g. `git archive <commit> | tar -x -C DIR`), "before" is instead the whole
`load_articles` of that older source tree, run in a subprocess on the same file.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.boilerplate import _segmenter  # noqa: E402
from pipeline.sources import load_articles  # noqa: E402

WORDS = (
    "minister talks ceasefire valley river council officials said report army border city "
    "government court vote election market prices energy Moscow Kyiv Washington Brussels "
    "summit delegation agreement sanctions statement spokesman agency week Tuesday"
).split()


def unpunctuated(kb: int, seed: int = 15) -> str:
    """Words and single spaces only: no full stop, comma or newline anywhere."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < kb * 1000:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=199, help="article size in KB (default 199)")
    parser.add_argument(
        "--skip-before", action="store_true", help="do not time the old (unbounded) pysbd path"
    )
    parser.add_argument(
        "--before-tree", type=Path, help="time load_articles of this older source tree instead"
    )
    args = parser.parse_args()
    text = unpunctuated(args.kb)
    print(f"article: {len(text.encode()):,} bytes, no punctuation, no newlines")
    _segmenter()  # load pysbd once, outside both timings

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "long.txt").write_text(text, encoding="utf-8")
        started = time.monotonic()
        loaded = load_articles(folder)
        after = time.monotonic() - started
        sentences = len(loaded.articles[0].sentences)
        print(f"after:  load_articles {after:6.2f} s  ({sentences} sentence spans)")
        if args.skip_before:
            return
        if args.before_tree:
            before = _time_tree(args.before_tree.resolve(), folder)
            print(f"before: load_articles of {args.before_tree} {before:6.2f} s")
        else:
            started = time.monotonic()
            pieces = _segmenter().segment(text)
            before = time.monotonic() - started
            print(f"before: pysbd on the whole run {before:6.2f} s  ({len(pieces)} pieces)")
    print(f"speed-up: {before / max(after, 1e-9):.0f}x")


def _time_tree(tree: Path, folder: Path) -> float:
    """Seconds `load_articles(folder)` takes with the `pipeline` package of `tree`."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); import pipeline.sources as s; "
        "assert s.__file__.startswith(sys.argv[1]), s.__file__; "
        "from pipeline.boilerplate import clean; clean('Warm up pysbd. Twice.'); "
        "t = time.monotonic(); s.load_articles(s.Path(sys.argv[2])); "
        "print(time.monotonic() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tree), str(folder)],
        capture_output=True, text=True, check=True, cwd=tree,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
