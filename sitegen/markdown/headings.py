"""Heading ids (kramdown GFM ``auto_ids``), the table of contents and the first ``h1``.

Ids are made as kramdown-parser-gfm makes them, so links into a moved Jekyll post still
land: the heading's text (math contributes its TeX), lower-cased, every character that is
not a word character, ``-``, space or tab dropped, spaces and tabs turned into ``-``;
a repeated id gets ``-1``, ``-2`` ….
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_NOT_ID_CHAR = re.compile(r"[^\w\- \t]")
_BLANKS = re.compile(r"[ \t]")

TOC_LEVELS = frozenset({"h2", "h3", "h4"})


def slugify(text: str) -> str:
    """kramdown-parser-gfm's header id for ``text`` (before de-duplication)."""
    return _BLANKS.sub("-", _NOT_ID_CHAR.sub("", text.lower()))


def _texts(children: list[Token] | None) -> tuple[str, str]:
    """(text for the id, text for people) of a heading's inline children."""
    raw: list[str] = []
    shown: list[str] = []
    for child in children or ():
        kind = child.type
        if kind in ("text", "code_inline"):
            raw.append(child.content)
            shown.append(child.content)
        elif kind == "math_inline":
            raw.append(child.content)
            # Kept delimited, so a template showing the TOC still gets typeset math.
            if child.meta.get("display"):
                shown.append(f"\\[{child.content}\\]")
            else:
                shown.append(f"\\({child.content}\\)")
        elif kind in ("softbreak", "hardbreak"):
            raw.append(" ")
            shown.append(" ")
        elif kind == "image":
            shown.append(child.content)
    return "".join(raw), " ".join("".join(shown).split())


def _collect(state: StateCore) -> None:
    env = state.env
    tokens = state.tokens
    seen: dict[str, int] = {}
    toc: list[tuple[int, str, str]] = []
    title = None
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[i + 1] if i + 1 < len(tokens) else None
        raw, shown = _texts(inline.children if inline is not None else None)
        ident = token.attrGet("id")
        if not ident:
            base = slugify(raw) or "section"
            count = seen.get(base, -1) + 1
            seen[base] = count
            ident = base if count == 0 else f"{base}-{count}"
            token.attrSet("id", ident)
        if token.tag == "h1" and title is None:
            title = shown
        if token.tag in TOC_LEVELS:
            toc.append((int(token.tag[1]), str(ident), shown))
    env["toc"] = toc
    if title is not None:
        env["title"] = title


def headings_plugin(md: MarkdownIt) -> None:
    """Give headings ids and record ``env["toc"]`` (h2-h4) and ``env["title"]`` (first h1)."""
    md.core.ruler.push("sg_headings", _collect)
