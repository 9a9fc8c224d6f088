"""Jekyll's Liquid filters for the python-liquid environment of ``sitegen.jekyll_liquid_env``:
sitegen's own functions from ``sitegen.markdown.liquid_filters`` (one implementation for
posts and pages), and those only a real Liquid engine needs (``where``, ``group_by``,
``sort`` of a mapping, the array filters, ``markdownify`` by sitegen's parser).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from liquid import Environment, is_undefined
from liquid.exceptions import FilterArgumentError

from sitegen.markdown import liquid_filters


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


def add_jekyll_filters(env: Environment, links: Any) -> None:
    """Jekyll's filters in ``env``; ``links`` (a JekyllLinks) gives the site's URLs and
    sitegen's Markdown."""
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
