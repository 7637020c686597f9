"""Benchmark: the held-back test split, from a cold cache, written to the committed report.

    flock /tmp/model.lock python bench/evals_test.py [--limit 5] [--out evals/baseline/test]
        [any other `python -m evals` flag, e.g. --model M --base-url URL]

Runs `python -m evals --split test --limit N --no-thresholds` with a fresh, empty response
cache (so every model answer is computed), writes report.json + report.md to --out, and prints
the tables and the wall time. Test stories are for reporting only: nothing is tuned on them,
and no threshold is applied here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LIMIT = 5  # the reporting sample written in evals/FORMAT.md


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT)
    p.add_argument("--out", type=Path, default=ROOT / "evals" / "baseline" / "test")
    args, extra = p.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="evals-cold-") as cache:
        env = {**os.environ, "PIPELINE_CACHE_DIR": cache}
        command = [
            sys.executable, "-m", "evals", "--split", "test", "--limit", str(args.limit),
            "--no-thresholds", "--out", str(args.out), *extra,
        ]  # fmt: skip
        started = time.monotonic()
        code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        minutes = (time.monotonic() - started) / 60
    print(f"bench: test split, limit {args.limit}, cold cache: {minutes:.1f} min, exit {code}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
