"""Math in Markdown: every delimiter of SPEC §4.1, the kramdown quirks of the Jekyll corpus,
bad math, and the fidelity test: the TeX MathJax finds in our page equals, item by item,
what it finds in Jekyll 4.3's page for the same post (tests/fixtures/corpus_math/).

The fixtures are extract_math.py's lists for ``jekyll build`` of the corpus (Jekyll 4.3.1,
kramdown 2.4.0). Jekyll skips latex-sample.markdown (no date in its name); its fixture, in
unpublished/ (the top folder lists exactly the published posts), comes from the same build
with the file copied as 2016-05-31-latex-sample.markdown."""

from __future__ import annotations

import html
import importlib.util
import json
import re
from pathlib import Path

import pytest

from sitegen.markdown import create_parser
from sitegen.markdown.math_tex import braces_balanced, resolve_kramdown_escapes

REPO = Path(__file__).parents[1]
CORPUS = REPO / ".." / "shared" / "corpus" / "anujgupta82"
EXTRACTOR = REPO / ".." / "shared" / "tools" / "extract_math.py"
FIXTURES = Path(__file__).parent / "fixtures" / "corpus_math"

# Items that are inline in Jekyll's page and display in ours, on purpose: the $$ blocks that
# follow a line of text (corpus README, quirk 1: "10 such blocks in the corpus"), plus the
# one $$ equation inside a line that holds \tag/\label (gradients-1 l.27; MathJax 3 drops
# tags in inline math, and "\eqref{ref0}" further down would show "(???)").
DELIBERATE_DISPLAY = {
    "2016-08-26-gradients-1": 2,
    "2016-08-28-gradients-2": 1,
    "2016-08-30-gradients-3": 2,
    "2016-09-04-gradients-4-1": 3,
    "2016-09-11-gradients-4-2": 3,
}


@pytest.fixture(scope="module")
def md():
    return create_parser()


def render(md, text: str, **env) -> tuple[str, dict]:
    env.setdefault("line_offset", 1)
    env.setdefault("diagnostics", [])
    html = md.render(text, env)
    return html, env


def inline(tex: str) -> str:
    return f'<span class="math inline">\\({tex}\\)</span>'


def display(tex: str) -> str:
    return f'<div class="math display">\\[{tex}\\]</div>'


# -- delimiters ------------------------------------------------------------------------------


def test_double_dollar_inside_a_line_is_inline(md):
    html, env = render(md, "x,y are $$[X]_{\\scriptscriptstyle 1\\times 1}$$ and more")
    assert inline("[X]_{\\scriptscriptstyle 1\\times 1}") in html
    assert env["has_math"] is True


def test_double_dollar_strips_inner_whitespace(md):
    html, _ = render(md, "Then, $$ \\hat{y} = \\sigma (Wx)   $$ so")
    assert "Then, " + inline("\\hat{y} = \\sigma (Wx)") + " so" in html


def test_numbered_double_dollar_inside_a_line_is_display(md):
    # MathJax 3 ignores \tag in inline math; \eqref{ref0} must still find equation (0).
    html, _ = render(md, "Then, $$ \\hat{y} = \\sigma (Wx) \\label{ref0} \\tag{0}$$\n\n"
                         "By \\eqref{ref0}, $$ L \\label{x} $$ and $$ y $$")
    assert '<span class="math display">\\[\\hat{y} = \\sigma (Wx) \\label{ref0} \\tag{0}\\]' \
        in html
    assert '<span class="math display">\\[L \\label{x}\\]</span> and ' + inline("y") in html


def test_double_dollar_block_between_blank_lines_is_display(md):
    html, _ = render(md, "text\n\n$$\nW = \\begin{bmatrix} w_1 \\\\ w_2 \\end{bmatrix}\n$$\n\nmore")
    assert display("W = \\begin{bmatrix} w_1 \\\\ w_2 \\end{bmatrix}") in html
    assert "<p>more</p>" in html


def test_double_dollar_block_right_after_text_is_display(md):
    src = "Thus, in general:\n$$\n\\begin{align}\na &= b \\label{ref17} \\tag{17}\\\\\n" \
          "\\end{align}\n$$\n"
    html, _ = render(md, src)
    assert "<p>Thus, in general:</p>" in html
    assert display("\\begin{align}\na &amp;= b \\label{ref17} \\tag{17}\\\\\n\\end{align}") in html


def test_double_dollar_block_keeps_blank_lines_and_markdown_characters(md):
    src = "$$\n\\begin{align}\n\na_1 * b_2 * c &= x \\\\\n\n~~~~~~ | y < z\n\\end{align}\n$$\n"
    html, _ = render(md, src)
    assert "a_1 * b_2 * c &amp;= x \\\\\n\n~~~~~~ | y &lt; z" in html
    assert "<em>" not in html and "<s>" not in html and "<table" not in html


def test_double_dollar_closed_on_a_line_of_text_is_inline_in_paragraph(md):
    html, _ = render(md, "$$\na\n$$ and $$b$$ after")
    assert "<p>" + inline("a") + " and " + inline("b") + " after</p>" in html


def test_dollar_open_in_paragraph_is_not_broken_by_a_dollar_line(md):
    # "$$" at the end of a text line opens inline math: the next "$$" line closes it.
    html, _ = render(md, "Then $$ x +\ny\n$$ and text")
    assert inline("x +\ny") in html


def test_single_dollar_follows_pandoc_rules(md):
    html, _ = render(md, "a $x_1 + y$ b")
    assert inline("x_1 + y") in html
    html, _ = render(md, "costs $5 and $10, also $ 3 $ and $x$5")
    assert "math" not in html
    assert "costs $5 and $10" in html


def test_escaped_dollar_is_literal(md):
    html, env = render(md, "price \\$5 and \\$6$")
    assert "math" not in html
    assert "price $5 and $6$" in html
    assert not env["diagnostics"]


def test_escaped_parens_kramdown_style(md):
    html, _ = render(md, "the pair \\\\((\\vec{X},y)\\\\) : \\\\(\\vec{X}\\\\) is")
    assert inline("(\\vec{X},y)") in html
    assert inline("\\vec{X}") in html


def test_escaped_parens_resolve_kramdown_escapes(md):
    # latex-sample: "\\( \sum\_i \log p(y\_i \mid x\_i) \\)"
    html, _ = render(md, "\\\\( \\sum\\_i \\log p(y\\_i \\mid x\\_i) \\\\)")
    assert inline("\\sum_i \\log p(y_i \\mid x_i)") in html
    html, _ = render(md, "\\\\( a \\* b \\\\\\\\ c \\{x\\} \\\\)")
    assert inline("a * b \\\\ c {x}") in html


_MATH_SPAN = re.compile(r'class="math (inline|display)">\\[(\[](.*?)\\[)\]]</', re.S)


def tex_items(html_text: str) -> list[tuple[str, str]]:
    """(kind, TeX with whitespace collapsed) of each math element in our output."""
    return [(kind, " ".join(html.unescape(tex).split()))
            for kind, tex in _MATH_SPAN.findall(html_text)]


def test_escape_resolution_equals_kramdown(md):
    # Expected TeX: what kramdown 2.4 (GFM parser, hard_wrap off, as Jekyll runs it) handed
    # MathJax for this text, read from its HTML: every GFM escape resolved, and a \\ before
    # a newline turned into a <br> (whitespace for MathJax).
    src = (
        "A \\\\( a\\_b \\* c \\\\\\\\ d \\{x\\} \\left\\{ y \\right\\} \\#\\$ \\~ \\| e \\\\) "
        "and \\\\(x \\\\\\\\\ny\\\\) end.\n\n"
        "\\\\[\n\\sum\\_i \\frac{1}{2} \\\\\\\\\nz\n\\\\]\n\n"
        "Text \\\\(p \\< q \\> r \\\\) done \\\\(\\mathbf{x}\\_{i}^{2}\\\\).\n"
    )
    html_text, env = render(md, src)
    assert tex_items(html_text) == [
        ("inline", "a_b * c \\\\ d {x} \\left{ y \\right} #$ ~ | e"),
        ("inline", "x \\ y"),
        ("display", "\\sum_i \\frac{1}{2} \\ z"),
        ("inline", "p < q > r"),
        ("inline", "\\mathbf{x}_{i}^{2}"),
    ]
    assert env["diagnostics"] == []


def test_escaped_parens_keep_strikethrough_and_emphasis_characters(md):
    html, _ = render(md, "\\\\(X = [x^1 ~~x^2 ~~x^3]\\\\) and \\\\(a_1 * b_2 * c_3\\\\)")
    assert inline("X = [x^1 ~~x^2 ~~x^3]") in html
    assert inline("a_1 * b_2 * c_3") in html
    assert "<s>" not in html and "<em>" not in html


def test_escaped_brackets_display(md):
    html, _ = render(md, "\\\\[\n\\frac{a}{b} \\\\\\\\ c\n\\\\]\n")
    assert display("\\frac{a}{b} \\\\ c") in html
    html, _ = render(md, "text \\\\[ x \\\\] text")
    assert '<span class="math display">\\[x\\]</span>' in html


def test_plain_parens_and_brackets(md):
    html, _ = render(md, "a \\(x_1 * y_2\\) b")
    assert inline("x_1 * y_2") in html
    html, _ = render(md, "\\[\n\\sum_i x_i\n\\]\n")
    assert display("\\sum_i x_i") in html


def test_plain_paren_closer_respects_braces(md):
    # MathJax skips a closer inside braces: \text{\)} does not end the math.
    html, _ = render(md, "a \\(\\text{x}_{1} + y\\) b")
    assert inline("\\text{x}_{1} + y") in html


def test_bare_environment_block_is_display(md):
    src = "Let,\n\n\\begin{align}\n\\Delta l_{1} = (\\hat{y} - y) \\label{ref5} \\tag{5} \\\\\n" \
          "\\end{align}\n\n\nThen"
    html, _ = render(md, src)
    # The \\ that ended the last row is dropped, as kramdown's <br> dropped it for Jekyll.
    assert display("\\begin{align}\n\\Delta l_{1} = (\\hat{y} - y) \\label{ref5} \\tag{5}\n"
                   "\\end{align}") in html
    assert "<p>Then</p>" in html


def test_environment_keeps_inner_row_breaks(md):
    src = "\\begin{align*}\na &= b \\\\\nc &= d\n\\end{align*}\n"
    html, _ = render(md, src)
    assert display("\\begin{align*}\na &amp;= b \\\\\nc &amp;= d\n\\end{align*}") in html


def test_environment_in_running_text(md):
    html, _ = render(md, "so \\begin{equation} x_1 = y_2 \\end{equation} holds")
    assert '<span class="math display">\\[\\begin{equation} x_1 = y_2 \\end{equation}\\]</span>' \
        in html


def test_eqref_in_running_text_becomes_a_ref(md):
    html, env = render(md, "Substituting \\eqref{ref2} & \\eqref{ref3} in \\ref{ref1}, we get")
    assert inline("\\eqref{ref2}") + " &amp; " + inline("\\eqref{ref3}") in html
    assert inline("\\ref{ref1}") in html
    assert env["has_math"] is True


def test_eqref_inside_text_macro_stays_in_its_math(md):
    html, _ = render(md, "$$\na = b && \\text{using \\eqref{ref0}}\n$$\n")
    assert display("a = b &amp;&amp; \\text{using \\eqref{ref0}}") in html
    assert html.count('class="math') == 1  # no separate ref item


def test_tex_is_html_escaped(md):
    html, _ = render(md, "$a < b \\& c > d$")
    assert inline("a &lt; b \\&amp; c &gt; d") in html


def test_math_in_heading_bold_link_and_table(md):
    html, env = render(
        md,
        "#### **1 hidden layer with \\\\(\\geq\\\\) 2  nodes**\n\n"
        "**\\\\([\\nabla_{W_2} L]_{1\\times 1}\\\\)** and [see $x_1$](http://e.com)\n\n"
        "| a | b |\n|---|---|\n| $x_1$ | \\\\(y_2\\\\) |\n",
    )
    assert '<h4 id="1-hidden-layer-with-geq-2--nodes"><strong>1 hidden layer with ' \
        + inline("\\geq") in html
    assert "<strong>" + inline("[\\nabla_{W_2} L]_{1\\times 1}") + "</strong>" in html
    assert '<a href="http://e.com">see ' + inline("x_1") + "</a>" in html
    assert "<td>" + inline("x_1") + "</td>" in html
    assert "<td>" + inline("y_2") + "</td>" in html


def test_math_in_list_and_blockquote(md):
    html, _ = render(md, "- item\n\n  $$\n  a_1\n  $$\n\n> $$\n> b_2\n> $$\n")
    assert display("a_1") in html
    assert display("b_2") in html


def test_every_item_of_a_tight_list_of_display_math_is_display(md):
    # each item's first line is read after the list moved past its marker
    for text in ("1. $$x_1$$\n2. $$x_2$$\n3. $$x_3$$\n", "- \\[x_1\\]\n- \\[x_2\\]\n- \\[x_3\\]\n"):
        html, _ = render(md, text)
        assert [display(f"x_{i}") in html for i in (1, 2, 3)] == [True, True, True], text


def test_code_is_never_math(md):
    html, env = render(md, "`$x$ and \\\\(y\\\\)`\n\n```\n$$\na\n$$\n```\n\n    $$ b $$\n")
    assert "math" not in html
    assert not env.get("has_math")


def test_html_comments_hide_math_and_liquid(md):
    src = (
        "<!--\n**Deriving** \\\\(E_{x} [f(x)] \\\\) and $$x$$\n-->\n\n"
        "<!---\n\\begin{equation}\n a \\tag{1}\n\\end{equation}\n-->\n\n"
        "<!--\n$$\n\\label{ref19}\n$$\n{% include button.html %}\n-->\n"
        "text <!-- $y$ \\eqref{z} --> end\n"
    )
    html, env = render(md, src)
    assert "math" not in html
    assert "<!--\n**Deriving** \\\\(E_{x} [f(x)] \\\\) and $$x$$\n-->" in html
    assert "<!---\n\\begin{equation}" in html
    assert "{% include button.html %}\n-->" in html
    assert "<!-- $y$ \\eqref{z} -->" in html
    assert not env.get("has_math")
    assert env["diagnostics"] == []


def test_options_switch_delimiters_off():
    md = create_parser(math_options={"dollar": False, "environments": False})
    html, _ = render(md, "$x$ and $$y$$\n\n\\begin{align}\na\n\\end{align}\n")
    assert "$x$" in html and inline("y") in html
    assert "\\begin{align}" in html and "math display" not in html


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match="dolar"):
        create_parser(math_options={"dolar": False})


def test_environment_markup_can_drop_brackets():
    md = create_parser(math_options={"wrap_environments": False})
    html, _ = render(md, "\\begin{align}\na\n\\end{align}\n")
    assert '<div class="math display">\\begin{align}\na\n\\end{align}</div>' in html


# -- bad math --------------------------------------------------------------------------------


def test_unclosed_double_dollar_is_text_with_warning_and_nothing_lost(md):
    src = "intro\n\nUnclosed $$ x + y here\n\nafter $z$ **bold**\n"
    html, env = render(md, src, line_offset=10)
    assert "<p>Unclosed $$ x + y here</p>" in html
    assert "<p>after " + inline("z") + " <strong>bold</strong></p>" in html
    assert [(line, level) for line, level, _ in env["diagnostics"]] == [(12, "warning")]
    assert "$$" in env["diagnostics"][0][2]


def test_unclosed_display_block_keeps_following_paragraphs(md):
    html, env = render(md, "$$\n\\frac{a}{b}\n\nnext paragraph $w$\n")
    assert "next paragraph " + inline("w") in html
    assert "\\frac{a}{b}" in html
    assert env["diagnostics"] and env["diagnostics"][0][0] == 1


def test_unbalanced_braces_shown_as_written(md):
    html, env = render(md, "line one\nsee $$\\frac{a}{b$$ and \\\\(x^{2\\\\) then $y$")
    assert "see $$\\frac{a}{b$$ and \\\\(x^{2\\\\) then " + inline("y") in html
    assert [d[0] for d in env["diagnostics"]] == [2, 2]
    assert all(d[1] == "warning" and "brace" in d[2] for d in env["diagnostics"])


def test_unbalanced_display_block_is_text(md):
    html, env = render(md, "$$\n\\frac{a}{b\n$$\n\nok $c$\n")
    assert "math display" not in html
    assert "\\frac{a}{b" in html
    assert "ok " + inline("c") in html
    assert env["diagnostics"]


def test_unclosed_environment_warns(md):
    html, env = render(md, "\\begin{align}\na &= b\n\nrest $q$")
    assert "\\begin{align}" in html and "rest " + inline("q") in html
    assert any("never closed" in d[2] for d in env["diagnostics"])



# The closer scan also decides brace balance (no second pass over the TeX), and \\( .. \\)
# skips escape bookkeeping when nothing before the closer is escaped: the edges of both.
@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("\\(a}b\\)", "\\(a}b\\)"),  # a "}" at depth 0 does not stop the scan, but is bad
        ("\\(\\}a\\)", inline("\\}a")),  # escaped braces do not count
        ("\\({a\\)b}\\)", inline("{a\\)b}")),  # a closer inside braces does not close
        ("\\({{{a}}}\\)", inline("{{{a}}}")),  # nested deeper than the shallow regex
        ("\\\\(a}b\\\\)", "\\\\(a}b\\\\)"),
        ("\\\\({a\\\\)b}\\\\)", inline("{a\\)b}")),
        ("\\\\(a\\_b\\\\)", inline("a_b")),  # an escape before the closer: resolved
        # A closer whose ")" / "]" came out of an escape ("\\)" -> ")") ends right after
        # that escape's backslash, as it always did (pinned: the fast path must agree).
        ("\\\\(x\\\\\\)y", inline("x") + ")y"),
        ("\\\\[_)\\\\\\]]", '<span class="math display">\\[_)\\]</span>]]'),
    ],
)
def test_closer_scan_edges(md, src, expected):
    html, env = render(md, src)
    assert f"<p>{expected}</p>" in html
    assert bool(env["diagnostics"]) is ("math" not in expected)


# -- helpers -------------------------------------------------------------------------------


def test_resolve_kramdown_escapes_maps_positions():
    resolved, shifts = resolve_kramdown_escapes("a\\_b \\\\\nc\\{")
    assert resolved == "a_b \nc{"
    assert shifts[-1][1] == 4  # four characters removed in all


@pytest.mark.parametrize(
    ("tex", "ok"),
    [("a_{1}", True), ("\\{x", True), ("{a}{b}}", False), ("}{", False), ("{{a}", False),
     ("\\\\{x}", True),
     # deeper than the one-regex fast path, and escaped braces, which it must not judge
     ("{{{a}}}", True), ("{{{a}}", False), ("x^{\\{a}", True), ("x^{\\{a", False),
     ("\\{{a}\\}", True)],
)
def test_braces_balanced(tex, ok):
    assert braces_balanced(tex) is ok


# -- fidelity against Jekyll ----------------------------------------------------------------


def _extractor():
    if not EXTRACTOR.is_file():
        pytest.skip("shared/tools/extract_math.py not found next to the repository")
    spec = importlib.util.spec_from_file_location("extract_math", EXTRACTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.extract_math


def _body(path: Path) -> tuple[str, int]:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"---\r?\n.*?\r?\n---\r?\n", text, re.S)
    if m is None:
        return text, 1
    return text[m.end() :], text[: m.end()].count("\n") + 1


@pytest.mark.parametrize(
    "fixture", sorted(FIXTURES.glob("*.json")) + sorted(FIXTURES.glob("unpublished/*.json")),
    ids=lambda p: p.stem,
)
def test_corpus_math_equals_jekyll(md, fixture):
    source = CORPUS / "_posts" / (fixture.stem + ".markdown")
    if not source.is_file():
        pytest.skip("shared corpus not found next to the repository")
    extract_math = _extractor()
    body, offset = _body(source)
    env = {"line_offset": offset, "diagnostics": []}
    html = md.render(body, env)
    ours = extract_math(html)
    jekyll = json.loads(fixture.read_text(encoding="utf-8"))
    matched = sum(1 for a, b in zip(ours, jekyll, strict=False) if a["tex"] == b["tex"])
    print(f"{fixture.stem}: {matched} of {len(jekyll)} math items match Jekyll")
    assert [i["tex"] for i in ours] == [i["tex"] for i in jekyll]
    flipped = [
        (a, b) for a, b in zip(ours, jekyll, strict=True) if a["display"] != b["display"]
    ]
    # Only the deliberate change: kramdown's inline $$ blocks are display math here.
    assert all(a["display"] and not b["display"] for a, b in flipped)
    assert len(flipped) == DELIBERATE_DISPLAY.get(fixture.stem, 0)
    assert env["diagnostics"] == []
    assert env.get("has_math", False) is bool(jekyll)


def test_corpus_has_a_fixture_for_every_published_post():
    posts = CORPUS / "_posts"
    if not posts.is_dir():
        pytest.skip("shared corpus not found next to the repository")
    published = {p.stem for p in posts.glob("*.markdown") if re.match(r"\d{4}-\d\d-\d\d-", p.stem)}
    assert published == {p.stem for p in FIXTURES.glob("*.json")}
