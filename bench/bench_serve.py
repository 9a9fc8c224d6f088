"""Save-to-visible latency of ``sitegen serve``: over HTTP and in a real browser.

    python bench/bench_serve.py [--n 1000] [--edits 7] [--chromium /usr/bin/chromium]

Builds a synthetic corpus (bench/make_corpus.py) in a temporary folder and runs
``sitegen serve`` on it in a process of its own, as a user does (and as ``bench/run.py``
does). Each timed edit appends a paragraph holding a fresh marker to a post
(``edit_timing.edit_post``, the edit ``bench/run.py`` makes) and measures from just
before the file is written:

- save → served over HTTP: until a GET of the post's URL returns the marker
  (``edit_timing.wait_served``, the figure ``bench/run.py`` reports);
- save → shown in the browser: until the marker is in the DOM of the post open in
  headless Chromium (Playwright; a MutationObserver notes the moment), which adds the
  event, the page's fetch and its patch to the above.

Three posts are edited: one without code (the SPEC's target: under 100 ms at 1,000
posts), one with a verify block (its results come from the cache), and the verify
block's code itself (the check runs again before the page shows). Medians, minima and
maxima are printed, with the server's own rebuild times (its ``rebuilt: … in N ms``
lines: the whole rebuild, listing pages included, which the edited page does not wait
for).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import make_corpus  # noqa: E402  (sibling scripts, not a package)
from edit_timing import edit_post, fetch, rebuilds_logged, wait_rebuilt, wait_served  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Installed in every document before its own scripts: remembers when a wanted text first
# appears in the article.
OBSERVER = """
window.__want = null; window.__seen = {};
document.addEventListener('DOMContentLoaded', function () {
  function now() { return performance.timeOrigin + performance.now(); }
  function look() {
    var tag = window.__want;
    if (!tag || tag in window.__seen) return;
    var article = document.querySelector('article') || document.body;
    if (article.textContent.indexOf(tag) >= 0) window.__seen[tag] = now();
  }
  new MutationObserver(look).observe(document.documentElement,
    {subtree: true, childList: true, characterData: true});
  look();
});
"""

MATHJAX_STUB = (
    "window.MathJax = Object.assign(window.MathJax || {}, "
    "{typesetPromise: function () { return Promise.resolve(); }, typesetClear: function () {}});\n"
)

REBUILT = re.compile(r"rebuilt: .* in (\d+) ms")


def make_site(folder: Path, n: int) -> tuple[Path, dict[str, tuple[Path, str]]]:
    """A corpus of ``n`` posts, MathJax stubbed out (the page's own work is not timed);
    returns the root and, by kind of edit, (the post's file, its URL path)."""
    root = make_corpus.write_corpus(folder, n, peers=["sitegen"])["sitegen"]
    prose = make_corpus.make_post(n // 2)
    checked = make_corpus.make_post(n // 2 + 1, verify=True)
    checked_path = make_corpus.post_path("sitegen", root, checked)
    checked_path.write_text(make_corpus.render_post("sitegen", checked), encoding="utf-8")
    (root / "assets").mkdir(exist_ok=True)
    (root / "assets" / "mathjax-stub.js").write_text(MATHJAX_STUB)
    config = root / "sitegen.toml"
    text = config.read_text() if config.exists() else 'title = "bench"\n'
    if "[math]" not in text:
        text += '\n[math]\nmathjax_url = "/assets/mathjax-stub.js"\n'
    config.write_text(text)
    posts = {}
    for kind, post in (("prose", prose), ("checked", checked)):
        posts[kind] = (make_corpus.post_path("sitegen", root, post),
                       f"/{post.date:%Y/%m/%d}/{post.slug}/")
    return root, posts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<52} n/a"
    return (
        f"{name:<52} median {statistics.median(values):7.1f} ms   "
        f"min {min(values):7.1f}   max {max(values):7.1f}   (n={len(values)})"
    )


def code_edit(original: str, marker: str) -> str:
    """The verify block's code changed (a comment, so the check still passes) and the
    marker in the prose, where the page shows it."""
    code = original.replace(
        "W = rng.standard_normal((3, 1))", f"W = rng.standard_normal((3, 1))  # {marker}", 1
    )
    return code + f"\nEdited for the benchmark: {marker}.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="posts in the corpus")
    parser.add_argument("--edits", type=int, default=7, help="timed edits of each kind")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright is not installed: pip install playwright", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no browser at {args.chromium}", file=sys.stderr)
        return 2

    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="sitegen-bench-serve-") as tmp:
        root, posts = make_site(Path(tmp), args.n)
        port = free_port()
        log_path = Path(tmp) / "serve.log"
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONDONTWRITEBYTECODE": ""}
        started = time.perf_counter()
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "sitegen", "serve", "--port", str(port)],
                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            while fetch(base + posts["prose"][1]) is None:
                if server.poll() is not None or time.perf_counter() - started > 600:
                    print(log_path.read_text(errors="replace")[-2000:], file=sys.stderr)
                    return 1
                time.sleep(0.1)
            print(f"corpus: {args.n} posts; serving after {time.perf_counter() - started:.2f} s")
            time.sleep(1.0)  # let the watcher settle after the first build

            def timed(kind: str, label: str, edit, page=None) -> None:
                path, url = posts[kind]
                original = path.read_text(encoding="utf-8")
                if page is not None:
                    page.goto(base + url, wait_until="domcontentloaded")
                    page.wait_for_function("window.__sitegen && window.__sitegen.connected")
                log_start = log_path.stat().st_size
                for i in range(-1, args.edits):  # the first edit warms up, untimed
                    marker = f"EDIT{i + 1}X{time.time_ns() % 10**9}"
                    if page is not None:
                        page.evaluate("tag => { window.__want = tag; }", marker)
                    logged = rebuilds_logged(log_path)
                    start, wall = time.perf_counter(), time.time() * 1000
                    edit(path, original, marker)
                    if page is None:
                        seen = wait_served(base + url, marker, start)
                        if seen is None:
                            raise RuntimeError(f"{label}: the edit never showed")
                        ms = seen * 1000
                    else:
                        page.wait_for_function("t => t in window.__seen", arg=marker,
                                               timeout=120_000)
                        ms = page.evaluate("t => window.__seen[t]", marker) - wall
                    if i >= 0:
                        results.setdefault(label, []).append(ms)
                    wait_rebuilt(log_path, logged)  # saves come seconds apart, not queued
                    time.sleep(0.2)
                logged = rebuilds_logged(log_path)
                path.write_text(original, encoding="utf-8")
                wait_rebuilt(log_path, logged)
                with open(log_path, encoding="utf-8", errors="replace") as fh:
                    fh.seek(log_start)
                    rebuilds = [float(m) for m in REBUILT.findall(fh.read())]
                # the first line is the warm-up edit's, the last the restoring write's
                results.setdefault(f"{label.split(':')[0]}: server's whole rebuild",
                                   []).extend(rebuilds[1 : args.edits + 1])

            def prose_edit(path: Path, original: str, marker: str) -> None:
                edit_post(path, original, marker)

            def verify_edit(path: Path, original: str, marker: str) -> None:
                path.write_text(code_edit(original, marker), encoding="utf-8")

            timed("prose", "prose, post without code: save → served (HTTP)", prose_edit)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=LAUNCH_ARGS)
                page = browser.new_page()
                page.add_init_script(OBSERVER)
                timed("prose", "prose, post without code: save → shown in browser",
                      prose_edit, page)
                timed("checked", "prose, post with a verify block: save → shown in browser",
                      prose_edit, page)
                timed("checked", "code of the verify block: save → shown in browser",
                      verify_edit, page)
                patches = page.evaluate("window.__sitegen.patches")
                reloads = page.evaluate("window.__sitegen.reloads")
                browser.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    load = os.getloadavg()
    print(f"browser: {args.chromium}; last page patched {patches} times, reloaded {reloads}")
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for name, values in results.items():
        print(summary(name, values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
