"""Part of a stage's work done by forked copies of the build process.

A copy starts with everything the build has made so far (posts, their bodies, the
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
    return in_copies([theirs], mine)[0]


def in_copies(theirs: list[Callable[[], T]], mine: Callable[[], None]) -> list[T]:
    """Run each of ``theirs`` in a forked copy of its own while this process runs
    ``mine``; their results in order. The first exception one of them raised is raised
    here, after ``mine`` ran and every copy ended."""
    sys.stdout.flush()
    sys.stderr.flush()
    # Objects the copies only read must stay shared pages: without this, a copy's
    # garbage collector writes to every object's header and copies the whole heap.
    gc.freeze()
    started: list[tuple[int, int] | None] = []  # (pid, read end) of each copy; None: none
    try:
        for task in theirs:
            started.append(_fork(task))
    finally:
        gc.unfreeze()
    try:
        mine()
    finally:
        messages = [_collect(copy) for copy in started]
    results = []
    for task, message in zip(theirs, messages, strict=True):
        if message is None:  # killed (out of memory, a signal) or never forked: done here
            results.append(task())
            continue
        outcome, value = pickle.loads(message)
        if outcome == "raised":
            raise value
        results.append(value)
    return results


def _fork(task: Callable[[], object]) -> tuple[int, int] | None:
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the copy: never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            try:
                message = pickle.dumps(("done", task()), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # raised again in the parent
                message = _pickled_error(exc)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(message)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect(copy: tuple[int, int] | None) -> bytes | None:
    """What a copy sent, once it has ended; None when it sent nothing whole."""
    if copy is None:
        return None
    pid, read_end = copy
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read()
    _, wait_status = os.waitpid(pid, 0)
    return message if os.waitstatus_to_exitcode(wait_status) == 0 and message else None


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps(("raised", exc), pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot be pickled: its type and text
        return pickle.dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))
