"""Single-dollar math by MathJax's own rule, for sites whose MathJax setup enables ``$``.

MathJax (``inlineMath: [['$','$'], …]``) closes a ``$`` at the next ``$`` outside braces,
spaces allowed, a backslash and the character after it skipped as a pair (so ``\\$`` never
closes anything). On a Jekyll site MathJax saw the text kramdown had made of the post:
kramdown had already resolved its backslash escapes (``\\{`` -> ``\\{``... see
:func:`sitegen.markdown.math_tex.resolve_kramdown_escapes`), so the scan runs on the resolved text.

A ``$$`` with no partner in the paragraph was text for kramdown, so ``$x$$`` is the math
``x`` and a dollar sign, as MathJax read it.

Where sitegen knowingly parts from what MathJax did, the ``$`` stays a dollar sign:

* a pair that would hold a ``$$ … $$`` (kramdown made that ``\\( … \\)``, and MathJax then
  typeset "60K salary with a variance (\\(\\sigma^2\\)) of" as one, broken, formula);
* a pair that would cross a code span (MathJax never matches across an element);
* an empty pair.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from sitegen.markdown.math_tex import raw_index, resolve_kramdown_escapes
from sitegen.markdown.scan import CloserIndex, build_closer_index, token_pattern

__all__ = ["DollarIndex", "DollarMatch", "dollar_index", "find_mathjax_dollar"]

# What MathJax's findEnd looks at for the closer "$": the closer, a backslash pair, a brace.
_DOLLAR_END = token_pattern(r"\$", r"\\[\s\S]", r"[^\\{}$]")
_DOUBLE = re.compile(r"(?=\$\$)")


@dataclass(frozen=True)
class DollarMatch:
    """A ``$ … $`` found: ``stop`` is the source index after the closer; ``tex`` is what
    MathJax receives; ``refused`` says why the pair is kept as text ("" when it is math)."""

    stop: int
    tex: str
    refused: str = ""


@dataclass(frozen=True)
class DollarIndex:
    """What :func:`find_mathjax_dollar` needs of one source, found in one pass over it:
    the text MathJax scans (kramdown's escapes resolved), the shifts that map it back,
    where each ``$`` and each ``$$`` is, and the closers at depth 0 (a
    :class:`~sitegen.markdown.scan.CloserIndex`), so no opener walks the text again."""

    text: str
    shifts: list  # (resolved index, characters removed so far), as resolve_kramdown_escapes
    raw_ends: list[int]  # raw index after each shift's escape
    dollars: list[int]  # raw index of every "$"
    doubles: list[int]  # raw index of every "$$" (overlapping: "$$$" holds two)
    closers: CloserIndex


def dollar_index(src: str, kramdown: bool) -> DollarIndex:
    text, shifts = resolve_kramdown_escapes(src) if kramdown else (src, [])
    dollars = [i for i, ch in enumerate(src) if ch == "$"]
    doubles = [m.start() for m in _DOUBLE.finditer(src)]
    raw_ends = [at + total for at, total in shifts]
    return DollarIndex(
        text, shifts, raw_ends, dollars, doubles, build_closer_index(text, _DOLLAR_END)
    )


def _next(positions: list[int], start: int, maximum: int, width: int = 1) -> int:
    at = bisect.bisect_left(positions, start)
    if at < len(positions) and positions[at] + width <= maximum:
        return positions[at]
    return -1


def find_mathjax_dollar(
    src: str, pos: int, maximum: int, kramdown: bool, index: DollarIndex | None = None
) -> DollarMatch | None:
    """The math that opens with the ``$`` at ``src[pos]``, or None when it never closes.

    ``index``: :func:`dollar_index` of ``src`` (built here when not given); with it every
    opener of a source is answered without walking the text again.
    """
    if index is None:
        index = dollar_index(src, kramdown)
    start = pos + 1
    # The first "$" after the opener decides whether a "$$" comes first; else the closer
    # is MathJax's: the first "$" at depth 0 of the resolved text.
    double = _next(index.doubles, start, maximum, 2)
    shifts = index.shifts
    begin = start - _removed_before(index, start)
    limit = maximum - _removed_before(index, maximum)
    found, _, _ = index.closers.find(begin, limit)
    raw_found = raw_index(found, shifts) if found >= 0 else -1
    if double >= 0 and (raw_found < 0 or raw_found >= double):
        close = _next(index.doubles, double + 2, maximum, 2)
        if close >= 0:
            after = _next(index.dollars, close + 2, maximum)
            if after < 0:
                return None  # nothing to pair with beyond the $$ math: a plain dollar
            return DollarMatch(after + 1, "", "holds $$ math")
        # A $$ that never closes is text for kramdown: MathJax closes at its first $.
    if raw_found < 0:
        return None
    tex = index.text[begin:found]
    stop = raw_found + 1
    if "`" in tex:
        return DollarMatch(stop, tex, "crosses a code span")
    if not tex.strip():
        return DollarMatch(stop, tex, "is empty")
    return DollarMatch(stop, tex.strip())


def _removed_before(index: DollarIndex, raw: int) -> int:
    """Characters kramdown's escapes removed before raw position ``raw``."""
    at = bisect.bisect_right(index.raw_ends, raw)
    return index.shifts[at - 1][1] if at else 0
