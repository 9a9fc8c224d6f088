"""Writing the output folder: all at once and atomically, never over a foreign folder.

A build writes a complete new folder next to the target and then swaps it in with two
renames, so a reader (or ``sitegen serve``) never sees a half-written site. A marker file
proves that sitegen made a folder; without it sitegen refuses to replace the folder.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from sitegen.errors import SiteError

MARKER = ".sitegen-output"


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
    """

    def __init__(self, out: Path) -> None:
        self.out = out.absolute()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.new-", dir=self.out.parent))
        self._made: set[str] = {""}
        self._owner = 0  # the process whose thread ``_jobs`` feeds
        self._jobs: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []

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
                try:
                    os.mkdir(os.path.join(self.staging, name))
                except FileExistsError:  # made by another worker
                    pass
                self._made.add(name)
        return os.path.join(self.staging, rel)

    def write(self, rel: str, data: bytes) -> None:
        def job() -> None:
            with open(self._parent(rel), "wb") as fh:
                fh.write(data)

        self._submit(job)

    def reuse(self, rel: str) -> bool:
        """Hard-link the previous output's file ``rel`` into the new folder (its bytes are
        known to be right); False when there is no such file."""
        old = os.path.join(self.out, rel)
        if not os.path.isfile(old):
            return False

        def job() -> None:
            target = self._parent(rel)
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
        self._submit(lambda: shutil.copyfile(source, self._parent(rel)))

    def commit(self) -> None:
        self.flush()
        (self.staging / MARKER).write_text("This folder is generated by sitegen.\n")
        _swap(self.staging, self.out)

    def discard(self) -> None:
        try:
            self.flush()
        except Exception:
            pass  # the folder goes anyway
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


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    os.rename(staging, out)
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
        target = out / rel
        if _same_bytes(target, data):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
        changed.append(rel)
    return changed
