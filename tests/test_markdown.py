"""The assembled parser: CommonMark + GFM pieces, heading ids / TOC / title, highlighting,
extensions, and the env conventions the engine relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.markdown import create_parser, slugify

REPO = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def md():
    return create_parser()


def render(md, text: str, **env):
    """A body through the engine's two steps (parse, then render), with its env."""
    env.setdefault("line_offset", 1)
    env.setdefault("diagnostics", [])
    tokens = md.parse(text, env)
    return md.renderer.render(tokens, md.options, env), env


def test_gfm_table_strikethrough_footnote(md):
    src = "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~gone~~ text[^1]\n\n[^1]: the note\n"
    html, _ = render(md, src)
    assert '<th style="text-align:left">a</th>' in html
    # a cell holding one number is marked, so the theme keeps it on one line
    assert '<td style="text-align:right" class="num">2</td>' in html
    assert "<s>gone</s>" in html
    assert 'class="footnote-ref"' in html and "the note" in html


def test_raw_html_and_smart_quotes(md):
    src = '<div class="imgcap">\n<img src="/a.jpeg" height="300">\n</div>\n\n' \
          '"Quoted" and it\'s -- ok'
    html, _ = render(md, src)
    assert '<div class="imgcap">\n<img src="/a.jpeg" height="300">\n</div>' in html
    assert "“Quoted” and it’s – ok" in html


def test_heading_ids_like_kramdown(md):
    src = "### Microservice - what and why ?\n\n#### **Input & Output definitions**\n\n" \
          "## Introduction\n\n## Introduction\n\n## ???\n"
    html, env = render(md, src)
    assert '<h3 id="microservice---what-and-why-">' in html
    assert '<h4 id="input--output-definitions">' in html
    assert '<h2 id="introduction">' in html and '<h2 id="introduction-1">' in html
    assert '<h2 id="section">' in html
    assert env["toc"][:2] == [
        (3, "microservice---what-and-why-", "Microservice - what and why ?"),
        (4, "input--output-definitions", "Input & Output definitions"),
    ]


@pytest.mark.parametrize(
    ("text", "slug"),
    [("REST (in peace)", "rest-in-peace"), ("FALCON VS FLASK:", "falcon-vs-flask"),
     ("Über Größe", "über-größe"), ("a\tb", "a-b")],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_toc_levels_and_title(md):
    src = "# The *Title* $x$\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n# Second h1\n"
    html, env = render(md, src)
    assert env["title"] == "The Title \\(x\\)"
    assert [(level, ident) for level, ident, _ in env["toc"]] == [
        (2, "two"), (3, "three"), (4, "four")
    ]


def test_no_h1_means_no_title(md):
    _, env = render(md, "## only h2\n")
    assert "title" not in env
    assert not env.get("has_math")


def test_fenced_code_is_highlighted(md):
    html, _ = render(md, "```python\nx = {'a': 1}  # c\n```\n\n```\nplain <b>\n```\n")
    assert '<div class="highlight"><pre><code class="language-python" data-lang="python">' in html
    assert '<span class="c1"># c</span>' in html
    assert '<div class="highlight"><pre><code>plain &lt;b&gt;\n</code></pre></div>' in html


def test_highlight_off():
    md = create_parser(highlight=False)
    html, _ = render(md, "```python\nx = 1\n```\n")
    assert '<code class="language-python" data-lang="python">x = 1\n</code>' in html
    assert "<span" not in html


def test_pygments_is_imported_only_for_code():
    code = (
        "import sys\n"
        "from sitegen.markdown import create_parser\n"
        "md = create_parser()\n"
        "md.render('# t\\n\\n$x$ and text', {'diagnostics': []})\n"
        "assert 'pygments' not in sys.modules, 'pygments loaded without code'\n"
        "md.render('```python\\nx = 1\\n```\\n', {'diagnostics': []})\n"
        "assert 'pygments' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_plugins_rules_run_last_and_can_wrap_fences(tmp_path):
    from sitegen.bodies import create_markdown
    from sitegen.build import load_site
    from sitegen.model import BuildOptions

    (tmp_path / "posts").mkdir()
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "fences.py").write_text(
        "from sitegen.hooks import hookimpl\n\n"
        "@hookimpl\n"
        "def sitegen_extend_markdown(md, site):\n"
        "    plain = md.renderer.rules['fence']\n\n"
        "    def fence(self, tokens, idx, options, env):\n"
        "        if tokens[idx].info.strip() == 'python shout':\n"
        "            return '<div class=\"sg-check\">verified</div>\\n'\n"
        "        return plain(tokens, idx, options, env)  # bound to the renderer\n\n"
        "    md.add_render_rule('fence', fence)\n"
    )
    md = create_markdown(load_site(tmp_path, BuildOptions()))
    html, _ = render(md, "```python shout\nx = 1\n```\n\n```python\ny = 2\n```\n")
    assert '<div class="sg-check">verified</div>' in html
    assert "language-python" in html


def test_parse_then_render_fills_env(md):
    # The engine parses all posts first and renders later; env must fill the same way.
    env = {"line_offset": 4, "diagnostics": []}
    tokens = md.parse("# T\n\n## S $y$\n\nbad $$ z\n", env)
    assert env["title"] == "T" and env["toc"] == [(2, "s-y", "S \\(y\\)")]
    assert env["diagnostics"] == [(8, "warning", env["diagnostics"][0][2])]
    html = md.renderer.render(tokens, md.options, env)
    assert env["has_math"] is True
    assert '<h2 id="s-y">' in html


def test_line_numbers_in_lists_tables_and_headings(md):
    src = "# h\n\n- a\n- b $$ c\n\n| x |\n|---|\n| $$ y |\n\n## z $$\n"
    _, env = render(md, src, line_offset=3)
    assert [d[0] for d in env["diagnostics"]] == [6, 10, 12]


def test_html_comment_with_blank_lines_stays_one_comment(md):
    src = "<!---\n$$\n\\label{ref19}\n\n$$\n-->\n\nafter\n"
    html, env = render(md, src)
    assert html.startswith("<!---\n$$\n\\label{ref19}\n\n$$\n-->")
    assert "<p>after</p>" in html and not env.get("has_math")


def test_two_trailing_spaces_make_a_line_break(md):
    html, _ = render(md, "one  \ntwo")
    assert "one<br />\ntwo" in html


def test_kramdown_attribute_lists(md):
    html, env = render(
        md,
        "[Next](https://e.com/n/){: .btn}\n\n![a](b.png){: .w #i width=\"30\"}\n\n"
        "para line\n{: .lead}\n\n## Head\n{: #custom}\n\ntext {: .x} stays\n",
    )
    assert '<a href="https://e.com/n/" class="btn">Next</a>' in html
    assert '<img src="b.png" alt="a" class="w" id="i" width="30" />' in html
    assert '<p class="lead">para line</p>' in html
    assert '<h2 id="custom">Head</h2>' in html and env["toc"] == [(2, "custom", "Head")]
    assert "<p>text {: .x} stays</p>" in html


def test_table_cells_holding_one_number_are_marked(md):
    src = (
        "| x | y | z | w |\n|---|---|---|---|\n"
        "| 3.8e-11 | `-1e-5` | well-known | 12% |\n| e-11 | 1-2 | $10^{-3}$ | −0.5 |\n"
    )
    html, _ = render(md, src)
    marked = [cell.split("</td>")[0] for cell in html.split('<td class="num">')[1:]]
    assert marked == ["3.8e-11", "<code>-1e-5</code>", "12%", "−0.5"]
    assert "<td>well-known</td>" in html and "<td>1-2</td>" in html and "<td>e-11</td>" in html
