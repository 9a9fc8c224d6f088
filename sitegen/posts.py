"""The read stage: every source discovered and read, and what this build publishes kept
(drafts, posts dated in the future and duplicate URLs left out), newest post first.

A clean build reads most of them in a copy forked before the build imported its engine
(:mod:`sitegen.reading_copy`), the rest here. Reading in copies forked here, after the
imports, made clean builds slower on two cores (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sitegen.cache import ReadCache
from sitegen.config import JEKYLL_CONFIG_FILE, Config
from sitegen.discover import Source, discover_sources, output_collections
from sitegen.errors import PostError
from sitegen.frontmatter import key_line
from sitegen.jekyll_skips import jekyll_write_order
from sitegen.model import BuildOptions, Post, Site
from sitegen.plugins import call_hook
from sitegen.read import READ_WARNINGS, is_jekyll_unpublished, read_post, source_rel
from sitegen.reading_copy import ReadingCopy, copy_reads
from sitegen.schedule import instant, is_scheduled, site_zone

Read = Callable[[Source, str, Any, Any], Post]


def read_posts(
    site: Site,
    read: Read = read_post,
    published: Callable[[Post], None] | None = None,
    copy: ReadingCopy | None = None,
    cache: ReadCache | None = None,
) -> None:
    """Discover and read every source; keep what this build publishes (each also told to
    ``published`` as soon as it is read). With a reading ``copy``, this process reads its
    share first, then takes the copy's posts into ``cache`` (which ``read`` goes through)."""
    tz = site_zone(site.config.timezone)
    now = datetime.now(UTC)
    posts, pages = [], []
    only = {p.resolve() for p in site.options.only} if site.options.only else None
    jekyll = site.config.source == JEKYLL_CONFIG_FILE
    drafts, future = publishing(site.config, site.options)
    sources = []
    for source in discover_sources(site.root):
        rel = source_rel(site.root, source.path)
        if is_jekyll_unpublished(source):
            site.report.warning(rel, None, "no date in the file name: skipped, as Jekyll does")
            continue
        if only is not None and source.path.resolve() not in only:
            continue
        sources.append((source, rel))
    if copy is not None and cache is not None:
        read = _with_copy(site, read, cache, sources, tz, copy)
    for source, rel in sources:
        try:
            post = read(source, rel, site.config, tz)
        except PostError as exc:
            site.report.add(exc.diagnostic())
            continue
        except OSError as exc:
            site.report.error(rel, None, f"cannot read: {exc.strerror}")
            continue
        for line, message in post.data.get(READ_WARNINGS, ()):
            site.report.warning(rel, line, message)
        if post.draft and not drafts:
            continue
        if scheduled(post, future, tz, now):
            site.scheduled[rel] = instant(post.date, tz)
            shown = post.date.strftime("%Y-%m-%d %H:%M:%S")
            zone = post.date.strftime(" %z") if post.date.tzinfo else f" {site.config.timezone}"
            also = ", as future: true in _config.yml does" if jekyll else ""
            site.report.note(
                rel, None, f"dated {shown}{zone}, in the future: not published until then"
                f" (--future builds it now{also})"
            )
            continue
        call_hook(site, "sitegen_post_loaded", post=post, site=site)
        if post.failed:
            continue
        (posts if post.kind == "post" else pages).append(post)
        if published is not None:
            published(post)
    posts.sort(key=lambda p: (p.date.replace(tzinfo=None), p.rel), reverse=True)
    kept = _drop_duplicate_urls(site, posts + pages)
    site.pages = [p for p in kept if p.kind == "page"]
    site.posts = [p for p in kept if p.kind == "post"]
    for newer, older in zip(site.posts, site.posts[1:], strict=False):
        newer.previous, older.next = older, newer


def publishing(config: Config, options: BuildOptions) -> tuple[bool, bool]:
    """(drafts, future): whether this build publishes drafts, and posts dated in the
    future (a Jekyll site's _config.yml may say so too: show_drafts, future)."""
    jekyll = config.source == JEKYLL_CONFIG_FILE
    drafts = options.drafts or (jekyll and config.extra.get("show_drafts") is True)
    future = options.future or (jekyll and config.extra.get("future") is True)
    return drafts, future


def scheduled(post: Post, future: bool, tz: Any, now: datetime) -> bool:
    """Whether this post is held back until its date."""
    return (
        post.kind == "post" and not future and post.date is not None
        and is_scheduled(post.date, tz, now)
    )


def _with_copy(
    site: Site, read: Read, cache: ReadCache, sources: list[tuple[Source, str]], tz: Any,
    copy: ReadingCopy,
) -> Read:
    """``read``, with this process's share of the sources read first and the copy's posts
    taken into ``cache`` (when the copy read with these settings)."""
    ready: dict[str, Post | Exception] = {}
    for index, (source, rel) in enumerate(sources):
        if not copy_reads(index):
            try:
                ready[rel] = read(source, rel, site.config, tz)
            except (PostError, OSError) as exc:
                ready[rel] = exc
    received = copy.results()
    if received is not None and received.key == cache.key:
        cache.adopt(received.entries, received.texts)
        copy.adopted = True

    def read_in_order(source: Source, rel: str, config: Any, zone: Any) -> Post:
        found = ready.pop(rel, None)
        if isinstance(found, Exception):
            raise found
        return found if found is not None else read(source, rel, config, zone)

    return read_in_order


def _drop_duplicate_urls(site: Site, posts: list[Post]) -> list[Post]:
    """One source per URL. On a Jekyll site the one Jekyll's output keeps wins, with a
    warning (Jekyll's "Conflict"); on a sitegen site two sources with one URL are an error."""
    jekyll = site.config.source == JEKYLL_CONFIG_FILE
    collections = set(output_collections(site.config.extra)) if jekyll else set()
    order = (lambda p: jekyll_write_order(p, collections)) if jekyll else (lambda p: p.rel)
    seen: dict[str, Post] = {}
    for post in sorted(posts, key=order):
        other = seen.get(post.url)
        if other is None:
            seen[post.url] = post
        elif jekyll:  # Jekyll writes both; the later one stays
            line = key_line(other.source, "permalink")
            site.report.warning(
                other.rel, line, f"not built: {post.rel} has the same URL {post.url} and "
                "wins, as in Jekyll's output (Jekyll warns of a conflict)"
            )
            seen[post.url] = post
        else:
            site.report.error(
                post.rel, None, f"permalink {post.url} is also the permalink of {other.rel}"
            )
    kept = {id(p) for p in seen.values()}  # by identity: ``in`` would compare dataclasses
    return [p for p in posts if id(p) in kept and not p.failed]
