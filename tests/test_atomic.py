"""``sitegen build --atomic``: the whole output replaced at once, whatever happens."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _leftovers(parent: Path) -> list[str]:
    return sorted(n for n in os.listdir(parent) if n.startswith("._site."))


def _site(root: Path, text: str) -> Path:
    (root / "posts").mkdir(parents=True, exist_ok=True)
    (root / "sitegen.toml").write_text('title = "T"\nurl = "https://example.org"\n')
    for n in range(4):
        (root / "posts" / f"2024-01-0{n + 1}-p{n}.md").write_text(
            f"---\ntitle: Post {n}\ntags: [t{n % 2}]\n---\n{text} of post {n}.\n"
        )
    return root


def _user_files(out: Path) -> None:
    (out / "CNAME").write_text("example.org\n")
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")


def test_an_atomic_build_writes_what_a_plain_build_writes_and_keeps_user_files(tmp_path):
    root = _site(tmp_path / "site", "old text")
    out = root / "_site"
    assert build_site(root, BuildOptions(atomic=True)).ok
    _user_files(out)
    for post in (root / "posts").iterdir():
        post.write_text(post.read_text().replace("old text", "new text"))
    (root / "posts" / "2024-01-04-p3.md").unlink()
    before = out.stat().st_ino
    result = build_site(root, BuildOptions(atomic=True))
    assert result.ok and out.stat().st_ino != before  # a new folder, swapped in
    plain = tmp_path / "plain"
    assert build_site(root, BuildOptions(out=plain)).ok
    _user_files(plain)
    assert _tree(out) == _tree(plain)
    assert not (out / "2024/01/04/p3/index.html").exists()
    assert (out / "CNAME").read_text() == "example.org\n" and (out / ".git/HEAD").is_file()
    assert _leftovers(root) == []
    # and an atomic rebuild with nothing changed renders nothing again
    again = build_site(root, BuildOptions(atomic=True))
    assert again.ok and again.rendered == [] and _tree(out) == _tree(plain)


def test_a_symlinked_output_stays_a_symlink(tmp_path):
    root = _site(tmp_path / "site", "old text")
    web = tmp_path / "www"
    assert build_site(root, BuildOptions(out=web)).ok
    (root / "_site").symlink_to(web)
    post = root / "posts/2024-01-01-p0.md"
    post.write_text(post.read_text().replace("old text", "new text"))
    assert build_site(root, BuildOptions(atomic=True)).ok
    assert (root / "_site").is_symlink() and (root / "_site").resolve() == web.resolve()
    assert "new text" in (web / "2024/01/01/p0/index.html").read_text()
    assert _leftovers(tmp_path) == [] and _leftovers(root) == []


# Runs a build in a child process that is killed (SIGKILL) right after its ``kill_at``-th
# change to the file system (a rename, a hard link, a removal); with a ``kill_at`` past
# the last one it prints how many were made before the swap, and in all.
_KILLER = textwrap.dedent(
    """
    import os, shutil, signal, sys
    from sitegen import swap
    kill_at, no_exchange = int(sys.argv[1]), sys.argv[2] == "1"
    count = 0
    def counted(real):
        def call(*args, **kwargs):
            global count
            result = real(*args, **kwargs)
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return call
    for name in ("rename", "replace", "link", "unlink", "rmdir"):
        setattr(os, name, counted(getattr(os, name)))
    exchange = swap._exchange
    swap._exchange = (lambda a, b: False) if no_exchange else counted(exchange)
    swap_in = swap.swap_in
    def swap_in_counted(*args):
        print(count)  # the changes made before the swap
        return swap_in(*args)
    swap.swap_in = swap_in_counted
    from sitegen.build import build_site
    from sitegen.model import BuildOptions
    from pathlib import Path
    build_site(Path(sys.argv[3]), BuildOptions(atomic=True, quiet=True))
    print(count)
    """
)


def _killed_build(root: Path, kill_at: int, no_exchange: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _KILLER, str(kill_at), "1" if no_exchange else "0", str(root)],
        capture_output=True,
        text=True,
        cwd=root,
    )


@pytest.mark.parametrize("no_exchange", [False, True], ids=["exchange", "two renames"])
def test_a_build_killed_at_any_point_leaves_the_old_or_the_new_site(tmp_path, no_exchange):
    root = _site(tmp_path / "site", "old text")
    out = root / "_site"
    assert build_site(root, BuildOptions()).ok
    _user_files(out)
    old = _tree(out)
    for post in (root / "posts").iterdir():
        post.write_text(post.read_text().replace("old text", "new text"))
    reference = tmp_path / "reference"
    shutil.copytree(root, reference, ignore=shutil.ignore_patterns("_site", ".sitegen-cache"))
    assert build_site(reference, BuildOptions()).ok
    _user_files(reference / "_site")
    new = _tree(reference / "_site")
    assert old != new
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine, symlinks=True)
    done = _killed_build(root, 10**9, no_exchange)
    assert done.returncode == 0, done.stderr
    before_swap, total = map(int, done.stdout.split()[-2:])
    assert 5 < before_swap < total
    points = {1, 2, before_swap // 2, before_swap, before_swap + 1, before_swap + 2, total - 1}
    for kill_at in sorted(points):
        shutil.rmtree(root)
        shutil.copytree(pristine, root, symlinks=True)
        killed = _killed_build(root, kill_at, no_exchange)
        assert killed.returncode == -9, (kill_at, killed.stderr)
        if out.exists():
            assert _tree(out) in (old, new), kill_at
        else:  # only between the two renames, where nothing exchanges folders
            assert no_exchange, kill_at
        # the next build (plain or atomic) leaves nothing of the killed one behind
        assert build_site(root, BuildOptions(atomic=kill_at % 2 == 0)).ok
        assert _tree(out) == new, kill_at
        assert _leftovers(root) == [], kill_at
