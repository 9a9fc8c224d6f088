"""Running posts' code: a fresh process per post, limits, and a result cache.

The builder never imports numpy. A warm parent process imports it once and forks a fresh
child for every post (``worker.py``; where forking is unavailable each post is spawned),
so no post runs in a state another post has touched. The child runs in a process group
of its own, which is killed when the post ends, so nothing the post started outlives it.
Its results come back on a pipe made for that post alone (``channel.py``), read with a
deadline; its standard error is capped. A post that hits a limit, crashes or garbles its
channel gets an error naming the reason; the other posts are not affected.

Results are cached by content in the site's one cache store (``site.cache``): the key covers the
post's executed code and options, the numpy and Python versions, and the source of this
plugin, so a rebuild with nothing changed starts no worker at all. A result that depends on
the moment (a timeout, a crash of the post's process) is kept for the process that made it
only: ``sitegen serve`` does not wait for the same timeout on every save, and a later
``sitegen build`` runs the post again, since a timeout may have been the machine's load.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import channel
from .collect import collect, fail_block
from .processes import PACKAGE_DIR, Worker, WorkerDied, default_start, spawn_post

CACHE_VERSION = 3  # 3: each post runs in a fresh process
# where results were kept before they moved into the site's one store
_OLD_FOLDER = Path(".sitegen-cache") / "verify"
# names this process (and the render processes it forks, which share its builds) in the
# results only it may reuse; see ``_cacheable``
PROCESS_ID = uuid.uuid4().hex


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
    """Results depend on the code that runs in the post's process and on how the runner
    reads it: a change to any module of this plugin invalidates them."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _version(package: str) -> str:
    if package == "numpy":  # numpy states it in a file: read it rather than ask metadata
        stated = _numpy_version_file()
        if stated:
            return stated
    from importlib import metadata  # here: importing and asking cost a rebuild ~15–30 ms

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


_STATED_VERSION = re.compile(r"""^version\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def _numpy_version_file() -> str:
    """numpy's version as its ``version.py`` states it, without importing numpy; "" when
    it cannot be read."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("numpy")
        if spec is None or not spec.origin:
            return ""
        text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    except (OSError, ImportError, ValueError, UnicodeDecodeError):
        return ""
    found = _STATED_VERSION.search(text)
    return found.group(1) if found else ""


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
    """Results in the site's cache store (``sitegen.cache.CacheStore``), as JSON under
    their content key."""

    store: Any

    @staticmethod
    def entry(key: str) -> str:
        return f"gradcheck result {key}"

    def get(self, key: str) -> dict[str, Any] | None:
        data = self.store.get(self.entry(key))
        try:
            found = json.loads(data) if data is not None else None
        except ValueError:
            return None
        if not isinstance(found, dict):
            return None
        kept_for = found.pop("process", None)
        if kept_for is not None and kept_for != PROCESS_ID:
            return None  # another process's timeout or crash: run the code again
        return found

    def put(self, key: str, result: dict[str, Any]) -> None:
        if not _cacheable(result):
            result = dict(result, process=PROCESS_ID)
        try:
            data = json.dumps(result, sort_keys=True).encode("utf-8")
        except (TypeError, ValueError):
            return  # results only ever hold JSON data; never store one that does not
        self.store.put(self.entry(key), data)  # a read-only site: not stored, still built

    def keep(self, key: str) -> None:
        self.store.keep(self.store.name(self.entry(key)))


def _store_of(root: Path, store: Any) -> Any:
    if store is None:
        from sitegen.cache import CacheStore

        store = CacheStore(root)
    # results of versions before the one store: never read again
    if (root / _OLD_FOLDER).is_dir():
        shutil.rmtree(root / _OLD_FOLDER, ignore_errors=True)
    return store


def result_keys(jobs: Iterable[PostJob]) -> dict[str, str]:
    """The cache key of each job's result, by post."""
    jobs = list(jobs)
    if not jobs:
        return {}
    env = Environment.current()
    return {job.rel: cache_key(job, env) for job in jobs}


def keep_results(root: Path, keys: Iterable[str], store: Any = None) -> None:
    """Keep these results in the store through its sweep without reading them: posts whose
    body came from the body cache, and ``--no-verify`` builds, still have results that the
    next build that runs code should find."""
    cache = ResultCache(_store_of(root, store))
    for key in keys:
        cache.keep(key)


# a timeout depends on how busy the machine was, a garbled channel or a failed worker on
# what else happened: such a result is reused only by the process that made it, and the
# post runs again in the next one
_NOT_CACHED = {"timeout", "channel", "worker"}


def _cacheable(result: dict[str, Any]) -> bool:
    return not any(b.get("error_kind") in _NOT_CACHED for b in result["blocks"])


def _mark_reused(result: dict[str, Any]) -> dict[str, Any]:
    """An error result of this process, reused: its page says so, so that an error whose
    cause is gone (a busy machine) is not taken for a new run. The terminal's message stays
    the same, so that ``serve`` does not repeat it on every save."""
    for block in result.get("blocks", []):
        if block.get("error_kind") in _NOT_CACHED:
            block["reused"] = True
    return result


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
            fail_block(job, result, str(exc), "worker", worker.stderr_tail())
        finally:
            if healthy:
                self.release(worker)
            else:
                worker.kill()
        return result


# ------------------------------------------------------------------------ verifying


@dataclass
class Verification:
    """Results of one round of verification.

    ``results`` maps a post's ``rel`` to its result dict (blocks, sizes, time, numpy,
    ``cached``). ``executed`` lists the posts whose code actually ran.
    """

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    # processes this round started (warm parents and spawned posts): none when every
    # post's result came from the cache
    started: int = 0
    # the cache key of each post's result
    keys: dict[str, str] = field(default_factory=dict)


def run_jobs(
    root: Path,
    jobs: Iterable[PostJob],
    *,
    workers: int,
    rerun: bool = False,
    pool: WorkerPool | None = None,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    cache_only: bool = False,
    store: Any = None,
) -> Verification:
    """Run (or fetch from the cache) every job; see ``Verification``.

    ``on_result(rel, result)`` is called for each post as its result comes (from a worker
    thread for posts that run). A caller-owned ``pool`` is left open; otherwise one is made
    and closed here. With ``cache_only`` nothing runs: what the cache lacks is left in
    ``pending``. Results are cached in ``store`` (the site's ``CacheStore``; by default
    the one of the site at ``root``).
    """
    if not jobs:  # nothing to look up: not even the versions results depend on
        return Verification()
    env = Environment.current()
    cache = ResultCache(_store_of(root, store))
    verification = Verification()
    to_run: list[tuple[PostJob, str]] = []
    for job in jobs:
        key = verification.keys[job.rel] = cache_key(job, env)
        cached = None if rerun else cache.get(key)
        if cached is not None:
            cached = move_lines(cached if _cacheable(cached) else _mark_reused(cached), job)
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
    started_before = active.started
    active.warm(min(len(to_run), active.size))

    def one(job: PostJob, key: str) -> None:
        result = active.run(job)
        result["cached"] = False
        result["block_lines"] = [block["line"] for block in job.blocks]
        cache.put(key, result)
        verification.results[job.rel] = result
        verification.executed.append(job.rel)
        if on_result is not None:
            on_result(job.rel, result)

    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(max_workers=active.size) as threads:
            for done in [threads.submit(one, job, key) for job, key in to_run]:
                done.result()
    finally:
        if own_pool:
            active.close()
        verification.started = active.started - started_before
    return verification
