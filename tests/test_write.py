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


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER
    }


def test_the_replaced_output_is_kept_as_the_spare(tmp_path):
    out, spare = tmp_path / "site", tmp_path / "cache/spare"
    spare.parent.mkdir()
    write_site(out, {"a.html": b"first"}, [])
    folder = OutputFolder(out, spare)
    assert not folder.in_place  # nothing said what the spare holds
    folder.write("a.html", b"second")
    folder.commit()
    assert _files(out) == {"a.html": b"second"}
    assert _files(spare) == {"a.html": b"first"}
    assert (spare / MARKER).is_file()


def test_a_spare_is_filled_in_place_keeping_the_pages_it_has(tmp_path):
    out, spare = tmp_path / "site", tmp_path / "spare"
    write_site(out, {"p/index.html": b"kept", "q.html": b"old q", "gone/index.html": b"x"}, [])
    OutputFolder(out, spare).commit(set())  # the output moves to the spare, an empty one in
    kept_inode = (spare / "p/index.html").stat().st_ino
    folder = OutputFolder(
        out, spare, {"p/index.html": "k1", "q.html": "k2", "gone/index.html": "k3"}
    )
    assert folder.in_place and folder.staging == spare
    assert not (spare / MARKER).exists()  # a half-filled spare is never trusted
    folder.write("p/index.html", b"kept", key="k1")  # the spare has this page: left alone
    folder.write("q.html", b"new q", key="k9")
    folder.write("r/s/index.html", b"new r")
    folder.commit({"p/index.html", "q.html", "r/s/index.html"})
    assert _files(out) == {"p/index.html": b"kept", "q.html": b"new q", "r/s/index.html": b"new r"}
    assert (out / "p/index.html").stat().st_ino == kept_inode
    assert not (out / "gone").exists()  # the folder a stale page left empty goes too
    assert _files(spare) == {}  # the replaced (empty) output is the spare now


def test_filling_a_spare_never_changes_the_current_output(tmp_path):
    out, spare = tmp_path / "site", tmp_path / "spare"
    write_site(out, {"p/index.html": b"page", "q.html": b"q"}, [])
    folder = OutputFolder(out, spare)
    assert folder.reuse("p/index.html") and folder.reuse("q.html")
    folder.commit()  # the spare and the output now share these files' inodes
    assert (spare / "q.html").stat().st_ino == (out / "q.html").stat().st_ino
    folder = OutputFolder(out, spare, {"p/index.html": "k", "q.html": "k"})
    folder.write("q.html", b"changed", key="other")
    folder.reuse("p/index.html", key="other")
    folder.flush()
    assert _files(out) == {"p/index.html": b"page", "q.html": b"q"}
    folder.discard()
    assert _files(out) == {"p/index.html": b"page", "q.html": b"q"}
    # the half-filled spare lost its marker: it is not filled in place again
    again = OutputFolder(out, spare, {"p/index.html": "k", "q.html": "k"})
    assert not again.in_place
    again.discard()


def test_a_spare_file_where_a_folder_goes_and_the_other_way_round(tmp_path):
    out, spare = tmp_path / "site", tmp_path / "spare"
    write_site(out, {"a": b"file a", "b/index.html": b"page b"}, [])
    OutputFolder(out, spare).commit(set())
    folder = OutputFolder(out, spare, {"a": "", "b/index.html": ""})
    assert folder.in_place
    folder.write("a/index.html", b"page a")
    folder.write("b", b"file b")
    folder.commit({"a/index.html", "b"})
    assert _files(out) == {"a/index.html": b"page a", "b": b"file b"}


def test_a_spare_keeps_static_copies_of_the_same_size_and_time(tmp_path):
    source = tmp_path / "style.css"
    source.write_text("body{}")
    out, spare = tmp_path / "site", tmp_path / "spare"
    write_site(out, {}, [(source, "style.css")])
    OutputFolder(out, spare).commit(set())
    inode = (spare / "style.css").stat().st_ino
    folder = OutputFolder(out, spare, {"style.css": ""})
    folder.copy(source, "style.css")
    folder.commit()
    assert (out / "style.css").stat().st_ino == inode
    source.write_text("body{color:red}")
    folder = OutputFolder(tmp_path / "site2", spare, {"style.css": ""})
    folder.copy(source, "style.css")
    folder.commit()
    assert (tmp_path / "site2/style.css").read_text() == "body{color:red}"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o755), (0o077, 0o700)])
def test_new_output_folders_follow_the_umask(tmp_path, monkeypatch, umask, mode):
    import sitegen.write

    monkeypatch.setattr(sitegen.write, "_UMASK", umask)
    out = tmp_path / "site"
    write_site(out, {"index.html": b"x"}, [])
    # with the usual umask, readable by others, as a web server running as another user needs
    assert out.stat().st_mode & 0o777 == mode


def test_a_spare_that_cannot_be_kept_is_removed_instead(tmp_path):
    import time

    out = tmp_path / "site"
    write_site(out, {"a.html": b"first"}, [])
    spare = tmp_path / "no such folder" / "spare"  # the rename there fails, as across devices
    folder = OutputFolder(out, spare)
    folder.write("a.html", b"second")
    folder.commit()
    assert _files(out) == {"a.html": b"second"}
    assert not spare.exists()
    deadline = time.monotonic() + 30
    while any(p.name.startswith(".site.old-") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline, "the replaced output was never removed"
        time.sleep(0.05)


@pytest.mark.parametrize("other_thread", [False, True])
def test_without_a_spare_the_current_output_is_linked_in_first(tmp_path, other_thread):
    import threading

    # with another thread running, the links are made by the writing thread, not a child
    stop = threading.Event()
    if other_thread:
        threading.Thread(target=stop.wait, daemon=True).start()
    out, spare = tmp_path / "site", tmp_path / "cache/previous-output"
    write_site(out, {"a/index.html": b"a", "b/index.html": b"b", "gone.html": b"g"}, [])
    spare.parent.mkdir()
    current = {"a/index.html": "ka", "b/index.html": "kb", "gone.html": "kg"}
    inode_a = (out / "a/index.html").stat().st_ino
    folder = OutputFolder(out, spare, None, current)
    assert folder.in_place and folder.staging != spare
    folder.write("a/index.html", b"a, same key", "ka")  # kept: the link is the page
    folder.write("b/index.html", b"b, changed", "kb2")
    folder.write("c/index.html", b"c, new", "kc")
    folder.commit(["a/index.html", "b/index.html", "c/index.html"])
    assert (out / "a/index.html").stat().st_ino == inode_a
    assert (out / "b/index.html").read_bytes() == b"b, changed"
    assert (out / "c/index.html").read_bytes() == b"c, new"
    assert not (out / "gone.html").exists()
    # the replaced output, now the spare, was never written through a link
    assert (spare / "b/index.html").read_bytes() == b"b"
    assert (spare / "gone.html").read_bytes() == b"g"
    stop.set()


def test_a_discarded_prefilled_folder_goes_and_the_output_stays(tmp_path):
    out, spare = tmp_path / "site", tmp_path / "cache/previous-output"
    write_site(out, {"a/index.html": b"a"}, [])
    folder = OutputFolder(out, spare, None, {"a/index.html": "ka"})
    folder.write("a/index.html", b"other", "kb")
    folder.discard()
    assert (out / "a/index.html").read_bytes() == b"a"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site.")] == []
