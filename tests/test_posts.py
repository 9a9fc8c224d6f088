"""The read stage read in parallel (forked copies read shares of the sources) gives what
one process gives: the same posts, pages and messages, in the same order, and a rebuild
that finds every post in the cache."""

from __future__ import annotations

import random

import pytest

import sitegen.posts as posts_stage
from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.write import MARKER


def _write_site(root, count: int, seed: int) -> None:
    rng = random.Random(seed)
    (root / "posts").mkdir(parents=True)
    (root / "pages").mkdir()
    (root / "sitegen.toml").write_text('title = "Read"\nurl = "https://example.org"\n')
    for i in range(count):
        kind = rng.choice(["plain"] * 6 + ["draft", "future", "broken", "duplicate", "binary"])
        front = [f"title: Post {i}", f"tags: [t{i % 3}]"]
        if kind == "draft":
            front.append("draft: true")
        if kind == "duplicate":
            front.append("permalink: /same/")
        year = 2090 if kind == "future" else 2024
        text = "---\n" + "\n".join(front) + f"\n---\n\nBody {i} with $x_{{{i}}}$.\n"
        if kind == "broken":
            text = f"---\ntitle: [unclosed {i}\n---\nbody\n"
        path = root / "posts" / f"{year}-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}-post-{i}.md"
        if kind == "binary":
            path.write_bytes(b"---\ntitle: x\n---\n\xff\xfe\x00 not text")
        else:
            path.write_text(text, encoding="utf-8")
    (root / "pages" / "about.md").write_text("---\ntitle: About\n---\n\nAbout.\n")


def _output(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER
    }


def _build(root, out, jobs):
    result = build_site(root, BuildOptions(out=out, jobs=jobs))
    return _output(out), [str(d) for d in result.site.report.diagnostics], result


@pytest.mark.parametrize("seed", [1, 2])
def test_sources_read_in_parallel_give_what_one_process_reads(tmp_path, monkeypatch, seed):
    forks = []

    def counted(theirs, mine):
        forks.append(len(theirs))
        return in_copies(theirs, mine)

    from sitegen.forked import in_copies

    monkeypatch.setattr(posts_stage, "in_copies", counted)
    built = {}
    for jobs in (1, 3):
        root = tmp_path / f"site{jobs}"
        _write_site(root, 90, seed)
        files, messages, _ = _build(root, tmp_path / f"out{jobs}", jobs)
        built[jobs] = (files, [m.replace(f"site{jobs}", "site") for m in messages])
    assert built[3] == built[1]
    assert forks == [2]  # only the build with three jobs read in copies
    messages = built[1][1]
    assert any("malformed front matter" in m for m in messages)
    assert any("/same/" in m for m in messages)
    assert any("in the future" in m for m in messages)


def test_a_rebuild_after_a_parallel_read_finds_every_post_in_the_cache(tmp_path, monkeypatch):
    root = tmp_path / "site"
    _write_site(root, 80, 3)
    first_files, first_messages, _ = _build(root, tmp_path / "out", 2)
    reads = []
    original = posts_stage.read_post

    def counted(source, rel, config, tz, **options):
        reads.append(rel)
        return original(source, rel, config, tz, **options)

    monkeypatch.setattr("sitegen.build.read_post", counted)
    files, messages, result = _build(root, tmp_path / "out", 2)
    assert files == first_files and messages == first_messages
    assert not result.rendered
    # only the files that could not be read (their messages are said again) are read again
    assert reads and all(any(r in m for m in messages) for r in reads)
