"""What builds keep for the next one, tested by what builds do: what they render and
read again, what they write, and that no damaged cache changes a page."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.cache import CacheStore, FrontMatterCache, cache_dir
from sitegen.frontmatter import split_front_matter
from sitegen.model import BuildOptions


def _outputs(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _cache_files(root: Path) -> list[Path]:
    return [p for p in cache_dir(root).rglob("*") if p.is_file()]


def _cache_size(root: Path) -> int:
    return sum(p.stat().st_size for p in _cache_files(root))


@pytest.fixture
def rendered(monkeypatch):
    """The posts whose bodies the next builds render (not take from the cache)."""
    from sitegen import bodies

    names: list[str] = []
    real = bodies.render_post_body

    def counting(site, md, post):
        names.append(post.rel)
        return real(site, md, post)

    monkeypatch.setattr(bodies, "render_post_body", counting)
    return names


def _many_posts(root: Path, n: int) -> None:
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text('title = "Many"\n', encoding="utf-8")
    for i in range(n):
        (root / "posts" / f"2024-01-{1 + i % 28:02d}-post-{i}.md").write_text(
            f"---\ntitle: Post {i}\ntags: [t{i % 5}]\n---\n"
            f"Text of post {i} with $x^{i}$.\n\n```python\nprint({i})\n```\n",
            encoding="utf-8",
        )


def test_a_rebuild_with_nothing_changed_renders_nothing(site_copy, tmp_path, rendered):
    root = site_copy("theme")
    out = tmp_path / "out"
    first = build_site(root, BuildOptions(out=out))
    assert first.ok and len(rendered) == len(first.site.posts + first.site.pages) > 0
    before = _outputs(out)
    rendered.clear()
    again = build_site(root, BuildOptions(out=out))
    assert again.ok and rendered == [] and again.rendered == [] and again.changed == []
    assert _outputs(out) == before


def test_a_rebuild_after_every_cache_file_is_damaged_equals_a_clean_build(
    site_copy, tmp_path, rendered
):
    root = site_copy("theme")
    out = tmp_path / "out"
    assert build_site(root, BuildOptions(out=out)).ok
    clean = _outputs(out)
    for damage in ("truncate", "flip", "empty"):
        files = _cache_files(root)
        assert files
        for path in files:
            data = path.read_bytes()
            if damage == "truncate":
                path.write_bytes(data[: len(data) // 2])
            elif damage == "flip" and data:  # a byte in every 512: in every entry but tiny ones
                flipped = bytearray(data)
                for at in range(len(data) // 1024, len(data), 512):
                    flipped[at] ^= 0x40
                path.write_bytes(bytes(flipped))
            else:
                path.write_bytes(b"")
        rendered.clear()
        result = build_site(root, BuildOptions(out=out))
        assert result.ok, [str(d) for d in result.site.report.diagnostics]
        assert _outputs(out) == clean, damage
        assert rendered, damage  # the damaged bodies were misses, rendered again
    # and what the build stored instead serves the next one
    rendered.clear()
    assert build_site(root, BuildOptions(out=out)).ok and rendered == []


def test_repeated_edits_do_not_grow_the_cache(site_copy, tmp_path):
    root = site_copy("theme")
    out = tmp_path / "out"
    post = root / "posts/2024-02-01-beta.md"
    text = post.read_text()
    sizes = []
    for n in range(6):
        post.write_text(text + f"\nEdit number {n} of this post.\n")
        assert build_site(root, BuildOptions(out=out)).ok
        sizes.append(_cache_size(root))
    # every edit makes a new body entry; the one before it is swept
    assert max(sizes[1:]) <= sizes[1] * 1.05, sizes
    post.unlink()
    assert build_site(root, BuildOptions(out=out)).ok
    assert _cache_size(root) < sizes[-1]


def test_bodies_rendered_by_parallel_workers_serve_the_next_build(tmp_path, rendered):
    from sitegen.bodies import PARALLEL_MIN_POSTS, can_fork

    if not can_fork():
        pytest.skip("no fork here: one process renders every body")
    root = tmp_path / "site"
    _many_posts(root, PARALLEL_MIN_POSTS * 2)
    out = tmp_path / "out"
    first = build_site(root, BuildOptions(out=out, jobs=3))
    assert first.ok and len(first.site.posts) == PARALLEL_MIN_POSTS * 2
    # this process renders its share itself; the workers' shares are not counted here
    assert 0 < len(rendered) < PARALLEL_MIN_POSTS * 2
    clean = _outputs(out)
    rendered.clear()
    again = build_site(root, BuildOptions(out=out, jobs=3))
    assert again.ok and rendered == [] and again.rendered == []
    # one edit: that body alone
    edited = root / "posts/2024-01-05-post-4.md"
    edited.write_text(edited.read_text().replace("Text of", "The text of"))
    assert build_site(root, BuildOptions(out=out, jobs=3)).ok
    assert rendered == ["posts/2024-01-05-post-4.md"]
    edited.write_text(edited.read_text().replace("The text of", "Text of"))
    assert build_site(root, BuildOptions(out=out, jobs=3)).ok
    assert _outputs(out) == clean


def test_rerun_renders_everything_and_leaves_the_caches_filled(site_copy, tmp_path, rendered):
    root = site_copy("theme")
    out = tmp_path / "out"
    first = build_site(root, BuildOptions(out=out))
    count = len(rendered)
    assert first.ok and count
    rendered.clear()
    rerun = build_site(root, BuildOptions(out=out, rerun=True))
    assert rerun.ok and len(rendered) == count
    assert sorted(rerun.rendered) == sorted(first.rendered)
    rendered.clear()
    assert build_site(root, BuildOptions(out=out)).ok and rendered == []


def test_caches_of_an_older_sitegen_are_removed(site_copy, tmp_path):
    root = site_copy("theme")
    folder = cache_dir(root)
    (folder / "render").mkdir(parents=True)
    (folder / "render" / "1-2.pickle").write_bytes(b"old shard")
    (folder / "read.pickle").write_bytes(b"old")
    (folder / "outputs-0123456789abcdef.pickle").write_bytes(b"old")
    assert build_site(root, BuildOptions(out=tmp_path / "out")).ok
    left = {p.name for p in folder.iterdir()}
    assert not left & {"render", "read.pickle", "outputs-0123456789abcdef.pickle"}


def test_front_matter_is_parsed_once_and_every_post_gets_its_own_copy(tmp_path, monkeypatch):
    text = "---\ntitle: One\ntags: [a, b]\n---\nbody\n"
    store = CacheStore(tmp_path)
    headers = FrontMatterCache(store, "v1")
    meta, body, line = split_front_matter(text, "posts/one.md", headers)
    assert meta == {"title": "One", "tags": ["a", "b"]} and body == "body\n" and line == 5
    headers.save()
    store.flush()
    again = FrontMatterCache(CacheStore(tmp_path), "v1")
    import yaml

    def no_yaml(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(yaml, "load", no_yaml)
    first, _, _ = split_front_matter(text, "posts/one.md", again)
    first["tags"].append("c")
    second, _, _ = split_front_matter(text, "posts/one.md", again)
    assert second == {"title": "One", "tags": ["a", "b"]}
    assert FrontMatterCache(CacheStore(tmp_path), "v2").get("title: One\ntags: [a, b]\n") is None


def test_a_setting_that_reads_every_post_again_parses_no_header_again(
    site_copy, tmp_path, monkeypatch
):
    root = site_copy("basic")
    out = tmp_path / "out"
    assert build_site(root, BuildOptions(out=out)).ok
    assert build_site(root, BuildOptions(out=out)).ok  # a build that read nothing anew
    import yaml

    def no_yaml(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(yaml, "load", no_yaml)
    config = root / "sitegen.toml"
    config.write_text(config.read_text() + '\npermalink = "/:slug/"\n')
    result = build_site(root, BuildOptions(out=out))
    assert result.ok and (out / "second-post/index.html").is_file()


def test_headers_of_unchanged_posts_outlive_a_build_that_parsed_another(
    site_copy, tmp_path, monkeypatch
):
    root = site_copy("basic")
    out = tmp_path / "out"
    assert build_site(root, BuildOptions(out=out)).ok
    # one header edited: parsed anew, and the other posts' headers (not read this build,
    # their posts came whole from the read cache) must still be kept
    first = root / "posts/2024-01-02-first-post.md"
    first.write_text(first.read_text().replace('"First post"', '"The first post"'))
    assert build_site(root, BuildOptions(out=out)).ok
    parsed: list[str] = []
    import yaml

    real_load = yaml.load

    def counting_load(text, *args, **kwargs):
        parsed.append(text)
        return real_load(text, *args, **kwargs)

    monkeypatch.setattr(yaml, "load", counting_load)
    config = root / "sitegen.toml"
    config.write_text(config.read_text() + '\npermalink = "/:slug/"\n')
    result = build_site(root, BuildOptions(out=out))
    assert result.ok and (out / "second-post/index.html").is_file()
    assert "The first post" in (out / "first-post/index.html").read_text()
    assert parsed == []


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
