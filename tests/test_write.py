"""The output folder: changed files written in place, stale ones removed, nothing else
touched, and folders sitegen must not write into refused."""

from __future__ import annotations

import errno
import os
import shutil

import pytest

from sitegen.build import build_site
from sitegen.cli import main
from sitegen.errors import SiteError
from sitegen.model import BuildOptions
from sitegen.write import MARKER, OutputWriter


def _site(tmp_path, posts=("a",)):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "assets/a.txt").write_text("asset\n")
    for number, name in enumerate(posts, start=1):
        (root / f"posts/2024-01-{number:02d}-{name}.md").write_text(
            f"---\ntitle: {name.upper()}\n---\ntext of {name}\n"
        )
    return root


def test_user_files_in_the_output_are_kept(tmp_path):
    root = _site(tmp_path)
    out = root / "_site"
    build_site(root)
    (out / ".git").mkdir()
    (out / ".git/HEAD").write_text("ref: refs/heads/gh-pages\n")
    (out / "CNAME").write_text("example.org\n")
    post = root / "posts/2024-01-01-a.md"
    for number in range(3):
        post.write_text(post.read_text() + f"edit {number}\n")
        build_site(root)
    build_site(root, BuildOptions(rerun=True))
    build_site(root, BuildOptions(rerun=True))
    assert (out / "CNAME").read_text() == "example.org\n"
    assert (out / ".git/HEAD").is_file()
    assert "edit 2" in (out / "2024/01/01/a/index.html").read_text()


def test_stale_pages_go_and_their_empty_folders_with_them(tmp_path):
    root = _site(tmp_path, ("a", "b"))
    out = root / "_site"
    build_site(root)
    (out / "2024/01/02/b/notes.txt").write_text("mine\n")  # a user's file beside a page
    (root / "posts/2024-01-01-a.md").unlink()
    (root / "posts/2024-01-02-b.md").unlink()
    result = build_site(root)
    assert "2024/01/01/a/index.html" in result.removed
    assert not (out / "2024/01/01").exists()  # left empty: gone
    assert not (out / "2024/01/02/b/index.html").exists()
    assert (out / "2024/01/02/b/notes.txt").read_text() == "mine\n"  # never removed


def test_stale_files_go_even_without_the_cache(tmp_path):
    root = _site(tmp_path, ("a", "b"))
    build_site(root)
    shutil.rmtree(root / ".sitegen-cache")
    (root / "posts/2024-01-02-b.md").unlink()
    build_site(root)  # the marker lists what sitegen wrote there
    assert not (root / "_site/2024/01/02/b/index.html").exists()
    assert (root / "_site/2024/01/01/a/index.html").is_file()


def test_a_symlinked_output_folder_stays_a_symlink(tmp_path):
    root = _site(tmp_path)
    www = tmp_path / "www"
    build_site(root, BuildOptions(out=www))
    os.symlink(www, root / "_site")
    post = root / "posts/2024-01-01-a.md"
    post.write_text(post.read_text().replace("text of a", "NEW TEXT"))
    build_site(root)
    assert (root / "_site").is_symlink()
    assert "NEW TEXT" in (www / "2024/01/01/a/index.html").read_text()


@pytest.mark.parametrize("out", ["assets/out", "posts", "templates/x", "."])
def test_an_output_folder_inside_an_input_folder_is_refused(tmp_path, out, capsys):
    root = _site(tmp_path)
    (root / "templates").mkdir()
    with pytest.raises(SiteError, match="refusing to write the site into"):
        build_site(root, BuildOptions(out=root / out))
    assert main(["build", "-q", "--source", str(root), "--out", str(root / out)]) == 2
    assert "refusing" in capsys.readouterr().err
    assert not (root / "assets/out").exists()


def test_a_read_only_output_gives_one_error_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    root = _site(tmp_path)
    assert main(["build", "-q", "--source", str(root)]) == 0
    post = root / "posts/2024-01-01-a.md"
    post.write_text(post.read_text() + "more\n")
    real_open = open

    def read_only(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).startswith(str(root / "_site")):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only)
    assert main(["build", "-q", "--source", str(root)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(": error: cannot write: Read-only file system")
    assert lines[0].startswith(str(root / "_site"))
    assert list(tmp_path.rglob("*.tmp")) == []
    assert "more" not in (root / "_site/2024/01/01/a/index.html").read_text()


def test_no_hidden_copies_are_left_beside_the_output(tmp_path):
    root = _site(tmp_path)
    for _ in range(3):
        post = root / "posts/2024-01-01-a.md"
        post.write_text(post.read_text() + "x\n")
        build_site(root)
    assert sorted(p.name for p in root.iterdir()) == [".sitegen-cache", "_site", "assets", "posts"]
    assert not (root / ".sitegen-cache/previous-output").exists()


def test_a_draft_written_by_serve_goes_with_the_next_build(tmp_path):
    from sitegen.live import LiveBuild

    root = _site(tmp_path)
    (root / "posts/2024-01-02-secret.md").write_text("---\ntitle: S\ndraft: true\n---\nno\n")
    build_site(root)
    live = LiveBuild(root, BuildOptions(drafts=True), root / "_site")
    live.start()
    assert (root / "_site/2024/01/02/secret/index.html").is_file()
    assert main(["build", "-q", "--source", str(root)]) == 0  # not "nothing changed"
    assert not (root / "_site/2024/01/02/secret/index.html").exists()


def test_a_file_where_a_folder_goes_and_the_other_way_round(tmp_path):
    out = tmp_path / "out"
    first = OutputWriter(out)
    first.write("a", b"file a")
    first.write("b/index.html", b"page b")
    first.mark(["a", "b/index.html"])
    second = OutputWriter(out, ["a", "b/index.html"])
    second.write("a/index.html", b"page a")
    second.write("b", b"file b")
    second.remove_stale(["a/index.html", "b"])
    assert (out / "a/index.html").read_bytes() == b"page a"
    assert (out / "b").read_bytes() == b"file b"
    assert (out / MARKER).is_file()


def test_writes_are_whole_files_renamed_into_place(tmp_path):
    out = tmp_path / "out"
    writer = OutputWriter(out)
    writer.write("p/index.html", b"one")
    inode = os.stat(out / "p/index.html").st_ino
    writer.write("p/index.html", b"two")
    assert (out / "p/index.html").read_bytes() == b"two"
    assert os.stat(out / "p/index.html").st_ino != inode  # a new file, not written through
    assert sorted(os.listdir(out / "p")) == ["index.html"]
