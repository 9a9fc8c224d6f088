"""A python-liquid environment that runs Liquid the way Jekyll does: Jekyll's filters
(``sitegen.jekyll_liquid_filters``) and its tags ``{% include %}`` (from ``_includes/``,
with ``include.KEY`` parameters), ``{% include_relative %}``, ``{% highlight %}``,
``{% link %}`` and ``{% post_url %}``.

Only Jekyll pages whose text is made by Liquid (a loop over ``site.posts``, an HTML page
with an include) go through it: a Markdown post never does (TeX is full of ``{{``).
A tag or filter it lacks is an error naming it, which the caller reports at its line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from liquid import Environment
from liquid.ast import Node
from liquid.builtin.expressions import Path as LiquidPath
from liquid.builtin.expressions import tokenize
from liquid.exceptions import LiquidError
from liquid.parser import get_parser
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import TOKEN_EOF, TOKEN_EXPRESSION, TOKEN_TAG

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


# what LiquidRun.render gives each page's render besides Jekyll's variables
PAGE_FOLDER = "__sitegen_folder"  # the page's own folder (include_relative)
MARKDOWN_PAGE = "__sitegen_markdown"  # its text is Markdown after Liquid (highlight)


class _IncludeNode(Node):
    __slots__ = ("name", "params", "links", "relative")

    def __init__(
        self, token: Any, name: str, params: list, links: JekyllLinks, relative: bool
    ) -> None:
        super().__init__(token)
        self.name, self.params, self.links, self.relative = name, params, links, relative
        self.blank = False

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        name = _render_text(self.name, context).strip()
        folders = self.links.include_dirs
        if self.relative:
            folders = [Path(str(context.globals.get(PAGE_FOLDER) or "."))]
        template = _include_template(context.env, folders, name, self.token)
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


def _include_template(env: Any, folders: list[Path], name: str, token: Any) -> Any:
    cache = env.sg_includes
    key = (tuple(folders), name)
    if key in cache:
        return cache[key]
    for folder in folders:
        path = folder / name
        # an include names a file below the folder, never one outside it
        if ".." not in Path(name).parts and path.is_file():
            source = lax_source(path.read_text(encoding="utf-8"))
            try:
                template = env.from_string(source, name=name, path=name)
                cache[key] = template
            except LiquidError as exc:
                where = exc.context()
                at = f", line {where[0]}" if where else ""
                raise LiquidError(f"in _includes/{name}{at}: {exc.message}", token=token) from None
            return template
    where = "the page's folder" if folders and folders[0].name != "_includes" else "_includes/"
    raise LiquidError(f"include '{name}' not found in {where}", token=token)


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
        relative = self.name == "include_relative"
        return _IncludeNode(token, found.group(0), params, self.env.sg_links, relative)


class _IncludeRelativeTag(_IncludeTag):
    name = "include_relative"


class _HighlightNode(Node):
    __slots__ = ("lang", "linenos", "block")

    def __init__(self, token: Any, lang: str, linenos: bool, block: Any) -> None:
        super().__init__(token)
        self.lang, self.linenos, self.block = lang, linenos, block
        self.blank = False

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        inner = io.StringIO()
        self.block.render(context, inner)
        code = inner.getvalue().strip("\n")
        if context.globals.get(MARKDOWN_PAGE):  # a fence: the Markdown parser's code block
            fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))
            buffer.write(f"\n{fence}{self.lang}\n{code}\n{fence}\n")
        else:
            from sitegen.markdown.highlight import highlight_code

            buffer.write(highlight_code(code + "\n", self.lang, linenos=self.linenos))
        return 1


class _HighlightTag(Tag):
    """``{% highlight LANG [linenos] %}`` … ``{% endhighlight %}``."""

    name = "highlight"
    end = "endhighlight"

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        words = stream.current.value.split() if stream.current.kind == TOKEN_EXPRESSION else []
        if stream.current.kind == TOKEN_EXPRESSION:
            next(stream)
        block = get_parser(self.env).parse_block(stream, frozenset((self.end, TOKEN_EOF)))
        stream.expect(TOKEN_TAG, value=self.end)
        lang = words[0] if words else ""
        return _HighlightNode(token, lang, "linenos" in words[1:], block)


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


def jekyll_environment(links: JekyllLinks) -> Environment:
    """The environment of one build: a missing variable is nil (as in Jekyll), an
    unknown filter or tag an error."""
    env = Environment(strict_filters=True)
    env.sg_links = links  # type: ignore[attr-defined]  # read by the tags above
    env.sg_includes = {}  # type: ignore[attr-defined]  # each include parsed once
    for tag in (_IncludeTag, _IncludeRelativeTag, _HighlightTag, _PostUrlTag, _LinkTag):
        env.add_tag(tag)
    from sitegen.jekyll_liquid_filters import add_jekyll_filters

    add_jekyll_filters(env, links)
    return env
