"""Running posts' code: a fresh process per post, limits, and a result cache.

The builder never imports numpy. A warm parent process imports it once and forks a fresh
child for every post (``worker.py``; where forking is unavailable each post is spawned),
so no post runs in a state another post has touched. The child runs in a process group
of its own, which is killed when the post ends, so nothing the post started outlives it.
Its results come back on a pipe made for that post alone (``channel.py``), read with a
deadline; its standard error is capped. A post that hits a limit, crashes or garbles its
channel gets an error naming the reason; the other posts are not affected.

Results are cached by content in ``<site>/.sitegen-cache/verify/``: the key covers the
post's executed code and options, the numpy and Python versions, and the source of this
plugin, so a rebuild with nothing changed starts no worker at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import channel

if TYPE_CHECKING:
    from concurrent.futures import Future

CACHE_DIR = Path(".sitegen-cache") / "verify"
CACHE_VERSION = 3  # 3: each post runs in a fresh process
STARTUP_SECONDS = 60.0  # importing numpy on a loaded machine
GRACE_SECONDS = 2.0  # after a block's limit, before the process is killed
STDERR_LIMIT = 1_000_000  # bytes a post's process may write to fd 2 (C code, faulthandler)
PACKAGE_DIR = Path(__file__).parent
WORKER_PACKAGE = "sitegen_gradcheck_worker"
# Started with ``python -c``: the plugin's folder becomes a private package, so the worker
# imports only worker.py, checker.py and shapes.py (not the plugin's hooks or sitegen).
BOOT = (
    "import importlib, sys, types\n"
    f"pkg = types.ModuleType({WORKER_PACKAGE!r}); pkg.__path__ = [sys.argv[1]]\n"
    f"sys.modules[{WORKER_PACKAGE!r}] = pkg\n"
    f"importlib.import_module({WORKER_PACKAGE!r} + '.worker').main(sys.argv[2], "
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


@dataclass
class PostJob:
    """What a worker needs to run one post; ``to_message`` is what crosses the pipe."""

    rel: str
    blocks: list[dict[str, Any]]
    seed: int = 0
    timeout: float = 60.0
    memory_mb: int = 2048
    rtol: float | None = None
    atol: float | None = None

    def to_message(self) -> dict[str, Any]:
        return {
            "rel": self.rel,
            "blocks": self.blocks,
            "seed": self.seed,
            "timeout": self.timeout,
            "memory_mb": self.memory_mb,
            "rtol": self.rtol,
            "atol": self.atol,
        }


def _worker_sources_digest() -> str:
    """Results depend on the checker and worker code: a change there invalidates them."""
    digest = hashlib.sha256()
    for name in ("checker.py", "worker.py", "shapes.py", "channel.py", "runner.py"):
        path = PACKAGE_DIR / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def _version(package: str) -> str:
    from importlib import metadata  # here: its import costs a build without checks ~15 ms

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Environment:
    """Versions that results depend on (read without importing numpy)."""

    numpy: str
    python: str
    sitegen: str
    code: str

    @classmethod
    def current(cls) -> Environment:
        from sitegen import __version__

        python = ".".join(str(v) for v in sys.version_info[:3])
        return cls(_version("numpy"), python, __version__, _worker_sources_digest())


def cache_key(job: PostJob, env: Environment) -> str:
    """Keyed by the code and options, not by where the blocks sit in the post: editing the
    prose around a block (which moves it) must not run its code again."""
    message = job.to_message()
    message["blocks"] = [dict(block, line=0) for block in job.blocks]
    payload = json.dumps({"v": CACHE_VERSION, "job": message, "env": env.__dict__}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_LINE_IN_TEXT = re.compile(r"\bline (\d+)")


def move_lines(result: dict[str, Any], job: PostJob) -> dict[str, Any]:
    """A cached result with its post line numbers moved to where the blocks are now.

    Each number is moved by the shift of the block it falls in (results record the block
    lines they were made with under ``block_lines``)."""
    old_lines = result.get("block_lines") or []
    spans = []
    for old, block in zip(old_lines, job.blocks, strict=False):
        spans.append((old, old + block["code"].count("\n") + 1, block["line"] - old))

    def moved(line: Any) -> Any:
        if not isinstance(line, int):
            return line
        for start, end, shift in spans:
            if start <= line <= end:
                return line + shift
        return line

    def moved_text(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return _LINE_IN_TEXT.sub(lambda m: f"line {moved(int(m.group(1)))}", text)

    for block in result.get("blocks", []):
        block["line"] = moved(block.get("line"))
        block["error_line"] = moved(block.get("error_line"))
        block["error"] = moved_text(block.get("error"))
        for check in block.get("checks", []):
            check["line"] = moved(check.get("line"))
            check["message"] = moved_text(check.get("message"))
    result["block_lines"] = [block["line"] for block in job.blocks]
    return result


@dataclass
class ResultCache:
    folder: Path

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, result: dict[str, Any]) -> None:
        try:
            data = json.dumps(result, sort_keys=True).encode("utf-8")
        except (TypeError, ValueError):
            return  # results only ever hold JSON data; never half-write one that does not
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError:
            # a read-only site still builds; it just runs the code every time
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)


# a timeout depends on how busy the machine was, a garbled channel or a failed worker on
# what else happened: run those posts again next time
_NOT_CACHED = {"timeout", "channel", "worker"}


def _cacheable(result: dict[str, Any]) -> bool:
    return not any(b.get("error_kind") in _NOT_CACHED for b in result["blocks"])


# ------------------------------------------------------------------------- workers


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


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass  # already gone


def _exit_reason(code: int) -> str:
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
            _kill_group(self.pid)  # what the post started ends with the post
        return code

    def close(self) -> None:
        for fd in (self.result_fd, self.stderr_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class Worker:
    """A warm parent process: it imports numpy once and forks a fresh child for each post
    (``worker.py``); it never runs a post's code itself."""

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
        return _exit_reason(code)

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            self.stderr.seek(max(self.stderr.tell() - limit, 0))
            return self.stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def kill(self) -> None:
        _kill_group(self.process.pid)
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


@dataclass
class WorkerPool:
    """Up to ``size`` warm parents, shared by the threads that run posts.

    ``sitegen serve`` can keep one pool across rebuilds so edits never wait for numpy to
    import; a build creates one and closes it when verification ends. With ``start`` =
    "spawn" no parent is kept: each post starts a process of its own.
    """

    size: int
    cwd: Path
    start: str = field(default_factory=default_start)
    started: int = 0  # processes ever started that import numpy (a cached build: none)
    _idle: list[Worker] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def warm(self, count: int) -> None:
        """Start parents ahead of need, so numpy imports in parallel with other work."""
        if self.start != "fork":
            return
        with self._lock:
            while len(self._idle) < min(count, self.size):
                self._idle.append(Worker(self.cwd))
                self.started += 1

    def acquire(self) -> Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.started += 1
        return Worker(self.cwd)

    def release(self, worker: Worker) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(worker)
                return
        worker.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()

    def run(self, job: PostJob) -> dict[str, Any]:
        """Run one post in a fresh process; every failure becomes part of the result."""
        result: dict[str, Any] = {"blocks": [], "sizes": {}, "size_names": {}, "time": 0.0}
        token = channel.new_token()
        message = dict(job.to_message(), token=token.hex())
        if self.start != "fork":
            with self._lock:
                self.started += 1
            post = spawn_post(self.cwd, message)
            try:
                collect(post, job, token, result)
            finally:
                post.close()
            return result
        worker = self.acquire()
        healthy = False
        try:
            worker.wait_ready()
            result["numpy"], result["python"] = worker.versions
            post = worker.start_post(message)
            try:
                healthy = collect(post, job, token, result)
            finally:
                post.close()
        except WorkerDied as exc:
            _fail_block(job, result, str(exc), "worker", worker.stderr_tail())
        finally:
            if healthy:
                self.release(worker)
            else:
                worker.kill()
        return result


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


_STATUSES = {"pass", "fail", "error"}


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
        _kill_group(post.pid)
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
        _kill_group(post.pid)
        code = post.exit_code(10 * GRACE_SECONDS)
        healthy = code is not None
    else:
        _drain(post.result_fd, reader, reading)
    if failure and failure[0]:
        _fail_block(job, result, failure[0], failure[1], "")
    elif not reading.done:
        tail = reading.stderr[-2000:].decode("utf-8", "replace")
        _fail_block(job, result, _exit_reason(code or 0), "crash", tail)
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


def _fail_block(
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


# ------------------------------------------------------------------------ verifying


@dataclass
class Verification:
    """Results of one round of verification; ``future`` resolves when every post is done.

    ``results`` maps a post's ``rel`` to its result dict (blocks, sizes, time, numpy,
    ``cached``). ``executed`` lists the posts whose code actually ran.
    """

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    future: Future | None = None

    def wait(self) -> dict[str, dict[str, Any]]:
        if self.future is not None:
            self.future.result()
        return self.results


def run_jobs(
    root: Path,
    jobs: Iterable[PostJob],
    *,
    workers: int,
    rerun: bool = False,
    wait: bool = True,
    pool: WorkerPool | None = None,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    cache_only: bool = False,
) -> Verification:
    """Run (or fetch from the cache) every job; see ``Verification``.

    With ``wait=False`` cached results are in ``results`` at once and the rest arrive in
    the background; ``on_result(rel, result)`` is called from a worker thread for each.
    A caller-owned ``pool`` is left open; otherwise one is made and closed here. With
    ``cache_only`` nothing runs: what the cache lacks is left in ``pending``.
    """
    if not jobs:  # nothing to look up: not even the versions results depend on
        return Verification()
    env = Environment.current()
    cache = ResultCache(root / CACHE_DIR)
    verification = Verification()
    to_run: list[tuple[PostJob, str]] = []
    for job in jobs:
        key = cache_key(job, env)
        cached = None if rerun else cache.get(key)
        if cached is not None:
            cached = move_lines(cached, job)
            cached["cached"] = True
            verification.results[job.rel] = cached
            if on_result is not None:
                on_result(job.rel, cached)
        else:
            to_run.append((job, key))
    verification.pending = [job.rel for job, _ in to_run]
    if not to_run or cache_only:
        return verification
    own_pool = pool is None
    active = pool or WorkerPool(size=max(1, workers), cwd=root)
    active.warm(min(len(to_run), active.size))

    def one(job: PostJob, key: str) -> None:
        result = active.run(job)
        result["cached"] = False
        result["block_lines"] = [block["line"] for block in job.blocks]
        if _cacheable(result):
            cache.put(key, result)
        verification.results[job.rel] = result
        verification.executed.append(job.rel)
        if on_result is not None:
            on_result(job.rel, result)

    from concurrent.futures import ThreadPoolExecutor

    def run_all() -> None:
        try:
            with ThreadPoolExecutor(max_workers=active.size) as threads:
                for done in [threads.submit(one, job, key) for job, key in to_run]:
                    done.result()
        finally:
            if own_pool:
                active.close()

    if wait:
        run_all()
        return verification
    background = ThreadPoolExecutor(max_workers=1)
    verification.future = background.submit(run_all)
    background.shutdown(wait=False)
    return verification
