"""A clean build's folders are made by a helper while the sources are read: the output is
the same as without it (the same files and the same folders, none left empty by a post
that failed or a build that stopped), and nothing is made outside the output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen import folders
from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.pages import PageRun
from tests.test_confinement import tree_digest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the helper is forked")


def _tree(folder: Path) -> tuple[set[str], dict[str, bytes]]:
    dirs, files = set(), {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            dirs.add((Path(dirpath) / name).relative_to(folder).as_posix())
        for name in filenames:
            path = Path(dirpath) / name
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return dirs, files


def _site(tmp_path: Path, n: int = 80) -> Path:
    root = tmp_path / "outer" / "site"
    (root / "posts").mkdir(parents=True)
    for i in range(n):
        (root / "posts" / f"20{10 + i % 12}-{1 + i % 12:02d}-{1 + i % 28:02d}-post-{i}.md"
         ).write_text(f"---\ntitle: Post {i}\n---\n\nText {i} with $x^{i}$.\n", encoding="utf-8")
    (root / "posts" / "2024-02-03-broken.md").write_text(
        "---\ntitle: Broken\n---\n\nIts body fails.\n", encoding="utf-8")
    (root / "posts" / "2024-02-04-escape.md").write_text(
        "---\ntitle: Escape\npermalink: /../../made-outside/\n---\n\nBody.\n", encoding="utf-8")
    return root


@pytest.fixture
def helpers(monkeypatch):
    started = []
    start = folders.start_helper

    def spy(out):
        helper = start(out)
        started.append(helper)
        return helper

    monkeypatch.setattr(folders, "start_helper", spy)
    return started


def test_the_folders_made_early_are_the_ones_a_build_without_the_helper_makes(
    tmp_path, helpers, monkeypatch
):
    from sitegen import bodies

    render = bodies.render_post_body

    def failing(site, md, post):  # as a plugin's bug would make it fail
        if "broken" in post.rel:
            site.report.error(post.rel, None, "rendering failed: a plugin's bug")
            post.failed = True
            return
        render(site, md, post)

    monkeypatch.setattr(bodies, "render_post_body", failing)
    root = _site(tmp_path)
    outside = tree_digest(tmp_path)
    with_helper = build_site(root, BuildOptions(out=tmp_path / "a", jobs=2, strict=False))
    assert helpers and helpers[0] is not None  # the helper ran
    helpers.clear()
    build_site(root, BuildOptions(out=tmp_path / "b", jobs=1, strict=False))
    assert helpers == []
    messages = [str(d) for d in with_helper.site.report.diagnostics]
    assert any("a plugin's bug" in m for m in messages) and any("'..'" in m for m in messages)
    a_dirs, a_files = _tree(tmp_path / "a")
    b_dirs, b_files = _tree(tmp_path / "b")
    assert a_dirs == b_dirs and a_files.keys() == b_files.keys()
    assert not any("broken" in d for d in a_dirs)  # its post failed: no folder left
    assert not (tmp_path / "made-outside").exists() and not (tmp_path / "outer" / "made-outside"
                                                              ).exists()
    assert {k for k in tree_digest(tmp_path) if not k.startswith(("a/", "b/"))} == set(outside)


def test_a_build_that_stops_leaves_no_empty_folder(tmp_path, helpers, monkeypatch):
    root = _site(tmp_path)

    def stop(self, pages):
        raise RuntimeError("stopped")

    monkeypatch.setattr(PageRun, "render", stop)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        build_site(root, BuildOptions(out=out, jobs=2, strict=False))
    assert helpers and helpers[0] is not None
    dirs, files = _tree(out) if out.exists() else (set(), {})
    assert dirs == set() and files == {}


def test_a_rebuild_makes_no_helper(tmp_path, helpers):
    root = _site(tmp_path)
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out, jobs=2, strict=False))
    helpers.clear()
    (root / "posts" / "2024-03-01-new.md").write_text("---\ntitle: New\n---\n\nNew.\n")
    build_site(root, BuildOptions(out=out, jobs=2, strict=False))
    assert helpers == []
    assert (out / "2024" / "03" / "01" / "new" / "index.html").is_file()


def test_the_helper_makes_nothing_outside_the_output_whatever_it_is_given(tmp_path, helpers):
    out = tmp_path / "site" / "out"
    out.mkdir(parents=True)
    for folder in (tmp_path, out.parent):  # an entry made there and removed shows in its time
        os.utime(folder, ns=(10**18, 10**18))
    maker = folders.FolderMaker(out)
    for rel in ["../../evil/index.html", "a/../../../evil2/x.html", "/abs/index.html"]:
        maker.add(rel)
    for i in range(folders.MIN_FOLDERS + 6):
        maker.add(f"2020/01/{i:02d}/post/index.html")
    maker.add("../beside/index.html")
    maker.finish(["2020/01/03/post/index.html"])
    assert helpers and helpers[0] is not None
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["site", "out", "2020", "01", "03", "post"])
    assert os.stat(tmp_path).st_mtime_ns == os.stat(out.parent).st_mtime_ns == 10**18
