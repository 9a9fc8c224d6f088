"""Jekyll sites build where Jekyll builds them: the dates, file names, URLs and pages of
``tests/sites/jekyll_*``, small Jekyll sites whose posts each show one rule. What Jekyll
4.3 writes for each (the file, and the math MathJax finds in it) is listed below; the
sites and results are those of the Jekyll cases kept next to the shared corpus, which a
last test compares in full when they are there."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS

from sitegen.build import build_site
from sitegen.model import BuildOptions

JEKYLL_CASES = CORPUS.parent / "jekyll-cases"

# source -> (the file Jekyll writes, the math items MathJax finds in it)
DATES_AND_URLS = {
    # date: 2020-01-06 9:00:00 -- a one-digit hour
    "_posts/2020-01-06-bad-date.md": ("2020/01/06/bad-date/index.html", [("inline", "x^2")]),
    # one-digit month and day in the file name
    "_posts/2020-1-7-short-name.md": ("2020/01/07/short-name/index.html", [("inline", "y^2")]),
    # a space in the file name
    "_posts/2020-01-08-with space.md": ("2020/01/08/with-space/index.html", [("inline", "z^2")]),
    # date: 2020-01-09 06:00:00 is UTC; in America/Los_Angeles it is the 8th
    "_posts/2020-01-09-tz.md": ("2020/01/08/tz/index.html", [("inline", "t^2")]),
    # permalink: 2020/01/10/noslash
    "_posts/2020-01-10-permalink.md": ("2020/01/10/noslash.html", [("inline", "p^2")]),
    # a Markdown page at the root
    "about.md": ("about/index.html", []),
}
NO_PERMALINK = {
    "_posts/2019-10-31-gbr-vs-tbr.md": ("2019/10/31/gbr-vs-tbr.html", [("display", "x")]),
}

_MATH = re.compile(
    r'<span class="math inline">\\\((.*?)\\\)</span>|<div class="math display">\\\[(.*?)\\\]</div>',
    re.S,
)


def math_items(page: str) -> list[tuple[str, str]]:
    """The math of a sitegen page, in order, as its markup hands it to MathJax."""
    items = []
    for found in _MATH.finditer(page):
        kind, tex = ("inline", found.group(1)) if found.group(1) is not None else (
            "display",
            found.group(2),
        )
        items.append((kind, " ".join(html.unescape(tex).split())))
    return items


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    results = {}
    for name in ("jekyll_dates_urls", "jekyll_no_permalink"):
        root = tmp_path_factory.mktemp(name) / name
        shutil.copytree(Path(__file__).parent / "sites" / name, root)
        results[name] = (build_site(root, BuildOptions(out=root / "_site")), root / "_site")
    return results


CASES = [("jekyll_dates_urls", src, *case) for src, case in DATES_AND_URLS.items()] + [
    ("jekyll_no_permalink", src, *case) for src, case in NO_PERMALINK.items()
]


@pytest.mark.parametrize(("site", "source", "written", "math"), CASES)
def test_each_case_is_written_where_jekyll_writes_it(built, site, source, written, math):
    result, out = built[site]
    assert not result.site.report.errors, result.site.report.errors
    page = out / written
    assert page.is_file(), sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert math_items(page.read_text(encoding="utf-8")) == math


def test_the_site_has_no_other_post_or_page_files(built):
    """Nothing Jekyll would not write either: no ``noslash`` without an extension, no
    folder with a space, no post on the 9th, no ``about.html``."""
    _, out = built["jekyll_dates_urls"]
    written = {p.relative_to(out).as_posix() for p in out.glob("20*/**/*") if p.is_file()}
    expected = {w for src, (w, _) in DATES_AND_URLS.items() if src.startswith("_posts/")}
    assert written == expected
    assert (out / "about" / "index.html").read_text(encoding="utf-8").count("About me.") == 1
    assert not (out / "about.html").exists()


def test_an_html_page_with_a_liquid_loop_is_built_by_running_its_liquid(built):
    result, out = built["jekyll_dates_urls"]
    assert not [d for d in result.site.report.warnings if d.path == "archive.html"]
    archive = (out / "archive" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<li><a href="([^"]+)">', archive)  # Jekyll's post.url: no index.html
    expected = {w for src, (w, _) in DATES_AND_URLS.items() if src.startswith("_posts/")}
    files = {link.lstrip("/") + ("index.html" if link.endswith("/") else "") for link in links}
    assert files == expected
    # the Liquid never reaches a page
    for page in out.rglob("*.html"):
        assert "{% for" not in page.read_text(encoding="utf-8"), page


def test_a_native_site_keeps_its_own_default_permalink(tmp_path):
    """The ``date`` style is Jekyll's default, for a ``_config.yml`` site only."""
    shutil.copytree(Path(__file__).parent / "sites" / "jekyll_no_permalink", tmp_path / "s")
    root = tmp_path / "s"
    (root / "_config.yml").unlink()
    (root / "sitegen.toml").write_text('title = "native"\n')
    build_site(root, BuildOptions(out=root / "_site"))
    assert (root / "_site" / "2019" / "10" / "31" / "gbr-vs-tbr" / "index.html").is_file()
    assert not (root / "_site" / "2019" / "10" / "31" / "gbr-vs-tbr.html").exists()


def jekyll_wrote(out_site: Path) -> set[str]:
    """The posts and pages in Jekyll's output (not its feed or assets)."""
    return {p.relative_to(out_site).as_posix() for p in out_site.rglob("*.html")}


@pytest.mark.parametrize("case", ["site", "site-no-permalink", "site-dollars"])
def test_every_file_jekyll_wrote_for_the_shared_cases_is_written(tmp_path, case):
    """All the posts and pages of the shared Jekyll cases, not only this module's: each
    file Jekyll wrote is there, and every post is a file Jekyll wrote."""
    expected_dir = JEKYLL_CASES / "expected" / f"out-{case}"
    if not expected_dir.is_dir():
        pytest.skip("the shared Jekyll cases are not here")
    root = tmp_path / case
    shutil.copytree(JEKYLL_CASES / case, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    result = build_site(root, BuildOptions(out=root / "_site"))
    ours = jekyll_wrote(root / "_site")
    missing = jekyll_wrote(expected_dir) - ours
    assert not missing, missing
    posts = {post.url.lstrip("/") for post in result.site.posts}
    posts = {p + "index.html" if p.endswith("/") else p for p in posts}
    assert posts <= jekyll_wrote(expected_dir)
    assert len(result.site.posts) == len(list((JEKYLL_CASES / case / "_posts").iterdir()))


@pytest.mark.parametrize(
    ("setting", "second", "third"),
    [("", "page2/index.html", "page3/index.html"),  # jekyll-paginate's default
     ("paginate_path: /blog/page:num\n", "blog/page2/index.html", "blog/page3/index.html")],
)
def test_the_list_of_posts_is_paged_where_jekyll_paginate_pages_it(tmp_path, setting, second,
                                                                    third):
    root = tmp_path / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(f"title: Paged\npaginate: 2\n{setting}")
    for day in range(1, 6):
        (root / "_posts" / f"2021-03-0{day}-post-{day}.md").write_text(
            f"---\ntitle: Post {day}\n---\n\nText {day}.\n"
        )
    build_site(root, BuildOptions(out=tmp_path / "out"))
    out = tmp_path / "out"
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("index.html"))
    assert second in pages and third in pages
    assert not any(p.startswith("page/") for p in pages)
    first_url, second_url = "/" + second.removesuffix("index.html"), "/" + third.removesuffix(
        "index.html")
    assert f'href="{first_url}"' in (out / "index.html").read_text()
    assert f'href="{second_url}"' in (out / second).read_text()
    assert "Post 1" in (out / third).read_text()  # the oldest post is on the last page
