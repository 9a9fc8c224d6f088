"""The edit the benchmarks make to a post, and how ``sitegen serve``'s answer to it is
timed over HTTP: ``bench/run.py`` and ``bench/bench_serve.py`` share both, so their
"save to visible (HTTP)" figures time the same thing (file written → page served with
the edit), and ``bench_serve.py``'s browser figure adds only the browser's part."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path


def edit_post(path: Path, original: str, marker: str) -> None:
    # Appending a paragraph is a realistic save: the body changes, the front matter does not.
    path.write_text(original + f"\nEdited for the benchmark: {marker}.\n", encoding="utf-8")


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError):
        return None


def wait_served(url: str, marker: str, started: float, timeout: float = 20.0) -> float | None:
    """Seconds from ``started`` (a ``time.perf_counter()`` taken just before the file was
    written) until ``url`` serves a page holding ``marker``; None if it never does."""
    while time.perf_counter() - started < timeout:
        body = fetch(url)
        if body is not None and marker in body:
            return time.perf_counter() - started
        time.sleep(0.002)
    return None


def rebuilds_logged(log: Path) -> int:
    """How many rebuilds a ``sitegen serve`` has reported in its log so far."""
    try:
        return log.read_text(encoding="utf-8", errors="replace").count(" rebuilt: ")
    except OSError:
        return 0


def wait_rebuilt(log: Path, before: int, timeout: float = 60.0) -> None:
    """Until the server's log reports a rebuild more than ``before``: the rest of the
    rebuild (listing pages) is done, so the next edit does not wait for it."""
    end = time.perf_counter() + timeout
    while rebuilds_logged(log) <= before and time.perf_counter() < end:
        time.sleep(0.01)
