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

from sitegen.markdown.dollars import find_mathjax_dollar
from sitegen.markdown.jekyll import note_difference
from sitegen.markdown.lines import inline_body_line, line_tracking_plugin, report

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


# kramdown-parser-gfm's ESCAPED_CHARS_GFM plus its LINE_BREAK rule (``\\`` before a newline
# is a <br>, which MathJax reads as whitespace). The line break is tried first, as in kramdown.
_KRAMDOWN_ESCAPE = re.compile(r"\\\\(?=\n)|\\([\\.*_+`<>()\[\]{}#!:|\"'$=\-~])")

# Tokens MathJax's findEnd looks at: a backslash pair (skipped as a unit) or a brace.
_PAIR_OR_BRACE = r"\\.|[{}]"
_CLOSE_BRACKET = re.compile(r"\\\]|" + _PAIR_OR_BRACE, re.S)
_PAIR = re.compile(r"\\.", re.S)
_INNERMOST_GROUP = re.compile(r"\{[^{}]*\}")

# Everything up to the next brace or closer, backslash pairs included, in one regex step:
# the scan loop below then turns once per brace instead of once per TeX command.
_SKIP_TO_PAREN = re.compile(r"(?:[^\\{}]+|\\[^)])*", re.S)
_SKIP_TO_BRACKET = re.compile(r"(?:[^\\{}]+|\\[^\]])*", re.S)
# Braces nested at most two deep and balanced (valid only when no brace is escaped): one
# C-level match decides the common case before the general peeling below.
_SHALLOW_BALANCED = re.compile(r"[^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*")

_BEGIN = re.compile(r"\\begin\s*\{([A-Za-z]+\*?)\}")
_REF = re.compile(r"\\(?:eq)?ref\s*\{[^}]*\}")


@functools.lru_cache(maxsize=64)
def _env_end_pattern(env: str) -> re.Pattern[str]:
    # A cache of compiled patterns, not state: the result depends only on ``env``.
    return re.compile(r"\\end\s*\{" + re.escape(env) + r"\}|" + _PAIR_OR_BRACE, re.S)


def resolve_kramdown_escapes(raw: str) -> tuple[str, list[tuple[int, int]]]:
    """Resolve backslash escapes the way kramdown's GFM parser did.

    Returns the resolved text and, for mapping positions back, a list of
    ``(resolved_index, chars_removed_so_far)`` after each substitution.
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
        if char is None:  # line break: both backslashes go, the newline stays
            removed += 2
        else:
            parts.append(char)
            removed += 1
        last = m.end()
        shifts.append((m.end() - removed, removed))
    parts.append(raw[last:])
    return "".join(parts), shifts


def _raw_index(resolved_index: int, shifts: Sequence[tuple[int, int]]) -> int:
    removed = 0
    for at, total in shifts:
        if at > resolved_index:
            break
        removed = total
    return resolved_index + removed


def find_tex_end(
    text: str,
    pos: int,
    pattern: re.Pattern[str],
    closer: str,
    end: int | None = None,
    depth: int = 0,
) -> tuple[int, int, int]:
    """Find a closing delimiter the way MathJax's FindTeX does.

    ``pattern`` matches the closer, a backslash pair or a brace (closer first); ``closer`` is
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
    # Regex passes instead of a Python loop over braces: drop backslash pairs, then peel
    # innermost {...} groups until none is left (one pass per nesting level).
    text = _PAIR.sub("", tex) if "\\" in tex else tex
    removed = 1
    while removed:
        text, removed = _INNERMOST_GROUP.subn("", text)
    return "{" not in text and "}" not in text


def _find_closer(text: str, pos: int, stop: int, skip: re.Pattern[str]) -> tuple[int, int, bool]:
    """:func:`find_tex_end` for the closers ``\\)`` / ``\\]`` (``skip`` picks which), plus
    whether the braces before the closer balance.

    Returns ``(start, stop, balanced)``, or ``(-1, -1, False)``. A ``}`` at depth 0 is
    skipped, as MathJax does, but makes the TeX unbalanced; any other imbalance would have
    kept the closer from depth 0. So ``balanced`` equals :func:`braces_balanced` of the TeX
    before the closer (same backslash pairs; surrounding whitespace holds no braces).
    """
    depth = 0
    balanced = True
    i = pos
    while True:
        i = skip.match(text, i, stop).end()
        if i >= stop:
            return -1, -1, False
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth:
                depth -= 1
            else:
                balanced = False
        elif i + 1 >= stop:  # a lone backslash at the very end: no closer
            return -1, -1, False
        elif depth == 0:  # "\\" followed by the closing ")" or "]"
            return i, i + 2, balanced
        else:  # the closer inside braces is just a backslash pair
            i += 1
        i += 1


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


def _double_dollar(state: StateInline, silent: bool, pos: int) -> bool:
    src = state.src
    end = src.find("$$", pos + 2, state.posMax)
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


def _single_dollar(state: StateInline, silent: bool, pos: int, opts: MathOptions) -> bool:
    if opts.dollars == "mathjax":
        return _mathjax_dollar(state, silent, pos, opts.kramdown)
    src = state.src
    maximum = state.posMax
    if pos + 1 >= maximum or src[pos + 1].isspace():
        return False
    search = pos + 1
    while True:
        end = src.find("$", search, maximum)
        if end < 0:
            return False  # a lone dollar is prose ("costs $5"): no warning
        before = src[end - 1]
        after = src[end + 1] if end + 1 < maximum else ""
        if before == "\\" or before.isspace() or after.isdigit() or end == pos + 1:
            search = end + 1
            continue
        tex = src[pos + 1 : end]
        if opts.kramdown:  # kramdown resolved its escapes in this text before MathJax saw it
            tex = resolve_kramdown_escapes(tex)[0]
            _note_typography(state, silent, pos, tex)
        return _accept(state, silent, pos, end + 1, tex, "$", False)


def _mathjax_dollar(state: StateInline, silent: bool, pos: int, kramdown: bool) -> bool:
    found = find_mathjax_dollar(state.src, pos, state.posMax, kramdown)
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


def _escaped_delimited(state: StateInline, silent: bool, pos: int, display: bool) -> bool:
    """``\\\\( .. \\\\)`` / ``\\\\[ .. \\\\]`` with kramdown's escape resolution."""
    src = state.src
    opener = src[pos : pos + 3]
    raw_closer = "\\\\]" if display else "\\\\)"
    close = raw_closer[1:]
    skip = _SKIP_TO_BRACKET if display else _SKIP_TO_PAREN
    start = pos + 3
    search = start
    first = -1
    while True:
        cand = src.find(raw_closer, search, state.posMax)
        if cand < 0:
            if first >= 0:
                return _unbalanced(state, silent, pos, first + 3)
            return _unclosed(state, silent, pos, opener)
        if first < 0:
            first = cand
        body = src[start:cand]
        if body[-1:] != "\\" and _KRAMDOWN_ESCAPE.search(body) is None:
            # Nothing to resolve before the closer (whose "\\\\" becomes "\\"), so resolved
            # and raw positions agree up to it: no shift bookkeeping needed.
            resolved = body + close
            found, found_end, balanced = _find_closer(resolved, 0, len(resolved), skip)
            if found >= 0:
                stop = cand + 3 if found_end == len(resolved) else start + found_end
                tex = resolved[:found].strip()
                return _accept(state, silent, pos, stop, tex, opener, display, balanced)
        else:
            resolved, shifts = resolve_kramdown_escapes(src[start : cand + 3])
            found, found_end, balanced = _find_closer(resolved, 0, len(resolved), skip)
            if found >= 0:
                # Mapped back through the shifts, as before: when the closer's last
                # character came out of an escape ("\\]"), this ends math inside it.
                stop = start + _raw_index(found_end - 1, shifts) + 1
                tex = resolved[:found].strip()
                return _accept(state, silent, pos, stop, tex, opener, display, balanced)
        search = cand + 1


def _plain_delimited(state: StateInline, silent: bool, pos: int, display: bool) -> bool:
    """``\\( .. \\)`` / ``\\[ .. \\]``, verbatim."""
    src = state.src
    skip = _SKIP_TO_BRACKET if display else _SKIP_TO_PAREN
    closer = "\\]" if display else "\\)"
    found, found_end, balanced = _find_closer(src, pos + 2, state.posMax, skip)
    if found < 0:
        plain = src.find(closer, pos + 2, state.posMax)
        if plain >= 0:
            return _unbalanced(state, silent, pos, plain + 2)
        return _unclosed(state, silent, pos, src[pos : pos + 2])
    tex = src[pos + 2 : found].strip()
    return _accept(state, silent, pos, found_end, tex, src[pos : pos + 2], display, balanced)


def _environment(state: StateInline, silent: bool, pos: int, match: re.Match[str]) -> bool:
    pattern = _env_end_pattern(match.group(1))
    found, found_end, _ = find_tex_end(state.src, match.end(), pattern, "", state.posMax)
    if found < 0:
        end_tag = "\\end{" + match.group(1) + "}"
        end = state.src.find(end_tag, match.end(), state.posMax)
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
            return match is not None and _environment(state, silent, pos, match)
        if (nxt == "e" or nxt == "r") and opts.refs:
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


def _inside_open_dollars(state: StateBlock, line: int) -> bool:
    """True if the paragraph above ``line`` has an odd number of ``$$`` (an open inline
    math span that this line continues or closes, so it must not start a block)."""
    count = 0
    prev = line - 1
    while prev >= 0 and not state.isEmpty(prev):
        count += _line_text(state, prev).count("$$")
        prev -= 1
    return count % 2 == 1


def _follows_paragraph(state: StateBlock, line: int) -> bool:
    """True if the block at ``line`` ended the paragraph just before it."""
    tokens = state.tokens
    return (
        len(tokens) >= 3
        and tokens[-1].type == "paragraph_close"
        and tokens[-3].map is not None
        and tokens[-3].map[1] == line
    )


def _scan_block(
    state: StateBlock, first: int, end_line: int, start_col: int, kind: str, env: str
) -> tuple[str, int] | None:
    """Find the closer of a display block opened on line ``first``.

    Returns (TeX, closing line) or None when there is no closer, or when the closer is
    followed by more text on its line (then it is inline math in a paragraph).
    """
    pieces: list[str] = []
    depth = 0
    pattern = _CLOSE_BRACKET
    closer = "\\]"
    if kind == "env":
        pattern, closer = _env_end_pattern(env), ""
    for line in range(first, end_line):
        text = _line_text(state, line)
        col = start_col if line == first else 0
        if kind == "$$":
            found = text.find("$$", col)
            stop = found + 2
        else:
            if kind == "\\\\[":
                # Resolve kramdown's escapes first; the "\n" lets a trailing \\ be a <br>.
                text, _ = resolve_kramdown_escapes(text[col:] + "\n")
                col = 0
            found, stop, depth = find_tex_end(text, col, pattern, closer, depth=depth)
        if found < 0:
            pieces.append(text[col:])
            continue
        if text[stop:].strip():
            return None
        if kind == "env":
            pieces.append(text[col:stop])
            return _drop_final_row_break("\n".join(pieces)), line
        pieces.append(text[col:found])
        return "\n".join(pieces).strip(), line
    return None


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
        found = _scan_block(state, start_line, end_line, start_col, kind, env)
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
        token = state.push("math_block", "div", 0)
        token.block = True
        token.content = tex
        token.markup = kind
        token.info = env
        token.map = [start_line, last + 1]
        token.meta["source"] = state.getLines(start_line, last + 1, state.blkIndent, False)
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
