"""Closer lookup in linear time, for the delimiters whose closer must sit at brace depth 0.

MathJax finds the end of ``\\( … \\)``, ``\\[ … \\]`` and ``\\begin{ENV} … \\end{ENV}`` by
walking tokens (backslash pairs skipped as a unit, ``{`` one deeper, ``}`` one shallower
but never below 0) until a closer at depth 0. Walking again from every opener is quadratic
when many openers share one long block and close late or never (``\\( {`` repeated, a
thousand ``\\begin{align}`` lines). :class:`CloserIndex` walks a text once and then answers,
for any start, "where is the first closer at depth 0" in O(log n) (after a few plain walks:
most texts ask once).

Why one walk serves every start: let ``S`` be the running sum of brace steps. The depth at
a token, walking from start ``q``, is ``S(token) - min(S over [q, token])`` (the clamping at
0 is that minimum). So a closer is at depth 0 exactly when ``S`` there is a running minimum
of the walk from ``q``. The running minima from ``q`` form a chain: each link is the next
token whose ``S`` is not larger. The answer is the first closer on that chain, which is
computed for every token at once, from right to left.

Tokens are found by one regular expression (:func:`token_pattern`) that skips text and
backslash pairs and stops at the closer or a brace. A start must be a token boundary of a
walk from the beginning of the text; every start used here follows a ``(``, ``[``, ``}``
or ``$``, which no backslash pair can straddle.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

__all__ = ["CloserIndex", "build_closer_index", "token_pattern"]


# Most texts ask for one or two closers, each near its opener: walking from the opener
# to its closer is then cheaper than the table, which reads the whole text. After this
# many walks of one text the table is built, so many openers stay linear in all.
WALKS_BEFORE_TABLE = 4


class CloserIndex:
    """Closers at depth 0 of one text (see module doc); build with :func:`build_closer_index`.

    The first few questions are answered by walking from the start; later ones by the
    table of :class:`_ClosersTable`, built once. Both give the same answers (tested)."""

    def __init__(self, text: str, tokens: re.Pattern[str]) -> None:
        self.text = text
        self.tokens = tokens
        self.walks = 0
        self.table: _ClosersTable | None = None

    def find(self, pos: int, stop: int) -> tuple[int, int, bool]:
        """First closer at depth 0 walking from ``pos`` that ends by ``stop``: ``(start,
        end, balanced)``, or ``(-1, -1, False)``. ``balanced``: no ``}`` went below depth 0
        on the way (every brace before the closer has its partner)."""
        if self.table is None:
            if self.walks < WALKS_BEFORE_TABLE:
                self.walks += 1
                return _walk(self.text, self.tokens, pos, stop)
            self.table = _ClosersTable.of(self.text, self.tokens)
        return self.table.find(pos, stop)


def _walk(text: str, tokens: re.Pattern[str], pos: int, stop: int) -> tuple[int, int, bool]:
    depth = 0
    balanced = True
    for m in tokens.finditer(text, pos):
        if m.end() > stop or (m.group(1) is None and m.group(2) is None):
            break  # past ``stop``, or the end of the text
        if m.group(1) is not None:
            if depth == 0:
                return m.start(1), m.end(1), balanced
        elif m.group(2) == "{":
            depth += 1
        elif depth == 0:
            balanced = False  # a "}" with no partner: the depth stays 0
        else:
            depth -= 1
    return -1, -1, False


@dataclass(frozen=True)
class _ClosersTable:
    starts: list[int]  # start of each brace or closer token, in order
    ends: list[int]  # end of each token
    first_closer: list[int]  # per token: index of the first depth-0 closer from it, or -1
    level: list[int]  # per token: the brace sum before it

    def find(self, pos: int, stop: int) -> tuple[int, int, bool]:
        first = bisect.bisect_left(self.starts, pos)
        if first == len(self.starts):
            return -1, -1, False
        found = self.first_closer[first]
        if found < 0 or self.ends[found] > stop:
            return -1, -1, False
        return self.starts[found], self.ends[found], self.level[found] == self.level[first]

    @staticmethod
    def of(text: str, tokens: re.Pattern[str]) -> _ClosersTable:
        """Walk ``text`` once (the module doc says how one walk serves every start)."""
        starts: list[int] = []
        ends: list[int] = []
        level: list[int] = []
        is_closer: list[bool] = []
        depth = 0
        for m in tokens.finditer(text):
            if m.group(1) is not None:
                starts.append(m.start(1))
                ends.append(m.end(1))
                level.append(depth)
                is_closer.append(True)
            elif m.group(2) is not None:
                starts.append(m.start(2))
                ends.append(m.end(2))
                level.append(depth)
                is_closer.append(False)
                depth += 1 if m.group(2) == "{" else -1
            else:
                break  # the end of the text
        count = len(starts)
        first_closer = [-1] * count
        chain: list[int] = []  # tokens right of the current one whose level is a running minimum
        for i in range(count - 1, -1, -1):
            here = level[i]
            while chain and level[chain[-1]] > here:
                chain.pop()
            if is_closer[i]:
                first_closer[i] = i
            elif chain:
                first_closer[i] = first_closer[chain[-1]]
            chain.append(i)
        return _ClosersTable(starts, ends, first_closer, level)


def build_closer_index(text: str, tokens: re.Pattern[str]) -> CloserIndex:
    """The closers of ``text``. Each match of ``tokens`` skips what the walk ignores (text
    and backslash pairs) and ends with the next token that counts: the closer in group 1, a
    brace in group 2, or nothing at the end of the text (see :func:`token_pattern`)."""
    return CloserIndex(text, tokens)


def token_pattern(closer: str, pair_not_closer: str, plain: str = r"[^\\{}]") -> re.Pattern[str]:
    """The ``tokens`` pattern for :func:`build_closer_index`.

    ``closer``: a regex of the closer; ``pair_not_closer``: a regex of a backslash pair
    that does not start the closer; ``plain``: one character that is neither a backslash
    nor a brace (nor the closer's first character, when that is not a backslash). The
    skipped part is possessive and every position ends a match (at worst the end of the
    text, after a lone backslash), so the text is read once, in C.
    """
    return re.compile(
        rf"(?:{plain}++|{pair_not_closer})*+(?:({closer})|([{{}}])|\\?\Z)", re.S
    )
