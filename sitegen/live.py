"""``sitegen serve``'s builds: the same pipeline as ``sitegen build``, run again for each
batch of changed files with the loaded site (configuration, plugins, theme) kept in
memory between batches.

The watcher hands over the changed paths: a change of the configuration, a plugin, a
theme or the macros file loads the site again; a changed source is read again whatever
its file's time says; files no build reads are ignored. Each build writes the files
whose bytes changed and removes those no longer made, so its outcome is exactly what
the browser needs to hear about. A batch that is one post keeping its place has that
post's page written and announced first (``sitegen.early_page``); the build follows.

A post that fails to build is shown as an error page (file:line of every error) at its
URL instead of its stale page; when the failure is site-wide (the configuration or a
plugin does not load), ``site_errors`` is set and the server shows it on every page.
Error pages are served from memory, never written into the output folder.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sitegen.build import BuildResult, load_site, record_build, run_pipeline
from sitegen.discover import MARKDOWN_EXTENSIONS, PAGE_DIRS, POST_DIRS, is_jekyll_input
from sitegen.early_page import EarlyPage, PageMaker, write_edited_page
from sitegen.errors import Diagnostic, SiteError
from sitegen.manifest import (
    build_settings,
    builtin_dirs,
    input_fingerprint,
    unchanged_since_last_build,
)
from sitegen.model import BuildOptions, Site
from sitegen.plugins import call_hook
from sitegen.write import OutputError, check_output_folder, digest_of

RELOAD_FILES = ("sitegen.toml", "_config.yml")
# themes/ reloads: adding a site theme changes where templates and static files are found
RELOAD_DIRS = ("plugins", "themes")
# what a build reads: a change anywhere else (an editor's backup, a note) builds nothing
BUILD_DIRS = ("posts", "_posts", "pages", "assets", "static", "includes", "_includes",
              "_data", "templates")


@dataclass
class ChangeSet:
    """What a batch of changed files means for the site."""

    reload: bool = False  # configuration, plugins, macros: load the site again
    build: bool = False  # something the pipeline reads changed
    sources: set[str] = field(default_factory=set)  # posts and pages (paths from the root)
    others: bool = False  # something else the pipeline reads (an asset, a template)

    @property
    def one_source(self) -> str:
        """The one post or page the batch changed, if that is all it changed; else ""."""
        if self.reload or self.others or len(self.sources) != 1:
            return ""
        rel = next(iter(self.sources))
        return "" if rel.endswith("/") else rel


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
        elif top in BUILD_DIRS:
            changes.build = True
            if top in POST_DIRS + PAGE_DIRS and rel.suffix.lower() in MARKDOWN_EXTENSIONS:
                changes.sources.add(rel.as_posix())
            elif len(rel.parts) == 1:  # the folder itself: made, removed or moved whole
                changes.sources.add(rel.as_posix() + "/")
            else:
                changes.others = True
        elif is_jekyll_input(root, rel.as_posix()):  # a Jekyll site's page or file elsewhere
            changes.build = True
            changes.sources.add(rel.as_posix())
    return changes


@dataclass
class Outcome:
    """What one build did; the server turns it into an event for the browsers."""

    changed: list[str] = field(default_factory=list)  # output paths whose bytes changed
    removed: list[str] = field(default_factory=list)  # output paths deleted
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    # everything the build reported (errors, warnings, notes), in order, as ``build`` does
    diagnostics: list[Diagnostic] = field(default_factory=list)
    reload: bool = False  # every open page should reload
    rendered: list[str] = field(default_factory=list)  # output paths whose template ran
    # written ahead of the rebuild (``sitegen.early_page``) and announced then, with the
    # bytes the rebuild gave them too: not news any more
    early: list[str] = field(default_factory=list)

    @property
    def news(self) -> list[str]:
        """The changed output paths not announced yet."""
        return [rel for rel in self.changed if rel not in self.early]


class LiveBuild:
    """The site as ``sitegen serve`` builds it, batch after batch."""

    def __init__(self, root: Path, options: BuildOptions, out: Path) -> None:
        self.root = root.absolute()
        self.options = options
        self.options.serve = True
        self.out = out.absolute()
        self.lock = threading.Lock()  # one build at a time
        self.loaded_site: Site | None = None  # configuration, plugins and theme, loaded
        self.site_errors: list[Diagnostic] = []  # set while the site cannot be loaded
        self.error_pages: dict[str, bytes] = {}  # output path → page showing its errors
        self.errors: list[Diagnostic] = []  # the last build's errors
        self._page_of: dict[str, str] = {}  # source → output path of its page
        self._last: Site | None = None  # the last build's site, its posts rendered
        self._maker: PageMaker | None = None  # parser and templates for early pages
        # posts held back for their date: source → the moment (UTC) they are due
        self.scheduled: dict[str, datetime] = {}
        self.baseurl_hint = ""  # the site's base URL before it is loaded (``quick_start``)

    @property
    def macros_file(self) -> str:
        site = self.loaded_site
        return site.config.math.macros_file if site is not None else ""

    def quick_start(self) -> list[str] | None:
        """When no input changed since the last build of this output for the preview
        (its manifest says so, as for ``sitegen build``), the output folder already holds
        what the first build would write, so it can be served before the site is loaded:
        the warnings that build gave, or None when the first build must come first.
        ``start`` still runs (in the background), to have the site in memory."""
        check_output_folder(self.out, self.root)
        _, manifest = unchanged_since_last_build(self.root, self.options, self.out)
        if manifest is None:
            return None
        self.baseurl_hint = str(manifest.get("baseurl", ""))
        return [str(w) for w in manifest.get("warnings", [])]

    def start(self) -> Outcome:
        """The first build."""
        check_output_folder(self.out, self.root)
        with self.lock:
            return self._build(reload=True, sources=set())

    @property
    def page_of(self) -> dict[str, str]:
        """Source → output path of its page, as the last builds made them."""
        return dict(self._page_of)

    def apply(
        self, paths: set[Path] | list[Path], on_early: Callable[[str], None] | None = None
    ) -> Outcome:
        """Build again after ``paths`` changed on disk. When they are one post whose
        place stays, its page is written first and ``on_early`` told its output path
        before the rest of the site is built."""
        with self.lock:
            changes = classify(self.root, paths, self.macros_file)
            if not (changes.reload or changes.build):
                return Outcome()
            if self.loaded_site is not None:
                site = self.loaded_site
                call_hook(site, "sitegen_files_changed", site=site, paths=list(paths))
            reload = changes.reload or self.loaded_site is None
            early = None
            if not reload and on_early is not None and changes.one_source:
                early = self._early_page(changes.one_source)
                if early is not None:
                    on_early(early.rel)
            outcome = self._build(reload=reload, sources=changes.sources)
            if early is not None and early.rel in outcome.changed:
                try:
                    kept = digest_of((self.out / early.rel).read_bytes()) == early.digest
                except OSError:
                    kept = False
                if kept:
                    outcome.early.append(early.rel)
            return outcome

    def warm_up(self) -> None:
        """Render the newest post's page once, writing nothing, so that what rendering
        loads on first use (a code block's lexer, compiled templates, lazy imports)
        is loaded before the first save rather than during it."""
        with self.lock:
            last = self._last
            if last is not None and (last.posts or last.pages):
                self._early_page((last.posts + last.pages)[0].rel, rehearse=True)

    def _early_page(self, rel: str, rehearse: bool = False) -> EarlyPage | None:
        if self._last is None or self.error_pages or self.site_errors:
            return None
        try:
            site = self._new_site()
            if self._maker is None:
                self._maker = PageMaker(site)
            return write_edited_page(site, self._last, rel, self._maker, self.out, rehearse)
        except Exception:  # the rebuild that follows says what is wrong
            return None

    def next_due(self) -> datetime | None:
        """When the first post held back for its date is due (None: there is none)."""
        return min(self.scheduled.values(), default=None)

    def publish_due(self, now: datetime | None = None) -> Outcome | None:
        """Build again if a post held back for its date is due now (None: none is)."""
        now = now or datetime.now(UTC)
        with self.lock:
            ready = {rel for rel, when in self.scheduled.items() if when <= now}
            if not ready:
                return None
            return self._build(reload=self.loaded_site is None, sources=ready)

    def _new_site(self) -> Site:
        """A site for one build, sharing what was loaded (plugins keep their data, e.g. a
        warm pool of workers, in ``site.data``)."""
        base = self.loaded_site
        assert base is not None
        site = Site(root=self.root, config=base.config, options=self.options)
        site.plugins, site.theme_dirs, site.macros = base.plugins, base.theme_dirs, base.macros
        site.data = {k: v for k, v in base.data.items()}
        for diagnostic in base.report.diagnostics:  # the configuration's warnings
            site.report.add(diagnostic)
        call_hook(site, "sitegen_configure", site=site)
        return site

    def _build(self, reload: bool, sources: set[str]) -> Outcome:
        # taken before reading, so a save made during the build makes the next start build
        fingerprint = input_fingerprint(
            self.root, build_settings(self.options, self.out), builtin_dirs()
        )
        try:
            if reload:
                self._last = self._maker = None
                self.loaded_site = load_site(self.root, self.options)
            site = self._new_site()
            self.site_errors = []
        except SiteError as exc:
            self.loaded_site = None
            self.site_errors = [exc.diagnostic()]
            return Outcome(
                errors=list(self.site_errors), diagnostics=list(self.site_errors), reload=True
            )
        try:
            result = run_pipeline(site, self.out, changed=sources)
        except OutputError as exc:
            return Outcome(errors=[exc.diagnostic()], diagnostics=[exc.diagnostic()])
        call_hook(site, "sitegen_build_finished", site=site, output=self.out)
        record_build(self.root, result, fingerprint)
        self.scheduled = dict(site.scheduled)
        self._last = site
        had_errors = bool(self.error_pages)
        self.errors = list(site.report.errors)
        self._error_pages(result)
        return Outcome(
            changed=sorted(result.changed),
            removed=sorted(result.removed),
            errors=site.report.errors,
            warnings=site.report.warnings,
            diagnostics=list(site.report.diagnostics),
            reload=reload or had_errors or bool(self.error_pages),
            rendered=result.rendered,
        )

    def _error_pages(self, result: BuildResult) -> None:
        """Error pages at the URLs of the posts that failed (their pages are gone)."""
        errors = result.site.report.errors
        self._page_of.update(result.pages_of)
        general = [d for d in errors if d.path not in self._page_of]
        failed = result.failed_sources | {d.path for d in errors if d.path in self._page_of}
        pages = {}
        for rel in sorted(failed & set(self._page_of)):
            target = self._page_of[rel]
            if target not in result.files:
                own = [d for d in errors if d.path == rel]
                pages[target] = render_error_page(own + general, self.root)
        self.error_pages = pages


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


def render_error_page(
    diagnostics: list[Diagnostic], root: Path, heading: str = "This page could not be built"
) -> bytes:
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
        f"<h1>{html.escape(heading)}</h1>\n"
        f"{body}\n"
        "<p>Fix the file and save: this page updates by itself.</p>"
        "</article></main></body></html>\n"
    ).encode()
