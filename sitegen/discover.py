"""Find a site's inputs: posts, stand-alone pages and static files."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

POST_DIRS = ("posts", "_posts")
PAGE_DIRS = ("pages",)
STATIC_DIRS = ("assets", "static")
MARKDOWN_EXTENSIONS = (".md", ".markdown", ".mkdown")
HTML_EXTENSIONS = (".html", ".htm")
# Markdown extensions Jekyll's own converter takes as well, for pages found on a Jekyll site
JEKYLL_MARKDOWN_EXTENSIONS = MARKDOWN_EXTENSIONS + (".mkdn", ".mkd")
# sitegen's own folders, and what Jekyll leaves out of a site by default
NOT_JEKYLL_PAGES = frozenset(
    "posts templates themes plugins includes node_modules vendor gemfiles Gemfile "
    "Gemfile.lock".split()
    + list(STATIC_DIRS)
)

# "2016-08-30-some-slug.md" -> date and slug; like Jekyll, months and days may have one
# digit ("2020-1-7-short-name.md") and years two to four
DATED_NAME = re.compile(r"^(\d{2,4})-(\d{1,2})-(\d{1,2})-(.+)$")


@dataclass(frozen=True)
class Source:
    path: Path
    kind: str  # "post" | "page"
    folder: str  # the input folder it was found in ("posts", "_posts", "pages")


def _walk(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        # hidden folders (editor swap, .git) and underscore folders are never content
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        parts = dirpath.split(os.sep)
        for name in filenames:
            if not name.startswith(".") and not name.endswith("~"):
                found.append((parts + [name], dirpath, name))
    # sorted as paths are (part by part), without making a Path of each first
    found.sort(key=lambda item: item[0])
    folders: dict[str, Path] = {}  # a child of a made Path is cheaper than a new Path
    return [
        (folders.get(dirpath) or folders.setdefault(dirpath, Path(dirpath))) / name
        for _, dirpath, name in found
    ]


def is_jekyll_root(root: Path) -> bool:
    """A Jekyll site: its settings are a ``_config.yml`` (and no ``sitegen.toml``)."""
    return (root / "_config.yml").is_file() and not (root / "sitegen.toml").is_file()


def discover_sources(root: Path) -> list[Source]:
    """Every file in the post and page folders, sorted; non-Markdown files are left out.
    On a Jekyll site, also what Jekyll makes pages and posts of anywhere in the site."""
    sources = []
    jekyll = is_jekyll_root(root)
    for kind, folders in (("post", POST_DIRS), ("page", () if jekyll else PAGE_DIRS)):
        for name in folders:
            folder = root / name
            if folder.is_dir():
                for path in _walk(folder):
                    if path.suffix.lower() in MARKDOWN_EXTENSIONS:
                        sources.append(Source(path, kind, name))
    if jekyll:
        sources.extend(_jekyll_sources(root))
    return sources


_FRONT_MATTER_START = re.compile(rb"---[ \t]*(?:\r\n|\n|\r)")


def has_front_matter(path: Path) -> bool:
    """Jekyll's test for a page: the file's first line is ``---``."""
    try:
        with open(path, "rb") as file:
            head = file.read(64)
    except OSError:
        return False
    return _FRONT_MATTER_START.match(head) is not None


def _jekyll_sources(root: Path) -> list[Source]:
    """Jekyll's pages (files with front matter outside the underscore folders, at the
    root or in folders) and the posts of ``_posts/`` folders below the root
    (``blog/_posts/``, whose folders are categories). Files without front matter are
    Jekyll's static files, not sources."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        top = dirpath == str(root)
        if "_posts" in dirnames and not top:
            for path in _walk(Path(dirpath, "_posts")):
                if path.suffix.lower() in MARKDOWN_EXTENSIONS:
                    found.append(Source(path, "post", "_posts"))
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(("_", ".", "#")) and not (top and d in NOT_JEKYLL_PAGES)
        )
        for name in sorted(filenames):
            if name.startswith(("_", ".", "#")) or name.endswith("~"):
                continue
            if top and name in NOT_JEKYLL_PAGES:
                continue
            path = Path(dirpath, name)
            if has_front_matter(path):
                found.append(Source(path, "page", ""))
    return found


def discover_static(root: Path, extra_dirs: list[tuple[Path, str]] = ()) -> list[tuple[Path, str]]:
    """(source file, output path) for the site's static folders and the theme's assets.

    ``extra_dirs`` are (folder, output prefix) pairs from the theme; the site's own files
    come last so they win when both hold the same output path.
    """
    pairs: dict[str, Path] = {}
    for folder, prefix in extra_dirs:
        if folder.is_dir():
            for path in _walk(folder):
                pairs[prefix + path.relative_to(folder).as_posix()] = path
    for name in STATIC_DIRS:
        folder = root / name
        if folder.is_dir():
            for path in _walk(folder):
                out = (
                    path.relative_to(root).as_posix()
                    if name == "assets"
                    else (path.relative_to(folder).as_posix())
                )
                pairs[out] = path
    return [(path, out) for out, path in sorted(pairs.items())]
