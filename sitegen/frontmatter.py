"""Front matter: split the YAML header from the body and turn it into post fields."""

from __future__ import annotations

import fnmatch
import functools
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
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
        "tag:yaml.org,2002:timestamp",
        lambda loader, node: YamlTimestamp(loader.construct_scalar(node)),
    )
    return Loader


class YamlTimestamp(str):
    """A date written as a plain (unquoted) YAML timestamp. Jekyll's YAML reader makes a
    time of it, in UTC when it names no zone, where a quoted date is read as local time."""

    __slots__ = ()


# How headers are turned into values; part of the front matter cache's version.
HEADER_FORMAT = "2"


_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)
_CLOSE = re.compile(r"^(---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


class HeaderStore(Protocol):
    """Parsed headers by their text (``sitegen.cache.FrontMatterCache``)."""

    def get(self, header: str) -> Any: ...

    def put(self, header: str, meta: Any) -> None: ...


class UnclosedFrontMatter(PostError):
    """A first line ``---`` with no closing line: an error on a sitegen site; Jekyll
    builds the file with all of it as the body."""


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
        raise UnclosedFrontMatter("front matter opened with '---' is never closed", rel, 1)
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


_MONTHS = {
    name: number
    for number, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december"),
        start=1,
    )
    for name in names.split()
}
# The zone names Ruby's date parser knows that blogs write (hours east of UTC).
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5,
    "mst": -7, "mdt": -6, "pst": -8, "pdt": -7, "akst": -9, "akdt": -8, "hst": -10,
    "wet": 0, "bst": 1, "cet": 1, "cest": 2, "eet": 2, "eest": 3, "msk": 3, "ist": 5.5,
    "jst": 9, "kst": 9, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
}
_NUMERIC_DATE = r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
_NAMED_DATE = (
    r"(?:(?P<mon1>[a-z]{3,9})\.?\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon2>[a-z]{3,9})\.?,?\s+(?P<y2>\d{4}))"
)
_TIME = (
    r"(?:(?:t|\s+|\s*,\s*|\s+at\s+)(?P<H>\d{1,2}):(?P<M>\d{2})"
    r"(?::(?P<S>\d{2})(?:[.,](?P<frac>\d+))?)?\s*(?P<ampm>[ap]\.?m\.?)?)?"
)
_OFFSET = r"[+-]\d{1,2}(?::?\d{2})?"
_ZONE = rf"\s*(?P<zone>z|{_OFFSET}|(?:utc|gmt){_OFFSET}|[a-z]{{2,5}})?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_LENIENT_DATE = re.compile(
    rf"{_WEEKDAY}(?:{_NUMERIC_DATE}|{_NAMED_DATE}){_TIME}{_ZONE}", re.IGNORECASE
)
# Jekyll's YAML reader (Psych) makes a time of a plain scalar of this shape.
_YAML_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:t|\s+)\d{1,2}:\d\d:\d\d", re.IGNORECASE)


def _zone_offset(zone: str) -> timezone | None:
    """The fixed offset a zone suffix names; None for a name Ruby's parser would not know
    (Jekyll then reads the time as local, and so do we)."""
    text = zone.lower()
    if text.startswith(("utc", "gmt")) and len(text) > 3:
        text = text[3:]
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
        sign = 1 if text[0] == "+" else -1
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    hours = _ZONES.get(text)
    return None if hours is None else timezone(timedelta(hours=hours))


def _parse_text_date(text: str) -> tuple[datetime, timezone | None, bool]:
    """(wall-clock time, the zone it names or None, whether it has a time of day), for
    the forms Jekyll's date parser accepts: ``2016-08-30 15:40:00 +0530``, one-digit
    months, days and hours (``2018-3-2 9:00:00``), ``2020/01/06``, ``Jan 6, 2020 9:00 pm``
    and RFC 822 dates with a weekday."""
    match = _LENIENT_DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError
    g = match.groupdict()
    if g["y"]:
        year, month, day = int(g["y"]), int(g["m"]), int(g["d"])
    else:
        year = int(g["y1"] or g["y2"])
        day = int(g["d1"] or g["d2"])
        month = _MONTHS.get((g["mon1"] or g["mon2"]).lower(), 0)
    hour = int(g["H"] or 0)
    if g["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError
        hour = hour % 12 + (12 if g["ampm"][0] in "pP" else 0)
    micro = int((g["frac"] or "0")[:6].ljust(6, "0"))
    wall = datetime(year, month, day, hour, int(g["M"] or 0), int(g["S"] or 0), micro)
    zone = _zone_offset(g["zone"]) if g["zone"] else None
    if g["zone"] and zone is None and g["zone"].lower() in ("am", "pm"):
        raise ValueError
    return wall, zone, g["H"] is not None


def parse_date(value: Any, tz: tzinfo | None = None, jekyll: bool = False) -> datetime:
    """A post's date from its front matter value, in the site's zone ``tz`` (None: naive).

    Accepts YAML dates and the string forms Jekyll accepts (see ``_parse_text_date``). A
    date without a zone is local time, except that on a Jekyll site (``jekyll``) a plain
    YAML timestamp with a time of day is UTC, as Jekyll reads it; there every date is then
    shown in the site's zone, as Jekyll does (which can move a post to the day before)."""
    bad = ValueError(f"bad date {value!r}: expected e.g. 2016-08-30 15:40:00")
    zone: tzinfo | None = None
    if isinstance(value, datetime):
        result, zone = value.replace(tzinfo=None), value.tzinfo
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            result, zone, has_time = _parse_text_date(value)
        except ValueError:
            raise bad from None
        if jekyll and zone is None and has_time and type(value) is YamlTimestamp:
            zone = UTC if _YAML_TIME.match(value.strip()) else None
    else:
        raise bad
    if zone is None:
        return result.replace(tzinfo=tz) if tz is not None else result
    aware = result.replace(tzinfo=zone)
    if not jekyll:
        return aware
    return aware.astimezone(tz) if tz is not None else aware.astimezone(UTC).replace(tzinfo=None)


def _deep_merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``, tables merged key by key; a null in ``over`` keeps
    what ``base`` has (Jekyll's ``deep_merge_hashes``)."""
    merged = dict(base)
    for key, value in over.items():
        if value is None and key in merged:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = _deep_merge(merged[key], value)
        merged[key] = value
    return merged


def _scope_path(path: Any) -> str:
    return path.strip("/") if isinstance(path, str) else ""


def _in_scope(scope: dict, rel: str, kind: str) -> bool:
    if "type" in scope and str(scope["type"]).rstrip("s") != kind.rstrip("s"):
        return False
    path = _scope_path(scope.get("path"))
    if not path:
        return True
    if "*" in path:  # Jekyll globs it: any folder above the file (or the file) matches
        parts = rel.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[:i]), path) for i in range(1, len(parts) + 1))
    return rel.startswith(path)


def _takes_precedence(old: dict | None, new: dict) -> bool:
    if old is None:
        return True
    new_path, old_path = _scope_path(new.get("path")), _scope_path(old.get("path"))
    if len(new_path) != len(old_path):
        return len(new_path) > len(old_path)
    return "type" in new or "type" not in old


def with_defaults(meta: dict[str, Any], sets: Any, rel: str, kind: str) -> dict[str, Any]:
    """Front matter with a Jekyll site's ``defaults`` under it: every set whose scope
    (``path`` prefix or glob, ``type`` posts/pages) takes in the file at ``rel``, the more
    specific scope winning, as Jekyll merges them; the file's own keys win over all."""
    if not isinstance(sets, list):
        return meta
    defaults: dict[str, Any] = {}
    old_scope = None
    for entry in sets:
        if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
            continue
        scope = entry.get("scope") if isinstance(entry.get("scope"), dict) else {}
        if not _in_scope(scope, rel, kind):
            continue
        if _takes_precedence(old_scope, scope):
            defaults = _deep_merge(defaults, entry["values"])
            old_scope = scope
        else:
            defaults = _deep_merge(entry["values"], defaults)
    return _deep_merge(defaults, meta) if defaults else meta


def as_list(value: Any) -> list[str]:
    """Tags and categories: a YAML list or a space-separated string, as Jekyll reads them."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [str(value)]
