"""Math for markdown-it: every delimiter a MathJax + Jekyll/kramdown author writes.

The rules here take math out of the Markdown stream before any other rule can see it, so
Markdown never touches TeX (``_``, ``*``, ``~~``, ``|``, ``<``, backslashes ...). Output:

* inline: ``<span class="math inline">\\(TEX\\)</span>``
* display: ``<div class="math display">\\[TEX\\]</div>`` as a block, or
  ``<span class="math display">\\[TEX\\]</span>`` inside running text (a ``<div>`` may not sit
  inside a ``<p>``; the browser would split the paragraph around it).

Delimiters (each can be switched off through ``math_plugin`` options):

* ``$$ TEX $$`` on lines of its own: display, also right after a line of text (kramdown made
  that inline math, which loses ``\\tag``/``\\eqref`` in MathJax 3). Inside a line: inline,
  kramdown's rule: the content runs to the next ``$$``, without regard to braces; except
  that one holding ``\\tag`` or ``\\label`` is display math, for the same MathJax 3 reason.
* ``$ TEX $``: inline, pandoc's rules (no space after the opener nor before the closer,
  closer not followed by a digit). ``\\$`` is a literal dollar (markdown-it's escape rule).
* ``\\\\( TEX \\\\)``, ``\\\\[ TEX \\\\]``: what kramdown authors write. kramdown resolved its
  backslash escapes there before MathJax saw the text (``\\_`` -> ``_``, ``\\\\`` -> ``\\``,
  ``\\{`` -> ``{`` ...; ``\\\\`` before a newline was a ``<br>``), so we resolve exactly the
  same set: the TeX MathJax gets is the TeX it got from Jekyll.
* ``\\( TEX \\)``, ``\\[ TEX \\]``: the closer is found the way MathJax finds it (backslash
  pairs skipped, braces balanced).
* ``\\begin{ENV} ... \\end{ENV}``: display. Verbatim, except that a ``\\\\`` that ends the last
  row is dropped: kramdown turned that one into a ``<br>``, so Jekyll's MathJax never saw it,
  and an empty last row adds nothing to the rendering.
* ``\\eqref{..}`` / ``\\ref{..}`` in running text: inline math holding just the reference, as
  MathJax's ``processRefs`` would have found it in Jekyll's page.

Posts of a Jekyll site (``MathOptions.kramdown``, see :mod:`sitegen.markdown.jekyll`) differ:
``\\(``/``\\[`` are escaped brackets (text), kramdown's escapes are resolved inside ``$ .. $``,
a ``$$`` block right after a line of text is inline unless numbered, and single dollars
follow ``MathOptions.dollars`` ("off", "pandoc", or MathJax's rule: :mod:`.dollars`).

Bad math (an opener without closer, unbalanced braces) is left in the text as written, with
a warning in ``env["diagnostics"]``; parsing goes on after it.

MathJax 3 configuration this output needs: ``tex.inlineMath = [["\\(", "\\)"]]``,
``tex.displayMath = [["\\[", "\\]"]]`` (never ``$``: a dollar left in prose is prose),
``tex.tags = "ams"``, ``tex.processEscapes = true`` (bad math shown as written may hold
``\\\\(``, which must not open math). ``processEnvironments``/``processRefs`` are not needed
(environments and refs arrive delimited) unless ``wrap_environments`` is off.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from sitegen.markdown.dollars import dollar_index, find_mathjax_dollar
from sitegen.markdown.jekyll import note_difference
from sitegen.markdown.lines import inline_body_line, line_tracking_plugin, report
from sitegen.markdown.scan import CloserIndex, build_closer_index, token_pattern

__all__ = [
    "MathOptions",
    "find_tex_end",
    "math_plugin",
    "resolve_kramdown_escapes",
]


@dataclass(frozen=True)
class MathOptions:
    """Which delimiters are recognised (all on by default, as SPEC §4.1 says)."""

    double_dollar: bool = True  # $$ .. $$
    dollar: bool = True  # $ .. $ (pandoc rules)
    escaped_brackets: bool = True  # \\( .. \\) and \\[ .. \\] (kramdown style)
    brackets: bool = True  # \( .. \) and \[ .. \]
    environments: bool = True  # \begin{env} .. \end{env}
    refs: bool = True  # \eqref{..} / \ref{..} in running text
    # Keep \[ \] around \begin{..}\end{..} in display markup; MathJax 3 typesets both ways
    # (checked in headless Chromium), and one markup for all display math is simpler to style.
    wrap_environments: bool = True
    # The site's dialect (sitegen.markdown.jekyll): single-dollar rule "off" | "pandoc" |
    # "mathjax"; kramdown: a Jekyll post (escapes resolved in $..$, "\[" a bracket, ...).
    dollars: str = "pandoc"
    kramdown: bool = False
    process_escapes: bool = True


# kramdown-parser-gfm's ESCAPED_CHARS_GFM plus its two line breaks: ``\\`` before a newline,
# and GFM's hard break, one ``\`` left before a newline (so ``\\\`` is ``\`` and a <br>).
# A <br> is whitespace to MathJax. The line breaks are tried first, as in kramdown.
_KRAMDOWN_ESCAPE = re.compile(r"\\\\?(?=\n)|\\([\\.*_+`<>()\[\]{}#!:|\"'$=\-~])")

# Tokens MathJax's findEnd looks at: a backslash pair (skipped as a unit) or a brace.
_PAIR_OR_BRACE = r"\\.|[{}]"
_PAIR = re.compile(r"\\.", re.S)
_BRACE = re.compile(r"[{}]")
# The same, for CloserIndex (sitegen.markdown.scan): the closer \) or \], or a brace.
_PAREN_TOKENS = token_pattern(r"\\\)", r"\\[^)]")
_BRACKET_TOKENS = token_pattern(r"\\\]", r"\\[^\]]")
# Braces nested at most two deep and balanced (valid only when no brace is escaped): one
# C-level match decides the common case before the general count below.
_SHALLOW_BALANCED = re.compile(r"[^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*")

_BEGIN = re.compile(r"\\begin\s*\{([A-Za-z]+\*?)\}")
_REF = re.compile(r"\\(?:eq)?ref\s*\{[^}]*\}")


@functools.lru_cache(maxsize=64)
def _env_end_pattern(env: str, space: str = r"\s") -> re.Pattern[str]:
    # A cache of compiled patterns, not state: the result depends only on the arguments.
    end = r"\\end" + space + r"*\{" + re.escape(env) + r"\}"
    return token_pattern(end, r"\\(?!" + end[2:] + r")[\s\S]")


def resolve_kramdown_escapes(
    raw: str, keep_line_breaks: bool = False, hard_breaks: bool = True
) -> tuple[str, list[tuple[int, int]]]:
    """Resolve backslash escapes the way kramdown's GFM parser did.

    Returns the resolved text and, for mapping positions back, a list of
    ``(resolved_index, chars_removed_so_far)`` after each substitution.
    ``keep_line_breaks``: a ``\\\\`` that kramdown made a ``<br>`` stays ``\\\\`` (a row
    break of a bare environment; see :func:`_kramdown_environment`), unless the line already
    ends in a row break (as after ``\\\\\\\\ \\\\\\\\``, which kramdown made ``\\\\ \\`` + <br>).
    ``hard_breaks=False``: GFM's hard break does not apply (inside HTML whose content
    kramdown parsed).
    """
    if "\\" not in raw:
        return raw, []
    parts: list[str] = []
    shifts: list[tuple[int, int]] = []
    last = 0
    removed = 0
    for m in _KRAMDOWN_ESCAPE.finditer(raw):
        parts.append(raw[last : m.start()])
        char = m.group(1)
        if char is None and len(m.group(0)) == 1 and not hard_breaks:
            parts.append(m.group(0))
        elif char is None and keep_line_breaks and not _ends_in_row_break(parts):
            parts.append(m.group(0))
        elif char is None:  # line break: the backslashes go, the newline stays
            removed += len(m.group(0))
        else:
            parts.append(char)
            removed += 1
        last = m.end()
        shifts.append((m.end() - removed, removed))
    parts.append(raw[last:])
    return "".join(parts), shifts


# A row break already ends the line (a lone "\" after it is a control space).
_ENDS_IN_ROW_BREAK = re.compile(r"(?<!\\)(?:\\\\)+\s*\\?$")


def _ends_in_row_break(parts: list[str]) -> bool:
    line = "".join(parts[-12:]).rsplit("\n", 1)[-1]  # escapes are a part each: 12 suffice
    return _ENDS_IN_ROW_BREAK.search(line) is not None


def _raw_index(resolved_index: int, shifts: Sequence[tuple[int, int]]) -> int:
    # shifts are sorted by resolved index: a bisection, so mapping stays O(log n) per call
    at = bisect.bisect_right(shifts, (resolved_index, float("inf")))
    return resolved_index + (shifts[at - 1][1] if at else 0)


def find_tex_end(
    text: str,
    pos: int,
    pattern: re.Pattern[str],
    closer: str,
    end: int | None = None,
    depth: int = 0,
) -> tuple[int, int, int]:
    """Find a closing delimiter the way MathJax's FindTeX does (one walk from ``pos``; the
    rules use :class:`~sitegen.markdown.scan.CloserIndex`, which answers every start at once).

    ``pattern`` matches the closer (in group 1), a backslash pair or a brace; ``closer`` is
    the closer's text, or "" for an environment (whose ``\\end{..}`` is the only token of more
    than two characters). Returns ``(start, stop, depth)`` of the closer at brace depth 0, or
    ``(-1, -1, depth)`` with the depth reached at ``end``, so a scan can go on next line.
    """
    stop = len(text) if end is None else end
    for m in pattern.finditer(text, pos, stop):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            if depth:
                depth -= 1
        elif depth == 0 and (tok == closer or len(tok) > 2):
            return m.start(), m.end(), 0
    return -1, -1, depth


def braces_balanced(tex: str) -> bool:
    """True when every ``{`` has its ``}`` (escaped braces and backslash pairs skipped)."""
    if "{" not in tex and "}" not in tex:
        return True
    if "\\{" not in tex and "\\}" not in tex and _SHALLOW_BALANCED.fullmatch(tex):
        # No brace follows a backslash, so no brace is escaped and the regex sees them all.
        return True
    # Drop backslash pairs, then count the braces that are left: one pass, however deep.
    text = _PAIR.sub("", tex) if "\\" in tex else tex
    depth = 0
    for brace in _BRACE.findall(text):
        depth += 1 if brace == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def _drop_final_row_break(tex: str) -> str:
    """Remove a ``\\\\`` that ends the last row of an environment (see module doc)."""
    cut = tex.rfind("\\end")
    if cut <= 0:
        return tex
    body = tex[:cut].rstrip()
    if body.endswith("\\\\") and not body.endswith("\\\\\\"):
        return body[:-2].rstrip() + "\n" + tex[cut:]
    return tex


# -- inline rule ---------------------------------------------------------------------------


def _warn(state: StateInline, pos: int, message: str) -> None:
    report(state.env, inline_body_line(state, pos), "warning", message)


def _push_text(state: StateInline, text: str) -> None:
    # "text_special": shown as written; smart quotes and dash replacements skip it
    # (markdown-it's text_join core rule turns it into plain text afterwards).
    token = state.push("text_special", "", 0)
    token.content = text


def _accept(
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
            _warn(state, start, f"unbalanced braces in math {markup}…; shown as text")
            _push_text(state, state.src[start:stop])
    state.pos = stop
    return True


def _unclosed(state: StateInline, silent: bool, pos: int, opener: str) -> bool:
    """An opener without closer: keep it as written and go on right after it."""
    if not silent:
        _warn(state, pos, f"math opened with {opener} is never closed; shown as text")
        _push_text(state, opener)
    state.pos = pos + len(opener)
    return True


def _memo(state: StateInline, key: tuple, build):
    """A value computed once per inline source (``build()``), kept in ``state.cache``.

    markdown-it keeps that dict for one source's parse (integer keys, its own); tuple keys
    cannot clash with them, and the values die with the parse.
    """
    cache = state.cache
    value = cache.get(key)  # type: ignore[call-overload]
    if value is None:
        value = cache[key] = build()  # type: ignore[index]
    return value


def _last(state: StateInline, text: str) -> int:
    """Last position of ``text`` in the source: an opener after it has no closer, which is
    then known at once instead of by a search to the end for every such opener."""
    return _memo(state, ("last", text), lambda: state.src.rfind(text))


def _find_after(state: StateInline, text: str, start: int) -> int:
    """``src.find(text, start, posMax)``, without the search when it cannot succeed."""
    if _last(state, text) < start:
        return -1
    return state.src.find(text, start, state.posMax)


def _double_dollar(state: StateInline, silent: bool, pos: int) -> bool:
    src = state.src
    end = _find_after(state, "$$", pos + 2)
    if end < 0:
        return _unclosed(state, silent, pos, "$$")
    tex = src[pos + 2 : end].strip()
    if not tex:  # "$$$$" is no math at all
        if not silent:
            _push_text(state, "$$$$")
        state.pos = end + 2
        return True
    # MathJax 3 ignores \tag and \label in inline math, so every \eqref to such an equation
    # would show "(???)": a numbered $$ equation inside a line is display math here.
    numbered = "\\tag" in tex or "\\label" in tex
    return _accept(state, silent, pos, end + 2, tex, "$$", numbered)


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
        tex = resolve_kramdown_escapes(tex)[0]
        _note_typography(state, silent, pos, tex)
    return _accept(state, silent, pos, end + 1, tex, "$", False)


def _mathjax_dollar(state: StateInline, silent: bool, pos: int, kramdown: bool) -> bool:
    index = _memo(state, ("mathjax $", kramdown), lambda: dollar_index(state.src, kramdown))
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
    if kramdown:
        _note_typography(state, silent, pos, found.tex)
    return _accept(state, silent, pos, found.stop, found.tex, "$", False)


# kramdown's typographic replacements, which it made in $..$ text before MathJax saw it.
_TYPOGRAPHY = re.compile(r"\.\.\.|--|<<|>>|['\"]")


def _note_typography(state: StateInline, silent: bool, pos: int, tex: str) -> None:
    if silent or _TYPOGRAPHY.search(tex) is None:
        return
    note_difference(
        state.env,
        "typography",
        inline_body_line(state, pos),
        "math keeps ' \" ... -- << >> as written (kramdown made them ’ ” … – « » before "
        "MathJax saw them on the Jekyll site)",
    )


def _unbalanced(state: StateInline, silent: bool, pos: int, stop: int) -> bool:
    """A closer exists but braces keep it from closing: show it all as written."""
    if not silent:
        _warn(state, pos, "unbalanced braces in math; shown as text")
        _push_text(state, state.src[pos:stop])
    state.pos = stop
    return True


def _closers(state: StateInline, display: bool) -> CloserIndex:
    pattern = _BRACKET_TOKENS if display else _PAREN_TOKENS
    return _memo(state, ("closers", display), lambda: build_closer_index(state.src, pattern))


def _resolved_closers(state: StateInline, display: bool) -> tuple[str, list, list, CloserIndex]:
    """The whole source with kramdown's escapes resolved, the shifts that map positions
    back, each shift's raw end (to map forward), and the closer index of the resolved text.

    Resolving once for the whole source equals resolving from any opener on: an escape
    never straddles the ``(`` / ``[`` that ends an opener.
    """

    def build() -> tuple[str, list, list, CloserIndex]:
        resolved, shifts = resolve_kramdown_escapes(state.src)
        raw_ends = [at + total for at, total in shifts]
        pattern = _BRACKET_TOKENS if display else _PAREN_TOKENS
        return resolved, shifts, raw_ends, build_closer_index(resolved, pattern)

    return _memo(state, ("kramdown", display), build)


def _resolved_index(raw_index: int, shifts: list, raw_ends: list) -> int:
    at = bisect.bisect_right(raw_ends, raw_index)
    return raw_index - (shifts[at - 1][1] if at else 0)


def _escaped_delimited(state: StateInline, silent: bool, pos: int, display: bool) -> bool:
    """``\\( .. \\)`` / ``\\[ .. \\]`` with kramdown's escape resolution."""
    src = state.src
    opener = src[pos : pos + 3]
    raw_closer = "\\\\]" if display else "\\\\)"
    start = pos + 3
    first = _find_after(state, raw_closer, start)
    if first < 0:
        return _unclosed(state, silent, pos, opener)
    resolved, shifts, raw_ends, index = _resolved_closers(state, display)
    begin = _resolved_index(start, shifts, raw_ends)
    limit = _resolved_index(state.posMax, shifts, raw_ends)
    found, found_end, balanced = index.find(begin, limit)
    if found < 0:
        return _unbalanced(state, silent, pos, first + 3)
    # Mapped back through the shifts: when the closer's last character came out of an
    # escape ("\\]"), this ends math inside it.
    stop = _raw_index(found_end - 1, shifts) + 1
    tex = resolved[begin:found].strip()
    return _accept(state, silent, pos, stop, tex, opener, display, balanced)


def _plain_delimited(state: StateInline, silent: bool, pos: int, display: bool) -> bool:
    """``\\( .. \\)`` / ``\\[ .. \\]``, verbatim."""
    src = state.src
    closer = "\\]" if display else "\\)"
    found, found_end, balanced = _closers(state, display).find(pos + 2, state.posMax)
    if found < 0:
        plain = _find_after(state, closer, pos + 2)
        if plain >= 0:
            return _unbalanced(state, silent, pos, plain + 2)
        return _unclosed(state, silent, pos, src[pos : pos + 2])
    tex = src[pos + 2 : found].strip()
    return _accept(state, silent, pos, found_end, tex, src[pos : pos + 2], display, balanced)


# A line of a bare environment that ends in a line break for kramdown (any backslash before
# the newline: see _KRAMDOWN_ESCAPE), followed by more rows before the \end.
_BROKEN_ROW = re.compile(r"\\\n(?![ \t]*(?:\\end\b|$))")


# The same at the last row: kramdown's <br> there is dropped (see _drop_final_row_break).
_FINAL_LINE_BREAK = re.compile(r"\\\n\s*$")


def _kramdown_environment(
    state: StateInline | StateBlock, silent: bool, line: int, raw: str, tex: str
) -> str:
    """The TeX of a bare environment of a Jekyll post (``raw``: its source up to
    ``\\end``; ``tex``: with kramdown's escapes resolved, row breaks kept).

    A ``\\\\`` ending the last row goes only where kramdown made it a ``<br>``: one that came
    out of ``\\\\\\`` reached MathJax on the Jekyll site. A row break kramdown made a
    ``<br>`` before further rows stays, with a warning (Jekyll's MathJax ran the rows
    together)."""
    if _FINAL_LINE_BREAK.search(raw):
        tex = _drop_final_row_break(tex)
    if not silent and _BROKEN_ROW.search(raw):
        note_difference(
            state.env,
            "environment-row-break",
            line,
            "a \\\\ at the end of a line inside \\begin{…} is a row break here (kramdown made "
            "it a line break, so on the Jekyll site MathJax ran the rows together)",
        )
    return tex


def _environment(
    state: StateInline, silent: bool, pos: int, match: re.Match[str], kramdown: bool
) -> bool:
    name = match.group(1)
    end_tag = "\\end{" + name + "}"
    if kramdown:
        # Plain text for kramdown: its escapes were resolved before MathJax read it. Only
        # the text up to the first \end{name} is resolved, so the work stays the env's own.
        end = _find_after(state, end_tag, match.end())
        if end >= 0:
            raw = state.src[match.end() : end + len(end_tag)]
            text, shifts = resolve_kramdown_escapes(raw, keep_line_breaks=True)
            found, found_end, _ = find_tex_end(text, 0, _env_end_pattern(name), "")
            if found >= 0:
                stop = match.end() + _raw_index(found_end - 1, shifts) + 1
                raw_env = raw[: _raw_index(found, shifts)]
                line = inline_body_line(state, pos)
                tex = match.group(0) + text[:found_end]
                tex = _kramdown_environment(state, silent, line, raw_env, tex)
                return _accept(state, silent, pos, stop, tex, "\\begin", True)
            return _unbalanced(state, silent, pos, end + len(end_tag))
        return _unclosed(state, silent, pos, match.group(0))
    index = _memo(
        state, ("env", name), lambda: build_closer_index(state.src, _env_end_pattern(name))
    )
    found, found_end, _ = index.find(match.end(), state.posMax)
    if found < 0:
        end = _find_after(state, end_tag, match.end())
        if end >= 0:
            return _unbalanced(state, silent, pos, end + len(end_tag))
        return _unclosed(state, silent, pos, match.group(0))
    tex = _drop_final_row_break(state.src[pos:found_end])
    return _accept(state, silent, pos, found_end, tex, "\\begin", True)


def _make_inline_rule(opts: MathOptions):
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
                    _push_text(state, "$")
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
            match = _BEGIN.match(src, pos, state.posMax)
            return match is not None and _environment(state, silent, pos, match, opts.kramdown)
        if (nxt == "e" or nxt == "r") and opts.refs:
            if _last(state, "}") < pos:  # no "}" to end the reference: not one
                return False
            match = _REF.match(src, pos, state.posMax)
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


# -- block rule ----------------------------------------------------------------------------


def _line_text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


# Private env key: what the block rule learnt about the source it is parsing (see _memo_of).
_BLOCK_MEMO_KEY = "_sg_math_blocks"


def _memo_of(state: StateBlock, key: tuple) -> dict:
    """A dict for facts about the current source's lines, shared by the block rule's calls.

    The block rule is asked about every line of a paragraph (may this line end it?), and
    each answer would otherwise walk the lines above or below it again. Lines read
    differently inside a container (a blockquote strips its ``>``), so ``key`` carries the
    container's nesting level and indent; the memo is dropped when the source changes.
    """
    memo = state.env.get(_BLOCK_MEMO_KEY)
    if memo is None or memo.get("src") is not state.src:
        memo = state.env[_BLOCK_MEMO_KEY] = {"src": state.src}
    full = (*key, state.level, state.blkIndent)
    found = memo.get(full)
    if found is None:
        found = memo[full] = {}
    return found


def _inside_open_dollars(state: StateBlock, line: int) -> bool:
    """True if the paragraph above ``line`` has an odd number of ``$$`` (an open inline
    math span that this line continues or closes, so it must not start a block)."""
    above = _memo_of(state, ("$$ above",))  # line -> "$$" on the lines of its paragraph above
    todo = []
    at = line
    while at not in above:
        if at == 0 or state.isEmpty(at - 1):
            above[at] = 0
            break
        todo.append(at)
        at -= 1
    for at in reversed(todo):
        above[at] = above[at - 1] + _line_text(state, at - 1).count("$$")
    return above[line] % 2 == 1


@dataclass(frozen=True)
class _BlockLines:
    """Lines ``first`` .. ``end - 1`` joined with newlines (escapes resolved for ``\\[``),
    and the closer index of that text: one walk answers the scan from every line."""

    first: int
    text: str
    starts: list[int]  # where each line begins in text
    index: CloserIndex | None  # None for "$$", whose closer needs no brace walk


def _block_lines(
    state: StateBlock, first: int, end: int, kind: str, env: str, kramdown: bool = False
) -> _BlockLines:
    memo = _memo_of(state, ("lines", kind, env, end, kramdown))
    known = memo.get("lines")
    if known is not None and known.first <= first:
        return known
    starts: list[int] = []
    pieces: list[str] = []
    at = 0
    for line in range(first, end):
        text = _line_text(state, line)
        if kind == "\\\\[":  # resolve kramdown's escapes; the "\n" lets a trailing \\ be a <br>
            text = resolve_kramdown_escapes(text + "\n")[0]
        elif kramdown:  # a bare environment is text for kramdown: escapes resolved
            text = resolve_kramdown_escapes(text + "\n", keep_line_breaks=True)[0][:-1]
        starts.append(at)
        pieces.append(text)
        at += len(text) + 1
    joined = "\n".join(pieces)
    index = None
    if kind == "env":
        # Within one line, as before the lines were joined: "\end" and "{ENV}" on two
        # lines close nothing.
        index = build_closer_index(joined, _env_end_pattern(env, r"[^\S\n]"))
    elif kind != "$$":
        index = build_closer_index(joined, _BRACKET_TOKENS)
    known = memo["lines"] = _BlockLines(first, joined, starts, index)
    return known


def _follows_paragraph(state: StateBlock, line: int) -> bool:
    """True if the block at ``line`` ended the paragraph just before it."""
    tokens = state.tokens
    return (
        len(tokens) >= 3
        and tokens[-1].type == "paragraph_close"
        and tokens[-3].map is not None
        and tokens[-3].map[1] == line
    )


def _before_block_boundary(state: StateBlock, line: int, end_line: int) -> bool:
    """kramdown's test after a math block: a blank line, the end, an ``{: …}`` attribute
    list or an end-of-block ``^`` follows."""
    if line >= end_line or state.isEmpty(line):
        return True
    text = _line_text(state, line)
    return text.startswith("{:") or text.rstrip() == "^"


def _scan_block(
    state: StateBlock,
    first: int,
    end_line: int,
    start_col: int,
    kind: str,
    env: str,
    kramdown: bool = False,
) -> tuple[str, int] | None:
    """Find the closer of a display block opened on line ``first``.

    Returns (TeX, closing line) or None when there is no closer, or when the closer is
    followed by more text on its line (then it is inline math in a paragraph).
    """
    lines = _block_lines(state, first, end_line, kind, env, kramdown)
    text = lines.text
    line_start = lines.starts[first - lines.first]
    if kind == "\\\\[":  # the opener's "\\[" is "\[" once resolved
        start_col = len(resolve_kramdown_escapes(_line_text(state, first)[:start_col])[0])
    begin = line_start + start_col
    if lines.index is None:
        found = text.find("$$", begin) if text.rfind("$$") >= begin else -1
        stop = found + 2
    else:
        found, stop, _ = lines.index.find(begin, len(text))
    if found < 0:
        return None
    last = first + bisect.bisect_right(lines.starts, found) - 1 - (first - lines.first)
    line_end = text.find("\n", stop)
    if text[stop : len(text) if line_end < 0 else line_end].strip():
        return None
    if kind == "env":
        tex = text[line_start:stop]
        return (tex if kramdown else _drop_final_row_break(tex)), last
    return text[begin:found].strip(), last


def _make_block_rule(opts: MathOptions):
    def math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if state.sCount[start_line] - state.blkIndent >= 4:
            return False
        pos = state.bMarks[start_line] + state.tShift[start_line]
        maximum = state.eMarks[start_line]
        if pos + 2 > maximum:
            return False
        src = state.src
        ch = src[pos]
        env = ""
        if ch == "$":
            if src[pos + 1] != "$" or not opts.double_dollar:
                return False
            kind, start_col = "$$", 2
        elif ch == "\\":
            nxt = src[pos + 1]
            if nxt == "[" and opts.brackets:
                kind, start_col = "\\[", 2
            elif nxt == "\\" and opts.escaped_brackets and src.startswith("\\\\[", pos):
                kind, start_col = "\\\\[", 3
            elif nxt == "b" and opts.environments:
                match = _BEGIN.match(src, pos, maximum)
                if match is None:
                    return False
                kind, start_col, env = "env", 0, match.group(1)
            else:
                return False
        else:
            return False
        # Silent calls ask "does this line end the paragraph above?" (state.parentType is
        # unreliable: markdown-it's lheading rule leaves it at "paragraph").
        if silent and _inside_open_dollars(state, start_line):
            return False
        found = _scan_block(
            state, start_line, end_line, start_col, kind, env, opts.kramdown and kind == "env"
        )
        if found is None:
            return False
        tex, last = found
        if not tex:
            return False
        if not braces_balanced(tex):
            return False  # a paragraph then: its inline rule warns and shows the text
        if opts.kramdown and kind == "$$":
            # kramdown: a $$ block right after a line of text is inline math in that
            # paragraph. Only a numbered one stays display (MathJax 3 drops inline \tag).
            numbered = "\\tag" in tex or "\\label" in tex
            if silent and not numbered:
                return False
            if not _before_block_boundary(state, last + 1, end_line):
                # kramdown: nor is one with a line of text right after it.
                if not numbered:
                    return False
                if not silent:
                    note_difference(
                        state.env,
                        "display-before-text",
                        start_line,
                        "$$ … $$ with a line of text right after it is display math here, so "
                        "its \\tag/\\label work (kramdown made it inline math in the paragraph)",
                    )
            if not silent and numbered and _follows_paragraph(state, start_line):
                note_difference(
                    state.env,
                    "display-after-text",
                    start_line,
                    "$$ … $$ right after a line of text is display math here, so its \\tag/"
                    "\\label work (kramdown made it inline math in the paragraph)",
                )
        if silent:
            return True
        source = state.getLines(start_line, last + 1, state.blkIndent, False)
        if opts.kramdown and kind == "env":
            raw_env = source[: source.rfind("\\end")]
            tex = _kramdown_environment(state, silent, start_line, raw_env, tex)
        token = state.push("math_block", "div", 0)
        token.block = True
        token.content = tex
        token.markup = kind
        token.info = env
        token.map = [start_line, last + 1]
        token.meta["source"] = source
        state.line = last + 1
        return True

    return math_block


# -- rendering -----------------------------------------------------------------------------


def _render_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    token = tokens[idx]
    if env.get("mathjax") is False:  # no script will typeset it: show it as written
        return escapeHtml(token.meta.get("source", token.content))
    env["has_math"] = True
    tex = escapeHtml(token.content)
    if token.meta.get("display"):
        return f'<span class="math display">\\[{tex}\\]</span>'
    return f'<span class="math inline">\\({tex}\\)</span>'


def _make_block_renderer(opts: MathOptions):
    def render_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
        token = tokens[idx]
        if env.get("mathjax") is False:  # no script will typeset it: show it as written
            return f"<p>{escapeHtml(token.meta.get('source', token.content).strip())}</p>\n"
        env["has_math"] = True
        tex = escapeHtml(token.content)
        if token.markup == "env" and not opts.wrap_environments:
            return f'<div class="math display">{tex}</div>\n'
        return f'<div class="math display">\\[{tex}\\]</div>\n'

    return render_block


def math_plugin(md: MarkdownIt, **options: bool) -> None:
    """Add math rules to ``md``; ``options`` are the fields of :class:`MathOptions`."""
    known = set(MathOptions.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:  # options come from sitegen.toml: name the mistake instead of a TypeError
        raise ValueError(
            f"unknown math option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    opts = MathOptions(
        **{k: v if k == "dollars" else bool(v) for k, v in options.items()}
    )
    line_tracking_plugin(md)
    # Before "escape" (which would eat "\\" and "\(") and "backticks"/"emphasis".
    md.inline.ruler.before("escape", "math_inline", _make_inline_rule(opts))
    md.block.ruler.before(
        "fence",
        "math_block",
        _make_block_rule(opts),
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.add_render_rule("math_inline", _render_inline)
    md.add_render_rule("math_block", _make_block_renderer(opts))
