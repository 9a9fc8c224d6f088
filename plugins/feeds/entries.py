"""A feed entry's body: the post's own Markdown tokens rendered a second time, by a copy
of the site's parser whose math renders as MathML and code as plain text, and kept in the
site's cache keyed by the page's rendering of the post."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from markdown_it.common.utils import escapeHtml

from sitegen import __version__
from sitegen.model import Post

from .mathml import converter_identity, to_mathml
from .numbering import EquationNumbers, commands, expand_macros, resolve_refs

# Keys kept on a post between hooks: in the per-post Markdown env (dropped with the env
# after rendering) and the finished entry body in post.data (kept, e.g. by serve).
TOKENS_KEY = "_sg_feed_tokens"
HTML_KEY = "feed_html"
CACHE_FORMAT = "1"  # bump when the entry HTML this module writes changes


def _math_tokens(tokens: list[Any]) -> list[Any]:
    """Math tokens in document order (block tokens and the children of inline ones)."""
    found = []
    for token in tokens:
        if token.type in ("math_block", "math_inline"):
            found.append(token)
        elif token.children:
            found.extend(_math_tokens(token.children))
    return found


def _reference(token: Any, numbers: EquationNumbers) -> str:
    """Running-text ``\\eqref{x}`` / ``\\ref{x}``: the number MathJax would show."""
    eqref = token.content.startswith("\\eqref")
    refs = commands(token.content, "eqref" if eqref else "ref")
    label = refs[0][2].strip() if refs else token.content
    shown = numbers.labels.get(label, label)
    return escapeHtml(f"({shown})" if eqref else shown)


def prepare_math(tokens: list[Any], macros: dict[str, Any]) -> dict[int, str]:
    """HTML for every math token of a post, keyed by ``id(token)``: MathML where possible,
    else the TeX as written. Numbers are assigned first so forward references work."""
    numbers = EquationNumbers()
    prepared: list[tuple[Any, str, bool]] = []
    for token in _math_tokens(tokens):
        if token.markup == "ref":
            continue
        display = token.type == "math_block" or bool((token.meta or {}).get("display"))
        tex = numbers.number(expand_macros(token.content, macros), display)
        prepared.append((token, tex, display))
    html: dict[int, str] = {}
    for token, tex, display in prepared:
        mathml = to_mathml(resolve_refs(tex, numbers.labels), display)
        if mathml is None:
            opener, closer = ("\\[", "\\]") if display else ("\\(", "\\)")
            mathml = escapeHtml(opener + token.content + closer)
        html[id(token)] = mathml
    for token in _math_tokens(tokens):
        if token.markup == "ref":
            # a reference in running text is just its number, as plain text
            html[id(token)] = _reference(token, numbers)
    return html


def _render_math_inline(self, tokens, idx, options, env):  # noqa: ANN001 - markdown-it API
    token = tokens[idx]
    body = env[MATHML_KEY].get(id(token), escapeHtml(token.content))
    if token.markup == "ref":
        return body
    kind = "display" if (token.meta or {}).get("display") else "inline"
    return f'<span class="math {kind}">{body}</span>'


def _render_math_block(self, tokens, idx, options, env):  # noqa: ANN001 - markdown-it API
    token = tokens[idx]
    body = env[MATHML_KEY].get(id(token), escapeHtml(token.content))
    return f'<div class="math display">{body}</div>\n'


MATHML_KEY = "_sg_feed_mathml"


def _render_code(self, tokens, idx, options, env):  # noqa: ANN001 - markdown-it API
    # Feed readers have no style sheet for highlighting, and results of executed blocks
    # belong on the page: code goes into the feed as plain text.
    from sitegen.markdown.highlight import highlight_code

    token = tokens[idx]
    info = token.info.strip() if token.type != "code_block" else ""
    return highlight_code(token.content, info.split(maxsplit=1)[0] if info else "", highlight=False)


def feed_parser(md: Any) -> Any:
    """A copy of the site's parser whose math renders as MathML and code as plain text.
    The rules are rebound to the copy's renderer, or nested inline tokens would go back to
    the page's rules."""
    clone = copy.copy(md)
    renderer = copy.copy(md.renderer)
    renderer.rules = {
        name: rule.__func__.__get__(renderer)
        if getattr(rule, "__self__", None) is md.renderer
        else rule
        for name, rule in md.renderer.rules.items()
    }
    renderer.rules["math_inline"] = _render_math_inline.__get__(renderer)
    renderer.rules["math_block"] = _render_math_block.__get__(renderer)
    for name in ("fence", "code_block", "liquid_highlight"):
        renderer.rules[name] = _render_code.__get__(renderer)
    clone.renderer = renderer
    return clone


def render_entry(site: Any, post: Post, tokens: list[Any], env: dict[str, Any]) -> str:
    md = site.data.get("feeds_parser")
    if md is None:
        md = site.data["feeds_parser"] = feed_parser(site.markdown)
    # A shallow copy: the feed render must not disturb what the page's render recorded.
    local = {k: v for k, v in env.items() if k != TOKENS_KEY}
    local["diagnostics"] = []
    local[MATHML_KEY] = prepare_math(tokens, site.macros or {})
    return md.renderer.render(tokens, md.options, local)


def entry_html(site: Any, post: Post) -> str:
    """The stored entry body, or (a post rendered in an earlier build of ``serve`` and only
    now among the newest) a fresh parse of its body."""
    html = post.data.get(HTML_KEY)
    if html is not None:
        return html
    md = site.markdown
    if md is None:
        return post.html
    # a post whose body came from the build cache has no parse environment left: make one
    env = post.data.get("env") or {"line_offset": post.body_line, "diagnostics": [], "post": post}
    tokens = md.parse(post.body, {k: v for k, v in env.items() if k != TOKENS_KEY})
    return render_entry(site, post, tokens, env)


def entry_key(site: Any, post: Post) -> str:
    """Cache key of an entry body: whatever changes the post's tokens changes its page
    HTML too, so the page HTML stands for the tokens."""
    digest = hashlib.sha256()
    macros = json.dumps(site.macros or {}, sort_keys=True)
    for part in (CACHE_FORMAT, __version__, converter_identity(), macros, post.html):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def read_cached_entry(site: Any, key: str) -> str | None:
    data = site.cache.get(f"feeds:{key}") if site.cache is not None else None
    try:
        return data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        return None


def write_cached_entry(site: Any, key: str, html: str) -> None:
    if site.cache is not None:
        site.cache.put(f"feeds:{key}", html.encode("utf-8"))


