"""Where kramdown made emphasis of a paragraph's ``*`` and ``_``, math or not.

On a Jekyll site ``$ … $`` is text to kramdown, so a ``*`` or ``_`` in it can open or
close emphasis (``$\\theta^*$ are the parameters for $x^*$``, or ``$\\mathcal{L}_n =
\\sum\\limits_{i}$`` alone): kramdown wrote ``<em>`` into the math and Jekyll's MathJax
showed it broken. sitegen keeps such math as written and warns; this finds the pairs, by
kramdown's rules for ``*…*`` and ``_…_`` (strong ``**``/``__`` is left alone: it nests
and rarely stands in math).
"""

from __future__ import annotations

import re

# single delimiters: not escaped, not part of a run of two or more
_DELIMITER = re.compile(r"(?<![\\*_])([*_])(?![*_])")
# what kramdown reads whole, so no delimiter inside counts: $$…$$ (its math), `code`, a
# link's target, an HTML tag
_OPAQUE = re.compile(r"\$\$.*?\$\$|`+.*?`+|\]\([^)\s]*\)|<[A-Za-z/][^>]*>", re.S)
_ALPHA_BEFORE = re.compile(r"[^\W\d_]-?[^\W\d_]*\Z")


def _opens(src: str, at: int, char: str) -> bool:
    after = src[at + 1 : at + 2]
    if not after or after.isspace():
        return False
    # "_" right after a word (snake_case, x_1) opens nothing
    return not (char == "_" and _ALPHA_BEFORE.search(src, 0, at))


def _closes(src: str, at: int, char: str) -> bool:
    if at == 0 or src[at - 1].isspace():
        return False
    return not (char == "_" and src[at + 1 : at + 2].isalnum())


def emphasis_pairs(src: str) -> list[tuple[int, int]]:
    """(opener, closer) positions of the emphasis kramdown made in ``src``, one paragraph's
    text, left to right. An opener without a closer of its kind is text; emphasis does not
    nest in emphasis, as in kramdown."""
    opaque = [(m.start(), m.end()) for m in _OPAQUE.finditer(src)]
    marks: list[tuple[int, str]] = []
    k = 0
    for found in _DELIMITER.finditer(src):
        at = found.start()
        while k < len(opaque) and opaque[k][1] <= at:
            k += 1
        if not (k < len(opaque) and opaque[k][0] <= at):
            marks.append((at, found.group(1)))
    pairs: list[tuple[int, int]] = []
    i = 0
    while i < len(marks):
        at, char = marks[i]
        i += 1
        if not _opens(src, at, char):
            continue
        for j in range(i, len(marks)):
            end, other = marks[j]
            if other == char and _closes(src, end, char):
                pairs.append((at, end))
                i = j + 1
                break
    return pairs
