"""Headless Debian chromium for tests: find it (fail under CI, skip elsewhere), load a page,
and read what MathJax made of it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MATHJAX = REPO / "node_modules" / "mathjax" / "es5" / "tex-chtml-full.js"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--allow-file-access-from-files",
]


def unavailable(message: str) -> None:
    """A missing tool fails the test under CI (where .ci/run installs it), skips elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def require(path: Path | None, what: str) -> None:
    if path is None or not Path(path).exists():
        unavailable(f"{what} is not installed (see .ci/run)")


PLAYWRIGHT_CHROMIUM = os.environ.get("SITEGEN_CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


def playwright_chromium() -> Iterator[object]:
    """Debian's chromium driven by Playwright, for a module-scoped ``browser`` fixture."""
    if not (Path(PLAYWRIGHT_CHROMIUM).exists() or shutil.which(PLAYWRIGHT_CHROMIUM)):
        unavailable(f"no browser at {PLAYWRIGHT_CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=PLAYWRIGHT_CHROMIUM, args=PLAYWRIGHT_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    require(Path(found) if found else None, "chromium")
    return found  # type: ignore[return-value]


def mathjax_file() -> Path:
    require(MATHJAX, "MathJax 3 (npm install --no-save mathjax@3)")
    return MATHJAX


def dump_dom(url: str, budget_ms: int = 15000) -> str:
    """The DOM after the page's scripts ran (virtual time lets MathJax finish)."""
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    return proc.stdout


# Appended to a page under test: after MathJax has typeset, list the formulas it could not
# parse (merror), the undefined macros it coloured red, and the references it left as ???.
MATHJAX_PROBE = """
<script>
window.addEventListener('load', () => MathJax.startup.promise.then(() => {
  const report = {n: 0, errors: [], unresolved: []};
  for (const item of MathJax.startup.document.math) {
    report.n += 1;
    const mml = MathJax.startup.toMML(item.root);
    if (mml.includes('<merror') || mml.includes('mathcolor="red"')) report.errors.push(item.math);
    if (mml.includes('???')) report.unresolved.push(item.math);
  }
  document.body.setAttribute('data-mathjax-report', JSON.stringify(report));
}));
</script>
"""


def mathjax_report(page: Path) -> dict:
    """Load a built page with the local MathJax in chromium and return the probe's report."""
    html = page.read_text(encoding="utf-8")
    src = re.search(r'<script[^>]+src="([^"]*mathjax[^"]*)"', html, re.IGNORECASE)
    assert src, f"{page} loads no MathJax"
    html = html.replace(src.group(1), mathjax_file().as_uri())
    html = html.replace("</body>", MATHJAX_PROBE + "</body>")
    probe = page.with_name("mathjax-probe.html")
    probe.write_text(html, encoding="utf-8")
    dom = dump_dom(probe.as_uri())
    found = re.search(r'data-mathjax-report="([^"]*)"', dom)
    assert found, f"MathJax did not finish on {page}"
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return json.loads(text.replace("&amp;", "&"))
