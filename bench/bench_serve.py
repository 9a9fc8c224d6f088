"""Save-to-visible latency of ``sitegen serve``, measured in a real browser.

    python bench/bench_serve.py [--n 100] [--edits 7] [--chromium /usr/bin/chromium]

Builds a synthetic corpus (bench/make_corpus.py) in a temporary folder, starts the live
preview in this process, opens a post in headless chromium (Playwright) and edits the
post's file several times. The page records, with a MutationObserver, the moment the new
text is in its DOM; the latency is that moment minus the moment just before the file was
written (both on this machine's clock). Three kinds of edit:

- prose in a post without code (the SPEC's target: under 100 ms);
- prose in a post with a verify block (results come from the verification cache);
- the verify block's code (the checks run again): time until the text shows, and until
  the "verifying…" badges have been replaced by results.

Medians, minima and maxima are printed, together with the server's own rebuild times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import make_corpus  # noqa: E402  (a sibling script, not a package)

from sitegen.model import BuildOptions  # noqa: E402
from sitegen.server import start_preview  # noqa: E402

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Installed in every document before its own scripts: remembers when a wanted text first
# appears in the article, and when no check is pending any more.
OBSERVER = """
window.__want = null; window.__seen = {}; window.__settled = {};
document.addEventListener('DOMContentLoaded', function () {
  function now() { return performance.timeOrigin + performance.now(); }
  function look() {
    var tag = window.__want;
    if (!tag) return;
    var article = document.querySelector('article') || document.body;
    if (!(tag in window.__seen) && article.textContent.indexOf(tag) >= 0) {
      window.__seen[tag] = now();
    }
    if (tag in window.__seen && !(tag in window.__settled)) {
      var pending = article.querySelector('.sg-check[data-status="pending"]');
      var done = article.querySelector('.sg-check[data-status]');
      if (!pending && done) window.__settled[tag] = now();
    }
  }
  new MutationObserver(look).observe(document.documentElement,
    {subtree: true, childList: true, characterData: true, attributes: true});
  look();
});
"""

MATHJAX_STUB = (
    "window.MathJax = Object.assign(window.MathJax || {}, "
    "{typesetPromise: function () { return Promise.resolve(); }, typesetClear: function () {}});\n"
)


def make_site(folder: Path, n: int) -> tuple[Path, Path, Path]:
    """A corpus of ``n`` posts; returns (root, a post without code, a post with a check)."""
    root = make_corpus.write_corpus(folder, n, peers=["sitegen"])["sitegen"]
    prose = make_corpus.make_post(n // 2)
    checked = make_corpus.make_post(n // 2 + 1, verify=True)
    prose_path = make_corpus.post_path("sitegen", root, prose)
    checked_path = make_corpus.post_path("sitegen", root, checked)
    checked_path.write_text(make_corpus.render_post("sitegen", checked), encoding="utf-8")
    (root / "assets").mkdir(exist_ok=True)
    (root / "assets" / "mathjax-stub.js").write_text(MATHJAX_STUB)
    config = root / "sitegen.toml"
    text = config.read_text() if config.exists() else 'title = "bench"\n'
    if "[math]" not in text:
        text += '\n[math]\nmathjax_url = "/assets/mathjax-stub.js"\n'
    config.write_text(text)
    return root, prose_path, checked_path


def url_of(preview, path: Path) -> str:
    rel = path.relative_to(preview.live.root).as_posix()
    page = preview.live.page_of[rel]
    return preview.url + page.removesuffix("index.html")


def timed_edit(page, path: Path, text: str, tag: str, settle: bool, timeout_ms: int) -> tuple:
    """Write ``text`` (which contains ``tag``); return (ms to visible, ms to settled)."""
    page.evaluate("tag => { window.__want = tag; }", tag)
    start = time.time() * 1000
    path.write_text(text, encoding="utf-8")
    page.wait_for_function("tag => tag in window.__seen", arg=tag, timeout=timeout_ms)
    seen = page.evaluate("tag => window.__seen[tag]", tag)
    settled = None
    if settle:
        page.wait_for_function("tag => tag in window.__settled", arg=tag, timeout=timeout_ms)
        settled = page.evaluate("tag => window.__settled[tag]", tag) - start
    return seen - start, settled


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<46} n/a"
    return (
        f"{name:<46} median {statistics.median(values):7.1f} ms   "
        f"min {min(values):7.1f}   max {max(values):7.1f}   (n={len(values)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="posts in the corpus")
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

    with tempfile.TemporaryDirectory(prefix="sitegen-bench-serve-") as tmp:
        root, prose_path, checked_path = make_site(Path(tmp), args.n)
        started = time.perf_counter()
        preview = start_preview(root, BuildOptions(), port=0, quiet=True)
        print(f"corpus: {args.n} posts; first build {time.perf_counter() - started:.2f} s")
        results: dict[str, list[float]] = {}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=LAUNCH_ARGS)
                page = browser.new_page()
                page.add_init_script(OBSERVER)
                preview.verifier.idle.wait(120)  # first verification pass of the corpus

                def run(kind: str, path: Path, edit, settle: bool) -> None:
                    page.goto(url_of(preview, path), wait_until="domcontentloaded")
                    page.wait_for_function("window.__sitegen && window.__sitegen.connected")
                    base = path.read_text(encoding="utf-8")
                    # the first edit moves lines (cached check results are keyed by line)
                    timed_edit(page, path, edit(base, "WARMUP"), "WARMUP", settle, 120_000)
                    preview.timings.clear()
                    for i in range(args.edits):
                        tag = f"EDIT{i}X{int(time.time() * 1000) % 100000}"
                        visible, settled = timed_edit(
                            page, path, edit(base, tag), tag, settle, 120_000
                        )
                        results.setdefault(f"{kind}: save → text visible", []).append(visible)
                        if settled is not None:
                            results.setdefault(f"{kind}: save → checks shown", []).append(settled)
                        time.sleep(0.2)  # let listing pages and verification finish
                    for what, label in (
                        ("visible", "server: change → edited page written"),
                        ("rebuild", "server: change → all pages written"),
                        ("verify", "server: verifying pass"),
                    ):
                        values = [ms for w, ms in preview.timings if w == what]
                        if values:
                            results[f"{kind}: {label}"] = values
                    path.write_text(base, encoding="utf-8")
                    time.sleep(0.5)

                def prose_edit(base: str, tag: str) -> str:
                    return base.replace(
                        "### Summary", f"An edited sentence, {tag}.\n\n### Summary", 1
                    )

                def code_edit(base: str, tag: str) -> str:
                    return base.replace(
                        "W = rng.standard_normal((3, 1))",
                        f"W = rng.standard_normal((3, 1))  # {tag}",
                        1,
                    )

                run("prose, post without code", prose_path, prose_edit, settle=False)
                run("prose, post with a verify block", checked_path, prose_edit, settle=True)
                run("code of the verify block", checked_path, code_edit, settle=True)
                patches = page.evaluate("window.__sitegen.patches")
                reloads = page.evaluate("window.__sitegen.reloads")
                browser.close()
        finally:
            preview.stop()
    print(f"browser: {args.chromium}; last page patched {patches} times, reloaded {reloads}")
    for name, values in results.items():
        print(summary(name, values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
