"""The inline Liquid rules: tags and outputs in running text, ``{% raw %}`` and
``{% comment %}`` within a paragraph, and links whose target holds Liquid."""

from __future__ import annotations

import re

from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from sitegen.markdown.lines import (
    RAW_DEPTH_KEY,
    inline_body_line,
    report,
)
from sitegen.markdown.liquid_tags import END_COMMENT, END_RAW, LiquidMatch, match_liquid, short_tag
from sitegen.markdown.liquid_values import (
    LiquidContext,
    LiquidError,
    include_params,
    shown_instead,
    value_of,
)

_BLOCK_TAGS = frozenset({"highlight", "endhighlight", "raw", "endraw", "endcomment"})


def _push_text(state: StateInline, text: str) -> None:
    # "text_special": shown as written; smart quotes and dash replacements skip it
    # (markdown-it's text_join core rule turns it into plain text afterwards).
    token = state.push("text_special", "", 0)
    token.content = text


def liquid_inline(state: StateInline, silent: bool) -> bool:
    src = state.src
    pos = state.pos
    if src[pos] != "{" or pos + 1 >= state.posMax:
        return False
    second = src[pos + 1]
    if second != "%" and second != "{":
        return False
    env = state.env
    if env.get(RAW_DEPTH_KEY):
        return False  # inside {% raw %}: plain text
    match = match_liquid(src, pos, state.posMax, _last(state, "%}" if second == "%" else "}}"))
    if match is None:
        return False
    name = match.group(1) if second == "%" else ""
    if name == "raw":
        return _inline_raw(state, silent, match, END_RAW, keep=True)
    if name == "comment":
        return _inline_raw(state, silent, match, END_COMMENT, keep=False)
    if silent:
        state.pos = match.end()
        return True
    ctx = env.get("liquid")
    line = inline_body_line(state, pos)
    text = match.group(0)
    if not isinstance(ctx, LiquidContext):
        report(env, line, "warning", f"Liquid {short_tag(text)} left as text (no Liquid here)")
        _push_text(state, text)
    elif name == "include":
        try:
            inc_name, params = include_params(ctx, match.group(2))
        except LiquidError as exc:
            report(env, line, "warning", str(exc))
            _push_text(state, text)
        else:
            token = state.push("liquid_include", "", 0)
            token.content = text
            token.meta = {"name": inc_name, "params": params, "line": line}
    elif name in _BLOCK_TAGS:
        report(env, line, "warning", f"{short_tag(text)} must stand on its own line; left as text")
        _push_text(state, text)
    else:
        try:
            _push_text(state, value_of(ctx, match))
        except LiquidError as exc:
            report(env, line, "warning", str(exc))
            _push_text(state, shown_instead(exc, text)[0])
    state.pos = match.end()
    return True


def _last(state: StateInline, text: str) -> int:
    """Last position of ``text`` in the source, found once per source (state.cache is
    markdown-it's per-source memo; its own keys are integers, so a tuple cannot clash)."""
    key = ("last", text)
    last = state.cache.get(key)  # type: ignore[call-overload]
    if last is None:
        last = state.cache[key] = state.src.rfind(text)  # type: ignore[index]
    return last


def _inline_raw(
    state: StateInline, silent: bool, match: LiquidMatch, closer: re.Pattern[str], keep: bool
) -> bool:
    """``{% raw %}`` (content kept as text) or ``{% comment %}`` (content dropped)."""
    # A search that found no closer from one opener finds none from a later one: remember
    # where it started, so a row of unclosed {% raw %} costs one search, not one each.
    key = ("no closer", closer.pattern, state.posMax)
    failed_from = state.cache.get(key)  # type: ignore[call-overload]
    if failed_from is not None and failed_from <= match.end():
        end = None
    else:
        end = closer.search(state.src, match.end(), state.posMax)
        if end is None:
            state.cache[key] = match.end()  # type: ignore[index]
    if end is None:
        if not silent:
            name = match.group(1)
            report(
                state.env,
                inline_body_line(state, match.start()),
                "warning",
                f"{{% {name} %}} without {{% end{name} %}}; left as text",
            )
            _push_text(state, match.group(0))
        state.pos = match.end()
        return True
    if not silent and keep:
        _push_text(state, state.src[match.end() : end.start()])
    state.pos = end.end()
    return True


def liquid_link(state: StateInline, silent: bool) -> bool:
    """``[label]({% post_url x %})`` / ``![alt]({{ site.baseurl }}/a.png)``: a link or image
    whose target holds Liquid (which the ordinary link rule rejects for its spaces)."""
    src = state.src
    pos = state.pos
    image = src[pos] == "!"
    start = pos + 1 if image else pos
    if src[start : start + 1] != "[" or state.env.get(RAW_DEPTH_KEY):
        return False
    # Cheap test before any real parsing: a Liquid-looking target must follow somewhere.
    if _last(state, "]({") < start or src.find("]({", start, state.posMax) < 0:
        return False
    ctx = state.env.get("liquid")
    if not isinstance(ctx, LiquidContext):
        return False
    label_end = state.md.helpers.parseLinkLabel(state, start, not image)
    if label_end < 0 or not src.startswith("({", label_end + 1):
        return False
    said: list[str] = []
    target, stop = _liquid_target(ctx, src, label_end + 2, state.posMax, said)
    if target is None:
        return False
    if not silent:
        for message in said:
            report(state.env, inline_body_line(state, pos), "warning", message)
    href = state.md.normalizeLink(target)
    if not state.md.validateLink(href):
        return False
    if not silent:
        old_max = state.posMax
        if image:
            children: list[Token] = []
            state.md.inline.parse(src[start + 1 : label_end], state.md, state.env, children)
            token = state.push("image", "img", 0)
            token.attrs = {"src": href, "alt": ""}
            token.children = children
            token.content = src[start + 1 : label_end]
        else:
            state.pos = start + 1
            state.posMax = label_end
            state.push("link_open", "a", 1).attrs = {"href": href}
            state.linkLevel += 1
            state.md.inline.tokenize(state)
            state.linkLevel -= 1
            state.push("link_close", "a", -1)
        state.posMax = old_max
    state.pos = stop
    return True


def _liquid_target(
    ctx: LiquidContext, src: str, pos: int, maximum: int, said: list[str]
) -> tuple[str | None, int]:
    """Resolve a link target made of Liquid and plain characters, up to ``)`` (spaces
    around it dropped, as for any link); warnings about a value shown go to ``said``."""
    parts: list[str] = []
    while pos < maximum:
        ch = src[pos]
        if ch == ")":
            return "".join(parts).strip(), pos + 1
        if ch == "{":
            match = match_liquid(src, pos, maximum)
            if match is None:
                return None, pos
            try:
                parts.append(value_of(ctx, match))
            except LiquidError as exc:
                shown, is_value = shown_instead(exc, "")
                if not is_value:
                    return None, pos  # the inline rule reports it when it meets the tag
                parts.append(shown)
                said.append(str(exc))
            pos = match.end()
        elif ch.isspace():
            return None, pos  # titles after Liquid targets: not worth the complexity
        else:
            parts.append(ch)
            pos += 1
    return None, pos
