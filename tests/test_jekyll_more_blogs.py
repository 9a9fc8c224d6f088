"""Rules found by building more real Jekyll blogs (ML and statistics notes, course notes)
with Jekyll 4.3 + kramdown 2.4 and comparing what MathJax received
(bench/jekyll_compare.py): each cause in a few lines of its own."""

from __future__ import annotations

from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions


def _site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {"_config.yml": "title: t\n", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _build(root: Path, capsys=None) -> str:
    build_site(root, BuildOptions(out=root / "_site"))
    return capsys.readouterr().err if capsys is not None else ""


def _page(root: Path, slug: str) -> str:
    pages = [p for p in (root / "_site").rglob("*.html") if slug in (p.stem, p.parent.name)]
    assert len(pages) == 1, pages
    return pages[0].read_text(encoding="utf-8")


def test_post_url_may_name_the_posts_folders_under_posts(tmp_path, capsys):
    # Posts kept in folders of _posts/ are linked with their folders, with or without a
    # leading slash; Jekyll finds them, so no link may be lost.
    _site(
        tmp_path,
        {
            "_posts/blog/series/2020-01-02-second.md": "---\ntitle: two\n---\nTwo.\n",
            "_posts/2020-01-03-third.md": (
                "---\ntitle: three\n---\n"
                "[a]({% post_url /blog/series/2020-01-02-second %}) and "
                "[b]({% post_url blog/series/2020-01-02-second %})\n"
            ),
        },
    )
    err = _build(tmp_path, capsys)
    html = _page(tmp_path, "third")
    for text in "ab":
        assert f'<a href="/2020/01/02/second.html">{text}</a>' in html
    assert "no such post" not in err
