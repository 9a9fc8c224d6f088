"""kramdown's ``parse_block_html``: the content of an HTML block is Markdown.

With ``{::options parse_block_html="true" /}`` (or ``kramdown: parse_block_html: true`` in
``_config.yml``, or ``markdown="1"`` on the element) kramdown reads what a block element
such as ``<div>`` holds as Markdown blocks: a table, a list, block math inside it are
rendered, as the Jekyll site showed them. Here that is done where the element's tags sit
on lines of their own with a blank line after the opening one, which is how authors write
it (the content then starts at a block boundary, as kramdown saw it); any other layout
stays a raw HTML block whose math :mod:`sitegen.markdown.html_math` marks up.
"""

from __future__ import annotations

import re

from markdown_it.rules_block import StateBlock

__all__ = ["push_parsed_html_block"]

# kramdown's elements whose content model is block-level Markdown.
_BLOCK_CONTENT = frozenset(
    """address article aside blockquote dd details div dl fieldset figure figcaption
    footer form header hgroup li main menu nav noscript section summary""".split()
)
_MARKDOWN_ATTRIBUTE = re.compile(r"""\s+markdown\s*=\s*(["']?)(1|block|0)\1""")


def _parse_setting(state: StateBlock, default: bool) -> bool:
    """parse_block_html as the last ``{::options /}`` line before here set it."""
    for token in reversed(state.tokens):
        if token.type == "kramdown_options":
            setting = token.meta["options"].get("parse_block_html", "")
            if setting:
                return setting == "true"
    return default


def push_parsed_html_block(
    state: StateBlock, start: int, last: int, tag: str, default: bool
) -> bool:
    """Push the element from line ``start`` to ``last`` (its closing tag's line) as its
    tags around its content parsed as Markdown, when kramdown parsed it; else False."""
    if tag not in _BLOCK_CONTENT or last - start < 2 or not state.isEmpty(start + 1):
        return False
    opening = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    closing = state.src[state.bMarks[last] + state.tShift[last] : state.eMarks[last]]
    if not re.fullmatch(rf"<{tag}\b[^<>]*>\s*", opening, re.I):
        return False
    if not re.fullmatch(rf"</{tag}\s*>\s*", closing, re.I):
        return False
    attribute = _MARKDOWN_ATTRIBUTE.search(opening)
    wanted = attribute.group(2) != "0" if attribute else _parse_setting(state, default)
    if not wanted:
        return False
    for line, text in ((start, _MARKDOWN_ATTRIBUTE.sub("", opening)), (last, closing)):
        if line == last:
            state.md.block.tokenize(state, start + 1, last)
        token = state.push("html_block", "", 0)
        token.map = [line, line + 1]
        token.content = text.rstrip() + "\n"
    state.line = last + 1
    return True
