"""Reading TeX text as MathJax and kramdown read it: kramdown's backslash escapes, the
closers MathJax finds (backslash pairs skipped, braces balanced), brace balance, and the
final row break of an environment (see :mod:`sitegen.markdown.math`)."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence

from sitegen.markdown.scan import token_pattern

__all__ = [
    "BEGIN_ENV",
    "BRACKET_TOKENS",
    "PAREN_TOKENS",
    "REF",
    "braces_balanced",
    "drop_final_row_break",
    "env_end_pattern",
    "find_tex_end",
    "raw_index",
    "resolve_kramdown_escapes",
]


# kramdown-parser-gfm's ESCAPED_CHARS_GFM plus its two line breaks: ``\\`` before a newline,
# and GFM's hard break, one ``\`` left before a newline (so ``\\\`` is ``\`` and a <br>).
# A <br> is whitespace to MathJax. The line breaks are tried first, as in kramdown.
_KRAMDOWN_ESCAPE = re.compile(r"\\\\?(?=\n)|\\([\\.*_+`<>()\[\]{}#!:|\"'$=\-~])")

_PAIR = re.compile(r"\\.", re.S)
_BRACE = re.compile(r"[{}]")
# The same, for CloserIndex (sitegen.markdown.scan): the closer \) or \], or a brace.
PAREN_TOKENS = token_pattern(r"\\\)", r"\\[^)]")
BRACKET_TOKENS = token_pattern(r"\\\]", r"\\[^\]]")
# Braces nested at most two deep and balanced (valid only when no brace is escaped): one
# C-level match decides the common case before the general count below.
_SHALLOW_BALANCED = re.compile(r"[^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*")

BEGIN_ENV = re.compile(r"\\begin\s*\{([A-Za-z]+\*?)\}")
REF = re.compile(r"\\(?:eq)?ref\s*\{[^}]*\}")


@functools.lru_cache(maxsize=64)
def env_end_pattern(env: str, space: str = r"\s") -> re.Pattern[str]:
    # A cache of compiled patterns, not state: the result depends only on the arguments.
    end = r"\\end" + space + r"*\{" + re.escape(env) + r"\}"
    return token_pattern(end, r"\\(?!" + end[2:] + r")[\s\S]")


def resolve_kramdown_escapes(
    raw: str, keep_line_breaks: bool = False, hard_breaks: bool = True
) -> tuple[str, list[tuple[int, int]]]:
    """Resolve backslash escapes the way kramdown's GFM parser did.

    Returns the resolved text and, for mapping positions back, a list of
    ``(resolved_index, chars_removed_so_far)`` after each substitution.
    ``keep_line_breaks``: a ``\\\\`` that kramdown made a ``<br>`` stays ``\\\\`` (a row
    break of a bare environment; see :mod:`.math_environment`), unless the line already
    ends in a row break (as after ``\\\\\\\\ \\\\\\\\``, which kramdown made ``\\\\ \\`` + <br>).
    ``hard_breaks=False``: GFM's hard break does not apply (inside HTML whose content
    kramdown parsed).
    """
    if "\\" not in raw:
        return raw, []
    parts: list[str] = []
    shifts: list[tuple[int, int]] = []
    last = 0
    removed = 0
    for m in _KRAMDOWN_ESCAPE.finditer(raw):
        parts.append(raw[last : m.start()])
        char = m.group(1)
        if char is None and len(m.group(0)) == 1 and not hard_breaks:
            parts.append(m.group(0))
        elif char is None and keep_line_breaks and not _ends_in_row_break(parts):
            parts.append(m.group(0))
        elif char is None:  # line break: the backslashes go, the newline stays
            removed += len(m.group(0))
        else:
            parts.append(char)
            removed += 1
        last = m.end()
        shifts.append((m.end() - removed, removed))
    parts.append(raw[last:])
    return "".join(parts), shifts


# A row break already ends the line (a lone "\" after it is a control space).
_ENDS_IN_ROW_BREAK = re.compile(r"(?<!\\)(?:\\\\)+\s*\\?$")


def _ends_in_row_break(parts: list[str]) -> bool:
    line = "".join(parts[-12:]).rsplit("\n", 1)[-1]  # escapes are a part each: 12 suffice
    return _ENDS_IN_ROW_BREAK.search(line) is not None


def raw_index(resolved_index: int, shifts: Sequence[tuple[int, int]]) -> int:
    # shifts are sorted by resolved index: a bisection, so mapping stays O(log n) per call
    at = bisect.bisect_right(shifts, (resolved_index, float("inf")))
    return resolved_index + (shifts[at - 1][1] if at else 0)


def find_tex_end(
    text: str,
    pos: int,
    pattern: re.Pattern[str],
    closer: str,
    end: int | None = None,
    depth: int = 0,
) -> tuple[int, int, int]:
    """Find a closing delimiter the way MathJax's FindTeX does (one walk from ``pos``; the
    rules use :class:`~sitegen.markdown.scan.CloserIndex`, which answers every start at once).

    ``pattern`` matches the closer (in group 1), a backslash pair or a brace; ``closer`` is
    the closer's text, or "" for an environment (whose ``\\end{..}`` is the only token of more
    than two characters). Returns ``(start, stop, depth)`` of the closer at brace depth 0, or
    ``(-1, -1, depth)`` with the depth reached at ``end``, so a scan can go on next line.
    """
    stop = len(text) if end is None else end
    for m in pattern.finditer(text, pos, stop):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            if depth:
                depth -= 1
        elif depth == 0 and (tok == closer or len(tok) > 2):
            return m.start(), m.end(), 0
    return -1, -1, depth


def braces_balanced(tex: str) -> bool:
    """True when every ``{`` has its ``}`` (escaped braces and backslash pairs skipped)."""
    if "{" not in tex and "}" not in tex:
        return True
    if "\\{" not in tex and "\\}" not in tex and _SHALLOW_BALANCED.fullmatch(tex):
        # No brace follows a backslash, so no brace is escaped and the regex sees them all.
        return True
    # Drop backslash pairs, then count the braces that are left: one pass, however deep.
    text = _PAIR.sub("", tex) if "\\" in tex else tex
    depth = 0
    for brace in _BRACE.findall(text):
        depth += 1 if brace == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def drop_final_row_break(tex: str) -> str:
    """Remove a ``\\\\`` that ends the last row of an environment (see module doc)."""
    cut = tex.rfind("\\end")
    if cut <= 0:
        return tex
    body = tex[:cut].rstrip()
    if body.endswith("\\\\") and not body.endswith("\\\\\\"):
        return body[:-2].rstrip() + "\n" + tex[cut:]
    return tex
