"""The data that flows through the pipeline: a ``Site`` of ``Post``s, written as ``Page``s."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sitegen.config import Config
from sitegen.errors import Report


class Deferred:
    """A field value made on first use: the text of a post whose file did not change since
    the last build is read only if something asks for it (most rebuilds never do)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self.make = make

    def __reduce__(self) -> tuple:
        return (str, (self.make(),))  # pickled as the value it stands for


class _TextField:
    """A ``str`` field of a dataclass that may be given a :class:`Deferred`."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> str:
        if obj is None:
            return ""  # the field's default
        value = obj.__dict__[self.slot]
        if type(value) is Deferred:
            value = obj.__dict__[self.slot] = value.make()
        return value

    def __set__(self, obj: Any, value: str | Deferred) -> None:
        obj.__dict__[self.slot] = value


@dataclass
class Post:
    """One Markdown source: a dated post, or a stand-alone page (``kind == "page"``)."""

    path: Path  # absolute path of the source file
    rel: str  # path relative to the site root, used in every message
    kind: str = "post"  # "post" | "page"
    source: str = _TextField()  # type: ignore[assignment]  # the whole file, decoded
    body: str = _TextField()  # type: ignore[assignment]  # the Markdown after the front matter
    source_digest: str = ""  # sha256 of ``source``: what caches of its rendering are keyed by
    body_line: int = 1  # line number of the body's first line in the file
    meta: dict[str, Any] = field(default_factory=dict)  # front matter as written
    title: str = ""
    date: datetime | None = None
    slug: str = ""
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    url: str = ""
    draft: bool = False
    layout: str = "post"
    html: str = ""  # rendered body
    # the body cache's key for ``html`` when it came from or went into that cache: a digest
    # of everything the body depends on, so page keys need not hash the body itself
    html_key: str = ""
    excerpt: str = ""
    toc: list[tuple[int, str, str]] = field(default_factory=list)
    has_math: bool = False
    reading_minutes: int = 1
    failed: bool = False  # set when the post could not be built
    # a Jekyll page whose text its Liquid makes (a loop over site.posts, an include in
    # HTML): run by a Liquid engine, after every other body (sitegen.jekyll_liquid)
    liquid: bool = False
    # results plugins attach to a post; read by templates
    data: dict[str, Any] = field(default_factory=dict)
    previous: Post | None = field(default=None, repr=False)
    next: Post | None = field(default=None, repr=False)

    @property
    def words(self) -> int:
        return len(self.body.split())


@dataclass
class Page:
    """One output file: rendered from a template with a context, or given bytes/text."""

    url: str  # "/2016/08/30/slug/" (an index.html inside) or "/feed.xml"
    template: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    content: str | bytes | None = None
    post: Post | None = None  # the post this page shows, if any

    @property
    def output_path(self) -> str:
        """Path of the file inside the output folder (see ``output_path``)."""
        return output_path(self.url)


def output_path(url: str) -> str:
    """Path of a URL's file inside the output folder: the URL with its %-escapes read
    (Jekyll's ``/machine%20learning/…`` is the folder ``machine learning``)."""
    path = url.lstrip("/")
    if "%" in path:
        path = unquote(path)
    if not path or path.endswith("/"):
        path += "index.html"
    return path


@dataclass
class BuildOptions:
    out: Path | None = None
    drafts: bool = False
    future: bool = False
    strict: bool = True
    jobs: int = 0  # 0: number of cores
    rerun: bool = False  # ignore every cache: run all code, render every page
    serve: bool = False  # building for the live preview
    # options plugins added to the command line (``sitegen_add_options``), by name
    extra: dict[str, Any] = field(default_factory=dict)
    only: list[Path] | None = None  # restrict to these sources (sitegen check PATHS)
    quiet: bool = False
    verbose: bool = False
    atomic: bool = False  # replace the whole output at once (``sitegen build --atomic``)


@dataclass
class Site:
    root: Path
    config: Config
    options: BuildOptions
    report: Report = field(default_factory=Report)
    posts: list[Post] = field(default_factory=list)  # dated posts, newest first
    pages: list[Post] = field(default_factory=list)  # stand-alone pages (About, …)
    static: list[tuple[Path, str]] = field(default_factory=list)  # (source, output path)
    plugins: Any = None  # the pluggy PluginManager
    # folders laid out like a theme, first found wins: the theme's, then plugins'
    theme_dirs: list[Path] = field(default_factory=list)
    # plugins' site-wide data (templates see it as ``site.data``); never engine state
    data: dict[str, Any] = field(default_factory=dict)
    cache: Any = None  # the build's ``sitegen.cache.CacheStore``, for plugins too
    markdown: Any = None  # the build's Markdown parser (markdown-it), once made
    macros: dict[str, Any] = field(default_factory=dict)  # TeX macros of the macros file
    # why plugins judged the site failed (e.g. a check did not pass): strict builds exit 1
    failed: list[str] = field(default_factory=list)
    # posts dated in the future, held back: source → the moment (UTC) it is due
    scheduled: dict[str, datetime] = field(default_factory=dict)
    # a Jekyll site's pages left unbuilt (Liquid it cannot run): URL → source; sitegen's own
    # page of the same name (archive, tags) is written at that URL too
    unbuilt: dict[str, str] = field(default_factory=dict)

    def url_for(self, url: str) -> str:
        """A site-relative URL with the configured base path in front."""
        return self.config.baseurl + url

    def absolute_url(self, url: str) -> str:
        return self.config.url.rstrip("/") + self.url_for(url)
