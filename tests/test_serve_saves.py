"""Every save reaches ``sitegen serve``: also one made while the first build runs or
just after the first page is served, and a save that restores the last good bytes
after a broken one brings the page back."""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import sitegen.server as server
from sitegen.model import BuildOptions
from sitegen.server import Preview, start_preview

POST = "2026-02-03-hello.md"
URL = "/2026/02/03/hello/"
GOOD = "---\ntitle: Hello\n---\n\nThe good body.\n"


def make_site(root: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "posts" / POST).write_text(GOOD)
    (root / "posts" / "2026-02-01-older.md").write_text("---\ntitle: Older\n---\n\nOld.\n")
    (root / "sitegen.toml").write_text('title = "Saves"\n')
    return root


def fetch(preview: Preview, path: str) -> tuple[int, str]:
    host, port = preview.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def eventually(condition: Callable[[], bool], seconds: float = 30) -> bool:
    """Whether ``condition`` holds within ``seconds`` (polled; the watcher is a thread)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_save_while_the_first_build_runs_is_built(tmp_path, monkeypatch):
    root = make_site(tmp_path / "site")
    post = root / "posts" / POST
    first_start = server.LiveBuild.start

    def start_then_save(live):  # the save lands after the first build read the post
        outcome = first_start(live)
        post.write_text(GOOD.replace("good body", "saved during the first build"))
        return outcome

    monkeypatch.setattr(server.LiveBuild, "start", start_then_save)
    preview = start_preview(root, BuildOptions(), port=0, quiet=True)
    try:
        assert eventually(lambda: "saved during the first build" in fetch(preview, URL)[1])
        assert preview.rebuilds >= 1
    finally:
        preview.stop()


@pytest.mark.parametrize("attempt", range(4))
def test_a_save_right_after_the_first_page_is_served_is_built(tmp_path, attempt):
    root = make_site(tmp_path / "site")
    preview = start_preview(root, BuildOptions(), port=0, quiet=True)
    try:
        assert "The good body" in fetch(preview, URL)[1]
        (root / "posts" / POST).write_text(GOOD.replace("good body", f"edit {attempt}"))
        assert eventually(lambda: f"edit {attempt}" in fetch(preview, URL)[1])
    finally:
        preview.stop()


@pytest.mark.parametrize("same_time", [False, True])
def test_restoring_the_last_good_bytes_brings_the_page_back(tmp_path, same_time):
    root = make_site(tmp_path / "site")
    post = root / "posts" / POST
    preview = start_preview(root, BuildOptions(), port=0, quiet=True)
    try:
        good, stat = post.read_bytes(), post.stat()
        for _ in range(2):  # and again: the second undo must not be served from memory
            post.write_text("---\ntitle: [broken\n---\n\nThe good body.\n")
            assert eventually(lambda: "could not be built" in fetch(preview, URL)[1])
            post.write_bytes(good)  # an editor's undo: exactly the bytes before
            if same_time:  # and the time too, as a restore from a backup keeps it
                os.utime(post, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            assert eventually(lambda: "could not be built" not in fetch(preview, URL)[1])
            status, body = fetch(preview, URL)
            assert status == 200 and "The good body" in body
    finally:
        preview.stop()
