"""The sitemap plugin: /sitemap.xml with every post and page, and robots.txt naming it."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from theme_fixture import FIXTURE, build_theme_fixture

from sitegen.build import build_site
from sitegen.model import BuildOptions

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return build_theme_fixture(tmp_path_factory.mktemp("sitemap"))[1]


def entries(out: Path) -> dict[str, str | None]:
    urlset = ET.parse(out / "sitemap.xml").getroot()
    assert urlset.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    found = {}
    for url in urlset.findall("s:url", NS):
        lastmod = url.find("s:lastmod", NS)
        found[url.find("s:loc", NS).text] = lastmod.text if lastmod is not None else None
    return found


def test_every_post_and_page_with_its_date(out):
    base = "https://example.org/blog"
    assert entries(out) == {
        f"{base}/": "2024-04-01T07:15:00Z",  # the newest post, listed on the front page
        f"{base}/2023/12/24/last-year/": "2023-12-24T08:00:00Z",
        f"{base}/2024/01/10/alpha/": "2024-01-10T09:30:00Z",
        f"{base}/2024/02/01/beta/": "2024-02-01T12:00:00Z",
        f"{base}/2024/03/05/gamma/": "2024-03-20T10:00:00Z",  # front matter "updated"
        f"{base}/about/": None,  # a page without a date
        # delta says "sitemap: false"
    }


def test_entries_are_sorted(out):
    locs = list(entries(out))
    assert locs == sorted(locs)


def test_robots_txt_points_to_the_sitemap(out):
    robots = (out / "robots.txt").read_text(encoding="utf-8")
    assert "User-agent: *" in robots
    assert "Sitemap: https://example.org/blog/sitemap.xml" in robots.splitlines()


def test_a_site_keeps_its_own_robots_txt(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    (root / "static").mkdir()
    (root / "static" / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    out = tmp_path / "out"
    result = build_site(root, BuildOptions(out=out))
    assert result.ok
    assert (out / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"
    assert (out / "sitemap.xml").is_file()


def test_a_rebuild_reuses_the_sitemap_until_its_entries_change(tmp_path, monkeypatch):
    import sitegen_plugins.sitemap as sitemap

    root, out = build_theme_fixture(tmp_path)
    first = (out / "sitemap.xml").read_bytes()
    with monkeypatch.context() as patch:  # the same entries: nothing is serialised again
        patch.setattr(sitemap, "xml_bytes", lambda *a, **k: pytest.fail("serialised again"))
        build_site(root, BuildOptions(out=out))
    assert (out / "sitemap.xml").read_bytes() == first
    post = root / "posts/2024-01-10-alpha.md"
    post.write_text(post.read_text().replace("---\n", "---\nupdated: 2025-06-07\n", 1))
    build_site(root, BuildOptions(out=out))
    assert any(lastmod and lastmod.startswith("2025-06-07") for lastmod in entries(out).values())


@pytest.mark.parametrize(
    "front_matter, shown",
    [
        ("updated: 2025-01-02\nlast_modified_at: 2025-03-04\n", "2025-03-04"),
        ("last_modified_at: 2025-03-04\nupdated: 2025-01-02\n", "2025-03-04"),
        ("updated: 2025-01-02\n", "2025-01-02"),
        ("updated: not a date\n", "2024-01-10"),
    ],
)
def test_the_feed_and_the_sitemap_agree_on_when_a_post_changed(tmp_path, front_matter, shown):
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    post = root / "posts/2024-01-10-alpha.md"
    post.write_text(post.read_text().replace("---\n", "---\n" + front_matter, 1))
    build_site(root, BuildOptions(out=tmp_path / "out", quiet=True))
    lastmod = entries(tmp_path / "out")["https://example.org/blog/2024/01/10/alpha/"]
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(tmp_path / "out" / "feed.xml").getroot()
    (entry,) = [
        e for e in feed.findall(f"{atom}entry") if e.find(f"{atom}link").get("href").endswith(
            "/2024/01/10/alpha/")
    ]
    updated = entry.find(f"{atom}updated").text
    assert lastmod.startswith(shown) and updated.startswith(shown)
    assert lastmod == updated  # one helper says it, in one format
