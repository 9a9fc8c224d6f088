"""Liquid values inside raw HTML (never inside HTML comments), and pages written in
HTML, whose Liquid values are substituted the same way."""

from __future__ import annotations

from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from sitegen.markdown.lines import (
    report,
)
from sitegen.markdown.liquid_tags import fullmatch_liquid
from sitegen.markdown.liquid_values import (
    VARIABLE,
    LiquidContext,
    LiquidError,
    shown_instead,
    value_of,
)


def html_values(state: StateCore) -> None:
    """``{{ site.x }}``, ``{% post_url %}``, ``{% link %}`` inside raw HTML (not comments)."""
    ctx = state.env.get("liquid")
    if not isinstance(ctx, LiquidContext):
        return
    for token in state.tokens:
        if token.type == "html_block":
            _substitute(state.env, ctx, token, token.map[0] if token.map else 0)
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "html_inline":
                    _substitute(state.env, ctx, child, token.map[0] if token.map else 0)


def _substitute(env: dict, ctx: LiquidContext, token: Token, line: int) -> None:
    html = token.content
    if "{{" not in html and "{%" not in html:
        return
    pieces: list[str] = []
    last = 0
    search = 0
    while True:  # comments are kept verbatim
        begin = html.find("<!--", search)
        if begin < 0:
            break
        close = html.find("-->", begin + 4)
        if close < 0:
            break  # an unclosed comment ends nothing; the rest is looked at as it is
        pieces.append(_substitute_text(env, ctx, html[last:begin], line))
        pieces.append(html[begin : close + 3])
        last = search = close + 3
    pieces.append(_substitute_text(env, ctx, html[last:], line))
    token.content = "".join(pieces)


def _substitute_text(env: dict, ctx: LiquidContext, html: str, line: int) -> str:
    if "{{" not in html and "{%" not in html:
        return html
    pieces: list[str] = []
    last = 0
    pos = 0
    # Each opener is followed to its closer with str.find; the next place of each opener is
    # kept until the scan passes it, and once a kind of closer is missing from the rest, no
    # opener of that kind is looked at again: one pass over the text.
    closers = {"{{": "}}", "{%": "%}"}
    next_at = {opener: html.find(opener) for opener in closers}
    while True:
        for opener in list(next_at):
            if 0 <= next_at[opener] < pos:
                next_at[opener] = html.find(opener, pos)
            if next_at[opener] < 0:
                del next_at[opener]
        if not next_at:
            break
        begin, opener = min((at, opener) for opener, at in next_at.items())
        close = html.find(closers[opener], begin + 2)
        if close < 0:
            del next_at[opener]
            continue
        stop = close + 2
        pieces.append(html[last:begin])
        line += html.count("\n", last, begin)  # counted as the text goes by, not from 0
        pieces.append(_html_value(env, ctx, html[begin:stop], line))
        line += html.count("\n", begin, stop)
        last = pos = stop
    pieces.append(html[last:])
    return "".join(pieces)


def _is_value(expression: str) -> bool:
    """``site.x`` or ``page.x``, with filters or not (``site.x | replace: 'a', 'b'``), or a
    quoted string with filters (``'/img/a.png' | absolute_url``)."""
    name, bar, filters = expression.partition("|")
    name = name.strip()
    if bar and not filters.strip():
        return False
    if VARIABLE.fullmatch(name) is not None:
        return True
    return bool(bar) and len(name) >= 2 and name[0] == name[-1] and name[0] in "'\""


def _html_value(env: dict, ctx: LiquidContext, text: str, line: int) -> str:
    match = fullmatch_liquid(text)
    # Only the value forms; anything else in HTML (TeX's "{{" in a raw <div>, say) is
    # left alone without a word.
    if match is None:
        return text
    if text[1] == "%":
        if match.group(1) not in ("post_url", "link"):
            return text
    elif not _is_value(match.group(1)):
        return text
    try:
        return escapeHtml(value_of(ctx, match))
    except LiquidError as exc:
        report(env, line, "warning", str(exc))
        shown, is_value = shown_instead(exc, text)
        return escapeHtml(shown) if is_value else shown


def html_page_tokens(env: dict, html: str) -> list[Token]:
    """The tokens of a page written in HTML (no Markdown): one raw HTML block, with the
    Liquid values substituted as in a post's raw HTML."""
    token = Token("html_block", "", 0)
    token.content = html
    ctx = env.get("liquid")
    if isinstance(ctx, LiquidContext):
        _substitute(env, ctx, token, 0)
    return [token]
