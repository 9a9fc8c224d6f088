"""links: every link and image of a post that points into the site must find a file there.

A link to a missing post or page, a missing image or asset, a ``{% post_url %}`` or
``{% link %}`` to nothing: reported with file and line once the output is complete. They
are errors in a strict build (``sitegen build``, the default), so a broken link fails it
as a failed check does; warnings under ``--no-strict`` and in ``sitegen serve``.
``[plugins.links] strict = false`` makes them warnings always; ``enabled = false`` stops
the checking.

Links to other sites (``https:``, ``mailto:``, ``//host``) and to anchors on the same page
are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from sitegen.hooks import hookimpl

SETTINGS = {"strict": True}
LINKS_KEY = "links"  # post.data: [(file line, "link" | "image", url as written)]
_UNRESOLVED_TAG = re.compile(r"^\{% (post_url|link) (.+) %\}: no such (post|file)$")


def collect_links(state: Any) -> None:
    """A core rule, after inline parsing: note each link and image with its line."""
    post = state.env.get("post")
    if post is None or not hasattr(post, "data"):
        return  # a parser made for something other than a post's body (the feed's)
    offset = state.env.get("line_offset", 1)
    found: list[tuple[int, str, str]] = []
    for token in state.tokens:
        if not token.children:
            continue
        line = offset + (token.map[0] if token.map else 0)
        for child in token.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
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


def _strict(site: Any) -> bool:
    wanted = site.config.plugin_options("links").get("strict", True) is not False
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
    for post in site.posts + site.pages:
        if post.failed:
            continue
        for line, kind, url in post.data.get(LINKS_KEY, []):
            path = target_in_output(site, post.url, url)
            if path is None or exists_in(output, path):
                continue
            what = "image" if kind == "image" else "page or file"
            shown = url if unquote(url) == path else f"{url} ({path})"
            message = f"broken {kind}: {shown}: no such {what} in the site"
            site.report.add_level(level, post.rel, line, message)
        if level == "error":  # the Markdown side already warned; a strict build fails on it
            for _, line, message in post.data.get("notes", []):
                match = _UNRESOLVED_TAG.match(message)
                if match:
                    site.report.error(post.rel, line, f"broken link: {message}")
