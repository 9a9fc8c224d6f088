"""The Markdown stage: every post's body parsed, verified by plugins and rendered to HTML.

A body is looked up first in the body cache, by a key made of the post's place, the
digest of its file, the settings and what plugins declare their per-post data depends on
(``sitegen_body_key``); what a fresh rendering said about the post (warnings of the
parser and of plugins) is kept with it and said again when it comes from the cache.

Many bodies to render are split across forked worker processes where fork exists (and
no other thread runs); elsewhere one process renders them all.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from sitegen.cache import CodeCache, RenderCache
from sitegen.discover import HTML_EXTENSIONS
from sitegen.errors import SiteError
from sitegen.forked import can_fork, in_copies
from sitegen.model import Post, Site
from sitegen.plugins import call_hook
from sitegen.templates import include_dirs

# Below this many bodies to render, starting worker processes costs more than it saves.
PARALLEL_MIN_POSTS = 64
# Posts parsed before the first of them is rendered (``sitegen_posts_parsed`` sees them
# together, so a plugin's parallel work, such as verification, spans a whole batch).
BATCH_POSTS = 200
_CACHED_FIELDS = ("html", "title", "toc", "has_math")
# post.data entries that belong to one parse, never kept or shown
_TRANSIENT = ("env", "tokens")


def create_markdown(site: Site) -> Any:
    from sitegen.markdown import create_parser, detect_dialect

    dialect = detect_dialect(site.root, site.config.math.dollars)
    md = create_parser(math_options=dict(site.config.math.delimiters), dialect=dialect)
    call_hook(site, "sitegen_extend_markdown", md=md, site=site)
    return md


class _PostIndex:
    """Lookups Liquid tags need, built once per batch (not once per post)."""

    def __init__(self, site: Site) -> None:
        self.by_stem = {p.path.stem: p for p in site.posts}
        self.by_rel = {p.rel: p for p in site.posts + site.pages}
        self.site_vars = site_vars(site)
        self.includes: dict[Path, Any] = {}  # compiled include templates


def site_vars(site: Site) -> dict[str, Any]:
    c = site.config
    base = {k: v for k, v in c.extra.items() if not isinstance(v, dict)}
    if isinstance(c.extra.get("extra"), dict):  # [extra]: the site's own settings
        base.update(c.extra["extra"])
    base.update(
        title=c.title, description=c.description, author=c.author, url=c.url, baseurl=c.baseurl
    )
    return base


def _include_template(site: Site, jinja_env: Any, path: Path) -> Any:
    source = path.read_text(encoding="utf-8")
    if "_includes" not in path.parts:  # includes/: Jinja2 already
        return jinja_env.from_string(source)
    from jinja2 import ChainableUndefined

    from sitegen.markdown.liquid_include import LiquidFilters, liquid_to_jinja

    filters = LiquidFilters(site.config.baseurl or "", site.config.url or "")
    liquid_env = jinja_env.overlay(undefined=ChainableUndefined)  # a missing key is nil

    def read_include(name: str) -> str | None:
        for folder in include_dirs(site.root, site.theme_dirs):
            if (folder / name).is_file():
                return (folder / name).read_text(encoding="utf-8")
        return None

    jinja_source = liquid_to_jinja(source, read_include)
    return liquid_env.from_string(jinja_source, globals={"_liquid": filters})


def _liquid_context(site: Site, post: Post, jinja_env: Any, index: _PostIndex) -> Any:
    from sitegen.markdown.liquid_values import LiquidContext

    def include(name: str, params: dict, line: int) -> str:
        for folder in include_dirs(site.root, site.theme_dirs):
            path = folder / name
            if path.is_file():
                template = index.includes.get(path)
                if template is None:  # compiled once per batch, not once per use
                    template = index.includes[path] = _include_template(site, jinja_env, path)
                return template.render(include=params, site=index.site_vars, page=post.meta)
        raise SiteError(f"include '{name}' not found in includes/ or _includes/")

    def post_url(name: str) -> str | None:
        # Jekyll also takes the post's folders under _posts/: "/blog/2020-01-01-x"
        target = index.by_stem.get(name.rsplit("/", 1)[-1])
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


def parse_posts(
    site: Site,
    md: Any,
    jinja_env: Any,
    posts: list[Post],
    cache: RenderCache | None = None,
    texts: dict[str, str] | None = None,
) -> None:
    """Markdown tokens of each post in ``post.data["tokens"]`` (its parse state in
    ``post.data["env"]``), for plugins to look at before anything is rendered.
    ``texts``: what to parse instead of a post's body (its Liquid, run already)."""
    index = _PostIndex(site)
    code = CodeCache(cache.store, cache.salt) if cache is not None else None
    for post in posts:
        env: dict[str, Any] = {
            "line_offset": post.body_line,
            "diagnostics": [],
            # a body Liquid made has no Liquid left for sitegen's own rules to read
            "liquid": None if post.liquid else _liquid_context(site, post, jinja_env, index),
            "mathjax": post.meta.get("mathjax"),  # False: no math markup (no script loads)
            "post": post,
            "site": site,
            "highlighted": code,
        }
        text = texts.get(post.rel, post.body) if texts else post.body
        if post.liquid:  # the lists Liquid made may show the math of other posts
            from sitegen.markdown.html_math import has_bracket_math

            env["has_math"] = has_bracket_math(text)
        try:
            if post.path.suffix.lower() in HTML_EXTENSIONS:  # an HTML page is its own body
                from sitegen.markdown.html_math import mark_up_html_page
                from sitegen.markdown.liquid_html import html_page_tokens

                post.data["tokens"] = html_page_tokens(env, text)
                mark_up_html_page(md, env, post.data["tokens"])  # its $ math, as MathJax saw
            else:
                post.data["tokens"] = md.parse(text, env)
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
    post.has_math = bool(env.get("has_math"))
    post.toc = list(env.get("toc", []))
    notes = [(level, line, message) for line, level, message in env.get("diagnostics", [])]
    for level, line, message in notes:
        site.report.add_level(level, post.rel, line, message)
    post.data["notes"] = notes  # what the parser said of it, for plugins (kept with the body)
    if not post.title:
        post.title = env.get("title") or post.slug.replace("-", " ").capitalize()
        site.report.warning(post.rel, 1, f"no title in front matter; using '{post.title}'")
    call_hook(site, "sitegen_post_rendered", post=post, site=site)


def body_key(site: Site, cache: RenderCache, post: Post) -> str:
    """The body cache's key of a post: its place, its text, the settings (in the cache's
    salt) and what plugins say their data for it depends on."""
    digest = post.source_digest or hashlib.sha256(
        post.source.encode("utf-8", "surrogatepass")
    ).hexdigest()  # a post made by other means than reading its file
    declared = call_hook(site, "sitegen_body_key", site=site, post=post)
    return cache.key(post.rel, digest + "\0" + "\0".join(map(str, declared)))


def _from_cache(
    site: Site, cache: RenderCache, post: Post, key: str, say: bool = True
) -> bool:
    """The post's body from the cache (and what rendering it said, unless ``say`` is
    False); False when the cache lacks it."""
    entry = cache.get(key)
    if not (isinstance(entry, tuple) and len(entry) == 3):
        return False
    fields, data, diagnostics = entry
    for name, value in zip(_CACHED_FIELDS, fields, strict=True):
        setattr(post, name, value)
    post.html_key = key
    post.data.update(data)
    for diagnostic in diagnostics if say else ():
        site.report.add(diagnostic)
    return True


def _to_cache(cache: RenderCache, post: Post, key: str, diagnostics: list) -> None:
    if post.failed or post.data.get("cacheable") is False:
        return
    if any(d.level == "error" for d in diagnostics):
        return
    data = {k: v for k, v in post.data.items() if k not in _TRANSIENT}
    cache.put(key, (tuple(getattr(post, n) for n in _CACHED_FIELDS), data, diagnostics))
    post.html_key = key


def body_keys(site: Site, cache: RenderCache | None, posts: list[Post]) -> dict[str, str]:
    return {post.rel: body_key(site, cache, post) for post in posts} if cache is not None else {}


def _render_fresh(
    site: Site,
    md: Any,
    jinja_env: Any,
    todo: list[Post],
    cache: RenderCache | None,
    keys: dict,
    texts: dict[str, str] | None = None,
) -> None:
    """Parse, verify and render bodies the cache did not have, and store them: in batches,
    as a post's tokens take some 20 times the memory of its text and are dropped once it
    is rendered."""
    # (with nothing to render too: plugins hear of every build)
    for first in range(0, max(len(todo), 1), BATCH_POSTS):
        batch = todo[first : first + BATCH_POSTS]
        _render_batch(site, md, jinja_env, batch, cache, keys, texts)


def _render_batch(
    site: Site,
    md: Any,
    jinja_env: Any,
    todo: list[Post],
    cache: RenderCache | None,
    keys: dict,
    texts: dict[str, str] | None,
) -> None:
    known = len(site.report.diagnostics)
    parse_posts(site, md, jinja_env, todo, cache, texts)
    call_hook(site, "sitegen_posts_parsed", site=site, posts=[p for p in todo if not p.failed])
    for post in todo:
        if not post.failed:
            render_post_body(site, md, post)
        for name in _TRANSIENT:
            post.data.pop(name, None)
    if cache is not None:
        said: dict[str, list] = {}
        for diagnostic in site.report.diagnostics[known:]:
            said.setdefault(diagnostic.path, []).append(diagnostic)
        for post in todo:
            _to_cache(cache, post, keys[post.rel], said.get(post.rel, []))


# What a forked copy sends back for each post (Post objects link to their neighbours,
# so whole posts are not sent across processes).
_RESULT_FIELDS = ("html", "html_key", "title", "toc", "has_math", "failed", "data")


def _render_share(
    site: Site, md: Any, jinja_env: Any, mine: list[Post], cache: RenderCache | None, keys: dict
) -> tuple:
    """Run in a forked copy: render ``mine``; what the build needs of it back."""
    known = len(site.report.diagnostics)
    _render_fresh(site, md, jinja_env, mine, cache, keys)  # new entries go to the store now
    # A body this copy wrote to the store the build reads from there (None here), as a
    # rebuild would: it is pickled once, not once for the store and again for the pipe.
    stored = cache is not None and cache.store.flush() and cache.store.enabled
    results = [
        None
        if stored and cache.store.holds(keys[post.rel])
        else tuple(getattr(post, name) for name in _RESULT_FIELDS)
        for post in mine
    ]
    used = cache.store.used if cache is not None else set()
    return results, site.report.diagnostics[known:], used


def render_all_bodies(
    site: Site, md: Any, jinja_env: Any, posts: list[Post], cache: RenderCache | None, jobs: int
) -> None:
    """Markdown and plugins' per-post work for every post: bodies from the cache first,
    then those it lacks, split across ``jobs`` forked processes when they are many and
    forking is possible. Bodies made by Liquid come last: they read the others."""
    ordered = posts
    made_by_liquid = [p for p in posts if p.liquid]
    if made_by_liquid:
        posts = [p for p in posts if not p.liquid]
    keys = body_keys(site, cache, posts)
    known = len(site.report.diagnostics)
    todo = [p for p in posts if cache is None or not _from_cache(site, cache, p, keys[p.rel])]
    if jobs < 2 or len(todo) < PARALLEL_MIN_POSTS or not can_fork():
        _render_fresh(site, md, jinja_env, todo, cache, keys)
    else:
        _render_in_processes(site, md, jinja_env, todo, cache, keys, jobs)
    if made_by_liquid:
        from sitegen.jekyll_liquid import render_liquid_sources

        render_liquid_sources(site, md, jinja_env, made_by_liquid, cache)
    # messages in the order of the posts, whichever process rendered them or the cache
    # gave them
    rank = {post.rel: number for number, post in enumerate(ordered)}
    site.report.diagnostics[known:] = sorted(
        site.report.diagnostics[known:], key=lambda d: rank.get(d.path, len(rank))
    )


def _render_in_processes(
    site: Site,
    md: Any,
    jinja_env: Any,
    todo: list[Post],
    cache: RenderCache | None,
    keys: dict,
    jobs: int,
) -> None:
    shares = [todo[chunk::jobs] for chunk in range(jobs)]
    theirs = [
        functools.partial(_render_share, site, md, jinja_env, share, cache, keys)
        for share in shares[1:]
    ]

    def mine() -> None:
        _render_fresh(site, md, jinja_env, shares[0], cache, keys)
        if cache is not None:  # written while the copies may still be rendering, not
            cache.store.flush()  # at the end of the build

    outputs = in_copies(theirs, mine)
    if cache is not None:
        cache.store.pick_up()  # the packs the copies wrote
    for share, (results, diagnostics, used) in zip(shares[1:], outputs, strict=True):
        if cache is not None:
            cache.store.used.update(used)
        again = []  # stored by the copy, yet not found in the store: rendered here
        for post, values in zip(share, results, strict=True):
            if values is None:
                if not _from_cache(site, cache, post, keys[post.rel], say=False):
                    again.append(post)
                continue
            for name, value in zip(_RESULT_FIELDS, values, strict=True):
                setattr(post, name, value)
        for diagnostic in diagnostics:
            site.report.add(diagnostic)
        if again:  # (what they say again is said once: the report drops repeats)
            _render_fresh(site, md, jinja_env, again, cache, keys)


def default_jobs() -> int:
    return os.cpu_count() or 1
