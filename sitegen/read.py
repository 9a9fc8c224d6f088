"""Read one source file into a ``Post``: decode, front matter, date, slug, URL."""

from __future__ import annotations

import hashlib
import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from sitegen.config import Config
from sitegen.discover import DATED_NAME, Source
from sitegen.errors import PostError
from sitegen.frontmatter import (
    HeaderStore,
    as_list,
    key_line,
    parse_date,
    split_front_matter,
)
from sitegen.model import Post

WORDS_PER_MINUTE = 220


def read_bytes(path: Path | str) -> bytes:
    """A file's bytes. Plain descriptor reads cost half of ``Path.read_bytes`` (no
    buffered file object), which shows when a rebuild reads a thousand sources."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        parts = []
        while chunk := os.read(fd, 1 << 20):
            parts.append(chunk)
    finally:
        os.close(fd)
    return b"".join(parts)


def decode_source(data: bytes, rel: str) -> str:
    """Text of a source file, or a PostError that says what is wrong with its bytes."""
    if not data or data.isspace():
        raise PostError("empty file: a post needs at least a title or some text", rel, 1)
    if data.find(b"\x00", 0, 8192) >= 0:
        raise PostError("binary file in a content folder (it holds NUL bytes)", rel)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PostError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
            rel,
            line,
        ) from None
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n") if "\r" in text else text


def slugify(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower(), flags=re.UNICODE)
    return re.sub(r"[\s_-]+", "-", slug).strip("-") or "post"


def make_url(pattern: str, post: Post) -> str:
    """Fill a permalink pattern (Jekyll placeholders) for one post."""
    d = post.date or datetime(1970, 1, 1)
    values = {
        "year": f"{d.year:04d}",
        "month": f"{d.month:02d}",
        "day": f"{d.day:02d}",
        "i_month": str(d.month),
        "i_day": str(d.day),
        "y_day": f"{d.timetuple().tm_yday:03d}",
        "short_year": f"{d.year % 100:02d}",
        "hour": f"{d.hour:02d}",
        "minute": f"{d.minute:02d}",
        "second": f"{d.second:02d}",
        "title": post.slug,
        "slug": post.slug,
        "categories": "/".join(slugify(c) for c in post.categories),
    }
    url = re.sub(r":([a-z_]+)", lambda m: values.get(m.group(1), m.group(0)), pattern)
    return re.sub(r"/{2,}", "/", url)


def read_post(
    source: Source,
    rel: str,
    config: Config,
    tz: timezone | None,
    headers: HeaderStore | None = None,
) -> Post:
    """Everything about a post that needs no Markdown: meta, title, date, slug, URL.
    ``headers`` keeps parsed front matter between builds."""
    post = Post(path=source.path, rel=rel, kind=source.kind)
    data = read_bytes(source.path)
    post.source = decode_source(data, rel)
    post.source_digest = hashlib.sha256(data).hexdigest()
    meta, body, body_line = split_front_matter(post.source, rel, headers)
    post.meta, post.body, post.body_line = meta, body, body_line

    stem = source.path.stem
    dated = DATED_NAME.match(stem)
    if dated:
        post.slug = dated.group(4)
        name_date = datetime(*(int(g) for g in dated.groups()[:3]))
    else:
        post.slug = stem
        name_date = None
    if isinstance(meta.get("slug"), str):
        post.slug = meta["slug"]

    if "date" in meta:
        try:
            post.date = parse_date(meta["date"], tz)
        except ValueError as exc:
            raise PostError(str(exc), rel, key_line(post.source, "date")) from None
    elif name_date is not None:
        post.date = name_date.replace(tzinfo=tz) if tz else name_date
    elif source.kind == "post":
        raise PostError(
            "a post needs a date: name the file YYYY-MM-DD-slug.md or set 'date:'", rel, 1
        )

    title = meta.get("title")
    post.title = str(title) if title is not None else ""
    post.tags = as_list(meta.get("tags"))
    post.categories = as_list(meta.get("categories") or meta.get("category"))
    post.draft = bool(meta.get("draft", False)) or meta.get("published") is False
    post.layout = str(meta.get("layout") or ("post" if source.kind == "post" else "page"))
    post.excerpt = str(meta.get("excerpt") or meta.get("description") or "")
    post.reading_minutes = max(1, math.ceil(post.words / WORDS_PER_MINUTE))

    permalink = meta.get("permalink")
    if isinstance(permalink, str) and permalink.strip():
        post.url = make_url(permalink.strip(), post)
        if not post.url.startswith("/"):
            post.url = "/" + post.url
    elif source.kind == "page":
        post.url = f"/{post.slug}/"
    else:
        post.url = make_url(config.permalink, post)
    post.url = safe_url(post.url, post, "permalink" if permalink else "slug")
    return post


def safe_url(url: str, post: Post, key: str) -> str:
    """``url`` without ``.`` segments; a URL that could leave the output folder (``..``,
    a NUL, a backslash, a control character) is an error naming the post and the line of
    ``key``, the front matter that made it."""
    parts = url.split("/")
    bad = ""
    if ".." in parts:
        bad = "'..'"
    elif "\\" in url:
        bad = "a backslash"
    elif any(ord(c) < 0x20 or c == "\x7f" for c in url):
        bad = "a NUL or control character" if "\x00" in url else "a control character"
    if bad:
        where = key if key_line(post.source, key) else "permalink"
        raise PostError(
            f"the URL {url!r} contains {bad}: it could write outside the output folder; "
            f"fix '{where}:' in the front matter",
            post.rel,
            key_line(post.source, key) or key_line(post.source, "permalink"),
        )
    if "." in parts:
        url = "/".join(part for part in parts if part != ".")
    return url


def is_jekyll_unpublished(source: Source) -> bool:
    """Jekyll silently skips files in ``_posts/`` whose names carry no date; so do we."""
    return source.folder == "_posts" and not DATED_NAME.match(source.path.stem)


def source_rel(root: Path, path: Path) -> str:
    prefix, text = str(root) + os.sep, str(path)
    if text.startswith(prefix):  # the common case, without pathlib's general machinery
        return text[len(prefix) :].replace(os.sep, "/")
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
