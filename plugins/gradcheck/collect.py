"""Reading one post's results from its process: the frames on its pipe, each checked
against the block it should be running, its capped standard error, every read with a
deadline; when the post failed, the real reason (a timeout, a signal, a crash's last words)
goes into its result."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import channel
from .processes import (
    GRACE_SECONDS,
    STARTUP_SECONDS,
    STDERR_LIMIT,
    PostProcess,
    WorkerDied,
    exit_reason,
    kill_group,
)

if TYPE_CHECKING:
    from .runner import PostJob


@dataclass
class _Reading:
    """What the runner has read so far from one post's process."""

    job: PostJob
    result: dict[str, Any]
    pid: int
    deadline: float
    current: tuple[int, float] | None = None
    done: bool = False
    stderr: bytearray = field(default_factory=bytearray)

    def handle(self, pid: int, message: list[Any]) -> None:
        """Take one message; frames from processes the post forked are not its results."""
        if pid != self.pid or self.done:
            return
        kind = message[0]
        expected = _next_block(self.job, self.result)
        if kind == "start" and len(message) == 3 and isinstance(message[2], (int, float)):
            if expected is None or message[1] != expected["index"]:
                raise channel.ChannelError("a result for a block it was not running")
            self.current = (message[1], float(message[2]))
            self.deadline = time.monotonic() + float(message[2]) + GRACE_SECONDS
        elif kind == "block" and len(message) == 2 and _is_block(message[1], expected):
            self.result["blocks"].append(message[1])
        elif kind == "done" and len(message) == 2 and isinstance(message[1], dict):
            info = message[1]
            for key, kind_of in (("sizes", dict), ("size_names", dict), ("time", (int, float))):
                if isinstance(info.get(key), kind_of):
                    self.result[key] = info[key]
            self.done = True
            self.deadline = time.monotonic() + GRACE_SECONDS
        else:
            raise channel.ChannelError("a message that is not a result")


def _next_block(job: PostJob, result: dict[str, Any]) -> dict[str, Any] | None:
    done = len(result["blocks"])
    return job.blocks[done] if done < len(job.blocks) else None


_STATUSES = {"pass", "fail", "error", "inconclusive"}


def _is_block(block: Any, expected: dict[str, Any] | None) -> bool:
    """A block result with the fields the pages read, of the types they expect."""
    text = (str, type(None))
    return (
        expected is not None
        and isinstance(block, dict)
        and block.get("index") == expected["index"]
        and isinstance(block.get("checks"), list)
        and all(
            isinstance(c, dict)
            and c.get("status") in _STATUSES
            and isinstance(c.get("name"), text)
            and isinstance(c.get("message"), str)
            for c in block["checks"]
        )
        and isinstance(block.get("arrays"), list)
        and isinstance(block.get("output"), str)
        and isinstance(block.get("error"), text)
        and isinstance(block.get("error_kind"), text)
    )


def collect(post: PostProcess, job: PostJob, token: bytes, result: dict[str, Any]) -> bool:
    """Read the post's messages until it has ended, each read with a deadline; record the
    real reason it failed, if it did. False if the warm parent did not answer in time."""

    try:
        return _collect(post, job, token, result)
    except WorkerDied:
        kill_group(post.pid)
        raise


def _collect(post: PostProcess, job: PostJob, token: bytes, result: dict[str, Any]) -> bool:
    import select

    reader = channel.FrameReader(token)
    startup = 10 * GRACE_SECONDS if post.parent else STARTUP_SECONDS
    reading = _Reading(job, result, post.pid, time.monotonic() + startup)
    failure: tuple[str, str] | None = None  # (reason, error kind)
    code: int | None = None
    open_fds = [post.result_fd, post.stderr_fd]
    while failure is None and code is None:
        watched = open_fds + post.exit_fds()
        wait = max(reading.deadline - time.monotonic(), 0)
        if post.process is not None:
            wait = min(wait, 0.05)  # a spawned process has no exit fd: poll it
        ready, _, _ = select.select(watched, [], [], wait)
        for fd in ready:
            if fd in post.exit_fds():
                code = post.exit_code(0)
                continue
            data = os.read(fd, 1 << 16)
            if not data:
                open_fds.remove(fd)
            elif fd == post.stderr_fd:
                reading.stderr += data[: STDERR_LIMIT + 1 - len(reading.stderr)]
                if len(reading.stderr) > STDERR_LIMIT:
                    failure = (
                        f"wrote more than {STDERR_LIMIT:,} bytes to standard error (fd 2)",
                        "output",
                    )
            else:
                try:
                    for pid, message in reader.feed(data):
                        reading.handle(pid, message)
                except channel.ChannelError as exc:
                    failure = (
                        f"its result channel received {exc} (did the post's code write to "
                        "a file descriptor it did not open?)",
                        "channel",
                    )
        if post.process is not None and code is None:
            code = post.exit_code(0)
        if code is None and failure is None and time.monotonic() >= reading.deadline:
            if reading.done:
                failure = ("", "")  # the results are all in; it just did not exit
            else:
                running = job.blocks[reading.current[0]] if reading.current else {}
                limit = running.get("options", {}).get("timeout") or job.timeout
                failure = (f"timed out: the time limit is {limit:g} s", "timeout")
    healthy = True
    if code is None:
        kill_group(post.pid)
        code = post.exit_code(10 * GRACE_SECONDS)
        healthy = code is not None
    else:
        _drain(post.result_fd, reader, reading)
    if failure and failure[0] and not reading.done:  # after "done" the results are whole
        fail_block(job, result, failure[0], failure[1], "")
    elif not reading.done:
        tail = reading.stderr[-2000:].decode("utf-8", "replace")
        fail_block(job, result, exit_reason(code or 0), "crash", tail)
    return healthy


def _drain(fd: int, reader: channel.FrameReader, reading: _Reading) -> None:
    """Read what the ended process left in its pipe (frames sent just before it exited)."""
    os.set_blocking(fd, False)
    left = 2 * channel.MESSAGE_LIMIT
    try:
        while left > 0:
            data = os.read(fd, 1 << 16)
            if not data:
                return
            left -= len(data)
            for pid, message in reader.feed(data):
                reading.handle(pid, message)
    except (BlockingIOError, channel.ChannelError):
        return


def fail_block(
    job: PostJob, result: dict[str, Any], reason: str, kind: str, detail: str
) -> None:
    """Record that the block after the last reported one failed with ``reason``."""
    block = _next_block(job, result)
    if block is None:
        return
    where = _segfault_line(detail, job.rel)
    found = re.search(r"line (\d+)", where)
    result["blocks"].append(
        {
            "index": block["index"],
            "kind": block["kind"],
            "line": block["line"],
            "checks": [],
            "arrays": [],
            "output": "",
            "error": reason + (f"\n{where}" if where else ""),
            "error_kind": kind,
            "error_line": int(found.group(1)) if found else block["line"],
            "time": 0.0,
        }
    )


def _segfault_line(stderr: str, rel: str) -> str:
    """faulthandler's line for the post's frame, e.g. 'File "posts/x.md", line 12'."""
    lines = [line.strip() for line in stderr.splitlines() if f'"{rel}"' in line]
    return lines[0] if lines else ""
