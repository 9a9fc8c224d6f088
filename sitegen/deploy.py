"""``sitegen deploy``: build strict and publish the output to a ``gh-pages`` branch.

The output is committed without touching the working tree or its index: a temporary index
is filled from the output folder, written as a tree and committed on top of the branch's
last commit (the remote's, when it has one), with a ``.nojekyll`` file so GitHub Pages
serves the files as they are. Then the branch is pushed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sitegen import __version__
from sitegen.model import BuildOptions
from sitegen.write import MARKER

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class DeployError(Exception):
    """Why nothing was published (a message for the author)."""


@dataclass
class DeployOptions:
    remote: str = "origin"
    branch: str = "gh-pages"
    message: str = ""
    push: bool = True
    allow_dirty: bool = False


def git(root: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> str:
    """Run git in ``root``; its output, or a DeployError with what git said."""
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()
        raise DeployError(f"git {' '.join(args[:2])} failed: {said}")
    return done.stdout.strip()


def dirty_files(root: Path, ignored: list[Path]) -> list[str]:
    """Changed or untracked files under ``root``, leaving out the output and cache folders."""
    listing = git(root, "status", "--porcelain", "--untracked-files=normal", "--", ".")
    top = Path(git(root, "rev-parse", "--show-toplevel")).resolve()
    skip = [p.resolve() for p in ignored]
    dirty = []
    for line in listing.splitlines():
        # "XY path" (git's output is stripped, so an unstaged " M" may have lost its space)
        name = line.split(maxsplit=1)[-1].split(" -> ")[-1].strip('"')
        path = (top / name).resolve()
        if not any(path == s or s in path.parents for s in skip):
            dirty.append(name)
    return dirty


def commit_output(root: Path, out: Path, options: DeployOptions) -> str | None:
    """Commit the files of ``out`` as the branch's new tip; its hash, or None when the
    branch already holds exactly these files."""
    ref = f"refs/heads/{options.branch}"
    parent = None
    if options.push:
        tracking = f"refs/remotes/{options.remote}/{options.branch}"
        try:  # publish on top of what the remote has, so the push is a fast-forward
            git(root, "fetch", "--quiet", options.remote, f"+{ref}:{tracking}")
            parent = git(root, "rev-parse", "--verify", "--quiet", tracking)
        except DeployError:
            parent = None  # the remote has no such branch yet
    if parent is None:
        try:
            parent = git(root, "rev-parse", "--verify", "--quiet", ref)
        except DeployError:
            parent = None
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        work = ["--work-tree", str(out.resolve())]
        git(root, *work, "add", "--all", "--force", ".", env=env)
        # the engine's mark on its output folder is not part of the site
        git(root, "update-index", "--force-remove", MARKER, env=env)
        empty = git(root, "hash-object", "-w", "--stdin", stdin="")
        git(root, "update-index", "--add", "--cacheinfo", f"100644,{empty},.nojekyll", env=env)
        tree = git(root, "write-tree", env=env)
    if parent and git(root, "rev-parse", f"{parent}^{{tree}}") == tree:
        return None
    message = options.message or f"Deploy {_head(root)} with sitegen {__version__}"
    args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    commit = git(root, *args)
    git(root, "update-ref", ref, commit)
    return commit


def _head(root: Path) -> str:
    try:
        return git(root, "rev-parse", "--short", "HEAD")
    except DeployError:
        return "a new repository"


def deploy(root: Path, build: BuildOptions, options: DeployOptions) -> int:
    """The ``sitegen deploy`` command."""
    from sitegen.build import build_site
    from sitegen.cache import cache_dir
    from sitegen.report import print_diagnostics

    root = root.absolute()
    out = (build.out or root / "_site").absolute()
    try:
        git(root, "rev-parse", "--show-toplevel")
    except DeployError:
        print(f"{root}: error: not in a git repository; deploy publishes to a branch of one",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        if options.push:
            git(root, "remote", "get-url", options.remote)
        dirty = [] if options.allow_dirty else dirty_files(root, [out, cache_dir(root)])
    except DeployError as exc:
        print(f"{root}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if dirty:
        listed = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        print(
            f"{root}: error: uncommitted changes ({listed}); commit or stash them first, so "
            "what is published is what the repository holds (--allow-dirty to publish anyway)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    build.strict = True
    result = build_site(root, build)
    report = result.site.report
    print_diagnostics(report, quiet=build.quiet)
    if report.errors or result.site.failed:
        print(
            f"{root}: error: not deployed: the build failed "
            f"({len(report.errors)} {'error' if len(report.errors) == 1 else 'errors'}"
            f"{', failed checks' if result.site.failed else ''})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        commit = commit_output(root, result.out, options)
        if commit is None:
            print(f"nothing to deploy: {options.branch} already holds this build")
            return EXIT_OK
        if options.push:
            git(root, "push", "--quiet", options.remote, f"{commit}:refs/heads/{options.branch}")
    except DeployError as exc:
        print(f"{root}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    where = f"pushed to {options.remote}" if options.push else "not pushed (--no-push)"
    print(f"deployed {commit[:10]} to branch {options.branch}, {where}")
    return EXIT_OK
