"""The reading copy (sitegen/reading_copy.py): a clean build that reads most of its sources
in a copy forked before the engine is imported writes the same output and says the same
as a build that reads them all itself, whatever the sources hold, and leaves no folder
behind when it stops early or the copy dies."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS

from sitegen.build import build_site
from sitegen.forked import can_fork
from sitegen.model import BuildOptions
from sitegen.reading_copy import ReadingCopy, copy_reads

SITES = Path(__file__).parent / "sites"
# the shared Jekyll blog and cases, beside the repository (read only when they are there)
SHARED_SITES = [CORPUS / "anujgupta82"] + sorted(
    p for p in (CORPUS.parent / "jekyll-cases").glob("site*") if p.is_dir()
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the copy is forked")

POST = """---
title: "Post {n}"
date: 2021-{month:02d}-{day:02d} 10:00:00
tags: [{tags}]
{extra}---
Some text with $a_{n} + b$ and

$$
\\frac{{\\partial L}}{{\\partial W}} = X^\\top \\delta \\label{{eq{n}}}
$$
"""

ODD_SOURCES = {
    "2021-12-01-broken-yaml.md": "---\ntitle: [unclosed\n---\ntext\n",
    "2021-12-02-empty.md": "",
    "2021-12-03-draft.md": "---\ntitle: Draft\ndraft: true\n---\nnot yet\n",
    "2021-12-04-future.md": "---\ntitle: Later\ndate: 2999-01-01\n---\nlater\n",
    "2021-12-05-escape.md": "---\ntitle: Escape\npermalink: /../../outside/\n---\nno\n",
    "2021-12-06-same-a.md": "---\ntitle: A\npermalink: /same/\n---\na\n",
    "2021-12-07-same-b.md": "---\ntitle: B\npermalink: /same/\n---\nb\n",
}


def make_site(root: Path, seed: int, posts: int = 40) -> None:
    rng = random.Random(seed)
    (root / "posts").mkdir(parents=True)
    (root / "pages").mkdir()
    (root / "sitegen.toml").write_text('title = "Copy"\nurl = "https://example.org"\n')
    (root / "pages" / "about.md").write_text("---\ntitle: About\n---\nAbout $x$.\n")
    for n in range(posts):
        extra = rng.choice(["", "draft: true\n", f"slug: s{n}\n", ""])
        month, day = 1 + n % 11, 1 + rng.randrange(28)
        tags = ", ".join(rng.sample(["grad", "shape", "jacobian", "misc"], rng.randint(0, 2)))
        text = POST.format(n=n, month=month, day=day, tags=tags, extra=extra)
        (root / "posts" / f"2021-{month:02d}-{day:02d}-post-{n}.md").write_text(text)
    chosen = rng.sample(sorted(ODD_SOURCES), rng.randint(3, len(ODD_SOURCES)))
    for name in chosen:
        (root / "posts" / name).write_text(ODD_SOURCES[name])
    (root / "posts" / "2021-12-08-latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n\xe9\n")


# How long a verify block's checks ran: the one thing two clean builds may differ in.
RUN_TIME = re.compile(rb'"time": [0-9.e-]+')


def tree(out: Path) -> dict[str, bytes | None]:
    """Every file's bytes (run times aside) and every folder (None) under ``out``."""
    return {
        p.relative_to(out).as_posix(): (
            RUN_TIME.sub(b'"time": _', p.read_bytes()) if p.is_file() else None
        )
        for p in sorted(out.rglob("*"))
    }


def said(result) -> list[str]:
    return [str(d) for d in result.site.report.diagnostics]


def clean_caches(root: Path) -> None:
    """Each build a clean one, as the copy is for: no cache of an earlier build."""
    shutil.rmtree(root / ".sitegen-cache", ignore_errors=True)


def one_process(root: Path, out: Path):
    clean_caches(root)
    return build_site(root, BuildOptions(out=out, jobs=1, strict=False))


def with_copy(root: Path, out: Path, **options):
    clean_caches(root)
    options = BuildOptions(out=out, jobs=2, strict=False, **options)
    copy = ReadingCopy.start(root, out, options, 2)
    assert copy is not None
    try:
        return build_site(root, options, copy=copy), copy
    finally:
        copy.dismiss()


needs_fork = pytest.mark.skipif(not can_fork(), reason="another thread runs")


@needs_fork
@pytest.mark.parametrize("seed", range(4))
def test_a_build_with_a_reading_copy_equals_one_without(tmp_path, seed):
    root = tmp_path / "site"
    make_site(root, seed)
    alone = one_process(root, tmp_path / "alone")
    result, copy = with_copy(root, tmp_path / "copy")
    received = copy.results()
    assert received is not None  # it read, and its posts were taken
    readable = [rel for rel in received.texts]
    assert len(readable) >= 20 and all(text for text in received.texts.values())
    assert tree(tmp_path / "copy") == tree(tmp_path / "alone")
    assert said(result) == said(alone)
    assert not [p for p in (tmp_path / "copy").rglob("*") if p.is_dir() and not any(p.iterdir())]
    assert sorted(os.listdir(tmp_path)) == ["alone", "copy", "site"]  # nothing outside


@needs_fork
def test_the_copy_reads_two_sources_of_three():
    assert [copy_reads(i) for i in range(6)] == [True, True, False, True, True, False]


@needs_fork
def test_what_the_copy_read_is_not_used_when_a_plugin_changes_the_settings(tmp_path):
    root = tmp_path / "site"
    make_site(root, 7)
    (root / "plugins").mkdir()
    (root / "plugins" / "flat.py").write_text(
        "from sitegen.hooks import hookimpl\n\n"
        "@hookimpl\n"
        "def sitegen_configure(site):\n"
        "    site.config.permalink = '/notes/:slug/'\n"
    )
    alone = one_process(root, tmp_path / "alone")
    result, _ = with_copy(root, tmp_path / "copy")
    assert any(p.startswith("notes/") for p in tree(tmp_path / "alone"))
    assert tree(tmp_path / "copy") == tree(tmp_path / "alone")
    assert said(result) == said(alone)
    # the copy made the folders of its own URLs; none is left empty
    assert not [p for p in (tmp_path / "copy").rglob("*") if p.is_dir() and not any(p.iterdir())]


@needs_fork
def test_a_build_that_stops_before_its_pages_leaves_no_folder(tmp_path):
    root = tmp_path / "site"
    make_site(root, 3)
    out = tmp_path / "out"
    copy = ReadingCopy.start(root, out, BuildOptions(out=out, jobs=2), 2)
    assert copy is not None
    assert copy.results() is not None  # read, and its posts' folders sent to be made
    copy.dismiss()  # what ``sitegen build`` does when the build raised
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["site"]


@needs_fork
def test_a_copy_that_dies_costs_time_not_output(tmp_path):
    root = tmp_path / "site"
    make_site(root, 5)
    alone = one_process(root, tmp_path / "alone")
    out = tmp_path / "copy"
    options = BuildOptions(out=out, jobs=2, strict=False)
    clean_caches(root)
    copy = ReadingCopy.start(root, out, options, 2)
    assert copy is not None
    os.kill(copy.pid, signal.SIGKILL)
    try:
        result = build_site(root, options, copy=copy)
    finally:
        copy.dismiss()
    assert copy.results() is None
    assert tree(out) == tree(tmp_path / "alone")
    assert said(result) == said(alone)


@needs_fork
def test_an_atomic_build_with_a_copy_equals_one_without(tmp_path):
    root = tmp_path / "site"
    make_site(root, 9)
    one_process(root, tmp_path / "alone")
    with_copy(root, tmp_path / "copy", atomic=True)
    assert tree(tmp_path / "copy") == tree(tmp_path / "alone")


def test_no_copy_for_a_rebuild_or_an_output_it_must_not_write(tmp_path):
    root = tmp_path / "site"
    make_site(root, 1)
    out = tmp_path / "out"
    one_process(root, out)  # the output holds an earlier build's folders now
    assert ReadingCopy.start(root, out, BuildOptions(out=out, jobs=2), 2) is None
    assert ReadingCopy.start(root, root, BuildOptions(out=root, jobs=2), 2) is None
    assert ReadingCopy.start(root, tmp_path / "x", BuildOptions(jobs=1), 1) is None


def test_sitegen_build_reads_with_a_copy_and_says_the_same(tmp_path):
    """Through the command, as a user runs it: two workers against one."""
    root = tmp_path / "site"
    make_site(root, 11)
    outside = sorted(os.listdir(tmp_path))

    def run(jobs: str, out: str) -> list[str]:
        clean_caches(root)
        done = subprocess.run(
            [sys.executable, "-m", "sitegen", "build", "--no-strict", "-j", jobs, "-o", out],
            cwd=root, capture_output=True, text=True, check=True,
        )
        return [line for line in done.stderr.splitlines()]

    assert run("2", str(tmp_path / "two")) == run("1", str(tmp_path / "one"))
    assert tree(tmp_path / "two") == tree(tmp_path / "one")
    assert sorted(os.listdir(tmp_path)) == sorted(outside + ["one", "two"])
    assert not (tmp_path / "outside").exists()


def assert_same_with_a_copy(site: Path, tmp_path: Path) -> None:
    """``site``, copied (files made writable), builds the same with a copy as without."""
    root = tmp_path / "site"
    shutil.copytree(site, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    alone = one_process(root, tmp_path / "alone")
    result, copy = with_copy(root, tmp_path / "copy")
    assert copy.results() is not None
    assert tree(tmp_path / "copy") == tree(tmp_path / "alone")
    assert said(result) == said(alone)


@needs_fork
@pytest.mark.parametrize("name", sorted(p.name for p in SITES.iterdir() if p.is_dir()))
def test_each_fixture_site_builds_the_same_with_a_copy(tmp_path, name):
    """Jekyll sites too (_posts, _drafts, collections, _config.yml's show_drafts/future)."""
    assert_same_with_a_copy(SITES / name, tmp_path)


@needs_fork
@pytest.mark.parametrize("site", SHARED_SITES, ids=lambda p: p.name)
def test_each_shared_jekyll_site_builds_the_same_with_a_copy(tmp_path, site):
    if not site.is_dir():
        pytest.skip(f"{site} is not here")
    assert_same_with_a_copy(site, tmp_path)


@needs_fork
def test_a_clean_build_stopped_by_ctrl_c_leaves_no_empty_folder(tmp_path):
    """Ctrl-C reaches the builder, the reading copy and the folder helper at once; the
    builder still removes the folders made for pages it did not write."""
    import time

    root = tmp_path / "site"
    make_site(root, 2, posts=300)
    out = tmp_path / "out"
    build = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "build", "-q", "-j", "2", "-o", str(out)],
        cwd=root, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while build.poll() is None and time.monotonic() < deadline:
        if out.is_dir() and any(p.is_dir() for p in out.iterdir()):
            break  # folders are being made: the pages are not written yet
        time.sleep(0.002)
    os.killpg(build.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
    build.communicate(timeout=60)
    # stopped by it (130 as the command says; now and then the interpreter itself ends
    # by the signal instead)
    assert build.returncode in (130, -signal.SIGINT), "the build ended before the signal"
    empty = [p for p in out.rglob("*") if p.is_dir() and not any(p.iterdir())]
    assert not empty
    assert not out.exists() or any(out.iterdir())  # an output left empty goes too
