"""A post's code cannot change another post's results, hang the build, leave processes
behind or flood the disk, whatever it does; bad arguments fail only the post that passed
them. (Each case is a post found misbehaving this way, reduced.)"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sitegen_plugins.gradcheck.blocks import BlockOptions
from sitegen_plugins.gradcheck.processes import STDERR_LIMIT
from sitegen_plugins.gradcheck.runner import PostJob, WorkerPool, run_jobs

from sitegen.build import build_site
from sitegen.cli import main
from sitegen.model import BuildOptions


def block(code: str, line: int = 5, index: int = 0, kind: str = "verify", **options) -> dict:
    opts = BlockOptions(**options).__dict__
    return {"index": index, "kind": kind, "code": code, "line": line, "options": opts}


CORRECT = (
    "W = rng.standard_normal((3, 1))\n"
    "check_grad(lambda W: float(np.sum(W**2)), W, 2*W, name='sum of squares')\n"
)
WARNS = "x = np.array([1.0]) / np.array([0.0])\nprint('division gave', x)\n"
PRINTS = "import time\ntime.sleep(0.3)\nprint('f prints one line')\n"
POLLUTERS = {
    "a-patches-numpy.md": "np.sum = lambda *a, **k: 0.0\nnp.linalg.norm = None\n",
    "c-warnings-error.md": "import warnings\nwarnings.simplefilter('error')\n",
    "e-thread.md": (
        "import threading, time\n"
        "def spam():\n"
        "    for i in range(400):\n"
        "        print('SPAM from post e')\n"
        "        time.sleep(0.005)\n"
        "threading.Thread(target=spam, daemon=True).start()\n"
    ),
    "g-globals.md": "import os, sys\nsys.path.insert(0, '/nowhere')\nnp.random.seed(99)\n"
    "import builtins\nbuiltins.print = lambda *a, **k: None\n",
}
INNOCENT = {"b-correct.md": CORRECT, "d-warns.md": WARNS, "f-prints.md": PRINTS}


def _essence(result: dict) -> list:
    """What a reader sees of a post's result (not timings)."""
    return [
        (
            b["error"],
            b["output"],
            [(c["name"], c["status"], c["message"]) for c in b["checks"]],
        )
        for b in result["blocks"]
    ]


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_what_one_post_does_to_numpy_warnings_threads_or_builtins_reaches_no_other(
    tmp_path, start
):
    if start == "fork" and not hasattr(os, "fork"):
        pytest.skip("this platform has no fork: every post is spawned")
    alone = {}
    pool = WorkerPool(size=1, cwd=tmp_path, start=start)
    try:
        for rel, code in INNOCENT.items():
            alone[rel] = _essence(pool.run(PostJob(rel, [block(code)])))
        # the polluters in random orders among the innocent posts, one warm parent
        names = list(POLLUTERS) + list(INNOCENT)
        for seed in range(2 if start == "fork" else 1):
            random.Random(seed).shuffle(names)
            codes = {**POLLUTERS, **INNOCENT}
            jobs = [PostJob(rel, [block(codes[rel])]) for rel in names]
            v = run_jobs(tmp_path, jobs, workers=1, rerun=True, pool=pool)
            for rel in INNOCENT:
                assert _essence(v.results[rel]) == alone[rel], (seed, names)
    finally:
        pool.close()
    assert alone["b-correct.md"][0][2][0][1] == "pass"
    error, output, _ = alone["d-warns.md"][0]
    assert error is None and "RuntimeWarning: divide by zero" in output
    assert output.endswith("division gave [inf]\n")
    assert alone["f-prints.md"][0][1] == "f prints one line\n"
    if start == "fork":
        assert pool.started == 1  # one warm parent served every post


def test_fork_in_a_block_never_moves_results_between_posts(tmp_path):
    def check(n: int, grad: str) -> str:
        return (
            f"W = rng.standard_normal(({n}, 1))\n"
            f"check_grad(lambda W: float(np.sum(W**2)), W, {grad}, name='check-of-p{n}')\n"
            f"print('output of p{n}')\n"
        )

    forks = "import os\nos.fork()\nos.fork()\nprint('forked')\n"
    jobs = [PostJob("z-forks.md", [block(forks)])]
    for n in range(1, 6):
        jobs.append(PostJob(f"p{n}.md", [block(check(n, "3*W" if n == 3 else "2*W"))]))
    v = run_jobs(tmp_path, jobs, workers=1, rerun=True)
    for n in range(1, 6):
        (result,) = v.results[f"p{n}.md"]["blocks"]
        (own,) = result["checks"]
        assert own["name"] == f"check-of-p{n}" and result["output"] == f"output of p{n}\n"
        assert own["status"] == ("fail" if n == 3 else "pass")
    # the forked copies' results are not the post's: it reports its own process once
    (forked,) = v.results["z-forks.md"]["blocks"]
    assert forked["output"] == "forked\n" and forked["error"] is None


BAD_ARGUMENTS = [
    ("name=object()", "check_grad: name must be a string, not object"),
    ("name=5", "check_grad: name must be a string, not int"),
    ("name=lambda: 0", "check_grad: name must be a string, not function"),
    ("eq=['a']", "check_grad: eq must be a string, not list"),
    ("rtol='big'", "check_grad: rtol must be a number, not str"),
]


def test_a_bad_argument_is_that_posts_error_naming_it_and_nothing_else(tmp_path, capsys):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "posts" / "2024-01-01-good.md").write_text(
        f"---\ntitle: good\n---\n\n```python verify\n{CORRECT}```\n", encoding="utf-8"
    )
    for day, (argument, _) in enumerate(BAD_ARGUMENTS, start=2):
        code = (
            "W = rng.standard_normal((3, 1))\n"
            f"check_grad(lambda W: float(np.sum(W**2)), W, 2*W, {argument})\n"
        )
        (root / "posts" / f"2024-01-{day:02d}-bad{day}.md").write_text(
            f"---\ntitle: bad {day}\n---\n\nText of bad {day}.\n\n```python verify\n{code}```\n",
            encoding="utf-8",
        )
    out = tmp_path / "out"
    result = build_site(root, BuildOptions(out=out, jobs=2))

    report = json.loads((out / "verification.json").read_text())
    rows = {p["source"]: p["checks"] for p in report["posts"]}
    assert [c["status"] for c in rows["posts/2024-01-01-good.md"]] == ["pass"]
    for day, (_, words) in enumerate(BAD_ARGUMENTS, start=2):
        rel = f"posts/2024-01-{day:02d}-bad{day}.md"
        (error,) = rows[rel]
        assert error["status"] == "error" and words in error["message"] + error["detail"]
        assert error["line"] == 9  # the line that called check_grad
        page = (out / f"2024/01/{day:02d}/bad{day}/index.html").read_text()
        assert f"Text of bad {day}." in page and 'data-status="error"' in page
        assert any(d.path == rel and words in d.message for d in result.site.report.diagnostics)
    cache = root / ".sitegen-cache"
    assert not [p for p in cache.rglob("*") if p.name.endswith(".tmp")]
    capsys.readouterr()
    assert main(["check", "-s", str(root)]) == 1
    text = capsys.readouterr().out
    assert "posts/2024-01-01-good.md:7: sum of squares PASSED" in text
    assert f"1 passed, {len(BAD_ARGUMENTS)} errors" in text


def _run_with_hang_guard(tmp_path: Path, jobs: list[PostJob], start: str = "fork") -> dict:
    """run_jobs in a thread; a build that hangs fails the test instead of stalling it."""
    box: dict = {}
    pool = WorkerPool(size=1, cwd=tmp_path, start=start)

    def run() -> None:
        try:
            box.update(v=run_jobs(tmp_path, jobs, workers=1, rerun=True, pool=pool))
        finally:
            pool.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(300)  # a guard against a hang, far above any run's time, not a speed check
    assert not thread.is_alive(), "verification hung"
    return box["v"].results


START_METHODS = ["fork", "spawn"] if hasattr(os, "fork") else ["spawn"]


@pytest.mark.parametrize("start", START_METHODS)
def test_garbage_on_the_result_channel_fails_that_post_and_never_hangs(tmp_path, start):
    # garbage on every descriptor the process holds, then a sleep the block's alarm cannot
    # end: only the builder's deadline can
    garbage = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "for name in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        os.write(int(name), b'\\x00\\x10\\x00\\x00' * 8)\n"
        "    except OSError:\n"
        "        pass\n"
        "time.sleep(3600)\n"
    )
    short = "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ntime.sleep(3600)\n"
    jobs = [
        PostJob("posts/garbage.md", [block(garbage)], timeout=1),
        PostJob("posts/silent.md", [block(short)], timeout=1),
        PostJob("posts/fine.md", [block(CORRECT)]),
    ]
    results = _run_with_hang_guard(tmp_path, jobs, start)
    (bad,) = results["posts/garbage.md"]["blocks"]
    assert bad["error_kind"] == "channel"
    assert "result channel received bytes that sitegen did not send" in bad["error"]
    (silent,) = results["posts/silent.md"]["blocks"]
    assert silent["error_kind"] == "timeout" and "1 s" in silent["error"]
    assert results["posts/fine.md"]["blocks"][0]["checks"][0]["status"] == "pass"
    # both are kept for this process only (a new process runs them again, see
    # test_gradcheck_reuse): a second run here reuses the errors instead of waiting again
    again = run_jobs(tmp_path, jobs, workers=1)
    assert again.executed == []
    assert again.results["posts/garbage.md"]["blocks"][0]["error_kind"] == "channel"
    assert again.results["posts/silent.md"]["blocks"][0]["error_kind"] == "timeout"


def _alive_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="lists processes via /proc")
@pytest.mark.parametrize("start", START_METHODS)
def test_processes_a_post_starts_end_with_it_and_the_reason_is_the_real_one(tmp_path, start):
    marker = f"sitegen-test-{uuid.uuid4().hex}"
    sleeper = f"[{sys.executable!r}, '-c', 'import time; time.sleep(300)', {marker!r}]"
    child_then_exit = f"import subprocess, os\nsubprocess.Popen({sleeper})\nos._exit(3)\n"
    # a forked child that keeps the result pipe open, and one that execs
    fork_holds_pipe = (
        "import os, time\n"
        f"if os.fork() == 0:\n    time.sleep(300)\n"
        f"if os.fork() == 0:\n    os.execv({sys.executable!r}, {sleeper})\n"
        "os._exit(4)\n"
    )
    # programs that leave the post's process group: a new session, and a double fork
    escapes = (
        "import os, subprocess\n"
        f"subprocess.Popen({sleeper}, start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv({sys.executable!r}, {sleeper})\n"
        "    os._exit(0)\n"
        "print('started')\n"
    )
    jobs = [
        PostJob("posts/child.md", [block(child_then_exit)], timeout=60),
        PostJob("posts/fork.md", [block(fork_holds_pipe)], timeout=60),
    ]
    if start == "fork":  # on Linux, where forking is used, the warm parent ends these too
        jobs.append(PostJob("posts/escapes.md", [block(escapes)], timeout=60))
    results = _run_with_hang_guard(tmp_path, jobs, start)
    if start == "fork":
        assert results["posts/escapes.md"]["blocks"][0]["output"] == "started\n"
    (child,) = results["posts/child.md"]["blocks"]
    assert child["error_kind"] == "crash" and "exited with status 3" in child["error"]
    (fork,) = results["posts/fork.md"]["blocks"]
    assert fork["error_kind"] == "crash" and "exited with status 4" in fork["error"]
    # killed with the post's process group before its exit was reported (a SIGKILL takes
    # effect a moment later: wait for that, not for the sleeps' 300 s)
    for _ in range(100):
        if not _alive_with(marker):
            break
        time.sleep(0.1)
    assert _alive_with(marker) == []


@pytest.mark.parametrize("start", START_METHODS)
def test_every_output_channel_is_capped(tmp_path, start):
    flood = (
        "import os\n"
        f"for i in range({STDERR_LIMIT // 100_000 * 5}):\n"
        "    os.write(2, b'x' * 100_000)\n"
        "print('never reached')\n"
    )
    printer = "while True:\n    print('y' * 1000)\n"
    jobs = [
        PostJob("posts/flood.md", [block(flood, kind="exec")]),
        PostJob("posts/printer.md", [block(printer)]),
        PostJob("posts/fine.md", [block(CORRECT)]),
    ]
    results = _run_with_hang_guard(tmp_path, jobs, start)
    (flooded,) = results["posts/flood.md"]["blocks"]
    assert f"wrote more than {STDERR_LIMIT:,} bytes to standard error (fd 2)" in flooded["error"]
    (printed,) = results["posts/printer.md"]["blocks"]
    assert printed["error_kind"] == "output" and "printed more than" in printed["error"]
    assert results["posts/fine.md"]["blocks"][0]["checks"][0]["status"] == "pass"


def test_lone_surrogates_in_a_name_or_output_reach_no_output_file(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text('title = "misc"\nurl = "https://example.org"\n')
    posts = {
        "a": "W = rng.standard_normal((3, 1))\n"
        "check_grad(lambda W: float(np.sum(W**2)), W, 2*W, name='bad \\udcff name')\n",
        "b": "print('out \\ud800 put')\n",
    }
    for day, (slug, code) in enumerate(posts.items(), start=1):
        (root / "posts" / f"2024-01-0{day}-{slug}.md").write_text(
            f"---\ntitle: {slug}\n---\n\nPost {slug}.\n\n```python verify\n{code}```\n",
            encoding="utf-8",
        )
    out = tmp_path / "out"
    result = build_site(root, BuildOptions(out=out, jobs=1))
    assert not result.site.report.errors
    a = (out / "2024/01/01/a/index.html").read_text(encoding="utf-8")
    assert "bad \ufffd name" in a and 'data-status="pass"' in a
    b = (out / "2024/01/02/b/index.html").read_text(encoding="utf-8")
    assert "out \ufffd put" in b
    import xml.etree.ElementTree as ET

    entries = ET.parse(out / "feed.xml").getroot().findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 2


def test_a_site_built_with_one_worker_caches_only_each_posts_own_results(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    codes = {**POLLUTERS, **INNOCENT}
    # newest first is the order posts run in: each polluter runs before an innocent post
    order = ["f-prints.md", "e-thread.md", "d-warns.md", "c-warnings-error.md",
             "b-correct.md", "a-patches-numpy.md"]
    for day, name in enumerate(order, start=1):
        kind = "verify" if name.startswith(("a", "b")) else "exec"
        (root / "posts" / f"2024-01-{day:02d}-{name}").write_text(
            f"---\ntitle: {name}\n---\n\n```python {kind}\n{codes[name]}```\n", encoding="utf-8"
        )

    def innocent_results(out):
        report = json.loads((out / "verification.json").read_text())
        rows = {p["source"]: p["checks"] for p in report["posts"]}
        b = [(c["name"], c["status"]) for c in rows["posts/2024-01-05-b-correct.md"]]
        pages = {
            name: (out / f"2024/01/{day:02d}/{name[:-3]}/index.html").read_text()
            for day, name in enumerate(order, start=1)
        }
        return b, pages

    first = build_site(root, BuildOptions(out=tmp_path / "one", jobs=1))
    b, pages = innocent_results(tmp_path / "one")
    assert b == [("sum of squares", "pass")]
    assert "SPAM" not in pages["f-prints.md"] and "f prints one line" in pages["f-prints.md"]
    assert not [d for d in first.site.report.diagnostics if "d-warns" in d.path]
    # the polluters made harmless: the innocent posts' cached results are what they were
    for day, name in enumerate(order, start=1):
        if name in POLLUTERS:
            path = root / "posts" / f"2024-01-{day:02d}-{name}"
            path.write_text(path.read_text().replace(codes[name], "x = 1\n"))
    second = build_site(root, BuildOptions(out=tmp_path / "two", jobs=1))
    b_again, pages_again = innocent_results(tmp_path / "two")
    assert b_again == b
    assert pages_again["f-prints.md"] == pages["f-prints.md"]
    assert not [d for d in second.site.report.diagnostics if "d-warns" in d.path]
