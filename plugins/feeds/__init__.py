"""Atom feed ``/feed.xml`` of the newest posts, with math as MathML.

Feed readers run no JavaScript, so MathJax never typesets a feed entry. Each entry's body is
therefore rendered a second time, from the post's own Markdown tokens, by a copy of the
site's parser whose math render rules emit MathML (``latex2mathml``) instead of TeX for
MathJax. Nothing here looks at the rendered HTML of the page.

Before conversion the TeX is prepared the way MathJax would have read it: site-wide macros
are expanded, ``\\label``/``\\nonumber``/``\\notag`` removed, AMS equation numbers computed
(and written into the MathML with ``\\tag``) so that ``\\eqref`` shows the same number as on
the page. A formula latex2mathml rejects is shown as its TeX, escaped.

The feed is reproducible: entries are the newest posts (date, then source path), and the
feed's ``updated`` is the newest entry's date, never the time of the build.

Options (``[plugins.feeds]`` in sitegen.toml): ``limit`` (default 20), ``id``, ``enabled``.

This module holds the hooks; ``numbering`` prepares the TeX, ``mathml`` converts it,
``entries`` renders and caches an entry's body, ``atom`` writes the document.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sitegen.errors import ConfigError
from sitegen.hooks import hookimpl
from sitegen.model import Page, Post

from .atom import FEED_URL, build_feed
from .entries import (
    HTML_KEY,
    TOKENS_KEY,
    entry_key,
    read_cached_entry,
    render_entry,
    write_cached_entry,
)

DEFAULT_LIMIT = 20

# the settings [plugins.feeds] takes, with their defaults (checked when the site loads)
SETTINGS = {"limit": DEFAULT_LIMIT, "id": ""}


@dataclass(frozen=True)
class FeedOptions:
    limit: int = DEFAULT_LIMIT


def feed_options(site: Any) -> FeedOptions:
    raw = site.config.plugin_options("feeds")
    limit = raw.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigError("[plugins.feeds] limit must be a positive integer", site.config.source)
    return FeedOptions(limit=limit)


@hookimpl
def sitegen_configure(site: Any) -> None:
    feed_options(site)  # reject a bad limit before any post is read
    if not site.config.url and not site.options.serve:
        site.report.warning(
            site.config.source or "sitegen.toml",
            None,
            "no 'url' set: the feed's links are relative, which feed readers cannot follow; "
            'set url = "https://…" (the address the site is published at)',
        )


@hookimpl
def sitegen_posts_parsed(site: Any, posts: list[Post]) -> None:
    # Keep the tokens of posts that may end up in the feed; rendering pops them from
    # post.data before sitegen_post_rendered runs. The env is dropped after rendering.
    # Only the newest: should one of them fail, the next post's entry is made when the
    # feed is (see ``entries.entry_html``), which is rarer than converting spare entries every time.
    wanted = {id(p) for p in site.posts[: feed_options(site).limit]}
    for post in posts:
        if id(post) in wanted and "tokens" in post.data and "env" in post.data:
            post.data["env"][TOKENS_KEY] = post.data["tokens"]


@hookimpl
def sitegen_post_rendered(site: Any, post: Post) -> None:
    env = post.data.get("env") or {}
    tokens = env.pop(TOKENS_KEY, None)
    if tokens is None or site.markdown is None:
        return
    key = entry_key(site, post)
    html = read_cached_entry(site, key)
    if html is None:
        html = render_entry(site, post, tokens, env)
        write_cached_entry(site, key, html)
    post.data[HTML_KEY] = html


@hookimpl
def sitegen_extra_pages(site: Any) -> list[Page]:
    posts = [p for p in site.posts if not p.failed][: feed_options(site).limit]
    return [Page(url=FEED_URL, content=build_feed(site, posts))]


@hookimpl
def sitegen_new_site(root: Any) -> str:
    """A new site gets its feed's identity once, so moving the site keeps its readers."""
    return (
        "[plugins.feeds]\n"
        f'id = "{uuid.uuid4().urn}"   # the feed\'s permanent identity: keep it when the site'
        " moves\n"
    )
