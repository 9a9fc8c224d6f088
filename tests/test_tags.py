"""The tags plugin: one page per tag at /tags/SLUG/, an overview at /tags/, tag links."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sitegen_plugins.tags import collect_tags, tag_slug
from theme_fixture import build_theme_fixture

from sitegen.model import Post


def build(tmp_path: Path, extra_config: str = "") -> Path:
    return build_theme_fixture(tmp_path, extra_config)[1]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("tags"))


def listed(html: str) -> list[str]:
    return re.findall(r'<h2><a href="([^"]+)">', html)


def test_tag_page_lists_exactly_its_posts_newest_first(out):
    html = (out / "tags/math/index.html").read_text(encoding="utf-8")
    assert listed(html) == ["/blog/2024/03/05/gamma/", "/blog/2024/01/10/alpha/"]
    assert "<title>Tag: math · Theme fixture</title>" in html
    assert "2 posts" in html
    code = (out / "tags/code/index.html").read_text(encoding="utf-8")
    assert listed(code) == ["/blog/2024/04/01/delta/", "/blog/2024/02/01/beta/"]


def test_spellings_of_one_tag_share_a_page(out):
    # "Neural Nets" (alpha, delta) and "neural-nets" (last-year) have one slug
    html = (out / "tags/neural-nets/index.html").read_text(encoding="utf-8")
    assert listed(html) == [
        "/blog/2024/04/01/delta/",
        "/blog/2024/01/10/alpha/",
        "/blog/2023/12/24/last-year/",
    ]
    assert "<q>Neural Nets</q>" in html  # as the newest post spells it
    assert sorted(p.name for p in (out / "tags").iterdir()) == [
        "code",
        "index.html",
        "math",
        "neural-nets",
    ]


def test_overview_lists_every_tag_with_its_count(out):
    html = (out / "tags/index.html").read_text(encoding="utf-8")
    found = re.findall(
        r'<a class="tag" rel="tag" href="([^"]+)">([^<]+) <span class="tag-count">(\d+)</span>',
        html,
    )
    assert found == [
        ("/blog/tags/code/", "code", "2"),
        ("/blog/tags/math/", "math", "2"),
        ("/blog/tags/neural-nets/", "Neural Nets", "3"),
    ]


def test_post_links_its_tags_and_nav_links_overview(out):
    html = (out / "2024/01/10/alpha/index.html").read_text(encoding="utf-8")
    assert '<a class="tag" rel="tag" href="/blog/tags/math/">math</a>' in html
    assert '<a class="tag" rel="tag" href="/blog/tags/neural-nets/">Neural Nets</a>' in html
    assert '<a href="/blog/tags/">Tags</a>' in html


def test_disabled_plugin_writes_no_tag_pages_and_templates_still_render(tmp_path):
    out = build(tmp_path, "\n[plugins.tags]\nenabled = false\n")
    assert not (out / "tags").exists()
    html = (out / "2024/01/10/alpha/index.html").read_text(encoding="utf-8")
    assert '<span class="tag">math</span>' in html  # shown, not linked
    assert "/tags/" not in html


def _post(name: str, day: int, tags: list[str]) -> Post:
    return Post(path=Path(name), rel=name, date=datetime(2024, 1, day), tags=tags)


def test_collect_tags_groups_by_slug_and_counts_a_post_once():
    newest = _post("c.md", 3, ["ML", "ml", "Python"])
    older = _post("b.md", 2, ["python"])
    tags = collect_tags([newest, older])
    assert [(t.name, t.slug, [p.rel for p in t.posts]) for t in tags] == [
        ("ML", "ml", ["c.md"]),
        ("Python", "python", ["c.md", "b.md"]),
    ]
    assert tags[1].url == "/tags/python/"


def test_tag_slug():
    assert tag_slug("Neural Nets") == "neural-nets"
    assert tag_slug("back_prop") == "back-prop"
    assert tag_slug("C++ tricks!") == "c-tricks"
