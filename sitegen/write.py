"""Writing the output folder: all at once and atomically, never over a foreign folder.

A build writes a complete new folder next to the target and then swaps it in with two
renames, so a reader (or ``sitegen serve``) never sees a half-written site. A marker file
proves that sitegen made a folder; without it sitegen refuses to replace the folder.
"""

from __future__ import annotations

import functools
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from sitegen.errors import SiteError

MARKER = ".sitegen-output"


class UnsafeOutputPath(ValueError):
    """An output path that would leave the output folder (or cannot name a file in it)."""


def confine(out: Path | str, rel: str) -> str:
    """The one gate every output path passes: ``rel`` joined to the output folder ``out``,
    refused unless it stays inside it.

    An output path comes from a URL, and URLs come from front matter (``permalink``,
    ``slug``), tag names and plugins; one with ``..`` could replace a source file. The
    check is lexical, because sitegen makes every folder of its output itself, so no link
    inside it can lead elsewhere.
    """
    problem = unsafe_reason(rel)
    if problem:
        raise UnsafeOutputPath(f"output path {rel!r} {problem}")
    return os.path.join(out, rel)


def unsafe_reason(rel: str) -> str:
    """Why ``rel`` may not be written inside the output folder, or "" when it may."""
    if not rel:
        return "is empty"
    if "\x00" in rel:
        return "contains a NUL character"
    if "\\" in rel:
        return "contains a backslash"
    if rel.startswith("/") or os.path.isabs(rel):
        return "is absolute"
    parts = rel.split("/")
    if ".." in parts:
        return "contains '..'"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' segment"
    return ""


def check_output_folder(out: Path, root: Path) -> None:
    """Refuse output folders sitegen must not replace: the site itself, its parents, and
    non-empty folders that sitegen did not create."""
    out_r, root_r = out.resolve(), root.resolve()
    if out_r == root_r or out_r in root_r.parents:
        raise SiteError(f"refusing to write the site into {out}: it contains the sources")
    if out.exists():
        if not out.is_dir():
            raise SiteError(f"output path {out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise SiteError(
                f"refusing to replace {out}: it was not created by sitegen (no {MARKER} "
                "marker); remove it yourself or choose another --out"
            )


class OutputFolder:
    """A new output folder filled next to the old one and swapped in place of it at the end.

    Files are written by a thread of each process (forked render workers write into the
    same folder), so the builder goes on rendering while the file system makes folders and
    files: on a site of pretty URLs a ``mkdir`` per page is most of the cost of writing.

    With ``spare`` (a folder on the same file system) the replaced output is kept there
    instead of deleted. When ``spare_files`` says what that folder holds (output path →
    page key, "" for files without one), the next build fills the spare in place of a new
    folder: a page whose key it already has is left alone, so a build that changes a few
    pages writes a few files instead of linking every unchanged one anew. The spare's
    marker is removed first, so a spare left half-updated by a failed build is not
    trusted again.

    Without a spare to fill (the build after a clean one), ``current_files`` (what the
    current output holds, path → page key) has every file of the current output linked
    into the new folder first, by a forked child while the build reads and renders; the
    folder is then filled as a spare would be. Linking a thousand pages into some two
    thousand new folders costs more than the rest of a one-post rebuild, and done up
    front it no longer waits at the end.
    """

    def __init__(
        self,
        out: Path,
        spare: Path | None = None,
        spare_files: dict[str, str] | None = None,
        current_files: dict[str, str] | None = None,
    ) -> None:
        self.out = out.absolute()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.spare = spare.absolute() if spare is not None else None
        self.in_place = spare_files is not None and self._take_spare()
        self._spare_files: dict[str, str] = dict(spare_files or {}) if self.in_place else {}
        if self.in_place:
            assert self.spare is not None
            self.staging = self.spare
        else:
            self.staging = Path(
                tempfile.mkdtemp(prefix=f".{self.out.name}.new-", dir=self.out.parent)
            )
            # mkdtemp makes a private folder; the output is as readable as any new folder
            os.chmod(self.staging, 0o777 & ~_UMASK)
        self._made: set[str] = {""}
        self._touched: set[str] = set()  # output paths given to this process's folder
        self._owner = 0  # the process whose thread ``_jobs`` feeds
        self._jobs: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []
        if not self.in_place and current_files:
            # only what is there: a page deleted from the output by hand is made again
            there = {
                rel: key
                for rel, key in current_files.items()
                if os.path.isfile(os.path.join(self.out, rel))
            }
            self._prefill(list(there))
            self.in_place, self._spare_files = True, there

    def _take_spare(self) -> bool:
        """Whether the spare can be filled in place (its marker is then removed)."""
        assert self.spare is not None
        try:
            if os.stat(self.spare).st_dev != os.stat(self.out.parent).st_dev:
                return False  # it could not be renamed into place
            os.unlink(self.spare / MARKER)
        except OSError:
            return False
        return True

    def _prefill(self, files: list[str]) -> None:
        """Link ``files`` of the current output into the new folder, before any other job
        of the writing thread (a forked render worker's thread may come first: linking
        never replaces a file). The links are made by a forked child where possible: a
        thread would wait for the interpreter lock after each of its thousands of calls,
        while the builder holds it reading and rendering."""
        link_all = functools.partial(self._link_all, files)
        if os.name != "posix" or threading.active_count() > 1:  # forking needs one thread
            self._submit(link_all)
            return
        pid = os.fork()
        if pid == 0:  # the child: link, and leave without running the parent's exit code
            code = 1
            try:
                link_all()
                code = 0
            finally:
                os._exit(code)

        def wait() -> None:
            _, status = os.waitpid(pid, 0)
            if status != 0:
                link_all()  # whatever the child could not do, or reports it

        self._submit(wait)

    def _link_all(self, files: list[str]) -> None:
        """Hard-link the current output's ``files`` into the new folder."""
        for rel in files:
            old, target = os.path.join(self.out, rel), self._parent(rel)
            try:
                os.link(old, target)
            except FileExistsError:
                pass  # written already by a forked worker: newer than this
            except OSError:  # a file system without hard links: the bytes, then
                shutil.copyfile(old, target)

    def _submit(self, job: Callable[[], None]) -> None:
        if self._owner != os.getpid():  # first job of this process (or of a forked worker)
            self._owner = os.getpid()
            self._jobs, self._errors = queue.SimpleQueue(), []
            self._thread = threading.Thread(
                target=_run_jobs, args=(self._jobs, self._errors), daemon=True
            )
            self._thread.start()
        assert self._jobs is not None
        self._jobs.put(job)

    def flush(self) -> None:
        """Wait until this process's files are written; raise the first failure."""
        if self._thread is None or self._owner != os.getpid():
            return
        assert self._jobs is not None
        self._jobs.put(None)
        self._thread.join()
        self._thread, self._owner = None, 0
        if self._errors:
            raise self._errors[0]

    def _parent(self, rel: str) -> str:
        folder = os.path.dirname(rel)
        if folder not in self._made:
            missing = []
            while folder not in self._made:  # each folder made once, top down
                missing.append(folder)
                folder = os.path.dirname(folder)
            for name in reversed(missing):
                path = confine(self.staging, name)
                try:
                    os.mkdir(path)
                except FileExistsError:  # made by another worker, or in the spare
                    if self.in_place and not os.path.isdir(path):
                        os.unlink(path)  # a file of the old output where a folder goes now
                        os.mkdir(path)
                self._made.add(name)
        return confine(self.staging, rel)

    def _target(self, rel: str) -> str:
        """Where ``rel`` goes, with nothing there: a spare's file may be a hard link to
        the current output's, so it is replaced, never written through."""
        target = self._parent(rel)
        if self.in_place:
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                shutil.rmtree(target)
        return target

    def _keeps(self, rel: str, key: str) -> bool:
        """In a spare filled in place: whether its file ``rel`` is already the one wanted."""
        self._touched.add(rel)
        return bool(key) and self._spare_files.get(rel) == key

    def write(self, rel: str, data: bytes, key: str = "") -> None:
        """Write ``data`` at ``rel``; ``key``, the page key of those bytes, lets a spare
        folder keep a file it already has."""
        confine(self.staging, rel)  # refused here, not later in the writer thread
        if self._keeps(rel, key):
            return

        def job() -> None:
            with open(self._target(rel), "wb") as fh:
                fh.write(data)

        self._submit(job)

    def reuse(self, rel: str, key: str = "") -> bool:
        """Hard-link the previous output's file ``rel`` into the new folder (its bytes are
        known to be right); False when there is no such file."""
        old = confine(self.out, rel)
        if self._keeps(rel, key):
            return True
        if not os.path.isfile(old):
            self._touched.discard(rel)
            return False

        def job() -> None:
            target = self._target(rel)
            try:
                os.link(old, target)
            except OSError:  # a file system without hard links: the bytes, then
                shutil.copyfile(old, target)

        self._submit(job)
        return True

    def same_as_previous(self, rel: str, data: bytes) -> bool:
        """True (and the old file linked in) when the previous output has these bytes."""
        return _same_bytes(self.out / rel, data) and self.reuse(rel)

    def copy(self, source: Path, rel: str) -> None:
        """Copy a static file, with its modification time: a spare's copy of the same
        size and time is kept."""
        confine(self.staging, rel)
        self._touched.add(rel)
        if rel in self._spare_files and _same_stat(source, os.path.join(self.staging, rel)):
            return
        self._submit(lambda: shutil.copy2(source, self._target(rel)))

    def commit(self, files: Iterable[str] | None = None) -> None:
        """Swap the new folder in. ``files``: every output path of the new site (default:
        those given to this process); a spare's other files are removed first."""
        self.flush()
        if self.in_place:
            self._remove_stale(set(self._touched if files is None else files))
        (self.staging / MARKER).write_text("This folder is generated by sitegen.\n")
        _swap(self.staging, self.out, self.spare)

    def _remove_stale(self, keep: set[str]) -> None:
        for rel in self._spare_files.keys() - keep:
            path = os.path.join(self.staging, rel)
            try:
                os.unlink(path)
            except OSError:
                continue
            folder = os.path.dirname(path)
            while folder != str(self.staging):  # folders left empty go too
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)

    def discard(self) -> None:
        try:
            self.flush()
        except Exception:
            pass  # the folder goes anyway
        if self.staging != self.spare:  # a spare without its marker is not trusted again
            shutil.rmtree(self.staging, ignore_errors=True)


def _run_jobs(jobs: queue.SimpleQueue, errors: list[BaseException]) -> None:
    while (job := jobs.get()) is not None:
        if errors:
            continue  # the build fails at flush; the rest is not worth writing
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 — handed to the builder at flush
            errors.append(exc)


def output_identity(out: Path) -> str:
    """Which build wrote ``out``: its marker file is new in every build, so its inode and
    time tell one build's folder from another's without storing anything in the folder."""
    try:
        st = (out / MARKER).stat()
    except OSError:
        return ""
    return f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}"


def write_site(out: Path, files: dict[str, bytes], static: Iterable[tuple[Path, str]]) -> None:
    """Write every file into a fresh folder, then swap it in place of ``out``.

    ``files`` maps output paths to contents; ``static`` holds (source, output path) pairs
    copied as they are. Unchanged files are hard-linked from the previous output when
    possible, which keeps a rebuild of a large site cheap.
    """
    folder = OutputFolder(out)
    try:
        for rel, data in files.items():
            if not folder.same_as_previous(rel, data):
                folder.write(rel, data)
        copy_static(folder, static, files)
        folder.commit()
    except BaseException:
        folder.discard()
        raise


def copy_static(
    folder: OutputFolder, static: Iterable[tuple[Path, str]], written: Iterable[str] = ()
) -> None:
    """Copy static files, except where a page of the same path was written."""
    taken = set(written)
    for source, rel in static:
        if rel not in taken:
            folder.copy(source, rel)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _read_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


# read once, when sitegen starts: setting it later could race with threads making files
_UMASK = _read_umask()


def _same_stat(source: Path, copy: str) -> bool:
    try:
        a, b = os.stat(source), os.stat(copy)
    except OSError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _swap(staging: Path, out: Path, spare: Path | None = None) -> None:
    """Put ``staging`` in place of ``out``; the replaced folder is kept at ``spare`` when
    given (what was there goes), else deleted."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    os.rename(staging, out)
    if spare is not None:
        try:
            if spare.exists():  # an older spare the build did not fill: out of the way
                trash = Path(tempfile.mkdtemp(prefix=f".{spare.name}.old-", dir=spare.parent))
                os.rename(spare, trash)  # over the empty folder just made
                _remove_later(trash)
            os.rename(old, spare)
            return
        except OSError:
            pass  # e.g. another file system: the old output is deleted instead
    _remove_later(old)


def _remove_later(folder: Path) -> None:
    """Delete the replaced output without making the build wait for it.

    The new output is already in place; removing thousands of old files is only cleanup,
    so it runs in a detached process (on POSIX) that outlives this one.
    """
    if os.name == "posix" and shutil.which("rm"):
        import subprocess

        subprocess.Popen(
            ["rm", "-rf", "--", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    else:
        shutil.rmtree(folder, ignore_errors=True)


def write_files_in_place(out: Path, files: dict[str, bytes]) -> list[str]:
    """For the live preview: replace single files atomically, each by a rename.
    Returns the output paths whose bytes changed."""
    changed = []
    for rel, data in files.items():
        target = Path(confine(out, rel))
        if _same_bytes(target, data):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
        changed.append(rel)
    return changed
