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

# "2016-08-30-some-slug.md" -> date and slug
DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")


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


def discover_sources(root: Path) -> list[Source]:
    """Every file in the post and page folders, sorted; non-Markdown files are left out."""
    sources = []
    for kind, folders in (("post", POST_DIRS), ("page", PAGE_DIRS)):
        for name in folders:
            folder = root / name
            if folder.is_dir():
                for path in _walk(folder):
                    if path.suffix.lower() in MARKDOWN_EXTENSIONS:
                        sources.append(Source(path, kind, name))
    return sources


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
