"""Finding Liquid in text: ``{% name args %}`` tags and ``{{ expr }}`` outputs (with
Liquid's whitespace-control dashes), and the closing tags of the block tags."""

from __future__ import annotations

import re
from collections.abc import Iterator

# {% name args %} and {{ expr }}, with Liquid's whitespace-control dashes. Written so that
# no two parts can match the same characters (the name is possessive, the rest is one lazy
# run up to the first closer): a tag without closer fails in one pass over the text, where
# "\s*(.*?)\s*" tried every split of a run of spaces (cubic). Whitespace and dashes inside
# are trimmed by match_liquid.
_TAG_RAW = re.compile(r"\{%-?\s*+([A-Za-z_]\w*+)(.*?)%\}", re.S)
_OUTPUT_RAW = re.compile(r"\{\{(.*?)\}\}", re.S)


class LiquidMatch:
    """A ``{% name args %}`` or ``{{ expr }}`` found in a text, with re.Match's accessors:
    group(0) the whole text; for a tag group(1) the name and group(2) the arguments, for an
    output group(1) the expression (whitespace and Liquid's dashes trimmed)."""

    __slots__ = ("_groups", "_start", "_end")

    def __init__(self, groups: tuple[str, ...], start: int, end: int) -> None:
        self._groups = groups
        self._start = start
        self._end = end

    def group(self, index: int = 0) -> str:
        return self._groups[index]

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


def match_liquid(
    src: str, pos: int, maximum: int, last_closer: int | None = None
) -> LiquidMatch | None:
    """The tag or output starting at ``src[pos]`` and ending by ``maximum``, or None.

    ``last_closer``: where the last ``%}`` / ``}}`` of ``src`` is, when the caller knows
    (an opener after it cannot close, and is then rejected without a search)."""
    if src.startswith("{%", pos):
        if last_closer is not None and last_closer < pos:
            return None
        raw = _TAG_RAW.match(src, pos, maximum)
        if raw is None:
            return None
        args = raw.group(2)
        if args.endswith("-"):
            args = args[:-1]
        return LiquidMatch((raw.group(0), raw.group(1), args.strip()), raw.start(), raw.end())
    if src.startswith("{{", pos):
        if last_closer is not None and last_closer < pos:
            return None
        raw = _OUTPUT_RAW.match(src, pos, maximum)
        if raw is None:
            return None
        expr = raw.group(1)
        expr = expr[1:] if expr.startswith("-") else expr
        expr = expr[:-1] if expr.endswith("-") else expr
        return LiquidMatch((raw.group(0), expr.strip()), raw.start(), raw.end())
    return None


def iter_outputs(text: str) -> Iterator[LiquidMatch]:
    """Each ``{{ expr }}`` of ``text``, left to right, as :class:`LiquidMatch` (one pass: an
    opener without a closer after it ends the search, since no later one has one)."""
    pos = 0
    while True:
        begin = text.find("{{", pos)
        if begin < 0:
            return
        close = text.find("}}", begin + 2)
        if close < 0:
            return
        match = match_liquid(text, begin, close + 2)
        if match is not None:
            yield match
        pos = close + 2


def fullmatch_liquid(text: str) -> LiquidMatch | None:
    """The tag or output that is the whole of ``text``, or None."""
    match = match_liquid(text, 0, len(text))
    return match if match is not None and match.end() == len(text) else None


END_HIGHLIGHT = re.compile(r"\{%-?\s*endhighlight\s*-?%\}")
END_RAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
END_COMMENT = re.compile(r"\{%-?\s*endcomment\s*-?%\}")


def short_tag(text: str) -> str:
    """A tag as quoted in a warning: long ones cut to 60 characters."""
    return text if len(text) <= 60 else text[:57] + "…"
