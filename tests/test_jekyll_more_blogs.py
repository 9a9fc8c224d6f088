"""Rules found by building more real Jekyll blogs (ML and statistics notes, course notes)
with Jekyll 4.3 + kramdown 2.4 and comparing what MathJax received
(bench/jekyll_compare.py): each cause in a few lines of its own."""

from __future__ import annotations

from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions


def _site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {"_config.yml": "title: t\n", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _build(root: Path) -> list[str]:
    """Build the site; its warnings as ``path:line: warning: message`` lines."""
    result = build_site(root, BuildOptions(out=root / "_site"))
    return [str(d) for d in result.site.report.warnings]


def _page(root: Path, slug: str) -> str:
    pages = [p for p in (root / "_site").rglob("*.html") if slug in (p.stem, p.parent.name)]
    assert len(pages) == 1, pages
    return pages[0].read_text(encoding="utf-8")


def test_post_url_may_name_the_posts_folders_under_posts(tmp_path):
    # Posts kept in folders of _posts/ are linked with their folders, with or without a
    # leading slash; Jekyll finds them, so no link may be lost.
    _site(
        tmp_path,
        {
            "_posts/blog/series/2020-01-02-second.md": "---\ntitle: two\n---\nTwo.\n",
            "_posts/2020-01-03-third.md": (
                "---\ntitle: three\n---\n"
                "[a]({% post_url /blog/series/2020-01-02-second %}) and "
                "[b]({% post_url blog/series/2020-01-02-second %})\n"
            ),
        },
    )
    warnings = _build(tmp_path)
    html = _page(tmp_path, "third")
    for text in "ab":
        assert f'<a href="/2020/01/02/second.html">{text}</a>' in html
    assert not [w for w in warnings if "no such post" in w]


MATHJAX_SCRIPT = '<script src="https://cdn.example.org/mathjax/2.7.7/MathJax.js"></script>\n'
DISPLAY = '<div class="math display">\\[{}\\]</div>'


def test_mathjax_loaded_only_on_request_leaves_other_posts_math_as_typed(tmp_path):
    # The blog's include loads MathJax inside {% if page.mathjax %}: on Jekyll a post
    # without the flag showed "$$y$$" as typed, unless it loaded MathJax itself.
    _site(
        tmp_path,
        {
            "_includes/mathjax.html": "{% if page.mathjax %}\n" + MATHJAX_SCRIPT + "{% endif %}\n",
            "_layouts/default.html": "<head>{% include mathjax.html %}</head>{{ content }}\n",
            "_posts/2020-01-01-asks.md": "---\nmathjax: true\n---\n$$x$$\n",
            "_posts/2020-01-02-silent.md": "---\ntitle: s\n---\nText.\n\n$$y$$\n",
            "_posts/2020-01-03-own.md": "---\ntitle: o\n---\n" + MATHJAX_SCRIPT + "\n$$z$$\n",
        },
    )
    warnings = _build(tmp_path)
    assert DISPLAY.format("x") in _page(tmp_path, "asks")
    silent = _page(tmp_path, "silent")
    assert "<p>$$y$$</p>" in silent and "math display" not in silent
    assert "MathJax" not in silent  # no script for math nobody typesets
    assert DISPLAY.format("z") in _page(tmp_path, "own")
    warned = [w for w in warnings if "math shown as typed" in w]
    assert len(warned) == 1
    assert warned[0].startswith("_posts/2020-01-02-silent.md:6: warning:")
    assert "_includes/mathjax.html" in warned[0] and "mathjax: true" in warned[0]


def test_mathjax_asked_for_by_a_layouts_front_matter(tmp_path):
    # {% if page.math or layout.math %}: a post whose layout (or its parent) sets math.
    _site(
        tmp_path,
        {
            "_includes/mathjax.html": MATHJAX_SCRIPT,
            "_layouts/default.html": (
                "{% if page.math or layout.math %}{% include mathjax.html %}{% endif %}"
                "{{ content }}\n"
            ),
            "_layouts/maths.html": "---\nlayout: default\nmath: true\n---\n{{ content }}\n",
            "_layouts/notes.html": "---\nlayout: maths\n---\n{{ content }}\n",
            "_layouts/plain.html": "---\nlayout: default\n---\n{{ content }}\n",
            "_posts/2020-01-01-noted.md": "---\nlayout: notes\n---\n$$a$$\n",
            "_posts/2020-01-02-plain.md": "---\nlayout: plain\n---\n$$b$$\n",
            "_posts/2020-01-03-flagged.md": "---\nlayout: plain\nmath: true\n---\n$$c$$\n",
        },
    )
    _build(tmp_path)
    assert DISPLAY.format("a") in _page(tmp_path, "noted")
    assert "<p>$$b$$</p>" in _page(tmp_path, "plain")
    assert DISPLAY.format("c") in _page(tmp_path, "flagged")


def test_mathjax_loaded_on_every_page_or_under_an_unread_condition_stays_on(tmp_path):
    _site(
        tmp_path,
        {
            "_config.yml": "title: t\nmathjax: true\n",
            "_layouts/default.html": (
                "{% if site.mathjax %}" + MATHJAX_SCRIPT + "{% endif %}"
                "{% if page.layout == 'post' %}x{% endif %}{{ content }}\n"
            ),
            "_layouts/other.html": (
                "{% if page.kind != 'x' %}" + MATHJAX_SCRIPT + "{% endif %}{{ content }}\n"
            ),
            "_posts/2020-01-01-site.md": "---\ntitle: s\n---\n$$d$$\n",
            "_posts/2020-01-02-other.md": "---\nlayout: other\n---\n$$e$$\n",
        },
    )
    _build(tmp_path)
    assert DISPLAY.format("d") in _page(tmp_path, "site")
    assert DISPLAY.format("e") in _page(tmp_path, "other")


def _render_dollars(text: str) -> tuple[str, list]:
    from sitegen.markdown import MarkdownDialect, create_parser

    dialect = MarkdownDialect(kramdown=True, dollars="mathjax", process_escapes=True)
    env: dict = {"diagnostics": []}
    html = create_parser(highlight=False, dialect=dialect).render(text, env)
    return html, env["diagnostics"]


def test_math_kramdown_cut_with_emphasis_is_typeset_whole_and_warned_once():
    # kramdown knows no $…$: "_" after a digit and "_" before a backslash were <em> tags
    # for it, so the Jekyll page's MathJax never saw the formula. sitegen typesets it.
    text = (
        "intro\n\nthe cost of $\\text{tr}(\\nabla^2_\\mathbf{x} f_\\theta)$ is high, "
        "and $x^*$ then $x^* = y$.\n"
    )
    html, notes = _render_dollars(text)
    trace = "\\text{tr}(\\nabla^2_\\mathbf{x} f_\\theta)"
    assert f'<span class="math inline">\\({trace}\\)</span>' in html
    assert '<span class="math inline">\\(x^* = y\\)</span>' in html
    assert "<em>" not in html
    assert [(line, level) for line, level, _ in notes] == [(3, "warning")]
    assert "emphasis" in notes[0][2]


def test_math_whose_underscores_kramdown_left_alone_is_not_warned():
    # After a letter "_" opens nothing; "_" before a letter or digit closes nothing;
    # "* " is no opener: kramdown made no emphasis here, so there is nothing to say.
    text = "let $x_1$ and $(y)_i$ and $f_j$, $a^* b$ and $c^*$ be given\n"
    html, notes = _render_dollars(text)
    assert html.count('class="math inline"') == 5
    assert notes == []


FIGURE_INCLUDE = """\
{%- assign head = include.url | slice: 0, 7 -%}
{%- capture alt %}{{ include.caption | default: "a figure" | upcase }}{% endcapture -%}
{%- if head == 'http://' or include.url contains '//' -%}
<img src="{{ include.url }}" alt="{{ alt }}">
{%- elsif include.url -%}
<img src="{{ include.url | relative_url }}" alt="{{ alt }}">
{%- endif -%}
{%- unless include.note %}<i>no note{{ include.missing }}</i>{% endunless -%}
{% comment %} {{ not | a_filter }} {% endcomment %}
<b>{{ site.data.ui-text.toc_label | default: "Contents" | "not a filter" }}</b>
"""


def test_an_include_written_in_liquid_renders_as_in_jekyll(tmp_path):
    # Themes' _includes/ use assign, capture, unless, elsif, contains and filters with
    # arguments; a missing include key is nil, as in Liquid.
    _site(
        tmp_path,
        {
            "_config.yml": "title: t\nbaseurl: /notes\n",
            "_includes/figure.html": FIGURE_INCLUDE,
            "_posts/2020-01-01-figures.md": (
                "---\ntitle: f\n---\n"
                '{% include figure.html url="img/a.png" caption="the graph" %}\n\n'
                '{% include figure.html url="http://example.org/b.png" note="n" %}\n'
            ),
        },
    )
    warnings = _build(tmp_path)
    html = _page(tmp_path, "figures")
    assert '<img src="/notes/img/a.png" alt="THE GRAPH"><i>no note</i>' in html
    assert '<img src="http://example.org/b.png" alt="A FIGURE">' in html
    assert "a_filter" not in html and "{%" not in html
    assert html.count("<b>Contents</b>") == 2  # a key with a hyphen is a key
    assert warnings == [w for w in warnings if "figure" not in w]


def test_math_in_an_includes_output_is_typeset_as_kramdown_read_it(tmp_path):
    # Liquid ran before kramdown: an include's output was Markdown of the post, so a
    # side note's "$$n$$" was inline math, in a block include or in a sentence.
    _site(
        tmp_path,
        {
            "_includes/note.html": '<span class="note">{{ include.note }}</span>',
            "_posts/2020-01-01-notes.md": (
                "---\ntitle: n\n---\n"
                '{% include note.html note="the $$n$$-th term $$F_n$$" %}\n\n'
                'A sentence{% include note.html note="with $$F_i$$" %} goes on.\n'
            ),
        },
    )
    _build(tmp_path)
    html = _page(tmp_path, "notes")
    for tex in ("n", "F_n", "F_i"):
        assert f'<span class="math inline">\\({tex}\\)</span>' in html
    assert "$$" not in html.split("<article", 1)[-1]


def test_block_math_with_pipes_over_two_lines_is_math_not_a_table():
    # kramdown tries block math before tables: "$$ … \\" and "… $$" between blank lines
    # are one display formula, whatever "|" they hold.
    from sitegen.markdown import MarkdownDialect, create_parser

    md = create_parser(highlight=False, dialect=MarkdownDialect(kramdown=True, dollars="off"))
    env: dict = {"diagnostics": []}
    text = "where\n\n$$ p( s | x ) = a\\\\\n\\geq b | c  $$\n\nHence\n"
    html = md.render(text, env)
    assert '<div class="math display">\\[p( s | x ) = a\\\\\n\\geq b | c\\]</div>' in html
    assert "<table>" not in html and env["diagnostics"] == []


def _render_kramdown(text: str, **dialect) -> tuple[str, list]:
    from sitegen.markdown import MarkdownDialect, create_parser

    md = create_parser(highlight=False, dialect=MarkdownDialect(kramdown=True, **dialect))
    env: dict = {"diagnostics": []}
    return md.render(text, env), env["diagnostics"]


TABLE_IN_DIV = '<div class="data">\n\n| a | b |\n|---|---|\n| x | y |\n\n</div>\n\nafter\n'


def test_parse_block_html_makes_an_html_blocks_content_markdown():
    # kramdown rendered the table inside the <div>; a raw HTML block showed its pipes.
    html, notes = _render_kramdown('{::options parse_block_html="true" /}\n' + TABLE_IN_DIV)
    assert html.startswith('<div class="data">\n<table>\n<thead>\n<tr>\n<th>a</th>')
    assert "<td>y</td>" in html and "</table>\n</div>\n<p>after</p>" in html
    assert notes == []


def test_parse_block_html_from_the_config_and_the_markdown_attribute():
    html, _ = _render_kramdown(TABLE_IN_DIV, parse_block_html=True)
    assert "<th>a</th>" in html
    html, _ = _render_kramdown(TABLE_IN_DIV.replace('"data"', '"data" markdown="1"'))
    assert '<div class="data">\n<table>' in html  # the attribute is kramdown's, not shown
    html, _ = _render_kramdown(
        TABLE_IN_DIV.replace('"data"', '"data" markdown="0"'), parse_block_html=True
    )
    assert "| a | b |" in html and "<table>" not in html


def test_without_parse_block_html_an_html_block_stays_raw():
    html, _ = _render_kramdown(TABLE_IN_DIV)
    assert "| a | b |" in html and "<table>" not in html


def test_parse_block_html_from_jekyll_config(tmp_path):
    from sitegen.markdown import detect_dialect

    _site(tmp_path, {"_config.yml": "kramdown:\n  parse_block_html: true\n"})
    assert detect_dialect(tmp_path).parse_block_html is True
    _site(tmp_path, {"_config.yml": "kramdown:\n  input: GFM\n"})
    assert detect_dialect(tmp_path).parse_block_html is False


def test_an_include_inside_a_liquid_include_runs_in_its_scope(tmp_path):
    # Themes start includes with {% include base_path %}, which assigns base_path for the
    # rest of the file; an included include gets its own include.KEY values.
    _site(
        tmp_path,
        {
            "_config.yml": "title: t\nurl: https://example.org\n",
            "_includes/base_path": "{% assign base_path = site.url | append: '/blog' %}",
            "_includes/label.html": "<b>{{ include.text | upcase }}</b>",
            "_includes/card.html": (
                '{% include base_path %}<a href="{{ base_path }}/{{ include.path }}">'
                "{% include label.html text=include.path %}</a>"
            ),
            "_includes/lost.html": "{% include nowhere.html %}",
            "_posts/2020-01-01-cards.md": (
                '---\ntitle: c\n---\n{% include card.html path="x" %}\n\n{% include lost.html %}\n'
            ),
        },
    )
    result = build_site(tmp_path, BuildOptions(out=tmp_path / "_site"))
    assert '<a href="https://example.org/blog/x"><b>X</b></a>' in _page(tmp_path, "cards")
    errors = [str(d) for d in result.site.report.errors]
    assert errors == [
        "_posts/2020-01-01-cards.md:6: error: include 'nowhere.html' (inside an include) "
        "not found in _includes/"
    ]


def test_an_include_applies_the_filters_a_post_applies(tmp_path):
    # A theme's image include: {% capture p %}{{ page.title | slugify }}/…{% endcapture %}
    _site(
        tmp_path,
        {
            "_config.yml": "title: t\n",
            "_includes/image": (
                "{% capture path %}{{ page.title | slugify }}/{{ include.name }}{% endcapture %}"
                '<img src="/images/{{ path }}" alt="{{ include.caption | truncate: 12 }}">'
            ),
            "_includes/odd.html": "{{ include.name | no_such_filter }}",
            "_posts/2020-01-01-fig.md": (
                "---\ntitle: A Fine Plot!\n---\n"
                '{% include image name="p.png" caption="a long caption" %}\n\n'
                '{% include odd.html name="x" %}\n'
            ),
        },
    )
    result = build_site(tmp_path, BuildOptions(out=tmp_path / "_site", strict=False))
    assert '<img src="/images/a-fine-plot/p.png" alt="a long ca...">' in _page(tmp_path, "fig")
    errors = [str(d) for d in result.site.report.errors]
    assert len(errors) == 1, errors
    assert errors[0].startswith("_posts/2020-01-01-fig.md:6: error: ")
    assert "the filter 'no_such_filter' is not one sitegen applies" in errors[0]
