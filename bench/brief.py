"""Benchmark: cold and warm `pipeline brief` on a story, and the local model's raw speed.

Prints figures; asserts nothing (speed targets live here, not in timed tests).

    python bench/brief.py [seeds/lavrov-2025-11] [--model qwen2.5-coder-1.5b] [--skip-speed]
                          [--against REV]

The cold run uses a fresh, empty response cache; the warm run repeats it with that cache and
must make zero model calls and print the same briefing. `--against REV` (e.g. `HEAD~1`) also
briefs the story cold with that commit's code (a `git archive` of it, run by this interpreter)
in the same run, and prints the ratio of the two cold times: the speed budget of a change.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(story: Path, cache: Path, model: str, fmt: str, root: Path = ROOT) -> tuple[float, str]:
    env = {**os.environ, "PIPELINE_CACHE_DIR": str(cache)}
    env.pop("PIPELINE_BASE_URL", None)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "brief", str(story), "--model", model, "--quiet",
         "--format", fmt],
        capture_output=True, text=True, env=env, cwd=root, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"bench: pipeline failed: {proc.stderr.strip()}")
    return seconds, proc.stdout


def cold_with(rev: str, story: Path, model: str) -> float:
    """Seconds of a cold brief of `story` by the code of commit `rev`."""
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-rev-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", rev], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        seconds, _ = run_cli(story, Path(tmp) / "cache", model, "json", root=tree)
    return seconds


def model_speed(model: str) -> tuple[float, float]:
    """(prompt tokens/s, generated tokens/s) of the embedded server, measured directly."""
    import openai

    from pipeline.config import default_models_dir
    from pipeline.llm import registry
    from pipeline.llm.local import LocalServer

    path = registry.ensure(model, default_models_dir(), progress=False)
    filler = " ".join(f"Sentence {i} of a long news article about diplomacy." for i in range(60))
    with LocalServer(path, quiet=True) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none", timeout=600)

        def timed(prompt: str, max_tokens: int) -> tuple[float, int, int]:
            started = time.monotonic()
            r = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}],
                max_tokens=max_tokens, temperature=0,
            )  # fmt: skip
            assert r.usage is not None
            return time.monotonic() - started, r.usage.prompt_tokens, r.usage.completion_tokens

        timed("Hi", 1)  # warm-up
        t_prompt, n_prompt, _ = timed(filler + " Summarise.", 1)
        t_gen, _, n_gen = timed("Count from one to two hundred in words, comma-separated.", 96)
    return n_prompt / t_prompt, n_gen / max(1e-6, t_gen - 0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("story", nargs="?", type=Path, default=ROOT / "seeds" / "lavrov-2025-11")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--skip-speed", action="store_true", help="skip the raw speed probe")
    parser.add_argument("--against", metavar="REV", help="also brief cold with this commit")
    args = parser.parse_args()
    story = args.story.resolve()

    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        cache = Path(tmp) / "cache"
        cold_s, cold_json = run_cli(story, cache, args.model, "json")
        warm_s, warm_json = run_cli(story, cache, args.model, "json")
        _, cold_md = run_cli(story, cache, args.model, "md")
        warm_md_s, warm_md = run_cli(story, cache, args.model, "md")
    cold = json.loads(cold_json)
    warm = json.loads(warm_json)
    report, warm_report = cold["report"], warm["report"]
    n_articles = len(cold["articles"])
    same = cold["briefing"] == warm["briefing"] and cold_md == warm_md

    print(f"story: {args.story.name} ({n_articles} articles), model: {args.model}")
    print(
        f"cold brief:  {cold_s:7.1f} s  ({sum(s['calls'] for s in report['stages'])} model calls)"
    )
    warm_calls = sum(s["calls"] for s in warm_report["stages"])
    print(f"warm brief:  {warm_s:7.1f} s  ({warm_calls} model calls; md re-run {warm_md_s:.1f} s)")
    print(f"warm output identical to cold: {'yes' if same else 'NO'}")
    print("stage      calls  prompt_tok  completion_tok  seconds")
    for s in report["stages"]:
        print(
            f"{s['name']:9} {s['calls']:6} {s['prompt_tokens']:11} {s['completion_tokens']:15}"
            f" {s['seconds']:8.1f}"
        )
    extract = next(s for s in report["stages"] if s["name"] == "extract")
    per_article = extract["completion_tokens"] / max(1, n_articles)
    print(f"extraction completion tokens per article: {per_article:.0f}")
    g = report["grounding"]
    print(
        f"claims kept {g['claims_kept']}/{g['claims_extracted']}, "
        f"conflicts {g['conflicts_found']}, "
        f"briefing sentences {len(cold['briefing']['sentences'])} "
        f"({g['sentences_dropped']} dropped, {g['sentences_attributed']} attributed by code)"
    )
    if args.against:
        before_s = cold_with(args.against, story, args.model)
        print(
            f"cold brief at {args.against}: {before_s:7.1f} s; "
            f"this tree / it = {cold_s / before_s:.2f}"
        )
    if not args.skip_speed:
        prompt_tps, gen_tps = model_speed(args.model)
        print(f"model speed: {prompt_tps:.1f} prompt tokens/s, {gen_tps:.1f} generated tokens/s")


if __name__ == "__main__":
    main()
