"""A Jekyll ``_includes/`` file written in Liquid, made a Jinja2 template.

Includes are templates (the site's own HTML), so a template engine may run over them; a
post never is. Jekyll themes write their includes in Liquid: ``{% assign %}``,
``{% capture %}``, ``{% unless %}``, ``elsif``, ``contains`` and filters with arguments
(``include.url | slice: 0, 7``). Jinja2 reads ``{{ include.key }}``, ``{% if %}`` and
``{% for %}`` the same way, so only what differs is rewritten: each filter becomes a call
of :class:`LiquidFilters` (Jinja2's own ``slice`` or ``default`` mean other things), each
tag its Jinja2 form. An include inside an include is written out in its place, since
Liquid runs it in the same scope (a theme's ``{% include base_path %}`` assigns a variable
for the rest of the file). A tag or filter this does not know is left for Jinja2 to name in
its error, which the build reports with the post's file.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["LiquidFilters", "liquid_to_jinja"]

_TAG = re.compile(r"(\{\{-?|\{%-?)(.*?)(-?\}\}|-?%\})", re.S)
_STRING_OR_PIPE = re.compile(r"""("[^"]*"|'[^']*')|(\|)""")
_CONTAINS = re.compile(r"""(\S+)\s+contains\s+("[^"]*"|'[^']*'|\S+)""")
_INCLUDE_ARGUMENT = re.compile(r"""([\w-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"']+)""")
_MAX_DEPTH = 8  # includes inside includes, as deep as a theme nests them
_WORDS = {"nil": "none", "null": "none", "blank": '""', "empty": '""'}
_WORD = re.compile(r"""("[^"]*"|'[^']*')|\b(nil|null|blank|empty)\b|\bforloop\.|\.(\w+(?:-\w+)+)""")


def _words(text: str) -> str:
    """Liquid's words in Jinja2: ``nil`` is ``none``, ``forloop`` is ``loop``, and a key
    with a hyphen (``site.data.ui-text``) a subscript, not a subtraction."""

    def swap(match: re.Match) -> str:
        if match.group(1):
            return match.group(1)
        if match.group(3):
            return f'["{match.group(3)}"]'
        return _WORDS[match.group(2)] if match.group(2) else "loop."

    return _WORD.sub(swap, text)


def _split_pipes(text: str) -> list[str]:
    parts, start = [], 0
    for match in _STRING_OR_PIPE.finditer(text):
        if match.group(2):
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


def _expression(text: str) -> str:
    """``value | f: a, b | g`` as ``_liquid.g(_liquid.f(value, a, b))``."""
    value, *filters = _split_pipes(text)
    result = _words(value.strip())
    for item in filters:
        name, _, args = item.partition(":")
        if not name.strip().isidentifier():
            continue  # no filter name ("| 'text'"): Liquid's lax parsing skips it
        call = f"_liquid.{name.strip()}({result}"
        result = call + (f", {_words(args.strip())})" if args.strip() else ")")
    return result


def _condition(text: str) -> str:
    return _words(_CONTAINS.sub(lambda m: f"({m.group(2)} in {m.group(1)})", text.strip()))


def _tag(body: str) -> str:
    name, _, rest = body.strip().partition(" ")
    if name == "assign":
        target, _, value = rest.partition("=")
        return f"set {target.strip()} = {_expression(value)}"
    if name == "capture":
        return f"set {rest.strip()}"
    if name == "endcapture":
        return "endset"
    if name in ("if", "elsif"):
        return f"{'if' if name == 'if' else 'elif'} {_condition(rest)}"
    if name == "unless":
        return f"if not ({_condition(rest)})"
    if name == "endunless":
        return "endif"
    if name == "for":
        variable, _, source = rest.partition(" in ")
        return f"for {variable.strip()} in {_expression(source)}"
    return body.strip()


def _nested_include(body: str, read_include: Callable[[str], str | None], depth: int) -> str:
    """An include inside an include, written out in its place: Liquid runs it in the same
    scope, so what it assigns (``{% include base_path %}``) is seen after it."""
    name, _, args = body.strip()[len("include") :].strip().partition(" ")
    nested = read_include(name) if depth < _MAX_DEPTH else None
    if nested is None:
        return "{{ _liquid.missing_include(" + repr(name) + ") }}"
    inner = liquid_to_jinja(nested, read_include, depth + 1)
    params = _INCLUDE_ARGUMENT.findall(args)
    if not params:
        return inner
    values = ", ".join(f"{key!r}: {_expression(value)}" for key, value in params)
    return f"{{% with include = {{{values}}} %}}{inner}{{% endwith %}}"


def liquid_to_jinja(
    source: str, read_include: Callable[[str], str | None] | None = None, depth: int = 0
) -> str:
    """The Jinja2 source of a Liquid include (text outside tags kept as it is);
    ``read_include``: the source of another include by name, for includes inside it."""
    out: list[str] = []
    position = 0
    in_comment = False
    for match in _TAG.finditer(source):
        opener, body, closer = match.groups()
        out.append(source[position : match.start()])
        position = match.end()
        word = body.strip().split(" ", 1)[0]
        if opener.startswith("{%") and word in ("comment", "endcomment"):
            in_comment = word == "comment"
            out.append("{% if false %}{% raw %}" if in_comment else "{% endraw %}{% endif %}")
            continue
        if in_comment:
            out.append(match.group(0))
        elif opener.startswith("{%") and word in ("include", "include_cached") and read_include:
            out.append(
                _nested_include(body.replace("include_cached", "include", 1), read_include, depth)
            )
        elif opener.startswith("{{"):
            out.append(f"{opener} {_expression(body)} {closer}")
        else:
            out.append(f"{opener} {_tag(body)} {closer}")
    out.append(source[position:])
    return "".join(out)


@dataclass(frozen=True)
class LiquidFilters:
    """Liquid's standard filters and Jekyll's URL filters, as methods of one object."""

    baseurl: str = ""
    url: str = ""

    def __getattr__(self, name: str) -> Any:
        # the other filters a post's output tags apply (slugify, date, truncate …)
        from sitegen.markdown.liquid_filters import plain_filter

        function = plain_filter(name)
        if function is None:
            if name.startswith("__"):
                raise AttributeError(name)

            def unknown(*_args: Any) -> Any:
                raise ValueError(f"the filter '{name}' is not one sitegen applies")

            return unknown
        return function

    @staticmethod
    def missing_include(name: str) -> str:
        raise ValueError(f"include '{name}' (inside an include) not found in _includes/")

    @staticmethod
    def slice(value: Any, start: int, length: int = 1) -> Any:
        start = int(start)
        if start < 0:
            start += len(value)
        return value[start : start + int(length)]

    @staticmethod
    def default(value: Any, fallback: Any = "") -> Any:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return value if value or number else fallback  # nil, false, "" or [] (0 is kept)

    @staticmethod
    def append(value: Any, text: Any) -> str:
        return f"{'' if value is None else value}{text}"

    @staticmethod
    def prepend(value: Any, text: Any) -> str:
        return f"{text}{'' if value is None else value}"

    @staticmethod
    def downcase(value: Any) -> str:
        return str(value).lower()

    @staticmethod
    def upcase(value: Any) -> str:
        return str(value).upper()

    @staticmethod
    def capitalize(value: Any) -> str:
        return str(value).capitalize()

    @staticmethod
    def size(value: Any) -> int:
        return len(value) if value is not None else 0

    @staticmethod
    def strip(value: Any) -> str:
        return str(value).strip()

    @staticmethod
    def escape(value: Any) -> str:
        return html.escape(str(value))

    xml_escape = escape

    @staticmethod
    def replace(value: Any, old: str, new: str = "") -> str:
        return str(value).replace(old, new)

    @staticmethod
    def remove(value: Any, text: str) -> str:
        return str(value).replace(text, "")

    @staticmethod
    def split(value: Any, separator: str) -> list[str]:
        return str(value).split(separator)

    @staticmethod
    def join(value: Any, separator: str = " ") -> str:
        return separator.join(str(item) for item in value)

    @staticmethod
    def first(value: Any) -> Any:
        return value[0] if value else None

    @staticmethod
    def last(value: Any) -> Any:
        return value[-1] if value else None

    @staticmethod
    def jsonify(value: Any) -> str:
        return json.dumps(value, default=str)

    @staticmethod
    def markdownify(value: Any) -> Any:
        return value  # the include's output is read as Markdown with the post anyway

    @staticmethod
    def plus(value: Any, other: Any) -> Any:
        return value + other

    @staticmethod
    def minus(value: Any, other: Any) -> Any:
        return value - other

    @staticmethod
    def times(value: Any, other: Any) -> Any:
        return value * other

    def relative_url(self, value: Any) -> str:
        path = str(value or "")
        if re.match(r"^[a-z][a-z0-9+.-]*:|^//", path):
            return path
        return self.baseurl.rstrip("/") + "/" + path.lstrip("/")

    def absolute_url(self, value: Any) -> str:
        relative = self.relative_url(value)
        return relative if "//" in relative[:8] else self.url.rstrip("/") + relative
