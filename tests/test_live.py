"""Incremental rebuilds for ``sitegen serve``: one edit rewrites only what it affects."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.live import LiveBuild, classify
from sitegen.model import BuildOptions

POSTS = {
    "2026-01-01-first.md": ("First post", ["alpha"], "The first body with $x^2$ math."),
    "2026-01-02-second.md": ("Second post", ["beta"], "The second body."),
    "2026-01-03-third.md": ("Third post", ["alpha"], "The third body."),
    "2026-01-04-fourth.md": ("Fourth post", ["beta"], "The fourth body."),
    "2026-01-05-fifth.md": ("Fifth post", ["gamma"], "The fifth body."),
}


def post_text(title: str, tags: list[str], body: str) -> str:
    return f"---\ntitle: {title}\ntags: [{', '.join(tags)}]\n---\n\n{body}\n"


def make_site(root: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    for name, (title, tags, body) in POSTS.items():
        (root / "posts" / name).write_text(post_text(title, tags, body), encoding="utf-8")
    (root / "pages").mkdir()
    (root / "pages" / "about.md").write_text("---\ntitle: About\n---\n\nAbout me.\n")
    (root / "sitegen.toml").write_text('title = "Live"\n')
    return root


def page_of(name: str) -> str:
    """Output path of a post of POSTS (default permalink /:year/:month/:day/:slug/)."""
    date, slug = name[:10], name[11:-3]
    return f"{date.replace('-', '/')}/{slug}/index.html"


@pytest.fixture
def live(tmp_path: Path) -> LiveBuild:
    root = make_site(tmp_path / "site")
    build = LiveBuild(root=root, options=BuildOptions(), out=root / "_site")
    first = build.start()
    assert not first.errors, first.errors
    return build


def edit(live: LiveBuild, name: str, old: str, new: str) -> Path:
    path = live.root / "posts" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def shown(live: LiveBuild, rel: str) -> str:
    """What the server shows at the output path ``rel``: its error page, or the file."""
    page = live.error_pages.get(rel)
    return page.decode() if page is not None else (live.out / rel).read_text()


def test_first_build_writes_every_page(live: LiveBuild) -> None:
    for name in POSTS:
        assert (live.out / page_of(name)).is_file()
    assert (live.out / "index.html").is_file()
    assert (live.out / "about" / "index.html").is_file()


def test_prose_edit_rewrites_the_post_and_nothing_of_the_unrelated_posts(live: LiveBuild) -> None:
    path = edit(live, "2026-01-03-third.md", "The third body.", "The third body, edited.")
    outcome = live.apply({path})
    assert page_of("2026-01-03-third.md") in outcome.changed
    assert "edited" in (live.out / page_of("2026-01-03-third.md")).read_text()
    # far-away posts are neither rendered nor written; neighbours may be rendered
    for far in ("2026-01-01-first.md", "2026-01-05-fifth.md"):
        assert page_of(far) not in outcome.rendered
        assert page_of(far) not in outcome.changed
    # whatever else changed is a page that lists posts, never another post's page
    others = {page_of(n) for n in POSTS} - {page_of("2026-01-03-third.md")}
    assert not others & set(outcome.changed)
    assert not outcome.errors and not outcome.reload


def test_title_edit_rewrites_index_and_neighbours(live: LiveBuild) -> None:
    path = edit(live, "2026-01-03-third.md", "title: Third post", "title: Renamed third")
    outcome = live.apply({path})
    changed = set(outcome.changed)
    assert {page_of("2026-01-03-third.md"), "index.html"} <= changed
    # previous/next links of the neighbours show the new title
    assert page_of("2026-01-02-second.md") in changed
    assert page_of("2026-01-04-fourth.md") in changed
    assert "Renamed third" in (live.out / "index.html").read_text()
    assert page_of("2026-01-01-first.md") not in outcome.rendered


def test_edited_post_page_is_written_before_the_rest_of_the_rebuild(live: LiveBuild) -> None:
    path = edit(live, "2026-01-03-third.md", "title: Third post", "title: Third, retitled")
    target = live.out / page_of("2026-01-03-third.md")
    early: list[tuple[str, str, str]] = []

    def on_early(rel: str) -> None:  # what is on disk at the moment it is announced
        early.append((rel, target.read_text(), (live.out / "index.html").read_text()))

    outcome = live.apply({path}, on_early=on_early)
    assert [rel for rel, _, _ in early] == [page_of("2026-01-03-third.md")]
    _, page_then, index_then = early[0]
    assert "Third, retitled" in page_then
    assert "Third, retitled" not in index_then  # the listings come after
    assert "Third, retitled" in (live.out / "index.html").read_text()
    # the rebuild gave the page the same bytes: it is not announced a second time
    assert outcome.early == [page_of("2026-01-03-third.md")]
    assert page_of("2026-01-03-third.md") in outcome.changed
    assert page_of("2026-01-03-third.md") not in outcome.news
    assert "index.html" in outcome.news


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("title: Third post", "title: Third post\ndate: 2026-01-09"),  # moves it in the list
        ("title: Third post", "title: Third post\ndraft: true"),  # takes it off the site
        ("title: Third post", "title: Third post\npermalink: /elsewhere/"),  # another URL
    ],
)
def test_edit_that_moves_a_post_is_left_to_the_rebuild(live: LiveBuild, old, new) -> None:
    path = edit(live, "2026-01-03-third.md", old, new)
    early: list[str] = []
    outcome = live.apply({path}, on_early=early.append)
    assert early == []
    assert outcome.early == [] and outcome.news == outcome.changed
    assert outcome.changed or outcome.removed


def test_batch_of_two_posts_has_no_early_page(live: LiveBuild) -> None:
    one = edit(live, "2026-01-03-third.md", "third body", "third text")
    two = edit(live, "2026-01-04-fourth.md", "fourth body", "fourth text")
    early: list[str] = []
    outcome = live.apply({one, two}, on_early=early.append)
    assert early == []
    assert {page_of("2026-01-03-third.md"), page_of("2026-01-04-fourth.md")} <= set(outcome.news)


def test_warm_up_writes_nothing(live: LiveBuild) -> None:
    newest = live.out / page_of("2026-01-05-fifth.md")
    newest.write_text("not what a build writes")  # a rehearsal would replace it
    before = {p: p.stat().st_mtime_ns for p in live.out.rglob("*") if p.is_file()}
    live.warm_up()
    assert {p: p.stat().st_mtime_ns for p in live.out.rglob("*") if p.is_file()} == before
    assert newest.read_text() == "not what a build writes"


def test_second_apply_with_nothing_new_writes_nothing(live: LiveBuild) -> None:
    path = edit(live, "2026-01-02-second.md", "second body", "second text")
    live.apply({path})
    again = live.apply({path})
    assert again.changed == []
    assert page_of("2026-01-02-second.md") not in again.rendered


def test_unrelated_file_does_nothing(live: LiveBuild) -> None:
    readme = live.root / "README.md"
    readme.write_text("notes\n")
    outcome = live.apply({readme})
    assert outcome.rendered == [] and outcome.changed == []


def test_new_and_deleted_posts(live: LiveBuild) -> None:
    new = live.root / "posts" / "2026-01-06-sixth.md"
    new.write_text(post_text("Sixth post", ["alpha"], "New."), encoding="utf-8")
    outcome = live.apply({new})
    assert page_of("2026-01-06-sixth.md") in outcome.changed
    assert "Sixth post" in (live.out / "index.html").read_text()
    new.unlink()
    outcome = live.apply({new})
    assert page_of("2026-01-06-sixth.md") in outcome.removed
    assert not (live.out / page_of("2026-01-06-sixth.md")).exists()
    assert "Sixth post" not in (live.out / "index.html").read_text()


def test_template_change_renders_every_page(live: LiveBuild) -> None:
    templates = live.root / "templates"
    templates.mkdir()
    (templates / "post.html").write_text(
        '{% extends "base.html" %}{% block main %}<article class="post">CUSTOM '
        "{{ post.title }}{{ content | safe }}</article>{% endblock %}\n"
    )
    outcome = live.apply({templates / "post.html"})
    for name in POSTS:
        assert page_of(name) in outcome.changed
        assert "CUSTOM" in (live.out / page_of(name)).read_text()


def test_config_change_reloads_everything(live: LiveBuild) -> None:
    config = live.root / "sitegen.toml"
    config.write_text('title = "Renamed site"\n')
    outcome = live.apply({config})
    assert outcome.reload
    for name in POSTS:
        assert "Renamed site" in (live.out / page_of(name)).read_text()


def test_broken_front_matter_shows_error_then_recovers(live: LiveBuild) -> None:
    path = live.root / "posts" / "2026-01-02-second.md"
    good = path.read_text()
    path.write_text("---\ntitle: [unclosed\n---\n\nBody.\n")
    outcome = live.apply({path})
    assert outcome.errors
    page = shown(live, page_of("2026-01-02-second.md"))
    assert "sg-error" in page and "posts/2026-01-02-second.md:" in page
    assert "The second body" not in page  # no stale content
    path.write_text(good.replace("second body", "second body, fixed"))
    outcome = live.apply({path})
    assert not outcome.errors
    page = shown(live, page_of("2026-01-02-second.md"))
    assert "sg-error" not in page and "second body, fixed" in page


def test_template_error_names_template_and_line(live: LiveBuild) -> None:
    templates = live.root / "templates"
    templates.mkdir()
    broken = templates / "post.html"
    broken.write_text('{% extends "base.html" %}\n{% block main %}\n{% if %}\n{% endblock %}\n')
    outcome = live.apply({broken})
    assert any(d.path.endswith("templates/post.html") and d.line for d in outcome.errors)
    page = shown(live, page_of("2026-01-01-first.md"))
    assert "sg-error" in page and "templates/post.html:" in page
    broken.unlink()
    outcome = live.apply({broken})
    assert not outcome.errors
    assert "sg-error" not in shown(live, page_of("2026-01-01-first.md"))


def test_bad_config_is_a_site_error_until_fixed(live: LiveBuild) -> None:
    config = live.root / "sitegen.toml"
    config.write_text('title = "unclosed\n')
    outcome = live.apply({config})
    assert outcome.reload and live.site_errors
    assert live.site_errors[0].path == "sitegen.toml"
    config.write_text('title = "Fixed"\n')
    outcome = live.apply({config})
    assert not live.site_errors and outcome.reload
    assert "Fixed" in (live.out / "index.html").read_text()


PLUGIN = """
from sitegen.hooks import hookimpl


@hookimpl
def sitegen_posts_parsed(site, posts):
    for post in posts:
        if "CHECKME" in post.body and site.options.extra.get("verify") is False:
            post.data["verify_pending"] = True
        elif "CHECKME" in post.body:
            post.data["fake_result"] = "verified"


@hookimpl
def sitegen_post_rendered(site, post):
    if "BOOM" in post.body:
        raise RuntimeError("fake plugin blew up")
    if "CHECKME" in post.body:
        status = post.data.get("fake_result", "verifying…")
        post.html = post.html.replace("CHECKME", f'<span class="sg-check">{status}</span>')
"""


@pytest.fixture
def live_plugin(tmp_path: Path) -> LiveBuild:
    root = make_site(tmp_path / "site")
    (root / "plugins").mkdir()
    (root / "plugins" / "fakeverify.py").write_text(textwrap.dedent(PLUGIN))
    build = LiveBuild(root=root, options=BuildOptions(), out=root / "_site")
    assert not build.start().errors
    return build


def test_plugin_results_are_kept_with_the_body(live_plugin: LiveBuild) -> None:
    live = live_plugin
    path = edit(live, "2026-01-02-second.md", "second body.", "second body. CHECKME")
    first = live.apply({path})
    page = live.out / page_of("2026-01-02-second.md")
    assert page_of("2026-01-02-second.md") in first.changed
    assert "verified" in page.read_text()
    # an edit elsewhere keeps the result (cached with the post's body): not even rendered
    other = edit(live, "2026-01-04-fourth.md", "fourth body", "fourth text")
    outcome = live.apply({other})
    assert "verified" in page.read_text()
    assert page_of("2026-01-02-second.md") not in outcome.rendered


def test_plugin_exception_shows_error_naming_the_plugin(live_plugin: LiveBuild) -> None:
    live = live_plugin
    path = edit(live, "2026-01-05-fifth.md", "fifth body.", "fifth body. BOOM")
    outcome = live.apply({path})
    assert any("fakeverify" in d.message for d in outcome.errors)
    page = shown(live, page_of("2026-01-05-fifth.md"))
    assert "sg-error" in page and "fakeverify" in page
    edit(live, "2026-01-05-fifth.md", "BOOM", "calm")
    live.apply({path})
    assert "calm" in shown(live, page_of("2026-01-05-fifth.md"))


def test_serve_output_equals_build_output(tmp_path: Path) -> None:
    """The live build writes what ``sitegen build`` writes (the client script is added
    by the server to responses, never to files)."""
    root = make_site(tmp_path / "site")
    live = LiveBuild(root=root, options=BuildOptions(), out=tmp_path / "served")
    live.start()
    build_site(root, BuildOptions(out=tmp_path / "built"))
    served = {p.relative_to(tmp_path / "served") for p in (tmp_path / "served").rglob("*")}
    built = {p.relative_to(tmp_path / "built") for p in (tmp_path / "built").rglob("*")}
    assert served == built
    for rel in built:
        if rel.suffix == ".html":
            text = (tmp_path / "built" / rel).read_text()
            assert "__sitegen" not in text and "livereload" not in text


def test_classify(tmp_path: Path) -> None:
    root = tmp_path
    changes = classify(root, [root / "posts" / "2026-01-01-a.md", root / "posts" / "x.png"])
    assert changes.sources == {"posts/2026-01-01-a.md"} and not changes.reload
    assert classify(root, [root / "posts"]).sources == {"posts/"}  # the folder, made again
    assert classify(root, [root / "sitegen.toml"]).reload
    assert classify(root, [root / "plugins" / "mine.py"]).reload
    assert classify(root, [root / "macros.tex"], "macros.tex").reload
    assert classify(root, [root / "templates" / "post.html"]).build
    assert classify(root, [root / "_includes" / "button.html"]).build
    assert classify(root, [root / "themes" / "mine" / "static" / "x.css"]).reload
    assert classify(root, [root / "assets" / "x.png"]).build
    nothing = classify(root, [root / "README.md", tmp_path.parent / "elsewhere.md"])
    assert not nothing.build and not nothing.reload


LOOPING_POST = """---
title: Loops
---

Some text before.

```python verify
while True:
    pass
```
"""

GOOD_CHECK = """---
title: Loops
---

Some text before, now fixed.

```python verify
W = rng.standard_normal((3, 1))
check_grad(lambda W: 0.5 * np.sum(W ** 2), W, W, name="dL/dW")
```
"""


def test_runaway_verify_block_gives_an_error_badge_then_recovers(tmp_path: Path) -> None:
    """With the real gradcheck plugin: a block that never ends is stopped by the time
    limit and shown as an error; the next good save recovers."""
    pytest.importorskip("numpy")
    root = make_site(tmp_path / "site")
    (root / "sitegen.toml").write_text('title = "Live"\n[verify]\ntimeout = 1\n')
    loop = root / "posts" / "2026-01-06-loops.md"
    loop.write_text(LOOPING_POST)
    live = LiveBuild(root=root, options=BuildOptions(), out=root / "_site")
    live.start()
    page = live.out / page_of("2026-01-06-loops.md")
    assert 'data-status="error"' in page.read_text()
    loop.write_text(GOOD_CHECK)
    live.apply({loop})
    text = page.read_text()
    assert "now fixed" in text
    assert 'data-status="pass"' in text and 'data-status="error"' not in text


def test_moving_a_post_in_time_takes_the_full_path(live: LiveBuild) -> None:
    path = live.root / "posts" / "2026-01-03-third.md"
    path.write_text(path.read_text().replace("title: Third post", "title: Third\ndate: 2026-01-09"))
    outcome = live.apply({path})
    assert page_of("2026-01-03-third.md") in outcome.removed
    assert (live.out / "2026/01/09/third/index.html").is_file()
    # it is the newest post now: the formerly newest one links to it
    assert "Third" in (live.out / page_of("2026-01-05-fifth.md")).read_text()


def test_plugin_change_reloads_the_plugin(live_plugin: LiveBuild) -> None:
    live = live_plugin
    path = edit(live, "2026-01-02-second.md", "second body.", "second body. CHECKME")
    live.apply({path})
    page = live.out / page_of("2026-01-02-second.md")
    assert "verified" in page.read_text()
    plugin = live.root / "plugins" / "fakeverify.py"
    plugin.write_text(plugin.read_text().replace('= "verified"', '= "checked again"'))
    outcome = live.apply({plugin})
    assert outcome.reload
    assert "checked again" in page.read_text()


def test_serve_and_build_take_each_others_pages_as_they_are(tmp_path: Path) -> None:
    """One pipeline: a build after serve (and serve after a build) renders nothing anew."""
    root = make_site(tmp_path / "site")
    build_site(root)
    live = LiveBuild(root=root, options=BuildOptions(), out=root / "_site")
    assert live.start().rendered == []
    post = root / "posts" / "2026-01-03-third.md"
    post.write_text(post.read_text().replace("third body", "third body, served"))
    rendered = live.apply({post}).rendered
    # its page, and the lists that show its first paragraph as its excerpt
    assert page_of("2026-01-03-third.md") in rendered
    assert page_of("2026-01-01-first.md") not in rendered
    assert build_site(root).rendered == []
