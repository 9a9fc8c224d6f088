"""What of a Jekyll site sitegen knowingly does not build, and the warning that says why
(files in formats it does not convert); which pages need a Liquid engine to be built
(``check_jekyll_page``); and which of two sources with one URL Jekyll's output keeps."""

from __future__ import annotations

import re

from sitegen.discover import HTML_EXTENSIONS, JEKYLL_MARKDOWN_EXTENSIONS, Source
from sitegen.errors import SkippedSource
from sitegen.model import Post

# In an HTML page sitegen substitutes Liquid values ({{ site.KEY }}, {{ page.KEY }},
# {% link %}, {% post_url %}) itself; any other Liquid needs the Liquid engine.
_LIQUID = re.compile(r"\{%-?\s*(\w*)[^%]*?%\}|\{\{.*?\}\}|\{[{%]", re.S)
_LIQUID_VALUE = re.compile(
    r"\{\{-?\s*(?:site|page)(?:\.[A-Za-z_][\w-]*)+\s*-?\}\}|\{%-?\s*(?:link|post_url)\s[^%]*%\}"
)


_LIQUID_LOOP = re.compile(r"\{%-?\s*(for|tablerow)\s")


def check_jekyll_kind(source: Source, rel: str) -> None:
    """A Jekyll page or post sitegen can build is Markdown or HTML; any other is left out
    with a warning that says why, before its bytes are read."""
    suffix = source.path.suffix.lower()
    if suffix in JEKYLL_MARKDOWN_EXTENSIONS or suffix in HTML_EXTENSIONS:
        return
    if source.kind == "post":
        message = f"not built: a {suffix or 'plain'} post; sitegen builds Markdown and HTML posts"
    else:
        message = (
            f"not built: Jekyll runs Liquid (or Sass) over a {suffix or 'plain'} file with "
            "front matter, sitegen does not; sitegen makes its own feed and sitemap"
        )
    raise SkippedSource(message, rel, 1)


def check_jekyll_page(post: Post) -> None:
    """Mark the pages whose text a Liquid engine must make (``post.liquid``): a page
    with a loop, an HTML page or post with Liquid beyond the values sitegen fills in
    itself (``{{ site.KEY }}`` with common filters, ``{% link %}``, ``{% post_url %}``)."""
    if post.path.suffix.lower() not in HTML_EXTENSIONS:
        # a list made from the site's data (tags, posts): Jekyll runs Liquid, then kramdown
        post.liquid = post.kind == "page" and _LIQUID_LOOP.search(post.body) is not None
        return
    for found in _LIQUID.finditer(post.body):
        text = found.group(0)
        if _LIQUID_VALUE.fullmatch(text):
            continue
        if text.startswith("{{") and text.endswith("}}"):
            from sitegen.markdown.liquid_filters import supported_output

            if supported_output(text[2:-2].strip("- ")):
                continue
        post.liquid = True
        return


def jekyll_write_order(post: Post, collections: set[str]) -> tuple:
    """Where a source comes in Jekyll's writing of the site: pages first (by file name),
    then posts and collection documents (by date, then path). Of two sources with one
    URL, Jekyll writes both and the later one is what the folder keeps."""
    folder = post.rel.split("/", 1)[0] if "/" in post.rel else ""
    document = post.kind == "post" or folder.lstrip("_") in collections
    if not document:
        return (0, post.rel.rsplit("/", 1)[-1], post.rel)
    stamp = post.date.replace(tzinfo=None).isoformat() if post.date is not None else ""
    return (1, stamp, post.rel)
