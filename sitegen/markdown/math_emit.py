"""How an inline math rule ends: a math token, or the text as written with a warning;
and the searches of the inline source that the rules share, made once per source."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from markdown_it.rules_inline import StateInline

from sitegen.markdown.lines import inline_body_line, report
from sitegen.markdown.math_tex import braces_balanced

T = TypeVar("T")


def warn(state: StateInline, pos: int, message: str) -> None:
    """A warning at the body line of ``pos``."""
    report(state.env, inline_body_line(state, pos), "warning", message)


def push_text(state: StateInline, text: str) -> None:
    """``text`` shown as written."""
    # "text_special": shown as written; smart quotes and dash replacements skip it
    # (markdown-it's text_join core rule turns it into plain text afterwards).
    token = state.push("text_special", "", 0)
    token.content = text


def accept(
    state: StateInline,
    silent: bool,
    start: int,
    stop: int,
    tex: str,
    markup: str,
    display: bool,
    balanced: bool | None = None,
) -> bool:
    """Emit math for src[start:stop], or the text as written when its braces don't balance
    (``balanced``: already known from the scan for the closer; None: check here)."""
    if not silent:
        if balanced is None:
            balanced = braces_balanced(tex)
        if balanced:
            token = state.push("math_inline", "math", 0)
            token.content = tex
            token.markup = markup
            token.meta["display"] = display  # the token's own fresh dict: one less to build
            token.meta["source"] = state.src[start:stop]
        else:
            warn(state, start, f"unbalanced braces in math {markup}…; shown as text")
            push_text(state, state.src[start:stop])
    state.pos = stop
    return True


def unclosed(state: StateInline, silent: bool, pos: int, opener: str) -> bool:
    """An opener without closer: keep it as written and go on right after it."""
    if not silent:
        warn(state, pos, f"math opened with {opener} is never closed; shown as text")
        push_text(state, opener)
    state.pos = pos + len(opener)
    return True


def memo(state: StateInline, key: tuple, build: Callable[[], T]) -> T:
    """A value computed once per inline source (``build()``), kept in ``state.cache``.

    markdown-it keeps that dict for one source's parse (integer keys, its own); tuple keys
    cannot clash with them, and the values die with the parse.
    """
    cache = state.cache
    value = cache.get(key)  # type: ignore[call-overload]
    if value is None:
        value = cache[key] = build()  # type: ignore[index]
    return value


def last_position(state: StateInline, text: str) -> int:
    """Last position of ``text`` in the source: an opener after it has no closer, which is
    then known at once instead of by a search to the end for every such opener."""
    return memo(state, ("last", text), lambda: state.src.rfind(text))


def find_after(state: StateInline, text: str, start: int) -> int:
    """``src.find(text, start, posMax)``, without the search when it cannot succeed."""
    if last_position(state, text) < start:
        return -1
    return state.src.find(text, start, state.posMax)


def unbalanced(state: StateInline, silent: bool, pos: int, stop: int) -> bool:
    """A closer exists but braces keep it from closing: show it all as written."""
    if not silent:
        warn(state, pos, "unbalanced braces in math; shown as text")
        push_text(state, state.src[pos:stop])
    state.pos = stop
    return True
