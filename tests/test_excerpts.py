"""Automatic excerpts and math in titles: what each page shows of a post."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from sitegen_plugins.excerpts import tex_as_text

from sitegen.build import build_site
from sitegen.model import BuildOptions

BASIC = Path(__file__).parent / "sites" / "basic"
ATOM = "{http://www.w3.org/2005/Atom}"

MATH_TITLE = """---
title: 'Why $\\nabla_w L$ vanishes'
date: 2024-03-01
---

![a chart](/assets/notes.txt)

The gradient $\\frac{\\partial L}{\\partial w}$ goes to zero when
$\\sigma'(z) \\to 0$ *for every* unit.

Second paragraph, not in the excerpt.
"""

GIVEN = """---
title: Plain title
date: 2024-03-02
excerpt: 'Given, with $x^2$'
---

First paragraph.
"""


def _build(tmp_path: Path):
    root = tmp_path / "site"
    shutil.copytree(BASIC, root)
    (root / "posts/2024-03-01-math-title.md").write_text(MATH_TITLE)
    (root / "posts/2024-03-02-given.md").write_text(GIVEN)
    (root / "sitegen.toml").write_text('title = "T"\nurl = "https://x.org"\nposts_per_page = 10\n')
    result = build_site(root, BuildOptions(out=tmp_path / "out", extra={"verify": False}))
    return result, tmp_path / "out"


def test_first_paragraph_is_the_excerpt_with_math_intact(tmp_path):
    _, out = _build(tmp_path)
    index = (out / "index.html").read_text()
    assert (
        '<div class="excerpt"><p>The gradient <span class="math inline">'
        "\\(\\frac{\\partial L}{\\partial w}\\)</span> goes to zero when\n"
        '<span class="math inline">\\(\\sigma\'(z) \\to 0\\)</span> <em>for every</em> unit.</p>'
    ) in index
    assert "Second paragraph" not in index
    # a front-matter excerpt wins, and its math is typeset too
    given = '<div class="excerpt"><p>Given, with <span class="math inline">\\(x^2\\)</span></p>'
    assert given in index
    assert "First paragraph." not in index
    assert "window.MathJax" in index  # the list holds math, so MathJax is loaded


def test_math_in_titles_is_typeset_and_plain_in_title_and_feed(tmp_path):
    _, out = _build(tmp_path)
    post = (out / "2024/03/01/math-title/index.html").read_text()
    assert '<h1>Why <span class="math inline">\\(\\nabla_w L\\)</span> vanishes</h1>' in post
    assert "<title>Why ∇_w L vanishes · T</title>" in post
    assert '<meta property="og:title" content="Why ∇_w L vanishes">' in post
    for listing in ("index.html", "archive/index.html"):
        html = (out / listing).read_text()
        assert 'Why <span class="math inline">\\(\\nabla_w L\\)</span> vanishes</a>' in html
        assert "window.MathJax" in html
    feed = ET.parse(out / "feed.xml").getroot()
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert "Why ∇_w L vanishes" in titles
    # a front-matter excerpt's math is plain text in the feed's summary too
    summaries = [e.findtext(f"{ATOM}summary") for e in feed.iter(f"{ATOM}entry")]
    assert "Given, with x^2" in summaries
    # the neighbour's title on the next post's page
    given = (out / "2024/03/02/given/index.html").read_text()
    assert 'Why <span class="math inline">\\(\\nabla_w L\\)</span> vanishes</span>' in given
    assert "window.MathJax" in given


def test_a_list_without_math_loads_no_mathjax(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(BASIC, root)
    build_site(root, BuildOptions(out=tmp_path / "out", extra={"verify": False}))
    assert "window.MathJax" not in (tmp_path / "out/archive/index.html").read_text()


def test_tex_as_text():
    assert tex_as_text("\\nabla_w L") == "∇_w L"
    assert tex_as_text("\\mathbb{R}^{n}") == "ℝ^n"
    assert tex_as_text("\\frac{\\partial L}{\\partial W}") == "∂L/∂W"
    assert tex_as_text("\\sigma(\\mathbf{x})") == "σ(x)"
    assert tex_as_text("\\log x \\to 0") == "log x → 0"
    assert tex_as_text("\\href{/a/#b}{\\text{(1)}}") == "(1)"


REFERENCES = """---
title: Links and references
date: 2024-03-03
tags: [a]
---

By \\eqref{eq:main} ([post](../../01/math-title/), [below](#below), ![i](i.png) and
[home](/)[^n]), $$ a = b \\label{eq:main} $$ and \\ref{eq:late}, \\eqref{eq:none}.

$$
c = d \\label{eq:late}
$$

## Below

[^n]: A note.
"""


def test_an_excerpt_means_on_the_index_what_it_means_on_the_post(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(BASIC, root)
    (root / "posts/2024-03-01-math-title.md").write_text(MATH_TITLE)
    (root / "posts/2024-03-03-refs.md").write_text(REFERENCES)
    (root / "sitegen.toml").write_text('title = "T"\nurl = "https://x.org"\nbaseurl = "/b"\n')
    build_site(root, BuildOptions(out=tmp_path / "out", strict=False, extra={"verify": False}))
    post = "/b/2024/03/03/refs/"
    for listing in ("index.html", "tags/a/index.html"):
        html = (tmp_path / "out" / listing).read_text()
        excerpt = html[html.index('<div class="excerpt"><p>By') :].split("</div>")[0]
        # the post's numbers, linked to its equations; a missing label stays MathJax's
        assert f"\\(\\href{{{post}#mjx-eqn:eq:main}}{{\\text{{(1)}}}}\\)" in excerpt
        assert f"\\(\\href{{{post}#mjx-eqn:eq:late}}{{\\text{{2}}}}\\)" in excerpt
        assert "\\(\\eqref{eq:none}\\)" in excerpt
        # the equation keeps its number as a tag, without the label a second excerpt
        # on the same page could define again
        assert "\\[a = b  \\tag{1}\\]" in excerpt and "\\label" not in excerpt
        assert '<a href="/b/2024/03/01/math-title/">post</a>' in excerpt
        assert f'<a href="{post}#below">below</a>' in excerpt
        assert f'<img src="{post}i.png" alt="i" />' in excerpt
        assert '<a href="/">home</a>' in excerpt  # a site path is the author's to write
        assert "footnote" not in excerpt and "fnref" not in excerpt
    page = (tmp_path / "out/2024/03/03/refs/index.html").read_text()
    assert "\\label{eq:main}" in page and 'href="#below"' in page  # the post is as written
