"""The inline math rule: ``$$``, ``$``, ``\\\\(``/``\\\\[``, ``\\(``/``\\[``, environments and
``\\eqref``/``\\ref`` in running text (the delimiters of :mod:`sitegen.markdown.math`)."""

from __future__ import annotations

import bisect
import re

from markdown_it.rules_inline import StateInline

from sitegen.markdown.dollars import dollar_index, find_mathjax_dollar
from sitegen.markdown.jekyll import note_difference
from sitegen.markdown.kramdown_emphasis import emphasis_pairs
from sitegen.markdown.kramdown_typography import kramdown_typography
from sitegen.markdown.lines import inline_body_line
from sitegen.markdown.math_emit import (
    accept,
    find_after,
    last_position,
    memo,
    push_text,
    unbalanced,
    unclosed,
)
from sitegen.markdown.math_environment import environment_span
from sitegen.markdown.math_options import MathOptions
from sitegen.markdown.math_tex import (
    BEGIN_ENV,
    BRACKET_TOKENS,
    PAREN_TOKENS,
    REF,
    braces_balanced,
    raw_index,
    resolve_kramdown_escapes,
)
from sitegen.markdown.scan import CloserIndex, build_closer_index


def _double_dollar(state: StateInline, silent: bool, pos: int) -> bool:
    src = state.src
    end = find_after(state, "$$", pos + 2)
    if end < 0:
        return unclosed(state, silent, pos, "$$")
    tex = src[pos + 2 : end].strip()
    if not tex:  # "$$$$" is no math at all
        if not silent:
            push_text(state, "$$$$")
        state.pos = end + 2
        return True
    # MathJax 3 ignores \tag and \label in inline math, so every \eqref to such an equation
    # would show "(???)": a numbered $$ equation inside a line is display math here.
    numbered = "\\tag" in tex or "\\label" in tex
    return accept(state, silent, pos, end + 2, tex, "$$", numbered)


def _dollar_closer(state: StateInline, start: int) -> int:
    """First ``$`` at or after ``start`` that may close ``$`` math (pandoc: not after a
    backslash or a space, not before a digit), or -1.

    The last answer is remembered: for a later start up to that closer it is the same, so
    a row of dollars that never close ("$a $b $c ...") costs one pass, not one per dollar.
    """
    src = state.src
    maximum = state.posMax
    memo = state.cache.get(("$", maximum))  # type: ignore[call-overload]
    if memo is not None and memo[0] <= start and (memo[1] < 0 or start <= memo[1]):
        return memo[1]
    search = start
    while True:
        end = src.find("$", search, maximum)
        if end < 0:
            break
        before = src[end - 1]
        after = src[end + 1] if end + 1 < maximum else ""
        if before == "\\" or before.isspace() or after.isdigit():
            search = end + 1
            continue
        break
    state.cache[("$", maximum)] = (start, end)  # type: ignore[index]
    return end


def _single_dollar(state: StateInline, silent: bool, pos: int, opts: MathOptions) -> bool:
    if opts.dollars == "mathjax":
        return _mathjax_dollar(state, silent, pos, opts.kramdown)
    src = state.src
    if pos + 1 >= state.posMax or src[pos + 1].isspace():
        return False
    end = _dollar_closer(state, pos + 2)  # "$$" right after the opener is no closer
    if end < 0:
        return False  # a lone dollar is prose ("costs $5"): no warning
    tex = src[pos + 1 : end]
    if opts.kramdown:  # kramdown resolved its escapes in this text before MathJax saw it
        # and made its typographic replacements (see .kramdown_typography)
        tex = kramdown_typography(resolve_kramdown_escapes(tex)[0], before="$")
    return accept(state, silent, pos, end + 1, tex, "$", False)


def _mathjax_dollar(state: StateInline, silent: bool, pos: int, kramdown: bool) -> bool:
    index = memo(state, ("mathjax $", kramdown), lambda: dollar_index(state.src, kramdown))
    found = find_mathjax_dollar(state.src, pos, state.posMax, kramdown, index)
    if found is None:
        return False  # a lone dollar is prose: no warning
    if found.refused:
        if not silent and kramdown:
            note_difference(
                state.env,
                "dollar-pair",
                inline_body_line(state, pos),
                f"this $ is shown as a dollar sign: the $…$ it opens {found.refused} "
                "(on the Jekyll site MathJax read it all as one formula and could not "
                "typeset it)",
            )
        return False
    if kramdown and not silent:
        _note_emphasis_across(state, pos, found.stop)
    tex = kramdown_typography(found.tex, before="$") if kramdown else found.tex  # kramdown's
    return accept(state, silent, pos, found.stop, tex, "$", False)


def _note_emphasis_across(state: StateInline, start: int, stop: int) -> None:
    """kramdown made emphasis of a ``*`` or ``_`` in this ``$…$`` (see .kramdown_emphasis),
    which Jekyll's MathJax then showed broken; here it is math as written."""
    pairs = memo(state, ("kramdown emphasis",), lambda: emphasis_pairs(state.src))
    if not any(start <= a < stop or start <= b < stop for a, b in pairs):
        return
    note_difference(
        state.env,
        "emphasis-across-math",
        inline_body_line(state, start),
        "this $…$ is math as written: kramdown took a * or _ in it for emphasis and wrote "
        "<em> into the math, which Jekyll's MathJax showed broken (write \\ast, ^{*} or "
        "\\_ to be safe on both)",
    )


def _closers(state: StateInline, display: bool) -> CloserIndex:
    pattern = BRACKET_TOKENS if display else PAREN_TOKENS
    return memo(state, ("closers", display), lambda: build_closer_index(state.src, pattern))


def _resolved_closers(state: StateInline, display: bool) -> tuple[str, list, list, CloserIndex]:
    """The whole source with kramdown's escapes resolved, the shifts that map positions
    back, each shift's raw end (to map forward), and the closer index of the resolved text.

    Resolving once for the whole source equals resolving from any opener on: an escape
    never straddles the ``(`` / ``[`` that ends an opener.
    """

    def build() -> tuple[str, list, list, CloserIndex]:
        resolved, shifts = resolve_kramdown_escapes(state.src)
        raw_ends = [at + total for at, total in shifts]
        pattern = BRACKET_TOKENS if display else PAREN_TOKENS
        return resolved, shifts, raw_ends, build_closer_index(resolved, pattern)

    return memo(state, ("kramdown", display), build)


# A span in which every backslash starts a command name: no kramdown escape, no backslash
# pair to skip, so its braces are the ones the walk counts.
_PLAIN_SPAN = re.compile(r"(?:[^\\]|\\[A-Za-z])*+")


def _resolved_index(raw_index: int, shifts: list, raw_ends: list) -> int:
    at = bisect.bisect_right(raw_ends, raw_index)
    return raw_index - (shifts[at - 1][1] if at else 0)


def _escaped_delimited(state: StateInline, silent: bool, pos: int, display: bool) -> bool:
    """``\\( .. \\)`` / ``\\[ .. \\]`` with kramdown's escape resolution."""
    src = state.src
    opener = src[pos : pos + 3]
    raw_closer = "\\\\]" if display else "\\\\)"
    start = pos + 3
    first = find_after(state, raw_closer, start)
    if first < 0:
        return unclosed(state, silent, pos, opener)
    segment = src[start:first]
    if _PLAIN_SPAN.fullmatch(segment) and braces_balanced(segment):
        # The common case: kramdown's escapes leave the span as it is (every backslash
        # starts a command name) and its braces close, so the first closer ends it, as
        # the walk over the resolved text below would find (tests/test_math_kramdown_fast.py)
        tex = kramdown_typography(segment.strip())
        return accept(state, silent, pos, first + 3, tex, opener, display, True)
    resolved, shifts, raw_ends, index = _resolved_closers(state, display)
    begin = _resolved_index(start, shifts, raw_ends)
    limit = _resolved_index(state.posMax, shifts, raw_ends)
    found, found_end, balanced = index.find(begin, limit)
    if found < 0:
        return unbalanced(state, silent, pos, first + 3)
    # Mapped back through the shifts: when the closer's last character came out of an
    # escape ("\\]"), this ends math inside it.
    stop = raw_index(found_end - 1, shifts) + 1
    tex = kramdown_typography(resolved[begin:found].strip())  # text to kramdown, too
    return accept(state, silent, pos, stop, tex, opener, display, balanced)


def _plain_delimited(state: StateInline, silent: bool, pos: int, display: bool) -> bool:
    """``\\( .. \\)`` / ``\\[ .. \\]``, verbatim."""
    src = state.src
    closer = "\\]" if display else "\\)"
    found, found_end, balanced = _closers(state, display).find(pos + 2, state.posMax)
    if found < 0:
        plain = find_after(state, closer, pos + 2)
        if plain >= 0:
            return unbalanced(state, silent, pos, plain + 2)
        return unclosed(state, silent, pos, src[pos : pos + 2])
    tex = src[pos + 2 : found].strip()
    return accept(state, silent, pos, found_end, tex, src[pos : pos + 2], display, balanced)


def make_inline_rule(opts: MathOptions):
    def math_inline(state: StateInline, silent: bool) -> bool:
        pos = state.pos
        src = state.src
        ch = src[pos]
        # Cheap first-character test: this runs at every '$' and '\' of every post.
        if ch == "$":
            if src.startswith("$$", pos):
                return opts.double_dollar and _double_dollar(state, silent, pos)
            if not opts.dollar or opts.dollars == "off":
                return False
            return _single_dollar(state, silent, pos, opts)
        if ch != "\\" or pos + 2 > state.posMax:
            return False
        nxt = src[pos + 1]
        if nxt == "\\":
            if not opts.escaped_brackets or pos + 3 > state.posMax:
                return False
            third = src[pos + 2]
            if third == "(" or third == "[":
                return _escaped_delimited(state, silent, pos, third == "[")
            mathjax_escapes = opts.dollars == "mathjax" and opts.process_escapes
            if third == "$" and mathjax_escapes and opts.kramdown:
                # kramdown made "\\$" a "\$", which MathJax shows as a dollar sign
                if not silent:
                    push_text(state, "$")
                state.pos = pos + 3
                return True
            return False
        if nxt == "$" and opts.dollars == "mathjax" and opts.kramdown:
            if not silent and src.find("$", pos + 2, state.posMax) >= 0:
                note_difference(
                    state.env,
                    "escaped-dollar",
                    inline_body_line(state, pos),
                    "\\$ is a dollar sign here (on the Jekyll site kramdown dropped the "
                    "backslash, and MathJax could pair that $ with a later one as math)",
                )
            return False
        if nxt == "(" or nxt == "[":
            return opts.brackets and _plain_delimited(state, silent, pos, nxt == "[")
        if nxt == "b" and opts.environments:
            match = BEGIN_ENV.match(src, pos, state.posMax)
            return match is not None and environment_span(state, silent, pos, match, opts.kramdown)
        if (nxt == "e" or nxt == "r") and opts.refs:
            if last_position(state, "}") < pos:  # no "}" to end the reference: not one
                return False
            match = REF.match(src, pos, state.posMax)
            if match is None:
                return False
            if not silent:
                token = state.push("math_inline", "math", 0)
                token.content = match.group(0)
                token.markup = "ref"
                token.meta = {"display": False, "source": match.group(0)}
            state.pos = match.end()
            return True
        return False

    return math_inline
