"""Tag pages: ``/tags/NAME/`` lists the posts with that tag, ``/tags/`` lists every tag.

Tags that differ only in case or punctuation ("Neural Nets", "neural-nets") share one slug
and therefore one page; the page is titled with the spelling the newest post used.
Templates get ``tag_url(name)`` to link a tag wherever it is shown.

A page of the site's own at ``/tags/`` (a Jekyll site's ``tag-archive.md``) wins when it
has text, and a note says sitegen's list is not written there; one with no text of its own
(its list came from its Jekyll layout's Liquid) is not built, and a warning says that
sitegen's list stands in for it.

Options (``[plugins.tags]`` in sitegen.toml): ``enabled`` (default true).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sitegen.errors import SkippedSource
from sitegen.frontmatter import key_line
from sitegen.hooks import hookimpl
from sitegen.model import Page, Post
from sitegen.pages import unbuilt_named
from sitegen.read import slugify

TAGS_URL = "/tags/"


SETTINGS: dict = {}  # only "enabled"


@dataclass
class Tag:
    name: str  # as the newest post tagged with it spells it
    slug: str
    posts: list[Post] = field(default_factory=list)  # newest first, like site.posts

    @property
    def url(self) -> str:
        return tag_path(self.slug)


@functools.lru_cache(maxsize=4096)
def tag_slug(name: str) -> str:
    """The URL part of a tag: lower case, words joined by hyphens."""
    # memoised: a site has few tags, slugged once per post for the tag pages and again
    # by every template that links one
    return slugify(name)


def tag_path(slug: str) -> str:
    return f"{TAGS_URL}{slug}/"


def collect_tags(posts: list[Post]) -> list[Tag]:
    """Group posts (newest first) by tag slug; tags sorted by name, case-insensitively."""
    by_slug: dict[str, Tag] = {}
    for post in posts:
        for name in dict.fromkeys(post.tags):  # a tag written twice on one post counts once
            slug = tag_slug(name)
            tag = by_slug.setdefault(slug, Tag(name=name, slug=slug))
            if not tag.posts or tag.posts[-1] is not post:
                tag.posts.append(post)
    return sorted(by_slug.values(), key=lambda t: (t.name.lower(), t.slug))


@hookimpl
def sitegen_extra_pages(site: Any) -> list[Page]:
    tags = collect_tags(site.posts)
    if not tags:
        return []
    pages = [
        Page(
            url=tag.url,
            template="tag.html",
            context={"tag": tag.name, "tag_slug": tag.slug, "posts": tag.posts},
        )
        for tag in tags
    ]
    own = next((p for p in site.pages if p.url == TAGS_URL), None)
    if own is None:
        pages.append(Page(url=TAGS_URL, template="tags.html", context={"tags": tags}))
    else:
        site.report.note(
            own.rel,
            key_line(own.source, "permalink"),
            f"this page is {TAGS_URL}: sitegen's "
            "list of tags is not written there (each tag's page still is)",
        )
    # also where a Jekyll site's own tag list was (``tags.html``, not built), for old links
    for url in unbuilt_named(site, "tags"):
        pages.append(Page(url=url, template="tags.html", context={"tags": tags}))
    return pages


@hookimpl
def sitegen_post_loaded(site: Any, post: Post) -> None:
    """A page at /tags/ with no text of its own gives way to sitegen's list of tags."""
    if post.kind == "page" and post.url == TAGS_URL and not post.body.strip():
        raise SkippedSource(
            f"not built: this page at {TAGS_URL} has no text of its own (its layout made "
            "the list); sitegen's list of tags is written there instead",
            post.rel,
            key_line(post.source, "permalink") or 1,
        )


@hookimpl
def sitegen_template_context(site: Any, page: Any, context: dict[str, Any]) -> None:
    # A function rather than a table: templates link whatever tag they show.
    def tag_url(name: str) -> str:
        return site.url_for(tag_path(tag_slug(name)))

    context["tag_url"] = tag_url
    if page.template in ("tag.html", "tags.html"):
        context["page"] = dict(context.get("page", {}), title=_title(page))


def _title(page: Page) -> str:
    tag = page.context.get("tag")
    return f"Tag: {tag}" if tag else "Tags"
