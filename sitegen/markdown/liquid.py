"""The Liquid that Jekyll posts use, recognised by markdown-it rules (never by running a
template engine over a post: TeX is full of ``{{`` and ``{%``).

Supported (SPEC §4.2):

* ``{% include NAME.html key="value" key2=page.var %}`` -> ``LiquidContext.include``
* ``{% highlight LANG [linenos] %}`` … ``{% endhighlight %}`` -> a highlighted code block
* ``{% raw %}`` … ``{% endraw %}`` -> the content, with no Liquid in it recognised
* ``{% comment %}`` … ``{% endcomment %}`` -> nothing (a Liquid comment)
* ``{% post_url NAME %}``, ``{% link PATH %}`` -> a URL (also as a Markdown link target:
  ``[text]({% post_url NAME %})``, which plain Markdown would reject for its spaces)
* ``{{ site.KEY }}``, ``{{ page.KEY }}`` (dotted keys), HTML-escaped; also inside raw HTML
  (``<img src="{{ site.baseurl }}/a.png">``), but never inside HTML comments.

Anything else, or any tag when ``env["liquid"]`` is missing: a warning with the line, and
the text stays visible. Math and code are parsed before these rules see the text, so Liquid
inside them is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from sitegen.markdown.highlight import STORE_KEY, highlight_code
from sitegen.markdown.kramdown_extensions import without_options_lines
from sitegen.markdown.lines import (
    RAW_DEPTH_KEY,
    inline_body_line,
    line_tracking_plugin,
    report,
)

__all__ = ["LiquidContext", "html_page_tokens", "liquid_plugin"]


def _no_include(name: str, params: dict, line: int) -> str:
    raise LookupError(f"include {name}: includes are not available here")


def _no_url(name: str) -> str | None:
    return None


@dataclass
class LiquidContext:
    """What the Liquid rules may read and call; built by the engine for each post."""

    site: dict = field(default_factory=dict)
    page: dict = field(default_factory=dict)
    # (name, params, file line) -> HTML; an exception's str becomes an error diagnostic.
    include: Callable[[str, dict, int], str] = _no_include
    # post name ("2016-08-24-gradients-0") -> URL, or None when there is no such post
    post_url: Callable[[str], str | None] = _no_url
    # source path ("posts/x.md", "about.md") -> URL, or None
    link: Callable[[str], str | None] = _no_url


# {% name args %} and {{ expr }}, with Liquid's whitespace-control dashes. Written so that
# no two parts can match the same characters (the name is possessive, the rest is one lazy
# run up to the first closer): a tag without closer fails in one pass over the text, where
# "\s*(.*?)\s*" tried every split of a run of spaces (cubic). Whitespace and dashes inside
# are trimmed by _TagMatch.
_TAG_RAW = re.compile(r"\{%-?\s*+([A-Za-z_]\w*+)(.*?)%\}", re.S)
_OUTPUT_RAW = re.compile(r"\{\{(.*?)\}\}", re.S)
class LiquidMatch:
    """A ``{% name args %}`` or ``{{ expr }}`` found in a text, with re.Match's accessors:
    group(0) the whole text; for a tag group(1) the name and group(2) the arguments, for an
    output group(1) the expression (whitespace and Liquid's dashes trimmed)."""

    __slots__ = ("_groups", "_start", "_end")

    def __init__(self, groups: tuple[str, ...], start: int, end: int) -> None:
        self._groups = groups
        self._start = start
        self._end = end

    def group(self, index: int = 0) -> str:
        return self._groups[index]

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


def match_liquid(src: str, pos: int, maximum: int, last_closer: int | None = None):
    """The tag or output starting at ``src[pos]`` and ending by ``maximum``, or None.

    ``last_closer``: where the last ``%}`` / ``}}`` of ``src`` is, when the caller knows
    (an opener after it cannot close, and is then rejected without a search)."""
    if src.startswith("{%", pos):
        if last_closer is not None and last_closer < pos:
            return None
        raw = _TAG_RAW.match(src, pos, maximum)
        if raw is None:
            return None
        args = raw.group(2)
        if args.endswith("-"):
            args = args[:-1]
        return LiquidMatch((raw.group(0), raw.group(1), args.strip()), raw.start(), raw.end())
    if src.startswith("{{", pos):
        if last_closer is not None and last_closer < pos:
            return None
        raw = _OUTPUT_RAW.match(src, pos, maximum)
        if raw is None:
            return None
        expr = raw.group(1)
        expr = expr[1:] if expr.startswith("-") else expr
        expr = expr[:-1] if expr.endswith("-") else expr
        return LiquidMatch((raw.group(0), expr.strip()), raw.start(), raw.end())
    return None


def iter_outputs(text: str):
    """Each ``{{ expr }}`` of ``text``, left to right, as :class:`LiquidMatch` (one pass: an
    opener without a closer after it ends the search, since no later one has one)."""
    pos = 0
    while True:
        begin = text.find("{{", pos)
        if begin < 0:
            return
        close = text.find("}}", begin + 2)
        if close < 0:
            return
        match = match_liquid(text, begin, close + 2)
        if match is not None:
            yield match
        pos = close + 2


def _fullmatch_liquid(text: str):
    match = match_liquid(text, 0, len(text))
    return match if match is not None and match.end() == len(text) else None



_VARIABLE = re.compile(r"(site|page)((?:\.[A-Za-z_][\w-]*)+)")
_PARAM = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_INCLUDE_NAME = re.compile(r"[\w./-]+")
_END_HIGHLIGHT = re.compile(r"\{%-?\s*endhighlight\s*-?%\}")
_END_RAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
_END_COMMENT = re.compile(r"\{%-?\s*endcomment\s*-?%\}")

# Private env key: where a block search for a closing tag found none (see _find_line).
_NO_CLOSER_KEY = "_sg_liquid_no_closer"

_BLOCK_TAGS = frozenset({"highlight", "endhighlight", "raw", "endraw", "endcomment"})


class LiquidError(Exception):
    """A tag that cannot be rendered; the message becomes a warning, the tag stays visible."""


class UndefinedVariable(LiquidError):
    """``{{ page.nope }}``: rendered empty, as Liquid does, but with a warning."""


# -- values --------------------------------------------------------------------------------


def _lookup(ctx: LiquidContext, expr: str) -> Any:
    """Value of ``site.a.b`` / ``page.a``; LiquidError when unsupported or undefined."""
    m = _VARIABLE.fullmatch(expr)
    if m is None:
        raise LiquidError(f"unsupported Liquid expression {{{{ {expr} }}}}; left as text")
    value: Any = ctx.site if m.group(1) == "site" else ctx.page
    for key in m.group(2)[1:].split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif value is not None and not isinstance(value, dict) and _public_field(value, key):
            value = getattr(value, key)
        else:
            raise UndefinedVariable(f"{{{{ {expr} }}}} is not defined; rendered empty")
    return value


def _public_field(value: Any, key: str) -> bool:
    """``page.date.year`` reads a field of a value; nothing else of Python may be reached
    (``page.title.__class__``, ``page.title.upper``): Liquid has no such things, so as in
    Jekyll they are undefined and render nothing."""
    if key.startswith("_") or not hasattr(value, key):
        return False
    return not callable(getattr(value, key))


def _to_text(value: Any) -> str:
    # Liquid's way of printing: nil is empty, booleans are lower case, lists are joined.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "".join(_to_text(v) for v in value)
    return str(value)


def _url_tag(ctx: LiquidContext, name: str, arg: str) -> str:
    arg = arg.strip()
    if not arg:
        raise LiquidError(f"{{% {name} %}} needs an argument")
    url = ctx.post_url(arg) if name == "post_url" else ctx.link(arg)
    if url is None:
        what = "post" if name == "post_url" else "file"
        raise LiquidError(f"{{% {name} {arg} %}}: no such {what}")
    return url


def _value_of(ctx: LiquidContext, match: LiquidMatch) -> str:
    """Text of a ``{{ }}`` or a ``post_url`` / ``link`` tag (not escaped)."""
    if match.group(0)[1] == "{":
        return _to_text(_lookup(ctx, match.group(1)))
    name = match.group(1)
    if name in ("post_url", "link"):
        return _url_tag(ctx, name, match.group(2))
    raise LiquidError(f"unsupported Liquid tag {{% {name} %}}; left as text")


def _include_params(ctx: LiquidContext, text: str) -> tuple[str, dict]:
    name_match = _INCLUDE_NAME.match(text)
    if name_match is None:
        raise LiquidError("{% include %}: the file name must be written out; left as text")
    name = name_match.group(0)
    if name.startswith("/") or ".." in name.split("/"):
        # As Jekyll: an include never reaches outside the includes folders.
        raise LiquidError(f"{{% include {name} %}}: no '..' or leading '/' in include names")
    params: dict[str, Any] = {}
    rest = text[name_match.end() :]
    pos = 0
    for m in _PARAM.finditer(rest):
        if rest[pos : m.start()].strip():
            break
        key, dq, sq, bare = m.groups()
        if dq is not None or sq is not None:
            params[key] = dq if dq is not None else sq
        elif bare.isdigit():
            params[key] = int(bare)
        elif bare in ("true", "false"):
            params[key] = bare == "true"
        else:
            try:
                params[key] = _lookup(ctx, bare)
            except UndefinedVariable:  # Liquid passes nil
                params[key] = None
        pos = m.end()
    if rest[pos:].strip():
        raise LiquidError(f"{{% include %}}: cannot read {rest[pos:].strip()!r}; left as text")
    return name, params


# -- inline rules --------------------------------------------------------------------------


def _push_text(state: StateInline, text: str) -> None:
    # "text_special": shown as written; smart quotes and dash replacements skip it
    # (markdown-it's text_join core rule turns it into plain text afterwards).
    token = state.push("text_special", "", 0)
    token.content = text


def _liquid_inline(state: StateInline, silent: bool) -> bool:
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
        return _inline_raw(state, silent, match, _END_RAW, keep=True)
    if name == "comment":
        return _inline_raw(state, silent, match, _END_COMMENT, keep=False)
    if silent:
        state.pos = match.end()
        return True
    ctx = env.get("liquid")
    line = inline_body_line(state, pos)
    text = match.group(0)
    if not isinstance(ctx, LiquidContext):
        report(env, line, "warning", f"Liquid {_short(text)} left as text (no Liquid here)")
        _push_text(state, text)
    elif name == "include":
        try:
            inc_name, params = _include_params(ctx, match.group(2))
        except LiquidError as exc:
            report(env, line, "warning", str(exc))
            _push_text(state, text)
        else:
            token = state.push("liquid_include", "", 0)
            token.content = text
            token.meta = {"name": inc_name, "params": params, "line": line}
    elif name in _BLOCK_TAGS:
        report(env, line, "warning", f"{_short(text)} must stand on its own line; left as text")
        _push_text(state, text)
    else:
        try:
            _push_text(state, _value_of(ctx, match))
        except LiquidError as exc:
            report(env, line, "warning", str(exc))
            _push_text(state, "" if isinstance(exc, UndefinedVariable) else text)
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


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"


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
            report(state.env, inline_body_line(state, match.start()), "warning",
                   f"{{% {name} %}} without {{% end{name} %}}; left as text")
            _push_text(state, match.group(0))
        state.pos = match.end()
        return True
    if not silent and keep:
        _push_text(state, state.src[match.end() : end.start()])
    state.pos = end.end()
    return True


def _liquid_link(state: StateInline, silent: bool) -> bool:
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
    target, stop = _liquid_target(ctx, src, label_end + 2, state.posMax)
    if target is None:
        return False
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


def _liquid_target(ctx: LiquidContext, src: str, pos: int, maximum: int) -> tuple[str | None, int]:
    """Resolve a link target made of Liquid and plain characters, up to ``)``."""
    parts: list[str] = []
    while pos < maximum:
        ch = src[pos]
        if ch == ")":
            return "".join(parts), pos + 1
        if ch == "{":
            match = match_liquid(src, pos, maximum)
            if match is None:
                return None, pos
            try:
                parts.append(_value_of(ctx, match))
            except LiquidError:
                return None, pos  # the inline rule reports it when it meets the tag
            pos = match.end()
        elif ch.isspace():
            return None, pos  # titles after Liquid targets: not worth the complexity
        else:
            parts.append(ch)
            pos += 1
    return None, pos


# -- block rules ---------------------------------------------------------------------------


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _find_line(state: StateBlock, pattern: re.Pattern[str], first: int, end: int) -> int:
    """First line in ``first`` .. ``end - 1`` that ``pattern`` matches, or -1.

    A search that fails from one line fails from every later one; that is remembered (per
    container level and indent, whose lines read differently), so a row of unclosed
    ``{% highlight %}`` lines costs one search, not one per line.
    """
    memo = state.env.get(_NO_CLOSER_KEY)
    if memo is None or memo.get("src") is not state.src:
        memo = state.env[_NO_CLOSER_KEY] = {"src": state.src}
    key = (pattern.pattern, end, state.level, state.blkIndent)
    failed_from = memo.get(key)
    if failed_from is not None and failed_from <= first:
        return -1
    for line in range(first, end):
        if pattern.match(_line(state, line)):
            return line
    memo[key] = first
    return -1


def _liquid_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    src = state.src
    if not src.startswith("{%", pos) or state.env.get(RAW_DEPTH_KEY):
        return False
    text = _line(state, start)
    match = match_liquid(text, 0, len(text))
    if match is None:
        return False
    name = match.group(1)
    alone = not text[match.end() :].strip()
    if name == "highlight":
        return _block_highlight(state, start, end, silent, match, text)
    if name == "raw" and alone:
        return _block_raw(state, start, end, silent)
    if name == "comment" and alone:
        close = _find_line(state, _END_COMMENT, start + 1, end)
        if close < 0:
            return False  # the inline rule warns
        if not silent:
            state.line = close + 1  # a Liquid comment: nothing is rendered
        return True
    # An include never interrupts a paragraph (silent calls are those checks; note that
    # state.parentType is unreliable: markdown-it's lheading rule leaves it "paragraph").
    if name == "include" and alone and not silent:
        token = state.push("liquid_include_block", "", 0)
        token.content = text
        token.map = [start, start + 1]
        token.meta = {"tag": match.group(2), "line": start}
        state.line = start + 1
        return True
    return False


def _block_highlight(
    state: StateBlock, start: int, end: int, silent: bool, match: LiquidMatch, text: str
) -> bool:
    close = _find_line(state, _END_HIGHLIGHT, start + 1, end)
    if close < 0:
        return False  # the paragraph's inline rule then warns
    if silent:
        return True
    args = match.group(2).split()
    token = state.push("liquid_highlight", "code", 0)
    token.block = True
    token.info = args[0] if args else ""
    token.meta = {"linenos": "linenos" in args[1:]}
    first_line = text[match.end() :].strip()
    body = state.getLines(start + 1, close, state.blkIndent, True)
    token.content = (first_line + "\n" if first_line else "") + body
    token.map = [start, close + 1]
    state.line = close + 1
    return True


def _block_raw(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    close = _find_line(state, _END_RAW, start + 1, end)
    if close < 0 or _line(state, close).strip() != _END_RAW.match(_line(state, close)).group(0):
        return False
    if silent:
        return True
    state.push("liquid_raw_open", "", 0).map = [start, start + 1]
    env = state.env
    env[RAW_DEPTH_KEY] = env.get(RAW_DEPTH_KEY, 0) + 1
    old_max = state.lineMax
    state.lineMax = close
    state.md.block.tokenize(state, start + 1, close)
    state.lineMax = old_max
    env[RAW_DEPTH_KEY] -= 1
    state.push("liquid_raw_close", "", 0).map = [close, close + 1]
    state.line = close + 1
    return True


# -- Liquid values inside raw HTML ---------------------------------------------------------


def _html_values(state: StateCore) -> None:
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


def _html_value(env: dict, ctx: LiquidContext, text: str, line: int) -> str:
    match = _fullmatch_liquid(text)
    # Only the value forms; anything else in HTML (TeX's "{{" in a raw <div>, say) is
    # left alone without a word.
    if match is None:
        return text
    if text[1] == "%":
        if match.group(1) not in ("post_url", "link"):
            return text
    elif _VARIABLE.fullmatch(match.group(1)) is None:
        return text
    try:
        return escapeHtml(_value_of(ctx, match))
    except LiquidError as exc:
        report(env, line, "warning", str(exc))
        return "" if isinstance(exc, UndefinedVariable) else text


def html_page_tokens(env: dict, html: str) -> list[Token]:
    """The tokens of a page written in HTML (no Markdown): one raw HTML block, with the
    Liquid values substituted as in a post's raw HTML."""
    token = Token("html_block", "", 0)
    token.content = html
    ctx = env.get("liquid")
    if isinstance(ctx, LiquidContext):
        _substitute(env, ctx, token, 0)
    return [token]


# -- rendering -----------------------------------------------------------------------------


def _call_include(env: dict, name: str, params: dict, body_line: int) -> str | None:
    """The include's HTML, or None (with an error diagnostic) when it raised."""
    ctx = env.get("liquid")
    file_line = env.get("line_offset", 1) + body_line
    try:
        return ctx.include(name, params, file_line)
    except Exception as exc:  # the include's own message, located at the tag
        # a SiteError's str() is a whole "path:line: error: …" line; only its message here
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        report(env, body_line, "error", message)
        return None


def _render_include(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    token = tokens[idx]
    meta = token.meta
    html = _call_include(env, meta["name"], meta["params"], meta["line"])
    return escapeHtml(token.content) if html is None else html


def quiet_include_output(env: dict, token: Token) -> str:
    """What the ``{% include %}`` of a ``liquid_include_block`` token writes, read ahead of
    rendering by rules that depend on it; "" when it cannot be had (rendering reports why)."""
    ctx = env.get("liquid")
    if not isinstance(ctx, LiquidContext):
        return ""
    try:
        name, params = _include_params(ctx, token.meta["tag"])
        return ctx.include(name, params, token.meta["line"])
    except Exception:  # reported where the include is rendered
        return ""


def _render_include_block(
    self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict
):
    token = tokens[idx]
    line = token.meta["line"]
    ctx = env.get("liquid")
    if not isinstance(ctx, LiquidContext):
        report(env, line, "warning", f"Liquid {_short(token.content)} left as text "
               "(no Liquid here)")
        return f"<p>{escapeHtml(token.content)}</p>\n"
    try:
        name, params = _include_params(ctx, token.meta["tag"])
    except LiquidError as exc:
        report(env, line, "warning", str(exc))
        return f"<p>{escapeHtml(token.content)}</p>\n"
    html = _call_include(env, name, params, line)
    if html is None:  # the tag stays visible, as a paragraph
        return f"<p>{escapeHtml(token.content)}</p>\n"
    html = without_options_lines(html)
    return html if html.endswith("\n") else html + "\n"


def _make_highlight_renderer(highlight: bool):
    def render(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
        token = tokens[idx]
        return highlight_code(
            token.content,
            token.info,
            highlight=highlight,
            linenos=bool(token.meta.get("linenos")),
            store=env.get(STORE_KEY) if env else None,
        )

    return render


def _render_nothing(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    return ""


def liquid_plugin(md: MarkdownIt, *, highlight: bool = True) -> None:
    """Add the Liquid rules to ``md`` (after math_plugin, so math is taken first)."""
    line_tracking_plugin(md)
    md.inline.ruler.before("link", "liquid_link", _liquid_link)
    md.inline.ruler.before("link", "liquid", _liquid_inline)
    md.block.ruler.before("fence", "liquid_block", _liquid_block, {"alt": ["paragraph"]})
    md.core.ruler.push("liquid_html", _html_values)
    md.add_render_rule("liquid_include", _render_include)
    md.add_render_rule("liquid_include_block", _render_include_block)
    md.add_render_rule("liquid_highlight", _make_highlight_renderer(highlight))
    md.add_render_rule("liquid_raw_open", _render_nothing)
    md.add_render_rule("liquid_raw_close", _render_nothing)
