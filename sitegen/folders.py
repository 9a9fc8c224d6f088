"""The output's folders, made by a helper process while the build reads its sources.

A clean build of a dated blog makes two folders per post (``2020/01/05/``,
``2020/01/05/slug/``), and making a folder is a system call that can cost tens of
microseconds (on ext4 without a journal, more, the more files were deleted in the last
minutes). While the build reads the sources one core is idle: each post's folder is known
as soon as the post is read, so a helper process makes it then, and the writer later finds
it made. Only a clean build of many posts, where forking is possible, has a helper: the
reading copy (:mod:`sitegen.reading_copy`) when ``sitegen build`` started one, otherwise a
process forked for it.

Nothing changes but when a folder is made: the helper makes only folders inside the output
(through the same gate as every output path), and the folders it made that no page was
written into (a post whose body failed) are removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from pathlib import Path

from sitegen.forked import can_fork
from sitegen.reading_copy import ReadingCopy
from sitegen.write import MARKER, UnsafeOutputPath, confine

# Below this many posts the fork costs more than the folders.
MIN_FOLDERS = 64
# Folders sent to the helper in one write.
BATCH = 32
# Room in the pipe for a large site's folders: the build never waits for the helper.
_PIPE_BYTES = 1 << 20


class FolderMaker:
    """Takes output folders (relative to ``out``) as the build learns them."""

    def __init__(self, out: Path) -> None:
        self.out = str(out)
        self._waiting: list[str] = []  # until there are enough to fork for
        self._seen: set[str] = set()
        self._helper: tuple[int, int, int] | None = None  # pid, folder pipe, answer pipe
        self._started = False
        self._copy: ReadingCopy | None = None

    @staticmethod
    def for_build(out: Path, jobs: int, copy: ReadingCopy | None = None) -> FolderMaker:
        """A maker for a build into ``out``: one that never forks unless the build is a
        clean one (no earlier build's folders there) with parallel workers; the reading
        ``copy`` is its helper when there is one making folders in this output."""
        maker = FolderMaker(out)
        maker._started = jobs < 2 or os.path.exists(os.path.join(out, MARKER))
        maker._copy = copy
        if copy is not None and not maker._started:
            maker._helper = copy.helper(maker.out)
            maker._started = maker._helper is not None
        return maker

    def add(self, rel: str) -> None:
        """The folder of an output path (``2020/01/05/slug/index.html``)."""
        if self._copy is not None and self._copy.adopted:
            # the folders of the posts the build took from the copy, which it sent already
            self._seen.update(self._copy.sent_folders())
        folder = os.path.dirname(rel)
        if not folder or folder in self._seen:
            return
        self._seen.add(folder)
        self._waiting.append(folder)
        if self._helper is not None:
            if len(self._waiting) >= BATCH:  # one write (and one wake-up) for several
                self.flush()
            return
        if len(self._waiting) >= MIN_FOLDERS and not self._started:
            self._started = True
            self._helper = start_helper(self.out)
            if self._helper is not None:
                self._send(self._waiting)
            self._waiting = []

    def flush(self) -> None:
        """Send the helper the folders not sent yet."""
        if self._helper is not None and self._waiting:
            waiting, self._waiting = self._waiting, []
            self._send(waiting)

    def _send(self, folders: list[str]) -> None:
        try:
            send_folders(self._helper[1], folders)  # type: ignore[index]
        except OSError:  # the helper is gone: the writer makes what it did not
            self._stop()

    def finish(self, written: Iterable[str] = ()) -> None:
        """Wait for the helper, then remove the folders it made that hold none of the
        ``written`` output paths (nor a folder holding one): only empty ones go."""
        self.flush()
        made = self._stop()
        if not made:
            return
        used: set[str] = set()
        for rel in written:
            folder = os.path.dirname(rel)
            while folder and folder not in used:
                used.add(folder)
                folder = os.path.dirname(folder)
        remove_empty(self.out, set(made) - used)

    def _stop(self) -> list[str]:
        if self._helper is None:
            return []
        helper, self._helper = self._helper, None
        return stop_helper(helper)


def send_folders(fd: int, folders: list[str]) -> None:
    """Write these folders to a helper's pipe, a line each, in one write where it fits (a
    name holding a line break is left to the writer)."""
    lines = "".join(f"{f}\n" for f in folders if "\n" not in f)
    data = memoryview(lines.encode("utf-8", "surrogateescape"))
    while data:
        data = data[os.write(fd, data) :]


def remove_empty(out: str, folders: Iterable[str]) -> None:
    """Remove those of these folders inside ``out`` that are empty, deepest first ("." is
    ``out`` itself, last)."""
    for folder in sorted(folders, key=lambda f: f.count("/") if f != "." else -1, reverse=True):
        with contextlib.suppress(OSError):  # only ever an empty one
            os.rmdir(os.path.join(out, folder) if folder != "." else out)


def stop_helper(helper: tuple[int, int, int]) -> list[str]:
    """Tell a helper (pid, folder pipe, answer pipe) there are no more folders, wait for
    it and return the folders it made ("." for the output folder itself)."""
    pid, folders, answer = helper
    with contextlib.suppress(OSError):
        os.close(folders)
    with os.fdopen(answer, "rb") as pipe:
        data = pipe.read()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    return [f for f in data.decode("utf-8", "surrogateescape").split("\n") if f]


def start_helper(out: str) -> tuple[int, int, int] | None:
    """A forked helper making folders inside ``out``: (pid, folder pipe to write one
    folder a line to, pipe its answer comes through); None where it cannot fork."""
    if not can_fork():
        return None
    folders_read, folders_write = os.pipe()
    answer_read, answer_write = os.pipe()
    with contextlib.suppress(ImportError, OSError, AttributeError):  # Linux: room for all
        import fcntl

        fcntl.fcntl(folders_write, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    try:
        pid = os.fork()
    except OSError:
        for fd in (folders_read, folders_write, answer_read, answer_write):
            os.close(fd)
        return None
    if pid == 0:  # the helper: never returns into the build's code
        status = 1
        try:
            # Ctrl-C reaches the whole process group: the helper goes on until the build,
            # stopping, closes the pipe, so that the folders it made can still be removed
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(folders_write)
            os.close(answer_read)
            with os.fdopen(folders_read, "rb") as pipe:
                made = _make_folders(out, pipe)
            with os.fdopen(answer_write, "wb") as pipe:
                pipe.write("".join(f"{f}\n" for f in made).encode("utf-8", "surrogateescape"))
            status = 0
        finally:
            os._exit(status)
    os.close(folders_read)
    os.close(answer_write)
    return pid, folders_write, answer_read


def _make_folders(out: str, pipe: Iterable[bytes]) -> list[str]:
    """Make each folder read from the pipe and the ones above it; the ones made here."""
    made: list[str] = []
    known: set[str] = set()
    with contextlib.suppress(OSError):
        if not os.path.isdir(out):
            os.makedirs(out)
            made.append(".")
    for line in pipe:
        make_folder(out, line.rstrip(b"\n").decode("utf-8", "surrogateescape"), known, made)
    return made


def make_folder(out: str, rel: str, known: set[str], made: list[str]) -> None:
    """Make the folder ``rel`` inside ``out`` and those above it, unless ``known``; add
    the ones made here to ``made``."""
    if not rel:
        return
    try:
        confine(out, rel)
    except UnsafeOutputPath:
        return  # the writer refuses it, with the message
    parts = rel.split("/")
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if folder in known:
            continue
        known.add(folder)
        try:
            os.mkdir(os.path.join(out, folder))
            made.append(folder)
        except FileExistsError:
            pass
        except OSError:
            return  # a file in the way, no room: the writer says so
