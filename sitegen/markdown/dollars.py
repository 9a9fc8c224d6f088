"""Single-dollar math by MathJax's own rule, for sites whose MathJax setup enables ``$``.

MathJax (``inlineMath: [['$','$'], …]``) closes a ``$`` at the next ``$`` outside braces,
spaces allowed, a backslash and the character after it skipped as a pair (so ``\\$`` never
closes anything). On a Jekyll site MathJax saw the text kramdown had made of the post:
kramdown had already resolved its backslash escapes (``\\{`` -> ``\\{``... see
:func:`sitegen.markdown.math.resolve_kramdown_escapes`), so the scan runs on the resolved text.

Where sitegen knowingly parts from what MathJax did, the ``$`` stays a dollar sign:

* a pair that would hold a ``$$ … $$`` (kramdown made that ``\\( … \\)``, and MathJax then
  typeset "60K salary with a variance (\\(\\sigma^2\\)) of" as one, broken, formula);
* a pair that would cross a code span (MathJax never matches across an element);
* an empty pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DollarMatch", "find_mathjax_dollar"]

# What MathJax's findEnd looks at for the closer "$": the closer, a backslash pair, a brace.
_DOLLAR_END = re.compile(r"\$|\\.|[{}]", re.S)


@dataclass(frozen=True)
class DollarMatch:
    """A ``$ … $`` found: ``stop`` is the source index after the closer; ``tex`` is what
    MathJax receives; ``refused`` says why the pair is kept as text ("" when it is math)."""

    stop: int
    tex: str
    refused: str = ""


def _scan(text: str) -> int:
    """Index of the closing ``$`` in ``text`` (MathJax's rule), or -1."""
    depth = 0
    for match in _DOLLAR_END.finditer(text):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif token == "$" and depth == 0:
            return match.start()
    return -1


def find_mathjax_dollar(src: str, pos: int, maximum: int, kramdown: bool) -> DollarMatch | None:
    """The math that opens with the ``$`` at ``src[pos]``, or None when it never closes.

    The search grows one ``$`` at a time, so a paragraph full of prices costs one pass per
    dollar up to its partner, not one per dollar to the paragraph's end.
    """
    from sitegen.markdown.math import _raw_index, resolve_kramdown_escapes

    start = pos + 1
    candidate = start
    while True:
        candidate = src.find("$", candidate, maximum)
        if candidate < 0:
            return None
        if src.startswith("$$", candidate):
            close = src.find("$$", candidate + 2, maximum)
            if close < 0:
                return None
            after = src.find("$", close + 2, maximum)
            if after < 0:
                return None  # nothing to pair with beyond the $$ math: a plain dollar
            return DollarMatch(after + 1, "", "holds $$ math")
        raw = src[start : candidate + 1]
        if kramdown and "\\" in raw:
            text, shifts = resolve_kramdown_escapes(raw)
        else:
            text, shifts = raw, []
        found = _scan(text)
        if found >= 0:
            stop = start + _raw_index(found, shifts) + 1
            tex = text[:found]
            if "`" in tex:
                return DollarMatch(stop, tex, "crosses a code span")
            if not tex.strip():
                return DollarMatch(stop, tex, "is empty")
            return DollarMatch(stop, tex.strip())
        candidate += 1
