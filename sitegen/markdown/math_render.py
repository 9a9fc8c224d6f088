"""HTML for math tokens: MathJax's delimiters around the escaped TeX, or the source as
written when the page has no MathJax."""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from sitegen.markdown.math_options import MathOptions


def render_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    token = tokens[idx]
    if env.get("mathjax") is False:  # no script will typeset it: show it as written
        return escapeHtml(token.meta.get("source", token.content))
    env["has_math"] = True
    tex = escapeHtml(token.content)
    if token.meta.get("display"):
        return f'<span class="math display">\\[{tex}\\]</span>'
    return f'<span class="math inline">\\({tex}\\)</span>'


def make_block_renderer(opts: MathOptions):
    def render_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
        token = tokens[idx]
        if env.get("mathjax") is False:  # no script will typeset it: show it as written
            return f"<p>{escapeHtml(token.meta.get('source', token.content).strip())}</p>\n"
        env["has_math"] = True
        tex = escapeHtml(token.content)
        if token.markup == "env" and not opts.wrap_environments:
            return f'<div class="math display">{tex}</div>\n'
        return f'<div class="math display">\\[{tex}\\]</div>\n'

    return render_block
