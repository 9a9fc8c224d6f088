"""Front matter: split the YAML header from the body and turn it into post fields."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

from sitegen.errors import PostError


@functools.lru_cache(maxsize=1)
def _loader() -> Any:
    # PyYAML is imported on first use: a rebuild whose front matter all comes from the
    # cache never loads it.
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is much faster

    class Loader(base):  # type: ignore[misc, valid-type]
        """Safe YAML, but dates stay strings: ``parse_date`` reads them and reports bad
        ones with the post's file and line instead of failing inside the YAML parser."""

    Loader.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )
    return Loader


_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)
_CLOSE = re.compile(r"^(---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


class HeaderStore(Protocol):
    """Parsed headers by their text (``sitegen.cache.FrontMatterCache``)."""

    def get(self, header: str) -> Any: ...

    def put(self, header: str, meta: Any) -> None: ...


def split_front_matter(
    text: str, rel: str, headers: HeaderStore | None = None
) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, line number of the body's first line). ``headers``
    remembers parsed headers between builds."""
    if not text.startswith("---"):
        return {}, text, 1
    first_end = text.find("\n")
    if first_end == -1 or text[:first_end].rstrip() != "---":
        return {}, text, 1
    close = _CLOSE.search(text, first_end + 1)
    if close is None:
        raise PostError("front matter opened with '---' is never closed", rel, 1)
    header = text[first_end + 1 : close.start()]
    body_start = text.find("\n", close.end())
    body = "" if body_start == -1 else text[body_start + 1 :]
    body_line = text.count("\n", 0, body_start + 1) + 1 if body_start != -1 else 1
    if headers is not None:
        meta = headers.get(header)
        if meta is not None:
            return meta, body, body_line
    import yaml

    try:
        meta = yaml.load(header, Loader=_loader()) if header.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for the '---' line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PostError(f"malformed front matter: {problem}", rel, line) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise PostError("front matter must be a mapping of keys to values", rel, 2)
    if headers is not None:
        headers.put(header, meta)
    return meta, body, body_line


def key_line(text: str, key: str) -> int | None:
    """Line of ``key:`` in the front matter, so messages about a value can point at it."""
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


_OFFSET = re.compile(r"\s*([+-])(\d{2}):?(\d{2})$")


def parse_date(value: Any, tz: timezone | None = None) -> datetime:
    """Accept YAML dates and the string forms Jekyll accepts ("2016-08-30 15:40:00 +0530")."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        offset = None
        m = _OFFSET.search(text)
        if m and len(text) > 10:
            sign = 1 if m.group(1) == "+" else -1
            offset = timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
            text = text[: m.start()]
        try:
            result = datetime.fromisoformat(text.replace("T", " ").strip())
        except ValueError:
            raise ValueError(f"bad date {value!r}: expected e.g. 2016-08-30 15:40:00") from None
        if offset is not None:
            result = result.replace(tzinfo=offset)
    else:
        raise ValueError(f"bad date {value!r}: expected e.g. 2016-08-30 15:40:00")
    if result.tzinfo is None and tz is not None:
        result = result.replace(tzinfo=tz)
    return result


def as_list(value: Any) -> list[str]:
    """Tags and categories: a YAML list or a space-separated string, as Jekyll reads them."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [str(value)]
