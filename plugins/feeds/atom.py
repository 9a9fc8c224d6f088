"""The Atom document: the feed's and each entry's permanent ids, dates and links, every
text cleaned of characters XML forbids."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from sitegen.model import Post

from .._dates import last_modified, w3c_datetime
from .._xml_text import clean_tree, warn_removed
from .entries import entry_html

FEED_URL = "/feed.xml"
ATOM_NS = "http://www.w3.org/2005/Atom"


def _link(parent: ET.Element, href: str, rel: str, kind: str | None = None) -> None:
    attrs = {"href": href, "rel": rel}
    if kind:
        attrs["type"] = kind
    ET.SubElement(parent, "link", attrs)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def feed_identity(site: Any) -> uuid.UUID:
    """The feed's own id: ``[plugins.feeds] id`` (``sitegen init`` writes one), else one
    made from the site's title. Never from ``url``: ids must not change when a site moves."""
    chosen = site.config.plugin_options("feeds").get("id")
    if isinstance(chosen, str) and chosen:
        return uuid.uuid5(uuid.NAMESPACE_URL, chosen)
    return uuid.uuid5(uuid.NAMESPACE_URL, "sitegen-feed:" + site.config.title)


def _identifier(site: Any, post: Post | None) -> str:
    """Atom ids are permanent: an entry's is made from the feed's identity and the post's
    date and slug (or its front matter's ``id``), not from where the site is served."""
    feed = feed_identity(site)
    if post is None:
        return feed.urn
    own = post.meta.get("id")
    if isinstance(own, str) and own:
        return own
    day = post.date.strftime("%Y-%m-%d") if post.date else ""
    return uuid.uuid5(feed, f"{day}/{post.slug or post.url}").urn


def build_feed(site: Any, posts: list[Post]) -> bytes:
    """The Atom document for ``posts`` (newest first)."""
    cfg = site.config
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": cfg.language})
    _text(feed, "title", cfg.title)
    if cfg.description:
        _text(feed, "subtitle", cfg.description)
    _link(feed, site.absolute_url(FEED_URL), "self", "application/atom+xml")
    _link(feed, site.absolute_url("/"), "alternate", "text/html")
    _text(feed, "id", _identifier(site, None))
    dates = [d for d in (last_modified(p) for p in posts) if d is not None]
    newest = max(dates, key=lambda d: d.replace(tzinfo=None)) if dates else datetime(1970, 1, 1)
    _text(feed, "updated", w3c_datetime(newest))
    author = ET.SubElement(feed, "author")
    _text(author, "name", cfg.author if isinstance(cfg.author, str) and cfg.author else cfg.title)
    _text(feed, "generator", "sitegen")
    for post in posts:
        entry = ET.SubElement(feed, "entry")
        # a title with math: its plain-text form (feed readers show titles as text)
        _text(entry, "title", post.data.get("title_text") or post.title)
        _link(entry, site.absolute_url(post.url), "alternate", "text/html")
        _text(entry, "id", _identifier(site, post))
        if post.date is not None:
            _text(entry, "published", w3c_datetime(post.date))
        _text(entry, "updated", w3c_datetime(last_modified(post) or newest))
        for tag in post.tags:
            ET.SubElement(entry, "category", {"term": tag})
        if post.excerpt:
            _text(entry, "summary", post.data.get("excerpt_text") or post.excerpt)
        # xml:base: relative links and images in the body resolve against the post's page
        _text(
            entry,
            "content",
            entry_html(site, post),
            type="html",
            **{"xml:base": site.absolute_url(post.url)},
        )
        warn_removed(site, "feed.xml", post, clean_tree(entry))
    warn_removed(site, "feed.xml", None, clean_tree(feed))  # the site's title and the like
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


