"""What ``sitegen init``'s requirements.txt installs: the sitegen the author runs, in a
form a CI machine can install (the site's workflow runs ``pip install -r`` on it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement as Parsed

from sitegen import __version__
from sitegen.cli import main
from sitegen.requirement import git_origin, installed_requirement, requirement_for

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _no_checkout(folder: Path) -> None:
    return None


def test_init_writes_requirements_that_the_workflow_installs(tmp_path, capsys):
    assert main(["init", str(tmp_path / "blog")]) == 0
    said = capsys.readouterr().out
    lines = (tmp_path / "blog/requirements.txt").read_text().splitlines()
    wanted = [line for line in lines if line and not line.startswith("#")]
    expected = installed_requirement()
    assert wanted == [expected.line]
    assert Parsed(wanted[0]).name == "sitegen"
    if expected.note:  # e.g. a local folder CI cannot reach: the author is told
        assert f"requirements.txt: note: {expected.note}" in said
    workflow = yaml.safe_load((tmp_path / "blog/.github/workflows/publish.yml").read_text())
    runs = [s.get("run", "") for s in workflow["jobs"]["build"]["steps"]]
    install = runs.index("python -m pip install -r requirements.txt")
    assert install < runs.index("sitegen build")
    assert "sitegen==" not in (tmp_path / "blog/.github/workflows/publish.yml").read_text()


def test_a_release_from_an_index_is_pinned():
    assert requirement_for("1.2.3", None, _no_checkout).line == "sitegen==1.2.3"
    assert requirement_for("1.2.3", None, _no_checkout).note is None


def test_a_git_install_is_that_url_at_its_commit():
    direct = {"url": "https://github.com/o/sitegen.git",
              "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"}}
    found = requirement_for("1.2.3", direct, _no_checkout)
    assert found.line == f"sitegen @ git+https://github.com/o/sitegen.git@{COMMIT}"
    assert Parsed(found.line).url == f"git+https://github.com/o/sitegen.git@{COMMIT}"
    archive = {"url": "https://example.org/sitegen-1.2.3.tar.gz", "archive_info": {}}
    assert requirement_for("1.2.3", archive, _no_checkout).line == (
        "sitegen @ https://example.org/sitegen-1.2.3.tar.gz"
    )


def test_a_local_checkout_is_its_origin_at_its_commit(tmp_path):
    direct = {"url": tmp_path.as_uri(), "dir_info": {"editable": True}}
    found = requirement_for("1.2.3", direct, lambda f: ("https://h.org/o/sitegen", COMMIT))
    assert found.line == f"sitegen @ git+https://h.org/o/sitegen@{COMMIT}"
    assert found.note and COMMIT[:12] in found.note and "push" in found.note
    # a folder without a remote CI can reach: the version, and a note saying what to change
    alone = requirement_for("1.2.3", direct, _no_checkout)
    assert alone.line == "sitegen==1.2.3"
    assert alone.note and str(tmp_path) in alone.note and "git URL" in alone.note


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_origin_reads_the_checkout(tmp_path):
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True,
                              capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x")
    assert git_origin(tmp_path) is None  # no remote
    git("remote", "add", "origin", "/some/local/path")
    assert git_origin(tmp_path) is None  # a path exists on this machine only
    git("remote", "set-url", "origin", "git@github.com:o/sitegen.git")
    # CI has no SSH key: the public https address of the same repository
    assert git_origin(tmp_path) == ("https://github.com/o/sitegen.git", git("rev-parse", "HEAD"))


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pip_installs_the_line_written_for_a_checkout(tmp_path):
    """The form written for a checkout is one pip resolves, to that commit's version."""
    repo = tmp_path / "sitegen-src"
    repo.mkdir()
    # a package whose in-tree build backend only states its metadata: all a dry run reads
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (repo / "backend.py").write_text(
        "import os\n"
        "def prepare_metadata_for_build_wheel(folder, config_settings=None):\n"
        "    os.makedirs(os.path.join(folder, 'sitegen-7.7.7.dist-info'))\n"
        "    with open(os.path.join(folder, 'sitegen-7.7.7.dist-info', 'METADATA'), 'w') as f:\n"
        "        f.write('Metadata-Version: 2.1\\nName: sitegen\\nVersion: 7.7.7\\n')\n"
        "    return 'sitegen-7.7.7.dist-info'\n"
    )
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    direct = {"url": repo.as_uri(), "dir_info": {}}
    origin = "file://localhost" + repo.as_posix()  # old pips want a host in a git+ URL
    line = requirement_for("7.7.7", direct, lambda f: (origin, commit)).line
    (tmp_path / "requirements.txt").write_text(line + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
         "--no-build-isolation", "--quiet", "--report", str(tmp_path / "report.json"),
         "-r", str(tmp_path / "requirements.txt")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    (item,) = report["install"]
    assert item["metadata"]["name"] == "sitegen" and item["metadata"]["version"] == "7.7.7"
    assert item["download_info"]["vcs_info"]["commit_id"] == commit


def test_this_installation_gives_a_requirement_pip_can_parse():
    found = installed_requirement()
    parsed = Parsed(found.line)
    assert parsed.name == "sitegen"
    assert parsed.url or str(parsed.specifier) == f"=={__version__}"
