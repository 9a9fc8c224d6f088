"""Jekyll pages whose text is made by Liquid — a list of posts made by ``{% for post in
site.posts %}``, a tag list, an HTML post with an ``{% include %}`` — run through a real
Liquid engine (python-liquid) with Jekyll's variables, then read as the page's kind says:
HTML as it is, Markdown by sitegen's parser (Jekyll too runs Liquid first, then kramdown).

Such a page reads other posts, so it is rendered after every other body, and its body's
cache key holds a digest of all it could read (every post's listing data and content, the
pages, ``_data/``): any change there renders it again, the simplest sound rule. Liquid it
cannot run (a plugin's tag, a filter it lacks) is a warning at the file and line naming
it, and the page is left out, as before this ran Liquid.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sitegen.bodies import _from_cache, _render_fresh, body_key, site_vars
from sitegen.cache import RenderCache
from sitegen.deps import fingerprint
from sitegen.discover import HTML_EXTENSIONS
from sitegen.model import Post, Site
from sitegen.templates import include_dirs

_FIRST_PARAGRAPH = re.compile(r"<p\b.*?</p>", re.S)
_DATA_SUFFIXES = (".yml", ".yaml", ".json")


def _excerpt(post: Post, separator: str) -> str:
    """Jekyll's ``post.excerpt``: the front matter's; else the text before the post's
    ``excerpt_separator`` (all of it where there is none), or by default the first
    paragraph, rendered."""
    if "excerpt" in post.meta:
        return str(post.meta["excerpt"] or "")
    separator = str(post.meta.get("excerpt_separator") or separator)
    if separator.strip():  # <!--more--> and the like: kept in the rendered body
        return post.html.split(separator, 1)[0]
    made = post.data.get("excerpt_html")
    if isinstance(made, str) and made:
        return made
    found = _FIRST_PARAGRAPH.search(post.html)
    return found.group(0) if found else ""


def _document(post: Post, separator: str = "\n\n") -> dict[str, Any]:
    """A post or page as Jekyll's Liquid sees it: its front matter, then what Jekyll
    sets itself (the URL without the baseurl, as Jekyll's ``post.url``)."""
    name = post.rel.rsplit("/", 1)[-1]
    values = dict(post.meta)
    values.update(
        url=post.url,
        title=post.title or post.meta.get("title") or "",
        date=post.date,
        tags=list(post.tags),
        categories=list(post.categories),
        path=post.rel,
        name=name,
        slug=post.slug,
        content=post.html,  # "" for a page whose Liquid has not run yet
    )
    if post.kind == "post":
        values["id"] = re.sub(r"(\.html|/)$", "", post.url) or "/"
        values["excerpt"] = _excerpt(post, separator)
    return values


def _read_data(site: Site) -> dict[str, Any]:
    """``site.data``: each file of ``_data/`` by its name (a folder is a mapping)."""
    import json

    import yaml

    def walk(folder: Path) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for path in sorted(folder.iterdir()):
            if path.name.startswith((".", "_")):
                continue
            if path.is_dir():
                found[path.name] = walk(path)
            elif path.suffix.lower() in _DATA_SUFFIXES:
                rel = path.relative_to(site.root).as_posix()
                try:
                    text = path.read_text(encoding="utf-8")
                    value = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
                except (OSError, ValueError, yaml.YAMLError) as exc:
                    site.report.warning(rel, None, f"not read as site.data: {exc}")
                    continue
                found[path.stem] = value
        return found

    folder = site.root / str(site.config.extra.get("data_dir") or "_data")
    return walk(folder) if folder.is_dir() else {}


def _collection_folders(site: Site) -> list[str]:
    from sitegen.discover import output_collections

    return [f"_{label}" for label in output_collections(site.config.extra)]


def _collections(site: Site, pages: list[Post]) -> dict[str, list[dict[str, Any]]]:
    """``site.LABEL`` of each published collection: its documents by date, then path,
    as Jekyll orders them (an undated one has the build's time: after the dated)."""
    from sitegen.discover import output_collections

    found: dict[str, list[dict[str, Any]]] = {}
    for label in output_collections(site.config.extra):
        docs = [p for p in pages if p.rel.startswith(f"_{label}/")]
        docs.sort(key=lambda p: (p.date is None, p.date.replace(tzinfo=None) if p.date else 0,
                                 p.rel))
        found[label] = [_document(p) for p in docs]
    return found


def _grouped(posts: list[dict[str, Any]], key: str) -> dict[str, list]:
    groups: dict[str, list] = {}
    for post in posts:
        for name in post[key]:
            groups.setdefault(str(name), []).append(post)
    return groups


class LiquidRun:
    """What the Liquid of one group of pages sees, made from the site as it is now; and
    ``digest``, which differs whenever any of it does."""

    def __init__(self, site: Site, data: dict[str, Any]) -> None:
        from sitegen.jekyll_liquid_env import JekyllLinks, jekyll_environment

        self.site = site
        separator = str(site.config.extra.get("excerpt_separator") or "\n\n")
        posts = [_document(p, separator) for p in site.posts if not p.failed]
        documents = set(_collection_folders(site))
        # Jekyll's site.pages: its pages (not collections' documents) by file name
        shown = [p for p in site.pages if not p.failed and p.rel.split("/", 1)[0] not in documents]
        shown.sort(key=lambda p: (p.rel.rsplit("/", 1)[-1], p.rel))
        pages = [_document(p) for p in shown]
        config = {k: v for k, v in site.config.extra.items()}
        values = dict(config, **site_vars(site))
        collections = _collections(site, [p for p in site.pages if not p.failed])
        values.update(collections)
        values.update(
            posts=posts,
            pages=pages,
            html_pages=pages,
            documents=posts,
            tags=_grouped(posts, "tags"),
            categories=_grouped(posts, "categories"),
            data=data,
        )
        # Jekyll's site.collections: every collection by label, posts among them
        collections["posts"] = posts
        values["collections"] = [
            {"label": label, "docs": docs, "output": True, "relative_directory": f"_{label}"}
            for label, docs in sorted(collections.items())
        ]
        # before the links below make it a cycle; what is made from the posts and pages
        # (tags, categories, collections' lists) is left out: it repeats each post
        derived = ("tags", "categories", "collections", "html_pages", "documents")
        self.digest = fingerprint({k: v for k, v in values.items() if k not in derived})
        for newer, older in zip(posts, posts[1:], strict=False):
            newer["previous"], older["next"] = older, newer  # Jekyll's: next is newer
        self.values = values
        self._documents = {p.rel: d for p, d in zip(_live(site.posts), posts, strict=True)}
        by_stem = {p.path.stem: p for p in site.posts}
        by_rel = {p.rel: p for p in site.posts + site.pages}

        def post_url(name: str) -> str | None:
            target = by_stem.get(name.rsplit("/", 1)[-1])
            return site.url_for(target.url) if target else None

        def link(path: str) -> str | None:
            target = by_rel.get(path.lstrip("/"))
            if target is not None:
                return site.url_for(target.url)
            return site.url_for("/" + path.lstrip("/")) if (site.root / path).exists() else None

        self.env = jekyll_environment(
            JekyllLinks(
                post_url=post_url,
                link=link,
                # Liquid's; includes/ and the theme's are Jinja2
                include_dirs=[d for d in include_dirs(site.root, site.theme_dirs)
                              if d.name == "_includes"],
                markdownify=self._markdownify,
                site=site_vars(site),
            )
        )

    def _markdownify(self, text: str) -> str:
        env = {"line_offset": 1, "diagnostics": [], "liquid": None, "site": self.site}
        return self.site.markdown.render(text, env)

    def render(self, post: Post) -> str | None:
        """The text of ``post`` with its Liquid run; None, said as a warning, when it
        cannot be run (the page is then not built)."""
        from liquid.exceptions import LiquidError

        from sitegen.jekyll_liquid_env import MARKDOWN_PAGE, PAGE_FOLDER, lax_source

        page = self._documents.get(post.rel) or _document(post)
        text = lax_source(post.body)  # its lines as they were: messages count them
        try:
            template = self.env.from_string(text, path=post.rel)
            jekyll = {"environment": "production"}
            extra = {
                PAGE_FOLDER: str(post.path.parent),
                MARKDOWN_PAGE: post.path.suffix.lower() not in HTML_EXTENSIONS,
            }
            return template.render(site=self.values, page=page, jekyll=jekyll, **extra)
        except LiquidError as exc:
            token = exc.token
            line = post.body_line
            if token is not None and token.source == text and token.start_index >= 0:
                line += text.count("\n", 0, token.start_index)
            message = str(exc.message)
        except Exception as exc:  # a value Liquid cannot take: this page, not the build
            line, message = post.body_line, f"{type(exc).__name__}: {exc}"
        self.site.report.warning(
            post.rel,
            line,
            f"not built: its Liquid cannot be run here ({message}); sitegen runs Liquid's "
            "tags and filters, Jekyll's include, link and post_url and its common filters",
        )
        post.failed = True
        self.site.unbuilt[post.url] = post.rel  # sitegen's own archive may stand in
        return None


def _live(posts: list[Post]) -> list[Post]:
    return [p for p in posts if not p.failed]


def render_liquid_sources(
    site: Site, md: Any, jinja_env: Any, sources: list[Post], cache: RenderCache | None
) -> None:
    """Bodies of the sources whose text Liquid makes, once every other body is there:
    posts first (a list of posts may show their content), then pages."""
    posts = [p for p in sources if p.kind == "post"]
    pages = [p for p in sources if p.kind != "post"]
    data = _read_data(site)
    for group in (posts, pages):
        if not group:
            continue
        run = LiquidRun(site, data)
        keys: dict[str, str] = {}
        if cache is not None:
            for post in group:
                mine = body_key(site, cache, post)
                keys[post.rel] = cache.key(post.rel, f"{mine}\0liquid\0{run.digest}")
        todo = [p for p in group if cache is None or not _from_cache(site, cache, p, keys[p.rel])]
        texts = {}
        for post in todo:
            text = run.render(post)
            if text is not None:
                texts[post.rel] = text
        _render_fresh(site, md, jinja_env, [p for p in todo if not p.failed], cache, keys, texts)
