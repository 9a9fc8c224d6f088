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


# {% name args %} and {{ expr }}, with Liquid's whitespace-control dashes.
_TAG = re.compile(r"\{%-?\s*([A-Za-z_]\w*)\s*(.*?)\s*-?%\}", re.S)
_OUTPUT = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_VARIABLE = re.compile(r"(site|page)((?:\.[A-Za-z_][\w-]*)+)")
_PARAM = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_INCLUDE_NAME = re.compile(r"[\w./-]+")
_END_HIGHLIGHT = re.compile(r"\{%-?\s*endhighlight\s*-?%\}")
_END_RAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
_END_COMMENT = re.compile(r"\{%-?\s*endcomment\s*-?%\}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)

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
        elif value is not None and not isinstance(value, dict) and hasattr(value, key):
            value = getattr(value, key)
        else:
            raise UndefinedVariable(f"{{{{ {expr} }}}} is not defined; rendered empty")
    return value


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


def _value_of(ctx: LiquidContext, match: re.Match[str]) -> str:
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
    if second == "%":
        match = _TAG.match(src, pos, state.posMax)
    elif second == "{":
        match = _OUTPUT.match(src, pos, state.posMax)
    else:
        return False
    if match is None:
        return False
    env = state.env
    if env.get(RAW_DEPTH_KEY):
        return False  # inside {% raw %}: plain text
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


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"


def _inline_raw(
    state: StateInline, silent: bool, match: re.Match[str], closer: re.Pattern[str], keep: bool
) -> bool:
    """``{% raw %}`` (content kept as text) or ``{% comment %}`` (content dropped)."""
    end = closer.search(state.src, match.end(), state.posMax)
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
    if src.find("]({", start, state.posMax) < 0:
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
            match = _TAG.match(src, pos, maximum) or _OUTPUT.match(src, pos, maximum)
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
    for line in range(first, end):
        if pattern.match(_line(state, line)):
            return line
    return -1


def _liquid_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    src = state.src
    if not src.startswith("{%", pos) or state.env.get(RAW_DEPTH_KEY):
        return False
    text = _line(state, start)
    match = _TAG.match(text)
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
    state: StateBlock, start: int, end: int, silent: bool, match: re.Match[str], text: str
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
    for comment in _COMMENT.finditer(html):  # comments are kept verbatim
        pieces.append(_substitute_text(env, ctx, html[last : comment.start()], line))
        pieces.append(comment.group(0))
        last = comment.end()
    pieces.append(_substitute_text(env, ctx, html[last:], line))
    token.content = "".join(pieces)


def _substitute_text(env: dict, ctx: LiquidContext, html: str, line: int) -> str:
    if "{{" not in html and "{%" not in html:
        return html

    def value(found: re.Match[str]) -> str:
        text = found.group(0)
        match = (_TAG if text[1] == "%" else _OUTPUT).fullmatch(text)
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
            report(env, line + html.count("\n", 0, found.start()), "warning", str(exc))
            return "" if isinstance(exc, UndefinedVariable) else text

    return _ANY_LIQUID.sub(value, html)


_ANY_LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)


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
