"""The entry point of the processes that run posts (started by ``processes.py``).

In "fork" mode this is the warm parent: it imports numpy once, then for each job forks a
fresh child that runs the post (``worker.run_child``) in a process group of its own. It
runs no post code itself. Over a status socket it reports each child's pid, with the read
ends of the child's result pipe and standard error, and, once the child has ended and
whatever else the post started has been killed, the child's exit status. In "spawn" mode
it runs one post in this process and exits.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import sys
from multiprocessing.connection import Connection
from typing import Any

# the runner puts this package under a private name; both spellings work
from .limits import prepare_process
from .worker import run_child


def _status(sock: socket.socket, message: list[Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode("utf-8")
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def _warm_up(np: Any, checker: Any) -> None:
    """Load now, once, what numpy and the checker load on first use, instead of in every
    post's child (``np.random`` alone costs ~20 ms there)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2))
    np.linalg.norm(x)
    checker.check_grad(lambda w: float(np.sum(w**2)), x, 2 * x)


def _become_subreaper() -> bool:
    """On Linux, make processes orphaned under this one (a post's program that left its
    process group with setsid) its children rather than init's, so they can be ended."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _children() -> list[int]:
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as f:
            return [int(pid) for pid in f.read().split()]
    except OSError:
        return []


def _end_strays() -> None:
    """Kill and reap every child left: between posts the warm parent has none of its own,
    so each is something a post started. Their children come here in turn when they die."""
    for _ in range(100):
        strays = _children()
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, 0 if strays else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
            if pid in strays:
                strays.remove(pid)
        if not _children():
            return


def serve_forks(np: Any, checker: Any, job_fd: int, status_fd: int) -> None:
    """The warm parent: one forked child per job, one job at a time."""
    subreaper = _become_subreaper()
    jobs = Connection(job_fd, writable=False)
    status = socket.socket(fileno=status_fd)
    _warm_up(np, checker)
    _status(status, ["ready", np.__version__, sys.version.split()[0]])
    # what is imported now is shared with every child; frozen, the children's garbage
    # collector never walks (and so never copies) those pages
    gc.collect()
    gc.freeze()
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        result_r, result_w = os.pipe()  # not inherited by programs the post starts
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            os.dup2(err_w, 2)
            for fd in (result_r, err_r, err_w, job_fd, status_fd):
                os.close(fd)
            run_child(np, checker, job, result_w)
        try:
            os.setpgid(pid, pid)  # also here: whichever of the two runs first
        except OSError:
            pass
        _status(status, ["child", pid], [result_r, err_r])
        for fd in (result_r, result_w, err_r, err_w):
            os.close(fd)
        _, wait_status = os.waitpid(pid, 0)
        try:
            os.killpg(pid, signal.SIGKILL)  # what the post started ends with the post
        except OSError:
            pass
        if subreaper:
            _end_strays()
        _status(status, ["exit", pid, os.waitstatus_to_exitcode(wait_status)])


def main(mode: str, job_fd: int, out_fd: int) -> None:
    prepare_process()
    import numpy as np

    from . import checker

    if mode == "fork":
        serve_forks(np, checker, job_fd, out_fd)
        return
    os.set_inheritable(out_fd, False)  # programs the post starts must not hold it
    jobs = Connection(job_fd, writable=False)
    job = jobs.recv()
    jobs.close()
    run_child(np, checker, job, out_fd)
