"""``\\begin{ENV} ... \\end{ENV}`` as display math: the inline rule for an environment
in running text, and the kramdown reading of a bare environment in a Jekyll post (shared
with the block rule)."""

from __future__ import annotations

import re

from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

from sitegen.markdown.jekyll import note_difference
from sitegen.markdown.kramdown_typography import kramdown_typography
from sitegen.markdown.lines import inline_body_line
from sitegen.markdown.math_emit import accept, find_after, memo, unbalanced, unclosed
from sitegen.markdown.math_tex import (
    drop_final_row_break,
    env_end_pattern,
    find_tex_end,
    raw_index,
    resolve_kramdown_escapes,
)
from sitegen.markdown.scan import build_closer_index

# A line of a bare environment that ends in a line break for kramdown (any backslash before
# the newline: see _KRAMDOWN_ESCAPE), followed by more rows before the \end.
_BROKEN_ROW = re.compile(r"\\\n(?![ \t]*(?:\\end\b|$))")


# The same at the last row: kramdown's <br> there is dropped (see drop_final_row_break).
_FINAL_LINE_BREAK = re.compile(r"\\\n\s*$")


def kramdown_environment(
    state: StateInline | StateBlock, silent: bool, line: int, raw: str, tex: str
) -> str:
    """The TeX of a bare environment of a Jekyll post (``raw``: its source up to
    ``\\end``; ``tex``: with kramdown's escapes resolved, row breaks kept).

    A ``\\\\`` ending the last row goes only where kramdown made it a ``<br>``: one that came
    out of ``\\\\\\`` reached MathJax on the Jekyll site. A row break kramdown made a
    ``<br>`` before further rows stays, with a warning (Jekyll's MathJax ran the rows
    together)."""
    if _FINAL_LINE_BREAK.search(raw):
        tex = drop_final_row_break(tex)
    if not silent and _BROKEN_ROW.search(raw):
        note_difference(
            state.env,
            "environment-row-break",
            line,
            "a \\\\ at the end of a line inside \\begin{…} is a row break here (kramdown made "
            "it a line break, so on the Jekyll site MathJax ran the rows together)",
        )
    return tex


def environment_span(
    state: StateInline, silent: bool, pos: int, match: re.Match[str], kramdown: bool
) -> bool:
    name = match.group(1)
    end_tag = "\\end{" + name + "}"
    if kramdown:
        # Plain text for kramdown: its escapes were resolved before MathJax read it. Only
        # the text up to the first \end{name} is resolved, so the work stays the env's own.
        end = find_after(state, end_tag, match.end())
        if end >= 0:
            raw = state.src[match.end() : end + len(end_tag)]
            text, shifts = resolve_kramdown_escapes(raw, keep_line_breaks=True)
            found, found_end, _ = find_tex_end(text, 0, env_end_pattern(name), "")
            if found >= 0:
                stop = match.end() + raw_index(found_end - 1, shifts) + 1
                raw_env = raw[: raw_index(found, shifts)]
                line = inline_body_line(state, pos)
                tex = match.group(0) + text[:found_end]
                tex = kramdown_typography(kramdown_environment(state, silent, line, raw_env, tex))
                return accept(state, silent, pos, stop, tex, "\\begin", True)
            return unbalanced(state, silent, pos, end + len(end_tag))
        return unclosed(state, silent, pos, match.group(0))
    index = memo(state, ("env", name), lambda: build_closer_index(state.src, env_end_pattern(name)))
    found, found_end, _ = index.find(match.end(), state.posMax)
    if found < 0:
        end = find_after(state, end_tag, match.end())
        if end >= 0:
            return unbalanced(state, silent, pos, end + len(end_tag))
        return unclosed(state, silent, pos, match.group(0))
    tex = drop_final_row_break(state.src[pos:found_end])
    return accept(state, silent, pos, found_end, tex, "\\begin", True)
