"""Running posts' code: a fresh process per post, with limits.

The builder never imports numpy. A warm parent process imports it once and forks a fresh
child for every post (``worker.py``; where forking is unavailable each post is spawned),
so no post runs in a state another post has touched. The child runs in a process group
of its own, which is killed when the post ends, so nothing the post started outlives it.
Its results come back on a pipe made for that post alone (``channel.py``), read with a
deadline; its standard error is capped. A post that hits a limit, crashes or garbles its
channel gets an error naming the reason; the other posts are not affected. Results are
cached (``results.py``), so a rebuild with nothing changed starts no worker at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import channel
from .collect import collect, fail_block
from .processes import Worker, WorkerDied, default_start, spawn_post
from .results import (
    Environment,
    ResultCache,
    cache_key,
    cacheable,
    mark_reused,
    move_lines,
    store_of,
)


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
    cache = ResultCache(store_of(root, store))
    try:
        return _run_or_fetch(jobs, env, cache, root, workers, rerun, pool, on_result,
                             cache_only)
    finally:
        if store is None:  # a store of its own: what it holds is written now
            cache.store.flush()


def _run_or_fetch(
    jobs: Iterable[PostJob],
    env: Any,
    cache: ResultCache,
    root: Path,
    workers: int,
    rerun: bool,
    pool: WorkerPool | None,
    on_result: Callable[[str, dict[str, Any]], None] | None,
    cache_only: bool,
) -> Verification:
    verification = Verification()
    to_run: list[tuple[PostJob, str]] = []
    for job in jobs:
        key = verification.keys[job.rel] = cache_key(job, env)
        cached = None if rerun else cache.get(key)
        if cached is not None:
            cached = move_lines(cached if cacheable(cached) else mark_reused(cached), job)
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
