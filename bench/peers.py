"""The generators under test: how to install, version, clean and run each on its corpus."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PEER_VENV = BENCH_DIR / ".peers"

# Pinned so that a rerun months later measures the same peers; Markdown and
# pymdown-extensions give Pelican and MkDocs real math handling (arithmatex).
PYPI_PEERS = {
    "pelican": ["pelican==4.12.0", "markdown==3.11.3", "pymdown-extensions==13.1.2"],
    "mkdocs": ["mkdocs==1.6.1", "markdown==3.11.3", "pymdown-extensions==13.1.2"],
}
DEBIAN_PEERS = {"jekyll": "jekyll", "hugo": "hugo"}


@dataclass(frozen=True)
class Tool:
    """A generator bound to one corpus folder and one output folder."""

    name: str
    cmd: list[str]
    cwd: Path
    out: Path
    # Caches a clean build must not reuse, relative to cwd.
    caches: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def clean(self) -> None:
        """Remove the output and every cache, so the next run is a clean build."""
        for path in (self.out, *(self.cwd / c for c in self.caches)):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def full_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}


def sitegen_env() -> dict[str, str]:
    # Run the checkout's sitegen even when another version is pip-installed; and let its
    # first run write .pyc files as on any user's machine (Pelican and MkDocs were
    # compiled by pip at install) even where the environment forbids writing them.
    path = os.environ.get("PYTHONPATH", "")
    return {
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{path}" if path else str(REPO_ROOT),
        "PYTHONDONTWRITEBYTECODE": "",
    }


def make_tool(name: str, corpus_root: Path, out: Path, extra_args: tuple[str, ...] = ()) -> Tool:
    """The command line that builds ``corpus_root`` (the peer's own layout) into ``out``."""
    vbin = PEER_VENV / "bin"
    if name == "sitegen":
        return Tool(
            name, [sys.executable, "-m", "sitegen", "build", "--out", str(out), *extra_args],
            corpus_root, out, caches=(".sitegen-cache",), env=sitegen_env(),
        )
    if name == "jekyll":
        return Tool(
            name, ["jekyll", "build", "-s", ".", "-d", str(out), *extra_args], corpus_root, out,
            caches=(".jekyll-cache", ".jekyll-metadata"),
        )
    if name == "hugo":
        return Tool(
            name, ["hugo", "--destination", str(out), *extra_args], corpus_root, out,
            caches=("resources", ".hugo_build.lock"),
        )
    if name == "pelican":
        return Tool(
            name,
            [str(vbin / "pelican"), "content", "-o", str(out), "-s", "pelicanconf.py", *extra_args],
            corpus_root, out, caches=("cache", "__pycache__"),
        )
    if name == "mkdocs":
        return Tool(name, [str(vbin / "mkdocs"), "build", "-q", "-d", str(out), *extra_args],
                    corpus_root, out)
    raise ValueError(f"unknown generator {name!r}")


def _first_line(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else f"unknown (exit {done.returncode})"


def version(name: str) -> str:
    """The version line the generator prints about itself."""
    vbin = PEER_VENV / "bin"
    commands = {
        "sitegen": [sys.executable, "-m", "sitegen", "--version"],
        "jekyll": ["jekyll", "--version"],
        "hugo": ["hugo", "version"],
        "pelican": [str(vbin / "pelican"), "--version"],
        "mkdocs": [str(vbin / "mkdocs"), "--version"],
    }
    env = {**os.environ, **sitegen_env()} if name == "sitegen" else None
    line = _first_line(commands[name], env)
    # Keep "name X.Y.Z": the tools' own lines range from a bare number to build dates and paths.
    found = re.search(r"\d+\.\d+(?:\.\d+)?(?:\+\w+)?", line)
    return f"{name} {found.group(0)}" if found else line


def ensure_installed(name: str) -> str | None:
    """Install ``name`` if it is missing; returns None when usable, else why not."""
    if name == "sitegen":
        return None
    if name in DEBIAN_PEERS:
        if shutil.which(name):
            return None
        # Only as root and only for a missing package: the lead installs these normally.
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            return f"{name} not installed and apt-get unavailable"
        done = subprocess.run(["apt-get", "install", "-y", DEBIAN_PEERS[name]],
                              capture_output=True, text=True)
        return None if done.returncode == 0 and shutil.which(name) else f"apt-get failed for {name}"
    exe = PEER_VENV / "bin" / name
    if exe.exists():
        return None
    if not (PEER_VENV / "bin" / "pip").exists():
        venv.create(PEER_VENV, with_pip=True)
    done = subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", *PYPI_PEERS[name]],
                          capture_output=True, text=True)
    if done.returncode != 0 or not exe.exists():
        return f"pip install failed for {name}: {done.stderr.strip()[-300:]}"
    return None
