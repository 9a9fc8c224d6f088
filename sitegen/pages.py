"""The templates stage: the site's pages, each rendered only when outdated, then written.

Every page gets its context (the ``site`` variable, its post or list of posts, what
plugins add), and the rule of ``sitegen.deps`` compares it and what its template read
last time with the values now: a page whose inputs are all the same is left as it is in
the output folder; any other is rendered, and written when its bytes changed.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

from sitegen.bodies import site_vars
from sitegen.deps import (
    PAGE_RECORD_FIELDS,
    Lookups,
    PageRecord,
    Reads,
    fingerprint,
    outdated,
    site_view,
)
from sitegen.errors import SiteError
from sitegen.forked import can_fork, split_work
from sitegen.model import Page, Post, Site
from sitegen.plugins import call_hook
from sitegen.templates import render_template
from sitegen.write import OutputError, OutputWriter, digest_of, unsafe_reason

# Below this many pages to render, forking a copy to render half of them costs more than
# it saves.
PARALLEL_MIN_PAGES = 48
# a page to render: the page, its output path and what checking its record made (the
# context and its key), None when not checked yet
_Item = tuple[Page, str, tuple[dict, str] | None]
LAYOUT_TEMPLATES = {"post": "post.html", "page": "page.html", "default": "page.html"}


def post_pages(site: Site, posts: list[Post]) -> list[Page]:
    pages = []
    for post in posts:
        if post.failed:
            continue
        template = LAYOUT_TEMPLATES.get(post.layout)
        if template is None:
            template = "post.html" if post.kind == "post" else "page.html"
            site.report.warning(post.rel, 2, f"unknown layout '{post.layout}'; using {template}")
        pages.append(Page(url=post.url, template=template, post=post))
    return pages


def index_pages(site: Site) -> list[Page]:
    per = site.config.posts_per_page
    chunks = [site.posts[i : i + per] for i in range(0, len(site.posts), per)] or [[]]
    pages = []

    def url_of(number: int) -> str:
        return "/" if number == 1 else site.config.paginate_path.replace(":num", str(number))

    for number, chunk in enumerate(chunks, start=1):
        url = url_of(number)
        paginator = {
            "posts": chunk,
            "page": number,
            "total_pages": len(chunks),
            "previous_url": url_of(number - 1) if number > 1 else None,
            "next_url": url_of(number + 1) if number < len(chunks) else None,
        }
        pages.append(Page(url=url, template="index.html", context={"paginator": paginator}))
    # a page of the site's own at one of these URLs (a Jekyll site's 404.html) wins
    own = {page.url for page in site.pages}
    if "/archive/" not in own:
        pages.append(Page(url="/archive/", template="archive.html"))
        # and at the URL of the Jekyll archive page it stands in for, for the old links
        pages.extend(Page(url=u, template="archive.html") for u in unbuilt_named(site, "archive"))
    if "/404.html" not in own:
        pages.append(Page(url="/404.html", template="404.html"))
    return pages


def unbuilt_named(site: Site, name: str) -> list[str]:
    """URLs of the unbuilt Jekyll pages called ``name`` (``archive.html``, ``tags.md``)."""
    return [
        url
        for url, rel in site.unbuilt.items()
        if rel.rsplit("/", 1)[-1].split(".")[0] == name and url not in ("/", f"/{name}/")
    ]


def math_context(site: Site, post: Post | None) -> dict[str, Any]:
    wants = post.meta.get("mathjax") if post is not None else None
    return {
        "enabled": bool(post is not None and post.has_math and wants is not False) or wants is True,
        "url": site.config.math.mathjax_url,
        "macros": site.macros,
    }


def base_context(site: Site) -> dict[str, Any]:
    tags: dict[str, list[Post]] = {}
    for post in site.posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    return {
        "site": {
            **site_vars(site),
            "posts": site.posts,
            "pages": site.pages,
            "tags": dict(sorted(tags.items(), key=lambda kv: kv[0].lower())),
            "has_tags": bool(tags),
            "config": site.config,
            "data": site.data,
            "serve": site.options.serve,
        },
        "url_for": site.url_for,
        "absolute_url": site.absolute_url,
        "math": math_context(site, None),
    }


class _Shipped:
    """Stands in ``PageRun.records`` for a record a forked copy pickled (``shipped``)."""

    def __repr__(self) -> str:
        return "SHIPPED"


SHIPPED = _Shipped()


def _stored(records: dict[str, Any]) -> dict[str, tuple | None]:
    return {
        rel: tuple(getattr(r, name) for name in PAGE_RECORD_FIELDS)
        if isinstance(r, PageRecord) else r
        for rel, r in records.items()
    }


@dataclass
class PageRun:
    """One build's rendering of pages into the output: what the previous build recorded
    (``previous``: output path → record, None for a static file), and this build's."""

    site: Site
    jinja_env: Any
    writer: OutputWriter
    salt: str
    previous: dict[str, tuple | None]  # as ``stored_records`` gives them
    records: dict[str, PageRecord | tuple | None] = field(default_factory=dict)
    rendered: list[str] = field(default_factory=list)  # output paths whose template ran
    jobs: int = 1  # processes to render in (a forked copy renders every other page)
    # records of the pages a forked copy rendered, as it pickled them for the store (in
    # ``records`` they are SHIPPED): loaded by the next build, not by this one
    shipped: list[bytes] = field(default_factory=list)

    def render(self, pages: list[Page]) -> None:
        site = self.site
        base = base_context(site)
        lookups = Lookups(base["site"], site.posts + site.pages)
        claimed: set[str] = set(self.records)
        todo: list[tuple[Page, str]] = []  # pages to go through their templates
        for page in pages:
            rel = page.output_path
            problem = unsafe_reason(rel)
            if problem:  # a URL read.py did not make (a plugin's page): never written
                where = page.post.rel if page.post else rel
                message = f"not written: the output path of {page.url!r} {problem}"
                site.report.error(where, None, message)
                if page.post is not None:
                    page.post.failed = True
                continue
            if rel in claimed:
                who = page.post.rel if page.post else rel
                site.report.error(who, None, f"two pages write {page.url}")
                continue
            claimed.add(rel)
            if page.content is not None:
                data = page.content
                self._put(rel, data.encode("utf-8") if isinstance(data, str) else data, "")
                continue
            todo.append((page, rel))
        parallel = self.jobs >= 2 and len(todo) >= PARALLEL_MIN_PAGES and can_fork()
        items: list[_Item] = [(page, rel, None) for page, rel in todo]
        if not parallel:
            for item in items:
                self._render_one(item, base, lookups)
            return
        report = self.site.report
        marks = (len(report.diagnostics), len(self.rendered), len(self.writer.changed))
        said: dict[str, list] = {}  # output path → the messages its page added
        if sum(rel in self.previous for _, rel in todo) * 2 > len(todo):
            # A rebuild: most pages are usually up to date, and checking them here costs
            # less than a fork; only the outdated ones are rendered, split when many.
            outdated: list[_Item] = []
            for item in items:
                before = len(report.diagnostics)
                self._render_one(item, base, lookups, outdated)
                said[item[1]] = report.diagnostics[before:]
            items = outdated
        if len(items) >= PARALLEL_MIN_PAGES:
            self._render_split(items, base, lookups, said)
        else:
            for item in items:
                before = len(report.diagnostics)
                self._render_one(item, base, lookups)
                said[item[1]] = said.get(item[1], []) + report.diagnostics[before:]
        self._in_page_order([rel for _, rel in todo], marks, said)

    def _render_one(
        self, item: _Item, base: dict[str, Any], lookups: Lookups, outdated: list | None = None
    ) -> None:
        """Render a page unless its record says it is up to date; with ``outdated``, only
        add an outdated page there, with what its check made (``_page``)."""
        page = item[0]
        try:
            self._page(*item, base, lookups, outdated)
        except OutputError:
            raise
        except SiteError as exc:
            self.site.report.add(exc.diagnostic())
            if page.post is not None:
                page.post.failed = True

    def _render_split(
        self, todo: list[_Item], base: dict[str, Any], lookups: Lookups, said: dict[str, list]
    ) -> None:
        """Every other page rendered and written by a forked copy of this process, which
        sees the same site; its records, messages (added to ``said``) and failed posts
        come back here."""
        report = self.site.report
        for name in sorted({page.template for page, _, _ in todo if page.template}):
            try:  # compiled once, before the fork, rather than once in each process
                self.jinja_env.get_template(name)
            except Exception:
                pass  # said by the page that uses it
        rendered, changed = len(self.rendered), len(self.writer.changed)
        mine, theirs = todo[0::2], todo[1::2]

        def render_share(share: list[_Item]) -> None:
            for item in share:
                before = len(report.diagnostics)
                self._render_one(item, base, lookups)
                said[item[1]] = said.get(item[1], []) + report.diagnostics[before:]

        def their_share() -> tuple:
            render_share(theirs)
            records = {rel: self.records[rel] for _, rel, _ in theirs if rel in self.records}
            shipped = pickle.dumps(_stored(records), pickle.HIGHEST_PROTOCOL)
            failed = [page.post.rel for page, _, _ in theirs if page.post and page.post.failed]
            store = self.site.cache
            if store is not None:  # what plugins stored in this copy, and what it used
                store.flush()
            used = store.used if store is not None else set()
            return (list(records), shipped, self.rendered[rendered:],
                    self.writer.changed[changed:], {rel: said[rel] for _, rel, _ in theirs},
                    failed, used)

        their_records, shipped, their_rendered, their_changed, their_said, failed, used = (
            split_work(their_share, lambda: render_share(mine))
        )
        if self.site.cache is not None:
            self.site.cache.used.update(used)
        self.records.update(dict.fromkeys(their_records, SHIPPED))
        self.shipped.append(shipped)
        self.rendered.extend(their_rendered)
        self.writer.changed.extend(their_changed)
        said.update(their_said)
        failed_posts = set(failed)
        for page, _, _ in theirs:
            if page.post is not None and page.post.rel in failed_posts:
                page.post.failed = True

    def _in_page_order(self, order: list[str], marks: tuple[int, int, int], said: dict) -> None:
        """Records, rendered and written paths and messages since ``marks`` in the order
        one process rendering the pages one by one gives them."""
        rank = {rel: number for number, rel in enumerate(order)}
        by_rank = lambda rel: rank.get(rel, -1)  # noqa: E731
        known, rendered, changed = marks
        self.records = {rel: self.records[rel] for rel in sorted(self.records, key=by_rank)}
        self.rendered[rendered:] = sorted(self.rendered[rendered:], key=by_rank)
        self.writer.changed[changed:] = sorted(self.writer.changed[changed:], key=by_rank)
        report = self.site.report
        del report.diagnostics[known:]  # said again in that order
        for rel in order:
            for diagnostic in said.get(rel, ()):
                report.add(diagnostic)

    def _page(
        self,
        page: Page,
        rel: str,
        checked: tuple[dict, str] | None,
        base: dict[str, Any],
        lookups: Lookups,
        outdated: list[_Item] | None = None,
    ) -> None:
        """Check the page's record (unless ``checked`` already gives what the check made:
        the context and its key) and render it when outdated."""
        if checked is None:
            checked = self._check(page, rel, base, lookups)
            if checked is None:
                return  # up to date, or failed
            if outdated is not None:
                outdated.append((page, rel, checked))
                return
        context, key = checked
        reads = Reads()
        context["site"] = site_view(base["site"], reads)
        self.jinja_env.reads = reads
        try:
            html = render_template(self.jinja_env, self.site.root, page.template, context)
        finally:
            self.jinja_env.reads = None
        self.rendered.append(rel)
        self._put(rel, html.encode("utf-8"), key, lookups.record(key, reads))

    def _check(
        self, page: Page, rel: str, base: dict[str, Any], lookups: Lookups
    ) -> tuple[dict, str] | None:
        """The page's context and its key, or None when the page is up to date (its
        record kept) or a plugin failed its post."""
        context = dict(base)
        context.update(page.context)
        context["page"] = {"url": page.url, "title": page.context.get("title", "")}
        post = page.post
        if post is not None:
            context["post"] = post
            context["page"] = {"url": post.url, "title": post.title, **post.meta}
            context["content"] = post.html
            context["math"] = math_context(self.site, post)
        call_hook(self.site, "sitegen_template_context", page=page, context=context, post=post)
        if post is not None and post.failed:
            return None  # a plugin failed on it (reported): no page rather than a wrong one
        given = {k: v for k, v in context.items() if k != "site"}
        if post is not None and post.html_key and given.get("content") is post.html:
            given["content"] = ("body", post.html_key)  # the body's key stands for it
        key = fingerprint((self.salt, page.url, page.template, given))
        record = self._previous(rel)
        if (
            isinstance(record, PageRecord)
            and not outdated(record, key, lookups)
            and self.writer.stamp(rel) == (record.size, record.mtime)
        ):
            self.records[rel] = self.previous[rel]  # kept as stored
            return None
        return context, key

    def _previous(self, rel: str) -> PageRecord | None:
        stored = self.previous.get(rel)
        if isinstance(stored, tuple) and len(stored) == len(PAGE_RECORD_FIELDS):
            return PageRecord(*stored)
        return None

    def stored_records(self) -> dict[str, tuple | None]:
        """This build's records as plain tuples (quicker to save and load), but for the
        ``shipped`` ones."""
        return _stored({rel: r for rel, r in self.records.items() if r is not SHIPPED})

    def _put(self, rel: str, data: bytes, key: str, record: PageRecord | None = None) -> None:
        """Write ``data`` at ``rel`` unless the file there is already those bytes."""
        digest = digest_of(data)
        if record is None:
            record = PageRecord(context=key)
        before = self._previous(rel)
        if (
            isinstance(before, PageRecord)
            and before.digest == digest
            and self.writer.stamp(rel) == (before.size, before.mtime)
        ):
            record.size, record.mtime = before.size, before.mtime
        else:
            self.writer.write(rel, data)
            record.size, record.mtime = self.writer.stamp(rel)
        record.digest = digest
        self.records[rel] = record

    def copy_static(self, static: list[tuple[Any, str]]) -> None:
        """Copy static files, except where a page of the same path was written."""
        for source, rel in static:
            if rel not in self.records:
                self.writer.copy(source, rel)
                self.records[rel] = None
