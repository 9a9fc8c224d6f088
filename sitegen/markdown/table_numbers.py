"""Table cells that hold a number get ``class="num"``, so a theme can keep each number on
one line: a browser may break ``3.8e-11`` after its hyphen ("3.8e-" / "11") on a phone,
and no CSS rule can tell a number's hyphen from a word's. Only a cell whose whole text is
one number (``-0.5``, ``1,024``, ``3.8e-11``, ``12%``, also in a code span) is marked.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

__all__ = ["table_numbers_plugin", "is_number"]

_NUMBER = re.compile(
    r"[+\-\u2212\u00b1]?(?:\d[\d,\u202f\u2009]*(?:\.\d*)?|\.\d+)(?:[eE][+\-\u2212]?\d+)?%?"
)


def is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text.strip()) is not None


def _cell_text(inline: object) -> str | None:
    """The text of a cell made of one text or code span, else None."""
    children = [c for c in (getattr(inline, "children", None) or []) if c.content.strip()]
    if len(children) == 1 and children[0].type in ("text", "code_inline"):
        return children[0].content
    return None


def _mark_numbers(state: StateCore) -> None:
    tokens = state.tokens
    for i, token in enumerate(tokens[:-1]):
        if token.type == "td_open" and tokens[i + 1].type == "inline":
            text = _cell_text(tokens[i + 1])
            if text is not None and is_number(text):
                token.attrJoin("class", "num")


def table_numbers_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("sg_table_numbers", _mark_numbers)
