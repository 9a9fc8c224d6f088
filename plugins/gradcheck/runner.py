"""Running posts' code: a pool of warm worker processes, limits, and a result cache.

The builder never imports numpy; each worker imports it once and then runs post after post
(``worker.py``). A worker that hits a limit or dies is replaced, and the post it was running
gets an error naming the reason; the other posts are not affected.

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

if TYPE_CHECKING:
    from concurrent.futures import Future

CACHE_DIR = Path(".sitegen-cache") / "verify"
CACHE_VERSION = 2
STARTUP_SECONDS = 60.0  # importing numpy on a loaded machine
GRACE_SECONDS = 2.0  # after a block's limit, before the process is killed
PACKAGE_DIR = Path(__file__).parent
WORKER_PACKAGE = "sitegen_gradcheck_worker"
# Started with ``python -c``: the plugin's folder becomes a private package, so the worker
# imports only worker.py, checker.py and shapes.py (not the plugin's hooks or sitegen).
BOOT = (
    "import importlib, sys, types\n"
    f"pkg = types.ModuleType({WORKER_PACKAGE!r}); pkg.__path__ = [sys.argv[1]]\n"
    f"sys.modules[{WORKER_PACKAGE!r}] = pkg\n"
    f"importlib.import_module({WORKER_PACKAGE!r} + '.worker').main(int(sys.argv[2]), "
    "int(sys.argv[3]))\n"
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
    # the TeX of each labelled equation (label → TeX) and the post's ``notation:``, so the
    # worker can read the equation a check names (``tex/``)
    equations: dict[str, str] = field(default_factory=dict)
    notation: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> dict[str, Any]:
        return {
            "equations": self.equations,
            "notation": self.notation,
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
    for name in ("checker.py", "worker.py", "shapes.py"):
        path = PACKAGE_DIR / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    for path in sorted((PACKAGE_DIR / "tex").glob("*.py")):  # the equation reader
        digest.update(path.read_bytes())
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
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(result, f, sort_keys=True)
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError:
            pass  # a read-only site still builds; it just runs the code every time


def _cacheable(result: dict[str, Any]) -> bool:
    """A timeout depends on how busy the machine was: run that post again next time."""
    return not any(b.get("error_kind") == "timeout" for b in result["blocks"])


# ------------------------------------------------------------------------- workers


class WorkerDied(Exception):
    pass


class Worker:
    """One warm worker process and its two pipes."""

    def __init__(self, cwd: Path) -> None:
        # here, not at the top: a build without verify blocks never starts a worker
        import subprocess
        from multiprocessing.connection import Connection

        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ, **WORKER_ENV)
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOT, str(PACKAGE_DIR), str(to_worker_r), str(from_worker_w)],
            pass_fds=(to_worker_r, from_worker_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            cwd=str(cwd),
            env=env,
            start_new_session=True,  # Ctrl-C in the terminal reaches the builder only
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.send_conn = Connection(to_worker_w, readable=False)
        self.recv_conn = Connection(from_worker_r, writable=False)
        self.ready = False
        self.versions: tuple[str, str] = ("", "")

    def receive(self, deadline: float) -> tuple | None:
        """The next message, None at the deadline; WorkerDied if the process is gone."""
        try:
            if not self.recv_conn.poll(max(deadline - time.monotonic(), 0)):
                return None
            return self.recv_conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerDied(self.death_reason()) from exc

    def wait_ready(self) -> None:
        if self.ready:
            return
        message = self.receive(time.monotonic() + STARTUP_SECONDS)
        if message is None or message[0] != "ready":
            self.kill()
            raise WorkerDied("the worker process did not start (could not import numpy?)")
        self.versions = (message[1], message[2])
        self.ready = True

    def death_reason(self) -> str:
        import subprocess

        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the worker process stopped answering"
        if code < 0:
            reason = SIGNAL_REASONS.get(-code, f"was killed by signal {-code}")
            return f"the Python process {reason}"
        return f"the Python process exited with status {code} (os._exit or a fatal error)"

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            self.stderr.seek(0)
            return self.stderr.read().decode("utf-8", "replace")[-limit:]
        except OSError:
            return ""

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                self.process.kill()
            self.process.wait()
        for conn in (self.send_conn, self.recv_conn):
            conn.close()
        self.stderr.close()

    def close(self) -> None:
        """An idle worker holds nothing worth a clean exit (numpy's teardown is slow)."""
        self.kill()


@dataclass
class WorkerPool:
    """Up to ``size`` warm workers, shared by the threads that run posts.

    ``sitegen serve`` can keep one pool across rebuilds so edits never wait for numpy to
    import; a build creates one and closes it when verification ends.
    """

    size: int
    cwd: Path
    started: int = 0  # workers ever started (tests read it: a cached build starts none)
    _idle: list[Worker] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def warm(self, count: int) -> None:
        """Start workers ahead of need, so numpy imports in parallel with other work."""
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
        """Run one post in a worker; every failure becomes part of the result."""
        worker = self.acquire()
        result = {"blocks": [], "sizes": {}, "size_names": {}, "time": 0.0}
        healthy = False
        try:
            worker.wait_ready()
            result["numpy"], result["python"] = worker.versions
            healthy = _converse(worker, job, result)
        except WorkerDied as exc:
            _fail_block(job, result, str(exc), "crash", worker.stderr_tail())
        finally:
            if healthy:
                self.release(worker)
            else:
                worker.kill()
        return result


def _converse(worker: Worker, job: PostJob, result: dict[str, Any]) -> bool:
    """Send the job and collect messages until "done"; False if the worker had to go."""
    try:
        worker.send_conn.send(job.to_message())
    except OSError as exc:
        raise WorkerDied(worker.death_reason()) from exc
    deadline = time.monotonic() + STARTUP_SECONDS
    current: tuple[int, float] | None = None
    healthy = True
    while True:
        try:
            message = worker.receive(deadline)
        except WorkerDied as exc:
            _fail_block(job, result, str(exc), "crash", worker.stderr_tail())
            return False
        if message is None:
            own = job.blocks[current[0]]["options"].get("timeout") if current else None
            limit = own or job.timeout
            _fail_block(job, result, f"timed out: the time limit is {limit:g} s", "timeout", "")
            return False
        kind = message[0]
        if kind == "start":
            current = (message[1], message[2])
            deadline = time.monotonic() + message[2] + GRACE_SECONDS
        elif kind == "block":
            block = message[1]
            result["blocks"].append(block)
            # after a MemoryError the worker's heap may be huge and fragmented: replace it
            healthy = healthy and block.get("error_kind") != "memory"
        elif kind == "done":
            result.update(message[1])
            return healthy


def _fail_block(
    job: PostJob, result: dict[str, Any], reason: str, kind: str, detail: str
) -> None:
    """Record that the block after the last reported one failed with ``reason``."""
    done = {b["index"] for b in result["blocks"]}
    pending = [b for b in job.blocks if b["index"] not in done]
    if not pending:
        return
    block = pending[0]
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
