"""Source line numbers for inline rules, and the diagnostics list they report to.

markdown-it's inline rules see only the text of one block (a paragraph, a heading, a table
cell), not where it sits in the file. The core rule below replaces markdown-it's own "inline"
core rule with one that records, in ``env``, the first body line of the block being parsed,
so an inline rule can turn a position in ``state.src`` into a line of the file.
"""

from __future__ import annotations

import bisect

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline

# Private env keys (prefixed so they never clash with the engine's own keys).
BLOCK_LINE_KEY = "_sg_block_line"  # 0-based body line of the block being inline-parsed
RAW_DEPTH_KEY = "_sg_liquid_raw"  # > 0 while parsing inside {% raw %} ... {% endraw %}

RULE_NAME = "sg_inline"
_NEWLINES_KEY = ("newlines",)


def report(env: dict, body_line: int, level: str, message: str) -> None:
    """Append a diagnostic for a 0-based body line, converted to a 1-based file line."""
    line = env.get("line_offset", 1) + body_line
    env.setdefault("diagnostics", []).append((line, level, message))


def inline_body_line(state: StateInline, pos: int) -> int:
    """0-based body line of position ``pos`` in the inline source being parsed."""
    # Only called when something is reported; the newline positions are found once per
    # source (state.cache is markdown-it's per-source memo, with integer keys of its own),
    # so a block with thousands of warnings does not count its newlines thousands of times.
    newlines = state.cache.get(_NEWLINES_KEY)  # type: ignore[call-overload]
    if newlines is None:
        src = state.src
        newlines = [i for i, ch in enumerate(src) if ch == "\n"] if "\n" in src else []
        state.cache[_NEWLINES_KEY] = newlines  # type: ignore[index]
    return state.env.get(BLOCK_LINE_KEY, 0) + bisect.bisect_left(newlines, pos)


def _inline_with_lines(state: StateCore) -> None:
    env = state.env
    md = state.md
    raw_depth = 0
    for token in state.tokens:
        kind = token.type
        if kind == "inline":
            if token.map:
                env[BLOCK_LINE_KEY] = token.map[0]
            env[RAW_DEPTH_KEY] = raw_depth
            if token.children is None:
                token.children = []
            md.inline.parse(token.content, md, env, token.children)
        elif kind == "liquid_raw_open":
            raw_depth += 1
        elif kind == "liquid_raw_close":
            raw_depth -= 1
    env.pop(RAW_DEPTH_KEY, None)
    env.pop(BLOCK_LINE_KEY, None)


def line_tracking_plugin(md: MarkdownIt) -> None:
    """Install the line-aware inline core rule (idempotent: several plugins ask for it)."""
    names = md.core.ruler.get_all_rules()
    if RULE_NAME in names:
        return
    # Run in place of markdown-it's own "inline" core rule, which is switched off.
    md.core.ruler.before("inline", RULE_NAME, _inline_with_lines)
    md.core.ruler.disable("inline")


def line_text(state: StateBlock, line: int) -> str:
    """The text of a source line as a block rule reads it: from the end of its indent (and
    of the markers of the containers it is in) to its end."""
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
