"""``sitegen deploy`` against a local bare repository standing in for GitHub."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sitegen.cli import main

BASIC = Path(__file__).parent / "sites" / "basic"
IDENTITY = {
    "GIT_AUTHOR_NAME": "A. Author",
    "GIT_AUTHOR_EMAIL": "author@example.org",
    "GIT_COMMITTER_NAME": "A. Author",
    "GIT_COMMITTER_EMAIL": "author@example.org",
}

FAILING_POST = """---
title: Wrong
date: 2024-02-01
---

$$ \\frac{\\partial L}{\\partial w} = 3w \\label{eq:w} $$

```python verify
w = rng.standard_normal(3)
check_grad(lambda w: (w ** 2).sum(), w, 3 * w, name="dw", eq="eq:w")
```
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.fail("git is needed for sitegen deploy")
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    site = tmp_path / "site"
    shutil.copytree(BASIC, site)
    (site / ".gitignore").write_text("_site/\n.sitegen-cache/\n")
    git(site, "init", "--quiet", "-b", "main")
    git(site, "add", ".")
    git(site, "commit", "--quiet", "-m", "the site")
    git(site, "remote", "add", "origin", str(remote))
    return site, remote


def test_deploy_commits_the_output_with_nojekyll_and_pushes(repo, capsys):
    site, remote = repo
    assert main(["deploy", "--source", str(site)]) == 0
    assert "deployed" in capsys.readouterr().out
    files = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert ".nojekyll" in files and "index.html" in files
    assert "2024/01/02/first-post/index.html" in files
    assert ".sitegen-output" not in files and not any(f.startswith("_site") for f in files)
    built = (site / "_site/index.html").read_text()
    assert git(remote, "show", "gh-pages:index.html") == built.strip()
    assert git(site, "status", "--porcelain") == ""  # the working tree was not touched
    assert git(site, "rev-parse", "--abbrev-ref", "HEAD") == "main"

    # a second deploy of the same site commits nothing; an edit adds one commit on top
    assert main(["deploy", "--source", str(site)]) == 0
    assert "nothing to deploy" in capsys.readouterr().out
    assert git(remote, "rev-list", "--count", "gh-pages") == "1"
    post = site / "posts/2024-01-02-first-post.md"
    post.write_text(post.read_text() + "\nOne more line.\n")
    git(site, "commit", "--quiet", "-am", "edit")
    assert main(["deploy", "--source", str(site), "-m", "second"]) == 0
    assert git(remote, "rev-list", "--count", "gh-pages") == "2"
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == "second"


def test_deploy_refuses_a_dirty_tree(repo, capsys):
    site, remote = repo
    (site / "posts/2024-01-09-new.md").write_text("---\ntitle: New\n---\nhi\n")
    assert main(["deploy", "--source", str(site)]) == 2
    err = capsys.readouterr().err
    assert "uncommitted changes (posts/2024-01-09-new.md)" in err
    assert git(remote, "branch", "--list") == ""  # nothing was pushed
    assert main(["deploy", "--source", str(site), "--allow-dirty"]) == 0
    capsys.readouterr()
    (site / "posts/2024-01-09-new.md").unlink()
    post = site / "posts/2024-01-02-first-post.md"
    post.write_text(post.read_text() + "\nAn edit not committed.\n")
    assert main(["deploy", "--source", str(site)]) == 2
    assert "uncommitted changes (posts/2024-01-02-first-post.md)" in capsys.readouterr().err


def test_deploy_refuses_a_failed_check(repo, capsys):
    site, remote = repo
    (site / "posts/2024-02-01-wrong.md").write_text(FAILING_POST)
    git(site, "add", ".")
    git(site, "commit", "--quiet", "-m", "a wrong gradient")
    assert main(["deploy", "--source", str(site)]) == 1
    err = capsys.readouterr().err
    assert "not deployed: the build failed" in err and "failed checks" in err
    assert git(remote, "branch", "--list") == ""


def test_deploy_outside_a_repository_or_without_the_remote_exits_2(repo, tmp_path, capsys):
    site, _ = repo
    plain = tmp_path / "plain"
    shutil.copytree(BASIC, plain)
    assert main(["deploy", "--source", str(plain)]) == 2
    assert "not in a git repository" in capsys.readouterr().err
    assert main(["deploy", "--source", str(site), "--remote", "nowhere"]) == 2


def test_deploy_without_push_only_commits_locally(repo, capsys):
    site, remote = repo
    assert main(["deploy", "--source", str(site), "--no-push", "-b", "pages"]) == 0
    assert ".nojekyll" in git(site, "ls-tree", "--name-only", "pages").splitlines()
    assert git(remote, "branch", "--list") == ""
