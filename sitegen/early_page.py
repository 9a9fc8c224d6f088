"""The page of an edited post, written before the rest of ``sitegen serve``'s rebuild.

An author saving a post looks at that post's page; the listing pages (index, tags,
archive, feed) can follow. So when a batch of changes is one post or page whose place
(URL, date, kind) stays as it was, serve renders just that page first, through the
pipeline's own stages (``read_post``, ``render_all_bodies``, ``PageRun``), with every other
post as the last build left it in memory, and writes it. The full rebuild then runs at
once, as for any batch: it renders the page again from everything it reads and rewrites
it if anything differs, so after each batch the output is what ``sitegen build`` makes
(tests/test_serve_differential.py). Nothing said here is reported: the rebuild says it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sitegen.bodies import create_markdown, render_all_bodies
from sitegen.cache import cache_dir
from sitegen.discover import PAGE_DIRS, POST_DIRS, Source
from sitegen.errors import PostError
from sitegen.model import Post, Site
from sitegen.pages import PageRun, post_pages
from sitegen.plugins import call_hook
from sitegen.read import read_post
from sitegen.schedule import is_scheduled, site_zone
from sitegen.templates import create_environment, template_dirs
from sitegen.write import OutputWriter, confine, digest_of


@dataclass
class EarlyPage:
    """The output path written ahead of the rebuild and the digest of its bytes."""

    rel: str
    digest: str


class _NewBytesWriter(OutputWriter):
    """Writes a file only when its bytes differ from what is there: a page left as it
    was keeps its time, so the rebuild sees it unchanged and announces nothing."""

    def write(self, rel: str, data: bytes) -> None:
        try:
            if Path(confine(self.out, rel)).read_bytes() == data:
                return
        except OSError:
            pass
        super().write(rel, data)


class _Rehearsal(OutputWriter):
    """Writes nothing: a page rendered only to load what rendering needs lazily."""

    def write(self, rel: str, data: bytes) -> None:
        self.changed.append(rel)


class PageMaker:
    """What rendering one page needs that does not change between batches while the
    site stays loaded: the Markdown parser and the template environment."""

    def __init__(self, site: Site) -> None:
        self.md = create_markdown(site)
        compiled = cache_dir(site.root) / "templates"
        self.jinja_env = create_environment(template_dirs(site.root, site.theme_dirs), compiled)


def _reread(site: Site, old: Post) -> Post | None:
    """The post read again from its file, or None when it cannot be read or no longer
    belongs where it was (the rebuild then sorts it out)."""
    folder = old.rel.split("/", 1)[0]
    if folder not in POST_DIRS + PAGE_DIRS:
        return None  # a Jekyll collection or a page elsewhere: left to the rebuild
    tz = site_zone(site.config.timezone)
    try:
        post = read_post(Source(old.path, old.kind, folder), old.rel, site.config, tz)
    except (PostError, OSError):
        return None
    if post.url != old.url or post.kind != old.kind or post.date != old.date:
        return None  # moves it, or its neighbours and the listings' order change
    if post.draft and not site.options.drafts:
        return None
    if post.kind == "post" and not site.options.future and post.date is not None:
        if is_scheduled(post.date, tz, datetime.now(UTC)):
            return None
    call_hook(site, "sitegen_post_loaded", post=post, site=site)
    return None if post.failed else post


def write_edited_page(
    site: Site, last: Site, rel: str, maker: PageMaker, out: Path, rehearse: bool = False
) -> EarlyPage | None:
    """Render and write the page of the source ``rel`` in ``site`` (loaded for this
    batch, nothing read yet), taking every other post from ``last`` (the previous
    build's site). None when that is not possible: the rebuild alone handles it.
    ``rehearse``: render only, write nothing (and return None)."""
    everything = last.posts + last.pages
    old = next((p for p in everything if p.rel == rel), None)
    if old is None:
        return None
    post = _reread(site, old)
    if post is None:
        return None
    post.previous, post.next = old.previous, old.next
    site.posts = [post if p is old else p for p in last.posts]
    site.pages = [post if p is old else p for p in last.pages]
    site.static = last.static
    site.markdown = maker.md
    render_all_bodies(site, maker.md, maker.jinja_env, [post], None, jobs=1)
    if post.failed or site.report.errors:
        return None  # its error page comes with the rebuild
    pages = post_pages(site, [post])
    writer = _Rehearsal(out) if rehearse else _NewBytesWriter(out)
    run = PageRun(site, maker.jinja_env, writer, "", {})
    run.render(pages)
    if rehearse or post.failed or site.report.errors or not writer.changed:
        return None
    written = writer.changed[0]
    return EarlyPage(rel=written, digest=digest_of((out / written).read_bytes()))
