"""Posts of Jekyll sites are read by kramdown's rules, and MathJax receives the TeX it got
from Jekyll 4.3 + kramdown 2.4 (tests/fixtures/jekyll_cases/jekyll_math.json lists the math
MathJax found in Jekyll's pages of these posts). Native sitegen sites keep their own rules."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import mathjax_report

from sitegen.build import build_site
from sitegen.errors import ConfigError
from sitegen.markdown import MarkdownDialect, create_parser, detect_dialect
from sitegen.markdown.dollars import find_mathjax_dollar
from sitegen.markdown.kramdown import split_row
from sitegen.model import BuildOptions

CASES = Path(__file__).parent / "fixtures" / "jekyll_cases"
JEKYLL_MATH = json.loads((CASES / "jekyll_math.json").read_text(encoding="utf-8"))

# What sitegen's MathJax configuration finds: \( .. \) inline, \[ .. \] display.
_DELIMITED = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)


class _Text(HTMLParser):
    """The strings MathJax scans: text outside script/style/pre/code, split at tags
    (``<br>`` joins, as in MathJax)."""

    SKIP = {"script", "style", "pre", "code", "textarea"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = [""]
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.strings[-1] += "\n"
            return
        self.strings.append("")
        self.skipping += tag in self.SKIP

    def handle_endtag(self, tag):
        self.strings.append("")
        self.skipping -= tag in self.SKIP

    def handle_data(self, data):
        if not self.skipping:
            self.strings[-1] += data


def math_items(html: str) -> list[list]:
    body = html[html.find('id="sg-content"') :]
    parser = _Text()
    parser.feed(body)
    items = []
    for string in parser.strings:
        for match in _DELIMITED.finditer(string):
            display = match.group(2) is not None
            tex = match.group(2) if display else match.group(1)
            items.append([display, " ".join(tex.split())])
    return items


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    sites = {}
    for name in ("site", "site-dollars"):
        root = tmp_path_factory.mktemp("jekyll") / name
        shutil.copytree(CASES / name, root)
        result = build_site(root, BuildOptions(out=root / "_site"))
        sites[name] = (result, root / "_site")
    return sites


def _cases():
    return sorted(JEKYLL_MATH)


# The one place sitegen knowingly differs in these posts: Jekyll's MathJax paired the "$"
# of "$60K" with the one of "$10K" across a $$ formula and showed one broken formula
# (a MathJax error, checked in Chromium); sitegen shows two dollar signs and the formula.
DIFFERENCES = {
    "site-dollars/2020-01-04-dollars.md": {0: [False, "\\sigma^2"]},
}


@pytest.mark.parametrize("case", _cases())
def test_mathjax_gets_the_math_jekyll_gave_it(built, case):
    site, post = case.split("/", 1)
    _, out = built[site]
    expected = [list(item) for item in JEKYLL_MATH[case]["math"]]
    for index, item in DIFFERENCES.get(case, {}).items():
        expected[index] = item
    html = (out / JEKYLL_MATH[case]["page"]).read_text(encoding="utf-8")
    assert math_items(html) == expected


def test_markdown_after_a_closing_html_tag_is_markdown(built):
    _, out = built["site"]
    html = (out / "2020/01/01/html-block/index.html").read_text(encoding="utf-8")
    assert "<ol>\n<li>Use" in html
    assert "$$" not in html


def test_table_without_separator_row_is_a_table(built):
    _, out = built["site"]
    html = (out / "2020/01/02/table/index.html").read_text(encoding="utf-8")
    assert html.count("<tr>") == 2
    assert "<td><strong>prior</strong></td>" in html
    assert "<thead>" not in html


def test_escaped_brackets_are_brackets(built):
    _, out = built["site"]
    html = (out / "2020/01/03/escaped-brackets/index.html").read_text(encoding="utf-8")
    assert "active range of [-1,1], and <em>sess.run(product)</em> returns" in html


def test_blockquote_with_br_lines_is_one_blockquote(built):
    _, out = built["site"]
    html = (out / "2020/01/11/blockquote/index.html").read_text(encoding="utf-8")
    assert html.count("<blockquote>") == 1
    assert "&gt;" not in html


def test_dollar_differences_are_warned_once_with_file_and_line(built):
    result, _ = built["site-dollars"]
    warnings = [d for d in result.site.report.diagnostics if d.level == "warning"]
    found = [d for d in warnings if "dollar sign" in d.message]
    assert len(found) == 1
    assert (found[0].path, found[0].line) == ("_posts/2020-01-04-dollars.md", 5)
    assert not [d for d in result.site.report.diagnostics if d.level == "error"]


@pytest.mark.parametrize(
    "page",
    ["2020/01/05/text-hash/index.html", "2020/01/11/blockquote/index.html"],
)
def test_pages_typeset_without_mathjax_errors(built, page):
    # \text{# of ...}: MathJax 2 read it literally, MathJax 3 rejects a bare '#'.
    _, out = built["site"]
    report = mathjax_report(out / page)
    assert report["n"] > 0
    assert report["errors"] == []


def test_dollar_page_typesets_without_mathjax_errors(built):
    _, out = built["site-dollars"]
    report = mathjax_report(out / "2020/01/04/dollars/index.html")
    assert report["n"] == 6
    assert report["errors"] == []


# -- detection and configuration -------------------------------------------------------------


def _site(tmp_path: Path, layout: str | None, config: str = "title: x\n") -> Path:
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text(config)
    if layout is not None:
        (tmp_path / "_includes").mkdir()
        (tmp_path / "_includes" / "head.html").write_text(layout)
    return tmp_path


def test_jekyll_site_without_dollar_config_has_no_single_dollar_math(tmp_path):
    dialect = detect_dialect(_site(tmp_path, '<script src="MathJax.js"></script>'))
    assert dialect == MarkdownDialect(kramdown=True, dollars="off")


def test_mathjax_2_dollar_config_is_found_with_its_escapes_setting(tmp_path):
    layout = """<script type="text/x-mathjax-config">
    MathJax.Hub.Config({tex2jax: {inlineMath: [ ["$","$"], ["\\\\(","\\\\)"] ]}});
    </script>"""
    dialect = detect_dialect(_site(tmp_path, layout))
    assert (dialect.dollars, dialect.process_escapes) == ("mathjax", False)
    assert dialect.found_in == "_includes/head.html"


def test_mathjax_3_dollar_config_processes_escapes(tmp_path):
    layout = "<script>window.MathJax = {tex: {inlineMath: [['$', '$']]}};</script>"
    dialect = detect_dialect(_site(tmp_path, layout))
    assert (dialect.dollars, dialect.process_escapes) == ("mathjax", True)


def test_config_key_overrides_detection_and_native_sites_keep_pandoc(tmp_path):
    assert detect_dialect(_site(tmp_path, None), "pandoc").dollars == "pandoc"
    native = tmp_path / "native"
    (native / "posts").mkdir(parents=True)
    assert detect_dialect(native) == MarkdownDialect()


def test_bad_dollars_setting_is_a_config_error(tmp_path):
    from sitegen.config import load_config

    (tmp_path / "sitegen.toml").write_text('[math]\ndollars = "tex"\n')
    with pytest.raises(ConfigError, match="math.dollars"):
        load_config(tmp_path)
    (tmp_path / "sitegen.toml").write_text('[math]\ndollars = "mathjax"\n')
    assert load_config(tmp_path).math.dollars == "mathjax"


# -- the rules, one by one ---------------------------------------------------------------


def _render(text: str, dialect: MarkdownDialect) -> tuple[str, list]:
    md = create_parser(highlight=False, dialect=dialect)
    env: dict = {"diagnostics": []}
    html = md.render(text, env)
    return html, env["diagnostics"]


KRAMDOWN = MarkdownDialect(kramdown=True, dollars="off")
KRAMDOWN_DOLLARS = MarkdownDialect(kramdown=True, dollars="mathjax")


def test_mathjax_dollar_rule_allows_spaces_and_skips_braces():
    src = "a $ x_1 $ b ${a$b}$ c"
    first = find_mathjax_dollar(src, 2, len(src), kramdown=False)
    assert (first.tex, src[first.stop :]) == ("x_1", " b ${a$b}$ c")
    second = find_mathjax_dollar(src, 12, len(src), kramdown=False)
    assert second.tex == "{a$b}"
    assert find_mathjax_dollar("costs $5", 6, 8, kramdown=False) is None


def test_kramdown_escapes_are_resolved_before_the_dollar_scan():
    html, _ = _render("$\\\\{a\\_1\\\\}$ and \\\\$5", KRAMDOWN_DOLLARS)
    assert '<span class="math inline">\\(\\{a_1\\}\\)</span>' in html
    assert "and $5" in html


def test_pandoc_dollars_on_a_kramdown_site_resolve_escapes_too():
    html, _ = _render("$\\|x\\|$", MarkdownDialect(kramdown=True, dollars="pandoc"))
    assert "\\(|x|\\)" in html


def test_math_kramdown_took_for_text_gets_its_typographic_characters():
    # kramdown curled quotes and made dashes and ellipses in $..$ (text to it) and in bare
    # environments before MathJax saw them: what the blog's readers saw, so it is matched
    # (each result as Jekyll 4.3 with kramdown 2.4 wrote it)
    text = (
        "$y''(x)$ and $f'(x)$, $x_1, ..., x_n$, $a--b$ and $$g'(x)$$ $<<a>>$ $\"a\" 'b'$"
        " $(A')^{-1}$\n\n\\begin{align} y'' \\end{align}\n"
    )
    html, notes = _render(text, KRAMDOWN_DOLLARS)
    tex = re.findall(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", html)
    assert [a or b for a, b in tex] == [
        "y\u2019\u2018(x)",  # kramdown's quote rules: the second one opens
        "f\u2019(x)",
        "x_1, \u2026, x_n",
        "a\u2013b",
        "g'(x)",  # $$..$$ was kramdown's math: verbatim
        "\u00aba\u00bb",
        "\u201da\u201d \u2018b\u2019",  # after the "$" a quote closes
        "(A\u2019)^{-1}",
        "\\begin{align} y\u2019\u2019 \\end{align}",
    ]
    assert notes == []


def test_numbered_display_after_text_stays_display_with_a_warning():
    text = "Some text\n$$\nx \\tag{1}\n$$\n\nmore\n$$\ny\n$$\n"
    html, notes = _render(text, KRAMDOWN)
    assert '<div class="math display">\\[x \\tag{1}\\]</div>' in html
    assert '<span class="math inline">\\(y\\)</span>' in html
    assert [line for line, _, message in notes if "display math" in message] == [2]


def test_html_block_ends_at_its_matching_closing_tag():
    text = "<div>\n<div>inner</div>\n$$a$$\n</div>\n*after*\n"
    html, _ = _render(text, KRAMDOWN)
    # the $$ inside the block is marked up as Jekyll's MathJax found it (html_math)
    math = '<span class="math display">\\[a\\]</span>'
    assert f"<div>\n<div>inner</div>\n{math}\n</div>\n<p><em>after</em></p>" in html


def test_dollars_inside_an_html_blocks_own_inline_math_are_part_of_it():
    # MathJax reads "\\( … \\)" first: a "$$" in its \\text{} is TeX, not another formula
    cell = "\\( f = g \\\\ \\text{(where $$\\sum_i p_i = 1$$)} \\)"
    other = "\\(a\\) then $$b$$ \\(c $d$ e\\)"
    text = f"<table><tr>\n<td>{cell}</td>\n<td>{other}</td>\n</tr></table>\n"
    html, _ = _render(text, KRAMDOWN)
    assert f"<td>{cell}</td>" in html
    assert '\\(a\\) then <span class="math display">\\[b\\]</span> \\(c $d$ e\\)' in html


def test_a_list_item_that_is_only_dollar_math_is_a_math_block():
    # kramdown (checked against Jekyll 4.3): the item's text is a block of its own
    html, _ = _render("1. a\n2. $$x$$\n3. $$y$$ \n4. b $$z$$\n- $$w$$\n  more\n", KRAMDOWN)
    assert html.count('<div class="math display">') == 2
    assert '<li><span class="math inline">\\(z\\)' not in html and "b <span" in html
    assert '<li><span class="math inline">\\(w\\)</span>\nmore</li>' in html


def test_a_blockquote_keeps_every_line_up_to_a_blank_one_as_kramdown_does():
    # each case as Jekyll 4.3 + kramdown 2.4 rendered it
    html, _ = _render("> **Steps**\n1. a\n2. $$v$$\n\nafter\n", KRAMDOWN)
    assert html.startswith("<blockquote>\n<p><strong>Steps</strong></p>\n<ol>")
    assert '<div class="math display">\\[v\\]</div>\n</li>\n</ol>\n</blockquote>\n<p>after' in html
    html, _ = _render("> q\n# h\n\n> a\n>\n> > b\n> c\nlazy\n", KRAMDOWN)
    assert '<blockquote>\n<p>q</p>\n<h1 id="h">h</h1>\n</blockquote>' in html
    assert "<p>a</p>\n<blockquote>\n<p>b\nc\nlazy</p>\n</blockquote>\n</blockquote>" in html
    html, _ = _render("> q\n$$u$$\n\n> r\n<div>h</div>\n\n> s\n---\n", KRAMDOWN)
    assert '<p>q\n<span class="math inline">\\(u\\)</span></p>' in html
    assert "<p>r</p>\n</blockquote>\n<div>h</div>" in html  # an HTML block ends it
    assert '<blockquote>\n<h2 id="s">s</h2>\n</blockquote>' in html


def test_dollar_math_right_before_a_parsed_elements_closing_tag_is_inline():
    # as Jekyll 4.3 rendered it: the closing tag is a line of text after the block
    text = '<details markdown="1">\n\nText\n\n$$\nx\n$$\n</details>\n\n'
    text += '<details markdown="1">\n\nText\n\n$$\ny\n$$\n\n</details>\n'
    html, _ = _render(text, KRAMDOWN)
    assert '<p><span class="math inline">\\(x\\)</span></p>\n</details>' in html
    assert '<div class="math display">\\[y\\]</div>\n</details>' in html


def test_parsed_html_dollar_math_followed_by_a_closing_tag_is_inline():
    # parse_block_html on, the element kept raw (its opening line holds more than the tag)
    dialect = MarkdownDialect(kramdown=True, dollars="off", parse_block_html=True)
    text = "<details> <summary>S</summary>\nText:\n\n$$\nx\n$$\n</details>\n\n"
    text += "<details> <summary>S</summary>\nText:\n\n$$\ny\n$$\n\n</details>\n"
    html, _ = _render(text, dialect)
    assert '<span class="math inline">\\(x\\)</span>\n</details>' in html
    assert '<span class="math display">\\[y\\]</span>\n\n</details>' in html


@pytest.mark.parametrize(
    "before",
    ["### H", "~~~\nc\n~~~", "* * *", "<div>x</div>"],
    ids=["heading", "fence", "rule", "html"],
)
def test_dollar_math_right_after_another_block_is_a_paragraph(before):
    # kramdown starts a math block only after a blank line (checked against Jekyll 4.3)
    html, notes = _render(f"{before}\n$$x$$\n\n{before}\n\n$$y$$\n", KRAMDOWN)
    assert '<p><span class="math inline">\\(x\\)</span></p>' in html
    assert '<div class="math display">\\[y\\]</div>' in html
    html, notes = _render(f"{before}\n$$z \\tag{{1}}$$\n", KRAMDOWN)  # numbered: kept, said
    assert '<div class="math display">' in html
    assert any("right after another block" in message for _, _, message in notes)


def test_line_starting_with_a_span_tag_is_a_paragraph():
    html, _ = _render('<img src="x.png">\nwith $$k$$\n', KRAMDOWN)
    assert html.startswith('<p><img src="x.png">\nwith <span class="math inline">\\(k\\)')


def test_kramdown_table_with_separator_after_first_row_has_a_header():
    html, _ = _render("| a | b |\n| c | d |\n|---|---|\n| e | f |\n", KRAMDOWN)
    assert html.count("<th>") == 4 and html.count("<td>") == 2


def test_kramdown_table_rows_go_on_over_indented_lines_with_a_pipe():
    # a CV's table: more rows of one entry indented under its second column, a separator
    # after the first entry's rows (Jekyll 4.3: three header rows, the rest body)
    text = (
        "Since 2017  | Ph.D. at A\n"
        "            | B University\n"
        "------------|------------\n"
        "2015 - 2017 | M.S. at C\n"
        "            | D University\n"
        "------------| -----------\n"
    )
    html, _ = _render(text, KRAMDOWN)
    assert html.count("<table>") == 1 and html.count("<tr>") == 4
    assert html.count("<th>") == 4 and html.count("<td>") == 4
    assert "<th></th>\n<th>B University</th>" in html
    assert "<td></td>\n<td>D University</td>" in html


def test_row_split_keeps_pipes_in_code_math_and_escapes():
    assert split_row("| `a|b` | $$|x|$$ | c\\|d |") == ["`a|b`", "$$|x|$$", "c\\|d"]


def test_native_sites_keep_commonmark_and_pandoc_rules():
    text = "<div>\n</div>\n$x$ and \\[y\\]\n\n| a |\n| b |\n"
    html, _ = _render(text, MarkdownDialect())
    assert "$x$ and \\[y\\]" in html  # still inside the HTML block
    assert "<table>" not in html
    html, _ = _render("$x$ and \\[y\\]", MarkdownDialect())
    assert "\\(x\\)" in html and "\\[y\\]</span>" in html


# -- smaller: Liquid in code, mathjax: false, heading math in the contents --------------------


def _jekyll_post(tmp_path: Path, name: str, text: str) -> Path:
    # no permalink in _config.yml: Jekyll's "date" style, /2020/01/01/NAME.html
    (tmp_path / "_posts").mkdir(exist_ok=True)
    (tmp_path / "_config.yml").write_text("title: t\nurl: https://example.org\n")
    (tmp_path / "_posts" / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_liquid_values_in_code_are_substituted_as_jekyll_does(tmp_path):
    text = (
        "---\ntitle: t\n---\n~~~\ncurl {{ site.url }}/api\n~~~\n\n"
        "{% raw %}\n```\n{{ site.url }}\n```\n{% endraw %}\n"
    )
    root = _jekyll_post(tmp_path, "2020-01-01-code.md", text)
    build_site(root, BuildOptions(out=root / "_site"))
    html = next((root / "_site").rglob("code.html")).read_text(encoding="utf-8")
    assert "curl https://example.org/api" in html
    assert "{{ site.url }}" in html  # the raw block keeps it


def test_mathjax_false_gets_no_math_markup(tmp_path):
    text = "---\ntitle: t\nmathjax: false\n---\nPrice $$x^2$$ here.\n\n$$\ny\n$$\n"
    root = _jekyll_post(tmp_path, "2020-01-01-nomath.md", text)
    build_site(root, BuildOptions(out=root / "_site"))
    html = next((root / "_site").rglob("nomath.html")).read_text(encoding="utf-8")
    assert 'class="math' not in html
    assert "Price $$x^2$$ here." in html and "<p>$$\ny\n$$</p>" in html
    assert "MathJax" not in html


def test_heading_math_is_typeset_once_and_copied_into_the_contents(tmp_path):
    from browser import dump_dom

    body = "".join(f"## Step $${v}_1$$\n\ntext\n\n" for v in "abc") + "## Bad $$\\nosuchmacro x$$\n"
    root = _jekyll_post(tmp_path, "2020-01-01-toc.md", f"---\ntitle: t\n---\n{body}")
    build_site(root, BuildOptions(out=root / "_site"))
    page = next((root / "_site").rglob("toc.html"))
    assert 'class="toc tex2jax_ignore"' in page.read_text(encoding="utf-8")
    report = mathjax_report(page)
    assert report["n"] == 4  # the headings' math, not once more for the contents
    assert len(report["errors"]) == 1
    dom = dump_dom(page.with_name("mathjax-probe.html").as_uri())
    start = dom.find('<nav class="toc')
    toc = dom[start : dom.find("</nav>", start)]
    assert toc.count("<mjx-container") == 3  # the failed one stays as written
    assert "\\nosuchmacro x" in toc
