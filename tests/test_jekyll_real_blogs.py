"""kramdown rules found by building real Jekyll blogs with Jekyll 4.3 + kramdown 2.4 and
comparing the math MathJax received (bench/jekyll_compare.py): each case in a few lines."""

from __future__ import annotations

from sitegen.markdown import MarkdownDialect, create_parser

KRAMDOWN = MarkdownDialect(kramdown=True, dollars="off")
KRAMDOWN_DOLLARS = MarkdownDialect(kramdown=True, dollars="mathjax", process_escapes=False)


def _render(text: str, dialect: MarkdownDialect = KRAMDOWN) -> tuple[str, list]:
    md = create_parser(highlight=False, dialect=dialect)
    env: dict = {"diagnostics": []}
    html = md.render(text, env)
    return html, env["diagnostics"]


def _post_page(root, slug: str) -> str:
    """The built page of the post ``slug`` (Jekyll's URL style: ``slug.html`` or ``slug/``)."""
    site = root / "_site"
    pages = [p for p in site.rglob("*.html") if slug in (p.stem, p.parent.name)]
    assert len(pages) == 1, pages
    return pages[0].read_text(encoding="utf-8")


def _display(html: str) -> list[str]:
    found = []
    for part in html.split('class="math display">\\[')[1:]:
        found.append(part.split("\\]</", 1)[0])
    return found


def test_bare_environment_on_one_line_gets_kramdown_escapes_resolved():
    # kramdown reads a bare \begin{align} paragraph as text: "\\{" is "\{", "\\\ " is
    # "\\ ", "\_" is "_", "\|" is "|", "\[" is "[" before MathJax sees it.
    text = (
        "\\begin{align} p(\\mathcal{M}\\_j \\| X) &= \\exp\\left\\\\{ x \\right\\\\} \\\\\\ "
        "&= \\left\\[ y \\right\\] \\end{align}\n"
    )
    html, notes = _render(text)
    assert _display(html) == [
        "\\begin{align} p(\\mathcal{M}_j | X) &amp;= \\exp\\left\\{ x \\right\\} \\\\ "
        "&amp;= \\left[ y \\right] \\end{align}"
    ]
    assert notes == []


def test_bare_environment_inside_a_paragraph_gets_escapes_resolved():
    html, _ = _render("so \\begin{equation} a\\_1 \\\\{b\\\\} \\end{equation} holds\n")
    assert "\\begin{equation} a_1 \\{b\\} \\end{equation}" in html
    assert html.rstrip().endswith("holds</p>")


def test_row_break_kramdown_made_a_line_break_is_kept_and_warned_once():
    # "\\" at a line's end was a <br> for kramdown: Jekyll's MathJax ran the rows
    # together. sitegen keeps the row break and says so, once per post.
    text = (
        "\\begin{align}\nx &= 1 \\\\\ny &= 2 \\\\\n\\end{align}\n\n"
        "\\begin{align}\na \\\\\nb\n\\end{align}\n"
    )
    html, notes = _render(text)
    assert _display(html)[0] == "\\begin{align}\nx &amp;= 1 \\\\\ny &amp;= 2\n\\end{align}"
    assert [(line, level) for line, level, _ in notes] == [(1, "warning")]
    assert "row break" in notes[0][2]


def test_final_row_break_alone_is_dropped_without_warning():
    _, notes = _render("\\begin{align}\nx &= 1 \\\\\n\\end{align}\n")
    assert notes == []


def test_native_site_environment_stays_verbatim():
    html, _ = _render("\\begin{align} a\\_1 \\end{align}\n", MarkdownDialect())
    assert "a\\_1" in html


def test_unclosed_double_dollar_closes_single_dollar_math():
    # "for any $p, q \in M$$" then a $$ block: kramdown left the lone "$$" as text and
    # MathJax closed "$p, q \in M$" at its first "$".
    html, notes = _render("for any $p, q \\in M$$\n\n$$\nd(p, q)\n$$\n", KRAMDOWN_DOLLARS)
    assert '<span class="math inline">\\(p, q \\in M\\)</span>$</p>' in html
    assert _display(html) == ["d(p, q)"]
    assert not [n for n in notes if "never closed" in n[2]]


def test_row_break_from_three_backslashes_before_end_reaches_mathjax():
    # "\\\ \end{align}": kramdown made "\\ " of it, no <br>, so Jekyll's MathJax got it.
    html, _ = _render("\\begin{align} a &= b \\\\\\ \\end{align}\n")
    assert _display(html) == ["\\begin{align} a &amp;= b \\\\ \\end{align}"]


def test_gfm_hard_break_takes_the_backslash_left_before_a_newline():
    # "\\\" then a newline: "\\" is an escaped "\", and the "\" left before the newline is
    # GFM's hard line break, so MathJax got one backslash there on the Jekyll site.
    html, _ = _render("text \\\\( a \\\\\\\nb \\\\)\n")
    assert "\\(a \\\nb\\)" in html


def test_three_backslashes_at_line_end_in_an_environment_keep_the_row_break():
    text = "\\begin{align}\nx &= 1 \\\\\\\ny &= 2\n\\end{align}\n"
    html, notes = _render(text)
    assert _display(html) == ["\\begin{align}\nx &amp;= 1 \\\\\ny &amp;= 2\n\\end{align}"]
    assert len(notes) == 1 and "row break" in notes[0][2]


def test_dollar_math_in_a_raw_html_block_is_marked_up():
    text = (
        '<figure>\n<img src="a.png">\n<figcaption>Between $p_1$ and $p_2$, '
        "<code>$x$</code> costs $$\\{a\\}$$.</figcaption>\n</figure>\n"
    )
    html, _ = _render(text, KRAMDOWN_DOLLARS)
    assert '<span class="math inline">\\(p_1\\)</span> and <span class="math inline">\\(p_2' in html
    assert "<code>$x$</code>" in html
    assert '<span class="math display">\\[\\{a\\}\\]</span>' in html


def test_single_dollars_in_html_stay_text_where_the_site_has_no_dollar_math():
    html, _ = _render("<div>costs $5 and $6, or $$x$$</div>\n", KRAMDOWN)
    assert 'costs $5 and $6, or <span class="math display">\\[x\\]</span>' in html


def test_math_does_not_cross_a_tag_in_html():
    html, _ = _render("<p>a $x <b>bold</b> y$ b</p>\n", KRAMDOWN_DOLLARS)
    assert 'class="math' not in html


def test_double_dollar_block_with_text_right_after_is_inline_math():
    # kramdown's math block must end at a block boundary; otherwise the lines are a
    # paragraph and "$$…$$" in it inline math.
    text = (
        "$$\\DeclareMathOperator*{\\argmin}{arg\\,min}$$\n"
        "$$\\DeclareMathOperator*{\\argmax}{arg\\,max}$$\n\n"
        "$$\nR = 1\n$$\nwhere $$R$$ is.\n\n$$\nS\n$$\n{: .eq}\n"
    )
    html, notes = _render(text)
    assert html.count('class="math inline"') == 4
    assert _display(html) == ["S"]
    assert notes == []


def test_numbered_block_with_text_right_after_stays_display_with_a_warning():
    html, notes = _render("$$\nx \\tag{1}\n$$\nwhere x is.\n")
    assert _display(html) == ["x \\tag{1}"]
    assert [(line, "warning") for line, *_ in notes] == [(1, "warning")]


def test_kramdown_options_and_comments_show_nothing():
    text = '{::options parse_block_html="false" /}\n\nText\n\n{::comment}\nhidden\n{:/comment}\n'
    html, _ = _render(text)
    assert html.strip() == "<p>Text</p>"


def test_parse_block_html_resolves_escapes_in_html_math():
    # After {::options parse_block_html="true" /} kramdown read a <div>'s content as
    # Markdown: "\\\" at a line's end reached MathJax as "\\" (no GFM hard break there).
    div = "<div>\n$\nA = \\begin{bmatrix} 1 \\\\\\\n 2 \\end{bmatrix}\n$\n</div>\n"
    raw, _ = _render(div, KRAMDOWN_DOLLARS)
    parsed, _ = _render('{::options parse_block_html="true" /}\n\n' + div, KRAMDOWN_DOLLARS)
    assert "1 \\\\\\\n 2" in raw  # raw HTML: as written
    assert "\\(A = \\begin{bmatrix} 1 \\\\\n 2 \\end{bmatrix}\\)" in parsed
    # $$ … $$ in it was kramdown's math, which kramdown keeps verbatim
    block = '{::options parse_block_html="true" /}\n\n<div>\n$$\n1\\\\\\\\\n2\n$$\n</div>\n'
    assert "\\(1\\\\\\\\\n2\\)" in _render(block, KRAMDOWN_DOLLARS)[0]


def test_options_lines_of_an_include_show_nothing(tmp_path):
    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "box.html").write_text(
        '{::options parse_block_html="false" /}\n<div class="box">signup</div>\n'
        '{::options parse_block_html="true" /}\n'
    )
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_posts" / "2020-01-01-inc.md").write_text(
        "---\ntitle: t\n---\nBefore\n\n{% include box.html %}\n\nAfter\n"
    )
    build_site(tmp_path, BuildOptions(out=tmp_path / "_site"))
    html = _post_page(tmp_path, "inc")
    assert '<div class="box">signup</div>' in html
    assert "::options" not in html


def test_parse_block_html_set_by_an_include_applies_to_later_html_math(tmp_path):
    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "signup.html").write_text(
        '<div class="box">signup</div>\n\n{::options parse_block_html="true" /}\n'
    )
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_layouts").mkdir()
    (tmp_path / "_layouts" / "post.html").write_text(
        "<script>MathJax.Hub.Config({tex2jax: {inlineMath: [['$','$']]}});</script>"
    )
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_posts" / "2020-01-01-m.md").write_text(
        "---\ntitle: t\n---\n{% include signup.html %}\n\n"
        "<div>\n$\nA = \\begin{bmatrix} 1 \\\\\\\n 2 \\end{bmatrix}\n$\n</div>\n"
    )
    build_site(tmp_path, BuildOptions(out=tmp_path / "_site"))
    html = _post_page(tmp_path, "m")
    assert "\\(A = \\begin{bmatrix} 1 \\\\\n 2 \\end{bmatrix}\\)" in html


def test_an_options_line_after_an_include_overrides_the_includes_setting(tmp_path):
    # The include turns parse_block_html on; the post's own line after it turns it off
    # again, so the <div>'s $$ is MathJax's (display), not kramdown's inline math.
    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "signup.html").write_text(
        '{::options parse_block_html="false" /}\n<div class="box">signup</div>\n'
        '{::options parse_block_html="true" /}\n'
    )
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_posts" / "2020-01-01-m.md").write_text(
        "---\ntitle: t\n---\n{% include signup.html %}\n\nText:\n\n"
        '{::options parse_block_html="false" /}\n<div>\n$$\nx = 1\n$$\n</div>\n'
    )
    build_site(tmp_path, BuildOptions(out=tmp_path / "_site"))
    assert '<span class="math display">\\[x = 1\\]</span>' in _post_page(tmp_path, "m")


def test_line_break_after_a_row_break_is_dropped_as_kramdown_did():
    # "\\\\ \\\\" at a line's end: "\\ \" and a <br> for kramdown; the row break is there.
    text = "\\begin{aligned}\nH &= a\\\\\\\\ \\\\\\\\\n&= b\n\\end{aligned}\n"
    html, notes = _render(text)
    assert _display(html) == ["\\begin{aligned}\nH &amp;= a\\\\ \\\n&amp;= b\n\\end{aligned}"]


def test_macros_of_a_jekyll_layout_reach_mathjax(tmp_path):
    import json

    from sitegen.build import build_site
    from sitegen.markdown.jekyll import template_macros
    from sitegen.model import BuildOptions

    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "footer.html").write_text(
        "<script>MathJax.Hub.Config({TeX: {Macros: {R: '\\\\mathbb{R}', "
        'inner: ["\\\\langle #1 \\\\rangle", 1]}}});</script>\n'
        '<div style="display: none">$$\n\\newcommand\\bs[1]{\\boldsymbol{#1}}\n'
        "\\DeclareMathOperator{\\Tr}{Tr}\n$$</div>\n"
    )
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("title: t\n")
    assert template_macros(tmp_path) == {
        "R": "\\mathbb{R}",
        "inner": ["\\langle #1 \\rangle", 1],
        "bs": ["\\boldsymbol{#1}", 1],
        "Tr": "\\operatorname{Tr}",
    }
    (tmp_path / "_posts" / "2020-01-01-m.md").write_text("---\ntitle: t\n---\n$$\\bs{x}$$\n")
    build_site(tmp_path, BuildOptions(out=tmp_path / "_site"))
    html = _post_page(tmp_path, "m")
    assert json.dumps("\\boldsymbol{#1}") in html  # in the page's MathJax configuration


def test_native_site_has_no_template_macros(tmp_path):
    from sitegen.markdown.jekyll import template_macros

    (tmp_path / "posts").mkdir()
    assert template_macros(tmp_path) == {}


def test_lines_that_merely_contain_a_pipe_are_a_table_after_a_blank_line():
    text = "Intro.\n\n**prior** | $$ P(H) $$ | belief\n**post** | $$ P(H|E) $$ | update\n\nEnd.\n"
    html, _ = _render(text)
    assert html.count("<tr>") == 2 and html.count("<td>") == 6
    assert "\\(P(H|E)\\)" in html  # the math stays whole (kramdown cut it at the |)
    notes = _render(text)[1]
    assert [(line, level) for line, level, _ in notes] == [(4, "warning")]


def test_pipe_lines_without_a_block_boundary_stay_a_paragraph():
    html, notes = _render("The posterior $$p(x|y)$$ is nice\nand a | here too.\n")
    assert "<table>" not in html and notes == []
    html, _ = _render("Text\nx | y\n\nmore\n")
    assert "<table>" not in html


def test_one_line_paragraph_whose_only_pipe_is_in_math_stays_with_a_warning():
    html, notes = _render("where $p(z|x)$ is the posterior.\n\nNext.\n", KRAMDOWN_DOLLARS)
    assert "<table>" not in html
    assert '<span class="math inline">\\(p(z|x)\\)</span>' in html
    assert [(line, level) for line, level, _ in notes] == [(1, "warning")]
    assert "table" in notes[0][2]


def test_a_pipe_after_a_backslash_never_starts_a_kramdown_table():
    # "\\|" is an escaped backslash and a pipe, yet kramdown's pipe check skips it too.
    html, _ = _render("Text:\n\n\\begin{align} \\\\|X\\\\|_2 \\end{align}\n\nEnd.\n")
    assert "<table>" not in html
    html, _ = _render("a \\\\| b\n\nEnd.\n")
    assert "<table>" not in html


def test_a_pipe_inside_liquid_is_no_table():
    html, _ = _render("Intro.\n\n![x]({{ '/a.png' | relative_url }})\n\nEnd.\n")
    assert "<table>" not in html


def test_block_attribute_list_before_a_table_applies_to_it():
    text = 'Intro.\n\n{: class="info"}\n| a | b |\n| c | d |\n\nEnd.\n'
    html, _ = _render(text)
    assert '<table class="info">' in html
    assert "{:" not in html


def test_attribute_list_after_a_paragraph_line_stays_the_paragraphs():
    html, _ = _render("Some text\n{: .note}\n\nEnd.\n")
    assert '<p class="note">Some text</p>' in html


def test_double_dollars_in_a_parsed_html_block_are_inline_unless_between_blank_lines():
    options = '{::options parse_block_html="true" /}\n\n'
    html, _ = _render(options + "<div>\n$$\nT = 14\n$$\n</div>\n", KRAMDOWN_DOLLARS)
    assert '<span class="math inline">\\(T = 14\\)</span>' in html
    html, _ = _render(options + "<div>\n\n$$\nT = 14\n$$\n\n</div>\n", KRAMDOWN_DOLLARS)
    assert '<div class="math display">\\[T = 14\\]</div>' in html  # the div's content is Markdown


def test_dollar_math_of_an_html_post_is_marked_up(tmp_path):
    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    (tmp_path / "_posts").mkdir()
    (tmp_path / "_layouts").mkdir()
    (tmp_path / "_layouts" / "post.html").write_text(
        "<script>MathJax.Hub.Config({tex2jax: {inlineMath: [['$','$']]}});</script>"
    )
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_posts" / "2020-01-01-h.html").write_text(
        "---\ntitle: t\n---\n<p>Let $x_1$ be given, and</p>\n<p>$$\\sum_i x_i$$</p>\n"
    )
    build_site(tmp_path, BuildOptions(out=tmp_path / "_site"))
    html = _post_page(tmp_path, "h")
    assert '<span class="math inline">\\(x_1\\)</span>' in html
    assert '<span class="math display">\\[\\sum_i x_i\\]</span>' in html
    assert "MathJax" in html


def test_jekyll_config_with_a_tab_after_the_colon_is_read(tmp_path):
    from sitegen.config import load_config

    (tmp_path / "_config.yml").write_text("title:\t\t   'Andy'\nurl: https://example.org\n")
    config = load_config(tmp_path)
    assert config.title == "Andy" and config.url == "https://example.org"


def test_underscore_in_text_typesets_as_in_mathjax_2(tmp_path):
    # \text{style_fwd}: MathJax 2 showed the underscore, MathJax 3 says "'_' allowed only in
    # math mode"; the prefilter escapes it as it does & and #.
    from browser import mathjax_report

    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_posts" / "2020-01-01-u.md").write_text(
        "---\ntitle: t\n---\n$$\\mathcal{L}_\\text{style_fwd} = \\text{a_b & c}$$\n"
    )
    build_site(tmp_path, BuildOptions(out=tmp_path / "_site"))
    page = next(p for p in (tmp_path / "_site").rglob("*.html") if "u" in (p.stem, p.parent.name))
    report = mathjax_report(page)
    assert report["n"] == 1
    assert report["errors"] == []
