"""kramdown's block extensions ``{::options … /}`` and ``{::comment}…{:/comment}``.

Neither shows anything in Jekyll's page; here too. ``{::options parse_block_html="true" /}``
(often the last line of an include) makes kramdown read the content of the HTML blocks
after it as Markdown, so kramdown's escapes were resolved in the math written there
before MathJax saw it: :mod:`sitegen.markdown.html_math` reads the ``kramdown_options``
tokens left here to know. Other options are accepted and have no effect.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

__all__ = ["kramdown_extensions_plugin", "without_options_lines"]

_OPTIONS = re.compile(r"\{::options\b((?:\s+[\w-]+=(?:\"[^\"]*\"|'[^']*'))*)\s*/\}\s*$")
_OPTION = re.compile(r"([\w-]+)=(?:\"([^\"]*)\"|'([^']*)')")
_COMMENT_OPEN = re.compile(r"\{::comment\}")
_COMMENT_CLOSE = re.compile(r"\{:/(?:comment)?\}")


_OPTIONS_LINE = re.compile(r"^[ \t]*\{::options\b[^\n]*/\}[ \t]*\n?", re.M)


def without_options_lines(html: str) -> str:
    """An include's output without its ``{::options … /}`` lines, which kramdown consumed
    after Jekyll's Liquid had put the include into the post."""
    return _OPTIONS_LINE.sub("", html) if "{::options" in html else html


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _kramdown_extension(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    text = _line(state, start)
    if not text.startswith("{::"):
        return False
    options = _OPTIONS.match(text)
    if options is not None:
        if not silent:
            token = state.push("kramdown_options", "", 0)
            token.map = [start, start + 1]
            token.meta["options"] = {
                m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                for m in _OPTION.finditer(options.group(1))
            }
        state.line = start + 1
        return True
    if _COMMENT_OPEN.match(text) is None:
        return False
    for line in range(start, end):
        if _COMMENT_CLOSE.search(_line(state, line)):
            if not silent:
                token = state.push("kramdown_comment", "", 0)
                token.map = [start, line + 1]
            state.line = line + 1
            return True
    return False  # never closed: kramdown shows it as text, and so do we


def kramdown_extensions_plugin(md: MarkdownIt) -> None:
    """Read ``{::options /}`` and ``{::comment}`` blocks (see the module doc)."""
    md.block.ruler.before(
        "paragraph",
        "kramdown_extension",
        _kramdown_extension,
        {"alt": ["paragraph", "reference", "blockquote"]},
    )
    md.add_render_rule("kramdown_options", lambda *args: "")
    md.add_render_rule("kramdown_comment", lambda *args: "")
