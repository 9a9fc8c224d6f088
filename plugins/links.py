"""links: every link and image of a post that points into the site must find a file there.

A link to a missing post or page, a missing image or asset (Markdown or raw HTML), a
``{% link %}`` to nothing: reported with file and line once the output is complete. They
are errors in a strict build (``sitegen build``, the default), so a broken link fails it
as a failed check does; warnings under ``--no-strict`` and in ``sitegen serve``.
``[plugins.links] strict = false`` makes them warnings always; ``enabled = false`` stops
the checking. On a Jekyll site (a ``_config.yml``, no ``sitegen.toml``) they are warnings:
Jekyll never checked links, so a blog that built there builds here, and a link Jekyll
wrote with the baseurl twice (``{{ site.baseurl }}{% post_url … %}``) is named as such.

Links to other sites (``https:``, ``mailto:``, ``//host``) and to anchors on the same page
are not checked.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from sitegen.config import JEKYLL_CONFIG_FILE
from sitegen.hooks import hookimpl

SETTINGS = {"strict": True}
LINKS_KEY = "links"  # post.data: [(file line, "link" | "image", url as written)]
_UNRESOLVED_TAG = re.compile(r"^\{% (post_url|link) (.+) %\}: no such (post|file)$")


class _RawLinks(HTMLParser):
    """``<a href>`` and ``<img src>`` of raw HTML in a post, with their line in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"a": ("href", "link"), "img": ("src", "image")}.get(tag)
        if wanted is None:
            return
        for name, value in attrs:
            if name == wanted[0] and value is not None:
                self.found.append((self.getpos()[0] - 1, wanted[1], value))


def raw_html_links(html: str) -> list[tuple[int, str, str]]:
    """(0-based line within ``html``, kind, URL) of its links and images."""
    parser = _RawLinks()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser gives up on little; a fragment it cannot read has none
        return parser.found
    return parser.found


def collect_links(state: Any) -> None:
    """A core rule, after inline parsing: note each link and image with its line."""
    post = state.env.get("post")
    if post is None or not hasattr(post, "data"):
        return  # a parser made for something other than a post's body (the feed's)
    offset = state.env.get("line_offset", 1)
    found: list[tuple[int, str, str]] = []
    for token in state.tokens:
        line = offset + (token.map[0] if token.map else 0)
        if token.type == "html_block":
            found.extend((line + at, kind, url) for at, kind, url in raw_html_links(token.content))
        if not token.children:
            continue
        for child in token.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "html_inline":
                found.extend((line, kind, url) for _, kind, url in raw_html_links(child.content))
            elif child.type == "link_open":
                found.append((line, "link", str(child.attrGet("href") or "")))
            elif child.type == "image":
                found.append((line, "image", str(child.attrGet("src") or "")))
    post.data[LINKS_KEY] = found


def target_in_output(site: Any, page_url: str, url: str) -> str | None:
    """The output path ``url`` (as written on the page at ``page_url``) asks for, or None
    when it leaves the site or only names an anchor of the page itself."""
    if not url or url.startswith("#"):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    path = unquote(urlsplit(urljoin(site.url_for(page_url), url)).path)
    base = site.config.baseurl
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :] or "/"
    return path


def exists_in(output: Path, path: str) -> bool:
    """Whether a static server would answer ``path`` from ``output`` (a file, a folder's
    index.html, or NAME.html for /NAME as GitHub Pages and most hosts serve it)."""
    rel = path.lstrip("/")
    target = output / rel
    if rel and target.is_file():
        return True
    if (target / "index.html").is_file():
        return True
    return bool(rel) and not rel.endswith("/") and (output / (rel + ".html")).is_file()


def doubled_baseurl(base: str, path: str) -> bool:
    """Whether ``path`` (the baseurl already taken off) starts with the baseurl again, as
    Jekyll 4 writes ``{{ site.baseurl }}{% post_url … %}``: its tag includes the baseurl."""
    return bool(base) and (path == base or path.startswith(base + "/"))


def _strict(site: Any) -> bool:
    # a migrated Jekyll blog built with its broken links; it gets them as warnings
    default = site.config.source != JEKYLL_CONFIG_FILE
    wanted = site.config.plugin_options("links").get("strict", default) is not False
    return wanted and site.options.strict and not site.options.serve


@hookimpl
def sitegen_extend_markdown(md: Any, site: Any) -> None:
    md.core.ruler.push("sitegen_links", collect_links)


@hookimpl
def sitegen_build_finished(site: Any, output: Any) -> None:
    if output is None:
        return
    output = Path(output)
    level = "error" if _strict(site) else "warning"
    known: dict[str, bool] = {}  # posts link to the same few pages and images
    for post in site.posts + site.pages:
        if post.failed:
            continue
        for line, kind, url in post.data.get(LINKS_KEY, []):
            path = target_in_output(site, post.url, url)
            if path is None:
                continue
            if path not in known:
                known[path] = exists_in(output, path)
            if known[path]:
                continue
            what = "image" if kind == "image" else "page or file"
            shown = url if unquote(url) == path else f"{url} ({path})"
            message = f"broken {kind}: {shown}: no such {what} in the site"
            base = site.config.baseurl
            if doubled_baseurl(base, path) and exists_in(output, path[len(base) :] or "/"):
                message += (
                    f" (the baseurl {base} is in it twice, as Jekyll wrote it: "
                    "{% post_url %} and {% link %} include it; drop the {{ site.baseurl }} "
                    "in front)"
                )
            site.report.add_level(level, post.rel, line, message)
        if level == "error":  # the Markdown side already warned; a strict build fails on it
            for _, line, message in post.data.get("notes", []):
                match = _UNRESOLVED_TAG.match(message)
                if match:
                    site.report.error(post.rel, line, f"broken link: {message}")
