"""Caches between builds: rendered bodies in shards, parsed front matter, the manifest."""

from __future__ import annotations

import pickle
from pathlib import Path

from sitegen import cache as cache_module
from sitegen.cache import FrontMatterCache, RenderCache
from sitegen.frontmatter import split_front_matter


def test_entries_come_back_in_the_next_build_and_each_build_adds_a_shard(tmp_path):
    first = RenderCache(tmp_path, "salt")
    key = first.key("posts/a.md", "text")
    first.put(key, ("<p>a</p>", {"n": 1}))
    first.save()
    second = RenderCache(tmp_path, "salt")
    assert second.get(key) == ("<p>a</p>", {"n": 1})
    second.put(second.key("posts/b.md", "text"), ("<p>b</p>", {}))
    second.save()
    assert len(list((tmp_path / ".sitegen-cache/render").glob("*.pickle"))) == 2
    third = RenderCache(tmp_path, "salt")
    assert key in third and third.key("posts/b.md", "text") in third


def test_entries_are_copies_and_other_settings_see_nothing(tmp_path):
    first = RenderCache(tmp_path, "salt")
    key = first.key("posts/a.md", "text")
    first.put(key, ["mutable"])
    first.save()
    second = RenderCache(tmp_path, "salt")
    second.get(key).append("changed")
    assert second.get(key) == ["mutable"]
    other = RenderCache(tmp_path, "other salt")
    assert other.get(key) is None
    other.save()  # and the shards of other settings go away
    assert RenderCache(tmp_path, "salt").get(key) is None


def test_shards_are_merged_and_unused_entries_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "MAX_SHARDS", 3)
    keys = []
    for n in range(5):
        store = RenderCache(tmp_path, "salt")
        for key in keys[-1:]:  # each build uses only the entry of the build before
            assert store.get(key) is not None
        keys.append(store.key(f"posts/{n}.md", "text"))
        store.put(keys[-1], n)
        store.save()
    shards = list((tmp_path / ".sitegen-cache/render").glob("*.pickle"))
    assert len(shards) <= 3
    last = RenderCache(tmp_path, "salt")
    assert last.get(keys[-1]) == 4 and last.get(keys[-2]) == 3
    assert last.get(keys[0]) is None


def test_a_damaged_shard_costs_only_its_entries(tmp_path):
    store = RenderCache(tmp_path, "salt")
    key = store.key("posts/a.md", "text")
    store.put(key, "kept")
    store.save()
    (tmp_path / ".sitegen-cache/render/0-broken.pickle").write_bytes(b"not a pickle")
    assert RenderCache(tmp_path, "salt").get(key) == "kept"


def test_front_matter_is_parsed_once_and_every_post_gets_its_own_copy(tmp_path, monkeypatch):
    text = "---\ntitle: One\ntags: [a, b]\n---\nbody\n"
    headers = FrontMatterCache(tmp_path, "v1")
    meta, body, line = split_front_matter(text, "posts/one.md", headers)
    assert meta == {"title": "One", "tags": ["a", "b"]} and body == "body\n" and line == 5
    headers.save()
    again = FrontMatterCache(tmp_path, "v1")
    import yaml

    def no_yaml(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(yaml, "load", no_yaml)
    first, _, _ = split_front_matter(text, "posts/one.md", again)
    first["tags"].append("c")
    second, _, _ = split_front_matter(text, "posts/one.md", again)
    assert second == {"title": "One", "tags": ["a", "b"]}
    assert FrontMatterCache(tmp_path, "v2").get("title: One\ntags: [a, b]\n") is None


def test_front_matter_of_deleted_posts_is_forgotten(tmp_path):
    headers = FrontMatterCache(tmp_path, "v1")
    for n in range(3):
        split_front_matter(f"---\ntitle: T{n}\n---\n", f"posts/{n}.md", headers)
    headers.save()
    later = FrontMatterCache(tmp_path, "v1")
    split_front_matter("---\ntitle: T0\n---\n", "posts/0.md", later)
    later.save()
    assert list(FrontMatterCache(tmp_path, "v1").blobs) == ["title: T0\n"]


def test_a_prose_edit_does_not_highlight_unchanged_code_again(site_copy, tmp_path, monkeypatch):
    from sitegen.build import build_site
    from sitegen.markdown import highlight
    from sitegen.model import BuildOptions

    root = site_copy("theme")
    out = tmp_path / "out"
    assert build_site(root, BuildOptions(out=out)).ok
    page = out / "2024/02/01/beta/index.html"
    before = page.read_text()
    assert '<span class="k">def</span>' in before
    post = root / "posts/2024-02-01-beta.md"
    post.write_text(post.read_text().replace("in prose", "in the prose"))

    def no_lexer(name):
        raise AssertionError(f"highlighted again: {name}")

    monkeypatch.setattr(highlight, "_lexer", no_lexer)
    assert build_site(root, BuildOptions(out=out)).ok
    after = page.read_text()
    assert "in the prose" in after
    code = before[before.index('<div class="highlight">') : before.index("</pre></div>")]
    assert code in after
    # new code is highlighted, of course
    post.write_text(post.read_text().replace("a + b", "a - b"))
    monkeypatch.undo()
    assert build_site(root, BuildOptions(out=out)).ok
    assert 'a</span> <span class="o">-</span>' in page.read_text()


def test_merging_shards_keeps_what_render_workers_added(tmp_path, monkeypatch):
    old = RenderCache(tmp_path, "salt")
    old_key = old.key("posts/old.md", "text")
    old.put(old_key, "old")
    old.save()
    builder = RenderCache(tmp_path, "salt")
    assert builder.get(old_key) == "old"
    worker = RenderCache(tmp_path, "salt")  # as a forked worker would have it
    new_key = worker.key("posts/new.md", "text")
    worker.put(new_key, "new")
    worker.save_new()
    monkeypatch.setattr(cache_module, "MAX_SHARDS", 0)  # the builder merges its shards
    builder.save()
    later = RenderCache(tmp_path, "salt")
    assert later.get(old_key) == "old" and later.get(new_key) == "new"


def test_a_rebuild_reads_only_the_sources_that_changed(site_copy, tmp_path, monkeypatch):
    from sitegen import read as read_module
    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    root = site_copy("basic")
    out = tmp_path / "out"
    assert build_site(root, BuildOptions(out=out)).ok
    calls: list[str] = []
    real = read_module.read_post

    def counting(source, rel, *args, **kwargs):
        calls.append(rel)
        return real(source, rel, *args, **kwargs)

    opened: list[str] = []
    real_bytes = read_module.read_bytes

    def opening(path):
        opened.append(Path(path).name)
        return real_bytes(path)

    monkeypatch.setattr("sitegen.build.read_post", counting)
    monkeypatch.setattr("sitegen.build.read_bytes", opening)
    monkeypatch.setattr("sitegen.read.read_bytes", opening)
    first = root / "posts/2024-01-02-first-post.md"
    text = first.read_text()
    first.write_text(text.replace("First post", "Fyrst post"))  # same size
    result = build_site(root, BuildOptions(out=out))
    assert result.ok and calls == ["posts/2024-01-02-first-post.md"]
    assert opened == ["2024-01-02-first-post.md"]  # the others' files are not even opened
    assert "Fyrst post" in (out / "2024/01/02/first-post/index.html").read_text()
    assert "Second post" in (out / "2024/01/03/second-post/index.html").read_text()
    # the others' text is still there for whoever asks: read from the file then
    second = next(p for p in result.site.posts if p.rel == "posts/2024-01-03-second-post.md")
    assert second.source == (root / second.rel).read_text()
    assert second.source.endswith(second.body) and second.body.strip()
    assert opened == ["2024-01-02-first-post.md", "2024-01-03-second-post.md"]
    # a setting that changes how posts are read: every source is read again
    calls.clear()
    config = root / "sitegen.toml"
    config.write_text(config.read_text() + '\npermalink = "/:slug/"\n')
    assert build_site(root, BuildOptions(out=out)).ok
    assert len(calls) >= 4 and (out / "second-post/index.html").is_file()


def test_a_deferred_text_is_made_once_and_pickles_as_text():
    from sitegen.model import Deferred, Post

    made: list[int] = []

    def make() -> str:
        made.append(1)
        return "# Title\n\nBody\n"

    post = Post(path=Path("a.md"), rel="a.md")
    assert post.source == "" and post.body == ""
    post.source = Deferred(make)
    copy = pickle.loads(pickle.dumps(post))  # pickling asks for the text
    assert copy.source == "# Title\n\nBody\n" and made == [1]
    assert post.source == copy.source and made == [1, 1]
    assert post.source == copy.source and made == [1, 1]  # made once per post
