"""The requirement that installs the sitegen running now, for a site's ``requirements.txt``:
what ``sitegen init`` writes there, and what the site's CI workflow (and a host such as
Netlify, which reads that file) installs, so CI builds with what the author uses.

As ``pip freeze`` names an installed package: a release from an index is pinned
(``sitegen==0.1.0``); one installed from a git URL is that URL at the installed commit;
one installed from a local git checkout (``pip install -e .``) is the checkout's
``origin`` remote at its commit. A folder or file no CI machine can reach gives the
version pin and a note saying what to change.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sitegen import __version__

NAME = "sitegen"
# git@host:owner/repo.git, the form `git clone` over SSH prints
_SCP_LIKE = re.compile(r"^[\w.-]+@([\w.-]+):(?!//)(.+)$")


@dataclass(frozen=True)
class Requirement:
    line: str  # a line of requirements.txt
    note: str | None = None  # what the author should know about it, or None


def installed_requirement() -> Requirement:
    """The requirement for the sitegen this process runs."""
    try:
        text = metadata.distribution(NAME).read_text("direct_url.json")
    except metadata.PackageNotFoundError:  # run from a source tree, not installed
        text = None
    try:
        direct_url = json.loads(text) if text else None
    except ValueError:
        direct_url = None
    return requirement_for(__version__, direct_url, git_origin)


def requirement_for(
    version: str,
    direct_url: dict | None,
    origin_of: Callable[[Path], tuple[str, str] | None],
) -> Requirement:
    """The requirement for sitegen ``version`` installed as PEP 610's ``direct_url``
    says (None: from an index); ``origin_of`` gives a local checkout's (remote, commit)."""
    pinned = f"{NAME}=={version}"
    if not isinstance(direct_url, dict) or not isinstance(direct_url.get("url"), str):
        return Requirement(pinned)
    url = direct_url["url"]
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return Requirement(f"{NAME} @ git+{url}@{vcs['commit_id']}")
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return Requirement(f"{NAME} @ {url}")
    folder = Path(unquote(parts.path)) if parts.scheme == "file" else None
    found = origin_of(folder) if folder is not None and folder.is_dir() else None
    if found is not None:
        remote, commit = found
        return Requirement(
            f"{NAME} @ git+{remote}@{commit}",
            f"requirements.txt installs sitegen from {remote} at commit {commit[:12]}, "
            f"the commit of {folder}: push it there before the site's first push",
        )
    return Requirement(
        pinned,
        f"sitegen runs from {folder or url}, which a CI machine cannot install: "
        f"requirements.txt says {pinned}; change it to a published version or a git URL "
        "(sitegen @ git+https://…) before the site's first push",
    )


def git_origin(folder: Path) -> tuple[str, str] | None:
    """(``origin`` as a URL pip can clone without a key, HEAD's commit) of the git
    checkout ``folder``, or None when it has no such remote."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    remote, commit = git("remote", "get-url", "origin"), git("rev-parse", "HEAD")
    if not remote or not commit:
        return None
    scp = _SCP_LIKE.match(remote)
    if scp:  # CI has no SSH key; a public repository clones over https
        remote = f"https://{scp[1]}/{scp[2]}"
    elif urlsplit(remote).scheme not in ("https", "http", "ssh", "git"):
        return None  # a path or file: URL exists on this machine only
    return remote, commit
