"""Per-post overhead of verification beyond the author's own code (SPEC §10: under 50 ms).

Measures, for posts whose code does next to nothing (so what is timed is the machinery):

* warm: a post run by an already started warm parent (a fresh forked process for the
  post, its own result pipe and process group, seeded rng, memory limit, result
  collection, the process's end reported) — the cost every post pays;
* check: the same with one small ``check_grad`` and its shape trace;
* cached: fetching a post's result from the content-addressed cache (a rebuild);
* cold: starting a warm parent (Python + numpy import), paid once per worker per build.

Run from the repository root:  python bench/bench_verify_overhead.py [--posts N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from plugins.gradcheck.blocks import BlockOptions  # noqa: E402
from plugins.gradcheck.processes import Worker  # noqa: E402
from plugins.gradcheck.runner import PostJob, WorkerPool, run_jobs  # noqa: E402

TRIVIAL = "x = 1\n"
ONE_CHECK = (
    "dims(N=4, D=3)\nX = rng.standard_normal((N, D)); w = rng.standard_normal((D, 1))\n"
    "g = X.T @ (X @ w)\ncheck_grad(lambda w: 0.5 * np.sum((X @ w) ** 2), w, g, name='∂L/∂w')\n"
)


def job(rel: str, code: str) -> PostJob:
    options = BlockOptions().__dict__
    block = {"index": 0, "kind": "verify", "code": code, "line": 1, "options": options}
    return PostJob(rel, [block])


def per_post(pool: WorkerPool, code: str, posts: int) -> tuple[float, float]:
    """Median and 90th percentile wall time of one post, minus the code's own run time."""
    times = []
    for i in range(posts):
        start = time.perf_counter()
        result = pool.run(job(f"posts/p{i}.md", code))
        wall = time.perf_counter() - start
        own = sum(b.get("time", 0.0) for b in result["blocks"])
        times.append(wall - own)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        worker = Worker(root)
        worker.wait_ready()
        cold = time.perf_counter() - start
        pool = WorkerPool(size=1, cwd=root)
        pool.release(worker)
        try:
            warm = per_post(pool, TRIVIAL, args.posts)
            check = per_post(pool, ONE_CHECK, args.posts)
        finally:
            pool.close()
        jobs = [job(f"posts/c{i}.md", TRIVIAL) for i in range(args.posts)]
        run_jobs(root, jobs, workers=2)  # fills the cache
        start = time.perf_counter()
        again = run_jobs(root, jobs, workers=2)
        cached = (time.perf_counter() - start) / args.posts
        assert not again.executed
    ms = 1e3
    print(f"posts per measurement: {args.posts}")
    print(f"warm worker, trivial post:  median {warm[0] * ms:6.2f} ms  p90 {warm[1] * ms:6.2f} ms")
    print(
        f"warm worker, one check:     median {check[0] * ms:6.2f} ms  p90 {check[1] * ms:6.2f} ms"
        "  (the code's own run time excluded)"
    )
    print(f"cached result (rebuild):    {cached * ms:6.3f} ms per post")
    print(f"cold worker start:          {cold * ms:6.0f} ms (once per worker per build)")
    print("target: under 50 ms per post beyond the author's code")


if __name__ == "__main__":
    main()
