"""Closer lookup in linear time, for the delimiters whose closer must sit at brace depth 0.

MathJax finds the end of ``\\( … \\)``, ``\\[ … \\]`` and ``\\begin{ENV} … \\end{ENV}`` by
walking tokens (backslash pairs skipped as a unit, ``{`` one deeper, ``}`` one shallower
but never below 0) until a closer at depth 0. Walking again from every opener is quadratic
when many openers share one long block and close late or never (``\\( {`` repeated, a
thousand ``\\begin{align}`` lines). :class:`CloserIndex` walks a text once and then answers,
for any start, "where is the first closer at depth 0" in O(log n).

Why one walk serves every start: let ``S`` be the running sum of brace steps. The depth at
a token, walking from start ``q``, is ``S(token) - min(S over [q, token])`` (the clamping at
0 is that minimum). So a closer is at depth 0 exactly when ``S`` there is a running minimum
of the walk from ``q``. The running minima from ``q`` form a chain: each link is the next
token whose ``S`` is not larger. The answer is the first closer on that chain, which is
computed for every token at once, from right to left.

Tokens are found by one regular expression whose alternatives are the closer, a backslash
pair and a brace. A start must be a token boundary of a walk from the beginning of the
text; every start used here follows a ``(``, ``[`` or ``}``, which no backslash pair can
straddle.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

__all__ = ["CloserIndex", "build_closer_index"]


@dataclass(frozen=True)
class CloserIndex:
    """Closers at depth 0 of one text (see module doc); build with :func:`build_closer_index`."""

    starts: list[int]  # start of each brace or closer token, in order
    ends: list[int]  # end of each token
    first_closer: list[int]  # per token: index of the first depth-0 closer from it, or -1
    level: list[int]  # per token: the brace sum before it

    def find(self, pos: int, stop: int) -> tuple[int, int, bool]:
        """First closer at depth 0 walking from ``pos`` that ends by ``stop``: ``(start,
        end, balanced)``, or ``(-1, -1, False)``. ``balanced``: no ``}`` went below depth 0
        on the way (every brace before the closer has its partner)."""
        first = bisect.bisect_left(self.starts, pos)
        if first == len(self.starts):
            return -1, -1, False
        found = self.first_closer[first]
        if found < 0 or self.ends[found] > stop:
            return -1, -1, False
        return self.starts[found], self.ends[found], self.level[found] == self.level[first]


def build_closer_index(text: str, tokens: re.Pattern[str], closer_group: int = 1) -> CloserIndex:
    """Walk ``text`` once. ``tokens`` matches the closer (in group ``closer_group``), a
    backslash pair, ``{`` or ``}``; backslash pairs other than closers are skipped."""
    starts: list[int] = []
    ends: list[int] = []
    level: list[int] = []
    is_closer: list[bool] = []
    depth = 0
    for m in tokens.finditer(text):
        if m.group(closer_group) is not None:
            closer = True
        else:
            tok = m.group(0)
            if tok == "{":
                closer = False
            elif tok == "}":
                closer = False
            else:
                continue  # a backslash pair: one token, no step
        starts.append(m.start())
        ends.append(m.end())
        level.append(depth)
        is_closer.append(closer)
        if not closer:
            depth += 1 if m.group(0) == "{" else -1
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
    return CloserIndex(starts, ends, first_closer, level)
