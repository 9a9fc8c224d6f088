"""The result cache of posts' code, in the site's one cache store (``site.cache``).

A result is keyed by the post's executed code and options, the numpy and Python versions,
and the source of this plugin. A result that depends on the moment (a timeout, a crash of
the post's process) is kept for the process that made it only: ``sitegen serve`` does not
wait for the same timeout on every save, and a later ``sitegen build`` runs the post
again, since a timeout may have been the machine's load. Each post keeps its result's key
in its data (kept with its body in the body cache), so results stay in the store through
its sweep also in builds that do not look them up.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .processes import PACKAGE_DIR

if TYPE_CHECKING:
    from .runner import PostJob

CACHE_VERSION = 3  # 3: each post runs in a fresh process
# where results were kept before they moved into the site's one store
_OLD_FOLDER = Path(".sitegen-cache") / "verify"
# names this process (and the render processes it forks, which share its builds) in the
# results only it may reuse; see ``cacheable``
PROCESS_ID = uuid.uuid4().hex


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
        if not cacheable(result):
            result = dict(result, process=PROCESS_ID)
        try:
            data = json.dumps(result, sort_keys=True).encode("utf-8")
        except (TypeError, ValueError):
            return  # results only ever hold JSON data; never store one that does not
        self.store.put(self.entry(key), data)  # a read-only site: not stored, still built

    def keep(self, key: str) -> None:
        self.store.keep(self.store.name(self.entry(key)))


def store_of(root: Path, store: Any) -> Any:
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
    cache = ResultCache(store_of(root, store))
    for key in keys:
        cache.keep(key)


# a timeout depends on how busy the machine was, a garbled channel or a failed worker on
# what else happened: such a result is reused only by the process that made it, and the
# post runs again in the next one
_NOT_CACHED = {"timeout", "channel", "worker"}


def cacheable(result: dict[str, Any]) -> bool:
    return not any(b.get("error_kind") in _NOT_CACHED for b in result["blocks"])


def mark_reused(result: dict[str, Any]) -> dict[str, Any]:
    """An error result of this process, reused: its page says so, so that an error whose
    cause is gone (a busy machine) is not taken for a new run. The terminal's message stays
    the same, so that ``serve`` does not repeat it on every save."""
    for block in result.get("blocks", []):
        if block.get("error_kind") in _NOT_CACHED:
            block["reused"] = True
    return result


