"""The output folder: filled beside the old one, swapped in whole, unchanged files linked."""

from __future__ import annotations

import pytest

from sitegen.write import MARKER, OutputFolder, output_identity, write_site


def test_new_folder_replaces_the_old_one_only_on_commit(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"a/index.html": b"old", "gone.html": b"x"}, [])
    folder = OutputFolder(out)
    folder.write("a/b/c/index.html", b"new")
    assert (out / "a/index.html").read_bytes() == b"old"  # untouched until the swap
    assert not (out / "a/b").exists()
    folder.commit()
    assert (out / "a/b/c/index.html").read_bytes() == b"new"
    assert not (out / "gone.html").exists() and not (out / "a/index.html").exists()
    assert (out / MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site.new")] == []


def test_reuse_links_the_previous_file_and_fails_when_it_is_missing(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"p/index.html": b"page"}, [])
    inode = (out / "p/index.html").stat().st_ino
    folder = OutputFolder(out)
    assert folder.reuse("p/index.html")
    assert not folder.reuse("q/index.html")
    folder.commit()
    assert (out / "p/index.html").stat().st_ino == inode
    assert not (out / "q/index.html").exists()


def test_writing_never_changes_a_file_of_the_previous_output(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"p/index.html": b"page"}, [])
    old = out / "p/index.html"
    folder = OutputFolder(out)
    folder.write("p/index.html", b"changed")
    assert old.read_bytes() == b"page"
    folder.discard()
    assert not folder.staging.exists()
    assert old.read_bytes() == b"page"


def test_same_bytes_are_linked_by_write_site(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"p/index.html": b"page", "q.html": b"one"}, [])
    inode = (out / "p/index.html").stat().st_ino
    write_site(out, {"p/index.html": b"page", "q.html": b"two"}, [])
    assert (out / "p/index.html").stat().st_ino == inode
    assert (out / "q.html").read_bytes() == b"two"


def test_output_identity_differs_from_build_to_build(tmp_path):
    out = tmp_path / "site"
    assert output_identity(out) == ""
    write_site(out, {"index.html": b"x"}, [])
    first = output_identity(out)
    assert first and first == output_identity(out)
    write_site(out, {"index.html": b"x"}, [])
    assert output_identity(out) not in ("", first)


@pytest.mark.parametrize("rel", ["index.html", "a/b/c/d/e.html"])
def test_static_files_are_copied_unless_a_page_took_the_path(tmp_path, rel):
    source = tmp_path / "style.css"
    source.write_text("body{}")
    out = tmp_path / "site"
    write_site(out, {rel: b"page"}, [(source, rel), (source, "theme/style.css")])
    assert (out / rel).read_bytes() == b"page"
    assert (out / "theme/style.css").read_text() == "body{}"


def test_reuse_copies_where_links_are_not_possible(tmp_path, monkeypatch):
    import os

    out = tmp_path / "site"
    write_site(out, {"p/index.html": b"page"}, [])

    def no_links(source, target):
        raise OSError("operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    folder = OutputFolder(out)
    assert folder.reuse("p/index.html")
    folder.commit()
    assert (out / "p/index.html").read_bytes() == b"page"
