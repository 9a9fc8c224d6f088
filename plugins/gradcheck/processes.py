"""One post's process, as the runner drives it: started, read with deadlines, ended.

``Worker`` is a warm parent (``launcher.py`` in "fork" mode) that forks a fresh child per
post; ``spawn_post`` starts a process for one post where forking is unavailable. Either
way ``collect.collect`` reads the post's messages from a pipe made for it alone
(``channel.py``) and its capped standard error, ends the post's process group and records
the real reason when the post failed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

STARTUP_SECONDS = 60.0  # importing numpy on a loaded machine
GRACE_SECONDS = 2.0  # after a block's limit, before the process is killed
STDERR_LIMIT = 1_000_000  # bytes a post's process may write to fd 2 (C code, faulthandler)
PACKAGE_DIR = Path(__file__).parent
WORKER_PACKAGE = "sitegen_gradcheck_worker"
# Started with ``python -c``: the plugin's folder becomes a private package, so the worker
# imports only the modules launcher.py and worker.py need (not the plugin's hooks, nor sitegen).
BOOT = (
    "import importlib, sys, types\n"
    f"pkg = types.ModuleType({WORKER_PACKAGE!r}); pkg.__path__ = [sys.argv[1]]\n"
    f"sys.modules[{WORKER_PACKAGE!r}] = pkg\n"
    f"importlib.import_module({WORKER_PACKAGE!r} + '.launcher').main(sys.argv[2], "
    "int(sys.argv[3]), int(sys.argv[4]))\n"
)
# one BLAS thread per worker: posts already run in parallel, and results stay reproducible
WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
}
SIGNAL_REASONS = {
    signal.SIGSEGV: "crashed with a segmentation fault",
    signal.SIGBUS: "crashed with a bus error",
    signal.SIGABRT: "aborted",
    signal.SIGFPE: "crashed with a floating-point exception",
    signal.SIGKILL: "was killed (out of memory?)",
}



class WorkerDied(Exception):
    """The warm parent is gone or stuck (it runs no post code, so this is rare)."""


def default_start() -> str:
    """"fork" where forking a process that has imported numpy is safe (Linux); elsewhere
    every post gets a freshly spawned process, which costs a numpy import per post."""
    return "fork" if sys.platform.startswith("linux") and hasattr(os, "fork") else "spawn"


def _popen(cwd: Path, mode: str, fds: tuple[int, int], stderr: Any) -> Any:
    import subprocess  # here, not at the top: a build without verify blocks never needs it

    return subprocess.Popen(
        [sys.executable, "-c", BOOT, str(PACKAGE_DIR), mode, str(fds[0]), str(fds[1])],
        pass_fds=fds,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd=str(cwd),
        env=dict(os.environ, **WORKER_ENV),
        start_new_session=True,  # Ctrl-C in the terminal reaches the builder only
    )


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass  # already gone


def exit_reason(code: int) -> str:
    if code < 0:
        reason = SIGNAL_REASONS.get(-code, f"was killed by signal {-code}")
        return f"the Python process {reason}"
    return f"the Python process exited with status {code} (os._exit or a fatal error)"


@dataclass
class PostProcess:
    """One post's process as the runner sees it: its pid (also its process group), the
    read ends of its result channel and standard error, and how to learn its exit status."""

    pid: int
    result_fd: int
    stderr_fd: int
    parent: Worker | None = None  # fork: the warm parent reports the exit status
    process: Any = None  # spawn: the Popen

    def exit_fds(self) -> list[int]:
        return [self.parent.status.fileno()] if self.parent else []

    def exit_code(self, wait: float) -> int | None:
        """The exit status once the post's process has ended (within ``wait`` seconds)."""
        if self.parent is not None:
            return self.parent.exit_code(self.pid, time.monotonic() + wait)
        import subprocess

        try:
            code = self.process.wait(timeout=wait) if wait else self.process.poll()
        except subprocess.TimeoutExpired:
            return None
        if code is not None:
            kill_group(self.pid)  # what the post started ends with the post
        return code

    def close(self) -> None:
        for fd in (self.result_fd, self.stderr_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class Worker:
    """A warm parent process: it imports numpy once and forks a fresh child for each post
    (``launcher.py``); it never runs a post's code itself."""

    def __init__(self, cwd: Path) -> None:
        import socket

        job_r, job_w = os.pipe()
        self.status, status_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.stderr = tempfile.TemporaryFile()
        self.process = _popen(cwd, "fork", (job_r, status_child.fileno()), self.stderr)
        os.close(job_r)
        status_child.close()
        from multiprocessing.connection import Connection

        self.jobs = Connection(job_w, readable=False)
        self.ready = False
        self.versions: tuple[str, str] = ("", "")

    def _packet(self, deadline: float) -> tuple[list[Any], list[int]] | None:
        """The next status packet (and the fds it carries), None at the deadline."""
        import select
        import socket

        ready, _, _ = select.select([self.status], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            return None
        try:
            data, fds, _, _ = socket.recv_fds(self.status, 4096, 2)
            if not data:
                raise WorkerDied(self.death_reason())
            return json.loads(data), fds
        except (OSError, ValueError) as exc:
            raise WorkerDied(self.death_reason()) from exc

    def wait_ready(self) -> None:
        if self.ready:
            return
        packet = self._packet(time.monotonic() + STARTUP_SECONDS)
        if packet is None or packet[0][0] != "ready":
            self.kill()
            raise WorkerDied("the worker process did not start (could not import numpy?)")
        self.versions = (packet[0][1], packet[0][2])
        self.ready = True

    def start_post(self, message: dict[str, Any]) -> PostProcess:
        try:
            self.jobs.send(message)
        except OSError as exc:
            raise WorkerDied(self.death_reason()) from exc
        packet = self._packet(time.monotonic() + STARTUP_SECONDS)
        if packet is None or packet[0][0] != "child" or len(packet[1]) != 2:
            raise WorkerDied("the worker process did not start the post's process")
        (_, pid), (result_fd, stderr_fd) = packet
        return PostProcess(pid, result_fd, stderr_fd, parent=self)

    def exit_code(self, pid: int, deadline: float) -> int | None:
        while True:
            packet = self._packet(deadline)
            if packet is None:
                return None
            message, fds = packet
            for fd in fds:
                os.close(fd)
            if message[0] == "exit" and message[1] == pid:
                return int(message[2])

    def death_reason(self) -> str:
        import subprocess

        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the worker process stopped answering"
        return exit_reason(code)

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            self.stderr.seek(max(self.stderr.tell() - limit, 0))
            return self.stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def kill(self) -> None:
        kill_group(self.process.pid)
        self.process.wait()
        self.jobs.close()
        self.status.close()
        self.stderr.close()

    def close(self) -> None:
        """An idle worker holds nothing worth a clean exit (numpy's teardown is slow)."""
        self.kill()


def spawn_post(cwd: Path, message: dict[str, Any]) -> PostProcess:
    """A process of its own for one post (where forking is not available)."""
    from multiprocessing.connection import Connection

    job_r, job_w = os.pipe()
    result_r, result_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    process = _popen(cwd, "spawn", (job_r, result_w), stderr_w)
    for fd in (job_r, result_w, stderr_w):
        os.close(fd)
    jobs = Connection(job_w, readable=False)
    try:
        jobs.send(message)
    except OSError:
        pass  # it died at once: its exit status says why
    jobs.close()
    return PostProcess(process.pid, result_r, stderr_r, process=process)
