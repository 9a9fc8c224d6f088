"""What builds keep for the next one, in ``<site>/.sitegen-cache/``: one store of
entries (``CacheStore``, in :mod:`sitegen.store`), and the engine's caches on top of it
(rendered bodies, highlighted code, parsed front matter, read posts, what each page read).

The few files kept beside the store (the manifest, compiled templates) start with a
format line and the length and checksum of the rest, so a damaged or cut file is a miss,
never a crash or a wrong page. Only the standard library is imported here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import struct
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitegen.store import CacheStore

CACHE_DIR = ".sitegen-cache"


def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


# --------------------------------------------------------------------------- cache files


# Every cache file starts with this line, the length and the CRC-32 of the rest: a file
# cut short or damaged (a full disk, a crash, a flipped bit) is a miss, never a wrong page
# or a crash. The one format version of every cache: raised when the layout of what
# sitegen stores changes; older files are then misses (and swept by the next build).
CACHE_FORMAT = b"sitegen cache 3\n"
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


def write_cache_file(path: Path, data: bytes, sealed: bool = True) -> bool:
    """Write a cache file whole: a temporary file (one per process, as render workers
    may write at the same time) renamed over it. False when the site cannot be written:
    a read-only site still builds, only without caches; nothing is left behind."""
    # one temporary name per process and thread: render workers and plugins' threads may
    # write the same entry at the same time
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        try:
            fh = open(tmp, "wb")
        except FileNotFoundError:  # the first entry of a fresh cache
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(tmp, "wb")
        with fh:
            fh.write(seal(data) if sealed else data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True



# what versions of sitegen before the one store kept in the cache folder
_OLD_FILES = ("frontmatter.pickle", "read.pickle")
_OLD_PATTERNS = ("outputs-", "render")


def _remove_old_caches(folder: Path) -> None:
    import shutil

    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name in _OLD_FILES or (name.startswith("outputs-") and name.endswith(".pickle")):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)
        elif name == "render":
            shutil.rmtree(folder / name, ignore_errors=True)


# --------------------------------------------------------------------------- front matter

HEADERS_FORMAT = 2  # 2: one entry for all headers


class FrontMatterCache:
    """Parsed YAML headers, keyed by their text and how sitegen reads a header (not the
    site's settings): YAML is most of the cost of reading a post anew. All headers are one
    entry of the store, loaded when a header is first asked for and written by ``save``
    when it changed: headers are always read together, and a file per header made a
    clean build write a thousand small files. ``touched`` lists the digests of the headers
    asked for or added, so the read-post cache can keep them for as long as it keeps
    the post."""

    def __init__(self, store: CacheStore, version: str) -> None:
        self.store = store
        self.version = version
        self.key = f"front matter {HEADERS_FORMAT} {version}"
        self.touched: list[str] = []
        self._kept: set[str] = set()  # digests of headers a read-post hit still needs
        self._known: dict[str, bytes] | None = None  # the stored entry, once loaded
        self._added: dict[str, bytes] = {}

    @staticmethod
    def digest(header: str) -> str:
        return hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()

    def _stored(self) -> dict[str, bytes]:
        if self._known is None:
            stored = self.store.get_value(self.key)
            self._known = stored if isinstance(stored, dict) else {}
        return self._known

    def get(self, header: str) -> Any:
        """A fresh copy of the header's values, or None."""
        digest = self.digest(header)
        self.touched.append(digest)
        data = self._added.get(digest) or self._stored().get(digest)
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # written by another version of a class: a miss
            return None

    def put(self, header: str, meta: Any) -> None:
        digest = self.digest(header)
        self.touched.append(digest)
        try:
            self._added[digest] = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            pass  # not picklable: parsed again next time

    def keep(self, digests: Any) -> None:
        """Keep these headers' values through ``save`` without reading them."""
        self._kept.update(digests)

    def added(self, digests: Any) -> dict[str, bytes]:
        """The values of these headers parsed anew by this build (as ``adopt`` takes)."""
        return {d: self._added[d] for d in digests if d in self._added}

    def adopt(self, added: dict[str, bytes]) -> None:
        """Headers another process of this build parsed (``added`` there)."""
        self._added.update(added)

    def save(self, complete: bool = True) -> None:
        """Write the headers when some were parsed anew: with those this build used
        (``complete``), or with every one stored (a build of some posts). Otherwise the
        entry stays as it is, headers of posts gone included, until the next write."""
        if not self._added:
            self.store.keep(self.store.name(self.key))
            return
        merged = {**self._stored(), **self._added}
        if complete:
            wanted = self._kept.union(self.touched)
            merged = {d: data for d, data in merged.items() if d in wanted}
        self.store.put_value(self.key, merged)


# --------------------------------------------------------------------------- read posts

# How posts are stored: raised when that changes within one version of sitegen.
READ_FORMAT = 4  # 4: with the digests of their headers


class ReadCache:
    """Posts as ``read_post`` returned them, keyed by their file's stat: a rebuild reads,
    decodes and parses only the files that changed. ``salt`` covers what reading depends
    on besides the file (the configuration, the time zone, sitegen's version).

    The stat signature (modification and change times in ns, size, inode) is what the
    live preview trusts as well; an edit that keeps all four is not seen."""

    def __init__(self, store: CacheStore, salt: str, headers: FrontMatterCache) -> None:
        self.store = store
        self.key = f"read posts {READ_FORMAT}\0{salt}"
        self.headers = headers
        self.used: dict[str, tuple] = {}
        self.texts: dict[str, str] = {}  # of sources another process read (``adopt``)
        stored = store.get_value(self.key)
        self.entries: dict[str, tuple] = stored if isinstance(stored, dict) else {}

    def wrap(self, read: Any, load_text: Any) -> Any:
        """``read`` (``read_post``'s signature), answering from the cache when it can.
        The text itself is not stored: ``load_text(path, rel)`` reads it again when
        something asks for it. Caches of rendered bodies go by the digest of the file's
        bytes, kept with the post here, so a rebuild opens only the files that changed."""
        from sitegen.model import Deferred

        def cached_read(source: Any, rel: str, config: Any, tz: Any) -> Any:
            st = os.stat(source.path)
            signature = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
            known = self.entries.get(rel)
            if known is not None and known[0] == signature:
                self.used[rel] = known
                self.headers.keep(known[2])
                post, body_start = pickle.loads(known[1])
                post.path = path = source.path
                text = self.texts.pop(rel, None)
                if text is not None:  # read by another process of this build
                    post.source, post.body = text, text[body_start:]
                    return post
                post.source = Deferred(lambda: load_text(path, rel))
                post.body = Deferred(lambda: post.source[body_start:])
                return post
            mark = len(self.headers.touched)
            post = read(source, rel, config, tz)
            headers = tuple(self.headers.touched[mark:])
            body_start = len(post.source) - len(post.body)
            if post.source[body_start:] == post.body:  # as read_post makes it
                # neither the text (read again on a hit) nor the path (the site may move;
                # a pickled Path is also slow to load)
                text, body, path = post.source, post.body, post.path
                post.source = post.body = ""
                post.path = None
                try:
                    blob = pickle.dumps((post, body_start), protocol=5)
                    self.used[rel] = (signature, blob, headers)
                finally:
                    post.source, post.body, post.path = text, body, path
            return post

        return cached_read

    def entries_of(self, rels: list[str]) -> tuple[dict[str, tuple], dict[str, bytes]]:
        """What this build read of these sources, as ``adopt`` takes it in another
        process of the build."""
        entries = {rel: self.used[rel] for rel in rels if rel in self.used}
        digests = {d for entry in entries.values() for d in entry[2]}
        return entries, self.headers.added(digests)

    def adopt(self, read: tuple[dict[str, tuple], dict[str, bytes]],
              texts: dict[str, str]) -> None:
        """Sources another process of this build read (``entries_of`` there) and their
        texts: reading them here is then a hit that opens no file, and the next build
        finds them stored."""
        entries, headers = read
        self.entries.update(entries)
        self.headers.adopt(headers)
        self.texts.update(texts)

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
        self.store.put_value(self.key, self.used)


# --------------------------------------------------------------------------- page records

RECORDS_FORMAT = 3  # 2: in the store; 3: with the parts forked copies pickled
# the records' entries of every output folder built into, kept while the folder exists
# (a site built into _site/ and public/ in turn renders neither from nothing each time)
_RECORDS_INDEX = f"page records {RECORDS_FORMAT} of each output"


def _records_key(out: Path) -> str:
    return f"page records {RECORDS_FORMAT}\0{out}"


def load_page_records(store: CacheStore, out: Path) -> dict[str, Any]:
    """What the last build into ``out`` recorded of each file (see ``sitegen.deps``);
    empty when missing or damaged (every page is then rendered again)."""
    index = store.get_value(_RECORDS_INDEX)
    for folder, name in (index.items() if isinstance(index, dict) else ()):
        if os.path.isdir(folder):
            store.keep(name)
    entry = store.get_value(_records_key(out))
    if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], dict)):
        return {}
    records = entry[0]  # a fresh copy, as every value the store gives
    try:
        for part in entry[1]:
            more = pickle.loads(part)
            if not isinstance(more, dict):
                return {}
            records.update(more)
    except Exception:  # written by another version of a class: a miss
        return {}
    return records


def save_page_records(
    store: CacheStore, out: Path, records: dict[str, Any], parts: Iterable[bytes] = ()
) -> None:
    """Keep ``records``, and the records in ``parts``: dicts of records pickled by the
    forked copies that rendered their pages (kept as they came, not loaded here)."""
    key = _records_key(out)
    store.put_value(key, (records, list(parts)))
    index = store.get_value(_RECORDS_INDEX)
    index = {f: n for f, n in index.items() if os.path.isdir(f)} if isinstance(index, dict) else {}
    if index.get(str(out)) != store.name(key):
        index[str(out)] = store.name(key)
        store.put_value(_RECORDS_INDEX, index)


# --------------------------------------------------------------------------- rendered bodies


class RenderCache:
    """Rendered bodies of posts, keyed by content, between builds: a rebuild after one
    post changed parses and renders only that post; the others come from here. Keys cover
    what plugins declare their work depends on (``sitegen_body_key``); a post a plugin
    marks ``post.data["cacheable"] = False`` is never stored. Entries are the store's."""

    def __init__(self, store: CacheStore, salt: str) -> None:
        self.store = store
        self.salt = salt

    def key(self, rel: str, source_digest: str) -> str:
        """The key of a body: the settings, the file's place and its text's digest."""
        return hashlib.sha256(
            f"body\0{self.salt}\0{rel}\0{source_digest}".encode("utf-8", "surrogatepass")
        ).hexdigest()

    def get(self, key: str) -> Any:
        """A fresh copy of the entry, or None."""
        return self.store.get_value(key)

    def put(self, key: str, entry: Any) -> None:
        self.store.put_value(key, entry)


class CodeCache:
    """Highlighted code blocks, in the store: a post edited in its prose keeps its code,
    and a rebuild then needs neither Pygments nor its lexers. Keyed like the bodies, by
    the settings (``salt``) too."""

    def __init__(self, store: CacheStore, salt: str) -> None:
        self.store = store
        self.prefix = f"code\0{salt}\0"

    def get(self, key: str) -> str | None:
        data = self.store.get(self.prefix + key)
        return data.decode("utf-8", "surrogatepass") if data is not None else None

    def put(self, key: str, html: str) -> None:
        self.store.put(self.prefix + key, html.encode("utf-8", "surrogatepass"))
