"""GFM tables whose cells hold math: math is found before the row is split into cells.

A GFM table splits each row at every ``|`` that is not escaped, before any inline rule
runs, and turns ``\\|`` into ``|``. In a math blog that cuts ``$p(y|x)$`` in two (and the
row's extra cell is dropped) and makes the norm ``$\\|w\\|_2$`` an absolute value. So this
wraps markdown-it's own table rule: the pipes inside math spans of the table's lines are
hidden from it (replaced by a character the text does not hold, same length, so every
offset stays right), and given back in the cells it made.

Math spans are found with the delimiters of :mod:`sitegen.markdown.math` (``$ $``,
``$$ $$``, ``\\( \\)``, ``\\[ \\]`` and their kramdown ``\\\\`` forms); code spans are
skipped, so a ``$`` in code opens nothing, and a pipe in code splits cells as GFM says.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table as gfm_table

from sitegen.markdown.lines import line_text

__all__ = ["math_table_plugin", "math_spans"]

# What a delimiter row may hold (the table rule checks the details): the cheap test that
# keeps the region scan below off the lines of ordinary paragraphs.
_DELIMITER_ROW = re.compile(r"[|:\-][|:\-\s]*")
_CANDIDATE = re.compile(r"[$\\`]")
_BACKTICKS = re.compile(r"`+")
# Characters from Unicode's private use area: one of them stands in for a hidden pipe.
_STAND_INS = ("\ue000", "\ue001", "\ue002", "\uf8ff")


def _dollar_end(line: str, start: int) -> int:
    """Closing ``$`` of ``$`` math whose TeX starts at ``start`` (pandoc's rules), or -1."""
    search = start + 1  # "$$" right after the opener is no closer
    while True:
        end = line.find("$", search)
        if end < 0:
            return -1
        after = line[end + 1 : end + 2]
        if line[end - 1] in "\\ \t" or after.isdigit():
            search = end + 1
            continue
        return end


def math_spans(line: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each math span in one line of text, left to right.

    Linear in the line: a kind of closer that is missing from the rest of the line is
    noted, and no opener of that kind is followed again.
    """
    spans: list[tuple[int, int]] = []
    missing: set[str] = set()
    pos = 0
    while True:
        m = _CANDIDATE.search(line, pos)
        if m is None:
            return spans
        at = m.start()
        ch = line[at]
        end = -1
        if ch == "`":
            run = _BACKTICKS.match(line, at).group(0)
            close = line.find(run, at + len(run)) if run not in missing else -1
            if close < 0:
                missing.add(run)
                pos = at + len(run)
            else:
                pos = close + len(run)
            continue
        if ch == "$":
            if line.startswith("$$", at):
                closer, start = "$$", at + 2
                end = line.find("$$", start) if closer not in missing else -1
                stop = end + 2
            elif at + 1 < len(line) and not line[at + 1].isspace() and "$" not in missing:
                closer, start = "$", at + 1
                end = _dollar_end(line, start)
                stop = end + 1
            else:
                pos = at + 1
                continue
        else:  # a backslash
            nxt = line[at + 1 : at + 2]
            kramdown = nxt == "\\" and line[at + 2 : at + 3] in ("(", "[")
            if kramdown:
                closer = "\\\\)" if line[at + 2] == "(" else "\\\\]"
                start = at + 3
            elif nxt in ("(", "["):
                closer = "\\)" if nxt == "(" else "\\]"
                start = at + 2
            else:
                pos = at + 2  # an escape: its character opens nothing
                continue
            end = line.find(closer, start) if closer not in missing else -1
            stop = end + len(closer)
        if end < 0:
            missing.add(closer)
            pos = start
            continue
        spans.append((at, stop))
        pos = stop


def _hide_pipes(text: str, stand_in: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "|" not in line:
            continue
        spans = math_spans(line)
        if not spans:
            continue
        pieces = []
        last = 0
        for start, end in spans:
            pieces.append(line[last:start])
            pieces.append(line[start:end].replace("|", stand_in))
            last = end
        pieces.append(line[last:])
        lines[i] = "".join(pieces)
    return "\n".join(lines)


def _math_table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    delimiter = start_line + 1
    if delimiter >= end_line:
        return False
    row = line_text(state, delimiter)
    if not _DELIMITER_ROW.fullmatch(row):
        return False  # not a table (the GFM rule would say so too)
    last = start_line
    while last + 1 < end_line and not state.isEmpty(last + 1):
        last += 1
    begin, end = state.bMarks[start_line], state.eMarks[last]
    src = state.src
    region = src[begin:end]
    stand_in = next((c for c in _STAND_INS if c not in region), None)
    hidden = _hide_pipes(region, stand_in) if stand_in and "|" in region else region
    if hidden == region:
        return gfm_table(state, start_line, end_line, silent)
    first_token = len(state.tokens)
    state.src = src[:begin] + hidden + src[end:]
    try:
        found = gfm_table(state, start_line, end_line, silent)
    finally:
        state.src = src
    for token in state.tokens[first_token:]:
        if stand_in in token.content:
            token.content = token.content.replace(stand_in, "|")
    return found


def math_table_plugin(md: MarkdownIt) -> None:
    """Put the math-aware wrapper in the place of markdown-it's GFM table rule."""
    # The same place and the same "alt" list as the GFM rule (it may end a paragraph).
    md.block.ruler.at("table", _math_table, {"alt": ["paragraph", "reference"]})
