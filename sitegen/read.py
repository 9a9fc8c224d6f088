"""Read one source file into a ``Post``: decode, front matter, date, slug, URL."""

from __future__ import annotations

import hashlib
import math
import os
import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from urllib.parse import quote, unquote

from sitegen.config import JEKYLL_CONFIG_FILE, PERMALINK_STYLES, Config
from sitegen.discover import (
    DATED_NAME,
    JEKYLL_DRAFTS,
    Source,
)
from sitegen.errors import PostError, SkippedSource
from sitegen.frontmatter import (
    HeaderStore,
    UnclosedFrontMatter,
    as_list,
    key_line,
    parse_date,
    split_front_matter,
    with_defaults,
)
from sitegen.jekyll_skips import check_jekyll_kind, check_jekyll_page
from sitegen.model import Post

WORDS_PER_MINUTE = 220
READ_WARNINGS = "read_warnings"  # post.data: [(line, message)] reading found, for the report


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
    # Windows "\r\n" and old Mac "\r" line endings both become "\n"
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def slugify(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower(), flags=re.UNICODE)
    return re.sub(r"[\s_-]+", "-", slug).strip("-") or "post"


# Jekyll's slugify modes: "pretty" keeps the characters that read well in a URL
_PRETTY_RUN = re.compile(r"[^\w.~!$&'()+,;=@]+")
_DEFAULT_RUN = re.compile(r"[\W_]+")


def jekyll_slugify(text: str, *, pretty: bool = True, cased: bool = True) -> str:
    """Jekyll's ``slugify``: runs of other characters become one "-", none at either end
    (``with space`` -> ``with-space``); "pretty" mode keeps ``._~!$&'()+,;=@``."""
    slug = (_PRETTY_RUN if pretty else _DEFAULT_RUN).sub("-", text)
    slug = slug.removeprefix("-").removesuffix("-")
    return slug if cased else slug.lower()


def make_url(pattern: str, post: Post, jekyll: bool = False, extra: dict | None = None) -> str:
    """Fill a permalink pattern (Jekyll placeholders) for one post. ``jekyll``: Jekyll's
    meaning of ``:slug`` (lower case) and ``:categories`` (as written, lower case)."""
    d = post.date or datetime(1970, 1, 1)
    title = jekyll_slugify(post.slug)
    if jekyll:
        categories = "/".join(dict.fromkeys(c.lower() for c in post.categories))
    else:
        categories = "/".join(slugify(c) for c in post.categories)
    values = {
        "year": f"{d.year:04d}",
        "month": f"{d.month:02d}",
        "day": f"{d.day:02d}",
        "i_month": str(d.month),
        "i_day": str(d.day),
        "y_day": f"{d.timetuple().tm_yday:03d}",
        "short_year": f"{d.year % 100:02d}",
        "short_month": d.strftime("%b").upper(),
        "long_month": d.strftime("%B"),
        "week": f"{d.isocalendar()[1]:02d}",
        "w_year": str(d.isocalendar()[0]),
        "w_day": str(d.isoweekday()),
        "short_day": d.strftime("%a").upper(),
        "long_day": d.strftime("%A"),
        "hour": f"{d.hour:02d}",
        "minute": f"{d.minute:02d}",
        "second": f"{d.second:02d}",
        "title": title,
        "slug": jekyll_slugify(post.slug, pretty=False, cased=False) if jekyll else title,
        "name": jekyll_slugify(post.path.stem, pretty=False, cased=False),
        "categories": categories,
        "output_ext": ".html",
        **(extra or {}),
    }
    if jekyll:  # Jekyll's URL escapes what it fills in: "machine learning" -> machine%20learning
        values = {key: _escape_path(value) for key, value in values.items()}
    url = re.sub(r":([a-z_]+)", lambda m: values.get(m.group(1), m.group(0)), pattern)
    return re.sub(r"/{2,}", "/", url)


def _escape_path(value: str) -> str:
    """Jekyll's ``URL.escape_path``: all but a path's own characters %-escaped."""
    if _PLAIN_PATH.fullmatch(value):
        return value
    return quote(value, safe="/!$&'()*+,;=:@-._~")


_PLAIN_PATH = re.compile(r"[A-Za-z0-9./-]*")


def _finish_url(url: str, jekyll: bool) -> str:
    """A URL that names the file written: "/" in front, and a URL that does not end in
    "/" gets ``.html`` (Jekyll: unless it ends in ``.html``; elsewhere: unless its last
    part has an extension), so ``permalink: /a/noslash`` is ``/a/noslash.html``."""
    url = re.sub(r"/{2,}", "/", "/" + url.lstrip("/"))
    if not url.endswith("/"):
        last = url.rsplit("/", 1)[1]
        if (not url.endswith(".html")) if jekyll else ("." not in last):
            url += ".html"
    return url


def _page_url(post: Post, rel: str, config: Config) -> str:
    """Jekyll's URL of a page: ``/:path/:basename`` with the ending of the site's
    permalink style ("/" or ``.html``), ``/:path/`` for an index page."""
    folder, _, name = rel.rpartition("/")
    basename = name.rsplit(".", 1)[0]
    if basename == "index":
        return _finish_url(f"/{folder}/", True)
    return _finish_url(f"/{folder}/{basename}{_style_ending(config.permalink)}", True)


def _style_ending(permalink: str) -> str:
    """What Jekyll ends a page's URL with, after the site's permalink style."""
    if permalink.endswith("/"):
        return "/"
    return ".html" if permalink.endswith(":output_ext") else ""


def _collection_permalink(config: Config, label: str) -> str | None:
    """The ``permalink`` of a Jekyll collection in ``_config.yml`` (``posts`` too), as a
    pattern."""
    collections = config.extra.get("collections")
    meta = collections.get(label) if isinstance(collections, dict) else None
    permalink = meta.get("permalink") if isinstance(meta, dict) else None
    if not isinstance(permalink, str) or not permalink.strip():
        return None
    return PERMALINK_STYLES.get(permalink.strip(), permalink.strip())


def _collection_url(post: Post, rel: str, folder: str, config: Config) -> str:
    """A collection document's URL: the collection's ``permalink``, else
    ``/:collection/:path`` with the ending of the site's permalink style."""
    label = folder[1:]
    pattern = _collection_permalink(config, label)
    if pattern is None:
        pattern = "/:collection/:path" + _style_ending(config.permalink)
    path = rel[len(folder) : len(rel) - len(post.path.suffix)].rstrip(".")
    return _finish_url(make_url(pattern, post, True, {"collection": label, "path": path}), True)


def _name_date(groups: tuple[str, ...], rel: str) -> datetime:
    year, month, day = (int(g) for g in groups)
    if len(groups[0]) == 2:  # Ruby's parser completes a two-digit year
        year += 1900 if year >= 69 else 2000
    try:
        return datetime(year, month, day)
    except ValueError:
        raise PostError(f"no such date in the file name: {'-'.join(groups)}", rel, 1) from None


def read_post(
    source: Source,
    rel: str,
    config: Config,
    tz: tzinfo | None,
    headers: HeaderStore | None = None,
) -> Post:
    """Everything about a post that needs no Markdown: meta, title, date, slug, URL.
    ``headers`` keeps parsed front matter between builds."""
    jekyll = config.source == JEKYLL_CONFIG_FILE
    if jekyll:
        check_jekyll_kind(source, rel)
    post = Post(path=source.path, rel=rel, kind=source.kind)
    data = read_bytes(source.path)
    post.source = decode_source(data, rel)
    post.source_digest = hashlib.sha256(data).hexdigest()
    try:
        meta, body, body_line = split_front_matter(post.source, rel, headers)
    except UnclosedFrontMatter as exc:
        if not jekyll:
            raise
        # Jekyll: a file that starts with '---' is a page or post, and with no closing
        # line all of it is the body (the '---' a horizontal rule, the keys text)
        meta, body, body_line = {}, post.source, 1
        post.data[READ_WARNINGS] = [
            (1, f"{exc.message}: built as Jekyll builds it, the whole file as text with no "
             "front matter; close it with a '---' line")
        ]
    post.meta, post.body, post.body_line = meta, body, body_line
    if jekyll and "defaults" in config.extra:
        meta = post.meta = with_defaults(meta, config.extra["defaults"], rel, source.kind)

    stem = source.path.stem
    draft = source.folder == JEKYLL_DRAFTS
    dated = None if draft else DATED_NAME.match(stem)  # a draft's name is all slug
    if dated:
        # Jekyll drops trailing dots of a slug
        post.slug = dated.group(4).rstrip(".") if jekyll else dated.group(4)
        name_date = _name_date(dated.groups()[:3], rel)
    else:
        post.slug = stem
        name_date = None
    if isinstance(meta.get("slug"), str):
        post.slug = meta["slug"]
        safe_url(post.slug, post, "slug")  # URLs slugify it, but a hostile slug is an error

    if "date" in meta:
        try:
            post.date = parse_date(meta["date"], tz, jekyll)
        except ValueError as exc:
            raise PostError(str(exc), rel, key_line(post.source, "date")) from None
    elif name_date is not None:
        post.date = name_date.replace(tzinfo=tz) if tz else name_date
    elif draft:  # Jekyll dates a draft by its file's modification time
        post.date = datetime.fromtimestamp(os.stat(source.path).st_mtime, tz or UTC)
    elif source.kind == "post":
        raise PostError(
            "a post needs a date: name the file YYYY-MM-DD-slug.md or set 'date:'", rel, 1
        )

    title = meta.get("title")
    post.title = str(title) if title is not None else ""
    post.tags = as_list(meta.get("tags"))
    post.categories = as_list(meta.get("categories")) + _one_category(meta.get("category"))
    if jekyll and source.kind == "post":
        # the folders above a nested _posts/ ("blog/_posts/") come first, as in Jekyll
        above = rel.split("/_posts/", 1)[0].split("/") if "/_posts/" in rel else []
        post.categories = list(dict.fromkeys(above + post.categories))
    post.draft = draft or bool(meta.get("draft", False)) or meta.get("published") is False
    post.layout = str(meta.get("layout") or ("post" if source.kind == "post" else "page"))
    post.excerpt = str(meta.get("excerpt") or meta.get("description") or "")
    post.reading_minutes = max(1, math.ceil(post.words / WORDS_PER_MINUTE))

    permalink = meta.get("permalink")
    if isinstance(permalink, str) and permalink.strip():
        post.url = _finish_url(make_url(permalink.strip(), post, jekyll, _page_values(rel)), jekyll)
    elif source.kind == "page" and jekyll and source.folder.startswith("_"):
        post.url = _collection_url(post, rel, source.folder, config)
    elif source.kind == "page":
        post.url = _page_url(post, rel, config) if jekyll else f"/{post.slug}/"
    else:
        pattern = _collection_permalink(config, "posts") if jekyll else None
        post.url = _finish_url(make_url(pattern or config.permalink, post, jekyll), jekyll)
    if jekyll:
        if post.url == "/" and source.kind == "page":
            raise SkippedSource(
                "not built: the home page is sitegen's own list of posts (with the theme's "
                "index.html, or yours in templates/)",
                rel,
                1,
            )
        check_jekyll_page(post)
    post.url = safe_url(post.url, post, "permalink" if permalink else "slug")
    return post


def _one_category(value: object) -> list[str]:
    """``category: machine learning`` is one category (``categories:`` a list of words)."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    return as_list(value)


def _page_values(rel: str) -> dict[str, str]:
    folder, _, name = rel.rpartition("/")
    return {"path": folder, "basename": name.rsplit(".", 1)[0]}


def safe_url(url: str, post: Post, key: str) -> str:
    """``url`` without ``.`` segments; a URL that could leave the output folder (``..``,
    a NUL, a backslash, a control character) is an error naming the post and the line of
    ``key``, the front matter that made it."""
    parts = url.split("/")
    # the file written is the URL with its %-escapes read: check that too
    written = unquote(url) if "%" in url else url
    bad = ""
    if ".." in parts or ".." in written.split("/"):
        bad = "'..'"
    elif "\\" in written:
        bad = "a backslash"
    elif any(ord(c) < 0x20 or c == "\x7f" for c in written):
        bad = "a NUL or control character" if "\x00" in written else "a control character"
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


def header_version() -> str:
    """What parsing a YAML header depends on besides its text."""
    from sitegen import __version__
    from sitegen.frontmatter import HEADER_FORMAT

    return f"{__version__}.{HEADER_FORMAT}"


def read_salt(config: Config) -> str:
    """What reading a post depends on besides its file: the settings, as plugins left them."""
    return f"{header_version()}\0{config!r}\0{config.timezone}"


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
