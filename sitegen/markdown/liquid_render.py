"""HTML for the Liquid tokens: includes (inline and as a block), highlighted code, and
the markers of ``{% raw %}`` that render nothing."""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from sitegen.markdown.highlight import STORE_KEY, highlight_code
from sitegen.markdown.kramdown_extensions import without_options_lines
from sitegen.markdown.lines import (
    report,
)
from sitegen.markdown.liquid_tags import short_tag
from sitegen.markdown.liquid_values import LiquidContext, LiquidError, include_params


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


def render_include(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    token = tokens[idx]
    meta = token.meta
    html = _call_include(env, meta["name"], meta["params"], meta["line"])
    if html is None:
        return escapeHtml(token.content)
    mark_up_math = meta.get("mark_up_math")  # set on a Jekyll site (html_math)
    return html if mark_up_math is None else mark_up_math(html)


def quiet_include_output(env: dict, token: Token) -> str:
    """What the ``{% include %}`` of a ``liquid_include_block`` token writes, read ahead of
    rendering by rules that depend on it; "" when it cannot be had (rendering reports why)."""
    ctx = env.get("liquid")
    if not isinstance(ctx, LiquidContext):
        return ""
    try:
        name, params = include_params(ctx, token.meta["tag"])
        return ctx.include(name, params, token.meta["line"])
    except Exception:  # reported where the include is rendered
        return ""


def render_include_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    token = tokens[idx]
    line = token.meta["line"]
    ctx = env.get("liquid")
    if not isinstance(ctx, LiquidContext):
        report(
            env, line, "warning", f"Liquid {short_tag(token.content)} left as text (no Liquid here)"
        )
        return f"<p>{escapeHtml(token.content)}</p>\n"
    try:
        name, params = include_params(ctx, token.meta["tag"])
    except LiquidError as exc:
        report(env, line, "warning", str(exc))
        return f"<p>{escapeHtml(token.content)}</p>\n"
    html = _call_include(env, name, params, line)
    if html is None:  # the tag stays visible, as a paragraph
        return f"<p>{escapeHtml(token.content)}</p>\n"
    html = without_options_lines(html)
    mark_up_math = token.meta.get("mark_up_math")  # set on a Jekyll site (html_math)
    if mark_up_math is not None:
        html = mark_up_math(html)
    return html if html.endswith("\n") else html + "\n"


def make_highlight_renderer(highlight: bool):
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


def render_nothing(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    return ""
