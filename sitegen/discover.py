"""Find a site's inputs: posts, stand-alone pages and static files."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.write import MARKER  # marks an output folder, never an input

POST_DIRS = ("posts", "_posts")
JEKYLL_DRAFTS = "_drafts"  # a Jekyll site's unpublished posts, built with --drafts
PAGE_DIRS = ("pages",)
STATIC_DIRS = ("assets", "static")
MARKDOWN_EXTENSIONS = (".md", ".markdown", ".mkdown")
HTML_EXTENSIONS = (".html", ".htm")
# Markdown extensions Jekyll's own converter takes as well, for pages found on a Jekyll site
JEKYLL_MARKDOWN_EXTENSIONS = MARKDOWN_EXTENSIONS + (".mkdn", ".mkd")
# sitegen's own folders at a site's root: never a Jekyll site's pages or files
SITEGEN_FOLDERS = frozenset(("posts", "templates", "themes", "plugins", "includes", *STATIC_DIRS))

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
                    if (is_jekyll_post if jekyll and name == "_posts" else _is_markdown)(path):
                        sources.append(Source(path, kind, name))
    if jekyll:
        drafts = root / JEKYLL_DRAFTS
        if drafts.is_dir():
            found = (path for path in _walk(drafts) if is_jekyll_post(path))
            sources.extend(Source(path, "post", JEKYLL_DRAFTS) for path in found)
        sources.extend(_jekyll_sources(root))
    return sources


def _is_markdown(path: Path) -> bool:
    return path.suffix.lower() in MARKDOWN_EXTENSIONS


def is_jekyll_post(path: Path) -> bool:
    """What Jekyll makes a post of in a ``_posts/`` folder: every file with a date in its
    name (sitegen builds the Markdown and HTML ones and names the others in a warning),
    and Markdown files without one, which are then reported as skipped."""
    return _is_markdown(path) or DATED_NAME.match(path.stem) is not None


_FRONT_MATTER_START = re.compile(rb"---[ \t]*(?:\r\n|\n|\r)")


def has_front_matter(path: Path) -> bool:
    """Jekyll's test for a page: the file's first line is ``---``."""
    try:
        with open(path, "rb") as file:
            head = file.read(64)
    except OSError:
        return False
    return _FRONT_MATTER_START.match(head) is not None


# what Jekyll leaves out of every site, besides the settings' ``exclude``
JEKYLL_EXCLUDES = (
    ".sass-cache .jekyll-cache gemfiles Gemfile Gemfile.lock node_modules vendor/bundle "
    "vendor/cache vendor/gems vendor/ruby"
).split()


def _jekyll_settings(root: Path) -> dict[str, Any]:
    """``_config.yml`` as a mapping; {} when it is not one (the configuration stage
    reports a broken file)."""
    import yaml

    try:
        data = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _settings_list(settings: dict[str, Any], key: str) -> list[str]:
    value = settings.get(key)
    return [str(v) for v in value if v is not None] if isinstance(value, list) else []


def output_collections(settings: dict[str, Any]) -> list[str]:
    """The labels of a Jekyll site's collections that are published (``output: true``),
    besides ``posts``; their documents are in ``_LABEL/``."""
    collections = settings.get("collections")
    if not isinstance(collections, dict):
        return []  # a list of labels: collections that are not published
    return [
        str(label)
        for label, meta in collections.items()
        if str(label) != "posts" and isinstance(meta, dict) and meta.get("output") is True
    ]


def _matches(rel: str, patterns: list[str], below: bool = True) -> bool:
    """Whether ``rel`` is named by one of ``patterns`` (a path or a glob), or, with
    ``below``, lies in a folder one of them names."""
    for pattern in patterns:
        pattern = pattern.strip("/")
        if rel == pattern or fnmatch.fnmatchcase(rel, pattern):
            return True
        if below and rel.startswith(pattern + "/"):
            return True
    return False


def _jekyll_walk(root: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """The files Jekyll reads outside its underscore folders, as (path, path relative to
    the root), with the settings' ``exclude`` and ``include`` (sitegen's own folders and
    output folders are left out); and the ``_posts/`` folders below the root's."""
    settings = _jekyll_settings(root)
    exclude = list(JEKYLL_EXCLUDES) + _settings_list(settings, "exclude")
    include = _settings_list(settings, "include")
    files, post_dirs = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        folder = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if folder == "." else folder + "/"
        if prefix and "_posts" in dirnames and not _matches(prefix + "_posts", exclude):
            post_dirs.append(Path(dirpath, "_posts"))
        keep = [n for n in dirnames if _wanted(prefix, n, include, exclude)]
        dirnames[:] = sorted(n for n in keep if not os.path.exists(Path(dirpath, n, MARKER)))
        files.extend(
            (Path(dirpath, n), prefix + n)
            for n in sorted(filenames)
            if _wanted(prefix, n, include, exclude)
        )
    return files, post_dirs


def _wanted(prefix: str, name: str, include: list[str], exclude: list[str]) -> bool:
    rel = prefix + name
    if _matches(rel, include, below=False):  # what is in it follows the usual rules
        return True
    if name.startswith(("_", ".", "#")) or name.endswith("~"):
        return False
    return not (prefix == "" and name in SITEGEN_FOLDERS) and not _matches(rel, exclude)


def _collection_files(root: Path) -> list[tuple[str, Path]]:
    """(label, file) of every file in the published collections' folders."""
    return [
        (label, path)
        for label in output_collections(_jekyll_settings(root))
        if (root / f"_{label}").is_dir()
        for path in _walk(root / f"_{label}")
    ]


def _jekyll_sources(root: Path) -> list[Source]:
    """Jekyll's pages (files with front matter outside the underscore folders, at the
    root or in folders), the documents of published collections (``_LABEL/``, folder
    ``_LABEL``), and the posts of ``_posts/`` folders below the root (``blog/_posts/``,
    whose folders are categories). Files without front matter are Jekyll's static files
    (``jekyll_static_files``)."""
    files, post_dirs = _jekyll_walk(root)
    found = [
        Source(path, "post", "_posts")
        for folder in post_dirs
        for path in _walk(folder)
        if is_jekyll_post(path)
    ]
    found.extend(Source(path, "page", "") for path, _ in files if has_front_matter(path))
    found.extend(
        Source(path, "page", f"_{label}")
        for label, path in _collection_files(root)
        if has_front_matter(path)
    )
    return found


def jekyll_inputs(root: Path) -> list[Path]:
    """Every file a Jekyll site's posts, pages, collections and static files come from;
    [] for a sitegen site."""
    if not is_jekyll_root(root):
        return []
    files, post_dirs = _jekyll_walk(root)
    posts = [
        p
        for folder in ("_posts", JEKYLL_DRAFTS)
        for p in _walk(root / folder)  # none if no folder
        if is_jekyll_post(p)
    ]
    return (
        [path for path, _ in files]
        + [path for folder in post_dirs for path in _walk(folder)]
        + [path for _, path in _collection_files(root)]
        + posts
    )


def is_jekyll_input(root: Path, rel: str) -> bool:
    """Whether the file at ``rel`` (from the root) is one of ``jekyll_inputs``."""
    if not is_jekyll_root(root):
        return False
    parts = rel.split("/")
    settings = _jekyll_settings(root)
    include, exclude = _settings_list(settings, "include"), _settings_list(settings, "exclude")
    exclude += JEKYLL_EXCLUDES
    if parts[0][1:] in output_collections(settings) and parts[0].startswith("_"):
        return len(parts) > 1 and _walked(parts[1:])
    if parts[0] in ("_posts", JEKYLL_DRAFTS):
        return len(parts) > 1 and _walked(parts[1:]) and is_jekyll_post(Path(rel))
    if "_posts" in parts[1:-1]:  # in a nested _posts/: what ``_walk`` takes from it
        cut = parts.index("_posts", 1)
        parts, inside = parts[:cut], parts[cut + 1 :]
        if not _walked(inside) or _matches("/".join(parts + ["_posts"]), exclude):
            return False
    return all(
        _wanted("/".join(parts[:i]) + "/" if i else "", part, include, exclude)
        for i, part in enumerate(parts)
    )


def _walked(parts: list[str]) -> bool:
    """Whether ``_walk`` takes the file at ``parts`` below the folder it walks."""
    return not any(p.startswith(".") for p in parts) and not parts[-1].endswith("~")


def jekyll_static_files(root: Path) -> list[tuple[Path, str]]:
    """(source, output path) of a Jekyll site's static files: everything Jekyll copies
    as it is (images, style sheets, ``CNAME``), that is, the files without front matter."""
    return [(path, rel) for path, rel in _jekyll_walk(root)[0] if not has_front_matter(path)]


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
    if is_jekyll_root(root):
        for path, out in jekyll_static_files(root):
            pairs[out] = path
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
