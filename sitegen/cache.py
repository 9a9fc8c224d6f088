"""Build caches kept in ``<site>/.sitegen-cache/``, all in one sealed file format.

Every file starts with a format line and the digest of the rest, so a damaged or cut file
is a miss, never a crash or a wrong page. Only the standard library is imported here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import time
import zlib
from pathlib import Path
from typing import Any

CACHE_DIR = ".sitegen-cache"
def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


# --------------------------------------------------------------------------- cache files


# Every cache file starts with this line, the length and the CRC-32 of the rest: a file
# cut short or damaged (a full disk, a crash, a flipped bit) is a miss, never a wrong page
# or a crash. Raised when the layout of what sitegen stores changes; older files are then
# misses.
CACHE_FORMAT = b"sitegen cache 2\n"
_CHECK = struct.Struct("<QI")  # length, CRC-32: cheap on the 20 MB of a large site


def seal(payload: bytes) -> bytes:
    return CACHE_FORMAT + _CHECK.pack(len(payload), zlib.crc32(payload)) + payload


def unseal(data: bytes) -> bytes | None:
    """The payload of a sealed file, or None when it is not one sitegen wrote whole."""
    head = len(CACHE_FORMAT) + _CHECK.size
    if len(data) < head or not data.startswith(CACHE_FORMAT):
        return None
    length, crc = _CHECK.unpack_from(data, len(CACHE_FORMAT))
    payload = memoryview(data)[head:]
    if len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return bytes(payload)


def read_cache_file(path: Path) -> bytes | None:
    """A sealed cache file's payload; None when missing or damaged."""
    try:
        with open(path, "rb") as fh:
            return unseal(fh.read())
    except OSError:
        return None


def _load_pickle(path: Path) -> Any:
    """A cache file's content; None when it is missing or damaged (a slower build)."""
    import pickle

    payload = read_cache_file(path)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:
        return None


def write_cache_file(path: Path, data: bytes, sealed: bool = True) -> bool:
    """Write a cache file whole: a temporary file (one per process, as render workers
    may write at the same time) renamed over it. False when the site cannot be written:
    a read-only site still builds, only without caches; nothing is left behind."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(seal(data) if sealed else data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def _save_pickle(path: Path, data: Any) -> bool:
    import pickle

    return write_cache_file(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))


# --------------------------------------------------------------------------- the store

STORE_DIR = "store"


class CacheStore:
    """The cache plugins share with the engine (``site.cache``): bytes under string keys,
    where a key is a digest of everything the bytes were made from (content-addressed:
    an entry is never out of date, only unused). Damaged entries are misses. A complete
    build sweeps the entries it did not ask for, so the store holds one site's worth."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.folder = cache_dir(root) / STORE_DIR
        self.enabled = enabled  # off: every get misses (``--rerun``); puts still count
        self.used: set[str] = set()  # file names this build asked for or added

    def _name(self, key: str) -> str:
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, key: str) -> bytes | None:
        name = self._name(key)
        self.used.add(name)
        return read_cache_file(self.folder / name) if self.enabled else None

    def put(self, key: str, data: bytes) -> None:
        name = self._name(key)
        self.used.add(name)
        write_cache_file(self.folder / name, data)

    def sweep(self) -> None:
        """Remove the entries (and any temporary file) this build did not use."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        for name in names:
            if name not in self.used:
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / name)


# --------------------------------------------------------------------------- front matter

FRONT_MATTER_FILE = "frontmatter.pickle"


class FrontMatterCache:
    """Parsed YAML headers, keyed by their text: YAML is most of the cost of reading a post
    that did not change. Values are kept pickled, so every post gets its own copy."""

    def __init__(self, root: Path, version: str) -> None:

        self.path = cache_dir(root) / FRONT_MATTER_FILE
        self.version = version  # of sitegen: how it reads a header may change
        self.used: set[str] = set()
        self.added = False
        stored = _load_pickle(self.path)
        valid = isinstance(stored, dict) and stored.get("version") == version
        self.blobs: dict[str, bytes] = stored["blobs"] if valid else {}

    def get(self, header: str) -> Any:
        blob = self.blobs.get(header)
        if blob is None:
            return None
        import pickle

        self.used.add(header)
        return pickle.loads(blob)

    def put(self, header: str, meta: Any) -> None:
        import pickle

        try:
            self.blobs[header] = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return
        self.used.add(header)
        self.added = True

    def save(self) -> None:
        """Keep the headers of this build's posts, when any was new or one went away."""
        if not self.added and len(self.used) == len(self.blobs):
            return
        keep = {h: b for h, b in self.blobs.items() if h in self.used}
        _save_pickle(self.path, {"version": self.version, "blobs": keep})


# --------------------------------------------------------------------------- read posts

READ_FILE = "read.pickle"
# How posts are stored in it: raised when that changes within one version of sitegen.
READ_FORMAT = 2  # 2: the text fields as Post keeps them since they may be deferred


class ReadCache:
    """Posts as ``read_post`` returned them, keyed by their file's stat: a rebuild reads,
    decodes and parses only the files that changed. ``salt`` covers what reading depends
    on besides the file (the configuration, the time zone, sitegen's version).

    The stat signature (modification and change times in ns, size, inode) is what the
    live preview trusts as well; an edit that keeps all four is not seen."""

    def __init__(self, root: Path, salt: str) -> None:
        self.path = cache_dir(root) / READ_FILE
        self.salt = f"{READ_FORMAT}\0{salt}"
        self.used: dict[str, tuple[tuple, bytes]] = {}
        stored = _load_pickle(self.path)
        valid = isinstance(stored, dict) and stored.get("salt") == self.salt
        self.entries: dict[str, tuple[tuple, bytes]] = stored["entries"] if valid else {}

    def wrap(self, read: Any, load_text: Any) -> Any:
        """``read`` (``read_post``'s signature), answering from the cache when it can.
        The text itself is not stored: ``load_text(path, rel)`` reads it again when
        something asks for it. Caches of rendered bodies go by the digest of the file's
        bytes, kept with the post here, so a rebuild opens only the files that changed."""
        import pickle

        from sitegen.model import Deferred

        def cached_read(source: Any, rel: str, config: Any, tz: Any) -> Any:
            st = os.stat(source.path)
            signature = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
            known = self.entries.get(rel)
            if known is not None and known[0] == signature:
                self.used[rel] = known
                post, body_start = pickle.loads(known[1])
                post.path = path = source.path
                post.source = Deferred(lambda: load_text(path, rel))
                post.body = Deferred(lambda: post.source[body_start:])
                return post
            post = read(source, rel, config, tz)
            body_start = len(post.source) - len(post.body)
            if post.source[body_start:] == post.body:  # as read_post makes it
                # neither the text (read again on a hit) nor the path (the site may move;
                # a pickled Path is also slow to load)
                text, body, path = post.source, post.body, post.path
                post.source = post.body = ""
                post.path = None
                try:
                    self.used[rel] = (signature, pickle.dumps((post, body_start), protocol=5))
                finally:
                    post.source, post.body, post.path = text, body, path
            return post

        return cached_read

    def forget(self, rels: set[str]) -> None:
        """Read these sources anew whatever their stat says (``sitegen serve``'s watcher
        saw them change); ``folder/`` stands for everything in it."""
        for rel in rels:
            folder = rel.endswith("/")
            for known in [k for k in self.entries if k == rel or (folder and k.startswith(rel))]:
                del self.entries[known]

    def save(self) -> None:
        """Keep this build's posts, when any was read anew or went away."""
        if self.used.keys() == self.entries.keys() and all(
            self.used[k] is self.entries[k] for k in self.used
        ):
            return
        _save_pickle(self.path, {"salt": self.salt, "entries": self.used})


# --------------------------------------------------------------------------- page records

RECORDS_FORMAT = 1


def _records_path(root: Path, out: Path) -> Path:
    name = hashlib.sha256(str(out).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return cache_dir(root) / f"outputs-{name}.pickle"


def load_page_records(root: Path, out: Path) -> dict[str, Any]:
    """What the last build into ``out`` recorded of each file (see ``sitegen.deps``);
    empty when missing or damaged (every page is then rendered again)."""
    stored = _load_pickle(_records_path(root, out))
    if isinstance(stored, dict) and stored.get("format") == RECORDS_FORMAT:
        records = stored.get("records")
        if isinstance(records, dict):
            return records
    return {}


def save_page_records(root: Path, out: Path, records: dict[str, Any]) -> None:
    _save_pickle(_records_path(root, out), {"format": RECORDS_FORMAT, "records": records})


# --------------------------------------------------------------------------- rendered bodies

RENDER_DIR = "render"  # shards of pickled entries, written by the builder and its workers
# Shards are merged into one when there are this many, or when most stored bytes are stale.
MAX_SHARDS = 16


class RenderCache:
    """Rendered bodies of posts (and parsed front matter), keyed by content, between builds.

    A rebuild after one post changed parses and renders only that post; the others come
    from here. Keys cover what plugins declare their work depends on (``sitegen_body_key``);
    a post a plugin marks ``post.data["cacheable"] = False`` is never stored.

    Entries are kept pickled and unpickled only when asked for, so loading the cache costs
    little more than reading it. Each build (and each forked render worker) adds its new
    entries as a shard of its own instead of rewriting the whole cache; shards are merged
    when they pile up.
    """

    def __init__(self, root: Path, salt: str) -> None:
        self.folder = cache_dir(root) / RENDER_DIR
        self.salt = salt
        self.blobs: dict[str, bytes] = {}
        self.used: set[str] = set()  # keys this build asked for or added
        self.new: dict[str, bytes] = {}  # added by this process, not yet saved
        self.shards: list[Path] = []
        self.dead: list[Path] = []  # shards of other settings: deleted when this build saves
        try:
            self.shards = sorted(self.folder.glob("*.pickle"))
        except OSError:
            self.shards = []
        for shard in self.shards:
            stored = _load_pickle(shard)
            if stored is None:
                continue  # a damaged shard is only a slower build
            if isinstance(stored, dict) and stored.get("salt") == salt:
                self.blobs.update(stored["blobs"])
            else:
                self.dead.append(shard)

    def key(self, rel: str, source_digest: str) -> str:
        """The key of a body: the settings, the file's place and its text's digest."""
        return hashlib.sha256(
            f"{self.salt}\0{rel}\0{source_digest}".encode("utf-8", "surrogatepass")
        ).hexdigest()

    def __contains__(self, key: str) -> bool:
        return key in self.blobs or key in self.new

    def get(self, key: str) -> Any:
        blob = self.new.get(key) or self.blobs.get(key)
        if blob is None:
            return None
        import pickle

        try:
            entry = pickle.loads(blob)
        except Exception:
            return None
        self.used.add(key)
        return entry

    def get_stored(self, key: str) -> Any:
        """Like ``get``, but only entries that earlier builds stored."""
        return self.get(key) if key in self.blobs else None

    def put(self, key: str, entry: Any) -> None:
        import pickle

        try:
            blob = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return
        self.new[key] = blob
        self.used.add(key)

    def save_new(self) -> None:
        """Write this process's new entries as a shard of their own."""
        if not self.new:
            return
        self._write_shard(self.new, f"{time.time_ns()}-{os.getpid()}.pickle")
        self.blobs.update(self.new)
        self.new = {}

    def save(self) -> None:
        """End of a build: save new entries, and merge shards when worth it."""
        stale = sum(len(b) for k, b in self.blobs.items() if k not in self.used)
        live = sum(len(b) for k, b in self.blobs.items() if k in self.used)
        for shard in self.dead:
            with contextlib.suppress(OSError):
                shard.unlink()
        shards = sorted(self.folder.glob("*.pickle")) if self.folder.is_dir() else []
        if len(shards) + bool(self.new) <= MAX_SHARDS and stale <= live:
            self.save_new()
            return
        keep = {k: b for k, b in self.blobs.items() if k in self.used}
        keep.update(self.new)
        self.new = {}
        # only the shards this process loaded: render workers of this build have added
        # shards of their own, whose entries this process never saw
        self._write_shard(keep, f"{time.time_ns()}-{os.getpid()}.pickle", replace=self.shards)

    def _write_shard(self, blobs: dict[str, bytes], name: str, replace: list[Path] = ()) -> None:
        if not _save_pickle(self.folder / name, {"salt": self.salt, "blobs": blobs}):
            return  # a read-only site still builds; it just renders everything next time
        for old in replace:
            if old.name != name:
                with contextlib.suppress(OSError):
                    old.unlink()


class CodeCache:
    """Highlighted code blocks of earlier builds, in the render cache: a post edited in its
    prose keeps its code, and a rebuild then needs neither Pygments nor its lexers.
    Only earlier builds' entries are looked up: within one build every block is
    highlighted where it stands, in whichever process renders its post."""

    def __init__(self, cache: RenderCache) -> None:
        self.cache = cache

    def get(self, key: str) -> str | None:
        html = self.cache.get_stored("code:" + key)
        return html if isinstance(html, str) else None

    def put(self, key: str, html: str) -> None:
        self.cache.put("code:" + key, html)
