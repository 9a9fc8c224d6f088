"""gradcheck: run the numpy code in posts and show which stated gradients it verifies.

Hooks (see ``sitegen.hooks``):

* ``sitegen_extend_markdown`` — render ``python verify`` / ``python exec`` fences with
  their results, and add badges next to equations (checks naming them, "not verified",
  stated shapes that disagree with the code);
* ``sitegen_posts_parsed`` — collect every post's executed blocks and run them, posts in
  parallel in worker processes (``runner``), before any post is rendered;
* ``sitegen_extra_pages`` — ``/verification/`` and ``/verification.json``.

Per post, ``post.data["verification"]`` holds the results (see ``state.PostState``) and
``post.data["badge_html"]`` the summary badge the theme shows. Its templates and CSS are in
``theme/`` (``sitegen_theme_folder``). This module holds the hooks; ``jobs`` makes a post's
job, ``state`` folds its results in, ``rules`` renders fences and equations. It never
imports numpy: only the workers do.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.hooks import hookimpl

from .blocks import collect_blocks, option_problems
from .jobs import post_equations, post_job
from .rules import add_rules
from .settings import SETTINGS_KEY, TABLES, settings  # noqa: F401 (TABLES: the engine reads it)
from .state import STATE_KEY, PostState, apply_results
from .summary import extra_pages

if TYPE_CHECKING:  # the runner is imported when code runs or results are kept
    from .runner import PostJob

# a post's data: the cache key of its result (kept in the body cache with the post)
RESULT_KEY = "gradcheck_result_key"

# Its settings are the [verify] table (TABLES); [plugins.gradcheck] takes only "enabled".
SETTINGS: dict = {}


def _workers(site: Any) -> int:
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return 1  # the engine forked one render process per core: one worker each
    return site.options.jobs or os.cpu_count() or 1


def _verifying(site: Any) -> bool:
    """Whether this build runs the code (``--no-verify`` turns it off)."""
    return site.options.extra.get("verify") is not False


@hookimpl
def sitegen_add_options(command: str, parser: Any) -> None:
    parser.add_argument(
        "--no-verify", dest="verify", action="store_false", help="skip running verify blocks"
    )


@hookimpl
def sitegen_add_commands(subparsers: Any, common: Any) -> None:
    from .command import add_command

    add_command(subparsers, common)


THEME_FOLDER = Path(__file__).parent / "theme"  # verification.html, static/gradcheck.css
STYLESHEET = "/theme/gradcheck.css"


@hookimpl
def sitegen_theme_folder(site: Any) -> Path:
    return THEME_FOLDER


@hookimpl
def sitegen_configure(site: Any) -> None:
    site.data.pop(SETTINGS_KEY, None)
    settings(site)  # [verify] is checked before anything is read
    if _verifying(site):  # counted over the build's batches (each build has its own site)
        site.data.update(gradcheck_executed=[], gradcheck_started=0)
    sheets = site.data.setdefault("stylesheets", [])
    if STYLESHEET not in sheets:  # serve copies site.data into every rebuild
        sheets.append(STYLESHEET)
    if _verifying(site) or site.options.serve:
        nav = site.data.setdefault("nav", [])
        if ("Verification", "/verification/") not in nav:
            nav.append(("Verification", "/verification/"))
    if site.options.serve and "gradcheck_pool" not in site.data:
        # sitegen serve copies site.data into every rebuild: one warm pool for the session
        from .runner import WorkerPool

        site.data["gradcheck_pool"] = WorkerPool(size=_workers(site), cwd=site.root)


@hookimpl
def sitegen_body_key(site: Any, post: Any) -> str:
    """A post's results depend on the options its code runs with and the versions it
    runs on (this plugin's own code is part of the site's settings)."""
    key = site.data.get("gradcheck_body_key")
    if key is None:
        # serve with --no-verify shows cached results only (and keeps no body of it)
        peek = not _verifying(site) and site.options.serve
        key = f"{_verifying(site)}\0{peek}\0{settings(site)!r}\0{_numpy_install()}"
        site.data["gradcheck_body_key"] = key
    return key


def _numpy_install() -> str:
    """Which numpy (and Python) the code would run with, told without importing numpy or
    reading package metadata (both cost more than a rebuild's other work): where its
    package is and when it was installed. An upgrade changes the time."""
    import importlib.util

    spec = importlib.util.find_spec("numpy")
    where = spec.origin if spec is not None and spec.origin else ""
    try:
        stamp = os.stat(where).st_mtime_ns if where else 0
    except OSError:
        stamp = 0
    return f"{sys.version_info[:3]}\0{where}\0{stamp}"


@hookimpl
def sitegen_posts_parsed(site: Any, posts: list[Any]) -> None:
    """Run every post's blocks (from the cache when nothing changed) before rendering.

    With ``--no-verify`` nothing runs; under ``sitegen serve`` (its first, fast
    pass) cached results are still shown, and posts that need a run are marked
    ``post.data["verify_pending"]`` and render "verifying…" badges until the second pass.
    """
    peek = not _verifying(site) and site.options.serve
    if not _verifying(site) and not peek:
        _keep_results(site, posts)
        return
    jobs: list[PostJob] = []
    for post in posts:
        if post.meta.get("verify") is False or "tokens" not in post.data:
            continue
        env = post.data.get("env") or {}
        blocks = collect_blocks(post.data["tokens"], int(env.get("line_offset", 1)))
        for block in blocks:
            for message in option_problems(block.options, block.kind):
                site.report.warning(post.rel, block.line - 1, message)
        # a post without code has no arrays to compare stated shapes with: only the
        # formulas that state something matter to it
        state = PostState(blocks=blocks, equations=post_equations(post, every=bool(blocks)))
        post.data[STATE_KEY] = state
        if blocks:
            jobs.append(post_job(site, post, blocks, state.equations))
        else:
            state.finish(site, post, None)
    by_rel = {p.rel: p for p in posts}
    if not jobs:  # nothing to run or look up
        site.data["gradcheck_executed"], site.data["gradcheck_started"] = [], 0
        return
    from .runner import WorkerPool, run_jobs

    pool = site.data.get("gradcheck_pool")
    verification = run_jobs(
        site.root,
        jobs,
        workers=_workers(site),
        rerun=site.options.rerun,
        pool=pool if isinstance(pool, WorkerPool) else None,
        cache_only=peek,
        store=site.cache,
        on_result=_progress(site, len(jobs)) if not peek else None,
    )
    for rel, key in verification.keys.items():
        by_rel[rel].data[RESULT_KEY] = key
    # which posts' code this process ran in this build, over all its batches of posts
    # (tests and bench/bench_rebuild.py read it: a cached rebuild runs none; a forked copy
    # of the Markdown stage counts its share in its own site.data), and how many
    # processes it started for them (a prose edit: none)
    site.data["gradcheck_executed"] = sorted(
        {*site.data.get("gradcheck_executed", ()), *verification.executed}
    )
    site.data["gradcheck_started"] = site.data.get("gradcheck_started", 0) + verification.started
    apply_results(site, verification, by_rel)


def _keep_results(site: Any, posts: list[Any]) -> None:
    """``--no-verify`` runs nothing, but each post remembers the key its result would
    have, so the results stay in the store (``sitegen_extra_pages``) for the next build
    that verifies."""
    jobs = []
    for post in posts:
        if post.meta.get("verify") is False or "tokens" not in post.data:
            continue
        env = post.data.get("env") or {}
        blocks = collect_blocks(post.data["tokens"], int(env.get("line_offset", 1)))
        if blocks:
            jobs.append(post_job(site, post, blocks, post_equations(post)))
    if not jobs:
        return
    from .results import result_keys

    by_rel = {post.rel: post for post in posts}
    for rel, key in result_keys(jobs).items():
        by_rel[rel].data[RESULT_KEY] = key


def _progress(site: Any, total: int) -> Any:
    """A counter on the terminal while posts run (plain output stays quiet)."""
    stream = sys.stderr
    if site.options.quiet or total < 2 or not stream.isatty():
        return None
    lock = threading.Lock()
    done = [0]

    def tick(rel: str, result: dict[str, Any]) -> None:
        with lock:
            done[0] += 1
            end = "\n" if done[0] == total else ""
            stream.write(f"\rverifying: {done[0]}/{total} posts{end}")
            stream.flush()

    return tick


@hookimpl
def sitegen_extend_markdown(md: Any, site: Any) -> None:
    add_rules(md)


@hookimpl
def sitegen_extra_pages(site: Any) -> list[Any]:
    # every post's result stays in the store, also where the post's body (and data) came
    # from the body cache and nothing looked the result up
    keys = [p.data.get(RESULT_KEY) for p in site.posts + site.pages]
    keys = [key for key in keys if isinstance(key, str)]
    if keys:
        from .results import keep_results

        keep_results(site.root, keys, site.cache)
    if not _verifying(site) and not site.options.serve:
        return []  # sitegen build --no-verify
    return extra_pages(site, STATE_KEY)


NEW_POST_BLOCK = '''The code below checks it: a build runs the block and marks the equation verified
when the stated gradient matches the loss.

```python verify
dims(D=3)
x = rng.standard_normal(D); y = 1.0; w = rng.standard_normal(D)

def loss(w):
    return 0.5 * (x @ w - y) ** 2

dw = (x @ w - y) * x
check_grad(loss, w, dw, name="∂L/∂w", eq="eq:grad")
```
'''


@hookimpl
def sitegen_new_post(root: Any, title: str) -> str:
    """A new post starts with a checked example (its equation is the template's own)."""
    return NEW_POST_BLOCK


NEW_SITE_SETTINGS = """[verify]
timeout = 60
memory_mb = 2048
"""


@hookimpl
def sitegen_new_site(root: Any) -> str:
    """A new site says how long and how large a post's code may run."""
    return NEW_SITE_SETTINGS
