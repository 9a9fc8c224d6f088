"""End-to-end: build small fixture sites and read the HTML."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.errors import SiteError
from sitegen.model import BuildOptions
from sitegen.write import MARKER


@pytest.fixture
def basic(site_copy, tmp_path):
    root = site_copy("basic")
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    return result, tmp_path / "out"


def test_posts_land_at_their_permalinks(basic):
    result, out = basic
    assert result.ok, result.site.report.diagnostics
    for url in ("2024/01/02/first-post", "2024/01/03/second-post", "2024/01/04/third-post"):
        assert (out / url / "index.html").is_file()
    assert (out / "about/index.html").is_file()
    assert not (out / "2024/01/05/draft-post").exists()  # drafts stay out by default
    assert (out / "assets/notes.txt").read_text() == "plain asset\n"
    assert (out / "404.html").is_file()


def test_math_and_mathjax_only_where_needed(basic):
    _, out = basic
    first = (out / "2024/01/02/first-post/index.html").read_text()
    assert r'<span class="math inline">\(L = \frac{1}{2}(y - \hat y)^2\)</span>' in first
    assert '<div class="math display">' in first and r"\label{eq:first}" in first
    assert "MathJax" in first
    second = (out / "2024/01/03/second-post/index.html").read_text()
    assert "MathJax" not in second
    assert "$5" in second  # an escaped dollar is a dollar


def test_liquid_include_and_post_url(basic):
    _, out = basic
    first = (out / "2024/01/02/first-post/index.html").read_text()
    assert '<aside class="note">included text</aside>' in first
    second = (out / "2024/01/03/second-post/index.html").read_text()
    assert 'href="/2024/01/02/first-post/"' in second


def test_title_from_heading_when_front_matter_has_none(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "posts/2024-01-06-untitled.md").write_text("# Found in the heading\n\nText.\n")
    result = build_site(root, BuildOptions(out=tmp_path / "o"))
    post = next(p for p in result.site.posts if p.slug == "untitled")
    assert post.title == "Found in the heading"
    assert any("no title" in str(d) for d in result.site.report.warnings)


def test_previous_and_next_links(basic):
    _, out = basic
    middle = (out / "2024/01/03/second-post/index.html").read_text()
    assert 'href="/2024/01/02/first-post/"' in middle
    assert 'href="/2024/01/04/third-post/"' in middle


def test_drafts_flag_includes_drafts(site_copy, tmp_path):
    root = site_copy("basic")
    build_site(root, BuildOptions(out=tmp_path / "o", drafts=True))
    assert (tmp_path / "o/2024/01/05/draft-post/index.html").is_file()


def test_future_posts_need_the_future_flag(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "posts/2999-01-01-later.md").write_text("---\ntitle: Later\n---\n\nSoon.\n")
    build_site(root, BuildOptions(out=tmp_path / "a"))
    assert not (tmp_path / "a/2999").exists()
    build_site(root, BuildOptions(out=tmp_path / "b", future=True))
    assert (tmp_path / "b/2999/01/01/later/index.html").is_file()


def test_build_is_reproducible(site_copy, tmp_path):
    root = site_copy("basic")
    build_site(root, BuildOptions(out=tmp_path / "a"))
    build_site(root, BuildOptions(out=tmp_path / "b"))
    files_a = {
        p.relative_to(tmp_path / "a"): p.read_bytes()
        for p in (tmp_path / "a").rglob("*")
        if p.is_file()
    }
    files_b = {
        p.relative_to(tmp_path / "b"): p.read_bytes()
        for p in (tmp_path / "b").rglob("*")
        if p.is_file()
    }
    assert files_a == files_b


def test_output_is_replaced_whole_and_stale_files_go(site_copy, tmp_path):
    root = site_copy("basic")
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    assert (out / MARKER).is_file()
    (root / "posts/2024-01-04-third-post.md").unlink()
    build_site(root, BuildOptions(out=out))
    assert not (out / "2024/01/04/third-post").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.new-")] == []
    # the replaced output is removed in the background: it goes, without holding up the build
    deadline = time.monotonic() + 30
    while any(p.name.startswith(".out.old-") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline, "the replaced output was never removed"
        time.sleep(0.05)


def test_refuses_to_replace_a_foreign_folder(site_copy, tmp_path):
    root = site_copy("basic")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(SiteError, match="not created by sitegen"):
        build_site(root, BuildOptions(out=foreign))
    assert (foreign / "thesis.tex").read_text() == "precious"
    with pytest.raises(SiteError, match="contains the sources"):
        build_site(root, BuildOptions(out=root))


def test_a_full_disk_gives_one_error_and_leaves_nothing_behind(site_copy, tmp_path, monkeypatch):
    import errno

    import sitegen.write as write

    root = site_copy("basic")
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    before = (out / "index.html").read_bytes()

    def broken_copy(source, target, *args, **kwargs):
        with open(target, "wb") as fh:
            fh.write(b"half")  # the temporary file is started, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(write.shutil, "copyfile", broken_copy)
    (root / "assets/notes.txt").write_text("changed: copied again\n")
    with pytest.raises(write.OutputError) as failure:
        build_site(root, BuildOptions(out=out))
    where = out / "assets/notes.txt"
    assert str(failure.value) == f"{where}: error: cannot write: No space left on device"
    assert (out / "index.html").read_bytes() == before
    assert [p for p in tmp_path.rglob("*.tmp")] == []
    assert [p for p in root.rglob("*.tmp")] == []

def test_every_hook_fires_with_what_it_promises(site_copy, tmp_path):
    root = site_copy("hooks")
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    assert result.ok, result.site.report.diagnostics
    log = json.loads((tmp_path / "out/hook-log.json").read_text())
    names = [entry[0] for entry in log]
    assert names[0] == "configure" and log[0][1] == "hi"
    assert names.index("extend_markdown") < names.index("posts_parsed")
    loaded = [e for e in log if e[0] == "post_loaded"]
    assert sorted(e[1] for e in loaded) == ["Hello hooks", "World"]
    assert all(e[2] == "" for e in loaded)  # no HTML yet when a post is loaded
    assert ["posts_parsed", ["Hello hooks", "World"], True] in log
    assert ["post_rendered", "Hello hooks", True] in log
    assert ["extra_pages", 2] in log
    assert log[-1] == ["build_finished", True]
    html = (tmp_path / "out/2024/02/01/hello/index.html").read_text()
    assert "<b>SHOUT</b>" in html  # the Markdown rule the plugin added
    assert "hello from recorder" in html  # the template context it added


def test_site_templates_override_theme_templates(site_copy, tmp_path):
    root = site_copy("hooks")
    build_site(root, BuildOptions(out=tmp_path / "out"))
    html = (tmp_path / "out/2024/02/02/world/index.html").read_text()
    assert '<p class="greeting">' in html


def test_site_plugin_overrides_builtin_by_name(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "plugins").mkdir()
    (root / "plugins/sitemap.py").write_text(
        "from sitegen.hooks import hookimpl\nfrom sitegen.model import Page\n\n"
        "@hookimpl\ndef sitegen_extra_pages(site):\n"
        "    return [Page(url='/sitemap.xml', content='<urlset>mine</urlset>')]\n"
    )
    build_site(root, BuildOptions(out=tmp_path / "out"))
    assert (tmp_path / "out/sitemap.xml").read_text() == "<urlset>mine</urlset>"


def test_import_sitegen_does_not_import_numpy():
    code = "import sys, sitegen, sitegen.build, sitegen.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_files_changed_hook_fires_in_the_live_preview(site_copy):
    from sitegen.live import LiveBuild

    root = site_copy("hooks")
    live = LiveBuild(root=root, options=BuildOptions(), out=root / "_site")
    assert not live.start().errors
    post = root / "posts/2024-02-02-world.md"
    post.write_text(post.read_text().replace("More text.", "Edited text."))
    live.apply([post])
    log = live.loaded_site.data["hook_log"]
    assert ["files_changed", ["2024-02-02-world.md"]] in log
    assert "Edited text." in (root / "_site/2024/02/02/world/index.html").read_text()


def test_unchanged_posts_are_not_rendered_again(site_copy, tmp_path):
    root = site_copy("hooks")
    build_site(root, BuildOptions(out=tmp_path / "a"))
    post = root / "posts/2024-02-02-world.md"
    post.write_text(post.read_text().replace("More text.", "Changed text."))
    result = build_site(root, BuildOptions(out=tmp_path / "b"))
    rendered = [e[1] for e in result.site.data["hook_log"] if e[0] == "post_rendered"]
    assert rendered == ["World"]  # "Hello hooks" came from the cache of rendered bodies
    hello = (tmp_path / "b/2024/02/01/hello/index.html").read_text()
    assert "<b>SHOUT</b>" in hello  # and still has everything its rendering had
    assert "Changed text." in (tmp_path / "b/2024/02/02/world/index.html").read_text()


def test_cached_bodies_follow_includes_and_repeat_warnings(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "posts/2024-01-07-odd.md").write_text("---\ntitle: Odd\n---\n\n{% assign x = 1 %}\n")
    first = build_site(root, BuildOptions(out=tmp_path / "a"))
    (root / "includes/note.html").write_text('<aside class="note">{{ include.text }}!</aside>\n')
    second = build_site(root, BuildOptions(out=tmp_path / "b"))
    html = (tmp_path / "b/2024/01/02/first-post/index.html").read_text()
    assert "included text!</aside>" in html  # an include changed: bodies rendered anew
    third = build_site(root, BuildOptions(out=tmp_path / "c"))
    for result in (first, second, third):  # the cached post still warns, build after build
        assert any("assign" in str(d) for d in result.site.report.warnings)


def test_parallel_rendering_gives_the_same_site(site_copy, tmp_path, monkeypatch):
    import sitegen.bodies as bodies

    root = site_copy("basic")
    (root / "posts/2024-01-07-odd.md").write_text("---\ntitle: Odd\n---\n\n{% assign x = 1 %}\n")
    serial = build_site(root, BuildOptions(out=tmp_path / "serial", jobs=1, rerun=True))
    monkeypatch.setattr(bodies, "PARALLEL_MIN_POSTS", 2)  # fork even for this small site
    forked = build_site(root, BuildOptions(out=tmp_path / "forked", jobs=2, rerun=True))
    assert [str(d) for d in forked.site.report.diagnostics] == [
        str(d) for d in serial.site.report.diagnostics
    ]
    serial_files = sorted(
        p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*")
    )
    forked_files = sorted(
        p.relative_to(tmp_path / "forked") for p in (tmp_path / "forked").rglob("*")
    )
    assert serial_files == forked_files
    for rel in serial_files:
        path = tmp_path / "serial" / rel
        if path.is_file():
            assert (tmp_path / "forked" / rel).read_bytes() == path.read_bytes(), rel

def test_cached_pages_follow_what_they_show(site_copy, tmp_path):
    root = site_copy("basic")
    build_site(root, BuildOptions(out=tmp_path / "a"))
    first = root / "posts/2024-01-02-first-post.md"
    first.write_text(first.read_text().replace('title: "First post"', 'title: "Renamed post"'))
    build_site(root, BuildOptions(out=tmp_path / "b"))
    # pages that list or link the renamed post show the new title …
    assert "Renamed post" in (tmp_path / "b/archive/index.html").read_text()
    neighbour = (tmp_path / "b/2024/01/03/second-post/index.html").read_text()
    assert "Renamed post" in neighbour and "First post" not in neighbour
    # … and a template change reaches every page
    (root / "templates").mkdir()
    (root / "templates/post.html").write_text(
        '{% extends "base.html" %}{% block main %}<p class="mine">{{ post.title }}</p>'
        "{% endblock %}\n"
    )
    build_site(root, BuildOptions(out=tmp_path / "c"))
    assert (
        '<p class="mine">Third post</p>'
        in (tmp_path / "c/2024/01/04/third-post/index.html").read_text()
    )


def test_unchanged_pages_are_linked_from_the_previous_output(site_copy, tmp_path):
    root = site_copy("basic")
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    third = out / "2024/01/04/third-post/index.html"
    before = third.stat().st_ino
    first = root / "posts/2024-01-02-first-post.md"
    first.write_text(first.read_text().replace('title: "First post"', 'title: "Renamed post"'))
    result = build_site(root, BuildOptions(out=out))
    assert result.ok, result.site.report.diagnostics
    # a page that shows nothing of the renamed post is the previous file, linked …
    assert third.stat().st_ino == before
    # … while its neighbour and the listings are rendered anew
    neighbour = (out / "2024/01/03/second-post/index.html").read_text()
    assert "Renamed post" in neighbour and "First post" not in neighbour
    assert "Renamed post" in (out / "archive/index.html").read_text()
    assert "Renamed post" in (out / "2024/01/02/first-post/index.html").read_text()


def test_pages_are_not_linked_from_an_output_another_build_replaced(site_copy, tmp_path):
    root = site_copy("basic")
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    page = out / "2024/01/04/third-post/index.html"
    # the output changes behind the cache's back (a build that did not save its cache)
    (out / MARKER).unlink()
    (out / MARKER).write_text("This folder is generated by sitegen.\n")
    page.unlink()
    page.write_text("stale")
    build_site(root, BuildOptions(out=out))
    assert "Third post" in page.read_text()


def test_a_listing_that_shows_whole_posts_follows_their_bodies(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "templates").mkdir()
    (root / "templates/archive.html").write_text(
        "{% for p in site.posts %}<article>{{ p.html | safe }}</article>{% endfor %}\n"
    )
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    first = root / "posts/2024-01-02-first-post.md"
    first.write_text(first.read_text() + "\nA sentence added later.\n")
    build_site(root, BuildOptions(out=out))
    assert "A sentence added later." in (out / "archive/index.html").read_text()


def _output(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER
    }


def test_builds_in_a_row_give_what_a_clean_build_gives(site_copy, tmp_path, monkeypatch):
    import shutil

    root = site_copy("basic")
    out = tmp_path / "out"

    def edit_title(r):
        first = r / "posts/2024-01-02-first-post.md"
        first.write_text(first.read_text().replace('title: "First post"', 'title: "Renamed"'))

    def edit_body(r):
        third = r / "posts/2024-01-04-third-post.md"
        third.write_text(third.read_text() + "\nOne more paragraph.\n")

    def add_post(r):
        (r / "posts/2024-02-01-added.md").write_text('---\ntitle: "Added"\n---\nNew $x$.\n')

    def remove_post(r):
        (r / "posts/2024-01-03-second-post.md").unlink()

    def edit_asset(r):
        (r / "assets/notes.txt").write_text("other notes, longer than before\n")

    def edit_template(r):
        (r / "templates").mkdir(exist_ok=True)
        (r / "templates/404.html").write_text("<p>lost: {{ site.title }}</p>\n")

    edits = [edit_title, edit_body, add_post, remove_post, edit_asset, edit_template, edit_body]
    assert build_site(root, BuildOptions(out=out)).ok
    for number, edit in enumerate(edits):
        edit(root)
        result = build_site(root, BuildOptions(out=out))
        assert result.ok, result.site.report.diagnostics
        fresh_root = tmp_path / f"fresh{number}"
        shutil.copytree(root, fresh_root, ignore=shutil.ignore_patterns(".sitegen-cache"))
        build_site(fresh_root, BuildOptions(out=tmp_path / f"fresh-out{number}"))
        assert _output(out) == _output(tmp_path / f"fresh-out{number}"), edit.__name__


def test_a_build_stopped_half_way_is_mended_by_the_next(site_copy, tmp_path, monkeypatch):
    import shutil

    import sitegen.write as write

    root = site_copy("basic")
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    third = root / "posts/2024-01-04-third-post.md"
    third.write_text(third.read_text() + "\nAn edit the failed build half-writes.\n")
    (root / "posts/2024-01-03-second-post.md").unlink()
    writes = []
    real_write = write.OutputWriter.write

    def failing_write(self, rel, data):
        writes.append(rel)
        if len(writes) > 1:
            raise write.OutputError("disk full", rel)
        real_write(self, rel, data)

    with monkeypatch.context() as patch:
        patch.setattr(write.OutputWriter, "write", failing_write)
        with pytest.raises(write.OutputError):
            build_site(root, BuildOptions(out=out))
    assert build_site(root, BuildOptions(out=out)).ok
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".sitegen-cache"))
    build_site(fresh, BuildOptions(out=tmp_path / "fresh-out"))
    assert _output(out) == _output(tmp_path / "fresh-out")
    assert "half-writes" in (out / "2024/01/04/third-post/index.html").read_text()

def test_a_save_that_changes_nothing_renders_no_page_again(site_copy, tmp_path, monkeypatch):
    import os

    import sitegen.pages

    root = site_copy("basic")
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))  # bodies rendered here, then read from the cache
    rendered = []
    render = sitegen.pages.render_template
    monkeypatch.setattr(
        sitegen.pages,
        "render_template",
        lambda env, r, name, context: rendered.append(name) or render(env, r, name, context),
    )
    first = root / "posts/2024-01-02-first-post.md"
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 10**9))
    assert build_site(root, BuildOptions(out=out)).ok
    assert rendered == []


def test_an_edit_renders_only_the_pages_that_read_what_it_changed(
    site_copy, tmp_path, monkeypatch
):
    import sitegen.pages

    root = site_copy("basic")
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    rendered = []
    render = sitegen.pages.render_template
    monkeypatch.setattr(
        sitegen.pages,
        "render_template",
        lambda env, r, name, context: rendered.append(context["page"]["url"])
        or render(env, r, name, context),
    )
    third = root / "posts/2024-01-04-third-post.md"
    third.write_text(third.read_text() + "\nA new closing line.\n")
    assert build_site(root, BuildOptions(out=out)).ok
    assert "A new closing line." in (out / "2024/01/04/third-post/index.html").read_text()
    assert "/2024/01/04/third-post/" in rendered
    # the other posts' pages read nothing of its body: they stay as they are
    assert "/2024/01/02/first-post/" not in rendered and "/about/" not in rendered

def test_a_context_hook_that_does_not_declare_itself_gets_full_keys(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "plugins").mkdir()
    (root / "plugins/banner.py").write_text(
        "from pathlib import Path\n"
        "from sitegen.hooks import hookimpl\n\n"
        "@hookimpl\n"
        "def sitegen_template_context(site, page, context):\n"
        "    context['banner'] = (Path(site.root) / 'banner.txt').read_text()\n"
    )
    (root / "templates").mkdir()
    theme_post = (
        Path(__file__).parent.parent / "themes/default/templates/post.html"
    ).read_text()
    (root / "templates/post.html").write_text(
        theme_post.replace("{{ content | safe }}", "{{ banner }}{{ content | safe }}")
    )
    (root / "banner.txt").write_text("first banner")
    out = tmp_path / "out"
    for _ in range(2):
        build_site(root, BuildOptions(out=out))
    (root / "banner.txt").write_text("second banner")
    third = root / "posts/2024-01-04-third-post.md"
    third.write_text(third.read_text() + "\nAn edit, so that the build runs.\n")
    assert build_site(root, BuildOptions(out=out)).ok
    # the banner is not a post input: only a full key, which describes the context, sees it
    assert "second banner" in (out / "2024/01/02/first-post/index.html").read_text()


def test_a_page_that_shows_its_neighbours_excerpt_follows_it(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "templates").mkdir()
    theme_post = (Path(__file__).parent.parent / "themes/default/templates/post.html").read_text()
    (root / "templates/post.html").write_text(
        theme_post.replace(
            "{{ content | safe }}",
            "{{ content | safe }}<aside>{{ post.previous.excerpt if post.previous }}</aside>",
        )
    )
    second = root / "posts/2024-01-03-second-post.md"
    second.write_text(second.read_text().replace("---\n", "---\nexcerpt: Old summary\n", 1))
    out = tmp_path / "out"
    for _ in range(2):
        build_site(root, BuildOptions(out=out))
    third = out / "2024/01/04/third-post/index.html"
    assert "<aside>Old summary</aside>" in third.read_text()
    second.write_text(second.read_text().replace("Old summary", "New summary"))
    assert build_site(root, BuildOptions(out=out)).ok
    assert "<aside>New summary</aside>" in third.read_text()


def test_after_a_parallel_build_an_edit_renders_only_what_it_changes(
    site_copy, tmp_path, monkeypatch
):
    import sitegen.bodies as bodies
    import sitegen.pages as pages

    root = site_copy("basic")
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(bodies, "PARALLEL_MIN_POSTS", 2)  # fork even for this small site
        build_site(root, BuildOptions(out=out, jobs=2))
    rendered = []
    render = pages.render_template
    monkeypatch.setattr(
        pages,
        "render_template",
        lambda env, r, name, context: rendered.append(context["page"]["url"])
        or render(env, r, name, context),
    )
    first = root / "posts/2024-01-02-first-post.md"
    first.write_text(first.read_text() + "\nOne more sentence.\n")
    assert build_site(root, BuildOptions(out=out, jobs=2)).ok
    assert "/2024/01/02/first-post/" in rendered
    # its neighbour's page shows its title, not its body: it stays as it is
    assert "/2024/01/03/second-post/" not in rendered and "/about/" not in rendered


def test_a_missing_include_is_reported_once_at_its_line(site_copy, tmp_path):
    root = site_copy("basic")
    post = root / "posts/2024-01-03-second-post.md"
    lines = post.read_text().splitlines()
    post.write_text("\n".join([*lines, "", "{% include nothere.html %}", ""]))
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    (error,) = result.site.report.errors
    assert str(error) == (
        f"posts/2024-01-03-second-post.md:{len(lines) + 2}: error: "
        "include 'nothere.html' not found in includes/ or _includes/"
    )


def test_front_matter_that_holds_itself_builds_and_rebuilds(site_copy, tmp_path):
    root = site_copy("basic")
    post = root / "posts/2024-01-03-second-post.md"
    text = post.read_text()
    post.write_text(text.replace("---\n", "---\nloop: &loop [*loop]\n", 1))
    out = tmp_path / "out"
    first = build_site(root, BuildOptions(out=out))
    assert first.ok, first.site.report.diagnostics
    (root / "posts/2024-01-02-first-post.md").write_text(
        (root / "posts/2024-01-02-first-post.md").read_text() + "\nOne more line.\n"
    )
    again = build_site(root, BuildOptions(out=out))
    assert again.ok, again.site.report.diagnostics
    assert "One more line." in (out / "2024/01/02/first-post/index.html").read_text()


@pytest.mark.parametrize("builds_before", [1, 2])  # the next one links it in / fills a spare
def test_a_page_deleted_from_the_output_comes_back_on_the_next_build(
    site_copy, tmp_path, builds_before
):
    root = site_copy("basic")
    out = tmp_path / "out"
    for number in range(builds_before):
        (root / "posts/2024-01-04-third-post.md").write_text(
            (root / "posts/2024-01-04-third-post.md").read_text() + f"\nBuild {number}.\n"
        )
        assert build_site(root, BuildOptions(out=out)).ok
    page = out / "2024/01/03/second-post/index.html"
    before = page.read_bytes()
    page.unlink()  # by hand, between builds
    first = root / "posts/2024-01-02-first-post.md"
    first.write_text(first.read_text() + "\nAn edit elsewhere.\n")
    result = build_site(root, BuildOptions(out=out))
    assert result.ok, result.site.report.diagnostics
    assert page.read_bytes() == before


def test_without_fork_the_bodies_are_rendered_in_one_process(site_copy, tmp_path, monkeypatch):
    import multiprocessing

    import sitegen.bodies as bodies

    root = site_copy("basic")
    serial = build_site(root, BuildOptions(out=tmp_path / "serial", jobs=1, rerun=True))
    monkeypatch.setattr(bodies, "PARALLEL_MIN_POSTS", 2)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(multiprocessing, "get_context", lambda *a: pytest.fail("forked"))
    alone = build_site(root, BuildOptions(out=tmp_path / "alone", jobs=4, rerun=True))
    assert alone.ok and _output(tmp_path / "alone") == _output(tmp_path / "serial")
    assert [str(d) for d in alone.site.report.diagnostics] == [
        str(d) for d in serial.site.report.diagnostics
    ]
