"""A Jekyll blog moved as it is: drafts, future posts, categories with spaces, an
unclosed front matter, Liquid filters in posts, and links as Jekyll wrote them. Each case
is a small site written here; the expected files and text are what Jekyll 4.3 writes."""

from __future__ import annotations

from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions


def jekyll_site(root: Path, files: dict[str, str], config: str = "title: T\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(config)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def build(root: Path, out: Path, **options) -> object:
    return build_site(root, BuildOptions(out=out, extra={"verify": False}, **options))


def messages(result, level: str = "") -> list[str]:
    return [str(d) for d in result.site.report.diagnostics if not level or d.level == level]


POST = "---\ntitle: {title}\n---\n{body}\n"


def test_broken_links_of_a_jekyll_site_are_warnings_and_a_doubled_baseurl_is_named(tmp_path):
    body = (
        "[twice]({{ site.baseurl }}{% post_url 2020-01-01-first %}) and [gone](/nowhere/)."
    )
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-first.md": POST.format(title="First", body="one"),
            "_posts/2020-01-02-second.md": POST.format(title="Second", body=body),
        },
        "title: T\nbaseurl: /blog\npermalink: /:year/:month/:day/:title.html\n",
    )
    result = build(root, tmp_path / "out")
    assert not [m for m in messages(result, "error") if "broken" in m]
    broken = [m for m in messages(result, "warning") if "broken" in m]
    assert len(broken) == 2, broken
    twice, gone = sorted(broken)
    where = "_posts/2020-01-02-second.md:4: warning: broken link: "
    assert twice.startswith(where + "/blog/blog/2020/01/01/first.html")
    assert "the baseurl /blog is in it twice, as Jekyll wrote it" in twice
    assert gone.startswith(where + "/nowhere/") and "twice" not in gone
    # the link is the one Jekyll wrote, so the reader's page is the same
    page = (tmp_path / "out/2020/01/02/second.html").read_text()
    assert 'href="/blog/blog/2020/01/01/first.html"' in page
    # with a sitegen.toml the site is sitegen's and a strict build fails on them
    (root / "sitegen.toml").write_text('title = "T"\nbaseurl = "/blog"\n')
    (root / "posts").mkdir()
    for name in ("2020-01-01-first.md", "2020-01-02-second.md"):
        (root / "posts" / name).write_text((root / "_posts" / name).read_text())
    strict = build(root, tmp_path / "out2")
    assert len([m for m in messages(strict, "error") if "broken" in m]) >= 2
