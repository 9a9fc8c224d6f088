"""kramdown's block extensions ``{::options … /}`` and ``{::comment}…{:/comment}``, and a
block attribute list on the line before a block (``{: class="info"}`` then a table).

Neither shows anything in Jekyll's page; here too. ``{::options parse_block_html="true" /}``
(often the last line of an include) makes kramdown read the content of the HTML blocks
after it as Markdown, so kramdown's escapes were resolved in the math written there
before MathJax saw it: :mod:`sitegen.markdown.html_math` reads the ``kramdown_options``
tokens left here to know. Other options are accepted and have no effect. A ``{: …}`` line
after a blank line gives its attributes to the block right below it (kramdown's rule); one
after a paragraph line stays the paragraph's, as :mod:`sitegen.markdown.attributes` reads it.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore

from sitegen.markdown.attributes import apply_attrs, parse_ial
from sitegen.markdown.lines import line_text

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


_BLOCK_IAL = re.compile(
    r"\{:\s*((?:[.#][\w-]+|[A-Za-z_][\w-]*=(?:\"[^\"]*\"|'[^']*'))"
    r"(?:\s+(?:[.#][\w-]+|[A-Za-z_][\w-]*=(?:\"[^\"]*\"|'[^']*')))*)\s*\}\s*$"
)


def _block_ial(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    match = _BLOCK_IAL.match(line_text(state, start))
    if match is None or silent:  # never interrupts a paragraph: that IAL is the paragraph's
        return False
    if start > 0 and not state.isEmpty(start - 1):
        return False
    if start + 1 >= end or state.isEmpty(start + 1):
        return False
    token = state.push("kramdown_block_ial", "", 0)
    token.map = [start, start + 1]
    token.meta["attrs"] = parse_ial(match.group(1))
    state.line = start + 1
    return True


def _apply_block_ials(state: StateCore) -> None:
    """Give each ``kramdown_block_ial`` token's attributes to the block opening after it."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "kramdown_block_ial" and i + 1 < len(tokens):
            following = tokens[i + 1]
            if following.nesting >= 0 and following.type != "inline":
                apply_attrs(following, token.meta["attrs"])


def _kramdown_extension(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    text = line_text(state, start)
    if text.startswith("{:") and not text.startswith("{::"):
        return _block_ial(state, start, end, silent)
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
        if _COMMENT_CLOSE.search(line_text(state, line)):
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
    md.core.ruler.push("kramdown_block_ial", _apply_block_ials)
    md.add_render_rule("kramdown_block_ial", lambda *args: "")
    md.add_render_rule("kramdown_options", lambda *args: "")
    md.add_render_rule("kramdown_comment", lambda *args: "")
