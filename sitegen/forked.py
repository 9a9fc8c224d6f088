"""Part of a stage's work done by a forked copy of the build process.

The copy starts with everything the build has made so far (posts, their bodies, the
compiled templates), so nothing is sent to it; it sends back only its results, pickled
through a pipe. A copy that dies or cannot send its results costs time, never output:
its share is then done again here.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a copy can be forked: the system has fork and no other thread runs (a
    forked copy would inherit locks held by it, e.g. by the live preview's server)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def split_work(theirs: Callable[[], T], mine: Callable[[], None]) -> T:
    """Run ``theirs`` in a forked copy of this process while this process runs
    ``mine``; return what ``theirs`` returned. An exception ``theirs`` raised in the copy
    is raised here (after ``mine`` ran)."""
    sys.stdout.flush()
    sys.stderr.flush()
    # Objects the copy only reads must stay shared pages: without this, the copy's
    # garbage collector writes to every object's header and copies the whole heap.
    gc.freeze()
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        gc.unfreeze()
        mine()
        return theirs()
    if pid == 0:  # the copy: never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            try:
                message = pickle.dumps(("done", theirs()), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # raised again in the parent
                message = _pickled_error(exc)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(message)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    gc.unfreeze()
    try:
        mine()
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read()
        _, wait_status = os.waitpid(pid, 0)
    delivered = os.waitstatus_to_exitcode(wait_status) == 0 and message
    if not delivered:  # killed (out of memory, a signal): its share is done here
        return theirs()
    outcome, value = pickle.loads(message)
    if outcome == "raised":
        raise value
    return value


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps(("raised", exc), pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot be pickled: its type and text
        return pickle.dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))
