"""kramdown's block rules where they differ from CommonMark, for posts of Jekyll sites.

* An HTML block that opens with a block-level tag (``<div>``, ``<table>``, ``<p>`` ...) ends
  at the line holding its matching closing tag, not at the next blank line: the lines after
  it are Markdown again (math typeset, ``1. …`` a list), as kramdown reads them.
* A line that opens with a span-level tag (``<img>``, ``<br>``, ``<a>``, ``<span>`` ...) is
  the start of a paragraph, never an HTML block.
* Lines that start with ``|`` are a table even without a separator row (kramdown's tables
  need none); a separator row after the first rows makes those the header. GFM tables
  (header, separator, body) are left to markdown-it's own rule, which runs first. Lines
  that merely contain a ``|`` are a table too when kramdown made one: after a blank line,
  each line splitting into cells, a blank line or the end after them. A pipe inside
  ``$ … $`` / ``$$ … $$`` / ``\\( … \\)`` math cuts nothing here (kramdown cut the math;
  warned where that alone made a table of a one-line paragraph).
* ``{{ site.KEY }}`` / ``{{ page.KEY }}`` inside code (fenced ``~~~``/```` ``` ````, indented)
  is substituted: Jekyll runs Liquid over the whole post before kramdown sees it. Other
  Liquid in code, and anything inside ``{% raw %}``, stays as written.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.paragraph import paragraph
from markdown_it.rules_core import StateCore

from sitegen.markdown.jekyll import note_difference
from sitegen.markdown.kramdown_parsed_html import push_parsed_html_block
from sitegen.markdown.lines import line_text, report
from sitegen.markdown.liquid_tags import iter_outputs
from sitegen.markdown.liquid_values import (
    VARIABLE,
    LiquidContext,
    LiquidError,
    shown_instead,
    value_of,
)

__all__ = ["kramdown_blocks_plugin", "split_row"]

_PARSE_KEY = "sg_parse_block_html"  # md.options: the site's kramdown parse_block_html

# kramdown's block-level HTML elements whose content it keeps as raw HTML. pre, script,
# style and textarea are left out: markdown-it already ends those at their closing tag.
_BLOCK_TAGS = frozenset(
    """address article aside blockquote body center dd details dir div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html iframe legend li
    listing main menu nav noscript ol optgroup option p section summary table tbody td tfoot
    th thead tr ul video""".split()
)
_VOID_BLOCK_TAGS = frozenset({"hr"})
# Span-level elements: a line that starts with one is paragraph text in kramdown.
_SPAN_TAGS = frozenset(
    """a abbr acronym b bdo big br button cite code del dfn em font i img input ins kbd
    label map mark q s samp small span strike strong sub sup time tt u var wbr""".split()
)
_OPEN_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)(?=[\s/>]|$)")
# kramdown's separator line: only pipes, dashes, colons, pluses and spaces, one dash at
# least, with or without a leading pipe ("|---|---|", "-------|------")
_SEPARATOR_ROW = re.compile(r"(?=.*\|)[|:+ \t]*-[-:|+ \t]*$")


def opens_with_span_tag(text: str) -> bool:
    """Whether ``text`` starts with a span-level tag, which makes it paragraph text."""
    match = _OPEN_TAG.match(text.lstrip(" \t\n"))
    return match is not None and match.group(1).lower() in _SPAN_TAGS


def _tag_counter(tag: str) -> re.Pattern[str]:
    return re.compile(r"<(/?)" + tag + r"(?=[\s/>]|$)", re.I)


def _html_block_end(state: StateBlock, start: int, end: int, tag: str) -> int:
    """The line holding the closing tag that matches the ``<tag`` opening ``start``, or -1.

    Walking down from every opening line would be quadratic in a post of unclosed
    ``<div>``s; instead the tag count of every line from the first one asked about is
    taken once, and each line's answer is the next line where the running count comes
    back to (or below) its level before the opening line (see _next_at_or_below).
    """
    memo = state.env.get(_HTML_MEMO_KEY)
    if memo is None or memo.get("src") is not state.src:
        memo = state.env[_HTML_MEMO_KEY] = {"src": state.src}
    key = (tag, end, state.level, state.blkIndent)
    known = memo.get(key)
    if known is None or known[0] > start:
        counter = _tag_counter(tag)
        levels = [0]  # the running count before each line from ``start`` on, then after it
        for line in range(start, end):
            text = state.src[state.bMarks[line] : state.eMarks[line]]
            step = 0
            for match in counter.finditer(text):
                step += -1 if match.group(1) else 1
            levels.append(levels[-1] + step)
        known = memo[key] = (start, _next_at_or_below(levels))
    first, answers = known
    found = answers[start - first]
    return -1 if found < 0 else first + found - 1


def _next_at_or_below(levels: list[int]) -> list[int]:
    """For each index, the next later index whose level is not higher, or -1."""
    answers = [-1] * len(levels)
    waiting: list[int] = []  # indexes right of the current one, levels increasing
    for i in range(len(levels) - 1, -1, -1):
        while waiting and levels[waiting[-1]] > levels[i]:
            waiting.pop()
        answers[i] = waiting[-1] if waiting else -1
        waiting.append(i)
    return answers


def _kramdown_html(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    text = line_text(state, start)
    match = _OPEN_TAG.match(text)
    if match is None:
        return False
    tag = match.group(1).lower()
    if tag in _SPAN_TAGS:
        # Paragraph text; a paragraph never interrupts another block.
        return False if silent else paragraph(state, start, end, False)
    if tag not in _BLOCK_TAGS:
        return False
    last = start if tag in _VOID_BLOCK_TAGS else _html_block_end(state, start, end, tag)
    if last < 0:
        return False  # never closed: markdown-it's own rule (to the next blank line)
    if silent:
        return True
    if push_parsed_html_block(state, start, last, tag, state.md.options.get(_PARSE_KEY, False)):
        return True
    token = state.push("html_block", "", 0)
    token.map = [start, last + 1]
    token.content = state.getLines(start, last + 1, state.blkIndent, True)
    state.line = last + 1
    return True


def split_row(text: str) -> list[str]:
    """The cells of a ``| a | b |`` row: split at pipes that are not escaped and not inside
    a code span or ``$$ … $$`` math."""
    cells: list[str] = []
    current: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == "`" or text.startswith("$$", i):
            opener = "$$" if ch == "$" else re.match(r"`+", text[i:]).group(0)  # type: ignore[union-attr]
            close = text.find(opener, i + len(opener))
            if close >= 0:
                current.append(text[i : close + len(opener)])
                i = close + len(opener)
                continue
        if ch == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    # The leading pipe opens the first cell; a trailing one closes the last.
    if cells and not cells[0].strip():
        cells = cells[1:]
    if cells and not cells[-1].strip() and text.rstrip().endswith("|"):
        cells = cells[:-1]
    return [cell.strip() for cell in cells]


# Math a kramdown table row would cut at its "|" (kramdown protects only code spans; sitegen
# keeps math whole): $ … $, $$ … $$, \\( … \\) and a bare \begin{…} … \end{…}; and code spans.
_PROTECTED = re.compile(
    r"\$\$.*?\$\$|\$[^$\n]+\$|\\\\\(.*?\\\\\)|\\begin\{[^}]*\}.*?\\end\{[^}]*\}|(`+).*?\1"
    r"|\{\{.*?\}\}|\{%.*?%\}"  # Liquid, which Jekyll ran before kramdown saw a pipe
)
# kramdown's cell pipe: one without a backslash right before it (even an escaped one).
_CELL_PIPE = re.compile(r"(?<!\\)\|")


def _cell_pipe(text: str, protect_math: bool = True) -> bool:
    """True when kramdown would split the line into cells (with ``protect_math``: at a
    pipe outside math, which sitegen keeps whole)."""
    if protect_math:
        text = _PROTECTED.sub(lambda m: "x" * len(m.group(0)), text)
    else:
        text = re.sub(r"(`+).*?\1|\{\{.*?\}\}|\{%.*?%\}", lambda m: "x" * len(m.group(0)), text)
    return _CELL_PIPE.search(text) is not None


def _kramdown_cells(text: str) -> list[str]:
    """The cells kramdown cut the row into: at every pipe outside code spans and Liquid,
    math or not (a leading and a trailing pipe open and close the row)."""
    masked = re.sub(r"(`+).*?\1|\{\{.*?\}\}|\{%.*?%\}", lambda m: "x" * len(m.group(0)), text)
    cells = _CELL_PIPE.split(masked.strip())
    if cells and not cells[0].strip():
        cells = cells[1:]
    if cells and not cells[-1].strip():
        cells = cells[:-1]
    return cells


def _pipe_table_end(state: StateBlock, start: int, end: int) -> int:
    """kramdown's table from lines that merely contain a ``|``: after a blank line, lines
    that each split into cells, followed by a blank line or the end. The last line, or -1."""
    if start > 0 and not state.isEmpty(start - 1):
        return -1
    last = start - 1
    while last + 1 < end and not state.isEmpty(last + 1):
        text = line_text(state, last + 1)
        # indentation does not matter here (the caller refuses a first line indented as
        # code): kramdown's table goes on over any line with a cell pipe ("      | more")
        if "|" not in text:
            break
        if not (_cell_pipe(text) or _SEPARATOR_ROW.match(text.rstrip())):
            break
        last += 1
    if last < start or (last + 1 < end and not state.isEmpty(last + 1)):
        return -1
    return last


def _opens_block_math(state: StateBlock, start: int, end: int) -> bool:
    """Whether kramdown's block math (tried before its tables) takes the lines from
    ``start``: a ``$$`` opening the line, the next ``$$`` ending one, a blank line (or the
    end) after it."""
    rest = line_text(state, start).lstrip()
    if not rest.startswith("$$"):
        return False
    rest, line = rest[2:], start
    while (close := rest.find("$$")) < 0:
        line += 1
        if line >= end or state.isEmpty(line):
            return False
        rest = line_text(state, line)
    return not rest[close + 2 :].strip() and (line + 1 >= end or state.isEmpty(line + 1))


def _kramdown_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4 or _opens_block_math(state, start, end):
        return False
    first = line_text(state, start)
    if not first.startswith("|"):
        if silent or "|" not in first:
            return False  # such a table never interrupts a paragraph
        last = _pipe_table_end(state, start, end)
        if last < 0:
            _note_math_table(state, start, end, first)
            return False
    else:
        last = start
        while (
            last + 1 < end
            and state.sCount[last + 1] - state.blkIndent < 4
            and line_text(state, last + 1).startswith("|")
        ):
            last += 1
    if silent:
        return True
    rows: list[tuple[int, list[str]]] = []
    header_rows = 0
    for line in range(start, last + 1):
        text = line_text(state, line).rstrip()
        if _SEPARATOR_ROW.match(text):
            if rows and not header_rows:
                header_rows = len(rows)
            continue
        cells = split_row(text)
        if text.startswith("|") and state.sCount[line] - state.blkIndent >= 4:
            # more than three spaces before it: not the pipe that opens the row, so the
            # row's first cell is the (empty) text before it, as kramdown cuts it
            cells = ["", *cells]
        if _cell_pipe(text, protect_math=False) and len(_kramdown_cells(text)) != len(cells):
            note_difference(
                state.env,
                "table-math-pipe",
                line,
                "a | inside math in this table row stays in the math here (kramdown cut the "
                "math into two cells there)",
            )
        rows.append((line, cells))
    state.push("table_open", "table", 1).map = [start, last + 1]
    sections = [("thead", "th", rows[:header_rows]), ("tbody", "td", rows[header_rows:])]
    for section, cell_tag, section_rows in sections:
        if not section_rows:
            continue
        state.push(f"{section}_open", section, 1)
        for line, cells in section_rows:
            state.push("tr_open", "tr", 1).map = [line, line + 1]
            for cell in cells:
                state.push(f"{cell_tag}_open", cell_tag, 1)
                inline = state.push("inline", "", 0)
                inline.content = cell
                inline.map = [line, line + 1]
                inline.children = []
                state.push(f"{cell_tag}_close", cell_tag, -1)
            state.push("tr_close", "tr", -1)
        state.push(f"{section}_close", section, -1)
    state.push("table_close", "table", -1)
    state.line = last + 1
    return True


def _note_math_table(state: StateBlock, start: int, end: int, first: str) -> None:
    """Warn where kramdown made a table of a paragraph only by cutting its math at a ``|``."""
    if start > 0 and not state.isEmpty(start - 1):
        return
    if not (start + 1 >= end or state.isEmpty(start + 1)):
        return  # a one-line paragraph is the case seen in real posts; kramdown needs the end
    if _cell_pipe(first, protect_math=False) and not _cell_pipe(first):
        note_difference(
            state.env,
            "pipe-in-math",
            start,
            "this line is a paragraph here; kramdown made it a table by cutting its math at "
            "the | (write \\vert or \\mid to be safe on both)",
        )

# Private env key: tag counts of the lines, for _html_block_end.
_HTML_MEMO_KEY = "_sg_kramdown_html"

_CODE_TOKENS = frozenset({"fence", "code_block", "liquid_highlight"})


def _code_values(state: StateCore) -> None:
    ctx = state.env.get("liquid")
    if not isinstance(ctx, LiquidContext):
        return
    raw_depth = 0
    for token in state.tokens:
        if token.type == "liquid_raw_open":
            raw_depth += 1
        elif token.type == "liquid_raw_close":
            raw_depth -= 1
        elif token.type in _CODE_TOKENS and not raw_depth and "{{" in token.content:
            # the first code line: fences and highlight tags have an opening line
            first = token.map[0] + (token.type != "code_block") if token.map else 0
            token.content = _substitute_code(state.env, ctx, token.content, first)


def _substitute_code(env: dict, ctx: LiquidContext, code: str, first_line: int) -> str:
    pieces: list[str] = []
    last = 0
    line = first_line
    for found in iter_outputs(code):  # linear, however many "{{" have no "}}"
        pieces.append(code[last : found.start()])
        line += code.count("\n", last, found.start())
        last = found.end()
        if VARIABLE.fullmatch(found.group(1)) is None:
            pieces.append(found.group(0))
            continue
        try:
            pieces.append(value_of(ctx, found))  # not escaped: the code renderer escapes it
        except LiquidError as exc:
            report(env, line, "warning", str(exc))
            pieces.append(shown_instead(exc, found.group(0))[0])
    pieces.append(code[last:])
    return "".join(pieces)


def kramdown_blocks_plugin(md: MarkdownIt, parse_block_html: bool = False) -> None:
    """Read blocks as kramdown does (see the module doc); for posts of Jekyll sites.
    ``parse_block_html``: the site's kramdown setting (:mod:`.kramdown_parsed_html`)."""
    from sitegen.markdown.kramdown_blockquote import kramdown_blockquote_plugin

    md.options[_PARSE_KEY] = parse_block_html
    kramdown_blockquote_plugin(md)
    md.core.ruler.push("kramdown_code_liquid", _code_values)
    md.block.ruler.before(
        "html_block",
        "kramdown_html",
        _kramdown_html,
        {"alt": ["paragraph", "reference", "blockquote"]},
    )
    md.block.ruler.after("table", "kramdown_table", _kramdown_table)
