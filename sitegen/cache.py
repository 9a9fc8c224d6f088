"""Build caches kept in ``<site>/.sitegen-cache/``.

The input manifest lets ``sitegen build`` skip everything when no input changed since the
last successful build: it stats every input (no reading, no Markdown or template imports)
and compares one digest. Only the standard library is imported here, on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from sitegen import __version__

CACHE_DIR = ".sitegen-cache"
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
    "templates",
    "themes",
    "plugins",
)
INPUT_FILES = ("sitegen.toml", "_config.yml")


def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


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


CONTENT_DIRS = ("posts", "_posts", "pages", "assets", "static")


def _fingerprint(
    root: Path, settings: dict[str, Any], extra_dirs: list[Path], *, content: bool
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    # today's date: a post dated in the future appears on its day without any edit
    digest.update(f"{__version__}\0{date.today().isoformat() if content else ''}\n".encode())
    for name in INPUT_FILES:
        path = root / name
        if path.is_file():
            st = path.stat()
            digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for name in INPUT_DIRS:
        folder = root / name
        if (content or name not in CONTENT_DIRS) and folder.is_dir():
            _stat_lines(folder, "", digest)
    for folder in extra_dirs:  # built-in themes and plugins: changed by upgrades or in a clone
        _stat_lines(folder, "builtin:", digest)
    return digest.hexdigest()


def input_fingerprint(root: Path, settings: dict[str, Any], extra_dirs: list[Path]) -> str:
    """A digest of every input's name, size and modification time, plus the settings of
    the build (flags, sitegen version, today's date for future-dated posts)."""
    return _fingerprint(root, settings, extra_dirs, content=True)


def read_manifest(root: Path) -> dict[str, Any]:
    try:
        return json.loads((cache_dir(root) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(root: Path, data: dict[str, Any]) -> None:
    folder = cache_dir(root)
    try:
        folder.mkdir(exist_ok=True)
        tmp = folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, folder / MANIFEST)
    except OSError:
        pass  # a read-only site still builds; it just cannot skip the next build


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
        "verify": options.verify,
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
    ):
        return fingerprint, manifest
    return fingerprint, None


# --------------------------------------------------------------------------- rendered bodies

RENDER_CACHE = "bodies.pickle"


def settings_fingerprint(root: Path, settings: dict[str, Any], extra_dirs: list[Path]) -> str:
    """Like ``input_fingerprint`` but blind to the posts themselves: what every post's
    rendering depends on besides its own text (config, includes, templates, plugins …)."""
    return _fingerprint(root, settings, extra_dirs, content=False)


class RenderCache:
    """Rendered bodies of posts, keyed by the post's text and everything it depends on.

    A rebuild after one post changed parses and renders only that post; the others come
    from here. Posts whose output depends on more than their text (a plugin sets
    ``post.data["cacheable"] = False``, e.g. verification) are never stored.
    """

    def __init__(self, root: Path, salt: str) -> None:
        self.path = cache_dir(root) / RENDER_CACHE
        self.salt = salt
        self.entries: dict[str, Any] = {}
        self.used: dict[str, Any] = {}  # entries of this build: the only ones saved
        try:
            import pickle

            with open(self.path, "rb") as fh:
                stored = pickle.load(fh)
            if isinstance(stored, dict):
                self.entries = stored
        except Exception:  # a missing, old or damaged cache is only a slower build
            self.entries = {}

    def key(self, rel: str, source: str) -> str:
        digest = hashlib.sha256(self.salt.encode())
        digest.update(rel.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(source.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def get(self, key: str) -> Any:
        entry = self.entries.get(key)
        if entry is not None:
            self.used[key] = entry
        return entry

    def put(self, key: str, entry: Any) -> None:
        self.used[key] = entry

    def save(self) -> None:
        import pickle

        try:
            self.path.parent.mkdir(exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(self.used, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass
