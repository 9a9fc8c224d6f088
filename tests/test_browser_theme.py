"""The default theme in a real browser (Debian's chromium driven by Playwright, with the
local MathJax): equation numbers and references, math in titles, phones at 390 px, and
print from dark mode. Screenshots of the index, a post and /verification/ at 390 px and
in print media are taken and checked.

Fails (does not skip) under ``CI=true`` when the browser, Playwright or MathJax is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions
from tests.browser import MATHJAX, playwright_chromium, require

FIXTURES = Path(__file__).parent / "sites"
ORIGIN = "http://site.test"
PHONE = {"width": 390, "height": 844}

EQUATIONS = """---
title: 'Numbers for $\\nabla_w L$'
date: 2024-02-01
tags: [math]
---

Forward reference: \\eqref{eq:late}. A long one: \\eqref{eq:long}.

$$
\\frac{\\partial L}{\\partial w} = (\\hat y - y)\\, x \\label{eq:first}
$$

$$
c = d
$$

$$
e = f \\label{eq:late}
$$

\\begin{equation}
g = h \\label{eq:env}
\\end{equation}

$$
\\frac{\\partial L}{\\partial W_1} = X^\\top \\left( \\left( (\\hat Y - Y) W_2^\\top \\right)
\\odot \\sigma'(X W_1 + b_1) \\right) + \\lambda W_1
+ \\mu \\sum_{i=1}^{N} \\operatorname{diag}(x_i) \\label{eq:long}
$$

Back: \\eqref{eq:first}, \\eqref{eq:env}, \\ref{eq:late}.

| a very long column heading | another long heading | third heading | fourth heading here | fifth |
| --- | --- | --- | --- | --- |
| 1.23456789e-11 | 2.3456789e-12 | 3.456789e-13 | 4.56789e-14 | 5.6789e-15 |
| a cell of words long enough to need a second line on a phone | -2.5e-7 | 7 | 0.5 | 12% |

```python
values = [first_value_with_a_long_name, second_value_with_a_long_name, third_value_with_a_long_name]
```
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("theme")
    root = tmp / "site"
    shutil.copytree(FIXTURES / "gradcheck", root)
    (root / "sitegen.toml").write_text(
        'title = "Browser theme"\nurl = "https://example.org"\n'
        '[math]\nmathjax_url = "/mathjax/tex-chtml-full.js"\n[verify]\ntimeout = 20\n'
    )
    (root / "posts/2024-02-01-equations.md").write_text(EQUATIONS)
    build_site(root, BuildOptions(out=tmp / "out", strict=False))
    return tmp / "out"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(MATHJAX, "MathJax 3 (npm install --no-save mathjax@3)")
    yield from playwright_chromium()


def _serve(out: Path, base: str = ""):  # noqa: ANN202 - a Playwright route handler
    """Serve ``out`` at ``base`` (a site's baseurl) and the local MathJax at /mathjax/."""
    mathjax = MATHJAX.parent
    types = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
             ".svg": "image/svg+xml", ".woff": "font/woff", ".json": "application/json"}

    def handle(route) -> None:  # noqa: ANN001
        path = route.request.url[len(ORIGIN):].split("?")[0].split("#")[0]
        # a self-hosted MathJax ("/mathjax/…") lives below the baseurl like every file
        path = path[len(base):] if path.startswith(base + "/") else "/no such file"
        if path.startswith("/mathjax/"):
            target = mathjax / path[len("/mathjax/"):]
        else:
            target = out / path.lstrip("/")
            if target.is_dir():
                target = target / "index.html"
        if target.is_file():
            kind = types.get(target.suffix, "application/octet-stream")
            route.fulfill(body=target.read_bytes(), content_type=kind)
        else:
            route.fulfill(status=404, body="not found")

    return handle


def _open(browser, out: Path, url: str, *, viewport=PHONE, media=None, dark=False):  # noqa: ANN001, ANN202
    context = browser.new_context(viewport=viewport, color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.route(f"{ORIGIN}/**", _serve(out))
    page.goto(ORIGIN + url)
    page.wait_for_function("!window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    if media:
        page.emulate_media(media=media, color_scheme="dark" if dark else "light")
    return context, page


EQ_URL = "/2024/02/01/equations/"

PAGES = {"index": "/", "post": EQ_URL, "verification": "/verification/"}

# Relative luminance and contrast (WCAG 2): is a colour readable on white paper?
CONTRAST_JS = """
(color) => {
  const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (lum + 0.05);
}
"""


# [text, number of lines it is laid out on] of each element matching a selector
LINES_JS = """
(selector) => Array.from(document.querySelectorAll(selector))
  .filter(e => e.textContent.trim())
  .map(e => { const r = document.createRange(); r.selectNodeContents(e);
    const tops = new Set(Array.from(r.getClientRects(), b => Math.round(b.top)));
    return [e.textContent.trim(), tops.size]; })
"""


def _png(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_labelled_equations_are_numbered_and_every_reference_resolves(site, browser):
    context, page = _open(browser, site, EQ_URL, viewport={"width": 1100, "height": 900})
    try:
        texts = page.evaluate(
            "Array.from(document.querySelectorAll('#sg-content mjx-container'))"
            ".map(e => e.textContent)"
        )
        body = page.inner_text("#sg-content")
    finally:
        context.close()
    assert "???" not in body
    # references in running text: forward ones too
    assert texts[:2] == ["(2)", "(4)"]
    numbered = [t for t in texts if t.startswith("(") and len(t) > 4]
    assert [t[:3] for t in numbered] == ["(1)", "(2)", "(3)", "(4)"]  # c = d has none
    assert "c=d" in texts
    assert texts[-3:] == ["(1)", "(3)", "2"]  # \eqref, \eqref, \ref


def test_math_in_titles_is_typeset_on_the_index_and_plain_in_the_tab(site, browser):
    context, page = _open(browser, site, "/", viewport={"width": 1100, "height": 900})
    try:
        heading = page.locator("h2", has_text="Numbers for")
        assert heading.locator("mjx-container").count() == 1
        assert "\\nabla" not in heading.inner_text()
    finally:
        context.close()
    context, page = _open(browser, site, EQ_URL)
    try:
        assert page.title() == "Numbers for ∇_w L · Browser theme"
        assert page.locator("h1 mjx-container").count() == 1
    finally:
        context.close()


@pytest.mark.parametrize("name", PAGES)
def test_phone_at_390px(site, browser, name, tmp_path):
    context, page = _open(browser, site, PAGES[name])
    try:
        shot = page.screenshot(path=str(tmp_path / f"{name}-390.png"), full_page=True)
        assert _png(shot)[0] == 390
        # nothing makes the page itself scroll sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if name == "verification":
            # numbers and headings on one line each ("3.8e-" / "11" no more)
            lines = page.evaluate(
                LINES_JS, ".sg-verification-table .sg-num, .sg-verification-table th"
            )
            assert any("e-" in text for text, _ in lines)
            assert all(count == 1 for _, count in lines), lines
        if name == "post":
            # every equation number is on screen without scrolling sideways
            tags = page.evaluate(
                """Array.from(document.querySelectorAll('mjx-mtd[id^="mjx-eqn"]'))
                   .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"""
            )
            assert len(tags) == 4
            assert all(0 <= left and right <= 390 for left, right in tags), tags
            # a Markdown table's numbers stay whole too; its words still wrap
            cells = dict(page.evaluate(LINES_JS, "#sg-content td"))
            numbers = [t for t in cells if t[0].isdigit() or t[0] == "-"]
            assert len(numbers) == 9 and "-2.5e-7" in numbers
            assert all(cells[t] == 1 for t in numbers), cells
            assert max(cells.values()) > 1  # the cell of words
            # wide tables and code scroll, and show a shadow saying so
            cues = page.evaluate(
                """['#sg-content table', '#sg-content pre'].map(s => {
                     const e = document.querySelector(s), st = getComputedStyle(e);
                     return [e.scrollWidth > e.clientWidth, st.backgroundImage,
                             st.getPropertyValue('--cue').trim()];
                   })"""
            )
            for scrolls, image, cue in cues:
                assert scrolls and image.count("radial-gradient") == 2
                assert cue not in ("", "transparent")
    finally:
        context.close()


@pytest.mark.parametrize("name", PAGES)
def test_print_from_dark_mode(site, browser, name, tmp_path):
    context, page = _open(browser, site, PAGES[name], dark=True)
    try:
        page.evaluate("document.documentElement.setAttribute('data-theme', 'dark')")
        screen_badge = page.evaluate(
            "(() => { const b = document.querySelector('.sg-badge');"
            " return b ? getComputedStyle(b).color : null; })()"
        )
        page.emulate_media(media="print", color_scheme="dark")
        shot = page.screenshot(path=str(tmp_path / f"{name}-print.png"), full_page=True)
        assert _png(shot)[1] > 0
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
        header = "getComputedStyle(document.querySelector('.site-header')).display"
        assert page.evaluate(header) == "none"
        colours = page.evaluate(
            "Array.from(document.querySelectorAll('.sg-badge, .post-body p, h1, h2'))"
            ".slice(0, 40).map(e => getComputedStyle(e).color)"
        )
        contrast = [page.evaluate(CONTRAST_JS, c) for c in colours]
        assert colours and min(contrast) >= 4.5, list(zip(colours, contrast, strict=True))
        if screen_badge is not None:
            # on the dark screen the badge was pale; on paper it is not
            assert page.evaluate(CONTRAST_JS, screen_badge) < 4.5
        pdf = page.pdf()
        assert pdf.startswith(b"%PDF")
    finally:
        context.close()


# Two posts whose first paragraphs hold relative links, a footnote mark, a labelled
# equation and references; the same label in both, as posts often have.
EXCERPT_POST = """---
title: "{title}"
date: {date}
---

By \\eqref{{eq:main}} and [the other post](../../0{other}/{other_slug}/), see
[the derivation](#derivation) and [the plot](plot.svg)[^1]; also
$$ y = {symbol} x \\label{{eq:main}} $$ in the text.

$$
z = {symbol} \\label{{eq:second}}
$$

## Derivation

Both: \\eqref{{eq:main}}, \\eqref{{eq:second}}.

[^1]: A note.
"""


@pytest.fixture(scope="module")
def subpath_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("excerpts")
    root = tmp / "site"
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text(
        'title = "Below a path"\nurl = "https://example.org"\nbaseurl = "/blog"\n'
        '[math]\nmathjax_url = "/mathjax/tex-chtml-full.js"\n'
    )
    for day, other, symbol in ((1, 2, "a"), (2, 1, "b")):
        slug = f"post-{day}"
        (root / f"posts/2024-03-0{day}-{slug}.md").write_text(
            EXCERPT_POST.format(
                title=f"Post {day}", date=f"2024-03-0{day}", other=other,
                other_slug=f"post-{other}", symbol=symbol,
            )
        )
    build_site(root, BuildOptions(out=tmp / "out", strict=False))
    return tmp / "out"


def test_excerpts_links_and_references_resolve_on_the_index(subpath_site, browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.route(f"{ORIGIN}/**", _serve(subpath_site, base="/blog"))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(ORIGIN + "/blog/")
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        excerpts = page.locator(".excerpt")
        assert excerpts.count() == 2
        text = page.inner_text("main")
        assert "???" not in text and "\\eqref" not in text
        for i in range(2):
            # the post's numbers: (1) for the equation in the text, referenced before it
            assert excerpts.nth(i).locator("mjx-container").first.inner_text() == "(1)"
        # no label is defined twice (each would be a MathJax error on the page)
        assert page.locator("mjx-merror").count() == 0 and not errors
        assert page.locator("sup.footnote-ref").count() == 0
        hrefs = excerpts.nth(1).evaluate(
            "e => Array.from(e.querySelectorAll('a'), a => a.getAttribute('href'))"
        )
        post = "/blog/2024/03/01/post-1/"
        assert hrefs == [post + "#mjx-eqn:eq:main", "/blog/2024/03/02/post-2/",
                         post + "#derivation", post + "plot.svg"]
        assert (subpath_site / "2024/03/02/post-2/index.html").is_file()
        # following the reference lands on the equation it names, numbered as on the index
        excerpts.nth(1).locator("mjx-container a").first.click()
        page.wait_for_url(ORIGIN + post + "#mjx-eqn:eq:main")
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        target = page.evaluate(
            "(() => { const e = document.getElementById("
            "decodeURIComponent(location.hash.slice(1)));"
            " return e ? e.closest('mjx-container').textContent : null; })()"
        )
        assert target is not None and target.startswith("(1)")  # the number, then y = a x
        assert page.locator("#derivation").count() == 1
    finally:
        context.close()
