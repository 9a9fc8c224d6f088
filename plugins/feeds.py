"""Atom feed ``/feed.xml`` of the newest posts, with math as MathML.

Feed readers run no JavaScript, so MathJax never typesets a feed entry. Each entry's body is
therefore rendered a second time, from the post's own Markdown tokens, by a copy of the
site's parser whose math render rules emit MathML (``latex2mathml``) instead of TeX for
MathJax. Nothing here looks at the rendered HTML of the page.

Before conversion the TeX is prepared the way MathJax would have read it: site-wide macros
are expanded, ``\\label``/``\\nonumber``/``\\notag`` removed, AMS equation numbers computed
(and written into the MathML with ``\\tag``) so that ``\\eqref`` shows the same number as on
the page. A formula latex2mathml rejects is shown as its TeX, escaped.

The feed is reproducible: entries are the newest posts (date, then source path), and the
feed's ``updated`` is the newest entry's date, never the time of the build.

Options (``[plugins.feeds]`` in sitegen.toml): ``limit`` (default 20), ``enabled``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markdown_it.common.utils import escapeHtml

from sitegen import __version__
from sitegen.errors import ConfigError
from sitegen.frontmatter import parse_date
from sitegen.hooks import hookimpl
from sitegen.model import Page, Post

from ._xml_text import clean_tree, warn_removed

FEED_URL = "/feed.xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
DEFAULT_LIMIT = 20
# Keys this plugin keeps on a post between hooks: in the per-post Markdown env (dropped with
# the env after rendering) and the finished entry body in post.data (kept, e.g. by serve).
TOKENS_KEY = "_sg_feed_tokens"
HTML_KEY = "feed_html"
# Converting TeX is the slow part of a feed (a millisecond a formula), so finished entry
# bodies are kept in the site's cache folder, keyed by the page's rendering of the post.
CACHE_FOLDER = "feeds"
CACHE_FORMAT = "1"  # bump when the entry HTML this module writes changes
# Environments MathJax (tags: 'ams') numbers, and whether each row gets its own number.
NUMBERED_ENVIRONMENTS = {
    "equation": False,
    "multline": False,
    "align": True,
    "gather": True,
    "alignat": True,
    "flalign": True,
    "eqnarray": True,
}


# the settings [plugins.feeds] takes, with their defaults (checked when the site loads)
SETTINGS = {"limit": DEFAULT_LIMIT, "id": ""}


@dataclass(frozen=True)
class FeedOptions:
    limit: int = DEFAULT_LIMIT


def feed_options(site: Any) -> FeedOptions:
    raw = site.config.plugin_options("feeds")
    limit = raw.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigError("[plugins.feeds] limit must be a positive integer", site.config.source)
    return FeedOptions(limit=limit)


# -- TeX preparation ----------------------------------------------------------------------


def _group(tex: str, start: int) -> tuple[str, int] | None:
    """The argument at ``start`` (after spaces): a brace group's inside or one token.
    Returns (argument, index after it), or None at the end of the text."""
    i = start
    while i < len(tex) and tex[i].isspace():
        i += 1
    if i >= len(tex):
        return None
    if tex[i] == "{":
        depth, j = 0, i
        while j < len(tex):
            if tex[j] == "\\":
                j += 2  # an escaped brace does not count
                continue
            if tex[j] == "{":
                depth += 1
            elif tex[j] == "}":
                depth -= 1
                if depth == 0:
                    return tex[i + 1 : j], j + 1
            j += 1
        return None  # unbalanced: leave the text alone
    if tex[i] == "\\":
        m = re.match(r"\\(?:[A-Za-z]+|.)", tex[i:])
        assert m is not None
        return m.group(0), i + m.end()
    return tex[i], i + 1


_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")


def expand_macros(tex: str, macros: dict[str, Any], rounds: int = 8) -> str:
    """Replace the site's ``\\newcommand`` macros (``{"R": "\\mathbb{R}"}`` or
    ``{"f": [body, nargs]}``), since latex2mathml knows no ``\\newcommand``."""
    if not macros:
        return tex
    for _ in range(rounds):  # macros may use macros; a bound stops self-recursion
        out, pos, changed = [], 0, False
        for m in _CONTROL_WORD.finditer(tex):
            if m.start() < pos or m.group(1) not in macros:
                continue
            if m.start() > 0 and tex[m.start() - 1] == "\\":
                continue  # "\\R" is a row break followed by R
            definition = macros[m.group(1)]
            body, nargs = (definition, 0) if isinstance(definition, str) else definition
            end, args = m.end(), []
            for _ in range(int(nargs)):
                found = _group(tex, end)
                if found is None:
                    break
                args.append(found[0])
                end = found[1]
            if len(args) < int(nargs):
                continue
            for n, arg in enumerate(args, start=1):
                body = body.replace(f"#{n}", arg)
            out.append(tex[pos : m.start()])
            out.append(body)
            pos, changed = end, True
        if not changed:
            return tex
        out.append(tex[pos:])
        tex = "".join(out)
    return tex


def _commands(tex: str, name: str) -> list[tuple[int, int, str]]:
    """(start, end, argument) of every ``\\name{arg}`` in ``tex``."""
    found = []
    for m in re.finditer(r"\\" + name + r"(?![A-Za-z])\s*", tex):
        group = _group(tex, m.end())
        if group is not None and tex[m.end() : m.end() + 1] == "{":
            found.append((m.start(), group[1], group[0]))
    return found


def _remove_commands(tex: str, name: str) -> str:
    for start, end, _ in reversed(_commands(tex, name)):
        tex = tex[:start] + tex[end:]
    return tex


def _split_rows(body: str) -> list[str]:
    """Rows of an environment's body: split at ``\\\\`` outside braces and nested
    environments (a matrix inside an align row keeps its own rows)."""
    rows, depth, start, i = [], 0, 0, 0
    while i < len(body):
        if body.startswith("\\begin", i):
            depth += 1
            i += 6
        elif body.startswith("\\end", i):
            depth -= 1
            i += 4
        elif body.startswith("\\\\", i):
            if depth == 0:
                rows.append(body[start:i])
                start = i + 2
            i += 2
        elif body[i] == "\\":
            i += 2
        elif body[i] == "{":
            depth += 1
            i += 1
        elif body[i] == "}":
            depth -= 1
            i += 1
        else:
            i += 1
    rows.append(body[start:])
    return rows


_ENVIRONMENT = re.compile(r"\A\s*\\begin\{([a-z]+)(\*?)\}(.*)\\end\{\1\2\}\s*\Z", re.DOTALL)
_NO_NUMBER = re.compile(r"\\(?:nonumber|notag)(?![A-Za-z])")


@dataclass
class EquationNumbers:
    """AMS numbering across one post, as MathJax does it with ``tags: 'ams'``."""

    counter: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # label -> number shown

    def number(self, tex: str, display: bool = False) -> str:
        """Record the labels of one formula; return its TeX with every number written as
        ``\\tag`` and no ``\\label``/``\\nonumber``."""
        m = _ENVIRONMENT.match(tex)
        if m is None and display and _commands(tex, "label"):
            # the theme numbers a labelled display outside any environment, as an equation
            return self._label_row(tex, self._auto(tex))
        if m is None or m.group(1) not in NUMBERED_ENVIRONMENTS or m.group(2):
            self._label_row(tex, None)  # only an explicit \tag numbers it
            return _clean(tex)
        name, body = m.group(1), m.group(3)
        if not NUMBERED_ENVIRONMENTS[name]:
            body = self._label_row(body, self._auto(body))
            return f"\\begin{{{name}}}{body}\\end{{{name}}}"
        rows = _split_rows(body)
        if len(rows) > 1 and not rows[-1].strip():
            rows = rows[:-1]  # a final "\\" opens no row of its own worth numbering
        done = [self._label_row(row, self._auto(row)) for row in rows]
        return f"\\begin{{{name}}}" + "\\\\".join(done) + f"\\end{{{name}}}"

    def _auto(self, row: str) -> str | None:
        if _commands(row, "tag") or _NO_NUMBER.search(row) or not row.strip():
            return None
        self.counter += 1
        return str(self.counter)

    def _label_row(self, row: str, auto: str | None) -> str:
        tags = _commands(row, "tag")
        shown = tags[0][2].strip() if tags else auto
        for _, _, label in _commands(row, "label"):
            if shown is not None:
                self.labels.setdefault(label.strip(), shown)
        row = _clean(row)
        return row + f" \\tag{{{auto}}}" if auto is not None and not tags else row


def _clean(tex: str) -> str:
    return _NO_NUMBER.sub("", _remove_commands(tex, "label"))


_TEXT_COMMANDS = ("text", "mbox", "textrm", "textbf", "textit", "mathrm")


def resolve_refs(tex: str, labels: dict[str, str]) -> str:
    """``\\eqref{x}`` / ``\\ref{x}`` inside math become the number MathJax would print,
    as text (latex2mathml knows no references); inside ``\\text{..}`` as plain characters."""
    for name in ("eqref", "ref"):
        while found := _commands(tex, name):
            start, end, label = found[0]
            shown = labels.get(label.strip(), label.strip())
            shown = f"({shown})" if name == "eqref" else shown
            in_text = any(
                a < start and end <= b
                for command in _TEXT_COMMANDS
                for a, b, _ in _commands(tex, command)
            )
            tex = tex[:start] + (shown if in_text else f"\\text{{{shown}}}") + tex[end:]
    return tex


# latex2mathml lays out only align/align* and split as tables, and numbers align rows on its
# own (from 1 in every formula). Our numbers are already written as \tag, so every
# multi-row environment becomes the unnumbered table it can draw.
_AS_TABLE = {
    "align": "align*",
    "flalign": "align*",
    "alignat": "align*",
    "eqnarray": "align*",
    "gather": "align*",
    "aligned": "split",
    "alignedat": "split",
    "gathered": "split",
}
_ENV_NAME = re.compile(r"\\(begin|end)\{([a-z]+)\*?\}(\s*\{\d+\})?")


def _tables_for_latex2mathml(tex: str) -> str:
    def rename(m: re.Match[str]) -> str:
        target = _AS_TABLE.get(m.group(2))
        if target is None:
            return m.group(0)
        # alignat's column count is an argument of \begin only
        return f"\\{m.group(1)}{{{target}}}"

    return _ENV_NAME.sub(rename, tex)


def to_mathml(tex: str, display: bool) -> str | None:
    """MathML for ``tex``, or None when neither converter can read it."""
    return _to_mathml(tex, display)


# math-core writes MathML Core (what browsers draw) some 50 times faster than latex2mathml,
# with tags at the right margin; what it rejects (``\big{(}``, a ``\tag`` outside an
# environment, flalign, eqnarray, ...) goes to latex2mathml. Our numbers are already written
# as \tag, so the environments it would number on its own are given starred.
_SELF_NUMBERING = re.compile(r"\\(begin|end)\{(align|gather|equation|multline)\}")


_MATH_OPEN = '<math xmlns="http://www.w3.org/1998/Math/MathML"'
_INLINE_OPEN = _MATH_OPEN + ' display="inline"'


@functools.cache
def _math_core() -> Any:
    """The math-core converter, or None where it is not installed. Converting with local
    state, it keeps nothing from one formula to the next."""
    try:
        import math_core
    except ImportError:
        return None
    return math_core.LatexToMathML(xml_namespace=True, fancy_error=False)


# A formula takes latex2mathml a millisecond or so; feed entries repeat formulas ($W$,
# \frac{\partial L}{\partial W}), so conversions are kept per process. The result (a str or
# None) is immutable, and convert() starts from a fresh state on every call.
@functools.lru_cache(maxsize=2048)
def _to_mathml(tex: str, display: bool) -> str | None:
    converter = _math_core()
    if converter is not None:
        try:
            mathml = converter.convert_with_local_state(
                _SELF_NUMBERING.sub(r"\\\1{\2*}", tex), displaystyle=display
            )
        except Exception:  # math-core's LatexError: TeX it does not know
            pass
        else:  # says display="block" only; inline is the default, said as latex2mathml does
            return mathml if display else mathml.replace(_MATH_OPEN, _INLINE_OPEN, 1)
    from latex2mathml.converter import convert  # only formulas math-core rejects load it

    try:
        return convert(_tables_for_latex2mathml(tex), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds of errors on TeX it does not know
        return None


# -- rendering an entry's body ------------------------------------------------------------


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
    refs = _commands(token.content, "eqref" if eqref else "ref")
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


def _entry_html(site: Any, post: Post) -> str:
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


# -- hooks -------------------------------------------------------------------------------


@hookimpl
def sitegen_configure(site: Any) -> None:
    feed_options(site)  # reject a bad limit before any post is read
    if not site.config.url and not site.options.serve:
        site.report.warning(
            site.config.source or "sitegen.toml",
            None,
            "no 'url' set: the feed's links are relative, which feed readers cannot follow; "
            'set url = "https://…" (the address the site is published at)',
        )


@hookimpl
def sitegen_posts_parsed(site: Any, posts: list[Post]) -> None:
    # Keep the tokens of posts that may end up in the feed; rendering pops them from
    # post.data before sitegen_post_rendered runs. The env is dropped after rendering.
    # Only the newest: should one of them fail, the next post's entry is made when the
    # feed is (see _entry_html), which is rarer than converting spare entries every time.
    wanted = {id(p) for p in site.posts[: feed_options(site).limit]}
    for post in posts:
        if id(post) in wanted and "tokens" in post.data and "env" in post.data:
            post.data["env"][TOKENS_KEY] = post.data["tokens"]


@functools.cache
def converter_identity() -> str:
    """Which math-core and latex2mathml convert the formulas: their files' sizes and times.
    Importing latex2mathml to ask its version costs ~30 ms (it asks importlib.metadata),
    which a rebuild whose feed entries are all cached would spend for nothing."""
    import importlib.util

    parts = []
    for package in ("math_core", "latex2mathml"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            parts.append(f"{package}: missing")
            continue
        folder = next(iter(spec.submodule_search_locations))
        for name in sorted(os.listdir(folder)):
            if name.endswith((".py", ".so", ".pyd")):
                st = os.stat(os.path.join(folder, name))
                parts.append(f"{package}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


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


@hookimpl
def sitegen_post_rendered(site: Any, post: Post) -> None:
    env = post.data.get("env") or {}
    tokens = env.pop(TOKENS_KEY, None)
    if tokens is None or site.markdown is None:
        return
    key = entry_key(site, post)
    html = read_cached_entry(site, key)
    if html is None:
        html = render_entry(site, post, tokens, env)
        write_cached_entry(site, key, html)
    post.data[HTML_KEY] = html


def _rfc3339(value: datetime) -> str:
    # Naive dates are in the site's configured zone, which is UTC when none is set.
    text = value.isoformat(timespec="seconds")
    return text if value.tzinfo is not None else text + "Z"


def updated_date(post: Post) -> datetime | None:
    """``updated`` / ``last_modified_at`` from the front matter, else the post's date."""
    for key in ("updated", "last_modified_at"):
        if key in post.meta:
            try:
                return parse_date(post.meta[key], post.date.tzinfo if post.date else None)
            except ValueError:
                break
    return post.date


def _link(parent: ET.Element, href: str, rel: str, kind: str | None = None) -> None:
    attrs = {"href": href, "rel": rel}
    if kind:
        attrs["type"] = kind
    ET.SubElement(parent, "link", attrs)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def feed_identity(site: Any) -> uuid.UUID:
    """The feed's own id: ``[plugins.feeds] id`` (``sitegen init`` writes one), else one
    made from the site's title. Never from ``url``: ids must not change when a site moves."""
    chosen = site.config.plugin_options("feeds").get("id")
    if isinstance(chosen, str) and chosen:
        return uuid.uuid5(uuid.NAMESPACE_URL, chosen)
    return uuid.uuid5(uuid.NAMESPACE_URL, "sitegen-feed:" + site.config.title)


def _identifier(site: Any, post: Post | None) -> str:
    """Atom ids are permanent: an entry's is made from the feed's identity and the post's
    date and slug (or its front matter's ``id``), not from where the site is served."""
    feed = feed_identity(site)
    if post is None:
        return feed.urn
    own = post.meta.get("id")
    if isinstance(own, str) and own:
        return own
    day = post.date.strftime("%Y-%m-%d") if post.date else ""
    return uuid.uuid5(feed, f"{day}/{post.slug or post.url}").urn


def build_feed(site: Any, posts: list[Post]) -> bytes:
    """The Atom document for ``posts`` (newest first)."""
    cfg = site.config
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": cfg.language})
    _text(feed, "title", cfg.title)
    if cfg.description:
        _text(feed, "subtitle", cfg.description)
    _link(feed, site.absolute_url(FEED_URL), "self", "application/atom+xml")
    _link(feed, site.absolute_url("/"), "alternate", "text/html")
    _text(feed, "id", _identifier(site, None))
    dates = [d for d in (updated_date(p) for p in posts) if d is not None]
    newest = max(dates, key=lambda d: d.replace(tzinfo=None)) if dates else datetime(1970, 1, 1)
    _text(feed, "updated", _rfc3339(newest))
    author = ET.SubElement(feed, "author")
    _text(author, "name", cfg.author if isinstance(cfg.author, str) and cfg.author else cfg.title)
    _text(feed, "generator", "sitegen")
    for post in posts:
        entry = ET.SubElement(feed, "entry")
        # a title with math: its plain-text form (feed readers show titles as text)
        _text(entry, "title", post.data.get("title_text") or post.title)
        _link(entry, site.absolute_url(post.url), "alternate", "text/html")
        _text(entry, "id", _identifier(site, post))
        if post.date is not None:
            _text(entry, "published", _rfc3339(post.date))
        _text(entry, "updated", _rfc3339(updated_date(post) or newest))
        for tag in post.tags:
            ET.SubElement(entry, "category", {"term": tag})
        if post.excerpt:
            _text(entry, "summary", post.data.get("excerpt_text") or post.excerpt)
        # xml:base: relative links and images in the body resolve against the post's page
        _text(
            entry,
            "content",
            _entry_html(site, post),
            type="html",
            **{"xml:base": site.absolute_url(post.url)},
        )
        warn_removed(site, "feed.xml", post, clean_tree(entry))
    warn_removed(site, "feed.xml", None, clean_tree(feed))  # the site's title and the like
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


@hookimpl
def sitegen_extra_pages(site: Any) -> list[Page]:
    posts = [p for p in site.posts if not p.failed][: feed_options(site).limit]
    return [Page(url=FEED_URL, content=build_feed(site, posts))]
