"""``/sitemap.xml`` (every post and page, with ``lastmod``) and a ``robots.txt`` naming it.

A post or page leaves the sitemap with ``sitemap: false`` in its front matter, as with
jekyll-sitemap. A site that ships its own ``robots.txt`` (``static/robots.txt``, copied to
the root of the output) keeps it: sitegen then writes none.

Entries are sorted by URL and dates come from the sources, so the same site gives the same
bytes on every build.

Options (``[plugins.sitemap]`` in sitegen.toml): ``enabled`` (default true).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from sitegen.hooks import hookimpl
from sitegen.model import Page

from ._dates import last_modified, w3c_datetime
from ._xml_text import warn_removed, xml_safe

SITEMAP_URL = "/sitemap.xml"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


SETTINGS: dict = {}  # only "enabled"


def sitemap_entries(site: Any) -> list[tuple[str, datetime | None]]:
    """(site-relative URL, last modification) of every page that belongs in the sitemap."""
    entries: dict[str, datetime | None] = {}
    dated = [d for d in (last_modified(p) for p in site.posts) if d is not None]
    # the front page changes whenever a post is published
    entries["/"] = max(dated, key=lambda d: d.replace(tzinfo=None)) if dated else None
    for post in site.posts + site.pages:
        if post.failed or post.meta.get("sitemap") is False:
            continue
        entries[post.url] = last_modified(post)
    return sorted(entries.items())


def build_sitemap(site: Any) -> bytes:
    """The sitemap's bytes; the previous build's when its entries are the same (a large
    site's sitemap takes longer to serialise than a rebuild after one edit renders)."""
    rows = []
    for url, modified in sitemap_entries(site):
        found: set[str] = set()
        loc = xml_safe(site.absolute_url(url), found)
        if found:  # rare: look up whose address it is only then
            owner = next((p for p in site.posts + site.pages if p.url == url), None)
            warn_removed(site, "sitemap.xml", owner, found)
        rows.append((loc, w3c_datetime(modified) if modified is not None else None))
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    key = f"sitemap:{digest}"
    stored = site.cache.get(key) if site.cache is not None else None
    if stored is not None:
        return stored
    urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    for loc, lastmod in rows:
        entry = ET.SubElement(urlset, "url")
        ET.SubElement(entry, "loc").text = loc
        if lastmod is not None:
            ET.SubElement(entry, "lastmod").text = lastmod
    ET.indent(urlset, space="  ")
    data = xml_bytes(urlset)
    if site.cache is not None:
        site.cache.put(key, data)
    return data


XML_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"


def xml_bytes(root: ET.Element) -> bytes:
    """The bytes of ``ET.tostring(root, encoding="utf-8", xml_declaration=True)`` plus a
    final newline. Serialising to a str and encoding once is faster: the utf-8 writer of
    ElementTree encodes every small piece separately (three per sitemap element)."""
    text = XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
    # the same error handler ElementTree's writer uses, so even odd text gives equal bytes
    return text.encode("utf-8", "xmlcharrefreplace")


def has_own_robots(site: Any) -> bool:
    return (site.root / "static" / "robots.txt").is_file()


def build_robots(site: Any) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.absolute_url(SITEMAP_URL)}\n"


@hookimpl
def sitegen_configure(site: Any) -> None:
    if not site.config.url and not site.options.serve:
        site.report.warning(
            site.config.source or "sitegen.toml",
            None,
            "no 'url' set: sitemap.xml and robots.txt need absolute addresses and get "
            'relative ones; set url = "https://…"',
        )


@hookimpl
def sitegen_extra_pages(site: Any) -> list[Page]:
    pages = [Page(url=SITEMAP_URL, content=build_sitemap(site))]
    if not has_own_robots(site):
        pages.append(Page(url="/robots.txt", content=build_robots(site)))
    return pages
