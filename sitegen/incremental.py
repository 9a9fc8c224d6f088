"""Rebuilding only what a change affects, for ``sitegen serve``.

A ``LiveBuild`` keeps, between rebuilds, each post's rendered body keyed by the post's
source text. A rebuild re-reads the sources (cheap: front matter only), renders the
bodies of the posts whose text changed, and renders the pages those posts appear on:
their own page, their previous/next neighbours (whose links show their titles) and the
pages that are not a single post's page (index, archive, tags, feeds, 404, plugin pages).
Only files whose bytes changed are written, each atomically, so the list of written
paths is exactly what the browser needs to hear about.

Order of work after an edit of a post's text, so that what the author looks at comes
first: (1) that file alone is read and rendered in the context of the previous rebuild
and its page written (``on_visible`` is told); (2) every source is re-read (unchanged
files from a cache keyed by their stat) and the rest is rendered; a newer edit waiting
(``stop``) cuts (2) short and the next rebuild does what was left.

What invalidates more:
- a template or include: every body and every page (includes are used by post bodies);
- the configuration, a plugin, a theme or the macros file: everything is loaded again.

Verification arrives in a second pass. The first pass renders with
``options.verify = False`` so the text is visible at once; a plugin with work left to do
marks the post with ``post.data[PENDING_KEY] = True`` (and renders "verifying…" badges).
``verify_posts`` then renders those posts with verification on, outside the lock so that
text edits are not held up by slow code, and commits the result only if the post's text
has not changed in the meantime.

A post that fails to build gets an error page (file:line of every error) at its URL
instead of its stale page; when the failure is site-wide (the configuration or a plugin
does not load), ``site_errors`` is set and the server shows it on every page.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sitegen import build
from sitegen.config import Config
from sitegen.discover import (
    MARKDOWN_EXTENSIONS,
    PAGE_DIRS,
    POST_DIRS,
    STATIC_DIRS,
    Source,
    is_jekyll_input,
)
from sitegen.errors import Diagnostic, SiteError
from sitegen.model import BuildOptions, Page, Post, Site
from sitegen.plugins import call_hook
from sitegen.read import read_post
from sitegen.templates import create_environment, template_dirs
from sitegen.write import check_output_folder, write_files_in_place, write_site

# Set by a verification plugin on a post rendered with ``options.verify == False`` whose
# checks still have to run; the server then schedules ``verify_posts`` for it.
PENDING_KEY = "verify_pending"

# Listing pages are rendered this many at a time between checks for a newer edit.
RENDER_CHUNK = 8
RELOAD_FILES = ("sitegen.toml", "_config.yml")
# themes/ reloads: adding a site theme changes where templates and static files are found
RELOAD_DIRS = ("plugins", "themes")
TEMPLATE_DIRS = ("templates", "includes", "_includes")
# post.data entries that belong to one parse and must not be carried over
_TRANSIENT_DATA = ("tokens", "env")


@dataclass
class ChangeSet:
    """What a batch of changed files means for the site."""

    reload: bool = False  # configuration, plugins, macros: load everything again
    templates: bool = False  # templates, includes, themes: render every page again
    static: bool = False  # assets/static: copy again
    sources: set[str] = field(default_factory=set)  # posts and pages (paths from the root)

    @property
    def empty(self) -> bool:
        return not (self.reload or self.templates or self.static or self.sources)


def classify(root: Path, paths: set[Path] | list[Path], macros_file: str = "") -> ChangeSet:
    """Sort changed paths into the kinds of work they cause; unknown files cause none."""
    changes = ChangeSet()
    for path in paths:
        try:
            rel = Path(path).absolute().relative_to(root.absolute())
        except ValueError:
            continue
        if not rel.parts:
            continue
        top = rel.parts[0]
        if rel.as_posix() in RELOAD_FILES or top in RELOAD_DIRS:
            changes.reload = True
        elif macros_file and rel.as_posix() == macros_file:
            changes.reload = True
        elif top in TEMPLATE_DIRS:
            changes.templates = True
        elif top in STATIC_DIRS:
            changes.static = True
        elif top in POST_DIRS + PAGE_DIRS and rel.suffix.lower() in MARKDOWN_EXTENSIONS:
            changes.sources.add(rel.as_posix())
        elif is_jekyll_input(root, rel.as_posix()):  # a Jekyll site's page or file elsewhere
            changes.reload = True
    return changes


@dataclass
class RenderedBody:
    """A post's rendered body, valid as long as its source text is the same."""

    source: str
    html: str
    has_math: bool
    toc: list[Any]
    title: str
    data: dict[str, Any]
    verified: bool


@dataclass
class Outcome:
    """What one rebuild did; the server turns it into an event for the browsers."""

    rendered: list[str] = field(default_factory=list)  # output paths rendered this time
    changed: list[str] = field(default_factory=list)  # output paths whose bytes changed
    removed: list[str] = field(default_factory=list)  # output paths deleted
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    reload: bool = False  # every open page should reload
    interrupted: bool = False  # listing pages left to the next rebuild (a newer edit came)
    pending: set[str] = field(default_factory=set)  # sources waiting for verification


def needs_verification(post: Post) -> bool:
    """Whether a plugin left work for the verifying pass (its results were not cached)."""
    return bool(post.data.get(PENDING_KEY))


_UNSET = object()


@dataclass
class _Plan:
    """One rebuild's site, the posts whose bodies were rendered, and its pages: all of
    them, the edited posts' own pages (written first) and the rest to render."""

    site: Site
    fresh: list[Post]
    pages: list[Page]
    first: list[Page]
    rest: list[Page]


@dataclass
class LiveBuild:
    """The state of a site being served: what was built, and how to redo part of it."""

    root: Path
    options: BuildOptions
    out: Path
    site_errors: list[Diagnostic] = field(default_factory=list)
    bodies: dict[str, RenderedBody] = field(default_factory=dict)
    # source rel -> output path of its page, kept for pages that now fail
    page_of: dict[str, str] = field(default_factory=dict)
    neighbours: dict[str, tuple[str, ...]] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)  # every output path of the last state
    # rel -> (file signature, the Post read from it): front matter is parsed once per save
    reads: dict[str, tuple[tuple[int, int, int], Post]] = field(default_factory=dict)
    # pages an interrupted rebuild did not render; the next one does
    owed: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _base: Site | None = None
    _last_site: Site | None = None  # the site as the last complete rebuild saw it
    _tz: Any = _UNSET
    _md: Any = None
    _jinja: Any = None

    # -- loading ---------------------------------------------------------------------

    def _load(self) -> None:
        """Configuration, plugins, theme, parser and templates: once per configuration."""
        options = replace(self.options, serve=True)
        self._base = build.load_site(self.root, options)
        self._jinja = create_environment(template_dirs(self.root, self._base.theme_dirs))
        self._md = build.create_markdown(self._base)
        self._base.data["markdown"] = self._md
        self.bodies.clear()
        self.reads.clear()  # URLs and dates depend on the configuration
        self._last_site = None

    def _read(self, source: Source, rel: str, config: Config, tz: Any) -> Post:
        """``read_post`` for unchanged files is a copy of the previous result."""
        self._tz = tz  # the site's time zone, as the build computed it
        st = source.path.stat()
        signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        known = self.reads.get(rel)
        if known is not None and known[0] == signature:
            return _unread_copy(known[1])
        post = read_post(source, rel, config, tz)
        self.reads[rel] = (signature, _unread_copy(post))
        return post

    def _new_site(self, verify: bool) -> Site:
        """A fresh Site for one rebuild that shares what loading produced."""
        base = self._base
        assert base is not None
        options = replace(base.options, verify=verify and self.options.verify)
        site = Site(root=base.root, config=base.config, options=options)
        site.plugins, site.theme_dirs = base.plugins, base.theme_dirs
        site.data = dict(base.data)
        return site

    @property
    def loaded_site(self) -> Site | None:
        """The site as loaded (configuration, plugins, theme); None if it failed to load."""
        return self._base

    @property
    def macros_file(self) -> str:
        return self._base.config.math.macros_file if self._base is not None else ""

    # -- entry points ------------------------------------------------------------------

    def start(self) -> Outcome:
        """The first build: everything, written as a whole folder, verification pending."""
        with self.lock:
            out = self.out.absolute()
            check_output_folder(out, self.root)
            failed = self._load_or_fail()
            if failed is not None:
                return failed
            plan = self._prepare(None)
            self._add_listing_pages(plan)
            files, _ = self._render_pages(plan, plan.rest)
            site = plan.site
            write_site(out, files, site.static)
            for page in plan.pages:
                if page.post is not None:
                    self.page_of[page.post.rel] = page.output_path
            self.written = set(files) | {rel for _, rel in site.static}
            self._last_site = site
            call_hook(site, "sitegen_build_finished", site=site, output=out)
            return Outcome(
                rendered=sorted(files),
                changed=sorted(self.written),
                errors=site.report.errors,
                warnings=site.report.warnings,
                pending={p.rel for p in plan.fresh if not p.failed and needs_verification(p)},
            )

    def apply(
        self,
        paths: set[Path] | list[Path],
        on_visible: Callable[[Outcome], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Outcome:
        """Rebuild after ``paths`` changed on disk.

        The pages of the edited posts are written first and reported to ``on_visible``
        (so the browser can show them at once); listing pages, neighbours and feeds
        follow, unless ``stop()`` says a newer edit is waiting: then they are left to
        the next rebuild. The returned outcome covers both phases.
        """
        with self.lock:
            changes = classify(self.root, paths, self.macros_file)
            if changes.empty:
                return Outcome()
            if self._base is not None:
                call_hook(self._base, "sitegen_files_changed", site=self._base, paths=list(paths))
            for rel in changes.sources:  # the watcher says so, whatever the mtime says
                self.reads.pop(rel, None)
            if changes.reload or self._base is None or self.site_errors:
                return self._reload()
            if changes.templates:
                self._jinja = create_environment(template_dirs(self.root, self._base.theme_dirs))
                self.bodies.clear()  # includes are rendered into bodies
            repage: set[str] | None = None if changes.templates else set()
            early = Outcome()
            if repage is not None and changes.sources and on_visible is not None:
                early = self._show_edited_first(changes.sources) or early
                if early.changed:
                    on_visible(early)
                    repage = {rel for rel in changes.sources}
            static = changes.static or changes.templates  # themes hold static files too
            outcome = self._rebuild(repage, static=static, on_visible=on_visible, stop=stop)
            return _merged(early, outcome)

    def _show_edited_first(self, rels: set[str]) -> Outcome | None:
        """The fast path for the common case, one post's text edited: read that file
        alone, render it in the context of the previous rebuild and write its page,
        before the rebuild that re-reads everything. None when the edit changes where
        the post sits (new file, URL, date, draft) or fails: the full rebuild shows it."""
        last = self._last_site
        if last is None or self._tz is _UNSET:
            return None
        by_rel = {p.rel: p for p in last.posts + last.pages}
        site = self._new_site(verify=False)
        fresh = []
        for rel in sorted(rels):
            old = by_rel.get(rel)
            if old is None:
                return None
            source = Source(path=old.path, kind=old.kind, folder=rel.split("/", 1)[0])
            try:
                post = self._read(source, rel, site.config, self._tz)
            except (SiteError, OSError):
                return None
            where = (post.url, post.date, post.kind, post.draft, post.layout)
            if where != (old.url, old.date, old.kind, old.draft, old.layout):
                return None
            call_hook(site, "sitegen_post_loaded", post=post, site=site)
            fresh.append(post)
        self._render_bodies(site, self._md, self._jinja, fresh)
        if any(p.failed for p in fresh) or site.report.errors:
            return None
        for post in fresh:
            self.bodies[post.rel] = _remember(post, verified=False)
        return self._write_in_context(fresh)

    def _write_in_context(self, posts: list[Post]) -> Outcome | None:
        """Render and write the pages of ``posts`` (bodies rendered) among the other
        posts as the last complete rebuild saw them."""
        last = self._last_site
        if last is None:
            return None
        by_rel = {p.rel: p for p in last.posts + last.pages}
        site = self._new_site(verify=False)
        for post in posts:
            old = by_rel.get(post.rel)
            if old is None:
                return None
            post.previous, post.next = old.previous, old.next
        swap = {p.rel: p for p in posts}
        site.posts = [swap.get(p.rel, p) for p in last.posts]
        site.pages = [swap.get(p.rel, p) for p in last.pages]
        files = build.render_pages(site, self._jinja, build.post_pages(site, posts))
        if site.report.errors:
            return None
        return Outcome(
            rendered=sorted(files),
            changed=write_files_in_place(self.out.absolute(), files),
            pending={p.rel for p in posts if needs_verification(p)},
        )

    def verify_posts(
        self,
        rels: set[str],
        on_visible: Callable[[Outcome], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Outcome:
        """Second pass: run verification for ``rels`` and show the results.

        The slow part (the plugin's checks) runs without the lock; the results are kept
        only for posts whose text is still the text that was verified.
        """
        with self.lock:
            if self._base is None or self.site_errors:
                return Outcome()
            site = self._new_site(verify=True)
            md, jinja = self._md, self._jinja
        build.read_posts(site, self._read)
        targets = [p for p in site.posts + site.pages if p.rel in rels]
        self._render_bodies(site, md, jinja, targets)
        with self.lock:
            if md is not self._md:
                return Outcome()  # everything was reloaded meanwhile
            kept = set()
            for post in targets:
                current = self.bodies.get(post.rel)
                if current is not None and current.source == post.source and not post.failed:
                    self.bodies[post.rel] = _remember(post, verified=True)
                    kept.add(post.rel)
            if not kept:
                return Outcome()
            early = Outcome()
            if on_visible is not None:  # the results on the post's page first
                early = self._write_in_context([p for p in targets if p.rel in kept]) or early
                if early.changed:
                    on_visible(early)
            outcome = self._rebuild(kept, static=False, on_visible=on_visible, stop=stop)
            return _merged(early, outcome)

    # -- the work ------------------------------------------------------------------------

    def _load_or_fail(self) -> Outcome | None:
        """Load configuration, plugins and theme; on a site-wide error, the outcome that
        shows it (every page then shows the error until a good save)."""
        try:
            self._load()
        except SiteError as exc:
            self.site_errors = [exc.diagnostic()]
            return Outcome(errors=list(self.site_errors), reload=True)
        self.site_errors = []
        return None

    def _reload(self) -> Outcome:
        failed = self._load_or_fail()
        if failed is not None:
            return failed
        outcome = self._rebuild(None, static=True)
        outcome.reload = True
        return outcome

    def _render_bodies(self, site: Site, md: Any, jinja: Any, posts: list[Post]) -> None:
        jobs = min(site.options.jobs or build.default_jobs(), 8)
        # Forking is safe only while this is the one thread: the first build, before the
        # server, the watcher and the verifier start. That is when most bodies are due.
        if jobs > 1 and len(posts) >= build.PARALLEL_MIN_POSTS and threading.active_count() == 1:
            build.render_bodies_parallel(site, md, jinja, posts, jobs)
        else:
            build.render_bodies(site, md, jinja, posts)

    def _prepare(self, repage: set[str] | None) -> _Plan:
        """Read every source, render the bodies whose text changed, list the pages.
        ``repage``: sources whose pages must be rendered although their text did not
        change (None: every page)."""
        site = self._new_site(verify=False)
        build.read_posts(site, self._read)
        fresh = []
        for post in site.posts + site.pages:
            cached = self.bodies.get(post.rel)
            if cached is not None and cached.source == post.source:
                _restore(post, cached)
            else:
                fresh.append(post)
        self._render_bodies(site, self._md, self._jinja, fresh)
        for post in fresh:
            if not post.failed:
                self.bodies[post.rel] = _remember(post, verified=False)
        site.posts = [p for p in site.posts if not p.failed]
        site.pages = [p for p in site.pages if not p.failed]

        edited = {p.rel for p in fresh} | (repage or set())
        wanted = edited | self.owed
        for rel in edited:  # neighbours show the title and link of a changed post
            wanted.update(self.neighbours.get(rel, ()))
        self.neighbours = {
            p.rel: tuple(n.rel for n in (p.previous, p.next) if n is not None) for p in site.posts
        }
        for rel in edited:
            wanted.update(self.neighbours.get(rel, ()))

        pages = build.post_pages(site, site.posts + site.pages)
        if repage is None:
            first, rest = [], pages
        else:
            first = [p for p in pages if p.post is not None and p.post.rel in edited]
            rest = [p for p in pages if p.post is not None and p.post.rel in wanted - edited]
        site.static = build.discover_static(
            site.root, [(t / "static", "theme/") for t in reversed(site.theme_dirs)]
        )
        return _Plan(site=site, fresh=fresh, pages=pages, first=first, rest=rest)

    def _add_listing_pages(self, plan: _Plan) -> None:
        """Index, archive and the plugins' pages (tags, feed, …): every rebuild renders
        them, after the edited pages are out, and writes those whose bytes changed."""
        listing = build.index_pages(plan.site)
        for extra in call_hook(plan.site, "sitegen_extra_pages", site=plan.site):
            listing.extend(extra)
        plan.pages = plan.pages + listing
        plan.rest = plan.rest + listing

    def _render_pages(
        self, plan: _Plan, pages: list[Page], stop: Callable[[], bool] | None = None
    ) -> tuple[dict[str, bytes], list[Page]]:
        """Render ``pages``; a page that cannot be rendered becomes an error page listing
        the errors with file:line. With ``stop``, rendering ends early when it says so
        (a newer edit is waiting); returns the files and the pages not rendered."""
        files: dict[str, bytes] = {}
        done = 0
        while done < len(pages):
            chunk = pages[done : done + (RENDER_CHUNK if stop else len(pages))]
            files.update(build.render_pages(plan.site, self._jinja, chunk))
            done += len(chunk)
            if stop is not None and done < len(pages) and stop():
                break
        errors = plan.site.report.errors
        general = [d for d in errors if not _is_source(d.path)]
        for page in pages[:done]:
            if page.output_path not in files and errors:
                own = [d for d in errors if page.post is not None and d.path == page.post.rel]
                files[page.output_path] = render_error_page(own + general or errors, self.root)
        return files, pages[done:]

    def _failed_pages(self, plan: _Plan, done: set[str]) -> dict[str, bytes]:
        """Error pages at the URLs of posts that failed before they had a page (broken
        front matter, a Markdown or plugin failure), instead of their stale pages."""
        errors = plan.site.report.errors
        general = [d for d in errors if not _is_source(d.path)]
        failed = {p.rel for p in plan.fresh if p.failed}
        failed |= {d.path for d in errors if d.path in self.page_of}
        files = {}
        for rel in sorted(failed):
            target = self.page_of.get(rel)
            if target and target not in done:
                own = [d for d in errors if d.path == rel]
                files[target] = render_error_page(own + general, self.root)
        return files

    def _rebuild(
        self,
        repage: set[str] | None,
        *,
        static: bool,
        on_visible: Callable[[Outcome], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Outcome:
        plan = self._prepare(repage)
        site, out = plan.site, self.out.absolute()
        outcome = Outcome(
            pending={p.rel for p in plan.fresh if not p.failed and needs_verification(p)}
        )
        produced: set[str] = set()
        for phase in (0, 1):
            if phase == 1:
                self._add_listing_pages(plan)
            pages = plan.first if phase == 0 else plan.rest
            if not pages and phase == 0:
                continue
            files, skipped = self._render_pages(plan, pages, stop if phase == 1 else None)
            if phase == 1:
                files.update(self._failed_pages(plan, produced | set(files)))
                # pages left for the next rebuild (which always renders the listing pages)
                self.owed = {p.post.rel for p in skipped if p.post is not None}
                outcome.interrupted = bool(skipped)
            produced |= set(files)
            outcome.rendered += sorted(files)
            changed = write_files_in_place(out, files)
            outcome.changed += changed
            if phase == 0 and on_visible is not None and changed:
                on_visible(Outcome(rendered=sorted(files), changed=changed))
        if static:
            copies = {}
            for source, rel in site.static:
                if rel not in produced:
                    try:
                        copies[rel] = source.read_bytes()
                    except OSError:
                        continue
            outcome.changed += write_files_in_place(out, copies)
        for page in plan.pages:
            if page.post is not None:
                self.page_of[page.post.rel] = page.output_path
        current = {p.output_path for p in plan.pages} | produced | {r for _, r in site.static}
        for rel in sorted(self.written - current):
            try:
                (out / rel).unlink()
                outcome.removed.append(rel)
            except OSError:
                pass
        self.written = current
        self._last_site = site
        call_hook(site, "sitegen_build_finished", site=site, output=out)  # may report more
        outcome.errors, outcome.warnings = site.report.errors, site.report.warnings
        return outcome


def _merged(early: Outcome, rest: Outcome) -> Outcome:
    """One outcome for a rebuild whose first pages were written ahead of it."""
    rest.changed = early.changed + [p for p in rest.changed if p not in early.changed]
    rest.rendered = early.rendered + rest.rendered
    rest.pending |= early.pending
    return rest


def _is_source(rel: str) -> bool:
    return rel.split("/", 1)[0] in POST_DIRS + PAGE_DIRS


def _unread_copy(post: Post) -> Post:
    """A post as ``read_post`` returned it, safe to hand to one more build (which fills in
    html, data and neighbours)."""
    return replace(
        post,
        meta=dict(post.meta),
        tags=list(post.tags),
        categories=list(post.categories),
        data={},
        toc=[],
        html="",
        has_math=False,
        failed=False,
        previous=None,
        next=None,
    )


def _remember(post: Post, verified: bool) -> RenderedBody:
    data = {k: v for k, v in post.data.items() if k not in _TRANSIENT_DATA}
    return RenderedBody(
        source=post.source,
        html=post.html,
        has_math=post.has_math,
        toc=list(post.toc),
        title=post.title,
        data=data,
        verified=verified,
    )


def _restore(post: Post, body: RenderedBody) -> None:
    post.html, post.has_math, post.toc = body.html, body.has_math, list(body.toc)
    post.title = post.title or body.title
    post.data.update(body.data)


# -- the error page -----------------------------------------------------------------------

_ERROR_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fff8f7;color:#300}
main{max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.3rem;color:#a00}
.sg-error-item{background:#fff;border-left:4px solid #c00;padding:.5rem 1rem;margin:1rem 0}
.sg-error-where{font-family:ui-monospace,monospace;font-weight:bold}
pre{background:#f6eeee;padding:.5rem;overflow:auto;font-size:.85rem}
pre .here{background:#fcc;font-weight:bold}
"""


def _excerpt(root: Path, diagnostic: Diagnostic, around: int = 2) -> str:
    """A few lines of the file around the error, the failing line marked."""
    if not diagnostic.line or not diagnostic.path:
        return ""
    path = root / diagnostic.path
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    first = max(1, diagnostic.line - around)
    last = min(len(lines), diagnostic.line + around)
    rows = []
    for number in range(first, last + 1):
        text = html.escape(f"{number:>5} | {lines[number - 1]}")
        rows.append(f'<span class="here">{text}</span>' if number == diagnostic.line else text)
    return "<pre>" + "\n".join(rows) + "</pre>"


def render_error_page(diagnostics: list[Diagnostic], root: Path) -> bytes:
    """A self-contained page listing errors with file:line, shown in place of a page that
    could not be built (it needs no template: a template may be what is broken)."""
    items = []
    for d in diagnostics:
        where = f"{d.path}:{d.line}" if d.line else d.path
        items.append(
            '<div class="sg-error-item">'
            f'<div class="sg-error-where">{html.escape(where)}</div>'
            f'<div class="sg-error-message">{html.escape(d.message)}</div>'
            f"{_excerpt(root, d)}</div>"
        )
    body = "\n".join(items) or "<p>unknown error</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Build error · sitegen</title>"
        f"<style>{_ERROR_STYLE}</style></head>\n"
        '<body><main><article class="sg-error" id="sg-error">'
        "<h1>This page could not be built</h1>\n"
        f"{body}\n"
        "<p>Fix the file and save: this page updates by itself.</p>"
        "</article></main></body></html>\n"
    ).encode()
