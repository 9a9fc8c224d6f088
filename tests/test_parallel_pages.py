"""Pages rendered by two processes (a forked copy renders every other page) give the site
one process gives: the same files, byte for byte, the same messages in the same order,
the same failed posts, and records the next build can trust."""

from __future__ import annotations

import os
import pickle
import random
import shutil

import pytest

import sitegen.pages as pages
from sitegen.build import build_site
from sitegen.forked import in_copies, split_work
from sitegen.model import BuildOptions
from sitegen.write import MARKER

PLUGIN = '''
import os
from sitegen.errors import SiteError
from sitegen.hooks import hookimpl


class Exploding:
    def __html__(self):
        raise ValueError("this body cannot be shown")


@hookimpl
def sitegen_template_context(site, page, context):
    post = page.post
    if post is None:
        return
    site.report.warning(post.rel, None, "seen by the page check")
    if post.meta.get("kill_copy") and os.getpid() != PARENT:
        os._exit(3)  # the forked copy dies half-way through its share
    if post.meta.get("fail") == "plugin":
        raise SiteError("refused by the page check")
    if post.meta.get("fail") == "template":
        context["content"] = Exploding()
'''


def _write_site(root, count: int, seed: int, parent: int) -> None:
    rng = random.Random(seed)
    (root / "posts").mkdir(parents=True)
    (root / "plugins").mkdir()
    (root / "plugins" / "pagecheck.py").write_text(f"PARENT = {parent}\n{PLUGIN}")
    (root / "sitegen.toml").write_text(
        'title = "Split"\nurl = "https://example.org"\nposts_per_page = 3\n\n[plugins.pagecheck]\n'
    )
    for i in range(count):
        fail = rng.choice(["", "", "", "plugin", "template"])
        tags = rng.sample(["alpha", "beta", "gamma", "delta"], rng.randint(0, 2))
        front = [f"title: Post {i}", f"tags: [{', '.join(tags)}]"]
        if fail:
            front.append(f"fail: {fail}")
        body = f"Paragraph {i} with $x^{i}$ and a [link](/about/).\n"
        day = 1 + i % 28
        (root / "posts" / f"2024-{1 + i // 28:02d}-{day:02d}-post-{i}.md").write_text(
            "---\n" + "\n".join(front) + "\n---\n\n" + body
        )


def _output(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER
    }


def _messages(result):
    return [str(d) for d in result.site.report.diagnostics]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_processes_give_what_one_gives(tmp_path, monkeypatch, seed):
    root = tmp_path / "site"
    _write_site(root, 30, seed, os.getpid())
    serial = build_site(root, BuildOptions(out=tmp_path / "serial", jobs=1, rerun=True))
    monkeypatch.setattr(pages, "PARALLEL_MIN_PAGES", 2)
    splits = []
    monkeypatch.setattr(pages, "split_work", lambda *a: splits.append(1) or split_work(*a))
    split = build_site(root, BuildOptions(out=tmp_path / "split", jobs=2, rerun=True))
    assert splits == [1]  # the pages were shared between two processes
    assert serial.site.report.errors  # the failing posts failed in both
    assert _messages(split) == _messages(serial)
    assert _output(tmp_path / "split") == _output(tmp_path / "serial")
    assert split.rendered == serial.rendered
    assert sorted(split.changed) == sorted(serial.changed)
    assert split.failed_sources == serial.failed_sources


def _three_builds(root, out, jobs):
    """A clean build, a build with nothing changed, a build after one post's edit."""
    post = next(p for p in sorted((root / "posts").iterdir()) if "fail" not in p.read_text())
    text = post.read_text()
    results = [build_site(root, BuildOptions(out=out, jobs=jobs))]
    results.append(build_site(root, BuildOptions(out=out, jobs=jobs)))
    post.write_text(text.replace("Paragraph", "A paragraph"))
    results.append(build_site(root, BuildOptions(out=out, jobs=jobs)))
    post.write_text(text)
    return results, f"posts/{post.name}"


def test_a_split_build_records_what_the_next_build_needs(tmp_path, monkeypatch):
    root = tmp_path / "site"
    _write_site(root, 30, 4, os.getpid())
    serial, _ = _three_builds(root, tmp_path / "serial", 1)
    monkeypatch.setattr(pages, "PARALLEL_MIN_PAGES", 2)
    split, edited = _three_builds(root, tmp_path / "split", 2)
    for one, two in zip(serial, split, strict=True):
        assert two.rendered == one.rendered
        assert sorted(two.changed) == sorted(one.changed)
        assert _messages(two) == _messages(one)
    assert split[1].changed == []  # nothing changed: nothing written
    assert split[2].pages_of[edited] in split[2].changed
    assert len(split[2].rendered) < len(split[0].rendered) // 2  # not every page again
    assert _output(tmp_path / "split") == _output(tmp_path / "serial")


def test_a_rebuild_checks_pages_here_and_splits_only_many_outdated_ones(tmp_path, monkeypatch):
    root = tmp_path / "site"
    _write_site(root, 30, 6, os.getpid())
    config = root / "sitegen.toml"
    # ~50 pages; after the edit ~13 are rendered again (the edited post's, its
    # neighbours', listings', and those whose template fails in every build)
    monkeypatch.setattr(pages, "PARALLEL_MIN_PAGES", 20)
    splits = []
    monkeypatch.setattr(pages, "split_work", lambda *a: splits.append(1) or split_work(*a))
    serial, _ = _three_builds(root, tmp_path / "serial", 1)
    split, _ = _three_builds(root, tmp_path / "split", 2)
    assert splits == [1]  # the clean build: the edit's few outdated pages are rendered here
    # every page outdated (the site's title is on each): checked here, rendered in two
    config.write_text(config.read_text().replace('"Split"', '"Split again"'))
    serial.append(build_site(root, BuildOptions(out=tmp_path / "serial", jobs=1)))
    split.append(build_site(root, BuildOptions(out=tmp_path / "split", jobs=2)))
    assert splits == [1, 1]
    for one, two in zip(serial, split, strict=True):
        assert _messages(two) == _messages(one)
        assert two.rendered == one.rendered
        assert two.changed == one.changed
        assert two.failed_sources == one.failed_sources
    assert len(split[3].rendered) == len(split[0].rendered)
    assert _output(tmp_path / "split") == _output(tmp_path / "serial")


def test_a_copy_that_dies_costs_time_not_pages(tmp_path, monkeypatch):
    root = tmp_path / "site"
    _write_site(root, 30, 5, os.getpid())
    for name in sorted((root / "posts").iterdir())[1::2][:3]:  # pages of the copy's share
        name.write_text(name.read_text().replace("---\n\n", "kill_copy: true\n---\n\n", 1))
    serial = build_site(root, BuildOptions(out=tmp_path / "serial", jobs=1, rerun=True))
    monkeypatch.setattr(pages, "PARALLEL_MIN_PAGES", 2)
    split = build_site(root, BuildOptions(out=tmp_path / "split", jobs=2, rerun=True))
    assert _messages(split) == _messages(serial)
    assert _output(tmp_path / "split") == _output(tmp_path / "serial")


def test_split_work_returns_the_copys_result_and_raises_its_errors():
    parent = os.getpid()
    ran_here = []
    assert split_work(lambda: ("from", os.getpid() != parent), lambda: ran_here.append(1)) == (
        "from",
        True,
    )
    assert ran_here == [1]
    with pytest.raises(KeyError, match="lost"):
        split_work(lambda: {}["lost"], lambda: None)

    class Unpicklable(Exception):
        def __reduce__(self):
            raise pickle.PicklingError("no")

    def raise_unpicklable():
        raise Unpicklable("odd")

    with pytest.raises(RuntimeError, match="Unpicklable: odd"):
        split_work(raise_unpicklable, lambda: None)


def test_split_work_does_the_share_here_when_the_copy_dies():
    parent = os.getpid()

    def theirs():
        if os.getpid() != parent:
            os._exit(9)
        return "done here"

    assert split_work(theirs, lambda: None) == "done here"


def test_several_copies_return_in_order_and_a_dead_one_is_done_here():
    parent = os.getpid()
    ran_here = []

    def share(number: int):
        def run():
            if number == 2 and os.getpid() != parent:
                os._exit(9)  # this copy dies: its share is done again here
            return number, os.getpid() != parent

        return run

    results = in_copies([share(n) for n in range(4)], lambda: ran_here.append(1))
    assert results == [(0, True), (1, True), (2, False), (3, True)]
    assert ran_here == [1]
    with pytest.raises(KeyError, match="lost"):
        in_copies([share(0), lambda: {}["lost"]], lambda: None)


@pytest.mark.parametrize("store", ["rerun", "written", "unwritable", "not picked up"])
def test_bodies_in_several_processes_equal_one_process(tmp_path, monkeypatch, store):
    # A copy's bodies come back through the store it wrote them to, or, when they are not
    # there (no store, a store that cannot be written, a pack the build does not find),
    # through the pipe or rendered again here: the same site and messages every way.
    import sitegen.bodies as bodies
    from sitegen.store import CacheStore

    if store == "unwritable":
        monkeypatch.setattr("sitegen.cache.write_cache_file", lambda *a, **k: False)
    if store == "not picked up":
        monkeypatch.setattr(CacheStore, "pick_up", lambda self: None)
    copies = []

    def counted(theirs, mine):
        copies.append(len(theirs))
        return in_copies(theirs, mine)

    monkeypatch.setattr(bodies, "in_copies", counted)
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    for i in range(70):
        (root / "posts" / f"2024-01-{1 + i % 28:02d}-post-{i}.md").write_text(
            f"---\ntitle: Post {i}\n---\n\nText $x_{{{i}}}$ and [a link](#)"
            + (" {{ page.nope }}" if i % 9 == 0 else "") + "\n",
            encoding="utf-8",
        )
    outputs = {}
    for jobs in (1, 3):
        shutil.rmtree(root / ".sitegen-cache", ignore_errors=True)  # every body rendered
        options = BuildOptions(out=tmp_path / f"out{jobs}", jobs=jobs, rerun=store == "rerun")
        result = build_site(root, options)
        outputs[jobs] = (_output(tmp_path / f"out{jobs}"), _messages(result))
    assert outputs[3] == outputs[1]
    assert any("page.nope" in message for message in outputs[1][1])
    assert copies == [2]  # the second build rendered in three processes
