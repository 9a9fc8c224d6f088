"""sitegen's rebuilds on their own: clean build, nothing changed, one prose edit — on the
synthetic corpus with and without a verify block in every post (the real user's case).

    python bench/bench_rebuild.py --n 1000 --runs 3

A prose edit of a post with a verify block must not run its code again: the rebuild
prints how many posts' code ran (from ``.sitegen-cache`` counts of the verify results).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from make_corpus import make_post, post_path, write_corpus  # noqa: E402


def _timed(root: Path, *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "-q", *args],
        cwd=root, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:  # 1: a check failed
        raise SystemExit(f"build failed in {root}: {done.stderr[-500:]}")
    return seconds


def _results(root: Path) -> int:
    folder = root / ".sitegen-cache" / "verify"
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


def bench(work: Path, n: int, runs: int, verify: bool) -> dict[str, object]:
    root = write_corpus(work / ("verify" if verify else "plain"), n, ["sitegen"], verify=verify)[
        "sitegen"
    ]
    clean = _timed(root)
    noop = [_timed(root) for _ in range(runs)]
    path = post_path("sitegen", root, make_post(n // 2, verify=verify))
    original = path.read_text(encoding="utf-8")
    ran_before = _results(root)
    edits = []
    for r in range(runs):
        marker = f"bench-edit-{r}-{time.time_ns()}"
        path.write_text(original + f"\nAn added paragraph {marker}.\n", encoding="utf-8")
        edits.append(_timed(root))
    path.write_text(original, encoding="utf-8")
    return {
        "verify": verify,
        "clean": clean,
        "nothing changed": statistics.median(noop),
        "one prose edit": statistics.median(edits),
        "code runs for the edits": _results(root) - ran_before,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work" / "rebuild")
    args = parser.parse_args(argv)
    print(f"N={args.n}, median of {args.runs}, load average {os.getloadavg()[0]:.1f}")
    print("| corpus | clean | nothing changed | one prose edit | code runs |")
    print("| --- | --- | --- | --- | --- |")
    for verify in (False, True):
        row = bench(args.work, args.n, args.runs, verify)
        print(
            f"| {'a verify block in every post' if verify else 'no verify blocks'} "
            f"| {row['clean']:.2f} s | {row['nothing changed']:.3f} s "
            f"| {row['one prose edit']:.3f} s | {row['code runs for the edits']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
