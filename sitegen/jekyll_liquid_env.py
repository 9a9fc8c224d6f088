"""A python-liquid environment that runs Liquid the way Jekyll does: Jekyll's filters
(sitegen's own functions from ``sitegen.markdown.liquid_filters``, not a second copy),
and its tags ``{% include %}`` (from ``_includes/``, with ``include.KEY`` parameters),
``{% link %}`` and ``{% post_url %}``.

Only Jekyll pages whose text is made by Liquid (a loop over ``site.posts``, an HTML page
with an include) go through it: a Markdown post never does (TeX is full of ``{{``).
A tag or filter it lacks is an error naming it, which the caller reports at its line.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from liquid import Environment, is_undefined
from liquid.ast import Node
from liquid.builtin.expressions import Path as LiquidPath
from liquid.builtin.expressions import tokenize
from liquid.exceptions import FilterArgumentError, LiquidError
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, TOKEN_TAG

from sitegen.markdown import liquid_filters

# one parameter of a Jekyll include: key="text", key='text' or key=variable.path
_PARAM = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=]+))""")
_NAME = re.compile(r"\{\{.*?\}\}\S*|\S+", re.S)


@dataclass
class JekyllLinks:
    """What the URL tags and includes look up, made once per build by the caller."""

    post_url: Callable[[str], str | None]  # post name → URL with the baseurl, or None
    link: Callable[[str], str | None]  # source path → URL with the baseurl, or None
    include_dirs: list[Path]  # where {% include NAME %} looks, first found wins
    markdownify: Callable[[str], str]  # Markdown → HTML by sitegen's own parser
    site: dict[str, Any] = field(default_factory=dict)  # baseurl and url, for the URL filters


# Ruby Liquid's lax parser, which Jekyll uses, skips what it cannot read in two forms
# themes have: a filter after a for loop's collection (``{% for n in names | sort %}``
# loops over ``names``) and a quoted "filter" (``{{ x | "default text" }}`` prints x).
_LAX_FOR = re.compile(r"(\{%-?\s*for\s+[\w-]+\s+in\s+[^\s|%]+)\s*\|[^%\n]*?(-?%\})")
_LAX_OUTPUT = re.compile(r"\{\{[^}\n]*\}\}")
_QUOTED_FILTER = re.compile(r"""\|\s*(?:"[^"]*"|'[^']*')""")


def lax_source(text: str) -> str:
    """``text`` with the forms above written as Ruby Liquid reads them."""
    if "|" not in text:
        return text
    text = _LAX_FOR.sub(r"\1 \2", text)
    return _LAX_OUTPUT.sub(lambda m: _QUOTED_FILTER.sub("", m.group(0)), text)


class _Text:
    """The argument text of a tag, read as Jekyll's tags read theirs (not Liquid syntax:
    ``{% include a.html x=1 %}``, ``{% post_url 2020-01-01-a %}``)."""

    @staticmethod
    def of(stream: TokenStream) -> tuple[Any, str]:
        token = stream.eat(TOKEN_TAG)
        # the expression token stays current: the parser moves past it after the tag
        text = stream.current.value if stream.current.kind == TOKEN_EXPRESSION else ""
        return token, text.strip()


def _render_text(text: str, context: Any) -> str:
    """``{{ … }}`` inside a tag's argument (``{% include {{ page.x }} %}``) filled in."""
    if "{{" not in text:
        return text
    buffer = io.StringIO()
    context.env.from_string(text).render_with_context(context, buffer, partial=True)
    return buffer.getvalue()


class _IncludeNode(Node):
    __slots__ = ("name", "params", "links")

    def __init__(self, token: Any, name: str, params: list, links: JekyllLinks) -> None:
        super().__init__(token)
        self.name, self.params, self.links = name, params, links
        self.blank = False

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        name = _render_text(self.name, context).strip()
        template = _include_template(context.env, self.links, name, self.token)
        values: dict[str, Any] = {}
        for key, literal, path in self.params:
            values[key] = literal if path is None else path.evaluate(context)
        try:
            # Jekyll runs an include in the page's scope: its assigns are seen after it
            with context.extend({"include": values}, template=template):
                template.render_with_context(context, buffer, partial=True)
        except LiquidError as exc:
            where = exc.context()
            at = f", line {where[0]}" if where else ""
            raise LiquidError(f"in _includes/{name}{at}: {exc.message}", token=self.token) from None
        return 1


def _include_template(env: Any, links: JekyllLinks, name: str, token: Any) -> Any:
    cache = env.sg_includes
    if name in cache:
        return cache[name]
    for folder in links.include_dirs:
        path = folder / name
        # an include names a file below the folder, never one outside it
        if ".." not in Path(name).parts and path.is_file():
            source = lax_source(path.read_text(encoding="utf-8"))
            try:
                template = cache[name] = env.from_string(source, name=name, path=name)
            except LiquidError as exc:
                where = exc.context()
                at = f", line {where[0]}" if where else ""
                raise LiquidError(f"in _includes/{name}{at}: {exc.message}", token=token) from None
            return template
    raise LiquidError(f"include '{name}' not found in _includes/", token=token)


class _IncludeTag(Tag):
    name = "include"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, text = _Text.of(stream)
        found = _NAME.match(text)
        if found is None:
            raise LiquidError("{% include %} names no file", token=token)
        params = []
        for match in _PARAM.finditer(text, found.end()):
            key, double, single, variable = match.groups()
            if variable is None:
                params.append((key, double if double is not None else single, None))
            else:
                path = LiquidPath.parse(self.env, TokenStream(tokenize(variable, token)))
                params.append((key, None, path))
        return _IncludeNode(token, found.group(0), params, self.env.sg_links)


class _UrlNode(Node):
    __slots__ = ("text", "find", "what")

    def __init__(self, token: Any, text: str, find: Callable[[str], str | None], what: str):
        super().__init__(token)
        self.text, self.find, self.what = text, find, what
        self.blank = False

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        name = _render_text(self.text, context).strip()
        url = self.find(name)
        if url is None:  # Jekyll stops the build here; sitegen leaves this page out
            raise LiquidError(f"{{% {self.what} {name} %}}: no such {self.noun}", token=self.token)
        buffer.write(url)
        return 1

    @property
    def noun(self) -> str:
        return "post" if self.what == "post_url" else "file"


class _PostUrlTag(Tag):
    name = "post_url"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, text = _Text.of(stream)
        return _UrlNode(token, text, self.env.sg_links.post_url, self.name)


class _LinkTag(_PostUrlTag):
    name = "link"

    def parse(self, stream: TokenStream) -> Node:
        token, text = _Text.of(stream)
        return _UrlNode(token, text, self.env.sg_links.link, self.name)


# ------------------------------------------------------------------------ filters


def _checked(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """sitegen's filter as a python-liquid one: an undefined input is nil, a date filter
    gives nil back (as Jekyll's do), and its FilterError becomes Liquid's."""

    def apply(value: Any, *args: Any) -> Any:
        if is_undefined(value):
            value = None
        if name.startswith("date") and value in (None, ""):
            return ""
        try:
            return function(value, *args)
        except liquid_filters.FilterError as exc:
            raise FilterArgumentError(str(exc), token=None) from None

    return apply


def _group_by(items: Any, key: str) -> list[dict[str, Any]]:
    groups: dict[str, list] = {}
    for item in items or []:
        value = item.get(key) if isinstance(item, dict) else None
        groups.setdefault("" if value is None else str(value), []).append(item)
    return [{"name": n, "items": g, "size": len(g)} for n, g in groups.items()]


def _where(items: Any, key: str, value: Any = None) -> list:
    """Jekyll's ``where``: items whose ``key`` is ``value`` or, for a list, holds it."""
    kept = []
    for item in items.values() if isinstance(items, dict) else items or []:
        found = item.get(key) if isinstance(item, dict) else None
        if isinstance(found, list | tuple):
            if value in found or str(value) in map(str, found):
                kept.append(item)
        elif found == value or (found is not None and str(found) == str(value)):
            kept.append(item)
    return kept


def _sort(items: Any, key: Any = None, nils: str = "first") -> list:
    """Jekyll's ``sort``: a mapping (``site.tags``) sorts as its [name, value] pairs."""
    if isinstance(items, dict):
        return [[k, v] for k, v in sorted(items.items(), key=lambda kv: str(kv[0]))]
    values = list(items or [])
    if key is None:
        return sorted(values, key=_order)
    present = [v for v in values if isinstance(v, dict) and v.get(key) is not None]
    absent = [v for v in values if not (isinstance(v, dict) and v.get(key) is not None)]
    ordered = sorted(present, key=lambda v: _order(v[key]))
    return ordered + absent if nils == "last" else absent + ordered  # Jekyll: nils first


def _order(value: Any) -> tuple:
    # numbers before text; mixed kinds never compare (Python would raise)
    if isinstance(value, bool | int | float):
        return (0, value, "")
    return (1, 0, str(value))


def _items(value: Any) -> list:
    if value is None or is_undefined(value):
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _jsonify(value: Any) -> str:
    """Ruby's ``to_json``: compact, dates as text."""
    return json.dumps(None if is_undefined(value) else value, default=str,
                      ensure_ascii=False, separators=(",", ":"))


def _array_to_sentence(items: Any, connector: str = "and") -> str:
    words = [str(x) for x in items or []]
    if len(words) < 3:
        return f" {connector} ".join(words)
    return ", ".join(words[:-1]) + f", {connector} " + words[-1]


def _add_filters(env: Environment, links: JekyllLinks) -> None:
    for name in liquid_filters.JEKYLL_FILTER_NAMES:
        function = liquid_filters.plain_filter(name)
        # Liquid's own (truncate, join, default …) stay; Jekyll's date reads its strings
        if function is not None and (name not in env.filters or name == "date"):
            env.add_filter(name, _checked(function, name))
    for name in ("relative_url", "absolute_url"):
        function = liquid_filters.site_filter(name)
        env.add_filter(name, lambda v, f=function: f(v, links.site))
    for name in ("xml_escape", "escape"):  # printed as they are here: escaping is theirs
        env.add_filter(name, lambda v: html.escape("" if v is None else str(v), quote=True))
    env.add_filter("markdownify", lambda v: links.markdownify("" if v is None else str(v)))
    env.add_filter("group_by", _group_by)
    env.add_filter("sort", _sort)
    env.add_filter("where", _where)
    env.add_filter("where_exp", lambda items, var, expr: _where_exp(env, items, var, expr))
    env.add_filter("group_by_exp", lambda items, var, expr: _group_by_exp(env, items, var, expr))
    env.add_filter("array_to_sentence_string", _array_to_sentence)
    env.add_filter("smartify", lambda v: v)  # typography only
    env.add_filter("jsonify", _jsonify)
    # Jekyll's array filters: each gives a new array
    env.add_filter("push", lambda a, x: [*_items(a), x])
    env.add_filter("unshift", lambda a, x: [x, *_items(a)])
    env.add_filter("pop", lambda a, n=1: _items(a)[: max(0, len(_items(a)) - int(n))])
    env.add_filter("shift", lambda a, n=1: _items(a)[int(n) :])
    env.add_filter("normalize_whitespace", lambda v: " ".join(str(v or "").split()))
    env.add_filter("to_integer", lambda v: int(float(v)) if str(v).strip() else 0)


def _where_exp(env: Environment, items: Any, var: str, expr: str) -> list:
    """Jekyll's ``where_exp``: the items for which the condition ``expr`` holds, with
    each item called ``var`` (written as a Liquid ``if``, which reads it the same way)."""
    test = env.from_string("{% if " + expr + " %}1{% endif %}")
    values = items.values() if isinstance(items, dict) else items or []
    return [item for item in values if test.render(**{var: item}) == "1"]


def _group_by_exp(env: Environment, items: Any, var: str, expr: str) -> list[dict[str, Any]]:
    """Jekyll's ``group_by_exp``: groups by the value of ``expr``, each item called ``var``."""
    value = env.from_string("{{ " + expr + " }}")
    groups: dict[str, list] = {}
    for item in items.values() if isinstance(items, dict) else items or []:
        groups.setdefault(value.render(**{var: item}), []).append(item)
    return [{"name": n, "items": g, "size": len(g)} for n, g in groups.items()]


def jekyll_environment(links: JekyllLinks) -> Environment:
    """The environment of one build: a missing variable is nil (as in Jekyll), an
    unknown filter or tag an error."""
    env = Environment(strict_filters=True)
    env.sg_links = links  # type: ignore[attr-defined]  # read by the tags above
    env.sg_includes = {}  # type: ignore[attr-defined]  # each include parsed once
    for tag in (_IncludeTag, _PostUrlTag, _LinkTag):
        env.add_tag(tag)
    _add_filters(env, links)
    return env
