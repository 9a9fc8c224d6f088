"""Brace groups in TeX source, read as TeX reads them: a backslash takes the character
after it along (``\\{`` is no brace). The macros file, and plugins reading TeX, use these."""

from __future__ import annotations


def group_end(text: str, opening: int) -> int | None:
    """The index just after the ``}`` that closes the ``{`` at ``opening``, or None when
    the group is not closed."""
    depth, i = 0, opening
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def split_outside_groups(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` character outside brace groups (the ``=`` of
    ``\\frac{a=b}{c}`` or an escaped ``\\=`` does not split)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts
