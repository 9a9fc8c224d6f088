"""Jekyll's and Liquid's common filters in an output tag: ``{{ "/x" | relative_url }}``,
``{{ page.date | date_to_string }}``, ``{{ page.title | upcase }}``.

An expression is a value (a quoted string, a number, ``true``/``false``/``nil``, or a
``site.``/``page.`` lookup) followed by filters, each with its arguments after a colon.
Filters that need what sitegen does not run (``markdownify``, ``where``, ``group_by``) are
a LiquidError, so the tag stays visible with a warning. The result is text; the caller
escapes it as it escapes every Liquid value, which is why ``escape`` and ``xml_escape``
change nothing that is shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

# a quoted string, or a run of anything but quotes and the filter bar
_PART = re.compile(r"""'[^']*'|"[^"]*"|[^'"|]+""")
_ARG_SPLIT = re.compile(r"""'[^']*'|"[^"]*"|[^'",]+""")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_TAGS = re.compile(r"<[^>]*>")


class FilterError(Exception):
    """A filter that cannot be applied: its message says which and why."""


def split_filters(expr: str) -> list[str] | None:
    """``'a' | f: 1, 2 | g`` -> ["'a'", "f: 1, 2", "g"]; None when quotes do not close."""
    parts, current, pos = [], "", 0
    while pos < len(expr):
        if expr[pos] == "|":
            parts.append(current.strip())
            current, pos = "", pos + 1
            continue
        found = _PART.match(expr, pos)
        if found is None:
            return None  # an unclosed quote
        current += found.group(0)
        pos = found.end()
    parts.append(current.strip())
    return parts


def _value(text: str, lookup: Callable[[str], Any]) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    if text in ("true", "false"):
        return text == "true"
    if text in ("nil", "null", ""):
        return None
    return lookup(text)


def _arguments(text: str, lookup: Callable[[str], Any]) -> list[Any]:
    return [_value(m.group(0), lookup) for m in _ARG_SPLIT.finditer(text) if m.group(0).strip()]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_date(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        if value.strip() in ("now", "today"):
            return datetime.now(UTC)
        from sitegen.frontmatter import parse_date

        try:
            return parse_date(value.strip(), jekyll=True)
        except ValueError:
            pass
    raise FilterError(f"not a date: {_text(value)!r}")


def _strftime(value: Any, fmt: str) -> str:
    when = _as_date(value)
    # Ruby's %-d / %-m (no padding) are glibc's too; %e pads with a space in both
    return when.strftime(fmt)


def _relative_url(value: Any, site: dict) -> str:
    text = _text(value)
    if urlsplit(text).scheme or text.startswith("//"):
        return text
    base = _text(site.get("baseurl")).strip("/")
    path = "/" + text.lstrip("/") if text else "/"
    return ("/" + base if base else "") + path


def _absolute_url(value: Any, site: dict) -> str:
    text = _text(value)
    if urlsplit(text).scheme or text.startswith("//"):
        return text
    return _text(site.get("url")).rstrip("/") + _relative_url(text, site)


def _slugify(value: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _text(value).lower()).strip("-")


def _truncate(value: Any, size: int = 50, ellipsis: str = "...") -> str:
    text = _text(value)
    if len(text) <= size:
        return text
    return text[: max(0, size - len(ellipsis))] + ellipsis


def _truncatewords(value: Any, count: int = 15, ellipsis: str = "...") -> str:
    words = _text(value).split()
    return " ".join(words[:count]) + (ellipsis if len(words) > count else "")


def _date_to_string(value: Any, style: str = "", order: str = "") -> str:
    return _jekyll_date(value, "%b", style, order)


def _date_to_long_string(value: Any, style: str = "", order: str = "") -> str:
    return _jekyll_date(value, "%B", style, order)


def _jekyll_date(value: Any, month: str, style: str, order: str) -> str:
    when = _as_date(value)
    if style != "ordinal":
        return when.strftime(f"%d {month} %Y")
    day = when.day
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    if order == "US":
        return when.strftime(f"{month} ") + f"{day}{suffix}, {when.year}"
    return f"{day}{suffix} " + when.strftime(f"{month} %Y")


def _sequence(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


# name -> (function of the input and the arguments, whether it reads ``site``)
_FILTERS: dict[str, tuple[Callable[..., Any], bool]] = {
    "relative_url": (_relative_url, True),
    "absolute_url": (_absolute_url, True),
    "date_to_string": (_date_to_string, False),
    "date_to_long_string": (_date_to_long_string, False),
    "date_to_xmlschema": (lambda v: _as_date(v).isoformat(), False),
    "date_to_rfc822": (lambda v: _as_date(v).strftime("%a, %d %b %Y %H:%M:%S %z").strip(), False),
    "date": (_strftime, False),
    "xml_escape": (_text, False),
    "escape": (_text, False),
    "escape_once": (_text, False),
    "cgi_escape": (lambda v: quote_plus(_text(v)), False),
    "uri_escape": (lambda v: quote(_text(v), safe="/:?#[]@!$&'()*+,;=%-._~"), False),
    "url_encode": (lambda v: quote_plus(_text(v)), False),
    "upcase": (lambda v: _text(v).upper(), False),
    "downcase": (lambda v: _text(v).lower(), False),
    "capitalize": (lambda v: _text(v)[:1].upper() + _text(v)[1:].lower(), False),
    "strip": (lambda v: _text(v).strip(), False),
    "lstrip": (lambda v: _text(v).lstrip(), False),
    "rstrip": (lambda v: _text(v).rstrip(), False),
    "strip_html": (lambda v: _TAGS.sub("", _text(v)), False),
    "strip_newlines": (lambda v: _text(v).replace("\n", ""), False),
    "append": (lambda v, s="": _text(v) + _text(s), False),
    "prepend": (lambda v, s="": _text(s) + _text(v), False),
    "replace": (lambda v, a="", b="": _text(v).replace(_text(a), _text(b)), False),
    "replace_first": (lambda v, a="", b="": _text(v).replace(_text(a), _text(b), 1), False),
    "remove": (lambda v, a="": _text(v).replace(_text(a), ""), False),
    "remove_first": (lambda v, a="": _text(v).replace(_text(a), "", 1), False),
    "default": (lambda v, d="": d if v in (None, "", False, [], {}) else v, False),
    "size": (lambda v: len(v) if isinstance(v, str | list | tuple | dict) else 0, False),
    "slugify": (_slugify, False),
    "truncate": (_truncate, False),
    "truncatewords": (_truncatewords, False),
    "number_of_words": (lambda v: len(_text(v).split()), False),
    "join": (lambda v, sep=" ": _text(sep).join(_text(x) for x in _sequence(v)), False),
    "first": (lambda v: _sequence(v)[0] if _sequence(v) else None, False),
    "last": (lambda v: _sequence(v)[-1] if _sequence(v) else None, False),
    "jsonify": (lambda v: json.dumps(v, default=str, ensure_ascii=False), False),
}


# what a real Liquid engine may take from here (``sitegen.jekyll_liquid_env``)
JEKYLL_FILTER_NAMES = tuple(_FILTERS)

# Filters of Liquid 4 and Jekyll 4.3 themselves. Liquid without ``strict_filters`` (Jekyll's
# default) passes a value through a filter it does not have unchanged: a name not in this
# list (a plugin's filter, a typo) is skipped the same way, and said (``skipped``).
KNOWN_FILTERS = frozenset(
    "abs append at_least at_most capitalize ceil compact concat date default divided_by "
    "downcase escape escape_once first floor join last lstrip map minus modulo "
    "newline_to_br plus prepend remove remove_first replace replace_first reverse round "
    "rstrip size slice sort sort_natural split strip strip_html strip_newlines sum times "
    "truncate truncatewords uniq upcase url_decode url_encode where "
    "absolute_url relative_url date_to_xmlschema date_to_rfc822 date_to_string "
    "date_to_long_string xml_escape cgi_escape uri_escape number_of_words "
    "array_to_sentence_string markdownify smartify sassify scssify slugify jsonify "
    "normalize_whitespace where_exp find find_exp group_by group_by_exp pop push shift "
    "unshift inspect sample to_integer".split()
)


def site_filter(name: str) -> Callable[[Any, dict], Any]:
    """The filter ``name`` that reads the site's ``baseurl``/``url``: f(value, site)."""
    return _FILTERS[name][0]


def plain_filter(name: str) -> Callable[..., Any] | None:
    """The filter ``name`` when it needs nothing but its input and arguments."""
    known = _FILTERS.get(name)
    return known[0] if known is not None and not known[1] else None


def apply_filters(
    expr: str, lookup: Callable[[str], Any], site: dict, skipped: list[str] | None = None
) -> tuple[bool, Any]:
    """(True, value) of ``expr`` when it is a literal or has filters; (False, None) when it
    is a plain lookup, left to the caller. FilterError names what cannot be done; the
    names of filters neither Liquid nor Jekyll has, passed over as Liquid does, are added
    to ``skipped``."""
    parts = split_filters(expr)
    if parts is None:
        raise FilterError("a quote is not closed")
    head = parts[0]
    literal = head[:1] in ("'", '"') or _NUMBER.fullmatch(head) or head in ("true", "false", "nil")
    if len(parts) == 1 and not literal:
        return False, None
    value = _value(head, lookup)
    for part in parts[1:]:
        name, _, args = part.partition(":")
        name = name.strip()
        known = _FILTERS.get(name)
        if known is None and name not in KNOWN_FILTERS and skipped is not None:
            skipped.append(name)
            continue
        if known is None:
            raise FilterError(f"the filter '{name}' is not one sitegen applies")
        function, reads_site = known
        arguments = _arguments(args, lookup) if args.strip() else []
        try:
            value = function(value, site, *arguments) if reads_site else function(value, *arguments)
        except (TypeError, ValueError, IndexError) as exc:
            raise FilterError(f"'{name}' cannot take {_text(value)!r}: {exc}") from None
    return True, value


_LOOKUP = re.compile(r"(?:site|page)(?:\.[A-Za-z_][\w-]*)+")


def supported_output(expr: str) -> bool:
    """Whether ``apply_filters`` can render ``expr`` (a value and known filters), as far
    as can be told without the values."""
    parts = split_filters(expr)
    if not parts:
        return False
    head = parts[0]
    literal = head[:1] in ("'", '"') or _NUMBER.fullmatch(head) or head in ("true", "false")
    if not literal and not _LOOKUP.fullmatch(head):
        return False
    return all(part.partition(":")[0].strip() in _FILTERS for part in parts[1:])
