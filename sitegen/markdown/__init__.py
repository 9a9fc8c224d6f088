"""The Markdown stage: one configured markdown-it parser per build, rendering post bodies.

``create_parser`` assembles CommonMark + GFM tables (math found before cells are split,
:mod:`sitegen.markdown.tables`), strikethrough, footnotes, heading ids,
raw HTML, smart quotes, Pygments highlighting, math (:mod:`sitegen.markdown.math`),
Liquid (:mod:`sitegen.markdown.liquid`) and kramdown's ``{: .class}`` attribute lists
(:mod:`sitegen.markdown.attributes`); plugins then add their own rules
(``sitegen_extend_markdown``, see ``sitegen.bodies.create_markdown``).

A body is parsed (``md.parse(text, env)``) and its tokens rendered
(``md.renderer.render(tokens, md.options, env)``). The ``env`` dict carries, in:
``line_offset`` (1-based file line of the first body line), ``diagnostics`` (a list that
``(file_line, "warning"|"error", message)`` tuples are appended to), ``liquid`` (a
:class:`LiquidContext`, or absent: Liquid is then left as text with a warning), ``mathjax``
(the post's front matter key: False renders math as the text written, without math
markup, since no script will typeset it); and out:
``has_math`` (set when math was rendered), ``toc`` (``[(level, id, text)]`` for h2-h4) and
``title`` (first h1, if any).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from sitegen.markdown.attributes import kramdown_ial_plugin
from sitegen.markdown.headings import headings_plugin, slugify
from sitegen.markdown.highlight import highlight_code, make_fence_renderer, render_code_block
from sitegen.markdown.html_math import html_block_math_plugin
from sitegen.markdown.inline_html import inline_html_plugin
from sitegen.markdown.jekyll import MarkdownDialect, detect_dialect
from sitegen.markdown.kramdown import kramdown_blocks_plugin
from sitegen.markdown.kramdown_extensions import kramdown_extensions_plugin
from sitegen.markdown.liquid import liquid_plugin
from sitegen.markdown.liquid_values import LiquidContext
from sitegen.markdown.math import math_plugin
from sitegen.markdown.math_options import MathOptions
from sitegen.markdown.mathjax_gate import mathjax_gate_plugin
from sitegen.markdown.table_numbers import table_numbers_plugin
from sitegen.markdown.tables import math_table_plugin

__all__ = [
    "LiquidContext",
    "MarkdownDialect",
    "MathOptions",
    "create_parser",
    "detect_dialect",
    "highlight_code",
    "slugify",
]


def create_parser(
    *,
    highlight: bool = True,
    math_options: dict | None = None,
    dialect: MarkdownDialect | None = None,
) -> MarkdownIt:
    """A parser for post bodies; build it once and reuse it for every post.

    ``dialect`` (:func:`detect_dialect`) says whether posts follow kramdown's rules (a
    Jekyll site) and which single-dollar rule applies; ``math_options`` then switches
    single delimiters on or off.
    """
    dialect = dialect or MarkdownDialect()
    math_settings: dict = {
        "dollars": dialect.dollars,
        "kramdown": dialect.kramdown,
        "process_escapes": dialect.process_escapes,
    }
    if dialect.kramdown:
        # kramdown reads "\[" and "\(" as escaped brackets: MathJax never saw them.
        math_settings["brackets"] = False
    math_settings.update(math_options or {})
    md = MarkdownIt(
        "commonmark",
        # typographer: smart quotes and dashes, as kramdown did for Jekyll posts.
        {"html": True, "typographer": True, "linkify": False},
    )
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(footnote_plugin)
    md.use(math_table_plugin)  # a "|" inside math in a table row splits no cell
    md.use(table_numbers_plugin)  # <td class="num">: a theme keeps numbers on one line
    md.use(inline_html_plugin)  # "<!-- x --> text" is a paragraph; math kept in alt text
    # Math first: its rules must see "$", "\(" ... before Liquid, escapes and emphasis do.
    md.use(math_plugin, **math_settings)
    if dialect.kramdown:
        md.use(kramdown_blocks_plugin, parse_block_html=dialect.parse_block_html)
        md.use(kramdown_extensions_plugin)
        # MathJax found $$ (and the site's $) in raw HTML blocks, which kramdown left alone.
        dollars = math_settings["dollars"] == "mathjax" and math_settings.get("dollar", True)
        md.use(html_block_math_plugin, dollars=bool(dollars), parsed=dialect.parse_block_html)
        if dialect.mathjax_gate is not None:
            md.use(mathjax_gate_plugin, dialect.mathjax_gate)
    md.use(liquid_plugin, highlight=highlight)
    md.use(kramdown_ial_plugin)  # {: .btn} after links, as Jekyll posts write it
    md.use(headings_plugin)
    md.add_render_rule("fence", make_fence_renderer(highlight))
    md.add_render_rule("code_block", render_code_block)
    return md
