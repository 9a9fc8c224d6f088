"""What Liquid reads: the post's :class:`LiquidContext`, the values of ``{{ site.KEY }}`` /
``{{ page.KEY }}``, the URL tags and an include's parameters, and the errors when they
cannot be had."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sitegen.markdown.liquid_filters import FilterError, apply_filters
from sitegen.markdown.liquid_tags import LiquidMatch


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


VARIABLE = re.compile(r"(site|page)((?:\.[A-Za-z_][\w-]*)+)")
_PARAM = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_INCLUDE_NAME = re.compile(r"[\w./-]+")


class LiquidError(Exception):
    """A tag that cannot be rendered; the message becomes a warning, the tag stays visible."""


class UndefinedVariable(LiquidError):
    """``{{ page.nope }}``: rendered empty, as Liquid does, but with a warning."""

    shown = ""


class SkippedFilter(LiquidError):
    """``{{ "x" | no_such_filter }}``: the value shown unfiltered, as Liquid shows it when
    it has no such filter, with a warning."""

    def __init__(self, message: str, shown: str) -> None:
        super().__init__(message)
        self.shown = shown


def shown_instead(exc: LiquidError, text: str) -> tuple[str, bool]:
    """What a tag that raised ``exc`` shows: (a value, True) for an undefined variable or
    a skipped filter, else (``text``, the tag as written, False)."""
    shown = getattr(exc, "shown", None)
    return (shown, True) if shown is not None else (text, False)


def _lookup(ctx: LiquidContext, expr: str) -> Any:
    """Value of ``site.a.b`` / ``page.a``; LiquidError when unsupported or undefined."""
    m = VARIABLE.fullmatch(expr)
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


def _output(ctx: LiquidContext, expr: str) -> Any:
    """The value of an output tag's expression: a lookup, or a value with filters."""
    if "|" not in expr and expr[:1] not in ("'", '"'):
        return _lookup(ctx, expr)

    def lookup(name: str) -> Any:
        try:
            return _lookup(ctx, name)
        except UndefinedVariable:
            if "default" in expr:  # {{ page.x | default: "y" }}: nil, then the default
                return None
            raise

    skipped: list[str] = []
    try:
        done, value = apply_filters(expr, lookup, ctx.site, skipped)
    except FilterError as exc:
        raise LiquidError(f"{{{{ {expr} }}}}: {exc}; left as text") from None
    if skipped:
        names = ", ".join(f"'{name}'" for name in skipped)
        raise SkippedFilter(
            f"{{{{ {expr} }}}}: neither Liquid nor Jekyll has the filter {names} (a plugin's?); "
            "the value is shown unfiltered, as Jekyll shows it without such a filter",
            _to_text(value),
        )
    return value if done else _lookup(ctx, expr)


def value_or_nil(ctx: LiquidContext, expr: str) -> Any:
    """The value of a lookup or a value with filters, None (Liquid's nil) when undefined."""
    try:
        return _output(ctx, expr)
    except UndefinedVariable:
        return None


def value_of(ctx: LiquidContext, match: LiquidMatch) -> str:
    """Text of a ``{{ }}`` or a ``post_url`` / ``link`` tag (not escaped)."""
    if match.group(0)[1] == "{":
        return _to_text(_output(ctx, match.group(1)))
    name = match.group(1)
    if name in ("post_url", "link"):
        return _url_tag(ctx, name, match.group(2))
    raise LiquidError(f"unsupported Liquid tag {{% {name} %}}; left as text")


def include_params(ctx: LiquidContext, text: str) -> tuple[str, dict]:
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
