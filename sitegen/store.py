"""The one cache store of a site (``site.cache``): bytes under string keys, kept in pack
files in ``<site>/.sitegen-cache/store/``.

What a process puts is held until ``flush`` (or until it holds a few megabytes), then
written as one pack file: a clean build of 1,000 posts writes a handful of files rather
than a thousand. Creating files is where a build's system time goes (on ext4 without a
journal, each new file's inode is looked for past every file deleted in the last minutes;
that grows with the square of the files a build makes), and reading one pack is cheaper
than opening a thousand files.

A pack starts with a format line, then the length and CRC-32 of its index, the index
(each entry's name, offset, length and CRC-32) and the entries' bytes. A damaged index
makes the whole pack a miss, a damaged entry that entry: never a wrong page, never a
crash. Packs are numbered; when two hold an entry of the same name, the higher number's
is the one read (the engine's few records of the last build are stored under a name and
replaced; every other key is a digest of what its bytes were made from). Only the
standard library is imported here.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import pickle
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STORE_DIR = "store"
PACK_FORMAT = b"sitegen pack 1\n"
_HEAD = struct.Struct("<QI")  # length and CRC-32 of the index
_ENTRY = struct.Struct("<32sQQI")  # name (a SHA-256), offset after the index, length, CRC-32
_SUFFIX = ".pack"
# A process writes what it holds once it holds this much: the memory of a clean build
# stays bounded, and its packs stay few.
FLUSH_BYTES = 16 << 20
# More packs than this after a sweep: the smaller ones are written again as one.
MAX_PACKS = 24


@dataclass
class Pack:
    """One pack file as its index describes it."""

    file: str
    number: int
    entries: dict[str, tuple[int, int, int]]  # name -> (offset, length, CRC-32)
    start: int  # where the entries' bytes begin
    size: int = field(default=0)  # of the entries' bytes


def pack_number(file: str) -> int | None:
    """The number in a pack's file name (``<number>-<pid>-<thread>.pack``); None for a
    file that is not a pack."""
    if not file.endswith(_SUFFIX):
        return None
    head = file.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def pack_index(entries: dict[str, bytes]) -> dict[str, tuple[int, int, int]]:
    """Each entry's (offset, length, CRC-32) in a pack of ``entries``, in their order."""
    index, offset = {}, 0
    for name, data in entries.items():
        index[name] = (offset, len(data), zlib.crc32(data))
        offset += len(data)
    return index


def encode_pack(entries: dict[str, bytes], index: dict[str, tuple[int, int, int]] | None = None
                ) -> bytes:
    """The bytes of a pack of ``entries`` (whose ``pack_index`` may be given)."""
    index = pack_index(entries) if index is None else index
    rows = b"".join(_ENTRY.pack(bytes.fromhex(name), *index[name]) for name in entries)
    return b"".join([PACK_FORMAT, _HEAD.pack(len(rows), zlib.crc32(rows)), rows,
                     *entries.values()])


def read_index(path: Path, file: str) -> Pack | None:
    """The index of a pack; None when the file is not a whole pack of this format."""
    number = pack_number(file)
    if number is None:
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(PACK_FORMAT) + _HEAD.size)
            if len(head) < len(PACK_FORMAT) + _HEAD.size or not head.startswith(PACK_FORMAT):
                return None
            length, crc = _HEAD.unpack_from(head, len(PACK_FORMAT))
            if length % _ENTRY.size:
                return None
            index = fh.read(length)
    except OSError:
        return None
    if len(index) != length or zlib.crc32(index) != crc:
        return None
    entries = {}
    for raw, offset, size, entry_crc in _ENTRY.iter_unpack(index):
        entries[raw.hex()] = (offset, size, entry_crc)
    total = sum(size for _, size, _ in entries.values())
    return Pack(file, number, entries, len(head) + length, total)


class CacheStore:
    """The one cache of a site (``site.cache``, for plugins too). A key is a digest of
    everything its bytes were made from (content-addressed: an entry is never out of date,
    only unused), or, for the engine's few records of the last build, a name together with
    their format and settings.

    Damaged entries are misses. A complete build sweeps the entries it did not ask for,
    keep or add, so the store holds one site's worth. Copies of the build forked to render
    hold their own entries, write them with ``flush`` and hand back the names they used
    (``used``)."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        from sitegen.cache import cache_dir

        self.folder = cache_dir(root) / STORE_DIR
        self.enabled = enabled  # off: every get misses (``--rerun``); puts still count
        self.used: set[str] = set()  # names this build asked for, kept or added
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._held: dict[str, bytes] = {}  # this process's entries, not yet written
        self._held_bytes = 0
        self._parents: dict[str, bytes] = {}  # a forked copy: its parent's, read only
        self._packs: dict[str, Pack] | None = None  # by file name, once read
        self._where: dict[str, Pack] = {}  # entry name -> the pack holding its newest copy
        self._maps: dict[str, mmap.mmap | None] = {}

    @staticmethod
    def name(key: str) -> str:
        """The name an entry is stored under (what ``keep`` takes)."""
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> bytes | None:
        name = self.name(key)
        self.used.add(name)
        if not self.enabled:
            return None
        with self._lock:
            self._own()
            data = self._held.get(name)
            if data is None:
                data = self._parents.get(name)
            if data is not None:
                return data
            return self._read(name)

    def stored(self) -> list[bytes]:
        """The bytes of every entry written (for tools that look into a site's cache)."""
        with self._lock:
            self._own()
            self._scan()
            found = (self._read(name) for name in self._where)
            return [data for data in found if data is not None]

    def _read(self, name: str) -> bytes | None:
        pack = self._index().get(name)
        if pack is None:
            return None
        offset, length, crc = pack.entries[name]
        view = self._map(pack)
        if view is None:
            return None
        begin = pack.start + offset
        data = view[begin : begin + length]
        return data if len(data) == length and zlib.crc32(data) == crc else None

    def _map(self, pack: Pack) -> mmap.mmap | None:
        if pack.file not in self._maps:
            try:
                with open(self.folder / pack.file, "rb") as fh:
                    self._maps[pack.file] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # gone (another build swept it) or empty
                self._maps[pack.file] = None
        return self._maps[pack.file]

    def _index(self) -> dict[str, Pack]:
        if self._packs is None:
            self._scan()
        return self._where

    def _scan(self) -> None:
        """Read the index of every pack not read yet (forked copies and other builds
        write packs of their own), and which pack holds the newest copy of each entry."""
        known = self._packs or {}
        try:
            files = os.listdir(self.folder)
        except OSError:
            files = []
        packs = {}
        for file in files:
            pack = known.get(file) or read_index(self.folder / file, file)
            if pack is not None:
                packs[file] = pack
        self._packs = packs
        self._where = {}
        for pack in sorted(packs.values(), key=lambda p: (p.number, p.file)):
            for name in pack.entries:
                self._where[name] = pack

    # ------------------------------------------------------------------ writing

    def put(self, key: str, data: bytes) -> None:
        name = self.name(key)
        self.used.add(name)
        with self._lock:
            self._own()
            self._held_bytes += len(data) - len(self._held.get(name, b""))
            self._held[name] = bytes(data)
            if self._held_bytes >= FLUSH_BYTES:
                self._write_held()

    def keep(self, name: str) -> None:
        """Keep the entry of this name through the sweep without reading it."""
        self.used.add(name)

    def get_value(self, key: str) -> Any:
        """An entry stored with ``put_value``: a fresh copy each time; None when missing
        or damaged."""
        data = self.get(key)
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # written by another version of a class: a miss
            return None

    def put_value(self, key: str, value: Any) -> bool:
        """Store a picklable value; False (nothing stored) when it is not picklable."""
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return False
        self.put(key, data)
        return True

    def flush(self) -> bool:
        """Write the entries this process holds, as one pack; False when some could not be
        written (a read-only site)."""
        with self._lock:
            self._own()
            held = bool(self._held)
            return self._write_held() or not held

    def holds(self, key: str) -> bool:
        """Whether an entry is written under ``key`` (held entries are not yet)."""
        with self._lock:
            return self.name(key) in self._index()

    def pick_up(self) -> None:
        """Read the indexes of packs written since (by forked copies): their entries can
        be read here from now on."""
        with self._lock:
            self._own()
            self._scan()

    def _own(self) -> None:
        # In a forked copy the parent's held entries stay readable, but are the
        # parent's to write.
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._parents = {**self._parents, **self._held}
            self._held, self._held_bytes = {}, 0

    def _write_held(self) -> bool:
        """Whether a pack was written."""
        if not self._held:
            return False
        held, self._held, self._held_bytes = self._held, {}, 0
        self._scan()
        number = 1 + max((p.number for p in self._packs.values()), default=0)
        file = f"{number:012d}-{os.getpid()}-{threading.get_ident()}{_SUFFIX}"
        from sitegen.cache import write_cache_file

        # a read-only site: not stored, still built
        index = pack_index(held)
        if not write_cache_file(self.folder / file, encode_pack(held, index), sealed=False):
            return False
        # what read_index would find in the file just written whole
        start = len(PACK_FORMAT) + _HEAD.size + _ENTRY.size * len(index)
        pack = Pack(file, number, index, start, sum(size for _, size, _ in index.values()))
        self._packs[file] = pack
        for name in pack.entries:
            self._where[name] = pack
        return True

    # ------------------------------------------------------------------ sweeping

    def sweep(self) -> None:
        """Remove the entries this build did not use: packs holding none of them go,
        packs mostly unused (or the smaller ones, when packs are many) are written again
        as one with what is used of them; other files (a killed build's temporaries,
        older versions' entries) go too."""
        from sitegen.cache import _remove_old_caches

        with self._lock:
            self._own()
            self._scan()
            plan = plan_sweep(list(self._packs.values()), self._where, self.used,
                              set(self._held))
            for names in plan.carried.values():
                for name in names:
                    data = self._read(name)
                    if data is not None:
                        self._held[name] = data
            held = set(self._held)
            remove = plan.removed | set(plan.carried)
            if not self._write_held() and held:
                # nothing written (a read-only site): no older copy of what was held may
                # be read in its place
                remove |= {p.file for p in self._packs.values() if held & p.entries.keys()}
            ours = set(self._packs)
            for view in self._maps.values():
                if view is not None:
                    view.close()
            self._maps.clear()
            try:
                files = os.listdir(self.folder)
            except OSError:
                files = []
            for file in files:
                if file in remove or file not in ours:
                    with contextlib.suppress(OSError):
                        os.unlink(self.folder / file)
            self._scan()
        _remove_old_caches(self.folder.parent)


@dataclass
class SweepPlan:
    removed: set[str]  # packs that go
    carried: dict[str, list[str]]  # packs written again: the entries carried into the new one


def plan_sweep(packs: list[Pack], where: dict[str, Pack], used: set[str],
               held: set[str]) -> SweepPlan:
    """What a sweep does with each pack. An entry is live when this build used it and its
    pack holds its newest copy (an entry held anew is newer than any). A pack with no live
    entry goes; one whose live entries are less than half its bytes is written again,
    as are the smaller ones beyond ``MAX_PACKS``. When the newest copy of an entry goes,
    so do its older copies (their packs are written again without them): an older copy
    of an entry stored under a name must never be read in its place."""
    live = {
        p.file: [n for n in p.entries if n in used and where.get(n) is p and n not in held]
        for p in packs
    }
    kept = sorted((p for p in packs if live[p.file]), key=lambda p: p.size, reverse=True)
    removed = {p.file for p in packs if not live[p.file]}
    again = {p.file for p in kept if 2 * sum(p.entries[n][1] for n in live[p.file]) < p.size}
    if len(kept) > MAX_PACKS:
        again |= {p.file for p in kept[MAX_PACKS // 2 :]}
    holders: dict[str, list[Pack]] = {}
    for pack in packs:
        for name in pack.entries:
            holders.setdefault(name, []).append(pack)
    copies = {n: h for n, h in holders.items() if len(h) > 1}
    changed = bool(copies)
    while changed:
        changed = False
        for pack in packs:
            if pack.file not in removed and pack.file not in again:
                continue
            for name in pack.entries.keys() & copies.keys():
                if where.get(name) is not pack or name in live[pack.file]:
                    continue  # not its newest copy, or carried into the new pack
                for other in copies[name]:
                    if other.file not in removed and other.file not in again:
                        (again if live[other.file] else removed).add(other.file)
                        changed = True
    return SweepPlan(removed, {file: live[file] for file in again})
