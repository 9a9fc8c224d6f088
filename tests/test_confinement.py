"""Nothing is ever written outside the output folder: a permalink, slug or plugin URL that
would leave it is an error naming the post, and the rest of the site still builds."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.write import UnsafeOutputPath, confine, unsafe_reason

GOOD = "---\ntitle: Good\n---\n\nA good post with $x^2$.\n"


def tree_digest(folder: Path, skip: tuple[str, ...] = ("_site", ".sitegen-cache")) -> dict:
    """Every file under ``folder`` (outside the output and cache folders, at any depth)
    with a digest of its bytes."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            path = Path(dirpath) / name
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return found


def make_site(tmp_path: Path, front: str) -> Path:
    """A site two folders deep (so '..' has somewhere to go) with one hostile post."""
    root = tmp_path / "outer" / "site"
    (root / "posts").mkdir(parents=True)
    (root / "posts" / "2024-01-01-victim.md").write_text(GOOD, encoding="utf-8")
    (root / "posts" / "2024-01-02-evil.md").write_text(
        f"---\ntitle: Evil\n{front}\n---\n\nEvil body.\n", encoding="utf-8"
    )
    return root


HOSTILE = [
    "permalink: ../posts/2024-01-01-victim.md",  # would replace another post's source
    "permalink: /../../ESCAPED/",
    "permalink: /a/../../../ESCAPED/",
    "permalink: ..",
    "permalink: /./../ESCAPED.html",
    "slug: ../../../../../ESCAPED",
    "slug: ../../../posts",
    'permalink: "/x/\\0/"',  # YAML's escape for NUL
    'permalink: "..\\\\..\\\\ESCAPED\\\\"',  # backslashes
    'slug: "a\\\\..\\\\..\\\\b"',
    'permalink: "/line\\nbreak/"',
]


@pytest.mark.parametrize("front", HOSTILE)
def test_a_hostile_url_fails_its_post_alone_and_writes_nothing_outside(
    tmp_path: Path, front: str
) -> None:
    root = make_site(tmp_path, front)
    outer = tmp_path / "outer"
    before = tree_digest(outer)
    result = build_site(root, BuildOptions(jobs=1))

    errors = [d for d in result.site.report.diagnostics if d.level == "error"]
    assert len(errors) == 1, result.site.report.diagnostics
    assert errors[0].path == "posts/2024-01-02-evil.md"
    assert errors[0].line == 3  # the line of the key that made the URL
    assert "outside the output folder" in errors[0].message
    # nothing changed outside the output and cache folders: the sources are intact
    assert tree_digest(outer) == before
    # the other post is built
    victim = root / "_site" / "2024" / "01" / "01" / "victim" / "index.html"
    assert "A good post" in victim.read_text(encoding="utf-8")
    assert not list(tmp_path.rglob("ESCAPED*"))


def test_dot_segments_are_dropped_not_refused(tmp_path: Path) -> None:
    root = make_site(tmp_path, "permalink: /./notes/./evil/")
    result = build_site(root, BuildOptions(jobs=1))
    assert result.ok, result.site.report.diagnostics
    assert (root / "_site" / "notes" / "evil" / "index.html").is_file()


PLUGIN = """
from sitegen.hooks import hookimpl
from sitegen.model import Page


@hookimpl
def sitegen_extra_pages(site):
    return [Page(url="/../PLUGIN-ESCAPED.html", content="x"), Page(url="/ok.html", content="ok")]
"""


def test_a_plugin_page_outside_the_output_is_an_error_and_not_written(tmp_path: Path) -> None:
    root = make_site(tmp_path, "tags: [fine]")
    (root / "plugins").mkdir()
    (root / "plugins" / "escaper.py").write_text(PLUGIN, encoding="utf-8")
    (root / "sitegen.toml").write_text("[plugins.escaper]\n", encoding="utf-8")
    result = build_site(root, BuildOptions(jobs=1))
    messages = [d.message for d in result.site.report.diagnostics if d.level == "error"]
    assert any("PLUGIN-ESCAPED" in m and "'..'" in m for m in messages), messages
    assert not list(tmp_path.rglob("PLUGIN-ESCAPED*"))
    assert (root / "_site" / "ok.html").read_text() == "ok"


@pytest.mark.parametrize(
    "rel",
    ["../x", "a/../../x", "/etc/passwd", "a\\..\\x", "a/\x00/b", "", "a//b", "./a", ".."],
)
def test_the_gate_refuses_every_path_that_could_leave_the_folder(rel: str) -> None:
    assert unsafe_reason(rel)
    with pytest.raises(UnsafeOutputPath):
        confine("/out", rel)


@pytest.mark.parametrize(
    "rel", ["index.html", "2024/01/02/a/index.html", "a..b/c", "...", ".well-known/x"]
)
def test_the_gate_lets_paths_inside_the_folder_through(rel: str, tmp_path: Path) -> None:
    assert unsafe_reason(rel) == ""
    assert Path(confine(tmp_path, rel)).resolve().is_relative_to(tmp_path.resolve())


def test_serve_refuses_a_hostile_permalink_saved_while_it_runs(tmp_path: Path) -> None:
    from sitegen.server import start_preview

    root = make_site(tmp_path, "tags: [fine]")
    outer = tmp_path / "outer"
    preview = start_preview(root, BuildOptions(), port=0, watch=False, quiet=True)
    try:
        evil = root / "posts" / "2024-01-02-evil.md"
        evil.write_text("---\ntitle: Evil\npermalink: /../../SERVE-ESCAPED/\n---\n\nx\n")
        before = tree_digest(outer)
        preview.on_batch({evil})
        assert tree_digest(outer) == before
        assert not list(tmp_path.rglob("SERVE-ESCAPED*"))
    finally:
        preview.stop()
