"""sitegen's rebuilds on their own: clean build, nothing changed, one prose edit — on the
synthetic corpus with and without a verify block in every post (the real user's case).

    python bench/bench_rebuild.py --n 1000 --runs 3

A prose edit of a post with a verify block must not run its code again: after the timed
edits, one more edit is built in a process of its own with the Python API (one process,
no forked copy) and the table shows how many posts' code that build ran (gradcheck's
``site.data["gradcheck_executed"]``; 0 when the edit ran none).
Wall times are medians; CPU seconds (user + system of the process tree) are printed
beside them, as other load on the machine disturbs them less. The clean build's memory is
the peak summed RSS of its process tree (the builder and its render workers) and its
peak summed PSS (pages the forked workers share with the builder counted once).
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
from measure import Sample, run_timed  # noqa: E402


def _timed(root: Path, sample_tree: bool = False) -> Sample:
    log = root.parent / "build.log"
    # as a user runs it: Python keeps its compiled modules (each start compiles them again
    # when this is set, ~0.1 s)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    sample = run_timed(
        [sys.executable, "-m", "sitegen", "build", "-q"],
        root, env=env, log=log, sample_tree=sample_tree,
    )
    text = log.read_text(errors="replace")
    if sample.returncode not in (0, 1) or "Traceback" in text:  # 1: a check failed
        raise SystemExit(f"build failed in {root}: {text[-500:]}")
    return sample


def _median(samples: list[Sample]) -> tuple[float, float]:
    return statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples)


_COUNT_RUNS = """
import sys
from pathlib import Path
from sitegen.build import build_site
from sitegen.model import BuildOptions
result = build_site(Path(sys.argv[1]), BuildOptions(jobs=1, quiet=True))
print(len(result.site.data.get("gradcheck_executed", [])))
"""


def _code_runs_of_an_edit(root: Path, path: Path, original: str) -> int:
    """How many posts' code one more prose edit ran (built untimed, in one process)."""
    path.write_text(original + "\nOne more paragraph, counted.\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-c", _COUNT_RUNS, str(root)],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def bench(work: Path, n: int, runs: int, verify: bool) -> dict[str, object]:
    root = write_corpus(work / ("verify" if verify else "plain"), n, ["sitegen"], verify=verify)[
        "sitegen"
    ]
    clean = _timed(root, sample_tree=True)
    noop = [_timed(root) for _ in range(runs)]
    path = post_path("sitegen", root, make_post(n // 2, verify=verify))
    original = path.read_text(encoding="utf-8")
    edits = []
    for r in range(runs):
        marker = f"bench-edit-{r}-{time.time_ns()}"
        path.write_text(original + f"\nAn added paragraph {marker}.\n", encoding="utf-8")
        edits.append(_timed(root))
    code_runs = _code_runs_of_an_edit(root, path, original)
    path.write_text(original, encoding="utf-8")
    return {
        "verify": verify,
        "clean": clean,
        "nothing changed": _median(noop),
        "one prose edit": _median(edits),
        "edits": sorted(s.wall for s in edits),
        "code runs for the edits": code_runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work" / "rebuild")
    args = parser.parse_args(argv)
    print(f"N={args.n}, median of {args.runs}, load average {os.getloadavg()[0]:.1f}")
    print(
        "| corpus | clean (CPU) | clean peak memory | nothing changed (CPU) "
        "| one prose edit (CPU) | edits' spread | code runs |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for verify in (False, True):
        row = bench(args.work, args.n, args.runs, verify)
        clean, (noop, noop_cpu), (edit, edit_cpu) = (
            row["clean"], row["nothing changed"], row["one prose edit"]
        )
        spread = row["edits"]
        print(
            f"| {'a verify block in every post' if verify else 'no verify blocks'} "
            f"| {clean.wall:.2f} s ({clean.cpu:.2f}) | {clean.tree_rss_mb:.0f} MB RSS, "
            f"{clean.tree_pss_mb or 0:.0f} MB PSS "
            f"| {noop:.3f} s ({noop_cpu:.3f}) | {edit:.3f} s ({edit_cpu:.3f}) "
            f"| {spread[0]:.3f}–{spread[-1]:.3f} s | {row['code runs for the edits']} |"
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
