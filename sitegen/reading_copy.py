"""Most of a clean build's sources, read by a forked copy while the build starts.

Before a clean build reads its sources it spends a sixth of a second on one core,
importing its engine (Markdown, templates, plugins) and loading the site. ``sitegen
build`` forks a reading copy first, while the process is still small: the copy loads the
settings, discovers the sources and reads two of every three while the build starts. The
build reads the third itself, then takes the copy's posts as entries of the read-post
cache, with their text (the form in which a rebuild finds them). The build uses what the
copy read only if it was read with the same settings (a plugin may change them when it is
configured); otherwise, and for a source the copy could not read, it reads the source
itself, with its message.

The copy also gives the posts it read that the build will publish (drafts and posts
dated in the future left out) to the build's folder helper (:mod:`sitegen.folders`),
started before it: their output folders are made while the build starts, and the build
sends the helper its own posts' folders as it publishes them. The output folder is checked
before either starts, folders are made only inside it (through the same gate as every
output path), and those no page was written into are removed at the end, also when the
build stops early. Only a clean build (no earlier build's folders in the output) with
parallel workers, where fork exists, starts a copy; an ``--atomic`` build's copy only reads
(its output is staged elsewhere, later).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.errors import SiteError
from sitegen.forked import can_fork
from sitegen.model import BuildOptions
from sitegen.write import MARKER, check_output_folder

# The copy reads the sources whose place in the discovered list is not a multiple of
# three: it starts reading earlier than the build can.
SHARE = 3


def copy_reads(index: int) -> bool:
    """Whether the reading copy reads the source at this place of the discovered list."""
    return index % SHARE != SHARE - 1


@dataclass
class CopyResults:
    """What a reading copy sends back once it has read."""

    key: str  # of the read-post cache it read with (its settings)
    entries: tuple  # as ``ReadCache.adopt`` takes them
    texts: dict[str, str]
    folders: list[str]  # it sent to the folder helper


class ReadingCopy:
    """The build's side of a reading copy."""

    def __init__(self, pid: int, results: int, helper: tuple[int, int, int] | None,
                 out: str) -> None:
        self.pid = pid
        self.out = out
        self._results: int | None = results  # its posts, pickled, then end of file
        self._helper = helper  # the folder helper it feeds: pid, folder pipe, answer pipe
        self._received: CopyResults | None = None
        self.ready = False  # its results were taken
        self.adopted = False  # and the build took its posts
        self._folders_sent = False

    @staticmethod
    def start(root: Path, out: Path, options: BuildOptions, jobs: int) -> ReadingCopy | None:
        """A copy reading the sources of ``root`` for a clean build into ``out``; None
        when the build is not one (an earlier build's folders are there), the output
        folder is refused (the build says why) or the system cannot fork."""
        if jobs < 2 or options.only or not can_fork():
            return None
        if os.path.exists(os.path.join(out, MARKER)):
            return None
        try:
            check_output_folder(out, root)
        except SiteError:
            return None
        from sitegen.folders import remove_empty, start_helper, stop_helper
        from sitegen.swap import recover

        recover(out.resolve())  # what a killed --atomic build left, before anything is made

        helper = None if options.atomic else start_helper(str(out))
        results_r, results_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(results_r)
            os.close(results_w)
            if helper is not None:
                remove_empty(str(out), stop_helper(helper))
            return None
        if pid == 0:  # the copy: never returns into the caller's code
            status = 1
            try:
                os.close(results_r)
                folders = None
                if helper is not None:
                    os.close(helper[2])
                    folders = helper[1]
                _copy_main(root, options, folders, results_w)
                status = 0
            finally:
                os._exit(status)
        os.close(results_w)
        return ReadingCopy(pid, results_r, helper, str(out))

    def results(self) -> CopyResults | None:
        """What the copy read, or None when it sent nothing whole. Waits for the copy."""
        if not self.ready:
            self.ready = True
            data = b""
            if self._results is not None:
                with os.fdopen(self._results, "rb") as pipe:
                    data = pipe.read()
                self._results = None
            try:
                received = pickle.loads(data) if data else None
            except Exception:  # cut short: the copy died while sending
                received = None
            self._received = received if isinstance(received, CopyResults) else None
        return self._received

    def sent_folders(self) -> list[str]:
        """Once the build took its posts: the folders it sent the helper (once)."""
        if self._folders_sent or self._received is None:
            return []
        self._folders_sent = True
        return self._received.folders

    def helper(self, out: str) -> tuple[int, int, int] | None:
        """The folder helper the copy feeds, for the folder maker of a build into ``out``
        (pid, folder pipe, answer pipe), which closes and waits for it from now on."""
        if out != self.out or self._helper is None:
            return None
        helper, self._helper = self._helper, None
        return helper

    def dismiss(self) -> None:
        """End the copy, and the folder helper unless a folder maker took it; then remove
        the folders the helper made (all empty: no page was written)."""
        self.results()  # (the copy may be waiting to send them)
        if self.pid:
            pid, self.pid = self.pid, 0
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        if self._helper is None:
            return
        from sitegen.folders import remove_empty, stop_helper

        helper, self._helper = self._helper, None
        remove_empty(self.out, stop_helper(helper))


def _copy_main(root: Path, options: BuildOptions, folders: int | None, results: int) -> None:
    gc.disable()  # a short life that makes objects, not cycles
    try:
        message = pickle.dumps(_read_share(root, options, folders), pickle.HIGHEST_PROTOCOL)
    except Exception:  # the build reads everything itself, and says what is wrong
        message = b""
    with contextlib.suppress(OSError):  # (the build stopped before taking them)
        with os.fdopen(results, "wb") as pipe:
            pipe.write(message)


def _read_share(root: Path, options: BuildOptions, folders: int | None) -> CopyResults:
    """Read this copy's share of the sources as the build reads them, with no store; send
    the folder helper (through ``folders``) the folders of those the build will publish."""
    from datetime import UTC, datetime

    from sitegen.cache import FrontMatterCache, ReadCache
    from sitegen.config import load_config
    from sitegen.discover import discover_sources
    from sitegen.errors import PostError
    from sitegen.folders import BATCH, send_folders
    from sitegen.model import output_path
    from sitegen.posts import publishing, scheduled
    from sitegen.read import (
        decode_source,
        header_version,
        is_jekyll_unpublished,
        read_bytes,
        read_post,
        read_salt,
        source_rel,
    )
    from sitegen.schedule import site_zone
    from sitegen.store import CacheStore

    config = load_config(root)
    drafts, future = publishing(config, options)
    tz = site_zone(config.timezone)
    now = datetime.now(UTC)
    store = CacheStore(root, enabled=False)  # answers nothing, and is never written
    headers = FrontMatterCache(store, header_version())
    reads = ReadCache(store, read_salt(config), headers)
    read: Any = reads.wrap(
        functools.partial(read_post, headers=headers),
        lambda path, rel: decode_source(read_bytes(path), rel),
    )
    sources = [s for s in discover_sources(root) if not is_jekyll_unpublished(s)]
    texts: dict[str, str] = {}
    sent: list[str] = []  # the folders given to the helper, BATCH a write
    for index, source in enumerate(sources):
        if not copy_reads(index):
            continue
        rel = source_rel(root, source.path)
        try:
            post = read(source, rel, config, tz)
        except (PostError, OSError):
            continue  # read again by the build, which says why
        texts[rel] = post.source
        held_back = (post.draft and not drafts) or scheduled(post, future, tz, now)
        folder = os.path.dirname(output_path(post.url))
        if folders is not None and not held_back and folder:
            sent.append(folder)
            if len(sent) % BATCH == 0:  # one write (and one wake-up) for several
                send_folders(folders, sent[-BATCH:])
    if folders is not None and len(sent) % BATCH:
        send_folders(folders, sent[-(len(sent) % BATCH) :])
    return CopyResults(reads.key, reads.entries_of(list(texts)), texts, sent)
