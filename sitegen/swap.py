"""``sitegen build --atomic``: the whole output folder replaced at once.

The build writes into a staging folder beside the output, which starts as hard links of
the output's files (a link is never written through: the writer replaces files by
renaming, so the old site stays as it was). When the build is done, the two folders are
exchanged in one step (``renameat2`` with ``RENAME_EXCHANGE`` on Linux), and the old
site, now in the staging folder, is removed. A web server reading the output sees the
old site or the new one, never a mix; a build killed at any point leaves one of them.

A staging folder left by a killed build is removed by the next one. A symlinked output
stays a symlink: the folder it points to is the one replaced. Where the system cannot
exchange two folders, the old site is renamed aside and the new one into its place; a
crash between the two is undone by the next build.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

_STAGING = ".staging-"  # .<name>.staging-<pid>: a build's new site, or its old one after the swap
_ASIDE = ".aside-"  # .<name>.aside-<pid>: the old site between two renames (no exchange)


def _siblings(real: Path, kind: str) -> list[Path]:
    prefix = f".{real.name}{kind}"
    try:
        names = os.listdir(real.parent)
    except OSError:
        return []
    return [real.parent / n for n in sorted(names) if n.startswith(prefix)]


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a folder of an earlier process that had this number
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _owner(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def recover(real: Path) -> None:
    """Undo what killed builds left beside ``real``: an old site renamed aside goes back
    when there is no output, and staging folders of builds no longer running go."""
    if not real.exists():
        aside = [p for p in _siblings(real, _ASIDE) if not _alive(_owner(p))]
        if aside:
            os.rename(aside[-1], real)
    for folder in _siblings(real, _STAGING) + _siblings(real, _ASIDE):
        if not _alive(_owner(folder)):
            shutil.rmtree(folder, ignore_errors=True)


def stage(real: Path) -> Path:
    """A new staging folder beside ``real``, holding hard links of its files (copies
    where the file system has no hard links)."""
    staging = real.parent / f".{real.name}{_STAGING}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    if not real.is_dir():
        staging.mkdir(parents=True)
        return staging

    def link(source: str, target: str) -> None:
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError:
            shutil.copy2(source, target, follow_symlinks=False)

    shutil.copytree(real, staging, symlinks=True, copy_function=link)
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step; False where the system cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # an old kernel, or a file system without it
    raise OSError(code, os.strerror(code), str(a))


def swap_in(staging: Path, real: Path) -> None:
    """Put the staged site at ``real`` and remove the old one."""
    if not real.exists():
        os.rename(staging, real)
        return
    if not _exchange(staging, real):
        aside = real.parent / f".{real.name}{_ASIDE}{os.getpid()}"
        os.rename(real, aside)
        try:
            os.rename(staging, real)  # a crash before this: the next build renames back
        except OSError:
            os.rename(aside, real)
            raise
        staging = aside
    shutil.rmtree(staging, ignore_errors=True)


def discard(staging: Path) -> None:
    """A build that failed before its swap: the old site stays, the staged one goes."""
    with contextlib.suppress(OSError):
        shutil.rmtree(staging)
