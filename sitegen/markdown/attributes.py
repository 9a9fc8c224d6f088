"""kramdown inline attribute lists (IALs), as Jekyll posts use them: ``{: .btn #id k="v"}``.

* right after a link, image or code span: attributes of that element
  (``[Next](url){: .btn}`` -> ``<a href="url" class="btn">``);
* on the line right after a paragraph or heading (no blank line): attributes of the block.

(After ``**strong**`` it stays text: emphasis tokens only exist once the inline rules ran.)

An IAL with nothing to attach to stays visible as text, as written.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from sitegen.markdown.lines import RULE_NAME as INLINE_RULE
from sitegen.markdown.lines import line_tracking_plugin

_IAL = re.compile(r"\{:\s*((?:[.#][\w-]+|[A-Za-z_][\w-]*=(?:\"[^\"]*\"|'[^']*'))"
                  r"(?:\s+(?:[.#][\w-]+|[A-Za-z_][\w-]*=(?:\"[^\"]*\"|'[^']*')))*)\s*\}")
_ITEM = re.compile(r"([.#])([\w-]+)|([A-Za-z_][\w-]*)=(?:\"([^\"]*)\"|'([^']*)')")

# Closing tokens whose opening token takes the attributes, and single tokens that take them.
_CLOSERS = {"link_close": "link_open"}
_SINGLES = frozenset({"image", "code_inline", "math_inline"})


def parse_ial(text: str) -> list[tuple[str, str]]:
    """``.a #b k="v"`` -> ``[("class", "a"), ("id", "b"), ("k", "v")]``."""
    attrs: list[tuple[str, str]] = []
    for m in _ITEM.finditer(text):
        if m.group(1) == ".":
            attrs.append(("class", m.group(2)))
        elif m.group(1) == "#":
            attrs.append(("id", m.group(2)))
        else:
            value = m.group(4) if m.group(4) is not None else m.group(5)
            attrs.append((m.group(3), value))
    return attrs


def apply_attrs(token: Token, attrs: list[tuple[str, str]]) -> None:
    for key, value in attrs:
        if key == "class" and token.attrGet("class"):
            token.attrSet("class", f"{token.attrGet('class')} {value}")
        else:
            token.attrSet(key, value)


def _target(tokens: list[Token]) -> Token | None:
    """The element an IAL right after ``tokens[-1]`` belongs to, if any."""
    if not tokens:
        return None
    last = tokens[-1]
    if last.type in _SINGLES:
        return last
    opener = _CLOSERS.get(last.type)
    if opener is None:
        return None
    depth = 0
    for token in reversed(tokens):
        if token.type == last.type:
            depth += 1
        elif token.type == opener:
            depth -= 1
            if depth == 0:
                return token
    return None


def _ial_inline(state: StateInline, silent: bool) -> bool:
    src = state.src
    pos = state.pos
    if not src.startswith("{:", pos):
        return False
    match = _IAL.match(src, pos, state.posMax)
    if match is None:
        return False
    if not silent:
        attrs = parse_ial(match.group(1))
        target = _target(state.tokens) if not state.pending else None
        if target is not None:
            apply_attrs(target, attrs)
        else:  # maybe the block's (decided once the paragraph is parsed), else text
            token = state.push("kramdown_ial", "", 0)
            token.content = match.group(0)
            token.meta = {"attrs": attrs}
    state.pos = match.end()
    return True


def _block_ials(state: StateCore) -> None:
    tokens = state.tokens
    drop: list[int] = []
    for i, token in enumerate(tokens):
        if token.type != "inline" or not token.children:
            continue
        children = token.children
        last = children[-1]
        if last.type == "kramdown_ial" and i > 0:
            before = tokens[i - 1]
            if len(children) >= 2 and children[-2].type == "softbreak" \
                    and before.type == "paragraph_open":
                apply_attrs(before, last.meta["attrs"])  # "text\n{: .x}"
                del children[-2:]
            elif len(children) == 1 and _follows_heading(tokens, i):
                apply_attrs(tokens[i - 4], last.meta["attrs"])  # "## h\n{: #x}"
                drop.append(i - 1)
        for child in children:
            if child.type == "kramdown_ial":  # nothing to attach to: text as written
                child.type = "text_special"  # (no smart quotes; joined into text later)
    for start in reversed(drop):  # the paragraph that held only the IAL
        del tokens[start : start + 3]


def _follows_heading(tokens: list[Token], i: int) -> bool:
    """tokens[i] is a paragraph's inline on the line right after a heading."""
    if i < 4 or tokens[i - 1].type != "paragraph_open" or tokens[i - 2].type != "heading_close":
        return False
    heading = tokens[i - 4]
    para = tokens[i - 1]
    return bool(heading.map and para.map and heading.map[1] == para.map[0])


def kramdown_ial_plugin(md: MarkdownIt) -> None:
    """Add kramdown's ``{: ...}`` attribute lists after spans and blocks."""
    line_tracking_plugin(md)
    md.inline.ruler.before("link", "kramdown_ial", _ial_inline)
    # Right after inline parsing: before the heading-id rule (an IAL "#id" wins over the
    # generated id) and before smart quotes.
    md.core.ruler.after(INLINE_RULE, "kramdown_ial", _block_ials)
