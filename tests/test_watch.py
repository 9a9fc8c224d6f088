"""The watcher: which paths matter, and one batch per burst of file events."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from sitegen.watch import Batcher, is_junk, relevant, start_watching


def _collector() -> tuple[list[set[Path]], threading.Event, Callable[[set[Path]], None]]:
    """The batches a watcher delivers, and an event set at each."""
    batches: list[set[Path]] = []
    arrived = threading.Event()

    def on_batch(paths: set[Path]) -> None:
        batches.append(paths)
        arrived.set()

    return batches, arrived, on_batch


def test_junk_and_relevant_paths(tmp_path: Path) -> None:
    root, out = tmp_path, tmp_path / "_site"
    assert relevant(root, out, root / "posts" / "2026-01-01-a.md")
    assert relevant(root, out, root / "sitegen.toml")
    assert not relevant(root, out, out / "index.html")  # our own output
    assert not relevant(root, out, root / ".git" / "index")
    assert not relevant(root, out, root / "posts" / ".2026-01-01-a.md.swp")
    assert not relevant(root, out, tmp_path.parent / "elsewhere.md")
    assert is_junk(Path("posts/a.md~"))
    assert is_junk(Path("posts/4913"))
    assert is_junk(Path("posts/.#a.md"))
    assert is_junk(Path("plugins/__pycache__/x.pyc"))
    assert not is_junk(Path("posts/a.md"))


def test_batcher_merges_a_burst() -> None:
    batcher = Batcher(quiet=0.05)
    for name in ("a.md", "b.md", "a.md"):
        batcher.add(Path(name))
    stop = threading.Event()
    assert batcher.wait_batch(stop) == {Path("a.md"), Path("b.md")}
    stop.set()
    assert batcher.wait_batch(stop) == set()


def test_editor_save_gives_one_batch(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "_site").mkdir()
    target = root / "posts" / "2026-01-01-a.md"
    target.write_text("old\n")
    batches, arrived, on_batch = _collector()
    watcher = start_watching(root, root / "_site", on_batch, quiet=0.1)
    try:
        # what many editors do: backup, temp file, rename over the original; and a build
        # writing its output at the same time
        backup = root / "posts" / "2026-01-01-a.md~"
        backup.write_text("old\n")
        temp = root / "posts" / ".2026-01-01-a.md.tmp123"
        temp.write_text("new\n")
        os.replace(temp, target)
        backup.unlink()
        (root / "_site" / "index.html").write_text("out")
        assert arrived.wait(10), "no batch arrived"
        arrived.clear()
        # a quiet period with no further events must not deliver a second batch
        assert not arrived.wait(0.5)
    finally:
        watcher.stop()
    assert len(batches) == 1
    assert target in batches[0]
    assert all(p.parent.name == "posts" and not p.name.startswith(".") for p in batches[0])


def test_the_output_and_hidden_folders_are_not_watched(tmp_path: Path) -> None:
    root = tmp_path / "site"
    for folder in ("posts", "_site/2026/01", ".sitegen-cache/previous-output/2026", ".git"):
        (root / folder).mkdir(parents=True)
    watcher = start_watching(root, root / "_site", lambda paths: None)
    try:
        watched = {Path(emitter.watch.path) for emitter in watcher.observer.emitters}
    finally:
        watcher.stop()
    assert watched == {root, root / "posts"}


def test_a_folder_made_while_watching_is_watched_with_what_it_holds(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    batches, arrived, on_batch = _collector()
    watcher = start_watching(root, root / "_site", on_batch, quiet=0.1)
    try:
        # a folder that arrives whole (a checkout, a copy): its file may be there before
        # the folder is watched
        (root / "templates.tmp").mkdir()
        (root / "templates.tmp" / "post.html").write_text("{{ content }}")
        os.replace(root / "templates.tmp", root / "templates")
        assert arrived.wait(10), "no batch arrived"
        arrived.clear()
        assert root / "templates" / "post.html" in set().union(*batches)
        # and later edits inside it are seen
        batches.clear()
        (root / "templates" / "page.html").write_text("{{ content }}")
        assert arrived.wait(10), "an edit in the new folder was not seen"
        assert root / "templates" / "page.html" in set().union(*batches)
    finally:
        watcher.stop()


def test_a_folder_removed_and_made_again_is_watched_again(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "posts" / "a.md").write_text("a")
    batches, arrived, on_batch = _collector()
    watcher = start_watching(root, root / "_site", on_batch, quiet=0.1)
    try:
        shutil.rmtree(root / "posts")  # rm -rf posts/, then a checkout brings it back
        assert arrived.wait(10), "the removal was not seen"
        (root / "posts").mkdir()
        (root / "posts" / "a.md").write_text("a again")
        for _ in range(3):  # the removal, the new folder and its file may come apart
            arrived.clear()
            if root / "posts" / "a.md" in set().union(*batches[1:]):
                break
            arrived.wait(5)
        batches.clear()
        arrived.clear()
        (root / "posts" / "b.md").write_text("an edit in the folder made again")
        assert arrived.wait(10), "an edit in the folder made again was not seen"
        assert root / "posts" / "b.md" in set().union(*batches)
    finally:
        watcher.stop()
