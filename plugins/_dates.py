"""When a post last changed, as the feed (``updated``) and the sitemap (``lastmod``) say it,
and dates written the way both formats want them (W3C / RFC 3339)."""

from __future__ import annotations

from datetime import datetime

from sitegen.frontmatter import parse_date
from sitegen.model import Post

# the front matter keys that say so, in the order Jekyll's feed and sitemap plugins ask
MODIFIED_KEYS = ("last_modified_at", "updated")


def last_modified(post: Post) -> datetime | None:
    """``last_modified_at`` / ``updated`` from the front matter, else the post's date."""
    for key in MODIFIED_KEYS:
        if key in post.meta:
            try:
                return parse_date(post.meta[key], post.date.tzinfo if post.date else None)
            except ValueError:
                break  # the post still has its date; the front matter is not ours to judge
    return post.date


def w3c_datetime(value: datetime) -> str:
    """A date and time with its zone; naive dates are in the site's configured zone, which
    is UTC when none is set."""
    text = value.isoformat(timespec="seconds")
    return text if value.tzinfo is not None else text + "Z"
