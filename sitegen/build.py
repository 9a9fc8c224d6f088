"""The build: the one function that knows the order of the pipeline's stages.

    discover → read → front matter → Markdown (parse) → verify → Markdown (render)
    → templates → write

``sitegen build``, ``sitegen serve`` and ``sitegen check`` all run it; one bad post fails
alone. Every stage keeps what it made for the next build (read posts, rendered bodies,
what each page read), so a build after an edit redoes only what the edit changed, and
gives the same output as a build from nothing (tests/test_differential.py).
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.bodies import create_markdown, default_jobs, render_all_bodies
from sitegen.cache import (
    CacheStore,
    FrontMatterCache,
    ReadCache,
    RenderCache,
    cache_dir,
    load_page_records,
    save_page_records,
)
from sitegen.config import load_config
from sitegen.discover import discover_static
from sitegen.folders import FolderMaker
from sitegen.macros import load_macros
from sitegen.manifest import (
    build_settings,
    builtin_dirs,
    forget_manifest,
    input_fingerprint,
    settings_fingerprint,
    write_manifest,
)
from sitegen.markdown.jekyll import template_macros
from sitegen.model import BuildOptions, Site, output_path
from sitegen.pages import PageRun, index_pages, post_pages
from sitegen.plugins import (
    call_hook,
    load_plugins,
    plugin_settings_warnings,
    plugin_theme_folders,
)
from sitegen.posts import read_posts
from sitegen.read import (
    decode_source,
    header_version,
    read_bytes,
    read_post,
    read_salt,
)
from sitegen.reading_copy import ReadingCopy
from sitegen.report import show_progress
from sitegen.swap import recover
from sitegen.templates import create_environment, template_dirs, theme_dirs
from sitegen.write import OutputWriter, check_output_folder, files_written

DEFAULT_OUT = "_site"


@dataclass
class BuildResult:
    site: Site
    out: Path
    files: set[str] = field(default_factory=set)  # every output path of the site
    changed: list[str] = field(default_factory=list)  # output paths whose bytes changed
    removed: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)  # output paths whose template ran
    pages_of: dict[str, str] = field(default_factory=dict)  # source → output path of its page
    failed_sources: set[str] = field(default_factory=set)  # read, but failed later
    timings: list[tuple[str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.site.report.errors

    @property
    def failed(self) -> bool:
        """Errors, or a plugin's verdict that the site failed (strict mode exits 1)."""
        return bool(self.site.report.errors) or bool(self.site.failed)

    @property
    def file_count(self) -> int:
        return len(self.files)


def load_site(root: Path, options: BuildOptions) -> Site:
    """Configuration, plugins and theme: what every stage needs."""
    root = root.absolute()
    config = load_config(root)
    site = Site(root=root, config=config, options=options)
    site.plugins = load_plugins(root, config.plugins)
    for diagnostic in config.warnings + plugin_settings_warnings(root, config, site.plugins):
        site.report.add(diagnostic)
    # the theme, then what plugins ship (their templates and styles), which it overrides
    site.theme_dirs = theme_dirs(root, config.theme) + plugin_theme_folders(site)
    # A Jekyll site's layouts define the macros its posts use; macros_file wins.
    site.macros = {**template_macros(root), **load_macros(root, config.math.macros_file)}
    call_hook(site, "sitegen_configure", site=site)
    return site


def _settings_salt(site: Site, out: Path) -> str:
    """What every body and page depends on besides the posts: settings, includes,
    templates, themes, plugins, the macros file and every post's URL (Liquid links)."""
    # the same in every folder, and for serve (what a template does with ``site.serve``
    # is recorded as it reads it)
    settings = dict(build_settings(site.options, out), out="", serve=False)
    salt = settings_fingerprint(site.root, settings, builtin_dirs())
    digest = hashlib.sha256(salt.encode())
    macros = site.config.math.macros_file
    if macros and (site.root / macros).is_file():
        digest.update((site.root / macros).read_bytes())
    for post in site.posts + site.pages:
        digest.update(f"{post.rel}\0{post.url}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class _Clock:
    """How long each stage took (``sitegen build -v`` prints them); on a terminal, what
    is done so far (a large site takes a few seconds)."""

    def __init__(self, site: Site, timings: list[tuple[str, float]]) -> None:
        self.site, self.timings = site, timings
        self.since = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings.append((stage, now - self.since))
        self.since = now
        show_progress(f"building: {stage} done", _progress_wanted(self.site))


def _progress_wanted(site: Site) -> bool:
    return not site.options.quiet and not site.options.serve


def run_pipeline(
    site: Site,
    out: Path,
    changed: set[str] | None = None,
    into: Path | None = None,
    copy: ReadingCopy | None = None,
) -> BuildResult:
    """Every stage, writing into ``out`` what changed and removing what is gone.
    ``changed``: sources known to have changed (read anew whatever their stat says);
    ``into``: the folder to write instead, a copy of ``out`` (``--atomic``); ``copy``: a
    reading copy started for this build (``sitegen build``)."""
    into = into or out
    jobs = min(site.options.jobs or default_jobs(), 8)
    folders = FolderMaker.for_build(into, jobs, copy)  # made while the sources are read
    try:
        return _run_stages(site, out, into, changed, jobs, folders, copy)
    finally:
        folders.finish()  # a build that failed leaves no empty folder behind


def _run_stages(
    site: Site,
    out: Path,
    into: Path,
    changed: set[str] | None,
    jobs: int,
    folders: FolderMaker,
    copy: ReadingCopy | None,
) -> BuildResult:
    result = BuildResult(site=site, out=out)
    clock = _Clock(site, result.timings)
    use_caches = not site.options.rerun
    # with --rerun nothing is taken from the store, but what is made goes in
    site.cache = CacheStore(site.root, enabled=use_caches)
    headers = FrontMatterCache(site.cache, header_version())
    reads = ReadCache(site.cache, read_salt(site.config), headers)
    reads.forget(changed or set())
    read = functools.partial(read_post, headers=headers)
    read_posts(
        site,
        reads.wrap(read, lambda path, rel: decode_source(read_bytes(path), rel)),
        published=lambda post: folders.add(output_path(post.url)),
        copy=copy,
        cache=reads,
    )
    folders.flush()
    reads.save()
    headers.save(complete=not site.options.only)
    clock.done("discover, read, front matter")
    salt = _settings_salt(site, out)
    cache = RenderCache(site.cache, salt)
    compiled = cache_dir(site.root) / "templates" if use_caches else None
    jinja_env = create_environment(template_dirs(site.root, site.theme_dirs), compiled)
    md = create_markdown(site)
    site.markdown = md
    everything = site.posts + site.pages
    clock.done("load caches, templates, Markdown parser")
    render_all_bodies(site, md, jinja_env, everything, cache, jobs)
    clock.done(f"Markdown and plugins ({len(everything)} sources)")
    pages = post_pages(site, everything)
    site.posts = [p for p in site.posts if not p.failed]
    site.pages = [p for p in site.pages if not p.failed]
    pages += index_pages(site)
    for extra in call_hook(site, "sitegen_extra_pages", site=site):
        pages.extend(extra)
    site.static = discover_static(
        site.root, [(t / "static", "theme/") for t in reversed(site.theme_dirs)]
    )
    forget_manifest(site.root)
    previous = load_page_records(site.cache, out)
    writer = OutputWriter(into, set(previous) | set(files_written(into)))
    run = PageRun(site, jinja_env, writer, salt, previous, jobs=jobs)
    run.render(pages)
    run.copy_static(site.static)
    writer.remove_stale(run.records)
    writer.mark(run.records)
    folders.finish(set(run.records) | set(writer.changed))
    rendered, written = len(run.rendered), len(writer.changed)
    clock.done(f"pages ({rendered} of {len(pages)} rendered, {written} written)")
    if run.rendered or writer.changed or writer.removed or set(previous) != set(run.records):
        save_page_records(site.cache, out, run.stored_records(), run.shipped)
    if site.options.only:  # a build of some posts keeps the others' entries
        site.cache.flush()
    else:
        site.cache.sweep()
    result.files = set(run.records)
    result.pages_of = {p.post.rel: p.output_path for p in pages if p.post is not None}
    result.failed_sources = {p.rel for p in everything if p.failed}
    result.changed, result.removed, result.rendered = writer.changed, writer.removed, run.rendered
    return result


def record_build(root: Path, result: BuildResult, fingerprint: str) -> None:
    """The manifest of a finished build: what lets the next one with the same inputs
    (``fingerprint``, taken before reading) skip itself, or ``serve`` start at once."""
    site = result.site
    write_manifest(
        root,
        {
            "fingerprint": fingerprint,
            "clean": not result.failed,
            # said again by a build that skips itself (notes too: a post still held back)
            "warnings": [str(d) for d in site.report.diagnostics if d.level != "error"],
            "posts": len(site.posts),
            "pages": len(site.pages),
            "files": result.file_count,
            "baseurl": site.config.baseurl,
            # the next build must not be skipped once the first held-back post is due
            "scheduled": min(site.scheduled.values()).isoformat() if site.scheduled else "",
        },
    )


def output_folder(root: Path, options: BuildOptions) -> Path:
    return (options.out or root / DEFAULT_OUT).absolute()


def _run_atomically(site: Site, out: Path, copy: ReadingCopy | None) -> BuildResult:
    """The pipeline into a staging copy of the output, swapped in whole at the end."""
    from sitegen.swap import discard, stage, swap_in
    from sitegen.write import OutputError

    real = out.resolve()  # a symlinked output stays a symlink: its target is replaced
    try:
        staging = stage(real)
    except OSError as exc:
        raise OutputError(f"cannot stage the new site: {exc.strerror or exc}", str(out)) from exc
    try:
        result = run_pipeline(site, out, into=staging, copy=copy)
    except BaseException:
        discard(staging)  # the old site stays as it was
        raise
    try:
        swap_in(staging, real)
    except OSError as exc:
        discard(staging)
        raise OutputError(f"cannot swap in the new site: {exc.strerror or exc}", str(out)) from exc
    return result


def build_site(
    root: Path,
    options: BuildOptions | None = None,
    fingerprint: str | None = None,
    copy: ReadingCopy | None = None,
) -> BuildResult:
    """Build the site at ``root`` into ``options.out`` (default ``root/_site``), with the
    reading ``copy`` ``sitegen build`` started for it, if any."""
    options = options or BuildOptions()
    root = root.absolute()
    out = output_folder(root, options)
    if copy is None:  # (a reading copy starts only for an output folder it checked)
        check_output_folder(out, root)
    if fingerprint is None:  # taken before reading, so edits made during the build count
        fingerprint = input_fingerprint(root, build_settings(options, out), builtin_dirs())
    site = load_site(root, options)
    recover(out.resolve())  # what an atomic build killed before this one left
    if options.atomic:
        result = _run_atomically(site, out, copy)
    else:
        result = run_pipeline(site, out, copy=copy)
    show_progress("", _progress_wanted(site))  # the summary line takes its place
    call_hook(site, "sitegen_build_finished", site=site, output=out)
    record_build(root, result, fingerprint)
    return result
