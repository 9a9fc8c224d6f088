"""Every file sitegen writes into the output folder is readable by a web server: mode
0666 less the umask, in ``build`` and in each rebuild of ``serve``, whatever mode the
source or a temporary file had."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.server import start_preview

POST = "2026-02-03-hello.md"


def make_site(root: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "posts" / POST).write_text("---\ntitle: Hello\ntags: [a]\n---\n\nHello $x$.\n")
    (root / "assets").mkdir()
    secret = root / "assets" / "owner-only.css"
    secret.write_text("body { color: black }\n")
    secret.chmod(0o600)  # e.g. saved by a tool that makes private files
    (root / "assets" / "script.js").write_text("let a = 1;\n")
    (root / "assets" / "script.js").chmod(0o700)
    return root


def modes(out: Path) -> dict[str, int]:
    return {
        p.relative_to(out).as_posix(): p.stat().st_mode & 0o777
        for p in out.rglob("*")
        if p.is_file()
    }


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_every_file_of_a_build_has_the_umask_mode(tmp_path: Path, umask: int) -> None:
    root = make_site(tmp_path / "site")
    build_site(root, BuildOptions())
    found = modes(root / "_site")
    assert "assets/owner-only.css" in found and len(found) > 5
    assert found == dict.fromkeys(found, 0o666 & ~umask)


def test_files_an_older_build_left_private_are_made_readable(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    build_site(root, BuildOptions())
    out = root / "_site"
    for path in out.rglob("*"):
        if path.is_file():
            path.chmod(0o600)
    build_site(root, BuildOptions(), fingerprint="another")  # nothing changed but modes
    mask = os.umask(0)
    os.umask(mask)
    found = modes(out)
    assert found == dict.fromkeys(found, 0o666 & ~mask)


def test_every_file_of_a_serve_rebuild_has_the_umask_mode(tmp_path: Path, umask: int) -> None:
    root = make_site(tmp_path / "site")
    preview = start_preview(root, BuildOptions(), port=0, watch=False, quiet=True)
    try:
        out = preview.live.out
        assert set(modes(out).values()) == {0o666 & ~umask}
        post = root / "posts" / POST
        post.write_text(post.read_text().replace("Hello", "Changed"))
        (root / "posts" / "2026-02-04-new.md").write_text("---\ntitle: New\n---\n\nNew.\n")
        new_asset = root / "assets" / "new.css"
        new_asset.write_text("p {}\n")
        new_asset.chmod(0o600)
        preview.on_batch({post, root / "posts" / "2026-02-04-new.md", new_asset})
        found = modes(out)
        assert "2026/02/04/new/index.html" in found and "assets/new.css" in found
        assert found == dict.fromkeys(found, 0o666 & ~umask)
    finally:
        preview.stop()
