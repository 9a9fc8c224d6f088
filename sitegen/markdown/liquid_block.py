"""The block Liquid rules: ``{% highlight %}``, ``{% raw %}``, ``{% comment %}``,
``{% include %}`` and ``{% if %}`` / ``{% unless %}`` (:mod:`.liquid_if`) on lines of their
own."""

from __future__ import annotations

import re

from markdown_it.rules_block import StateBlock

from sitegen.markdown.lines import (
    RAW_DEPTH_KEY,
    line_text,
)
from sitegen.markdown.liquid_if import liquid_if_block
from sitegen.markdown.liquid_tags import (
    END_COMMENT,
    END_HIGHLIGHT,
    END_RAW,
    LiquidMatch,
    match_liquid,
)

# Private env key: where a block search for a closing tag found none (see _find_line).
_NO_CLOSER_KEY = "_sg_liquid_no_closer"


def _find_line(state: StateBlock, pattern: re.Pattern[str], first: int, end: int) -> int:
    """First line in ``first`` .. ``end - 1`` that ``pattern`` matches, or -1.

    A search that fails from one line fails from every later one; that is remembered (per
    container level and indent, whose lines read differently), so a row of unclosed
    ``{% highlight %}`` lines costs one search, not one per line.
    """
    memo = state.env.get(_NO_CLOSER_KEY)
    if memo is None or memo.get("src") is not state.src:
        memo = state.env[_NO_CLOSER_KEY] = {"src": state.src}
    key = (pattern.pattern, end, state.level, state.blkIndent)
    failed_from = memo.get(key)
    if failed_from is not None and failed_from <= first:
        return -1
    for line in range(first, end):
        if pattern.match(line_text(state, line)):
            return line
    memo[key] = first
    return -1


def liquid_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    src = state.src
    if not src.startswith("{%", pos) or state.env.get(RAW_DEPTH_KEY):
        return False
    text = line_text(state, start)
    match = match_liquid(text, 0, len(text))
    if match is None:
        return False
    name = match.group(1)
    alone = not text[match.end() :].strip()
    if name == "highlight":
        return _block_highlight(state, start, end, silent, match, text)
    if name == "raw" and alone:
        return _block_raw(state, start, end, silent)
    if name in ("if", "unless") and alone:
        return liquid_if_block(state, start, end, silent)
    if name == "comment" and alone:
        close = _find_line(state, END_COMMENT, start + 1, end)
        if close < 0:
            return False  # the inline rule warns
        if not silent:
            state.line = close + 1  # a Liquid comment: nothing is rendered
        return True
    # An include never interrupts a paragraph (silent calls are those checks; note that
    # state.parentType is unreliable: markdown-it's lheading rule leaves it "paragraph").
    if name == "include" and alone and not silent:
        token = state.push("liquid_include_block", "", 0)
        token.content = text
        token.map = [start, start + 1]
        token.meta = {"tag": match.group(2), "line": start}
        state.line = start + 1
        return True
    return False


def _block_highlight(
    state: StateBlock, start: int, end: int, silent: bool, match: LiquidMatch, text: str
) -> bool:
    close = _find_line(state, END_HIGHLIGHT, start + 1, end)
    if close < 0:
        return False  # the paragraph's inline rule then warns
    if silent:
        return True
    args = match.group(2).split()
    token = state.push("liquid_highlight", "code", 0)
    token.block = True
    token.info = args[0] if args else ""
    token.meta = {"linenos": "linenos" in args[1:]}
    first_line = text[match.end() :].strip()
    body = state.getLines(start + 1, close, state.blkIndent, True)
    token.content = (first_line + "\n" if first_line else "") + body
    token.map = [start, close + 1]
    state.line = close + 1
    return True


def _block_raw(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    close = _find_line(state, END_RAW, start + 1, end)
    if close < 0:
        return False
    closing = line_text(state, close)
    if closing.strip() != END_RAW.match(closing).group(0):
        return False
    if silent:
        return True
    state.push("liquid_raw_open", "", 0).map = [start, start + 1]
    env = state.env
    env[RAW_DEPTH_KEY] = env.get(RAW_DEPTH_KEY, 0) + 1
    old_max = state.lineMax
    state.lineMax = close
    state.md.block.tokenize(state, start + 1, close)
    state.lineMax = old_max
    env[RAW_DEPTH_KEY] -= 1
    state.push("liquid_raw_close", "", 0).map = [close, close + 1]
    state.line = close + 1
    return True
