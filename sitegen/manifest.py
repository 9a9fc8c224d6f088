"""The stat-only check that lets ``sitegen build`` skip everything when no input changed
since the last successful build: it stats every input (no reading, no Markdown or
template imports) and compares one digest with the manifest of that build. Only the
standard library is imported here, on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sitegen import __version__
from sitegen.cache import cache_dir, read_cache_file, write_cache_file
from sitegen.discover import jekyll_inputs
from sitegen.schedule import due

MANIFEST = "manifest.json"
# folders of a site whose files are inputs of a build
INPUT_DIRS = (
    "posts",
    "_posts",
    "pages",
    "assets",
    "static",
    "includes",
    "_includes",
    "_data",  # a Jekyll site's site.data, which its Liquid pages read
    "_layouts",  # a Jekyll site's MathJax setup decides its single-dollar rule
    "templates",
    "themes",
    "plugins",
)
INPUT_FILES = ("sitegen.toml", "_config.yml")


def _stat_lines(folder: Path, label: str, digest: Any) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            digest.update(f"{label}{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())


# (the Liquid pages that read _data/ have its values in their own cache keys)
CONTENT_DIRS = ("posts", "_posts", "pages", "assets", "static", "_data")


def _fingerprint(
    root: Path, settings: dict[str, Any], extra_dirs: list[Path], *, content: bool
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    # (a post dated in the future is published on time by the manifest's "scheduled")
    digest.update(f"{__version__}\n".encode())
    for name in INPUT_FILES:
        path = root / name
        if path.is_file():
            st = path.stat()
            digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for name in INPUT_DIRS:
        folder = root / name
        if (content or name not in CONTENT_DIRS) and folder.is_dir():
            _stat_lines(folder, "", digest)
    if content:  # a Jekyll site's pages and files outside those folders
        for path in jekyll_inputs(root):
            try:
                st = path.stat()
            except OSError:
                continue
            digest.update(f"jekyll:{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for folder in extra_dirs:  # built-in themes and plugins: changed by upgrades or in a clone
        _stat_lines(folder, "builtin:", digest)
    return digest.hexdigest()


def input_fingerprint(root: Path, settings: dict[str, Any], extra_dirs: list[Path]) -> str:
    """A digest of every input's name, size and modification time, plus the settings of
    the build (flags, sitegen version)."""
    return _fingerprint(root, settings, extra_dirs, content=True)


def read_manifest(root: Path) -> dict[str, Any]:
    data = read_cache_file(cache_dir(root) / MANIFEST)
    try:
        manifest = json.loads(data) if data is not None else {}
    except ValueError:
        return {}
    return manifest if isinstance(manifest, dict) else {}


def write_manifest(root: Path, data: dict[str, Any]) -> None:
    # a read-only site still builds; it just cannot skip the next build
    write_cache_file(
        cache_dir(root) / MANIFEST, json.dumps(data, indent=1, sort_keys=True).encode()
    )


def forget_manifest(root: Path) -> None:
    """Before a build writes anything: until it finishes (and ``sitegen serve`` never
    does), no build may skip itself as if the output were the last clean build's."""
    try:
        os.unlink(cache_dir(root) / MANIFEST)
    except OSError:
        pass


def builtin_dirs() -> list[Path]:
    import importlib.util

    dirs = []
    for package in ("sitegen_plugins", "sitegen_themes"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            dirs.append(Path(next(iter(spec.submodule_search_locations))))
    return dirs


def build_settings(options: Any, out: Path) -> dict[str, Any]:
    """The flags that change what a build writes."""
    return {
        "out": str(out),
        "drafts": options.drafts,
        "future": options.future,
        "extra": dict(sorted(options.extra.items())),
        "serve": options.serve,
    }


def unchanged_since_last_build(root: Path, options: Any, out: Path) -> tuple[str, dict | None]:
    """(fingerprint, manifest of the last build if nothing changed since it, else None)."""
    fingerprint = input_fingerprint(root, build_settings(options, out), builtin_dirs())
    manifest = read_manifest(root)
    if (
        manifest.get("fingerprint") == fingerprint
        and manifest.get("clean")
        and (out / ".sitegen-output").is_file()
        and not options.rerun
        and not due(manifest.get("scheduled"))
    ):
        return fingerprint, manifest
    return fingerprint, None


def settings_fingerprint(root: Path, settings: dict[str, Any], extra_dirs: list[Path]) -> str:
    """Like ``input_fingerprint`` but blind to the posts themselves: what every post's
    rendering depends on besides its own text (config, includes, templates, plugins …)."""
    return _fingerprint(root, settings, extra_dirs, content=False)
