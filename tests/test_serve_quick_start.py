"""``sitegen serve`` started again on a site whose inputs did not change since its last
preview serves the output folder at once and loads the site behind it; any change
(a post edited while no preview ran, an error last time, other flags) builds first."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.server import Preview, start_preview

POST = "2026-02-03-hello.md"
URL = "/2026/02/03/hello/"
GOOD = "---\ntitle: Hello\n---\n\nThe good body.\n"
QUICK = "nothing changed since the last preview"


def make_site(root: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "posts" / POST).write_text(GOOD)
    (root / "posts" / "2026-02-01-older.md").write_text("---\ntitle: Older\n---\n\nOld.\n")
    (root / "sitegen.toml").write_text('title = "Quick"\n')
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
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def run_preview(root: Path, capsys, then: Callable[[Preview], None] | None = None) -> str:
    """Start a preview, check the post's page, run ``then``, stop; what it printed."""
    preview = start_preview(root, BuildOptions(), port=0)
    try:
        status, body = fetch(preview, URL)
        assert status == 200
        if then is not None:
            then(preview)
    finally:
        preview.stop()
    return capsys.readouterr().err


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_a_second_preview_with_nothing_changed_serves_at_once_and_still_follows_saves(
    tmp_path, capsys
):
    root = make_site(tmp_path / "site")
    first = run_preview(root, capsys)
    assert QUICK not in first and "built" in first
    before = files_of(root / "_site")

    def save(preview: Preview) -> None:
        assert "The good body" in fetch(preview, URL)[1]
        (root / "posts" / POST).write_text(GOOD.replace("good body", "saved body"))
        assert eventually(lambda: "saved body" in fetch(preview, URL)[1])
        # a broken save is shown as an error page: the site is in memory by now
        (root / "posts" / POST).write_text("---\ntitle: [broken\n---\n\nText.\n")
        assert eventually(lambda: "could not be built" in fetch(preview, URL)[1])
        (root / "posts" / POST).write_text(GOOD)
        assert eventually(lambda: "The good body" in fetch(preview, URL)[1])

    second = run_preview(root, capsys, save)
    assert QUICK in second
    assert files_of(root / "_site") == before  # the same bytes as the first preview wrote


def test_a_post_edited_while_no_preview_ran_is_built_before_serving(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    run_preview(root, capsys)
    (root / "posts" / POST).write_text(GOOD.replace("good body", "edited offline"))

    def first_answer(preview: Preview) -> None:
        assert "edited offline" in fetch(preview, URL)[1]

    said = run_preview(root, capsys, first_answer)
    assert QUICK not in said


def test_a_preview_that_ended_with_an_error_builds_first_next_time(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    post = root / "posts" / POST

    def break_it(preview: Preview) -> None:
        post.write_text("---\ntitle: [broken\n---\n\nText.\n")
        assert eventually(lambda: "could not be built" in fetch(preview, URL)[1])

    run_preview(root, capsys, break_it)
    preview = start_preview(root, BuildOptions(), port=0)
    try:
        status, body = fetch(preview, URL)
        assert "The good body" not in body  # not the old page
        # a failed post this preview never saw built: its error on the 404
        assert status == 404 and f"posts/{POST}:3" in body and "malformed front matter" in body
    finally:
        preview.stop()
    assert QUICK not in capsys.readouterr().err


def test_the_last_previews_warnings_are_said_again(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    odd = "---\ntitle: Odd\nlayout: nosuch\n---\n\nA.\n"
    (root / "posts" / "2026-02-02-odd.md").write_text(odd)
    first = run_preview(root, capsys)
    warnings = [line for line in first.splitlines() if "odd.md" in line]
    assert warnings, first
    second = run_preview(root, capsys)
    assert QUICK in second
    for line in warnings:
        assert line in second


def test_a_build_after_a_preview_is_not_skipped_and_equals_a_clean_build(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    run_preview(root, capsys)  # a preview writes pages a build does not (no url: a feed)
    build_site(root, BuildOptions())
    after_preview = files_of(root / "_site")
    clean = make_site(tmp_path / "clean")
    build_site(clean, BuildOptions())
    assert after_preview == files_of(clean / "_site")
