"""The block math rule: ``$$``, ``\\[``, ``\\\\[`` and ``\\begin{ENV}`` display blocks on
lines of their own (see :mod:`sitegen.markdown.math`)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from markdown_it.rules_block import StateBlock

from sitegen.markdown.jekyll import note_difference
from sitegen.markdown.kramdown_typography import kramdown_typography
from sitegen.markdown.lines import line_text
from sitegen.markdown.math_environment import kramdown_environment
from sitegen.markdown.math_options import MathOptions
from sitegen.markdown.math_tex import (
    BEGIN_ENV,
    BRACKET_TOKENS,
    braces_balanced,
    drop_final_row_break,
    env_end_pattern,
    resolve_kramdown_escapes,
)
from sitegen.markdown.scan import CloserIndex, build_closer_index

# Private env key: what the block rule learnt about the source it is parsing (see _memo_of).
_BLOCK_MEMO_KEY = "_sg_math_blocks"


def _memo_of(state: StateBlock, key: tuple) -> dict:
    """A dict for facts about the current source's lines, shared by the block rule's calls.

    The block rule is asked about every line of a paragraph (may this line end it?), and
    each answer would otherwise walk the lines above or below it again. Lines read
    differently inside a container (a blockquote strips its ``>``), so ``key`` carries the
    container's nesting level and indent; the memo is dropped when the source changes.
    """
    memo = state.env.get(_BLOCK_MEMO_KEY)
    if memo is None or memo.get("src") is not state.src:
        memo = state.env[_BLOCK_MEMO_KEY] = {"src": state.src}
    full = (*key, state.level, state.blkIndent)
    found = memo.get(full)
    if found is None:
        found = memo[full] = {}
    return found


def _inside_open_dollars(state: StateBlock, line: int) -> bool:
    """True if the paragraph above ``line`` has an odd number of ``$$`` (an open inline
    math span that this line continues or closes, so it must not start a block)."""
    above = _memo_of(state, ("$$ above",))  # line -> "$$" on the lines of its paragraph above
    todo = []
    at = line
    while at not in above:
        if at == 0 or state.isEmpty(at - 1):
            above[at] = 0
            break
        todo.append(at)
        at -= 1
    for at in reversed(todo):
        above[at] = above[at - 1] + line_text(state, at - 1).count("$$")
    return above[line] % 2 == 1


@dataclass(frozen=True)
class _BlockLines:
    """Lines ``first`` .. ``end - 1`` joined with newlines (escapes resolved for ``\\[``),
    and the closer index of that text: one walk answers the scan from every line."""

    first: int
    text: str
    starts: list[int]  # where each line begins in text
    index: CloserIndex | None  # None for "$$", whose closer needs no brace walk
    offsets: list[int]  # where each line's text began in the source when it was read


def _block_lines(
    state: StateBlock, first: int, end: int, kind: str, env: str, kramdown: bool = False
) -> _BlockLines:
    memo = _memo_of(state, ("lines", kind, env, end, kramdown))
    known = memo.get("lines")
    # a list moves the start of each item's first line past its marker when the item
    # begins: lines read before that are read again
    if (
        known is not None
        and known.first <= first
        and known.offsets[first - known.first] == state.bMarks[first] + state.tShift[first]
    ):
        return known
    starts: list[int] = []
    pieces: list[str] = []
    at = 0
    for line in range(first, end):
        text = line_text(state, line)
        if kind == "\\\\[":  # resolve kramdown's escapes; the "\n" lets a trailing \\ be a <br>
            text = kramdown_typography(resolve_kramdown_escapes(text + "\n")[0])
        elif kramdown:  # a bare environment is text for kramdown: escapes resolved
            text = resolve_kramdown_escapes(text + "\n", keep_line_breaks=True)[0][:-1]
            text = kramdown_typography(text)  # and its typographic replacements made
        starts.append(at)
        pieces.append(text)
        at += len(text) + 1
    joined = "\n".join(pieces)
    index = None
    if kind == "env":
        # Within one line, as before the lines were joined: "\end" and "{ENV}" on two
        # lines close nothing.
        index = build_closer_index(joined, env_end_pattern(env, r"[^\S\n]"))
    elif kind != "$$":
        index = build_closer_index(joined, BRACKET_TOKENS)
    offsets = [state.bMarks[line] + state.tShift[line] for line in range(first, end)]
    known = memo["lines"] = _BlockLines(first, joined, starts, index, offsets)
    return known


def _after_block_boundary(state: StateBlock, line: int) -> bool:
    """kramdown's test before a math block: it starts its container, or a blank line, an
    ``{: …}`` attribute list or option line, or an end-of-block ``^`` comes before it."""
    if line <= 0 or not state.tokens or state.tokens[-1].nesting == 1:
        return True  # the first block of the text, of a list item or of a quote
    if state.isEmpty(line - 1):
        return True
    text = line_text(state, line - 1)
    return text.startswith("{:") or text.rstrip() == "^"


def _follows_paragraph(state: StateBlock, line: int) -> bool:
    """True if the block at ``line`` ended the paragraph just before it."""
    tokens = state.tokens
    return (
        len(tokens) >= 3
        and tokens[-1].type == "paragraph_close"
        and tokens[-3].map is not None
        and tokens[-3].map[1] == line
    )


def _before_block_boundary(state: StateBlock, line: int, end_line: int) -> bool:
    """kramdown's test after a math block: a blank line, the end, an ``{: …}`` attribute
    list or an end-of-block ``^`` follows."""
    if line >= end_line:
        # the end of the text, of a list item or of a quote; but in an HTML element whose
        # content kramdown parsed, its closing tag on the next line is text that follows
        return line >= state.lineMax or not line_text(state, line).startswith("</")
    if state.isEmpty(line):
        return True
    text = line_text(state, line)
    if state.sCount[line] < state.blkIndent and _LIST_ITEM.match(text):
        return True  # the next item of the list this block ends an item of
    return text.startswith("{:") or text.rstrip() == "^"


_LIST_ITEM = re.compile(r"(?:[*+-]|\d{1,9}[.)])(?:[ \t]|$)")


def _scan_block(
    state: StateBlock,
    first: int,
    end_line: int,
    start_col: int,
    kind: str,
    env: str,
    kramdown: bool = False,
) -> tuple[str, int] | None:
    """Find the closer of a display block opened on line ``first``.

    Returns (TeX, closing line) or None when there is no closer, or when the closer is
    followed by more text on its line (then it is inline math in a paragraph).
    """
    lines = _block_lines(state, first, end_line, kind, env, kramdown)
    text = lines.text
    line_start = lines.starts[first - lines.first]
    if kind == "\\\\[":  # the opener's "\\[" is "\[" once resolved
        start_col = len(resolve_kramdown_escapes(line_text(state, first)[:start_col])[0])
    begin = line_start + start_col
    if lines.index is None:
        found = text.find("$$", begin) if text.rfind("$$") >= begin else -1
        stop = found + 2
    else:
        found, stop, _ = lines.index.find(begin, len(text))
    if found < 0:
        return None
    last = first + bisect.bisect_right(lines.starts, found) - 1 - (first - lines.first)
    line_end = text.find("\n", stop)
    if text[stop : len(text) if line_end < 0 else line_end].strip():
        return None
    if kind == "env":
        tex = text[line_start:stop]
        return (tex if kramdown else drop_final_row_break(tex)), last
    return text[begin:found].strip(), last


def make_block_rule(opts: MathOptions):
    def math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if state.sCount[start_line] - state.blkIndent >= 4:
            return False
        pos = state.bMarks[start_line] + state.tShift[start_line]
        maximum = state.eMarks[start_line]
        if pos + 2 > maximum:
            return False
        src = state.src
        ch = src[pos]
        env = ""
        if ch == "$":
            if src[pos + 1] != "$" or not opts.double_dollar:
                return False
            kind, start_col = "$$", 2
        elif ch == "\\":
            nxt = src[pos + 1]
            if nxt == "[" and opts.brackets:
                kind, start_col = "\\[", 2
            elif nxt == "\\" and opts.escaped_brackets and src.startswith("\\\\[", pos):
                kind, start_col = "\\\\[", 3
            elif nxt == "b" and opts.environments:
                match = BEGIN_ENV.match(src, pos, maximum)
                if match is None:
                    return False
                kind, start_col, env = "env", 0, match.group(1)
            else:
                return False
        else:
            return False
        # Silent calls ask "does this line end the paragraph above?" (state.parentType is
        # unreliable: markdown-it's lheading rule leaves it at "paragraph").
        if silent and _inside_open_dollars(state, start_line):
            return False
        found = _scan_block(
            state, start_line, end_line, start_col, kind, env, opts.kramdown and kind == "env"
        )
        if found is None:
            return False
        tex, last = found
        if not tex:
            return False
        if not braces_balanced(tex):
            return False  # a paragraph then: its inline rule warns and shows the text
        if opts.kramdown and kind == "$$":
            # kramdown: a $$ block right after a line of text is inline math in that
            # paragraph. Only a numbered one stays display (MathJax 3 drops inline \tag).
            numbered = "\\tag" in tex or "\\label" in tex
            if silent and not numbered:
                return False
            if not _before_block_boundary(state, last + 1, end_line):
                # kramdown: nor is one with a line of text right after it.
                if not numbered:
                    return False
                if not silent:
                    note_difference(
                        state.env,
                        "display-before-text",
                        start_line,
                        "$$ … $$ with a line of text right after it is display math here, so "
                        "its \\tag/\\label work (kramdown made it inline math in the paragraph)",
                    )
            if not silent and numbered and _follows_paragraph(state, start_line):
                note_difference(
                    state.env,
                    "display-after-text",
                    start_line,
                    "$$ … $$ right after a line of text is display math here, so its \\tag/"
                    "\\label work (kramdown made it inline math in the paragraph)",
                )
            elif not silent and not _after_block_boundary(state, start_line):
                # kramdown: right after another block (a heading, a list, a fence) with
                # no blank line between, "$$" starts a paragraph
                if not numbered:
                    return False
                note_difference(
                    state.env,
                    "display-after-block",
                    start_line,
                    "$$ … $$ right after another block (no blank line between) is display "
                    "math here, so its \\tag/\\label work (kramdown made it inline math in a "
                    "paragraph)",
                )
        if silent:
            return True
        source = state.getLines(start_line, last + 1, state.blkIndent, False)
        if opts.kramdown and kind == "env":
            raw_env = source[: source.rfind("\\end")]
            tex = kramdown_environment(state, silent, start_line, raw_env, tex)
        token = state.push("math_block", "div", 0)
        token.block = True
        token.content = tex
        token.markup = kind
        token.info = env
        token.map = [start_line, last + 1]
        token.meta["source"] = source
        state.line = last + 1
        return True

    return math_block
