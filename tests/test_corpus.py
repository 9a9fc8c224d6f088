"""A real Jekyll + kramdown + MathJax blog builds unchanged: every post Jekyll publishes is at
its Jekyll permalink, and MathJax receives the same TeX, item by item, as Jekyll 4.3 +
kramdown 2.4 gave it (tests/fixtures/corpus_math/, extracted from Jekyll's pages)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from browser import mathjax_report
from conftest import CORPUS

from sitegen.build import build_site
from sitegen.model import BuildOptions

BLOG = CORPUS / "anujgupta82"
FIXTURES = Path(__file__).parent / "fixtures" / "corpus_math"
EXTRACT = CORPUS.parent / "tools" / "extract_math.py"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not BLOG.is_dir() or not EXTRACT.is_file():
        pytest.skip("../shared/corpus is not here")
    root = tmp_path_factory.mktemp("corpus") / "blog"
    shutil.copytree(BLOG, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    result = build_site(root, BuildOptions(out=root / "_site"))
    return result, root / "_site"


def extract_math():
    spec = importlib.util.spec_from_file_location("extract_math", EXTRACT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.extract_math


def jekyll_pages():
    """(post file stem, permalink folder) for every post Jekyll publishes."""
    pages = []
    for fixture in sorted(FIXTURES.glob("*.json")):
        stem = fixture.stem
        year, month, day, slug = stem[:4], stem[5:7], stem[8:10], stem[11:]
        pages.append((stem, f"{year}/{month}/{day}/{slug}"))
    return pages


def test_every_published_post_is_at_its_jekyll_permalink(built):
    result, out = built
    # the stored copy of the blog holds its posts, not its images: those links are broken
    # here, and reported as such (the links plugin), with the post's file and line; as
    # warnings, since this is a Jekyll site and Jekyll built it
    missing_images = [
        d for d in result.site.report.warnings if d.message.startswith("broken image: /assets/")
    ]
    assert missing_images and all(d.line for d in missing_images)
    assert not result.site.report.errors, result.site.report.errors
    published = jekyll_pages()
    assert len(published) == 13
    for _, folder in published:
        assert (out / folder / "index.html").is_file(), folder
    # latex-sample has no date in its name: Jekyll skips it, and so do we
    assert not list(out.rglob("latex-sample*"))


@pytest.mark.parametrize(("stem", "folder"), jekyll_pages())
def test_mathjax_gets_the_tex_jekyll_gave_it(built, stem, folder):
    _, out = built
    expected = json.loads((FIXTURES / f"{stem}.json").read_text())
    items = extract_math()((out / folder / "index.html").read_text(encoding="utf-8"))
    assert [i["tex"] for i in items] == [i["tex"] for i in expected]


def math_pages():
    return [(stem, folder) for stem, folder in jekyll_pages()
            if json.loads((FIXTURES / f"{stem}.json").read_text())]


@pytest.mark.parametrize(("stem", "folder"), math_pages())
def test_pages_typeset_in_a_browser_without_errors(built, stem, folder):
    _, out = built
    report = mathjax_report(out / folder / "index.html")
    assert report["n"] > 0
    assert report["errors"] == []
    assert report["unresolved"] == []
