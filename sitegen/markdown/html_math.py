"""Dollar math inside a Jekyll post's raw HTML blocks (``<figure>…<figcaption>… $p_1$ …``).

kramdown passes an HTML block through untouched, and the Jekyll site's MathJax then found
``$$ … $$`` (a MathJax 2 default) and, where the site enabled them, ``$ … $`` in its text.
sitegen's MathJax reads only ``\\( \\)`` and ``\\[ \\]`` (a dollar in prose stays prose), so
this core rule marks that math up in the block's text, the way MathJax would have found it:
in the text between two tags (MathJax never matches across an element), not inside
``<script>``, ``<style>``, ``<pre>``, ``<code>``, ``<textarea>`` or comments, a closer
found at brace depth 0 with backslash pairs skipped. ``\\( \\)`` and ``\\[ \\]`` in the
block need nothing: sitegen's MathJax reads them as the Jekyll site's did. After a
``{::options parse_block_html="true" /}`` kramdown read the block's content as Markdown, so
its escapes (``\\\\`` -> ``\\`` ...) are resolved in the ``$ … $`` math there (``$$ … $$`` was
kramdown's own math, kept verbatim).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from sitegen.markdown.kramdown import opens_with_span_tag
from sitegen.markdown.kramdown_typography import kramdown_typography
from sitegen.markdown.liquid_render import quiet_include_output
from sitegen.markdown.math_tex import resolve_kramdown_escapes
from sitegen.markdown.mathjax_gate import GATE_RULES

__all__ = ["html_block_math_plugin", "has_bracket_math", "mark_up_html_page"]

_TAG_OR_COMMENT = re.compile(
    r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*>|<!\[CDATA\[.*?\]\]>", re.S
)
_SKIPPED = frozenset({"script", "style", "pre", "code", "textarea"})
_CLOSERS = {
    "$$": re.compile(r"\$\$|\\.|[{}]", re.S),
    "$": re.compile(r"\$|\\.|[{}]", re.S),
    "\\(": re.compile(r"\\\)|\\.|[{}]", re.S),
    "\\[": re.compile(r"\\\]|\\.|[{}]", re.S),
}
_BRACKET_OPENER = re.compile(r"\\[(\[]")  # MathJax's own \( … \) and \[ … \]


_BLANK_BEFORE = re.compile(r"\n[ \t]*\n[ \t]*$")
_BLANK_AFTER = re.compile(r"[ \t]*\n[ \t]*(?:\n|$)")


def _closer(text: str, start: int, delim: str) -> int:
    """Index of the closing ``delim`` after ``start`` at brace depth 0, or -1."""
    depth = 0
    for match in _CLOSERS[delim].finditer(text, start):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and (token == delim or token == _CLOSING.get(delim)):
            return match.start()
    return -1


_CLOSING = {"\\(": "\\)", "\\[": "\\]"}


def _math_span_before(text: str, pos: int, limit: int) -> tuple[int, int] | None:
    """The ``\\( … \\)`` or ``\\[ … \\]`` opening in ``text[pos:limit]`` that is still open
    at ``limit``: (start, end after its closer). MathJax reads a dollar inside it as part of
    that math, not as a delimiter."""
    while True:
        opener = _BRACKET_OPENER.search(text, pos, limit)
        if opener is None:
            return None
        pos = opener.end()
        if text[opener.start() - 1 : opener.start()] == "\\":  # "\\(": a line break, text
            continue
        end = _closer(text, opener.end(), opener.group(0))
        if end < 0:
            continue
        if end + 2 > limit:
            return opener.start(), end + 2
        pos = end + 2


def _mark_up(
    text: str, dollars: bool, kramdown_escapes: bool, ends_block: bool = True
) -> tuple[str, bool]:
    """``text`` (HTML text between tags) with its dollar math wrapped; and whether any was.
    ``ends_block``: no tag follows it (the end of ``text`` is the end of the block)."""
    out: list[str] = []
    pos = 0
    found = False
    while True:
        start = text.find("$", pos)
        if start < 0:
            break
        inside = _math_span_before(text, pos, start)
        if inside is not None:  # this dollar is inside \( … \)
            out.append(text[pos : inside[1]])
            pos = inside[1]
            continue
        if text[start - 1 : start] == "\\":  # "\$" is never an opener
            out.append(text[pos : start + 1])
            pos = start + 1
            continue
        delim = "$$" if text.startswith("$$", start) else "$"
        if delim == "$" and not dollars:
            out.append(text[pos : start + 1])
            pos = start + 1
            continue
        end = _closer(text, start + len(delim), delim)
        tex = text[start + len(delim) : end].strip() if end >= 0 else ""
        if not tex:
            out.append(text[pos : start + len(delim)])
            pos = start + len(delim)
            continue
        out.append(text[pos:start])
        if kramdown_escapes and delim == "$":  # "$$ … $$" was kramdown math: verbatim
            tex = resolve_kramdown_escapes(tex, hard_breaks=False)[0]
            tex = kramdown_typography(tex, before="$")
        display = delim == "$$"
        if display and kramdown_escapes:
            # Parsed by kramdown: a math block only between blank lines, else inline math
            # (kept display when numbered: MathJax 3 drops an inline \tag).
            after = _BLANK_AFTER.match(text, end + 2)
            if after is not None and after.group(0).count("\n") < 2 and not ends_block:
                after = None  # a tag follows on the next line: text after the block
            alone = _BLANK_BEFORE.search(text, 0, start) and after
            display = bool(alone) or "\\tag" in tex or "\\label" in tex
        if display:
            out.append(f'<span class="math display">\\[{tex}\\]</span>')
        else:
            out.append(f'<span class="math inline">\\({tex}\\)</span>')
        found = True
        pos = end + len(delim)
    out.append(text[pos:])
    return "".join(out), found


def mark_up_html_math(html: str, dollars: bool, kramdown_escapes: bool = False) -> tuple[str, bool]:
    """Raw HTML with the dollar math of its text marked up (see the module doc);
    ``kramdown_escapes``: kramdown parsed the block's content (``parse_block_html``)."""
    if "$" not in html:
        return html, False
    out: list[str] = []
    pos = 0
    skipping: str = ""
    found = False

    def text_between(text: str, ends_block: bool = False) -> None:
        nonlocal found
        if skipping or "$" not in text:
            out.append(text)
            return
        text, any_math = _mark_up(text, dollars, kramdown_escapes, ends_block)
        out.append(text)
        found = found or any_math

    for match in _TAG_OR_COMMENT.finditer(html):
        text_between(html[pos : match.start()])
        out.append(match.group(0))
        name = (match.group(2) or "").lower()
        if skipping:
            if match.group(1) and name == skipping:
                skipping = ""
        elif name in _SKIPPED and not match.group(1) and not match.group(0).endswith("/>"):
            skipping = name
        pos = match.end()
    text_between(html[pos:], ends_block=True)
    return "".join(out), found


_PARSE_BLOCK_HTML = re.compile(r"\{::options\b[^}\n]*\bparse_block_html=[\"']?(true|false)")


def _parse_block_html(html: str, current: bool) -> bool:
    """kramdown's parse_block_html after ``html`` (its last ``{::options}`` setting)."""
    if "{::options" not in html:
        return current
    found = _PARSE_BLOCK_HTML.findall(html)
    return found[-1] == "true" if found else current


def html_block_math_plugin(md: MarkdownIt, dollars: bool = False, parsed: bool = False) -> None:
    """Mark up the dollar math of raw HTML blocks; ``dollars``: ``$ … $`` is math too;
    ``parsed``: kramdown's parse_block_html as the site's configuration sets it."""
    parsed_by_default = parsed

    def html_block_math(state: StateCore) -> None:
        if state.env.get("mathjax") is False:  # no script will typeset it
            return
        parsed = parsed_by_default  # kramdown's parse_block_html, set by {::options /} lines
        includes: list[Token] = []  # included before the next HTML block, not yet read
        for token in state.tokens:
            if token.type == "kramdown_options":
                # the includes above came first (their own {::options} lines too)
                for include in includes:
                    parsed = _parse_block_html(quiet_include_output(state.env, include), parsed)
                includes.clear()
                setting = token.meta["options"].get("parse_block_html", "")
                parsed = setting == "true" if setting else parsed
            elif token.type == "liquid_include_block":
                includes.append(token)
                token.meta["mark_up_math"] = _include_math(state.env, dollars, parsed)
            elif token.type == "inline" and token.children:
                for child in token.children:  # an include in a paragraph: paragraph text
                    if child.type == "liquid_include":
                        child.meta["mark_up_math"] = _include_math(state.env, dollars, True)
            elif token.type == "html_block" and "$" in token.content:
                # An include's {::options} lines were kramdown's too (Liquid ran first).
                for include in includes:
                    parsed = _parse_block_html(quiet_include_output(state.env, include), parsed)
                includes.clear()
                token.content, found = mark_up_html_math(token.content, dollars, parsed)
                if found:
                    state.env["has_math"] = True

    md.core.ruler.push("html_block_math", html_block_math)


def _include_math(env: dict, dollars: bool, parsed: bool):
    """What marks up the math of an include's HTML when it is rendered: Liquid ran before
    kramdown on the Jekyll site, so the include's output was the post's Markdown there,
    read as a paragraph (escapes resolved, ``$$`` inline) when it opens with a span tag."""

    def mark_up(html: str) -> str:
        html, found = mark_up_html_math(html, dollars, parsed or opens_with_span_tag(html))
        if found:
            env["has_math"] = True
        return html

    return mark_up


_SKIPPED_ELEMENT = re.compile(
    r"<!--.*?-->|<(script|style|pre|code|textarea)\b.*?</\1\s*>", re.S | re.I
)


def has_bracket_math(html: str) -> bool:
    """Whether MathJax finds ``\\( … \\)`` or ``\\[ … \\]`` in the text of ``html``
    (a list made by Liquid shows the math of the posts' excerpts, as sitegen wrote it)."""
    if "\\(" not in html and "\\[" not in html:
        return False
    return _BRACKET_OPENER.search(_SKIPPED_ELEMENT.sub("", html)) is not None


def mark_up_html_page(md: MarkdownIt, env: dict, tokens: list[Token]) -> None:
    """The same for a page or post written in HTML, whose tokens no Markdown rule made
    (Jekyll passed it to MathJax as it was); nothing where ``md`` has no such rule."""
    # the site's MathJax gate first: a page that loads no MathJax gets no math markup
    wanted = ("html_block_math", *GATE_RULES)
    state = StateCore("", md, env, tokens)
    for rule in md.core.ruler.getRules(""):
        if getattr(rule, "__name__", "") in wanted:
            rule(state)
