"""kramdown's blockquote, for posts of Jekyll sites.

CommonMark ends a blockquote at a line without ``>`` that starts another block (a list
item, a heading, a ``$$`` block): only paragraph text continues lazily. kramdown keeps
every following line in the quote until a blank line (or an ``{: …}`` attribute list,
an end-of-block ``^`` or a line opening an HTML block), strips ``> `` where a line has
it, and reads the whole as the quote's content. So in

    > **Algorithm**
    1. Initialize $x_0$
    2. $$\\alpha_k \\leftarrow \\dots$$

the numbered list is inside the quote on the Jekyll site, and here.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from sitegen.markdown.kramdown import opens_with_span_tag


def _ends_lazy_run(state: StateBlock, line: int) -> bool:
    """kramdown's end of a blockquote (or paragraph) before ``line``."""
    if state.isEmpty(line) or state.sCount[line] < state.blkIndent:
        return True
    start = state.bMarks[line] + state.tShift[line]
    text = state.src[start : state.eMarks[line]]
    if text.startswith("{:") or text.rstrip() == "^":
        return True
    return text.startswith("<") and not text.startswith(">") and not opens_with_span_tag(text)


def _strip_marker(state: StateBlock, line: int) -> None:
    """Move the line's start past ``>`` and one space, and measure its indent anew."""
    pos = state.bMarks[line] + state.tShift[line] + 1
    end = state.eMarks[line]
    if pos < end and state.src[pos] == " ":
        pos += 1
    state.bMarks[line] = pos
    column, at = 0, pos
    while at < end and state.src[at] in " \t":
        column += 4 - column % 4 if state.src[at] == "\t" else 1
        at += 1
    state.tShift[line] = at - pos
    state.sCount[line] = column
    state.bsCount[line] = 0


def kramdown_blockquote(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.is_code_block(start_line):
        return False
    pos = state.bMarks[start_line] + state.tShift[start_line]
    if pos >= state.eMarks[start_line] or state.src[pos] != ">":
        return False
    if silent:
        return True
    next_line = start_line + 1
    while next_line < end_line and not _ends_lazy_run(state, next_line):
        next_line += 1
    lines = range(start_line, next_line)
    saved = [(state.bMarks[i], state.tShift[i], state.sCount[i], state.bsCount[i]) for i in lines]
    for line in lines:
        at = state.bMarks[line] + state.tShift[line]
        if at < state.eMarks[line] and state.src[at] == ">":
            _strip_marker(state, line)
    old_parent, old_max, old_indent = state.parentType, state.lineMax, state.blkIndent
    state.parentType, state.lineMax, state.blkIndent = "blockquote", next_line, 0
    token = state.push("blockquote_open", "blockquote", 1)
    token.markup = ">"
    token.map = [start_line, next_line]
    state.md.block.tokenize(state, start_line, next_line)
    token = state.push("blockquote_close", "blockquote", -1)
    token.markup = ">"
    state.parentType, state.lineMax, state.blkIndent = old_parent, old_max, old_indent
    for line, (b_mark, t_shift, s_count, bs_count) in zip(lines, saved, strict=True):
        state.bMarks[line], state.tShift[line] = b_mark, t_shift
        state.sCount[line], state.bsCount[line] = s_count, bs_count
    state.line = next_line
    return True


def kramdown_blockquote_plugin(md: MarkdownIt) -> None:
    """Replace CommonMark's blockquote rule with kramdown's (see the module doc)."""
    md.block.ruler.at(
        "blockquote",
        kramdown_blockquote,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
