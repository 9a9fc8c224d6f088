"""Time one command and record its memory: wall clock, largest process RSS, process-tree RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Sample:
    """One run of one command."""

    wall: float  # seconds
    max_rss_mb: float  # largest single process of the run (wait4's ru_maxrss)
    returncode: int
    tree_rss_mb: float | None = None  # peak summed RSS of the process tree, when sampled
    # peak summed PSS of the tree: a page shared by forked processes counts once in all
    # (summed RSS counts it in each), so this is the memory the tree occupies
    tree_pss_mb: float | None = None
    error: str = ""  # tail of stderr when the command failed
    cpu: float = 0.0  # user + system seconds of the command and its reaped children


@dataclass
class Series:
    """Repeated samples of one measure; the summary statistics come from the good ones."""

    samples: list[Sample] = field(default_factory=list)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.returncode == 0]

    @property
    def failed(self) -> bool:
        return not self.ok

    def median(self) -> float | None:
        return statistics.median(s.wall for s in self.ok) if self.ok else None

    def spread(self) -> tuple[float, float] | None:
        walls = [s.wall for s in self.ok]
        return (min(walls), max(walls)) if walls else None

    def median_cpu(self) -> float | None:
        return statistics.median(s.cpu for s in self.ok) if self.ok else None

    def peak_rss_mb(self) -> float | None:
        return max((s.max_rss_mb for s in self.ok), default=None)

    def peak_tree_mb(self) -> float | None:
        trees = [s.tree_rss_mb for s in self.samples if s.tree_rss_mb is not None]
        return max(trees, default=None)

    def first_error(self) -> str:
        return next((s.error for s in self.samples if s.returncode != 0), "")


def _children_map() -> dict[int, list[int]]:
    # One pass over /proc: parent pid -> child pids. Processes may vanish mid-scan.
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; fields resume after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss_bytes(root_pid: int) -> int:
    """Summed resident memory of ``root_pid`` and all its descendants (0 if it is gone)."""
    children = _children_map()
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident * PAGE_SIZE
        todo.extend(children.get(pid, ()))
    return total


def _tree_pids(root_pid: int) -> list[int]:
    children = _children_map()
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def tree_pss_bytes(root_pid: int) -> int:
    """Summed proportional set size of ``root_pid`` and its descendants: each page shared
    between them (a forked worker's copy-on-write memory) divided among its sharers."""
    total = 0
    for pid in _tree_pids(root_pid):
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
                break
    return total


def _sample_tree(pid: int, stop: threading.Event, peak: list[int], interval: float) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], tree_rss_bytes(pid))
        peak[1] = max(peak[1], tree_pss_bytes(pid))
        stop.wait(interval)


def run_timed(
    cmd: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    sample_tree: bool = False,
    timeout: float = 1800.0,
) -> Sample:
    """Run ``cmd`` to completion and measure it.

    wait4() gives the rusage of exactly this child (and the descendants it reaped), so peak
    memory is per run, unlike RUSAGE_CHILDREN which only ever grows across runs. Sampling
    the process tree every 20 ms adds the memory of parallel workers, at a small CPU cost,
    which is why it is optional (used on warm-up runs only).
    """
    out = open(log, "wb") if log else subprocess.DEVNULL  # closed in the finally below
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env) if env else None,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        stop, peak = threading.Event(), [0, 0]
        sampler = None
        if sample_tree:
            sampler = threading.Thread(target=_sample_tree, args=(proc.pid, stop, peak, 0.02))
            sampler.start()
        # A timer kills our own session on timeout; the blocking wait4 then returns at once.
        killer = threading.Timer(timeout, os.killpg, args=(proc.pid, 9))
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not reap it again
        stop.set()
        if sampler:
            sampler.join()
    finally:
        if log:
            out.close()
    error = ""
    if proc.returncode != 0 and log:
        error = log.read_text(errors="replace")[-600:]
    return Sample(
        wall=wall,
        max_rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
        returncode=proc.returncode,
        tree_rss_mb=peak[0] / 2**20 if sample_tree else None,
        tree_pss_mb=peak[1] / 2**20 if sample_tree and peak[1] else None,
        error=error,
        cpu=usage.ru_utime + usage.ru_stime,
    )
