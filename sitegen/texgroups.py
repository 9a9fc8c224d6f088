"""Brace groups in TeX source, read as TeX reads them: a backslash takes the character
after it along (``\\{`` is no brace). The macros file, and plugins reading TeX, use these."""

from __future__ import annotations

from collections.abc import Iterator


def _depths(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, brace depth after it) of each character from ``start`` that no
    backslash escapes (escape pairs are skipped whole)."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        yield i, char, depth
        i += 1


def group_end(text: str, opening: int) -> int | None:
    """The index just after the ``}`` that closes the ``{`` at ``opening``, or None when
    the group is not closed."""
    for i, char, depth in _depths(text, opening):
        if depth == 0 and char == "}":
            return i + 1
    return None


def split_outside_groups(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` character outside brace groups (the ``=`` of
    ``\\frac{a=b}{c}`` or an escaped ``\\=`` does not split)."""
    parts, start = [], 0
    for i, char, depth in _depths(text):
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
