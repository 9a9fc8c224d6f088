"""The build: the one function that knows the order of the pipeline's stages.

    discover → read → front matter → Markdown (parse) → verify → Markdown (render)
    → templates → write

Everything is read and rendered in memory before anything is written, so a failure
leaves the previous output untouched; one bad post fails alone.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from sitegen.cache import (
    SPARE_OUTPUT,
    CodeCache,
    FrontMatterCache,
    OutputRecord,
    ReadCache,
    RenderCache,
    build_settings,
    builtin_dirs,
    cache_dir,
    input_fingerprint,
    load_output_records,
    save_output_records,
    settings_fingerprint,
    write_manifest,
)
from sitegen.config import load_config
from sitegen.discover import HTML_EXTENSIONS, discover_sources, discover_static
from sitegen.errors import PostError, SiteError
from sitegen.macros import load_macros
from sitegen.model import BuildOptions, Page, Post, Site
from sitegen.plugins import call_hook, load_plugins, plugin_settings_warnings
from sitegen.read import (
    decode_source,
    is_jekyll_unpublished,
    read_bytes,
    read_post,
    source_rel,
)
from sitegen.report import show_progress
from sitegen.templates import (
    create_environment,
    include_dirs,
    render_template,
    template_dirs,
    theme_dirs,
)
from sitegen.write import (
    OutputFolder,
    check_output_folder,
    copy_static,
    output_identity,
    unsafe_reason,
)

DEFAULT_OUT = "_site"
LAYOUT_TEMPLATES = {"post": "post.html", "page": "page.html", "default": "page.html"}


@dataclass
class BuildResult:
    site: Site
    out: Path
    files: dict[str, bytes] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)  # output paths, when written as rendered

    @property
    def ok(self) -> bool:
        return not self.site.report.errors

    @property
    def file_count(self) -> int:
        return len(self.written | set(self.files))


@dataclass
class PageWriter:
    """Where rendered pages go: straight into the new output folder (``sitegen build``),
    or into ``files`` in memory when there is no folder (the live preview writes those).

    ``previous`` holds the page keys of the files in the current output folder; a page
    whose key is the same is linked from there instead of rendered again."""

    folder: OutputFolder | None = None
    # output path → (key of its page, the entries of ``site`` its template read, quick key)
    previous: dict[str, tuple] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    keys: dict[str, tuple[str, tuple[str, ...], str]] = field(default_factory=dict)

    def put(
        self, rel: str, data: bytes, key: str = "", read: tuple[str, ...] = (), quick: str = ""
    ) -> None:
        if self.folder is None:
            self.files[rel] = data
        else:
            self.folder.write(rel, data, key)
            self.written.add(rel)
        if key:
            self.keys[rel] = (key, read, quick)

    def reuse(self, rel: str, key: str, read: tuple[str, ...], quick: str = "") -> bool:
        if self.folder is None or self.previous.get(rel, ("",))[0] != key:
            return False
        if not self.folder.reuse(rel, key):
            return False
        self.written.add(rel)
        self.keys[rel] = (key, read, quick)
        return True

    def taken(self, rel: str) -> bool:
        return rel in self.files or rel in self.written


def load_site(root: Path, options: BuildOptions) -> Site:
    """Configuration, plugins and theme: what every stage needs."""
    root = root.absolute()
    config = load_config(root)
    site = Site(root=root, config=config, options=options)
    site.plugins = load_plugins(root, config.plugins)
    for diagnostic in config.warnings + plugin_settings_warnings(root, config, site.plugins):
        site.report.add(diagnostic)
    site.theme_dirs = theme_dirs(root, config.theme)
    site.data["macros"] = load_macros(root, config.math.macros_file)
    call_hook(site, "sitegen_configure", site=site)
    return site


def _timezone(name: str) -> timezone | None:
    if name.upper() == "UTC":
        return None  # naive dates, as written
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)  # type: ignore[return-value]
    except Exception:
        return None


def read_posts(site: Site, read: Callable[..., Post] = read_post) -> None:
    """Discover and read every source; keep what this build publishes.

    ``read`` has ``read_post``'s signature; ``sitegen serve`` passes one that reuses the
    posts whose files did not change since the previous rebuild."""
    tz = _timezone(site.config.timezone)
    now = datetime.now(tz) if tz else datetime.now()
    posts, pages = [], []
    only = {p.resolve() for p in site.options.only} if site.options.only else None
    for source in discover_sources(site.root):
        rel = source_rel(site.root, source.path)
        if is_jekyll_unpublished(source):
            site.report.warning(rel, None, "no date in the file name: skipped, as Jekyll does")
            continue
        if only is not None and source.path.resolve() not in only:
            continue
        try:
            post = read(source, rel, site.config, tz)
        except PostError as exc:
            site.report.add(exc.diagnostic())
            continue
        except OSError as exc:
            site.report.error(rel, None, f"cannot read: {exc.strerror}")
            continue
        if post.draft and not site.options.drafts:
            continue
        if (
            post.kind == "post"
            and not site.options.future
            and post.date is not None
            and post.date.replace(tzinfo=None) > now.replace(tzinfo=None)
        ):
            continue
        call_hook(site, "sitegen_post_loaded", post=post, site=site)
        if post.failed:
            continue
        (posts if post.kind == "post" else pages).append(post)
    posts.sort(key=lambda p: (p.date.replace(tzinfo=None), p.rel), reverse=True)
    site.posts = _drop_duplicate_urls(site, posts + pages)
    site.pages = [p for p in site.posts if p.kind == "page"]
    site.posts = [p for p in site.posts if p.kind == "post"]
    for newer, older in zip(site.posts, site.posts[1:], strict=False):
        newer.previous, older.next = older, newer


def _drop_duplicate_urls(site: Site, posts: list[Post]) -> list[Post]:
    seen: dict[str, Post] = {}
    kept = []
    for post in sorted(posts, key=lambda p: p.rel):
        other = seen.get(post.url)
        if other is not None:
            site.report.error(
                post.rel, None, f"permalink {post.url} is also the permalink of {other.rel}"
            )
            continue
        seen[post.url] = post
        kept.append(post)
    kept_ids = {id(p) for p in kept}  # by identity: ``p in kept`` compared whole dataclasses
    return [p for p in posts if id(p) in kept_ids and not p.failed]


def create_markdown(site: Site) -> Any:
    from sitegen.markdown import create_parser, detect_dialect

    dialect = detect_dialect(site.root, site.config.math.dollars)
    md = create_parser(math_options=dict(site.config.math.delimiters), dialect=dialect)
    call_hook(site, "sitegen_extend_markdown", md=md, site=site)
    return md


@dataclass
class _PostIndex:
    """Lookups Liquid tags need, built once per build (not once per post)."""

    by_stem: dict[str, Post]
    by_rel: dict[str, Post]
    site_vars: dict[str, Any]
    includes: dict[Path, Any] = field(default_factory=dict)  # compiled include templates


def _post_index(site: Site) -> _PostIndex:
    return _PostIndex(
        by_stem={p.path.stem: p for p in site.posts},
        by_rel={p.rel: p for p in site.posts + site.pages},
        site_vars=_site_vars(site),
    )


def _liquid_context(site: Site, post: Post, jinja_env: Any, index: _PostIndex) -> Any:
    from sitegen.markdown.liquid import LiquidContext

    def include(name: str, params: dict, line: int) -> str:
        for folder in include_dirs(site.root, site.theme_dirs):
            path = folder / name
            if path.is_file():
                template = index.includes.get(path)
                if template is None:  # compiled once per build, not once per use
                    template = index.includes[path] = jinja_env.from_string(
                        path.read_text(encoding="utf-8")
                    )
                return template.render(include=params, site=index.site_vars, page=post.meta)
        raise SiteError(f"include '{name}' not found in includes/ or _includes/")

    def post_url(name: str) -> str | None:
        target = index.by_stem.get(name)
        return site.url_for(target.url) if target else None

    def link(path: str) -> str | None:
        target = index.by_rel.get(path.lstrip("/"))
        if target is not None:
            return site.url_for(target.url)
        return site.url_for("/" + path.lstrip("/")) if (site.root / path).exists() else None

    page_vars = dict(post.meta, title=post.title, url=post.url, date=post.date, tags=post.tags)
    return LiquidContext(
        site=index.site_vars, page=page_vars, include=include, post_url=post_url, link=link
    )


def _site_vars(site: Site) -> dict[str, Any]:
    c = site.config
    base = {k: v for k, v in c.extra.items() if not isinstance(v, dict)}
    if isinstance(c.extra.get("extra"), dict):  # [extra]: the site's own settings
        base.update(c.extra["extra"])
    base.update(
        title=c.title, description=c.description, author=c.author, url=c.url, baseurl=c.baseurl
    )
    return base


def parse_posts(site: Site, md: Any, jinja_env: Any, posts: list[Post]) -> None:
    index = _post_index(site)
    cache: RenderCache | None = site.data.get("render_cache")
    code = CodeCache(cache) if cache is not None else None
    for post in posts:
        env: dict[str, Any] = {
            "line_offset": post.body_line,
            "diagnostics": [],
            "liquid": _liquid_context(site, post, jinja_env, index),
            "mathjax": post.meta.get("mathjax"),  # False: no math markup (no script loads)
            "post": post,
            "site": site,
            "highlighted": code,
        }
        try:
            if post.path.suffix.lower() in HTML_EXTENSIONS:  # an HTML page is its own body
                from sitegen.markdown.liquid import html_page_tokens

                post.data["tokens"] = html_page_tokens(env, post.body)
            else:
                post.data["tokens"] = md.parse(post.body, env)
        except Exception as exc:  # a parser plugin bug: this post fails, the rest build
            site.report.error(post.rel, None, f"Markdown failed: {type(exc).__name__}: {exc}")
            post.failed = True
        post.data["env"] = env


def render_post_body(site: Site, md: Any, post: Post) -> None:
    env = post.data["env"]
    tokens = post.data.pop("tokens")
    try:
        post.html = md.renderer.render(tokens, md.options, env)
    except SiteError as exc:
        if not exc.path:
            exc.path = post.rel
        site.report.add(exc.diagnostic())
        post.failed = True
        return
    except Exception as exc:
        site.report.error(post.rel, None, f"rendering failed: {type(exc).__name__}: {exc}")
        post.failed = True
        return
    notes = [(level, line, message) for line, level, message in env.get("diagnostics", [])]
    post.has_math = bool(env.get("has_math"))
    post.toc = list(env.get("toc", []))
    if not post.title:
        post.title = env.get("title") or post.slug.replace("-", " ").capitalize()
        notes.append(("warning", 1, f"no title in front matter; using '{post.title}'"))
    for level, line, message in notes:
        site.report.add_level(level, post.rel, line, message)
    post.data["notes"] = notes
    call_hook(site, "sitegen_post_rendered", post=post, site=site)


def _math_context(site: Site, post: Post | None) -> dict[str, Any]:
    wants = post.meta.get("mathjax") if post is not None else None
    return {
        "enabled": bool(post is not None and post.has_math and wants is not False) or wants is True,
        "url": site.config.math.mathjax_url,
        "macros": site.data.get("macros", {}),
    }


def base_context(site: Site) -> dict[str, Any]:
    tags: dict[str, list[Post]] = {}
    for post in site.posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    return {
        "site": {
            **_site_vars(site),
            "posts": site.posts,
            "pages": site.pages,
            "tags": dict(sorted(tags.items(), key=lambda kv: kv[0].lower())),
            # for a menu: a page that only asks whether there are tags need not depend on
            # every post's tags
            "has_tags": bool(tags),
            "config": site.config,
            "data": site.data,
            "serve": site.options.serve,
        },
        "url_for": site.url_for,
        "absolute_url": site.absolute_url,
        "math": _math_context(site, None),
    }


def post_pages(site: Site, posts: list[Post]) -> list[Page]:
    pages = []
    known = set(LAYOUT_TEMPLATES)
    for post in posts:
        if post.failed:
            continue
        template = LAYOUT_TEMPLATES.get(post.layout)
        if post.layout not in known:
            template = "post.html" if post.kind == "post" else "page.html"
            site.report.warning(post.rel, 2, f"unknown layout '{post.layout}'; using {template}")
        pages.append(Page(url=post.url, template=template, post=post))
    return pages


def index_pages(site: Site) -> list[Page]:
    per = site.config.posts_per_page
    chunks = [site.posts[i : i + per] for i in range(0, len(site.posts), per)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        url = "/" if number == 1 else f"/page/{number}/"
        paginator = {
            "posts": chunk,
            "page": number,
            "total_pages": len(chunks),
            "previous_url": None
            if number == 1
            else ("/" if number == 2 else f"/page/{number - 1}/"),
            "next_url": f"/page/{number + 1}/" if number < len(chunks) else None,
        }
        pages.append(
            Page(url=url, template="index.html", context={"paginator": paginator}, lists_posts=True)
        )
    # a page of the site's own at one of these URLs (a Jekyll site's 404.html) wins
    own = {page.url for page in site.pages}
    if "/archive/" not in own:
        pages.append(Page(url="/archive/", template="archive.html", lists_posts=True))
    if "/404.html" not in own:
        pages.append(Page(url="/404.html", template="404.html"))
    return pages


# site.data key: the posts' digests a build's page batches share (see PageKeys)
POST_DIGESTS = "post_digests"

# What a post's page is given besides the post: plain data (front matter, settings), so
# pickled for its key, which is faster than JSON
_PLAIN_POST_CONTEXT = frozenset({"page", "math"})

# Noted as read by a page that shows the body of a post other than its own: its key then
# covers every post's body (rare: themes that put whole posts on the index).
BODIES = "@bodies"


class PageKeys:
    """Keys of rendered pages: a digest of everything a page's template was given, so a
    page with the same key has the same bytes and can be reused from the previous output.

    Of the ``site`` variable only the entries the template read count (``SiteView``
    records them at render time, and the next build keys the page by the same entries):
    a post page that shows its neighbours but not the list of all posts keeps its key when
    an unrelated post changes. Posts inside a context count by their listing fields.
    Made once per batch of pages, since posts do not change while one is rendered."""

    def __init__(self, salt: str, post_digests: tuple[dict, dict] | None = None) -> None:
        self.salt = salt
        # posts by id: their listing fields with their neighbours', and their source fields
        # alone. A build may share these between batches (``post_digests``) once every
        # body is rendered; what ``site`` holds is digested per batch.
        self._posts, self._own = post_digests if post_digests is not None else ({}, {})
        self._site: dict[str, str] = {}
        self._site_parts: dict[tuple[str, ...], bytes] = {}
        self._new_pickler()

    def forget(self, post: Post) -> None:
        """Drop what is known of ``post`` (its page failed: its listing fields changed)."""
        self._posts.pop(id(post), None)

    def key(self, page: Page, context: dict[str, Any], site_keys: Iterable[str]) -> str:
        digest = hashlib.sha256(f"page\0{self.salt}\0{page.url}\0{page.template}".encode())
        post = page.post
        for name in sorted(context):
            value = context[name]
            if name == "site":
                continue  # only the entries the template read count: below
            if post is not None and post.html_key and value is post.html:
                # the body cache's key stands for the body: it is cheaper than the text
                part = f"k:{post.html_key}"
            elif isinstance(value, str):
                # a page's body is a long string: hashed as it is, not escaped as JSON first
                digest.update(f"\0{name}=s{len(value)}:".encode())
                digest.update(value.encode("utf-8", "surrogatepass"))
                continue
            elif isinstance(value, Post):
                part = self._post(value)
            elif callable(value):  # url_for and the like depend only on settings
                part = f"f:{type(value).__qualname__}"
            elif post is not None and name in _PLAIN_POST_CONTEXT:
                part = self._digest(value)
            else:
                part = self.describe(value)
            digest.update(f"\0{name}={part}".encode("utf-8", "surrogatepass"))
        if post is not None:
            digest.update(f"\0toc={self._digest(post.toc)}".encode("utf-8", "surrogatepass"))
        digest.update(self._site_part(site_keys, context.get("site", {})))
        return digest.hexdigest()

    def quick(self, page: Page, site_keys: Iterable[str], site: dict[str, Any]) -> str:
        """A key of a post's page made without building its context: the post's body by
        the body cache's key (which also stands for its table of contents, math and
        plugin data), the post by its listing fields, and the entries of ``site`` read.
        Equal to the quick key the page had last time, nothing its full key covers has
        changed — as long as ``sitegen_template_context`` hooks add nothing else (see
        ``quick_keys_sound``). "" for a body that did not come from the cache."""
        post = page.post
        if post is None or not post.html_key:
            return ""
        digest = hashlib.sha256(
            f"quick\0{self.salt}\0{page.url}\0{page.template}\0{post.html_key}\0"
            f"{self._post(post)}".encode("utf-8", "surrogatepass")
        )
        digest.update(self._site_part(site_keys, site))
        return digest.hexdigest()

    def _site_part(self, site_keys: Iterable[str], site: dict[str, Any]) -> bytes:
        """The entries of ``site`` a page read, as key bytes: most pages read the same
        few, so each set is made once per batch."""
        names = tuple(site_keys)
        known = self._site_parts.get(names)
        if known is None:
            known = self._site_parts[names] = "".join(
                f"\0site.{name}={self._site_entry(name, site)}" for name in sorted(names)
            ).encode("utf-8", "surrogatepass")
        return known

    def _site_entry(self, name: str, site: dict[str, Any]) -> str:
        """A digest of one entry of ``site`` (``data.KEY`` for plugins' data), once per batch."""
        known = self._site.get(name)
        if known is None:
            if name == BODIES:
                known = self._bodies(site)
            else:
                scope, _, entry = name.rpartition(".")
                values = dict.get(site, scope, {}) if scope else site
                value = dict.get(values, entry) if isinstance(values, dict) else None
                known = hashlib.sha256(
                    self.describe(value).encode("utf-8", "surrogatepass")
                ).hexdigest()
            self._site[name] = known
        return known

    def _bodies(self, site: Any) -> str:
        digest = hashlib.sha256()
        for post in list(dict.get(site, "posts", [])) + list(dict.get(site, "pages", [])):
            digest.update(f"{post.url}\0".encode("utf-8", "surrogatepass"))
            digest.update(post.html.encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()

    def describe(self, value: Any) -> str:
        """A stable text for a template variable. JSON's C encoder does the common case;
        odd keys or nesting fall back to Python."""
        try:
            return json.dumps(value, sort_keys=True, ensure_ascii=False, default=self._object)
        except (TypeError, ValueError):
            return self._slowly(value)

    def _post(self, post: Post) -> str:
        """A post by its listing fields and its neighbours' fields from its source (a page
        may show the previous post's date or excerpt through ``post.previous``). What
        rendering adds to a neighbour is left out: a parallel build renders a page before
        its neighbour's body, in another process, so it would not be the same twice."""
        text = self._posts.get(id(post))
        if text is None:
            # a digest, not the text: pages describe their posts inside larger texts. The
            # source fields' digest is made once per post (it is also its neighbours').
            parts = [
                self._from_source(post),
                self._digest(rendered_fields(post)),
                self._from_source(post.previous),
                self._from_source(post.next),
            ]
            text = self._posts[id(post)] = "post:" + hashlib.sha256(
                "\0".join(parts).encode()
            ).hexdigest()
        return text

    def _from_source(self, post: Post | None) -> str:
        if post is None:
            return "-"
        text = self._own.get(id(post))
        if text is None:
            text = self._own[id(post)] = self._digest(source_fields(post))
        return text

    def _digest(self, value: Any) -> str:
        """A digest of a value made of plain data (front matter, titles, dates …). Pickle
        is several times faster than JSON here. Without its memo (``fast``), a value
        shared by two fields is written twice, so the bytes do not depend on which
        objects happen to be shared (a title read from a cache is a copy); equal bytes
        mean equal values, and the rare equal values pickled differently (sets) only
        cost a render. One pickler serves the batch (making one per value costs a
        fifth of the time)."""
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        try:
            self._pickler.dump(value)
            return hashlib.sha256(buffer.getbuffer()).hexdigest()
        except Exception:  # a value that does not pickle, or refers to itself
            self._new_pickler()  # not to be trusted after a failure
            data = self.describe(value).encode("utf-8", "surrogatepass")
        return hashlib.sha256(data).hexdigest()

    def _new_pickler(self) -> None:
        self._buffer = io.BytesIO()
        self._pickler = pickle.Pickler(self._buffer, protocol=5)
        self._pickler.fast = True

    def _object(self, value: Any) -> Any:
        if isinstance(value, Post):
            return self._post(value)
        if isinstance(value, (set, frozenset)):
            return sorted(value, key=repr)
        if isinstance(value, (date, time_of_day)):
            return repr(value)
        return type(value).__qualname__  # functions and the like depend only on settings

    def _slowly(self, value: Any, within: tuple[int, ...] = ()) -> str:
        """``within``: the containers around ``value``, as a value that holds itself
        (a YAML alias can make one) is described up to where it comes round again."""
        if isinstance(value, str):
            return value
        if isinstance(value, Post):
            return self._post(value)
        if isinstance(value, (dict, list, tuple, set, frozenset)):
            if id(value) in within:
                return "<itself>"
            within = (*within, id(value))
        if isinstance(value, dict):
            items = sorted(value.items(), key=lambda item: repr(item[0]))
            return "{" + ",".join(f"{k!r}:{self._slowly(v, within)}" for k, v in items) + "}"
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
            return "[" + ",".join(self._slowly(v, within) for v in items) + "]"
        if value is None or isinstance(value, (int, float, bool, date, time_of_day)):
            return repr(value)
        return type(value).__qualname__


# A plugin module sets this to True when what its ``sitegen_template_context`` adds to a
# post's page depends only on the settings (functions such as ``tag_url``).
STATIC_CONTEXT_FLAG = "TEMPLATE_CONTEXT_FROM_SETTINGS"


def quick_keys_sound(site: Site) -> bool:
    """Whether quick keys may stand for full ones: every ``sitegen_template_context``
    hook has declared that it adds nothing a quick key leaves out."""
    if site.plugins is None:
        return True
    hooks = site.plugins.hook.sitegen_template_context.get_hookimpls()
    return all(getattr(impl.plugin, STATIC_CONTEXT_FLAG, False) is True for impl in hooks)


def source_fields(post: Post) -> tuple:
    """What reading a post's source gives a page that shows it as a neighbour."""
    return (
        post.url,
        post.title,
        post.date,
        post.excerpt,
        post.tags,
        post.categories,
        post.reading_minutes,
        post.layout,
        post.meta,
    )


def rendered_fields(post: Post) -> tuple:
    """What rendering a post's body adds to what a page may show of a post other than its
    own (list entries, badges). With its ``source_fields``, these are its listing fields.
    (A page that shows other posts' bodies is keyed by them too: see ``BODIES``.)"""
    data = post.data
    return (
        post.has_math,
        post.failed,
        data.get("badge_html"),
        data.get("checks"),
        # what a list shows of a post besides its front matter (plugins/excerpts.py)
        data.get("title_html"),
        data.get("excerpt_html"),
        data.get("listing_math"),
    )


class SiteView(dict):
    """The ``site`` template variable, noting which of its entries a template reads.

    ``site.data`` (plugins' shared data, e.g. ``nav``) is a view of its own whose entries
    are noted as ``data.KEY``: it also holds build state that differs on every build."""

    def __init__(
        self, values: dict[str, Any], read: set[str] | None = None, prefix: str = ""
    ) -> None:
        super().__init__(values)
        self._sg_read: set[str] = set() if read is None else read
        self._sg_prefix = prefix
        if not prefix and isinstance(values.get("data"), dict):
            dict.__setitem__(self, "data", SiteView(values["data"], self._sg_read, "data."))

    def _note(self, key: object) -> None:
        if self._sg_prefix or key != "data":
            self._sg_read.add(f"{self._sg_prefix}{key}")

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def _note_all(self) -> None:
        for key in self.keys():
            self._note(key)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._note_all()
        return super().__iter__()

    def items(self):  # type: ignore[no-untyped-def]
        self._note_all()
        return super().items()

    def values(self):  # type: ignore[no-untyped-def]
        self._note_all()
        return super().values()


def render_pages(site: Site, jinja_env: Any, pages: list[Page]) -> dict[str, bytes]:
    """Render ``pages`` through the site's :class:`PageWriter` (``site.data["writer"]``);
    without one, return the files in memory."""
    writer: PageWriter = site.data.get("writer") or PageWriter()
    before = dict(writer.files)
    base = base_context(site)
    cache: RenderCache | None = site.data.get("render_cache")
    keys = PageKeys(cache.salt, site.data.get(POST_DIGESTS)) if cache is not None else None
    quick = keys is not None and quick_keys_sound(site)
    for page in pages:
        out_path = page.output_path
        problem = unsafe_reason(out_path)
        if problem:  # a URL read.py did not make (a plugin's page): never written
            where = page.post.rel if page.post else out_path
            message = f"not written: the output path of {page.url!r} {problem}"
            site.report.error(where, None, message)
            if page.post is not None:
                page.post.failed = True
            continue
        if writer.taken(out_path):
            site.report.error(
                page.post.rel if page.post else out_path, None, f"two pages write {page.url}"
            )
            continue
        if page.content is not None:
            data = page.content
            writer.put(out_path, data.encode("utf-8") if isinstance(data, str) else data)
            continue
        previous = writer.previous.get(out_path)
        if quick and page.post is not None and previous is not None and len(previous) > 2:
            # a post's page whose inputs are as they were: reused without its context
            assert keys is not None
            same = previous[2] and keys.quick(page, previous[1], base["site"]) == previous[2]
            if same and writer.reuse(out_path, previous[0], previous[1], previous[2]):
                continue
        context = dict(base)
        context["site"] = view = SiteView(base["site"])
        context.update(page.context)
        context["page"] = {"url": page.url, "title": page.context.get("title", "")}
        if page.post is not None:
            post = page.post
            context["post"] = post
            context["page"] = {"url": post.url, "title": post.title, **post.meta}
            context["content"] = post.html
            context["math"] = _math_context(site, post)
        call_hook(
            site, "sitegen_template_context", page=page, context=context, site=site, post=page.post
        )
        if keys is not None and previous is not None:
            # keyed by the parts of the site the page read last time: if they and the
            # rest of its data are the same, so is the page
            key = keys.key(page, context, previous[1])
            fast = keys.quick(page, previous[1], base["site"]) if quick else ""
            if writer.reuse(out_path, key, previous[1], fast):
                continue
        known = len(site.report.diagnostics)
        view._sg_read.clear()
        bodies = getattr(jinja_env, "bodies_read", None)
        if bodies is not None:
            bodies.clear()
        try:
            html = render_template(jinja_env, site.root, page.template, context)
        except SiteError as exc:
            site.report.add(exc.diagnostic())
            if page.post is not None:
                page.post.failed = True
                if keys is not None:
                    keys.forget(page.post)
            continue
        key, read = "", ()
        if keys is not None and len(site.report.diagnostics) == known:
            if bodies and bodies - {id(page.post)}:  # it shows other posts' bodies
                view._sg_read.add(BODIES)
            read = tuple(sorted(view._sg_read))
            key = keys.key(page, context, read)
        fast = keys.quick(page, read, base["site"]) if key and quick and keys else ""
        writer.put(out_path, html.encode("utf-8"), key, read, fast)
    return {k: v for k, v in writer.files.items() if k not in before or before[k] is not v}


def output_folder(root: Path, options: BuildOptions) -> Path:
    return (options.out or root / DEFAULT_OUT).absolute()


def build_site(
    root: Path, options: BuildOptions | None = None, fingerprint: str | None = None
) -> BuildResult:
    """Build the site at ``root`` into ``options.out`` (default ``root/_site``)."""
    options = options or BuildOptions()
    root = root.absolute()
    out = output_folder(root, options)
    check_output_folder(out, root)
    if fingerprint is None:  # taken before reading, so edits made during the build count
        fingerprint = input_fingerprint(root, build_settings(options, out), builtin_dirs())
    records = (OutputRecord(), OutputRecord())
    if not options.serve and not options.rerun:
        records = load_output_records(root)
    current, spare = _trusted(records[0], out), _trusted(records[1], spare_output(root))
    # before anything else: without a spare, linking the current output in starts now
    folder = OutputFolder(
        out,
        spare_output(root),
        spare.keys() if spare.identity else None,
        current.keys() if current.identity else None,
    )
    try:
        site = load_site(root, options)
        result = _render_into(site, folder, out, current)
    except BaseException:
        folder.discard()
        raise
    _stage_done(site, f"write {result.file_count} files", [site.data.pop("write_clock")])
    show_progress("", _progress_wanted(site))  # the summary line takes its place
    call_hook(site, "sitegen_build_finished", site=site, output=out)
    clean = result.ok and not site.data.get("verification_failed")
    write_manifest(
        root,
        {
            "fingerprint": fingerprint,
            "clean": clean,
            "warnings": [str(d) for d in site.report.warnings],
            "posts": len(site.posts),
            "pages": len(site.pages),
            "files": result.file_count,
        },
    )
    return result


def spare_output(root: Path) -> Path:
    """Where the output a build replaced is kept: the next build fills it in place."""
    return cache_dir(root) / SPARE_OUTPUT


def _trusted(record: OutputRecord, folder: Path) -> OutputRecord:
    """``record`` when it describes ``folder`` as it is now, else an empty record."""
    if record.identity and record.identity == output_identity(folder):
        return record
    return OutputRecord()


def _render_into(site: Site, folder: OutputFolder, out: Path, current: OutputRecord) -> BuildResult:
    """Render the site into ``folder`` (pages are written as they are rendered), then
    swap it in and save the caches. ``current`` describes the output being replaced:
    its unchanged pages are linked, not rendered."""
    writer = PageWriter(folder=folder, previous=dict(current.files))
    site.data["writer"] = writer
    result = render_site(site)
    site.data["write_clock"] = time.perf_counter()
    copy_static(folder, site.static, writer.written)
    result.out = out
    result.written = set(writer.written) | {rel for _, rel in site.static}
    folder.commit(result.written)
    cache: RenderCache | None = site.data.pop("render_cache", None)
    if cache is not None:
        cache.save()
    # after the swap: the record describes the new folder, and the replaced one is the spare
    files = {rel: writer.keys.get(rel, ("", ())) for rel in result.written}
    save_output_records(site.root, OutputRecord(output_identity(out), files), current)
    return result


def render_bodies(site: Site, md: Any, jinja_env: Any, posts: list[Post]) -> None:
    """Markdown and verification for a batch of posts (bodies from the cache where the
    build keeps one)."""
    cache: RenderCache | None = site.data.get("render_cache")
    todo = [post for post in posts if cache is None or not _from_cache(site, cache, post)]
    parse_posts(site, md, jinja_env, todo)
    call_hook(site, "sitegen_posts_parsed", site=site, posts=[p for p in todo if not p.failed])
    for post in todo:
        if not post.failed:
            render_post_body(site, md, post)
            if cache is not None:
                _to_cache(cache, post)


def render_posts(site: Site, md: Any, jinja_env: Any, posts: list[Post]) -> dict[str, bytes]:
    """Markdown, verification and the post's own page, for a batch of posts."""
    render_bodies(site, md, jinja_env, posts)
    return render_pages(site, jinja_env, post_pages(site, posts))


def _render_share(
    site: Site, md: Any, jinja_env: Any, posts: list[Post], with_pages: bool
) -> dict[str, bytes]:
    if with_pages:
        return render_posts(site, md, jinja_env, posts)
    render_bodies(site, md, jinja_env, posts)
    return {}


_CACHED_FIELDS = ("html", "title", "toc", "has_math")


def body_key(cache: RenderCache, post: Post) -> str:
    """The body cache's key of a post."""
    digest = post.source_digest or hashlib.sha256(
        post.source.encode("utf-8", "surrogatepass")
    ).hexdigest()  # a post made by other means than reading its file
    return cache.key(post.rel, digest)


def _from_cache(site: Site, cache: RenderCache, post: Post) -> bool:
    key = body_key(cache, post)
    entry = cache.get(key)
    if entry is None:
        return False
    fields, data = entry
    for name, value in zip(_CACHED_FIELDS, fields, strict=True):
        setattr(post, name, value)
    post.html_key = key
    post.data.update(data)
    for level, line, message in data.get("notes", []):
        site.report.add_level(level, post.rel, line, message)
    return True


def _to_cache(cache: RenderCache, post: Post) -> None:
    data = {k: v for k, v in post.data.items() if k not in ("env", "tokens")}
    if post.failed or data.get("cacheable") is False:
        return
    if any(level == "error" for level, _, _ in data.get("notes", [])):
        return
    key = body_key(cache, post)
    cache.put(key, (tuple(getattr(post, n) for n in _CACHED_FIELDS), data))
    post.html_key = key


# What a worker process sends back for each post it rendered (Post objects link to their
# neighbours, so whole posts are not sent across processes).
_RESULT_FIELDS = ("html", "html_key", "title", "toc", "has_math", "failed", "data")
# Below this many posts, starting worker processes costs more than it saves.
PARALLEL_MIN_POSTS = 64


def _render_chunk(state: tuple, chunk: int, jobs: int) -> tuple:
    site, md, jinja_env, posts, with_pages = state
    mine = posts[chunk::jobs]
    known = len(site.report.diagnostics)
    files = _render_share(site, md, jinja_env, mine, with_pages)
    results = []
    for post in mine:
        post.data.pop("env", None)
        post.data.pop("tokens", None)
        results.append(tuple(getattr(post, name) for name in _RESULT_FIELDS))
    cache: RenderCache | None = site.data.get("render_cache")
    used: set[str] = set()
    if cache is not None:
        cache.save_new()  # each worker stores its own new entries, in parallel
        used = cache.used
    writer: PageWriter | None = site.data.get("writer")
    written: tuple[set, dict] = (set(), {})
    if writer is not None:
        if writer.folder is not None:
            writer.folder.flush()  # this worker's files are on disk before it reports
        written = (writer.written, writer.keys)
    return files, results, site.report.diagnostics[known:], used, written


def _render_posts_parallel(
    site: Site, md: Any, jinja_env: Any, posts: list[Post], jobs: int, with_pages: bool = True
) -> dict[str, bytes]:
    """Fork ``jobs - 1`` workers; each process, this one included, renders every jobs-th
    post and (``with_pages``) writes its page. Fork shares the parsed configuration,
    plugins and templates. The caller makes sure no other thread runs."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    writer: PageWriter | None = site.data.get("writer")
    if writer is not None and writer.folder is not None:
        writer.folder.flush()  # no writing thread may be running while the process forks
    state = (site, md, jinja_env, posts, with_pages)
    known = len(site.report.diagnostics)
    with context.Pool(jobs - 1, initializer=_set_worker_state, initargs=(state,)) as pool:
        theirs = pool.starmap_async(_render_in_worker, [(chunk, jobs) for chunk in range(1, jobs)])
        # this process renders the first share itself: its results need no transfer
        files = _render_share(site, md, jinja_env, posts[0::jobs], with_pages)
        outputs = theirs.get()
    cache: RenderCache | None = site.data.get("render_cache")
    for chunk, (chunk_files, results, diagnostics, used, written) in enumerate(outputs, 1):
        files.update(chunk_files)
        if cache is not None:
            cache.used.update(used)
        if writer is not None:
            writer.written.update(written[0])
            writer.keys.update(written[1])
        for post, values in zip(posts[chunk::jobs], results, strict=True):
            for name, value in zip(_RESULT_FIELDS, values, strict=True):
                setattr(post, name, value)
        for diagnostic in diagnostics:
            site.report.add(diagnostic)
    # messages in the order of the posts, as one process gives them, not process by process
    rank = {post.rel: number for number, post in enumerate(posts)}
    site.report.diagnostics[known:] = sorted(
        site.report.diagnostics[known:], key=lambda d: rank.get(d.path, len(rank))
    )
    return files


# Below this many listing pages to render, a second process costs more than it saves.
PARALLEL_MIN_PAGES = 32


def render_bodies_parallel(
    site: Site, md: Any, jinja_env: Any, posts: list[Post], jobs: int
) -> None:
    """``render_bodies`` split across ``jobs`` processes (forked: no other thread may run,
    e.g. before ``sitegen serve`` starts serving)."""
    _render_posts_parallel(site, md, jinja_env, posts, jobs, with_pages=False)


def _render_listing_pages(
    site: Site, jinja_env: Any, pages: list[Page], jobs: int
) -> dict[str, bytes]:
    """Index, archive, tag and plugin pages. On a clean build of a large site a forked
    worker renders every other one; a rebuild reuses most and renders the rest here."""
    writer: PageWriter | None = site.data.get("writer")
    paths = [page.output_path for page in pages]
    if (
        jobs < 2
        or len(pages) < PARALLEL_MIN_PAGES
        or writer is None
        or writer.folder is None
        or writer.previous
        or len(set(paths)) < len(paths)  # "two pages write …" is found by one process
    ):
        return render_pages(site, jinja_env, pages)
    import multiprocessing

    writer.folder.flush()  # no writing thread may be running while the process forks
    context = multiprocessing.get_context("fork")
    state = (site, None, jinja_env, pages)
    with context.Pool(1, initializer=_set_worker_state, initargs=(state,)) as pool:
        theirs = pool.apply_async(_render_pages_in_worker, (1, 2))
        render_pages(site, jinja_env, pages[0::2])
        diagnostics, written, keys = theirs.get()
    writer.written.update(written)
    writer.keys.update(keys)
    for diagnostic in diagnostics:
        site.report.add(diagnostic)
    return {}


def _render_pages_in_worker(chunk: int, jobs: int) -> tuple:
    assert _worker_state is not None
    site, _, jinja_env, pages = _worker_state
    writer: PageWriter = site.data["writer"]
    known = len(site.report.diagnostics)
    writer.written, writer.keys = set(), {}  # report only this worker's pages
    render_pages(site, jinja_env, pages[chunk::jobs])
    writer.folder.flush()
    return site.report.diagnostics[known:], writer.written, writer.keys


_worker_state: tuple | None = None  # set once in each forked worker, read by that worker


def _set_worker_state(state: tuple) -> None:
    global _worker_state
    _worker_state = state


def _render_in_worker(chunk: int, jobs: int) -> tuple:
    assert _worker_state is not None
    return _render_chunk(_worker_state, chunk, jobs)


def _read_salt(site: Site) -> str:
    """What reading a post depends on besides its file."""
    from sitegen import __version__

    return f"{__version__}\0{site.config!r}\0{site.config.timezone}"


def front_matter_version() -> str:
    # Only sitegen's version: asking PyYAML for its own would import it on every build,
    # and a YAML header means the same to every PyYAML release.
    from sitegen import __version__
    from sitegen.frontmatter import HEADER_FORMAT

    return f"{__version__}.{HEADER_FORMAT}"


def _render_cache(site: Site) -> RenderCache:
    """The cache of rendered bodies, salted with everything a body depends on besides its
    own text: settings, includes, templates, plugins, and every post's URL (Liquid links)."""
    salt = settings_fingerprint(site.root, build_settings(site.options, site.root), builtin_dirs())
    digest = hashlib.sha256(salt.encode())
    if site.config.math.macros_file and (site.root / site.config.math.macros_file).is_file():
        digest.update((site.root / site.config.math.macros_file).read_bytes())
    for post in site.posts + site.pages:
        digest.update(f"{post.rel}\0{post.url}\n".encode("utf-8", "surrogatepass"))
    return RenderCache(site.root, digest.hexdigest())


def _stage_done(site: Site, stage: str, since: list[float]) -> None:
    """Record how long a stage took (``sitegen build -v`` prints them) and, on a terminal,
    say what is done so far (a large site takes a few seconds)."""
    now = time.perf_counter()
    site.data.setdefault("timings", []).append((stage, now - since[0]))
    since[0] = now
    show_progress(f"building: {stage} done", _progress_wanted(site))


def _progress_wanted(site: Site) -> bool:
    return not site.options.quiet and not site.options.serve


def render_site(site: Site) -> BuildResult:
    """Every stage up to (not including) writing: the site's files, in memory."""
    clock = [time.perf_counter()]
    if not site.options.serve and not site.options.rerun:
        headers = FrontMatterCache(site.root, front_matter_version())
        reads = ReadCache(site.root, _read_salt(site))
        read = functools.partial(read_post, headers=headers)
        read_posts(site, reads.wrap(read, lambda path, rel: decode_source(read_bytes(path), rel)))
        headers.save()
        reads.save()
    else:
        read_posts(site)
    _stage_done(site, "discover, read, front matter", clock)
    if not site.options.serve and not site.options.rerun:
        site.data["render_cache"] = _render_cache(site)
    compiled = None
    if "render_cache" in site.data:
        compiled = cache_dir(site.root) / "templates"
        try:
            compiled.mkdir(parents=True, exist_ok=True)
        except OSError:
            compiled = None  # a read-only site compiles its templates every time
    jinja_env = create_environment(template_dirs(site.root, site.theme_dirs), compiled)
    md = create_markdown(site)
    site.data["markdown"] = md
    everything = site.posts + site.pages
    _stage_done(site, "load caches, templates, Markdown parser", clock)
    jobs = site.options.jobs or default_jobs()
    cache: RenderCache | None = site.data.get("render_cache")
    # posts whose bodies must be rendered anew: when few, forking would cost more than it saves
    fresh = [p for p in everything if cache is None or body_key(cache, p) not in cache]
    if jobs > 1 and len(fresh) >= PARALLEL_MIN_POSTS and not site.options.serve:
        # compile the post templates once, before forking, instead of once per worker
        for template in sorted({LAYOUT_TEMPLATES.get(p.layout, "post.html") for p in everything}):
            try:
                jinja_env.get_template(template)
            except Exception:
                pass  # reported with file and line when the page is rendered
        files = _render_posts_parallel(site, md, jinja_env, everything, min(jobs, 8))
    else:
        # one process renders every body before any page: posts' digests hold for the
        # listing pages as well
        site.data[POST_DIGESTS] = ({}, {})
        files = render_posts(site, md, jinja_env, everything)
    _stage_done(site, f"Markdown, verification, post pages ({len(everything)} sources)", clock)
    site.posts = [p for p in site.posts if not p.failed]
    site.pages = [p for p in site.pages if not p.failed]
    pages = index_pages(site)
    for extra in call_hook(site, "sitegen_extra_pages", site=site):
        pages.extend(extra)
    files.update(_render_listing_pages(site, jinja_env, pages, jobs))
    site.data.pop(POST_DIGESTS, None)
    _stage_done(site, f"listing and plugin pages ({len(pages)})", clock)
    site.static = discover_static(
        site.root, [(t / "static", "theme/") for t in reversed(site.theme_dirs)]
    )
    return BuildResult(site=site, out=Path(), files=files)


def default_jobs() -> int:
    return os.cpu_count() or 1
