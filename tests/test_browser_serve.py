"""End to end in a real browser: Debian's chromium, driven by Playwright, watches a post
while its file is edited, broken and fixed.

Skipped when the browser or Playwright is missing, except with ``CI=true``, where that is
a failure: CI installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegen.model import BuildOptions
from sitegen.server import Preview, start_preview
from tests.browser import playwright_chromium

POST = "2026-03-04-live.md"
POST_URL = "2026/03/04/live/"

# Stands in for MathJax (no network in tests): counts what it is asked to typeset.
MATHJAX_STUB = """
window.__typeset = [];
window.MathJax = Object.assign(window.MathJax || {}, {
  typesetPromise: function (els) {
    (els || []).forEach(function (el) { window.__typeset.push(el.textContent); });
    return Promise.resolve();
  },
  typesetClear: function () {},
  texReset: function () { window.__texResets = (window.__texResets || 0) + 1; }
});
"""


def post_text(extra: str = "") -> str:
    return (
        "---\ntitle: Live post\n---\n\n"
        "First paragraph with $x^2$ math.\n\n"
        f"Second paragraph. {extra}\n\n"
        "Third paragraph with $y_1$.\n"
    )


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[Preview]:
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "assets" / "mathjax-stub.js").write_text(MATHJAX_STUB)
    (root / "sitegen.toml").write_text(
        'title = "Browser test"\n[math]\nmathjax_url = "/assets/mathjax-stub.js"\n'
    )
    (root / "posts" / POST).write_text(post_text(), encoding="utf-8")
    (root / "posts" / "2026-03-01-other.md").write_text("---\ntitle: Other\n---\n\nOther.\n")
    running = start_preview(root, BuildOptions(), port=0, quiet=True)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from playwright_chromium()


def test_edit_break_fix_in_the_browser(preview: Preview, browser) -> None:
    page = browser.new_page()
    page.goto(preview.url + POST_URL)
    page.wait_for_function("window.__sitegen && window.__sitegen.connected === true")
    page.evaluate("window.__notReloaded = true")
    source = preview.live.root / "posts" / POST

    # 1. a prose edit appears without a reload, patched in place, math re-typeset
    source.write_text(post_text("Freshly typed words with $z$."), encoding="utf-8")
    page.wait_for_function(
        "document.querySelector('article').textContent.includes('Freshly typed words')"
    )
    assert page.evaluate("window.__notReloaded") is True
    assert page.evaluate("window.__sitegen.patches") >= 1
    typeset = page.evaluate("window.__typeset")
    assert any("Freshly typed" in text for text in typeset)
    assert not any("First paragraph" in text for text in typeset)  # untouched stays as is

    # 1b. a new numbered equation: numbering is page-wide, so the article is typeset anew
    source.write_text(
        post_text("See \\eqref{eq:new}.\n\n$$ a = b \\label{eq:new} $$"), encoding="utf-8"
    )
    page.wait_for_function("window.__texResets >= 1")
    assert page.evaluate("window.__sitegen.fullTypesets") >= 1
    assert page.evaluate("window.__notReloaded") is True

    # 2. broken front matter: the page shows the error with file:line, not stale text
    source.write_text("---\ntitle: [oops\n---\n\nBroken.\n", encoding="utf-8")
    page.wait_for_selector("#sg-error")
    error_text = page.text_content("#sg-error")
    assert f"posts/{POST}:" in error_text
    assert "Freshly typed" not in page.text_content("body")

    # 3. fixed: the page comes back by itself
    source.write_text(post_text("Recovered text."), encoding="utf-8")
    page.wait_for_function(
        "document.querySelector('article') && "
        "document.querySelector('article').textContent.includes('Recovered text')"
    )
    assert page.query_selector("#sg-error") is None
    page.close()


def test_other_pages_are_left_alone_and_scroll_is_kept(preview: Preview, browser) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 300})
    long_body = "\n\n".join(f"Paragraph {i} of a long post." for i in range(80))
    source = preview.live.root / "posts" / POST
    source.write_text(f"---\ntitle: Live post\n---\n\n{long_body}\n", encoding="utf-8")
    preview.on_batch({source})
    page.goto(preview.url + POST_URL)
    page.wait_for_function("window.__sitegen && window.__sitegen.connected === true")
    page.evaluate("window.scrollTo(0, 1500)")
    page.evaluate("window.__notReloaded = true")
    # an edit of another post does not touch this page
    other = preview.live.root / "posts" / "2026-03-01-other.md"
    other.write_text("---\ntitle: Other\n---\n\nOther, edited.\n")
    # then a change in the stylesheet-free config reloads: scroll position must survive
    config = preview.live.root / "sitegen.toml"
    config.write_text(config.read_text().replace("Browser test", "Browser test 2"))
    page.wait_for_function("document.title.includes('Browser test 2')")
    page.wait_for_function("window.scrollY > 1000")
    assert page.evaluate("window.__sitegen.reloads") == 0  # a fresh page after the reload
    assert page.evaluate("window.__notReloaded") is None
    page.close()


def checked_post(seed_comment: str) -> str:
    return (
        "---\ntitle: Checked post\n---\n\n"
        "The gradient of half the squared norm is the vector itself.\n\n"
        "```python verify\n"
        f"# {seed_comment}\n"
        "W = rng.standard_normal((3, 1))\n"
        'check_grad(lambda W: 0.5 * np.sum(W ** 2), W, W, name="dL/dW")\n'
        "```\n"
    )


def test_verification_results_replace_pending_badges(preview: Preview, browser) -> None:
    """With the real gradcheck plugin: after an edit of the code, the page shows the new
    code and the check's result, without a reload."""
    source = preview.live.root / "posts" / "2026-03-05-checked.md"
    source.write_text(checked_post("first version"), encoding="utf-8")
    preview.on_batch({source})
    page = browser.new_page()
    page.goto(preview.url + "2026/03/05/checked/")
    page.wait_for_function("window.__sitegen && window.__sitegen.connected === true")
    page.wait_for_selector('.sg-check[data-status="pass"]')
    page.evaluate("window.__notReloaded = true")
    source.write_text(checked_post("second version"), encoding="utf-8")
    page.wait_for_function(
        "document.querySelector('article').textContent.includes('second version')"
    )
    page.wait_for_function(
        "!document.querySelector('.sg-check[data-status=\"pending\"]') && "
        "document.querySelector('.sg-check[data-status=\"pass\"]')"
    )
    assert page.evaluate("window.__notReloaded") is True
    page.close()


def test_index_page_follows_a_title_change(preview: Preview, browser) -> None:
    page = browser.new_page()
    page.goto(preview.url)
    page.wait_for_function("window.__sitegen && window.__sitegen.connected === true")
    page.evaluate("window.__notReloaded = true")
    source = preview.live.root / "posts" / POST
    source.write_text(post_text().replace("title: Live post", "title: Retitled post"))
    page.wait_for_function("document.querySelector('main').textContent.includes('Retitled')")
    assert page.evaluate("window.__notReloaded") is True
    page.close()
