"""Syntax highlighting of code blocks with Pygments, imported only when a block needs it.

Markup (fenced blocks and Liquid ``{% highlight %}`` alike)::

    <div class="highlight"><pre><code class="language-py" data-lang="py">…</code></pre></div>

Token classes are Pygments' short names (``k``, ``s``, ``c`` …), so any Pygments style sheet
(``pygmentize -S default -f html -a .highlight``) colours it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Protocol

from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markdown_it.utils import OptionsDict


@functools.lru_cache(maxsize=1)
def _builtin_aliases() -> frozenset[str]:
    from pygments.lexers import get_all_lexers

    return frozenset(a for _, aliases, _, _ in get_all_lexers(plugins=False) for a in aliases)


@functools.lru_cache(maxsize=128)
def _lexer(lang: str):  # -> pygments Lexer | None
    # Imported here: posts without code never pay for loading Pygments.
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    # An unknown name would make Pygments scan every installed package's entry points
    # for lexer plugins (about a second); info strings like "python verify" or "math" are
    # common, so only Pygments' own lexers are used.
    if lang not in _builtin_aliases():
        return None
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@functools.lru_cache(maxsize=1)
def _formatter():
    from pygments.formatters import HtmlFormatter

    # nowrap: only the <span>s; the wrapper below is the same with or without a lexer.
    return HtmlFormatter(nowrap=True)


def _number_lines(html: str) -> str:
    # Pygments spans never cross a newline in nowrap mode, so lines can be numbered here.
    lines = html.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    width = len(str(len(lines)))
    return "".join(
        f'<span class="lineno">{n:>{width}} </span>{line}\n' for n, line in enumerate(lines, 1)
    )


class CodeStore(Protocol):
    """Highlighted code kept between builds (``sitegen.cache.CodeCache``), by a key made
    of the language and the code."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, html: str) -> None: ...


# The env entry holding a CodeStore: a post edited in its prose keeps its code blocks, and
# Pygments (its import and its lexers' patterns) is then not needed at all.
STORE_KEY = "highlighted"


def highlight_code(
    code: str,
    lang: str = "",
    *,
    highlight: bool = True,
    linenos: bool = False,
    store: CodeStore | None = None,
) -> str:
    """HTML for one code block; ``lang`` may be empty or unknown to Pygments (then plain)."""
    lang = lang.strip()
    name = lang.lower() if (highlight and lang) else ""
    body = None
    key = ""
    if name and store is not None:
        key = hashlib.sha256(f"{name}\0{code}".encode("utf-8", "surrogatepass")).hexdigest()
        body = store.get(key)
    if body is None:
        lexer = _lexer(name) if name else None
        if lexer is not None:
            from pygments import highlight as pygments_highlight

            body = pygments_highlight(code, lexer, _formatter())
            if store is not None:
                store.put(key, body)
        else:
            body = escapeHtml(code)
    if linenos:
        body = _number_lines(body)
    if lang:
        safe = escapeHtml(lang)
        code_open = f'<code class="language-{safe}" data-lang="{safe}">'
    else:
        code_open = "<code>"
    return f'<div class="highlight"><pre>{code_open}{body}</code></pre></div>\n'


def make_fence_renderer(highlight: bool):
    """A markdown-it render rule for ``fence`` tokens using :func:`highlight_code`.

    Plugins that take over some fences (e.g. ``python verify``) wrap this rule and call it
    for the fences they leave alone.
    """

    def render_fence(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict
    ) -> str:
        token = tokens[idx]
        info = token.info.strip()
        lang = info.split(maxsplit=1)[0] if info else ""
        return highlight_code(
            token.content, lang, highlight=highlight, store=env.get(STORE_KEY) if env else None
        )

    return render_fence


def render_code_block(
    self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict
) -> str:
    """Indented code blocks: same wrapper, no language."""
    return highlight_code(tokens[idx].content, "", highlight=False)
