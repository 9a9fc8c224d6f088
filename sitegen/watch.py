"""Watching a site's inputs for ``sitegen serve``: watchdog events in, debounced batches out.

Editors rarely write a file once: many write a temporary file and rename it over the
original, some touch a backup first. The watcher therefore collects paths until the
file system has been quiet for a short moment and hands over one batch per burst, so a
save gives one rebuild.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

# Quiet time that ends a burst. Editors' temp-write-and-rename sequences take well under
# this; it is also the bulk of save-to-visible latency, so it is kept small.
QUIET_SECONDS = 0.02
# A burst never delays a rebuild for longer than this (e.g. a `git checkout` of many files).
MAX_WAIT_SECONDS = 0.5

# Names editors and tools write next to real files; never content.
_JUNK_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload", ".pyc")
_JUNK_DIRS = {".git", ".hg", ".svn", "__pycache__", ".sitegen-cache", "node_modules", ".idea"}


def is_junk(path: Path) -> bool:
    """Editor backups, swap files, VCS and cache folders: changes there are never news."""
    name = path.name
    if name.startswith((".#", "#")) or name.endswith(_JUNK_SUFFIXES) or name == "4913":
        return True  # 4913: the probe file vim writes to test a folder
    return any(part in _JUNK_DIRS for part in path.parts)


def relevant(root: Path, out: Path, path: Path) -> bool:
    """Whether a changed path can affect the site: inside the root, outside the output
    folder and any hidden folder, and not an editor's scratch file."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    try:
        path.relative_to(out)
        return False  # our own writes must not trigger rebuilds
    except ValueError:
        pass
    if any(part.startswith(".") for part in rel.parts):
        return False  # hidden files and folders are never content (nor are editors' temps)
    if rel.parts and rel.parts[0].startswith(("_site", ".")):
        return False
    return not is_junk(rel)


@dataclass
class Batcher:
    """Collects changed paths and tells when a burst is over (thread-safe)."""

    quiet: float = QUIET_SECONDS
    max_wait: float = MAX_WAIT_SECONDS
    _paths: set[Path] = field(default_factory=set)
    _first: float = 0.0
    _last: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)

    def add(self, path: Path) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._paths:
                self._first = now
            self._paths.add(path)
            self._last = now
        self._wake.set()

    def has_pending(self) -> bool:
        with self._lock:
            return bool(self._paths)

    def wait_batch(self, stop: threading.Event) -> set[Path]:
        """Block until a burst has ended (or ``stop`` is set); return its paths."""
        while not stop.is_set():
            self._wake.wait(0.2)
            with self._lock:
                if not self._paths:
                    self._wake.clear()
                    continue
                now = time.monotonic()
                due = min(self._last + self.quiet, self._first + self.max_wait)
                if now >= due:
                    batch, self._paths = self._paths, set()
                    self._wake.clear()
                    return batch
            time.sleep(max(0.0, due - now))
        return set()


def watched_tree(root: Path, out: Path, folder: Path) -> bool:
    """Whether a folder directly in the site root is watched, with everything below: any
    that may hold inputs; not the output, hidden folders (``.git``, ``.sitegen-cache``,
    which holds a whole previous output) or tool folders. A large site's output alone
    would take a thousand inotify watches. (An output folder deeper inside a watched
    folder is watched, and its events are dropped by ``relevant``.)"""
    name = folder.name
    if name.startswith(("_site", ".")) or is_junk(Path(name)) or not folder.is_dir():
        return False
    return folder.absolute() != out.absolute()


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, out: Path, batcher: Batcher, observer: Observer) -> None:
        self.root, self.out, self.batcher, self.observer = root, out, batcher, observer
        self.watches: dict[str, Any] = {}  # folder → its watch

    def watch(self, folder: Path) -> None:
        """Watch ``folder`` and everything below, anew: watchdog hands back the watch of
        a folder that was removed and made again, which sees nothing, unless it goes."""
        old = self.watches.pop(str(folder), None)
        if old is not None:
            try:
                self.observer.unschedule(old)
            except (KeyError, OSError):
                pass
        self.watches[str(folder)] = self.observer.schedule(self, str(folder), recursive=True)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads are not changes
        if event.is_directory and event.event_type == "modified":
            return  # a folder's listing changed: its files report for themselves
        # a rename reports both ends: the temp file vanishing and the real file appearing
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            if event.is_directory and event.event_type in ("created", "moved"):
                self._new_folder(path)
            if relevant(self.root, self.out, path):
                self.batcher.add(path)

    def _new_folder(self, path: Path) -> None:
        """A folder made (or moved) into the root after watching began: watch it too, and
        count what it already holds, which may have arrived before the watch did."""
        if path.parent != self.root or not watched_tree(self.root, self.out, path):
            return
        try:
            self.watch(path)
        except OSError:
            return  # gone again already
        for dirpath, _, filenames in os.walk(path):
            for name in filenames:
                found = Path(dirpath, name)
                if relevant(self.root, self.out, found):
                    self.batcher.add(found)


@dataclass
class Watcher:
    """A running watch: a watchdog observer plus the thread that hands batches over."""

    observer: Observer
    thread: threading.Thread
    stop_event: threading.Event
    batcher: Batcher

    def has_pending(self) -> bool:
        """Whether changes are waiting for the next batch (a rebuild may stop early)."""
        return self.batcher.has_pending()

    def stop(self) -> None:
        self.stop_event.set()
        self.observer.stop()
        self.observer.join(timeout=5)
        self.thread.join(timeout=5)


def start_watching(
    root: Path,
    out: Path,
    on_batch: Callable[[set[Path]], None],
    *,
    quiet: float = QUIET_SECONDS,
) -> Watcher:
    """Watch ``root`` and call ``on_batch`` (in a worker thread, one call at a time) with
    the set of changed paths of each burst. The root's own files are watched, and each
    folder in it that may hold inputs (``watched_tree``), with everything below."""
    root, out = root.absolute(), out.absolute()
    batcher = Batcher(quiet=quiet)
    stop = threading.Event()
    observer = Observer()
    handler = _Handler(root, out, batcher, observer)
    observer.schedule(handler, str(root), recursive=False)
    for child in sorted(root.iterdir()):
        if watched_tree(root, out, child):
            handler.watch(child)
    observer.daemon = True
    observer.start()

    def loop() -> None:
        while not stop.is_set():
            batch = batcher.wait_batch(stop)
            if batch and not stop.is_set():
                try:
                    on_batch(batch)
                except Exception:  # a failed rebuild must not stop the watching
                    traceback.print_exc()

    thread = threading.Thread(target=loop, name="sitegen-watch", daemon=True)
    thread.start()
    return Watcher(observer=observer, thread=thread, stop_event=stop, batcher=batcher)
