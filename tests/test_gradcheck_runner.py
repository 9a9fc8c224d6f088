"""The runner: warm workers, per-block limits, tracebacks, the result cache, serve's passes."""

from __future__ import annotations

import shutil
from pathlib import Path

from sitegen_plugins.gradcheck.blocks import BlockOptions
from sitegen_plugins.gradcheck.runner import (
    Environment,
    PostJob,
    WorkerPool,
    cache_key,
    run_jobs,
)

from sitegen.build import build_site
from sitegen.model import BuildOptions


def block(index: int, code: str, line: int, **options) -> dict:
    opts = BlockOptions(**options).__dict__
    return {"index": index, "kind": "verify", "code": code, "line": line, "options": opts}


def test_a_crashing_post_leaves_the_warm_parent_serving_the_next(tmp_path):
    pool = WorkerPool(size=1, cwd=tmp_path)
    jobs = [
        PostJob("a.md", [block(0, "x = np.ones(2)\n", 3)]),
        PostJob("b.md", [block(0, "import os\nos._exit(5)\n", 3)]),
        PostJob("c.md", [block(0, "y = np.zeros((2, 3))\n", 3)]),
    ]
    try:
        v = run_jobs(tmp_path, jobs, workers=1, rerun=True, pool=pool)
    finally:
        pool.close()
    assert v.results["a.md"]["blocks"][0]["arrays"][0]["shape"] == [2]
    assert "exited with status 5" in v.results["b.md"]["blocks"][0]["error"]
    assert v.results["c.md"]["blocks"][0]["error"] is None
    assert pool.started == 1  # b's os._exit ended b's own process, not the warm parent


def test_block_timeout_option_and_tracebacks_at_file_lines(tmp_path):
    jobs = [
        PostJob("posts/slow.md", [block(0, "import time\nwhile True:\n    time.sleep(0.01)\n",
                                        20, timeout=0.3)], timeout=30),
        PostJob("posts/bug.md", [block(0, "a = 1\n\ndef f():\n    return a / 0\nf()\n", 40)]),
        PostJob("posts/syntax.md", [block(0, "a = 1\nb = (\n", 7)]),
    ]
    v = run_jobs(tmp_path, jobs, workers=2, rerun=True)
    slow = v.results["posts/slow.md"]["blocks"][0]
    assert slow["error_kind"] == "timeout" and "0.3 s" in slow["error"]
    bug = v.results["posts/bug.md"]["blocks"][0]
    assert 'File "posts/bug.md", line 43, in f' in bug["error"]
    assert "return a / 0" in bug["error"] and bug["error_line"] == 43
    syntax = v.results["posts/syntax.md"]["blocks"][0]
    assert syntax["error_kind"] == "syntax" and 'File "posts/syntax.md", line 8' in syntax["error"]


POST = """---
title: Cached
---

$$
\\frac{{\\partial L}}{{\\partial w}} = 2w \\label{{eq:w}}
$$

```python verify
with open({marker!r}, "a") as f:
    f.write("ran\\n")
w = np.arange(3.0)
check_grad(lambda w: np.sum(w ** 2), w, {grad}, name="∂L/∂w", eq="eq:w")
```
"""


def test_second_build_runs_no_code_and_rerun_or_an_edit_does(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    marker = tmp_path / "runs.txt"  # outside the site: the block appends a line per run
    post = root / "posts" / "2024-01-01-cached.md"
    post.write_text(POST.format(marker=str(marker), grad="2 * w"), encoding="utf-8")

    def build(**options) -> dict:
        result = build_site(root, BuildOptions(out=tmp_path / "out", **options))
        return result.site.data

    assert build()["gradcheck_executed"] == ["posts/2024-01-01-cached.md"]
    assert build()["gradcheck_executed"] == []
    assert marker.read_text().count("ran") == 1

    build(rerun=True)
    assert marker.read_text().count("ran") == 2

    # a build that verifies nothing keeps the results for the next one that does
    assert "gradcheck_executed" not in build(extra={"verify": False})
    assert "gradcheck_executed" not in build(extra={"verify": False})  # bodies cached
    assert build()["gradcheck_executed"] == []
    assert marker.read_text().count("ran") == 2
    shutil.rmtree(root / ".sitegen-cache")  # the results live in the site's one cache
    assert build()["gradcheck_executed"] == ["posts/2024-01-01-cached.md"]


def test_cache_key_changes_with_code_options_and_versions():
    env = Environment("2.0", "3.11.7", "0.1.0", "abc")
    job = PostJob("p.md", [block(0, "x = 1\n", 5)])
    key = cache_key(job, env)
    assert cache_key(PostJob("p.md", [block(0, "x = 1\n", 5)]), env) == key
    assert cache_key(PostJob("p.md", [block(0, "x = 2\n", 5)]), env) != key
    assert cache_key(PostJob("p.md", [block(0, "x = 1\n", 5, rtol=1e-3)]), env) != key
    assert cache_key(PostJob("p.md", [block(0, "x = 1\n", 5)], seed=1), env) != key
    assert cache_key(job, Environment("2.1", "3.11.7", "0.1.0", "abc")) != key


def test_serve_first_pass_shows_cached_results_and_marks_the_rest_pending(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    marker = tmp_path / "runs.txt"
    cached = root / "posts" / "2024-01-01-cached.md"
    cached.write_text(POST.format(marker=str(marker), grad="2 * w"), encoding="utf-8")
    build_site(root, BuildOptions(out=tmp_path / "out"))
    fresh = root / "posts" / "2024-01-02-fresh.md"
    fresh.write_text(POST.format(marker=str(marker), grad="2.0 * w"), encoding="utf-8")

    options = BuildOptions(out=tmp_path / "out2", serve=True, extra={"verify": False})
    result = build_site(root, options)
    assert marker.read_text().count("ran") == 1  # the first pass runs nothing
    posts = {p.rel: p for p in result.site.posts}
    assert not posts["posts/2024-01-01-cached.md"].data.get("verify_pending")
    assert posts["posts/2024-01-02-fresh.md"].data["verify_pending"] is True
    out = Path(tmp_path / "out2" / "2024/01/01/cached/index.html").read_text()
    assert 'data-status="pass"' in out
    pending = Path(tmp_path / "out2" / "2024/01/02/fresh/index.html").read_text()
    assert 'data-status="pending"' in pending and "verifying" in pending


def test_a_post_never_sees_what_an_earlier_post_did_to_the_worker(tmp_path):
    messy = "import os\nnp.set_printoptions(precision=2)\nos.chdir('/')\nnp.random.rand(5)\n"
    probe = "import os\nprint(np.random.rand(), np.get_printoptions()['precision'], os.getcwd())\n"
    seeded = "print(rng.random())\n"
    pool = WorkerPool(size=1, cwd=tmp_path)
    try:
        first = pool.run(PostJob("a.md", [block(0, probe, 1)]))
        pool.run(PostJob("b.md", [block(0, messy, 1)]))
        again = pool.run(PostJob("c.md", [block(0, probe, 1)]))
        by_block = pool.run(PostJob("d.md", [block(0, seeded, 1, seed=5)]))
        by_post = pool.run(PostJob("e.md", [block(0, seeded, 1)], seed=5))
    finally:
        pool.close()
    assert first["blocks"][0]["output"] == again["blocks"][0]["output"]
    assert str(tmp_path) in again["blocks"][0]["output"]
    assert by_block["blocks"][0]["output"] == by_post["blocks"][0]["output"]
    assert pool.started == 1


def test_checks_in_helpers_and_large_error_maps(tmp_path):
    helper = "def verify(f, x, g):\n    return check_grad(f, x, g, name='helper')\n"
    use = (
        "W = np.ones((20, 100))\n"
        "verify(lambda W: np.sum(W ** 2), W, 2 * W)\n"
        "verify(lambda W: np.sum(W ** 2), W, 2 * W.T.T + (np.arange(100) == 7))\n"
    )
    v = run_jobs(tmp_path, [PostJob("p.md", [block(0, helper, 10), block(1, use, 20)])],
                 workers=1, rerun=True)
    ok, bad = v.results["p.md"]["blocks"][1]["checks"]
    assert ok["status"] == "pass" and ok["line"] == 11 and ok["trace"] == "g : 20×100, matching x"
    assert bad["status"] == "fail"
    grid = bad["error_map"]
    assert grid and len(grid) <= 48 and max(len(row) for row in grid) <= 48  # pooled in the worker


def test_each_result_is_told_as_it_comes_cached_or_run(tmp_path):
    jobs = [PostJob(f"p{i}.md", [block(0, f"x{i} = np.ones({i + 1})\n", 1)]) for i in range(2)]
    seen = []
    v = run_jobs(tmp_path, jobs, workers=2, on_result=lambda rel, result: seen.append(rel))
    assert sorted(seen) == ["p0.md", "p1.md"] and sorted(v.executed) == ["p0.md", "p1.md"]
    assert v.results["p1.md"]["blocks"][0]["arrays"][0]["shape"] == [2]
    again = []
    v = run_jobs(tmp_path, jobs, workers=2, on_result=lambda rel, result: again.append(rel))
    assert sorted(again) == ["p0.md", "p1.md"] and v.executed == []  # from the cache


def test_the_posts_whose_code_ran_are_counted_over_every_batch(tmp_path, monkeypatch):
    import sitegen.bodies

    monkeypatch.setattr(sitegen.bodies, "BATCH_POSTS", 1)  # one post per batch
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    marker = tmp_path / "runs.txt"
    names = [f"posts/2024-01-0{day}-cached.md" for day in (1, 2, 3)]
    for name in names:
        (root / name).write_text(POST.format(marker=str(marker), grad="2 * w"), encoding="utf-8")
    first = build_site(root, BuildOptions(out=tmp_path / "out", jobs=1))
    assert first.site.data["gradcheck_executed"] == names
    assert marker.read_text().count("ran") == 3
    again = build_site(root, BuildOptions(out=tmp_path / "out", jobs=1))
    assert again.site.data["gradcheck_executed"] == []

