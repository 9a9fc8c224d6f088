"""``{% if %}`` / ``{% unless %}`` blocks whose tags stand on lines of their own.

Jekyll posts use them around a part of the page (``{% if page.comments %}`` … a comment
link … ``{% endif %}``). Jekyll ran Liquid before kramdown, so only the lines of the branch
whose condition holds were Markdown; this block rule reads those lines as blocks and
skips the rest. Conditions are Liquid's: ``page.x`` / ``site.x`` lookups and literals,
compared with ``==``, ``!=``, ``<``, ``>``, ``<=``, ``>=``, ``contains``, joined by ``and`` /
``or`` (evaluated right to left, as Liquid does); only ``nil`` and ``false`` are false.
A condition this cannot read leaves the tags to the inline rule, which warns and keeps
them visible.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it.rules_block import StateBlock

from sitegen.markdown.lines import line_text
from sitegen.markdown.liquid_values import LiquidContext, LiquidError, value_or_nil

_TAG = re.compile(r"\{%-?\s*(if|unless|elsif|else|endif|endunless)\b(.*?)-?%\}")
_JOIN = re.compile(r"""('[^']*'|"[^"]*")|\s+(and|or)\s+""")
_COMPARISON = re.compile(r"""(.+?)\s*(==|!=|<>|<=|>=|<|>|\scontains\s)\s*(.+)""")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class _Unreadable(Exception):
    """A condition outside what this module evaluates."""


def _operand(ctx: LiquidContext, text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    literals = {"true": True, "false": False, "nil": None, "null": None}
    if text in literals:
        return literals[text]
    if text in ("empty", "blank"):
        return _EMPTY
    try:
        return value_or_nil(ctx, text)
    except LiquidError:
        raise _Unreadable(text) from None


class _Empty:
    """Liquid's ``empty``: equal to an empty string, list or map."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str | list | tuple | dict) and len(other) == 0

    __hash__ = None  # type: ignore[assignment]


_EMPTY = _Empty()


def _comparison(ctx: LiquidContext, text: str) -> bool:
    found = _COMPARISON.fullmatch(text.strip())
    if found is None:
        value = _operand(ctx, text)
        return value is not None and value is not False
    left, op, right = _operand(ctx, found.group(1)), found.group(2).strip(), found.group(3)
    right = _operand(ctx, right)
    if op == "contains":
        if isinstance(left, str):
            return isinstance(right, str) and right in left
        return isinstance(left, list | tuple) and right in left
    if op in ("==", "!=", "<>"):
        equal = right == left if isinstance(right, _Empty) else left == right
        return equal if op == "==" else not equal
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        return False  # Liquid compares unlike values as false


def evaluate(ctx: LiquidContext, expression: str) -> bool:
    """The truth of a Liquid condition; _Unreadable when it cannot be read here."""
    parts: list[str] = []
    joins: list[str] = []
    last = 0
    for found in _JOIN.finditer(expression):
        if found.group(2):
            parts.append(expression[last : found.start()])
            joins.append(found.group(2))
            last = found.end()
    parts.append(expression[last:])
    if not all(part.strip() for part in parts):
        raise _Unreadable(expression)
    result = _comparison(ctx, parts[-1])
    for join, part in zip(reversed(joins), reversed(parts[:-1]), strict=True):
        value = _comparison(ctx, part)
        result = (value and result) if join == "and" else (value or result)
    return result


def _branches(state: StateBlock, start: int, end: int) -> tuple[list[tuple[int, str, str]], int]:
    """The branch tags of the block opening at ``start`` ((line, tag, condition), …) and
    the line of its closing tag (-1: none)."""
    branches = []
    depth = 0
    for line in range(start, end):
        found = _TAG.fullmatch(line_text(state, line).strip())
        if found is None:
            continue
        tag = found.group(1)
        if tag in ("if", "unless"):
            depth += 1
            if depth == 1:
                branches.append((line, tag, found.group(2).strip()))
        elif tag in ("endif", "endunless"):
            depth -= 1
            if depth == 0:
                return branches, line
        elif depth == 1:
            branches.append((line, tag, found.group(2).strip()))
    return branches, -1


def liquid_if_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """The rule (called by ``liquid_block`` for an ``if``/``unless`` tag alone on a line)."""
    ctx = state.env.get("liquid")
    if silent or not isinstance(ctx, LiquidContext):
        return False  # a tag line never ends a paragraph (Jekyll's Liquid removed it)
    branches, close = _branches(state, start, end)
    if close < 0:
        return False
    chosen = -1
    try:
        for number, (_, tag, condition) in enumerate(branches):
            if tag == "else":
                holds = True
            elif tag == "unless":
                holds = not evaluate(ctx, condition)
            else:
                holds = evaluate(ctx, condition)
            if holds:
                chosen = number
                break
    except _Unreadable:
        return False
    if chosen >= 0:
        first = branches[chosen][0] + 1
        stop = branches[chosen + 1][0] if chosen + 1 < len(branches) else close
        if first < stop:
            old_max = state.lineMax
            state.lineMax = stop
            state.md.block.tokenize(state, first, stop)
            state.lineMax = old_max
    state.line = close + 1
    return True
